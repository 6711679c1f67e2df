"""systest on the simulated SoC: the cost of each of its tests.

    .venv/bin/python bench/systest_bench.py [--all | NAME ...] [--kernel K --fs F]

Boots xv6 on the SoC (CXXRTL engine) once, then runs `systest -q NAME` for each
test of the quick set (what `make test` runs on the SoC), or `systest NAME` for the
named ones (--all: every test but the slow one, dirfull).  Prints, per test, the
simulated cycles and instructions and the CPU seconds the simulation took, then the
totals; the machine (CPU model, cores) first.  A test that does not pass is
reported and makes the exit status 1.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.boot_bench import cpu_model                    # noqa: E402
from sim.boot import KernelPanic, Session, UsageError, open_engine   # noqa: E402
from sim.engine import EngineError                        # noqa: E402
from tests.test_xv6_systest import DEFAULT, QUICK        # noqa: E402

TIMEOUT = 7200          # wall seconds per test


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", help="tests to run (default: the quick set)")
    p.add_argument("--all", action="store_true", help="every test but dirfull, full rounds")
    p.add_argument("--kernel", default=str(ROOT / "build/xv6/kernel"))
    p.add_argument("--fs", default=str(ROOT / "build/xv6/fs.img"))
    args = p.parse_args(argv)
    if args.all and args.names:
        p.error("--all or names, not both")
    names = DEFAULT if args.all else (args.names or QUICK)
    command = "systest" if (args.all or args.names) else "systest -q"
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    try:
        engine, disk = open_engine("cxxrtl", args.kernel, args.fs,
                                   log=lambda m: print(f"  {m}", file=sys.stderr))
    except (UsageError, EngineError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    session = Session(engine, disk)
    failed = []
    try:
        session.boot(timeout=1800)
        boot = engine.stats()
        print(f"boot: {boot.instret:,} instructions, {boot.cycles:,} cycles "
              f"({engine.ram_size >> 20} MiB of RAM)")
        print(f"{command + ' NAME':<24} {'M cycles':>10} {'M instr':>10} {'CPU s':>8}")
        total_cycles = total_instret = total_cpu = 0
        for name in names:
            before, cpu0 = engine.stats(), time.process_time()
            out = session.command(f"{command} {name}", TIMEOUT)
            after, cpu = engine.stats(), time.process_time() - cpu0
            cycles, instret = after.cycles - before.cycles, after.instret - before.instret
            total_cycles, total_instret, total_cpu = (total_cycles + cycles,
                                                      total_instret + instret, total_cpu + cpu)
            ok = out.rstrip().endswith("ALL TESTS PASSED")
            if not ok:
                failed.append(name)
            print(f"{name:<24} {cycles / 1e6:>10.1f} {instret / 1e6:>10.1f} {cpu:>8.1f}"
                  + ("" if ok else "  FAILED"), flush=True)
        print(f"{'total':<24} {total_cycles / 1e6:>10.1f} {total_instret / 1e6:>10.1f} "
              f"{total_cpu:>8.1f}  ({total_cycles / max(total_cpu, 1e-9) / 1e6:.2f} M cycles "
              f"per CPU second)")
    except (EngineError, TimeoutError, KernelPanic) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        engine.close()
    if failed:
        print(f"failed: {' '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
