"""Interfaces of the Sv39 MMU, as agreed with the core and SoC engineers.

Directions are seen from the requester (the core): ``Out`` is driven by the
core, ``In`` is answered by the MMU.  The MMU itself uses ``In(...)`` of these
signatures (i.e. the flipped view) for its ``ifetch``, ``data`` and ``sfence``
ports and ``Out(MMUEventSignature())`` for its event stream.
"""

from amaranth.lib import enum, wiring
from amaranth.lib.wiring import In, Out

from ..bus import PADDR_WIDTH

__all__ = ["Access", "EventKind", "TranslateSignature", "SfenceSignature",
           "MMUEventSignature"]


class Access(enum.Enum, shape=2):
    """What the translated address will be used for.

    AMOs and SC count as STORE, LR as LOAD."""
    FETCH = 0
    LOAD = 1
    STORE = 2


class EventKind(enum.Enum, shape=3):
    """Kinds of observation events the MMU reports on its ``events`` port."""
    TLB_HIT = 0
    TLB_MISS = 1
    TLB_FLUSH = 2
    WALK_START = 3
    PTE_READ = 4
    AD_WRITE = 5
    WALK_DONE = 6
    WALK_FAULT = 7


class TranslateSignature(wiring.Signature):
    """One translation port (instruction fetch or data).

    The requester raises ``valid`` with all request fields and holds them until
    the cycle in which ``ready`` is high; that cycle carries ``paddr`` or one of
    the faults.  ``priv`` is the effective privilege (0 U, 1 S, 3 M) after the
    core has applied MPRV/MPP for data accesses.  With priv == 3 or
    satp.MODE == Bare the answer is ``paddr = vaddr[0:56]`` without a fault.
    ``access_fault`` means the page-table walk itself got a bus error.
    """

    def __init__(self):
        super().__init__({
            "valid":        Out(1),
            "vaddr":        Out(64),
            "access":       Out(Access),
            "priv":         Out(2),
            "satp":         Out(64),
            "sum":          Out(1),
            "mxr":          Out(1),
            "ready":        In(1),
            "paddr":        In(PADDR_WIDTH),
            "page_fault":   In(1),
            "access_fault": In(1),
        })

    def __eq__(self, other):
        return type(other) is TranslateSignature

    def __repr__(self):
        return "TranslateSignature()"


class SfenceSignature(wiring.Signature):
    """An sfence.vma request.

    ``all_vaddr`` is set when rs1 == x0 (every address), ``all_asid`` when
    rs2 == x0 (every address space).  The core holds ``valid`` and the fields
    until ``ready``.
    """

    def __init__(self):
        super().__init__({
            "valid":     Out(1),
            "vaddr":     Out(64),
            "asid":      Out(16),
            "all_vaddr": Out(1),
            "all_asid":  Out(1),
            "ready":     In(1),
        })

    def __eq__(self, other):
        return type(other) is SfenceSignature

    def __repr__(self):
        return "SfenceSignature()"


class MMUEventSignature(wiring.Signature):
    """Observation stream: at most one event per cycle, valid for one cycle.

    When an event appears: see hw/mmu/mmu.py's module text (the MMU shows every
    event one cycle after what it describes, from its registers: a lookup's in
    the cycle after the lookup, a walker step's two cycles after the step; the
    cores' ``mmu_events`` ports are the MMU's).  The fields are meaningful only
    with ``valid``.

    ``port`` is 0 for the instruction-fetch port and 1 for the data port.
    ``pte`` carries the full 64-bit PTE including the software bits (PTE_S is
    bit 8).  Fields per kind (fields not listed are zero, except that walker
    events always carry port/vaddr/satp/access of the walk):

    * TLB_HIT: port, vaddr, satp, access, level (page size), paddr.
    * TLB_MISS: port, vaddr, satp, access.  Also reported for a hit on an
      entry that cannot serve the access (permissions, A=0, D=0 on a store):
      that access goes to the walker.
    * TLB_FLUSH (sfence.vma): vaddr = rs1 value, satp[44:60] = ASID (rs2),
      cause bit 0 = all addresses (rs1 == x0), bit 1 = all ASIDs (rs2 == x0).
    * WALK_START: level = 2.
    * PTE_READ: level, pte_addr, pte (the value read).
    * AD_WRITE: level, pte_addr, pte (the value written back).
    * WALK_DONE: level (of the leaf), pte_addr, pte (leaf after any update),
      paddr.
    * WALK_FAULT: level and pte_addr of the step that failed, pte = the last
      PTE read successfully (0 if none), cause = the exception the core raises: 12, 13 or 15
      for page faults, 1, 5 or 7 for access faults (bus error on the walk).
    """

    def __init__(self):
        super().__init__({
            "valid":    Out(1),
            "kind":     Out(EventKind),
            "port":     Out(1),
            "vaddr":    Out(64),
            "satp":     Out(64),
            "access":   Out(Access),
            "level":    Out(2),
            "pte_addr": Out(PADDR_WIDTH),
            "pte":      Out(64),
            "paddr":    Out(PADDR_WIDTH),
            "cause":    Out(4),
        })

    def __eq__(self, other):
        return type(other) is MMUEventSignature

    def __repr__(self):
        return "MMUEventSignature()"
