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
from hw.core.pmp import PMPChecker, check_access, entry_range, OFF, TOR, NA4, NAPOT
from hw.mmu.signatures import Access

R, W, X, L = 0x01, 0x02, 0x04, 0x80
N = 16
BUSY = N + 1            # cycles PMPUnit computes its regions after a write (one per entry, + 1)
CMP = 3                 # cycles from a request taken to its compared answer when entry 0
                        # decides (copied, compared, answered)


def cmp_cycles(cfgs, addrs, first, last):
    """Cycles from a request for the bytes first .. last taken to its compared
    answer: PMPUnit compares one entry per cycle, entry 0 first, until one matches a
    byte (or the last entry is compared)."""
    for i in range(N):
        rng = entry_range(cfgs, addrs, i)
        if rng is not None and first < rng[1] and last >= rng[0]:
            return CMP + i
    return CMP + N - 1


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
        await _write_regs(ctx, dut, cfgs, addrs)
        assert ctx.get(dut.on) == 1            # busy: the regions are being computed
        for _ in range(BUSY):
            await ctx.tick()
        assert ctx.get(dut.on) == 1            # and some entry is on
        for i, (paddr, length, priv, access) in enumerate(queries):
            p = dut.port(i)
            _request(ctx, p, paddr, paddr + length - 1, priv, access)
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
    # in turn, the next taken in the cycle after an answer; the third is decided
    # by entry 1, a cycle later than the others (entry 0)
    lat = [cmp_cycles(cfgs, addrs, q[0], q[0] + q[1] - 1) for q in queries]
    assert lat == [CMP, CMP, CMP + 1]
    assert [got[i][1] for i in range(3)] == [lat[0] - 1, lat[0] + lat[1], lat[0] + lat[1] + 1 + lat[2]]
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

    async def script(ctx, ask):
        async def page(port, first, priv, access):
            log.append(await ask(ctx, port, first, first + 0xFFF, priv, access))

        await _write_regs(ctx, dut, cfgs, addrs)
        for _ in range(BUSY):                  # the regions, one entry per cycle
            await ctx.tick()
        await page(0, 0x8000_1000, Priv.S, Access.STORE)    # compared: allowed
        await page(0, 0x8000_1000, Priv.U, Access.LOAD)     # remembered
        await page(1, 0x8000_1000, Priv.S, Access.STORE)    # another port: compared
        await page(0, 0x8000_1000, Priv.M, Access.LOAD)     # M mode: compared
        await page(0, 0x8000_0000, Priv.S, Access.STORE)    # denied: compared ...
        await page(0, 0x8000_0000, Priv.S, Access.STORE)    # ... every time
        await _write_regs(ctx, dut, cfgs, addrs)
        # forgotten: compared once the regions are computed again (BUSY cycles)
        await page(0, 0x8000_1000, Priv.S, Access.LOAD)
        for _ in range(3):
            await ctx.tick()
        await page(0, 0x8000_1000, Priv.S, Access.LOAD)     # remembered again

    _drive_unit(dut, script)
    # page 0x8000_1000 is decided by entry 1, page 0x8000_0000 by entry 0
    c1 = cmp_cycles(cfgs, addrs, 0x8000_1000, 0x8000_1FFF)
    c0 = cmp_cycles(cfgs, addrs, 0x8000_0000, 0x8000_0FFF)
    assert (c0, c1) == (CMP, CMP + 1)
    assert log == [(c1, True), (0, True), (c1, True), (c1, True), (c0, False), (c0, False),
                   (c1 + BUSY, True), (0, True)]


def _drive_unit(dut, script):
    """Run ``script(ctx, ask)`` on ``dut`` (a PMPUnit); ``ask(ctx, port, first, last,
    priv, access)`` holds a request until it is answered and returns (cycles waited,
    allowed)."""
    async def ask(ctx, port, first, last, priv, access):
        p = dut.port(port)
        _request(ctx, p, first, last, priv, access)
        waited = 0
        while not ctx.get(p.ready):
            await ctx.tick()
            waited += 1
            assert waited < 100, "the PMP unit does not answer"
        allowed = bool(ctx.get(p.allowed))
        await ctx.tick()
        ctx.set(p.valid, 0)
        return waited, allowed

    async def bench(ctx):
        await script(ctx, ask)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


async def _write_regs(ctx, dut, cfgs, addrs):
    """What a pmp CSR write does to the unit: new registers and ``flush`` for a cycle."""
    ctx.set(dut.cfg, sum(c << (8 * i) for i, c in enumerate(cfgs)))
    ctx.set(dut.addr, sum(a << (54 * i) for i, a in enumerate(addrs)))
    ctx.set(dut.flush, 1)
    await ctx.tick()
    ctx.set(dut.flush, 0)



def _request(ctx, p, first, last, priv, access):
    """Port ``p`` asks about the bytes ``first`` .. ``last`` (``valid`` set)."""
    ctx.set(p.valid, 1)
    ctx.set(p.first, first)
    ctx.set(p.last, last)
    ctx.set(p.priv, priv)
    ctx.set(p.access, access)


async def _hold_until_answered(ctx, dut, p, flush_at, regs):
    """Hold port ``p``'s request (already set) until it is answered; in its
    ``flush_at``-th cycle (0: the first; None: never) write ``regs`` (a pmp CSR
    write: new registers and ``flush`` for a cycle).  Returns (cycles waited,
    allowed); the answer's cycle is over when it returns."""
    waited = 0
    while True:
        if waited == flush_at:
            ctx.set(dut.cfg, sum(c << (8 * i) for i, c in enumerate(regs[0])))
            ctx.set(dut.addr, sum(a << (54 * i) for i, a in enumerate(regs[1])))
            ctx.set(dut.flush, 1)
        ready, allowed = ctx.get(p.ready), ctx.get(p.allowed)
        await ctx.tick()
        ctx.set(dut.flush, 0)
        if ready:
            return waited, bool(allowed)
        waited += 1
        assert waited < 100


RAM = 0x8000_0000


def test_unit_forgets_remembered_page_when_registers_change():
    """A page remembered as allowed must not be answered from memory after a pmp
    CSR write that denies it (flush with the new registers): the answer is the new
    rule's, compared."""
    from hw.core.pmp import PMPUnit
    allow = pad([(cfg_byte(NAPOT, R | W | X), (1 << 54) - 1)])
    deny = pad([(cfg_byte(NAPOT, 0), napot(0x1000_3000, 0x1000)),
                (cfg_byte(NAPOT, R | W | X), (1 << 54) - 1)])
    dut = PMPUnit(entries=N, ports=1)          # no blocks: pages only
    log = []

    async def script(ctx, ask):
        await _write_regs(ctx, dut, *allow)
        for _ in range(BUSY):
            await ctx.tick()
        log.append(await ask(ctx, 0, 0x1000_3000, 0x1000_3FFF, Priv.S, Access.LOAD))
        log.append(await ask(ctx, 0, 0x1000_3000, 0x1000_3FFF, Priv.S, Access.LOAD))
        await _write_regs(ctx, dut, *deny)
        for delay in range(4):                 # asked at once and later after the write
            log.append(await ask(ctx, 0, 0x1000_3000, 0x1000_3FFF, Priv.S, Access.LOAD))
            for _ in range(delay):
                await ctx.tick()
        log.append(await ask(ctx, 0, 0x1000_3000, 0x1000_3FFF, Priv.M, Access.LOAD))

    _drive_unit(dut, script)
    assert log == [(CMP, True), (0, True), (CMP + BUSY, False), (CMP, False), (CMP, False),
                   (CMP, False), (CMP, True)]


def test_unit_blocks_answer_at_once_until_registers_change():
    """With the whole space open (as xv6 does), the unit checks its block (here a
    RAM of 128 MiB) as a whole after the registers change, in idle cycles; then
    every page and word in it is answered at once, outside it compared.  A write
    that closes a page of the block makes the block compared again (the closed
    page denied, the others allowed; in M mode too: the entry matches only part
    of the block, so the block is not allowed as a whole)."""
    from hw.core.pmp import PMPUnit
    allow = pad([(cfg_byte(TOR, R | W | X), (1 << 54) - 1)])
    hole = pad([(cfg_byte(NAPOT, R), napot(RAM + 0x5000, 0x1000)),
                (cfg_byte(TOR, R | W | X), (1 << 54) - 1)])
    dut = PMPUnit(entries=N, ports=2, memo=0, blocks=[(RAM, 27)])
    log = []

    async def script(ctx, ask):
        await _write_regs(ctx, dut, *allow)
        # right after the write: the regions are computed (BUSY cycles), then compared
        log.append(await ask(ctx, 1, RAM + 0x5000, RAM + 0x5FFF, Priv.S, Access.STORE))
        for _ in range(30):                    # the sweeper checks 6 combinations
            await ctx.tick()
        log.append(await ask(ctx, 1, RAM + 0x5000, RAM + 0x5FFF, Priv.S, Access.STORE))
        log.append(await ask(ctx, 0, RAM + 0x7FF_F000, RAM + 0x7FF_FFFF, Priv.U,
                             Access.FETCH))
        log.append(await ask(ctx, 0, RAM + 0x18, RAM + 0x1F, Priv.M, Access.LOAD))
        log.append(await ask(ctx, 0, RAM + 0x800_0000, RAM + 0x800_0FFF, Priv.S,
                             Access.LOAD))     # beyond the block: compared
        await _write_regs(ctx, dut, *hole)
        # asked at once after the write: the block's old verdict is gone
        log.append(await ask(ctx, 1, RAM + 0x5000, RAM + 0x5FFF, Priv.S, Access.STORE))
        for _ in range(30):
            await ctx.tick()
        log.append(await ask(ctx, 1, RAM + 0x5000, RAM + 0x5FFF, Priv.S, Access.STORE))
        log.append(await ask(ctx, 1, RAM + 0x5000, RAM + 0x5FFF, Priv.S, Access.LOAD))
        log.append(await ask(ctx, 1, RAM + 0x6000, RAM + 0x6FFF, Priv.S, Access.STORE))
        log.append(await ask(ctx, 1, RAM + 0x5000, RAM + 0x5FFF, Priv.M, Access.STORE))

    _drive_unit(dut, script)
    # (with the hole, page RAM + 0x6000 is decided by entry 1, a cycle later)
    assert log == [(CMP + BUSY, True), (0, True), (0, True), (0, True), (CMP, True),
                   (CMP + BUSY, False), (CMP, False), (CMP, True), (CMP + 1, True), (CMP, True)]


def test_unit_page_remembered_from_the_cycle_after_its_answer_unless_flushed():
    """A page is remembered from the registered verdict, in the cycle its answer is
    given: asked again in the very next cycle it is answered at once; a pmp CSR
    write (flush) in the cycle of the answer, of the compare or of the copy into the
    comparators' registers wins: the page is compared again (here with registers
    that deny it)."""
    from hw.core.pmp import PMPUnit
    allow = pad([(cfg_byte(NAPOT, R | W | X), (1 << 54) - 1)])
    deny = pad([(cfg_byte(NAPOT, 0), napot(RAM + 0x3000, 0x1000)),
                (cfg_byte(NAPOT, R | W | X), (1 << 54) - 1)])
    dut = PMPUnit(entries=N, ports=1)
    p = dut.port(0)
    log = []

    async def bench(ctx):
        async def ask(page, flush_at=None, regs=None, ticks_after=0):
            """Ask about a page, hold the request until the answer; with ``flush_at``
            = c, write ``regs`` in the c-th cycle of the request (0: the first).
            Returns (cycles waited, allowed); the request is dropped after the
            answer's cycle and ``ticks_after`` further cycles."""
            _request(ctx, p, page, page + 0xFFF, Priv.S, Access.LOAD)
            waited, allowed = await _hold_until_answered(ctx, dut, p, flush_at, regs)
            for _ in range(ticks_after):
                await ctx.tick()
            ctx.set(p.valid, 0)
            return waited, bool(allowed)

        async def settle(regs):
            await _write_regs(ctx, dut, *regs)
            for _ in range(BUSY):
                await ctx.tick()

        await settle(allow)
        log.append(await ask(RAM + 0x3000))                # compared
        log.append(await ask(RAM + 0x3000))                # the next cycle: remembered
        await settle(allow)
        # the flush in the cycle of the answer (the fourth): not remembered
        log.append(await ask(RAM + 0x3000, flush_at=CMP, regs=deny))
        log.append(await ask(RAM + 0x3000))                # the new regions: denied
        await settle(allow)
        # in the cycle of the compare (the third): not remembered either
        log.append(await ask(RAM + 0x3000, flush_at=CMP - 1, regs=deny))
        log.append(await ask(RAM + 0x3000))
        await settle(allow)
        # in the cycle of the copy (the second): neither
        log.append(await ask(RAM + 0x3000, flush_at=CMP - 2, regs=deny))
        log.append(await ask(RAM + 0x3000))
        await settle(allow)
        log.append(await ask(RAM + 0x3000))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    # (a flush in the cycle of the copy, the compare or the answer does not change
    # that answer, made with the registers of the cycle of the compare; the next
    # request, made in the cycle after the answer, is taken when the regions are
    # computed: BUSY cycles after the flush, and answered CMP cycles later)
    assert log == [(CMP, True), (0, True), (CMP, True), (BUSY + CMP, False), (CMP, True),
                   (BUSY + CMP - 1, False), (CMP, True), (BUSY + CMP - 2, False), (CMP, True)]


def test_unit_takes_a_waiting_port_in_the_cycle_another_is_answered_at_once():
    """The choice of the request compared comes from the ports' ``valid`` and
    remembered pages in the cycle they ask: a port answered at once from a page it
    remembers does not delay a lower-priority port asking in the same cycle, which
    is answered two cycles later, as if alone; two waiting ports go in turn (the
    next request is taken in the cycle after an answer)."""
    from hw.core.pmp import PMPUnit
    cfgs, addrs = pad([(cfg_byte(NAPOT, R), napot(RAM + 0x1000, 0x1000)),
                       (cfg_byte(NAPOT, R | W | X), (1 << 54) - 1)])
    dut = PMPUnit(entries=N, ports=3)
    got = []

    async def bench(ctx):
        await _write_regs(ctx, dut, cfgs, addrs)
        for _ in range(BUSY):
            await ctx.tick()

        async def together(reqs):
            """Ask all of ``reqs`` ({port: (page, access)}) in one cycle; returns
            {port: (cycles waited, allowed)}."""
            out = {}
            for i, (page, access) in reqs.items():
                p = dut.port(i)
                _request(ctx, p, page, page + 0xFFF, Priv.U, access)
            for cycle in range(12):
                for i in reqs:
                    p = dut.port(i)
                    if i not in out and ctx.get(p.ready):
                        out[i] = (cycle, bool(ctx.get(p.allowed)))
                await ctx.tick()
                for i in out:
                    ctx.set(dut.port(i).valid, 0)
            return out

        got.append(await together({0: (RAM, Access.STORE)}))
        got.append(await together({0: (RAM, Access.STORE),
                                   2: (RAM + 0x1000, Access.STORE)}))
        got.append(await together({0: (RAM, Access.LOAD), 1: (RAM + 0x2000, Access.FETCH),
                                   2: (RAM + 0x1000, Access.LOAD)}))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    # page RAM + 0x1000 is decided by entry 0, the others by entry 1 (a cycle later)
    assert got == [{0: (CMP + 1, True)},
                   {0: (0, True), 2: (CMP, False)},
                   {0: (0, True), 1: (CMP + 1, True), 2: (CMP + 1 + 1 + CMP, True)}]


def test_unit_compares_one_entry_per_cycle_until_one_matches():
    """A compared request is answered CMP + e cycles after it is taken, e being the
    lowest entry that matches a byte of it, whatever the entries above it; with no
    entry matching, after all 16 are compared, with the no-match rule's verdict (M
    mode allowed, S and U denied)."""
    from hw.core.pmp import PMPUnit
    page = RAM + 0x40_0000
    for e in list(range(N)) + [None]:
        # entries below e: NA4 words elsewhere; entry e: the page, read-only; the
        # entries above it: everything open
        entries = [(cfg_byte(NA4, R | W | X), (RAM + 0x1000 * i) >> 2) for i in range(N)]
        if e is not None:
            entries[e] = (cfg_byte(NAPOT, R), napot(page, 0x1000))
            for i in range(e + 1, N):
                entries[i] = (cfg_byte(TOR, R | W | X), (1 << 54) - 1)
        cfgs, addrs = pad(entries)
        dut = PMPUnit(entries=N, ports=1, memo=0)
        log = []

        async def script(ctx, ask):
            await _write_regs(ctx, dut, cfgs, addrs)
            for _ in range(BUSY):
                await ctx.tick()
            for priv, access in ((Priv.S, Access.LOAD), (Priv.S, Access.STORE),
                                 (Priv.M, Access.STORE)):
                log.append(await ask(ctx, 0, page, page + 0xFFF, priv, access))

        _drive_unit(dut, script)
        wait = CMP + (N - 1 if e is None else e)
        assert wait == cmp_cycles(cfgs, addrs, page, page + 0xFFF)
        # read-only for S; M mode is allowed by an unlocked entry and by no entry
        assert log == [(wait, e is not None), (wait, False), (wait, True)], e



def test_unit_registers_written_during_a_long_compare_make_exact_regions():
    """A port's request compared entry by entry when the registers change holds their
    rewrite back until its verdict (made with the old registers); the new regions
    are then exact, a TOR entry's bottom (the entry below's pmpaddr) included."""
    from hw.core.pmp import PMPUnit
    old = pad([(cfg_byte(NA4, R), (0x1000 + 0x10 * i) >> 2) for i in range(N - 1)] +
              [(cfg_byte(TOR, R | W | X), (1 << 54) - 1)])      # entry 15 decides
    new = pad([(cfg_byte(TOR, R), (RAM + 0x2000) >> 2),         # [0, RAM + 0x2000)
               (cfg_byte(TOR, R | W), (RAM + 0x4000) >> 2)])    # [RAM + 0x2000, + 0x4000)
    page = RAM + 0x3000
    for flush_after in (0, 1, 5, 12):       # 0: in the cycle the request is taken
        dut = PMPUnit(entries=N, ports=1, memo=0)
        p = dut.port(0)
        log = []

        async def bench(ctx):
            await _write_regs(ctx, dut, *old)
            for _ in range(BUSY):
                await ctx.tick()
            _request(ctx, p, page, page + 0xFFF, Priv.S, Access.STORE)
            # the new registers written mid-compare
            waited, allowed = await _hold_until_answered(ctx, dut, p, flush_after, new)
            ctx.set(p.valid, 0)
            log.append((waited, bool(allowed)))
            for _ in range(40):
                await ctx.tick()
            for access in (Access.STORE, Access.FETCH):
                ctx.set(p.valid, 1)
                ctx.set(p.access, access)
                waited = 0
                while not ctx.get(p.ready):
                    await ctx.tick()
                    waited += 1
                    assert waited < 100
                log.append((waited, bool(ctx.get(p.allowed))))
                await ctx.tick()
                ctx.set(p.valid, 0)
                await ctx.tick()

        sim = Simulator(dut)
        sim.add_clock(1e-6)
        sim.add_testbench(bench)
        sim.run()
        # the first answer is the old registers' (entry 15: RWX), after all 16 entries;
        # then the new ones': entry 1's TOR range from entry 0's address, R and W
        assert cmp_cycles(*old, page, page + 0xFFF) == CMP + N - 1
        assert cmp_cycles(*new, page, page + 0xFFF) == CMP + 1
        assert check_access(*new, page, 4096, Priv.S, Access.STORE)
        assert not check_access(*new, page, 4096, Priv.S, Access.FETCH)
        assert log == [(CMP + N - 1, True), (CMP + 1, True), (CMP + 1, False)], flush_after

@st.composite
def unit_scenario(draw):
    """Register settings around a page of a block (or the whole space open), each
    followed by requests from two ports: pages and words, in and out of the block."""
    settings_ = []
    for _ in range(draw(st.integers(1, 3))):
        entries = []
        if draw(st.booleans()):
            entries.append((cfg_byte(draw(st.sampled_from([NAPOT, TOR])),
                                     draw(st.sampled_from([0, 1, 3, 4, 5, 7]))),
                            (1 << 54) - 1))
        for _ in range(draw(st.integers(0, 3))):
            mode = draw(st.sampled_from([OFF, TOR, NA4, NAPOT]))
            perms = draw(st.sampled_from([0, 1, 3, 4, 5, 7]))
            near = RAM + 0x4000 + draw(st.integers(-600, 600)) * 8
            if mode == NAPOT:
                size = 1 << draw(st.integers(3, 14))
                a = napot(near & ~(size - 1), size)
            else:
                a = near >> 2
            entries.insert(0, (cfg_byte(mode, perms, draw(st.booleans())), a))
        requests = []
        for _ in range(draw(st.integers(1, 8))):
            page = RAM + draw(st.sampled_from([0x3000, 0x4000, 0x5000, 0x10_0000])) \
                if draw(st.integers(0, 4)) else 0x1000_0000
            if draw(st.booleans()):
                first, last = page, page + 0xFFF
            else:
                first = page + draw(st.integers(0, 511)) * 8
                last = first + 7
            requests.append((draw(st.integers(0, 1)), first, last, draw(PRIVS),
                             draw(ACCESSES), draw(st.integers(0, 25))))
        settings_.append((pad(entries), requests))
    return settings_


@settings(max_examples=40, deadline=None)
@given(unit_scenario())
def test_unit_with_blocks_and_pages_against_reference(scenario_):
    """Whatever the unit remembers (pages, blocks) and whenever it is asked after a
    change of the registers, each answer is the rule's for the current registers."""
    from hw.core.pmp import PMPUnit
    dut = PMPUnit(entries=N, ports=2, memo=2, blocks=[(RAM, 27)])
    got, want = [], []

    async def script(ctx, ask):
        for (cfgs, addrs), requests in scenario_:
            await _write_regs(ctx, dut, cfgs, addrs)
            for port, first, last, priv, access, idle in requests:
                _, allowed = await ask(ctx, port, first, last, priv, access)
                got.append(allowed)
                want.append(check_access(cfgs, addrs, first, last - first + 1, priv, access))
                for _ in range(idle):
                    await ctx.tick()

    _drive_unit(dut, script)
    assert got == want


def test_gate_passes_allowed_transfers_at_once_and_stops_denied_ones():
    """PMPGate with a PMPUnit, as the walker's bus has them: with the RAM allowed as
    a whole, a transfer reaches the bus in the cycle it is made; a transfer to a page
    that an entry closes is answered with an error and never reaches the bus; one
    in a page allowed only in part is checked as its 8 bytes (allowed ones pass)."""
    from amaranth import Module
    from hw.core.pmp import PMPGate, PMPUnit
    from amaranth.lib import wiring

    m = Module()
    m.submodules.unit = unit = PMPUnit(entries=N, ports=1, memo=0, blocks=[(RAM, 27)])
    m.submodules.gate = gate = PMPGate()
    wiring.connect(m, gate.check, unit.req0)
    open_ = pad([(cfg_byte(TOR, R | W | X), (1 << 54) - 1)])
    # entry 0: the first 8 bytes of page RAM + 0x3000 read-only; entry 1: page
    # RAM + 0x4000 closed; entry 2 opens everything
    holes = pad([(cfg_byte(NAPOT, R), napot(RAM + 0x3000, 8)),
                 (cfg_byte(NAPOT, 0), napot(RAM + 0x4000, 0x1000)),
                 (cfg_byte(TOR, R | W | X), (1 << 54) - 1)])
    log = []

    async def transfer(ctx, addr, write):
        """Make one transfer (the bus answers in the cycle after it sees it);
        returns (cycles until it reached the bus or None, error)."""
        ctx.set(gate.up.valid, 1)
        ctx.set(gate.up.addr, addr)
        ctx.set(gate.up.write, write)
        on_bus = None
        for cycle in range(40):
            if ctx.get(gate.down.valid):
                assert ctx.get(gate.down.addr) == addr
                if on_bus is None:
                    on_bus = cycle
                else:
                    ctx.set(gate.down.ready, 1)
            if ctx.get(gate.up.ready):
                error = bool(ctx.get(gate.up.error))
                await ctx.tick()
                ctx.set(gate.up.valid, 0)
                ctx.set(gate.down.ready, 0)
                log.append((on_bus, error))
                return
            await ctx.tick()
        raise AssertionError("the transfer did not end")

    async def bench(ctx):
        await _write_regs(ctx, unit, *open_)
        for _ in range(40):
            await ctx.tick()
        await transfer(ctx, RAM + 0x4008, 0)          # the block: at once
        await transfer(ctx, RAM + 0x4010, 1)
        await _write_regs(ctx, unit, *holes)
        for _ in range(40):
            await ctx.tick()
        await transfer(ctx, RAM + 0x4008, 0)          # closed: page, word, error
        await transfer(ctx, RAM + 0x3000, 0)          # page in part: word allowed
        await transfer(ctx, RAM + 0x3000, 1)          # ... not for a store
        await transfer(ctx, RAM + 0x5000, 0)          # another page: compared

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    # (page RAM + 0x5000 is decided by entry 2: two cycles after entry 0 would)
    assert cmp_cycles(*holes, RAM + 0x5000, RAM + 0x5FFF) == CMP + 2
    assert log == [(0, False), (0, False), (None, True), (2 * CMP + 1, False), (None, True),
                   (CMP + 2, False)]


def test_unit_on_follows_busy_and_the_regions_exactly():
    """``on`` (a flip-flop loaded with its next value) is 1 from the cycle after a
    flush for the BUSY cycles the regions take, then 1 exactly when some entry can
    match: checked in every cycle, also for the last entry (written in the last
    busy cycle), an empty TOR range, and a flush in the middle of the computing."""
    from hw.core.pmp import PMPUnit
    dut = PMPUnit(entries=N, ports=1)
    off = pad([])
    empty_tor = pad([(0, 0x100)] * 5 + [(cfg_byte(TOR, R), 0x80)])   # 0x100 >= 0x80
    last_na4 = ([0] * (N - 1) + [cfg_byte(NA4, R)], [0] * (N - 1) + [0x1234])
    first_on = pad([(cfg_byte(NAPOT, X), napot(0x8000_0000, 0x1000))])
    seen = []

    async def bench(ctx):
        assert ctx.get(dut.on) == 0                        # after reset: nothing on
        for cfgs, addrs, cycles in [(*last_na4, BUSY + 3), (*off, BUSY + 3),
                                    (*first_on, 5), (*empty_tor, BUSY + 3),
                                    (*first_on, BUSY + 2), (*off, BUSY + 2)]:
            await _write_regs(ctx, dut, cfgs, addrs)
            seen.append([ctx.get(dut.on)])
            for _ in range(cycles - 1):
                await ctx.tick()
                seen[-1].append(ctx.get(dut.on))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    busy = [1] * BUSY
    assert seen == [busy + [1] * 3, busy + [0] * 3, [1] * 5,    # (flushed again)
                    busy + [0] * 3, busy + [1] * 2, busy + [0] * 2]
