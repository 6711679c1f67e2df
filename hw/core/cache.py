"""The storage and line fill of an L1 cache, shared by the instruction and data caches.

A set-associative (1 or 2 ways), physically tagged cache of ``size`` bytes in
lines of ``line`` bytes.  Index and line offset must fit in the 4 KiB page
offset, so the set can be read with a virtual address while the TLB (or the
core's remembered page) finds the physical one: a "virtually indexed,
physically tagged" cache that behaves exactly like a physical one.

* **Data** and **tags** live in block RAM, **valid bits** and the one **LRU**
  bit per set in LUT RAM or flip-flops (whichever the synthesis tool picks), all read
  synchronously: the user presents ``read_addr`` (the page offset of the
  access of the *next* cycle) and gets the words, tags, valid and LRU bits of
  every way of its set in the following cycle, so the hit decision starts at
  the memories' outputs (no wide multiplexer over per-set flip-flops).
  ``lookup_addr`` (physical) is compared with the tags read out: ``hit``,
  ``hit_way``, and ``rdata`` is the word of the hitting
  way (``way_rdata`` the word of each way: a user may work on both while the
  tags are compared, and choose with ``hit_way``); ``hit_way`` and ``rdata``
  mean something only with ``hit``.  These are meaningful only
  when ``read_addr`` presented this address's page offset in the previous cycle
  (the user tracks that; a write in that cycle, a fill's or a store's, is seen
  as for a transparent port: the words are written a cycle late from registers
  and read through them, ``WriteBehind`` (blockram.py); the tags through
  ``ReadAfterWrite``; the valid and LRU bits' ports are transparent).
  ``touch`` marks the hitting way as recently used (a fill marks its line).
  A cache of one region (``region``: the data cache, RAM) keeps only the tag
  bits below the region's size: its user looks up only the region's addresses.
* **A line's valid bit is the difference of two bits**, each in a memory with
  a write port of its own, so that the two writers of validity never compete
  for a port: ``filled`` (F), written only by a fill's end, and ``killed`` (K),
  written only by a snoop's invalidation.  The line is valid when F != K.  A
  fill's end writes F = K ^ 1 (it reads K of its set through a read port of
  its own), or F = K when it failed or a write hit its line (then the line it
  replaced is gone too: its words were overwritten); an invalidation writes
  K = F (read at the snooped set, beside the snoop's tags).  A fill's end and
  an invalidation of the same set and way in one cycle: the fill wins (it
  replaces the line the snoop found).  Both start cleared (F = K = 0:
  invalid), as the memories' initial contents.  A memory is not cleared by a
  reset, so the cache clears F and K itself while the reset is held: a counter
  outside the reset walks the sets, one per cycle, and writes both bits of
  both ways.  A reset must be held ``reset_cycles`` (= the number of sets)
  cycles to clear every line; the FPGA board's reset after the PLL locks is
  (soc/board/pll.py).  A simulation starts with cleared memories and never
  holds the reset, so its cycle counts are as without the walk.
* **Writes** (``write`` with ``write_sel``/``write_data``) update the word at
  ``lookup_addr`` in the hitting way (the data cache writes through: the
  memory is written by the core, the cache only keeps its copy current); like
  a lookup, a write needs ``read_addr`` to have given its page offset in the
  previous cycle: its bytes are merged over the word read out, and the whole
  word is written (the arrays' reads, blockram.py, are whole words).  A cache
  made with ``writable=False`` (the instruction cache) has no such ports: only
  its fills write its words, so the hit reaches none of the registers its
  writes go through (a store's word, merged over the hitting way's, did: on a
  board build the fetch's hit drove the 64 word flip-flops of writes that never
  came).
* **Fill**: ``fill`` (one cycle, while not ``busy``) reads the line of
  ``lookup_addr`` from the bus into the way to replace (an invalid one, else the
  least recently used): as one burst (hw/bus.py) with ``fill_burst``, else one
  single transfer per word (memories that do not burst, like a ROM); ``done``
  pulses at the end, with ``error`` if a beat failed (the line then stays
  invalid) and ``filled`` if the line became valid (no error, no write to it
  meanwhile).  ``fill_beat`` is the word of the line the current beat carries.
  ``fill_on_miss`` (one cycle, while not ``busy``) fills the line if this
  cycle's lookup misses, as ``fill`` would: the fill is as early, and the hit
  reaches a flip-flop instead of the fill's state (the data cache's loads).
  ``refill`` (one cycle, while not ``busy``) fills the line that ``lookup_addr``
  named in the last idle cycle without ``refill``, into the way chosen then:
  the line of a lookup in the previous cycle that missed (a misaligned load's
  doublewords: the data cache decides on their miss a cycle late, from a
  flip-flop), or the last fill's line again, into the same way (after a fill
  that was not ``filled``).
* **Coherence**: ``snoop_valid``/``snoop_addr`` report a write to memory by
  someone else; a valid line holding that address is invalidated, and a line
  being filled while such a write hits it is not marked valid.  The snooped
  address reads the tags of its set through a second read port and is
  compared with them in the next cycle, when the line is invalidated; in that
  cycle a lookup of the line already misses (``stale``), and a fill chooses
  its way as if the line were gone.  A lookup in the cycle of the write
  itself still hits the old word (it is ordered before the write), as it
  always did.
  ``invalidate_all`` clears the valid bits one set per cycle (both ways at
  once), starting in the next cycle: while it does (``sets`` cycles) every
  lookup misses and a fill waits for the end before it starts.  A fill under
  way when it comes is not marked valid.
"""

from amaranth import *
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..bus import BusSignature
from . import blockram
from .blockram import ReadAfterWrite, WriteBehind

__all__ = ["Cache", "check_geometry", "sets_of"]


def check_geometry(size, ways, line):
    """The problem with a cache geometry, or None."""
    if ways not in (1, 2):
        return "a cache has 1 or 2 ways"
    if line < 8 or line & (line - 1) or line > 128:
        return "the line must be a power of two of 8 to 128 bytes (a burst of 1 to 16 beats)"
    sets, rest = divmod(size, ways * line)
    if rest or sets < 1 or sets & (sets - 1):
        return "the size must be ways * line * a power of two"
    if size // ways > 4096:
        return "a way must not be larger than a 4 KiB page (index beyond the page offset)"
    return None


def sets_of(size, ways, line):
    """The number of sets of a cache of that geometry (also the cycles a reset
    must be held to clear its lines)."""
    return size // (ways * line)


class Cache(wiring.Component):
    def __init__(self, size=4096, ways=2, line=32, *, region=None, writable=True,
                 checks=False):
        """``writable``: the ports ``write``/``write_sel``/``write_data`` exist (see
        above).  ``checks``: assert in simulation what the users promise (a touch never in
        the cycle after a fill's end); off for the FPGA, whose tools do not take
        assertions.  ``region``: ``(base, bits)``, the one naturally aligned block
        of ``1 << bits`` bytes whose lines the user caches (the data cache: RAM);
        None, any address.  The tags then keep only the address bits below
        ``bits``: a shorter compare between the tag memory and ``hit`` (the
        out-of-context SoC's 64 KiB RAM: 4 bits instead of 44; the board's
        32 MiB: 13).  The user promises to fill, touch, write and believe
        ``hit`` only for addresses inside the block (an address outside it
        would hit a line of the block whose low bits it shares); snoops outside
        the block are ignored here (they cannot hold a cached line)."""
        problem = check_geometry(size, ways, line)
        if problem:
            raise ValueError(problem)
        self.size, self.ways, self.line = size, ways, line
        self.checks = checks
        self.sets = sets_of(size, ways, line)
        self.words = line // 8
        self.offset_bits = line.bit_length() - 1
        self.index_bits = self.sets.bit_length() - 1
        if region is None:
            region = (0, 56)
        base, bits = region
        if not 0 <= bits <= 56 or base & ((1 << bits) - 1) or base >> 56:
            raise ValueError("the cached region must be a block aligned to its size")
        self.region_base, self.region_bits = base, bits
        # (at least one tag bit: a region no larger than a way keeps a constant bit)
        self.tag_hi = max(bits, self.offset_bits + self.index_bits + 1)
        self.reset_cycles = self.sets      # a reset this long clears every line
        self.writable = writable
        writes = {"write": In(1), "write_sel": In(8), "write_data": In(64)} if writable else {}
        super().__init__({
            "read_addr":      In(12),
            "lookup_addr":    In(56),
            "hit":            Out(1),
            "hit_way":        Out(1),
            "rdata":          Out(64),
            "way_rdata":      Out(data.ArrayLayout(64, ways)),
            "touch":          In(1),
            **writes,
            "fill":           In(1),
            "fill_on_miss":   In(1),
            "fill_burst":     In(1),
            "refill":         In(1),
            "busy":           Out(1),
            "done":           Out(1),
            "error":          Out(1),
            "filled":         Out(1),
            "fill_beat":      Out(range(line // 8)),
            "snoop_valid":    In(1),
            "snoop_addr":     In(56),
            "invalidate_all": In(1),
            "bus":            Out(BusSignature()),
        })

    def elaborate(self, platform):
        m = Module()
        ob, W = self.offset_bits, self.ways
        tag_lo = ob + self.index_bits
        tag_hi = self.tag_hi              # (the cached region's bits: see __init__)
        tag_bits = tag_hi - tag_lo
        sets = self.sets

        def set_of(addr):
            return addr[ob:tag_lo]

        def tag_of(addr):
            return addr[tag_lo:tag_hi]

        def in_region(addr):
            rb = self.region_bits
            return addr[rb:56] == (self.region_base >> rb) if rb < 56 else C(1, 1)

        read_set = self.read_addr[ob:tag_lo]
        idx = set_of(self.lookup_addr)
        fill_addr = Signal(56)             # the line being filled
        fill_way = Signal()
        fill_set = set_of(fill_addr)

        # Two walks over the sets clear F and K of both ways, with one counter:
        # - while a reset is held: ``wipe_set`` is outside the reset and goes
        #   round the sets (a power of two), so any reset of ``sets`` cycles or
        #   more has visited every set;
        # - invalidate_all: from set 0 to the last, ``clearing`` meanwhile.
        rst = ResetSignal(allow_reset_less=True)
        clearing = Signal()
        wipe_set = Signal(range(sets), reset_less=True)
        with m.If(rst):
            m.d.sync += wipe_set.eq(wipe_set + 1)
        with m.Elif(self.invalidate_all):
            m.d.sync += [clearing.eq(1), wipe_set.eq(0)]
        with m.Elif(clearing):
            m.d.sync += wipe_set.eq(wipe_set + 1)
            with m.If(wipe_set == sets - 1):
                m.d.sync += clearing.eq(0)
        wiping = clearing | rst

        # A snooped write is compared with the tags of its set in the next cycle
        # (the tags are read synchronously): ``stale`` marks the ways of the
        # lookup's set that hold the line written in the previous cycle, which
        # are invalidated at the end of this cycle and must not hit in it.
        snoop_q = Signal()
        snoop_q_addr = Signal(56)
        m.d.sync += [snoop_q.eq(self.snoop_valid & in_region(self.snoop_addr)),
                     snoop_q_addr.eq(self.snoop_addr)]
        snoop_set = set_of(snoop_q_addr)
        snoop_hit = Signal(W)
        stale = Signal(W)
        # For the hit, ``stale`` needs no tag: the way that hits holds the line
        # looked up, so it is stale exactly when that line is the one snooped.
        # ``lookup_stale`` compares the two addresses' line bits (both registers
        # in the data cache: the snooped address and M's), beside the tag
        # compare, so that the snoop's tag read and compare (a memory's output)
        # stay off the path from the tags to ``hit`` and W's value; the snoop's
        # compare with the tags (``snoop_hit``) only invalidates and steers a
        # fill's choice of way.
        lookup_stale = Signal()
        m.d.comb += lookup_stale.eq(snoop_q & (snoop_q_addr[ob:tag_hi] ==
                                               self.lookup_addr[ob:tag_hi]))
        valid = Signal(W)                  # of the set read_addr presented
        way_hit = Signal(W)
        # ``way_match``: the way's line is valid and tagged with the lookup's
        # address, without ``lookup_stale`` and ``clearing``.  With ``hit`` it is
        # ``way_hit``; it chooses the way of ``hit_way`` and ``rdata``, which
        # mean something only with ``hit``, so that the snoop's compare (and
        # invalidate_all's walk) reach ``hit`` alone, not the multiplexers of the
        # words behind it (the data cache's: W's loaded value).
        way_match = Signal(W)
        fill_end = Signal()                # a fill's last beat
        commit = Signal()                  # ... and its line's F is written (not in the walk)
        commit_ok = Signal()               # ... valid (else invalid)
        dmems, tag_wr = [], []
        for w in range(W):
            dmem = blockram.memory(64, sets * self.words)
            # (block RAM even when the tags are narrow: the default SoC's 4-bit
            # tags went to LUT RAM, whose read multiplexers Yosys spread over
            # the die, and the fetch unit's next-address loop from the BTB
            # crossed them: 46.53 MHz out of context, docs/measurements.md)
            tmem = blockram.memory(tag_bits, sets, block=True)
            fmem = Memory(shape=1, depth=sets, init=[])
            kmem = Memory(shape=1, depth=sets, init=[])
            m.submodules[f"data{w}"] = dmem
            m.submodules[f"tag{w}"] = tmem
            m.submodules[f"filled{w}"] = fmem
            m.submodules[f"killed{w}"] = kmem
            dmems.append(dmem)
            tag_wr.append(tmem.write_port())
            f_wr, k_wr = fmem.write_port(), kmem.write_port()
            # a tag written in this cycle is read as written (ReadAfterWrite)
            # the tags and valid bits of the next cycle's lookup, the tags and F
            # of this cycle's snoop, K of the line being filled
            tags = ReadAfterWrite(m, tmem, tag_wr[w], f"tag{w}")
            lookup_tag = tags.read(read_set, "lookup")
            snoop_tag = tags.read(set_of(self.snoop_addr), "snoop")
            f_lookup = fmem.read_port(transparent_for=(f_wr,))
            k_lookup = kmem.read_port(transparent_for=(k_wr,))
            f_snoop = fmem.read_port(transparent_for=(f_wr,))
            k_fill = kmem.read_port(transparent_for=(k_wr,))
            m.d.comb += [
                f_lookup.addr.eq(read_set), k_lookup.addr.eq(read_set),
                f_snoop.addr.eq(set_of(self.snoop_addr)),
                k_fill.addr.eq(fill_set),
                valid[w].eq(f_lookup.data ^ k_lookup.data),
                snoop_hit[w].eq(snoop_q & (snoop_tag == tag_of(snoop_q_addr))),
                stale[w].eq(snoop_hit[w] & (snoop_set == idx)),
                way_match[w].eq(valid[w] & (lookup_tag == tag_of(self.lookup_addr))),
                way_hit[w].eq(way_match[w] & ~lookup_stale & ~clearing),
            ]
            # F: the fill's end (F = K ^ valid), or the walk of invalidate_all
            # or of a reset
            ends_here = commit & (fill_way == w)
            m.d.comb += [
                f_wr.addr.eq(Mux(wiping, wipe_set, fill_set)),
                f_wr.data.eq(~wiping & (k_fill.data ^ commit_ok)),
                f_wr.en.eq(wiping | ends_here),
                # K: a snoop's invalidation (K = F), unless the same line is
                # filled in this cycle, or a walk
                k_wr.addr.eq(Mux(wiping, wipe_set, snoop_set)),
                k_wr.data.eq(~wiping & f_snoop.data),
                k_wr.en.eq(wiping | (snoop_hit[w] & ~(ends_here & (fill_set == snoop_set)))),
                tag_wr[w].addr.eq(fill_set),
                tag_wr[w].data.eq(tag_of(fill_addr)),
                tag_wr[w].en.eq(ends_here & commit_ok),
            ]
        # The words: written a cycle late from registers (WriteBehind, blockram.py),
        # so that the hit (a store's way) and the bus's ``ready`` (a fill's beat)
        # reach flip-flops, not the block RAMs' write enables; a lookup sees
        # every write given up to the cycle its address was presented.
        data_wr = WriteBehind(m, dmems, "data")
        words = data_wr.read(self.read_addr[3:tag_lo], "lookup")
        m.d.comb += [self.hit.eq(way_hit != 0), self.hit_way.eq(way_match[W - 1] if W == 2 else 0)]
        if self.checks and self.writable:
            # a write merges its bytes over the word read out: it must be its word
            read_word_q = Signal(tag_lo - 3)
            m.d.sync += read_word_q.eq(self.read_addr[3:tag_lo])
            m.d.sync += Assert(~(self.write & self.hit) |
                               (read_word_q == self.lookup_addr[3:tag_lo]),
                               "cache: a write to a word other than the one read for it")
        m.d.comb += self.rdata.eq(words[0])
        for w in range(W):
            m.d.comb += self.way_rdata[w].eq(words[w])
        lru = C(0, 1)
        if W == 2:
            with m.If(way_match[1]):
                m.d.comb += self.rdata.eq(words[1])
            # the way to replace next in each set: the fill's end marks its way
            # as the most recently used, a touch the hitting one.  A touch is
            # registered and written in the next cycle (so the tag compare ends
            # at three flip-flops, not at the LRU memory's write enable); a fill
            # that starts in that cycle reads the set's bit with the touch
            # marked.  (A touch and a fill's end never meet: a fill ends two
            # cycles after its start at the earliest, and a cache touches only
            # what hits, not while it fills.)
            lmem = Memory(shape=1, depth=sets, init=[])
            m.submodules.lru = lmem
            l_wr = lmem.write_port()
            l_rd = lmem.read_port(transparent_for=(l_wr,))
            touch_q = Signal()
            touch_set = Signal.like(idx)
            touch_lru = Signal()
            m.d.sync += [touch_q.eq(self.touch & self.hit), touch_set.eq(idx),
                         touch_lru.eq(way_hit[0])]
            m.d.comb += [
                l_rd.addr.eq(read_set),
                l_wr.addr.eq(Mux(fill_end, fill_set, touch_set)),
                l_wr.data.eq(Mux(fill_end, fill_way == 0, touch_lru)),
                l_wr.en.eq(fill_end | touch_q),
            ]
            lru = Mux(touch_q & (touch_set == idx), touch_lru, l_rd.data)
            if self.checks:
                # the write port takes the fill's end: a touch then would be lost
                m.d.sync += Assert(~(fill_end & touch_q),
                                   "cache: a touch registered in the cycle a fill ends")

        # ---- line fill ----
        fill_word = Signal(range(self.words))
        poison = Signal()
        failed = Signal()
        fill_line_written = self.snoop_valid & (self.snoop_addr[ob:56] == fill_addr[ob:56])
        burst = Signal()                   # the line comes as one burst (RAM)
        filling = Signal()

        m.d.comb += data_wr.addr.eq(Mux(self.busy, Cat(fill_word, fill_set),
                                        self.lookup_addr[3:tag_lo]))
        fill_en = Cat(*[filling & self.bus.ready & ~self.bus.error & (fill_way == w)
                        for w in range(W)])
        m.d.comb += [data_wr.data.eq(self.bus.rdata), data_wr.en.eq(Mux(self.busy, fill_en, 0))]
        if self.writable:
            with m.If(~self.busy):
                # A store writes the whole word: its bytes over the word as read for
                # this lookup in the hitting way (the writes are whole words)
                m.d.comb += [
                    data_wr.data.eq(Cat(*[Mux(self.write_sel[i], self.write_data[8 * i:8 * i + 8],
                                              self.rdata[8 * i:8 * i + 8]) for i in range(8)])),
                    data_wr.en.eq(Mux(self.write, way_hit, 0)),
                ]

        m.d.comb += self.fill_beat.eq(fill_word)
        # The fill's request (it counts only with ``valid``, in FILL) follows the
        # fill's registers in every state, not the state register: the memory
        # port compares the address with its write buffer's lines and chooses
        # who goes on the bus from that in the cycle of the request, so the
        # state's decoder in front of the address's multiplexer lay on the path
        # into the port's choice (the I-cache's fill_state -> the port's
        # head_draining, 33.7 ns placed, 19 cells).
        m.d.comb += [
            self.bus.addr.eq(Mux(burst, fill_addr, fill_addr | (fill_word << 3))),
            self.bus.burst_len.eq(Mux(burst, self.words - 1, 0)),
            self.bus.sel.eq(0xFF),
        ]
        # ``fill_on_miss``: the lookup of this cycle fills its line if it misses.
        # The hit reaches two flip-flops (``miss_q``, and ``wait_q`` beside it),
        # not the state register: the state goes to LOOKED_UP in any case, whose
        # cycle is the fill's first (or WAIT's) if the lookup missed and an idle
        # cycle if it hit.  The fill's request goes out as early as from a
        # state chosen by the hit (the data cache's miss: the tag compare ->
        # this state register was the board's worst placed path of tmiss,
        # 22.31 ns).
        miss_q = Signal()
        wait_q = Signal()
        # the way a fill takes: an invalid one, else the least recently used
        victim = Signal()
        if W == 2:
            v0 = valid[0] & ~stale[0]
            v1 = valid[1] & ~stale[1]
            m.d.comb += victim.eq(Mux(~v0, 0, Mux(~v1, 1, lru)))

        def idle():
            # The fill's registers are loaded in every idle cycle (only the
            # next state waits for ``fill``): a user that decides on a fill
            # from the hit drives the state register alone, not the enables
            # of the address and way registers.  ``refill`` fills the same
            # line into the same way again.
            m.next = "IDLE"
            with m.If(~self.refill):
                m.d.sync += [fill_addr.eq(Cat(C(0, ob), self.lookup_addr[ob:56])),
                             fill_way.eq(victim)]
            m.d.sync += [fill_word.eq(0), poison.eq(0), failed.eq(0),
                         burst.eq(self.fill_burst)]
            with m.If(self.fill | self.refill):
                with m.If(clearing | self.invalidate_all):
                    m.next = "WAIT"
                with m.Else():
                    m.next = "FILL"
            with m.Elif(self.fill_on_miss):
                m.d.sync += [miss_q.eq(~self.hit), wait_q.eq(clearing | self.invalidate_all)]
                m.next = "LOOKED_UP"

        def wait():
            # invalidate_all's walk first (the line read after it is current)
            m.next = "WAIT"
            m.d.comb += self.busy.eq(1)
            with m.If(~clearing & ~self.invalidate_all):
                m.next = "FILL"

        def fill():
            m.next = "FILL"
            m.d.comb += [self.busy.eq(1), filling.eq(1), self.bus.valid.eq(1)]
            with m.If(fill_line_written | self.invalidate_all):
                m.d.sync += poison.eq(1)
            with m.If(self.bus.ready):
                with m.If(self.bus.error):
                    m.d.sync += failed.eq(1)
                m.d.sync += fill_word.eq(fill_word + 1)
                # A burst ends at its first error; single transfers go on to the end.
                with m.If((fill_word == self.words - 1) | (burst & self.bus.error)):
                    bad = failed | self.bus.error
                    ok = ~bad & ~poison & ~fill_line_written & ~self.invalidate_all
                    # The line's F and tag are written from ``commit_ok``, which
                    # leaves out the snoop of this cycle: ``ready`` (a device's,
                    # through the SoC's decoder and arbiter and the core's port)
                    # then meets only flip-flops and ``error`` on its way to the
                    # valid bits, not the snoop's 50-bit compare.  Exact: a
                    # snooped write is a completed write on the same bus (the
                    # DMA master's, this core's own port's), which never
                    # completes in the cycle of this cache's beat (the arbiter
                    # and the core's port give ``ready`` to one master at a
                    # time; asserted below with ``checks``).  ``filled`` and
                    # ``done`` tell the user the whole truth all the same.
                    m.d.comb += [fill_end.eq(1), commit.eq(~clearing),
                                 commit_ok.eq(~bad & ~poison & ~self.invalidate_all)]
                    # (during the walk the line stays invalid: the walk clears it)
                    m.d.comb += [self.done.eq(1), self.error.eq(bad), self.filled.eq(ok)]
                    m.next = "IDLE"

        with m.FSM(name="fill"):
            with m.State("IDLE"):
                idle()
            with m.State("LOOKED_UP"):
                with m.If(~miss_q):
                    idle()
                with m.Elif(wait_q):
                    wait()
                with m.Else():
                    fill()
            with m.State("WAIT"):
                wait()
            with m.State("FILL"):
                fill()
        if self.checks:
            m.d.sync += Assert(~(filling & self.bus.ready & self.snoop_valid),
                               "cache: a snooped write in the cycle of a fill's beat")
            m.d.sync += Assert(~(self.fill_on_miss & (self.fill | self.refill)),
                               "cache: fill_on_miss in the cycle of a fill or refill")
        return m
