"""Sv39 hardware page-table walker with atomic A/D update.

One walk at a time.  The walk follows the privileged specification's
translation process step by step:

* canonical check of the virtual address (bits 63:39 equal bit 38);
* read the PTE at ``table + vpn[level] * 8`` (a bus error is an access
  fault);
* V=0, W=1 with R=0, or any of bits 63:54 set -> page fault;
* R=X=0: pointer to the next level.  Its D/A/U bits are reserved and must be
  zero (page fault otherwise); a pointer at level 0 is a page fault;
* a leaf: U/SUM/MXR permission check, then superpage alignment check;
* A=0, or D=0 for a store: write the PTE back with A (and D) set.

Every PTE read of a walk is done with the bus ``lock`` raised and the lock
stays raised until the walk ends, so the read of the leaf, the checks and the
A/D write-back form one atomic read-modify-write with respect to other bus
masters (DMA).  PTE bits other than A and D, in particular PTE_S (bit 8),
are written back unchanged.

Cycle budget with a zero-wait-state bus: ``start`` latches the request, then
each level takes 1 bus cycle plus 1 check cycle; ``done`` comes in the last
check cycle, or after the A/D write (1 bus cycle) in a separate cycle: a
3-level walk raises ``done`` 6 cycles after the ``start`` cycle without a
write-back, 8 with one.

Events are registered: each appears on ``events`` the cycle after the step it
describes.  ``event_pending`` is high whenever ``events.valid`` is.  Only
``valid`` says whether there is an event: the other fields are loaded in every
cycle and mean something only with it.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, enum, wiring
from amaranth.lib.wiring import In, Out

from ..bus import BusSignature, PADDR_WIDTH
from .signatures import Access, EventKind, MMUEventSignature
from .pte import (PTELayout, SatpLayout, VAddrLayout, access_allowed, leaf_paddr,
                  page_fault_cause, access_fault_cause)

__all__ = ["Walker"]


class _Outcome(enum.Enum, shape=2):
    """How the last walk ended."""
    OK = 0
    PAGE_FAULT = 1
    ACCESS_FAULT = 2


class Walker(wiring.Component):
    """Page-table walker.

    Request: pulse ``start`` while ``idle``; ``vaddr``, ``satp``, ``access``,
    ``priv``, ``sum``, ``mxr`` and ``port`` are latched then.  Completion:
    ``done`` is high for one cycle, together with ``port_out``,
    ``page_fault``/``access_fault``, ``paddr`` and the leaf description for
    a TLB refill (``leaf_*``; valid when neither fault is set).
    """

    def __init__(self):
        super().__init__({
            "start":  In(1),
            "vaddr":  In(64),
            "satp":   In(64),
            "access": In(Access),
            "priv":   In(2),
            "sum":    In(1),
            "mxr":    In(1),
            "port":   In(1),
            "idle":   Out(1),

            "done":         Out(1),
            "port_out":     Out(1),
            "page_fault":   Out(1),
            "access_fault": Out(1),
            "paddr":        Out(PADDR_WIDTH),
            "leaf_vpn":     Out(27),
            "leaf_asid":    Out(16),
            "leaf_level":   Out(2),
            "leaf_pte":     Out(PTELayout),
            "leaf_global":  Out(1),

            "bus":    Out(BusSignature()),
            "events": Out(MMUEventSignature()),
            "event_pending": Out(1),
        })

    def elaborate(self, platform):
        m = Module()

        # Latched request.
        va = Signal(VAddrLayout)
        satp = Signal(SatpLayout)
        access = Signal(Access)
        priv = Signal(2)
        sum_ = Signal()
        mxr = Signal()
        port = Signal()

        level = Signal(2)
        pte_addr = Signal(PADDR_WIDTH)
        pte = Signal(PTELayout)
        global_acc = Signal()         # OR of G over the pointers seen so far
        outcome = Signal(_Outcome)

        # One registered event per cycle.  ``emit`` fills in the fields
        # specific to the event kind; everything else comes from the walk.
        ev = self.events
        nxt = Signal(name="ev_next")
        nxt_kind = Signal(EventKind)
        nxt_pte = Signal(64)
        nxt_paddr = Signal(PADDR_WIDTH)
        nxt_cause = Signal(4)
        m.d.sync += ev.valid.eq(nxt)
        m.d.comb += self.event_pending.eq(ev.valid)
        # Walk context for the event: the latched request, except for
        # WALK_START, which is emitted while the request is being latched.
        src_port = Signal()
        src_va = Signal(64)
        src_satp = Signal(64)
        src_access = Signal(Access)
        src_level = Signal(2)
        src_pte_addr = Signal(PADDR_WIDTH)
        m.d.comb += [
            src_port.eq(port),
            src_va.eq(va.as_value()),
            src_satp.eq(satp.as_value()),
            src_access.eq(access),
            src_level.eq(level),
            src_pte_addr.eq(pte_addr),
        ]
        # The fields are loaded in every cycle, whether an event is emitted or not
        # (they are read only with ``valid``): what decides the event (the bus's
        # ready and error) reaches ``valid`` alone, not the enables of the wide
        # fields.  A state's fields are therefore set whatever its outcome (see
        # ``fields``), and ``emit`` only says that the event happens.
        m.d.sync += [
            ev.kind.eq(nxt_kind),
            ev.port.eq(src_port),
            ev.vaddr.eq(src_va),
            ev.satp.eq(src_satp),
            ev.access.eq(src_access),
            ev.level.eq(src_level),
            ev.pte_addr.eq(src_pte_addr),
            ev.pte.eq(nxt_pte),
            ev.paddr.eq(nxt_paddr),
            ev.cause.eq(nxt_cause),
        ]

        def fields(kind, pte_value=0, paddr=0, cause=0):
            m.d.comb += [
                nxt_kind.eq(kind),
                nxt_pte.eq(pte_value),
                nxt_paddr.eq(paddr),
                nxt_cause.eq(cause),
            ]

        def emit(kind, pte_value=0, paddr=0, cause=0):
            fields(kind, pte_value, paddr, cause)
            m.d.comb += nxt.eq(1)

        # Index of this level's entry in the current table.
        def vpn_at(lvl):
            return Mux(lvl == 2, va.vpn2, Mux(lvl == 1, va.vpn1, va.vpn0))

        # Leaf facts, computed from the registered PTE.
        is_leaf = pte.r | pte.x
        malformed = ~pte.v | (pte.w & ~pte.r) | (Cat(pte.reserved, pte.pbmt, pte.n) != 0)
        pointer_reserved = pte.d | pte.a | pte.u
        allowed = access_allowed(r=pte.r, w=pte.w, x=pte.x, u=pte.u, access=access,
                                 priv=priv, sum_=sum_, mxr=mxr)
        misaligned = Mux(level == 2, pte.ppn[0:18] != 0,
                         Mux(level == 1, pte.ppn[0:9] != 0, 0))
        needs_d = access == Access.STORE
        needs_write = ~pte.a | (needs_d & ~pte.d)
        noncanonical = Signal()        # latched at start: bits 63:39 != bit 38

        updated = Signal(PTELayout)
        m.d.comb += [
            updated.eq(pte),
            updated.a.eq(1),
            updated.d.eq(pte.d | needs_d),
        ]

        # Completion outputs (stable in DONE/FAULT states).
        m.d.comb += [
            self.port_out.eq(port),
            self.paddr.eq(leaf_paddr(pte.ppn, level, va.as_value())),
            self.leaf_vpn.eq(Cat(va.vpn0, va.vpn1, va.vpn2)),
            self.leaf_asid.eq(satp.asid),
            self.leaf_level.eq(level),
            self.leaf_pte.eq(pte),
            self.leaf_global.eq(global_acc | pte.g),
            self.page_fault.eq(outcome == _Outcome.PAGE_FAULT),
            self.access_fault.eq(outcome == _Outcome.ACCESS_FAULT),
        ]

        m.d.comb += [
            self.bus.addr.eq(pte_addr),
            self.bus.sel.eq(0xff),
        ]

        with m.FSM(name="walk"):
            with m.State("IDLE"):
                m.d.comb += self.idle.eq(1)
                with m.If(self.start):
                    req_va = data.View(VAddrLayout, self.vaddr)
                    req_satp = data.View(SatpLayout, self.satp)
                    m.d.sync += [
                        va.eq(self.vaddr),
                        satp.eq(self.satp),
                        access.eq(self.access),
                        priv.eq(self.priv),
                        sum_.eq(self.sum),
                        mxr.eq(self.mxr),
                        port.eq(self.port),
                        level.eq(2),
                        global_acc.eq(0),
                        pte.eq(0),
                        outcome.eq(_Outcome.OK),
                        pte_addr.eq(Cat(Const(0, 3), req_va.vpn2, req_satp.ppn)),
                        noncanonical.eq(self.vaddr[38:64] != Mux(self.vaddr[38], (1 << 26) - 1, 0)),
                    ]
                    m.d.comb += [
                        src_port.eq(self.port),
                        src_va.eq(self.vaddr),
                        src_satp.eq(self.satp),
                        src_access.eq(self.access),
                        src_level.eq(2),
                        src_pte_addr.eq(0),
                    ]
                    emit(EventKind.WALK_START)
                    m.next = "READ"

            with m.State("READ"):
                m.d.comb += [
                    self.bus.valid.eq(~noncanonical),
                    self.bus.lock.eq(~noncanonical),
                ]
                fields(EventKind.PTE_READ, pte_value=self.bus.rdata)
                with m.If(noncanonical):
                    # Not a Sv39 address: fault before touching memory.
                    m.d.sync += outcome.eq(_Outcome.PAGE_FAULT)
                    m.next = "FAULT"
                with m.Elif(self.bus.ready):
                    with m.If(self.bus.error):
                        m.d.sync += outcome.eq(_Outcome.ACCESS_FAULT)
                        m.next = "FAULT"
                    with m.Else():
                        m.d.sync += pte.eq(self.bus.rdata)
                        m.d.comb += nxt.eq(1)
                        m.next = "CHECK"

            with m.State("CHECK"):
                m.d.comb += self.bus.lock.eq(1)
                with m.If(malformed):
                    m.d.sync += outcome.eq(_Outcome.PAGE_FAULT)
                    m.next = "FAULT"
                with m.Elif(~is_leaf):
                    with m.If(pointer_reserved | (level == 0)):
                        m.d.sync += outcome.eq(_Outcome.PAGE_FAULT)
                        m.next = "FAULT"
                    with m.Else():
                        next_level = level - 1
                        m.d.sync += [
                            level.eq(next_level),
                            global_acc.eq(global_acc | pte.g),
                            pte_addr.eq(Cat(Const(0, 3), vpn_at(next_level), pte.ppn)),
                        ]
                        m.next = "READ"
                with m.Elif(~allowed | misaligned):
                    m.d.sync += outcome.eq(_Outcome.PAGE_FAULT)
                    m.next = "FAULT"
                with m.Elif(needs_write):
                    m.d.sync += pte.eq(updated)
                    m.next = "WRITE"
                with m.Else():
                    # Nothing to write back: finish right away.
                    m.d.comb += self.done.eq(1)
                    emit(EventKind.WALK_DONE, pte_value=pte, paddr=self.paddr)
                    m.next = "IDLE"

            with m.State("WRITE"):
                m.d.comb += [
                    self.bus.valid.eq(1),
                    self.bus.write.eq(1),
                    self.bus.wdata.eq(pte),
                    self.bus.lock.eq(1),
                ]
                fields(EventKind.AD_WRITE, pte_value=pte)
                with m.If(self.bus.ready):
                    with m.If(self.bus.error):
                        m.d.sync += outcome.eq(_Outcome.ACCESS_FAULT)
                        m.next = "FAULT"
                    with m.Else():
                        m.d.comb += nxt.eq(1)
                        m.next = "DONE"

            with m.State("DONE"):
                m.d.comb += self.done.eq(1)
                emit(EventKind.WALK_DONE, pte_value=pte, paddr=self.paddr)
                m.next = "IDLE"

            with m.State("FAULT"):
                m.d.comb += self.done.eq(1)
                emit(EventKind.WALK_FAULT, pte_value=pte,
                     cause=Mux(outcome == _Outcome.ACCESS_FAULT,
                               access_fault_cause(access), page_fault_cause(access)))
                m.next = "IDLE"

        return m
