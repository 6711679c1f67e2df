import random

from hypothesis import given, settings, strategies as st

from soc.plic import PLIC
from tests.soc.busutil import read, write
from tests.soc.conftest import run_sim

PEND = 0x1000


def enable(c):
    return 0x2000 + 0x80 * c


def thresh(c):
    return 0x20_0000 + 0x1000 * c


def claim(c):
    return 0x20_0004 + 0x1000 * c


def test_reset_values():
    dut = PLIC()
    out = {}

    async def bench(ctx):
        out["prio"] = [await read(ctx, dut.bus, 4 * i) for i in range(0, 32)]
        out["pend"] = await read(ctx, dut.bus, PEND)
        out["en"] = [await read(ctx, dut.bus, enable(c)) for c in (0, 1)]
        out["th"] = [await read(ctx, dut.bus, thresh(c)) for c in (0, 1)]
        out["cl"] = [await read(ctx, dut.bus, claim(c)) for c in (0, 1)]
        out["irq"] = ctx.get(dut.irq)

    run_sim(dut, bench)
    assert out["prio"] == [0] * 32
    assert out["pend"] == 0 and out["en"] == [0, 0] and out["th"] == [0, 0]
    assert out["cl"] == [0, 0] and out["irq"] == 0


def test_register_widths():
    dut = PLIC()
    out = {}

    async def bench(ctx):
        await write(ctx, dut.bus, 4 * 10, 0xFFFF_FFFF)
        out["p10"] = await read(ctx, dut.bus, 4 * 10)
        await write(ctx, dut.bus, 0, 7)              # source 0 has no priority
        out["p0"] = await read(ctx, dut.bus, 0)
        await write(ctx, dut.bus, enable(1), 0xFFFF_FFFF)
        out["en1"] = await read(ctx, dut.bus, enable(1))
        await write(ctx, dut.bus, thresh(0), 0x1F)
        out["th0"] = await read(ctx, dut.bus, thresh(0))
        # A 64-bit store writes two priorities at once.
        await write(ctx, dut.bus, 8, (5 << 32) | 3, 8)
        out["p2p3"] = (await read(ctx, dut.bus, 8), await read(ctx, dut.bus, 12))

    run_sim(dut, bench)
    assert out["p10"] == 7 and out["p0"] == 0
    assert out["en1"] == 0xFFFF_FFFE
    assert out["th0"] == 7
    assert out["p2p3"] == (3, 5)


def test_claim_complete_gateway_and_priority():
    dut = PLIC()
    out = {}

    async def bench(ctx):
        for src, p in ((1, 1), (10, 1), (5, 6)):
            await write(ctx, dut.bus, 4 * src, p)
        await write(ctx, dut.bus, enable(1), (1 << 1) | (1 << 10) | (1 << 5))
        ctx.set(dut.sources_in, (1 << 10) | (1 << 1))
        await ctx.tick().repeat(3)
        out["pend"] = await read(ctx, dut.bus, PEND)
        out["irq"] = ctx.get(dut.irq)
        # Equal priorities: the lower id wins.
        out["c1"] = await read(ctx, dut.bus, claim(1))
        out["pend2"] = await read(ctx, dut.bus, PEND)
        # Source 1's line stays high but it is in service: not pending again.
        await ctx.tick().repeat(3)
        out["pend3"] = await read(ctx, dut.bus, PEND)
        out["c2"] = await read(ctx, dut.bus, claim(1))
        out["c3"] = await read(ctx, dut.bus, claim(1))
        await ctx.tick().repeat(2)
        out["irq_none"] = ctx.get(dut.irq)
        # Completing with a source that is not enabled is ignored.
        await write(ctx, dut.bus, claim(1), 7)
        # Drop source 10, complete 10: it stays quiet; complete 1 (still high): again pending.
        ctx.set(dut.sources_in, 1 << 1)
        await write(ctx, dut.bus, claim(1), 10)
        await write(ctx, dut.bus, claim(1), 1)
        await ctx.tick().repeat(2)
        out["pend4"] = await read(ctx, dut.bus, PEND)
        # A higher priority source preempts.
        ctx.set(dut.sources_in, (1 << 1) | (1 << 5))
        await ctx.tick().repeat(2)
        out["c4"] = await read(ctx, dut.bus, claim(1))
        # Threshold: only priorities above it interrupt.
        await write(ctx, dut.bus, thresh(1), 1)
        await ctx.tick().repeat(2)
        out["irq_th"] = ctx.get(dut.irq)
        out["c5"] = await read(ctx, dut.bus, claim(1))
        await write(ctx, dut.bus, thresh(1), 0)
        await ctx.tick().repeat(2)
        out["irq_th0"] = ctx.get(dut.irq)
        # Context 0 has nothing enabled.
        out["c0"] = await read(ctx, dut.bus, claim(0))

    run_sim(dut, bench)
    assert out["pend"] == (1 << 1) | (1 << 10)
    assert out["irq"] == 0b10
    assert out["c1"] == 1
    assert out["pend2"] == 1 << 10
    assert out["pend3"] == 1 << 10
    assert out["c2"] == 10
    assert out["c3"] == 0
    assert out["irq_none"] == 0
    assert out["pend4"] == 1 << 1
    assert out["c4"] == 5
    assert out["irq_th"] == 0 and out["c5"] == 0
    assert out["irq_th0"] == 0b10


def test_priority_zero_never_interrupts():
    dut = PLIC()
    out = {}

    async def bench(ctx):
        await write(ctx, dut.bus, enable(0), 1 << 3)
        ctx.set(dut.sources_in, 1 << 3)
        await ctx.tick().repeat(3)
        out["irq"] = ctx.get(dut.irq)
        out["pend"] = await read(ctx, dut.bus, PEND)
        out["claim"] = await read(ctx, dut.bus, claim(0))

    run_sim(dut, bench)
    assert out == {"irq": 0, "pend": 1 << 3, "claim": 0}


class PlicModel:
    def __init__(self, n=31):
        self.n = n
        self.prio = [0] * (n + 1)
        self.pending = 0
        self.service = 0
        self.enable = [0, 0]
        self.thr = [0, 0]

    def sample(self, lines):
        self.pending |= lines & ~self.service & ~1

    def best(self, c):
        best, bp = 0, 0
        for i in range(1, self.n + 1):
            if (self.pending >> i) & 1 and (self.enable[c] >> i) & 1 and self.prio[i] > bp:
                best, bp = i, self.prio[i]
        return best if bp > self.thr[c] else 0

    def claim(self, c):
        i = self.best(c)
        if i:
            self.pending &= ~(1 << i)
            self.service |= 1 << i
        return i

    def complete(self, c, i):
        if i <= self.n and (self.enable[c] >> i) & 1:
            self.service &= ~(1 << i)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_against_model(seed):
    rng = random.Random(seed)
    dut = PLIC()
    model = PlicModel()
    mism = []

    async def bench(ctx):
        lines = 0
        for _ in range(40):
            op = rng.randrange(6)
            c = rng.randrange(2)
            if op == 0:
                i, p = rng.randrange(1, 32), rng.randrange(8)
                await write(ctx, dut.bus, 4 * i, p)
                model.prio[i] = p
            elif op == 1:
                v = rng.getrandbits(32)
                await write(ctx, dut.bus, enable(c), v)
                model.enable[c] = v & ~1
            elif op == 2:
                t = rng.randrange(4)
                await write(ctx, dut.bus, thresh(c), t)
                model.thr[c] = t
            elif op == 3:
                got = await read(ctx, dut.bus, claim(c))
                want = model.claim(c)
                if got != want:
                    mism.append(("claim", got, want))
            elif op == 4:
                i = rng.randrange(32)
                await write(ctx, dut.bus, claim(c), i)
                model.complete(c, i)
            else:
                lines = rng.getrandbits(32) & ~1
                ctx.set(dut.sources_in, lines)
            # Let gateways and the irq registers settle, then compare.
            await ctx.tick().repeat(2)
            model.sample(lines)
            got_p = await read(ctx, dut.bus, PEND)
            model.sample(lines)
            if got_p != model.pending:
                mism.append(("pending", hex(got_p), hex(model.pending)))
            want_irq = sum((model.best(k) != 0) << k for k in range(2))
            await ctx.tick()
            if ctx.get(dut.irq) != want_irq:
                mism.append(("irq", ctx.get(dut.irq), want_irq))

    run_sim(dut, bench)
    assert mism == []


def test_a_claim_right_after_a_write_sees_it():
    """Why the PLIC decodes its writes in the request's cycle (soc/plic.py): a claim
    right after a write of a priority, an enable or a threshold returns the source the
    written value makes the best.  The search runs into a register, so a write decoded
    a cycle later would reach the claim a cycle too late."""
    dut = PLIC()
    out = []

    async def bench(ctx):
        ctx.set(dut.sources_in, (1 << 3) | (1 << 7))
        await write(ctx, dut.bus, 4 * 3, 2)
        await write(ctx, dut.bus, 4 * 7, 1)
        await write(ctx, dut.bus, enable(0), 1 << 7)
        out.append(await read(ctx, dut.bus, claim(0)))       # 7, the only one enabled
        await write(ctx, dut.bus, claim(0), 7)
        await write(ctx, dut.bus, enable(0), (1 << 3) | (1 << 7))
        out.append(await read(ctx, dut.bus, claim(0)))       # 3: priority 2 > 1
        await write(ctx, dut.bus, claim(0), 3)
        await write(ctx, dut.bus, 4 * 7, 5)
        out.append(await read(ctx, dut.bus, claim(0)))       # 7: now priority 5
        await write(ctx, dut.bus, claim(0), 7)
        await write(ctx, dut.bus, thresh(0), 5)
        out.append(await read(ctx, dut.bus, claim(0)))       # none above 5
        await write(ctx, dut.bus, thresh(0), 1)
        out.append(await read(ctx, dut.bus, claim(0)))       # 7 again (5 > 1)

    run_sim(dut, bench)
    assert out == [7, 3, 7, 0, 7]
