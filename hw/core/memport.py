"""The pipelined core's memory port: its requesters share one bus, whose request
leaves the core from registers, and stores to RAM wait in a write buffer.

::

    walker (MMU) ----> request registers --+
    data (M stage) --> request registers --+--> bus (hw/bus.py), the owner's
    fetch -----------> request registers --+
    write buffer ----> request registers --+  <-- stores to RAM (st_*)
        valid of each --> choice --> owner, out_valid, lock

**Requesters** speak the bus protocol of hw/bus.py on ports of their own:
``walker`` (page-table reads and A/D writes, ``lock`` held through a walk),
``data`` (data cache line fills, uncached accesses, LR/SC, AMOs with ``lock``
from their read to their write) and ``fetch`` (instruction cache line fills,
uncached fetches).  A request seen in one cycle is copied into that
requester's request registers (each requester has a set of its own) and is on
the bus from the next cycle on, taken from the set of the owner register; so
nothing of the core's logic but that multiplexer lies on the path from its
flip-flops through the SoC's arbiter and decoder to the devices, and the choice
among the requesters reaches a few flip-flops, not the request's hundred-odd.
Each ``ready`` of the bus goes to the requester that owns the transfer; a
requester keeps ``valid`` and its request until its last ``ready``.  Priority:
walker, data, fetch, then the write buffer (but see below).  ``lock`` keeps the
port for its requester (and the SoC's arbiter keeps it for the core) until the
requester drops it.

**The write buffer** holds ``entries`` lines of ``line`` bytes with a byte mask
each.  A store to RAM (``st_valid`` with its physical address, the data on
their byte lanes and ``st_sel``) is taken in the cycle it is offered
(``st_ready``) when an entry will be free for it; it waits a cycle in a store
stage and then falls into the entry that holds its line if that entry does not
drain yet (the bytes are merged: *write combining*), else into a free entry.
So a store costs the pipeline one cycle unless the buffer is (nearly) full, and
``st_ready`` is a flip-flop (a full buffer takes no store, not even one into a
line it holds: see "Taking a store").  A store is
never offered in a cycle in which the data requester asks (the memory stage
does one or the other), and ``st_ready`` does not look at that requester: a
store taken beside a locked read of its doubleword would land inside the
read-modify-write.  A store into the oldest entry holds that entry's drain back
for the cycle of the store (so where a store goes follows from the buffer's
registers and the store's address, not from the bus or the other requesters).
Entries drain oldest first: a line whose every byte was written goes out as one
burst, any other as one single transfer per doubleword that holds written bytes.
The oldest entry drains when a younger one exists, when it is complete, after
``idle`` cycles without a store to it, or at once when it is needed:

* a read of RAM (by any requester) in a line the buffer holds waits until that
  line has drained, so data fills, instruction fills, page-table walks, LR/SC
  and AMOs see every older store (the buffer then goes first, also while
  another requester holds ``lock``);
* an access outside RAM (a device) waits until the buffer is empty, so a
  device never sees the core's accesses out of program order (the disk's DMA
  reads what the kernel stored before it wrote the device's register).

``empty`` tells the core the buffer holds nothing; ``wr_valid``/``wr_addr``
report each doubleword this port writes to memory (the instruction cache snoops
them).
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..bus import BusSignature, PADDR_WIDTH

__all__ = ["MemoryPort"]

# requester numbers, also their priority (lowest first)
WALKER, DATA, FETCH, BUFFER = range(4)


class MemoryPort(wiring.Component):
    def __init__(self, *, ram_base, ram_bits, entries=2, line=32, idle=8, conflict_line=None,
                 fetch_ahead=False, answer_registered=False, checks=False):
        """RAM: the ``1 << ram_bits`` bytes at ``ram_base`` (aligned to its size).
        The buffer holds RAM lines only, so it keeps and compares their offsets in
        RAM (``ram_bits`` low bits), not whole physical addresses: fewer flip-flops
        and shorter compares on the paths of a store and of the requester choice.
        ``conflict_line``: the bytes compared when a read checks the buffer (at least
        the longest burst of a requester; default ``line``).  ``checks``: assert the
        contract of the port's users in simulation (no store while the data
        requester asks); off for the FPGA, whose tools do not take assertions.
        ``fetch_ahead``: the fetch requester tells the address of its request a
        cycle ahead (``fetch_next_addr``), and whether that request's line is in
        the buffer is compared then, into flip-flops (see "Conflicts").
        ``answer_registered``: the bus's answer reaches the requesters and the
        port's own bookkeeping a cycle late, from flip-flops (see "The answer")."""
        if entries < 1:
            raise ValueError("the write buffer needs at least one entry")
        if line < 8 or line & (line - 1) or line > 128:
            raise ValueError("the write buffer's line must be a power of two of 8 to 128 bytes")
        conflict_line = conflict_line or line
        if conflict_line < line or conflict_line & (conflict_line - 1):
            raise ValueError("the conflict granule must be a power of two of at least a line")
        if not conflict_line.bit_length() - 1 <= ram_bits <= PADDR_WIDTH or \
                ram_base & ((1 << ram_bits) - 1) or ram_base >> PADDR_WIDTH:
            raise ValueError("RAM must be aligned to its size, of at least a conflict granule")
        self.ram_base = ram_base
        self.ram_bits = ram_bits
        self.entries = entries
        self.line = line
        self.words = line // 8
        self.idle = idle
        self.checks = checks
        self.fetch_ahead = fetch_ahead
        self.answer_registered = answer_registered
        self.line_bits = line.bit_length() - 1
        self.conflict_bits = conflict_line.bit_length() - 1
        super().__init__({
            "bus":      Out(BusSignature()),
            "walker":   In(BusSignature()),
            "data":     In(BusSignature()),
            "fetch":    In(BusSignature()),
            "st_valid": In(1),
            "st_addr":  In(PADDR_WIDTH),
            "st_data":  In(64),
            "st_sel":   In(8),
            "st_ready": Out(1),
            "fetch_next_addr": In(PADDR_WIDTH),
            "empty":    Out(1),
            "wr_valid": Out(1),
            "wr_addr":  Out(PADDR_WIDTH),
        })

    def elaborate(self, platform):
        m = Module()
        N, W, lb, cb = self.entries, self.words, self.line_bits, self.conflict_bits
        masters = [self.walker, self.data, self.fetch]

        # ---------------- the write buffer's entries ----------------
        e_valid = [Signal(name=f"wb{i}_valid") for i in range(N)]
        rb = self.ram_bits
        ram_top = C(self.ram_base >> rb, PADDR_WIDTH - rb)   # the address bits above RAM's
        e_line = [Signal(rb - lb, name=f"wb{i}_line") for i in range(N)]   # (offset in RAM)
        e_data = [[Signal(64, name=f"wb{i}_d{w}") for w in range(W)] for i in range(N)]
        e_mask = [[Signal(8, name=f"wb{i}_m{w}") for w in range(W)] for i in range(N)]
        head = Signal(range(N))          # the oldest entry
        count = Signal(range(N + 1))
        draining = Signal()              # the head entry is going out (takes no stores)
        idle_cnt = Signal(range(self.idle + 1))
        choice = Signal(3)               # who goes on the bus next: WALKER .. BUFFER, 4 nobody
        locked = Signal()                # a requester holds lock (and the SoC's bus)

        def at(sigs, index):
            return Array(sigs)[index] if N > 1 else sigs[0]

        def nxt(index):
            return Mux(index == N - 1, 0, index + 1) if N > 1 else C(0, 1)

        # ---- the store stage ----
        # A store taken (``accept``) waits a cycle in a register stage of its own
        # (``s_valid`` and the store's line, doubleword, lanes and data) and goes
        # into the entries in the next cycle, always: ``st_ready`` promises the
        # room for it (below).  So the compare of the store's line with the
        # entries' and the enables of the entries' thousand-odd flip-flops start
        # from flip-flops, not from the memory stage's late decision to store
        # (which reached them through ``take`` in 20-21 ns at 50 MHz on the
        # board, 343 endpoints later than 20 ns on seed 2).  The stage's data
        # registers load in every cycle; only ``s_valid`` says they hold a store.
        s_valid = Signal()
        s_line = Signal(rb - lb)         # (a store to RAM)
        s_word = Signal(max(1, lb - 3))
        s_sel = Signal(8)
        s_data = Signal(64)
        st_open = Signal(init=1)
        m.d.comb += self.st_ready.eq(st_open)
        accept = self.st_valid & self.st_ready
        m_line = self.st_addr[lb:rb]     # (the line of the store offered now)
        m.d.sync += [s_valid.eq(accept), s_line.eq(m_line),
                     s_word.eq(self.st_addr[3:lb] if W > 1 else 0),
                     s_sel.eq(self.st_sel), s_data.eq(self.st_data)]

        m.d.comb += self.empty.eq((count == 0) & ~s_valid)

        if self.checks:
            # st_ready does not look at the data requester (see the module's text)
            m.d.sync += Assert(~(self.st_valid & self.data.valid),
                               "memory port: a store offered while the data requester asks")

        # ---- taking a store ----
        # A store taken goes into the entry that holds its line if that entry
        # does not drain (it merges), else into a free entry.  A store into the
        # head entry in the cycle the head would start to drain holds the drain
        # back for that cycle (below), so where a store goes depends on the
        # buffer's registers and the store's address alone, not on the bus, the
        # other requesters or the choice among them.  Whether the head entry
        # drains (``head_draining``, one bit per entry) is a flip-flop loaded
        # with the next values of ``draining`` and ``head``.
        head_draining = Signal(N)
        same_line = [Signal(name=f"wb{i}_same_line") for i in range(N)]
        merge = Signal(N)
        fresh = Signal(N)                # the entries allocated in the last cycle
        for i in range(N):
            m.d.comb += [same_line[i].eq(e_valid[i] & (e_line[i] == s_line)),
                         merge[i].eq(same_line[i] & ~head_draining[i])]
        any_merge = merge.any()
        tail = Signal(range(N))
        m.d.comb += tail.eq((head + count) % N if N & (N - 1) == 0 else
                            Mux(head + count >= N, head + count - N, head + count))
        # No store is taken while a requester holds lock (or asks for it): the buffer
        # may have to drain for the holder, and a store younger than its read landing
        # before its write would be overwritten by that write.  Whether one asks is
        # taken from a register (``lock_asked``: the walker's or the fetch's lock
        # in the last cycle), so that ``st_ready``, and with it the memory stage's
        # commit of a store and the pipeline's advance, follow from the buffer's
        # flip-flops alone and not from the page-table walker's state (whose lock
        # would otherwise run through the MMU, this port and M into the enables of
        # M's physical address).  In the first cycle of a requester's lock, which
        # the register has not seen yet, a store may still be taken: that requester
        # is then not chosen in that cycle (``choice`` below), so that its first
        # read, a cycle later, is checked against the buffer with the store in it.
        lock_ask = self.walker.lock | self.fetch.lock
        lock_asked = Signal()
        m.d.sync += lock_asked.eq(lock_ask)
        # ``st_ready`` itself is a flip-flop (``st_open``, loaded below): a store
        # is taken when no lock is held or asked for and the buffer will have a
        # free entry for it in the next cycle, when it leaves the stage.  Loading
        # ``st_open`` in the cycle a store is taken, the store counts as one that
        # takes an entry unless it surely merges (``will_merge``): its line is
        # the stage's store's (which merges or takes an entry now, one that does
        # not drain in the next cycle) or that of an entry other than the head
        # (which does not drain in the next cycle either: only the head drains,
        # and an entry that becomes the head starts without draining).  A
        # buffer that is full, or one entry short of it with a store that may
        # take an entry in the stage, takes no store, not even one into a line
        # it holds: that costs a few cycles of a long run of stores that
        # outruns the drain (which the run waits for anyway), and keeps the
        # compares of the store's line with the entries' (20 bits on the board)
        # off ``st_ready``, the pipeline's advance and the hundreds of enables
        # behind it: they reach the flip-flop ``st_open`` alone.  The stage's
        # store goes into the entries also while a lock is held: no store entered
        # the stage after the lock was asked for, so it is older than the
        # holder's accesses, and a read of its line waits for it as for the
        # entries' (``conflict`` below).
        will_merge = Cat(s_valid & (m_line == s_line),
                         *[e_valid[i] & (head != i) & (e_line[i] == m_line)
                           for i in range(N)]).any()
        take = s_valid                   # (the stage's store goes into the entries)
        if self.checks:
            # the room st_ready promised: the stage's store merges or finds an entry
            m.d.sync += Assert(~take | any_merge | (count != N),
                               "memory port: the store stage's store finds the buffer full")
        alloc = take & ~any_merge
        if self.fetch_ahead:
            m.d.sync += fresh.eq(Cat(*[alloc & (tail == i) for i in range(N)]))
        into_head = take & merge.bit_select(head, 1)     # (the head does not drain now)
        for i in range(N):
            for w in range(W):
                hit_word = (s_word == w) if W > 1 else C(1, 1)
                # The store's bytes where st_sel is set, the entry's elsewhere: one
                # assignment of the whole word (the same flip-flops and enables as a
                # byte-wise ``m.If(st_sel[b])``, whose eight separate assignments the
                # compiled simulation would evaluate one by one in every cycle).
                with m.If(take & hit_word & Mux(any_merge, merge[i], tail == i)):
                    m.d.sync += e_data[i][w].eq(Cat(
                        Mux(s_sel[b], s_data[8 * b:8 * b + 8],
                            e_data[i][w][8 * b:8 * b + 8]) for b in range(8)))
                with m.If(alloc & (tail == i)):
                    m.d.sync += e_mask[i][w].eq(Mux(hit_word, s_sel, 0))
                with m.Elif(take & merge[i] & hit_word):
                    m.d.sync += e_mask[i][w].eq(e_mask[i][w] | s_sel)
            with m.If(alloc & (tail == i)):
                m.d.sync += [e_valid[i].eq(1), e_line[i].eq(s_line)]
        with m.If(take):
            m.d.sync += idle_cnt.eq(0)
        with m.Elif(idle_cnt != self.idle):
            m.d.sync += idle_cnt.eq(idle_cnt + 1)

        # ---- what the head entry sends ----
        h_mask = [at([e_mask[i][w] for i in range(N)], head) for w in range(W)]
        h_full = Cat(*[mk == 0xFF for mk in h_mask]).all()
        h_line = at(e_line, head)
        sent = Signal(W)                 # singles already sent of the draining head
        todo = Signal(W)                 # doublewords of the head still to send
        m.d.comb += todo.eq(Cat(*[(h_mask[w] != 0) & ~sent[w] for w in range(W)]))
        first = Signal(range(W))         # the lowest doubleword still to send
        for w in reversed(range(W)):
            with m.If(todo[w]):
                m.d.comb += first.eq(w)

        # ---------------- conflicts: reads that must wait for the buffer ----------------
        # (the store in the stage counts as the entries' stores do)
        def conflict(addr):
            hits = Cat(*[e_valid[i] & (e_line[i][cb - lb:] == addr[cb:rb]) for i in range(N)],
                       s_valid & (s_line[cb - lb:] == addr[cb:rb]))
            in_ram = addr[rb:] == ram_top
            return Mux(in_ram, hits.any(), (count != 0) | s_valid)

        # The data requester's ``valid`` comes late (the memory stage decides on it
        # from M's instruction, its page and its address): every decision below is
        # made twice, once as if it were asking and once as if it were silent, and
        # its ``valid`` picks one of the two at the end (a Shannon expansion).
        conflicts = [conflict(mst.addr) for mst in masters]
        if self.fetch_ahead:
            # The fetch's conflict from flip-flops: the fetch unit gives the
            # address of its request of the next cycle (``fetch_next_addr``:
            # what its address register will hold; while it asks, its request's
            # line and everything above it are that register's), which is
            # compared with the entries' lines as they are (``f_match``), with the
            # line of the store stage's store (``f_self``: the entry it allocates,
            # if any, is ``fresh`` in the next cycle), with the line of a store
            # taken now (``f_stage``: in the stage in the next cycle) and with
            # RAM's region
            # (``f_in_ram``).  An entry's line changes only when it is allocated,
            # so in the next cycle these bits and the entries' valid bits tell
            # whether the fetch's request waits for the buffer: the fetch unit's
            # state and address multiplexer no longer lie in front of the
            # compares and the choice (``fetch.fetch_state`` -> ``port.sent``
            # was 30.0 ns placed, 16 cells).
            f_match = Signal(N)
            f_self = Signal()
            f_stage = Signal()
            f_in_ram = Signal()
            f_next = self.fetch_next_addr
            m.d.sync += [
                f_match.eq(Cat(*[e_line[i][cb - lb:] == f_next[cb:rb] for i in range(N)])),
                f_self.eq(s_line[cb - lb:] == f_next[cb:rb]),
                f_stage.eq(self.st_addr[cb:rb] == f_next[cb:rb]),
                f_in_ram.eq(f_next[rb:] == ram_top),
            ]
            f_hits = Cat(*[e_valid[i] & Mux(fresh[i], f_self, f_match[i]) for i in range(N)])
            conflicts[FETCH] = Mux(f_in_ram, f_hits.any() | (s_valid & f_stage),
                                   (count != 0) | s_valid)
            if self.checks:
                # the user's promise: the address it announced is its request's
                f_announced = Signal(PADDR_WIDTH - cb)
                m.d.sync += f_announced.eq(f_next[cb:])
                m.d.sync += Assert(~self.fetch.valid | (f_announced == self.fetch.addr[cb:]),
                                   "memory port: a fetch request at another line than announced")
        blocked = {}                     # {data valid: the requesters blocked}
        for dv in (0, 1):
            blocked[dv] = Signal(3, name=f"blocked_if_data{dv}")
            for i, mst in enumerate(masters):
                asking = C(dv, 1) if i == DATA else mst.valid
                m.d.comb += blocked[dv][i].eq(asking & conflicts[i])

        # ---------------- the request registers ----------------
        bus = self.bus
        out_valid = Signal()
        owner = Signal(2)
        beat = Signal(4)                 # beats of the open transfer completed
        lock_owner = Signal(2)

        # ---------------- the answer ----------------
        # ``ready``, ``error`` and ``rdata``: the bus's answer as the port sees it.
        # With ``answer_registered`` they are flip-flops loaded from the bus, so
        # the answer, which comes from a device's or the RAM's register through the
        # SoC's decoder and arbiter (on the board from the SDRAM controller's
        # register slice by the pins, across the chip), ends at these flip-flops
        # and does not run on into the requesters (the memory stage's and the
        # walker's decisions, the caches' fills) and the choice below.  Everything
        # of the port then follows the answer a cycle late, as if the slave had
        # answered a cycle later, except two things the bus's protocol wants in the
        # cycle after a ``ready`` itself (``answer_beat`` counts the beats of the
        # bus's answers for them):
        # * after the transfer's last ``ready`` the port would show its finished
        #   request for one more cycle (it learns of that ready a cycle late):
        #   ``bus.valid`` is held low in that cycle (``answer_ended``), so the
        #   slave sees every transfer once;
        # * a write burst's ``wdata`` moves to the next beat's data in the cycle
        #   after each ``ready`` (the write buffer's bursts, below).
        # A transfer costs one cycle more, and a transfer that follows another
        # one of the port starts a cycle later.
        if self.answer_registered:
            ready, error, rdata = Signal(), Signal(), Signal(64)
            answer_beat = Signal(4)
            answer_ended = Signal()
            answer_ending = bus.valid & bus.ready & (bus.error |
                                                     (answer_beat == bus.burst_len))
            m.d.comb += bus.valid.eq(out_valid & ~answer_ended)
            with m.If(bus.valid & bus.ready):
                m.d.sync += answer_beat.eq(Mux(answer_ending, 0, answer_beat + 1))
            m.d.sync += [answer_ended.eq(answer_ending),
                         ready.eq(bus.valid & bus.ready), error.eq(bus.error),
                         rdata.eq(bus.rdata)]
        else:
            ready, error, rdata = bus.ready, bus.error, bus.rdata
            answer_beat = beat
            m.d.comb += bus.valid.eq(out_valid)
        ending = out_valid & ready & (error | (beat == bus.burst_len))
        free = ~out_valid | ending
        with m.If(out_valid & ready):
            m.d.sync += beat.eq(Mux(ending, 0, beat + 1))

        for i, mst in enumerate(masters):
            m.d.comb += [mst.ready.eq(out_valid & (owner == i) & ready),
                         mst.rdata.eq(rdata), mst.error.eq(error)]

        # Which requester goes next.  A requester whose transfer ends in this cycle
        # still shows valid (for that transfer): it is not chosen again now.
        eligible = {}
        for dv in (0, 1):
            eligible[dv] = Signal(3, name=f"eligible_if_data{dv}")
            for i, mst in enumerate(masters):
                asking = C(dv, 1) if i == DATA else mst.valid
                m.d.comb += eligible[dv][i].eq(
                    asking & ~blocked[dv][i] & ~(out_valid & (owner == i)) &
                    (~locked | (lock_owner == i)))
        # The buffer: the rest of an entry already going out, or the head entry.
        more = draining & todo.any()
        buf_busy = out_valid & (owner == BUFFER)
        buf_done = buf_busy & ending & (error | ~more)   # the head entry is out

        def wants_of(blocked):
            return (count != 0) & (
                draining | (count > 1) | h_full | (idle_cnt == self.idle) | blocked.any())

        def urgent_of(blocked):
            return (count != 0) & ((count == N) | blocked.any())

        def decide(blocked, eligible):
            """The requester chosen (4: nobody) for these blocked and eligible bits."""
            urgent = urgent_of(blocked)
            buf_go = Mux(buf_busy,
                         # a burst is sent whole; a single may be followed by the next one
                         ending & ~buf_done,
                         wants_of(blocked) & (~locked | blocked.bit_select(lock_owner, 1)))
            chosen = Signal(3)
            m.d.comb += chosen.eq(4)
            with m.If(free):
                with m.If(buf_go & urgent):
                    m.d.comb += chosen.eq(BUFFER)
                with m.Elif(eligible[WALKER]):
                    m.d.comb += chosen.eq(WALKER)
                with m.Elif(eligible[DATA]):
                    m.d.comb += chosen.eq(DATA)
                with m.Elif(eligible[FETCH]):
                    m.d.comb += chosen.eq(FETCH)
                with m.Elif(buf_go):
                    m.d.comb += chosen.eq(BUFFER)
            return chosen

        # The stage's store into the head entry holds the head back for this
        # cycle: nobody is chosen in its place, so the entry goes out in the next
        # cycle with the store's bytes.  (The head is not draining, so the buffer
        # is not busy with it: a store starts nothing.)  The data requester may
        # ask in that cycle (the store was taken a cycle before), and a read of
        # the head's line makes the buffer urgent: held back too (``if_data``).
        # A store taken in the first cycle of a requester's lock (see
        # ``st_ready``; never together with a data request) holds that requester
        # back for the cycle in the same way.
        silent = decide(blocked[0], eligible[0])
        if_data_ = decide(blocked[1], eligible[1])
        if_data = Mux(into_head & (if_data_ == BUFFER), 4, if_data_)
        lock_held_back = accept & (((silent == WALKER) & self.walker.lock) |
                                 ((silent == FETCH) & self.fetch.lock))
        # (the choice without a data request, a store held back; ``nexts`` below)
        plain = Mux((into_head & (silent == BUFFER)) | lock_held_back, 4, silent)
        m.d.comb += choice.eq(Mux(self.data.valid, if_data, plain))   # (for reading)

        # The request registers: each requester has a set of its own (address,
        # write, byte lanes, burst length, write data), loaded in every cycle in
        # which no transfer of that requester is on the bus (or its last beat ends),
        # from its request as it stands, whether it asks or not; the one chosen
        # keeps its request from the cycle of the choice on.  The bus takes the set
        # of the owner (a register), so the choice among the requesters (after
        # their ``valid``, the data requester's late, and the write buffer's
        # compares) reaches ``out_valid``, ``owner``, the lock and the buffer's
        # bookkeeping, a dozen flip-flops, and not the data inputs or enables of
        # the hundred-odd bits of the request; and the bus's request leaves from
        # flip-flops through one multiplexer that only the owner register drives.
        # (The buffer may be chosen again in the cycle its single transfer ends:
        # its set is loaded in that cycle too.)
        h_data = [at([e_data[i][w] for i in range(N)], head) for w in range(W)]
        fields = ("addr", "write", "sel", "burst_len", "wdata")
        req = [{f: Signal.like(getattr(bus, f), name=f"req{i}_{f}") for f in fields}
               for i in range(4)]

        for i, mst in enumerate(masters):
            with m.If(~(out_valid & (owner == i)) | ending):
                m.d.sync += [req[i][f].eq(getattr(mst, f)) for f in fields]

        # (``sent`` marks the buffer's singles on their way, so ``first`` is the next)
        word = first
        full_burst = ~draining & h_full
        rb_ = req[BUFFER]
        with m.If(~buf_busy | ending):
            m.d.sync += rb_["write"].eq(1)
            with m.If(full_burst):
                m.d.sync += [rb_["addr"].eq(Cat(C(0, lb), h_line, ram_top)),
                             rb_["sel"].eq(0xFF), rb_["burst_len"].eq(W - 1),
                             rb_["wdata"].eq(h_data[0])]
            with m.Else():
                m.d.sync += [rb_["addr"].eq(Cat(C(0, 3), word, h_line, ram_top) if W > 1
                                            else Cat(C(0, 3), h_line, ram_top)),
                             rb_["sel"].eq(Array(h_mask)[word] if W > 1 else h_mask[0]),
                             rb_["burst_len"].eq(0),
                             rb_["wdata"].eq(Array(h_data)[word] if W > 1 else h_data[0])]
        with m.Elif(bus.ready & ~bus.error):
            # the next beat of a burst, in the cycle after the bus's ``ready``
            m.d.sync += rb_["wdata"].eq(
                Array(h_data)[(answer_beat + 1)[:max(1, W.bit_length() - 1)]]
                if W > 1 else h_data[0])

        with m.Switch(owner):
            for i in range(4):
                with m.Case(i):
                    m.d.comb += [getattr(bus, f).eq(req[i][f]) for f in fields]

        # The registers the choice sets: owner, out_valid, lock, and the buffer's
        # bookkeeping.  Their next values are computed twice, once for each of
        # the two choices (the data requester asking or not), and the data
        # requester's ``valid`` picks one at each flip-flop (``shannon``): so
        # ``valid``, which comes late from the memory stage, meets one
        # multiplexer on its way to each of these flip-flops.  (Written with
        # ``choice`` alone, the synthesis tool folded the two decisions into one
        # after ``valid``: 4-5 LUT levels of this port behind it.)
        # The choice made as if no store came (``who_``, below): a store into the
        # head entry only keeps the head from being chosen (``plain``, above).
        lock_of = Array([mst.lock for mst in masters] + [C(0, 1)])
        # (the rest of what the registers' next values depend on, choice aside)
        full_burst_w = Signal(W)
        m.d.comb += full_burst_w.eq(Mux(full_burst, C(-1, W),
                                        Mux(draining, sent, 0) | (C(1, W) << word)))
        lock_release = locked & ~(out_valid & (owner == lock_owner)) & ~lock_of[lock_owner]

        def nexts(ch, who_):
            """The registers' next values when ``ch`` is chosen (``who_`` without
            the hold-back of a store into the head entry)."""
            asked = ch != 4                     # somebody is chosen
            draining_n = Mux(buf_done, 0, (ch == BUFFER) | draining)
            return {
                "out_valid": Mux(asked, 1, Mux(ending, 0, out_valid)),
                "owner": Mux(asked, ch[:2], owner),
                # lock: taken by a requester chosen with it, kept while its
                # holder holds it, released when it drops it
                "locked": Mux(lock_release & (ch != lock_owner), 0,
                              Mux((ch < BUFFER) & lock_of[ch[:2]], 1, locked)),
                # (a requester chosen now owns the bus: the lock follows it)
                "lock_owner": Mux(locked, lock_owner, who_[:2]),
                "sent": Mux(buf_done, 0, Mux(ch == BUFFER, full_burst_w, sent)),
                "draining": draining_n,
                "head_draining": Cat(*[draining_n & (head_next == i) for i in range(N)]),
            }

        head_next = Signal.like(head)
        count_next = Signal.like(count)
        m.d.comb += [head_next.eq(Mux(buf_done, nxt(head), head)),
                     count_next.eq(count + alloc - buf_done)]
        if_asks = nexts(if_data, if_data_)
        if_not = nexts(plain, silent)
        regs = {"out_valid": out_valid, "owner": owner, "locked": locked,
                "lock_owner": lock_owner, "sent": sent, "draining": draining,
                "head_draining": head_draining}
        nexts_of = {}
        for name, reg in regs.items():
            shannon = nexts_of[name] = Signal.like(reg, name=f"{name}_next")
            m.d.comb += shannon.eq(Mux(self.data.valid, if_asks[name], if_not[name]))
            m.d.sync += reg.eq(shannon)

        # The head entry leaves when its last transfer ends (or fails: a write to
        # RAM does not fail; the line is dropped rather than retried forever).
        with m.If(buf_done):
            for i in range(N):
                with m.If(head == i):
                    m.d.sync += e_valid[i].eq(0)
        m.d.sync += [head.eq(head_next), count.eq(count_next),
                     st_open.eq(~nexts_of["locked"] & ~lock_ask &
                                Mux(accept & ~will_merge, count_next < N - 1,
                                    count_next != N))]
        m.d.comb += bus.lock.eq(locked)

        # every doubleword written to memory, for the caches' snooping
        m.d.comb += [self.wr_valid.eq(out_valid & bus.write & ready & ~error),
                     self.wr_addr.eq(bus.addr | (beat << 3))]
        return m

