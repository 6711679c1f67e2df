"""A translation unit without virtual memory (satp is treated as Bare).

Same ports as hw.mmu.MMU.  It answers every request in the first cycle
with paddr = vaddr[0:56] and never touches the bus.  The core uses it when
built with ``mmu="bare"`` (small unit tests of the integer pipeline that do
not need paging, and speed comparisons); the default is the real MMU.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..bus import BusSignature
from ..mmu.signatures import TranslateSignature, SfenceSignature, MMUEventSignature

__all__ = ["BareMMU"]


class BareMMU(wiring.Component):
    ifetch: In(TranslateSignature())
    data:   In(TranslateSignature())
    sfence: In(SfenceSignature())
    bus:    Out(BusSignature())
    events: Out(MMUEventSignature())

    def elaborate(self, platform):
        m = Module()
        for port in (self.ifetch, self.data):
            m.d.comb += [port.ready.eq(port.valid), port.paddr.eq(port.vaddr[:56])]
        m.d.comb += self.sfence.ready.eq(self.sfence.valid)
        return m


#: The translation units a core can be built with (its ``mmu`` parameter).
MMU_KINDS = ("sv39", "bare")


def check_mmu_kind(kind):
    if kind not in MMU_KINDS:
        raise ValueError(f"mmu must be 'sv39' or 'bare', not {kind!r}")


def make_mmu(kind, itlb_entries, dtlb_entries, checks=False):
    """The translation unit a core built with ``mmu=kind`` instantiates (``checks``:
    the MMU's simulation-only assertions)."""
    if kind == "bare":
        return BareMMU()
    from ..mmu.mmu import MMU
    return MMU(itlb_entries=itlb_entries, dtlb_entries=dtlb_entries, checks=checks)
