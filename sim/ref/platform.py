"""The machine around the hart when the golden model runs on its own.

A hart (hart.py) asks its environment ``env`` for everything outside the CPU:

* ``read(paddr, size, kind)`` / ``write(paddr, size, value)``: physical accesses
  that are not RAM (devices), little-endian, naturally aligned; ``kind`` says who
  reads: "data" (a load or AMO), "fetch" or "walk" (the page-table walk);
  ``BusError`` where nothing answers (the hart turns it into an access fault);
* ``device_mip()``: the interrupt-pending bits the devices drive (MSIP, MTIP,
  MEIP, SEIP's line) and Sstc's STIP (mtime >= stimecmp);
* ``read_time()``, ``read_cycle()``, ``write_cycle(v)``: the clocks behind the
  time and cycle CSRs;
* ``wait_for_interrupt(hart)``: WFI; False when nothing can ever wake it;
* ``next_timer_cycle(hart)``: the hart's cycle count at which a timer comparison
  next turns true (the run loop looks for interrupts then).

:class:`HarnessPlatform` is the platform of the ELF runner's core target
(sim/harness.py ``CoreTarget``), so that the programs of tests/isa run the same
here: RAM, a CLINT at 0x0200_0000 (msip +0, mtimecmp +0x4000, mtime +0xBFF8;
other offsets read 0 and ignore writes), the harness register IRQ_LINES at
0x0010_1000 (bit 0 drives MEIP, bit 1 SEIP), and, for printing, a 16550 UART's
transmit register at 0x1000_0000 (THR at +0; LSR at +5 reads "transmitter
empty"; other registers read 0).  Time: the model has no clock of its own, so
mtime and mcycle advance by one per step (instruction or trap), and WFI moves
mtime forward to the next timer event (mtimecmp, or stimecmp with Sstc), as the
simulators do.
"""

from hw.mmu.refmodel import BusError
from sim.harness import CLINT_BASE, CLINT_SIZE, IRQ_LINES
from soc.memmap import UART0

from .csr import MIP_MEIP, MIP_MSIP, MIP_MTIP, MIP_SEIP, MIP_STIP

__all__ = ["HarnessPlatform", "NEVER"]

U64 = (1 << 64) - 1
NEVER = 1 << 100           # a cycle count no run reaches
MSIP, MTIMECMP, MTIME = 0x0000, 0x4000, 0xBFF8
THR, LSR = 0, 5
LSR_THRE_TEMT = 0x60


def _lane_mask(paddr, size):
    return ((1 << (8 * size)) - 1) << (8 * (paddr & 7))


class HarnessPlatform:
    """See the module docstring.  ``out``: a callable receiving UART bytes."""

    def __init__(self, out=None):
        self.hart = None
        self.msip = 0
        self.mtimecmp = U64
        self.mtime_offset = 0        # mtime = hart.cycles + mtime_offset
        self.cycle_offset = 0        # mcycle = hart.cycles + cycle_offset
        self.irq_lines = 0
        self.out = out
        self.uart_bytes = bytearray()

    def attach(self, hart):
        self.hart = hart

    # ---- clocks ----

    def mtime(self):
        return (self.hart.cycles + self.mtime_offset) & U64

    def read_time(self):
        return self.mtime()

    def read_cycle(self):
        return (self.hart.cycles + self.cycle_offset) & U64

    def write_cycle(self, value):
        # the writing instruction's own step still counts
        self.cycle_offset = value - self.hart.cycles - 1

    # ---- devices ----

    def _register(self, dword):
        """The doubleword-wide device register at ``dword``: (value, setter)."""
        if CLINT_BASE <= dword < CLINT_BASE + CLINT_SIZE:
            reg = dword - CLINT_BASE
            if reg == MSIP:
                return self.msip, self._set_msip
            if reg == MTIMECMP:
                return self.mtimecmp, self._set_mtimecmp
            if reg == MTIME:
                return self.mtime(), self._set_mtime
            return 0, None
        if dword == IRQ_LINES:
            return self.irq_lines, self._set_irq_lines
        if UART0.base <= dword < UART0.end:
            return LSR_THRE_TEMT << (8 * LSR) if dword == UART0.base else 0, self._set_uart
        raise BusError(dword)

    def read(self, paddr, size, kind="data"):
        value, _ = self._register(paddr & ~7)
        return (value >> (8 * (paddr & 7))) & ((1 << (8 * size)) - 1)

    def write(self, paddr, size, value):
        old, setter = self._register(paddr & ~7)
        if setter is not None:
            mask = _lane_mask(paddr, size)
            setter((old & ~mask) | ((value << (8 * (paddr & 7))) & mask), mask)

    def _set_msip(self, value, mask):
        self.msip = value & 1

    def _set_mtimecmp(self, value, mask):
        self.mtimecmp = value & U64

    def _set_mtime(self, value, mask):
        self.mtime_offset = value - self.hart.cycles

    def _set_irq_lines(self, value, mask):
        if mask & 0xFF:
            self.irq_lines = value & 3

    def _set_uart(self, value, mask):
        if mask & 0xFF:                   # THR
            byte = bytes([value & 0xFF])
            self.uart_bytes += byte
            if self.out is not None:
                self.out(byte)

    # ---- interrupts and time ----

    def device_mip(self):
        now = self.mtime()
        mip = 0
        if self.msip:
            mip |= MIP_MSIP
        if now >= self.mtimecmp:
            mip |= MIP_MTIP
        if self.irq_lines & 1:
            mip |= MIP_MEIP
        if self.irq_lines & 2:
            mip |= MIP_SEIP
        if now >= self.hart.csr.stimecmp:
            mip |= MIP_STIP             # counted only while menvcfg.STCE = 1
        return mip

    def _timers(self):
        """The compare values that can raise an interrupt: mtimecmp, and stimecmp
        while Sstc is on."""
        c = self.hart.csr
        cmps = [self.mtimecmp]
        if c.stce():
            cmps.append(c.stimecmp)
        return [t for t in cmps if t != U64]

    def next_timer_cycle(self, hart):
        now = self.mtime()
        later = [t for t in self._timers() if t > now]
        return hart.cycles + (min(later) - now) if later else NEVER

    def wait_for_interrupt(self, hart):
        if hart.wfi_wakes():
            return True
        while True:
            now = self.mtime()
            later = [t for t in self._timers() if t > now]
            if not later:
                return False
            self.mtime_offset += min(later) - now
            hart.irq_state_changed()
            if hart.wfi_wakes():
                return True
