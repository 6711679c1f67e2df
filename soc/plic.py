"""Platform-level interrupt controller for hart 0 (context 0 = M-mode, 1 = S-mode).

Register map (offsets, 32-bit registers, as QEMU virt / the PLIC specification):

* ``4*i``                     priority of source i (i = 1..sources; 0..7, 0 = never)
* ``0x1000``                  pending bits (read only; bit i = source i)
* ``0x2000 + 0x80*c``         enable bits of context c
* ``0x20_0000 + 0x1000*c``    priority threshold of context c
* ``0x20_0004 + 0x1000*c``    claim (read) / complete (write) of context c

Gateways are level triggered: a source whose line is high becomes pending unless it is
already pending or in service (claimed and not yet completed).  A claim returns the
enabled pending source with the highest priority above the context's threshold
(ties go to the lowest id), or 0, and clears its pending bit.  A completion with the id
of a source that is enabled for the context ends its service, so a still-high line is
seen again; other completions are ignored.  ``irq[c]`` is high while context c has a
source it would claim.

The search for the best source runs every cycle into a register (as ``irq`` does): a
claim returns, and clears, the source found in the cycle before the request.  No
change of the state can come in between (a write to the PLIC, a claim or completion
each take effect the cycle after their request, and a master's next request comes a
cycle after the answer), except a line that rises or falls (or is seen again after a
completion), which a claim can never tell from one that did so a cycle later.  So the claim's read and clear do not wait
for the priority search.

For the same reason the writes are decoded in the request's cycle, not a cycle later
as soc/virtio_blk.py and soc/uart.py decode most of theirs: a write of a priority,
an enable word or a threshold changes what a claim returns, and a claim right after
the write (a cycle after its answer) reads the search of the cycle before it, which
sees the write only if it took effect in the answer's cycle (tests/soc/test_plic.py,
test_a_claim_right_after_a_write_sees_it).  (A completion alone could move: the
source it lets be seen again is one of the lines above, which a claim cannot tell
apart anyway; it stays with the claim it completes.)
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.bus import BusSignature
from hw.priority import lowest_first
from . import memmap
from .regs import BusResponder, merge_lanes

__all__ = ["PLIC", "PRIORITY_BASE", "PENDING_BASE", "ENABLE_BASE", "ENABLE_STRIDE",
           "CONTEXT_BASE", "CONTEXT_STRIDE"]

PRIORITY_BASE = 0x0000
PENDING_BASE = 0x1000
ENABLE_BASE = 0x2000
ENABLE_STRIDE = 0x80
CONTEXT_BASE = 0x20_0000
CONTEXT_STRIDE = 0x1000


class PLIC(wiring.Component):
    def __init__(self, sources=memmap.PLIC_SOURCES, contexts=2, prio_bits=memmap.PLIC_PRIO_BITS):
        if not 1 <= sources <= 31:
            raise ValueError("this PLIC supports 1..31 sources (one 32-bit enable word)")
        self.sources = sources
        self.contexts = contexts
        self.prio_bits = prio_bits
        super().__init__({
            "bus": In(BusSignature(memmap.PLIC.addr_width)),
            # Interrupt lines; bit i = source i (bit 0 is ignored).
            "sources_in": In(sources + 1),
            "irq": Out(contexts),
        })

    def _best(self, m, ctx, eligible, planes, threshold):
        """The id of the highest-priority eligible source above ``threshold``, lowest
        id on ties, or 0.

        ``planes[b]`` holds bit b of every source's priority (bit i = source i).  Each
        priority level above 0 is searched on its own and at once: the eligible
        sources of that level (a word-wide AND of the planes or their complements),
        their lowest id (hw/priority.py's tree) and whether there is one; then the highest
        level that has a source and lies above the threshold gives its id.  All
        levels side by side, so the claim's search is the depth of one level's search
        and a choice among seven (about ten LUTs), where searching the levels one
        after the other, narrowing the candidates from the top priority bit down,
        made the PLIC's ``claim_id`` the longest path of the static estimate (24
        cells, 37.2 ns): the wide OR of each step decided the next step's candidates.
        """
        width = self.sources + 1
        levels = []                          # (level above threshold and occupied, id)
        for p in range(1, 1 << self.prio_bits):
            at_p = Signal(width, name=f"c{ctx}_prio{p}")
            mask = eligible
            for b, plane in enumerate(planes):
                mask = mask & (plane if p >> b & 1 else ~plane)
            m.d.comb += at_p.eq(mask)
            any_p, id_p, _ = lowest_first(m, [(at_p[i], ()) for i in range(width)],
                                          name=f"c{ctx}_p{p}")
            levels.append((any_p & (threshold < p), id_p))
        # the highest level with a source (a tree over the levels, higher ones first)
        found_any, _, (found_id,) = lowest_first(
            m, [(a, (ident,)) for a, ident in reversed(levels)])
        return Mux(found_any, found_id, 0)

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        resp = BusResponder(m, bus)
        n, nctx = self.sources, self.contexts

        # Priorities stored as bit planes: planes[b][i] is bit b of source i's priority.
        planes = [Signal(n + 1, name=f"prio_plane{b}") for b in range(self.prio_bits)]
        pending = Signal(n + 1)
        in_service = Signal(n + 1)
        enable = [Signal(n + 1, name=f"enable{c}") for c in range(nctx)]
        threshold = [Signal(self.prio_bits, name=f"threshold{c}") for c in range(nctx)]

        real = C(((1 << (n + 1)) - 1) & ~1, n + 1)     # bit 0 is not a source

        # Per context: the source a claim would return (0 if none).  Searched only while
        # a source is pending (without one nothing is found; a simulator then skips
        # the search, which is most cycles).
        claim_id = []
        for c in range(nctx):
            found = Signal(5, name=f"found{c}")    # this cycle's best, or 0
            with m.If(pending.any()):
                eligible = Signal(n + 1, name=f"eligible{c}")
                m.d.comb += eligible.eq(pending & enable[c] & real)
                m.d.comb += found.eq(self._best(m, c, eligible, planes, threshold[c]))
            cid = Signal(5, name=f"claim_id{c}")
            m.d.sync += [cid.eq(found), self.irq[c].eq(found != 0)]
            claim_id.append(cid)

        # Effects of this cycle's register accesses.
        prio_we = [None] + [Signal(name=f"prio_we{i}") for i in range(1, n + 1)]
        prio_new = [None] + [Signal(self.prio_bits, name=f"prio_new{i}") for i in range(1, n + 1)]
        claimed = Signal(n + 1)      # one-hot, sources claimed now
        completed = Signal(n + 1)    # one-hot, sources completed now

        # The two 32-bit halves of the doubleword are decoded separately.
        for half in range(2):
            lanes = bus.sel[4 * half:4 * half + 4]
            active = lanes.any()
            offset = Cat(C(0, 2), C(half, 1), bus.addr[3:])
            wdata = bus.wdata[32 * half:32 * half + 32]
            rword = resp.rdata[32 * half:32 * half + 32]
            rd = resp.reading & active
            wr = resp.writing & active
            # Decoded only in a request's first cycle: outside it no read data or
            # side effect is wanted (and a simulator skips the whole decode).
            with m.If(resp.start):
                with m.Switch(offset):
                    for i in range(1, n + 1):
                        with m.Case(PRIORITY_BASE + 4 * i):
                            prio_i = Cat(*[plane[i] for plane in planes])
                            m.d.comb += rword.eq(prio_i)
                            merged = merge_lanes(Cat(prio_i, C(0, 32 - self.prio_bits)),
                                                 wdata, lanes)
                            m.d.comb += [prio_we[i].eq(wr),
                                         prio_new[i].eq(merged[:self.prio_bits])]
                    with m.Case(PENDING_BASE):
                        m.d.comb += rword.eq(pending)
                    for c in range(nctx):
                        with m.Case(ENABLE_BASE + ENABLE_STRIDE * c):
                            m.d.comb += rword.eq(enable[c])
                            with m.If(wr):
                                merged = merge_lanes(Cat(enable[c], C(0, 31 - n)), wdata, lanes)
                                m.d.sync += enable[c].eq(merged[:n + 1] & real)
                        with m.Case(CONTEXT_BASE + CONTEXT_STRIDE * c):
                            m.d.comb += rword.eq(threshold[c])
                            with m.If(wr):
                                merged = merge_lanes(Cat(threshold[c], C(0, 32 - self.prio_bits)),
                                                     wdata, lanes)
                                m.d.sync += threshold[c].eq(merged[:self.prio_bits])
                        with m.Case(CONTEXT_BASE + CONTEXT_STRIDE * c + 4):
                            m.d.comb += rword.eq(claim_id[c])
                            with m.If(rd):
                                m.d.comb += claimed.eq(1 << claim_id[c])
                            with m.If(wr):
                                done_id = wdata[:5]
                                with m.If((wdata < n + 1) & (enable[c].bit_select(done_id, 1))):
                                    m.d.comb += completed.eq(1 << done_id)

        # Priority writes, one whole-word update per plane (a 64-bit store may write two
        # sources at once, one from each half).
        with m.If(resp.writing):
            for b, plane in enumerate(planes):
                m.d.sync += plane.eq(Cat(plane[0], *[Mux(prio_we[i], prio_new[i][b], plane[i])
                                                     for i in range(1, n + 1)]))

        # Gateways.
        lines = Cat(C(0, 1), self.sources_in[1:])
        next_service = Signal(n + 1)
        m.d.comb += next_service.eq((in_service | claimed) & ~completed & real)
        m.d.sync += [
            in_service.eq(next_service),
            pending.eq(((pending & ~claimed) | (lines & ~in_service & ~claimed)) & real),
        ]
        return m
