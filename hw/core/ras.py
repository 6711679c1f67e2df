"""Return-address stack of the fetch unit: predicts the target of a return.

A direct-mapped BTB (btb.py) remembers one target per jump, which for a return
(``jalr x0, 0(ra)``) is the place the function returned to last time: wrong
whenever the function has more than one caller.  The stack remembers the link
addresses of the calls that have not returned yet, so the top of the stack is
where the next return goes.

It is kept from *resolved* instructions: the pipeline pushes the link address
of every call (JAL or JALR writing ra or t0, x1 or x5, the ISA's link registers)
and pops for every return (JALR with rd = x0 and rs1 = ra or t0) in the cycle
after the instruction leaves the execute stage, so wrong-path instructions never
touch it and nothing needs repairing after a misprediction.  The fetch unit
reads the top when the BTB says the instruction it fetches is a return (the
entry's ``ret`` bit, written by the execute stage).  A call or return still in
the decode or execute stage when a later return is fetched is not yet counted;
in the xv6 boot that almost never happens (a function's epilogue between the
two), and it would cost a misprediction, never a wrong result: the execute
stage checks every predicted next pc.

The stack is a small memory (LUT RAM on the ECP5) read asynchronously at the
top pointer, a register: ``top`` comes from a register and one LUT level, so it
does not lengthen the fetch unit's next-pc path (it is chosen beside the BTB's
stored target while the BTB's tag is compared).  It wraps around: a push onto
a full stack forgets the oldest entry, a pop of an empty one leaves a stale
top (a misprediction at worst).
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

__all__ = ["ReturnStack"]


class ReturnStack(wiring.Component):
    """``entries`` (a power of two) return addresses."""

    def __init__(self, entries=8):
        if entries < 2 or entries & (entries - 1):
            raise ValueError(f"return stack entries must be a power of two >= 2, not {entries}")
        self.entries = entries
        super().__init__({
            "top":   Out(64),     # the predicted return address
            "push":  In(1),       # a call: push ``value`` (its link address)
            "pop":   In(1),       # a return (never together with push)
            "value": In(64),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.entries.bit_length() - 1
        m.submodules.stack = stack = Memory(shape=62, depth=self.entries, init=[])
        wp = stack.write_port()
        rp = stack.read_port(domain="comb")
        tos = Signal(n)             # the entry holding the top
        m.d.comb += [rp.addr.eq(tos), self.top.eq(Cat(C(0, 2), rp.data))]
        with m.If(self.push):
            m.d.comb += [wp.addr.eq(tos + 1), wp.en.eq(1), wp.data.eq(self.value[2:])]
            m.d.sync += tos.eq(tos + 1)
        with m.Elif(self.pop):
            m.d.sync += tos.eq(tos - 1)
        return m
