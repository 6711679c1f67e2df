# amaranth: UnusedElaboratable=no
"""The serial pins (soc/serial.py): frames on the wire, loopback, glitches, overruns."""

import pytest
from amaranth import *
from amaranth.lib import wiring
from hypothesis import given, settings, strategies as st

from soc.serial import SerialPHY
from tests.soc.conftest import run_sim

DIV = 8                         # clock cycles per bit in these tests


def phy():
    return SerialPHY(clk_freq=DIV * 1000, baud=1000)


def test_transmit_waveform():
    dut = phy()
    line = []

    async def bench(ctx):
        ctx.set(dut.tx.payload, 0xA5)
        ctx.set(dut.tx.valid, 1)
        await ctx.tick().until(dut.tx.ready == 0)
        ctx.set(dut.tx.valid, 0)
        for _ in range(11 * DIV):
            line.append(ctx.get(dut.tx_pin))
            await ctx.tick()

    run_sim(dut, bench)
    bits = [line[i * DIV + DIV // 2] for i in range(10)]
    # start bit, 0xA5 LSB first, stop bit; the line idles high after it
    assert bits == [0, 1, 0, 1, 0, 0, 1, 0, 1, 1]
    assert all(line[10 * DIV:])


def drive_frame(byte, stop=1):
    """The line levels, one per clock cycle, of a frame."""
    bits = [0] + [(byte >> i) & 1 for i in range(8)] + [stop]
    return [b for b in bits for _ in range(DIV)]


def receive(levels, take=True):
    dut = phy()
    got = []

    async def bench(ctx):
        ctx.set(dut.rx.ready, int(take))
        for level in levels + [1] * (3 * DIV):
            ctx.set(dut.rx_pin, level)
            await ctx.tick()
            if ctx.get(dut.rx.valid) and take:
                got.append(ctx.get(dut.rx.payload))
        if not take:
            got.append(ctx.get(dut.rx.payload))
        got.append(("overruns", ctx.get(dut.overruns)))

    run_sim(dut, bench)
    return got


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, 255), min_size=1, max_size=4))
def test_receive_frames(data):
    levels = [1] * 5
    for b in data:
        levels += drive_frame(b) + [1] * 3
    assert receive(levels) == data + [("overruns", 0)]


def test_glitch_and_framing_error_are_ignored():
    levels = [1] * 5 + [0, 0] + [1] * (2 * DIV)          # a glitch shorter than half a bit
    levels += drive_frame(0x3C, stop=0) + [1] * DIV      # framing error: dropped
    levels += drive_frame(0x42)
    assert receive(levels) == [0x42, ("overruns", 0)]


def test_overrun_keeps_the_first_byte():
    levels = [1] * 5 + drive_frame(0x11) + [1] * 2 + drive_frame(0x22)
    assert receive(levels, take=False) == [0x11, ("overruns", 1)]


class Loop(Elaboratable):
    def __init__(self):
        self.phy = phy()

    def elaborate(self, platform):
        m = Module()
        m.submodules.phy = self.phy
        m.d.comb += self.phy.rx_pin.eq(self.phy.tx_pin)
        return m


def test_loopback_back_to_back():
    dut = Loop()
    data = [0x00, 0xFF, 0x55, 0x0D, 0x0A, 0x80]
    got = []

    async def sender(ctx):
        for b in data:
            ctx.set(dut.phy.tx.payload, b)
            ctx.set(dut.phy.tx.valid, 1)
            await ctx.tick().until(dut.phy.tx.ready)
        ctx.set(dut.phy.tx.valid, 0)

    async def receiver(ctx):
        ctx.set(dut.phy.rx.ready, 1)
        while len(got) < len(data):
            await ctx.tick()
            if ctx.get(dut.phy.rx.valid):
                got.append(ctx.get(dut.phy.rx.payload))

    run_sim(dut, sender, receiver, deadline=20 * len(data) * DIV)
    assert got == data


def test_baud_rate_divisor():
    assert SerialPHY(clk_freq=50_000_000).divisor == 434
    with pytest.raises(ValueError, match="too slow"):
        SerialPHY(clk_freq=300_000)
