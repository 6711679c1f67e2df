"""Read-only memory on the bus (the boot ROM's program, in block RAM on an FPGA).

``contents`` (bytes) become 64-bit little-endian words of a ``Memory`` initializer,
zero-padded to a power of two of words (as block RAMs come; and so that any address
bits the read port sees stay inside the memory).  Like RAM, a read is answered one
cycle after the request.  Writes, and reads beyond
the contents (the region may be larger), are answered with ``error``: an access
fault for the core instead of a silently ignored store.
"""

from amaranth import *
from amaranth.lib import wiring, memory
from amaranth.lib.wiring import In

from hw.bus import BusSignature

__all__ = ["ROM"]


class ROM(wiring.Component):
    def __init__(self, contents, region):
        contents = bytes(contents)
        if not contents:
            raise ValueError("the ROM has no contents")
        if len(contents) > region.size:
            raise ValueError(f"{len(contents)} bytes do not fit in region {region.name} "
                             f"({region.size} bytes)")
        contents += bytes(-len(contents) % 8)
        self.region = region
        self.words = [int.from_bytes(contents[k:k + 8], "little")
                      for k in range(0, len(contents), 8)]
        depth = 1 << (len(self.words) - 1).bit_length()
        self.mem = memory.Memory(shape=64, depth=depth, init=self.words)
        super().__init__({"bus": In(BusSignature(region.addr_width))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = self.mem
        rd = self.mem.read_port()
        bus = self.bus
        row = bus.addr[3:]
        answered = Signal()
        fault = Signal()
        start = bus.valid & ~answered
        m.d.comb += [
            rd.addr.eq(row),
            bus.ready.eq(answered),
            bus.rdata.eq(Mux(answered & ~fault, rd.data, 0)),
            bus.error.eq(answered & fault),
        ]
        m.d.sync += [answered.eq(start), fault.eq(bus.write | (row >= len(self.words)))]
        return m
