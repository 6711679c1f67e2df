"""The write buffer's registered answers (hw/core/memport.py, ``match_ahead``
and ``fetch_ahead``).

With ``match_ahead`` the buffer compares the store's line with its entries a
cycle ahead (from ``st_next_if_adv``/``st_next_if_stay``, picked by ``st_adv``)
and keeps the answers in flip-flops, beside registered copies of "the head
drains" and "an entry is free".  It must behave exactly as the port that
compares in the cycle of the store (the default, tested against a memory model
in test_memport.py): here both run side by side on the same inputs, cycle by
cycle, and every output must agree (the store's ``st_ready``, the bus request,
each requester's ``ready``, ``empty``, the written doublewords).  With
``fetch_ahead`` the port also compares the fetch requester's next address
(``fetch_next_addr``) with the buffer's lines a cycle ahead.

Random stimulus (a few seeds) and the corners where a registered bit is most
easily wrong: a store to the line of the head entry in the cycle that entry
leaves, and stores to one line back to back while the buffer is full (the entry
allocated in the previous cycle answers with ``self_match``).
"""

import random

import pytest
from amaranth import Module
from amaranth.sim import Simulator

from hw.core.memport import MemoryPort

BASE = 0x8000_0000
RAM_BITS = 16
DEV = 0x1000_0000
LINE = 32

OUTPUTS = ("st_ready", "empty", "wr_valid", "wr_addr")
BUS_OUT = ("valid", "addr", "write", "sel", "burst_len", "wdata", "lock")


def lockstep(cycles, *, entries=2, idle=8, fetch_ahead=True, adv_pages=0):
    """Run both ports on ``cycles`` (a list of dicts, one per cycle: ``store`` =
    (addr, data, sel) or None, ``ready`` of the bus, ``data``/``walker``/``fetch`` =
    (addr, write, burst_len, lock) or None, ``adv``: which of the two next
    addresses carries the next store's; with ``adv_pages`` the page of the
    address if advancing is one of that many pages, chosen by a random select
    bit, the others pages near RAM's base, often a buffered line's); assert
    that every output agrees; return
    the list of ``st_ready`` per cycle (1 where a store was offered and taken).
    A cycle without inputs comes first (its announcement is the first store's)."""
    cycles = [{"ready": 0}] + list(cycles)
    plain = MemoryPort(ram_base=BASE, ram_bits=RAM_BITS, entries=entries, line=LINE,
                       idle=idle)
    ahead = MemoryPort(ram_base=BASE, ram_bits=RAM_BITS, entries=entries, line=LINE,
                       idle=idle, match_ahead=True, fetch_ahead=fetch_ahead,
                       adv_pages=adv_pages, checks=True)
    top = Module()
    top.submodules.plain = plain
    top.submodules.ahead = ahead
    rng = random.Random(len(cycles))
    taken = []

    async def bench(ctx):
        def both(name, value, sub=None):
            for dut in (plain, ahead):
                ctx.set(getattr(getattr(dut, sub), name) if sub else getattr(dut, name), value)

        for t, cyc in enumerate(cycles):
            store = cyc.get("store")
            both("st_valid", store is not None)
            if store is not None:
                addr, data, sel = store
                both("st_addr", addr)
                both("st_data", data)
                both("st_sel", sel)
            # the next cycle's store address, a cycle ahead (a store not taken
            # is offered again: the user keeps its address)
            nxt = cycles[t + 1].get("store") if t + 1 < len(cycles) else None
            next_addr = nxt[0] if nxt is not None else rng.randrange(1 << 56)
            other = rng.randrange(1 << 56)
            adv = cyc.get("adv", 0)
            ctx.set(ahead.st_adv, adv)
            ctx.set(ahead.st_next_if_adv, next_addr if adv else other)
            if adv_pages:
                chosen = rng.randrange(adv_pages)
                for k in range(adv_pages):
                    page = ((next_addr if adv else other) >> 12 if k == chosen
                            else (BASE >> 12) + rng.randrange(1 << (RAM_BITS - 12)))
                    ctx.set(ahead.st_adv_pages[k], page)
                ctx.set(ahead.st_adv_page_sel, 1 << chosen)
            ctx.set(ahead.st_next_if_stay, other if adv else next_addr)
            # the fetch's request of the next cycle, a cycle ahead (any address
            # when it will not ask)
            nxt_f = cycles[t + 1].get("fetch") if t + 1 < len(cycles) else None
            ctx.set(ahead.fetch_next_addr, nxt_f[0] if nxt_f is not None
                    else rng.randrange(1 << 56))
            for name in ("walker", "data", "fetch"):
                req = cyc.get(name)
                both("valid", req is not None, name)
                if req is not None:
                    addr, write, burst, lock = req
                    both("addr", addr, name)
                    both("write", write, name)
                    both("sel", 0xFF, name)
                    both("burst_len", burst, name)
                    both("lock", lock, name)
                    both("wdata", addr * 3, name)
                else:
                    both("lock", 0, name)
            both("ready", cyc.get("ready", 1), "bus")
            both("error", 0, "bus")
            both("rdata", t * 0x0101_0101, "bus")
            # (st_ready counts only with a store: without one the address
            # announced for this cycle was any)
            for name in OUTPUTS[int(store is None):]:
                assert ctx.get(getattr(plain, name)) == ctx.get(getattr(ahead, name)), \
                    f"cycle {t}: {name}"
            for name in BUS_OUT:
                assert ctx.get(getattr(plain.bus, name)) == ctx.get(getattr(ahead.bus, name)), \
                    f"cycle {t}: bus.{name}"
            for name in ("walker", "data", "fetch"):
                assert ctx.get(getattr(plain, name).ready) == \
                    ctx.get(getattr(ahead, name).ready), f"cycle {t}: {name}.ready"
            taken.append(int(store is not None and ctx.get(ahead.st_ready)))
            await ctx.tick()

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return taken[1:]


def _stimulus(draw_seed, n, *, span=128, pages=1, p_store=0.6, p_req=0.1):
    """Random inputs: stores to a few lines (often the same one; with ``pages``,
    the same lines of that many pages), now and then a
    requester's read or fill (held until its last ready), a bus that answers
    after random waits."""
    rng = random.Random(draw_seed)
    cycles = []
    store = None
    held = {}                      # requester -> [request, beats left]
    for _ in range(n):
        cyc = {"ready": int(rng.random() < 0.6), "adv": rng.randrange(2)}
        for name in ("walker", "fetch", "data"):
            if name not in held and rng.random() < p_req:
                if rng.random() < 0.2:
                    held[name] = [(DEV + 8 * rng.randrange(4), 0, 0, 0), 1]
                else:
                    burst = 3 if rng.random() < 0.5 else 0
                    addr = BASE + rng.randrange(span // 8) * 8
                    if burst:
                        addr -= addr % LINE
                    held[name] = [(addr, 0, burst, 0), burst + 1]
        # a store is never offered while the data requester asks; one not taken
        # is offered again in a later cycle (or replaced: it is the same to the port)
        if store is None and rng.random() < p_store:
            size = rng.choice([1, 2, 4, 8])
            addr = BASE + 4096 * rng.randrange(pages) + rng.randrange(span) // size * size
            store = (addr, rng.randrange(1 << 64), ((1 << size) - 1) << (addr % 8))
        if "data" not in held and store is not None:
            cyc["store"] = store
            if rng.random() < 0.7:
                store = None       # (whether taken or not: the next one is new)
        for name, h in held.items():
            cyc[name] = h[0]
        cycles.append(cyc)
        # requests end after their beats (approximately: the port decides; a
        # request that outlives its transfer is a new one, which is fine here)
        if cyc["ready"]:
            for name in list(held):
                held[name][1] -= 1
                if held[name][1] <= 0 and rng.random() < 0.8:
                    del held[name]
    return cycles


@pytest.mark.parametrize("entries", [1, 2, 4])
@pytest.mark.parametrize("idle", [2, 8])
@pytest.mark.parametrize("seed", range(4))
def test_random_inputs_same_outputs(seed, entries, idle):
    lockstep(_stimulus(seed * 7 + entries, 400), entries=entries, idle=idle)


@pytest.mark.parametrize("seed", range(4))
def test_the_page_given_as_a_choice_same_outputs(seed):
    # (the pipeline's way: the micro-TLB's pages and the base register's,
    # compared with the lines before the choice)
    lockstep(_stimulus(seed * 5 + 1, 400, pages=4), entries=2, idle=8, adv_pages=5)


def test_the_page_choice_needs_match_ahead():
    with pytest.raises(ValueError, match="adv_pages needs match_ahead"):
        MemoryPort(ram_base=BASE, ram_bits=RAM_BITS, adv_pages=3)


def test_a_store_to_the_line_leaving_in_that_cycle():
    # One entry holding line L drains (one single transfer: one byte written):
    # the bus answers in cycle `leave`, when a store to L is offered.  The head
    # drains, so the store does not merge, and the buffer is full: not taken.
    # In the next cycle the entry is free: taken (a new entry for L).
    L = BASE + 0x40
    cycles = [{"store": (L, 0x11, 0x01), "ready": 0}]          # taken: entry for L
    cycles += [{"ready": 0} for _ in range(4)]                  # idle 2: the head drains
    leave = len(cycles)
    cycles += [{"store": (L + 1, 0x2200, 0x02), "ready": 1},   # the drain's last ready
               {"store": (L + 1, 0x2200, 0x02), "ready": 0},
               {"ready": 0}]
    taken = lockstep(cycles, entries=1, idle=2)
    assert taken[0] == 1
    assert taken[leave] == 0            # full, and its line's entry drains
    assert taken[leave + 1] == 1        # the entry left at the end of that cycle


def test_stores_to_one_line_back_to_back_with_the_buffer_full():
    # Two entries: lines A and B; the bus never answers, so the buffer stays
    # full (A, the head, drains).  Stores to B back to back merge: the first in
    # the cycle after B's entry was allocated (its answer is "the store's line is
    # the last store's"), the next ones from the compare made a cycle ahead.  A
    # store to A (draining) and one to a third line wait.
    A, B, C = BASE, BASE + 0x20, BASE + 0x60
    cycles = [{"store": (A, 1, 0x01), "ready": 0, "adv": 1},
              {"store": (B, 2, 0x01), "ready": 0, "adv": 1},
              {"store": (B + 8, 3, 0x01), "ready": 0, "adv": 0},
              {"store": (B + 16, 4, 0x01), "ready": 0, "adv": 1},
              {"store": (B + 24, 5, 0x01), "ready": 0, "adv": 0},
              {"store": (A + 8, 6, 0x01), "ready": 0, "adv": 1},
              {"store": (C, 7, 0x01), "ready": 0, "adv": 0},
              {"ready": 0}]
    taken = lockstep(cycles, entries=2, idle=8)
    assert taken == [1, 1, 1, 1, 1, 0, 0, 0]


def test_a_store_to_the_head_line_as_its_drain_starts():
    # Two entries; line A's entry drains after `idle` cycles without a store,
    # into a bus that does not answer.  A store to A's line in each cycle around
    # the drain's start: merged while A's entry waits, a new entry once it drains
    # (the copy of "the head drains" must be set in the drain's first cycle);
    # a store to another line right after it is then taken only if an entry was
    # free (the buffer was not made full by the store to A).
    A, C = BASE + 0x80, BASE + 0xC0
    outcomes = []
    for k in range(1, 8):
        cycles = [{"store": (A, 1, 0x01), "ready": 0}]
        cycles += [{"ready": 0} for _ in range(k - 1)]
        cycles += [{"store": (A + 2, 2, 0x04), "ready": 0, "adv": k % 2},
                   {"store": (C, 3, 0x01), "ready": 0},
                   {"ready": 0}]
        taken = lockstep(cycles, entries=2, idle=2)
        outcomes.append((taken[k], taken[k + 1]))
    # The store to A merges (then C takes the free entry) until the drain starts
    # at the end of cycle 4 (idle counted in cycles 2 and 3, the request is
    # registered in cycle 4); from cycle 5 on, the first of the drain, A's store
    # takes a new entry, which fills the buffer: C waits.  (Both ports share the
    # copy of "the head drains": the exact figures check it.)
    assert outcomes == [(1, 1)] * 3 + [(1, 0)] * 4
