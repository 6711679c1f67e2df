"""hw/core/fetch.py: the fetch unit alone, on cases the core's programs reach
only in rare cycles."""

from amaranth.sim import Simulator

from hw.core.fetch import FetchUnit
from hw.core.isa import Priv

RAM_BASE = 0x8000_0000
DEVICE_PC = 0x1000_0000          # outside RAM: fetched uncached, one word at a time


def _unit(reset_pc, **kwargs):
    """A small fetch unit whose RAM is the megabyte at RAM_BASE."""
    return FetchUnit(reset_pc=reset_pc,
                     in_ram=lambda paddr: (paddr >> 20) == RAM_BASE >> 20,
                     btb_entries=16, ras_entries=2, utlb_entries=2, **kwargs)


def _run_alone_in_m_mode(ctx, dut):
    """No translation, nothing to check, an empty pipeline taking every word."""
    ctx.set(dut.priv, Priv.M)
    ctx.set(dut.pmp_free, 1)
    ctx.set(dut.booted, 1)
    ctx.set(dut.pipe_empty, 1)
    ctx.set(dut.pop, 1)


def _simulate(dut, bench):
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


def test_no_uncached_fetch_in_a_redirects_cycle():
    # The pipeline's redirects reach the fetch unit a cycle after they were
    # decided (pipeline.py, fr_valid): after M's flush the pipeline is already
    # empty in that cycle, so the unit, waiting in UNCACHED on the old path
    # until nothing older is in the pipeline, must not send its request then
    # (it could read a device register with side effects on the wrong path).
    dut = _unit(DEVICE_PC)
    seen = []

    async def bench(ctx):
        ctx.set(dut.priv, Priv.M)                 # no translation
        ctx.set(dut.pmp_free, 1)                  # nothing to check
        ctx.set(dut.booted, 1)
        ctx.set(dut.pipe_empty, 1)                # the flush emptied the pipeline
        for cycle in range(8):
            # the redirect comes as the unit waits in UNCACHED (it gets there in
            # two cycles: the word read after reset is not pc's, then pc is not
            # cacheable)
            redirect = cycle == 2
            ctx.set(dut.redirect, redirect)
            ctx.set(dut.redirect_pc, RAM_BASE)
            seen.append((redirect, ctx.get(dut.bus.valid),
                         ctx.get(dut.bus.addr) if ctx.get(dut.bus.valid) else None))
            await ctx.tick()

    _simulate(dut, bench)
    # no request in the redirect's cycle, and none for the old path after it (the
    # unit goes to RAM's line, through its cache: a burst there, not a word here)
    assert [(r, v) for r, v, _ in seen[:3]] == [(False, 0), (False, 0), (True, 0)]
    assert all(addr is None or addr >= RAM_BASE for _, _, addr in seen)


def test_the_translation_address_is_presented_a_cycle_before_the_request():
    # The instruction TLB answers from compares registered a cycle before
    # (hw/mmu/mmu.py, ``fresh``): a request whose address was already on the
    # port in the previous cycle is answered a cycle sooner.  The unit loads
    # the port's address in every cycle of RUN with the pc of the next cycle
    # (fetch.py, ``xl_vaddr``), so when it asks, after running off the end of
    # a page on hits, the address it asks for was there a cycle before.
    NOP = 0x0000_0013
    dut = _unit(0x1ff8)
    requests = []               # (cycle, vaddr now, vaddr a cycle before)

    async def bench(ctx):
        ctx.set(dut.priv, Priv.S)
        ctx.set(dut.satp, 8 << 60)                # Sv39: every fetch is translated
        ctx.set(dut.booted, 1)
        ctx.set(dut.pipe_empty, 1)
        ctx.set(dut.pop, 1)                       # D takes every instruction
        before = None
        for cycle in range(60):
            valid, vaddr = ctx.get(dut.mmu.valid), ctx.get(dut.mmu.vaddr)
            if valid and (not requests or requests[-1][0] != cycle - 1):
                requests.append((cycle, vaddr, before))
            # the MMU: virtual page v -> physical page 0x80000 + v, at once
            ctx.set(dut.mmu.ready, valid)
            ctx.set(dut.mmu.paddr, RAM_BASE + vaddr)
            # the PMP allows every page at once
            pmp = ctx.get(dut.pmp.valid)
            ctx.set(dut.pmp.ready, pmp)
            ctx.set(dut.pmp.allowed, pmp)
            # RAM answers every beat of a burst at once (after its first cycle)
            ctx.set(dut.bus.ready, ctx.get(dut.bus.valid) and cycle % 2 == 1)
            ctx.set(dut.bus.rdata, NOP | (NOP << 32))
            before = vaddr
            await ctx.tick()

    _simulate(dut, bench)
    # two translations: the first page after reset, and the next page, reached
    # on hits (0x1ff8, 0x1ffc, then 0x2000)
    assert [vaddr for _, vaddr, _ in requests] == [0x1ff8, 0x2000]
    assert requests[1][2] == 0x2000


def _translated_fetch(redirect_on_answer=False, flush=False, after=0, pmp_wait=0, cycles=40):
    """The unit in S mode under Sv39 at 0x1000, with an MMU that answers each
    request in its third cycle (virtual page v -> physical 0x80000 + v), a PMP
    that allows every page at once and RAM that answers every other cycle.
    ``redirect_on_answer``: the pipeline redirects to 0x1004 (same page) in the
    cycle of the MMU's first answer (or ``after`` cycles after it), with a
    flush if ``flush``; the PMP answers after ``pmp_wait`` cycles.  Returns the
    requests to the MMU (their first cycles and addresses) and the cycles in
    which the PMP was asked while the MMU answered."""
    NOP = 0x0000_0013
    dut = _unit(0x1000)
    requests, overlaps = [], []

    async def bench(ctx):
        ctx.set(dut.priv, Priv.S)
        ctx.set(dut.satp, 8 << 60)
        ctx.set(dut.booted, 1)
        ctx.set(dut.pipe_empty, 1)
        ctx.set(dut.pop, 1)
        asking = 0
        answered = None
        pmp_asking = 0
        for cycle in range(cycles):
            valid, vaddr = ctx.get(dut.mmu.valid), ctx.get(dut.mmu.vaddr)
            asking = asking + 1 if valid else 0
            if asking == 1:
                requests.append((cycle, vaddr))
            ready = asking == 3
            ctx.set(dut.mmu.ready, ready)
            ctx.set(dut.mmu.paddr, RAM_BASE + vaddr)
            if ready and answered is None:
                answered = cycle
            redirect = redirect_on_answer and answered == cycle - after
            ctx.set(dut.redirect, redirect)
            ctx.set(dut.redirect_pc, 0x1004)
            ctx.set(dut.flush_xlate, redirect and flush)
            pmp = ctx.get(dut.pmp.valid)
            if pmp and ready:
                overlaps.append(cycle)
            pmp_asking = pmp_asking + 1 if pmp else 0
            ctx.set(dut.pmp.ready, pmp and pmp_asking > pmp_wait)
            ctx.set(dut.pmp.allowed, pmp)
            ctx.set(dut.bus.ready, ctx.get(dut.bus.valid) and cycle % 2 == 1)
            ctx.set(dut.bus.rdata, NOP | (NOP << 32))
            await ctx.tick()

    _simulate(dut, bench)
    return requests, overlaps


def test_the_pmp_is_asked_after_the_translation_from_a_register():
    # The PMP is asked in the cycle after the MMU's answer (PMP_PAGE, from
    # ``xl_paddr``), never in the cycle of the answer: the MMU's port state and
    # physical address stay off the path to ``fp_valid`` (fetch.py, XLATE).
    requests, overlaps = _translated_fetch()
    assert requests == [(2, 0x1000)] and overlaps == []


def test_a_translation_in_a_redirects_cycle_is_kept_unless_flushed():
    # A translation that comes in the cycle of a redirect is remembered (its
    # page is not translated again), unless a flush came with the redirect.
    requests, _ = _translated_fetch(redirect_on_answer=True)
    assert requests == [(2, 0x1000)]
    requests, _ = _translated_fetch(redirect_on_answer=True, flush=True)
    assert requests == [(2, 0x1000), (7, 0x1004)]
    # the same while the PMP's answer is waited for (``flushed``)
    requests, _ = _translated_fetch(redirect_on_answer=True, after=1, pmp_wait=2)
    assert requests == [(2, 0x1000)]
    requests, _ = _translated_fetch(redirect_on_answer=True, after=1, pmp_wait=2, flush=True)
    assert requests == [(2, 0x1000), (10, 0x1004)]


def _sequential_fetch(redirect_at=None, redirect_pc=RAM_BASE + 0x100, cycles=60):
    """The unit in M mode (no translation) from RAM_BASE, with RAM whose word at
    each address is the address's low 32 bits, answering every beat of a burst
    at once, and D taking every instruction.  ``redirect_at``: a redirect to
    ``redirect_pc`` in that cycle.  Returns the pushed (pc, word) in order and
    the cycles in which the unit was in FILL."""
    dut = _unit(RAM_BASE)
    taken, filling = [], []

    async def bench(ctx):
        _run_alone_in_m_mode(ctx, dut)
        beat = 0
        for cycle in range(cycles):
            if ctx.get(dut.valid):
                taken.append((ctx.get(dut.head.pc), ctx.get(dut.head.insn)))
            redirect = cycle == redirect_at
            ctx.set(dut.redirect, redirect)
            ctx.set(dut.redirect_pc, redirect_pc)
            valid = ctx.get(dut.bus.valid)
            if valid:
                filling.append(cycle)
                addr = ctx.get(dut.bus.addr) + 8 * beat
                ctx.set(dut.bus.rdata, (addr & 0xFFFF_FFFF) | (((addr + 4) & 0xFFFF_FFFF) << 32))
                last = beat == ctx.get(dut.bus.burst_len)
                beat = 0 if last else beat + 1
            ctx.set(dut.bus.ready, valid)
            await ctx.tick()

    _simulate(dut, bench)
    return taken, filling


def test_words_in_order_across_misses():
    # Every word of three lines, each a miss at its first word, is pushed in
    # order with its own address's word (a miss must not lose nor repeat a
    # word around its fill).
    taken, filling = _sequential_fetch()
    assert len(taken) >= 24
    assert taken[:24] == [(RAM_BASE + 4 * i, (RAM_BASE + 4 * i) & 0xFFFF_FFFF)
                          for i in range(24)]
    # the fills' beats: three lines (at least) of four 8-byte beats
    assert len(filling) >= 12


def test_a_redirect_during_a_fill_is_kept():
    # A redirect in a cycle of FILL is remembered (``discard``): when the fill
    # ends, fetching goes on at the redirect's pc, not at the missed word.
    for at in range(12, 19):
        taken, _ = _sequential_fetch(redirect_at=at, cycles=80)
        # before the redirect: the first line and the start of the second, in order
        pcs = [pc for pc, _ in taken]
        k = pcs.index(RAM_BASE + 0x100)
        assert pcs[:k] == [RAM_BASE + 4 * i for i in range(k)]
        assert taken[k:k + 8] == [(RAM_BASE + 0x100 + 4 * i, (RAM_BASE + 0x100 + 4 * i) & 0xFFFF_FFFF)
                                  for i in range(8)]


def test_an_uncached_word_is_asked_for_alone():
    # UNCACHED's request (one word, its lanes) is chosen by ``in_unc``, a
    # flip-flop loaded in RUN, not by the state: it must be the word's, not the
    # cache's line fill, and the checks' Assert says ``in_unc`` matches the state.
    dut = _unit(DEVICE_PC + 4, checks=True)
    requests, taken = [], []

    async def bench(ctx):
        _run_alone_in_m_mode(ctx, dut)
        for cycle in range(12):
            if ctx.get(dut.valid):
                taken.append((ctx.get(dut.head.pc), ctx.get(dut.head.insn)))
            valid = ctx.get(dut.bus.valid)
            if valid:
                requests.append((ctx.get(dut.bus.addr), ctx.get(dut.bus.sel),
                                 ctx.get(dut.bus.burst_len)))
            ctx.set(dut.bus.ready, valid)
            ctx.set(dut.bus.rdata, 0x1111_1111 | (0x2222_2222 << 32))
            await ctx.tick()

    _simulate(dut, bench)
    assert requests[0] == (DEVICE_PC, 0xF0, 0)
    assert taken[0] == (DEVICE_PC + 4, 0x2222_2222)
