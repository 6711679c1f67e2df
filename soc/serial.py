"""Serial pins for the 16550's byte streams: 8 data bits, no parity, 1 stop bit (8N1).

``SerialPHY`` turns the UART's ``tx`` stream into the line's waveform on ``tx_pin``
and the waveform on ``rx_pin`` into bytes on ``rx``, at a fixed ``baud`` rate derived
from ``clk_freq`` (the board's 16550 ignores its divisor latch: the rate is set here,
115200 by default, and the terminal must use the same).  The line idles high; a frame
is a low start bit, the 8 data bits LSB first and a high stop bit.

Receiving: ``rx_pin`` passes two flip-flops (it comes from another clock domain), a
falling edge starts a frame, each bit is sampled in its middle; a start bit that is no
longer low at its middle is a glitch and ignored; a frame whose stop bit is low is
dropped (framing error).  A received byte waits in a one-byte buffer for the ``rx``
stream; a byte that arrives while the buffer is still full is lost (overrun), as on a
real UART without flow control.
"""

from amaranth import *
from amaranth.lib import wiring, stream
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

__all__ = ["SerialPHY"]


class SerialPHY(wiring.Component):
    def __init__(self, clk_freq, baud=115200):
        self.divisor = round(clk_freq / baud)
        if self.divisor < 4:
            raise ValueError(f"a {clk_freq} Hz clock is too slow for {baud} baud")
        self.clk_freq, self.baud = clk_freq, baud
        super().__init__({
            "tx": In(stream.Signature(8)),     # bytes to send
            "rx": Out(stream.Signature(8)),    # bytes received
            "tx_pin": Out(1, init=1),
            "rx_pin": In(1, init=1),
            "overruns": Out(16),               # bytes lost because rx was not taken
        })

    def elaborate(self, platform):
        m = Module()
        div = self.divisor

        # --- transmitter -------------------------------------------------------------
        tx_bits = Signal(10, init=0x3FF)     # the frame being shifted out, LSB first
        tx_left = Signal(range(11))          # bits still to send
        tx_timer = Signal(range(div))
        m.d.comb += [self.tx.ready.eq(tx_left == 0), self.tx_pin.eq(tx_bits[0])]
        with m.If(tx_left == 0):
            with m.If(self.tx.valid):
                m.d.sync += [tx_bits.eq(Cat(C(0, 1), self.tx.payload, C(1, 1))),
                             tx_left.eq(10), tx_timer.eq(div - 1)]
        with m.Elif(tx_timer == 0):
            m.d.sync += [tx_bits.eq(Cat(tx_bits[1:], C(1, 1))), tx_left.eq(tx_left - 1),
                         tx_timer.eq(div - 1)]
        with m.Else():
            m.d.sync += tx_timer.eq(tx_timer - 1)

        # --- receiver ----------------------------------------------------------------
        line = Signal(init=1)
        m.submodules.sync = FFSynchronizer(self.rx_pin, line, init=1)
        rx_timer = Signal(range(div))
        rx_bits = Signal(8)
        rx_count = Signal(range(10))
        full = Signal()
        with m.If(self.rx.ready):
            m.d.sync += full.eq(0)
        m.d.comb += self.rx.valid.eq(full)

        with m.FSM(name="rx"):
            with m.State("IDLE"):
                with m.If(~line):
                    m.d.sync += rx_timer.eq(div // 2 - 1)
                    m.next = "START"
            with m.State("START"):
                with m.If(rx_timer == 0):
                    with m.If(line):
                        m.next = "IDLE"              # a glitch, not a start bit
                    with m.Else():
                        m.d.sync += [rx_timer.eq(div - 1), rx_count.eq(0)]
                        m.next = "DATA"
                with m.Else():
                    m.d.sync += rx_timer.eq(rx_timer - 1)
            with m.State("DATA"):
                with m.If(rx_timer == 0):
                    m.d.sync += [rx_bits.eq(Cat(rx_bits[1:], line)), rx_count.eq(rx_count + 1),
                                 rx_timer.eq(div - 1)]
                    with m.If(rx_count == 7):
                        m.next = "STOP"
                with m.Else():
                    m.d.sync += rx_timer.eq(rx_timer - 1)
            with m.State("STOP"):
                with m.If(rx_timer == 0):
                    with m.If(line):                 # a good stop bit
                        with m.If(full & ~self.rx.ready):
                            m.d.sync += self.overruns.eq(self.overruns + 1)
                        with m.Else():
                            m.d.sync += [self.rx.payload.eq(rx_bits), full.eq(1)]
                    m.next = "IDLE"
                with m.Else():
                    m.d.sync += rx_timer.eq(rx_timer - 1)
        return m
