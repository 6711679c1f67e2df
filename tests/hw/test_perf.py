"""The pipelined core's cycle accounting (hw/core/perf.py) on small programs.

Each program runs on the core alone (sim/harness.py CoreTarget: RAM without wait
states), and the counters are compared with exact counts.  Every cycle falls in
exactly one class, the RETIRE class counts the retired instructions, and the
classes the program provokes show up where they should: the counts follow from
the pipeline's timing (pipeline.py, fetch.py)."""

import subprocess
from pathlib import Path

import pytest

from hw.core.perf import CycleClass
from hw.mmu.signatures import EventKind
from sim.elf import load_elf
from sim.harness import CoreTarget
from tests.isa import build as isa_build

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not isa_build.have_toolchain(),
                                reason="riscv64-unknown-elf-gcc not installed")

HEAD = """
    .section .text.init, "ax"
    .globl _start
_start:
"""
TAIL = """
    la t1, tohost
    li t2, 1
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


def run(tmp_path, body):
    src = tmp_path / "p.S"
    src.write_text(HEAD + body + TAIL)
    elf = tmp_path / "p.elf"
    subprocess.run(["riscv64-unknown-elf-gcc", "-march=rv64ima_zicsr_zifencei", "-mabi=lp64",
                    "-nostdlib", "-T", str(ROOT / "tests/isa/link.ld"), str(src),
                    "-o", str(elf)], check=True, capture_output=True)
    target = CoreTarget()
    target.load(load_elf(str(elf)))
    records = []
    res = target.run(max_cycles=2000, on_retire=records.append)
    assert res.status == "tohost" and res.tohost == 1
    classes = {c.name.lower(): res.perf[c.counter[5:]] for c in CycleClass}
    # every cycle is counted once; RETIRE counts the retired instructions (the spin
    # loop after the store included, up to the cycle the run stopped; the tohost
    # store waits a cycle in the write buffer's store stage before its entry, so
    # each run below has one turn of the spin loop more than without the stage)
    assert sum(classes.values()) == res.cycles
    assert classes["retire"] == sum(1 for r in records if not r.trap)
    return res, {k: v for k, v in classes.items() if v}


def test_straight_line(tmp_path):
    # Three nops and the tail: 8 instructions, one 32-byte line of the instruction cache.
    # fetch_other: the two boot cycles (a0, a1 written) and the three in which the first
    # slots travel from D to M.  icache_miss: the first line (the miss found, the request
    # registered, four beats; the word is read during the last) and the next line, which the fetch
    # unit starts after `j` on the wrong path and finishes before it turns back.
    # mispredict: the `j` the first time (the branch target buffer learns it): 3 cycles
    # since X's redirect reaches the fetch unit from registers a cycle later (one of
    # them was icache_miss's before, 10 -> 9: the wrong-path fill was under way).  The
    # spin loop retires four times while the tohost store goes through the write buffer.
    res, c = run(tmp_path, "    nop\n    nop\n    nop\n")
    assert c == {"retire": 12, "fetch_other": 5, "icache_miss": 9, "mispredict": 3}
    assert (res.perf["imiss"], res.perf["ihit"], res.perf["mispred"]) == (2, 15, 1)


def test_hazards(tmp_path):
    # dcache_miss: the first load fills its line (the miss found, the request registered,
    # four beats) and commits with the last beat; load_use: `addi` waits one cycle for it; muldiv:
    # `mul` takes four cycles more in M, interlock: `add` waits one for its result;
    # csr: csrw reads mscratch in its first cycle and writes it in the next (no refetch
    # after it: mscratch changes nothing the younger instructions depend on);
    # icache_miss: the first line, the second (filled while `mul` works, one slot
    # late) and the third (after the loop, on the wrong path); mispredict: the loop's
    # branch, not yet known, then known and taken twice, mispredicted at the exit, and
    # the `j 1b` the first time (3 mispredictions, a cycle more each since X's redirect
    # reaches the fetch unit from registers: 8 -> 11; one of them overlaps the third
    # line's fill, icache_miss 11 -> 10).
    res, c = run(tmp_path, """
    la a0, value
    ld a1, 0(a0)
    addi a2, a1, 1
    li a3, 3
    mul a4, a2, a3
    add a5, a4, a4
    csrw mscratch, a5
    li t0, 4
2:  addi t0, t0, -1
    bnez t0, 2b
""")
    assert c == {"retire": 26, "fetch_other": 5, "icache_miss": 10, "dcache_miss": 5,
                 "load_use": 1, "muldiv": 4, "interlock": 1, "csr": 1, "mispredict": 11}
    assert (res.perf["dmiss"], res.perf["dhit"], res.perf["branch"], res.perf["mispred"]) == \
        (1, 0, 10, 3)


def test_atomics_fences_and_traps(tmp_path):
    # atomic: amoadd.d goes to the bus (locked read, then write) for four cycles more;
    # flush_fence: fence.i refetches (three empty slots) and, having emptied the
    # instruction cache (a walk over its 128 sets, one per cycle, that the refill
    # waits for: 123 of the 144 cycles), fills the line again (icache_miss); trap: ecall is found in M
    # and taken in the next cycle, flush_trap: the refetch at the handler; csr: the two
    # CSR writes (mtvec, mepc) take a second cycle each, `csrr` none, interlock: `addi`
    # waits for csrr's value; flush_xret: mret's refetch, which waits for a line fill
    # the fetch unit had started on the wrong path (icache_miss).  mispredict: the two
    # mispredictions take a cycle more each since X's redirect is registered; the run
    # stops at the same cycle, with one turn less of the spin loop (retire 24 -> 23).
    # M's refetches (fence.i, the trap, mret) reach the fetch unit a cycle after M
    # decides, from registers: one empty slot more each (flush_fence 3 -> 4,
    # flush_trap 4 -> 5, flush_xret 3 -> 4); the walk of fence.i starts with its
    # refetch, a cycle later too, so one of its cycles is flush_fence's now
    # (icache_miss 144 -> 143).
    res, c = run(tmp_path, """
    la t0, handler
    csrw mtvec, t0
    la a0, value
    li a1, 5
    amoadd.d a2, a1, (a0)
    fence.i
    ecall
    j 3f
handler:
    csrr t0, mepc
    addi t0, t0, 4
    csrw mepc, t0
    mret
3:
""")
    assert c == {"retire": 24, "fetch_other": 5, "icache_miss": 143, "atomic": 4,
                 "flush_fence": 4, "trap": 2, "flush_trap": 5, "csr": 2, "interlock": 1,
                 "flush_xret": 4, "mispredict": 4}
    assert res.traps == 1


def test_misaligned(tmp_path):
    # misaligned: M mode with no PMP entry on, so nothing is translated or checked.
    # The first load across two doublewords (one line, not cached): the cycle it
    # is found in, MIS_XLATE (answered at once, registered), MIS_PMP (acts on the
    # registered answer), MIS_LO and MIS_LO_SEEN (a miss, acted on from a flip-flop),
    # MIS_FILL_LO (the line: request registered, 4 beats), MIS_LO and MIS_LO_SEEN (a
    # hit), MIS_HI and MIS_HI_SEEN (a hit), then it commits (MIS_DONE, retire).  The
    # second: found, MIS_XLATE, MIS_PMP, MIS_LO, MIS_LO_SEEN, MIS_HI and MIS_HI_SEEN
    # (hits), commits.  The
    # store: found, MIS_XLATE, MIS_PMP, the first doubleword into the write buffer,
    # MIS_HI reading the second's word (the cache merges the store's bytes over
    # it), and it commits as the second goes in.  load_use: `sd` waits one
    # cycle for the loaded value.  The data cache counts one miss and 4 hits.  (The
    # three MIS_PMP cycles came when the MMU's answer was registered: one of them
    # overlaps the fetch unit's line fill, icache_miss 9 -> 8, so 2 cycles more.)
    # mispredict: the spin loop's `j` the first time, 4 cycles since X's redirect is
    # registered (3 before); the run stops at the same cycle, so the spin loop
    # retires once less (retire 16 -> 15).  The store's commit, as its second
    # doubleword goes in, does not advance the stages (pipeline.py, "M: the
    # advance"): M is empty a cycle, charged as misaligned (which overlaps the
    # fetch's line fill, icache_miss 8 -> 7; so does the store's cycle in MIS_HI
    # that reads its word, 7 -> 6).
    res, c = run(tmp_path, """
    la a0, value
    ld a1, 3(a0)
    ld a1, 3(a0)
    sd a1, 5(a0)
""")
    assert c == {"retire": 16, "fetch_other": 5, "icache_miss": 6,
                 "misaligned": 14 + 7 + 6, "load_use": 1, "mispredict": 4}
    assert (res.perf["dmiss"], res.perf["dhit"]) == (1, 4)


# A program of its own for the TLB counters: test.h's tables, S mode, data pages.
TLB_PROGRAM = """
#include "test.h"
    TEST_START
    CATCH_M
    SV39_IDENTITY
    la a2, page_a
    PTE pt_l0, 1, a2, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    PTE pt_l0, 2, a2, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    PTE pt_l0, 3, a2, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    PTE pt_l0, 4, a2, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    SV39_ON pt_root
    GO_MODE MPP_S, s_body
s_body:
    li t0, 0x1000
    ld a0, 0(t0)
    li t0, 0x2000
    ld a0, 0(t0)
    li t0, 0x3000
    ld a0, 0(t0)
    li t0, 0x4000
    ld a0, 0(t0)
    li t0, 0x1000
    ld a0, 8(t0)
    li t1, CSR_MSTATUS_SUM
    csrs sstatus, t1
    li t0, 0x1000
    ld a0, 0(t0)
    li t0, 0x2000
    ld a0, 0(t0)
    li t0, 0x3000
    ld a0, 0(t0)
    li t0, 0x4000
    ld a0, 0(t0)
    csrr t1, satp
    csrw satp, t1
    li t0, 0x1000
    ld a0, 0(t0)
    ecall
    TEST_PASS
    SV39_TABLES
    .align 12
page_a: .dword 0xaaaa0001, 0xaaaa0002
"""


def test_tlb_counters(tmp_path):
    # The TLBs are asked only when a micro-TLB (utlb.py: the fetch unit's page, M's
    # last 8 data pages) does not know the page, and only sfence.vma empties them
    # (SV39_ON's, before the program enters S).  In S: the first fetch misses (the
    # gigapage of the program: one PTE read, a leaf at the root); the four data pages
    # miss (three PTE reads each) and the second load of page 0x1000 asks no TLB.
    # Setting sstatus.SUM makes M forget its data pages, not the TLB: the four pages
    # hit in the DTLB.  Writing satp (the same value) makes both micro-TLBs forget:
    # the fetch hits in the ITLB and the last load in the DTLB.  M mode (the
    # tables' set-up, ecall's handler, the end) is not translated.
    src = tmp_path / "tlb.S"
    src.write_text(TLB_PROGRAM)
    elf = tmp_path / "tlb.elf"
    subprocess.run(["riscv64-unknown-elf-gcc", "-march=rv64ima_zicsr_zifencei", "-mabi=lp64",
                    "-nostdlib", "-T", str(ROOT / "tests/isa/link.ld"),
                    f"-I{ROOT / 'tests/isa'}", str(src), "-o", str(elf)],
                   check=True, capture_output=True)
    target = CoreTarget()
    target.load(load_elf(str(elf)))
    events = []
    res = target.run(max_cycles=5000, on_mmu_event=lambda cycle, e: events.append(e))
    assert res.status == "tohost" and res.tohost == 1
    counters = {k: res.perf[k] for k in ("itlb_hit", "itlb_miss", "dtlb_hit", "dtlb_miss",
                                         "pte_read")}
    assert counters == {"itlb_hit": 1, "itlb_miss": 1, "dtlb_hit": 5, "dtlb_miss": 4,
                        "pte_read": 1 + 4 * 3}
    # the MMU's event port (the waveforms' and the ELF runner's source) tells the same
    seen = {"itlb_hit": (EventKind.TLB_HIT, 0), "itlb_miss": (EventKind.TLB_MISS, 0),
            "dtlb_hit": (EventKind.TLB_HIT, 1), "dtlb_miss": (EventKind.TLB_MISS, 1)}
    for name, (kind, port) in seen.items():
        assert sum(1 for e in events if e["kind"] == kind and e["port"] == port) == counters[name]
    assert sum(1 for e in events if e["kind"] == EventKind.PTE_READ) == counters["pte_read"]
    assert [e["vaddr"] for e in events if e["kind"] == EventKind.TLB_HIT and e["port"] == 1] == \
        [0x1000, 0x2000, 0x3000, 0x4000, 0x1000]
