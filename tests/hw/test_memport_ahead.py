"""The memory port's registered conflict check of the fetch (hw/core/memport.py,
``fetch_ahead``), and the write buffer's corners.

With ``fetch_ahead`` the port compares the fetch requester's next address
(``fetch_next_addr``) with the buffer's lines a cycle ahead and keeps the
answers in flip-flops.  It must behave exactly as the port that compares in the
cycle of the request (the default, tested against a memory model in
test_memport.py): here both run side by side on the same inputs, cycle by
cycle, and every output must agree (the store's ``st_ready``, the bus request,
each requester's ``ready``, ``empty``, the written doublewords).

Random stimulus (a few seeds), and the write buffer's corners where a
registered bit (``st_ready`` itself, "the head drains") is most easily wrong,
with exact outcomes: a store to the line of the head entry in the cycle that
entry leaves, stores to one line back to back beside a draining head until the
buffer is full, a store to the head's line as its drain starts.
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


def lockstep(cycles, *, entries=2, idle=8):
    """Run both ports on ``cycles`` (a list of dicts, one per cycle: ``store`` =
    (addr, data, sel) or None, ``ready`` of the bus, ``data``/``walker``/``fetch`` =
    (addr, write, burst_len, lock) or None); assert that every output agrees;
    return the list of ``st_ready`` per cycle (1 where a store was offered and
    taken).  A cycle without inputs comes first (its announcement is the first
    fetch request's)."""
    cycles = [{"ready": 0}] + list(cycles)
    plain = MemoryPort(ram_base=BASE, ram_bits=RAM_BITS, entries=entries, line=LINE,
                       idle=idle)
    ahead = MemoryPort(ram_base=BASE, ram_bits=RAM_BITS, entries=entries, line=LINE,
                       idle=idle, fetch_ahead=True, checks=True)
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
            for name in OUTPUTS:
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


def _stimulus(draw_seed, n, *, span=128, p_store=0.6, p_req=0.1):
    """Random inputs: stores to a few lines (often the same one), now and then a
    requester's read or fill (held until its last ready), a bus that answers
    after random waits."""
    rng = random.Random(draw_seed)
    cycles = []
    store = None
    held = {}                      # requester -> [request, beats left]
    for _ in range(n):
        cyc = {"ready": int(rng.random() < 0.6)}
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
            addr = BASE + rng.randrange(span) // size * size
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


def test_stores_to_one_line_back_to_back_beside_a_draining_head():
    # Three entries: lines A and B; the bus never answers, so A (the head)
    # drains and stays.  A store waits a cycle in the store stage and goes into
    # the entries in the next.  Stores to B back to back merge (each one's line
    # is the stage's store's, so ``st_ready`` does not count it as taking an
    # entry).  A store to A (draining) takes the third entry; the buffer is
    # then full, and a store to a third line waits, as does one to B: a full
    # buffer takes no store (``st_ready`` is a flip-flop).
    A, B, C = BASE, BASE + 0x20, BASE + 0x60
    cycles = [{"store": (A, 1, 0x01), "ready": 0},
              {"store": (B, 2, 0x01), "ready": 0},
              {"store": (B + 8, 3, 0x01), "ready": 0},
              {"store": (B + 16, 4, 0x01), "ready": 0},
              {"store": (B + 24, 5, 0x01), "ready": 0},
              {"store": (A + 8, 6, 0x01), "ready": 0},
              {"store": (C, 7, 0x01), "ready": 0},
              {"store": (B, 8, 0x01), "ready": 0},
              {"ready": 0}]
    taken = lockstep(cycles, entries=3, idle=8)
    assert taken == [1, 1, 1, 1, 1, 1, 0, 0, 0]


def test_a_store_into_a_younger_entry_is_not_counted_as_taking_one():
    # Three entries, the bus never answers: A (the head) and B held.  A store to
    # B after a quiet cycle (the stage empty) will merge into B's entry, which is
    # not the head: ``st_ready`` stays open for the next store, to C, which
    # then takes the third entry and fills the buffer.  (Counted as taking an
    # entry, the store to B would have closed it: C would wait.)
    A, B, C = BASE, BASE + 0x20, BASE + 0x60
    cycles = [{"store": (A, 1, 0x01), "ready": 0},
              {"store": (B, 2, 0x01), "ready": 0},
              {"ready": 0},
              {"store": (B + 8, 3, 0x01), "ready": 0},
              {"store": (C, 4, 0x01), "ready": 0},
              {"store": (B + 16, 5, 0x01), "ready": 0},
              {"ready": 0}]
    taken = lockstep(cycles, entries=3, idle=8)
    assert taken == [1, 1, 0, 1, 1, 0, 0]


def test_a_store_to_the_head_line_as_its_drain_starts():
    # Two entries; line A's entry drains after `idle` cycles without a store,
    # into a bus that does not answer.  A store to A's line in each cycle around
    # the drain's start goes into the entries a cycle later (the store stage):
    # merged while A's entry waits, a new entry once it drains (the copy of
    # "the head drains" must be set in the drain's first cycle).  A store to
    # another line two cycles after it is then taken only if an entry was free
    # (the store to A merged instead of filling the buffer).
    A, C = BASE + 0x80, BASE + 0xC0
    outcomes = []
    for k in range(1, 8):
        cycles = [{"store": (A, 1, 0x01), "ready": 0}]
        cycles += [{"ready": 0} for _ in range(k - 1)]
        cycles += [{"store": (A + 2, 2, 0x04), "ready": 0},
                   {"ready": 0},
                   {"store": (C, 3, 0x01), "ready": 0},
                   {"ready": 0}]
        taken = lockstep(cycles, entries=2, idle=2)
        outcomes.append((taken[k], taken[k + 2]))
    # Cycles counted from the harness's first, empty one (the store to A is in
    # cycle 1, the store to A + 2 in cycle k + 1): everything a cycle later than
    # without the stage.  A goes into the entries in cycle 2, the idle count
    # runs in cycles 3 and 4, the drain's request is registered in cycle 5,
    # and from cycle 6 on, the first of the drain, the store to A + 2 (in the
    # entries in cycle k + 2, so for k of 4 and more) takes a new entry, which
    # fills the buffer: C waits.  (Both ports share the copy of "the head
    # drains": the exact figures check it.)
    assert outcomes == [(1, 1)] * 3 + [(1, 0)] * 4
