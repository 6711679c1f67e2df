"""Out-of-context timing of the whole SoC on an ECP5-85F: Fmax, size, critical path.

    .venv/bin/python bench/soc_timing.py [--freq MHz] [--board ulx3s-85f | --ram-kib N]
                                         [--seed N] [--keep DIR] [--synth-only | --place-only]
                                         [--board-flow] [--[no-]core-answer-registered]

The SoC (core, MMU, interconnect, devices, and main memory: the board's SDRAM
controller with ``--board``, else a block RAM of ``--ram-kib`` KiB) is wrapped by
soc/ooc.py (inputs from a shift chain, outputs registered), synthesised with Yosys
``synth_ecp5`` and placed and routed by nextpnr-ecp5 (85k, CABGA381, speed 6) at
``--freq`` MHz with timing allowed to fail.  Prints the LUT4/FF/DP16KD/MULT18X18D
counts, the Fmax of the system clock, the critical path (from nextpnr's report) and
the CPU time, with the CPU model.  The pipeline engineer's yardstick for 50 MHz.
``--core-answer-registered`` (or ``--no-...``): the core's memory port registers the
bus's answer (``SoC(core_answer_registered=...)``), whatever the configuration says.
Place and route take 30-60 minutes on the 2-core machine (run it under nice).
``--synth-only`` stops after Yosys (about 10 minutes): bench/netlist_paths.py
then estimates the longest paths of DIR/top.json in seconds.  ``--place-only``
stops after placement (10-20 minutes; the Fmax is nextpnr's estimate): nextpnr then
names no critical path, but it writes DIR/top.sdf and DIR/placed.json, from which
bench/nextpnr_paths.py shows the worst placed paths hop by hop (the command is
printed).
"""

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from soc.fpga import ToolMissing, cpu_model   # noqa: E402
from soc.ooc import run_timing   # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--freq", type=float, default=50.0, help="target MHz (default 50)")
    p.add_argument("--board", default=None, help="the board's SoC configuration (SDRAM)")
    p.add_argument("--ram-kib", type=int, default=64, help="block RAM size without --board")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", default=None, help="keep the tools' files in this directory")
    p.add_argument("--synth-only", action="store_true",
                   help="stop after synthesis (for bench/netlist_paths.py DIR/top.json)")
    p.add_argument("--place-only", action="store_true",
                   help="stop after placement (then bench/nextpnr_paths.py DIR/top.sdf)")
    p.add_argument("--board-flow", action="store_true",
                   help="place and route as the board build does (the static placer, "
                        "router1) instead of HeAP and router2")
    p.add_argument("--core-answer-registered", action=argparse.BooleanOptionalAction,
                   default=None, help="the core's memory port registers the bus's answer "
                   "(default: as the configuration has it)")
    args = p.parse_args(argv)
    if args.synth_only and args.place_only:
        p.error("--synth-only and --place-only exclude each other")

    from soc.soc import SoC
    if args.board:
        from soc.board import board
        soc_args = board(args.board).soc_args(simulation=False, clk_freq=args.freq * 1e6)
        what = f"SoC, {args.board} configuration (SDRAM controller)"
    else:
        soc_args = {"ram_size": args.ram_kib * 1024}
        what = f"SoC with {args.ram_kib} KiB block RAM"
    if args.core_answer_registered is not None:
        soc_args["core_answer_registered"] = args.core_answer_registered
    if soc_args.get("core_answer_registered"):
        what += ", the core's answer registered"
    soc = SoC(**soc_args)
    workdir = args.keep or tempfile.mkdtemp(prefix="soc-timing-")
    t0 = time.monotonic()
    try:
        flow = None
        if args.board_flow:
            from soc.board.build import BOARD_PLACER, DEFAULT_ROUTER
            flow = [*BOARD_PLACER, "--router", DEFAULT_ROUTER]
        cells, rep, _ = run_timing(soc, workdir, freq_mhz=args.freq, seed=args.seed,
                                   place=not args.synth_only, route=not args.place_only,
                                   flow=flow)
    except (ToolMissing, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    wall = time.monotonic() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rep is None:
        print(f"{what}, synthesised for LFE5U-85F: LUT4 {cells.get('LUT4', 0)}, "
              f"FF {cells.get('TRELLIS_FF', 0)}, DP16KD {cells.get('DP16KD', 0)}, "
              f"MULT18X18D {cells.get('MULT18X18D', 0)}; netlist {workdir}/top.json; "
              f"{wall:.0f} s wall, {ru.ru_utime + ru.ru_stime:.0f} s CPU ({cpu_model()})")
        return 0
    stage = "placed, not routed" if args.place_only else "placed and routed"
    placer = "static placer, router1" if args.board_flow else "HeAP, router2"
    print(f"{what}, out of context on LFE5U-85F-6 (nextpnr-ecp5, seed {args.seed}, "
          f"{placer}, {stage}), target {args.freq:g} MHz")
    print(f"cells: LUT4 {cells.get('LUT4', 0)}, FF {cells.get('TRELLIS_FF', 0)}, "
          f"DP16KD {cells.get('DP16KD', 0)}, MULT18X18D {cells.get('MULT18X18D', 0)}")
    for line in rep.summary_lines():
        print(line)
    print(f"time: {wall:.0f} s wall, {ru.ru_utime + ru.ru_stime:.0f} s CPU "
          f"({cpu_model()}); files in {workdir}")
    print(f"worst paths hop by hop: bench/nextpnr_paths.py --sdf {workdir}/top.sdf "
          f"--netlist {workdir}/placed.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
