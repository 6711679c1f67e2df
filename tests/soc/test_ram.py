import random

import pytest
from hypothesis import given, settings, strategies as st

from soc.ram import RAM
from tests.soc.busutil import burst, read, write, transfer
from tests.soc.conftest import run_sim

BASE = 0x8000_0000


def test_ram_byte_lanes_and_timing():
    dut = RAM(size=4096)
    results = {}

    async def bench(ctx):
        await write(ctx, dut.bus, 0x10, 0x1122334455667788, 8)
        results["d"] = await read(ctx, dut.bus, 0x10, 8)
        await write(ctx, dut.bus, 0x11, 0xAA, 1)
        await write(ctx, dut.bus, 0x14, 0xBBCC, 2)
        results["after"] = await read(ctx, dut.bus, 0x10, 8)
        results["w"] = await read(ctx, dut.bus, 0x14, 4)
        results["h"] = await read(ctx, dut.bus, 0x16, 2)
        results["b"] = await read(ctx, dut.bus, 0x13, 1)
        _, err, waited = await transfer(ctx, dut.bus, 0x18, 8)
        results["wait"] = (err, waited)
        # The top of the RAM wraps nowhere: the last doubleword is addressable.
        await write(ctx, dut.bus, 4088, 0xDEAD_BEEF_0BAD_F00D, 8)
        results["top"] = await read(ctx, dut.bus, 4088, 8)
        results["dump"] = dut.dump(ctx, BASE + 0x10, 8)

    run_sim(dut, bench)
    assert results["d"] == 0x1122334455667788
    assert results["after"] == 0x1122BBCC5566AA88
    assert results["w"] == 0x1122BBCC
    assert results["h"] == 0x1122
    assert results["b"] == 0x55
    assert results["wait"] == (False, 1)
    assert results["top"] == 0xDEAD_BEEF_0BAD_F00D
    assert results["dump"] == bytes.fromhex("88aa6655ccbb2211")


def test_ram_load_dump_unaligned():
    dut = RAM(size=1 << 16)
    blob = bytes(random.Random(5).randrange(256) for _ in range(1001))
    out = {}

    async def bench(ctx):
        dut.load(ctx, BASE + 3, blob)
        out["dump"] = dut.dump(ctx, BASE + 3, len(blob))
        out["w0"] = await read(ctx, dut.bus, 0, 8)
        out["w1"] = await read(ctx, dut.bus, 1000, 8)

    run_sim(dut, bench)
    assert out["dump"] == blob
    assert out["w0"] == int.from_bytes(b"\0\0\0" + blob[:5], "little")
    padded = b"\0\0\0" + blob + b"\0" * 8
    assert out["w1"] == int.from_bytes(padded[1000:1008], "little")


def test_ram_load_rejects_out_of_range():
    dut = RAM(size=4096)
    errors = []

    async def bench(ctx):
        for addr, n in ((BASE - 1, 2), (BASE + 4090, 7), (0, 1)):
            try:
                dut.load(ctx, addr, bytes(n))
            except ValueError as e:
                errors.append(str(e))

    run_sim(dut, bench)
    assert len(errors) == 3 and "outside RAM" in errors[0]


def test_big_ram_elaborates_fast():
    # 32 MiB: no initializer is built; loading and accesses work at the top.
    dut = RAM()
    out = {}

    async def bench(ctx):
        top = BASE + dut.size - 8
        dut.load(ctx, top, (0x0123456789ABCDEF).to_bytes(8, "little"))
        out["v"] = await read(ctx, dut.bus, dut.size - 8, 8)

    run_sim(dut, bench)
    assert out["v"] == 0x0123456789ABCDEF


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 63), st.sampled_from([1, 2, 4, 8]),
                          st.integers(0, 2**64 - 1)), min_size=1, max_size=40))
def test_ram_random_against_model(ops):
    dut = RAM(size=64)
    model = bytearray(64)
    mismatches = []

    async def bench(ctx):
        for is_write, addr, size, value in ops:
            addr -= addr % size
            if is_write:
                await write(ctx, dut.bus, addr, value, size)
                model[addr:addr + size] = (value & ((1 << 8 * size) - 1)).to_bytes(size, "little")
            else:
                got = await read(ctx, dut.bus, addr, size)
                want = int.from_bytes(model[addr:addr + size], "little")
                if got != want:
                    mismatches.append((addr, size, got, want))

    run_sim(dut, bench)
    assert mismatches == []


@pytest.mark.parametrize("latency", [1, 2, 5])
def test_ram_read_right_after_write(latency):
    """A write is stored from registers a cycle after it is addressed (the block
    RAMs' write enables come from flip-flops): a read that starts right after its
    ready sees it, at full speed, after singles and after bursts with byte lanes."""
    dut = RAM(size=4096, latency=latency)
    out = {}
    rng = random.Random(latency)
    data = [rng.getrandbits(64) for _ in range(4)]

    async def bench(ctx):
        dut.load(ctx, BASE, bytes(range(256)) * 16)
        await write(ctx, dut.bus, 0x48, 0x1122334455667788, 8)
        out["single"] = await transfer(ctx, dut.bus, 0x48, 8)
        await write(ctx, dut.bus, 0x4B, 0xEE, 1)
        out["byte"] = await transfer(ctx, dut.bus, 0x48, 8)
        # a write burst on the lanes 0, 1 and 7, then its last beat and the whole line
        await burst(ctx, dut.bus, 0x80, 4, write=True, data=data, sel=0x83)
        out["last"] = await transfer(ctx, dut.bus, 0x98, 8)
        out["line"] = await burst(ctx, dut.bus, 0x80, 4)
        # a single write right after a burst's last beat, then its row
        await burst(ctx, dut.bus, 0xA0, 4, write=True, data=data)
        await write(ctx, dut.bus, 0xB8, 0x55AA, 2)
        out["after_burst"] = await transfer(ctx, dut.bus, 0xB8, 8)

    run_sim(dut, bench)
    old = bytes(range(256)) * 16

    def merged(addr, word, sel):
        old_b = old[addr:addr + 8]
        new_b = word.to_bytes(8, "little")
        return int.from_bytes(bytes(new_b[i] if sel >> i & 1 else old_b[i] for i in range(8)),
                              "little")

    assert out["single"] == (0x1122334455667788, False, latency)
    assert out["byte"] == (0x11223344EE667788, False, latency)
    line = [merged(0x80 + 8 * i, d, 0x83) for i, d in enumerate(data)]
    assert out["last"] == (line[3], False, latency)
    assert out["line"] == (line, False, latency)
    assert out["after_burst"] == ((data[3] & ~0xFFFF) | 0x55AA, False, latency)
