"""The board top: the SoC on an FPGA board's pins (amaranth-boards platform).

::

    clk25 --> ECP5PLL --> sync (system clock, reset until lock) --> SoC
                     \\--> sdram clock (phase-shifted) --> SDRAM clk pin
    SoC.sdram  <-> output/input registers in the I/O cells <-> SDRAM pins
    SoC.uart   <-> SerialPHY (115200 8N1) <-> FTDI serial pins
    SoC.sd     <-> the microSD slot's pins in SPI mode (amaranth-boards' sd_card_spi)
    LEDs: the boot ROM's stage, heartbeat, card and serial activity

The core leaves reset in the boot ROM (soc/bootrom/), which prints its banner, checks
the SDRAM, loads the kernel from the card's first partition into the SDRAM and starts
it at 0x8000_0000; the kernel's disk is the card's second partition (``make sdcard``).

SDRAM timing on the pins.  Let s(k) be the system clock edge ending cycle k and T its
period; the SDRAM clock runs ``sdram_phase`` = 180 degrees behind.  A command that the
controller's register holds in cycle k is taken by the output register in the I/O cell
at s(k) and is sampled by the chip at s(k) + T/2, in the middle of its stable time.
The chip drives the first word of a READ from tAC after its edge CL - 1 cycles later
until tOH after the next one: from s(k+CL-1) + T/2 + tAC to s(k+CL) + T/2 + tOH, a
window that holds the system edge s(k+CL) while T/2 > tAC + the board's delays (6 + 2
ns against 20 ns at 25 MHz, 10 ns at 50 MHz).  The input register in the I/O cell takes
it there, and the controller's capture register one cycle later, in cycle k+CL+2.  With
the chip wired straight to the controller (the simulators) the chip samples the command
at s(k), drives the word in cycle k+CL and the capture register has it in cycle
k+CL+1: the board adds one cycle, so its controller has ``read_delay`` = 1.  This
arithmetic is the board's own; the simulators run the chip model on the system clock.

SD card pins: the SD host's SPI master samples ``cipo`` in the last system cycle of
the SPI clock's high phase, so the pins go straight through the I/O cells (not
registered): an I/O register would delay ``cipo`` past that sample (soc/sdcard/spi.py).
At 25 MHz the fast SPI clock is 12.5 MHz (half period 1 cycle).

LEDs (0 is the leftmost):

    0-3  the boot ROM's stage, a binary number (soc/bootrom/boot.c): 1 banner, 2 RAM
         check, 3 reading the card, 4 partition table, 5 loading the kernel, 6 the
         kernel was started (it stays so while xv6 runs)
    4    blinks when the boot ROM stopped on an error (the UART says which)
    5    heartbeat (about 1 Hz): the system clock runs and the PLL has locked
    6    card activity (the SD card selected)
    7    serial activity (a byte sent or received)
"""

from amaranth import *
from amaranth.lib import io, wiring

from ..serial import SerialPHY
from .pll import ECP5PLL

__all__ = ["BoardTop"]

SDRAM_OUTPUTS = ("clk_en", "cs", "ras", "cas", "we", "ba", "a", "dqm")


class BoardTop(Elaboratable):
    """``spec``: a soc.board.BoardSpec; ``clk_freq``: the system clock (default the
    board's); ``baud``: the serial rate."""

    def __init__(self, spec, *, clk_freq=None, baud=115200):
        self.spec = spec
        self.clk_freq = clk_freq or spec.clk_freq
        self.baud = baud
        self.soc = spec.soc(simulation=False, clk_freq=self.clk_freq)

    def elaborate(self, platform):
        m = Module()
        spec, soc = self.spec, self.soc

        # --- clocks and reset --------------------------------------------------------
        osc = io.Buffer("i", platform.request(platform.default_clk, dir="-"))
        m.submodules.osc = osc
        m.domains.sync = ClockDomain()
        m.domains.sdram = ClockDomain(reset_less=True)
        m.submodules.pll = pll = ECP5PLL(osc.i, spec.osc_freq, self.clk_freq, spec.sdram_phase,
                                         reset_cycles=soc.reset_cycles,
                                         reset_dcc=spec.reset_dcc)
        # (nextpnr derives the PLL outputs' timing constraints from the oscillator's.)

        m.submodules.soc = soc

        # --- SDRAM ----------------------------------------------------------------------
        pins = platform.request("sdram", 0, dir="-")
        clk_out = io.DDRBuffer("o", pins.clk, o_domain="sdram")
        m.submodules.sdram_clk = clk_out
        m.d.comb += [clk_out.o[0].eq(1), clk_out.o[1].eq(0)]
        for name in SDRAM_OUTPUTS:
            buf = io.FFBuffer("o", getattr(pins, name))
            m.submodules[f"sdram_{name}"] = buf
            m.d.comb += buf.o.eq(getattr(soc.sdram, name))
        dq = io.FFBuffer("io", pins.dq)
        m.submodules.sdram_dq = dq
        m.d.comb += [
            dq.o.eq(soc.sdram.dq_o),
            dq.oe.eq(soc.sdram.dq_oe),
            soc.sdram.dq_i.eq(dq.i),
        ]

        # --- serial console ---------------------------------------------------------------
        uart = platform.request("uart", 0, dir="-")
        m.submodules.uart_tx = tx_pin = io.Buffer("o", uart.tx)
        m.submodules.uart_rx = rx_pin = io.Buffer("i", uart.rx)
        m.submodules.serial = serial = SerialPHY(self.clk_freq, self.baud)
        wiring.connect(m, soc.uart_tx, serial.tx)
        wiring.connect(m, serial.rx, soc.uart_rx)
        m.d.comb += [tx_pin.o.eq(serial.tx_pin), serial.rx_pin.eq(rx_pin.i)]

        # --- SD card (SPI mode) ----------------------------------------------------------
        sd = platform.request("sd_card_spi", 0, dir="-")
        for name in ("clk", "copi", "cs"):        # cs: PinsN, so 1 selects the card
            m.submodules[f"sd_{name}"] = buf = io.Buffer("o", getattr(sd, name))
            m.d.comb += buf.o.eq(getattr(soc.sd, name))
        m.submodules.sd_cipo = cipo = io.Buffer("i", sd.cipo)
        m.d.comb += soc.sd.cipo.eq(cipo.i)

        # --- LEDs -----------------------------------------------------------------------
        leds = []
        for i in range(8):
            m.submodules[f"led{i}"] = buf = io.Buffer("o", platform.request("led", i, dir="-"))
            leds.append(buf.o)
        half_second = int(self.clk_freq // 2)
        beat = Signal(range(half_second))
        heartbeat = Signal()
        with m.If(beat == half_second - 1):
            m.d.sync += [beat.eq(0), heartbeat.eq(~heartbeat)]
        with m.Else():
            m.d.sync += beat.eq(beat + 1)

        def stretch(event, name):
            """``event`` held visible for about 50 ms."""
            count = Signal(range(int(self.clk_freq // 20) + 1), name=f"{name}_stretch")
            with m.If(event):
                m.d.sync += count.eq(int(self.clk_freq // 20))
            with m.Elif(count != 0):
                m.d.sync += count.eq(count - 1)
            return count != 0

        serial_busy = stretch((soc.uart_tx.valid & soc.uart_tx.ready)
                              | (soc.uart_rx.valid & soc.uart_rx.ready), "serial")
        card_busy = stretch(soc.sd.cs, "card")
        m.d.comb += [
            Cat(leds[:5]).eq(soc.leds[:5]),     # the boot ROM's stage and error bits
            leds[5].eq(heartbeat),
            leds[6].eq(card_busy),
            leds[7].eq(serial_busy),
        ]
        return m
