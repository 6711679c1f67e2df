"""The SD host in SPI mode against the card model: initialization of each kind of card,
reads and writes through the storage port, and every failure ending in an error
response (never a hang)."""

import random

import pytest

from soc.sdcard.host import SDCardHost, STATUS
from soc.sdcard.model import SDCardModel
from soc.sdcard.proto import SDError, R1, DATA_ERROR
from amaranth.sim import Simulator

from tests.soc.sdcard.hostbench import CLK_FREQ, FAST_TIMEOUTS, HostCard, Requester, run

SECTORS = 32
IMAGE = bytes(random.Random(7).randrange(256) for _ in range(SECTORS * 512))
ZERO = bytes(512)


def sector(n):
    return IMAGE[512 * n:512 * n + 512]


def host(**kw):
    return SDCardHost(clk_freq=CLK_FREQ, **{**FAST_TIMEOUTS, **kw})


def card(**kw):
    return SDCardModel(size=SECTORS * 512, **kw)


@pytest.mark.parametrize("kind, flags", [
    ("sdhc", STATUS.READY | STATUS.HIGH_CAPACITY | STATUS.V2),
    ("sdsc", STATUS.READY | STATUS.V2),
    ("sdv1", STATUS.READY),
])
def test_init_read_write_each_kind(kind, flags):
    block = bytes((3 * k + 1) & 0xFF for k in range(512))

    async def bench(ctx, req):
        await req.set_window(4, 20)
        before = await req.status()
        first = await req.read(3)                    # card block 7
        wrote = await req.write(10, block)           # card block 14
        again = await req.read(10)
        return before, first, wrote, again, await req.status(), c.dump(ctx, 13 * 512, 3 * 512)
    c = card(kind=kind)
    before, first, wrote, again, status, around = run(host(), c, bench, IMAGE)
    assert before == (0, SDError.NONE, 0)
    assert first == (sector(7), False)
    assert (wrote, again) == (False, (block, False))
    assert status == (flags, SDError.NONE, 0)
    assert around == sector(13) + block + sector(15)


def test_window_bounds_and_capacity():
    async def bench(ctx, req):
        await req.set_window(30, 5)
        capacity = ctx.get(req.port.capacity)
        outside = await req.read(5)                  # beyond SIZE: the card is not asked
        status = await req.status()
        inside = await req.read(1)                   # card block 31
        beyond_card = await req.read(3)              # card block 33: the card says no
        return capacity, outside, status, inside, beyond_card, await req.status()
    capacity, outside, status, inside, beyond, status2 = run(host(), card(), bench, IMAGE)
    assert capacity == 5
    assert outside == (ZERO, True) and status == (0, SDError.RANGE, 0)
    assert inside == (sector(31), False)
    assert beyond == (ZERO, True)
    assert status2[1:] == (SDError.CMD_REJECTED, R1.PARAMETER_ERROR)
    assert status2[0] & STATUS.READY           # a rejected command does not lose the card


def test_sdsc_byte_addresses_limit_the_card_to_4_gib():
    async def bench(ctx, req):
        await req.set_window(1 << 23, 4)           # byte address 4 GiB: not expressible
        return await req.read(0), await req.status()
    out, status = run(host(), card(kind="sdsc"), bench, IMAGE)
    assert out == (ZERO, True) and status[1] == SDError.RANGE


def test_no_card():
    async def bench(ctx, req):
        await req.set_window(0, 8)
        ctx.set(c.present, 0)
        r = await req.read(0)
        w = await req.write(1, sector(5))
        return r, w, await req.status()
    c = card()
    r, w, status = run(host(), c, bench)
    assert r == (ZERO, True) and w is True
    assert status == (0, SDError.NO_CARD, 0xFF)


def test_card_removed_and_put_back():
    async def bench(ctx, req):
        await req.set_window(0, 8)
        ok = await req.read(2)
        ctx.set(c.present, 0)
        gone = await req.read(2)
        lost = await req.status()
        ctx.set(c.present, 1)
        back = await req.read(2)                     # initialized again
        return ok, gone, lost, back, await req.status()
    c = card()
    ok, gone, lost, back, status = run(host(), c, bench, IMAGE)
    assert ok == back == (sector(2), False)
    assert gone == (ZERO, True)
    # READY is gone; the kind of card found by the last initialization stays shown.
    assert lost == (STATUS.HIGH_CAPACITY | STATUS.V2, SDError.NO_RESPONSE, 0xFF)
    assert status[0] & STATUS.READY


def test_card_that_never_finishes_initializing():
    async def bench(ctx, req):
        await req.set_window(0, 8)
        return await req.read(0), await req.status()
    out, status = run(host(), card(init_polls=100), bench)
    assert out == (ZERO, True)
    assert status == (STATUS.V2, SDError.INIT_TIMEOUT, R1.IN_IDLE_STATE)


def test_read_timeout_and_error_token():
    async def bench(ctx, req):
        await req.set_window(0, 8)
        return await req.read(1), await req.status(), await req.read(6), await req.status()
    # 150 bytes of N_AC outlast the read timeout (about 100 bytes).
    slow, status, _, _ = run(host(), card(nac=150), bench, IMAGE)
    assert slow == (ZERO, True) and status[1:] == (SDError.READ_TIMEOUT, 0xFF)

    _, _, bad, status = run(host(), card(bad_sectors=(6,)), bench, IMAGE)
    assert bad == (ZERO, True)
    assert status[1:] == (SDError.READ_TOKEN, DATA_ERROR.CARD_ECC_FAILED)


def test_a_slow_card_within_the_timeouts_works():
    async def bench(ctx, req):
        await req.set_window(0, 8)
        return await req.read(1), await req.write(2, sector(9)), await req.read(2)
    c = card(ncr=8, nac=60, busy=60, init_polls=15)
    r1, w, r2 = run(host(), c, bench, IMAGE)
    assert r1 == (sector(1), False) and w is False and r2 == (sector(9), False)


def test_read_crc_error():
    async def bench(ctx, req):
        await req.set_window(0, 8)
        return await req.read(1), await req.status()
    out, status = run(host(), card(corrupt_read_crc=True), bench, IMAGE)
    assert out == (sector(1), True)             # the data came, but it cannot be trusted
    assert status[1] == SDError.READ_CRC


def test_write_rejected_and_write_timeout():
    async def bench(ctx, req):
        await req.set_window(0, 8)
        return await req.write(3, ZERO), await req.status()
    err, status = run(host(), card(bad_sectors=(3,)), bench, IMAGE)
    assert err is True and status[1:] == (SDError.WRITE_REJECTED, 0xED)

    err, status = run(host(), card(busy=150), bench, IMAGE)
    assert err is True and status[1:] == (SDError.WRITE_TIMEOUT, 0)


def test_spi_clock_rates():
    """At 10 MHz: at most 400 kHz until the card is initialized (half period 13 cycles:
    385 kHz), then the data clock (fast_hz = 2.5 MHz: half period 2 cycles)."""
    clk = 10_000_000
    h = SDCardHost(clk_freq=clk, fast_hz=2_500_000, power_up=1e-5)
    c = card()
    periods = []
    done = []

    async def reader(ctx):
        c.load(ctx, 0, IMAGE)
        req = Requester(ctx, h)
        await req.set_window(0, 4)
        done.append(await req.read(1))

    async def sampler(ctx):
        cycle, last_rise, prev = 0, None, 0
        while not done:
            level = ctx.get(h.sd.clk)
            if level and not prev:
                if last_rise is not None:
                    periods.append(cycle - last_rise)
                last_rise = cycle
            prev = level
            cycle += 1
            await ctx.tick()

    sim = Simulator(HostCard(h, c))
    sim.add_clock(1 / clk)
    sim.add_testbench(reader)
    sim.add_testbench(sampler)
    sim.run()
    assert done == [(sector(1), False)]
    # Slow periods, then fast ones; between bytes (and commands) the clock may rest
    # low longer, so only the shortest period of each phase is exact.
    first_fast = next(i for i, p in enumerate(periods) if p < 26)
    slow, fast = periods[:first_fast], periods[first_fast:]
    assert min(slow) == 26 and len(slow) > 80 + 6 * 8
    assert min(fast) == 4 and fast.count(4) > 512 * 7
