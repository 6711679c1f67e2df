"""The decoder against a Python classification of RV64IMA/Zicsr/Zifencei/privileged encodings."""

from amaranth.sim import Simulator
from hypothesis import given, settings, strategies as st

from hw.core.decoder import Decoder
from hw.core.isa import Kind


def _bits(v, lo, n):
    return (v >> lo) & ((1 << n) - 1)


def _sext(v, n):
    return v - (1 << n) if v >> (n - 1) & 1 else v


def ref_decode(i):
    """(kind name, immediate) of instruction word i, written from the ISA tables."""
    op, f3, f7 = i & 0x7F, _bits(i, 12, 3), _bits(i, 25, 7)
    rd, rs1, rs2 = _bits(i, 7, 5), _bits(i, 15, 5), _bits(i, 20, 5)
    imm_i = _sext(i >> 20, 12)
    imm_s = _sext((_bits(i, 25, 7) << 5) | rd, 12)
    imm_b = _sext((_bits(i, 31, 1) << 12) | (_bits(i, 7, 1) << 11) | (_bits(i, 25, 6) << 5) |
                  (_bits(i, 8, 4) << 1), 13)
    imm_u = _sext(i & 0xFFFFF000, 32)
    imm_j = _sext((_bits(i, 31, 1) << 20) | (_bits(i, 12, 8) << 12) | (_bits(i, 20, 1) << 11) |
                  (_bits(i, 21, 10) << 1), 21)
    if i & 3 != 3:
        return "ILLEGAL", None
    if op == 0x37:
        return "LUI", imm_u
    if op == 0x17:
        return "AUIPC", imm_u
    if op == 0x6F:
        return "JAL", imm_j
    if op == 0x67:
        return ("JALR", imm_i) if f3 == 0 else ("ILLEGAL", None)
    if op == 0x63:
        return ("BRANCH", imm_b) if f3 not in (2, 3) else ("ILLEGAL", None)
    if op == 0x03:
        return ("LOAD", imm_i) if f3 != 7 else ("ILLEGAL", None)
    if op == 0x23:
        return ("STORE", imm_s) if f3 < 4 else ("ILLEGAL", None)
    if op == 0x13:
        if f3 == 1 and _bits(i, 26, 6) != 0:
            return "ILLEGAL", None
        if f3 == 5 and _bits(i, 26, 6) not in (0, 0x10):
            return "ILLEGAL", None
        return "ALU", imm_i
    if op == 0x1B:
        if f3 == 0:
            return "ALU", imm_i
        if f3 == 1 and f7 == 0:
            return "ALU", imm_i
        if f3 == 5 and f7 in (0, 0x20):
            return "ALU", imm_i
        return "ILLEGAL", None
    if op in (0x33, 0x3B):
        w = op == 0x3B
        if f7 == 0 and (not w or f3 in (0, 1, 5)):
            return "ALU", None
        if f7 == 0x20 and f3 in (0, 5):
            return "ALU", None
        if f7 == 1 and (not w or f3 == 0 or f3 >= 4):
            return "MULDIV", None
        return "ILLEGAL", None
    if op == 0x2F:
        f5 = _bits(i, 27, 5)
        if f3 not in (2, 3):
            return "ILLEGAL", None
        if f5 == 2:
            return ("AMO", None) if rs2 == 0 else ("ILLEGAL", None)
        if f5 in (0, 1, 3, 4, 8, 12, 16, 20, 24, 28):
            return "AMO", None
        return "ILLEGAL", None
    if op == 0x0F:
        return {0: ("FENCE", None), 1: ("FENCE_I", None)}.get(f3, ("ILLEGAL", None))
    if op == 0x73:
        if f3 == 0:
            if rd != 0:
                return "ILLEGAL", None
            if f7 == 0x09:
                return "SFENCE", None
            if rs1 != 0:
                return "ILLEGAL", None
            return {0x000: "ECALL", 0x001: "EBREAK", 0x102: "SRET", 0x302: "MRET",
                    0x105: "WFI"}.get(i >> 20, "ILLEGAL"), None
        if f3 == 4:
            return "ILLEGAL", None
        return "CSR", None
    return "ILLEGAL", None


def check(words):
    dut = Decoder()
    bad = []

    async def bench(ctx):
        for w in words:
            ctx.set(dut.insn, w)
            kind = ctx.get(dut.out.kind)
            want_kind, want_imm = ref_decode(w)
            got = kind.name
            if got != want_kind:
                bad.append((hex(w), got, want_kind))
                continue
            if want_imm is not None and ctx.get(dut.out.imm) != want_imm:
                bad.append((hex(w), "imm", ctx.get(dut.out.imm), want_imm))
            if got != "ILLEGAL":
                for field, lo in (("rd", 7), ("rs1", 15), ("rs2", 20)):
                    if ctx.get(getattr(dut.out, field)) != _bits(w, lo, 5):
                        bad.append((hex(w), field))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    assert not bad, bad[:8]


# Encodings assembled by hand from the ISA manual's tables.
KNOWN = {
    0x00000013: "ALU",       # addi x0, x0, 0 (nop)
    0x40B50533: "ALU",       # sub a0, a0, a1
    0x02B50533: "MULDIV",    # mul a0, a0, a1
    0x02B5453B: "MULDIV",    # divw a0, a0, a1
    0x02B5153B: "ILLEGAL",   # mulhw does not exist
    0x0005B503: "LOAD",      # ld a0, 0(a1)
    0x0005F503: "ILLEGAL",   # load funct3 7
    0x00A5B023: "STORE",     # sd a0, 0(a1)
    0x100525AF: "AMO",       # lr.w a1, (a0)
    0x104525AF: "ILLEGAL",   # lr.w with rs2 != 0
    0x18B5352F: "AMO",       # sc.d a0, a1, (a0)
    0x00000073: "ECALL",
    0x00100073: "EBREAK",
    0x30200073: "MRET",
    0x10200073: "SRET",
    0x10500073: "WFI",
    0x12000073: "SFENCE",    # sfence.vma x0, x0
    0x0FF0000F: "FENCE",
    0x0000100F: "FENCE_I",
    0x30029073: "CSR",       # csrw mstatus, t0
    0x3002C073: "ILLEGAL",   # SYSTEM funct3 4
    0x00000000: "ILLEGAL",
    0xFFFFFFFF: "ILLEGAL",
    0x00004501: "ILLEGAL",   # compressed encoding
    0x0205959B: "ILLEGAL",   # slliw with bit 25 set (shamt 32)
    0x4205D513: "ALU",       # srai a0, a1, 32
    0x4605D513: "ILLEGAL",   # imm[11:6] = 0x11 is not srli/srai
    0x4005D513: "ALU",       # srai a0, a1, 0
}


def test_known_encodings():
    for w, kind in KNOWN.items():
        assert ref_decode(w)[0] == kind, hex(w)
    check(list(KNOWN))


def test_every_opcode_and_funct():
    # For each major opcode, every funct3 and a spread of funct7/rs2 values.
    words = []
    for op in range(0, 128):
        for f3 in range(8):
            for f7 in (0, 1, 0x09, 0x20, 0x21, 0x7F):
                for rs2 in (0, 2, 5):
                    words.append((f7 << 25) | (rs2 << 20) | (11 << 15) | (f3 << 12) |
                                 (10 << 7) | op)
    check(words)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 0xFFFF_FFFF), min_size=1, max_size=100))
def test_random_words(words):
    check(words)
