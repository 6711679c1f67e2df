"""Branch predictor of the pipelined core: a direct-mapped branch target buffer
with a two-bit bimodal counter per entry.

The table is block RAM read one cycle ahead, like the instruction cache's data:
the fetch unit presents the address of the next cycle's fetch (``read_pc``) and
compares the entry read with the address it then fetches (``pc``; the fetch
unit uses a prediction only when the two were the same, as for the cache's
word).  On a hit whose entry is a jump, or a branch whose counter is 2 or 3
("taken"), the next fetch goes to the stored target, otherwise to pc + 4.
The execute stage, which resolves every branch and jump, writes the entry of
that instruction back (one write per cycle, in the cycle after it resolved it,
from registers):

* a jump (JAL, JALR) is stored as always taken with its last target, and a
  return (``jalr x0, 0(ra)`` or via t0) with its ``ret`` bit set: the fetch unit
  then takes the target from the return-address stack (ras.py) instead;
* a branch that hit moves its counter one step towards what happened; a
  branch that missed is allocated only when it was taken (counter 2, weakly
  taken), so that never-taken branches do not evict useful entries;
* an entry that hit an instruction which is not a branch or jump (code was
  rewritten, or two addresses share a slot with equal tags) is invalidated.

A wrong prediction costs only time: the execute stage compares every
instruction's predicted next pc with the real one and redirects the fetch.
Tags are partial: the address bits above the index folded by XOR into
``tag_bits`` bits, so that every bit of the address counts (a user program's
code and the kernel's, 2 GiB apart, have different tags) while the compare
between the table's output and the prediction stays short: 8 bits are two
LUT levels where 16 were three, on the fetch unit's loop from the table to the
block RAMs' next address (main's worst placed path on the board).
"""

from amaranth import *
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from . import blockram

__all__ = ["BranchPredictor"]


class BranchPredictor(wiring.Component):
    """``entries`` (a power of two) direct-mapped BTB entries."""

    def __init__(self, entries=256, tag_bits=8):
        if entries < 2 or entries & (entries - 1):
            raise ValueError(f"BTB entries must be a power of two >= 2, not {entries}")
        self.entries = entries
        self.index_bits = entries.bit_length() - 1
        self.tag_bits = tag_bits
        super().__init__({
            # lookup: the table is read at read_pc, the entry compared with pc a cycle later
            "read_pc":     In(64),
            "pc":          In(64),
            "hit":         Out(1),
            "taken":       Out(1),    # predict a jump to ``target``
            "ret":         Out(1),    # ... a return: to the return-address stack's top
            "target":      Out(64),
            "counter":     Out(2),
            # update (written at the end of the cycle)
            "upd_valid":   In(1),
            "upd_pc":      In(64),
            "upd_keep":    In(1),     # 0 invalidates the entry
            "upd_jump":    In(1),
            "upd_ret":     In(1),
            "upd_counter": In(2),
            "upd_target":  In(64),
        })

    def elaborate(self, platform):
        m = Module()
        ib, tb = self.index_bits, self.tag_bits
        entry = data.StructLayout({"valid": 1, "jump": 1, "ret": 1, "counter": 2, "tag": tb,
                                   "target": 62})
        # (a lookup of the entry written in the same cycle may get anything, as
        # the block RAM gives it (blockram.py): only a prediction, which the
        # execute stage checks; the simulators give the old entry)
        m.submodules.table = table = blockram.memory(entry, self.entries)
        wp = table.write_port()

        def index(pc):
            return pc[2:2 + ib]

        def tag(pc):
            above = pc[2 + ib:]
            folded = above[:tb]
            for lo in range(tb, len(above), tb):
                folded = folded ^ above[lo:lo + tb]
            return folded[:tb]

        e = blockram.read(m, table, index(self.read_pc), "entry")
        m.d.comb += [
            self.hit.eq(e.valid & (e.tag == tag(self.pc))),
            self.counter.eq(e.counter),
            self.ret.eq(e.ret),
            self.target.eq(Cat(C(0, 2), e.target)),
        ]
        m.d.comb += self.taken.eq(self.hit & (e.jump | e.counter[1]))

        m.d.comb += [
            wp.addr.eq(index(self.upd_pc)),
            wp.en.eq(self.upd_valid),
            wp.data.valid.eq(self.upd_keep),
            wp.data.jump.eq(self.upd_jump),
            wp.data.ret.eq(self.upd_ret),
            wp.data.counter.eq(self.upd_counter),
            wp.data.tag.eq(tag(self.upd_pc)),
            wp.data.target.eq(self.upd_target[2:]),
        ]
        return m
