"""PMP matching (hw/core/pmp.py) against the Python rule of the privileged spec.

Random entries are placed around a random access (so that they match, miss or
match only part of it often), in every mode (OFF, TOR, NA4, NAPOT), with random
permissions and lock bits, for accesses of 1, 2, 4 and 8 bytes in M, S and U
mode, and for whole 4 KiB pages (the core's page queries); plus hand-written
cases for each rule.
"""

from amaranth.sim import Simulator
from hypothesis import given, settings, strategies as st

from hw.core.isa import Priv
from hw.core.pmp import PMPChecker, check_access, OFF, TOR, NA4, NAPOT
from hw.mmu.signatures import Access

R, W, X, L = 0x01, 0x02, 0x04, 0x80
N = 16


def cfg_byte(mode, perms, lock=False):
    return (mode << 3) | perms | (L if lock else 0)


def napot(base, size):
    """pmpaddr of the NAPOT region [base, base + size) (size a power of two >= 8)."""
    return (base >> 2) | ((size >> 3) - 1)


def run_checks(cfgs, addrs, accesses):
    """Evaluate every access on the RTL checker; returns the list of verdicts."""
    dut = PMPChecker(entries=N)
    out = []

    async def bench(ctx):
        ctx.set(dut.cfg, sum(c << (8 * i) for i, c in enumerate(cfgs)))
        ctx.set(dut.addr, sum(a << (54 * i) for i, a in enumerate(addrs)))
        for paddr, length, priv, access in accesses:
            ctx.set(dut.first, paddr)
            ctx.set(dut.last, paddr + length - 1)
            ctx.set(dut.priv, priv)
            ctx.set(dut.access, access)
            await ctx.delay(1e-9)
            out.append(bool(ctx.get(dut.allowed)))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return out


def expect(cfgs, addrs, accesses):
    got = run_checks(cfgs, addrs, accesses)
    want = [check_access(cfgs, addrs, *a) for a in accesses]
    assert got == want, [(a, g, w) for a, g, w in zip(accesses, got, want) if g != w]
    return got


def pad(entries):
    cfgs = [c for c, _ in entries] + [0] * (N - len(entries))
    addrs = [a for _, a in entries] + [0] * (N - len(entries))
    return cfgs, addrs


PRIVS = st.sampled_from([Priv.U, Priv.S, Priv.M])
ACCESSES = st.sampled_from([Access.FETCH, Access.LOAD, Access.STORE])


@st.composite
def scenario(draw):
    center = draw(st.integers(0x1000, (1 << 40))) & ~7
    entries = []
    for _ in range(draw(st.integers(1, N))):
        mode = draw(st.sampled_from([OFF, TOR, NA4, NAPOT]))
        perms = draw(st.integers(0, 7).filter(lambda p: p & 3 != 2))   # R=0 W=1 reserved
        lock = draw(st.booleans())
        near = center + draw(st.integers(-64, 64)) * 4
        if mode == NAPOT:
            size = 1 << draw(st.integers(3, 12))
            a = napot(near & ~(size - 1), size)
        else:
            a = max(near, 0) >> 2
        entries.append((cfg_byte(mode, perms, lock), a))
    accesses = []
    for _ in range(12):
        # aligned accesses, the parts of misaligned ones, whole pages
        length = draw(st.sampled_from([1, 2, 4, 8, 3, 5, 7, 4096]))
        off = draw(st.integers(-40, 40)) * 4 + draw(st.integers(0, 3))
        paddr = center + off
        if length in (1, 2, 4, 8, 4096):
            paddr &= ~(length - 1)
        accesses.append((paddr, length, draw(PRIVS), draw(ACCESSES)))
    return pad(entries), accesses


@settings(max_examples=60, deadline=None)
@given(scenario())
def test_random_entries_against_reference(s):
    (cfgs, addrs), accesses = s
    expect(cfgs, addrs, accesses)


def test_no_entry_m_allowed_s_u_denied():
    cfgs, addrs = pad([])
    got = expect(cfgs, addrs, [(0x8000_0000, 8, Priv.M, Access.LOAD),
                               (0x8000_0000, 8, Priv.S, Access.LOAD),
                               (0x8000_0000, 4, Priv.U, Access.FETCH)])
    assert got == [True, False, False]


def test_tor_entry0_from_zero_and_permissions():
    # entry 0: TOR [0, 0x8000_1000) R only; entry 1: TOR [0x8000_1000, 0x8000_2000) RWX
    cfgs, addrs = pad([(cfg_byte(TOR, R), 0x8000_1000 >> 2),
                       (cfg_byte(TOR, R | W | X), 0x8000_2000 >> 2)])
    got = expect(cfgs, addrs, [
        (0x0, 1, Priv.S, Access.LOAD), (0x8000_0FF8, 8, Priv.S, Access.STORE),
        (0x8000_1000, 8, Priv.U, Access.STORE), (0x8000_1FFC, 4, Priv.U, Access.FETCH),
        (0x8000_2000, 4, Priv.S, Access.LOAD), (0x8000_2000, 4, Priv.M, Access.STORE)])
    assert got == [True, False, True, True, False, True]


def test_na4_partial_match_fails_even_in_m():
    # NA4 at 0x1004 RWX; an 8-byte access at 0x1000 matches only half of it
    cfgs, addrs = pad([(cfg_byte(NA4, R | W | X), 0x1004 >> 2)])
    got = expect(cfgs, addrs, [(0x1000, 8, Priv.M, Access.LOAD),
                               (0x1004, 4, Priv.S, Access.LOAD),
                               (0x1000, 4, Priv.M, Access.LOAD)])
    assert got == [False, True, True]


def test_napot_sizes_and_whole_space():
    cfgs, addrs = pad([(cfg_byte(NAPOT, R), napot(0x2000, 8)),
                       (cfg_byte(NAPOT, W | R), napot(0x4000, 0x1000)),
                       (cfg_byte(NAPOT, X), (1 << 54) - 1)])      # everything
    got = expect(cfgs, addrs, [
        (0x2000, 8, Priv.S, Access.LOAD), (0x2008, 4, Priv.S, Access.LOAD),
        (0x4FF8, 8, Priv.U, Access.STORE), (0x5000, 4, Priv.U, Access.STORE),
        (0xFF_FFFF_FFFF_FFF8, 8, Priv.U, Access.FETCH)])
    assert got == [True, False, True, False, True]


def test_lock_applies_to_m_and_priority_is_lowest_entry():
    # entry 0 locked, read-only over [0x1000, 0x2000); entry 1 unlocked RWX over all
    cfgs, addrs = pad([(cfg_byte(NAPOT, R, lock=True), napot(0x1000, 0x1000)),
                       (cfg_byte(NAPOT, R | W | X), (1 << 54) - 1)])
    got = expect(cfgs, addrs, [(0x1000, 8, Priv.M, Access.STORE),
                               (0x1000, 8, Priv.M, Access.LOAD),
                               (0x3000, 8, Priv.M, Access.STORE),
                               (0x1800, 4, Priv.S, Access.FETCH)])
    assert got == [False, True, True, False]


def test_empty_tor_range_matches_nothing():
    # entry 0 TOR [0x1000, 0x1000): empty (an 8-byte access across 0x1000 must not
    # count as a partial match); entry 1 NAPOT over everything, R only
    cfgs, addrs = pad([(0, 0x1004 >> 2), (cfg_byte(TOR, R | W | X), 0x1004 >> 2),
                       (cfg_byte(NAPOT, R), (1 << 54) - 1)])
    got = expect(cfgs, addrs, [(0x1000, 8, Priv.S, Access.LOAD),
                               (0x1000, 8, Priv.S, Access.STORE),
                               (0x0, 4096, Priv.U, Access.LOAD)])
    assert got == [True, False, True]


def test_unit_serves_requesters_in_turn():
    """PMPUnit: the registered regions and one comparison per request; three
    requesters at once are answered one after the other, each with its verdict."""
    from hw.core.pmp import PMPUnit
    cfgs, addrs = pad([(cfg_byte(NAPOT, R, lock=True), napot(0x8000_0000, 0x1000)),
                       (cfg_byte(TOR, R | W | X), 0x8001_0000 >> 2)])
    dut = PMPUnit(entries=N, ports=3)
    queries = [(0x8000_0000, 4096, Priv.S, Access.STORE),      # locked R only: no
               (0x8000_0ffc, 4, Priv.M, Access.LOAD),           # yes
               (0x8000_1000, 4096, Priv.U, Access.FETCH)]       # TOR RWX: yes
    got = {}

    async def bench(ctx):
        ctx.set(dut.cfg, sum(c << (8 * i) for i, c in enumerate(cfgs)))
        ctx.set(dut.addr, sum(a << (54 * i) for i, a in enumerate(addrs)))
        await ctx.tick()
        assert ctx.get(dut.on) == 1
        for i, (paddr, length, priv, access) in enumerate(queries):
            p = dut.port(i)
            ctx.set(p.valid, 1)
            ctx.set(p.first, paddr)
            ctx.set(p.last, paddr + length - 1)
            ctx.set(p.priv, priv)
            ctx.set(p.access, access)
        for cycle in range(12):
            await ctx.tick()
            for i in range(3):
                p = dut.port(i)
                if ctx.get(p.ready):
                    assert i not in got
                    got[i] = (bool(ctx.get(p.allowed)), cycle)
                    ctx.set(p.valid, 0)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert {i: v for i, (v, _) in got.items()} == {0: False, 1: True, 2: True}
    assert [got[i][1] for i in range(3)] == [1, 4, 7]     # two cycles each, in turn
    for i, q in enumerate(queries):
        assert got[i][0] == check_access(cfgs, addrs, *q)


def test_unit_remembers_allowed_pages_until_flushed():
    """A page allowed as a whole is answered in the cycle it is asked for again (by
    the same port, for the same kind of access or a load after a store, and the same
    side of M mode); a denied page or a pmp CSR write (flush) goes back to comparing."""
    from hw.core.pmp import PMPUnit
    cfgs, addrs = pad([(cfg_byte(NAPOT, R), napot(0x8000_0000, 0x1000)),
                       (cfg_byte(NAPOT, R | W | X), (1 << 54) - 1)])
    dut = PMPUnit(entries=N, ports=2)
    log = []

    async def ask(ctx, port, page, priv, access):
        p = dut.port(port)
        ctx.set(p.valid, 1)
        ctx.set(p.first, page)
        ctx.set(p.last, page + 0xFFF)
        ctx.set(p.priv, priv)
        ctx.set(p.access, access)
        waited = 0
        while not ctx.get(p.ready):
            await ctx.tick()
            waited += 1
        allowed = bool(ctx.get(p.allowed))
        await ctx.tick()
        ctx.set(p.valid, 0)
        log.append((waited, allowed))

    async def bench(ctx):
        ctx.set(dut.cfg, sum(c << (8 * i) for i, c in enumerate(cfgs)))
        ctx.set(dut.addr, sum(a << (54 * i) for i, a in enumerate(addrs)))
        for _ in range(4):
            await ctx.tick()
        await ask(ctx, 0, 0x8000_1000, Priv.S, Access.STORE)    # compared: allowed
        await ask(ctx, 0, 0x8000_1000, Priv.U, Access.LOAD)     # remembered
        await ask(ctx, 1, 0x8000_1000, Priv.S, Access.STORE)    # another port: compared
        await ask(ctx, 0, 0x8000_1000, Priv.M, Access.LOAD)     # M mode: compared
        await ask(ctx, 0, 0x8000_0000, Priv.S, Access.STORE)    # denied: compared ...
        await ask(ctx, 0, 0x8000_0000, Priv.S, Access.STORE)    # ... every time
        ctx.set(dut.flush, 1)
        await ctx.tick()
        ctx.set(dut.flush, 0)
        await ask(ctx, 0, 0x8000_1000, Priv.S, Access.LOAD)     # forgotten: compared
        for _ in range(3):
            await ctx.tick()
        await ask(ctx, 0, 0x8000_1000, Priv.S, Access.LOAD)     # compared after the flush
        await ask(ctx, 0, 0x8000_1000, Priv.S, Access.LOAD)     # ... remembered again

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert log == [(2, True), (0, True), (2, True), (2, True), (2, False), (2, False),
                   (2, True), (2, True), (0, True)]
