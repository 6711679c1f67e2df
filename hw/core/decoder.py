"""Instruction decoder: 32 instruction bits -> the fields the execute stage needs.

Purely combinational.  Anything that is not a valid RV64IMA/Zicsr/Zifencei or
privileged instruction decodes to ``Kind.ILLEGAL``; the privilege checks that
depend on the current mode (mret from S, CSR permissions, TVM/TW/TSR) are made
later by the core, not here.
"""

from amaranth import *
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .isa import Opcode, Kind, AluOp, AmoOp

__all__ = ["Decoded", "Decoder", "reads_registers"]


def reads_registers(word):
    """Whether the instruction ``word`` reads rs1 and rs2 (bits 19:15 and 24:20):
    as the decoder's kinds below say for every legal instruction, from the
    opcode and a few bits only, so that the fetch unit can find it for each
    word of its queue in one LUT (the pipeline's interlock asks it, pipeline.py;
    tests/hw/test_interlock.py compares the two), but for x0 (the
    system instructions with rs1 = 0 count as reading it: the interlock never
    asks for x0).  An illegal one may read them too: it traps, and D waits a
    cycle at worst."""
    op = word[0:7]
    f3 = word[12:15]
    system = op == Opcode.SYSTEM
    sfence = system & (f3 == 0) & (word[25:32] == 0b0001001)
    r1 = op.matches(Opcode.LOAD, Opcode.STORE, Opcode.OP_IMM, Opcode.OP_IMM32, Opcode.OP,
                    Opcode.OP32, Opcode.AMO, Opcode.BRANCH, Opcode.JALR) | (system & ~f3[2])
    r2 = op.matches(Opcode.STORE, Opcode.OP, Opcode.OP32, Opcode.AMO, Opcode.BRANCH) | sfence
    return r1, r2


class Decoded(data.StructLayout):
    def __init__(self):
        super().__init__({
            "kind":    Kind,
            "alu_op":  AluOp,
            "word":    1,            # a W instruction (32-bit operation, sign-extended result)
            "use_imm": 1,            # ALU operand b is the immediate, not rs2
            "imm":     signed(32),   # every immediate fits in 32 bits sign-extended
            "rd":      5,
            "rs1":     5,
            "rs2":     5,
            "funct3":  3,
            "funct5":  5,            # AMO operation
            "csr":     12,
        })


class Decoder(wiring.Component):
    insn: In(32)
    out: Out(Decoded())

    def elaborate(self, platform):
        m = Module()
        i = self.insn
        o = self.out

        opcode = i[0:7]
        funct3 = i[12:15]
        funct7 = i[25:32]
        funct5 = i[27:32]
        rd, rs1, rs2 = i[7:12], i[15:20], i[20:25]

        imm_i = i[20:32].as_signed()
        imm_s = Cat(i[7:12], i[25:32]).as_signed()
        imm_b = Cat(C(0, 1), i[8:12], i[25:31], i[7], i[31]).as_signed()
        imm_u = Cat(C(0, 12), i[12:32]).as_signed()
        imm_j = Cat(C(0, 1), i[21:31], i[20], i[12:20], i[31]).as_signed()

        m.d.comb += [
            o.rd.eq(rd), o.rs1.eq(rs1), o.rs2.eq(rs2),
            o.funct3.eq(funct3), o.funct5.eq(funct5), o.csr.eq(i[20:32]),
            o.alu_op.eq(AluOp.ADD),
            o.kind.eq(Kind.ILLEGAL),
        ]

        # ALU operation of register-register and register-immediate forms,
        # selected by funct3 (and bit 30 for SUB/SRA).
        arith = Signal(AluOp)
        with m.Switch(funct3):
            with m.Case(0): m.d.comb += arith.eq(AluOp.ADD)
            with m.Case(1): m.d.comb += arith.eq(AluOp.SLL)
            with m.Case(2): m.d.comb += arith.eq(AluOp.SLT)
            with m.Case(3): m.d.comb += arith.eq(AluOp.SLTU)
            with m.Case(4): m.d.comb += arith.eq(AluOp.XOR)
            with m.Case(5): m.d.comb += arith.eq(Mux(i[30], AluOp.SRA, AluOp.SRL))
            with m.Case(6): m.d.comb += arith.eq(AluOp.OR)
            with m.Case(7): m.d.comb += arith.eq(AluOp.AND)

        with m.If(i[0:2] == 0b11):
            with m.Switch(opcode):
                with m.Case(Opcode.LUI):
                    m.d.comb += [o.kind.eq(Kind.LUI), o.imm.eq(imm_u)]
                with m.Case(Opcode.AUIPC):
                    m.d.comb += [o.kind.eq(Kind.AUIPC), o.imm.eq(imm_u)]
                with m.Case(Opcode.JAL):
                    m.d.comb += [o.kind.eq(Kind.JAL), o.imm.eq(imm_j)]
                with m.Case(Opcode.JALR):
                    m.d.comb += o.imm.eq(imm_i)
                    with m.If(funct3 == 0):
                        m.d.comb += o.kind.eq(Kind.JALR)
                with m.Case(Opcode.BRANCH):
                    m.d.comb += o.imm.eq(imm_b)
                    with m.If((funct3 != 2) & (funct3 != 3)):
                        m.d.comb += o.kind.eq(Kind.BRANCH)
                with m.Case(Opcode.LOAD):
                    m.d.comb += o.imm.eq(imm_i)
                    with m.If(funct3 != 7):
                        m.d.comb += o.kind.eq(Kind.LOAD)
                with m.Case(Opcode.STORE):
                    m.d.comb += o.imm.eq(imm_s)
                    with m.If(funct3 < 4):
                        m.d.comb += o.kind.eq(Kind.STORE)
                with m.Case(Opcode.OP_IMM):
                    m.d.comb += [o.imm.eq(imm_i), o.use_imm.eq(1), o.alu_op.eq(arith)]
                    with m.Switch(funct3):
                        with m.Case(1):
                            # SLLI: imm[11:6] must be zero (6-bit shift amount).
                            with m.If(i[26:32] == 0):
                                m.d.comb += o.kind.eq(Kind.ALU)
                        with m.Case(5):
                            with m.If((i[26:32] == 0) | (i[26:32] == 0b010000)):
                                m.d.comb += o.kind.eq(Kind.ALU)
                        with m.Default():
                            # ADDI etc.: bit 30 is part of the immediate, not SUB.
                            m.d.comb += o.kind.eq(Kind.ALU)
                            with m.If(funct3 == 0):
                                m.d.comb += o.alu_op.eq(AluOp.ADD)
                with m.Case(Opcode.OP_IMM32):
                    m.d.comb += [o.imm.eq(imm_i), o.use_imm.eq(1), o.word.eq(1),
                                 o.alu_op.eq(arith)]
                    with m.Switch(funct3):
                        with m.Case(0):
                            m.d.comb += [o.kind.eq(Kind.ALU), o.alu_op.eq(AluOp.ADD)]
                        with m.Case(1):
                            with m.If(funct7 == 0):
                                m.d.comb += o.kind.eq(Kind.ALU)
                        with m.Case(5):
                            with m.If((funct7 == 0) | (funct7 == 0b0100000)):
                                m.d.comb += o.kind.eq(Kind.ALU)
                with m.Case(Opcode.OP, Opcode.OP32):
                    is_w = opcode == Opcode.OP32
                    m.d.comb += [o.word.eq(is_w), o.alu_op.eq(arith)]
                    with m.Switch(funct7):
                        with m.Case(0b0000000):
                            with m.If(~is_w | (funct3 == 0) | (funct3 == 1) | (funct3 == 5)):
                                m.d.comb += o.kind.eq(Kind.ALU)
                        with m.Case(0b0100000):
                            with m.If(funct3 == 0):
                                m.d.comb += [o.kind.eq(Kind.ALU), o.alu_op.eq(AluOp.SUB)]
                            with m.If(funct3 == 5):
                                m.d.comb += o.kind.eq(Kind.ALU)
                        with m.Case(0b0000001):
                            # M extension; the W forms exist for MUL, DIV(U), REM(U).
                            with m.If(~is_w | (funct3 == 0) | (funct3 >= 4)):
                                m.d.comb += o.kind.eq(Kind.MULDIV)
                with m.Case(Opcode.AMO):
                    with m.If((funct3 == 2) | (funct3 == 3)):
                        with m.Switch(funct5):
                            with m.Case(AmoOp.LR):
                                with m.If(rs2 == 0):
                                    m.d.comb += o.kind.eq(Kind.AMO)
                            with m.Case(AmoOp.SC, AmoOp.SWAP, AmoOp.ADD, AmoOp.XOR,
                                        AmoOp.AND, AmoOp.OR, AmoOp.MIN, AmoOp.MAX,
                                        AmoOp.MINU, AmoOp.MAXU):
                                m.d.comb += o.kind.eq(Kind.AMO)
                with m.Case(Opcode.MISC_MEM):
                    with m.If(funct3 == 0):
                        m.d.comb += o.kind.eq(Kind.FENCE)
                    with m.If(funct3 == 1):
                        m.d.comb += o.kind.eq(Kind.FENCE_I)
                with m.Case(Opcode.SYSTEM):
                    with m.If(funct3 == 0):
                        with m.If(rd == 0):
                            with m.If(funct7 == 0b0001001):
                                m.d.comb += o.kind.eq(Kind.SFENCE)
                            with m.Elif(rs1 == 0):
                                with m.Switch(i[20:32]):
                                    with m.Case(0x000): m.d.comb += o.kind.eq(Kind.ECALL)
                                    with m.Case(0x001): m.d.comb += o.kind.eq(Kind.EBREAK)
                                    with m.Case(0x102): m.d.comb += o.kind.eq(Kind.SRET)
                                    with m.Case(0x302): m.d.comb += o.kind.eq(Kind.MRET)
                                    with m.Case(0x105): m.d.comb += o.kind.eq(Kind.WFI)
                    with m.Elif(funct3 != 4):
                        # CSRRW/S/C and their immediate forms; the 5-bit
                        # immediate rides in the rs1 field.
                        m.d.comb += [o.kind.eq(Kind.CSR), o.imm.eq(rs1)]
        return m
