"""Out-of-context timing: a component placed and routed on its own, without a board.

A design's ports would need more pins than the package has, so ``OutOfContext`` feeds
every input from one register of a serial shift chain and registers every output,
XOR-folding them into one pin: place and route then sees the design's own
register-to-register paths (the wrapper adds about one flip-flop per port bit and a
few LUTs).  ``run_timing`` synthesises it (Yosys ``synth_ecp5``), places and routes it
on an ECP5-85F (speed 6, CABGA381) with nextpnr-ecp5 at a target frequency, allowing
timing to fail, and returns the cell counts and nextpnr's report (Fmax, critical path).
nextpnr runs under the router watchdog (soc/routewatch.py): a router that stops
converging is an error, not hours of waiting.  bench/soc_timing.py is the command line.
"""

import subprocess
from pathlib import Path

from amaranth import *
from amaranth.lib import wiring

from .export import convert
from .fpga import NEXTPNR_ROUTER, parse_nextpnr, tool
from .routewatch import RouteWatch, run_watched
from .synth import _parse_stat

__all__ = ["OutOfContext", "run_timing", "PINS"]

#: Pins of the wrapper on the CABGA381 package (any free I/O will do).
PINS = {"clk": "G2", "rst": "A11", "sin": "B11", "sout": "C11"}


class OutOfContext(wiring.Component):
    sin: wiring.In(1)
    sout: wiring.Out(1)

    def __init__(self, design):
        self.design = design
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.design = d = self.design
        inputs, outputs = [], []
        for _path, member, value in d.signature.flatten(d):
            (inputs if member.flow == wiring.In else outputs).append(Value.cast(value))
        chain = Signal(max(sum(len(v) for v in inputs), 1))
        m.d.sync += chain.eq(Cat(self.sin, chain[:-1]))
        offset = 0
        for v in inputs:
            m.d.comb += v.eq(chain[offset:offset + len(v)])
            offset += len(v)
        captured = Signal(max(sum(len(v) for v in outputs), 1))
        m.d.sync += [captured.eq(Cat(*outputs)), self.sout.eq(captured.xor())]
        return m


def run_timing(design, workdir, *, freq_mhz=50.0, seed=1, timeout=7200, place=True,
               route=True, flow=None):
    """Synthesise and place and route ``design`` out of context in ``workdir``.

    Returns (cells, NextpnrReport, nextpnr log text); with ``place=False`` only
    synthesises (the netlist is ``workdir``/top.json) and returns (cells, None, None);
    with ``route=False`` places without routing (the report's Fmax is nextpnr's
    estimate after placement).  nextpnr also writes ``top.sdf`` (every cell and net
    delay, estimated before routing) and ``placed.json`` (the placed netlist), which
    bench/nextpnr_paths.py reads to show the worst paths hop by hop: nextpnr's log
    names no critical path after placement alone.  ``flow``: nextpnr's placer and
    router options instead of the default (HeAP and ``NEXTPNR_ROUTER``), e.g. the
    board build's static placer and router1.
    Raises RuntimeError if a tool fails for another reason than timing."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "top.il").write_text(convert(OutOfContext(design), name="top"))
    (workdir / "top.lpf").write_text("".join(
        f'LOCATE COMP "{port}" SITE "{site}";\nIOBUF PORT "{port}" IO_TYPE=LVCMOS33;\n'
        for port, site in PINS.items()))
    # (YoWASP tools see the working directory: relative paths only)
    # (a tool is looked up only when it is run: synthesis alone needs no nextpnr)
    yosys = [tool("yosys"), "-q", "-l", "yosys.log", "-p",
             "read_rtlil top.il; synth_ecp5 -top top -json top.json; stat"]
    nextpnr = [tool("nextpnr-ecp5"), "--85k", "--package", "CABGA381", "--speed", "6",
               "--json", "top.json", "--lpf", "top.lpf", "--freq", str(freq_mhz),
               "--seed", str(seed), *(NEXTPNR_ROUTER if flow is None else flow),
               "--timing-allow-fail",
               *([] if route else ["--no-route"]), "--sdf", "top.sdf",
               "--write", "placed.json", "--log", "nextpnr.log", "--quiet"] if place else None
    r = subprocess.run(yosys, cwd=workdir, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{Path(yosys[0]).name} failed (status {r.returncode}):\n"
                           f"{(r.stderr or r.stdout)[-2000:]}")
    cells = _parse_stat((workdir / "yosys.log").read_text())
    if not place:
        return cells, None, None
    (workdir / "nextpnr.log").unlink(missing_ok=True)      # (an earlier run's)
    out = workdir / "nextpnr.out"
    with open(out, "wb") as f:
        status, stopped, _ = run_watched(nextpnr, workdir, workdir / "nextpnr.log",
                                         RouteWatch() if route else None,
                                         stdout=f, stderr=subprocess.STDOUT, timeout=timeout,
                                         say=lambda message: None)
    if stopped:
        raise RuntimeError(f"nextpnr stopped: {stopped}")
    if status != 0:
        text = out.read_text(errors="replace")
        raise RuntimeError(f"{Path(nextpnr[0]).name} failed (status {status}):\n{text[-2000:]}")
    log = (workdir / "nextpnr.log").read_text()
    return cells, parse_nextpnr(log), log
