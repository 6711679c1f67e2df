"""The decoder's ``reads_registers`` (the fetch unit finds it for each
word of the queue) against the decoder: for every legal instruction the registers
its kind reads, for an illegal one at least those (none); x0 aside."""

import random

from amaranth import Module, Signal
from amaranth.sim import Simulator

from hw.core.decoder import Decoder
from hw.core.decoder import reads_registers
from hw.core.isa import Kind, Opcode


def kind_reads(kind, use_imm, funct3):
    """(rs1, rs2) read by a decoded instruction (what D's interlock compared before
    the fetch unit found it for each word)."""
    if kind == Kind.ALU:
        return 1, int(not use_imm)
    if kind in (Kind.BRANCH, Kind.STORE, Kind.AMO, Kind.MULDIV, Kind.SFENCE):
        return 1, 1
    if kind in (Kind.JALR, Kind.LOAD):
        return 1, 0
    if kind == Kind.CSR:
        return int(not funct3 & 4), 0
    return 0, 0


def words():
    rng = random.Random(7)
    out = [0, 0x00000013, 0x12000073, 0x12b50073, 0x30200073, 0x10500073, 0x00100073,
           0x10200073, 0x0000100f, 0x0000000f]
    for op in Opcode:
        for _ in range(300):
            out.append((rng.getrandbits(25) << 7) | op)
    # the SYSTEM opcode's funct3 0 forms with sfence.vma's funct7 and others
    for _ in range(300):
        out.append((rng.choice([0b0001001, 0b0011000, 0b0001000, 0]) << 25) |
                   (rng.getrandbits(10) << 15) | (rng.getrandbits(5) << 7) | Opcode.SYSTEM)
    for _ in range(500):
        out.append(rng.getrandbits(32))
    return out


def test_reads_registers_match_the_decoder():
    m = Module()
    m.submodules.dec = dec = Decoder()
    insn = Signal(32)
    r1 = Signal()
    r2 = Signal()
    a, b = reads_registers(insn)
    m.d.comb += [dec.insn.eq(insn), r1.eq(a), r2.eq(b)]
    mismatches = []
    legal = 0

    async def bench(ctx):
        nonlocal legal
        for w in words():
            ctx.set(insn, w)
            kind = ctx.get(dec.out.kind)
            want = kind_reads(kind, ctx.get(dec.out.use_imm), ctx.get(dec.out.funct3))
            got = (ctx.get(r1), ctx.get(r2))
            # (a read of x0 does not count: X's late destination is never x0)
            nonzero = ((w >> 15) & 31 != 0, (w >> 20) & 31 != 0)
            want = tuple(int(x and nz) for x, nz in zip(want, nonzero))
            got = tuple(int(x and nz) for x, nz in zip(got, nonzero))
            if kind != Kind.ILLEGAL:
                legal += 1
                if got != want:
                    mismatches.append((hex(w), kind, got, want))
            elif (want[0] and not got[0]) or (want[1] and not got[1]):
                mismatches.append((hex(w), kind, got, want))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert not mismatches, mismatches[:5]
    assert legal > 2000
