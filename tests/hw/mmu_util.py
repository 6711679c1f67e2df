"""Helpers for the MMU tests: page-table construction and a bus-level RAM.

``PageTableBuilder`` lays out Sv39 tables in a :class:`SparseMemory`.
``BusRAM`` serves an Amaranth ``BusSignature`` from the same memory with
random wait states, records every transfer and checks that an A/D write-back
is covered by ``lock`` from the PTE read onwards.
"""

import random

from hw.mmu.refmodel import BusError
from hw.mmu.pte import (PTE_V, PTE_R, PTE_W, PTE_X,
                        PTE_PPN_SHIFT, PAGE_SHIFT, SATP_MODE_SV39)

RAM_BASE = 0x8000_0000


def make_satp(root_pa, asid=0, mode=SATP_MODE_SV39):
    return (mode << 60) | (asid << 44) | (root_pa >> PAGE_SHIFT)


def pte_value(pa, flags):
    """A PTE pointing at physical address ``pa`` with the given flag bits."""
    return ((pa >> PAGE_SHIFT) << PTE_PPN_SHIFT) | flags


def vpn(va, level):
    return (va >> (PAGE_SHIFT + 9 * level)) & 0x1ff


class PageTableBuilder:
    """Allocates 4 KiB table pages from ``table_base`` upward and maps pages."""

    def __init__(self, mem, table_base):
        self.mem = mem
        self.next_table = table_base
        self.root = self.new_table()

    def new_table(self):
        pa = self.next_table
        self.next_table += 1 << PAGE_SHIFT
        return pa

    def pte_addr(self, table, va, level):
        return table + 8 * vpn(va, level)

    def map(self, va, pa, flags, level=0, pointer_flags=PTE_V):
        """Map the page of ``va`` at ``level`` (0 4K, 1 2M, 2 1G) to ``pa``.

        Creates missing intermediate tables (pointer PTEs get
        ``pointer_flags``).  Returns the address of the leaf PTE.
        """
        table = self.root
        for lvl in (2, 1, 0):
            addr = self.pte_addr(table, va, lvl)
            if lvl == level:
                self.mem.write64(addr, pte_value(pa, flags))
                return addr
            cur = self.mem.read64(addr)
            if cur & PTE_V and not cur & (PTE_R | PTE_W | PTE_X):
                table = ((cur >> PTE_PPN_SHIFT) & ((1 << 44) - 1)) << PAGE_SHIFT
            else:
                nxt = self.new_table()
                self.mem.write64(addr, pte_value(nxt, pointer_flags))
                table = nxt
        raise AssertionError("unreachable")

    def leaf_addr(self, va, level=0):
        """Address of the PTE for ``va`` at ``level``, following existing pointers."""
        table = self.root
        for lvl in range(2, level, -1):
            cur = self.mem.read64(self.pte_addr(table, va, lvl))
            table = ((cur >> PTE_PPN_SHIFT) & ((1 << 44) - 1)) << PAGE_SHIFT
        return self.pte_addr(table, va, level)


class BusRAM:
    """A bus slave for Amaranth testbenches backed by a SparseMemory.

    Accesses the memory refuses (:class:`BusError`) end with ``error``.  Wait states are drawn from ``rng`` in
    [0, max_wait].  ``transfers`` records (addr, write, wdata_or_rdata,
    lock, error) for every completed transfer.
    """

    def __init__(self, bus, mem, *, seed=0, max_wait=3):
        self.bus = bus
        self.mem = mem
        self.rng = random.Random(seed)
        self.max_wait = max_wait
        self.transfers = []
        self.lock_violations = []
        self._locked_read = None     # address of the last read while lock stayed high

    def writes(self):
        return [(a, d) for a, w, d, _, e in self.transfers if w and not e]

    async def serve(self, ctx):
        bus = self.bus
        wait = None
        while True:
            if not ctx.get(bus.lock):
                self._locked_read = None
            if ctx.get(bus.valid):
                if wait is None:
                    wait = self.rng.randint(0, self.max_wait)
                if wait == 0:
                    addr = ctx.get(bus.addr)
                    write = ctx.get(bus.write)
                    lock = ctx.get(bus.lock)
                    assert ctx.get(bus.sel) == 0xff
                    assert addr & 7 == 0
                    error = False
                    value = 0
                    if write:
                        value = ctx.get(bus.wdata)
                        if self._locked_read != addr:
                            self.lock_violations.append(addr)
                        try:
                            self.mem.write64(addr, value)
                        except BusError:
                            error = True
                    else:
                        try:
                            value = self.mem.read64(addr)
                        except BusError:
                            error = True
                    self.transfers.append((addr, write, value, lock, error))
                    ctx.set(bus.ready, 1)
                    ctx.set(bus.error, error)
                    ctx.set(bus.rdata, 0 if write or error else value)
                    await ctx.tick()
                    ctx.set(bus.ready, 0)
                    ctx.set(bus.error, 0)
                    ctx.set(bus.rdata, 0)
                    wait = None
                    self._locked_read = addr if (lock and not write and not error) else None
                    continue
                wait -= 1
            await ctx.tick()


async def translate(ctx, port, va, access, *, satp, priv=1, sum_=0, mxr=0, limit=200,
                    ahead=0):
    """Drive one request on a TranslateSignature port.

    ``ahead``: the address and satp are presented that many cycles before
    valid (as M does: its address is a register before it asks the MMU).
    Returns ``(paddr, page_fault, access_fault, cycles)`` where ``cycles`` is
    the number of clock edges between raising valid and the ready cycle.
    """
    ctx.set(port.vaddr, va)
    ctx.set(port.satp, satp)
    for _ in range(ahead):
        await ctx.tick()
    ctx.set(port.valid, 1)
    ctx.set(port.access, access)
    ctx.set(port.priv, priv)
    ctx.set(port.sum, sum_)
    ctx.set(port.mxr, mxr)
    cycles = 0
    while not ctx.get(port.ready):
        await ctx.tick()
        cycles += 1
        assert cycles < limit, "translation did not complete"
    result = (ctx.get(port.paddr), ctx.get(port.page_fault), ctx.get(port.access_fault), cycles)
    await ctx.tick()
    ctx.set(port.valid, 0)
    return result


class EventLog:
    """Collects every valid event of an MMUEventSignature as a dict, and in
    ``cycles`` the cycle in which each was shown (clock edges from the start of
    the simulation before it: the first cycle is 0)."""

    FIELDS = ("kind", "port", "vaddr", "satp", "access", "level", "pte_addr", "pte",
              "paddr", "cause")

    def __init__(self, events):
        self.events = events
        self.log = []
        self.cycles = []

    async def monitor(self, ctx):
        ev = self.events
        sigs = [getattr(ev, f) for f in self.FIELDS]
        cycle = 0
        async for _clk, _rst, valid, *values in ctx.tick().sample(ev.valid, *sigs):
            if valid:
                self.log.append(dict(zip(self.FIELDS, values)))
                self.cycles.append(cycle)
            cycle += 1

    def kinds(self):
        return [e["kind"] for e in self.log]


def run_mmu(mem, body, *, seed=0, max_wait=3, itlb_entries=4,
            dtlb_entries=4, replacement="plru", event_cycles=None, checks=True):
    """Simulate an MMU whose walker bus is served by ``mem``.

    ``body(ctx, mmu, ram, events)`` is the async test body (``events`` is
    the live list of event dicts).  Returns ``(ram, events)``:
    the :class:`BusRAM` (transfers, lock violations) and the list of event
    dicts seen on the ``events`` port.  ``event_cycles``, a list, receives the
    cycle in which each event was shown (EventLog.cycles).  ``checks``: the MMU's
    assertion that requesters hold their requests until ``ready``.
    """
    from amaranth.sim import Simulator
    from hw.mmu.mmu import MMU

    dut = MMU(itlb_entries=itlb_entries, dtlb_entries=dtlb_entries, replacement=replacement,
              checks=checks)
    ram = BusRAM(dut.bus, mem, seed=seed, max_wait=max_wait)
    log = EventLog(dut.events)
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(ram.serve, background=True)
    sim.add_testbench(log.monitor, background=True)

    async def bench(ctx):
        await body(ctx, dut, ram, log.log)
        # Let the last events drain.
        for _ in range(3):
            await ctx.tick()
    sim.add_testbench(bench)
    sim.run()
    if event_cycles is not None:
        event_cycles.extend(log.cycles)
    return ram, log.log


async def sfence(ctx, port, vaddr=0, asid=0, all_vaddr=0, all_asid=0, limit=200):
    """Drive one sfence.vma request; returns the cycles until ready."""
    ctx.set(port.valid, 1)
    ctx.set(port.vaddr, vaddr)
    ctx.set(port.asid, asid)
    ctx.set(port.all_vaddr, all_vaddr)
    ctx.set(port.all_asid, all_asid)
    cycles = 0
    while not ctx.get(port.ready):
        await ctx.tick()
        cycles += 1
        assert cycles < limit, "sfence did not complete"
    await ctx.tick()
    ctx.set(port.valid, 0)
    return cycles


class Req:
    """One translation request for :func:`check_against_model`."""

    def __init__(self, va, access, satp, *, priv=1, sum_=0, mxr=0, port=None):
        from hw.mmu.signatures import Access
        self.va, self.access, self.satp = va, Access(access), satp
        self.priv, self.sum_, self.mxr = priv, sum_, mxr
        self.port = (0 if self.access == Access.FETCH else 1) if port is None else port

    def __repr__(self):
        return (f"Req(va={self.va:#x}, {self.access.name}, satp={self.satp:#x}, "
                f"priv={self.priv}, sum={self.sum_}, mxr={self.mxr}, port={self.port})")


class Fence:
    """One sfence.vma for :func:`check_against_model`."""

    def __init__(self, vaddr=0, asid=0, all_vaddr=0, all_asid=0):
        self.args = dict(vaddr=vaddr, asid=asid, all_vaddr=all_vaddr, all_asid=all_asid)

    def __repr__(self):
        return f"Fence({self.args})"


def check_against_model(mem, ops, **run_kw):
    """Run ``ops`` (Req/Fence) on the RTL and on the reference model and compare.

    ``mem`` is the initial memory (not modified; the RTL and the model each
    get a copy).  Checks, per request: paddr or fault kind, the exception
    cause reported in the walk's WALK_FAULT event, the PTE reads and A/D
    writes of each walk (from the events and from the bus), that a TLB hit
    needs no A/D write, and in the end the whole memory and the lock rule.
    Returns ``(outcomes, ram, events)`` where outcomes lists, per request,
    ``("hit"|"walk", model_translation, cycles)``.
    """
    from hw.mmu.mmu import MMU
    from hw.mmu.refmodel import translate as ref_translate
    from hw.mmu.signatures import EventKind
    EVENT_DELAY = MMU.EVENT_DELAY

    rtl_mem = mem.copy()
    ref_mem = mem.copy()
    outcomes = []

    # Each request's events are checked after the run: the MMU reports an event
    # one cycle after what it describes (hw/mmu/mmu.py), so the last event of a
    # request (its walk's end) shows in the first cycle of the next one.  The
    # events of a request are those reported for its cycles: shown from one
    # cycle after its first cycle to one cycle after the next request's first.
    runs = []                   # per Req: (op, want, cycles, first cycle, xfers)

    async def body(ctx, mmu, ram, log):
        now = 0                 # this cycle (edges since the start)
        for op in ops:
            if isinstance(op, Fence):
                now += await sfence(ctx, mmu.sfence, **op.args) + 1
                continue
            want = ref_translate(ref_mem, op.satp, op.va, op.access, op.priv, op.sum_, op.mxr)
            port = mmu.data if op.port else mmu.ifetch
            first_xfer = len(ram.transfers)
            paddr, pf, af, cycles = await translate(ctx, port, op.va, op.access,
                                                    satp=op.satp, priv=op.priv,
                                                    sum_=op.sum_, mxr=op.mxr)
            got = (paddr if not (pf or af) else None,
                   "page" if pf else "access" if af else None)
            assert got == (want.paddr, want.fault), (op, want, got)
            runs.append((op, want, cycles, now, ram.transfers[first_xfer:]))
            now += cycles + 1
            # Between requests the walker holds neither the bus nor its lock.
            assert not ctx.get(mmu.bus.lock) and not ctx.get(mmu.bus.valid)

    shown = []
    ram, events = run_mmu(rtl_mem, body, event_cycles=shown, **run_kw)
    assert len(shown) == len(events) and all(c >= EVENT_DELAY for c in shown)
    for n, (op, want, cycles, first, xfers) in enumerate(runs):
        end = runs[n + 1][3] if n + 1 < len(runs) else None
        evs = [e for e, c in zip(events, shown)
               if first <= c - EVENT_DELAY and (end is None or c - EVENT_DELAY < end)
               and EventKind(e["kind"]) != EventKind.TLB_FLUSH]
        kinds = [EventKind(e["kind"]) for e in evs]
        if want.bare:
            assert kinds == [] and xfers == [], op
            outcomes.append(("bare", want, cycles))
            continue
        if EventKind.WALK_START not in kinds:
            assert kinds == [EventKind.TLB_HIT], (op, kinds)
            assert want.writes == [] and xfers == [], (op, want)
            assert evs[0]["paddr"] == want.paddr
            outcomes.append(("hit", want, cycles))
            continue
        assert kinds[0] == EventKind.TLB_MISS and kinds[1] == EventKind.WALK_START, kinds
        reads = [(e["level"], e["pte_addr"], e["pte"]) for e in evs
                 if e["kind"] == EventKind.PTE_READ]
        writes = [(e["pte_addr"], e["pte"]) for e in evs if e["kind"] == EventKind.AD_WRITE]
        assert reads == want.reads, (op, reads, want.reads)
        assert writes == want.writes, (op, writes, want.writes)
        bus_reads = [(a, v) for a, w, v, _, err in xfers if not w and not err]
        bus_writes = [(a, v) for a, w, v, _, err in xfers if w and not err]
        assert bus_reads == [(a, v) for _, a, v in want.reads], op
        assert bus_writes == want.writes, op
        last = evs[-1]
        if want.fault:
            assert EventKind(last["kind"]) == EventKind.WALK_FAULT, (op, kinds)
            assert last["cause"] == want.cause, (op, last["cause"], want.cause)
        else:
            assert EventKind(last["kind"]) == EventKind.WALK_DONE, (op, kinds)
            assert last["paddr"] == want.paddr and last["pte"] == want.pte
            assert last["level"] == want.level
        outcomes.append(("walk", want, cycles))

    assert ram.lock_violations == []
    assert rtl_mem.words == ref_mem.words
    return outcomes, ram, events

