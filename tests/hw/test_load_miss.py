"""A load that misses in the data cache goes on to W, which waits for the line
(pipeline.py, state WFILL): the fill that fails is the load's access fault, taken
with the load's pc, instruction and address, and the instruction behind the load
(already in M) neither retires nor writes its register.

The core runs alone (sim/harness.py CoreTarget) with 768 KiB of RAM: the core
caches the naturally aligned 1 MiB block that holds it, and the harness answers a
burst beyond the RAM's end with a bus error, so a load there misses, its line
fill fails, and the load traps (cause 5, mtval its address)."""

import subprocess
from pathlib import Path

import pytest

from sim.elf import load_elf
from sim.harness import CoreTarget
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


def test_failed_fill_is_the_loads_access_fault(tmp_path):
    src = tmp_path / "p.S"
    src.write_text(PROGRAM)
    elf = tmp_path / "p.elf"
    subprocess.run(["riscv64-unknown-elf-gcc", "-march=rv64ima_zicsr_zifencei", "-mabi=lp64",
                    "-nostdlib", "-T", str(ROOT / "tests/isa/link.ld"), str(src),
                    "-o", str(elf)], check=True, capture_output=True)
    image = load_elf(str(elf))
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
