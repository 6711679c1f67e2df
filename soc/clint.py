"""Core-local interruptor (CLINT) for one hart: msip, mtimecmp and mtime.

Register map (offsets in the 64 KiB window, as QEMU virt / SiFive):

* ``0x0000`` msip: bit 0 is the machine software interrupt (other bits read 0).
* ``0x4000`` mtimecmp: 64 bits, reset to all ones (no timer interrupt until set).
* ``0xBFF8`` mtime: 64 bits, counts at ``mtime_freq``.

64-bit registers may be accessed as a whole or by any byte lanes (two 32-bit halves
included).  ``mti`` is high while ``mtime >= mtimecmp``; ``msi`` mirrors msip.

``mtime`` advances ``mtime_freq / clk_freq`` times per cycle on average: a
fractional prescaler (an accumulator that adds ``mtime_freq`` and wraps at
``clk_freq``), so any ratio works; with ``clk_freq = N * mtime_freq`` it ticks
exactly every N cycles.
"""

from math import gcd

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.bus import BusSignature
from . import memmap
from .regs import BusResponder, merge_lanes

__all__ = ["CLINT", "MSIP_OFFSET", "MTIMECMP_OFFSET", "MTIME_OFFSET"]

MSIP_OFFSET = 0x0000
MTIMECMP_OFFSET = 0x4000
MTIME_OFFSET = 0xBFF8


class CLINT(wiring.Component):
    def __init__(self, clk_freq=10_000_000, mtime_freq=10_000_000):
        if not 0 < mtime_freq <= clk_freq:
            raise ValueError(f"mtime frequency {mtime_freq} must be positive and at most "
                             f"the clock frequency {clk_freq}")
        g = gcd(int(clk_freq), int(mtime_freq))
        self.acc_step = int(mtime_freq) // g
        self.acc_wrap = int(clk_freq) // g
        # The registers live here so that a simulator can reach them (time skipping).
        self.mtime_reg = Signal(64)
        self.mtimecmp_reg = Signal(64, init=(1 << 64) - 1)
        super().__init__({
            "bus": In(BusSignature(memmap.CLINT.addr_width)),
            "mti": Out(1),
            "msi": Out(1),
            "mtime": Out(64),
        })

    def elaborate(self, platform):
        m = Module()
        resp = BusResponder(m, self.bus)
        bus = self.bus

        msip = Signal()
        mtimecmp = self.mtimecmp_reg
        mtime = self.mtime_reg

        # Prescaler.
        tick = Signal()
        if self.acc_wrap == 1:
            m.d.comb += tick.eq(1)
        else:
            acc = Signal(range(self.acc_wrap + self.acc_step))
            nxt = acc + self.acc_step
            with m.If(nxt >= self.acc_wrap):
                m.d.comb += tick.eq(1)
                m.d.sync += acc.eq(nxt - self.acc_wrap)
            with m.Else():
                m.d.sync += acc.eq(nxt)

        dword = bus.addr[3:]
        is_msip = dword == (MSIP_OFFSET >> 3)
        is_cmp = dword == (MTIMECMP_OFFSET >> 3)
        is_time = dword == (MTIME_OFFSET >> 3)

        with m.If(tick):
            m.d.sync += mtime.eq(mtime + 1)
        # Decoded only in a request's first cycle (a simulator skips it otherwise); a
        # write of mtime wins over the tick.
        with m.If(resp.start):
            with m.If(is_msip):
                m.d.comb += resp.rdata.eq(msip)
            with m.Elif(is_cmp):
                m.d.comb += resp.rdata.eq(mtimecmp)
            with m.Elif(is_time):
                m.d.comb += resp.rdata.eq(mtime)

            with m.If(resp.writing):
                with m.If(is_time):
                    m.d.sync += mtime.eq(merge_lanes(mtime, bus.wdata, bus.sel))
                with m.If(is_cmp):
                    m.d.sync += mtimecmp.eq(merge_lanes(mtimecmp, bus.wdata, bus.sel))
                with m.If(is_msip & bus.sel[0]):
                    m.d.sync += msip.eq(bus.wdata[0])

        m.d.sync += self.mti.eq(mtime >= mtimecmp)
        m.d.comb += [
            self.msi.eq(msip),
            self.mtime.eq(mtime),
        ]
        return m
