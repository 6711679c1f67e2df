"""Bus helpers for testbenches (Amaranth simulator, async ``ctx`` API), hw/bus.py protocol.

Masters: ``burst`` performs one transfer of 1, 2, 4, 8 or 16 doublewords;
``transfer``/``read``/``write`` one access of 1, 2, 4 or 8 bytes on its natural byte lanes.

Checking: ``FlatMemory`` is the reference (a flat byte array: what any memory slave must
behave like); ``BusChecker`` watches one port every cycle, reports every breach of the
protocol, and (given a ``FlatMemory``) checks each beat's read data against it, writing
each write beat into it.  Put it on a slave's port to check the slave, on a master's port
to check the master.

Random traffic: ``transfer_mix`` (hypothesis) draws transfers that ``run_mix`` performs
and checks against a FlatMemory of its own.

Slave: ``MemorySlave`` serves a port from a ``FlatMemory`` with random wait states before
and between the beats of a burst, and can refuse bursts or answer some addresses with
``error``.
"""

import random

from hypothesis import strategies as st

from hw.bus import BURST_LENS

__all__ = ["BusError", "burst", "transfer", "read", "write", "FlatMemory", "BusChecker",
           "MemorySlave", "BUS_FIELDS", "transfer_mix", "run_mix", "words", "lane_mask"]

#: The master-driven members held steady through a transfer.
BUS_FIELDS = ("addr", "write", "sel", "burst_len", "lock")
_MASK64 = (1 << 64) - 1


class BusError(Exception):
    pass


def lane_mask(sel):
    """The 64-bit mask of the byte lanes set in ``sel``."""
    return sum(0xFF << (8 * i) for i in range(8) if sel >> i & 1)


async def burst(ctx, bus, addr, beats, *, write=False, data=(), sel=0xFF, timeout=1000):
    """One transfer of ``beats`` doublewords from ``addr`` (aligned to the burst).

    Returns (list of the beats' rdata, error flag, cycles without ready).  For a write,
    ``data`` gives each beat's wdata; it moves to the next beat in the cycle after each
    ready, as the protocol says.  The transfer stops at the first beat with ``error``."""
    if beats not in [n + 1 for n in BURST_LENS]:
        raise ValueError(f"a burst has 1, 2, 4, 8 or 16 beats, not {beats}")
    if addr % (8 * beats):
        raise ValueError(f"a {beats}-beat burst at {addr:#x} is not aligned to its size")
    data = list(data)
    if write and len(data) != beats:
        raise ValueError(f"{beats} beats need {beats} data words, not {len(data)}")
    ctx.set(bus.valid, 1)
    ctx.set(bus.addr, addr)
    ctx.set(bus.write, int(write))
    ctx.set(bus.sel, sel)
    ctx.set(bus.burst_len, beats - 1)
    ctx.set(bus.wdata, data[0] if write else 0)
    out, error, waited, idle = [], False, 0, 0
    while len(out) < beats:
        _, _, ready, rdata, err = await ctx.tick().sample(bus.ready, bus.rdata, bus.error)
        if not ready:
            waited += 1
            idle += 1
            if idle > timeout:
                raise TimeoutError(f"no ready for beat {len(out)} of the transfer at {addr:#x}")
            continue
        idle = 0
        out.append(rdata)
        if err:
            error = True
            break
        if write and len(out) < beats:
            ctx.set(bus.wdata, data[len(out)])
    ctx.set(bus.valid, 0)
    ctx.set(bus.write, 0)
    ctx.set(bus.burst_len, 0)
    return out, error, waited


def _lanes(addr, size):
    if size not in (1, 2, 4, 8):
        raise ValueError(f"bad access size {size}")
    if addr % size:
        raise ValueError(f"misaligned {size}-byte access at {addr:#x}")
    shift = addr & 7
    return addr & ~7, ((1 << size) - 1) << shift, shift


async def transfer(ctx, bus, addr, size, write=False, value=0, timeout=1000):
    """One single-beat transfer of ``size`` bytes; returns (value, error, cycles waited)."""
    dw, sel, shift = _lanes(addr, size)
    mask = (1 << (8 * size)) - 1
    (rdata,), error, waited = await burst(ctx, bus, dw, 1, write=write, sel=sel,
                                          data=[(value & mask) << (8 * shift)], timeout=timeout)
    return (rdata >> (8 * shift)) & mask, error, waited


async def read(ctx, bus, addr, size=4):
    value, error, _ = await transfer(ctx, bus, addr, size)
    if error:
        raise BusError(f"bus error reading {addr:#x}")
    return value


async def write(ctx, bus, addr, value, size=4):
    _, error, _ = await transfer(ctx, bus, addr, size, write=True, value=value)
    if error:
        raise BusError(f"bus error writing {addr:#x}")


class FlatMemory:
    """The reference memory: ``size`` bytes at ``base``, zero at the start."""

    def __init__(self, base, size):
        self.base, self.size = base, size
        self.data = bytearray(size)

    def contains(self, addr):
        return self.base <= addr and addr + 8 <= self.base + self.size

    def _offset(self, addr):
        if not self.contains(addr) or addr % 8:
            raise ValueError(f"doubleword {addr:#x} is outside the reference memory")
        return addr - self.base

    def read(self, addr):
        off = self._offset(addr)
        return int.from_bytes(self.data[off:off + 8], "little")

    def write(self, addr, value, sel=0xFF):
        old = self.read(addr)
        mask = lane_mask(sel)
        new = (old & ~mask) | (value & mask)
        off = self._offset(addr)
        self.data[off:off + 8] = new.to_bytes(8, "little")


class BusChecker:
    """Watches a bus port every cycle (add ``process`` to the simulator as a process).

    ``violations`` lists (cycle, message) for each breach of hw/bus.py's protocol:
    a burst length that is not 1, 2, 4, 8 or 16 beats, an address not aligned to its
    burst, ``valid`` dropped or a held member changed before the last beat, ``wdata``
    changed other than in the cycle after a ``ready``, ``ready`` without ``valid``,
    ``ready`` in the first cycle of a transfer (a slave answers a cycle after it sees
    the request at the earliest: hw/bus.py).
    With ``memory`` (a FlatMemory; ``offset`` is added to the port's addresses to get
    its addresses, for a slave port that sees region offsets) every read beat is
    compared with it (on the ``sel`` lanes) and every write beat stored in it.
    ``beats`` records (cycle, address, write, data, error) for each completed beat;
    ``transfers`` counts completed transfers.
    ``wdata_lag``: on a slave's port behind ``wdata_lag`` register stages (the
    RegisterSlice of soc/interconnect.py: 2) a write burst's ``wdata`` moves that many
    cycles later than the protocol says, and a beat answered before its data could
    have arrived is a violation too."""

    def __init__(self, bus, *, memory=None, offset=0, name="bus", wdata_lag=0):
        self.bus, self.memory, self.offset, self.name = bus, memory, offset, name
        self.wdata_lag = wdata_lag
        self.violations = []
        self.beats = []
        self.transfers = 0

    def _fail(self, cycle, msg):
        self.violations.append((cycle, f"{self.name}: {msg}"))

    async def process(self, ctx):
        bus = self.bus
        names = ("valid",) + BUS_FIELDS + ("wdata", "ready", "rdata", "error")
        cycle = 0
        held = None          # the fields of the open transfer
        beat = 0             # beats of the open transfer completed
        free_at = None       # the cycle in which wdata may move to the next beat's
        last_wdata = None
        async for _, _, *vals in ctx.tick().sample(*(getattr(bus, n) for n in names)):
            s = dict(zip(names, vals))
            if s["ready"] and not s["valid"]:
                self._fail(cycle, "ready without valid")
            if held is not None and not s["valid"]:
                self._fail(cycle, f"valid dropped after {beat} of "
                                  f"{held['burst_len'] + 1} beats")
                held = None
            if s["valid"]:
                fields = {n: s[n] for n in BUS_FIELDS}
                if held is None:
                    held, beat, free_at = fields, 0, None
                    if s["ready"]:
                        self._fail(cycle, f"ready in the first cycle of the transfer to "
                                          f"{fields['addr']:#x}")
                    if fields["burst_len"] not in BURST_LENS:
                        self._fail(cycle, f"burst_len {fields['burst_len']} is not 2**k - 1")
                    if fields["addr"] % (8 * (fields["burst_len"] + 1)):
                        self._fail(cycle, f"address {fields['addr']:#x} not aligned to a "
                                          f"{fields['burst_len'] + 1}-beat burst")
                else:
                    for n in BUS_FIELDS:
                        if fields[n] != held[n]:
                            self._fail(cycle, f"{n} changed from {held[n]:#x} to {fields[n]:#x} "
                                              f"during a transfer (beat {beat})")
                    if held["write"] and cycle != free_at and s["wdata"] != last_wdata:
                        self._fail(cycle, f"wdata changed before the ready of beat {beat}")
                    if held["write"] and s["ready"] and free_at is not None and cycle < free_at:
                        self._fail(cycle, f"beat {beat} answered before its wdata arrived")
                last_wdata = s["wdata"]
                if s["ready"]:
                    self._beat(cycle, held, beat, s)
                    beat += 1
                    free_at = cycle + 1 + self.wdata_lag
                    if s["error"] or beat == held["burst_len"] + 1:
                        held = None
                        self.transfers += 1
            cycle += 1

    def _beat(self, cycle, held, beat, s):
        addr = held["addr"] + 8 * beat + self.offset
        data = s["wdata"] if held["write"] else s["rdata"]
        self.beats.append((cycle, addr, bool(held["write"]), data, bool(s["error"])))
        if self.memory is None or s["error"]:
            return
        if not self.memory.contains(addr):
            self._fail(cycle, f"beat at {addr:#x} outside the reference memory without error")
        elif held["write"]:
            self.memory.write(addr, data, held["sel"])
        else:
            mask = lane_mask(held["sel"])
            want = self.memory.read(addr)
            if (data ^ want) & mask:
                self._fail(cycle, f"read {addr:#x}: {data & mask:#018x}, "
                                  f"reference {want & mask:#018x}")


class MemorySlave:
    """A slave for testbenches serving ``bus`` from ``memory`` (a FlatMemory at
    ``offset`` from the port's addresses); add ``serve`` to the simulator as a process.

    Like a synchronous memory it decides at each clock edge, from the request it saw,
    whether to answer a beat in the next cycle: before each beat it waits a random
    number of cycles in [0, max_wait] (0: one beat per cycle).  Write data are taken
    in the beat's ready cycle.  ``bursts`` False answers any burst with ``error`` on its
    first beat (a device); addresses for which ``faulty(addr)`` is true, and those
    outside ``memory``, are answered with ``error``."""

    def __init__(self, bus, memory, *, offset=0, seed=0, max_wait=3, bursts=True,
                 faulty=lambda addr: False):
        self.bus, self.memory, self.offset = bus, memory, offset
        self.rng = random.Random(seed)
        self.max_wait, self.bursts, self.faulty = max_wait, bursts, faulty

    async def serve(self, ctx):
        bus = self.bus
        beat, wait = 0, None
        answering = None            # (address, error) of the beat answered in this cycle
        async for _, _, valid, addr, write, wdata, sel, burst_len in ctx.tick().sample(
                bus.valid, bus.addr, bus.write, bus.wdata, bus.sel, bus.burst_len):
            ends = False
            if answering is not None:           # a beat completed at this edge
                beat_addr, error = answering
                if write and not error:
                    self.memory.write(beat_addr, wdata, sel)
                ends = error or beat == burst_len
                beat = 0 if ends else beat + 1
                answering = None
            rdata = error = 0
            if valid and not ends:              # (after the last beat: a new transfer)
                if wait is None:
                    wait = self.rng.randint(0, self.max_wait)
                if wait:
                    wait -= 1
                else:
                    wait = None
                    beat_addr = addr + 8 * beat + self.offset
                    error = bool((burst_len and not self.bursts) or self.faulty(beat_addr)
                                 or not self.memory.contains(beat_addr))
                    if not (error or write):
                        rdata = self.memory.read(beat_addr)
                    answering = (beat_addr, error)
            elif not valid:
                beat, wait = 0, None
            ctx.set(bus.ready, answering is not None)
            ctx.set(bus.error, error)
            ctx.set(bus.rdata, rdata)


def words(rng, n):
    return [rng.getrandbits(64) for _ in range(n)]


#: hypothesis: a list of transfers for ``run_mix``.
transfer_mix = st.lists(st.tuples(
    st.sampled_from([1, 2, 4, 8, 16]),   # beats
    st.booleans(),                       # write
    st.integers(0, 2**16),               # where (reduced to an aligned address)
    st.integers(1, 255),                 # sel
    st.integers(0, 2**32),               # data seed
    st.integers(0, 3),                   # idle cycles after the transfer
), min_size=1, max_size=12)


async def run_mix(ctx, bus, ops, base, size, model):
    """Perform ``ops`` on ``bus`` within [base, base+size); check every read against
    ``model`` (a FlatMemory) and update it on writes.  Returns the mismatches."""
    bad = []
    for beats, is_write, where, sel, seed, gap in ops:
        addr = base + (where * 8 * beats) % size
        if is_write:
            data = words(random.Random(seed), beats)
            _, err, _ = await burst(ctx, bus, addr, beats, write=True, data=data, sel=sel)
            for i, d in enumerate(data):
                model.write(addr + 8 * i, d, sel)
        else:
            got, err, _ = await burst(ctx, bus, addr, beats, sel=sel)
            want = [model.read(addr + 8 * i) for i in range(beats)]
            mask = lane_mask(sel)
            if [g & mask for g in got] != [w & mask for w in want]:
                bad.append((addr, beats, got, want))
        if err:
            bad.append((addr, beats, "error"))
        if gap:
            await ctx.tick().repeat(gap)
    return bad


