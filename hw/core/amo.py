"""The arithmetic of the A extension's read-modify-write AMOs.

Combinational: ``old`` is the value read from memory, ``src`` is rs2;
``result`` is the value to store.  For the .W forms both operands arrive
sign-extended from 32 bits; since sign extension preserves the unsigned
order of 32-bit values too, one 64-bit comparator serves both widths.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .isa import AmoOp

__all__ = ["AmoALU"]


class AmoALU(wiring.Component):
    funct5: In(5)
    old:    In(64)
    src:    In(64)
    result: Out(64)

    def elaborate(self, platform):
        m = Module()
        a, b = self.old, self.src
        a_lt_b = a.as_signed() < b.as_signed()
        a_ltu_b = a < b
        with m.Switch(self.funct5):
            with m.Case(AmoOp.SWAP): m.d.comb += self.result.eq(b)
            with m.Case(AmoOp.ADD):  m.d.comb += self.result.eq(a + b)
            with m.Case(AmoOp.XOR):  m.d.comb += self.result.eq(a ^ b)
            with m.Case(AmoOp.AND):  m.d.comb += self.result.eq(a & b)
            with m.Case(AmoOp.OR):   m.d.comb += self.result.eq(a | b)
            with m.Case(AmoOp.MIN):  m.d.comb += self.result.eq(Mux(a_lt_b, a, b))
            with m.Case(AmoOp.MAX):  m.d.comb += self.result.eq(Mux(a_lt_b, b, a))
            with m.Case(AmoOp.MINU): m.d.comb += self.result.eq(Mux(a_ltu_b, a, b))
            with m.Case(AmoOp.MAXU): m.d.comb += self.result.eq(Mux(a_ltu_b, b, a))
        return m
