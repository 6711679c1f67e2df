"""Pure-Python Sv39 reference model, written from the privileged specification.

``translate(mem, satp, va, access, priv, sum, mxr)`` performs one translation
exactly as the spec's "Virtual Address Translation Process" describes it,
including the hardware A/D update, and returns a :class:`Translation` that
records every PTE read and write.  ``mem`` is modified in place by A/D updates.

``mem`` may be a plain dict (doubleword-aligned physical address -> 64-bit
value; an absent address is a bus error) or any object with ``read64(addr)``
and ``write64(addr, value)`` that raises :class:`BusError` for addresses that
decode to nothing.  :class:`SparseMemory` is such an object.

Used by the MMU tests and meant for the system simulator's cross-checks.
"""

from dataclasses import dataclass, field

from .signatures import Access
from .pte import (PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D,
                  PTE_PPN_SHIFT, PTE_RESERVED_MASK, PAGE_SHIFT, LEVELS, VPN_BITS,
                  SATP_MODE_SV39, PRIV_U,
                  CAUSE_FETCH_ACCESS, CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS,
                  CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT)

__all__ = ["BusError", "SparseMemory", "Translation", "translate", "is_bare"]

_MASK64 = (1 << 64) - 1
_PPN_MASK = (1 << 44) - 1
_PADDR_MASK = (1 << 56) - 1


class BusError(Exception):
    """A physical access that decodes to nothing (access fault)."""


class SparseMemory:
    """Doubleword-granular physical memory made of ``(base, size)`` regions.

    Unwritten doublewords inside a region read as zero; addresses outside
    every region raise :class:`BusError`, and so do writes into the
    ``read_only`` regions (reads there work).
    """

    def __init__(self, regions, read_only=()):
        self.regions = [(int(b), int(s)) for b, s in regions]
        self.read_only = [(int(b), int(s)) for b, s in read_only]
        self.words = {}

    def _check(self, addr):
        if addr & 7:
            raise ValueError(f"misaligned doubleword address {addr:#x}")
        for base, size in self.regions:
            if base <= addr < base + size:
                return
        raise BusError(addr)

    def contains(self, addr):
        try:
            self._check(addr)
        except BusError:
            return False
        return True

    def read64(self, addr):
        self._check(addr)
        return self.words.get(addr, 0)

    def write64(self, addr, value):
        self._check(addr)
        if any(b <= addr < b + s for b, s in self.read_only):
            raise BusError(addr)
        self.words[addr] = value & _MASK64

    def copy(self):
        twin = SparseMemory(self.regions, self.read_only)
        twin.words = dict(self.words)
        return twin


@dataclass
class Translation:
    """Result of one translation.

    Exactly one of ``paddr`` (success) and ``cause`` (fault) is not None.
    ``fault`` is ``"page"`` or ``"access"`` on failure.  ``reads`` lists
    ``(level, pte_addr, pte)`` in walk order; ``writes`` lists
    ``(pte_addr, new_pte)`` for the A/D update (at most one).  ``level`` and
    ``pte`` describe the leaf on success (pte is the value after the update);
    ``global_`` is the OR of the G bits along the walk.
    """
    paddr: int = None
    fault: str = None
    cause: int = None
    reads: list = field(default_factory=list)
    writes: list = field(default_factory=list)
    level: int = None
    pte: int = None
    global_: bool = False
    bare: bool = False


def _mem_read(mem, addr):
    if isinstance(mem, dict):
        if addr not in mem:
            raise BusError(addr)
        return mem[addr]
    return mem.read64(addr)


def _mem_write(mem, addr, value):
    if isinstance(mem, dict):
        if addr not in mem:
            raise BusError(addr)
        mem[addr] = value
    else:
        mem.write64(addr, value)


def _page_cause(access):
    return {Access.FETCH: CAUSE_FETCH_PAGE_FAULT,
            Access.LOAD: CAUSE_LOAD_PAGE_FAULT,
            Access.STORE: CAUSE_STORE_PAGE_FAULT}[access]


def _access_cause(access):
    return {Access.FETCH: CAUSE_FETCH_ACCESS,
            Access.LOAD: CAUSE_LOAD_ACCESS,
            Access.STORE: CAUSE_STORE_ACCESS}[access]


def is_bare(satp, priv):
    """True when no translation happens: M mode (priv >= 2) or satp.MODE != Sv39."""
    return priv >= 2 or (satp >> 60) != SATP_MODE_SV39


def _permitted(pte, access, priv, sum_, mxr):
    readable = bool(pte & PTE_R) or (mxr and bool(pte & PTE_X))
    if access == Access.FETCH:
        ok = bool(pte & PTE_X)
    elif access == Access.LOAD:
        ok = readable
    else:
        ok = bool(pte & PTE_W)
    user_page = bool(pte & PTE_U)
    if priv == PRIV_U:
        return ok and user_page
    if user_page:
        # Supervisor: never execute user pages; data only with SUM.
        return ok and access != Access.FETCH and bool(sum_)
    return ok


def translate(mem, satp, va, access, priv, sum=0, mxr=0):
    """Translate virtual address ``va``; see the module docstring."""
    access = Access(access)
    va &= _MASK64
    res = Translation()
    if is_bare(satp, priv):
        res.bare = True
        res.paddr = va & _PADDR_MASK
        return res

    def fail(kind):
        res.fault = kind
        res.cause = _page_cause(access) if kind == "page" else _access_cause(access)
        return res

    # Bits 63:39 must be copies of bit 38.
    top = va >> 38
    if top not in (0, (1 << 26) - 1):
        return fail("page")

    table = (satp & _PPN_MASK) << PAGE_SHIFT
    level = LEVELS - 1
    global_ = False
    while True:
        index = (va >> (PAGE_SHIFT + VPN_BITS * level)) & ((1 << VPN_BITS) - 1)
        pte_addr = (table + index * 8) & _PADDR_MASK
        try:
            pte = _mem_read(mem, pte_addr)
        except BusError:
            return fail("access")
        res.reads.append((level, pte_addr, pte))

        if not (pte & PTE_V):
            return fail("page")
        if (pte & PTE_W) and not (pte & PTE_R):
            return fail("page")
        if pte & PTE_RESERVED_MASK:
            return fail("page")
        global_ = global_ or bool(pte & PTE_G)
        ppn = (pte >> PTE_PPN_SHIFT) & _PPN_MASK
        if pte & (PTE_R | PTE_X):
            break
        # Pointer to the next table.  D, A and U are reserved in a non-leaf.
        if pte & (PTE_D | PTE_A | PTE_U):
            return fail("page")
        level -= 1
        if level < 0:
            return fail("page")
        table = ppn << PAGE_SHIFT

    if not _permitted(pte, access, priv, sum, mxr):
        return fail("page")
    # A superpage's PPN must be aligned to its size.
    if ppn & ((1 << (VPN_BITS * level)) - 1):
        return fail("page")

    want = PTE_A | (PTE_D if access == Access.STORE else 0)
    if pte & want != want:
        pte |= want
        try:
            _mem_write(mem, pte_addr, pte)
        except BusError:
            return fail("access")
        res.writes.append((pte_addr, pte))

    keep = (1 << (PAGE_SHIFT + VPN_BITS * level)) - 1
    res.paddr = ((ppn << PAGE_SHIFT) & ~keep | (va & keep)) & _PADDR_MASK
    res.level = level
    res.pte = pte
    res.global_ = global_
    return res
