"""The fully-associative TLB: hits, misses, refill, replacement, sfence variants."""

import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from amaranth.sim import Simulator

from hw.mmu.tlb import TLB


def entry(vpn, ppn=0, level=0, asid=0, g=0, perms="rwxuad"):
    e = {"valid": 1, "vpn": vpn, "level": level, "asid": asid, "g": g, "ppn": ppn}
    for p in "rwxuad":
        e[p] = int(p in perms)
    return e


def vpn_of(va):
    return (va >> 12) & ((1 << 27) - 1)


class Driver:
    """Testbench-side access to a TLB instance."""

    def __init__(self, dut, ctx):
        self.dut, self.ctx = dut, ctx

    def lookup(self, vpn, asid, touch=False):
        d, ctx = self.dut, self.ctx
        ctx.set(d.lookup_vpn, vpn)
        ctx.set(d.lookup_asid, asid)
        ctx.set(d.touch, int(touch))
        if not ctx.get(d.hit):
            return None
        e = ctx.get(d.hit_entry)
        return ctx.get(d.hit_index), {k: getattr(e, k) for k in ("vpn", "level", "asid", "g",
                                                                  "ppn")}

    async def commit_touch(self):
        await self.ctx.tick()
        self.ctx.set(self.dut.touch, 0)

    def victim(self):
        return self.ctx.get(self.dut.victim)

    async def fill(self, index, e):
        d, ctx = self.dut, self.ctx
        ctx.set(d.fill_valid, 1)
        ctx.set(d.fill_index, index)
        ctx.set(d.fill_entry, e)
        await ctx.tick()
        ctx.set(d.fill_valid, 0)

    async def flush(self, vpn=0, asid=0, all_vaddr=0, all_asid=0):
        d, ctx = self.dut, self.ctx
        ctx.set(d.flush_valid, 1)
        ctx.set(d.flush_vpn, vpn)
        ctx.set(d.flush_asid, asid)
        ctx.set(d.flush_all_vaddr, all_vaddr)
        ctx.set(d.flush_all_asid, all_asid)
        await ctx.tick()
        ctx.set(d.flush_valid, 0)


def run(dut, body):
    sim = Simulator(dut)
    sim.add_clock(1e-6)

    async def bench(ctx):
        await body(Driver(dut, ctx))
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("policy", ["fifo", "plru"])
def test_hit_miss_refill_and_asid(policy):
    dut = TLB(4, policy)

    async def body(t):
        assert t.lookup(0x123, 1) is None
        assert t.victim() == 0
        await t.fill(t.victim(), entry(0x123, ppn=0x80042, asid=1))
        assert t.lookup(0x123, 1) == (0, {"vpn": 0x123, "level": 0, "asid": 1, "g": 0,
                                          "ppn": 0x80042})
        assert t.lookup(0x123, 2) is None            # other address space
        assert t.lookup(0x124, 1) is None            # neighbour page
        assert t.victim() == 1                        # next free slot
        await t.fill(1, entry(0x200, ppn=7, asid=3, g=1))
        assert t.lookup(0x200, 9)[0] == 1             # global: any ASID hits
    run(dut, body)


def test_superpages_hit_anywhere_inside():
    dut = TLB(4, "fifo")
    mega = vpn_of(0x4020_0000)
    giga = vpn_of(0x80_0000_0000 - (1 << 30))      # the last 1 GiB of the low half

    async def body(t):
        await t.fill(0, entry(mega, ppn=0x80400, level=1))
        await t.fill(1, entry(giga, ppn=0xc0000, level=2))
        for off in (0, 0x1000, 0x1f_f000):
            assert t.lookup(vpn_of(0x4020_0000 + off), 0)[0] == 0
        assert t.lookup(vpn_of(0x4040_0000), 0) is None
        assert t.lookup(vpn_of(0x401f_f000), 0) is None
        for off in (0, 0x1234_5000, 0x3fff_f000):
            assert t.lookup(giga + (off >> 12), 0)[0] == 1
        assert t.lookup(giga - 1, 0) is None
    run(dut, body)


def test_fifo_replacement_order():
    dut = TLB(4, "fifo")

    async def body(t):
        for i in range(4):
            assert t.victim() == i
            await t.fill(t.victim(), entry(0x10 + i, ppn=i))
        # Full: round-robin from slot 0, regardless of hits.
        assert t.lookup(0x10, 0, touch=True)[0] == 0
        await t.commit_touch()
        assert t.victim() == 0
        await t.fill(0, entry(0x20, ppn=0x20))
        assert t.lookup(0x10, 0) is None              # evicted the oldest
        assert t.lookup(0x20, 0)[0] == 0
        assert t.victim() == 1
        await t.fill(1, entry(0x21))
        assert t.lookup(0x11, 0) is None
        assert t.victim() == 2
        # A flushed slot is reused before the pointer moves on.
        await t.flush(vpn=0x13, all_asid=1)
        assert t.victim() == 3
        await t.fill(3, entry(0x22))
        assert t.victim() == 2
    run(dut, body)


def test_plru_replacement_order():
    dut = TLB(4, "plru")

    async def body(t):
        for i in range(4):
            await t.fill(t.victim(), entry(0x10 + i))
        assert t.victim() == 0                        # least recently filled
        t.lookup(0x10, 0, touch=True)
        await t.commit_touch()
        assert t.victim() == 2                        # tree points at the other half
        t.lookup(0x12, 0, touch=True)
        await t.commit_touch()
        assert t.victim() == 1                        # 1 is now the oldest
        await t.fill(1, entry(0x30))
        assert t.lookup(0x11, 0) is None
        assert t.victim() == 3
    run(dut, body)


def test_flush_variants_and_global_survival():
    dut = TLB(8, "fifo")
    layout = [
        entry(0x100, asid=1),          # 0
        entry(0x100, asid=2),          # 1
        entry(0x101, asid=1),          # 2
        entry(0x100, asid=7, g=1),     # 3 global, same page
        entry(0x200, asid=1, g=1),     # 4 global
        entry(vpn_of(0x4000_0000), level=1, asid=1),   # 5: 2 MiB page at 0x4000_0000
    ]

    async def refill(t):
        await t.flush(all_vaddr=1, all_asid=1)
        for i, e in enumerate(layout):
            await t.fill(i, e)

    async def body(t):
        # By ASID: non-global entries of ASID 1 go; globals stay.
        await refill(t)
        await t.flush(asid=1, all_vaddr=1)
        assert _valid_slots(t, layout) == {1, 3, 4}
        # By address (any ASID, globals included).
        await refill(t)
        await t.flush(vpn=0x100, all_asid=1)
        assert _valid_slots(t, layout) == {2, 4, 5}
        # By address inside a superpage.
        await refill(t)
        await t.flush(vpn=vpn_of(0x4012_3000), all_asid=1)
        assert _valid_slots(t, layout) == {0, 1, 2, 3, 4}
        # By both: only that page in that address space, not globals.
        await refill(t)
        await t.flush(vpn=0x100, asid=1)
        assert _valid_slots(t, layout) == {1, 2, 3, 4, 5}
        await refill(t)
        await t.flush(vpn=0x200, asid=1)
        assert _valid_slots(t, layout) == {0, 1, 2, 3, 4, 5}
        # Everything.
        await t.flush(all_vaddr=1, all_asid=1)
        assert _valid_slots(t, layout) == set()
    run(dut, body)


def _valid_slots(t, layout):
    """Slots that answer a lookup of their own page and ASID.

    The layout is chosen so that no lower slot matches another slot's own
    (page, ASID), so a hit on slot i means slot i is still valid.
    """
    found = set()
    for i, e in enumerate(layout):
        r = t.lookup(e["vpn"], e["asid"])
        if r is not None and r[0] == i:
            found.add(i)
    return found


# ---------------------------------------------------------------------------
# Random operation sequences against a Python model of the same TLB.

class TLBModel:
    def __init__(self, n, policy):
        self.n, self.policy = n, policy
        self.slots = [None] * n
        self.pointer = 0
        self.tree = [0] * max(1, n - 1)

    @staticmethod
    def covers(e, vpn):
        shift = 9 * e["level"]
        return (e["vpn"] >> shift) == (vpn >> shift)

    def lookup(self, vpn, asid):
        for i, e in enumerate(self.slots):
            if e and (e["g"] or e["asid"] == asid) and self.covers(e, vpn):
                return i
        return None

    def victim(self):
        for i, e in enumerate(self.slots):
            if e is None:
                return i
        if self.policy == "fifo":
            return self.pointer
        node, index = 0, 0
        depth = (self.n - 1).bit_length()
        for d in range(depth):
            bit = self.tree[node]
            index = index * 2 + bit
            node = 2 * node + 1 + bit
        return index

    def mark(self, index):
        if self.policy != "plru":
            return
        depth = (self.n - 1).bit_length()
        node = 0
        for d in range(depth):
            bit = (index >> (depth - 1 - d)) & 1
            self.tree[node] = 1 - bit
            node = 2 * node + 1 + bit

    def fill(self, index, e):
        if self.policy == "fifo" and all(self.slots) and index == self.pointer:
            self.pointer = (self.pointer + 1) % self.n
        self.slots[index] = dict(e)
        self.mark(index)

    def flush(self, vpn, asid, all_vaddr, all_asid):
        for i, e in enumerate(self.slots):
            if e is None:
                continue
            if (all_vaddr or self.covers(e, vpn)) and (all_asid or (not e["g"] and
                                                                  e["asid"] == asid)):
                self.slots[i] = None


VPNS = [0x0, 0x1, 0x200, 0x201, 0x40000, 0x40001, 0x7ffffff]

op_strategy = st.one_of(
    st.tuples(st.just("lookup"), st.sampled_from(VPNS), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("fill"), st.sampled_from(VPNS), st.integers(0, 2), st.integers(0, 2),
              st.booleans(), st.booleans(), st.integers(0, 15)),
    st.tuples(st.just("flush"), st.sampled_from(VPNS), st.integers(0, 2), st.booleans(),
              st.booleans()),
)


@pytest.mark.parametrize("policy,n", [("fifo", 4), ("fifo", 3), ("plru", 4), ("plru", 8)])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op_strategy, min_size=1, max_size=40))
def test_random_against_model(policy, n, ops):
    dut = TLB(n, policy)
    model = TLBModel(n, policy)

    async def body(t):
        for op in ops:
            if op[0] == "lookup":
                _, vpn, asid, touch = op
                r = t.lookup(vpn, asid, touch)
                want = model.lookup(vpn, asid)
                got = None if r is None else r[0]
                assert got == want
                if touch and want is not None:
                    model.mark(want)
                await t.commit_touch()
            elif op[0] == "fill":
                _, vpn, asid, level, g, use_victim, rnd = op
                idx = model.victim() if use_victim else rnd % n
                assert t.victim() == model.victim()
                e = entry(vpn, ppn=vpn ^ 0x5a5, level=level, asid=asid, g=int(g))
                await t.fill(idx, e)
                model.fill(idx, e)
            else:
                _, vpn, asid, all_vaddr, all_asid = op
                await t.flush(vpn, asid, int(all_vaddr), int(all_asid))
                model.flush(vpn, asid, all_vaddr, all_asid)
            assert t.victim() == model.victim()
    run(dut, body)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="replacement"):
        TLB(4, "lru")
    with pytest.raises(ValueError, match="power-of-two"):
        TLB(6, "plru")
    with pytest.raises(ValueError, match="at least one"):
        TLB(0)


@pytest.mark.parametrize("entries", [1, 3, 5, 8, 16])
def test_lowest_matching_slot_wins(entries):
    """Slots that cover the same page (a 4 KiB page inside a 2 MiB one, or a global
    and an ASID's entry): the lookup reports the lowest-numbered of them, its index
    and its tags and data, through the whole tree of picks."""
    dut = TLB(entries, "fifo")
    vpn = 0x2_0345

    async def body(t):
        # every slot covers vpn, slot i with ppn 0x100 + i (a 2 MiB page in the odd
        # slots, global in every third)
        for i in range(entries):
            level = i % 2
            t_vpn = vpn & ~0x1FF if level else vpn
            await t.fill(i, entry(t_vpn, ppn=0x100 + i, level=level, asid=7, g=int(i % 3 == 2)))
        for low in range(entries):
            got = t.lookup(vpn, 7)
            assert got is not None and got[0] == low
            assert got[1]["ppn"] == 0x100 + low and got[1]["level"] == low % 2
            assert got[1]["g"] == int(low % 3 == 2)
            assert got[1]["vpn"] == (vpn & ~0x1FF if low % 2 else vpn)
            # drop the lowest: flush it alone by moving it out of the way (refill
            # the slot with another page)
            await t.fill(low, entry(0x7_0000 + low, ppn=0x999))
        assert t.lookup(vpn, 7) is None

    run(dut, body)
