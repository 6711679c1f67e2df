"""A behavioural SD memory card in SPI mode, for simulation only.

Written from the SD Physical Layer Simplified Specification's SPI chapter (the facts
are in proto.py).  It is an Amaranth component, so that both simulation engines run
the same model: Amaranth's Python simulator in testbenches and the compiled CXXRTL
model of the board (``make sim BOARD=...``), cycle for cycle alike.  The card's
contents are a 64-bit wide ``Memory`` without initializer (``mem``: byte k of the
card is byte k % 8 of row k // 8; its depth is a power of two, so that every address
the logic forms stays inside it); simulators fill it: ``load(ctx, offset, data)`` in
pysim, the memory's debug item ("card mem" inside soc.SoC) in CXXRTL.  Reads are asynchronous (a model may do
that), so a data byte is ready at any falling clock edge.

What it does:

* power-up: it ignores everything until it has seen 74 clocks with CS high; taking
  ``present`` low removes the card (all state is lost, ``cipo`` floats high) and
  putting it back powers it up again;
* SD mode until a CMD0 with a valid CRC arrives with CS low; then SPI mode, idle;
* in idle only CMD0, CMD8, CMD55, ACMD41, CMD58 and CMD59 are legal, others get
  R1 = idle | illegal command; unknown commands (anything but CMD0/8/16/17/24/55/58/59
  and ACMD41) are illegal in every state;
* CRC7 is checked on CMD8 always and on every command after CMD59(1) (R1 CRC error,
  the command is not executed); written blocks' CRC16 too (data response "CRC error",
  nothing written);
* CMD8 answers R7 (echo of the voltage and check pattern; VCA = 0 for a voltage other
  than 2.7-3.6 V); a ``kind="sdv1"`` card (SD 1.x) rejects it as illegal;
* ACMD41 keeps R1 = idle for ``init_polls - 1`` calls, then 0; an SDHC card whose
  first ACMD41 lacks HCS (or that saw no valid CMD8) never leaves idle;
* CMD58 answers R3 with the OCR: power-up done once initialized, CCS = 1 for
  ``kind="sdhc"`` (block addresses); ``kind="sdsc"`` and ``"sdv1"`` use byte addresses
  that must be multiples of 512 (else R1 address error) and accept CMD16(512) only;
* CMD17: R1, ``nac`` bytes 0xFF, 0xFE, the 512 bytes, their CRC16 (wrong if
  ``corrupt_read_crc``); a sector in ``bad_sectors`` gets a data error token instead
  (card ECC failed); a sector beyond the card gets R1 parameter error;
* CMD24: R1, then the card waits for 0xFE, takes 512 bytes and the CRC16, answers the
  data response (0xE5 accepted, 0xEB CRC error, 0xED write error for ``bad_sectors``)
  and is busy (0x00 bytes) for at least ``busy`` bytes and until the block is written;
* every response comes ``ncr`` bytes after its command (1 = the next byte; the spec
  allows 1..8).

``blocks_read`` and ``blocks_written`` count the blocks moved (for statistics).
"""

from amaranth import *
from amaranth.lib import wiring, memory
from amaranth.lib.wiring import In, Out

from ..ram import write_bytes, read_bytes
from .proto import (CMD, ACMD, R1, OCR, TOKEN, DATA_ERROR, SECTOR_BYTES, POWER_UP_CLOCKS,
                    CRC7_POLY, CRC16_POLY, crc_step)
from .spi import SPISignature

__all__ = ["SDCardModel", "KINDS"]

#: Card kinds: SDHC/SDXC (block addressed), SD 2.0 standard capacity, SD 1.x.
KINDS = ("sdhc", "sdsc", "sdv1")

DATA_RESPONSE_TOKEN = {"accepted": 0xE5, "crc": 0xEB, "write": 0xED}


class SDCardModel(wiring.Component):
    def __init__(self, *, size, kind="sdhc", ncr=1, nac=1, busy=2, init_polls=2,
                 bad_sectors=(), corrupt_read_crc=False):
        if size <= 0 or size % SECTOR_BYTES:
            raise ValueError(f"card size {size} is not a positive multiple of {SECTOR_BYTES}")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        if not 1 <= ncr <= 8:
            raise ValueError("ncr must be 1..8 bytes (N_CR)")
        if nac < 1 or busy < 1 or init_polls < 1:
            raise ValueError("nac, busy and init_polls must be at least 1")
        self.size = size
        self.sectors = size // SECTOR_BYTES
        self.kind = kind
        self.ncr = ncr
        self.nac = nac
        self.busy = busy
        self.init_polls = init_polls
        self.bad_sectors = tuple(sorted(set(bad_sectors)))
        self.corrupt_read_crc = corrupt_read_crc
        self.mem = memory.Memory(shape=64, depth=1 << (size // 8 - 1).bit_length(), init=[])
        super().__init__({
            "spi": In(SPISignature()),
            "present": In(1, init=1),
            "blocks_read": Out(32),
            "blocks_written": Out(32),
        })

    # --- simulation helpers (pysim) -------------------------------------------------
    def load(self, ctx, offset, data):
        """Put ``data`` on the card at byte ``offset``."""
        data = bytes(data)
        if offset < 0 or offset + len(data) > self.size:
            raise ValueError(f"{len(data)} bytes at {offset} do not fit on a {self.size}-byte card")
        write_bytes(ctx, self.mem.data, offset, data)

    def dump(self, ctx, offset, length):
        """``length`` bytes of the card from byte ``offset``."""
        if offset < 0 or offset + length > self.size:
            raise ValueError(f"{length} bytes at {offset} lie beyond the {self.size}-byte card")
        return read_bytes(ctx, self.mem.data, offset, length)

    # --- the card -----------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        card = _Card(self)
        # Removing the card powers it off: every register of the card goes back to
        # its reset value (the memory keeps the data).  (The card adds its ports to the
        # memory, so it is elaborated first.)
        m.submodules.card = ResetInserter(~self.present)(card)
        m.submodules.mem = self.mem
        m.d.comb += self.spi.cipo.eq(Mux(self.present, card.cipo, 1))
        with m.If(card.read_done):
            m.d.sync += self.blocks_read.eq(self.blocks_read + 1)
        with m.If(card.write_done):
            m.d.sync += self.blocks_written.eq(self.blocks_written + 1)
        return m


class _Card(Elaboratable):
    """The card's logic (inside the power domain that ``present`` resets)."""

    def __init__(self, model):
        self.p = model
        self.cipo = Signal(init=1)
        self.read_done = Signal()
        self.write_done = Signal()

    def elaborate(self, platform):
        p = self.p
        m = Module()
        spi = p.spi
        hc = p.kind == "sdhc"

        # ---- bits and bytes ----
        # The card samples copi on the clock's rising edges; on each falling edge it puts
        # out the next bit of the byte it is sending.  A byte slot starts at a falling
        # edge with `bit` = 0; the card sends `slot_byte` in it, a function of its state.
        # The state advances when the slot's last bit has arrived (`byte_done`, `rx`).
        clk_prev = Signal()
        m.d.sync += clk_prev.eq(spi.clk)
        rise = spi.clk & ~clk_prev
        fall = ~spi.clk & clk_prev
        selected = spi.cs

        awake_clocks = Signal(range(POWER_UP_CLOCKS + 1))
        awake = awake_clocks == POWER_UP_CLOCKS
        with m.If(rise & ~selected & ~awake):
            m.d.sync += awake_clocks.eq(awake_clocks + 1)

        bit = Signal(3)
        shift_in = Signal(8)
        shift_out = Signal(8, init=0xFF)
        slot_byte = Signal(8)
        byte_done = Signal()
        rx = Signal(8)
        with m.If(~selected):
            m.d.sync += [bit.eq(0), self.cipo.eq(1), shift_out.eq(0xFF)]
        with m.Elif(rise):
            m.d.sync += [shift_in.eq(Cat(spi.copi, shift_in[:7])), bit.eq(bit + 1)]
            with m.If(bit == 7):
                m.d.comb += [byte_done.eq(awake), rx.eq(Cat(spi.copi, shift_in[:7]))]
        with m.Elif(fall):
            with m.If(bit == 0):
                m.d.sync += [self.cipo.eq(slot_byte[7]), shift_out.eq(slot_byte << 1)]
            with m.Else():
                m.d.sync += [self.cipo.eq(shift_out[7]), shift_out.eq(shift_out << 1)]

        # ---- card state ----
        spi_mode = Signal()
        idle = Signal(init=1)
        crc_on = Signal()
        app = Signal()                  # the previous command was CMD55
        cmd8_ok = Signal()              # a CMD8 with a matching voltage was seen
        acmd41_seen = Signal()
        hcs = Signal()                  # HCS of the first ACMD41
        polls = Signal(range(p.init_polls + 1))

        # ---- the command: 5 bytes into cmd_buf, then the CRC byte (`rx`) ----
        cmd_buf = Signal(40)
        cmd_bytes = Signal(range(6))
        index = cmd_buf[32:38]
        arg = cmd_buf[:32]
        crc_ok = crc_step(C(0, 7), cmd_buf, CRC7_POLY, 7) == rx[1:]

        # ---- the response: `delay` bytes of 0xFF, then `resp_len` bytes of `resp` ----
        delay = Signal(range(8))
        resp = Signal(40)
        resp_len = Signal(range(6))
        after = Signal(2)               # the phase after the response
        AFTER_IDLE, AFTER_READ, AFTER_WRITE = range(3)

        # ---- data phases ----
        sector = Signal(32)
        bad = Signal()                  # the sector is one of bad_sectors
        count = Signal(range(max(p.nac, p.busy, SECTOR_BYTES) + 1))
        crc16 = Signal(16)
        crc_rx = Signal(16)
        card_r = p.mem.read_port(domain="comb")
        card_w = p.mem.write_port()
        buf = memory.Memory(shape=64, depth=SECTOR_BYTES // 8, init=[])
        m.submodules.buf = buf          # a written block waits here until its CRC is known
        buf_w = buf.write_port(granularity=8)
        buf_r = buf.read_port(domain="comb")
        copying = Signal()
        copy_row = Signal(range(SECTOR_BYTES // 8))

        sector_row = Cat(C(0, 6), sector)           # the sector's first row
        m.d.comb += card_r.addr.eq(sector_row + count[3:])
        data_byte = card_r.data.word_select(count[:3], 8)

        def block_byte(byte, then):
            """One of the block's 512 bytes went by: count it into the CRC; after the
            last, go to ``then``."""
            m.d.sync += [count.eq(count + 1), crc16.eq(crc_step(crc16, byte, CRC16_POLY, 16))]
            with m.If(count == SECTOR_BYTES - 1):
                m.d.sync += count.eq(0)
                m.next = then

        def respond(r1, extra=None, then=AFTER_IDLE):
            """Answer R1 (R3/R7: and 4 more bytes) after the command's N_CR delay."""
            m.d.sync += [delay.eq(p.ncr - 1), resp_len.eq(1 if extra is None else 5),
                         resp.eq(Cat(C(0, 32) if extra is None else extra, C(r1, 8) if isinstance(r1, int) else r1)),
                         after.eq(then)]
            m.next = "RESPOND"

        def go_idle():
            m.d.sync += [spi_mode.eq(1), idle.eq(1), crc_on.eq(0), app.eq(0), cmd8_ok.eq(0),
                         acmd41_seen.eq(0), polls.eq(0)]
            respond(R1.IN_IDLE_STATE)

        def send_op_cond():
            """ACMD41: start or poll the card's initialization."""
            first = ~acmd41_seen
            hcs_now = Mux(first, arg[30], hcs)
            m.d.sync += acmd41_seen.eq(1)
            with m.If(first):
                m.d.sync += hcs.eq(arg[30])
            # A high-capacity card never finishes for a host that did not ask for it.
            stuck = ~(cmd8_ok & hcs_now) if hc else C(0, 1)
            with m.If(~idle):
                respond(0)
            with m.Elif(stuck):
                respond(R1.IN_IDLE_STATE)
            with m.Elif(polls + 1 >= p.init_polls):
                m.d.sync += idle.eq(0)
                respond(0)
            with m.Else():
                m.d.sync += polls.eq(polls + 1)
                respond(R1.IN_IDLE_STATE)

        def block_access(then):
            """CMD17/CMD24: check the address, then the data phase ``then``."""
            if hc:
                target, misaligned = arg, C(0, 1)
            else:
                target, misaligned = arg[9:], arg[:9] != 0
            is_bad = C(0, 1)
            for s in p.bad_sectors:
                is_bad = is_bad | (target == s)
            with m.If(misaligned):
                respond(R1.ADDRESS_ERROR)
            with m.Elif(target >= p.sectors):
                respond(R1.PARAMETER_ERROR)
            with m.Else():
                m.d.sync += [sector.eq(target), bad.eq(is_bad)]
                respond(0, then=then)

        def execute():
            """The command in cmd_buf (CRC byte in `rx`) has arrived."""
            idle_r1 = Mux(idle, R1.IN_IDLE_STATE, 0)
            illegal = idle_r1 | R1.ILLEGAL_COMMAND
            with m.If(~spi_mode):
                # Still in SD mode: only a valid CMD0 is understood (SD mode never
                # answers on the SPI wires).
                with m.If((index == CMD.GO_IDLE_STATE) & crc_ok):
                    go_idle()
            with m.Elif((crc_on | (index == CMD.SEND_IF_COND)) & ~crc_ok):
                m.d.sync += app.eq(0)
                respond(idle_r1 | R1.COM_CRC_ERROR)
            with m.Elif(app):
                m.d.sync += app.eq(0)
                with m.If(index == ACMD.SD_SEND_OP_COND):
                    send_op_cond()
                with m.Else():
                    respond(illegal)
            with m.Else():
                with m.Switch(index):
                    with m.Case(CMD.GO_IDLE_STATE):
                        go_idle()
                    with m.Case(CMD.SEND_IF_COND):
                        if p.kind == "sdv1":
                            respond(illegal)
                        else:
                            vhs = arg[8:12]
                            match = vhs == 0b0001
                            m.d.sync += cmd8_ok.eq(match)
                            respond(idle_r1, Cat(arg[:8], Mux(match, vhs, 0), C(0, 20)))
                    with m.Case(CMD.APP_CMD):
                        m.d.sync += app.eq(1)
                        respond(idle_r1)
                    with m.Case(CMD.READ_OCR):
                        ready_bits = OCR.POWER_UP_DONE | (OCR.CCS if hc else 0)
                        respond(idle_r1, Mux(idle, C(OCR.VDD_27_36, 32),
                                             C(OCR.VDD_27_36 | ready_bits, 32)))
                    with m.Case(CMD.CRC_ON_OFF):
                        m.d.sync += crc_on.eq(arg[0])
                        respond(idle_r1)
                    with m.Case(CMD.SET_BLOCKLEN):
                        with m.If(idle):
                            respond(illegal)
                        with m.Elif((arg != SECTOR_BYTES) if not hc else C(0, 1)):
                            respond(R1.PARAMETER_ERROR)
                        with m.Else():
                            respond(0)
                    with m.Case(CMD.READ_SINGLE_BLOCK, CMD.WRITE_BLOCK):
                        with m.If(idle):
                            respond(illegal)
                        with m.Elif(index == CMD.READ_SINGLE_BLOCK):
                            block_access(AFTER_READ)
                        with m.Else():
                            block_access(AFTER_WRITE)
                    with m.Default():
                        respond(illegal)

        def abandon_when_deselected():
            with m.If(~selected):
                m.next = "IDLE"

        with m.FSM(name="phase"):
            # Listening for a command (sending 0xFF).  A command starts with a byte 01xxxxxx.
            with m.State("IDLE"):
                m.d.comb += slot_byte.eq(0xFF)
                with m.If(~selected):
                    m.d.sync += cmd_bytes.eq(0)
                with m.Elif(byte_done):
                    with m.If(cmd_bytes == 0):
                        with m.If(rx[6:] == 0b01):
                            m.d.sync += [cmd_buf.eq(rx), cmd_bytes.eq(1)]
                    with m.Elif(cmd_bytes < 5):
                        m.d.sync += [cmd_buf.eq(Cat(rx, cmd_buf[:32])),
                                     cmd_bytes.eq(cmd_bytes + 1)]
                    with m.Else():
                        m.d.sync += cmd_bytes.eq(0)
                        execute()

            with m.State("RESPOND"):
                abandon_when_deselected()
                m.d.comb += slot_byte.eq(Mux(delay != 0, 0xFF, resp[32:]))
                with m.If(byte_done):
                    with m.If(delay != 0):
                        m.d.sync += delay.eq(delay - 1)
                    with m.Else():
                        m.d.sync += [resp.eq(resp << 8), resp_len.eq(resp_len - 1)]
                        with m.If(resp_len == 1):
                            with m.Switch(after):
                                with m.Case(AFTER_IDLE):
                                    m.next = "IDLE"
                                with m.Case(AFTER_READ):
                                    m.d.sync += count.eq(p.nac)
                                    m.next = "READ_WAIT"
                                with m.Case(AFTER_WRITE):
                                    m.next = "WRITE_WAIT"

            # ---- CMD17: N_AC bytes of 0xFF, the start token, the data, the CRC ----
            with m.State("READ_WAIT"):
                abandon_when_deselected()
                m.d.comb += slot_byte.eq(0xFF)
                with m.If(byte_done):
                    m.d.sync += count.eq(count - 1)
                    with m.If(count == 1):
                        m.next = "READ_TOKEN"

            with m.State("READ_TOKEN"):
                abandon_when_deselected()
                m.d.comb += slot_byte.eq(Mux(bad, DATA_ERROR.CARD_ECC_FAILED, TOKEN.START_BLOCK))
                with m.If(byte_done):
                    m.d.sync += [count.eq(0), crc16.eq(0)]
                    with m.If(bad):
                        m.next = "IDLE"
                    with m.Else():
                        m.next = "READ_DATA"

            with m.State("READ_DATA"):
                abandon_when_deselected()
                m.d.comb += slot_byte.eq(data_byte)
                with m.If(byte_done):
                    block_byte(data_byte, then="READ_CRC")

            with m.State("READ_CRC"):
                abandon_when_deselected()
                sent_crc = crc16 ^ int(p.corrupt_read_crc)
                m.d.comb += slot_byte.eq(Mux(count[0], sent_crc[:8], sent_crc[8:]))
                with m.If(byte_done):
                    m.d.sync += count.eq(count + 1)
                    with m.If(count[0]):
                        m.d.comb += self.read_done.eq(1)
                        m.next = "IDLE"

            # ---- CMD24: wait for the start token, take the block and its CRC ----
            with m.State("WRITE_WAIT"):
                abandon_when_deselected()
                m.d.comb += slot_byte.eq(0xFF)
                with m.If(byte_done & (rx == TOKEN.START_BLOCK)):
                    m.d.sync += [count.eq(0), crc16.eq(0)]
                    m.next = "WRITE_DATA"

            with m.State("WRITE_DATA"):
                abandon_when_deselected()
                m.d.comb += slot_byte.eq(0xFF)
                with m.If(byte_done):
                    m.d.comb += [buf_w.addr.eq(count[3:]), buf_w.data.eq(rx.replicate(8)),
                                 buf_w.en.eq(1 << count[:3])]
                    block_byte(rx, then="WRITE_CRC")

            with m.State("WRITE_CRC"):
                abandon_when_deselected()
                m.d.comb += slot_byte.eq(0xFF)
                with m.If(byte_done):
                    m.d.sync += [crc_rx.eq(Cat(rx, crc_rx[:8])), count.eq(count + 1)]
                    with m.If(count[0]):
                        m.next = "WRITE_RESPONSE"

            with m.State("WRITE_RESPONSE"):
                abandon_when_deselected()
                crc_good = ~crc_on | (crc_rx == crc16)
                m.d.comb += slot_byte.eq(Mux(~crc_good, DATA_RESPONSE_TOKEN["crc"],
                                             Mux(bad, DATA_RESPONSE_TOKEN["write"],
                                                 DATA_RESPONSE_TOKEN["accepted"])))
                with m.If(byte_done):
                    with m.If(crc_good & ~bad):
                        m.d.sync += [copying.eq(1), copy_row.eq(0), count.eq(p.busy)]
                        m.next = "BUSY"
                    with m.Else():
                        m.next = "IDLE"

            # Busy (0x00) for `busy` bytes and until the block is written.  Deselecting
            # does not stop the write: the card is busy again when selected.
            with m.State("BUSY"):
                m.d.comb += slot_byte.eq(Mux(copying | (count != 0), 0x00, 0xFF))
                with m.If(byte_done):
                    with m.If(count != 0):
                        m.d.sync += count.eq(count - 1)
                    with m.Elif(~copying):
                        m.next = "IDLE"

        # ---- the accepted block goes into the card, one row per cycle ----
        m.d.comb += [buf_r.addr.eq(copy_row), card_w.addr.eq(sector_row + copy_row),
                     card_w.data.eq(buf_r.data)]
        with m.If(copying):
            m.d.comb += card_w.en.eq(1)
            m.d.sync += copy_row.eq(copy_row + 1)
            with m.If(copy_row == SECTOR_BYTES // 8 - 1):
                m.d.sync += copying.eq(0)
                m.d.comb += self.write_done.eq(1)
        return m
