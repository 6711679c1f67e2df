"""The ECP5 PLL (EHXPLLL): the system clock and the SDRAM clock from the oscillator.

Facts (Lattice ECP5 sysCLOCK PLL): the phase detector sees CLKI / CLKI_DIV, which must
lie between 3.125 and 400 MHz; with the feedback taken from CLKOP the loop makes
CLKOP = CLKI / CLKI_DIV * CLKFB_DIV, and the VCO runs at CLKOP * CLKOP_DIV, which must
lie between 400 and 800 MHz.  Each output divides the VCO (CLKOS = VCO / CLKOS_DIV);
its phase is set in whole VCO cycles (CPHASE) and eighths of one (FPHASE).  An output
is in phase with CLKOP when its CPHASE is (its divider - 1) // 2, the value Trellis'
``ecppll`` uses; each further VCO cycle of CPHASE delays it by 360 / divider degrees.

``pll_params`` finds the dividers (the smallest input divider, then the smallest
feedback divider that give the frequency, the VCO nearest 600 MHz) and
``ECP5PLL`` instantiates the primitive and clocks the ``sync`` domain (the system
clock) and the ``sdram`` domain (the same frequency, ``sdram_phase`` degrees later).
``ResetAfterLock`` holds ``sync`` in reset until the PLL has locked and for
``reset_cycles`` cycles after (the caches clear their valid bits while the reset is
held: hw/core/cache.py); losing lock asserts the reset at once.  On the board the
reset reaches the flip-flops through a global clock buffer (DCCA) and the global
network, like a clock: it goes to the set/reset input (LSR) of some 14,700 flip-flops
all over the chip, and routed through the fabric it was the net with the most
overused wires in router2's congestion (docs/measurements.md, "Routing the board
build").
"""

from dataclasses import dataclass
from fractions import Fraction

from amaranth import *
from amaranth.lib.cdc import ResetSynchronizer

__all__ = ["PLLParams", "pll_outputs", "pll_params", "ECP5PLL", "ResetAfterLock"]

PFD_MIN, PFD_MAX = 3.125e6, 400e6
VCO_MIN, VCO_MAX, VCO_BEST = 400e6, 800e6, 600e6
# A requested frequency within this fraction of one the PLL makes means that one, so
# that "16.667 MHz" asks for 25 MHz * 2 / 3.
TOLERANCE = 1e-4


@dataclass(frozen=True)
class PLLParams:
    clki_div: int
    clkfb_div: int
    clkop_div: int
    clkop_cphase: int
    clkos_div: int
    clkos_cphase: int
    clkos_fphase: int
    f_in: float
    f_out: float
    vco: float
    phase: float        # the CLKOS phase actually made (a multiple of 45 / CLKOS_DIV degrees)


def _output_dividers(f):
    """The output dividers that put the VCO in its range for an output ``f``."""
    return [d for d in range(1, 129) if VCO_MIN <= f * d <= VCO_MAX]


def _dividers(f_in):
    """{frequency (a Fraction, in Hz): (CLKI_DIV, CLKFB_DIV)} for every CLKOP that can
    be made from ``f_in``, each with the smallest input divider, then the smallest
    feedback divider, that make it."""
    made = {}
    for clki_div in range(1, 129):
        pfd = Fraction(f_in) / clki_div
        if not PFD_MIN <= pfd <= PFD_MAX:
            continue
        for clkfb_div in range(1, 81):
            f = pfd * clkfb_div
            if f not in made and _output_dividers(f):
                made[f] = (clki_div, clkfb_div)
    return made


def pll_outputs(f_in):
    """Every frequency (a Fraction, in Hz) that CLKOP can be made from ``f_in``."""
    return sorted(_dividers(f_in))


def pll_params(f_in, f_out, phase=0.0):
    """Dividers for CLKOP = CLKOS = ``f_out`` from ``f_in``, CLKOS ``phase`` degrees
    behind CLKOP.  ``f_out`` may be off by ``TOLERANCE`` of itself (the result's
    ``f_out`` is the frequency made).  Raises ValueError, naming the nearest
    frequencies it can make, if the PLL cannot make ``f_out``."""
    dividers = _dividers(f_in)
    outputs = sorted(dividers)
    near = [f for f in outputs if abs(f - Fraction(f_out)) <= TOLERANCE * Fraction(f_out)]
    if not near:
        below = [f for f in outputs if f < f_out][-1:]
        above = [f for f in outputs if f > f_out][:1]
        nearest = " or ".join(f"{float(f) / 1e6:.6g} MHz" for f in below + above)
        raise ValueError(f"the ECP5 PLL cannot make {f_out / 1e6:g} MHz from "
                         f"{f_in / 1e6:g} MHz (nearest: {nearest})")
    want = min(near, key=lambda f: abs(f - Fraction(f_out)))
    clki_div, clkfb_div = dividers[want]
    div = min(_output_dividers(want), key=lambda d: abs(want * d - VCO_BEST))
    base = (div - 1) // 2
    eighths = round((phase % 360) / 360 * div * 8)
    return PLLParams(
        clki_div=clki_div, clkfb_div=clkfb_div, clkop_div=div, clkop_cphase=base,
        clkos_div=div, clkos_cphase=base + eighths // 8, clkos_fphase=eighths % 8,
        f_in=f_in, f_out=float(want), vco=float(want * div),
        phase=eighths * 45 / div)


class ECP5PLL(Elaboratable):
    """``clk_in``: the oscillator (a Signal); drives the clock (and reset) of the
    ``sync`` and ``sdram`` domains, which its parent defines; ``locked`` is the PLL's
    LOCK output; ``sync``'s reset is held ``reset_cycles`` cycles after it locks (the
    cycles the design needs, e.g. SoC.reset_cycles), but never fewer than
    ``MIN_RESET_CYCLES``; ``reset_dcc``: the site of the reset's global buffer
    (nextpnr's bel name; None leaves it to the placer)."""

    MIN_RESET_CYCLES = 16

    def __init__(self, clk_in, f_in, f_out, sdram_phase, reset_cycles=0, reset_dcc=None):
        self.clk_in = clk_in
        self.reset_dcc = reset_dcc
        self.reset_cycles = max(self.MIN_RESET_CYCLES, reset_cycles)
        self.params = pll_params(f_in, f_out, sdram_phase)
        self.clk_sys = Signal()
        self.clk_sdram = Signal()
        self.locked = Signal()

    def elaborate(self, platform):
        m = Module()
        p = self.params
        mhz = lambda f: f"{f / 1e6:g}"
        m.submodules.pll = Instance(
            "EHXPLLL",
            a_FREQUENCY_PIN_CLKI=mhz(p.f_in), a_FREQUENCY_PIN_CLKOP=mhz(p.f_out),
            a_FREQUENCY_PIN_CLKOS=mhz(p.f_out),
            a_ICP_CURRENT="12", a_LPF_RESISTOR="8", a_MFG_ENABLE_FILTEROPAMP="1",
            a_MFG_GMCREF_SEL="2",
            p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED", p_STDBY_ENABLE="DISABLED",
            p_DPHASE_SOURCE="DISABLED",
            p_OUTDIVIDER_MUXA="DIVA", p_OUTDIVIDER_MUXB="DIVB",
            p_OUTDIVIDER_MUXC="DIVC", p_OUTDIVIDER_MUXD="DIVD",
            p_CLKI_DIV=p.clki_div, p_FEEDBK_PATH="CLKOP", p_CLKFB_DIV=p.clkfb_div,
            p_CLKOP_ENABLE="ENABLED", p_CLKOP_DIV=p.clkop_div,
            p_CLKOP_CPHASE=p.clkop_cphase, p_CLKOP_FPHASE=0,
            p_CLKOS_ENABLE="ENABLED", p_CLKOS_DIV=p.clkos_div,
            p_CLKOS_CPHASE=p.clkos_cphase, p_CLKOS_FPHASE=p.clkos_fphase,
            i_RST=0, i_STDBY=0, i_CLKI=self.clk_in, i_CLKFB=self.clk_sys,
            o_CLKOP=self.clk_sys, o_CLKOS=self.clk_sdram, o_LOCK=self.locked,
            i_PHASESEL0=0, i_PHASESEL1=0, i_PHASEDIR=1, i_PHASESTEP=1, i_PHASELOADREG=1,
            i_PLLWAKESYNC=0, i_ENCLKOP=0,
        )
        # The domains are the parent's (define them there: ``m.domains.sync =
        # ClockDomain()``, ``m.domains.sdram = ClockDomain(reset_less=True)``).
        m.d.comb += [ClockSignal("sync").eq(self.clk_sys), ClockSignal("sdram").eq(self.clk_sdram)]
        m.submodules.reset = ResetAfterLock(self.locked, self.reset_cycles, global_buffer=True,
                                            buffer_site=self.reset_dcc)
        return m


class ResetAfterLock(Elaboratable):
    """Drives the ``sync`` domain's reset: held while ``locked`` is low (asserted at
    once when it falls) and until ``cycles`` cycles after it has risen and passed a
    synchroniser, then released in step with the clock.  ``global_buffer``: the reset
    leaves through an ECP5 DCCA (a global clock buffer: nextpnr routes its output on
    the global network, which reaches every slice's LSR), not through the fabric;
    only for the FPGA build (the simulators know no DCCA).  ``buffer_site``: the
    DCCA's site, given to nextpnr as its ``BEL`` attribute (None: the placer's
    choice)."""

    def __init__(self, locked, cycles, *, global_buffer=False, buffer_site=None):
        self.locked = locked
        self.cycles = cycles
        self.global_buffer = global_buffer
        self.buffer_site = buffer_site

    def elaborate(self, platform):
        m = Module()
        # A domain of its own on the system clock, reset (asynchronously) by the
        # lock's synchroniser, in which a counter measures the hold.
        m.domains.lockwait = lockwait = ClockDomain(local=True, async_reset=True)
        m.d.comb += lockwait.clk.eq(ClockSignal("sync"))
        m.submodules.sync_lock = ResetSynchronizer(~self.locked, domain="lockwait", stages=2)
        count = Signal(range(self.cycles + 1))
        release = Signal()
        with m.If(count != self.cycles):
            m.d.lockwait += count.eq(count + 1)
        m.d.lockwait += release.eq(count == self.cycles)
        if self.global_buffer:
            rst = Signal()
            site = {"a_BEL": self.buffer_site} if self.buffer_site else {}
            m.submodules.rst_buffer = Instance("DCCA", i_CLKI=~release, i_CE=Const(1),
                                               o_CLKO=rst, **site)
            m.d.comb += ResetSignal("sync").eq(rst)
        else:
            m.d.comb += ResetSignal("sync").eq(~release)
        return m
