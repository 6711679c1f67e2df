"""Golden model benchmark: instructions per CPU second of sim/ref on its own.

    python bench/ref_bench.py [--repeat N]

Workloads: bench/core/mixed.c (-O2: copies, strings, sorting, an Sv39 loop over
more pages than a TLB holds), the programs of tests/isa, and random programs of
sim/difftest/randprog.py (traps, privilege changes, page-table rewrites).  Each runs
twice: ``run`` (the stand-alone loop) and ``step`` (a retirement record per
instruction, as the lock-step comparison uses it).  Prints steps (instructions and
traps) per CPU second for each, and the machine.
"""

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.difftest.randprog import RAM_BASE, RAM_SIZE, generate       # noqa: E402
from sim.ref.platform import HarnessPlatform                          # noqa: E402
from sim.ref.run import load_program, new_hart                        # noqa: E402
from tests.isa import build as isa_build                              # noqa: E402

CORE = ROOT / "bench" / "core"
CFLAGS = ["-march=rv64ima_zicsr_zifencei", "-mabi=lp64", "-mcmodel=medany", "-O2",
          "-ffreestanding", "-nostdlib", "-fno-builtin", "-Wall", "-Werror"]


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def images(tmp):
    """(name, image, RAM bytearray) of every workload."""
    out = []
    mixed = Path(tmp) / "mixed.elf"
    subprocess.run(["riscv64-unknown-elf-gcc", *CFLAGS, "-T", str(CORE / "link.ld"),
                    str(CORE / "start.S"), str(CORE / "mixed.c"), "-o", str(mixed)], check=True)
    out.append(("mixed.c", *load_program(str(mixed))))
    for name in isa_build.programs():
        out.append((f"isa/{name}", *load_program(str(isa_build.build(name, tmp)))))
    for seed in range(20):
        image = generate(seed)
        ram = bytearray(RAM_SIZE)
        for addr, blob in image.segments:
            ram[addr - RAM_BASE:addr - RAM_BASE + len(blob)] = blob
        out.append((f"random/{seed}", image, ram))
    return out


def measure(workloads, recorded, repeat):
    steps = 0
    t0 = time.process_time()
    for _ in range(repeat):
        for _, image, ram in workloads:
            hart = new_hart(image, bytearray(ram), HarnessPlatform())
            hart.run(10_000_000, on_retire=(lambda r: None) if recorded else None)
            if hart.tohost != 1:
                raise SystemExit(f"a workload did not pass (tohost {hart.tohost})")
            steps += hart.order
    return steps, time.process_time() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs of each workload (default 5)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            work = images(tmp)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"error: cannot build the workloads: {e}", file=sys.stderr)
            return 2
    groups = {"mixed.c": [w for w in work if w[0] == "mixed.c"],
              "tests/isa (11 programs)": [w for w in work if w[0].startswith("isa/")],
              "random programs (20 seeds)": [w for w in work if w[0].startswith("random/")]}
    print(f"golden model (sim/ref), Python {platform.python_version()}, {cpu_model()}")
    print(f"{'workload':28s} {'steps':>9s} {'run: steps/s':>14s} {'step: steps/s':>14s}")
    for name, ws in groups.items():
        n, secs = measure(ws, False, args.repeat)
        n2, secs2 = measure(ws, True, args.repeat)
        print(f"{name:28s} {n // args.repeat:9d} {n / secs:14,.0f} {n2 / secs2:14,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
