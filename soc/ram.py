"""Main memory: a 64-bit wide synchronous RAM with byte lanes, serving bursts.

Timing is set by ``latency`` (default 1): the first beat of a transfer is answered
``latency`` cycles after the request cycle, and the further beats of a burst one per
cycle after it.  With the default a single access takes two cycles: the request cycle
addresses the memory, the next cycle answers with ``ready`` (and the read data).  A
larger ``latency`` lets the simulated SoC feel like a board whose memory is slower
than its block RAM (an SDRAM's row activation and CAS latency).  Write data are
stored in the cycle after the request (the first beat's: the master holds them
until its ``ready``) and in the cycle of each further beat's ``ready``; the write
enables come from flip-flops.  The storage is an Amaranth
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
    """``size`` bytes (a power of two, at least 8) at physical address ``base``, answering
    ``latency`` cycles after a request; ``name`` names its region (the decoder's port)."""

    def __init__(self, size=memmap.DEFAULT_RAM_SIZE, base=memmap.RAM_BASE, latency=1,
                 name="ram"):
        self.region = memmap.Region(name, base, size)
        if size < 8:
            raise ValueError("RAM size must be at least 8 bytes")
        if not isinstance(latency, int) or latency < 1:
            raise ValueError(f"RAM latency must be a whole number of cycles >= 1, not {latency!r}")
        self.latency = latency
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
        bus = self.bus

        row = bus.addr[3:self.region.addr_width]
        active = Signal()                 # a transfer is accepted, beats left to address
        beat = Signal.like(bus.burst_len) # the next beat to address
        wait = Signal(range(self.latency))  # cycles before the first beat is addressed
        answered_row = Signal.like(row)   # the row of the beat answered now
        answered = Signal()               # ready: a beat completes in this cycle

        # A new transfer starts when valid is seen outside the previous one's beats.
        start = bus.valid & ~active & ~answered
        # A beat is addressed the cycle before its ready (the read port's latency).
        if self.latency == 1:
            issue = start | active
        else:
            issue = active & (wait == 0)
        # ``beat`` is 0 outside a transfer (it starts at 0 and returns to 0 with the
        # last beat's address), so it is the beat addressed now in every cycle,
        # the request cycle too: the row addressed follows the bus's address and
        # flip-flops, not ``start`` (the decoder's compare of the address with
        # RAM's region, after the arbiter's choice and the core's port owner:
        # ``port.owner`` -> the RAM's address was 26.2 ns placed, 12 cells).
        this_beat = beat
        last = this_beat == bus.burst_len
        # Bursts are aligned to their size: beat i's row is the first row with i or-ed in.
        issue_row = (row | this_beat)[:len(row)]

        with m.If(start):
            m.d.sync += [active.eq(1), wait.eq(max(self.latency - 2, 0))]
        with m.Elif(active & ~issue):
            m.d.sync += wait.eq(wait - 1)
        with m.If(issue):
            m.d.sync += beat.eq(this_beat + 1)
            with m.If(last):
                m.d.sync += [active.eq(0), beat.eq(0)]
        # ``answered_read``: the beat answered now is a read's.  The master holds
        # ``write`` from its request to its last beat, so it is the same in the
        # cycle a beat is addressed and in the cycle it is answered; taken from a
        # flip-flop, ``write`` (the arbiter's choice, from the DMA master's and
        # the core's ``valid``) stays off the path of the read data back into the
        # core (W's loaded word).
        # The memory has one address for its read and write ports (one port of
        # the block RAM that reads before it writes): a write's beats are never
        # read, so in a cycle that stores a beat the read is not needed.  With two
        # addresses the synthesis tool would keep what a read of the row being
        # written returns (registers and compares of both addresses, a
        # multiplexer behind the block RAM), on the paths of the arbiter's
        # request into the RAM and of the read data back into the core.
        #
        # The block RAMs' write enables (32 block RAMs for 64 KiB, spread over the
        # die) come from flip-flops (``lanes``): each beat of a write is stored in
        # the cycle after the one in which it is addressed, so the arbiter's
        # choice (the DMA master's and the core's ``valid``) and the decoder's
        # address compare end at these eight flip-flops, not at the enables
        # (``virtio.dma__valid`` -> the RAM's write enables was 28.9 ns placed, 9
        # cells, 26 ns of it routing).  A further beat of a burst is addressed
        # the cycle before its ready and stored in its ready cycle with the data
        # on the bus then, as before; the first beat, addressed in the request
        # cycle, is stored in the next cycle (its ready cycle with latency 1) at
        # the row addressed in the request cycle (``answered_row``), with the
        # data on the bus then: the master holds them until the beat's ready,
        # which comes in that cycle at the earliest.  Nothing is read in that
        # cycle: a transfer's request cycle is followed by its wait or, with
        # latency 1, its ready cycle, in which nothing new starts (``answered``),
        # or by the further beats of its write burst.  So every write answered
        # before a read is addressed is in the memory when it is read, and no
        # cycle is lost.  ``sel`` is held for a whole transfer: the lanes of a
        # further beat, taken in the cycle it is addressed, are its own.
        answered_read = Signal()
        first_write = start & bus.write
        write_next = first_write | (issue & bus.write & (this_beat != 0))
        write_now = Signal()              # a beat is stored in this cycle ...
        lanes = Signal(8)                 # ... into these byte lanes
        m.d.sync += [answered.eq(issue), answered_row.eq(issue_row),
                     answered_read.eq(issue & ~bus.write),
                     write_now.eq(write_next), lanes.eq(Mux(write_next, bus.sel, 0))]

        # (a beat stored now was addressed in the previous cycle: ``answered_row``)
        addr = Signal.like(row)
        m.d.comb += [
            addr.eq(Mux(write_now, answered_row, issue_row)),
            rd.addr.eq(addr),
            wr.addr.eq(addr),
            wr.data.eq(bus.wdata),
            wr.en.eq(lanes),
            bus.ready.eq(answered),
            bus.rdata.eq(Mux(answered_read, rd.data, 0)),
            bus.error.eq(0),
        ]
        return m
