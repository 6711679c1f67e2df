"""A load that misses in the data cache goes on to W, which waits for the line
(pipeline.py, state WFILL, entered a cycle after the miss is found): the fill
that fails is the load's access fault, taken with the load's pc, instruction and
address, and the instruction behind the load (already in M) neither retires nor
writes its register.

The core runs alone (sim/harness.py CoreTarget) with 768 KiB of RAM: the core
caches the naturally aligned 1 MiB block that holds it, and the harness answers a
burst beyond the RAM's end with a bus error, so a load there misses, its line
fill fails, and the load traps (cause 5, mtval its address)."""

import subprocess
from pathlib import Path

import pytest

from sim.difftest.run import CORE_REGIONS, model_for
from sim.elf import load_elf
from sim.harness import CoreTarget
from tests.hw.test_perf import TAIL
from tests.isa import build as isa_build

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not isa_build.have_toolchain(),
                                reason="riscv64-unknown-elf-gcc not installed")

RAM_BASE = 0x8000_0000
RAM_SIZE = 768 * 1024
BEYOND = RAM_BASE + RAM_SIZE + 0x48      # in the cached block, past the RAM's end

PROGRAM = f"""
    .section .text.init, "ax"
    .globl _start
_start:
    la t0, handler
    csrw mtvec, t0
    li s0, {BEYOND:#x}
    li s1, 5
    li t4, 0
    la t0, value
    ld t5, 0(t0)            # a load that misses and fills (its word: 41)
    add t6, t5, t5          # ... used at once (82)
load:
    ld a0, 0(s0)            # misses; the fill fails: load access fault
    addi t4, t4, 7          # behind the load in M: must not retire
    j fail
handler:
    csrr a4, minstret       # the faulting load not counted
    csrr a1, mcause
    csrr a2, mtval
    csrr a3, mepc
    bne a1, s1, fail
    bne a2, s0, fail
    la t0, load
    bne a3, t0, fail
    bnez t4, fail
    li t0, 82
    bne t6, t0, fail
    li t2, 1
    j done
fail:
    li t2, 3
done:
    la t1, tohost
    sd t2, 0(t1)
1:  j 1b
    .section .tohost, "aw"
    .align 3
    .globl tohost
tohost: .dword 0
    .data
    .align 6
value: .dword 41
"""


def assemble(tmp_path, text):
    """The loaded image of the assembly program ``text``."""
    src = tmp_path / "p.S"
    src.write_text(text)
    elf = tmp_path / "p.elf"
    subprocess.run(["riscv64-unknown-elf-gcc", "-march=rv64ima_zicsr_zifencei", "-mabi=lp64",
                    "-nostdlib", "-T", str(ROOT / "tests/isa/link.ld"), str(src),
                    "-o", str(elf)], check=True, capture_output=True)
    return load_elf(str(elf))


def test_failed_fill_is_the_loads_access_fault(tmp_path):
    image = assemble(tmp_path, PROGRAM)
    target = CoreTarget(ram_base=RAM_BASE, ram_size=RAM_SIZE)
    target.load(image)
    records = []
    res = target.run(max_cycles=3000, on_retire=records.append)
    assert res.status == "tohost" and res.tohost == 1
    traps = [r for r in records if r.trap]
    assert len(traps) == 1
    t = traps[0]
    assert (t.cause, t.tval, t.intr) == (5, BEYOND, 0)
    assert t.insn == 0x0004_3503                  # ld a0, 0(s0)
    # just before it: `add t6, t5, t5` with the missing load's word doubled (the
    # program checks mepc = the load's address itself); just after it the handler's
    # first instruction: `addi t4` behind the load never retired
    i = records.index(t)
    assert (records[i - 1].rd, records[i - 1].rd_wdata) == (31, 82)
    assert t.pc == records[i - 1].pc + 4
    assert records[i + 1].pc == t.pc + 12         # handler: after ld, addi, j
    assert not any(r.rd == 29 and r.rd_wdata == 7 for r in records)
    # minstret in the handler: the instructions retired before it, the load
    # that missed and filled counted once, the faulting one not at all
    first = records[i + 1]
    assert (first.rd, first.rd_wdata) == (14, i)


# Each load below misses (a line of its own) and the instruction right behind it is
# already in M when the miss is found: M then spends a cycle as the fill's first
# (``w_missed``) before that instruction's turn, and what X decided about it (its
# fast path, exception, kind flags) must survive that cycle.  Behind the misses: a
# misaligned load across two doublewords of the line being filled, a CSR read, a
# multiply of the loaded value, a store and a load of it, a branch on the loaded
# value, an aligned load of the same line.  Checked against the golden model
# instruction by instruction.
BEHIND_PROGRAM = """
    .section .text.init, "ax"
    .globl _start
_start:
    la s0, lines
    li s2, 0x1234
    csrw mscratch, s2
    ld t0, 0(s0)
    ld a0, 13(s0)            # misaligned, in the line being filled
    ld t1, 64(s0)
    csrr a1, mscratch
    ld t2, 128(s0)
    mul a2, t2, s2
    ld t3, 192(s0)
    sd s2, 8(s0)
    ld a3, 8(s0)
    ld t4, 256(s0)
    bnez t4, 1f
    li a4, 99                # not taken: t4 is not zero
1:  ld t5, 320(s0)
    csrr a6, minstret        # the load just filled counted once
    lw a5, 324(s0)
""" + TAIL + "lines:\n" + "\n".join(f"    .dword {0x0101_0101_0101_0101 * (k + 1) ^ (k << 40):#x}"
                for k in range(48)) + "\n"


def test_the_instruction_behind_a_missing_load_is_kept(tmp_path):
    image = assemble(tmp_path, BEHIND_PROGRAM)
    _, lock = model_for(image, RAM_SIZE, CORE_REGIONS)
    target = CoreTarget(ram_base=RAM_BASE, ram_size=RAM_SIZE)
    target.load(image)
    res = target.run(max_cycles=5000, on_retire=lock.check)
    assert res.status == "tohost" and res.tohost == 1
    # the six loads of new lines missed; the misaligned load's two doublewords,
    # the load after the store and the `lw` hit the lines just filled
    assert (res.perf["dmiss"], res.perf["dhit"]) == (6, 4)
    # every instruction up to the store to tohost was compared (23: `la`, `li` and
    # `csrw`, the 14 of the body that run, TAIL's 4), then some of the spin loop's,
    # as many as the cycles left before the run stopped
    assert lock.checked >= 23
