"""Multiply/divide unit of the M extension.

Multiplication takes three cycles after ``start``: the 65x65-bit signed
product is split into two 65x33-bit partial products (registered), which
are then added (registered).  Division is a restoring divider on the
operand magnitudes, one quotient bit per cycle: 64 steps, 32 for the W
forms.  Division by zero and signed overflow give the results the ISA
prescribes (quotient all ones / remainder = dividend; INT_MIN / -1 =
INT_MIN remainder 0) -- the overflow case falls out of the magnitude
algorithm, division by zero is special-cased for the signed quotient.

Protocol: pulse ``start`` for one cycle with ``funct3``, ``word``, ``a``,
``b`` valid; ``done`` pulses for one cycle with ``result`` valid (result
stays until the next start).
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["MulDiv"]

# funct3 of the OP/OP-32 M instructions
MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM, REMU = range(8)


class MulDiv(wiring.Component):
    start:  In(1)
    funct3: In(3)
    word:   In(1)
    a:      In(64)
    b:      In(64)
    busy:   Out(1)
    done:   Out(1)
    result: Out(64)

    def elaborate(self, platform):
        m = Module()
        f3 = self.funct3
        is_div = f3[2]

        # ---- operands, latched at start ----
        word = Signal()
        op = Signal(3)

        # --- multiplier ---
        # Operands extended to 65 bits: signed for MUL/MULH (a and b),
        # MULHSU (a only); unsigned otherwise.  MUL's low half does not
        # depend on the signedness.
        a_signed = (f3 == MULH) | (f3 == MULHSU)
        b_signed = (f3 == MULH)
        ma = Signal(signed(65))
        mb = Signal(signed(65))
        # ma * mb[0:32] (mb's low part unsigned): |ma| <= 2**64 and mb[0:32] < 2**32, so
        # the product fits in 97 signed bits (a 98-bit register would hold a copy of
        # the sign, and the simulator would compute the product every cycle to get it)
        p_lo = Signal(signed(97))
        p_hi = Signal(signed(98))     # ma * mb[32:65]  (signed 33 bits)
        product = Signal(130)
        mstage = Signal(3)

        # --- divider ---
        quot = Signal(64)
        rem = Signal(64)
        divisor = Signal(64)
        steps = Signal(7)
        neg_q = Signal()
        neg_r = Signal()
        div_zero = Signal()
        dividend_keep = Signal(64)

        m.d.sync += self.done.eq(0)

        with m.FSM() as fsm:
            with m.State("IDLE"):
                # The operand registers are loaded in every cycle of IDLE, not
                # only with ``start``: nothing reads them in IDLE, and as the unit
                # leaves IDLE they hold what they took with ``start``.  So their
                # enables are the state's flip-flops, and ``start``, which comes
                # late (the pipeline's decision in M: its state, the interrupt,
                # the fast path), only reaches the state (out of context, M's
                # state -> ``quot``, 11 cells, and -> ``divisor``, 40, were among
                # the worst paths).
                m.d.sync += [word.eq(self.word), op.eq(f3)]
                # multiplier: 64-bit operand patterns (W: sign-extended words)
                ma_src = Signal(64)
                mb_src = Signal(64)
                m.d.comb += [
                    ma_src.eq(Mux(self.word, self.a[0:32].as_signed(), self.a)),
                    mb_src.eq(Mux(self.word, self.b[0:32].as_signed(), self.b)),
                ]
                m.d.sync += [
                    ma.eq(Mux(a_signed, ma_src.as_signed(), ma_src)),
                    mb.eq(Mux(b_signed, mb_src.as_signed(), mb_src)),
                ]
                # divider
                signed_op = ~f3[0]          # DIV, REM
                # W forms: sign- or zero-extend the low words first.
                a = Signal(64)
                b = Signal(64)
                with m.If(self.word):
                    m.d.comb += [
                        a.eq(Mux(signed_op, self.a[0:32].as_signed(), self.a[0:32])),
                        b.eq(Mux(signed_op, self.b[0:32].as_signed(), self.b[0:32])),
                    ]
                with m.Else():
                    m.d.comb += [a.eq(self.a), b.eq(self.b)]
                a_neg = signed_op & a[63]
                b_neg = signed_op & b[63]
                a_mag = Mux(a_neg, -a, a)[:64]
                b_mag = Mux(b_neg, -b, b)[:64]
                # The quotient's magnitude is shifted in from the
                # left of the dividend; W operands fit in 32 bits
                # so only 32 steps are needed.
                m.d.sync += [
                    quot.eq(Mux(self.word, a_mag << 32, a_mag)),
                    rem.eq(0),
                    divisor.eq(b_mag),
                    steps.eq(Mux(self.word, 32, 64)),
                    neg_q.eq(a_neg ^ b_neg),
                    neg_r.eq(a_neg),
                    div_zero.eq(b == 0),
                    dividend_keep.eq(a),
                ]
                with m.If(self.start):
                    with m.If(is_div):
                        m.next = "DIV"
                    with m.Else():
                        m.next = "MUL1"
            # The products and their sum are comb signals of the state that makes them
            # (0 elsewhere): a simulator multiplies only in that state.
            with m.State("MUL1"):
                lo, hi = Signal.like(p_lo), Signal.like(p_hi)
                m.d.comb += [lo.eq(ma * mb[0:32]), hi.eq(ma * mb[32:65].as_signed())]
                m.d.sync += [p_lo.eq(lo), p_hi.eq(hi)]
                m.next = "MUL2"
            with m.State("MUL2"):
                total = Signal.like(product)
                m.d.comb += total.eq(p_lo + (p_hi << 32))
                m.d.sync += product.eq(total)
                m.next = "MUL3"
            with m.State("MUL3"):
                with m.If(op == MUL):
                    m.d.sync += self.result.eq(Mux(word, product[0:32].as_signed(), product[0:64]))
                with m.Else():
                    m.d.sync += self.result.eq(product[64:128])
                m.d.sync += self.done.eq(1)
                m.next = "IDLE"
            with m.State("DIV"):
                # One restoring step: shift (rem:quot) left, try subtracting.
                shifted = Cat(quot[63], rem)            # 65 bits
                diff = Signal(66)
                m.d.comb += diff.eq(shifted - divisor)
                take = ~diff[65]
                m.d.sync += [
                    rem.eq(Mux(take, diff[:64], shifted[:64])),
                    quot.eq(Cat(take, quot[:63])),
                    steps.eq(steps - 1),
                ]
                with m.If(steps == 1):
                    m.next = "DIVFIX"
            with m.State("DIVFIX"):
                q = Mux(neg_q, -quot, quot)[:64]
                r = Mux(neg_r, -rem, rem)[:64]
                res = Signal(64)
                with m.If(op[1]):       # REM, REMU
                    m.d.comb += res.eq(Mux(div_zero, dividend_keep, r))
                with m.Else():
                    m.d.comb += res.eq(Mux(div_zero, C(-1, 64), q))
                m.d.sync += [
                    self.result.eq(Mux(word, res[0:32].as_signed(), res)),
                    self.done.eq(1),
                ]
                m.next = "IDLE"
        m.d.comb += self.busy.eq(~fsm.ongoing("IDLE"))
        return m
