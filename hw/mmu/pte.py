"""Sv39 data layouts (PTE, satp, virtual address) and the constants that go with them.

Bit positions follow the privileged specification (see facts.md section 3).
The Amaranth helpers at the bottom are shared by the TLB-hit path and the
page-table walker so that both apply the same permission rule.
"""

from amaranth.hdl import Cat, Mux
from amaranth.lib import data

from .signatures import Access

__all__ = [
    "PTE_V", "PTE_R", "PTE_W", "PTE_X", "PTE_U", "PTE_G", "PTE_A", "PTE_D", "PTE_S",
    "PTE_PPN_SHIFT", "PTE_RESERVED_MASK", "PAGE_SHIFT", "LEVELS", "VPN_BITS",
    "SATP_MODE_BARE", "SATP_MODE_SV39",
    "CAUSE_FETCH_ACCESS", "CAUSE_LOAD_ACCESS", "CAUSE_STORE_ACCESS",
    "CAUSE_FETCH_PAGE_FAULT", "CAUSE_LOAD_PAGE_FAULT", "CAUSE_STORE_PAGE_FAULT",
    "PRIV_U", "PRIV_S", "PRIV_M",
    "PTELayout", "SatpLayout", "VAddrLayout",
    "access_allowed", "leaf_paddr", "page_fault_cause", "access_fault_cause",
]

# PTE flag bits.
PTE_V = 1 << 0
PTE_R = 1 << 1
PTE_W = 1 << 2
PTE_X = 1 << 3
PTE_U = 1 << 4
PTE_G = 1 << 5
PTE_A = 1 << 6
PTE_D = 1 << 7
PTE_S = 1 << 8          # RSW bit 8: software-defined, never touched by hardware.
PTE_PPN_SHIFT = 10
#: Bits 63:54 (N, PBMT and the reserved field).  We implement neither Svnapot
#: nor Svpbmt, so a PTE with any of them set is a page fault.
PTE_RESERVED_MASK = ((1 << 10) - 1) << 54

PAGE_SHIFT = 12
LEVELS = 3
VPN_BITS = 9

SATP_MODE_BARE = 0
SATP_MODE_SV39 = 8

PRIV_U = 0
PRIV_S = 1
PRIV_M = 3

CAUSE_FETCH_ACCESS = 1
CAUSE_LOAD_ACCESS = 5
CAUSE_STORE_ACCESS = 7
CAUSE_FETCH_PAGE_FAULT = 12
CAUSE_LOAD_PAGE_FAULT = 13
CAUSE_STORE_PAGE_FAULT = 15


PTELayout = data.StructLayout({
    "v": 1, "r": 1, "w": 1, "x": 1, "u": 1, "g": 1, "a": 1, "d": 1,
    "rsw": 2,
    "ppn": 44,
    "reserved": 7,
    "pbmt": 2,
    "n": 1,
})

SatpLayout = data.StructLayout({
    "ppn": 44,
    "asid": 16,
    "mode": 4,
})

VAddrLayout = data.StructLayout({
    "offset": 12,
    "vpn0": 9,
    "vpn1": 9,
    "vpn2": 9,
    "upper": 25,        # bits 63:39, must all equal bit 38
})


def access_allowed(*, r, w, x, u, access, priv, sum_, mxr):
    """Leaf-PTE permission rule as an Amaranth expression (1 = allowed).

    ``priv`` is 0 (U) or 1 (S); the caller never asks for M mode.  A/D are
    checked separately by the caller because they are fixable by the walker.
    """
    is_fetch = access == Access.FETCH
    is_load = access == Access.LOAD
    is_store = access == Access.STORE
    kind_ok = ((is_fetch & x) |
               (is_load & (r | (mxr & x))) |
               (is_store & w))
    user_mode = priv == PRIV_U
    # U mode needs U=1.  S mode may touch a U page only for loads/stores and
    # only with SUM=1; it may never execute from one.
    mode_ok = Mux(user_mode, u, ~u | (sum_ & ~is_fetch))
    return kind_ok & mode_ok


def leaf_paddr(ppn, level, vaddr):
    """Physical address (56 bits) of ``vaddr`` through a leaf of the given level.

    Level 0 is a 4 KiB page, 1 a 2 MiB and 2 a 1 GiB superpage; for a superpage
    the low PPN fields come from the virtual address.
    """
    va = data.View(VAddrLayout, vaddr)
    low0 = Mux(level >= 1, va.vpn0, ppn[0:9])
    low1 = Mux(level >= 2, va.vpn1, ppn[9:18])
    return Cat(va.offset, low0, low1, ppn[18:44])


def page_fault_cause(access):
    return Mux(access == Access.FETCH, CAUSE_FETCH_PAGE_FAULT,
               Mux(access == Access.LOAD, CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT))


def access_fault_cause(access):
    return Mux(access == Access.FETCH, CAUSE_FETCH_ACCESS,
               Mux(access == Access.LOAD, CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS))
