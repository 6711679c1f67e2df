# amaranth: UnusedElaboratable=no
"""Bursts on the SoC bus (hw/bus.py): RAM timing and latency, decoder and arbiter.

Every run puts a BusChecker (protocol rules + flat reference memory) on the ports
involved; random transfer mixes come from hypothesis."""

import random

from amaranth import *
from amaranth.lib import wiring
from hypothesis import given, settings, strategies as st
import pytest

from soc import memmap
from soc.interconnect import Arbiter, Decoder
from soc.ram import RAM
from tests.soc.busutil import (BusChecker, FlatMemory, MemorySlave, burst, lane_mask,
                               read, run_mix, transfer, transfer_mix, words, write)
from tests.soc.conftest import run_sim

LO, HI = 0x1000_0000, 0x8000_0000
LO_SIZE, HI_SIZE = 256, 4096


class Fabric(Elaboratable):
    """Two masters -> arbiter -> decoder -> "lo" (a RAM as a device: no bursts) and
    "hi" (bursts): a RAM of the given latency, or nothing (``hi_ram=False``: a
    testbench serves ``dec.hi``)."""

    def __init__(self, latency=1, hi_ram=True, staged=False, registered=()):
        self.arb = Arbiter(2)
        self.lo = RAM(size=LO_SIZE, base=LO)
        self.hi = RAM(size=HI_SIZE, base=HI, latency=latency) if hi_ram else None
        self.dec = Decoder([memmap.Region("lo", LO, LO_SIZE), memmap.Region("hi", HI, HI_SIZE)],
                           bursts={"hi"}, staged=staged, registered=registered)

    def elaborate(self, platform):
        m = Module()
        m.submodules.arb = self.arb
        m.submodules.dec = self.dec
        m.submodules.lo = self.lo
        wiring.connect(m, self.arb.bus, self.dec.bus)
        wiring.connect(m, self.dec.lo, self.lo.bus)
        if self.hi is not None:
            m.submodules.hi = self.hi
            wiring.connect(m, self.dec.hi, self.hi.bus)
        return m


# --- the RAM alone ------------------------------------------------------------------

@pytest.mark.parametrize("latency", [1, 2, 5])
def test_ram_latency_and_burst_timing(latency):
    dut = RAM(size=4096, latency=latency)
    check = BusChecker(dut.bus, memory=FlatMemory(0, 4096))
    data = words(random.Random(latency), 8)
    out = {}

    async def bench(ctx):
        out["single"] = await transfer(ctx, dut.bus, 0x40, 8, write=True, value=7)
        out["wburst"] = await burst(ctx, dut.bus, 0x80, 8, write=True, data=data)
        out["rburst"] = await burst(ctx, dut.bus, 0x80, 8)
        out["r16"] = await burst(ctx, dut.bus, 0x00, 16)

    sim = run_sim(dut, bench, processes=[check.process])
    assert check.violations == []
    # First beat `latency` cycles after the request, then one beat per cycle.
    assert out["single"] == (0, False, latency)
    assert out["wburst"] == ([0] * 8, False, latency)
    assert out["rburst"] == (data, False, latency)
    assert out["r16"][2] == latency
    assert out["r16"][0][8] == 7 and out["r16"][0][16:] == [] and out["r16"][0][:8] == [0] * 8
    read_beats = [c for c, a, w, d, e in check.beats if not w and 0x80 <= a < 0xC0]
    assert [b - a for a, b in zip(read_beats, read_beats[1:])] == [1] * 7
    assert check.transfers == 4


@pytest.mark.parametrize("staged, registered, waits", [(False, (), 1), (True, (), 2),
                                                      (True, {"lo"}, 3)])
def test_staged_and_registered_device_answers(staged, registered, waits):
    # A device's access: answered a cycle after the request (its RAM's latency), a
    # cycle later again with its request from the decoder's registers (staged),
    # and once more with its answer through them (registered).  The device sees
    # exactly one transfer per access, and both ports keep the protocol.
    dut = Fabric(staged=staged, registered=registered)
    master = BusChecker(dut.arb.masters[0], name="master")
    device = BusChecker(dut.dec.lo, memory=FlatMemory(LO, LO_SIZE), offset=LO, name="lo")
    out = []

    async def bench(ctx):
        bus = dut.arb.masters[0]
        for k in range(4):
            out.append(await transfer(ctx, bus, LO + 8 * k, 8, write=True, value=0x11 * (k + 1)))
        for k in range(4):
            out.append(await transfer(ctx, bus, LO + 8 * k, 4 << (k % 2)))
        out.append(await transfer(ctx, bus, HI, 8))            # RAM: never staged

    run_sim(dut, bench, processes=[master.process, device.process])
    assert master.violations == [] and device.violations == []
    assert out[:4] == [(0, False, waits)] * 4
    assert out[4:8] == [(0x11, False, waits), (0x22, False, waits), (0x33, False, waits),
                        (0x44, False, waits)]
    assert out[8] == (0, False, 1)
    assert device.transfers == 8 and master.transfers == 9


def test_registered_regions_must_be_staged_devices():
    regions = [memmap.Region("lo", LO, LO_SIZE), memmap.Region("hi", HI, HI_SIZE)]
    for kwargs in ({"registered": {"lo"}}, {"staged": True, "registered": {"hi"}},
                   {"staged": True, "registered": {"nowhere"}}):
        with pytest.raises(ValueError, match="registered regions"):
            Decoder(regions, bursts={"hi"}, **kwargs)


def test_ram_latency_must_be_positive():
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="latency"):
            RAM(size=64, latency=bad)


def test_ram_write_burst_with_byte_lanes():
    dut = RAM(size=256)
    check = BusChecker(dut.bus, memory=FlatMemory(0, 256))
    out = {}

    async def bench(ctx):
        await burst(ctx, dut.bus, 0x40, 4, write=True, data=[~0 & (2**64 - 1)] * 4)
        await burst(ctx, dut.bus, 0x40, 4, write=True, sel=0b1010_0101,
                    data=[0x1111_1111_1111_1111 * k for k in range(1, 5)])
        out["r"] = (await burst(ctx, dut.bus, 0x40, 4))[0]

    run_sim(dut, bench, processes=[check.process])
    assert check.violations == []
    m = lane_mask(0b1010_0101)
    assert out["r"] == [(2**64 - 1) & ~m | (0x1111_1111_1111_1111 * k) & m for k in range(1, 5)]


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), transfer_mix)
def test_ram_random_transfers_against_reference(latency, ops):
    dut = RAM(size=1024, latency=latency)
    check = BusChecker(dut.bus, memory=FlatMemory(0, 1024))
    out = {}

    async def bench(ctx):
        out["bad"] = await run_mix(ctx, dut.bus, ops, 0, 1024, FlatMemory(0, 1024))

    run_sim(dut, bench, processes=[check.process])
    assert check.violations == []
    assert out["bad"] == []
    assert check.transfers == len(ops)


# --- decoder -------------------------------------------------------------------------

def test_decoder_refuses_bursts_to_devices():
    dut = Fabric()
    bus = dut.arb.masters[0]
    lo_check = BusChecker(dut.dec.lo, name="lo")
    out = {}

    async def bench(ctx):
        await write(ctx, bus, LO + 0x20, 0x1234, 8)            # a single access works
        out["wr"] = await burst(ctx, bus, LO + 0x20, 4, write=True, data=[9, 9, 9, 9])
        out["rd"] = await burst(ctx, bus, LO + 0x40, 2)
        out["unmapped"] = await burst(ctx, bus, 0x4000_0000, 8)
        out["lo"] = await read(ctx, bus, LO + 0x20, 8)
        out["hi"] = await burst(ctx, bus, HI + 0x40, 2, write=True, data=[1, 2])

    run_sim(dut, bench, processes=[lo_check.process])
    # Error on the first beat, one cycle after the request (like a device's answer),
    # and the device never saw the burst.
    assert out["wr"] == ([0], True, 1)
    assert out["rd"] == ([0], True, 1)
    assert out["unmapped"] == ([0], True, 1)
    assert out["lo"] == 0x1234
    assert out["hi"] == ([0, 0], False, 1)
    assert lo_check.violations == [] and lo_check.transfers == 2   # the two single accesses


def test_decoder_rejects_unknown_burst_region():
    with pytest.raises(ValueError, match="not regions"):
        Decoder([memmap.Region("a", 0x1000, 0x1000)], bursts={"b"})


# --- arbiter ----------------------------------------------------------------------

def fabric_run(dut, benches, hi_slave=None, latency_seed=0):
    """Run ``benches`` (one per master) with checkers on both masters and on ``hi``.
    Returns (hi checker, master checkers)."""
    hi_check = BusChecker(dut.dec.hi, memory=FlatMemory(HI, HI_SIZE), offset=HI, name="hi")
    mchecks = [BusChecker(dut.arb.masters[i], name=f"master{i}") for i in range(2)]
    procs = [hi_check.process] + [c.process for c in mchecks]
    if hi_slave is not None:
        procs.append(hi_slave.serve)
    run_sim(dut, *benches, processes=procs)
    for c in [hi_check] + mchecks:
        assert c.violations == []
    return hi_check, mchecks


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.booleans(), transfer_mix, transfer_mix)
def test_two_masters_racing_random_mixes(latency, gaps, ops0, ops1):
    """Each master works on its own half of "hi"; the arbiter serialises them.  With
    ``gaps`` a testbench slave serves "hi" with random waits between beats."""
    dut = Fabric(latency=latency, hi_ram=not gaps)
    slave = MemorySlave(dut.dec.hi, FlatMemory(HI, HI_SIZE), offset=HI, seed=latency,
                        max_wait=3) if gaps else None
    half = HI_SIZE // 2
    out = {}

    def bench_for(i, ops):
        async def bench(ctx):
            out[i] = await run_mix(ctx, dut.arb.masters[i], ops, HI + i * half, half,
                                   FlatMemory(HI + i * half, half))
        return bench

    hi_check, mchecks = fabric_run(dut, [bench_for(0, ops0), bench_for(1, ops1)], slave)
    assert out[0] == [] and out[1] == []
    assert hi_check.transfers == len(ops0) + len(ops1)
    assert [c.transfers for c in mchecks] == [len(ops0), len(ops1)]


@pytest.mark.parametrize("gaps", [False, True])
def test_arbiter_holds_grant_to_the_last_beat(gaps):
    dut = Fabric(latency=2, hi_ram=not gaps)
    slave = MemorySlave(dut.dec.hi, FlatMemory(HI, HI_SIZE), offset=HI, seed=3,
                        max_wait=2) if gaps else None

    async def long_bursts(ctx):
        for k in range(4):
            await burst(ctx, dut.arb.masters[0], HI + 128 * k, 16, write=True,
                        data=list(range(16)))

    async def singles(ctx):
        await ctx.tick()                      # master 0 is granted first
        for k in range(12):
            await write(ctx, dut.arb.masters[1], HI + 0x800 + 8 * k, k, 8)

    hi_check, _ = fabric_run(dut, [long_bursts, singles], slave)
    owners = [a >= HI + 0x800 for _, a, _, _, _ in hi_check.beats]
    # Master 0's bursts are never split, and the two masters alternate between transfers.
    runs, k = [], 0
    while k < len(owners):
        j = k
        while j < len(owners) and owners[j] == owners[k]:
            j += 1
        runs.append((owners[k], j - k))
        k = j
    assert all(n % 16 == 0 for who, n in runs if not who)
    assert [n for who, n in runs if not who][:3] == [16, 16, 16]
    assert sum(1 for who, _ in runs if who) >= 3


def test_error_beat_ends_the_burst_and_the_grant():
    dut = Fabric(hi_ram=False)
    bad = HI + 0x100 + 8 * 5
    slave = MemorySlave(dut.dec.hi, FlatMemory(HI, HI_SIZE), offset=HI, seed=1, max_wait=1,
                        faulty=lambda a: a == bad)
    out = {}

    async def m0(ctx):
        out["burst"] = await burst(ctx, dut.arb.masters[0], HI + 0x100, 8)
        out["after"] = await burst(ctx, dut.arb.masters[0], HI + 0x100, 4)

    async def m1(ctx):
        await ctx.tick()
        out["m1"] = await burst(ctx, dut.arb.masters[1], HI + 0x400, 2, write=True, data=[5, 6])

    hi_check, _ = fabric_run(dut, [m0, m1], slave)
    got, err, _ = out["burst"]
    assert err and len(got) == 6                 # beats 0..4, then the error on beat 5
    assert out["after"][1] is False and out["m1"][1] is False
    # After the error the grant went to master 1, which was waiting.
    addrs = [a for _, a, _, _, _ in hi_check.beats]
    assert addrs[6:8] == [HI + 0x400, HI + 0x408]


RACE = HI + 0x100
ROUNDS = 8


def racing_burst_increments(locked):
    """Both masters add 1 to each of the four doublewords at RACE, ROUNDS times: a
    4-beat read, an idle cycle, a 4-beat write; with ``locked`` the lock is held from
    the read until the write is issued.  Returns the final four values."""
    dut = Fabric(latency=2)

    async def incrementer(ctx, bus):
        for _ in range(ROUNDS):
            if locked:
                ctx.set(bus.lock, 1)
            vals, _, _ = await burst(ctx, bus, RACE, 4)
            await ctx.tick()
            if locked:
                ctx.set(bus.lock, 0)
            await burst(ctx, bus, RACE, 4, write=True, data=[v + 1 for v in vals])
            await ctx.tick()

    async def b0(ctx):
        await incrementer(ctx, dut.arb.masters[0])

    async def b1(ctx):
        await incrementer(ctx, dut.arb.masters[1])

    hi_check, _ = fabric_run(dut, [b0, b1])
    return [hi_check.memory.read(RACE + 8 * i) for i in range(4)]


def test_lock_makes_burst_rmw_atomic():
    assert racing_burst_increments(locked=True) == [2 * ROUNDS] * 4


def test_without_lock_burst_rmw_loses_updates():
    # The same race without the lock does interleave (the test above is not vacuous).
    assert racing_burst_increments(locked=False)[0] < 2 * ROUNDS


# --- the checker itself ---------------------------------------------------------------

class Wires(Elaboratable):
    """A bare bus port for driving both sides from testbenches."""

    def __init__(self):
        from hw.bus import BusSignature
        self.bus = BusSignature().create()

    def elaborate(self, platform):
        m = Module()
        m.d.sync += Signal().eq(1)            # a clock domain to tick
        return m


def test_checker_reports_breaches():
    dut = Wires()
    bus = dut.bus
    mem = FlatMemory(0, 256)
    mem.write(0x10, 0xAAAA)
    check = BusChecker(bus, memory=mem)

    async def cycle(ctx, **vals):
        for k, v in vals.items():
            ctx.set(getattr(bus, k), v)
        await ctx.tick()

    async def bench(ctx):
        await cycle(ctx, ready=1, sel=0xFF)                         # ready without valid
        await cycle(ctx, ready=0, valid=1, addr=0x8, burst_len=3)   # misaligned 4-beat
        await cycle(ctx, addr=0x10)                                 # addr changed
        await cycle(ctx, valid=0)                                   # dropped
        await cycle(ctx, valid=1, addr=0, burst_len=2)              # 3 beats
        await cycle(ctx, valid=0, burst_len=0)
        await cycle(ctx, valid=1, addr=0x20, burst_len=1, write=1, wdata=1)
        await cycle(ctx, wdata=2)                                   # before its ready
        await cycle(ctx, ready=1)
        await cycle(ctx, wdata=3)                                   # allowed: after a ready
        await cycle(ctx, ready=0, valid=0, write=0)
        await cycle(ctx, valid=1, addr=0x10, burst_len=0)
        await cycle(ctx, ready=1, rdata=0xBBBB)                     # wrong data
        await cycle(ctx, addr=0x18, ready=1, rdata=0)               # answered at once
        await cycle(ctx, valid=0, ready=0)

    run_sim(dut, bench, processes=[check.process])
    msgs = [m for _, m in check.violations]
    expected = ["ready without valid", "not aligned", "addr changed", "valid dropped",
                "burst_len 2 is not", "valid dropped", "wdata changed", "read 0x10",
                "ready in the first cycle of the transfer to 0x18"]
    assert len(msgs) == len(expected), msgs
    for msg, want in zip(msgs, expected):
        assert want in msg, (msg, want)
    assert mem.read(0x20) == 2 and mem.read(0x28) == 3
