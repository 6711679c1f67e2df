"""The L1 cache storage and line fill (hw/core/cache.py) against a flat memory model.

The testbench plays the core (which writes through) and the rest of the system: a
memory that answers the cache's fill transfers after random wait states, stores
that update memory and the cache's copy, DMA writes that change memory behind the
cache's back (snooped, also in the middle of a fill of the same line), and
``invalidate_all``.  Whenever the cache says ``hit``, the word it returns must be
the memory's current word.  Random operation sequences come from hypothesis; the
small address range (four times the cache) makes sets collide, so lines are
evicted all the time.  Fills are made of single transfers or (``burst``) as one
burst of the whole line, whose beats come after random wait states too.
"""

import random

import pytest
from amaranth import ClockDomain, Module
from amaranth.sim import Simulator
from hypothesis import given, settings, strategies as st

from hw.core.cache import Cache, check_geometry

BASE = 0x8000_0000
SPAN = 4 * 1024            # bytes of memory the operations touch (4x a 1 KiB cache)


def _ops():
    addr = st.integers(0, SPAN // 8 - 1).map(lambda w: BASE + 8 * w)
    word = st.integers(0, (1 << 64) - 1)
    return st.lists(st.one_of(
        st.tuples(st.just("load"), addr),
        st.tuples(st.just("load"), addr),
        st.tuples(st.just("load_on_miss"), addr),
        st.tuples(st.just("store"), addr, word, st.integers(1, 255)),
        st.tuples(st.just("dma"), addr, word),
        st.tuples(st.just("dma_load"), st.sampled_from(["read", "lookup"]), addr, word,
                  st.one_of(st.none(), st.integers(0, 127))),
        st.tuples(st.just("fill_dma"), addr, word, st.integers(0, 6)),
        # a DMA write anywhere (often a line cached in the set being filled)
        st.tuples(st.just("fill_dma_any"), addr, addr, word, st.integers(0, 6)),
        st.tuples(st.just("flush"),),
        st.tuples(st.just("flush_wait"),),
    ), min_size=1, max_size=40)


def run_ops(ops, *, size=1024, ways=2, line=32, seed=0, burst=False, checks=True,
            region=None, one_bus=True, writable=True):
    dut = Cache(size=size, ways=ways, line=line, checks=checks, region=region,
                writable=writable)
    rng = random.Random(seed)
    mem = {}
    words_per_line = line // 8
    stats = {"hits": 0, "fills": 0, "reset_cycles": dut.reset_cycles}

    def word_at(addr):
        return mem.get(addr, (addr * 0x9E3779B97F4A7C15) & ((1 << 64) - 1))

    async def bench(ctx):
        ctx.set(dut.fill_burst, burst)
        beat = [0]                # beats of the burst on the bus completed
        pending_dma = []          # (cycles into the fill, addr, data) for fill_dma

        async def tick():
            """One clock; the memory answers the cache's bus transfers.  Returns
            whether the fill finished (``done``) in this cycle."""
            bus = dut.bus
            ctx.set(bus.ready, 0)
            # (a snooped write completes on the same bus as the cache's beats: never
            # in the cycle of one, which the cache relies on and asserts)
            if ctx.get(bus.valid) and not (one_bus and ctx.get(dut.snoop_valid)):
                if bus_wait[0] > 0:
                    bus_wait[0] -= 1
                else:
                    addr = ctx.get(bus.addr)
                    assert addr % 8 == 0 and ctx.get(bus.sel) == 0xFF
                    assert not ctx.get(bus.write)
                    if burst:
                        # one burst of the line: its address is the line's, held
                        assert ctx.get(bus.burst_len) == words_per_line - 1
                        assert addr % line == 0
                        addr += 8 * beat[0]
                        beat[0] = (beat[0] + 1) % words_per_line
                    else:
                        assert ctx.get(bus.burst_len) == 0
                    ctx.set(bus.ready, 1)
                    ctx.set(bus.rdata, word_at(addr))
                    bus_wait[0] = rng.randrange(3)
            done = ctx.get(dut.done)
            await ctx.tick()
            now[0] += 1
            ctx.set(dut.snoop_valid, 0)
            return done

        now = [0]                 # cycles so far
        flushed_at = [None]       # the cycle of the last invalidate_all

        bus_wait = [rng.randrange(3)]

        def snoop(addr, data):
            # a DMA write that completes in this cycle (memory changes now)
            mem[addr] = data
            ctx.set(dut.snoop_valid, 1)
            ctx.set(dut.snoop_addr, addr)

        async def load(addr, dma=None, fill_on_miss=False):
            """Read ``addr``'s set, then look it up in the next cycle.  ``dma`` =
            (when, addr, data): a DMA write in the read cycle ("read") or in the
            lookup cycle ("lookup"; the load is ordered before it: it may still
            hit the old word).  ``fill_on_miss``: the lookup asks for it, and its
            cycle ends whether it hits or not."""
            ctx.set(dut.read_addr, addr & 0xFFF)
            if dma and dma[0] == "read":
                snoop(*dma[1:])
            await tick()
            ctx.set(dut.lookup_addr, addr)
            hit = ctx.get(dut.hit)
            if hit:
                stats["hits"] += 1
                assert ctx.get(dut.rdata) == word_at(addr), f"stale word at {addr:#x}"
            if dma and dma[0] == "lookup":
                snoop(*dma[1:])
            if hit or fill_on_miss:
                # a hit marks its way recently used, as the cores do
                ctx.set(dut.touch, hit)
                ctx.set(dut.fill_on_miss, fill_on_miss)
                await tick()
                ctx.set(dut.touch, 0)
                ctx.set(dut.fill_on_miss, 0)
            return bool(hit)

        async def fill(addr, dma=None, touching=None):
            """Fill ``addr``'s line; ``touching``: meanwhile look up that address
            and touch it in every cycle (which the cores never do: see below)."""
            ctx.set(dut.lookup_addr, addr)
            ctx.set(dut.fill, 1)
            await tick()
            ctx.set(dut.fill, 0)
            stats["fills"] += 1
            cycles = 0
            done = False
            if touching is not None:
                ctx.set(dut.read_addr, touching & 0xFFF)
                ctx.set(dut.lookup_addr, touching)
                ctx.set(dut.touch, 1)
            while not done:
                if dma is not None and cycles == dma[0]:
                    snoop(dma[1], dma[2])
                done = await tick()
                cycles += 1
            ctx.set(dut.touch, 0)

        async def load_filling_on_miss(addr):
            """A lookup with ``fill_on_miss``, as the data cache's loads: a hit
            leaves the cache idle in the next cycle, a miss makes that cycle the
            fill's first (its request on the bus) or, during invalidate_all's
            walk, a cycle of waiting for its end."""
            hit = await load(addr, fill_on_miss=True)
            # (invalidate_all's walk: the cycle of the request and ``sets`` more,
            # seen from the lookup's cycle, the one before this)
            lookup = now[0] - 1
            walking = flushed_at[0] is not None and 0 <= lookup - flushed_at[0] <= dut.sets
            assert ctx.get(dut.busy) == (not hit)
            if hit:
                return
            assert ctx.get(dut.bus.valid) == (not walking)
            stats["fills"] += 1
            while not await tick():
                pass
            assert await load(addr), f"line of {addr:#x} not valid after its fill"

        async def invalidate_all():
            ctx.set(dut.invalidate_all, 1)
            flushed_at[0] = now[0]
            await tick()
            ctx.set(dut.invalidate_all, 0)

        async def load_or_fill(addr):
            if not await load(addr):
                await fill(addr)
                # after a fill the line is there (no write hit it meanwhile)
                assert await load(addr), f"line of {addr:#x} not valid after its fill"

        for op in ops:
            kind = op[0]
            if kind == "load":
                await load_or_fill(op[1])
            elif kind == "load_on_miss":
                await load_filling_on_miss(op[1])
            elif kind == "store":
                _, addr, data, sel = op
                mask = sum(0xFF << (8 * i) for i in range(8) if sel >> i & 1)
                mem[addr] = (word_at(addr) & ~mask) | (data & mask)
                # the tags of its set are read in the cycle before
                ctx.set(dut.read_addr, addr & 0xFFF)
                await tick()
                ctx.set(dut.lookup_addr, addr)
                ctx.set(dut.write, 1)
                ctx.set(dut.write_sel, sel)
                ctx.set(dut.write_data, data)
                await tick()
                ctx.set(dut.write, 0)
            elif kind == "dma":
                _, addr, data = op
                snoop(addr, data)
                await tick()
            elif kind == "dma_alias":
                # a write outside the cached region whose low bits are a cached
                # address's (a device's register, say)
                _, addr, data = op
                snoop(addr ^ (1 << 40), data)
                await tick()
            elif kind == "dma_load":
                # a DMA write to a word in the cycle its set is read for a lookup,
                # or in the cycle of the lookup (the tags see snoops a cycle late)
                _, when, addr, data, other = op
                await load_or_fill(addr)           # cached now
                hit = await load(addr if other is None else
                                 (addr & ~(line - 1)) | (other % line & ~7),
                                 dma=(when, addr, data))
                if other is None:
                    stats[f"dma_{when}_hit"] = stats.get(f"dma_{when}_hit", 0) + hit
                await load(addr)                   # whatever it says, a hit must be right
            elif kind == "fill_dma":
                # a DMA write to the line while it is being filled
                _, addr, data, when = op
                if not await load(addr):
                    line_base = addr & ~(line - 1)
                    target = line_base + 8 * (when % words_per_line)
                    await fill(addr, dma=(when, target, data))
                    await load(addr)       # whatever it says, a hit must be right
            elif kind == "fill_dma_any":
                # e.g. the line the fill replaces, in the cycle the fill ends
                _, addr, other, data, when = op
                if not await load(addr):
                    await fill(addr, dma=(when, other, data))
                    await load(addr)
                    await load(other)
            elif kind == "touch_during_fill":
                _, addr, other = op
                await load_or_fill(other)
                if not await load(addr):
                    await fill(addr, touching=other)
            elif kind == "flush":
                await invalidate_all()
                for probe in (BASE, BASE + 8, BASE + SPAN - 8):
                    assert not await load(probe), "a line survived invalidate_all"
            elif kind == "reset":
                # the reset held for op[1] cycles: lines of the sets it walked
                # miss after it, the others still hit
                cached = [a for a in range(BASE, BASE + SPAN, line) if await load(a)]
                ctx.set(domain.rst, 1)
                for _ in range(op[1]):
                    await tick()
                ctx.set(domain.rst, 0)
                beat[0] = 0
                stats["survived"] = [a for a in cached if await load(a)]
                stats["reset_cleared"] = len(cached) - len(stats["survived"])
            elif kind == "flush_wait":
                # invalidate_all, then lookups after its walk: every line missing
                cached = [a for a in range(BASE, BASE + SPAN, line) if await load(a)]
                await invalidate_all()
                for _ in range(dut.sets):
                    await tick()
                for a in cached:
                    assert not await load(a), f"line {a:#x} survived invalidate_all"
                stats["flushed"] = stats.get("flushed", 0) + len(cached)

    top = Module()
    top.domains.sync = domain = ClockDomain()
    top.submodules.dut = dut
    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return stats


@settings(max_examples=25, deadline=None)
@given(_ops(), st.integers(0, 1000))
def test_cache_random_against_flat_memory(ops, seed):
    run_ops(ops, seed=seed)


@settings(max_examples=10, deadline=None)
@given(_ops(), st.integers(0, 1000))
def test_direct_mapped_cache_random_against_flat_memory(ops, seed):
    run_ops(ops, size=512, ways=1, line=16, seed=seed)


@settings(max_examples=15, deadline=None)
@given(_ops(), st.integers(0, 1000), st.sampled_from([(1024, 2, 32), (512, 1, 16),
                                                      (2048, 2, 64)]))
def test_burst_fills_random_against_flat_memory(ops, seed, geometry):
    size, ways, line = geometry
    run_ops(ops, size=size, ways=ways, line=line, seed=seed, burst=True)


@settings(max_examples=15, deadline=None)
@given(_ops(), st.integers(0, 1000), st.booleans())
def test_read_only_cache_random_against_flat_memory(ops, seed, burst):
    # The instruction cache's kind (writable=False): fills, DMA writes, flushes
    # and lookups as above, no stores (it has no ports for them)
    run_ops([op for op in ops if op[0] != "store"], seed=seed, burst=burst, writable=False)


def test_a_read_only_cache_has_no_write_ports():
    members = dict(Cache(1024, 2, 32, writable=False).signature.members)
    assert "write" not in members and "write_sel" not in members
    assert "write_data" not in members and "fill" in members
    assert "write_data" in dict(Cache(1024, 2, 32).signature.members)


@settings(max_examples=15, deadline=None)
@given(_ops(), st.integers(0, 1000), st.booleans())
def test_region_tags_random_against_flat_memory(ops, seed, burst):
    # The operations' 4 KiB as the cached region: the 1 KiB 2-way cache's tags
    # keep address bits 9..11 alone
    run_ops(ops, seed=seed, burst=burst, region=(BASE, 12))


def test_region_tags_keep_the_region_bits_only():
    assert Cache(1024, 2, 32, region=(BASE, 12)).tag_hi == 12
    assert Cache(8192, 2, 32, region=(BASE, 16)).tag_hi == 16     # 4 tag bits
    assert Cache(8192, 2, 32).tag_hi == 56
    # a region no larger than a way keeps one (constant) bit
    assert Cache(8192, 2, 32, region=(BASE, 10)).tag_hi == 13
    with pytest.raises(ValueError, match="aligned"):
        Cache(1024, 2, 32, region=(BASE + 2048, 12))


def test_a_snoop_outside_the_region_leaves_the_lines():
    # A write outside the region to an address whose low bits are a cached
    # line's is not that line's (its tag, cut to the region's bits, would say
    # so): the line stays, the second load hits without a fill.
    for region in ((BASE, 12), None):
        stats = run_ops([("load", BASE + 64), ("dma_alias", BASE + 64, 5), ("load", BASE + 64)],
                        region=region)
        assert stats["fills"] == 1
        assert stats["hits"] == 2        # the reload after the fill, the second load


def test_repeated_loads_hit_and_evictions_refill():
    # Three lines of the same set in a 2-way cache: the third evicts the LRU one
    # (hits and fills make a line the most recently used).
    a, b, c = BASE, BASE + 512, BASE + 1024      # 1 KiB 2-way: 512 bytes per way
    stats = run_ops([("load", a), ("load", a), ("load", b), ("load", a), ("load", c),
                     ("load", a), ("load", b)])
    # fills: a, b, c, then b again (c replaced b, the least recently used)
    assert stats["fills"] == 4
    assert stats["hits"] == 7 - 4 + 4    # every fill is followed by a hitting reload


def test_dma_write_next_to_a_lookup():
    # The tags see a snooped write a cycle late: a DMA write to a cached word in
    # the cycle its set is read must still make the lookup of the next cycle miss;
    # one in the cycle of the lookup leaves that lookup its hit on the old word
    # (the load is ordered before the write), and the line is gone afterwards.
    for ways, line in ((2, 32), (1, 16)):
        size = 1024 if ways == 2 else 512
        stats = run_ops([("dma_load", "read", BASE + 8, 1, None),
                         ("dma_load", "lookup", BASE + 64, 2, None),
                         ("load", BASE + 64)], size=size, ways=ways, line=line)
        assert stats["dma_read_hit"] == 0
        assert stats["dma_lookup_hit"] == 1
        # fills: the two lines, then BASE + 64's again after its invalidation
        # (the last load of each dma_load missed: the line was invalid)
        assert stats["fills"] == 3


def test_store_updates_the_cached_copy():
    run_ops([("load", BASE), ("store", BASE, 0x1122334455667788, 0x0F), ("load", BASE)])


def test_geometry_is_checked():
    assert check_geometry(4096, 2, 32) is None
    assert "ways" in check_geometry(4096, 4, 32)
    assert "page" in check_geometry(16384, 2, 32)
    assert "power of two" in check_geometry(3072, 2, 32)


def test_invalidate_all_clears_every_line():
    # The walk clears every set of both ways: lines cached before (hit just
    # before it) all miss after it, and fill again.
    lines = [BASE + 32 * i for i in range(32)]       # 1 KiB, 2 ways: every line
    stats = run_ops([("load", a) for a in lines] + [("flush_wait",)] +
                    [("load", a) for a in lines])
    assert stats["flushed"] == 32
    assert stats["fills"] == 64


def test_a_held_reset_clears_every_line():
    # The caches' valid bits are in memories, which a reset does not clear: the
    # cache walks its sets while the reset is held.  Held reset_cycles (16 sets
    # here), every line misses after it and fills again.
    lines = [BASE + 32 * i for i in range(32)]       # 1 KiB, 2 ways: every line
    stats = run_ops([("load", a) for a in lines] + [("reset", 16)] +
                    [("load", a) for a in lines])
    assert stats["reset_cycles"] == 16
    assert stats["reset_cleared"] == 32 and stats["survived"] == []
    assert stats["fills"] == 64


def test_a_short_reset_clears_the_sets_it_walked():
    # Held 8 cycles from the walk counter's start, the reset clears sets 0-7
    # (both ways): 16 lines; the lines of sets 8-15 survive.  (Without the walk
    # all 32 would survive.)
    lines = [BASE + 32 * i for i in range(32)]
    stats = run_ops([("load", a) for a in lines] + [("reset", 8)])
    assert stats["reset_cleared"] == 16
    assert sorted(stats["survived"]) == [a for a in lines if (a >> 5) % 16 >= 8]


def test_poisoned_fill_leaves_no_stale_line():
    # Both ways of a set hold lines (a, b); a fill of c replaces the LRU one (a)
    # and a DMA write to c during that fill keeps c invalid.  The replaced line
    # must not stay valid over c's words: a is loaded again, from memory.
    a, b, c = BASE, BASE + 512, BASE + 1024
    for when in range(4):
        run_ops([("load", a), ("load", b), ("fill_dma", c, 5, when), ("load", a),
                 ("load", c), ("load", b)], burst=True)
        run_ops([("load", a), ("load", b), ("fill_dma", c, 5, when), ("load", a)])


def test_snoop_of_the_replaced_line_as_the_fill_ends():
    # A DMA write to the line being replaced (or the other way's line) in every
    # cycle of a fill: the snoop's invalidation and the fill's end meet on the
    # same set and way (the fill wins: its line is valid, the other one gone).
    a, b, c = BASE, BASE + 512, BASE + 1024
    for other in (a, b):
        for when in range(8):
            stats = run_ops([("load", a), ("load", b), ("fill_dma_any", c, other, 7, when),
                             ("load", c), ("load", a), ("load", b)], burst=True)
            assert stats["fills"] >= 4


def test_a_touch_as_a_fill_ends_is_caught():
    # The LRU memory's one write port takes a fill's end before a touch (the touch
    # would be lost): the cores never touch while their cache fills, and with
    # ``checks`` the cache asserts it.  Here the testbench breaks that promise.
    ops = [("touch_during_fill", BASE + 1024, BASE + 64)]
    with pytest.raises(AssertionError, match="a touch registered in the cycle a fill ends"):
        run_ops(ops, burst=True)
    assert run_ops(ops, burst=True, checks=False)["fills"] == 2


def test_a_snoop_in_the_cycle_of_a_beat_is_caught():
    # The valid bit of a line is written at the fill's last beat without the snoop
    # of that cycle (cache.py, ``commit_ok``): in the SoC a snooped write never
    # completes in the cycle of one of the cache's beats (one bus).  A testbench
    # that breaks that promise is caught with ``checks``.
    ops = [("load", BASE)] + [("fill_dma", BASE + 1024, 7, when) for when in range(6)]
    with pytest.raises(AssertionError, match="a snooped write in the cycle of a fill's beat"):
        run_ops(ops, burst=True, one_bus=False)
    run_ops(ops, burst=True)


def test_checks_are_left_out_of_the_netlist_unless_asked():
    from amaranth.back import rtlil
    assert "$check" not in rtlil.convert(Cache(size=1024))
    assert rtlil.convert(Cache(size=1024, checks=True)).count("cell $check") == 4
