"""A small fully-associative TLB.

Storage: the tags that every lookup compares (virtual page, page level, ASID, G bit)
are flip-flops, one set per entry, and the valid bits one register of ``entries``
bits; the rest of an entry (R/W/X/U/A/D, the page level again, the PPN) is a
``lib.memory.Memory`` with an asynchronous read port addressed by the matching
entry's index.  A fully-associative lookup compares the tag of every entry in the
same cycle, which a RAM with one or two read ports cannot do; the data, read only
from the one entry that hit, can live in a RAM (LUT RAM on an ECP5) instead of 50
flip-flops per entry and a wide multiplexer behind them.  The split also keeps the
compiled simulation cheap: every cycle it evaluates the compares on narrow tag
registers and one indexed read, not a multiplexer over every entry's whole width,
and the next state of an entry is computed only for its tags (a fill writes the
memory through its write port).

Each entry holds the leaf PTE's R/W/X/U/A/D bits, the effective G bit, the
page level (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB), the ASID and the PPN.

Replacement (constructor argument ``replacement``):

* ``"fifo"``: an invalid entry is filled first (the lowest-numbered one);
  when all entries are valid a round-robin pointer chooses the victim and
  advances by one after each such eviction.
* ``"plru"``: tree pseudo-LRU (entries must be a power of two).  Hits and
  fills mark the path to the entry as recently used; the victim is found by
  following the tree away from recent use.  Invalid entries are still
  filled first.

Refills that replace an entry that hit (a stale entry re-walked because of
its permissions or A/D bits) write back into that same slot so that no
virtual page is ever held twice.
"""

from amaranth.hdl import C, Cat, Const, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from ..priority import lowest_first

__all__ = ["TLBEntryLayout", "TLBDataLayout", "TLB", "parameter_problem"]


def parameter_problem(entries, replacement):
    """Why a TLB of this size and policy cannot be built (None if it can)."""
    if not isinstance(entries, int) or entries < 1:
        return f"a TLB needs at least one entry, not {entries!r}"
    if replacement not in ("fifo", "plru"):
        return f"unknown TLB replacement policy {replacement!r} (choose 'fifo' or 'plru')"
    if replacement == "plru" and entries & (entries - 1):
        return f"PLRU replacement needs a power-of-two entry count, not {entries}"
    return None


TLBEntryLayout = data.StructLayout({
    "valid": 1,
    "vpn":   27,
    "level": 2,
    "asid":  16,
    "g":     1,
    "ppn":   44,
    "r": 1, "w": 1, "x": 1, "u": 1, "a": 1, "d": 1,
})


#: the fields of an entry kept in the TLB's memory, read from the entry that hit
TLBDataLayout = data.StructLayout({
    "level": 2,
    "ppn":   44,
    "r": 1, "w": 1, "x": 1, "u": 1, "a": 1, "d": 1,
})

def _covers(entry_vpn, entry_level, vpn):
    """The page (``entry_vpn``, ``entry_level``) contains virtual page ``vpn``: the
    bits of the page numbers that a page of the level compares are equal, all 27 for a
    4 KiB page (level 0), VPN[2] and VPN[1] for a 2 MiB page (level 1), VPN[2] alone
    for a 1 GiB page (level 2; level 3 does not occur and is treated as 2).

    The three 9-bit parts are compared separately, each unless the level leaves it
    out, rather than the whole number under a mask chosen by the level: a mask would
    be the same expression in the lookup's and the flush's compare of a slot, which a
    simulator then computes for every slot in every cycle, with neither of them."""
    diff = entry_vpn ^ vpn
    return ((diff[18:27] == 0) & ((diff[9:18] == 0) | entry_level[1]) &
            ((diff[0:9] == 0) | entry_level[1] | entry_level[0]))


class TLB(wiring.Component):
    """Fully-associative TLB.

    Lookup (combinational): ``lookup_vpn``/``lookup_asid`` in,
    ``hit``/``hit_index``/``hit_entry`` out, while ``lookup_en`` is high (default: always;
    low, nothing hits, and a simulator skips the slots' compares).  ``touch`` marks the hit entry
    as used (PLRU bookkeeping).  Fill: ``fill_valid`` writes ``fill_entry``
    to ``fill_index`` at the clock edge; ``victim`` says which slot the
    policy would use.  Flush: ``flush_valid`` with the sfence.vma operands
    invalidates matching entries at the clock edge; a flush and a fill never
    happen in the same cycle (the MMU guarantees it).
    """

    def __init__(self, entries=16, replacement="fifo", registered=False):
        problem = parameter_problem(entries, replacement)
        if problem:
            self._MustUse__silence = True     # never built: no "unused" warning
            raise ValueError(problem)
        self.entries = entries
        self.replacement = replacement
        self.registered = registered
        idx = max(1, ceil_log2(entries))
        super().__init__({
            "lookup_vpn":  In(27),
            "lookup_asid": In(16),
            "lookup_en":   In(1, init=1),
            "fresh":       Out(1),
            "hit":         Out(1),
            "hit_index":   Out(idx),
            "hit_entry":   Out(TLBEntryLayout),
            "touch":       In(1),

            "victim":      Out(idx),
            "fill_valid":  In(1),
            "fill_index":  In(idx),
            "fill_entry":  In(TLBEntryLayout),

            "flush_valid":     In(1),
            "flush_vpn":       In(27),
            "flush_asid":      In(16),
            "flush_all_vaddr": In(1),
            "flush_all_asid":  In(1),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.entries
        valid = Signal(n)
        vpns = [Signal(27, name=f"vpn{i}") for i in range(n)]
        levels = [Signal(2, name=f"level{i}") for i in range(n)]
        asids = [Signal(16, name=f"asid{i}") for i in range(n)]
        gs = [Signal(name=f"g{i}") for i in range(n)]
        m.submodules.store = store = Memory(shape=TLBDataLayout, depth=n, init=[])
        read = store.read_port(domain="comb")
        write = store.write_port()

        # --- lookup: one compare per slot, lowest matching slot wins ---
        match = Signal(n)
        with m.If(self.lookup_en):
            m.d.comb += match.eq(Cat(valid[i] & (gs[i] | (asids[i] == self.lookup_asid)) &
                                     _covers(vpns[i], levels[i], self.lookup_vpn)
                                     for i in range(n)))
        # ``registered``: the slots' compares go into a register and the lookup's
        # outputs (hit, index, the entry read from the memory) come from it in the
        # next cycle, so the compares end at flip-flops and not, through the
        # index and the memory's read, at the user's result register (the data
        # TLB: M's address -> the compares -> the MMU's ``res_paddr1``).  The
        # answer is for the previous cycle's lookup_vpn/lookup_asid, and it is
        # the current one's (``fresh``) when they are the same and no fill or
        # flush changed the slots at the edge between; the user waits a cycle
        # otherwise.  Unregistered, the answer is the current one's (``fresh``
        # is always 1).
        if self.registered:
            match_q = Signal(n)
            vpn_q = Signal(27)
            asid_q = Signal(16)
            changed_q = Signal()
            m.d.sync += [match_q.eq(match), vpn_q.eq(self.lookup_vpn),
                         asid_q.eq(self.lookup_asid),
                         changed_q.eq(self.fill_valid | self.flush_valid)]
            m.d.comb += self.fresh.eq((vpn_q == self.lookup_vpn) &
                                      (asid_q == self.lookup_asid) & ~changed_q)
            match = match_q
        else:
            m.d.comb += self.fresh.eq(1)

        # The lowest matching slot, found by a tree of 2:1 multiplexers
        # (hw/priority.py), so the index (the address of the memory's read, on the
        # path from the compares to the lookup's result register in the MMU) lies
        # log2(entries) multiplexers behind the compares, not a chain of ``entries``.
        _, picked_index, (picked_vpn, picked_asid, picked_g) = lowest_first(
            m, [(match[i], (vpns[i], asids[i], gs[i])) for i in range(n)])
        if n == 1:
            picked_index = C(0, 1)
        hit_data = Signal(TLBDataLayout)
        m.d.comb += [
            self.hit.eq(match.any()),
            self.hit_index.eq(picked_index),
            read.addr.eq(self.hit_index),
            # the entry is all zeros when nothing hits
            hit_data.eq(Mux(self.hit, read.data.as_value(), 0)),
            self.hit_entry.valid.eq(self.hit),
            self.hit_entry.vpn.eq(picked_vpn),
            self.hit_entry.asid.eq(picked_asid),
            self.hit_entry.g.eq(picked_g),
        ]
        for name in TLBDataLayout.members:
            m.d.comb += getattr(self.hit_entry, name).eq(getattr(hit_data, name))

        # --- victim selection ---
        free = ~valid
        free_first = Signal(n)
        m.d.comb += free_first.eq(free & (~free + 1))
        free_index = Const(0, len(self.victim))
        for i in range(n):
            free_index = free_index | Mux(free_first[i], i, 0)
        policy_victim = Signal.like(self.victim)

        if self.replacement == "fifo":
            pointer = Signal.like(self.victim)
            m.d.comb += policy_victim.eq(pointer)
            with m.If(self.fill_valid & ~free.any() & (self.fill_index == pointer)):
                m.d.sync += pointer.eq(Mux(pointer == n - 1, 0, pointer + 1))
        else:
            # Tree PLRU: node k has children 2k+1 and 2k+2; leaves are the
            # entries.  A node bit of 1 means "the right half is older".
            depth = ceil_log2(n)
            tree = Signal(max(1, n - 1))
            current = Signal.like(tree)     # the tree with a pending touch marked (below)
            # Follow the tree from the root; the chosen directions, most
            # significant first, spell the victim's index.
            chosen = []
            for d in range(depth):
                prefix = Cat(*reversed(chosen)) if chosen else 0
                go_right = Signal(name=f"plru_dir{d}")
                m.d.comb += go_right.eq(current.bit_select((2 ** d - 1) + prefix, 1))
                chosen.append(go_right)
            victim_expr = Cat(*reversed(chosen)) if chosen else Const(0, 1)
            m.d.comb += policy_victim.eq(victim_expr)

            def mark_used(index):
                """(node, new bit) pairs pointing every node on the path away from ``index``."""
                updates = []
                for d in range(depth):
                    prefix = index[depth - d:] if d else 0
                    went_right = index[depth - 1 - d]
                    updates.append(((2 ** d - 1) + prefix, ~went_right))
                return updates

            def marked(tree, index):
                """``tree`` with the path to ``index`` marked as recently used: the
                nodes on the path (one per level, so never the same node twice) as one
                word-wide update (bit by bit, a simulator would evaluate a multiplexer
                per node in every cycle, used or not)."""
                path, bits = Const(0, len(tree)), Const(0, len(tree))
                for node_no, value in mark_used(index):
                    path = path | (Const(1, len(tree)) << node_no)[:len(tree)]
                    bits = bits | (value.as_unsigned() << node_no)[:len(tree)]
                return (tree & ~path) | bits

            # A hit's touch is registered (``touched``, with the index that hit) and
            # marked in the tree a cycle later, so the lookup's compare and the
            # port's permission check (``touch``) reach one flip-flop, not the
            # enables of the tree's.  Everything that reads the tree reads it with
            # the pending touch marked (``current``): the victim, and a fill in the
            # next cycle, which marks its own slot after it.  So the policy is the
            # same as with the tree updated at the touch's own clock edge (where a
            # fill in the touch's own cycle wins: the MMU never asks for both).
            touched = Signal()
            touched_index = Signal.like(self.victim)
            m.d.sync += [touched.eq(self.touch & self.hit & ~self.fill_valid),
                         touched_index.eq(self.hit_index)]
            m.d.comb += current.eq(tree)
            with m.If(touched):
                m.d.comb += current.eq(marked(tree, touched_index))
            with m.If(self.fill_valid):
                m.d.sync += tree.eq(marked(current, self.fill_index))
            with m.Elif(touched):
                m.d.sync += tree.eq(current)

        m.d.comb += self.victim.eq(Mux(free.any(), free_index, policy_victim))

        # --- fill and flush (a flush wins; the MMU never asks for both at once) ---
        fill = self.fill_entry
        m.d.comb += [
            write.addr.eq(self.fill_index),
            write.en.eq(self.fill_valid & ~self.flush_valid),
        ]
        for name in TLBDataLayout.members:
            m.d.comb += getattr(write.data, name).eq(getattr(fill, name))
        kept = Signal(n)        # the slots a flush keeps (computed only during a flush)
        with m.If(self.flush_valid):
            for i in range(n):
                in_range = self.flush_all_vaddr | _covers(vpns[i], levels[i], self.flush_vpn)
                in_space = self.flush_all_asid | (~gs[i] & (asids[i] == self.flush_asid))
                m.d.comb += kept[i].eq(~(in_range & in_space))
            m.d.sync += valid.eq(valid & kept)
        with m.Elif(self.fill_valid):
            # the filled slot's valid bit as one word (bit by bit, a simulator would
            # evaluate a mux per slot in every cycle)
            slot = Signal(n)
            m.d.comb += slot.eq(1 << self.fill_index)
            m.d.sync += valid.eq((valid & ~slot) | Mux(fill.valid, slot, 0))
            for i in range(n):
                with m.If(self.fill_index == i):
                    m.d.sync += [
                        vpns[i].eq(fill.vpn),
                        levels[i].eq(fill.level),
                        asids[i].eq(fill.asid),
                        gs[i].eq(fill.g),
                    ]
        return m
