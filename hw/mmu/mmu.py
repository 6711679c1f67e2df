"""The Sv39 MMU: an instruction TLB, a data TLB and one shared page-table walker.

Timing, per translation port (``ifetch`` and ``data``):

* M mode (priv >= 2) or satp.MODE != Sv39: ``ready`` in the same cycle as
  ``valid`` (combinational), ``paddr = vaddr[0:56]``.  No TLB, no event.
* TLB hit: the lookup happens in the first cycle of ``valid``; the result is
  registered and ``ready`` comes in the next cycle.  Both TLBs answer from their
  compares of the previous cycle (tlb.py, ``registered``): a request whose
  address (or ASID) was not on the port in the previous cycle, or that follows a
  fill or flush of its TLB, waits one cycle more (``fresh``); the requesters
  present the address a cycle ahead when they can.  A hit whose permissions
  do not allow the access, or whose A bit is 0, or whose D bit is 0 for a
  store, is treated as a miss: the walker re-reads the PTE (setting A/D or
  raising the page fault from what memory says now) and the refill reuses
  the slot.
* Miss: the walker runs (see walker.py for its cycle budget); its result is
  registered and ``ready`` comes the cycle after the walker finishes.  A
  successful walk refills the port's TLB in that cycle of ``ready`` (from the
  walker's outputs, which still hold the walk); faults are not cached.

Only one TLB lookup is started per cycle (round-robin between the ports when
both ask), and lookups and sfence wait for a cycle in which the walker's
``events`` show no event, so ``events`` carries at most one event per cycle.

Events (``events``, MMUEventSignature) are reported one cycle after what they
describe (``EVENT_DELAY``): TLB_HIT/TLB_MISS in the cycle after the lookup,
TLB_FLUSH in the cycle after the flush, walker events in the cycle after the
walker's own ``events`` show them, i.e. two cycles after the walker's step.
The port is made from registers: a lookup's event from what the lookup
registered anyway (that a lookup was granted, its port, the port's state RESP
or WALK, the registered paddr and page level) and from the request, which the
port holds until ``ready`` (its vaddr, satp and access pass through), the
walker's and the flush's from a register loaded in every cycle; a few
multiplexers choose among them.  No path runs from the TLB's compare or the
lookup's grant to the port.  Every event is
delayed alike, so the order and spacing of the events are those of an MMU that
reported a lookup or a flush in its own cycle.  The cores connect this port to
their ``mmu_events`` (the pipelined core's ``retire`` port is one cycle late too:
hw/core/retire.py).

sfence.vma is accepted (``ready``) in a cycle in which the walker is idle;
it invalidates matching entries of both TLBs at the end of that cycle.
"""

from amaranth.hdl import Assert, Cat, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..bus import BusSignature, PADDR_WIDTH
from .signatures import (Access, EventKind, TranslateSignature, SfenceSignature,
                         MMUEventSignature)
from .pte import SatpLayout, VAddrLayout, SATP_MODE_SV39, access_allowed, leaf_paddr
from .tlb import TLB, parameter_problem
from .walker import Walker

__all__ = ["MMU"]

PORT_FETCH = 0
PORT_DATA = 1


class MMU(wiring.Component):
    """Sv39 MMU.  See the module docstring for timing and policies.

    Parameters: ``itlb_entries``, ``dtlb_entries`` (number of fully
    associative entries of each TLB) and ``replacement`` (``"plru"`` or
    ``"fifo"``, see tlb.py; PLRU needs power-of-two sizes).
    """

    #: cycles from what an event describes (a lookup, a flush, a walker's step: the
    #: walker's ``events`` show it one cycle after the step) to its report on
    #: ``events`` (the module docstring)
    EVENT_DELAY = 1

    def __init__(self, itlb_entries=8, dtlb_entries=16, replacement="plru", checks=False):
        for which, size in (("instruction", itlb_entries), ("data", dtlb_entries)):
            problem = parameter_problem(size, replacement)
            if problem:
                self._MustUse__silence = True
                raise ValueError(f"{which} TLB: {problem}")
        self.itlb_entries = itlb_entries
        self.dtlb_entries = dtlb_entries
        self.replacement = replacement
        self.checks = checks    # simulation-only assertions of the requesters' contract
        super().__init__({
            "ifetch": In(TranslateSignature()),
            "data":   In(TranslateSignature()),
            "sfence": In(SfenceSignature()),
            "bus":    Out(BusSignature()),
            "events": Out(MMUEventSignature()),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.walker = walker = Walker()
        # The instruction TLB likewise (the fetch unit's ``xl_vaddr`` -> the
        # compares -> the index and the read -> ``res_paddr0`` was placed at 32.3 ns
        # on main): the fetch unit loads its address in every cycle of RUN with
        # the pc it will have, so a request usually finds its answer fresh.
        m.submodules.itlb = itlb = TLB(self.itlb_entries, self.replacement, registered=True)
        # The data TLB answers from its registered compares (tlb.py,
        # ``registered``): M asks it (XLATE) with the address it has held since
        # the instruction entered M, so the answer is ready at once; a port
        # whose address (or ASID) changed in the previous cycle, or after a fill
        # or flush of the TLB, waits one cycle (``fresh``).
        m.submodules.dtlb = dtlb = TLB(self.dtlb_entries, self.replacement, registered=True)
        wiring.connect(m, wiring.flipped(self.bus), walker.bus)

        ports = [self.ifetch, self.data]
        tlbs = [itlb, dtlb]

        # Shared arbitration state.
        lookup_req = Signal(2)
        lookup_grant = Signal(2)
        walk_req = Signal(2)
        walk_grant = Signal(2)
        last_lookup = Signal()          # port granted most recently

        sfence_fire = Signal()
        m.d.comb += sfence_fire.eq(self.sfence.valid & walker.idle & ~walker.event_pending)
        lookups_blocked = walker.event_pending | sfence_fire

        # Round-robin between the two lookup requests.
        with m.If(~lookups_blocked):
            with m.If(lookup_req[PORT_FETCH] & lookup_req[PORT_DATA]):
                m.d.comb += lookup_grant.eq(Mux(last_lookup == PORT_FETCH, 0b10, 0b01))
            with m.Else():
                m.d.comb += lookup_grant.eq(lookup_req)
        with m.If(lookup_grant.any()):
            m.d.sync += last_lookup.eq(lookup_grant[PORT_DATA])

        # The walker serves the data port first when both wait.
        with m.If(walker.idle):
            m.d.comb += walk_grant.eq(Mux(walk_req[PORT_DATA], 0b10, walk_req))
        walk_port = walk_grant[PORT_DATA]
        chosen = ports[PORT_DATA]
        other = ports[PORT_FETCH]
        m.d.comb += [
            walker.start.eq(walk_grant.any()),
            walker.port.eq(walk_port),
            walker.vaddr.eq(Mux(walk_port, chosen.vaddr, other.vaddr)),
            walker.satp.eq(Mux(walk_port, chosen.satp, other.satp)),
            walker.access.eq(Mux(walk_port, chosen.access, other.access)),
            walker.priv.eq(Mux(walk_port, chosen.priv, other.priv)),
            walker.sum.eq(Mux(walk_port, chosen.sum, other.sum)),
            walker.mxr.eq(Mux(walk_port, chosen.mxr, other.mxr)),
        ]

        # A lookup's event is reported in the next cycle from what the lookup left
        # in registers anyway: ``lk_valid`` (a lookup was granted), ``last_lookup``
        # (its port), the port's state (RESP after a usable hit, WALK after a miss),
        # the registered result (``res_paddr``, ``res_level``) and the request,
        # which the port holds until ``ready`` (TranslateSignature), so until
        # after that cycle.  No path runs from the TLB's compare to ``events``.
        lk_valid = Signal()
        m.d.sync += lk_valid.eq(lookup_grant.any())
        lk_hit = []             # per port: its state is RESP
        lk_paddr = []           # per port: the registered hit's paddr
        lk_level = []           # per port: the registered hit's level (page size)

        for idx, (port, tlb) in enumerate(zip(ports, tlbs)):
            satp = data.View(SatpLayout, port.satp)
            va = data.View(VAddrLayout, port.vaddr)
            bare = Signal(name=f"bare{idx}")
            m.d.comb += bare.eq(port.priv[1] | (satp.mode != SATP_MODE_SV39))

            entry = tlb.hit_entry
            canonical = port.vaddr[38:64] == Mux(port.vaddr[38], (1 << 26) - 1, 0)
            store = port.access == Access.STORE
            usable = Signal(name=f"usable{idx}")
            # The TLB compares in every cycle (``lookup_en`` stays at its default):
            # its result is used only when the port's lookup is granted, in IDLE,
            # and gating the compares with that (the port's ``valid``, its state,
            # ``bare``) would put the requester's state (M's, the fetch's) in front
            # of the compares, on the path into ``res_paddr``.
            m.d.comb += [
                tlb.lookup_vpn.eq(Cat(va.vpn0, va.vpn1, va.vpn2)),
                tlb.lookup_asid.eq(satp.asid),
                usable.eq(tlb.hit & canonical & entry.a & (entry.d | ~store) &
                          access_allowed(r=entry.r, w=entry.w, x=entry.x, u=entry.u,
                                         access=port.access, priv=port.priv,
                                         sum_=port.sum, mxr=port.mxr)),
            ]

            res_paddr = Signal(PADDR_WIDTH, name=f"res_paddr{idx}")
            res_level = Signal(2, name=f"res_level{idx}")    # for the lookup's event
            res_pf = Signal(name=f"res_pf{idx}")
            res_af = Signal(name=f"res_af{idx}")
            stale = Signal(name=f"stale{idx}")          # a lookup hit an unusable entry
            stale_index = Signal.like(tlb.hit_index, name=f"stale_index{idx}")

            m.d.comb += port.paddr.eq(port.vaddr[0:PADDR_WIDTH])

            # A walk's end refills the TLB a cycle later, in RESP, from the
            # walker's outputs, which hold the walk's result until its next
            # ``start`` takes effect (walker.py: registers, and the walker is
            # idle in RESP, so at the earliest it starts then).  So the
            # walker's leaf checks (``done`` in CHECK, from the PTE register)
            # reach the state register alone, not the enables of the TLB's
            # tag flip-flops.  The TLB is not looked up in RESP (only in IDLE),
            # nor flushed (the walker shows its WALK_DONE or WALK_FAULT event
            # then, ``lookups_blocked``), so the later fill is invisible.
            # The slot it fills is chosen in the cycle of ``done`` as well (the
            # victim's search, from the valid bits and the replacement tree, stays
            # off the path to the tag flip-flops' enables).
            refill = Signal(name=f"refill{idx}")    # RESP after a walk
            fill_index = Signal.like(tlb.fill_index, name=f"fill_index{idx}")
            m.d.sync += refill.eq(0)

            with m.FSM(name=f"port{idx}") as port_fsm:
                with m.State("IDLE"):
                    with m.If(port.valid & bare):
                        m.d.comb += port.ready.eq(1)
                    m.d.comb += lookup_req[idx].eq(port.valid & ~bare & tlb.fresh)
                    hit_paddr = Signal(PADDR_WIDTH, name=f"hit_paddr{idx}")
                    m.d.comb += hit_paddr.eq(leaf_paddr(entry.ppn, entry.level, port.vaddr))
                    # Loaded in every cycle of IDLE, whether the port asks or not:
                    # the state leaves IDLE only after a granted lookup, whose cycle
                    # is then the last load (RESP reads the result, WALK the stale
                    # slot; a walk's end overwrites the result).  So the port's
                    # ``valid``, the lookup's grant and the permission check reach
                    # the state register and the TLB's touch flip-flop alone, not
                    # the enables of these registers.
                    m.d.sync += [
                        res_paddr.eq(hit_paddr),
                        res_level.eq(entry.level),
                        res_pf.eq(0),
                        res_af.eq(0),
                        stale.eq(tlb.hit & canonical),
                        stale_index.eq(tlb.hit_index),
                    ]
                    with m.If(lookup_grant[idx]):
                        with m.If(usable):
                            m.d.comb += tlb.touch.eq(1)
                            m.next = "RESP"
                        with m.Else():
                            m.next = "WALK"

                with m.State("WALK"):
                    m.d.comb += walk_req[idx].eq(1)
                    # (loaded in every cycle of WALK: the last load, in the cycle
                    # of ``done``, is kept; RESP reads them)
                    m.d.sync += [
                        res_paddr.eq(walker.paddr),
                        res_pf.eq(walker.page_fault),
                        res_af.eq(walker.access_fault),
                        # (the TLB's victim does not change from here to RESP: no
                        # lookup, touch, fill or flush of it comes between)
                        fill_index.eq(Mux(stale, stale_index, tlb.victim)),
                    ]
                    with m.If(walker.done & (walker.port_out == idx)):
                        m.d.sync += refill.eq(1)
                        m.next = "RESP"

                with m.State("RESP"):
                    m.d.comb += [
                        port.ready.eq(1),
                        port.paddr.eq(res_paddr),
                        port.page_fault.eq(res_pf),
                        port.access_fault.eq(res_af),
                    ]
                    ok = ~res_pf & ~res_af
                    leaf = walker.leaf_pte
                    m.d.comb += [
                        tlb.fill_valid.eq(refill & ok),
                        tlb.fill_index.eq(fill_index),
                        tlb.fill_entry.valid.eq(1),
                        tlb.fill_entry.vpn.eq(walker.leaf_vpn),
                        tlb.fill_entry.level.eq(walker.leaf_level),
                        tlb.fill_entry.asid.eq(walker.leaf_asid),
                        tlb.fill_entry.g.eq(walker.leaf_global),
                        tlb.fill_entry.ppn.eq(leaf.ppn),
                        tlb.fill_entry.r.eq(leaf.r),
                        tlb.fill_entry.w.eq(leaf.w),
                        tlb.fill_entry.x.eq(leaf.x),
                        tlb.fill_entry.u.eq(leaf.u),
                        tlb.fill_entry.a.eq(leaf.a),
                        tlb.fill_entry.d.eq(leaf.d),
                    ]
                    m.next = "IDLE"

            lk_hit.append(port_fsm.ongoing("RESP"))
            lk_paddr.append(res_paddr)
            lk_level.append(res_level)

            m.d.comb += [
                tlb.flush_valid.eq(sfence_fire),
                tlb.flush_vpn.eq(self.sfence.vaddr[12:39]),
                tlb.flush_asid.eq(self.sfence.asid),
                tlb.flush_all_vaddr.eq(self.sfence.all_vaddr),
                tlb.flush_all_asid.eq(self.sfence.all_asid),
            ]

        m.d.comb += self.sfence.ready.eq(sfence_fire)

        # Event output, one cycle after what it reports: the walker's registered
        # event (a second register: the walker shows it the cycle after its step)
        # or a flush, both from ``pend`` (loaded in every cycle: the walker's
        # ``event_pending`` and the flush's fire decide only ``pend.valid``), else
        # the lookup of the previous cycle from its registers (above).  A lookup or
        # a flush happens only in a cycle in which the walker shows no event, so
        # ``pend`` and ``lk_valid`` are never high together, and the events keep
        # the order and spacing they had when lookups and flushes were reported in
        # their own cycle and walker steps one cycle after theirs.
        pend = MMUEventSignature().create(path=("pend",))
        wev = walker.events
        m.d.sync += pend.valid.eq(walker.event_pending | sfence_fire)
        with m.If(walker.event_pending):
            m.d.sync += _copy_event(pend, wev, valid=False)
        with m.Else():
            m.d.sync += [
                pend.kind.eq(EventKind.TLB_FLUSH),
                pend.port.eq(0),
                pend.vaddr.eq(self.sfence.vaddr),
                pend.satp.eq(self.sfence.asid << 44),
                pend.access.eq(0),
                pend.level.eq(0),
                pend.pte_addr.eq(0),
                pend.pte.eq(0),
                pend.paddr.eq(0),
                pend.cause.eq(Cat(self.sfence.all_vaddr, self.sfence.all_asid)),
            ]

        ev = self.events
        lk_src = ports[PORT_DATA]
        lk_alt = ports[PORT_FETCH]
        hit = Signal()
        m.d.comb += hit.eq(Mux(last_lookup, lk_hit[PORT_DATA], lk_hit[PORT_FETCH]))
        with m.If(lk_valid):
            m.d.comb += [
                ev.valid.eq(1),
                ev.kind.eq(Mux(hit, EventKind.TLB_HIT, EventKind.TLB_MISS)),
                ev.port.eq(last_lookup),
                ev.vaddr.eq(Mux(last_lookup, lk_src.vaddr, lk_alt.vaddr)),
                ev.satp.eq(Mux(last_lookup, lk_src.satp, lk_alt.satp)),
                ev.access.eq(Mux(last_lookup, lk_src.access, lk_alt.access)),
                ev.level.eq(Mux(hit, Mux(last_lookup, lk_level[PORT_DATA],
                                         lk_level[PORT_FETCH]), 0)),
                ev.paddr.eq(Mux(hit, Mux(last_lookup, lk_paddr[PORT_DATA],
                                         lk_paddr[PORT_FETCH]), 0)),
            ]
        with m.Else():
            m.d.comb += _copy_event(ev, pend)

        if self.checks:
            # The lookup's event (above) and the walker read the request after the
            # cycle it was made in, which is right only because a requester holds
            # ``valid`` and its request until ``ready`` (TranslateSignature).
            for idx, port in enumerate(ports):
                name = ("fetch", "data")[idx]
                waiting = Signal(name=f"check_waiting{idx}")
                request = Cat(port.vaddr, port.access, port.satp)
                held = Signal(len(request), name=f"check_held{idx}")
                m.d.sync += [waiting.eq(port.valid & ~port.ready), held.eq(request)]
                m.d.sync += Assert(~waiting | (port.valid & (request == held)),
                                   f"MMU: the {name} port dropped or changed its request "
                                   f"before ready")
        return m


def _copy_event(dst, src, valid=True):
    """Assignments of every field of the event ``src`` to ``dst`` (MMUEventSignature
    interfaces), ``valid`` too unless told not to."""
    return [getattr(dst, name).eq(getattr(src, name))
            for name in dst.signature.members if valid or name != "valid"]
