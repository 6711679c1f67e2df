"""A snooped write next to a lookup in the data cache (hw/core/cache.py): the
lookup in the cycle after the snoop, whose line is invalidated at the end of that
cycle, must miss when it is the snooped line and only then (``lookup_stale``
compares the two addresses' line bits, not the tags of the snooped set).

Directed cycle by cycle: two lines of one set are cached, one in each way; a
snooped write to one of them is followed at once by a store (a lookup with a
write) to that line, then by a lookup of the other line of the set.
"""

from amaranth import ClockDomain, Module
from amaranth.sim import Simulator

from hw.core.cache import Cache

BASE = 0x8000_0000


def run(region):
    """(hit of the store after the snoop, hit of the other line after the snoop,
    hit of the snooped line later, the word of the other line)."""
    dut = Cache(size=1024, ways=2, line=32, region=region, checks=True)
    a, b = BASE + 64, BASE + 64 + 512          # one set, two ways (512 bytes a way)
    out = {}

    def word(addr):
        return (addr * 0x9E3779B97F4A7C15) & ((1 << 64) - 1)

    async def bench(ctx):
        async def fill(addr):
            ctx.set(dut.read_addr, addr & 0xFFF)      # (the set's valid bits: the way)
            await ctx.tick()
            ctx.set(dut.lookup_addr, addr)
            ctx.set(dut.fill, 1)
            await ctx.tick()
            ctx.set(dut.fill, 0)
            while True:
                ready = ctx.get(dut.bus.valid)
                ctx.set(dut.bus.ready, ready)
                ctx.set(dut.bus.rdata, word(ctx.get(dut.bus.addr)) if ready else 0)
                done = ctx.get(dut.done)
                await ctx.tick()
                if done:
                    ctx.set(dut.bus.ready, 0)
                    return

        async def lookup(addr, write=False):
            """Read the set (this cycle), look up (the next); the hit."""
            ctx.set(dut.read_addr, addr & 0xFFF)
            await ctx.tick()
            ctx.set(dut.lookup_addr, addr)
            hit = ctx.get(dut.hit)
            await ctx.tick()
            return hit

        async def snoop_then_lookup(addr, snooped):
            """Read ``addr``'s set in the cycle a write to ``snooped`` is snooped,
            and look ``addr`` up in the next: (hit, word).  The lookup stays
            driven, for the caller's write or tick."""
            ctx.set(dut.read_addr, addr & 0xFFF)
            ctx.set(dut.snoop_valid, 1)
            ctx.set(dut.snoop_addr, snooped)
            await ctx.tick()
            ctx.set(dut.snoop_valid, 0)
            ctx.set(dut.lookup_addr, addr)
            return ctx.get(dut.hit), ctx.get(dut.rdata)

        await fill(a)
        await fill(b)
        assert await lookup(a) and await lookup(b)
        # the snoop of a's line in the cycle a's set is read; the store's lookup
        # (with its write) in the next cycle
        ctx.set(dut.write_sel, 0xFF)
        ctx.set(dut.write_data, 0x5555)
        out["store_hit"], _ = await snoop_then_lookup(a, a + 8)
        ctx.set(dut.write, out["store_hit"])
        await ctx.tick()
        ctx.set(dut.write, 0)
        # the same with the other line of the set (the other way): it stays
        out["other_hit"], out["other_word"] = await snoop_then_lookup(b, a + 16)
        await ctx.tick()
        out["later_hit"] = await lookup(a)
        out["other_later"] = await lookup(b)

    top = Module()
    top.domains.sync = ClockDomain()
    top.submodules.dut = dut
    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return out, word(b)


def test_a_store_right_after_a_snoop_of_its_line_misses():
    for region in ((BASE, 16), None):
        out, b_word = run(region)
        assert out["store_hit"] == 0        # the line is being invalidated
        assert out["later_hit"] == 0        # ... and is gone
        # the other line of the set is not the snooped one: it hits, with its word
        assert out["other_hit"] == 1 and out["other_word"] == b_word
        assert out["other_later"] == 1
