"""hw/core/utlb.py: the micro-TLB against a reference model on random operations."""

import random

import pytest
from amaranth.sim import Simulator

from hw.core.utlb import MicroTLB


class Model:
    """The micro-TLB as the module docstring describes it: a fill waits in the
    stage for a cycle, and is then written into its entry."""

    def __init__(self, entries):
        self.slots = [None] * entries          # (vpn, ppn, store_ok) or None
        self.stage = None                      # the fill of the previous cycle
        self.victim = 0

    def lookup(self, vpn):
        """(vpn, ppn, store_ok) of page vpn, or None."""
        if self.stage is not None and self.stage[0] == vpn:
            return self.stage
        for e in self.slots:
            if e is not None and e[0] == vpn:
                return e
        return None

    def step(self, fill, flush):
        """One clock edge with the fill (vpn, ppn, store_ok) or None, and flush."""
        if self.stage is not None:
            same = [i for i, e in enumerate(self.slots)
                    if e is not None and e[0] == self.stage[0]]
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
    # few pages, so that lookups hit and fills replace the same page often
    pages = [rng.getrandbits(52) for _ in range(6)]

    async def bench(ctx):
        for _ in range(600):
            vpn = rng.choice(pages)
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
