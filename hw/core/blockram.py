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
(``ReadAfterWrite`` and ``WriteBehind`` below).
"""

from amaranth import *
from amaranth.lib.memory import Memory

__all__ = ["memory", "read", "ReadAfterWrite", "WriteBehind"]


def memory(shape, depth, *, block=False):
    """A memory whose reads in the cycle of a write to their address are undefined.
    ``block``: in block RAM even where Yosys would pick LUT RAM (a small one)."""
    attrs = {"no_rw_check": 1}
    if block:
        attrs["ram_style"] = "block"
    return Memory(shape=shape, depth=depth, init=[], attrs=attrs)


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


class WriteBehind:
    """Writes to a group of memories made by ``memory()`` (the ways of a cache:
    one address and one word for all, an enable each) that reach the memories a
    cycle late, from registers, and reads that see them at once.

    The user drives ``addr``, ``data`` and ``en`` (one bit per memory) in a
    cycle; they are registered, and the memories are written from the registers
    in the next cycle.  So the write's enable, which a user often decides late
    (a cache's hit, a bus's ``ready``), reaches flip-flops instead of the block
    RAMs' pins.  ``read`` gives what each memory holds after every write given
    up to the cycle of the read, as a port transparent to an ordinary write port
    would: the write given in that cycle is being written in the next (the
    lookup's), and the one given in the cycle before was written in the cycle
    of the read, which an ECP5 block RAM reads as undefined: both are taken
    from registers, compared from registers.  The writes are whole words."""
    def __init__(self, m, mems, name):
        self.m, self.mems, self.name = m, mems, name
        depth, shape = mems[0].depth, mems[0].shape
        self.addr = Signal(range(depth), name=f"{name}_addr")
        self.data = Signal(shape, name=f"{name}_data")
        self.en = Signal(len(mems), name=f"{name}_en")
        # the write given in the last cycle (being written now) and the one
        # before it (written in the last cycle)
        self.now = (Signal.like(self.addr, name=f"{name}_addr1"),
                    Signal.like(self.data, name=f"{name}_data1"),
                    Signal.like(self.en, name=f"{name}_en1"))
        self.last = (Signal.like(self.addr, name=f"{name}_addr2"),
                     Signal.like(self.data, name=f"{name}_data2"),
                     Signal.like(self.en, name=f"{name}_en2"))
        m.d.sync += [r.eq(v) for r, v in zip(self.now, (self.addr, self.data, self.en))]
        m.d.sync += [r.eq(v) for r, v in zip(self.last, self.now)]
        a1, d1, e1 = self.now
        for i, mem in enumerate(mems):
            wp = mem.write_port()
            m.d.comb += [wp.addr.eq(a1), wp.data.eq(d1), wp.en.eq(e1[i])]

    def read(self, addr, name):
        """Each memory's word at ``addr`` (given in the previous cycle): a list.
        The block RAM's output meets one multiplexer; its select and the other
        input come from registers."""
        m = self.m
        addr_q = Signal.like(addr, name=f"{self.name}_{name}_addr_q")
        m.d.sync += addr_q.eq(addr)
        (a1, d1, e1), (a2, d2, e2) = self.now, self.last
        new, old = addr_q == a1, addr_q == a2
        words = []
        for i, mem in enumerate(self.mems):
            data = read(m, mem, addr, f"{self.name}{i}_{name}_rdata")
            take_new = Signal(name=f"{self.name}{i}_{name}_take_new")
            take = Signal(name=f"{self.name}{i}_{name}_take")
            m.d.comb += [take_new.eq(new & e1[i]), take.eq(take_new | (old & e2[i]))]
            words.append(Mux(take, Mux(take_new, d1, d2), data))
        return words
