"""The golden model's decoder against the core's (hw/core/decoder.py): the same words
are legal, with the same kind of instruction and the same immediate."""

import random

from amaranth.sim import Simulator

from hw.core.decoder import Decoder
from hw.core.isa import Kind
from sim.ref.decode import describe

KIND_OF = {"lui": Kind.LUI, "auipc": Kind.AUIPC, "jal": Kind.JAL, "jalr": Kind.JALR,
           "fence": Kind.FENCE, "fence.i": Kind.FENCE_I, "ecall": Kind.ECALL,
           "ebreak": Kind.EBREAK, "mret": Kind.MRET, "sret": Kind.SRET, "wfi": Kind.WFI,
           "sfence.vma": Kind.SFENCE, "illegal": Kind.ILLEGAL}


def model_kind(i):
    n = i.name
    if n in KIND_OF:
        return KIND_OF[n]
    if n in ("beq", "bne", "blt", "bge", "bltu", "bgeu"):
        return Kind.BRANCH
    if n in ("lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"):
        return Kind.LOAD
    if n in ("sb", "sh", "sw", "sd"):
        return Kind.STORE
    if n.startswith(("lr.", "sc.", "amo")):
        return Kind.AMO
    if n.startswith("csr"):
        return Kind.CSR
    if n.startswith(("mul", "div", "rem")):
        return Kind.MULDIV
    return Kind.ALU


def words():
    """Every major opcode with every funct3 and the funct7 values that matter, with
    random other bits, plus random words."""
    rng = random.Random(12)
    out = []
    for opcode in range(0, 128, 1):
        for f3 in range(8):
            for f7 in (0, 1, 0x20, 0x09, 0x01 << 2 | 0x10, rng.randrange(128)):
                w = rng.getrandbits(32)
                w = (w & ~0x7F & ~(7 << 12) & ~(0x7F << 25)) | opcode | (f3 << 12) | (f7 << 25)
                out.append(w)
    for funct5 in range(32):                      # the A extension
        for f3 in (2, 3):
            out.append((funct5 << 27) | (rng.getrandbits(20) << 7) & 0x07FFF000 |
                       (f3 << 12) | 0x2F)
            out.append((funct5 << 27) | (f3 << 12) | 0x2F | (rng.randrange(32) << 15))
    for imm12 in (0x000, 0x001, 0x102, 0x302, 0x105, 0x120, 0x7FF):   # SYSTEM, funct3 0
        out += [(imm12 << 20) | 0x73, (imm12 << 20) | 0x73 | (1 << 7), (imm12 << 20) | 0x73 | (1 << 15)]
    out += [rng.getrandbits(32) for _ in range(1500)]
    return out


def test_decoders_agree():
    dut = Decoder()
    ws = words()
    got = []

    async def bench(ctx):
        for w in ws:
            ctx.set(dut.insn, w)
            o = dut.out
            got.append((ctx.get(o.kind), ctx.get(o.imm), ctx.get(o.rd), ctx.get(o.rs1),
                        ctx.get(o.rs2)))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    wrong = []
    for w, (kind, imm, rd, rs1, rs2) in zip(ws, got):
        i = describe(w)
        mk = model_kind(i)
        if mk != kind:
            wrong.append((hex(w), i.name, kind))
            continue
        if kind in (Kind.LUI, Kind.AUIPC, Kind.JAL, Kind.JALR, Kind.BRANCH, Kind.LOAD,
                    Kind.STORE) and imm != i.imm:
            wrong.append((hex(w), i.name, "imm", imm, i.imm))
    assert not wrong, f"{len(wrong)} of {len(ws)} words differ, first {wrong[:6]}"
