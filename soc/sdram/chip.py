"""An SDR SDRAM chip's facts: command encoding, geometry and datasheet timing.

The ULX3S-85F carries a 32 MB part with 16-bit data (4 banks x 8192 rows x 512
columns x 16 bits; ISSI IS42S16160 / Alliance AS4C16M16 class).  ``ULX3S_85F`` holds its
geometry and ``SPEED_7`` timings that parts of that class meet at -7 / -75 speed
grades (conservative: the slower of the datasheets' figures).

Commands (JEDEC SDR SDRAM), sampled at the rising clock edge with CKE high::

                     CS# RAS# CAS# WE#   address
    INHIBIT           H   x    x    x
    NOP               L   H    H    H
    ACTIVE            L   L    H    H    BA = bank, A = row
    READ              L   H    L    H    BA = bank, A = column, A10 = auto precharge
    WRITE             L   H    L    L    BA = bank, A = column, A10 = auto precharge
    BURST TERMINATE   L   H    H    L
    PRECHARGE         L   L    H    L    A10 = all banks, else BA = bank
    AUTO REFRESH      L   L    L    H    (all banks idle)
    LOAD MODE REG.    L   L    L    L    A = mode: A2:0 burst length (0..3 = 1, 2, 4, 8;
                                          7 = full page), A3 interleaved, A6:4 CAS latency,
                                          A9 single-location writes

On the pins the control lines are active low; in our signatures ``cs``, ``ras``,
``cas`` and ``we`` are the asserted (active-high) values and amaranth-boards'
``PinsN`` inverts them, so a command is encoded here as (ras, cas, we) with 1 = low pin.
Read data appear CAS latency (CL) cycles after READ; write data go with the WRITE
command and the following cycles; DQM masks bytes (write: in the same cycle; read:
two cycles later).
"""

from dataclasses import dataclass
import math

from amaranth.lib import enum

__all__ = ["Cmd", "Geometry", "Timing", "Cycles", "ULX3S_85F", "SPEED_7", "mode_word",
           "BURST_LEN_CODES"]


class Cmd(enum.Enum, shape=3):
    """(ras, cas, we) asserted = 1 (the pins are low), with CS asserted."""
    NOP       = 0b000
    BURST_TERMINATE = 0b001
    READ      = 0b010
    WRITE     = 0b011
    ACTIVE    = 0b100
    PRECHARGE = 0b101
    REFRESH   = 0b110
    LOAD_MODE = 0b111


#: Mode register A2:0 for burst lengths 1, 2, 4, 8 (7 is full page).
BURST_LEN_CODES = {1: 0, 2: 1, 4: 2, 8: 3}


def mode_word(cas_latency, burst_len):
    """The LOAD MODE REGISTER address word: sequential bursts of ``burst_len``,
    CAS latency ``cas_latency``, burst writes (A9 = 0)."""
    if cas_latency not in (2, 3):
        raise ValueError(f"CAS latency {cas_latency} is not 2 or 3")
    return BURST_LEN_CODES[burst_len] | (cas_latency << 4)


@dataclass(frozen=True)
class Geometry:
    """Banks x rows x columns of ``width``-bit words."""
    banks: int = 4
    rows: int = 8192
    cols: int = 512
    width: int = 16

    def __post_init__(self):
        for name in ("banks", "rows", "cols"):
            v = getattr(self, name)
            if v < 1 or v & (v - 1):
                raise ValueError(f"SDRAM {name} = {v} is not a power of two")
        if self.width != 16:
            raise ValueError("only 16-bit SDRAM is supported")
        if self.cols < 16:
            raise ValueError("a row must hold at least one 16-beat burst (16 columns)")

    @property
    def size(self):
        """Bytes."""
        return self.banks * self.rows * self.cols * self.width // 8

    @property
    def bank_bits(self):
        return self.banks.bit_length() - 1

    @property
    def row_bits(self):
        return self.rows.bit_length() - 1

    @property
    def col_bits(self):
        return self.cols.bit_length() - 1

    @property
    def addr_pins(self):
        """Address pins: the row address, and at least A10 (auto precharge / all banks)."""
        return max(self.row_bits, self.col_bits + 1, 11)


#: The ULX3S-85F's SDRAM: 32 MB.
ULX3S_85F = Geometry(banks=4, rows=8192, cols=512, width=16)


@dataclass(frozen=True)
class Timing:
    """Datasheet timings (nanoseconds unless said otherwise).

    t_rcd: ACTIVE to READ/WRITE; t_rp: PRECHARGE to ACTIVE/REFRESH; t_rc: ACTIVE to
    ACTIVE (same bank); t_ras: ACTIVE to PRECHARGE (minimum); t_wr: last write data to
    PRECHARGE (and never less than 2 cycles, as the datasheets say); t_mrd: LOAD MODE to the next command (cycles); t_rfc: AUTO REFRESH to the
    next command; t_refi: average refresh interval (64 ms / 8192 rows); cas_latency:
    READ to data (cycles); t_init: power-up wait before the first command;
    init_refreshes: AUTO REFRESH commands of the power-up sequence."""
    t_rcd: float = 20.0
    t_rp: float = 20.0
    t_rc: float = 70.0
    t_ras: float = 49.0
    t_wr: float = 15.0
    t_mrd: int = 2
    t_rfc: float = 70.0
    t_refi: float = 7812.5
    cas_latency: int = 2
    t_init: float = 200_000.0
    init_refreshes: int = 2

    def cycles(self, clk_freq):
        """The timings as whole cycles of a ``clk_freq`` Hz clock (rounded up, >= 1)."""
        period = 1e9 / clk_freq

        def up(ns):
            return max(1, math.ceil(ns / period - 1e-9))

        return Cycles(
            rcd=up(self.t_rcd), rp=up(self.t_rp), rc=up(self.t_rc), ras=up(self.t_ras),
            wr=max(up(self.t_wr), 2), mrd=self.t_mrd, rfc=up(self.t_rfc),
            refi=int(self.t_refi / period), cas_latency=self.cas_latency,
            init=up(self.t_init), init_refreshes=self.init_refreshes)


#: Timings of the ULX3S's 32 MB parts at their -7/-75 speed grade (CL 2 up to 100 MHz).
SPEED_7 = Timing()


@dataclass(frozen=True)
class Cycles:
    """Timings in clock cycles (see Timing); ``refi`` is rounded down, the rest up."""
    rcd: int
    rp: int
    rc: int
    ras: int
    wr: int
    mrd: int
    rfc: int
    refi: int
    cas_latency: int
    init: int
    init_refreshes: int

    def __post_init__(self):
        if self.cas_latency not in (2, 3):
            raise ValueError(f"CAS latency {self.cas_latency} is not 2 or 3")
        for name in ("rcd", "rp", "rc", "ras", "wr", "mrd", "rfc", "refi", "init"):
            if getattr(self, name) < 1:
                raise ValueError(f"SDRAM timing {name} must be at least one cycle")
        if self.init_refreshes < 1:
            raise ValueError("the power-up sequence needs at least one AUTO REFRESH")

    def replace(self, **kw):
        from dataclasses import replace
        return replace(self, **kw)
