"""SD card host in SPI mode, serving the block device's storage port (soc/storage.py).

::

    VirtioBlock.storage --> SDCardHost --(SDCommand)--> SPIMaster --> clk, copi, cs, cipo
                               ^ bus: BASE, SIZE, STATUS

Storage sector ``s`` is card block ``BASE + s``; ``SIZE`` sectors are served (it is the
port's ``capacity``, so the kernel sees a disk of SIZE sectors; 0 = no medium).  The
boot ROM sets both from the card's partition table.  Every command moves one block:
CMD17 (single block read) or CMD24 (single block write).

The card is initialized on the first command after reset or after a failure that may
have lost it: 1 ms, 80 clocks with the card deselected, CMD0 (up to 10 tries), CMD8
(0x1AA: SD 2.0 cards echo it, SD 1.x cards call it illegal), CMD59 (CRC checking on),
CMD55 + ACMD41 (HCS for SD 2.0 cards) until the card leaves the idle state or the init
timeout passes, CMD58 (CCS: block or byte addresses) and, for byte-addressed cards,
CMD16(512).  All of it runs at ``slow_hz`` (at most 400 kHz, as the specification
wants during identification); afterwards the clock is ``fast_hz``.

Nothing waits forever: R1 must come within 8 bytes of a command, a data token within
the read timeout, a data response within 8 bytes of a written block, the end of busy
within the write timeout.  Any failure answers the storage command with an error
(after the 64 data words the port's protocol promises, zeros for a read), so the
block device reports an I/O error to its driver; the reason stays in STATUS.

Registers (64-bit, byte lanes as on the bus):

==========  ======  =============================================================
offset      name    meaning
==========  ======  =============================================================
0x00        BASE    first card block of the window (RW)
0x08        SIZE    sectors in the window, the storage port's capacity (RW)
0x10        STATUS  bit 0 card ready, bit 1 block addressed (SDHC/SDXC), bit 2 SD
                    2.0 or later; bits 15:8 the last error (proto.SDError), bits
                    23:16 the byte that showed it (R1, token, data response) (RO)
==========  ======  =============================================================
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.bus import BusSignature
from .. import memmap
from ..regs import BusResponder, merge_lanes
from ..storage import StorageSignature, SECTOR_WORDS
from .command import SDCommand
from .proto import (CMD, ACMD, HCS, CMD8_ARG, R1, OCR, TOKEN, DATA_RESPONSE, SDError,
                    NCR_MAX, SECTOR_BYTES, CRC16_POLY, crc_step)
from .spi import SPIMaster, SPISignature, half_period

__all__ = ["SDCardHost", "REG", "STATUS"]


class REG:
    BASE = 0x00
    SIZE = 0x08
    STATUS = 0x10


class STATUS:
    READY = 1 << 0
    HIGH_CAPACITY = 1 << 1
    V2 = 1 << 2
    ERROR_SHIFT = 8
    DETAIL_SHIFT = 16


#: CMD0 is sent this many times before the host gives up on the card.
CMD0_TRIES = 10
#: Bytes with the card deselected after power-up (the card wants at least 74 clocks).
WAKE_BYTES = 10


class SDCardHost(wiring.Component):
    """``clk_freq``: the system clock (Hz); ``slow_hz``/``fast_hz``: SPI clocks for
    initialization and data; timeouts in seconds (the specification's values)."""

    def __init__(self, *, clk_freq, slow_hz=400_000, fast_hz=25_000_000, power_up=0.001,
                 init_timeout=1.0, read_timeout=0.1, write_timeout=0.5):
        if slow_hz > 400_000:
            raise ValueError("the identification clock must not exceed 400 kHz")
        self.clk_freq = clk_freq
        self.slow_half = half_period(clk_freq, slow_hz)
        self.fast_half = min(half_period(clk_freq, fast_hz), self.slow_half)

        def cycles(seconds):
            return max(1, round(seconds * clk_freq))
        self.power_up_cycles = cycles(power_up)
        self.init_cycles = cycles(init_timeout)
        self.read_cycles = cycles(read_timeout)
        self.write_cycles = cycles(write_timeout)
        super().__init__({
            "bus": In(BusSignature(memmap.SDCARD.addr_width)),
            "storage": In(StorageSignature()),
            "sd": Out(SPISignature()),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.spi = spi = SPIMaster(slow_half=self.slow_half, fast_half=self.fast_half)
        m.submodules.cmd = cmd = SDCommand()
        wiring.connect(m, spi.pins, wiring.flipped(self.sd))
        st = self.storage

        # ---- registers ----
        base = Signal(64)
        size = Signal(64)
        ready = Signal()            # the card is initialized
        high_capacity = Signal()    # block addresses (else byte addresses)
        v2 = Signal()               # the card answered CMD8
        error = Signal(8)
        detail = Signal(8)
        m.d.comb += st.capacity.eq(size)

        resp = BusResponder(m, self.bus)
        with m.If(resp.start):
            with m.Switch(self.bus.addr[3:5]):
                for offset, reg in ((REG.BASE, base), (REG.SIZE, size)):
                    with m.Case(offset >> 3):
                        m.d.comb += resp.rdata.eq(reg)
                        with m.If(resp.writing):
                            m.d.sync += reg.eq(merge_lanes(reg, self.bus.wdata, self.bus.sel))
                with m.Case(REG.STATUS >> 3):
                    m.d.comb += resp.rdata.eq(Cat(ready, high_capacity, v2, C(0, 5), error, detail))

        # ---- the SPI master is the command unit's while it is busy, else ours ----
        fast = Signal()
        h_start = Signal()
        h_tx = Signal(8)
        h_cs = Signal()
        m.d.comb += [
            spi.bytes.start.eq(Mux(cmd.busy, cmd.spi.start, h_start)),
            spi.bytes.tx.eq(Mux(cmd.busy, cmd.spi.tx, h_tx)),
            spi.bytes.cs.eq(Mux(cmd.busy, cmd.spi.cs, h_cs)),
            spi.bytes.fast.eq(fast),
            cmd.spi.ready.eq(spi.bytes.ready), cmd.spi.done.eq(spi.bytes.done & cmd.busy),
            cmd.spi.rx.eq(spi.bytes.rx),
        ]
        byte_done = spi.bytes.done & ~cmd.busy
        rx = spi.bytes.rx

        # ---- the request being served ----
        writing = Signal()
        block = Signal(64)          # of the card: BASE + the port's sector
        words = Signal(range(SECTOR_WORDS + 1))
        word = Signal(64)
        lane = Signal(3)
        crc = Signal(16)
        crc_rx = Signal(8)
        count = Signal(range(max(CMD0_TRIES, WAKE_BYTES, NCR_MAX) + 1))
        failing = Signal()
        timer = Signal(range(max(self.power_up_cycles, self.init_cycles, self.read_cycles,
                                 self.write_cycles) + 1))
        with m.If(timer != 0):
            m.d.sync += timer.eq(timer - 1)

        def send(byte, cs=1):
            m.d.comb += [h_start.eq(1), h_tx.eq(byte), h_cs.eq(cs)]

        def command(index, arg=0, long=False):
            m.d.comb += [cmd.start.eq(1), cmd.index.eq(index), cmd.arg.eq(arg),
                         cmd.long.eq(long)]

        def finish(code=None, why=0, lost=False):
            """End the card transaction (8 clocks deselected), then answer the request:
            an error ``code`` (``why``: the byte that showed it; ``lost``: initialize
            the card again next time) or success."""
            send(0xFF, cs=0)
            if code is None:
                m.d.sync += failing.eq(0)
            else:
                m.d.sync += [failing.eq(1), error.eq(code), detail.eq(why)]
            if lost:
                m.d.sync += [ready.eq(0), fast.eq(0)]
            m.next = "DESELECT"

        def send_crc16(byte):
            send(byte)
            m.d.sync += crc.eq(crc_step(crc, byte, CRC16_POLY, 16))

        def poll_on(code):
            """Continue an If-chain on the byte just read: once the timer has run out,
            fail with ``code`` (the card may be stuck: initialize it again next time),
            else read another byte."""
            with m.Elif(timer == 0):
                finish(code, rx, lost=True)
            with m.Else():
                send(0xFF)

        def initialized():
            m.d.sync += [ready.eq(1), fast.eq(1)]
            send(0xFF, cs=0)
            m.next = "INIT_END"

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += st.cmd.ready.eq(1)
                with m.If(st.cmd.valid):
                    req = st.cmd.payload
                    m.d.sync += [writing.eq(req.write), block.eq(base + req.sector),
                                 words.eq(0), failing.eq(0)]
                    with m.If(req.sector >= size):
                        m.d.sync += [failing.eq(1), error.eq(SDError.RANGE), detail.eq(0)]
                        m.next = "PAD"
                    with m.Elif(~ready):
                        m.d.sync += [timer.eq(self.power_up_cycles), fast.eq(0)]
                        m.next = "POWER_UP"
                    with m.Else():
                        m.next = "ACCESS"

            # ---- initialization (slow clock) ----
            with m.State("POWER_UP"):
                with m.If(timer == 0):
                    m.d.sync += count.eq(1)
                    send(0xFF, cs=0)
                    m.next = "WAKE"

            with m.State("WAKE"):
                with m.If(byte_done):
                    with m.If(count == WAKE_BYTES):
                        m.d.sync += count.eq(1)
                        command(CMD.GO_IDLE_STATE)
                        m.next = "GO_IDLE"
                    with m.Else():
                        m.d.sync += count.eq(count + 1)
                        send(0xFF, cs=0)

            with m.State("GO_IDLE"):
                with m.If(cmd.done):
                    with m.If(cmd.r1 == R1.IN_IDLE_STATE):
                        command(CMD.SEND_IF_COND, CMD8_ARG, long=True)
                        m.next = "IF_COND"
                    with m.Elif(count == CMD0_TRIES):
                        with m.If(cmd.no_response):
                            finish(SDError.NO_CARD, cmd.r1, lost=True)
                        with m.Else():
                            finish(SDError.NOT_IDLE, cmd.r1, lost=True)
                    with m.Else():
                        m.d.sync += count.eq(count + 1)
                        command(CMD.GO_IDLE_STATE)

            def expect(r1_ok, then):
                """A command's R1 must satisfy ``r1_ok``; then call ``then``."""
                with m.If(cmd.done):
                    with m.If(cmd.no_response):
                        finish(SDError.NO_RESPONSE, cmd.r1, lost=True)
                    with m.Elif(r1_ok(cmd.r1)):
                        then()
                    with m.Else():
                        finish(SDError.INIT_REJECTED, cmd.r1, lost=True)

            with m.State("IF_COND"):
                def checked():
                    with m.If(cmd.r1 == R1.IN_IDLE_STATE):
                        with m.If(cmd.payload[:12] == CMD8_ARG):
                            m.d.sync += v2.eq(1)
                            command(CMD.CRC_ON_OFF, 1)
                            m.next = "CRC_ON"
                        with m.Else():
                            finish(SDError.VOLTAGE, cmd.payload[:8], lost=True)
                    with m.Else():            # an SD 1.x card: CMD8 is illegal for it
                        m.d.sync += v2.eq(0)
                        command(CMD.CRC_ON_OFF, 1)
                        m.next = "CRC_ON"
                expect(lambda r1: (r1 == R1.IN_IDLE_STATE) |
                                  (r1 == (R1.IN_IDLE_STATE | R1.ILLEGAL_COMMAND)), checked)

            def app_cmd():
                command(CMD.APP_CMD)
                m.next = "APP_CMD"

            with m.State("CRC_ON"):
                def crc_on():
                    m.d.sync += timer.eq(self.init_cycles)
                    app_cmd()
                expect(lambda r1: r1 == R1.IN_IDLE_STATE, crc_on)

            with m.State("APP_CMD"):
                def op_cond():
                    command(ACMD.SD_SEND_OP_COND, Mux(v2, HCS, 0))
                    m.next = "OP_COND"
                expect(lambda r1: (r1 & ~R1.IN_IDLE_STATE) == 0, op_cond)

            with m.State("OP_COND"):
                def polled():
                    with m.If(cmd.r1 == 0):
                        with m.If(v2):
                            command(CMD.READ_OCR, long=True)
                            m.next = "READ_OCR"
                        with m.Else():
                            m.d.sync += high_capacity.eq(0)
                            command(CMD.SET_BLOCKLEN, SECTOR_BYTES)
                            m.next = "BLOCKLEN"
                    with m.Elif(timer == 0):
                        finish(SDError.INIT_TIMEOUT, cmd.r1, lost=True)
                    with m.Else():
                        app_cmd()
                expect(lambda r1: (r1 & ~R1.IN_IDLE_STATE) == 0, polled)

            with m.State("READ_OCR"):
                def ocr():
                    m.d.sync += high_capacity.eq(cmd.payload[30])
                    with m.If(cmd.payload[30]):
                        initialized()
                    with m.Else():
                        command(CMD.SET_BLOCKLEN, SECTOR_BYTES)
                        m.next = "BLOCKLEN"
                expect(lambda r1: r1 == 0, ocr)

            with m.State("BLOCKLEN"):
                expect(lambda r1: r1 == 0, initialized)

            with m.State("INIT_END"):
                with m.If(byte_done):
                    m.next = "ACCESS"

            # ---- one block (fast clock) ----
            with m.State("ACCESS"):
                # SDHC/SDXC: 32-bit block numbers; SDSC: 32-bit byte addresses.
                fits = Mux(high_capacity, block[32:] == 0, block[23:] == 0)
                addr = Mux(high_capacity, block[:32], Cat(C(0, 9), block[:23]))
                with m.If(~fits):
                    m.d.sync += [failing.eq(1), error.eq(SDError.RANGE), detail.eq(0)]
                    m.next = "PAD"
                with m.Else():
                    command(Mux(writing, CMD.WRITE_BLOCK, CMD.READ_SINGLE_BLOCK), addr)
                    m.next = "BLOCK_CMD"

            with m.State("BLOCK_CMD"):
                with m.If(cmd.done):
                    with m.If(cmd.no_response):
                        finish(SDError.NO_RESPONSE, cmd.r1, lost=True)
                    with m.Elif(cmd.r1 != 0):
                        finish(SDError.CMD_REJECTED, cmd.r1)
                    with m.Elif(writing):
                        send(0xFF)                          # N_WR: one byte before the token
                        m.next = "W_GAP"
                    with m.Else():
                        m.d.sync += timer.eq(self.read_cycles)
                        send(0xFF)
                        m.next = "R_TOKEN"

            # Read: wait for the start token, 512 bytes into 64 words, check the CRC16.
            with m.State("R_TOKEN"):
                with m.If(byte_done):
                    with m.If(rx == TOKEN.START_BLOCK):
                        m.d.sync += [crc.eq(0), lane.eq(0)]
                        send(0xFF)
                        m.next = "R_DATA"
                    with m.Elif(rx != 0xFF):
                        finish(SDError.READ_TOKEN, rx)
                    poll_on(SDError.READ_TIMEOUT)

            with m.State("R_DATA"):
                with m.If(byte_done):
                    m.d.sync += [word.eq(Cat(word[8:], rx)), lane.eq(lane + 1),
                                 crc.eq(crc_step(crc, rx, CRC16_POLY, 16))]
                    with m.If(lane == 7):
                        m.next = "R_PUSH"
                    with m.Else():
                        send(0xFF)

            with m.State("R_PUSH"):
                m.d.comb += [st.rdata.valid.eq(1), st.rdata.payload.eq(word)]
                with m.If(st.rdata.ready):
                    m.d.sync += words.eq(words + 1)
                    send(0xFF)
                    with m.If(words == SECTOR_WORDS - 1):
                        m.next = "R_CRC_HIGH"
                    with m.Else():
                        m.next = "R_DATA"

            with m.State("R_CRC_HIGH"):
                with m.If(byte_done):
                    m.d.sync += crc_rx.eq(rx)
                    send(0xFF)
                    m.next = "R_CRC_LOW"

            with m.State("R_CRC_LOW"):
                with m.If(byte_done):
                    with m.If(Cat(rx, crc_rx) == crc):
                        finish()
                    with m.Else():
                        finish(SDError.READ_CRC, rx)

            # Write: the start token, 64 words as 512 bytes, the CRC16, the data
            # response, then busy until the card lets go.
            with m.State("W_GAP"):
                with m.If(byte_done):
                    m.d.sync += crc.eq(0)
                    send(TOKEN.START_BLOCK)
                    m.next = "W_TOKEN"

            with m.State("W_TOKEN"):
                with m.If(byte_done):
                    m.next = "W_FETCH"

            with m.State("W_FETCH"):
                m.d.comb += st.wdata.ready.eq(1)
                with m.If(st.wdata.valid):
                    m.d.sync += [word.eq(st.wdata.payload), words.eq(words + 1), lane.eq(1)]
                    send_crc16(st.wdata.payload[:8])
                    m.next = "W_DATA"

            with m.State("W_DATA"):
                with m.If(byte_done):
                    with m.If(lane != 0):
                        m.d.sync += lane.eq(lane + 1)
                        send_crc16(word.word_select(lane, 8))
                    with m.Elif(words == SECTOR_WORDS):
                        send(crc[8:])
                        m.next = "W_CRC"
                    with m.Else():
                        m.next = "W_FETCH"

            with m.State("W_CRC"):
                with m.If(byte_done):
                    send(crc[:8])
                    m.d.sync += count.eq(0)
                    m.next = "W_CRC_END"

            with m.State("W_CRC_END"):
                with m.If(byte_done):
                    send(0xFF)
                    m.next = "W_RESPONSE"

            with m.State("W_RESPONSE"):
                with m.If(byte_done):
                    # A data response token looks like xxx0sss1.
                    with m.If((rx & 0b10001) == 0b00001):
                        with m.If((rx & DATA_RESPONSE.MASK) == DATA_RESPONSE.ACCEPTED):
                            m.d.sync += timer.eq(self.write_cycles)
                            send(0xFF)
                            m.next = "W_BUSY"
                        with m.Else():
                            finish(SDError.WRITE_REJECTED, rx)
                    with m.Elif(count == NCR_MAX - 1):
                        finish(SDError.NO_RESPONSE, rx, lost=True)
                    with m.Else():
                        m.d.sync += count.eq(count + 1)
                        send(0xFF)

            with m.State("W_BUSY"):
                with m.If(byte_done):
                    with m.If(rx != 0):
                        finish()
                    poll_on(SDError.WRITE_TIMEOUT)

            # ---- the answer ----
            with m.State("DESELECT"):
                with m.If(byte_done):
                    m.next = "PAD"

            # A failed request still moves the 64 words the port's protocol promises.
            with m.State("PAD"):
                with m.If(words == SECTOR_WORDS):
                    m.next = "RESPOND"
                with m.Elif(writing):
                    m.d.comb += st.wdata.ready.eq(1)
                    with m.If(st.wdata.valid):
                        m.d.sync += words.eq(words + 1)
                with m.Else():
                    m.d.comb += [st.rdata.valid.eq(1), st.rdata.payload.eq(0)]
                    with m.If(st.rdata.ready):
                        m.d.sync += words.eq(words + 1)

            with m.State("RESPOND"):
                m.d.comb += [st.resp.valid.eq(1), st.resp.payload.error.eq(failing)]
                with m.If(st.resp.ready):
                    m.next = "IDLE"
        return m
