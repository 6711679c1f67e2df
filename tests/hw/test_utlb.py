"""hw/core/utlb.py: the micro-TLB against a reference model on random operations."""

import random

import pytest
from amaranth.sim import Simulator

from hw.core.utlb import KEPT_BITS, MicroTLB

KEPT = (1 << KEPT_BITS) - 1


def high_ok(vpn):
    """Bits 63:56 of the address (51:44 of its page number) all equal."""
    return (vpn >> 44) in (0, 0xFF)


class Model:
    """The micro-TLB as the module docstring describes it: a fill waits in the
    stage for a cycle, and is then written into its entry."""

    def __init__(self, entries):
        self.slots = [None] * entries          # (vpn, ppn, store_ok) or None
        self.stage = None                      # the fill of the previous cycle
        self.victim = 0

    def lookup(self, vpn):
        """(vpn, ppn, store_ok) of page vpn, or None: only bits 56:12 of an
        address are compared, when its bits 63:56 are all equal."""
        if not high_ok(vpn):
            return None
        if self.stage is not None and self.stage[0] & KEPT == vpn & KEPT:
            return self.stage
        for e in self.slots:
            if e is not None and e[0] & KEPT == vpn & KEPT:
                return e
        return None

    def step(self, fill, flush):
        """One clock edge with the fill (vpn, ppn, store_ok) or None, and flush."""
        if self.stage is not None:
            same = [i for i, e in enumerate(self.slots)
                    if e is not None and e[0] & KEPT == self.stage[0] & KEPT]
            slot = same[0] if same else self.victim
            self.slots[slot] = self.stage
            if not same:
                self.victim = (self.victim + 1) % len(self.slots)
        self.stage = None if flush else fill
        if flush:
            self.slots = [None] * len(self.slots)


@pytest.mark.parametrize("entries", [1, 2, 4])
def test_random_operations(entries):
    dut = MicroTLB(entries)
    model = Model(entries)
    rng = random.Random(entries)
    # few pages, so that lookups hit and fills replace the same page often: pages
    # whose bits 63:56 are all equal (Sv39's canonical addresses, Bare's below 2**56)
    # and one whose are not (Bare fills it before the owner faults), looked up also
    # with other high bits
    pages = [rng.getrandbits(44) | (rng.choice([0, 0xFF]) << 44) for _ in range(5)]
    pages.append(rng.getrandbits(44) | (0x1 << 44))
    other_high = [p ^ (rng.choice([0x02, 0x80, 0x7E]) << 44) for p in pages]

    async def bench(ctx):
        for _ in range(600):
            vpn = rng.choice(pages if rng.random() < 0.8 else other_high)
            ctx.set(dut.vpn, vpn)
            entry = model.lookup(vpn)
            assert ctx.get(dut.hit) == (entry is not None)
            if entry is not None:
                assert ctx.get(dut.ppn) == entry[1]
                assert ctx.get(dut.store_ok) == entry[2]
            fill = None
            if rng.random() < 0.4:
                fill = (rng.choice(pages), rng.getrandbits(44), rng.getrandbits(1))
            flush = rng.random() < 0.05
            ctx.set(dut.fill, fill is not None)
            if fill is not None:
                ctx.set(dut.fill_vpn, fill[0])
                ctx.set(dut.fill_ppn, fill[1])
                ctx.set(dut.fill_store_ok, fill[2])
            ctx.set(dut.flush, flush)
            await ctx.tick()
            model.step(fill, flush)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


def test_needs_an_entry():
    with pytest.raises(ValueError, match="at least one entry"):
        MicroTLB(0)
