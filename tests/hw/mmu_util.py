"""Helpers for the MMU tests: page-table construction and a bus-level RAM.

``PageTableBuilder`` lays out Sv39 tables in a :class:`SparseMemory`.
``BusRAM`` serves an Amaranth ``BusSignature`` from the same memory with
random wait states, records every transfer and checks that an A/D write-back
is covered by ``lock`` from the PTE read onwards.
"""

import random

from hw.mmu.refmodel import BusError, SparseMemory
from hw.mmu.pte import (PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D, PTE_S,
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

    ``read_only`` is a list of (base, size) ranges where writes return a bus
    error (reads succeed).  Wait states are drawn from ``rng`` in
    [0, max_wait].  ``transfers`` records (addr, write, wdata_or_rdata,
    lock, error) for every completed transfer.
    """

    def __init__(self, bus, mem, *, seed=0, max_wait=3, read_only=()):
        self.bus = bus
        self.mem = mem
        self.rng = random.Random(seed)
        self.max_wait = max_wait
        self.read_only = list(read_only)
        self.transfers = []
        self.lock_violations = []
        self._locked_read = None     # address of the last read while lock stayed high

    def writes(self):
        return [(a, d) for a, w, d, _, e in self.transfers if w and not e]

    def _in_read_only(self, addr):
        return any(b <= addr < b + s for b, s in self.read_only)

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
                        if self._in_read_only(addr) or not self.mem.contains(addr):
                            error = True
                        else:
                            self.mem.write64(addr, value)
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


async def translate(ctx, port, va, access, *, satp, priv=1, sum_=0, mxr=0, limit=200):
    """Drive one request on a TranslateSignature port.

    Returns ``(paddr, page_fault, access_fault, cycles)`` where ``cycles`` is
    the number of clock edges between raising valid and the ready cycle.
    """
    ctx.set(port.valid, 1)
    ctx.set(port.vaddr, va)
    ctx.set(port.access, access)
    ctx.set(port.priv, priv)
    ctx.set(port.satp, satp)
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
    """Collects every valid event of an MMUEventSignature as a dict."""

    FIELDS = ("kind", "port", "vaddr", "satp", "access", "level", "pte_addr", "pte",
              "paddr", "cause")

    def __init__(self, events):
        self.events = events
        self.log = []

    async def monitor(self, ctx):
        ev = self.events
        sigs = [getattr(ev, f) for f in self.FIELDS]
        async for _clk, _rst, valid, *values in ctx.tick().sample(ev.valid, *sigs):
            if valid:
                self.log.append(dict(zip(self.FIELDS, values)))

    def kinds(self):
        return [e["kind"] for e in self.log]
