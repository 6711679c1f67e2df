"""A small fully-associative TLB held in registers.

Why registers and not ``lib.memory.Memory``: a fully-associative lookup
compares the tag of every entry in the same cycle, which a RAM with one or
two read ports cannot do.  With 8-32 entries of ~100 bits the flip-flop cost
is small on an ECP5, and the per-entry compare plus a short priority mux keeps
the lookup shallow enough for a registered response at 50 MHz.

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

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

__all__ = ["TLBEntryLayout", "TLB", "parameter_problem"]


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


def _covers(entry, vpn):
    """The entry's page contains virtual page ``vpn`` (ignores valid/ASID)."""
    return ((entry.vpn[18:27] == vpn[18:27]) &
            ((entry.level >= 2) | (entry.vpn[9:18] == vpn[9:18])) &
            ((entry.level >= 1) | (entry.vpn[0:9] == vpn[0:9])))


class TLB(wiring.Component):
    """Fully-associative TLB.

    Lookup (combinational): ``lookup_vpn``/``lookup_asid`` in,
    ``hit``/``hit_index``/``hit_entry`` out.  ``touch`` marks the hit entry
    as used (PLRU bookkeeping).  Fill: ``fill_valid`` writes ``fill_entry``
    to ``fill_index`` at the clock edge; ``victim`` says which slot the
    policy would use.  Flush: ``flush_valid`` with the sfence.vma operands
    invalidates matching entries at the clock edge; a flush and a fill never
    happen in the same cycle (the MMU guarantees it).
    """

    def __init__(self, entries=16, replacement="fifo"):
        problem = parameter_problem(entries, replacement)
        if problem:
            self._MustUse__silence = True     # never built: no "unused" warning
            raise ValueError(problem)
        self.entries = entries
        self.replacement = replacement
        idx = max(1, ceil_log2(entries))
        super().__init__({
            "lookup_vpn":  In(27),
            "lookup_asid": In(16),
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
        slots = [Signal(TLBEntryLayout, name=f"slot{i}") for i in range(n)]

        # --- lookup: one compare per slot, lowest matching slot wins ---
        match = Signal(n)
        for i, e in enumerate(slots):
            m.d.comb += match[i].eq(e.valid & (e.g | (e.asid == self.lookup_asid)) &
                                    _covers(e, self.lookup_vpn))
        # A priority chain of 2:1 muxes (the lowest matching slot, as the
        # comment above says) rather than a one-hot AND-OR mux: a simulator
        # evaluates the chain only down to the first match.
        picked = Const(0, TLBEntryLayout.size)
        picked_index = Const(0, len(self.hit_index))
        for i in reversed(range(n)):
            picked = Mux(match[i], slots[i].as_value(), picked)
            picked_index = Mux(match[i], i, picked_index)
        m.d.comb += [
            self.hit.eq(match.any()),
            self.hit_index.eq(picked_index),
            self.hit_entry.eq(picked),
        ]

        # --- victim selection ---
        valid_bits = Cat(e.valid for e in slots)
        free = ~valid_bits
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
            # Follow the tree from the root; the chosen directions, most
            # significant first, spell the victim's index.
            chosen = []
            for d in range(depth):
                prefix = Cat(*reversed(chosen)) if chosen else 0
                go_right = Signal(name=f"plru_dir{d}")
                m.d.comb += go_right.eq(tree.bit_select((2 ** d - 1) + prefix, 1))
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

            used_now = Signal()
            used_index = Signal.like(self.victim)
            m.d.comb += [
                used_now.eq((self.touch & self.hit) | self.fill_valid),
                used_index.eq(Mux(self.fill_valid, self.fill_index, self.hit_index)),
            ]
            with m.If(used_now):
                for node_no, value in mark_used(used_index):
                    m.d.sync += tree.bit_select(node_no, 1).eq(value)

        m.d.comb += self.victim.eq(Mux(free.any(), free_index, policy_victim))

        # --- fill and flush ---
        for i, e in enumerate(slots):
            with m.If(self.flush_valid):
                in_range = self.flush_all_vaddr | _covers(e, self.flush_vpn)
                in_space = self.flush_all_asid | (~e.g & (e.asid == self.flush_asid))
                with m.If(in_range & in_space):
                    m.d.sync += e.valid.eq(0)
            with m.Elif(self.fill_valid & (self.fill_index == i)):
                m.d.sync += e.eq(self.fill_entry)
        return m
