"""The fetch unit of the pipelined core: program counter, branch predictor,
instruction cache and a two-entry instruction queue.

::

    pc --+--> BTB (btb.py) --> predicted next pc
         |
         +--> tags, valid bits and data --> hit? --> queue (2 entries) --> D stage
              (block RAM, address presented
              the cycle before)

**The cache** is physically tagged and set associative (``size`` bytes,
``ways`` ways, ``line`` bytes per line; the core's default 8 KiB, 2 ways, 32 bytes).  Its
index and line offset lie inside the 4 KiB page offset, so the set is read
with the virtual address while the physical page is looked up, and the tag is
compared with the physical address.  The data array is block RAM with a
synchronous read, and so are the tags and valid bits (cache.py): the unit always
presents the address of the *next* cycle's fetch (the predicted successor when
the current fetch may hit, the current pc otherwise), so a run of hits delivers
one instruction per cycle and the tag compare starts from a register.  The
instruction is picked out of each way's word before the hit chooses the way.

**Translation and PMP.**  In M mode or with satp = Bare the physical address
is the pc.  Otherwise the unit keeps the page of its current translation,
checked in parallel with the cache read, and the pages of its last
``utlb_entries`` translations (a micro-TLB, utlb.py): a fetch from another page
takes a page of the micro-TLB in one cycle, or asks the MMU's fetch port (TLB,
then the page-table walker; in M mode and Bare it answers at once), then the
PMP (``pmp``, pmp.py) whether the page may be executed as a whole, and then
retries.  Only pages the PMP allows as a whole are remembered (as the current
page and in the micro-TLB); a page that the PMP allows only in part is fetched
from one checked word at a time, without the cache.  In M mode with no PMP
entry switched on (``pmp_free``) nothing needs checking: the pc is the physical
address, at once.  The remembered pages are forgotten on every event that may
change the mapping, the mode or the PMP (``flush_xlate``: traps, xRET, writes
to satp/mstatus/PMP, sfence.vma).

**Prediction**: the branch target buffer (btb.py) is block RAM read with the
same address as the cache's data, a cycle ahead.  When its entry marks a
return, the target is the top of the return-address stack (ras.py), which the
pipeline keeps from resolved calls and returns (``ras_push``, ``ras_pop``,
``ras_value``).

**Misses** fill the whole line from RAM as one burst, or from a
read-only memory (``in_rom``: the boot ROM, which has no side effects and never
changes) one word after the other.  The cache starts the fill by itself when a
lookup misses (its ``fill_on_miss``), and the unit waits in its RUN state until
the fill is done, so the hit decides no state of this unit; nor pc, which
advances whenever the fetch may hit and is set back while RUN waits.  Other
addresses are never cached: such a fetch is made as a single bus read, and only when nothing older is in the pipeline (so a wrong-path fetch never
reads a device register with side effects).  Fetch faults travel down the pipeline
in the queue and are taken in M; after one, the unit stops until redirected.

**Coherence.**  Every write that reaches memory is snooped (``snoop_valid``,
``snoop_addr``: the core's own stores, which the data side writes through,
the page-table walker's A/D updates and the DMA master's writes): a cached
line holding that address is invalidated.  So code written by stores or by
the disk is fetched fresh without any fence; ``fence.i`` still invalidates
the whole cache (one cycle), as the ISA prescribes, and the pipeline refetches
after it.  A line being filled while a write to it is snooped is not marked
valid at the end of the fill.

**Redirects** (mispredictions, traps, refetches) set the pc and empty the
queue; the data array is read for the new pc in the next cycle (no path from
the execute stage into the block RAM address).  A request in flight (a bus
transfer, a translation, a line fill) is finished first; its result is
dropped if it no longer belongs to the current path.  Every redirect comes
from the pipeline's registers, a cycle after the execute stage found a
misprediction or the memory stage decided to flush (with ``flush_xlate`` and
``fence_i`` of the same decision): what the fetch unit does in that cycle is on
the wrong path, and a line fill it starts then is finished like any other
(dropping it before it reached the bus was tried and cost cycles: wrong-path
lines are often needed soon after).
"""

from amaranth import *
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..bus import BusSignature
from ..mmu.signatures import Access, TranslateSignature
from .btb import BranchPredictor
from .cache import Cache, check_geometry
from .decoder import reads_registers
from .isa import Priv
from .perf import FetchWait
from .pmp import PMPCheckSignature
from .ras import ReturnStack
from .utlb import MicroTLB

__all__ = ["FetchUnit", "QueueEntry"]


class QueueEntry(data.StructLayout):
    def __init__(self):
        super().__init__({
            "pc": 64, "insn": 32, "pred": 64, "fault": 1, "page_fault": 1,
            "bp_hit": 1, "bp_ctr": 2,
        })


class FetchUnit(wiring.Component):
    def __init__(self, *, reset_pc, in_ram, in_rom=None, size=4096, ways=2, line=32,
                 btb_entries=512, ras_entries=8, utlb_entries=8, region=None,
                 checks=False):
        """``in_ram(paddr)`` gives the expression "this physical address is RAM",
        ``in_rom(paddr)`` the same for a read-only memory (cached, filled with single
        transfers).  ``region``: ``(base, bits)``, a naturally aligned block that
        holds both (the cache's ``region``: its tags keep only the address bits
        below ``bits``; None: any address).  ``checks``: the cache's
        simulation-only assertions."""
        problem = check_geometry(size, ways, line)
        if problem:
            raise ValueError(f"instruction cache: {problem}")
        self.reset_pc = reset_pc
        self.in_ram = in_ram
        self.in_rom = in_rom or (lambda paddr: C(0, 1))
        self.size, self.ways, self.line = size, ways, line
        self.btb_entries = btb_entries
        self.checks = checks
        self.ras_entries = ras_entries
        self.utlb_entries = utlb_entries
        self.region = region
        super().__init__({
            "booted":      In(1),
            "redirect":    In(1),
            "redirect_pc": In(64),
            "priv":        In(2),
            "satp":        In(64),
            "flush_xlate": In(1),
            "pipe_empty":  In(1),     # nothing older than the queue is in the pipeline
            "fence_i":     In(1),
            "pop":         In(1),     # D takes the head of the queue
            "head":        Out(QueueEntry()),
            "valid":       Out(1),
            # the interlock: the head reads register ``late_rd`` (X's destination
            # whose value comes late, nonzero; the pipeline asks only then)
            "late_rd":         In(5),
            "head_reads_late": Out(1),
            "bp_upd_valid":   In(1),
            "bp_upd_pc":      In(64),
            "bp_upd_keep":    In(1),
            "bp_upd_jump":    In(1),
            "bp_upd_ret":     In(1),
            "bp_upd_counter": In(2),
            "bp_upd_target":  In(64),
            # the return-address stack's updates (ras.py), from resolved instructions
            "ras_push":       In(1),
            "ras_pop":        In(1),
            "ras_value":      In(64),
            "snoop_valid": In(1),
            "snoop_addr":  In(56),
            "mmu":         Out(TranslateSignature()),
            "pmp":         Out(PMPCheckSignature()),
            "pmp_free":    In(1),     # fetches need no PMP check (M mode, no entry on)
            "bus":         Out(BusSignature()),
            # the address the bus request of the next cycle will have, if any
            # (the memory port compares it with its write buffer a cycle ahead)
            "bus_next_addr": Out(56),
            # one-cycle pulses for the benchmarks' counters
            "ev_hit":      Out(1),
            "ev_miss":     Out(1),
            # why nothing was pushed in the previous cycle (perf.py)
            "wait":        Out(FetchWait),
        })

    def elaborate(self, platform):
        m = Module()

        m.submodules.bp = bp = BranchPredictor(self.btb_entries)
        for name in ("valid", "pc", "keep", "jump", "ret", "counter", "target"):
            m.d.comb += getattr(bp, f"upd_{name}").eq(getattr(self, f"bp_upd_{name}"))
        m.submodules.ras = ras = ReturnStack(self.ras_entries)
        m.d.comb += [ras.push.eq(self.ras_push), ras.pop.eq(self.ras_pop),
                     ras.value.eq(self.ras_value)]

        # ---- the instruction queue ----
        entries = [Signal(QueueEntry(), name=f"q{i}") for i in range(2)]
        q = Array(entries)
        # Each slot also keeps the word of the cache's second way (``alt``) and
        # which way hit (``way``): the word of each way is written to the slot and
        # the hit's way picks one as the slot is read, so the tag compare reaches
        # one flip-flop per slot instead of a multiplexer in front of 32.
        alts = [Signal(32, name=f"q{i}_alt") for i in range(2)]
        ways = [Signal(name=f"q{i}_way") for i in range(2)]
        push_alt = Signal(32)
        push_way = Signal()
        q_head = Signal()
        # The number of entries is ``q_base`` plus ``pushed``, a flip-flop that
        # takes ``push`` (the cache's hit, late) and is added in the next cycle:
        # so the hit ends at one flip-flop beside the tag compare, not at the
        # count's, which sit with the pipeline's D stage across the chip
        # (tpages' seed 2: the valid bits -> the hit -> q_count, 22.07 ns).
        q_base = Signal(2)
        pushed = Signal()
        q_count = Signal(2)
        m.d.comb += q_count.eq(q_base + pushed)
        push = Signal()
        push_entry = Signal(QueueEntry())
        space = q_count != 2
        m.d.comb += [self.valid.eq(q_count != 0), self.head.eq(q[q_head]),
                     self.head.insn.eq(Mux(Array(ways)[q_head], Array(alts)[q_head],
                                           q[q_head].insn))]
        # Whether the head reads ``late_rd``, for the pipeline's interlock: found
        # for each word of each slot, and the head's chosen last (by its way,
        # then ``q_head``), so that from ``q_head`` (a flip-flop of large fanout)
        # it is a LUT to the pipeline's ``hazard``, not the multiplexer of the
        # head's word and the decoder (tadv3's seed 1: fetch.q_head -> x_valid,
        # 33.8 ns, and -> q_head, 13 cells).  A faulted fetch reads nothing (D
        # sees it as the word 0).
        def reads_late(word):
            r1, r2 = reads_registers(word)
            return ((r1 & (word[15:20] == self.late_rd)) |
                    (r2 & (word[20:25] == self.late_rd)))
        slot_reads = [Signal(name=f"q{i}_reads_late") for i in range(2)]
        for i, sr in enumerate(slot_reads):
            m.d.comb += sr.eq(~entries[i].fault & Mux(ways[i], reads_late(alts[i]),
                                                      reads_late(entries[i].insn)))
        m.d.comb += self.head_reads_late.eq(Array(slot_reads)[q_head])
        # (a redirect empties the queue but leaves ``q_head`` where it is: the
        # ring works from any slot, and the head then moves with ``pop`` alone,
        # one LUT after the pipeline's late ``adv``, not after M's redirect too)
        pop = self.pop & (q_count != 0)
        m.d.sync += q_head.eq(q_head ^ pop)
        # (``push`` never comes with a redirect)
        m.d.sync += pushed.eq(push)
        with m.If(self.redirect):
            m.d.sync += q_base.eq(0)
        with m.Else():
            m.d.sync += q_base.eq(q_count - pop)
        # The free slot after the last entry takes ``push_entry`` in every cycle,
        # pushed or not (only ``q_count`` says which slots hold entries): so the
        # slots' enables (a few hundred flip-flops) come from the queue's registers
        # alone, not from the cache's hit or the redirect, both late.
        tail = (q_head + q_count)[0]
        for i, e in enumerate(entries):
            with m.If(space & (tail == i)):
                m.d.sync += [e.eq(push_entry), alts[i].eq(push_alt), ways[i].eq(push_way)]

        # ---- program counter, prediction, translation ----
        pc = Signal(64, init=self.reset_pc)
        m.d.comb += bp.pc.eq(pc)
        pred = Signal(64)
        # (the stack's top or the stored target is chosen while the BTB's tag is
        # compared: ``taken`` stays the last input)
        m.d.comb += pred.eq(Mux(bp.taken, Mux(bp.ret, ras.top, bp.target), pc + 4))
        # No translation (M mode or satp Bare): a flip-flop, so that the physical
        # address, its "cacheable" and with them the block RAM address (the tag
        # RAM's, through ``may_hit``) start from it and not from the CSR file's
        # privilege and satp through their compare (seed 1's worst placed path of
        # the merge of tdev, twbuf and tmmuev: csr.priv -> the tag RAM, 38.2 ns).
        # It lags the privilege and satp by a cycle, and nothing reads it then:
        # both change only with a trap, an xRET or a write of satp, which all
        # refetch: M's redirect, which reaches this unit from the pipeline's
        # registers in the next cycle (``redirect``), with ``flush_xlate``.  In
        # that cycle (the lagging one) the unit acts on nothing it reads from
        # the address: every push, miss, fault, fill and uncached request waits
        # for ``~redirect``, ``rd_ok`` falls, and a page it takes (from the
        # micro-TLB, or a translation ending then) is forgotten by the flush of
        # the same cycle.  In the cycle after a redirect the unit decides nothing
        # from the address either (``rd_ok`` is 0 in RUN; every other state goes
        # to RUN with ``rd_ok`` 0 on a redirect, or is still waiting).
        unmapped = Signal(init=1)           # (M mode after reset)
        unmapped_now = (self.priv == Priv.M) | (self.satp[60:64] == 0)
        m.d.sync += unmapped.eq(unmapped_now)
        fp_valid = Signal()
        fp_vpn = Signal(52)
        fp_ppn = Signal(44)
        paddr = Signal(56)
        m.d.comb += paddr.eq(Mux(unmapped, pc[:56], Cat(pc[:12], fp_ppn)))
        # the page of pc is translated and allowed by the PMP as a whole
        xl_known = self.pmp_free | (fp_valid & (pc[12:64] == fp_vpn))
        # the pages translated (and allowed as a whole) before the current one (utlb.py)
        m.submodules.utlb = utlb = MicroTLB(self.utlb_entries)
        m.d.comb += [utlb.vpn.eq(pc[12:64]), utlb.flush.eq(self.flush_xlate)]
        bad_high = unmapped & (pc[56:64] != 0)
        cacheable = self.in_ram(paddr) | self.in_rom(paddr)

        # ---- the cache (cache.py) ----
        # (the cache believes a hit, fills and is touched only for a cacheable
        # address: ``may_hit``, the miss's branch and the push all ask for
        # ``cacheable``, so a cache of the block of RAM and ROM keeps short tags,
        # and the tag compare on the path from pc to the hit and the queue's
        # count is short: 20 bits for the board's ROM and RAM, 4 out of context)
        m.submodules.cache = cache = Cache(self.size, self.ways, self.line, region=self.region,
                                           writable=False, checks=self.checks)
        rd_ok = Signal()                           # the word read out belongs to pc
                                                   # (unless the cache is busy)
        ram_addr = Signal(64)                      # whose word is read for the next cycle
        m.d.comb += [
            cache.read_addr.eq(ram_addr[:12]),
            cache.lookup_addr.eq(paddr),
            cache.snoop_valid.eq(self.snoop_valid),
            cache.snoop_addr.eq(self.snoop_addr),
            cache.invalidate_all.eq(self.fence_i),
            cache.fill_burst.eq(self.in_ram(paddr)),   # the ROM does not burst
        ]
        # each way's half (pc[2] is early); the hit's way (late) is pushed beside
        # them and picks one as the queue is read
        halves = [Mux(pc[2], cache.way_rdata[w][32:64], cache.way_rdata[w][0:32])
                  for w in range(self.ways)]
        running = Signal()
        hit = Signal()
        # everything a hit needs but the cache's answer (which comes late, from
        # the tags read out of block RAM)
        may_hit = Signal()
        m.d.comb += [may_hit.eq(self.booted & running & rd_ok & xl_known & ~bad_high & cacheable),
                     hit.eq(may_hit & cache.hit)]
        adv_f = hit & space
        if self.checks:
            with m.If(running & rd_ok & ~self.redirect):
                m.d.sync += Assert(unmapped == unmapped_now,
                                   "fetch: the registered 'unmapped' is stale")

        discard = Signal()                         # the request in flight is off-path
        flushed = Signal()                         # a flush came since XLATE's answer
        xl_vaddr = Signal(64)
        xl_paddr = Signal(56)
        unc_addr = Signal(56)
        fault_page = Signal()
        # ``unc_addr`` is loaded from ``bus_next_addr``: pc's physical address
        # while RUN fetches, the word checked in PMP_WORD, kept in every other
        # state (and while RUN waits for a fill).  Every request of this unit's
        # comes from UNCACHED or from a line fill: UNCACHED asks for
        # ``unc_addr``, a fill for the line the cache loaded from pc's physical
        # address in the cycle of the miss (its ``lookup_addr``), held like
        # ``unc_addr`` until the fill ends.  So while this unit asks, its
        # request's line is ``unc_addr``'s, and ``bus_next_addr`` tells the
        # memory port a cycle ahead what it will be.
        m.d.comb += self.bus_next_addr.eq(unc_addr)
        m.d.sync += unc_addr.eq(self.bus_next_addr)

        # pc takes the predicted successor whenever it may advance (``may_hit &
        # space``: everything a hit needs but the tags' answer), so that the hit
        # does not reach pc's 64 flip-flops (tifill's seed 1: the valid bits ->
        # the hit -> pc, 23.07 ns, 19.6 of them routing).  A miss has then taken
        # pc a word too far: the cache is busy from the next cycle on, and RUN
        # sets pc back from ``pc_back`` (pc in the last cycle RUN fetched, or the
        # redirect's pc since) while it waits for the fill; nothing reads pc then
        # but the data array's address, which must hold pc's word only at the
        # fill's end (two cycles after the miss at the earliest).
        pc_back = Signal(64)
        with m.If(self.redirect):
            m.d.sync += pc.eq(self.redirect_pc)
        with m.Elif(may_hit & space):
            m.d.sync += pc.eq(pred)
        # The arrays read the predicted successor whenever pc may advance, before
        # the tags have answered: on a miss the word read is not pc's, but the
        # fill that follows reads pc's word again (RUN waits for it), so
        # that costs nothing, and the block RAM addresses do not wait for the
        # tag compare.
        m.d.comb += [ram_addr.eq(Mux(may_hit & space, pred, pc)), bp.read_pc.eq(ram_addr)]
        m.d.sync += rd_ok.eq(0)

        m.d.comb += [
            push_entry.pc.eq(pc), push_entry.pred.eq(pred), push_entry.insn.eq(halves[0]),
            push_alt.eq(halves[1] if self.ways == 2 else 0),
            push_entry.bp_hit.eq(bp.hit), push_entry.bp_ctr.eq(bp.counter),
            self.mmu.vaddr.eq(xl_vaddr), self.mmu.access.eq(Access.FETCH),
            self.mmu.priv.eq(self.priv), self.mmu.satp.eq(self.satp),
            self.pmp.priv.eq(self.priv), self.pmp.access.eq(Access.FETCH),
        ]

        # Cycle accounting (perf.py): why no instruction was pushed, as of the
        # previous cycle (an empty queue in this cycle is what that cycle left).
        wait_now = Signal(FetchWait)
        wait = Signal(FetchWait, init=FetchWait.OTHER)
        m.d.comb += [self.wait.eq(wait), wait_now.eq(wait)]     # default: as before
        with m.If(self.redirect):
            m.d.sync += wait.eq(FetchWait.REDIRECT)
        with m.Elif(~push):
            m.d.sync += wait.eq(wait_now)

        def push_fault(page):
            m.d.comb += [push.eq(1), push_entry.fault.eq(1), push_entry.page_fault.eq(page)]

        # The bus's request but ``valid`` does not wait for this unit's state
        # decoder nor the cache's (it counts only with ``valid``, which a fill
        # and UNCACHED give): so the memory port's choice of who goes next does not
        # either (the I-cache's fill_state -> the port's head_draining was 33.7
        # ns placed, 19 cells).  The single word's request (UNCACHED's) or the
        # fill's is chosen by ``in_unc``, a flip-flop of its own, not by a
        # decoder of the state register: in every cycle in which RUN fetches it
        # takes "pc is not cacheable", so it is 0 during a fill (started only
        # by a lookup of a cacheable pc) and 1 in UNCACHED (entered from RUN with an uncacheable
        # pc, or from PMP_WORD, which sets it); elsewhere the request does not
        # count.  (integ's seed
        # 1: fetch.fetch_state -> the state's decoder, fanout 187 -> the port's
        # requester address -> head_draining, 25.7 ns placed, 18 cells.)  And
        # ``valid`` is the fill's (the cache fills only in RUN) or UNCACHED's.
        in_unc = Signal()
        for name in ("write", "wdata", "lock"):
            m.d.comb += getattr(self.bus, name).eq(getattr(cache.bus, name))
        m.d.comb += [
            self.bus.addr.eq(Mux(in_unc, Cat(C(0, 3), unc_addr[3:]), cache.bus.addr)),
            self.bus.sel.eq(Mux(in_unc, Mux(unc_addr[2], 0xF0, 0x0F), cache.bus.sel)),
            self.bus.burst_len.eq(Mux(in_unc, 0, cache.bus.burst_len)),
        ]
        unc_valid = Signal()
        m.d.comb += self.bus.valid.eq(cache.bus.valid | unc_valid)
        with m.FSM(name="fetch") as fsm:
            # RUN fetches, and waits in place for the line fills of its misses:
            # the cache starts a fill by itself when the lookup that RUN asked
            # for misses (``fill_on_miss``), and is ``busy`` (from its own
            # registers) until the fill is done.  So the hit reaches no state
            # register of this unit (nor pc, set back after a miss, nor the
            # queue's count: ``pushed``), and the state register only sees the
            # cache's ``busy`` and ``done`` (the instruction cache's valid bits -> the hit -> this
            # state's enable was the worst placed path of ttag8's seeds 1 and
            # 2, 21.49 ns).
            def fetching():
                m.d.comb += running.eq(1)
                if self.ways == 2:
                    m.d.comb += push_way.eq(cache.hit_way)
                # (loaded in every cycle of fetching: read only in UNCACHED, which RUN
                # enters with this cycle's paddr, and by the fill that a miss of
                # this cycle starts; so the hit does not reach the enables of
                # these 56 flip-flops)
                m.d.comb += self.bus_next_addr.eq(paddr)
                m.d.sync += in_unc.eq(~cacheable)
                # The MMU's request address, loaded the same way in every cycle of
                # RUN, so that the hit no longer reaches the enables of these 64
                # flip-flops (seed 1's worst placed path on main: the tag RAM ->
                # the hit -> the enable, 34.5 ns): the predicted successor while
                # pc's page is known, else pc.  RUN leaves for XLATE only when the
                # page is not known, so XLATE starts with pc.  And the instruction
                # TLB, registered (mmu.py), compares in every cycle the address
                # that XLATE will ask for: when pc runs into a page not known, it
                # was the predicted successor in the cycle before, so the answer
                # is fresh when XLATE asks.  (The select is ``xl_known``, not the
                # arrays' ``may_hit & space``: shorter, and equal whenever it
                # matters.)  (``discard`` too: read only outside RUN's fetching.)
                m.d.sync += [xl_vaddr.eq(Mux(xl_known, pred, pc)), discard.eq(0),
                             pc_back.eq(pc)]
                # (after a miss the word read out is not pc's, but the cache is
                # then busy, which ``running`` asks for, and its fill reads pc's
                # word again)
                m.d.sync += rd_ok.eq(~self.redirect)
                with m.If(may_hit & ~self.redirect):
                    m.d.comb += cache.fill_on_miss.eq(1)
                with m.If(self.booted & rd_ok & ~xl_known & utlb.hit):
                    # a page translated before: current again from the next cycle
                    # (also when redirected: it is as good as the micro-TLB's)
                    m.d.sync += [fp_valid.eq(1), fp_vpn.eq(pc[12:]), fp_ppn.eq(utlb.ppn)]
                with m.If(adv_f & ~self.redirect):
                    m.d.comb += [push.eq(1), cache.touch.eq(1), self.ev_hit.eq(1)]
                with m.Elif(~self.booted):
                    m.d.comb += wait_now.eq(FetchWait.OTHER)
                with m.Elif(rd_ok & ~hit & ~self.redirect):
                    m.d.comb += wait_now.eq(Mux(~xl_known, FetchWait.ITLB,
                                                Mux(bad_high | ~cacheable, FetchWait.OTHER,
                                                    FetchWait.ICACHE_MISS)))
                    m.d.comb += self.ev_miss.eq(cache.fill_on_miss & ~cache.hit)
                # (the states left from here do not ask for the hit: each of their
                # conditions makes ``may_hit`` false)
                with m.If(rd_ok & self.booted & ~self.redirect):
                    with m.If(~xl_known):
                        with m.If(~utlb.hit):       # (a hit: the page is taken above)
                            m.next = "XLATE"
                    with m.Elif(bad_high):
                        m.d.sync += fault_page.eq(0)
                        m.next = "FAULT"
                    with m.Elif(~cacheable):
                        m.next = "UNCACHED"

            def waiting_for_the_fill():
                m.d.comb += wait_now.eq(FetchWait.ICACHE_MISS)
                # (the request is the cache's, chosen by ``in_unc`` (0 here) in
                # every state, above; its answer reaches the cache in every
                # state, below; ``bus_next_addr`` keeps the line's address)
                with m.If(self.redirect):
                    m.d.sync += [discard.eq(1), pc_back.eq(self.redirect_pc)]
                with m.Else():
                    m.d.sync += pc.eq(pc_back)      # (see pc_back)
                with m.If(cache.done):
                    with m.If(cache.error & ~discard & ~self.redirect):
                        m.d.sync += fault_page.eq(0)
                        m.next = "FAULT"
                    with m.Else():
                        # The data array has been reading pc's word (written by now,
                        # or given in this cycle: WriteBehind's reads see it).
                        m.d.sync += rd_ok.eq(~self.redirect)

            with m.State("RUN"):
                with m.If(cache.busy):
                    waiting_for_the_fill()
                with m.Else():
                    fetching()

            # The PMP (pmp.py): is the page allowed as a whole?  Then it is
            # remembered and fetched from at full speed (the PMP unit answers at
            # once for a page it remembers: asked in the cycle after the
            # translation came, PMP_PAGE).  If not, is this one word?  Then it is read on its own
            # (UNCACHED), else an access fault.
            def pmp_check(first, last, allowed, denied, keep=C(0, 1)):
                """Ask the PMP about the bytes first .. last; the answer is dropped
                when the fetch was redirected before (``allowed`` and ``denied``
                see to a redirect in the cycle of the answer), unless ``keep``
                and allowed (a page, below)."""
                m.d.comb += [self.pmp.valid.eq(1), self.pmp.first.eq(first),
                             self.pmp.last.eq(last)]
                with m.If(self.redirect):
                    m.d.sync += discard.eq(1)
                with m.If(self.pmp.ready):
                    with m.If(self.pmp.allowed & keep):
                        allowed()
                    with m.Elif(discard):
                        m.next = "RUN"
                    with m.Elif(self.pmp.allowed):
                        allowed()
                    with m.Else():
                        denied()

            def page_allowed():
                """The page of xl_vaddr is allowed: remembered (also when
                redirected in this cycle: a translation made before a redirect is
                dropped by ``discard``, one made in its cycle is as good as any,
                and the flush that comes with a trap or xRET forgets it).  Its
                numbers are in fp_vpn/fp_ppn already (``translating`` below)."""
                # (the data array has been reading pc's word all along)
                m.d.sync += [fp_valid.eq(~self.flush_xlate), rd_ok.eq(~self.redirect)]
                m.d.comb += utlb.fill.eq(1)
                m.next = "RUN"

            def translating(ppn):
                """XLATE and PMP_PAGE load the page being translated into fp_vpn and
                fp_ppn in every cycle, and fp_valid only when the PMP allows it
                (``page_allowed``): so the MMU's and the PMP's answers, late,
                reach two flip-flops, not the enables of those 96.  (The page
                remembered before is forgotten as the translation starts; it is
                in the micro-TLB, which gives it back in a cycle.)"""
                m.d.sync += [fp_valid.eq(0), fp_vpn.eq(xl_vaddr[12:]), fp_ppn.eq(ppn)]

            def unless_redirected(state):
                with m.If(self.redirect):
                    m.next = "RUN"
                with m.Else():
                    m.next = state

            def check_word():
                unless_redirected("PMP_WORD")

            def word_allowed():
                m.d.sync += discard.eq(0)
                unless_redirected("UNCACHED")

            def word_denied():
                m.d.sync += fault_page.eq(0)
                unless_redirected("FAULT")

            with m.State("XLATE"):
                m.d.comb += [self.mmu.valid.eq(1), wait_now.eq(FetchWait.ITLB)]
                translating(self.mmu.paddr[12:])
                # (loaded in every cycle: the last load, with ``ready``, is kept)
                m.d.sync += [xl_paddr.eq(self.mmu.paddr), flushed.eq(0)]
                with m.If(self.redirect):
                    m.d.sync += discard.eq(1)
                # The PMP is asked in the next cycle (PMP_PAGE), from ``xl_paddr``,
                # not in this one from the MMU's answer: so the MMU's port state
                # and its multiplexer of the physical address no longer lie in
                # front of the PMP's compares and, through its answer, of
                # ``fp_valid``, ``rd_ok``, the micro-TLB's fill and this state
                # register (placed paths of main: mmu.port0_state -> fp_valid
                # 27.1 ns, the fetch's PMP request -> fp_valid 29.8 ns).  It
                # costs a cycle per translation (about 1,000 on the boot).  A
                # translation that comes in a redirect's cycle goes there too: the
                # page is as good as any and is remembered if the PMP allows it
                # as a whole (``keep``), unless a flush came with the redirect
                # (``flushed``: the translation may predate it).
                with m.If(self.mmu.ready):
                    with m.If(discard):
                        m.next = "RUN"
                    with m.Elif(self.mmu.page_fault | self.mmu.access_fault):
                        m.d.sync += fault_page.eq(self.mmu.page_fault)
                        unless_redirected("FAULT")
                    with m.Elif(self.flush_xlate):
                        m.next = "RUN"
                    with m.Else():
                        m.next = "PMP_PAGE"

            with m.State("PMP_PAGE"):
                m.d.comb += wait_now.eq(FetchWait.ITLB)
                translating(xl_paddr[12:])
                pmp_check(Cat(C(0, 12), xl_paddr[12:]), Cat(C(0xFFF, 12), xl_paddr[12:]),
                          page_allowed, check_word, keep=~flushed)

            with m.State("PMP_WORD"):
                m.d.comb += wait_now.eq(FetchWait.ITLB)
                # (loaded in every cycle, read only in UNCACHED, which this state
                # enters when the word is allowed: the PMP's answer, whose
                # remembered-page compare may start from the MMU's answer, does
                # not reach the enables of these 56 flip-flops)
                m.d.comb += self.bus_next_addr.eq(xl_paddr)
                m.d.sync += in_unc.eq(1)            # (UNCACHED's request, if any, next)
                pmp_check(xl_paddr, Cat(C(3, 2), xl_paddr[2:]), word_allowed, word_denied)

            with m.State("FAULT"):
                m.d.comb += wait_now.eq(FetchWait.OTHER)
                with m.If(self.redirect):
                    m.next = "RUN"
                with m.Elif(space):
                    push_fault(fault_page)
                    m.next = "STOPPED"

            with m.State("STOPPED"):
                m.d.comb += wait_now.eq(FetchWait.OTHER)
                with m.If(self.redirect):
                    m.next = "RUN"

            with m.State("UNCACHED"):
                # Outside RAM: one word, only when this fetch is not speculative
                # (not in the cycle of a redirect either: M's comes a cycle after
                # it flushed the pipeline, which is then empty)
                go = self.pipe_empty & (q_count == 0) & ~self.redirect
                issued = Signal()
                m.d.comb += wait_now.eq(FetchWait.OTHER)
                with m.If(self.redirect):
                    m.d.sync += discard.eq(1)
                # (the word the bus brings: written to the free slot of the queue
                # in every cycle of this state, pushed only with ``ready``)
                word_u = Mux(unc_addr[2], self.bus.rdata[32:64], self.bus.rdata[0:32])
                m.d.comb += push_entry.insn.eq(word_u)
                # (the word's request, chosen by ``in_unc`` (1 here) in every
                # state, above; it counts with valid)
                with m.If(discard & ~issued):
                    m.next = "RUN"
                with m.Elif(go | issued):
                    m.d.comb += unc_valid.eq(1)
                    m.d.sync += issued.eq(1)
                    with m.If(self.bus.ready):
                        m.d.sync += issued.eq(0)
                        with m.If(discard | self.redirect):
                            m.next = "RUN"
                        with m.Elif(self.bus.error):
                            m.d.sync += fault_page.eq(0)
                            m.next = "FAULT"
                        with m.Else():
                            # the queue is empty: there is space
                            m.d.comb += push.eq(1)
                            m.d.sync += pc.eq(pred)
                            m.next = "RUN"

        # The bus's answer goes to the cache in every state, not through the
        # state's multiplexer: the cache reads it only while it fills, which it
        # does only while RUN waits for it.
        # So the path from a device's ``ready`` through the SoC's decoder and the
        # memory port to the data array's write enable has one LUT less.
        m.d.comb += [cache.bus.ready.eq(self.bus.ready), cache.bus.error.eq(self.bus.error),
                     cache.bus.rdata.eq(self.bus.rdata)]
        if self.checks:
            m.d.sync += Assert(~cache.busy | fsm.ongoing("RUN"),
                               "fetch: the cache fills outside RUN")
            m.d.sync += Assert(~(cache.busy & cache.done) | (pc == pc_back),
                               "fetch: a fill ends before pc was set back")
            m.d.sync += Assert(~(push & self.redirect), "fetch: a push in a redirect's cycle")
            m.d.sync += Assert(~(cache.busy & in_unc) &
                               ~(fsm.ongoing("UNCACHED") & ~in_unc),
                               "fetch: in_unc does not choose the request of the state")

        # the micro-TLB's fill (``page_allowed``; registered there): its values
        # do not depend on whether it fills
        m.d.comb += [utlb.fill_vpn.eq(xl_vaddr[12:]),
                     utlb.fill_ppn.eq(xl_paddr[12:])]
        with m.If(self.flush_xlate):
            m.d.sync += [fp_valid.eq(0), flushed.eq(1)]
        return m
