"""The MMU as a whole: TLB behaviour seen through the translation ports,
sfence.vma, ASIDs, both ports at once, effective privilege, and random Sv39
page tables checked against the reference model (hypothesis)."""

import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from hw.mmu.signatures import Access, EventKind
from hw.mmu.refmodel import SparseMemory
from hw.mmu.pte import (PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D, PTE_S,
                        SATP_MODE_BARE)
from .mmu_util import (PageTableBuilder, Req, Fence, check_against_model, make_satp,
                       pte_value, run_mmu, translate, sfence, RAM_BASE)

TABLES = RAM_BASE + 0x10_0000
L, S, F = Access.LOAD, Access.STORE, Access.FETCH
RW = PTE_V | PTE_R | PTE_W | PTE_A | PTE_D


def memory():
    mem = SparseMemory([(RAM_BASE, 0x40_0000)])
    return mem, PageTableBuilder(mem, TABLES)


def test_bad_tlb_parameters():
    from hw.mmu.mmu import MMU
    with pytest.raises(ValueError, match="data TLB: PLRU replacement needs a power-of-two"):
        MMU(itlb_entries=8, dtlb_entries=12)
    with pytest.raises(ValueError, match="instruction TLB: unknown TLB replacement"):
        MMU(replacement="random")


def test_hit_after_walk_and_stale_until_sfence():
    mem, pt = memory()
    addr = pt.map(0x5000, 0x8020_0000, RW)
    satp = make_satp(pt.root, asid=1)
    seen = []

    async def body(ctx, mmu, ram, log):
        seen.append(await translate(ctx, mmu.data, 0x5010, L, satp=satp))
        n = len(ram.transfers)
        seen.append(await translate(ctx, mmu.data, 0x5ff8, S, satp=satp))
        assert len(ram.transfers) == n               # a hit touches no memory
        # the data TLB answers from its compares of the previous cycle: an
        # address presented a cycle before valid hits at once
        seen.append(await translate(ctx, mmu.data, 0x5ff0, L, satp=satp, ahead=1))
        assert len(ram.transfers) == n
        # Software remaps the page without sfence: the TLB keeps the old one.
        mem.write64(addr, pte_value(0x8030_0000, RW))
        seen.append(await translate(ctx, mmu.data, 0x5000, L, satp=satp))
        await sfence(ctx, mmu.sfence, vaddr=0x5000, asid=1)
        seen.append(await translate(ctx, mmu.data, 0x5000, L, satp=satp))
    ram, events = run_mmu(mem, body)
    assert [s[:3] for s in seen] == [(0x8020_0010, 0, 0), (0x8020_0ff8, 0, 0),
                                     (0x8020_0ff0, 0, 0),
                                     (0x8020_0000, 0, 0), (0x8030_0000, 0, 0)]
    # a data TLB hit: ready two cycles later with a new address (one to
    # compare, one to read the entry), one when the address came a cycle ahead
    assert seen[1][3] == 2
    assert seen[2][3] == 1
    flush = [e for e in events if e["kind"] == EventKind.TLB_FLUSH]
    assert len(flush) == 1 and flush[0]["vaddr"] == 0x5000
    assert flush[0]["satp"] >> 44 == 1 and flush[0]["cause"] == 0


def test_the_instruction_tlb_answers_from_registered_compares():
    """The instruction TLB is registered like the data TLB (mmu.py): a hit is
    ready two cycles after a new address (one to compare, one to read the entry
    and register the result), one when the address came a cycle ahead, as the
    fetch unit presents it (fetch.py: ``xl_vaddr`` follows the next pc)."""
    mem, pt = memory()
    pt.map(0x3000, 0x8020_0000, PTE_V | PTE_X | PTE_A)
    pt.map(0x4000, 0x8030_0000, PTE_V | PTE_X | PTE_A)
    satp = make_satp(pt.root, asid=2)
    seen = []

    async def body(ctx, mmu, ram, log):
        seen.append(await translate(ctx, mmu.ifetch, 0x3010, F, satp=satp))   # walk
        seen.append(await translate(ctx, mmu.ifetch, 0x4020, F, satp=satp))   # walk
        n = len(ram.transfers)
        seen.append(await translate(ctx, mmu.ifetch, 0x3ffc, F, satp=satp))
        seen.append(await translate(ctx, mmu.ifetch, 0x4000, F, satp=satp, ahead=1))
        assert len(ram.transfers) == n               # hits touch no memory
    run_mmu(mem, body)
    assert [s[:3] for s in seen] == [(0x8020_0010, 0, 0), (0x8030_0020, 0, 0),
                                     (0x8020_0ffc, 0, 0), (0x8030_0000, 0, 0)]
    assert [s[3] for s in seen[2:]] == [2, 1]


def test_load_then_store_rewalks_to_set_dirty():
    mem, pt = memory()
    addr = pt.map(0x7000, 0x8020_0000, PTE_V | PTE_R | PTE_W | PTE_S)
    satp = make_satp(pt.root)
    outcomes, ram, events = check_against_model(mem, [
        Req(0x7000, L, satp), Req(0x7008, L, satp), Req(0x7010, S, satp),
        Req(0x7018, S, satp), Req(0x7020, L, satp)], max_wait=1)
    assert [o[0] for o in outcomes] == ["walk", "hit", "walk", "hit", "hit"]
    assert ram.mem.read64(addr) == pte_value(0x8020_0000, PTE_V | PTE_R | PTE_W | PTE_S |
                                             PTE_A | PTE_D)
    # The store's miss event was a stale hit, refilled in place: the TLB
    # (4 entries) still holds exactly one entry for the page, so later
    # accesses hit.


def test_permission_failure_on_hit_goes_back_to_walker():
    mem, pt = memory()
    pt.map(0x7000, 0x8020_0000, PTE_V | PTE_R | PTE_A | PTE_U)
    satp = make_satp(pt.root)
    outcomes, _, _ = check_against_model(mem, [
        Req(0x7000, L, satp, priv=0),
        Req(0x7000, L, satp, priv=1),              # S without SUM: fault (walked again)
        Req(0x7000, L, satp, priv=1, sum_=1),       # now allowed
        Req(0x7000, S, satp, priv=0),              # not writable
    ])
    assert [(o[0], o[1].cause) for o in outcomes] == [("walk", None), ("walk", 13),
                                                      ("hit", None), ("walk", 15)]


def test_asids_keep_separate_translations_and_globals_survive():
    mem = SparseMemory([(RAM_BASE, 0x40_0000)])
    a = PageTableBuilder(mem, TABLES)
    b = PageTableBuilder(mem, TABLES + 0x10_000)
    for pt, pa in ((a, 0x8020_0000), (b, 0x8030_0000)):
        pt.map(0x1000, pa, RW)
        pt.map(0x40_0000, 0x8040_0000, RW | PTE_G)      # shared kernel-style page
    sa, sb = make_satp(a.root, asid=1), make_satp(b.root, asid=2)
    got = []

    async def body(ctx, mmu, ram, log):
        for satp in (sa, sb, sa, sb):
            got.append((await translate(ctx, mmu.data, 0x1000, L, satp=satp))[0])
        await translate(ctx, mmu.data, 0x40_0000, L, satp=sa)
        await sfence(ctx, mmu.sfence, asid=1, all_vaddr=1)      # ASID 1 only
        n = len(ram.transfers)
        got.append((await translate(ctx, mmu.data, 0x40_0000, L, satp=sa))[0])
        assert len(ram.transfers) == n          # global entry survived: hit
        got.append((await translate(ctx, mmu.data, 0x1000, L, satp=sb))[0])
        assert len(ram.transfers) == n          # ASID 2 untouched
        got.append((await translate(ctx, mmu.data, 0x1000, L, satp=sa))[0])
        assert len(ram.transfers) > n           # ASID 1 entry gone: walk
        n = len(ram.transfers)
        await sfence(ctx, mmu.sfence, all_vaddr=1, all_asid=1)
        await translate(ctx, mmu.data, 0x40_0000, L, satp=sa)
        assert len(ram.transfers) > n           # a full flush drops globals too
    run_mmu(mem, body, dtlb_entries=8)
    assert got == [0x8020_0000, 0x8030_0000, 0x8020_0000, 0x8030_0000,
                   0x8040_0000, 0x8030_0000, 0x8020_0000]


def test_capacity_eviction():
    mem, pt = memory()
    for i in range(5):
        pt.map(0x1000 * (i + 1), 0x8020_0000 + 0x1000 * i, RW)
    satp = make_satp(pt.root)
    ops = [Req(0x1000 * (i + 1), L, satp) for i in range(5)]     # 5 pages, 4 entries
    ops += [Req(0x2000, L, satp), Req(0x1000, L, satp)]
    outcomes, _, _ = check_against_model(mem, ops, dtlb_entries=4, replacement="fifo")
    # FIFO: the fifth page evicted the first; the second is still cached.
    assert [o[0] for o in outcomes] == ["walk"] * 5 + ["hit", "walk"]


def test_both_ports_at_once():
    mem, pt = memory()
    pt.map(0x1000, 0x8020_0000, PTE_V | PTE_X | PTE_A | PTE_U)
    pt.map(0x40_0000, 0x8040_0000, RW | PTE_U, level=1)
    satp = make_satp(pt.root)
    results = {"i": [], "d": []}

    from amaranth.sim import Simulator
    from hw.mmu.mmu import MMU
    from .mmu_util import BusRAM, EventLog
    dut = MMU(itlb_entries=4, dtlb_entries=4)
    ram = BusRAM(dut.bus, mem, seed=7)
    log = EventLog(dut.events)
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(ram.serve, background=True)
    sim.add_testbench(log.monitor, background=True)

    async def fetcher(ctx):
        for i in range(6):
            results["i"].append(await translate(ctx, dut.ifetch, 0x1000 + 4 * i, F,
                                                satp=satp, priv=0))

    async def loader(ctx):
        for i in range(6):
            results["d"].append(await translate(ctx, dut.data, 0x40_0000 + 0x1_0000 * i,
                                                S if i % 2 else L, satp=satp, priv=0))
    sim.add_testbench(fetcher)
    sim.add_testbench(loader)
    sim.run()
    assert [r[:3] for r in results["i"]] == [(0x8020_0000 + 4 * i, 0, 0) for i in range(6)]
    assert [r[:3] for r in results["d"]] == [(0x8040_0000 + 0x1_0000 * i, 0, 0)
                                             for i in range(6)]
    kinds = [EventKind(e["kind"]) for e in log.log]
    assert kinds.count(EventKind.WALK_START) == 2 and kinds.count(EventKind.TLB_HIT) == 10
    assert ram.lock_violations == []


def test_effective_privilege_and_bare():
    """M mode data with MPRV arrives as priv 0/1 and is translated; priv 3
    and satp Bare pass through in the same cycle."""
    mem, pt = memory()
    pt.map(0x9000, 0x8050_0000, RW | PTE_U)
    satp = make_satp(pt.root)
    outcomes, ram, events = check_against_model(mem, [
        Req(0x9004, L, satp, priv=3),
        Req(0x9004, L, satp, priv=0),          # MPRV with MPP=U
        Req(0x9004, S, satp, priv=1),          # MPP=S without SUM: fault
        Req(0x9004, S, satp, priv=1, sum_=1),
        Req(0x9004, F, make_satp(0, mode=SATP_MODE_BARE), priv=1),
        Req(0xffff_ffff_ffff_fff0, L, satp, priv=3),
    ])
    assert [(o[0], o[1].paddr, o[2]) for o in outcomes] == [
        ("bare", 0x9004, 0), ("walk", 0x8050_0004, outcomes[1][2]),
        ("walk", None, outcomes[2][2]), ("hit", 0x8050_0004, 1),
        ("bare", 0x9004, 0), ("bare", 0xff_ffff_ffff_fff0, 0)]


# ---------------------------------------------------------------------------
# Random page tables.  Table pages are reserved per level (root, two level-1
# tables, three level-0 tables) so that a PTE is only ever read at one level;
# the last level-0 table is read-only, so A/D write-backs there fail.

ROOT = TABLES
L1_TABLES = [TABLES + 0x1000, TABLES + 0x2000]
L0_TABLES = [TABLES + 0x3000, TABLES + 0x4000, TABLES + 0x5000]
READ_ONLY = (L0_TABLES[-1], 0x1000)
INDICES = [0, 1, 5, 256, 511]
OUTSIDE = 0x1000_0000                     # decodes to nothing: bus error


# Uniform percentages (st.integers favours the ends of its range).
PERCENT = st.sampled_from(range(100))


@st.composite
def pte_strategy(draw, level, user):
    """A random PTE for a table read at ``level``; mostly well-formed so that
    walks get deep, with every kind of malformation now and then."""
    roll = draw(PERCENT)
    if roll < 6:
        return draw(st.sampled_from([0, PTE_R | PTE_W, PTE_X | PTE_A | PTE_D | PTE_U]))
    if level and roll < (85 if level == 2 else 65):
        targets = L1_TABLES if level == 2 else L0_TABLES
        target = draw(st.sampled_from(targets * 4 + [OUTSIDE]))
        extra = draw(st.sampled_from([0] * 8 + [PTE_G, PTE_S, PTE_A, PTE_U, PTE_D]))
        return pte_value(target, PTE_V | extra)
    perms = draw(st.sampled_from([PTE_R, PTE_R | PTE_W, PTE_X, PTE_R | PTE_X, PTE_W,
                                  PTE_W | PTE_X] + [PTE_R | PTE_W | PTE_X] * 6))
    flags = PTE_V | perms
    # The U bit mostly matches the privilege the scenario mostly uses.
    for bit, chance in ((PTE_U, 85 if user else 15), (PTE_G, 30), (PTE_A, 60), (PTE_D, 50),
                        (PTE_S, 50)):
        if draw(PERCENT) < chance:
            flags |= bit
    # Usually aligned for the level; sometimes a misaligned superpage.
    align = level if draw(PERCENT) < 75 else draw(st.sampled_from([0, 1, 2]))
    frame = draw(st.integers(0, 0xfff)) << (12 + 9 * align)
    pte = pte_value((RAM_BASE + frame) & ((1 << 56) - 1), flags)
    if draw(PERCENT) < 4:
        pte |= 1 << draw(st.integers(54, 63))            # reserved high bit
    return pte


@st.composite
def scenario(draw):
    mem = SparseMemory([(RAM_BASE, 0x40_0000)], read_only=[READ_ONLY])
    user = draw(st.booleans())
    for base, level in [(ROOT, 2)] + [(t, 1) for t in L1_TABLES] + [(t, 0) for t in L0_TABLES]:
        for index in INDICES:
            mem.words[base + 8 * index] = draw(pte_strategy(level, user))
    satp = make_satp(ROOT, asid=draw(st.integers(0, 0xffff)))

    def vaddr():
        v2, v1, v0 = (draw(st.sampled_from(INDICES)) for _ in range(3))
        va = (v2 << 30) | (v1 << 21) | (v0 << 12) | (draw(st.integers(0, 511)) * 8)
        if v2 & 0x100:
            va |= ((1 << 25) - 1) << 39                  # canonical upper half
        if draw(PERCENT) < 5:
            va ^= 1 << draw(st.integers(39, 63))         # break canonicality
        return va

    ops = []
    for _ in range(draw(st.integers(1, 14))):
        if draw(PERCENT) < 8:
            ops.append(Fence(vaddr=vaddr(), asid=satp >> 44 & 0xffff,
                             all_vaddr=draw(st.booleans()), all_asid=draw(st.booleans())))
            continue
        # Re-use an earlier address now and then so that TLB hits happen.
        earlier = [op for op in ops if isinstance(op, Req)]
        if earlier and draw(PERCENT) < 40:
            va = draw(st.sampled_from(earlier)).va
        else:
            va = vaddr()
        roll = draw(PERCENT)
        usual = 0 if user else 1
        priv = 3 if roll < 8 else (usual ^ 1 if roll < 25 else usual)
        ops.append(Req(va, draw(st.sampled_from([F, L, S])), satp, priv=priv,
                       sum_=draw(PERCENT) < 30, mxr=draw(PERCENT) < 30))
    return mem, ops


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=scenario(), seed=st.integers(0, 1000),
       replacement=st.sampled_from(["fifo", "plru"]), entries=st.sampled_from([2, 4]))
def test_random_tables_match_reference_model(case, seed, replacement, entries):
    mem, ops = case
    check_against_model(mem, ops, seed=seed, max_wait=3, itlb_entries=entries,
                        dtlb_entries=entries, replacement=replacement)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=scenario(), seed=st.integers(0, 1000),
       replacement=st.sampled_from(["fifo", "plru"]), entries=st.sampled_from([1, 2, 4, 8]))
def test_random_tables_match_reference_model_long(case, seed, replacement, entries):
    if replacement == "plru" and entries == 1:
        replacement = "fifo"
    mem, ops = case
    check_against_model(mem, ops, seed=seed, max_wait=3, itlb_entries=entries,
                        dtlb_entries=entries, replacement=replacement)


def _abandoned_request(change, checks):
    """A data translation (a miss: the walker runs) whose requester breaks the
    protocol two cycles in (``change``: "drop" lowers valid, "vaddr" asks for
    another page): the MMU's check message, or None if the run went on."""
    mem, pt = memory()
    pt.map(0x5000, 0x8020_0000, RW)
    pt.map(0x6000, 0x8030_0000, RW)
    satp = make_satp(pt.root, asid=1)

    async def body(ctx, mmu, ram, log):
        port = mmu.data
        ctx.set(port.valid, 1)
        ctx.set(port.vaddr, 0x5010)
        ctx.set(port.access, L)
        ctx.set(port.priv, 1)
        ctx.set(port.satp, satp)
        await ctx.tick()
        await ctx.tick()
        assert not ctx.get(port.ready)      # (the walk takes longer)
        if change == "drop":
            ctx.set(port.valid, 0)
        else:
            ctx.set(port.vaddr, 0x6010)
        for _ in range(40):
            await ctx.tick()
        ctx.set(port.valid, 0)
    try:
        run_mmu(mem, body, checks=checks)
    except AssertionError as e:
        return str(e)
    return None


def test_the_check_catches_a_request_dropped_or_changed_before_ready():
    # The lookup's event and the walker read the request after its first cycle: a
    # requester must hold it until ready (TranslateSignature), which run_mmu checks
    # in every test above; these break it.
    assert _abandoned_request("drop", True) == (
        "Assertion violated: MMU: the data port dropped or changed its request before ready")
    assert _abandoned_request("vaddr", True) == (
        "Assertion violated: MMU: the data port dropped or changed its request before ready")
    # without checks (the FPGA's netlists) the same stimulus runs on
    assert _abandoned_request("drop", False) is None
    assert _abandoned_request("vaddr", False) is None


def test_the_mmu_checks_are_left_out_of_the_netlist_unless_asked():
    from amaranth.back import rtlil
    from hw.mmu.mmu import MMU
    assert "$check" not in rtlil.convert(MMU(itlb_entries=4, dtlb_entries=4))
    assert rtlil.convert(MMU(itlb_entries=4, dtlb_entries=4, checks=True)).count(
        "cell $check") == 2                 # one per translation port
