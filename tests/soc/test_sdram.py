# amaranth: UnusedElaboratable=no
"""The SDRAM controller (soc/sdram/controller.py) against the chip model
(soc/sdram/model.py), and the model's own checks.

The controller and the model take their timings separately: the model has the chip's,
so a controller built with a wrong parameter must be caught by the model."""

import pytest
from amaranth import *
from amaranth.lib import wiring
from hypothesis import given, settings, strategies as st

from soc.interconnect import RegisterSlice
from soc.sdram.chip import Cmd, Geometry, Timing, mode_word
from soc.sdram.controller import SDRAMController
from soc.sdram.model import Error, SDRAMModel
from soc.sdram.pins import SDRAMPinsSignature
from tests.soc.busutil import BusChecker, FlatMemory, burst, run_mix, transfer_mix, words
from tests.soc.conftest import run_sim

SMALL = Geometry(banks=4, rows=16, cols=512)          # 64 KiB: quick to simulate
#: The chip at 100 MHz (every timing at least two cycles), with a short power-up wait.
CHIP = Timing().cycles(100e6).replace(init=40, refi=300)


class IORegisters(wiring.Component):
    """One register on every pin in both directions, like the board's I/O flip-flops:
    the controller then needs ``read_delay`` 2 (its command is one cycle later on the
    pins, and the data one cycle later back)."""

    def __init__(self, geometry):
        sig = SDRAMPinsSignature(geometry)
        super().__init__({"ctl": In(sig), "chip": Out(sig)})

    def elaborate(self, platform):
        m = Module()
        for name in ("clk_en", "cs", "ras", "cas", "we", "ba", "a", "dqm", "dq_o", "dq_oe"):
            reset = 1 if name == "clk_en" else 0
            r = Signal.like(getattr(self.chip, name), init=reset, name=f"{name}_r")
            m.d.sync += r.eq(getattr(self.ctl, name))
            m.d.comb += getattr(self.chip, name).eq(r)
        m.d.sync += self.ctl.dq_i.eq(self.chip.dq_i)
        return m


In, Out = wiring.In, wiring.Out


class Bench(Elaboratable):
    """The controller and the chip model; with ``sliced`` the controller sits behind a
    RegisterSlice, as in the SoC.  ``bus`` is the master's port."""

    def __init__(self, ctl_timing=CHIP, chip_timing=CHIP, geometry=SMALL, io_registers=False,
                 refresh_max=None, sliced=False):
        self.ctl = SDRAMController(ctl_timing, geometry, read_delay=2 if io_registers else 0)
        self.chip = SDRAMModel(chip_timing, geometry, refresh_max=refresh_max)
        self.io = IORegisters(geometry) if io_registers else None
        self.slice = RegisterSlice(self.ctl.region.addr_width) if sliced else None
        self.bus = self.ctl.bus if self.slice is None else self.slice.bus

    def elaborate(self, platform):
        m = Module()
        m.submodules.ctl, m.submodules.chip = self.ctl, self.chip
        if self.slice is not None:
            m.submodules.slice = self.slice
            wiring.connect(m, self.slice.slave, self.ctl.bus)
        if self.io is None:
            wiring.connect(m, self.ctl.pins, self.chip.pins)
        else:
            m.submodules.io = self.io
            wiring.connect(m, self.ctl.pins, self.io.ctl)
            wiring.connect(m, self.io.chip, self.chip.pins)
        return m


def run_bench(dut, body, *, check=True, extra=()):
    """Run ``body(ctx)`` after the controller is initialised, with a BusChecker and a
    flat reference memory on the master's port (and one on the controller's, behind a
    slice: ``out["slave_checker"]``); returns (results dict, the master's checker).
    ``extra``: more checkers, run but not asserted on."""
    checker = BusChecker(dut.bus, memory=FlatMemory(0, dut.ctl.size))
    checkers = [checker]
    out = {}
    if dut.slice is not None:
        out["slave_checker"] = BusChecker(dut.ctl.bus, memory=FlatMemory(0, dut.ctl.size),
                                          name="ctl", wdata_lag=2)
        checkers.append(out["slave_checker"])

    async def bench(ctx):
        cycles = 0
        while not ctx.get(dut.ctl.initialized):
            await ctx.tick()
            cycles += 1
        out["init_cycles"] = cycles
        out["init_refreshes"] = ctx.get(dut.chip.refreshes)
        await body(ctx, out)
        out["error"] = ctx.get(dut.chip.error)
        out["error_cycle"] = ctx.get(dut.chip.error_cycle)
        out["refreshes"] = ctx.get(dut.chip.refreshes)

    run_sim(dut, bench, processes=[c.process for c in [*checkers, *extra]])
    if check:
        assert [c.violations for c in checkers] == [[] for c in checkers]
    return out, checker


# --- the controller with a correct configuration ----------------------------------------

def test_power_up_sequence_and_first_access():
    dut = Bench()

    async def body(ctx, out):
        out["w"] = await burst(ctx, dut.bus, 0x1238, 1, write=True, data=[0x0123456789ABCDEF])
        out["r"] = await burst(ctx, dut.bus, 0x1238, 1)
        out["image"] = ctx.get(dut.chip.mem.data[0x1238 // 8])

    out, _ = run_bench(dut, body)
    assert out["error"] == Error.NONE
    # NOP for `init` cycles, then PRECHARGE ALL, two refreshes, LOAD MODE (after which
    # `initialized` rises).
    assert out["init_cycles"] == CHIP.init + CHIP.rp + 2 * CHIP.rfc + 1
    assert out["init_refreshes"] == 2
    assert out["r"][0] == [0x0123456789ABCDEF]
    assert out["image"] == 0x0123456789ABCDEF      # the chip's memory is the RAM's image


@pytest.mark.parametrize("io_registers,sliced", [(False, False), (True, False), (True, True)])
def test_read_latency_and_burst_rate(io_registers, sliced):
    """ACTIVE, tRCD, READ, CL, capture and assembly: the first beat's ready comes
    rcd + CL + 6 + read_delay cycles after the request (two more behind a register
    slice); then one beat per 4 cycles."""
    dut = Bench(io_registers=io_registers, sliced=sliced)
    data = words(__import__("random").Random(1), 8)

    async def body(ctx, out):
        await burst(ctx, dut.bus, 0x2000, 8, write=True, data=data)
        await ctx.tick().repeat(20)                     # the controller is idle again
        out["r"] = await burst(ctx, dut.bus, 0x2000, 8)
        await ctx.tick().repeat(20)
        out["single"] = await burst(ctx, dut.bus, 0x2008, 1)

    out, checker = run_bench(dut, body)
    assert out["error"] == Error.NONE
    first = CHIP.rcd + CHIP.cas_latency + 6 + dut.ctl.read_delay + 2 * sliced
    assert out["r"] == (data, False, first + 7 * 3)
    assert out["single"] == ([data[1]], False, first)
    reads = [c for c, a, w, d, e in checker.beats if not w][:8]
    assert [b - a for a, b in zip(reads, reads[1:])] == [4] * 7
    # a write burst's beats are taken one per 4 cycles too, the slice's late copy of
    # wdata included
    writes = [c for c, a, w, d, e in checker.beats if w][:8]
    assert [b - a for a, b in zip(writes, writes[1:])] == [4] * 7


@settings(max_examples=15, deadline=None)
@given(transfer_mix, st.booleans(), st.booleans())
def test_random_transfers_against_reference(ops, io_registers, sliced):
    """Random transfers; behind a slice the controller sees each of them exactly once,
    with the same data (its own checker and reference memory)."""
    dut = Bench(io_registers=io_registers, sliced=sliced)

    async def body(ctx, out):
        out["bad"] = await run_mix(ctx, dut.bus, ops, 0, dut.ctl.size,
                                   FlatMemory(0, dut.ctl.size))

    out, checker = run_bench(dut, body)
    assert out["bad"] == []
    assert out["error"] == Error.NONE, (out["error"], out["error_cycle"])
    assert checker.transfers == len(ops)
    if sliced:
        assert out["slave_checker"].transfers == len(ops)
        assert out["slave_checker"].beats == [(c - 1, a, w, d, e) for c, a, w, d, e
                                              in checker.beats]


def test_slice_moves_wdata_two_cycles_late():
    """Behind the slice the controller sees a write burst's wdata move two cycles
    later than the protocol says (so its own checker needs ``wdata_lag`` 2), and the
    data of every beat it takes is still that beat's."""
    dut = Bench(sliced=True)
    strict = BusChecker(dut.ctl.bus, name="strict")
    data = [0x1111 * (k + 1) for k in range(4)]

    async def body(ctx, out):
        await burst(ctx, dut.bus, 0x100, 4, write=True, data=data)
        out["r"] = await burst(ctx, dut.bus, 0x100, 4)

    out, checker = run_bench(dut, body, extra=[strict])
    assert out["r"][0] == data
    assert [d for c, a, w, d, e in out["slave_checker"].beats if w] == data
    assert [msg for c, msg in strict.violations] == \
        ["strict: wdata changed before the ready of beat 1",
         "strict: wdata changed before the ready of beat 2",
         "strict: wdata changed before the ready of beat 3"]


def test_refresh_never_starves():
    """A master that never lets go (back-to-back 16-beat bursts) for 8 refresh
    intervals: every interval still gets its refresh."""
    dut = Bench()
    refresh_at = []
    now = [0]

    async def body(ctx, out):
        start, until = ctx.get(dut.chip.refreshes), now[0] + 8 * CHIP.refi
        addr = 0
        while now[0] < until:
            await burst(ctx, dut.bus, addr, 16, write=bool(addr & 0x80), data=[addr] * 16)
            addr = (addr + 128) % dut.ctl.size
        out["served"] = ctx.get(dut.chip.refreshes) - start

    async def watch(ctx):
        last = 0
        async for _, _, n in ctx.tick().sample(dut.chip.refreshes):
            now[0] += 1
            if n != last:
                refresh_at.append(now[0])
                last = n

    dut_out, _ = run_bench_with(dut, body, watch)
    assert dut_out["error"] == Error.NONE
    assert dut_out["served"] >= 7           # 8 intervals from an arbitrary phase
    gaps = [b - a for a, b in zip(refresh_at[2:], refresh_at[3:])]   # after the power-up ones
    assert max(gaps) <= CHIP.refi + dut.ctl.longest_transfer()


def run_bench_with(dut, body, *processes):
    checker = BusChecker(dut.ctl.bus, memory=FlatMemory(0, dut.ctl.size))
    out = {}

    async def bench(ctx):
        while not ctx.get(dut.ctl.initialized):
            await ctx.tick()
        await body(ctx, out)
        out["error"] = ctx.get(dut.chip.error)

    run_sim(dut, bench, processes=[checker.process, *processes])
    assert checker.violations == []
    return out, checker


def test_controller_rejects_refresh_interval_shorter_than_a_transfer():
    with pytest.raises(ValueError, match="refreshes would be late"):
        SDRAMController(CHIP.replace(refi=60), SMALL)


# --- a controller with a wrong timing is caught by the model ---------------------------

WRONG = [
    # (parameter, the chip's value where CHIP's would not bind, the model's error)
    ("rcd", None, Error.T_RCD),
    ("rp", None, Error.T_RP),
    ("ras", 9, Error.T_RAS),            # longer than a single read's ACTIVE..PRECHARGE
    ("rc", 10, Error.T_RC),             # longer than tRAS + tRP
    ("wr", None, Error.T_WR),
    ("rfc", None, Error.T_RFC),
    ("mrd", None, Error.T_MRD),
]


async def mixed_accesses(ctx, bus):
    for k in range(4):
        await burst(ctx, bus, 0x400 * k, 2, write=True, data=[k, k])
        await burst(ctx, bus, 0x400 * k, 2)
        await burst(ctx, bus, 0x400 * k + 8, 1, write=True, data=[k])
        await burst(ctx, bus, 0x400 * k + 8, 1)
    await ctx.tick().repeat(20)


@pytest.mark.parametrize("name,chip_value,error", WRONG)
def test_wrong_timing_parameter_is_caught(name, chip_value, error):
    """The controller has one parameter one cycle short of the chip's."""
    chip = CHIP if chip_value is None else CHIP.replace(**{name: chip_value})
    short = chip.replace(**{name: getattr(chip, name) - 1})

    # With the chip's own timing the same accesses run clean: the test is not vacuous.
    good = Bench(ctl_timing=chip, chip_timing=chip)
    ok, _ = run_bench(good, lambda ctx, out: mixed_accesses(ctx, good.ctl.bus))
    assert ok["error"] == Error.NONE

    dut = Bench(ctl_timing=short, chip_timing=chip)
    out, _ = run_bench(dut, lambda ctx, out: mixed_accesses(ctx, dut.ctl.bus), check=False)
    assert out["error"] == error


def test_refresh_interval_too_long_is_caught():
    # The controller refreshes every 400 cycles; the chip needs one within 300.
    dut = Bench(ctl_timing=CHIP.replace(refi=400), refresh_max=CHIP.refi)

    async def body(ctx, out):
        await ctx.tick().repeat(900)

    out, _ = run_bench(dut, body, check=False)
    assert out["error"] == Error.REFRESH_LATE


def test_power_up_wait_too_short_is_caught():
    dut = Bench(ctl_timing=CHIP.replace(init=CHIP.init // 2))

    async def body(ctx, out):
        pass

    out, _ = run_bench(dut, body, check=False)
    assert out["error"] == Error.INIT_EARLY


# --- the model's checks, driven command by command ---------------------------------------

class Pins(Elaboratable):
    def __init__(self):
        self.chip = SDRAMModel(CHIP.replace(init=2), SMALL)
        self.pins = SDRAMPinsSignature(SMALL).create()

    def elaborate(self, platform):
        m = Module()
        m.submodules.chip = self.chip
        wiring.connect(m, self.pins, self.chip.pins)
        return m


def script(steps):
    """Drive the pins: ``steps`` is a list of (command, bank, address, extra pins) or
    an int (that many NOP cycles).  Returns (error, error cycle, cycle of each step)."""
    dut = Pins()
    out = {}

    async def bench(ctx):
        p = dut.pins
        ctx.set(p.clk_en, 1)
        ctx.set(p.cs, 1)
        for step in steps:
            if isinstance(step, int):
                await ctx.tick().repeat(step)
                continue
            cmd, bank, addr, extra = (list(step) + [{}])[:4] if len(step) < 4 else step
            ctx.set(Cat(p.we, p.cas, p.ras), cmd.value)
            ctx.set(p.ba, bank)
            ctx.set(p.a, addr)
            for k, v in extra.items():
                ctx.set(getattr(p, k), v)
            await ctx.tick()
            ctx.set(Cat(p.we, p.cas, p.ras), Cmd.NOP.value)
            for k in extra:
                ctx.set(getattr(p, k), 0)
        await ctx.tick().repeat(8)
        out["error"] = ctx.get(dut.chip.error)
        out["bank"] = ctx.get(dut.chip.error_bank)

    run_sim(dut, bench)
    return out["error"], out["bank"]


INIT = [4, (Cmd.PRECHARGE, 0, 1 << 10), CHIP.rp, (Cmd.REFRESH, 0, 0), CHIP.rfc,
        (Cmd.REFRESH, 0, 0), CHIP.rfc, (Cmd.LOAD_MODE, 0, mode_word(2, 4)), CHIP.mrd]


def act(bank, row=3):
    return (Cmd.ACTIVE, bank, row)


@pytest.mark.parametrize("steps,error", [
    (INIT + [act(1), CHIP.rcd, (Cmd.READ, 1, 8), 8, (Cmd.PRECHARGE, 1, 0)], Error.NONE),
    ([(Cmd.REFRESH, 0, 0)], Error.INIT_EARLY),
    ([4, act(0)], Error.NOT_READY),
    (INIT[:-2] + [act(0)], Error.NOT_READY),                      # LOAD MODE missing
    (INIT + [(Cmd.READ, 2, 0)], Error.IDLE_BANK),
    (INIT + [act(2), CHIP.rc, act(2)], Error.ACTIVE_OPEN),
    (INIT + [act(2), CHIP.ras, (Cmd.REFRESH, 0, 0)], Error.REFRESH_OPEN),
    (INIT + [act(2), CHIP.ras, (Cmd.LOAD_MODE, 0, mode_word(2, 4))], Error.MODE_OPEN),
    (INIT[:-2] + [(Cmd.LOAD_MODE, 0, 0b1_000_0010)], Error.BAD_MODE),  # interleaved
    (INIT[:-2] + [(Cmd.LOAD_MODE, 0, (1 << 4) | 2)], Error.BAD_MODE),  # CL 1
    (INIT + [act(3), CHIP.rcd, (Cmd.READ, 3, 0, {"a": 1 << 10})], Error.UNSUPPORTED),
    (INIT + [act(3), CHIP.rcd, (Cmd.READ, 3, 0), 1,
             (Cmd.NOP, 0, 0, {"dq_oe": 1})], Error.CONTENTION),
    (INIT + [act(3), CHIP.rcd, (Cmd.WRITE, 3, 0, {"dq_oe": 1}), (Cmd.NOP, 0, 0, {"dq_oe": 1})],
     Error.NO_WRITE_DATA),
    (INIT + [act(3), CHIP.rcd, (Cmd.WRITE, 3, 0, {"dq_oe": 1}), (Cmd.NOP, 0, 0, {"dq_oe": 1}),
             (Cmd.NOP, 0, 0, {"dq_oe": 1}), (Cmd.NOP, 0, 0, {"dqm": 3}), CHIP.ras],
     Error.NONE),                                                  # masked: no data needed
])
def test_model_checks(steps, error):
    assert script(steps)[0] == error


def test_model_reports_the_bank():
    steps = INIT + [act(0), act(2), (Cmd.READ, 2, 0)]
    assert script(steps) == (Error.T_RCD, 2)
