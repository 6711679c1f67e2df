"""Core benchmark: a mixed C workload on the core, simulated with Amaranth's pysim.

    python bench/core_bench.py [--mmu sv39|bare] [--max-cycles N]

Builds bench/core/mixed.c (memcpy, strings, Shell sort, an Sv39 loop that
touches more pages than the data TLB holds) with riscv64-unknown-elf-gcc,
runs it through the ELF runner's core target and prints cycles,
instructions, CPI (overall and per instruction class) and the simulation
speed with the machine it ran on.
"""

import argparse
import collections
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.elf import load_elf                       # noqa: E402
from sim.harness import CoreTarget                 # noqa: E402

SRC = ROOT / "bench" / "core"
CFLAGS = ["-march=rv64ima_zicsr_zifencei", "-mabi=lp64", "-mcmodel=medany", "-O2",
          "-ffreestanding", "-nostdlib", "-fno-builtin", "-Wall", "-Werror"]

CLASSES = {0x03: "load", 0x23: "store", 0x2F: "amo", 0x63: "branch", 0x6F: "jump",
           0x67: "jump", 0x73: "system"}


def build(outdir):
    elf = Path(outdir) / "mixed.elf"
    cmd = ["riscv64-unknown-elf-gcc", *CFLAGS, "-T", str(SRC / "link.ld"),
           str(SRC / "start.S"), str(SRC / "mixed.c"), "-o", str(elf)]
    subprocess.run(cmd, check=True)
    return elf


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mmu", choices=["sv39", "bare"], default="sv39")
    ap.add_argument("--max-cycles", type=int, default=600_000)
    ap.add_argument("--core", choices=["pipeline", "fsm"], default="pipeline")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        try:
            elf = build(tmp)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"error: cannot build the benchmark: {e}", file=sys.stderr)
            return 2
        image = load_elf(elf)
    target = CoreTarget(mmu=args.mmu, core=args.core)
    target.load(image)

    mix = collections.Counter()
    last = {"order": None}

    def on_retire(r):
        if not r.trap:
            op = r.insn & 0x7F
            is_muldiv = op in (0x33, 0x3B) and (r.insn >> 25) == 1
            mix["muldiv" if is_muldiv else CLASSES.get(op, "alu")] += 1

    t0 = time.monotonic()
    res = target.run(max_cycles=args.max_cycles, on_retire=on_retire)
    secs = time.monotonic() - t0
    if res.status != "tohost" or res.tohost != 1:
        print(f"error: benchmark did not pass (status {res.status}, tohost {res.tohost})",
              file=sys.stderr)
        return 1
    print(f"workload      bench/core/mixed.c (-O2), MMU {args.mmu}, core {args.core}")
    print(f"cycles        {res.cycles}")
    print(f"instructions  {res.instret}")
    print(f"CPI           {res.cycles / res.instret:.3f}")
    print("mix           " + ", ".join(f"{k} {v * 100 / res.instret:.1f}%"
                                       for k, v in mix.most_common()))
    print(f"simulation    {res.cycles / secs:.0f} cycles/s, {secs:.1f} s "
          f"(Amaranth pysim, Python {platform.python_version()}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.processor() or 'cpu?'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
