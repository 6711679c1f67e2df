"""SDR SDRAM controller: a slave of the SoC bus (hw/bus.py, bursts included) serving
main memory from a 16-bit SDRAM (soc/sdram/chip.py has the chip's facts).

Addresses: byte address bits, from the bottom: the byte in a 16-bit word, the column,
the bank, the row.  A 64-bit beat is four consecutive columns; a burst of up to 16
beats (128 bytes, aligned) never leaves its row.  Consecutive 1 KiB blocks go to
different banks.

Policy: one transfer at a time, closed page.  Each bus transfer activates its row,
reads or writes its beats, and precharges the bank, so every transfer finds all banks
idle: simple, and the latency of a transfer does not depend on what came before.  The
mode register sets bursts of 4 (one beat); the beats of a bus burst are READ/WRITE
commands 4 cycles apart, which the chip chains without a gap, so a cache line arrives
as one stream of words.

Timeline of a read (cycles after the request is seen; ``rcd`` etc. from chip.Cycles,
``read_delay`` the extra capture registers between the pins and the controller)::

    0          ACTIVE  (commands leave through output registers: on the pins one cycle later)
    rcd        READ beat 0;  rcd + 4: READ beat 1 ...
    rcd + CL + 2 + read_delay ... + 3:   the four words of beat 0 arrive
    rcd + CL + 6 + read_delay:           ready for beat 0, then one beat every 4 cycles
    PRECHARGE when the last burst has left the chip and tRAS has passed; IDLE after tRP

Writes drive the four words of a beat from the WRITE command on (DQM masks the byte
lanes off in ``sel``).  The controller takes the beat's ``wdata`` and ``sel`` with the
WRITE command and keeps the last three words in a register; ``ready`` comes in the
next cycle, three cycles before the next beat's WRITE takes the master's next
``wdata``: time enough for a register slice in front (soc/interconnect.py), whose
copy of ``wdata`` is that late.  The bank is precharged tWR after the last word.

Power-up: ``init`` cycles of NOP, PRECHARGE ALL, ``init_refreshes`` AUTO REFRESH,
LOAD MODE; ``initialized`` goes high after that (the board's LEDs show it).  Refresh:
a counter raises a request every ``refi`` cycles; the controller serves it before the
next bus transfer, and since a transfer is far shorter than ``refi`` (checked at
construction) a refresh is never late by more than one transfer: it never starves.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.bus import BusSignature
from .. import memmap
from .chip import Cmd, ULX3S_85F, mode_word
from .pins import SDRAMPinsSignature

__all__ = ["SDRAMController"]

WORDS_PER_BEAT = 4          # 64-bit beat / 16-bit words = the programmed burst length
MAX_BEATS = 16


class SDRAMController(wiring.Component):
    """``timing``: chip.Cycles for the system clock; ``read_delay``: cycles that the
    world outside adds between a READ leaving the controller and its data coming back
    (0 when the chip is wired straight to the controller, as in simulation; the board's
    output and input registers add one each)."""

    def __init__(self, timing, geometry=ULX3S_85F, base=memmap.RAM_BASE, read_delay=0):
        self.timing, self.geometry, self.read_delay = timing, geometry, read_delay
        self.region = memmap.Region("ram", base, geometry.size)
        self.size, self.base = geometry.size, base
        if read_delay < 0:
            raise ValueError("read_delay must be >= 0")
        worst = self.longest_transfer()
        if worst >= timing.refi:
            raise ValueError(f"a transfer can take {worst} cycles, longer than the refresh "
                             f"interval of {timing.refi} cycles: refreshes would be late")
        super().__init__({
            "bus": In(BusSignature(self.region.addr_width)),
            "pins": Out(SDRAMPinsSignature(geometry)),
            "initialized": Out(1),
        })

    def longest_transfer(self):
        """Cycles from the start of a 16-beat transfer until the controller is idle."""
        t = self.timing
        reads = (t.rcd + WORDS_PER_BEAT * MAX_BEATS + t.cas_latency + 2 + self.read_delay
                 + max(t.ras, t.rp))
        writes = t.rcd + WORDS_PER_BEAT * MAX_BEATS + t.wr + t.rp
        return max(reads, writes, t.rc) + t.rfc

    def elaborate(self, platform):
        m = Module()
        t, g = self.timing, self.geometry
        bus, pins = self.bus, self.pins

        # --- the request, split into row, bank, column --------------------------------
        col_lo = 1
        bank_lo = col_lo + g.col_bits
        row_lo = bank_lo + g.bank_bits
        row = Signal(g.row_bits)
        bank = Signal(max(g.bank_bits, 1))
        col = Signal(g.col_bits)
        beats_left = Signal(range(MAX_BEATS + 1))
        write = Signal()

        # --- command and data registers (the pins) ---------------------------------
        cmd = Signal(Cmd)
        addr = Signal(len(pins.a))
        ba = Signal(len(pins.ba))
        dqm = Signal(len(pins.dqm))
        dq_o = Signal(g.width)
        dq_oe = Signal()
        m.d.comb += [
            pins.clk_en.eq(1),
            pins.cs.eq(1),
            Cat(pins.we, pins.cas, pins.ras).eq(cmd),
            pins.a.eq(addr),
            pins.ba.eq(ba),
            pins.dqm.eq(dqm),
            pins.dq_o.eq(dq_o),
            pins.dq_oe.eq(dq_oe),
        ]
        m.d.sync += [cmd.eq(Cmd.NOP), dq_oe.eq(0), dqm.eq(0)]

        # --- timers ----------------------------------------------------------------
        timer = Signal(range(max(t.init, t.refi, 64) + 1))   # until the FSM's next step
        ras_timer = Signal(range(t.ras + 1))                 # until PRECHARGE may follow ACTIVE
        rc_timer = Signal(range(t.rc + 1))                   # until the next ACTIVE
        for tm in (timer, ras_timer, rc_timer):
            with m.If(tm != 0):
                m.d.sync += tm.eq(tm - 1)

        refi_count = Signal(range(t.refi + 1), init=t.refi)
        refresh_due = Signal()
        with m.If(refi_count == 0):
            m.d.sync += [refi_count.eq(t.refi), refresh_due.eq(1)]
        with m.Else():
            m.d.sync += refi_count.eq(refi_count - 1)

        def command(c, *, a=0, bank_=0, wait=1):
            """Put command ``c`` on the pins next cycle; the FSM's next step comes
            ``wait`` cycles after it (timer)."""
            m.d.sync += [cmd.eq(c), addr.eq(a), ba.eq(bank_), timer.eq(wait - 1)]

        # --- read data: capture, assemble four words, answer --------------------------
        captured = Signal(g.width)
        m.d.sync += captured.eq(pins.dq_i)

        read_issued = Signal()
        word_delay = t.cas_latency + 2 + self.read_delay
        in_flight = Signal(word_delay)       # a READ's first word is `word_delay` cycles away
        m.d.sync += in_flight.eq(Cat(read_issued, in_flight[:-1]))
        first_word = in_flight[-1]
        word_n = Signal(2)                   # words of the current beat collected
        assembling = Signal()
        rbuf = Signal(64)
        word_in = first_word | assembling
        ready = Signal()
        m.d.sync += ready.eq(0)
        with m.If(word_in):
            m.d.sync += [rbuf.eq(Cat(rbuf[16:], captured)), word_n.eq(word_n + 1),
                         assembling.eq(word_n != WORDS_PER_BEAT - 1)]
            with m.If(word_n == WORDS_PER_BEAT - 1):
                m.d.sync += ready.eq(1)

        # The bus transfer stays open until its last ready.
        open_ = Signal()
        answered = Signal(range(MAX_BEATS + 1))
        with m.If(ready):
            m.d.sync += answered.eq(answered + 1)
            with m.If(answered == bus.burst_len):
                m.d.sync += [open_.eq(0), answered.eq(0)]
        m.d.comb += [
            bus.ready.eq(ready),
            bus.rdata.eq(Mux(write, 0, rbuf)),
            bus.error.eq(0),
        ]

        # --- the sequencer -----------------------------------------------------------
        refreshes = Signal(range(t.init_refreshes + 1))
        phase = Signal(2)                    # word of the beat being written
        wbuf = Signal(64 - g.width)          # the beat's words after the first, in order
        wmask = Signal(len(wbuf) // 8)       # and their DQM bits (a set bit masks a byte)

        with m.FSM(name="sdram"):
            with m.State("POWER_UP"):
                m.d.sync += timer.eq(t.init - 1)
                m.next = "POWER_UP_WAIT"
            with m.State("POWER_UP_WAIT"):
                with m.If(timer == 0):
                    command(Cmd.PRECHARGE, a=1 << 10, wait=t.rp)
                    m.next = "INIT_REFRESH"
            with m.State("INIT_REFRESH"):
                with m.If(timer == 0):
                    command(Cmd.REFRESH, wait=t.rfc)
                    m.d.sync += refreshes.eq(refreshes + 1)
                    with m.If(refreshes == t.init_refreshes - 1):
                        m.next = "INIT_MODE"
            with m.State("INIT_MODE"):
                with m.If(timer == 0):
                    command(Cmd.LOAD_MODE, a=mode_word(t.cas_latency, WORDS_PER_BEAT),
                            wait=t.mrd)
                    m.d.sync += [self.initialized.eq(1), refresh_due.eq(0),
                                 refi_count.eq(t.refi)]
                    m.next = "IDLE"

            with m.State("IDLE"):
                # The timer holds off the next command after PRECHARGE (tRP), AUTO
                # REFRESH (tRFC) and LOAD MODE (tMRD).
                with m.If(timer != 0):
                    pass
                with m.Elif(refresh_due):
                    command(Cmd.REFRESH, wait=t.rfc)
                    m.d.sync += refresh_due.eq(0)
                with m.Elif(bus.valid & ~open_ & (rc_timer == 0)):
                    a = bus.addr
                    command(Cmd.ACTIVE, a=a[row_lo:], bank_=a[bank_lo:row_lo], wait=t.rcd)
                    m.d.sync += [
                        row.eq(a[row_lo:]), bank.eq(a[bank_lo:row_lo]), col.eq(a[col_lo:bank_lo]),
                        beats_left.eq(bus.burst_len + 1), write.eq(bus.write),
                        open_.eq(1), ras_timer.eq(t.ras - 1), rc_timer.eq(t.rc - 1),
                        phase.eq(0),
                    ]
                    with m.If(bus.write):
                        m.next = "WRITE"
                    with m.Else():
                        m.next = "READ"

            with m.State("READ"):
                with m.If(timer == 0):
                    command(Cmd.READ, a=col, bank_=bank, wait=WORDS_PER_BEAT)
                    m.d.comb += read_issued.eq(1)
                    m.d.sync += [col.eq(col + WORDS_PER_BEAT), beats_left.eq(beats_left - 1)]
                    with m.If(beats_left == 1):
                        m.next = "PRECHARGE"

            with m.State("WRITE"):
                with m.If((timer == 0) | (phase != 0)):
                    m.d.sync += [dq_oe.eq(1), phase.eq(phase + 1)]
                    with m.If(phase == 0):
                        # The beat is taken: its first word goes out now, the rest
                        # from wbuf; the master may move on to the next beat.
                        command(Cmd.WRITE, a=col, bank_=bank, wait=1)
                        m.d.sync += [dq_o.eq(bus.wdata[:g.width]), dqm.eq(~bus.sel[:2]),
                                     wbuf.eq(bus.wdata[g.width:]), wmask.eq(~bus.sel[2:]),
                                     ready.eq(1)]
                    with m.Else():
                        m.d.sync += [dq_o.eq(wbuf[:g.width]), dqm.eq(wmask[:2]),
                                     wbuf.eq(wbuf[g.width:]), wmask.eq(wmask[2:])]
                    with m.If(phase == WORDS_PER_BEAT - 1):
                        m.d.sync += [col.eq(col + WORDS_PER_BEAT),
                                     beats_left.eq(beats_left - 1)]
                        with m.If(beats_left == 1):
                            m.d.sync += timer.eq(t.wr - 1)     # last word to PRECHARGE
                            m.next = "PRECHARGE"

            with m.State("PRECHARGE"):
                with m.If((timer == 0) & (ras_timer == 0)):
                    command(Cmd.PRECHARGE, bank_=bank, wait=t.rp)
                    m.next = "IDLE"
        return m
