"""The golden model's instructions against tests/hw/rvref.py and hand-checked cases.

Each test encodes instructions, runs them on a fresh hart and compares registers,
memory and retirement records with the reference on random operands (hypothesis).
"""

import pytest
from hypothesis import given, settings, strategies as st

from sim.ref.decode import describe, disassemble
from sim.ref.hart import Config
from tests.hw import rvref
from tests.ref.util import (RAM_BASE, M64, amo, b_type, i_type, make_hart, r_type, run_one,
                            s_type)

u64 = st.integers(0, M64)
# operands that hit the corner cases more often than uniform 64-bit values do
edgy = st.one_of(u64, st.sampled_from([0, 1, 2, M64, M64 - 1, 1 << 63, (1 << 63) - 1,
                                       1 << 31, (1 << 31) - 1, 0xFFFF_FFFF, 0x8000_0000]))

ALU_RR = {"ADD": (0, 0), "SUB": (0, 0x20), "SLL": (1, 0), "SLT": (2, 0), "SLTU": (3, 0),
          "XOR": (4, 0), "SRL": (5, 0), "SRA": (5, 0x20), "OR": (6, 0), "AND": (7, 0)}
ALU_W = {"ADD": (0, 0), "SUB": (0, 0x20), "SLL": (1, 0), "SRL": (5, 0), "SRA": (5, 0x20)}
MULDIV = {"MUL": 0, "MULH": 1, "MULHSU": 2, "MULHU": 3, "DIV": 4, "DIVU": 5, "REM": 6,
          "REMU": 7}
MULDIV_W = {"MUL": 0, "DIV": 4, "DIVU": 5, "REM": 6, "REMU": 7}


@settings(max_examples=300, deadline=None)
@given(op=st.sampled_from(sorted(ALU_RR)), a=edgy, b=edgy)
def test_register_register_alu(op, a, b):
    f3, f7 = ALU_RR[op]
    hart, rec = run_one(r_type("OP", f3, f7, 5, 6, 7), {6: a, 7: b})
    assert hart.x[5] == rvref.alu(op, a, b)
    assert (rec.rd, rec.rd_wdata, rec.trap) == (5, hart.x[5], 0)


@settings(max_examples=200, deadline=None)
@given(op=st.sampled_from(sorted(ALU_W)), a=edgy, b=edgy)
def test_word_alu(op, a, b):
    f3, f7 = ALU_W[op]
    hart, _ = run_one(r_type("OP32", f3, f7, 5, 6, 7), {6: a, 7: b})
    assert hart.x[5] == rvref.alu(op, a, b, word=True)


@settings(max_examples=300, deadline=None)
@given(op=st.sampled_from(sorted(MULDIV)), a=edgy, b=edgy)
def test_multiply_divide(op, a, b):
    hart, _ = run_one(r_type("OP", MULDIV[op], 1, 5, 6, 7), {6: a, 7: b})
    assert hart.x[5] == rvref.muldiv(op, a, b)


@settings(max_examples=200, deadline=None)
@given(op=st.sampled_from(sorted(MULDIV_W)), a=edgy, b=edgy)
def test_multiply_divide_word(op, a, b):
    hart, _ = run_one(r_type("OP32", MULDIV_W[op], 1, 5, 6, 7), {6: a, 7: b})
    assert hart.x[5] == rvref.muldiv(op, a, b, word=True)


IMM_OPS = {"ADD": 0, "SLT": 2, "SLTU": 3, "XOR": 4, "OR": 6, "AND": 7}


@settings(max_examples=200, deadline=None)
@given(op=st.sampled_from(sorted(IMM_OPS)), a=edgy, imm=st.integers(-2048, 2047))
def test_immediate_alu(op, a, imm):
    hart, _ = run_one(i_type("OP_IMM", IMM_OPS[op], 5, 6, imm), {6: a})
    assert hart.x[5] == rvref.alu(op, a, imm & M64)


@settings(max_examples=200, deadline=None)
@given(op=st.sampled_from(["SLL", "SRL", "SRA"]), a=edgy, sh=st.integers(0, 63),
       word=st.booleans())
def test_shift_immediates(op, a, sh, word):
    if word:
        sh &= 31
    f3 = 1 if op == "SLL" else 5
    high = 0x400 if op == "SRA" else 0
    hart, _ = run_one(i_type("OP_IMM32" if word else "OP_IMM", f3, 5, 6, high | sh), {6: a})
    assert hart.x[5] == rvref.alu(op, a, sh, word=word)


@settings(max_examples=200, deadline=None)
@given(a=edgy, imm=st.integers(-2048, 2047))
def test_addiw(a, imm):
    hart, _ = run_one(i_type("OP_IMM32", 0, 5, 6, imm), {6: a})
    assert hart.x[5] == rvref.alu("ADD", a, imm & M64, word=True)


BRANCHES = {0: lambda a, b: a == b, 1: lambda a, b: a != b,
            4: lambda a, b: rvref.s64(a) < rvref.s64(b),
            5: lambda a, b: rvref.s64(a) >= rvref.s64(b),
            6: lambda a, b: a < b, 7: lambda a, b: a >= b}


@settings(max_examples=200, deadline=None)
@given(f3=st.sampled_from(sorted(BRANCHES)), a=edgy, b=edgy)
def test_branches(f3, a, b):
    hart, rec = run_one(b_type(f3, 6, 7, 64), {6: a, 7: b})
    taken = BRANCHES[f3](a, b)
    assert hart.pc == RAM_BASE + (64 if taken else 4)
    assert (rec.rd, rec.mem_rmask, rec.mem_wmask) == (0, 0, 0)


def test_taken_branch_to_misaligned_target_traps_on_itself():
    hart, rec = run_one(b_type(0, 0, 0, 6))               # beq x0, x0, +6
    assert (rec.trap, rec.cause, rec.tval) == (1, 0, RAM_BASE + 6)
    assert hart.csr.mepc == RAM_BASE


def test_jalr_clears_bit_zero_and_writes_link_after_reading_rs1():
    # jalr x5, 1(x5): target = (x5 + 1) & ~1, x5 = pc + 4
    hart, rec = run_one(i_type("JALR", 0, 5, 5, 1), {5: RAM_BASE + 0x100})
    assert hart.pc == RAM_BASE + 0x100
    assert hart.x[5] == RAM_BASE + 4


LOADS = {"LB": (0, 1, True), "LH": (1, 2, True), "LW": (2, 4, True), "LD": (3, 8, False),
         "LBU": (4, 1, False), "LHU": (5, 2, False), "LWU": (6, 4, False)}


@settings(max_examples=200, deadline=None)
@given(op=st.sampled_from(sorted(LOADS)), data=st.binary(min_size=16, max_size=16),
       slot=st.integers(0, 7))
def test_loads_extend(op, data, slot):
    f3, size, sign = LOADS[op]
    offset = (slot * size) % 16 // size * size
    hart = make_hart([i_type("LOAD", f3, 5, 6, offset)], regs={6: RAM_BASE + 0x800})
    hart.ram[0x800:0x810] = data
    rec = hart.step()
    raw = int.from_bytes(data[offset:offset + size], "little")
    want = rvref.s64(raw << (64 - 8 * size)) >> (64 - 8 * size) & M64 if sign else raw
    assert hart.x[5] == want
    assert (rec.mem_addr, rec.mem_rmask, rec.mem_rdata) == \
        (RAM_BASE + 0x800 + offset, (1 << size) - 1, raw)


@settings(max_examples=100, deadline=None)
@given(f3=st.integers(0, 3), value=u64)
def test_stores_write_their_bytes_only(f3, value):
    size = 1 << f3
    hart = make_hart([s_type(f3, 6, 7, 8)], regs={6: RAM_BASE + 0x800, 7: value})
    hart.ram[0x800:0x820] = b"\xAA" * 32
    rec = hart.step()
    expect = bytearray(b"\xAA" * 32)
    expect[8:8 + size] = value.to_bytes(8, "little")[:size]
    assert hart.ram[0x800:0x820] == expect
    assert (rec.mem_wmask, rec.mem_wdata) == ((1 << size) - 1, value & ((1 << 8 * size) - 1))


AMO_OPS = {"amoswap": (0x01, lambda o, s: s), "amoadd": (0x00, lambda o, s: o + s),
           "amoxor": (0x04, lambda o, s: o ^ s), "amoand": (0x0C, lambda o, s: o & s),
           "amoor": (0x08, lambda o, s: o | s), "amomin": (0x10, min), "amomax": (0x14, max),
           "amominu": (0x18, None), "amomaxu": (0x1C, None)}


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(AMO_OPS)), width=st.sampled_from("wd"), old=u64, src=u64)
def test_amos(name, width, old, src):
    funct5, op = AMO_OPS[name]
    bits = 32 if width == "w" else 64
    mask = (1 << bits) - 1

    def signed(v):
        v &= mask
        return v - (1 << bits) if v >> (bits - 1) else v
    if name in ("amominu", "amomaxu"):
        pick = min if name == "amominu" else max
        new = pick(old & mask, src & mask)
    elif name in ("amomin", "amomax"):
        new = op(signed(old), signed(src))
    else:
        new = op(old & mask, src & mask)
    hart = make_hart([amo(funct5, width, 5, 6, 7)], regs={6: RAM_BASE + 0x800, 7: src})
    hart.ram[0x800:0x808] = old.to_bytes(8, "little")
    rec = hart.step()
    stored = int.from_bytes(hart.ram[0x800:0x808], "little")
    assert stored == (old & ~mask) | (new & mask)             # .w leaves the upper word
    assert hart.x[5] == signed(old) & M64                      # old value, sign-extended
    assert (rec.mem_rmask, rec.mem_wmask) == ((1 << bits // 8) - 1,) * 2
    assert (rec.mem_rdata, rec.mem_wdata) == (old & mask, new & mask)


def test_lr_sc_reservation_is_the_exact_physical_address():
    lr = amo(0x02, "d", 5, 6, 0)
    sc = amo(0x03, "d", 7, 6, 8)
    sc_other = amo(0x03, "w", 7, 9, 8)
    hart = make_hart([lr, sc, sc, lr, sc_other, sc],
                     regs={6: RAM_BASE + 0x800, 8: 99, 9: RAM_BASE + 0x804})
    hart.step()
    rec = hart.step()
    assert (hart.x[7], rec.mem_wmask, rec.mem_wdata) == (0, 0xFF, 99)
    rec = hart.step()                           # no reservation any more
    assert (hart.x[7], rec.mem_wmask) == (1, 0)
    hart.step()
    hart.step()                                 # SC to another address fails...
    assert hart.x[7] == 1
    hart.step()                                 # ... and used up the reservation
    assert hart.x[7] == 1


def test_regular_store_keeps_the_reservation_trap_clears_it():
    lr = amo(0x02, "d", 5, 6, 0)
    sd = s_type(3, 6, 0, 0)
    sc = amo(0x03, "d", 7, 6, 8)
    ecall = 0x00000073
    hart = make_hart([lr, sd, sc, lr, ecall], regs={6: RAM_BASE + 0x800, 8: 5})
    for _ in range(3):
        hart.step()
    assert hart.x[7] == 0                       # the core keeps it across own stores
    hart.step()
    hart.step()                                 # ecall: the trap clears it
    assert hart.reservation is None


def test_misaligned_access_traps_by_default_with_the_address():
    hart, rec = run_one(i_type("LOAD", 2, 5, 6, 0), {6: RAM_BASE + 0x802})
    assert (rec.trap, rec.cause, rec.tval) == (1, 4, RAM_BASE + 0x802)
    hart, rec = run_one(s_type(3, 6, 7, 0), {6: RAM_BASE + 0x801})
    assert (rec.trap, rec.cause, rec.tval) == (1, 6, RAM_BASE + 0x801)


@settings(max_examples=100, deadline=None)
@given(f3=st.sampled_from([1, 2, 3]), offset=st.integers(1, 15), value=u64)
def test_misaligned_in_hardware_mode(f3, offset, value):
    size = 1 << f3
    if offset % size == 0:
        offset += 1
    cfg = Config(misaligned="hw")
    base = 0x1000 - 8                          # crosses into the next page
    hart = make_hart([s_type(f3, 6, 7, 0), i_type("LOAD", f3 | 4 if f3 < 3 else 3, 5, 6, 0)],
                     regs={6: RAM_BASE + base + offset, 7: value}, config=cfg)
    rec = hart.step()
    assert not rec.trap
    mask = (1 << 8 * size) - 1
    at = base + offset
    assert int.from_bytes(hart.ram[at:at + size], "little") == value & mask
    rec = hart.step()
    assert not rec.trap and hart.x[5] == value & mask
    assert rec.mem_addr == RAM_BASE + at


def test_misaligned_atomics_trap_even_in_hardware_mode():
    cfg = Config(misaligned="hw")
    hart, rec = run_one(amo(0x00, "d", 5, 6, 7), {6: RAM_BASE + 0x804}, config=cfg)
    assert (rec.cause, rec.tval) == (6, RAM_BASE + 0x804)
    hart, rec = run_one(amo(0x02, "w", 5, 6, 0), {6: RAM_BASE + 0x802}, config=cfg)
    assert (rec.cause, rec.tval) == (4, RAM_BASE + 0x802)


def test_misaligned_in_hardware_mode_outside_ram_is_an_access_fault():
    cfg = Config(misaligned="hw")
    hart, rec = run_one(i_type("LOAD", 3, 5, 6, 0), {6: 0x0200_4001}, config=cfg)
    assert (rec.cause, rec.tval) == (5, 0x0200_4001)


def test_x0_stays_zero():
    hart, rec = run_one(i_type("OP_IMM", 0, 0, 0, 5))       # addi x0, x0, 5
    assert hart.x[0] == 0 and (rec.rd, rec.rd_wdata) == (0, 0)


def test_load_to_x0_still_accesses_memory():
    hart, rec = run_one(i_type("LOAD", 3, 0, 6, 0), {6: 0x10})    # ld x0, 0(0x10)
    assert (rec.trap, rec.cause) == (1, 5)                          # access fault


@pytest.mark.parametrize("word, text", [
    (0x00000013, "addi zero, zero, 0"),
    (0x30529073, "csrrw zero, mtvec, t0"),
    (0x0062b823, "sd t1, 16(t0)"),
    (0x100522af, "lr.w t0, (a0)"),
    (0x12000073, "sfence.vma zero, zero"),
    (0x00004501, "illegal 0x00004501"),
    (0x40a5d51b, "sraiw a0, a1, 10"),
])
def test_disassembly(word, text):
    assert disassemble(word) == text
