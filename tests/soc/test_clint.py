# amaranth: UnusedElaboratable=no
from soc.clint import CLINT
from tests.soc.busutil import read, write
from tests.soc.conftest import run_sim


def test_reset_values_and_registers():
    dut = CLINT(clk_freq=4, mtime_freq=1)
    out = {}

    async def bench(ctx):
        out["msip"] = await read(ctx, dut.bus, 0x0, 4)
        out["cmp"] = await read(ctx, dut.bus, 0x4000, 8)
        out["mti0"] = ctx.get(dut.mti)
        await write(ctx, dut.bus, 0x0, 0xFFFF_FFFF, 4)
        out["msip1"] = await read(ctx, dut.bus, 0x0, 4)
        out["msi1"] = ctx.get(dut.msi)
        await write(ctx, dut.bus, 0x0, 0, 4)
        out["msi0"] = ctx.get(dut.msi)
        # 32-bit halves of mtimecmp.
        await write(ctx, dut.bus, 0x4000, 0x1234_5678, 4)
        await write(ctx, dut.bus, 0x4004, 0x9ABC_DEF0, 4)
        out["cmp2"] = await read(ctx, dut.bus, 0x4000, 8)
        out["cmp_hi"] = await read(ctx, dut.bus, 0x4004, 4)
        out["cmp_b"] = await read(ctx, dut.bus, 0x4005, 1)
        # Unused offsets read as zero.
        out["hole"] = await read(ctx, dut.bus, 0x8000, 8)

    run_sim(dut, bench)
    assert out["msip"] == 0
    assert out["cmp"] == 2**64 - 1
    assert out["mti0"] == 0
    assert out["msip1"] == 1 and out["msi1"] == 1 and out["msi0"] == 0
    assert out["cmp2"] == 0x9ABC_DEF0_1234_5678
    assert out["cmp_hi"] == 0x9ABC_DEF0
    assert out["cmp_b"] == 0xDE
    assert out["hole"] == 0


def test_mtime_prescaler_and_timer_interrupt():
    dut = CLINT(clk_freq=40, mtime_freq=10)      # one tick every 4 cycles
    out = {}

    async def bench(ctx):
        await ctx.tick().repeat(400)
        out["t"] = ctx.get(dut.mtime)
        t0 = await read(ctx, dut.bus, 0xBFF8, 8)
        await ctx.tick().repeat(40)
        t1 = await read(ctx, dut.bus, 0xBFF8, 8)
        out["delta"] = t1 - t0                 # 40 + 2 cycles of access -> 10 or 11 ticks
        # Write mtime by halves, then arm mtimecmp slightly ahead.
        await write(ctx, dut.bus, 0xBFFC, 0x1, 4)
        await write(ctx, dut.bus, 0xBFF8, 0xFFFF_FFF0, 4)
        out["hi"] = await read(ctx, dut.bus, 0xBFFC, 4)
        now = await read(ctx, dut.bus, 0xBFF8, 8)
        out["now"] = now
        await write(ctx, dut.bus, 0x4000, now + 20, 8)
        await ctx.tick()
        out["mti_before"] = ctx.get(dut.mti)
        cycles = 0
        while not ctx.get(dut.mti):
            await ctx.tick()
            cycles += 1
        out["mtime_at_irq"] = ctx.get(dut.mtime)
        out["cycles"] = cycles
        # Raising mtimecmp clears the line (one cycle later).
        await write(ctx, dut.bus, 0x4000, 2**64 - 1, 8)
        await ctx.tick()
        out["mti_after"] = ctx.get(dut.mti)

    run_sim(dut, bench)
    assert out["t"] == 100
    assert out["delta"] in (10, 11)
    assert out["hi"] == 1
    assert 0x1_FFFF_FFF0 <= out["now"] <= 0x1_FFFF_FFF2
    assert out["mti_before"] == 0
    assert out["mtime_at_irq"] == out["now"] + 20
    assert 60 <= out["cycles"] <= 80


def test_fractional_prescaler():
    dut = CLINT(clk_freq=25_000_000, mtime_freq=10_000_000)   # 2.5 cycles per tick
    out = {}

    async def bench(ctx):
        await ctx.tick().repeat(1000)
        out["t"] = ctx.get(dut.mtime)

    run_sim(dut, bench)
    assert out["t"] == 400


def test_bad_frequencies_rejected():
    import pytest
    with pytest.raises(ValueError):
        CLINT(clk_freq=1_000_000, mtime_freq=10_000_000)
