"""The golden model: an instruction-set simulator of what our core implements.

Written from the RISC-V unprivileged and privileged specifications as an executable
specification: RV64IMA, Zicsr, Zifencei, M/S/U modes, the CSRs of hw/core/csr.py
with the same legality and WARL behaviour, traps and interrupts with delegation,
Sstc, Sv39 through hw/mmu/refmodel.py (A/D updates included), LR/SC as the core
implements them, and PMP and misaligned accesses as options for the pipelined core.

Read in this order: decode.py (instruction words -> instructions), execute.py
(what each instruction does), hart.py (state, memory accesses, traps, the step
loop), csr.py, pmp.py, platform.py (the machine around the hart when it runs on its
own), run.py (`python -m sim ref FILE.elf`).  sim/difftest runs it in lock-step
with the RTL.
"""

from .hart import Config, Hart, Retire, RETIRE_FIELDS
from .trap import Halted, Trap

__all__ = ["Config", "Hart", "Retire", "RETIRE_FIELDS", "Trap", "Halted"]
