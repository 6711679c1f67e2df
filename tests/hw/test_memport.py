"""The core's memory port (hw/core/memport.py) against a flat memory model.

The testbench plays the three requesters (walker, data, fetch) and the stores of
the memory stage, with random operations and random gaps, and a memory that
answers after random wait states (bursts beat by beat, devices outside RAM).  It
checks, cycle by cycle and at the end:

* the bus protocol: a request is held from its first cycle to its last beat;
  ``lock`` is on the bus from a locked read to its write;
* every read sees exactly the stores taken before its request was registered
  (the cycle before it appears on the bus), and every master write before or
  after them in that order;
* a device access is registered only when the buffer is empty;
* nothing is written between a locked read and its write;
* after the buffer drains, memory is every store and write applied in order;
* every operation completes (no deadlock), the full-line bursts happen.
"""

import random

import pytest
from amaranth import C
from amaranth.sim import Simulator
from hypothesis import given, settings, strategies as st

from hw.core.memport import MemoryPort

BASE = 0x8000_0000
RAM_BITS = 16
DEV = 0x1000_0000
LINE = 32
SPAN = 256                 # bytes of RAM the operations touch: few lines, many conflicts


def _initial(addr):
    return (addr * 0x9E37_79B9) & 0xFF


def _ops():
    dword = st.integers(0, SPAN // 8 - 1).map(lambda w: BASE + 8 * w)
    line = st.integers(0, SPAN // LINE - 1).map(lambda k: BASE + LINE * k)
    data = st.integers(0, (1 << 64) - 1)
    sel = st.integers(1, 255)
    master_op = st.one_of(
        st.tuples(st.just("read"), dword),
        st.tuples(st.just("fill"), line),
        st.tuples(st.just("write"), dword, data, sel),
        st.tuples(st.just("rmw"), dword, data),
        st.tuples(st.just("dev"), st.integers(0, 15).map(lambda w: DEV + 8 * w)),
    )
    store = st.tuples(st.just("store"), st.integers(0, SPAN - 1).map(lambda b: BASE + b),
                      data, st.sampled_from([1, 2, 4, 8]))
    gap = st.integers(0, 3)
    return st.tuples(
        st.lists(st.tuples(master_op, gap), max_size=8),      # walker
        st.lists(st.tuples(master_op, gap), max_size=8),      # data
        st.lists(st.tuples(master_op, gap), max_size=8),      # fetch
        st.lists(st.tuples(store, gap), max_size=40),         # stores
    )


class Master:
    """One requester: runs its operations one after the other."""

    def __init__(self, port, ops):
        self.port = port
        self.ops = list(ops)
        self.gap = 0
        self.op = None
        self.phase = 0              # rmw: 0 read, 1 gap, 2 write
        self.beats = 0
        self.done = []

    def request(self):
        """(valid, addr, write, wdata, sel, burst_len, lock) for this cycle."""
        if self.op is None:
            if not self.ops:
                return (0, 0, 0, 0, 0, 0, 0)
            if self.gap:
                self.gap -= 1
                return (0, 0, 0, 0, 0, 0, 0)
            self.op, self.gap = self.ops.pop(0)
            self.phase = 0
            self.beats = 0
        kind = self.op[0]
        if kind == "read":
            return (1, self.op[1], 0, 0, 0xFF, 0, 0)
        if kind == "fill":
            return (1, self.op[1], 0, 0, 0xFF, LINE // 8 - 1, 0)
        if kind == "write":
            return (1, self.op[1], 1, self.op[2], self.op[3], 0, 0)
        if kind == "dev":
            return (1, self.op[1], 0, 0, 0x0F, 0, 0)
        if kind == "rmw":
            if self.phase == 0:
                return (1, self.op[1], 0, 0, 0xFF, 0, 1)
            if self.phase == 1:
                return (0, 0, 0, 0, 0, 0, 1)
            return (1, self.op[1], 1, self.op[2], 0xFF, 0, 1)
        raise AssertionError(kind)

    def beat_done(self, rdata, burst_len):
        """A ready for this requester; True when its transfer ended."""
        self.beats += 1
        if self.beats <= burst_len:
            return False
        self.beats = 0
        self.done.append((self.op, self.phase, rdata))
        if self.op[0] == "rmw" and self.phase == 0:
            self.phase = 1
        else:
            self.op = None
        return True

    def after_cycle(self):
        if self.op is not None and self.op[0] == "rmw" and self.phase == 1:
            self.phase = 2

    @property
    def busy(self):
        return self.op is not None or bool(self.ops)


def run(ops, *, entries=2, seed=0, idle=8, answer_registered=False):
    # (with the port's own checks: a store in the stage always finds room)
    dut = MemoryPort(ram_base=BASE, ram_bits=RAM_BITS, entries=entries, line=LINE, idle=idle,
                     answer_registered=answer_registered, checks=True)
    # the cycles from the bus's ready to the requester's
    delay = 1 if answer_registered else 0
    rng = random.Random(seed)
    walker_ops, data_ops, fetch_ops, stores = ops
    masters = [Master(dut.walker, walker_ops), Master(dut.data, data_ops),
               Master(dut.fetch, fetch_ops)]
    mem = {}                        # the memory behind the bus: byte address -> value
    events = []                     # (time, order, [(byte address, value)]) in RAM
    stats = {"bursts": 0, "buffer_bursts": 0}

    def mem_get(a):
        return mem.get(a, _initial(a))

    def expected(addr, n, before):
        """Bytes addr..addr+n as the stores and writes before ``before`` left them."""
        view = {}
        for time, _, writes in sorted(events, key=lambda e: (e[0], e[1])):
            if time >= before:
                break
            for a, v in writes:
                if addr <= a < addr + n:
                    view[a] = v
        return sum(view.get(addr + i, _initial(addr + i)) << (8 * i) for i in range(n))

    async def bench(ctx):
        bus = dut.bus
        store_q = list(stores)
        store_gap = 0
        cur_store = None
        cycle = 0
        empty_at = {}
        open_req = None             # (owner, first cycle, request) of the transfer on the bus
        beat = 0
        wait = rng.randrange(3)
        lock_span = None            # (addr) of a locked read awaiting its write
        answers = {}                # cycle the requesters see it -> a bus answer
        while (any(mst.busy for mst in masters) or store_q or cur_store is not None or
               not ctx.get(dut.empty)):
            assert cycle < 5000, "no progress"
            # the requesters' outputs of this cycle
            reqs = [mst.request() for mst in masters]
            for mst, r in zip(masters, reqs):
                p = mst.port
                for sig, v in zip((p.valid, p.addr, p.write, p.wdata, p.sel, p.burst_len,
                                   p.lock), r):
                    ctx.set(sig, v)
            if cur_store is None and store_q:
                if store_gap:
                    store_gap -= 1
                else:
                    (_, addr, value, size), store_gap = store_q.pop(0)
                    addr -= addr % size          # stores are naturally aligned
                    cur_store = (addr, value & ((1 << (8 * size)) - 1), size)
            # A store is never offered while the data requester asks (the memory
            # stage does one or the other; the port relies on it): it waits.
            offered = cur_store is not None and not reqs[1][0]
            if offered:
                addr, value, size = cur_store
                off = addr % 8
                ctx.set(dut.st_valid, 1)
                ctx.set(dut.st_addr, addr)
                ctx.set(dut.st_data, (value << (8 * off)) & ((1 << 64) - 1))
                ctx.set(dut.st_sel, ((1 << size) - 1) << off)
            else:
                ctx.set(dut.st_valid, 0)
            empty_at[cycle] = ctx.get(dut.empty)

            # the memory's answer in this cycle
            ready = 0
            if ctx.get(bus.valid):
                req = tuple(ctx.get(s) for s in (bus.addr, bus.write, bus.sel, bus.burst_len))
                if open_req is None:
                    # a new transfer: it was registered in the previous cycle
                    open_req = [None, cycle, req]
                    beat = 0
                    addr, write, sel, blen = req
                    if not (BASE <= addr < BASE + (1 << RAM_BITS)):
                        assert empty_at[cycle - 1], f"cycle {cycle}: device access with stores pending"
                    if blen:
                        stats["bursts"] += 1
                        assert addr % ((blen + 1) * 8) == 0
                else:
                    assert req == open_req[2], f"cycle {cycle}: request changed mid-transfer"
                if wait:
                    wait -= 1
                else:
                    wait = rng.randrange(3)
                    ready = 1
                    addr, write, sel, blen = req
                    a = addr + 8 * beat
                    ram = BASE <= a < BASE + (1 << RAM_BITS)
                    ctx.set(bus.ready, 1)
                    ctx.set(bus.error, 0)
                    if write:
                        wdata = ctx.get(bus.wdata)
                        writes = [(a + i, wdata >> (8 * i) & 0xFF) for i in range(8)
                                  if sel >> i & 1]
                        if ram:
                            for x, v in writes:
                                mem[x] = v
                        ctx.set(bus.rdata, 0)
                    else:
                        ctx.set(bus.rdata, sum(mem_get(a + i) << (8 * i) for i in range(8))
                                if ram else 0x1234)
            if not ready:
                ctx.set(bus.ready, 0)
                ctx.set(bus.rdata, 0)
            else:
                # the answer as the requesters will see it (``delay`` cycles later)
                addr, write, sel, blen = open_req[2]
                answers[cycle + delay] = (open_req[1], addr + 8 * beat, write, sel, blen,
                                          ctx.get(bus.wdata))
                beat += 1
                if beat > blen:
                    open_req = None

            # who got the ready, what the buffer took
            got = [ctx.get(mst.port.ready) for mst in masters]
            answer = answers.pop(cycle, None)
            assert sum(got) <= (answer is not None), f"cycle {cycle}: a ready without an answer"
            took = offered and ctx.get(dut.st_ready)
            if took:
                addr, value, size = cur_store
                events.append((cycle, 1, [(addr + i, value >> (8 * i) & 0xFF)
                                          for i in range(size)]))
                cur_store = None
            if answer is not None:
                first, a, write, sel, blen, wdata = answer
                owner = got.index(1) if any(got) else 3
                if lock_span is not None:
                    assert owner in (lock_span[0], 3), f"cycle {cycle}: another requester " \
                        f"inside a locked RMW"
                if owner < 3:
                    mst = masters[owner]
                    kind = mst.op[0]
                    ram = BASE <= a < BASE + (1 << RAM_BITS)
                    if write:
                        assert kind in ("write", "rmw")
                        if ram:
                            events.append((first - 1, 0, [(a + i, wdata >> (8 * i) & 0xFF)
                                                          for i in range(8) if sel >> i & 1]))
                        if kind == "rmw":
                            assert lock_span == (owner, a)
                            lock_span = None
                    elif ram:
                        got_data = ctx.get(mst.port.rdata)
                        want = expected(a, 8, first - 1)
                        assert got_data == want, (
                            f"cycle {cycle}: {kind} at {a:#x} read {got_data:#x}, "
                            f"expected {want:#x}")
                        if kind == "rmw":
                            lock_span = (owner, a)
                    mst.beat_done(0, blen)
                else:
                    assert write, "the buffer only writes"
                    if blen:
                        stats["buffer_bursts"] += 1 if a % LINE == 0 else 0
                    # nothing may write the locked doubleword between its read and write
                    if lock_span is not None:
                        assert lock_span[1] != a, f"cycle {cycle}: write inside a locked RMW"
            if lock_span is not None:
                assert ctx.get(bus.lock), f"cycle {cycle}: lock dropped inside a locked RMW"
            await ctx.tick()
            for mst in masters:
                mst.after_cycle()
            cycle += 1

        # drained: memory is every write in order
        final = {}
        for _, _, writes in sorted(events, key=lambda e: (e[0], e[1])):
            for a, v in writes:
                final[a] = v
        for a in range(BASE, BASE + SPAN):
            assert mem_get(a) == final.get(a, _initial(a)), f"byte {a:#x}"

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return stats


@settings(max_examples=60, deadline=None)
@given(_ops(), st.integers(0, 1 << 16), st.sampled_from([1, 2, 3]), st.booleans())
def test_random_operations(ops, seed, entries, answer_registered):
    run(ops, entries=entries, seed=seed, answer_registered=answer_registered)


@pytest.mark.parametrize("answer_registered", [False, True])
def test_a_full_line_goes_out_as_one_burst(answer_registered):
    # 32 byte stores fill a line: one burst of 4 beats, not 32 transfers
    stores = [(("store", BASE + 64 + i, i + 1, 1), 0) for i in range(LINE)]
    stats = run(([], [], [], stores), entries=2, idle=40, answer_registered=answer_registered)
    assert stats["buffer_bursts"] == 1


@pytest.mark.parametrize("answer_registered", [False, True])
def test_a_read_waits_for_the_stores_of_its_line(answer_registered):
    stores = [(("store", BASE + 8, 0xAB, 1), 0)]
    reads = [(("fill", BASE), 0)]
    run(([], reads, [], stores), entries=2, idle=40, answer_registered=answer_registered)


def _trace(answer_registered, *, fill=False, stores=0, cycles=16):
    """The bus and the data requester cycle by cycle, with a memory that answers
    every beat in the cycle after the bus showed it (the first beat a cycle after
    the request appeared): the data requester reads RAM (a 4-beat fill with
    ``fill``) from cycle 0 on, or ``stores`` doubleword stores to one line go in
    from cycle 0 on.  Returns a list per cycle of (bus valid, bus ready, bus wdata,
    the data requester's ready, its rdata)."""
    dut = MemoryPort(ram_base=BASE, ram_bits=RAM_BITS, line=LINE, idle=40,
                     answer_registered=answer_registered, checks=True)
    rows = []

    async def bench(ctx):
        bus, data = dut.bus, dut.data
        asking = not stores
        answered_last = False
        beat = 0
        for cycle in range(cycles):
            ctx.set(data.valid, asking)
            ctx.set(data.addr, BASE + 0x40)
            ctx.set(data.sel, 0xFF)
            ctx.set(data.burst_len, 3 if fill else 0)
            store = cycle < stores
            ctx.set(dut.st_valid, store)
            ctx.set(dut.st_addr, BASE + 0x80 + 8 * cycle)
            ctx.set(dut.st_data, 0x1111_1111_1111_1111 * (cycle + 1))
            ctx.set(dut.st_sel, 0xFF if store else 0)
            valid = ctx.get(bus.valid)
            # a beat is answered in every cycle after the first of a transfer
            ready = valid and (beat > 0 or answered_last)
            ctx.set(bus.ready, ready)
            ctx.set(bus.rdata, 0xA0 + beat if ready else 0)
            rows.append((valid, int(ready), ctx.get(bus.wdata) if ready else None,
                         ctx.get(data.ready), ctx.get(data.rdata) if ctx.get(data.ready) else None))
            if ctx.get(data.ready) and (not fill or ctx.get(data.rdata) == 0xA3):
                asking = False
            if ready:
                beat = 0 if beat == ctx.get(bus.burst_len) else beat + 1
            answered_last = valid and not ready
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return rows


def test_a_registered_answer_reaches_the_requester_a_cycle_later():
    # A single read: the request goes on the bus in cycle 1, the memory answers
    # in cycle 2; the requester sees it in cycle 2, or in cycle 3 from the
    # port's registers, and the bus shows no request in cycle 3 either way
    # (with the answer registered the port holds its finished request back).
    plain = _trace(False)
    registered = _trace(True)
    assert [r[:2] for r in plain[:5]] == [(0, 0), (1, 0), (1, 1), (0, 0), (0, 0)]
    assert [r[3] for r in plain[:5]] == [0, 0, 1, 0, 0]
    assert [r[:2] for r in registered[:5]] == [(0, 0), (1, 0), (1, 1), (0, 0), (0, 0)]
    assert [r[3] for r in registered[:5]] == [0, 0, 0, 1, 0]
    assert registered[3][4] == 0xA0
    # a fill: beats in cycles 2-5, seen in 2-5 or 3-6 with their data
    plain = _trace(False, fill=True)
    registered = _trace(True, fill=True)
    assert [r[1] for r in plain[:8]] == [0, 0, 1, 1, 1, 1, 0, 0]
    assert [r[4] for r in plain[:8]] == [None, None, 0xA0, 0xA1, 0xA2, 0xA3, None, None]
    assert [r[1] for r in registered[:8]] == [0, 0, 1, 1, 1, 1, 0, 0]
    assert [r[0] for r in registered[:8]] == [0, 1, 1, 1, 1, 1, 0, 0]
    assert [r[4] for r in registered[:8]] == [None, None, None, 0xA0, 0xA1, 0xA2, 0xA3, None]


def test_a_registered_answer_keeps_a_write_bursts_data_moving_with_the_bus():
    # Four doubleword stores fill a line, which drains as one burst answered in
    # four cycles in a row: each beat carries its own doubleword in the cycle of
    # its ready, with the answer registered too (the write buffer moves its data
    # on the bus's ready, not on the registered one).
    for answer_registered in (False, True):
        rows = _trace(answer_registered, stores=4, cycles=20)
        beats = [r[2] for r in rows if r[1]]
        assert beats == [0x1111_1111_1111_1111 * k for k in (1, 2, 3, 4)], answer_registered


@pytest.mark.parametrize("answer_registered", [False, True])
def test_a_store_into_the_head_beside_a_read_of_its_line(answer_registered):
    # A store waits a cycle in the store stage, so it goes into the head entry
    # in a cycle in which the data requester may ask: a read of the head's line
    # then makes the buffer urgent, but the head is held back for that cycle
    # all the same (else its drain would start from the entry without the
    # store's bytes, and the bytes would be lost: the final memory check).  The
    # read's start moves over the cycles around the store (a first read of
    # another line, its gap and the memory's wait states vary).
    A = BASE + 0x40
    for seed in range(12):
        for gap in range(4):
            stores = [(("store", A, 0x11, 1), 0), (("store", A + 1, 0x22, 1), 0)]
            reads = [(("read", BASE + 0x80), gap), (("read", A), 0)]
            run(([], reads, [], stores), entries=2, seed=seed, idle=40,
                answer_registered=answer_registered)


@pytest.mark.parametrize("answer_registered", [False, True])
def test_a_store_in_the_first_cycle_of_a_lock_goes_before_the_locked_access(answer_registered):
    # The port sees a requester's lock from a register (``st_ready`` follows from
    # its flip-flops alone): in the cycle the walker first asks for its locked
    # read-modify-write, a store to the same doubleword is still taken, and the
    # walker is held back for that cycle, so that its read, a cycle later, waits
    # for the store to drain and its write comes after it.  (Chosen in the store's
    # cycle, its read would miss the store and the store, drained after the
    # write, would overwrite the write: the final memory check fails.)
    for addr in (BASE + 8, BASE + 64):
        stores = [(("store", addr, 0x5A, 1), 0)]
        walker = [(("rmw", BASE + 8, 0x1122_3344_5566_7788), 0)]
        run((walker, [], [], stores), entries=2, idle=40, answer_registered=answer_registered)


def _contract_run(checks, store_cycles, data_cycles, cycles=4):
    """Drive a store and a data request in the given cycles; returns the message of
    the failed assertion (the simulator raises it), or None."""
    dut = MemoryPort(ram_base=BASE, ram_bits=RAM_BITS, checks=checks)

    async def bench(ctx):
        for cycle in range(cycles):
            ctx.set(dut.st_valid, cycle in store_cycles)
            ctx.set(dut.st_addr, BASE + 8)
            ctx.set(dut.st_sel, 0xFF)
            ctx.set(dut.data.valid, cycle in data_cycles)
            ctx.set(dut.data.addr, BASE + 64)
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    try:
        sim.run()
    except AssertionError as e:
        return str(e)
    return None


def test_the_contract_check_catches_a_store_beside_a_data_request():
    # apart: no complaint; together in cycle 2: the check names the contract
    assert _contract_run(True, {0}, {1}) is None
    assert _contract_run(True, {0, 2}, {1, 2}) == (
        "Assertion violated: memory port: a store offered while the data requester asks")
    # without checks (the FPGA's netlists) the same stimulus runs on
    assert _contract_run(False, {0, 2}, {1, 2}) is None


def test_checks_are_left_out_of_the_netlist_unless_asked():
    from amaranth.back import rtlil
    plain = rtlil.convert(MemoryPort(ram_base=BASE, ram_bits=RAM_BITS))
    checked = rtlil.convert(MemoryPort(ram_base=BASE, ram_bits=RAM_BITS, checks=True))
    assert "$check" not in plain
    assert checked.count("cell $check") == 2
