"""Physical memory protection: the check of one access against the PMP entries.

The privileged spec's PMP (section "Physical Memory Protection"), with
``entries`` entries (16 by default), granularity 4 bytes (G = 0):

* each entry has a configuration byte (``pmpcfg``: R bit 0, W bit 1, X bit 2,
  A bits 4:3, L bit 7) and an address register (``pmpaddr``: physical address
  bits 55:2);
* A selects how the entry matches: OFF (0) never; TOR (1) the range from the
  previous entry's address (0 for entry 0) up to, not including, this one's;
  NA4 (2) the four bytes at the address; NAPOT (3) a naturally aligned power of
  two of at least 8 bytes, whose size is encoded by the trailing ones of
  ``pmpaddr`` (``...y0`` 8 bytes, ``...y01`` 16 bytes, and so on);
* the lowest-numbered entry that matches any byte of the access decides; it
  must match every byte, or the access fails;
* a matching entry allows the access if its R/W/X bit allows the kind of
  access, or if the access is made in M mode and the entry is not locked (L);
* when no entry matches, M-mode accesses succeed and S/U-mode accesses fail.

``PMPChecker`` is combinational: the registers come in as ``cfg`` (entry i in
bits 8i..8i+7, the layout of pmpcfg0 and pmpcfg2 side by side) and ``addr``
(entry i in bits 54i..54i+53); the access as its first byte ``paddr``, its
length in bytes ``length`` (1 to 8), the mode ``priv`` and ``access`` (the MMU's
Access: FETCH needs X, LOAD needs R, STORE needs W; AMOs count as STORE and
need R too, which the caller asks for separately if it wants).
``check_access`` is the same rule in Python, the reference of the tests.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..mmu.signatures import Access
from .isa import Priv

__all__ = ["PMPChecker", "check_access", "OFF", "TOR", "NA4", "NAPOT"]

OFF, TOR, NA4, NAPOT = range(4)
R, W, X, L = 0x01, 0x02, 0x04, 0x80
ADDR_BITS = 54


def _napot_range(pmpaddr):
    """(first byte, end byte) of a NAPOT entry."""
    mask = pmpaddr ^ (pmpaddr + 1)          # the trailing ones and the zero above them
    base = (pmpaddr & ~mask) << 2
    return base, base + ((mask + 1) << 2)


def entry_range(cfgs, addrs, i):
    """(first byte, end byte) of entry i, or None when it is OFF."""
    a = (cfgs[i] >> 3) & 3
    if a == OFF:
        return None
    if a == TOR:
        lo = addrs[i - 1] << 2 if i else 0
        return lo, addrs[i] << 2
    if a == NA4:
        return addrs[i] << 2, (addrs[i] << 2) + 4
    return _napot_range(addrs[i])


def check_access(cfgs, addrs, paddr, length, priv, access):
    """The reference rule: may this access proceed?"""
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


class PMPChecker(wiring.Component):
    def __init__(self, entries=16):
        self.entries = entries
        super().__init__({
            "cfg":     In(8 * entries),
            "addr":    In(ADDR_BITS * entries),
            "paddr":   In(56),
            "length":  In(4),
            "priv":    In(2),
            "access":  In(Access),
            "allowed": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.entries
        first = self.paddr
        last = Signal(58)
        m.d.comb += last.eq(self.paddr + self.length - 1)
        need = Signal(3)
        with m.Switch(self.access):
            with m.Case(Access.FETCH): m.d.comb += need.eq(X)
            with m.Case(Access.LOAD):  m.d.comb += need.eq(R)
            with m.Case(Access.STORE): m.d.comb += need.eq(W)

        def cfg(i):
            return self.cfg[8 * i:8 * i + 8]

        def addr(i):
            return self.addr[ADDR_BITS * i:ADDR_BITS * (i + 1)]

        # Per entry: does it match any byte, every byte, and what would it say.
        any_ = Signal(n)
        all_ = Signal(n)
        verdict = Signal(n)
        for i in range(n):
            a = cfg(i)[3:5]
            # 58 bits: a NAPOT entry of all ones ends at 2**57
            lo = Signal(58, name=f"lo{i}")
            hi = Signal(58, name=f"hi{i}")
            with m.Switch(a):
                with m.Case(TOR):
                    m.d.comb += [lo.eq(Cat(C(0, 2), addr(i - 1)) if i else 0),
                                 hi.eq(Cat(C(0, 2), addr(i)))]
                with m.Case(NA4):
                    m.d.comb += [lo.eq(Cat(C(0, 2), addr(i))),
                                 hi.eq(Cat(C(0, 2), addr(i)) + 4)]
                with m.Case(NAPOT):
                    mask = Signal(ADDR_BITS + 1, name=f"mask{i}")
                    m.d.comb += [
                        mask.eq(addr(i) ^ (addr(i) + 1)),
                        lo.eq(Cat(C(0, 2), addr(i) & ~mask[:ADDR_BITS])),
                        hi.eq(Cat(C(0, 2), addr(i) & ~mask[:ADDR_BITS]) + Cat(C(0, 2), mask + 1)),
                    ]
            on = a != OFF
            m.d.comb += [
                any_[i].eq(on & (first < hi) & (last >= lo)),
                all_[i].eq((first >= lo) & (last < hi)),
                verdict[i].eq(all_[i] & (((self.priv == Priv.M) & ~cfg(i)[7]) |
                                         ((cfg(i)[0:3] & need) != 0))),
            ]
        # The lowest-numbered matching entry decides (later assignments win).
        m.d.comb += self.allowed.eq(self.priv == Priv.M)
        for i in reversed(range(n)):
            with m.If(any_[i]):
                m.d.comb += self.allowed.eq(verdict[i])
        return m
