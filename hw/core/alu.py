"""Integer ALU of RV64I, including the 32-bit (W) forms.

Combinational.  ``word`` selects the W behaviour: the operation works on
the low 32 bits of the operands and the 32-bit result is sign-extended.
``lt``/``ltu``/``eq`` compare the full 64-bit operands for branches.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .isa import AluOp

__all__ = ["ALU"]


class ALU(wiring.Component):
    a:      In(64)
    b:      In(64)
    op:     In(AluOp)
    word:   In(1)
    result: Out(64)
    eq:     Out(1)
    lt:     Out(1)
    ltu:    Out(1)

    def elaborate(self, platform):
        m = Module()
        a, b = self.a, self.b

        # One adder serves ADD and SUB; the comparisons use a 65-bit
        # subtraction so that the borrow gives the unsigned result.
        sub = Signal(65)
        m.d.comb += sub.eq(Cat(a, C(0, 1)) - Cat(b, C(0, 1)))
        m.d.comb += [
            self.eq.eq(a == b),
            self.ltu.eq(sub[64]),
            # Signed less-than: operands of different sign decide by a's
            # sign, otherwise by the sign of the difference.
            self.lt.eq(Mux(a[63] ^ b[63], a[63], sub[63])),
        ]

        sum_ = Signal(64)
        m.d.comb += sum_.eq(Mux(self.op == AluOp.SUB, sub[:64], a + b))

        # Shifts: 6-bit amount, 5-bit for W.  W right shifts shift the low
        # word, so prepare a 64-bit source whose upper half is the zero or
        # sign extension of that word.
        shamt = Mux(self.word, b[0:5], b[0:6])
        src_r = Signal(64)
        with m.If(self.word):
            with m.If(self.op == AluOp.SRA):
                m.d.comb += src_r.eq(a[0:32].as_signed())
            with m.Else():
                m.d.comb += src_r.eq(a[0:32])
        with m.Else():
            m.d.comb += src_r.eq(a)

        res = Signal(64)
        with m.Switch(self.op):
            with m.Case(AluOp.ADD, AluOp.SUB):
                m.d.comb += res.eq(sum_)
            with m.Case(AluOp.SLL):
                m.d.comb += res.eq((a << shamt)[:64])
            with m.Case(AluOp.SLT):
                m.d.comb += res.eq(self.lt)
            with m.Case(AluOp.SLTU):
                m.d.comb += res.eq(self.ltu)
            with m.Case(AluOp.XOR):
                m.d.comb += res.eq(a ^ b)
            with m.Case(AluOp.SRL):
                m.d.comb += res.eq(src_r >> shamt)
            with m.Case(AluOp.SRA):
                m.d.comb += res.eq(src_r.as_signed() >> shamt)
            with m.Case(AluOp.OR):
                m.d.comb += res.eq(a | b)
            with m.Case(AluOp.AND):
                m.d.comb += res.eq(a & b)

        m.d.comb += self.result.eq(Mux(self.word, res[0:32].as_signed(), res))
        return m
