"""Misaligned loads through the data cache (pipeline.py, states MIS_*; issue 13).

A load across two doublewords looks up each of them in the data cache; a miss
fills the line (as an aligned load's does) and looks again.  Each program runs
on the core alone (sim/harness.py CoreTarget: RAM without wait states, M mode,
no PMP entry on), puts each doubleword where the case wants it (an aligned load
before: in the cache; a store before: in the write buffer, and in the cache if
the line is there), makes the misaligned load and compares it with the value
its bytes give.  The cycles M spends on the load (class MISALIGNED) and the data
cache's counters show which path it took: 7 cycles when both doublewords hit
(found, MIS_XLATE, MIS_PMP acting on the registered translation, the first
looked up in MIS_LO and its registered hit acted on in MIS_LO_SEEN, the second
in MIS_HI and MIS_HI_SEEN, and MIS_DONE commits), more for each line filled."""

import pytest

from tests.hw.test_perf import run

#: 8 KiB of data at ``buf`` (page-aligned): byte i holds PATTERN(i)
SIZE = 8192


def pattern(i):
    return (i * 37 + 11) & 0xFF


def data_section():
    lines = ["    .data", "    .align 12", "buf:"]
    for k in range(0, SIZE, 32):
        lines.append("    .byte " + ", ".join(str(pattern(i)) for i in range(k, k + 32)))
    return "\n".join(lines) + "\n    .section .text.init, \"ax\"\n"


STORE_VALUE = 0x8877_6655_4433_2211
STORE_OPS = {"sd": 8, "sw": 4, "sh": 2, "sb": 1}


def expected(load_at, size, stores):
    """The value of a ``size``-byte load at offset ``load_at`` of buf (zero-
    extended) after ``stores`` [(op, offset)] of STORE_VALUE."""
    mem = bytearray(pattern(i) for i in range(SIZE))
    for op, at in stores:
        n = STORE_OPS[op]
        mem[at:at + n] = STORE_VALUE.to_bytes(8, "little")[:n]
    return int.from_bytes(mem[load_at:load_at + size], "little")


def program(setup, load_at, stores=()):
    """Loads and stores of ``setup`` [(op, offset)] in order, then `ld` at
    ``load_at``; tohost = 3 if it read the wrong value."""
    body = ["    la s0, buf", "    li s1, 4096", "    add s1, s0, s1",
            f"    li a1, {STORE_VALUE:#x}"]

    def access(op, at):
        base, off = ("s0", at) if at < 2048 else ("s1", at - 4096)
        if op == "ld":
            return f"    ld t3, {off}({base})"
        return f"    {op} a1, {off}({base})"

    body += [access(op, at) for op, at in setup]
    body += [access("ld", load_at).replace("t3", "a0"),
             f"    li t0, {expected(load_at, 8, [s for s in setup if s[0] != 'ld']):#x}",
             "    beq a0, t0, 2f",
             "    la t1, tohost", "    li t2, 3", "    sd t2, 0(t1)", "1:  j 1b",
             "2:"]
    return "\n".join(body) + "\n" + data_section()


# (the case, its setup, the load's offset, how many lines it fills, cycles of class
# MISALIGNED: 7 when both doublewords hit (found, MIS_XLATE, MIS_PMP, MIS_LO,
# MIS_LO_SEEN, MIS_HI, MIS_HI_SEEN), 9 across pages (M mode translates each page:
# MIS_XLATE, then MIS_PMP acts on the registered answer, two cycles each); a line
# fill is 5 cycles (request registered, 4 beats) and the lookup after it and its
# SEEN state 2, more when the fetch unit's line fill has the bus first or the write buffer drains the line first.
# Where nothing is cached, the fetch unit's line fill has the bus first: the cycles
# of the registered translation pass while it ends, and the total stays the same)
CASES = [
    # across two lines: offset 29 = bytes 29..36, doublewords 24 and 32
    ("both hit", [("ld", 24), ("ld", 32)], 29, 0, 7),
    ("first hits, second misses", [("ld", 24)], 29, 1, 14),
    ("first misses, second hits", [("ld", 32)], 29, 1, 14),
    ("both miss", [], 29, 2, 22),
    # across two doublewords of one line: the first's fill brings the second
    ("one line, cached", [("ld", 8)], 13, 0, 7),
    ("one line, not cached", [], 13, 1, 15),
    # across two pages
    ("pages, both cached", [("ld", 4088), ("ld", 4096)], 4093, 0, 9),
    ("pages, second page's line cached", [("ld", 4096)], 4093, 1, 16),
    ("pages, nothing cached", [], 4093, 2, 23),
    # right after a store to either doubleword (write buffer; cached copy or not)
    ("store to the first, cached", [("ld", 24), ("ld", 32), ("sd", 24)], 29, 0, 7),
    ("store to the second, cached", [("ld", 24), ("ld", 32), ("sw", 32)], 29, 0, 7),
    # (a misaligned store: found, MIS_XLATE, MIS_PMP, MIS_LO, MIS_HI reads the second
    # line's tags, and its commit there does not advance the stages: M is empty a
    # cycle (pipeline.py, "M: the advance"); then the load)
    ("store across both, cached", [("ld", 24), ("ld", 32), ("sd", 27)], 29, 0, 7 + 6),
    ("store to the first, not cached", [("sd", 24)], 29, 2, 23),
    ("store to the second, not cached", [("sh", 34)], 29, 2, 21),
    ("store to the second page, cached", [("ld", 4088), ("ld", 4096), ("sb", 4097)], 4093, 0, 9),
]


@pytest.mark.parametrize("name,setup,load_at,fills,cycles", CASES,
                         ids=[c[0] for c in CASES])
def test_misaligned_load(tmp_path, name, setup, load_at, fills, cycles):
    res, c = run(tmp_path, program(setup, load_at))     # (the value: checked there)
    assert c["misaligned"] == cycles
    # every setup load missed (a line each); the misaligned load counts a miss per
    # line it fills and a hit per doubleword it found
    setup_loads = sum(1 for op, _ in setup if op == "ld")
    assert (res.perf["dmiss"], res.perf["dhit"]) == (setup_loads + fills, 2)


def test_misaligned_load_checked_by_the_pmp(tmp_path):
    """With a PMP entry on, M asks the PMP about each misaligned load's bytes in
    its page (MIS_PMP): a locked entry allows only loads of the 16 bytes 32..47 of
    buf, so a load across its doublewords inside them (36..43) reads, and loads
    that reach into it from either side (29..36, 44..51) fault with the load's
    address.  The range the PMP is asked about follows flip-flops (pipeline.py:
    the second doubleword's offsets, its carry, in MIS_PMP); without the carry
    the load at 29 would be asked about 29..28 and allowed."""
    body = f"""
    la t0, trap
    csrw mtvec, t0
    la s0, buf
    li s2, 0
    addi t0, s0, 32
    srli t0, t0, 2
    ori t0, t0, 1               # NAPOT, 16 bytes
    csrw pmpaddr0, t0
    li t0, 0x99                 # L, NAPOT, R
    csrw pmpcfg0, t0
    ld a0, 36(s0)
    li t0, {expected(36, 8, []):#x}
    bne a0, t0, fail
    la s3, 1f
    ld a0, 29(s0)
    j fail
1:  addi t1, s0, 29
    bne s4, t1, fail
    la s3, 2f
    ld a0, 44(s0)
    j fail
2:  addi t1, s0, 44
    bne s4, t1, fail
    li t0, 2
    bne s2, t0, fail
    j done
trap:
    csrr t0, mcause
    li t1, 5                    # load access fault
    bne t0, t1, fail
    csrr s4, mtval
    addi s2, s2, 1
    jr s3
fail:
    la t1, tohost
    li t2, 3
    sd t2, 0(t1)
3:  j 3b
done:
"""
    res, c = run(tmp_path, body + data_section())
    assert res.perf["dhit"] + res.perf["dmiss"] >= 1
