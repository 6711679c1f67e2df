"""One SD command in SPI mode: select the card, send the command with its CRC7, wait
for R1, read the rest of an R3/R7 response.

``start`` (only while ``busy`` is low) takes ``index``, ``arg`` and ``long`` (R3/R7:
4 bytes follow R1).  The unit then owns the SPI master (``spi``):

* one byte 0xFF with the card selected (8 clocks before the command);
* the 6 command bytes: 01 index, the argument, CRC7 and the end bit;
* up to ``NCR_MAX`` bytes until one with bit 7 clear: R1 (else ``no_response``);
* for ``long``: 4 more bytes into ``payload`` (big endian, as sent).

``done`` pulses one cycle after the last byte, with ``r1``, ``no_response`` and
``payload``; in that cycle ``busy`` is already low and the SPI master idle, so the
user may start its next byte at once.  The card stays selected (a data phase may
follow): the user ends the transaction.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .proto import CRC7_POLY, NCR_MAX, crc_step
from .spi import ByteSignature

__all__ = ["SDCommand"]


class SDCommand(wiring.Component):
    start: In(1)
    index: In(6)
    arg: In(32)
    long: In(1)
    busy: Out(1)
    done: Out(1)
    r1: Out(8)
    no_response: Out(1)
    payload: Out(32)
    spi: Out(ByteSignature())

    def elaborate(self, platform):
        m = Module()
        spi = self.spi
        frame = Signal(48)
        count = Signal(range(max(NCR_MAX, 7)))
        long = Signal()

        def send(byte):
            m.d.comb += [spi.start.eq(1), spi.tx.eq(byte), spi.cs.eq(1)]

        head = Cat(self.arg, self.index, C(0b01, 2))          # the first 40 bits
        crc = crc_step(C(0, 7), head, CRC7_POLY, 7)

        def accept():
            with m.If(self.start):
                m.d.sync += [frame.eq(Cat(C(1, 1), crc, head)), long.eq(self.long),
                             count.eq(0), self.payload.eq(0), self.no_response.eq(0)]
                m.next = "LEAD"

        with m.FSM():
            with m.State("IDLE"):
                accept()

            with m.State("LEAD"):
                m.d.comb += self.busy.eq(1)
                with m.If(spi.ready):
                    send(0xFF)
                    m.next = "FRAME"

            with m.State("FRAME"):
                m.d.comb += self.busy.eq(1)
                with m.If(spi.done):
                    send(Mux(count == 6, 0xFF, frame[40:]))
                    m.d.sync += [frame.eq(frame << 8), count.eq(count + 1)]
                    with m.If(count == 6):
                        m.d.sync += count.eq(0)
                        m.next = "R1"

            with m.State("R1"):
                m.d.comb += self.busy.eq(1)
                with m.If(spi.done):
                    m.d.sync += [self.r1.eq(spi.rx), count.eq(count + 1)]
                    with m.If(~spi.rx[7]):
                        m.d.sync += count.eq(0)
                        with m.If(long):
                            send(0xFF)
                            m.next = "PAYLOAD"
                        with m.Else():
                            m.next = "DONE"
                    with m.Elif(count == NCR_MAX - 1):
                        m.d.sync += self.no_response.eq(1)
                        m.next = "DONE"
                    with m.Else():
                        send(0xFF)

            with m.State("PAYLOAD"):
                m.d.comb += self.busy.eq(1)
                with m.If(spi.done):
                    m.d.sync += [self.payload.eq(Cat(spi.rx, self.payload[:24])),
                                 count.eq(count + 1)]
                    with m.If(count == 3):
                        m.next = "DONE"
                    with m.Else():
                        send(0xFF)

            with m.State("DONE"):
                m.d.comb += self.done.eq(1)
                m.next = "IDLE"
                accept()                # the next command may start right away
        return m
