"""Cycles of a misaligned load or store on the pipelined core (issue 13).

    python bench/misaligned_bench.py [--ram-latency N] [--iterations N]

Runs, on the whole SoC (compiled engine), loops of one load or store each
(plus an add, an addi and a bnez) over data in RAM that the loop keeps in the
data cache, and prints the cycles per iteration of each, and what the access
costs more than the aligned one: a doubleword load aligned, misaligned inside a
doubleword (lw at offset 2), across two doublewords of one cache line (ld at
offset 1), across two lines (ld at offset 29) and across two pages (ld at
offset 0xFFD); the same for stores; and the loop without an access.  The
program is assembled in memory (sim/difftest/asm.py): no toolchain needed.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.difftest.asm import Asm, enc, li32      # noqa: E402
from sim.elf import ElfImage                     # noqa: E402

RAM = 0x8000_0000
BUF = RAM + 0x1_0000          # 8 KiB of data, page-aligned
RESULTS = RAM + 0x2_0000
TOHOST = RAM + 0x3_0000
MCYCLE = 0xB00

#: (name, instruction or None, offset from BUF)
CASES = [
    ("loop alone", None, 0),
    ("ld aligned", "ld", 8),
    ("lw inside a doubleword", "lw", 10),
    ("ld across doublewords", "ld", 9),
    ("ld across lines", "ld", 29),
    ("ld across pages", "ld", 0xFFD),
    ("sd aligned", "sd", 8),
    ("sw inside a doubleword", "sw", 10),
    ("sd across doublewords", "sd", 9),
    ("sd across lines", "sd", 29),
    ("sd across pages", "sd", 0xFFD),
]


def program(iterations):
    a = Asm(RAM)
    s0, s1, s2, t0, a0, a1, t1 = 8, 9, 18, 5, 10, 11, 6
    a.la(t1, "results")
    for k, (_, insn, off) in enumerate(CASES):
        a.emit(*li32(t0, iterations))
        a.la(s0, "buf", off - off % 2048)      # (offsets are 12-bit)
        off %= 2048
        base = a.pc
        # one warm-up pass of the same access, so that lines and pages are in the caches
        if insn and insn[0] == "l":
            a.emit(enc.load(insn, a0, s0, off))
        elif insn:
            a.emit(enc.store(insn, a1, s0, off))
        a.emit(enc.csr("csrrs", s1, 0, MCYCLE))
        top = f"loop{k}"
        a.label(top)
        if insn and insn[0] == "l":
            a.emit(enc.load(insn, a0, s0, off))
        elif insn:
            a.emit(enc.store(insn, a1, s0, off))
        a.emit(enc.alu_rr("add", a1, a1, a0), enc.alu_ri("addi", t0, t0, -1))
        a.branch("bne", t0, 0, top)
        a.emit(enc.csr("csrrs", s2, 0, MCYCLE), enc.alu_rr("sub", s2, s2, s1),
               enc.store("sd", s2, t1, 8 * k))
        assert a.pc > base
    a.emit(enc.alu_ri("addi", a0, 0, 1))
    a.la(t1, "tohost")
    a.emit(enc.store("sd", a0, t1, 0))
    a.label("halt")
    a.jal(0, "halt")
    a.org(BUF)
    a.label("buf")
    a.data(bytes(range(256)) * 32)
    a.org(RESULTS)
    a.label("results")
    a.data(bytes(8 * len(CASES)))
    a.org(TOHOST)
    a.label("tohost")
    a.dword(0)
    base, blob = a.image()
    return ElfImage(entry=RAM, segments=[(base, blob)], tohost=a.labels["tohost"],
                    fromhost=None, symbols=dict(a.labels))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ram-latency", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=1000)
    args = ap.parse_args(argv)
    from sim.difftest.cli import new_engine
    engine = new_engine("cxxrtl", sys.stderr, args.ram_latency)
    image = program(args.iterations)
    engine.load(image)
    engine.set_tohost(image.tohost)
    t0 = time.process_time()
    stop = engine.run(20_000_000)
    secs = time.process_time() - t0
    if stop != "tohost":
        sys.exit(f"error: the program did not end ({stop})")
    raw = engine.read_ram(RESULTS, 8 * len(CASES))
    cycles = [int.from_bytes(raw[8 * k:8 * k + 8], "little") / args.iterations
              for k in range(len(CASES))]
    engine.close()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor()) \
        if os.path.exists("/proc/cpuinfo") else platform.processor()
    print(f"misaligned accesses on the SoC (cxxrtl, RAM latency {args.ram_latency}, "
          f"{args.iterations} iterations; {secs:.1f} s CPU on {cpu})")
    aligned = {"l": cycles[1], "s": cycles[6]}
    for (name, insn, off), c in zip(CASES, cycles):
        extra = "" if insn is None else f"  (+{c - aligned[insn[0]]:.2f} vs aligned)"
        print(f"  {name:26} {c:6.2f} cycles/iteration{extra}")


if __name__ == "__main__":
    main()
