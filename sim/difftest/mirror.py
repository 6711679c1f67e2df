"""The golden model's environment in lock-step: the RTL's view of the outside world.

Where the model and the hardware must legitimately differ, the model takes the
hardware's value, as XiangShan's difftest does with its reference model:

* loads from device registers (any physical address outside RAM): the value the
  RTL's load or AMO read (its retirement record's ``mem_rdata``); an instruction
  fetched from a device: the RTL's instruction word; device writes go nowhere;
* the clocks: reads of time, cycle and mcycle give the RTL's destination value;
* mip/sip: the bits that devices drive (MSIP, MTIP, MEIP, SEIP's line, and STIP
  from Sstc's comparison) come from the RTL's destination value; the bits software
  owns (SSIP, SEIP's software bit, STIP without Sstc) are the model's own, so a
  wrong one is still caught;
* interrupts: the model never takes one by itself; it takes the one the RTL
  reports, at the same instruction (see lockstep.py);
* WFI completes at once (the RTL decides when it wakes).

Which physical addresses answer at all is the machine's memory map (``regions``):
an access elsewhere is an access fault on both sides.
"""

from hw.mmu.refmodel import BusError
from sim.ref.platform import NEVER

__all__ = ["MirrorPlatform", "ModelLimit"]


class ModelLimit(Exception):
    """The model would need something only the hardware knows and the retirement
    record does not carry (e.g. a page-table walk through a device register)."""


class MirrorPlatform:
    def __init__(self, regions):
        """``regions``: (base, size) of the device windows that answer."""
        self.regions = tuple(regions)
        self.rtl = None          # the RTL's record of the step being checked
        self.hart = None

    def attach(self, hart):
        self.hart = hart

    def _answers(self, paddr):
        return any(base <= paddr < base + size for base, size in self.regions)

    def read(self, paddr, size, kind="data"):
        if not self._answers(paddr):
            raise BusError(paddr)
        r = self.rtl
        if kind == "fetch":
            return r.insn
        if kind == "walk":
            raise ModelLimit(f"page-table walk reads device address {paddr:#x}")
        return r.mem_rdata if r.mem_rmask else 0

    def write(self, paddr, size, value):
        if not self._answers(paddr):
            raise BusError(paddr)

    def device_mip(self):
        return self.rtl.rd_wdata

    def read_time(self):
        return self.rtl.rd_wdata

    def read_cycle(self):
        return self.rtl.rd_wdata

    def write_cycle(self, value):
        pass

    def wait_for_interrupt(self, hart):
        return True

    def next_timer_cycle(self, hart):
        return NEVER
