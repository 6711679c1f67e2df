"""The SD card's SPI pins and a byte-wide SPI master for them.

``SPISignature`` names the pins as amaranth-boards' ``sd_card_spi`` resource does
(``clk``, ``copi``, ``cipo``, ``cs``; ``cs`` = 1 selects the card, the resource's
``PinsN`` inverts it onto the active-low pin), seen from the host.

``SPIMaster`` clocks one byte at a time in SPI mode 0: the clock idles low; during
each bit ``copi`` holds the bit for ``half`` cycles with the clock low, then the
clock is high for ``half`` cycles, and ``cipo`` is sampled in the last cycle of the
high phase, just before the clock falls.  A card changes ``cipo`` after a falling
edge, so sampling late in the high phase leaves it the whole period minus nothing but
the wire delays: this works at ``half`` = 1 (the fastest clock, system clock / 2) as
long as the pins are not registered on the way.

Its user talks to it through a ``ByteSignature`` port (``bytes``): in a cycle where
``ready`` is high, ``start`` begins a byte with ``tx`` and ``cs`` (``cs`` changes on the
pins at once, while the clock is low, and stays until the next byte).  ``done`` is
high in the first ready cycle after the byte, with ``rx`` (it keeps its value until the
next byte ends); ``start`` may come in that same cycle, so bytes can follow each other
without a gap.  ``fast`` chooses the half period (``fast_half`` or ``slow_half``
cycles), sampled at ``start``.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["SPISignature", "ByteSignature", "SPIMaster", "half_period"]


class SPISignature(wiring.Signature):
    """The SD card's SPI pins as seen from the host (``Out`` = driven by the host)."""

    def __init__(self):
        super().__init__({
            "clk": Out(1),
            "copi": Out(1, init=1),
            "cs": Out(1),
            "cipo": In(1, init=1),
        })


class ByteSignature(wiring.Signature):
    """One byte at a time to and from the SPI master, seen from its user."""

    def __init__(self):
        super().__init__({
            "start": Out(1),
            "tx": Out(8),
            "cs": Out(1),
            "fast": Out(1),
            "ready": In(1),
            "done": In(1),
            "rx": In(8),
        })


def half_period(clk_freq, spi_hz):
    """Cycles of ``clk_freq`` per half period of an SPI clock no faster than ``spi_hz``."""
    if spi_hz <= 0 or clk_freq <= 0:
        raise ValueError("clock frequencies must be positive")
    return max(1, -(-clk_freq // (2 * spi_hz)))


class SPIMaster(wiring.Component):
    def __init__(self, *, slow_half, fast_half):
        if not 1 <= fast_half <= slow_half:
            raise ValueError("need 1 <= fast_half <= slow_half")
        self.slow_half = slow_half
        self.fast_half = fast_half
        super().__init__({
            "bytes": In(ByteSignature()),
            "pins": Out(SPISignature()),
        })

    def elaborate(self, platform):
        m = Module()
        pins = self.pins
        port = self.bytes

        shift = Signal(8)                        # bits still to send / received so far
        bits_left = Signal(range(9))
        count = Signal(range(self.slow_half))    # cycles left in this half period
        half = Signal(range(self.slow_half + 1))  # latched at start
        high = Signal()                          # clock phase
        finished = Signal()

        m.d.comb += [
            port.ready.eq(bits_left == 0),
            port.done.eq(finished),
            pins.clk.eq(high),
        ]

        m.d.sync += finished.eq(0)
        with m.If(bits_left == 0):
            with m.If(port.start):
                chosen = Mux(port.fast, self.fast_half, self.slow_half)
                m.d.sync += [
                    shift.eq(port.tx), bits_left.eq(8), high.eq(0),
                    pins.cs.eq(port.cs), pins.copi.eq(port.tx[7]),
                    half.eq(chosen), count.eq(chosen - 1),
                ]
        with m.Elif(count != 0):
            m.d.sync += count.eq(count - 1)
        with m.Elif(~high):
            m.d.sync += [high.eq(1), count.eq(half - 1)]
        with m.Else():
            # Last cycle of the high phase: take the card's bit, then the clock falls
            # and the next bit (or the idle 1) goes out.
            received = Cat(self.pins.cipo, shift[:7])
            m.d.sync += [high.eq(0), count.eq(half - 1), shift.eq(received),
                         bits_left.eq(bits_left - 1), pins.copi.eq(shift[6])]
            with m.If(bits_left == 1):
                m.d.sync += [port.rx.eq(received), finished.eq(1), pins.copi.eq(1)]
        return m
