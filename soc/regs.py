"""Small helpers shared by the memory-mapped devices.

Every device answers a bus request one cycle after it sees it (``ready`` is a
register), which keeps the decoder and arbiter paths short.  Side effects of reads
(popping a FIFO, claiming an interrupt) happen exactly once, in the request cycle.
"""

from amaranth import *

__all__ = ["merge_lanes", "lane_mask", "BusResponder"]


def merge_lanes(old, new, sel):
    """``old`` with the bytes selected by ``sel`` replaced by those of ``new``."""
    width = len(old)
    parts = []
    for i in range(width // 8):
        parts.append(Mux(sel[i], new[8 * i:8 * i + 8], old[8 * i:8 * i + 8]))
    return Cat(*parts)


def lane_mask(sel):
    """The byte-lane selector expanded to a bit mask."""
    return Cat(*[Mux(sel[i], 0xFF, 0x00) for i in range(len(sel))])


class BusResponder:
    """Handshake bookkeeping for a register-file slave.

    ``start`` is high in the cycle a new request is seen (do side effects and compute
    the read data then, into ``rdata``, a comb signal); the answer goes out the next
    cycle with ``ready``.
    """

    def __init__(self, m, bus):
        self.bus = bus
        self.answered = Signal()
        self.start = Signal()
        self.rdata = Signal(64)
        self.reading = Signal()
        self.writing = Signal()
        held = Signal(64)
        m.d.comb += [
            self.start.eq(bus.valid & ~self.answered),
            self.reading.eq(self.start & ~bus.write),
            self.writing.eq(self.start & bus.write),
            bus.ready.eq(self.answered),
            bus.rdata.eq(held),
            bus.error.eq(0),
        ]
        m.d.sync += self.answered.eq(self.start)
        with m.If(self.reading):
            m.d.sync += held.eq(self.rdata)
        with m.Elif(self.start):
            m.d.sync += held.eq(0)
