"""A behavioural SDR SDRAM chip for simulation, written from the JEDEC SDR SDRAM rules
and the 32 MB x16 parts' datasheets (facts in chip.py).  Not for synthesis.

It is an Amaranth component, so that both engines run the same model: Amaranth's
Python simulator in the controller's testbenches, and the compiled CXXRTL model of the
board configuration (``make sim BOARD=ulx3s-85f``).  It samples the pins at every
rising clock edge, like the chip, and:

* decodes the commands (chip.py) and keeps each bank's state (idle, or active with a
  row open) and the mode register (CAS latency 2 or 3, sequential bursts of 1, 2, 4
  or 8; anything else is refused);
* stores data in ``mem``, 64-bit rows without initializer, each holding four
  16-bit words, the words indexed row:bank:column: that is the order in which
  soc/sdram/controller.py maps byte addresses, so the memory is a byte image of the
  RAM laid out like soc/ram.py's (simulators load and read it the same way);
* reads: word k of a burst is driven on ``dq`` during the CL-th cycle after the one
  in which it was addressed (READ's cycle for the first); writes take ``dq`` with the
  WRITE command and the following cycles, with DQM masking bytes; a new READ or WRITE
  cuts a running burst short, PRECHARGE of its bank or BURST TERMINATE ends it;
* checks, and reports the first breach as ``error`` (an ``Error``) with the cycle
  number ``error_cycle`` and the bank ``error_bank``: the power-up wait (``init``
  cycles of NOP) and sequence (PRECHARGE ALL, ``init_refreshes`` AUTO REFRESH, LOAD
  MODE before the first ACTIVE); tRCD, tRP, tRC, tRAS, tWR, tMRD and tRFC; commands
  to a bank in the wrong state; AUTO REFRESH or LOAD MODE with a bank open; a refresh
  deadline (no gap between AUTO REFRESH commands longer than ``refresh_max`` cycles
  once initialised); both sides driving ``dq`` in the same cycle; a write data cycle
  with neither data driven nor DQM masking it.

The timings come as a ``chip.Cycles`` (the chip's own, independent of the
controller's parameters: a controller built with a wrong timing is caught here).
Not modelled: auto precharge (refused as ``UNSUPPORTED``), read DQM masking, power
down and self refresh (CKE must stay high), tRRD and tRAS's upper limit.
"""

from amaranth import *
from amaranth.lib import wiring, memory, enum
from amaranth.lib.wiring import In, Out

from .chip import Cmd, Geometry, ULX3S_85F
from .pins import SDRAMPinsSignature

__all__ = ["SDRAMModel", "Error"]

TIME_BITS = 40          # cycle stamps: 40 bits last 3 hours of simulated time at 100 MHz


class Error(enum.Enum, shape=5):
    NONE            = 0
    INIT_EARLY      = 1   # a command other than NOP during the power-up wait
    NOT_READY       = 2   # ACTIVE/READ/WRITE before PRECHARGE ALL, the refreshes and LOAD MODE
    BAD_MODE        = 3   # a mode this model (or the controller's design) does not use
    ACTIVE_OPEN     = 4   # ACTIVE to a bank that is already active
    IDLE_BANK       = 5   # READ/WRITE to a bank with no open row
    T_RCD           = 6
    T_RP            = 7
    T_RC            = 8
    T_RAS           = 9
    T_WR            = 10
    T_MRD           = 11
    T_RFC           = 12
    REFRESH_OPEN    = 13  # AUTO REFRESH with a bank open
    MODE_OPEN       = 14  # LOAD MODE with a bank open
    REFRESH_LATE    = 15  # more than refresh_max cycles without AUTO REFRESH
    CONTENTION      = 16  # controller and chip drive dq in the same cycle
    NO_WRITE_DATA   = 17  # a write data cycle with dq not driven and not masked
    UNSUPPORTED     = 18  # auto precharge, CKE low


class SDRAMModel(wiring.Component):
    """The chip on the other side of ``pins`` (a flipped SDRAMPinsSignature).

    ``timing`` (chip.Cycles): the chip's timings; ``refresh_max``: the refresh deadline
    in cycles (default 9 x refi: JEDEC lets a controller postpone up to 8 refreshes)."""

    def __init__(self, timing, geometry=ULX3S_85F, refresh_max=None):
        self.geometry = geometry
        self.timing = timing
        self.refresh_max = refresh_max if refresh_max is not None else 9 * timing.refi
        g = geometry
        self.mem = memory.Memory(shape=64, depth=g.banks * g.rows * g.cols // 4, init=[])
        super().__init__({
            "pins": In(SDRAMPinsSignature(geometry)),
            "error": Out(Error),
            "error_cycle": Out(TIME_BITS),
            "error_bank": Out(range(g.banks)),
            "refreshes": Out(32),      # AUTO REFRESH commands seen (statistics)
        })

    def elaborate(self, platform):
        m = Module()
        g, t = self.geometry, self.timing
        pins = self.pins
        m.submodules.mem = self.mem
        rd = self.mem.read_port()
        wr = self.mem.write_port(granularity=8)

        now = Signal(TIME_BITS)
        m.d.sync += now.eq(now + 1)

        def stamp(name):
            # Starts "long ago", so the first command of each kind is never too early.
            return Signal(TIME_BITS, name=name, init=(1 << TIME_BITS) - (1 << 20))

        def since(at):
            return (now - at)[:TIME_BITS]

        banks = range(g.banks)
        active = Array(Signal(name=f"active{b}") for b in banks)
        open_row = Array(Signal(g.row_bits, name=f"row{b}") for b in banks)
        act_at = Array(stamp(f"act_at{b}") for b in banks)
        pre_at = Array(stamp(f"pre_at{b}") for b in banks)
        wdata_at = Array(stamp(f"wdata_at{b}") for b in banks)
        ref_at, mode_at = stamp("ref_at"), stamp("mode_at")
        pre_any_at = stamp("pre_any_at")     # the last precharge of any bank

        # Power-up sequence.
        precharged_all = Signal()
        init_refs = Signal(range(t.init_refreshes + 1))
        mode_set = Signal()
        ready = Signal()
        m.d.comb += ready.eq(precharged_all & (init_refs == t.init_refreshes) & mode_set)

        # Mode register.
        cas_latency = Signal(2)
        burst_len = Signal(4)

        # The running burst.
        burst_on = Signal()
        burst_write = Signal()
        burst_bank = Signal(range(g.banks))
        burst_col = Signal(g.col_bits)       # column of the burst's first word
        burst_i = Signal(4)                  # words done
        burst_n = Signal(4)

        # Errors: the first one sticks.
        def fail(code, bank=0):
            with m.If(self.error == Error.NONE):
                m.d.sync += [self.error.eq(code), self.error_cycle.eq(now),
                             self.error_bank.eq(bank)]

        ras, cas, we = pins.ras, pins.cas, pins.we
        cmd = Signal(Cmd)
        m.d.comb += cmd.eq(Mux(pins.cs, Cat(we, cas, ras), Cmd.NOP))
        bank = pins.ba[:g.bank_bits] if g.bank_bits else C(0, 1)
        a10 = pins.a[10]

        # --- commands ---------------------------------------------------------------
        with m.If(~pins.clk_en):
            fail(Error.UNSUPPORTED)
        with m.If((cmd != Cmd.NOP) & (now < t.init)):
            fail(Error.INIT_EARLY)

        any_active = Cat(*active).any()

        def mrd_rfc_checks():
            with m.If(since(mode_at) < t.mrd):
                fail(Error.T_MRD)
            with m.If(since(ref_at) < t.rfc):
                fail(Error.T_RFC)

        def all_banks_idle_checks(open_error):
            """AUTO REFRESH and LOAD MODE: every bank precharged, tRP ago or more."""
            with m.If(any_active):
                fail(open_error)
            with m.If(since(pre_any_at) < t.rp):
                fail(Error.T_RP)
            mrd_rfc_checks()


        with m.Switch(cmd):
            with m.Case(Cmd.ACTIVE):
                with m.If(~ready):
                    fail(Error.NOT_READY, bank)
                with m.If(active[bank]):
                    fail(Error.ACTIVE_OPEN, bank)
                with m.If(since(pre_at[bank]) < t.rp):
                    fail(Error.T_RP, bank)
                with m.If(since(act_at[bank]) < t.rc):
                    fail(Error.T_RC, bank)
                mrd_rfc_checks()
                m.d.sync += [active[bank].eq(1), open_row[bank].eq(pins.a[:g.row_bits]),
                             act_at[bank].eq(now)]

            with m.Case(Cmd.READ, Cmd.WRITE):
                with m.If(~ready):
                    fail(Error.NOT_READY, bank)
                with m.If(~active[bank]):
                    fail(Error.IDLE_BANK, bank)
                with m.If(since(act_at[bank]) < t.rcd):
                    fail(Error.T_RCD, bank)
                with m.If(a10):
                    fail(Error.UNSUPPORTED, bank)

            with m.Case(Cmd.PRECHARGE):
                for b in banks:
                    with m.If(a10 | (bank == b)):
                        with m.If(active[b]):
                            with m.If(since(act_at[b]) < t.ras):
                                fail(Error.T_RAS, b)
                            with m.If(since(wdata_at[b]) < t.wr):
                                fail(Error.T_WR, b)
                            m.d.sync += [pre_at[b].eq(now), pre_any_at.eq(now)]
                        m.d.sync += active[b].eq(0)
                with m.If(a10):
                    m.d.sync += precharged_all.eq(1)

            with m.Case(Cmd.REFRESH):
                all_banks_idle_checks(Error.REFRESH_OPEN)
                m.d.sync += [ref_at.eq(now), self.refreshes.eq(self.refreshes + 1)]
                with m.If(precharged_all & (init_refs != t.init_refreshes)):
                    m.d.sync += init_refs.eq(init_refs + 1)

            with m.Case(Cmd.LOAD_MODE):
                all_banks_idle_checks(Error.MODE_OPEN)
                bl_code, interleaved, cl = pins.a[0:3], pins.a[3], pins.a[4:7]
                with m.If((bl_code > 3) | interleaved | ((cl != 2) & (cl != 3))
                          | (pins.a[7:] != 0)):
                    fail(Error.BAD_MODE)
                m.d.sync += [mode_at.eq(now), cas_latency.eq(cl),
                             burst_len.eq(1 << bl_code[:2])]
                with m.If(precharged_all & (init_refs == t.init_refreshes)):
                    m.d.sync += mode_set.eq(1)

            with m.Case(Cmd.BURST_TERMINATE):
                m.d.sync += burst_on.eq(0)

        # Refresh deadline, once the chip is in use.
        with m.If(ready & (since(ref_at) > self.refresh_max)):
            fail(Error.REFRESH_LATE)

        # --- bursts -----------------------------------------------------------------
        # This cycle's data word: the burst started now, or the running one.
        starts = (cmd == Cmd.READ) | (cmd == Cmd.WRITE)
        w_on = Signal()
        w_write = Signal()
        w_bank = Signal(range(g.banks))
        w_col = Signal(g.col_bits)
        w_i = Signal(4)
        w_n = Signal(4)
        with m.If(starts):
            m.d.comb += [w_on.eq(1), w_write.eq(cmd == Cmd.WRITE), w_bank.eq(bank),
                         w_col.eq(pins.a[:g.col_bits]), w_i.eq(0), w_n.eq(burst_len)]
        with m.Else():
            ends = ((cmd == Cmd.BURST_TERMINATE)
                    | ((cmd == Cmd.PRECHARGE) & (a10 | (bank == burst_bank))))
            m.d.comb += [w_on.eq(burst_on & ~ends), w_write.eq(burst_write),
                         w_bank.eq(burst_bank), w_col.eq(burst_col), w_i.eq(burst_i),
                         w_n.eq(burst_n)]
        with m.If(w_on):
            m.d.sync += [burst_on.eq(w_i + 1 != w_n), burst_write.eq(w_write),
                         burst_bank.eq(w_bank), burst_col.eq(w_col), burst_i.eq(w_i + 1),
                         burst_n.eq(w_n)]
        with m.Else():
            m.d.sync += burst_on.eq(0)

        # Sequential bursts wrap within their burst-length-aligned block of columns.
        wrap = (w_n - 1)[:g.col_bits] if g.col_bits < 4 else (w_n - 1)
        col = Signal(g.col_bits)
        m.d.comb += col.eq((w_col & ~wrap) | ((w_col + w_i) & wrap))
        index = Cat(col, w_bank, open_row[w_bank]) if g.bank_bits else Cat(col, open_row[w_bank])
        lane = index[:2]                     # the word's place in its 64-bit row

        reading = w_on & ~w_write
        writing = w_on & w_write
        m.d.comb += [
            rd.addr.eq(index[2:]),
            wr.addr.eq(index[2:]),
            wr.data.eq(pins.dq_o.replicate(4)),
            wr.en.eq(Mux(writing, (~pins.dqm & 0b11) << (2 * lane), 0)),
        ]
        with m.If(writing):
            m.d.sync += wdata_at[w_bank].eq(now)
            with m.If(~pins.dq_oe & (pins.dqm != (1 << len(pins.dqm)) - 1)):
                fail(Error.NO_WRITE_DATA, w_bank)

        # Read data: the memory answers the cycle after the address; CAS latency 2
        # drives dq one cycle later, 3 two.
        fetched = Signal()
        fetched_lane = Signal(2)
        v2, v3 = Signal(), Signal()
        d2, d3 = Signal(g.width), Signal(g.width)
        m.d.sync += [fetched.eq(reading), fetched_lane.eq(lane), v2.eq(fetched),
                     d2.eq(rd.data.word_select(fetched_lane, 16)), v3.eq(v2), d3.eq(d2)]
        drive = Signal()
        m.d.comb += [
            drive.eq(Mux(cas_latency == 3, v3, v2)),
            pins.dq_i.eq(Mux(drive, Mux(cas_latency == 3, d3, d2), 0)),
        ]
        with m.If(drive & pins.dq_oe):
            fail(Error.CONTENTION)
        return m
