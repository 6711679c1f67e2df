"""Boot benchmark: xv6 from reset to the first shell prompt on the simulated SoC.

    .venv/bin/python bench/boot_bench.py [--engines cxxrtl,pysim] [--pysim-cycles N]
                                         [--ram-latency N] [--model best|quick|tuned]
                                         [--core pipeline|fsm] [--board ulx3s-85f]
                                         [--lib PATH]

cxxrtl: the full boot; prints instructions and cycles to the first `$ `, CPI, wall
time to the prompt and simulated cycles per second (the model build, if one is
needed, is timed separately), and from the pipelined core's counters the cache hit
rates, the prediction accuracy, where the cycles went (hw/core/perf.py: each
class's cycles and share of the CPI) and the TLB and walker events.  pysim: a fixed number of cycles from reset (the
full boot would take hours); prints cycles per second and, when the cxxrtl figures
are known, the projected time to the prompt.  The machine (CPU model, cores) is
printed first.  ``--ram-latency N``: the simulated RAM answers the first beat of a
transfer N cycles after the request (default 1, single-cycle RAM; 8 is SDRAM-like).
``--model``: which compiled library (sim/cxxrtl/build.py): ``best`` (default, what
``make sim`` uses: the tuned one if it is built), ``quick`` (``g++ -O2``) or ``tuned``
(profile-guided ``-O3``, built now if missing); each is built if missing, outside the
timed part.  ``--core fsm``: the SoC with the multi-cycle core instead of the pipelined
one (a model of its own), for comparing the engine's speed on both.  ``--board B``: the
board's configuration as ``make sim BOARD=B`` runs it (boot ROM, SDRAM controller and
chip model, SD card model holding the kernel and fs.img; the best model there is,
built if missing), from reset (in the ROM) to the first prompt.  ``--lib PATH``: this
model library (of the default SoC with ``--ram-latency``) instead of one looked up by
the design, e.g. a library kept from before a change, to compare two builds with the
same Python around them.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.boot import Session, UsageError, open_engine   # noqa: E402
from sim.engine import EngineError                        # noqa: E402
from soc.fpga import cpu_model                            # noqa: E402
from hw.core.perf import EVENTS, CycleClass               # noqa: E402


def model_library(kernel, ram_latency, model, core="pipeline"):
    """The path of the ``model`` library ("quick" or "tuned") of the SoC with ``core``
    that boots ``kernel`` with ``ram_latency``, built if missing; None for "best" with
    the default core (the engine finds it)."""
    if model == "best" and core == "pipeline":
        return None
    from sim.boot import read_kernel
    from sim.cxxrtl.build import ModelDir, Reporter, build_model, build_quick
    from soc import memmap
    from soc.soc import SoC
    ram_size = (read_kernel(kernel).ram_mb or memmap.DEFAULT_RAM_SIZE >> 20) << 20
    def soc():              # a design is elaborated once: a new one for each use
        return SoC(ram_size=ram_size, ram_latency=ram_latency, core=core)
    log = lambda m: print(f"  {m}", file=sys.stderr)     # noqa: E731
    if model != "quick":
        return build_model(soc(), tuned=model == "tuned", log=log)
    return build_quick(ModelDir.of(soc()), Reporter(log))


def bench_cxxrtl(kernel, fs, ram_latency=1, model="best", core="pipeline", board=None,
                 lib=None):
    t0 = time.monotonic()
    if lib is None and board is None:
        lib = model_library(kernel, ram_latency, model, core)
    engine, disk = open_engine("cxxrtl", kernel, fs, ram_latency=ram_latency, lib_path=lib,
                               board=board, log=lambda m: print(f"  {m}", file=sys.stderr))
    setup = time.monotonic() - t0
    session = Session(engine, disk)
    cpu0 = time.process_time()
    session.boot(timeout=1800)
    cpu = time.process_time() - cpu0
    stats, wall = session.prompt_at
    counts = engine.perf_counters()         # all 33 counters at once ({}: no counters)
    perf = {name: counts.get(name) for name in ("ihit", "imiss", "dhit", "dmiss", "branch",
                                                "mispred")}
    breakdown = events = None
    if counts:
        breakdown = {c: counts[c.counter[5:]] for c in CycleClass}
        events = {n: counts[n] for n in EVENTS}
    engine.close()
    print(f"cxxrtl: {core} core{'' if board is None else ', board ' + board}; model ready in {setup:.1f} s (RTLIL export + cache lookup, "
          f"or the build): {Path(engine.lib_path).name}")
    memory = f"RAM latency {ram_latency}" if board is None else "the board's SDRAM model"
    print(f"cxxrtl: {memory}: reset to first '$ ': {stats.instret} instructions, {stats.cycles} cycles, "
          f"CPI {stats.cycles / stats.instret:.2f}, {stats.traps} traps, "
          f"{stats.wfi_skips} idle skips")
    print(f"cxxrtl: wall time to the prompt {wall:.2f} s ({cpu:.2f} s of CPU), "
          f"{stats.cycles / wall / 1e6:.3f} M cycles/s of wall time, "
          f"{stats.cycles / cpu / 1e6:.3f} M cycles per CPU second, "
          f"{stats.instret / cpu / 1e6:.3f} M instructions per CPU second")
    if None not in perf.values():
        def rate(good, bad):
            return f"{100 * good / max(good + bad, 1):.2f}%"
        # counted up to the end of the boot run (the prompt, a few cycles later)
        print(f"cxxrtl: I-cache hits {rate(perf['ihit'], perf['imiss'])} "
              f"({perf['imiss']} misses), D-cache load hits {rate(perf['dhit'], perf['dmiss'])} "
              f"({perf['dmiss']} misses), branch/jump prediction "
              f"{rate(perf['branch'] - perf['mispred'], perf['mispred'])} of {perf['branch']}")
    else:
        print("cxxrtl: the model has no event counters "
              "(the multi-cycle core has none; or the build removed them)")
    if breakdown is not None:
        print_breakdown(breakdown)
        print("cxxrtl: events: " + ", ".join(f"{n} {v}" for n, v in events.items()))
    return stats, wall


def print_breakdown(counts):
    """Where the cycles go (hw/core/perf.py): each class's cycles and its share of
    the CPI.  Counted up to the end of the boot run, a few cycles after the prompt."""
    total = sum(counts.values())
    retired = counts[CycleClass.RETIRE]
    print(f"cxxrtl: cycle breakdown ({total} cycles, {retired} retired, "
          f"CPI {total / max(retired, 1):.3f}):")
    for cls, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        if n:
            print(f"  {cls.name.lower():12s} {n:9d} cycles {100 * n / total:6.2f}%  "
                  f"CPI +{n / max(retired, 1):.3f}")


def bench_pysim(kernel, fs, cycles, cxx_stats, ram_latency=1):
    engine, _ = open_engine("pysim", kernel, fs, ram_latency=ram_latency)
    t0, cpu0 = time.monotonic(), time.process_time()
    engine.run(cycles)
    wall, cpu = time.monotonic() - t0, time.process_time() - cpu0
    s = engine.stats()
    speed = s.cycles / cpu
    print(f"pysim: {s.cycles} cycles of the boot in {wall:.1f} s ({cpu:.1f} s of CPU): "
          f"{speed:.0f} cycles per CPU second, "
          f"{s.instret} instructions (CPI {s.cycles / max(s.instret, 1):.2f})")
    if cxx_stats is not None:
        print(f"pysim: projected CPU time to the prompt {cxx_stats.cycles / speed / 3600:.1f} h")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--engines", default="cxxrtl,pysim")
    p.add_argument("--pysim-cycles", type=int, default=20_000)
    p.add_argument("--kernel", default=str(ROOT / "build/xv6/kernel"))
    p.add_argument("--fs", default=str(ROOT / "build/xv6/fs.img"))
    p.add_argument("--ram-latency", type=int, default=1,
                   help="cycles from a request to the RAM's first beat (default 1)")
    p.add_argument("--model", choices=("best", "quick", "tuned"), default="best",
                   help="cxxrtl: which compiled library (default: the best there is)")
    p.add_argument("--core", choices=("pipeline", "fsm"), default="pipeline",
                   help="cxxrtl: the SoC's core (default: the pipelined one)")
    p.add_argument("--board", default=None,
                   help="cxxrtl: this board's configuration (as make sim BOARD=...)")
    p.add_argument("--lib", default=None,
                   help="cxxrtl: this model library (of the default SoC) instead")
    args = p.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    cxx_stats = None
    try:
        if "cxxrtl" in engines:
            if args.board and (args.core != "pipeline" or args.model != "best" or args.lib):
                print("error: --board takes the board's own core and the best model",
                      file=sys.stderr)
                return 2
            if args.lib and not Path(args.lib).is_file():
                print(f"error: --lib: no such file {args.lib}", file=sys.stderr)
                return 2
            cxx_stats, _ = bench_cxxrtl(args.kernel, args.fs, args.ram_latency, args.model,
                                        args.core, args.board, args.lib)
        if "pysim" in engines:
            bench_pysim(args.kernel, args.fs, args.pysim_cycles, cxx_stats,
                        args.ram_latency)
    except (UsageError, EngineError, TimeoutError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
