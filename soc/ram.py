"""Main memory: a 64-bit wide synchronous RAM with byte lanes.

Every access takes two cycles: the request cycle addresses the memory, the next cycle
answers with ``ready`` (and the read data).  The storage is an Amaranth
``lib.memory.Memory`` without an initializer (all zero), so that a multi-megabyte RAM
costs nothing to elaborate; programs are put into it by the simulator.

Loading API (Amaranth's Python simulator, inside a testbench or process)::

    ram.load(ctx, paddr, data)          # bytes -> memory, any byte alignment
    data = ram.dump(ctx, paddr, length) # memory -> bytes
    ram.word_index(paddr)               # row of ``ram.mem.data`` holding paddr

Both use ``ctx.set(ram.mem.data[row], value)`` / ``ctx.get(ram.mem.data[row])``, which
Amaranth 0.5.10 supports for ``MemoryData`` rows.
"""

from amaranth import *
from amaranth.lib import wiring, memory
from amaranth.lib.wiring import In

from hw.bus import BusSignature
from . import memmap

__all__ = ["RAM", "write_bytes", "read_bytes"]


def write_bytes(ctx, rows, offset, data):
    """Simulator helper: put ``data`` at byte ``offset`` of a 64-bit wide memory whose
    ``MemoryData`` is ``rows`` (byte k of a row is bits 8k..8k+7), any alignment."""
    end = offset + len(data)
    for row in range(offset // 8, (end + 7) // 8):
        lo = row * 8
        chunk_lo, chunk_hi = max(lo, offset), min(lo + 8, end)
        piece = data[chunk_lo - offset:chunk_hi - offset]
        if chunk_lo == lo and chunk_hi == lo + 8:
            ctx.set(rows[row], int.from_bytes(piece, "little"))
        else:
            old = bytearray(ctx.get(rows[row]).to_bytes(8, "little"))
            old[chunk_lo - lo:chunk_hi - lo] = piece
            ctx.set(rows[row], int.from_bytes(old, "little"))


def read_bytes(ctx, rows, offset, length):
    """Simulator helper: ``length`` bytes from byte ``offset`` of a 64-bit wide memory."""
    out = bytearray()
    for row in range(offset // 8, (offset + length + 7) // 8):
        out += ctx.get(rows[row]).to_bytes(8, "little")
    skip = offset % 8
    return bytes(out[skip:skip + length])


class RAM(wiring.Component):
    """``size`` bytes (a power of two, at least 8) at physical address ``base``; ``name``
    names its region (the decoder's port)."""

    def __init__(self, size=memmap.DEFAULT_RAM_SIZE, base=memmap.RAM_BASE, name="ram"):
        self.region = memmap.Region(name, base, size)
        if size < 8:
            raise ValueError("RAM size must be at least 8 bytes")
        self.size = size
        self.base = base
        self.depth = size // 8
        self.mem = memory.Memory(shape=64, depth=self.depth, init=[])
        super().__init__({"bus": In(BusSignature(self.region.addr_width))})

    # --- simulation helpers -------------------------------------------------------
    def word_index(self, paddr):
        offset = paddr - self.base
        if not 0 <= offset < self.size:
            raise ValueError(f"address {paddr:#x} is outside RAM "
                             f"[{self.base:#x}, {self.base + self.size:#x})")
        return offset // 8

    def _check_range(self, paddr, length):
        if length < 0 or paddr < self.base or paddr + length > self.base + self.size:
            raise ValueError(f"range [{paddr:#x}, {paddr + length:#x}) is outside RAM "
                             f"[{self.base:#x}, {self.base + self.size:#x})")

    def load(self, ctx, paddr, data):
        """Write ``data`` (bytes-like) into the RAM at physical address ``paddr``."""
        data = bytes(data)
        self._check_range(paddr, len(data))
        write_bytes(ctx, self.mem.data, paddr - self.base, data)

    def dump(self, ctx, paddr, length):
        """Read ``length`` bytes from the RAM at physical address ``paddr``."""
        self._check_range(paddr, length)
        return read_bytes(ctx, self.mem.data, paddr - self.base, length)

    # --- hardware -------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = self.mem
        rd = self.mem.read_port()
        wr = self.mem.write_port(granularity=8)

        row = self.bus.addr[3:self.region.addr_width]
        answered = Signal()
        start = self.bus.valid & ~answered

        m.d.comb += [
            rd.addr.eq(row),
            wr.addr.eq(row),
            wr.data.eq(self.bus.wdata),
            wr.en.eq(Mux(start & self.bus.write, self.bus.sel, 0)),
            self.bus.ready.eq(answered),
            self.bus.rdata.eq(Mux(answered & ~self.bus.write, rd.data, 0)),
            self.bus.error.eq(0),
        ]
        # One wait state: the read port's output is valid the cycle after the address.
        m.d.sync += answered.eq(start)
        return m
