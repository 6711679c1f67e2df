"""A micro-TLB: the last few pages a port of the pipelined core translated.

The MMU's TLBs answer in the cycle after a lookup (hw/mmu/mmu.py), which costs the
pipeline two cycles or more per translation.  The fetch unit and the memory stage
therefore remember the pages they translated last, here, in ``entries``
flip-flop entries (virtual page, physical page, "stores allowed"), and only ask
the MMU for other pages:

* **lookup** (combinational): ``vpn`` is compared with every valid entry;
  ``hit`` with that entry's ``ppn`` and ``store_ok``;
* **fill**: the translation ``fill_vpn`` -> ``fill_ppn`` replaces the entry of
  the same page if there is one (a page first translated for a load and now
  for a store), else the oldest entry (round robin).  It takes two steps, so
  that the owner's decision to fill (the end of a translation and a PMP check)
  drives a single flip-flop: at the end of the cycle of ``fill`` the translation
  is registered in a *stage*, and at the end of the next cycle the stage is
  written into its entry, the same page searched from registers.  A lookup finds
  the stage as well (before the entries: it is newer), so a fill is seen from
  the next cycle on, as if it had been written at once; only the entry it
  replaces answers for one cycle more (a translation as good as any other
  entry's: a flush forgets the stage too);
* **flush** forgets every entry (the owner flushes on every event that may
  change a mapping or what it allows: traps, xRET, sfence.vma, writes to satp,
  and for data accesses a change of sstatus.SUM/MXR or of the effective
  privilege).

``fill_mark``/``mark``: one more bit an entry keeps for its owner, given with the
fill and answered with the lookup like ``store_ok`` (the memory stage marks the
pages that lie in RAM, so that its address's "in RAM" comes from a flip-flop).

The owner should drive ``fill_vpn``/``fill_ppn``/``fill_store_ok``/``fill_mark``
whether it fills or not (they are registered every cycle; ``fill`` says whether
they count).

**Entries keep bits 56:12 of a page's number**, and a lookup first checks that
bits 63:56 of ``vpn`` are all equal (``high_ok``): the rest would be copies.  A
translation succeeds only for such addresses under Sv39 (bits 63:38 all equal,
else a page fault); without translation (M mode, satp Bare) the physical page is
bits 55:12 of the address, so two addresses that agree in bits 56:12 translate
alike whatever their high bits (an address with high bits set faults later, in
the owner).  So a 45-bit compare per entry answers as the whole 52-bit one would.

Entries hold only translations that succeeded for the privilege and status of the
moment; the checks of the MMU's walker (A/D bits, permissions) happened before the
fill, and the owner fills "stores allowed" only after a store's translation.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["MicroTLB"]

VPN_BITS = 52       # bits 63:12 of a virtual address
PPN_BITS = 44       # bits 55:12 of a physical address
KEPT_BITS = 45      # bits 56:12, the part of a page's number an entry keeps (below)


def _or_of(values):
    result = values[0]
    for v in values[1:]:
        result = result | v
    return result


class MicroTLB(wiring.Component):
    def __init__(self, entries=4):
        if entries < 1:
            raise ValueError("a micro-TLB needs at least one entry")
        self.entries = entries
        super().__init__({
            "vpn":           In(VPN_BITS),
            "hit":           Out(1),
            "ppn":           Out(PPN_BITS),
            "store_ok":      Out(1),
            "mark":          Out(1),
            "fill":          In(1),
            "fill_vpn":      In(VPN_BITS),
            "fill_ppn":      In(PPN_BITS),
            "fill_store_ok": In(1),
            "fill_mark":     In(1),
            "flush":         In(1),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.entries
        valid = Signal(n)
        store_ok = Signal(n)
        mark = Signal(n)
        vpns = [Signal(KEPT_BITS, name=f"vpn{i}") for i in range(n)]
        ppns = [Signal(PPN_BITS, name=f"ppn{i}") for i in range(n)]
        victim = Signal(range(n))

        # the stage: the fill of the previous cycle, written into its entry now
        st_valid = Signal()
        st_vpn = Signal(KEPT_BITS)
        st_ppn = Signal(PPN_BITS)
        st_store_ok = Signal()
        st_mark = Signal()
        m.d.sync += [st_valid.eq(self.fill & ~self.flush), st_vpn.eq(self.fill_vpn[:KEPT_BITS]),
                     st_ppn.eq(self.fill_ppn), st_store_ok.eq(self.fill_store_ok),
                     st_mark.eq(self.fill_mark)]

        # lookup: at most one entry holds a page (fill replaces the same page), so
        # the entries' answer is the OR of the matching entry's fields (no priority
        # chain); the stage, newer, comes before them
        vpn = self.vpn[:KEPT_BITS]
        high = self.vpn[KEPT_BITS - 1:]
        high_ok = (high == 0) | (high == (1 << len(high)) - 1)
        match = Cat(*[valid[i] & (vpns[i] == vpn) for i in range(n)])
        st_match = st_valid & (st_vpn == vpn)
        m.d.comb += [
            self.hit.eq(high_ok & (st_match | match.any())),
            self.ppn.eq(Mux(st_match, st_ppn,
                            _or_of([Mux(match[i], ppns[i], 0) for i in range(n)]))),
            self.store_ok.eq(Mux(st_match, st_store_ok, (match & store_ok).any())),
            self.mark.eq(Mux(st_match, st_mark, (match & mark).any())),
        ]

        # the stage into its entry: the same page's, else the victim's
        same = Cat(*[valid[i] & (vpns[i] == st_vpn) for i in range(n)])
        slot = Signal(range(n))
        m.d.comb += slot.eq(victim)
        for i in range(n):
            with m.If(same[i]):
                m.d.comb += slot.eq(i)
        with m.If(st_valid):
            # the slot's valid and store_ok bits as word-wide updates (bit by bit, a
            # simulator would evaluate a multiplexer per entry in every cycle)
            one = Signal(n)
            m.d.comb += one.eq(Const(1, 1) << slot)
            m.d.sync += [valid.eq(valid | one),
                         store_ok.eq((store_ok & ~one) | Mux(st_store_ok, one, 0)),
                         mark.eq((mark & ~one) | Mux(st_mark, one, 0))]
            for i in range(n):
                with m.If(slot == i):
                    m.d.sync += [vpns[i].eq(st_vpn), ppns[i].eq(st_ppn)]
            with m.If(~same.any()):
                m.d.sync += victim.eq(Mux(victim == n - 1, 0, victim + 1))
        with m.If(self.flush):
            m.d.sync += valid.eq(0)
        return m
