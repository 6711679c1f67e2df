"""Page-table walks through the MMU against a bus RAM with random wait states.

Every case is checked two ways: exact expected values written here, and the
full comparison with the reference model (results, PTE reads, A/D writes,
fault causes, final memory, lock coverage) done by ``check_against_model``.
"""

import pytest

from hw.mmu.signatures import Access, EventKind
from hw.mmu.refmodel import SparseMemory
from hw.mmu.pte import (PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D, PTE_S)
from .mmu_util import (PageTableBuilder, Req, check_against_model, make_satp, pte_value,
                       RAM_BASE)

TABLES = RAM_BASE + 0x10_0000
AD = PTE_A | PTE_D
L, S, F = Access.LOAD, Access.STORE, Access.FETCH
PAGE_CAUSE = {F: 12, L: 13, S: 15}
ACCESS_CAUSE = {F: 1, L: 5, S: 7}


def setup(read_only_tables=False):
    ro = [(TABLES, 0x10_0000)] if read_only_tables else []
    mem = SparseMemory([(RAM_BASE, 0x40_0000)], read_only=ro)
    # Build through a writable twin, then copy the words over.
    builder_mem = SparseMemory([(RAM_BASE, 0x40_0000)])
    pt = PageTableBuilder(builder_mem, TABLES)
    return mem, builder_mem, pt


def finish(mem, builder_mem):
    mem.words = dict(builder_mem.words)
    return mem


def one(mem, req, seed=1, max_wait=3):
    """Run a single request; returns (model result, events, bus RAM)."""
    before = mem.copy()
    outcomes, ram, events = check_against_model(before, [req], seed=seed, max_wait=max_wait)
    kind, want, cycles = outcomes[0]
    return want, events, ram


@pytest.mark.parametrize("level,va,pa,off", [
    (0, 0x0000_1000, 0x8020_0000, 0x7f8),
    (1, 0x4020_0000, 0x8040_0000, 0x1a_b008),
    (2, 0xffff_ffc0_4000_0000, 0x4000_0000, 0x2345_6780),
])
@pytest.mark.parametrize("access", [L, S, F])
def test_translation_and_ad_update(level, va, pa, off, access):
    mem, bmem, pt = setup()
    flags = PTE_V | PTE_R | PTE_W | PTE_X | PTE_S
    leaf = pt.map(va, pa, flags, level=level)
    finish(mem, bmem)
    want, events, ram = one(mem, Req(va + off, access, make_satp(pt.root)))
    assert want.paddr == pa + off
    new = pte_value(pa, flags | PTE_A | (PTE_D if access == S else 0))
    # The bus saw exactly one write: the leaf, with A (and D) set, PTE_S kept.
    assert [(a, v) for a, w, v, _, _ in ram.transfers if w] == [(leaf, new)]
    ad = [e for e in events if e["kind"] == EventKind.AD_WRITE]
    assert len(ad) == 1 and ad[0]["pte"] == new and ad[0]["pte"] & PTE_S
    # Every walk transfer ran under lock.
    assert all(lock for _, _, _, lock, _ in ram.transfers)
    assert len([t for t in ram.transfers if not t[1]]) == 3 - level


def _fault_case(build, access, *, priv=1, sum_=0, mxr=0, va=0x5000, cause=None,
                read_only=False, satp=None):
    mem, bmem, pt = setup(read_only_tables=read_only)
    build(pt, bmem)
    finish(mem, bmem)
    before = dict(mem.words)
    want, events, ram = one(mem, Req(va, access, satp or make_satp(pt.root), priv=priv,
                                     sum_=sum_, mxr=mxr))
    assert want.paddr is None
    assert events[-1]["kind"] == EventKind.WALK_FAULT
    assert events[-1]["cause"] == (cause if cause is not None else PAGE_CAUSE[access])
    # No A/D write reached memory.
    assert not [t for t in ram.transfers if t[1] and not t[4]]
    assert before == mem.words        # check_against_model worked on a copy
    return events, ram


def leaf(flags, level=0, pa=0x8020_0000, va=0x5000, pointer_flags=PTE_V):
    def build(pt, _mem):
        pt.map(va, pa, flags, level=level, pointer_flags=pointer_flags)
    return build


@pytest.mark.parametrize("access", [L, S, F])
@pytest.mark.parametrize("level", [2, 1, 0])
def test_invalid_at_each_level(access, level):
    def build(pt, mem):
        pt.map(0x5000, 0x8020_0000, PTE_V | PTE_R | PTE_W | PTE_X | AD)
        mem.write64(pt.leaf_addr(0x5000, level), PTE_R | PTE_W | PTE_X)   # V=0
    events, ram = _fault_case(build, access)
    assert len([e for e in events if e["kind"] == EventKind.PTE_READ]) == 3 - level


@pytest.mark.parametrize("access", [L, S, F])
def test_write_without_read(access):
    _fault_case(leaf(PTE_V | PTE_W | PTE_X | AD), access)


@pytest.mark.parametrize("bit", [54, 58, 60, 61, 62, 63])
def test_reserved_high_bits(bit):
    _fault_case(leaf(PTE_V | PTE_R | PTE_W | AD | (1 << bit)), L)


@pytest.mark.parametrize("bit", [PTE_D, PTE_A, PTE_U])
def test_pointer_with_reserved_flag(bit):
    events, _ = _fault_case(leaf(PTE_V | PTE_R | AD, pointer_flags=PTE_V | bit), S)
    assert len([e for e in events if e["kind"] == EventKind.PTE_READ]) == 1


def test_pointer_at_level_zero():
    def build(pt, mem):
        addr = pt.map(0x5000, 0x8020_0000, PTE_V | PTE_R | AD)
        mem.write64(addr, pte_value(TABLES, PTE_V))
    _fault_case(build, L)


@pytest.mark.parametrize("level,pa", [(1, 0x8020_1000), (2, 0x8020_0000), (2, 0x4000_1000)])
def test_misaligned_superpage(level, pa):
    _fault_case(leaf(PTE_V | PTE_R | PTE_X | AD, level=level, pa=pa, va=0), F, va=0x1000)


@pytest.mark.parametrize("flags,access,priv,sum_,mxr", [
    (PTE_R | PTE_X, L, 0, 0, 0),            # U mode, supervisor page
    (PTE_U | PTE_X, F, 1, 1, 0),            # S fetch from a U page, even with SUM
    (PTE_U | PTE_R, L, 1, 0, 0),            # S load from U page without SUM
    (PTE_U | PTE_R | PTE_W, S, 1, 0, 0),
    (PTE_X, L, 1, 0, 0),                    # execute-only without MXR
    (PTE_R, S, 1, 0, 0),                    # store to read-only
    (PTE_R | PTE_W, F, 1, 0, 0),            # fetch from non-executable
])
def test_permission_faults(flags, access, priv, sum_, mxr):
    _fault_case(leaf(PTE_V | flags | AD), access, priv=priv, sum_=sum_, mxr=mxr)


@pytest.mark.parametrize("flags,access,priv,sum_,mxr", [
    (PTE_U | PTE_R, L, 1, 1, 0),            # SUM lets S read U pages
    (PTE_U | PTE_R | PTE_W, S, 1, 1, 0),
    (PTE_X, L, 1, 0, 1),                    # MXR: execute-only becomes readable
    (PTE_U | PTE_X, L, 0, 0, 1),
    (PTE_U | PTE_R | PTE_X, F, 0, 0, 0),
])
def test_permission_grants(flags, access, priv, sum_, mxr):
    mem, bmem, pt = setup()
    pt.map(0x5000, 0x8020_0000, PTE_V | flags | AD)
    finish(mem, bmem)
    want, _, _ = one(mem, Req(0x5abc, access, make_satp(pt.root), priv=priv, sum_=sum_,
                              mxr=mxr))
    assert want.paddr == 0x8020_0abc


@pytest.mark.parametrize("va", [1 << 38, 0x8000_0000_0000_0000, 0xffff_ff7f_ffff_f000])
def test_noncanonical(va):
    events, ram = _fault_case(leaf(PTE_V | PTE_R | AD), L, va=va)
    assert ram.transfers == []


@pytest.mark.parametrize("access", [L, S, F])
def test_bus_error_is_access_fault(access):
    def build(pt, mem):
        pt.map(0x5000, 0x8020_0000, PTE_V | PTE_R | PTE_W | PTE_X | AD)
        mem.write64(pt.leaf_addr(0x5000, 1), pte_value(0x1000_0000, PTE_V))  # no RAM there
    events, ram = _fault_case(build, access, cause=ACCESS_CAUSE[access])
    assert [t[4] for t in ram.transfers] == [False, False, True]
    # Root table outside RAM.
    _fault_case(leaf(PTE_V | PTE_R | AD), access, cause=ACCESS_CAUSE[access],
                satp=make_satp(0x2000_0000))


@pytest.mark.parametrize("access", [L, S])
def test_ad_write_error_is_access_fault(access):
    events, ram = _fault_case(leaf(PTE_V | PTE_R | PTE_W), access, read_only=True,
                              cause=ACCESS_CAUSE[access])
    assert [(t[1], t[4]) for t in ram.transfers][-1] == (1, True)


def test_pte_s_never_changes():
    mem, bmem, pt = setup()
    addr = pt.map(0x5000, 0x8020_0000, PTE_V | PTE_R | PTE_W | PTE_U | PTE_S | PTE_G)
    finish(mem, bmem)
    satp = make_satp(pt.root, asid=9)
    outcomes, ram, events = check_against_model(
        mem, [Req(0x5000, L, satp, priv=0), Req(0x5008, S, satp, priv=0),
              Req(0x5010, S, satp, priv=0)], max_wait=2)
    final = ram.mem.read64(addr)
    assert final == pte_value(0x8020_0000, PTE_V | PTE_R | PTE_W | PTE_U | PTE_S | PTE_G | AD)
    reads = [e["pte"] for e in events if e["kind"] == EventKind.PTE_READ and e["level"] == 0]
    assert reads and all(p & PTE_S for p in reads)
    assert [o[0] for o in outcomes] == ["walk", "walk", "hit"]


def test_walk_cycle_counts_zero_wait():
    """Numbers for the report: ready latency with a zero-wait-state bus."""
    mem, bmem, pt = setup()
    pt.map(0x5000, 0x8020_0000, PTE_V | PTE_R | PTE_W | PTE_A)
    pt.map(0x6000, 0x8020_1000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
    finish(mem, bmem)
    satp = make_satp(pt.root)
    outcomes, ram, events = check_against_model(mem, [
        Req(0x6000, L, satp),           # 3-level walk, nothing to write
        Req(0x6008, L, satp),           # TLB hit
        Req(0x5000, S, satp),           # 3-level walk + D write-back
        Req(0x5000, L, satp, priv=3),   # M mode: no translation
    ], max_wait=0)
    # (the data port: its TLB answers from the compares of the previous cycle,
    # so each request here, presented with valid and right after the previous
    # one's fill, waits a cycle first; M presents its address a cycle ahead,
    # where a hit is 1 cycle, test_mmu.py)
    assert [(o[0], o[2]) for o in outcomes] == [("walk", 9), ("hit", 2), ("walk", 11),
                                                 ("bare", 0)]
