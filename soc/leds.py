"""Eight LEDs behind one byte register (bit i = LED i; reads give back what was written).

The boot ROM shows its stage here (soc/bootrom/boot.c): bits 0..3 the stage number,
bit 4 blinking when it stopped on an error; bits 5..7 stay 0 for the board's own use
(a heartbeat).
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.bus import BusSignature
from . import memmap
from .regs import BusResponder, merge_lanes

__all__ = ["LEDs"]


class LEDs(wiring.Component):
    bus: In(BusSignature(memmap.LEDS.addr_width))
    leds: Out(8)

    def elaborate(self, platform):
        m = Module()
        resp = BusResponder(m, self.bus)
        with m.If(resp.start & (self.bus.addr[3:] == 0)):
            m.d.comb += resp.rdata.eq(self.leds)
            with m.If(resp.writing):
                m.d.sync += self.leds.eq(merge_lanes(self.leds, self.bus.wdata[:8],
                                                     self.bus.sel[:1]))
        return m
