"""The pure-Python Sv39 reference model on hand-built page tables."""

import pytest

from hw.mmu.signatures import Access
from hw.mmu.refmodel import SparseMemory, translate, is_bare
from hw.mmu.pte import (PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D, PTE_S,
                        SATP_MODE_BARE)
from .mmu_util import PageTableBuilder, make_satp, pte_value, RAM_BASE

TABLES = RAM_BASE + 0x10_0000
RWX = PTE_R | PTE_W | PTE_X
AD = PTE_A | PTE_D


def fresh():
    mem = SparseMemory([(RAM_BASE, 0x40_0000)])
    pt = PageTableBuilder(mem, TABLES)
    return mem, pt, make_satp(pt.root, asid=5)


def test_4k_page_exact_pa_and_reads():
    mem, pt, satp = fresh()
    va = 0x0000_0012_3456_7abc & ((1 << 38) - 1)
    leaf = pt.map(va, 0x8765_4000, PTE_V | PTE_R | PTE_W | AD)
    r = translate(mem, satp, va, Access.LOAD, 1)
    assert r.paddr == 0x8765_4abc and r.cause is None
    assert r.level == 0
    assert [lvl for lvl, _, _ in r.reads] == [2, 1, 0]
    assert r.reads[0][1] == pt.root + 8 * ((va >> 30) & 0x1ff)
    assert r.reads[2] == (0, leaf, pte_value(0x8765_4000, PTE_V | PTE_R | PTE_W | AD))
    assert r.writes == []


def test_2m_superpage_any_offset():
    mem, pt, satp = fresh()
    pt.map(0x4020_0000, 0x8040_0000, PTE_V | PTE_R | PTE_A, level=1)
    for off in (0, 0x1234, 0x1f_ffff):
        r = translate(mem, satp, 0x4020_0000 + off, Access.LOAD, 1)
        assert r.paddr == 0x8040_0000 + off
        assert r.level == 1 and len(r.reads) == 2


def test_1g_superpage_and_high_half():
    mem, pt, satp = fresh()
    va = 0xffff_ffc0_0000_0000        # sign-extended, VPN[2] = 256
    pt.map(va, 0x4000_0000, PTE_V | PTE_X | PTE_A, level=2)
    r = translate(mem, satp, va + 0x3fff_fffc, Access.FETCH, 1)
    assert r.paddr == 0x7fff_fffc and r.level == 2 and len(r.reads) == 1


def test_bare_and_machine_mode_pass_through():
    mem, pt, satp = fresh()
    assert translate(mem, satp, 0x8000_1234, Access.LOAD, 3).paddr == 0x8000_1234
    bare = make_satp(0, mode=SATP_MODE_BARE)
    r = translate(mem, bare, 0x1234_5678, Access.STORE, 0)
    assert r.paddr == 0x1234_5678 and r.bare and r.reads == []
    assert is_bare(satp, 3) and not is_bare(satp, 1)


@pytest.mark.parametrize("access,cause", [(Access.FETCH, 12), (Access.LOAD, 13),
                                          (Access.STORE, 15)])
@pytest.mark.parametrize("level", [2, 1, 0])
def test_invalid_pte_at_each_level(access, cause, level):
    mem, pt, satp = fresh()
    va = 0x1_2345_6000
    leaf = pt.map(va, 0x8010_0000, PTE_V | RWX | AD)
    mem.write64(pt.leaf_addr(va, level), 0)
    before = dict(mem.words)
    r = translate(mem, satp, va, access, 1)
    assert (r.paddr, r.fault, r.cause) == (None, "page", cause)
    assert len(r.reads) == 3 - level
    assert r.writes == [] and mem.words == before


def _fault_with_leaf(flags, access=Access.LOAD, priv=1, sum_=0, mxr=0, level=0,
                     pa=0x8010_0000, va=0x1000):
    mem, pt, satp = fresh()
    pt.map(va, pa, flags, level=level)
    before = dict(mem.words)
    r = translate(mem, satp, va, access, priv, sum_, mxr)
    return r, mem.words == before


@pytest.mark.parametrize("bit", range(54, 64))
def test_reserved_high_bits_fault(bit):
    r, unchanged = _fault_with_leaf(PTE_V | PTE_R | PTE_A | (1 << bit))
    assert r.cause == 13 and unchanged


def test_write_without_read_is_reserved():
    r, unchanged = _fault_with_leaf(PTE_V | PTE_W | PTE_A | PTE_D, access=Access.LOAD)
    assert r.cause == 13 and unchanged
    r, unchanged = _fault_with_leaf(PTE_V | PTE_W | PTE_X | AD, access=Access.FETCH)
    assert r.cause == 12 and unchanged


@pytest.mark.parametrize("bit", [PTE_D, PTE_A, PTE_U])
def test_pointer_with_reserved_bits_faults(bit):
    mem, pt, satp = fresh()
    va = 0x5000
    pt.map(va, 0x8010_0000, PTE_V | PTE_R | PTE_A, pointer_flags=PTE_V | bit)
    r = translate(mem, satp, va, Access.LOAD, 1)
    assert r.cause == 13 and len(r.reads) == 1


def test_pointer_at_level_zero_faults():
    mem, pt, satp = fresh()
    va = 0x7000
    addr = pt.map(va, 0x8010_0000, PTE_V | PTE_R | PTE_A)
    mem.write64(addr, pte_value(TABLES, PTE_V))      # pointer where a leaf must be
    r = translate(mem, satp, va, Access.STORE, 1)
    assert r.cause == 15 and len(r.reads) == 3 and r.writes == []


@pytest.mark.parametrize("level,pa", [(1, 0x8010_1000), (1, 0x8000_0000 + (1 << 20)),
                                      (2, 0x8020_0000), (2, 0x4000_1000)])
def test_misaligned_superpage(level, pa):
    r, unchanged = _fault_with_leaf(PTE_V | PTE_R | PTE_A, level=level, pa=pa, va=0)
    assert r.cause == 13 and unchanged


@pytest.mark.parametrize("flags,access,priv,sum_,mxr,ok", [
    (PTE_R, Access.LOAD, 1, 0, 0, True),
    (PTE_R, Access.STORE, 1, 0, 0, False),
    (PTE_R, Access.FETCH, 1, 0, 0, False),
    (PTE_X, Access.LOAD, 1, 0, 0, False),
    (PTE_X, Access.LOAD, 1, 0, 1, True),          # MXR makes X readable
    (PTE_X, Access.FETCH, 1, 0, 0, True),
    (PTE_R | PTE_W, Access.STORE, 1, 0, 0, True),
    (PTE_R | PTE_X, Access.LOAD, 0, 0, 0, False),  # U mode, non-U page
    (PTE_U | PTE_R | PTE_X, Access.FETCH, 0, 0, 0, True),
    (PTE_U | PTE_R | PTE_X, Access.FETCH, 1, 0, 0, False),  # S fetch from U page
    (PTE_U | PTE_R | PTE_X, Access.FETCH, 1, 1, 0, False),  # ... even with SUM
    (PTE_U | PTE_R, Access.LOAD, 1, 0, 0, False),
    (PTE_U | PTE_R, Access.LOAD, 1, 1, 0, True),
    (PTE_U | PTE_R | PTE_W, Access.STORE, 1, 1, 0, True),
    (PTE_U | PTE_R | PTE_W, Access.STORE, 1, 0, 0, False),
    (PTE_U | PTE_X, Access.LOAD, 0, 0, 1, True),
    (PTE_U | PTE_X, Access.LOAD, 0, 0, 0, False),
])
def test_permissions(flags, access, priv, sum_, mxr, ok):
    r, unchanged = _fault_with_leaf(PTE_V | flags | AD, access=access, priv=priv,
                                    sum_=sum_, mxr=mxr)
    if ok:
        assert r.paddr == 0x8010_0000
    else:
        assert r.paddr is None and r.cause == {Access.FETCH: 12, Access.LOAD: 13,
                                               Access.STORE: 15}[access]
    assert unchanged


@pytest.mark.parametrize("va", [1 << 38,     # bit 38 set, bits 63:39 clear
                                0x0000_0080_0000_0000, 0x8000_0000_0000_0000,
                                0xffff_ff7f_ffff_f000])
def test_noncanonical_address(va):
    mem, pt, satp = fresh()
    r = translate(mem, satp, va, Access.LOAD, 1)
    assert r.cause == 13 and r.reads == []


@pytest.mark.parametrize("access,cause", [(Access.FETCH, 1), (Access.LOAD, 5),
                                          (Access.STORE, 7)])
def test_bus_error_during_walk_is_access_fault(access, cause):
    mem, pt, satp = fresh()
    va = 0x3000
    pt.map(va, 0x8010_0000, PTE_V | RWX | AD)
    # Point the level-1 pointer outside RAM.
    mem.write64(pt.leaf_addr(va, 2), pte_value(0x1000_0000, PTE_V))
    r = translate(mem, satp, va, access, 1)
    assert (r.fault, r.cause, len(r.reads)) == ("access", cause, 1)
    # Root outside RAM.
    r = translate(mem, make_satp(0x2000_0000), va, access, 1)
    assert (r.fault, r.cause, r.reads) == ("access", cause, [])


def test_accessed_and_dirty_updates():
    mem, pt, satp = fresh()
    va = 0x9000
    flags = PTE_V | PTE_R | PTE_W | PTE_S
    leaf = pt.map(va, 0x8020_0000, flags)
    r = translate(mem, satp, va, Access.LOAD, 1)
    assert r.writes == [(leaf, pte_value(0x8020_0000, flags | PTE_A))]
    assert mem.read64(leaf) == pte_value(0x8020_0000, flags | PTE_A)
    # A already set: a second load writes nothing.
    assert translate(mem, satp, va, Access.LOAD, 1).writes == []
    r = translate(mem, satp, va, Access.STORE, 1)
    assert r.writes == [(leaf, pte_value(0x8020_0000, flags | PTE_A | PTE_D))]
    assert r.pte & PTE_S
    assert translate(mem, satp, va, Access.STORE, 1).writes == []
    assert mem.read64(leaf) == pte_value(0x8020_0000, flags | PTE_A | PTE_D)


def test_store_sets_a_and_d_together_and_keeps_pte_s():
    mem, pt, satp = fresh()
    leaf = pt.map(0x2000, 0x8030_0000, PTE_V | PTE_R | PTE_W | PTE_U | PTE_S | PTE_G)
    r = translate(mem, satp, 0x2008, Access.STORE, 0)
    assert r.paddr == 0x8030_0008 and r.global_
    assert mem.read64(leaf) == pte_value(0x8030_0000, PTE_V | PTE_R | PTE_W | PTE_U |
                                         PTE_S | PTE_G | PTE_A | PTE_D)


def test_faulting_access_does_not_set_a():
    mem, pt, satp = fresh()
    leaf = pt.map(0x2000, 0x8030_0000, PTE_V | PTE_R)      # read-only, A=0
    r = translate(mem, satp, 0x2000, Access.STORE, 1)
    assert r.cause == 15 and r.writes == []
    assert mem.read64(leaf) == pte_value(0x8030_0000, PTE_V | PTE_R)


def test_global_bit_from_pointer():
    mem, pt, satp = fresh()
    pt.map(0x2000, 0x8030_0000, PTE_V | PTE_R | PTE_A, pointer_flags=PTE_V | PTE_G)
    assert translate(mem, satp, 0x2000, Access.LOAD, 1).global_


def test_dict_memory_and_write_error():
    mem = SparseMemory([(RAM_BASE, 0x40_0000)], read_only=[(RAM_BASE, 0x40_0000)])
    base = SparseMemory([(RAM_BASE, 0x40_0000)])
    builder = PageTableBuilder(base, TABLES)
    builder.map(0x2000, 0x8030_0000, PTE_V | PTE_R)
    mem.words = dict(base.words)
    r = translate(mem, make_satp(builder.root), 0x2000, Access.LOAD, 1)
    assert (r.fault, r.cause, r.writes) == ("access", 5, [])
    # A plain dict works as memory too.
    words = dict(base.words)
    r = translate(words, make_satp(builder.root), 0x2010, Access.LOAD, 1)
    assert r.paddr == 0x8030_0010 and len(words) == len(base.words)
