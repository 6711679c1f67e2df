"""Block RAM whose read ports say nothing about a write to the same address in the
same cycle.

An ECP5 block RAM (DP16KD) read on one port while the other port writes the
same address returns undefined data.  Amaranth's memories promise more: a read
port either sees the write (``transparent_for``) or the old contents.  Yosys
keeps the promise with logic of its own: it compares the read address with the
write's and chooses between the block RAM's output and a registered copy of
the written data.  The read address is often late (a fetch's next address, a
load's address from the adder), and that compare then lies on the critical
path: 687e2da's worst placed path on the board was the BTB's entry -> its
compare -> the fetch's next address -> Yosys's compare of it with the BTB's
write address, 20.33 ns of 20.

A memory made by ``memory()`` tells Yosys that a read in the cycle of a write
to the same address may return anything (the ``no_rw_check`` attribute), and
``read()`` writes its register after an asynchronous read, which Yosys merges
into the block RAM's port with that freedom: no logic beside the memory.  The
simulators read the old contents, as a non-transparent port does, so whoever
reads such a port must not depend on what a colliding read returns: either
what it reads is only a hint (the branch predictor), or it compares the
addresses itself from registers and takes the written data instead
(``ReadAfterWrite`` below).
"""

from amaranth import *
from amaranth.lib.memory import Memory

__all__ = ["memory", "read", "ReadAfterWrite"]


def memory(shape, depth):
    """A memory whose reads in the cycle of a write to their address are undefined."""
    return Memory(shape=shape, depth=depth, init=[], attrs={"no_rw_check": 1})


def read(m, mem, addr, name):
    """The contents of ``mem`` at ``addr`` (given in the previous cycle), from a
    synchronous read port of the kind above."""
    rp = mem.read_port(domain="comb")
    m.d.comb += rp.addr.eq(addr)
    data = Signal(mem.shape, name=name)
    m.d.sync += data.eq(rp.data)
    return data


class ReadAfterWrite:
    """Synchronous reads of ``mem`` (made by ``memory()``) that give, in the next
    cycle, what the address holds after this cycle's write through ``wp``, like a
    read port transparent to ``wp``.  The two addresses are compared from
    registers in the next cycle, beside the memory's read, and the written data,
    registered, is taken on a match: so the read address (the next lookup's,
    which comes late: the fetch's predicted next address, the data cache's
    address being computed in the pipeline's X stage) goes only to the memory's
    address pins.  ``wp`` writes whole words (one enable): the bytes that a
    partial write left alone would be undefined in a colliding read."""
    def __init__(self, m, mem, wp, name):
        if len(wp.en) != 1:
            raise ValueError("ReadAfterWrite: the write port must write whole words")
        self.m, self.mem, self.name = m, mem, name
        self.waddr_q = Signal.like(wp.addr, name=f"{name}_waddr_q")
        self.wen_q = Signal.like(wp.en, name=f"{name}_wen_q")
        self.wdata_q = Signal(mem.shape, name=f"{name}_wdata_q")
        m.d.sync += [self.waddr_q.eq(wp.addr), self.wen_q.eq(wp.en), self.wdata_q.eq(wp.data)]

    def read(self, addr, name):
        """The contents at ``addr`` (given in the previous cycle)."""
        m = self.m
        data = read(m, self.mem, addr, f"{self.name}_{name}_rdata")
        addr_q = Signal.like(addr, name=f"{self.name}_{name}_addr_q")
        m.d.sync += addr_q.eq(addr)
        same = Signal(name=f"{self.name}_{name}_same")
        m.d.comb += same.eq((addr_q == self.waddr_q) & self.wen_q)
        return Mux(same, self.wdata_q, data)
