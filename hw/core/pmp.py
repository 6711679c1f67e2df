"""Physical memory protection: the PMP entries' regions and the check of an access.

The privileged spec's PMP (section "Physical Memory Protection"), with
``entries`` entries (16 by default), granularity 4 bytes (G = 0):

* each entry has a configuration byte (``pmpcfg``: R bit 0, W bit 1, X bit 2,
  A bits 4:3, L bit 7) and an address register (``pmpaddr``: physical address
  bits 55:2);
* A selects how the entry matches: OFF (0) never; TOR (1) the range from the
  previous entry's address (0 for entry 0) up to, not including, this one's
  (nothing when that range is empty); NA4 (2) the four bytes at the address;
  NAPOT (3) a naturally aligned power of two of at least 8 bytes, whose size is
  encoded by the trailing ones of ``pmpaddr`` (``...y0`` 8 bytes, ``...y01`` 16
  bytes, and so on);
* the lowest-numbered entry that matches any byte of the access decides; it
  must match every byte, or the access fails;
* a matching entry allows the access if its R/W/X bit allows the kind of
  access, or if the access is made in M mode and the entry is not locked (L);
* when no entry matches, M-mode accesses succeed and S/U-mode accesses fail.

An access is a range of bytes ``first`` .. ``last`` (inclusive): a load or store
of up to 8 bytes, or a whole 4 KiB page (the core asks whether a page is allowed
as a whole, so that every access inside it is, and remembers the answer).  As
regions start and end at multiples of 4 bytes, every comparison is made on
addresses in 4-byte units.

* ``pmp_regions`` turns the registers into one region per entry (on, lo, hi in
  4-byte units).
* ``PMPChecker`` is combinational (registers in, verdict out): the unit tests'
  device under test.
* ``PMPUnit`` is what the pipelined core uses: the regions are registered (they
  change only when a pmp CSR is written; the core flushes and refetches after
  every write to a pmp CSR, so the one-cycle delay is never seen), and one set of
  comparators serves several requesters (fetch, the memory stage, the page-table
  walker) in turn: a request is registered, compared in the next cycle and the
  registered verdict comes back with ``ready`` two cycles after the request was
  taken, so the 16 comparators lie between flip-flops only.
* ``PMPGate`` checks every transfer of a bus master (the page-table walker, whose
  accesses are checked as S-mode loads and stores) and answers a denied one with
  ``error`` without passing it on.
* Pages the unit allowed as a whole are remembered per requester (a few each), so
  that entering a page again costs no comparison.

``check_access`` is the same rule in Python, the reference of the tests.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..bus import BusSignature
from ..mmu.signatures import Access
from .isa import Priv

__all__ = ["PMPChecker", "PMPUnit", "PMPGate", "PMPCheckSignature", "check_access",
           "pmp_regions", "OFF", "TOR", "NA4", "NAPOT", "ADDR_BITS"]

OFF, TOR, NA4, NAPOT = range(4)
R, W, X, L = 0x01, 0x02, 0x04, 0x80
ADDR_BITS = 54


def _napot_range(pmpaddr):
    """(first byte, end byte) of a NAPOT entry."""
    mask = pmpaddr ^ (pmpaddr + 1)          # the trailing ones and the zero above them
    base = (pmpaddr & ~mask) << 2
    return base, base + ((mask + 1) << 2)


def entry_range(cfgs, addrs, i):
    """(first byte, end byte) of entry i, or None when it is OFF or an empty TOR range."""
    a = (cfgs[i] >> 3) & 3
    if a == OFF:
        return None
    if a == TOR:
        lo = addrs[i - 1] << 2 if i else 0
        hi = addrs[i] << 2
        return (lo, hi) if lo < hi else None
    if a == NA4:
        return addrs[i] << 2, (addrs[i] << 2) + 4
    return _napot_range(addrs[i])


def check_access(cfgs, addrs, paddr, length, priv, access):
    """The reference rule: may this access of ``length`` bytes proceed?"""
    first, last = paddr, paddr + length - 1
    need = {Access.FETCH: X, Access.LOAD: R, Access.STORE: W}[access]
    for i in range(len(cfgs)):
        rng = entry_range(cfgs, addrs, i)
        if rng is None:
            continue
        lo, hi = rng
        if first < hi and last >= lo:          # matches some byte
            if not (first >= lo and last < hi):
                return False                  # ... but not all of them
            if priv == Priv.M and not cfgs[i] & L:
                return True
            return bool(cfgs[i] & need)
    return priv == Priv.M


class PMPCheckSignature(wiring.Signature):
    """A request to the PMP unit, seen from the requester: ``valid`` with the bytes
    ``first`` .. ``last`` (physical, inclusive, inside one page), the privilege and
    the kind of access, held until ``ready``, which carries ``allowed``."""

    def __init__(self):
        super().__init__({
            "valid":   Out(1),
            "first":   Out(56),
            "last":    Out(56),
            "priv":    Out(2),
            "access":  Out(Access),
            "ready":   In(1),
            "allowed": In(1),
        })


def pmp_regions(m, cfg, addr, entries):
    """Per entry: (on, lo, hi): the entry matches the 4-byte units lo <= a < hi when
    ``on``.  ``cfg``/``addr`` hold the entries side by side (8 and 54 bits each)."""
    regions = []
    for i in range(entries):
        c = cfg[8 * i:8 * i + 8]
        a = addr[ADDR_BITS * i:ADDR_BITS * (i + 1)]
        on = Signal(name=f"pmp{i}_on")
        lo = Signal(ADDR_BITS, name=f"pmp{i}_lo")
        hi = Signal(ADDR_BITS + 2, name=f"pmp{i}_hi")    # NAPOT of all ones ends at 2**55
        with m.Switch(c[3:5]):
            with m.Case(TOR):
                below = addr[ADDR_BITS * (i - 1):ADDR_BITS * i] if i else C(0, ADDR_BITS)
                m.d.comb += [lo.eq(below), hi.eq(a), on.eq(below < a)]
            with m.Case(NA4):
                m.d.comb += [lo.eq(a), hi.eq(a + 1), on.eq(1)]
            with m.Case(NAPOT):
                mask = Signal(ADDR_BITS + 1, name=f"pmp{i}_mask")
                m.d.comb += [
                    mask.eq(a ^ (a + 1)),
                    lo.eq(a & ~mask[:ADDR_BITS]),
                    hi.eq((a & ~mask[:ADDR_BITS]) + mask + 1),
                    on.eq(1),
                ]
        regions.append((on, lo, hi))
    return regions


def pmp_verdict(m, regions, cfg, first, last, priv, access):
    """The verdict (a Signal) on the bytes ``first`` .. ``last``."""
    n = len(regions)
    f4, l4 = first[2:56], last[2:56]
    need = Signal(3)
    with m.Switch(access):
        with m.Case(Access.FETCH): m.d.comb += need.eq(X)
        with m.Case(Access.LOAD):  m.d.comb += need.eq(R)
        with m.Case(Access.STORE): m.d.comb += need.eq(W)
    any_ = Signal(n)
    verdict = Signal(n)
    for i, (on, lo, hi) in enumerate(regions):
        c = cfg[8 * i:8 * i + 8]
        all_ = (f4 >= lo) & (l4 < hi)
        m.d.comb += [
            any_[i].eq(on & (f4 < hi) & (l4 >= lo)),
            verdict[i].eq(all_ & (((priv == Priv.M) & ~c[7]) | ((c[0:3] & need) != 0))),
        ]
    allowed = Signal()
    # The lowest-numbered matching entry decides (later assignments win).
    m.d.comb += allowed.eq(priv == Priv.M)
    for i in reversed(range(n)):
        with m.If(any_[i]):
            m.d.comb += allowed.eq(verdict[i])
    return allowed


class PMPChecker(wiring.Component):
    """Combinational: the registers ``cfg``/``addr`` and one access in, ``allowed`` out."""

    def __init__(self, entries=16):
        self.entries = entries
        super().__init__({
            "cfg":     In(8 * entries),
            "addr":    In(ADDR_BITS * entries),
            "first":   In(56),
            "last":    In(56),
            "priv":    In(2),
            "access":  In(Access),
            "allowed": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        regions = pmp_regions(m, self.cfg, self.addr, self.entries)
        m.d.comb += self.allowed.eq(pmp_verdict(m, regions, self.cfg, self.first, self.last,
                                                self.priv, self.access))
        return m


class PMPUnit(wiring.Component):
    """The registered check shared by ``ports`` requesters (PMPCheckSignature each,
    lowest index first when several wait).  ``on``: some entry can match (with none,
    M-mode accesses need no check).

    Each port remembers the last ``memo`` whole pages it was allowed (with the kind of
    access, and whether in M mode or not: S and U are alike to the PMP); a request
    for one of them is answered (allowed) in the cycle it is made.  ``flush`` (a
    pmp CSR is written) forgets them, and no page is remembered from a comparison
    made within two cycles of it (the registered regions lag the registers)."""

    def __init__(self, entries=16, ports=3, memo=4):
        self.entries = entries
        self.nports = ports
        self.memo = memo
        members = {
            "cfg":   In(8 * entries),
            "addr":  In(ADDR_BITS * entries),
            "flush": In(1),
            "on":    Out(1),
        }
        for i in range(ports):
            members[f"req{i}"] = In(PMPCheckSignature())
        super().__init__(members)

    def port(self, i):
        return getattr(self, f"req{i}")

    def elaborate(self, platform):
        m = Module()
        n = self.entries
        # the regions, registered (with the configuration bytes they go with)
        regions = []
        cfg_r = Signal(8 * n)
        m.d.sync += cfg_r.eq(self.cfg)
        for i, (on, lo, hi) in enumerate(pmp_regions(m, self.cfg, self.addr, n)):
            r = (Signal(name=f"r{i}_on"), Signal.like(lo, name=f"r{i}_lo"),
                 Signal.like(hi, name=f"r{i}_hi"))
            m.d.sync += [r[0].eq(on), r[1].eq(lo), r[2].eq(hi)]
            regions.append(r)
        m.d.comb += self.on.eq(Cat(*[r[0] for r in regions]).any())
        verdict = Signal()                 # of the request in stage 2

        # stage 1: take a request into registers
        q_page = Signal()
        q_valid = Signal()
        q_owner = Signal(range(self.nports))
        q_first = Signal(56)
        q_last = Signal(56)
        q_priv = Signal(2)
        q_access = Signal(Access)
        r_valid = Signal()
        r_owner = Signal(range(self.nports))
        r_allowed = Signal()
        # the remembered pages of each port
        K = self.memo
        fresh = Signal(2)                  # cycles since a flush, up to 3
        with m.If(self.flush):
            m.d.sync += fresh.eq(0)
        with m.Elif(fresh != 3):
            m.d.sync += fresh.eq(fresh + 1)
        hits = []
        for i in range(self.nports):
            p = self.port(i)
            is_page = (p.first[:12] == 0) & (p.last[:12] == 0xFFF)
            hit = Signal(name=f"memo{i}_hit")
            if K:
                valid = Signal(K, name=f"memo{i}_valid")
                pages = [Signal(44, name=f"memo{i}_page{k}") for k in range(K)]
                kinds = [Signal(Access, name=f"memo{i}_access{k}") for k in range(K)]
                mach = [Signal(name=f"memo{i}_m{k}") for k in range(K)]
                victim = Signal(range(K), name=f"memo{i}_next")
                m.d.comb += hit.eq(is_page & Cat(*[
                    valid[k] & (pages[k] == p.first[12:]) & (mach[k] == (p.priv == Priv.M)) &
                    ((kinds[k] == p.access) |
                     ((kinds[k] == Access.STORE) & (p.access == Access.LOAD)))
                    for k in range(K)]).any())
                fill = q_valid & (q_owner == i) & q_page & (fresh == 3)
                with m.If(self.flush):
                    m.d.sync += valid.eq(0)
                with m.Elif(fill & verdict):
                    for k in range(K):
                        with m.If(victim == k):
                            m.d.sync += [valid[k].eq(1), pages[k].eq(q_first[12:]),
                                         kinds[k].eq(q_access), mach[k].eq(q_priv == Priv.M)]
                    m.d.sync += victim.eq(victim + 1 if K & (K - 1) == 0 else
                                          Mux(victim == K - 1, 0, victim + 1))
            hits.append((hit, is_page))

        m.d.sync += [q_valid.eq(0), r_valid.eq(0)]
        with m.If(~q_valid & ~r_valid):
            for i in reversed(range(self.nports)):
                p = self.port(i)
                with m.If(p.valid & ~hits[i][0]):
                    m.d.sync += [q_valid.eq(1), q_owner.eq(i), q_first.eq(p.first),
                                 q_last.eq(p.last), q_priv.eq(p.priv), q_access.eq(p.access),
                                 q_page.eq(hits[i][1])]
        # stage 2: compare, register the verdict
        m.d.comb += verdict.eq(pmp_verdict(m, regions, cfg_r, q_first, q_last, q_priv, q_access))
        with m.If(q_valid):
            m.d.sync += [r_valid.eq(1), r_owner.eq(q_owner), r_allowed.eq(verdict)]
        for i in range(self.nports):
            p = self.port(i)
            answered = r_valid & (r_owner == i)
            in_flight = (q_valid & (q_owner == i)) | answered
            m.d.comb += [p.ready.eq(answered | (p.valid & hits[i][0] & ~in_flight)),
                         p.allowed.eq(~answered | r_allowed)]
        return m


class PMPGate(wiring.Component):
    """Between a bus master (``up``) and the bus (``down``): every transfer is first
    checked (``check``; single 8-byte transfers, as the page-table walker makes) with
    privilege ``priv``, its page as a whole first (which the unit remembers), then,
    if the page is not allowed as a whole, the transfer's 8 bytes; a denied one is
    answered with ``error`` and never reaches the bus.  ``lock`` goes through."""

    def __init__(self, priv=Priv.S):
        self.priv = priv
        super().__init__({
            "up":    In(BusSignature()),
            "down":  Out(BusSignature()),
            "check": Out(PMPCheckSignature()),
        })

    def elaborate(self, platform):
        m = Module()
        up, down = self.up, self.down
        m.d.comb += [
            down.addr.eq(up.addr), down.write.eq(up.write), down.wdata.eq(up.wdata),
            down.sel.eq(up.sel), down.lock.eq(up.lock), down.burst_len.eq(up.burst_len),
            up.rdata.eq(down.rdata),
            self.check.priv.eq(self.priv),
            self.check.access.eq(Mux(up.write, Access.STORE, Access.LOAD)),
        ]
        with m.FSM(name="gate"):
            def check(low_bits, denied):
                """Ask whether the aligned 2**low_bits bytes around the address are
                allowed: on to PASS if so, else to ``denied``."""
                m.d.comb += [self.check.valid.eq(up.valid),
                             self.check.first.eq(Cat(C(0, low_bits), up.addr[low_bits:])),
                             self.check.last.eq(Cat(C((1 << low_bits) - 1, low_bits),
                                                    up.addr[low_bits:]))]
                with m.If(self.check.ready):
                    with m.If(self.check.allowed):
                        m.next = "PASS"
                    with m.Else():
                        m.next = denied

            with m.State("PAGE"):
                check(12, "WORD")
            with m.State("WORD"):
                check(3, "DENY")
            with m.State("PASS"):
                m.d.comb += [down.valid.eq(up.valid), up.ready.eq(down.ready),
                             up.error.eq(down.error)]
                with m.If(down.valid & down.ready &
                          (down.error | (up.burst_len == 0))):
                    m.next = "PAGE"
            with m.State("DENY"):
                m.d.comb += [up.ready.eq(1), up.error.eq(1)]
                m.next = "PAGE"
        return m
