"""The training run of the profile-guided CXXRTL build (see build.py).

    python -m sim.cxxrtl.train LIB KERNEL DISK CYCLES

Boots KERNEL with DISK on the instrumented model LIB up to the shell's first prompt,
or for CYCLES cycles if the prompt has not come by then (a design that does not boot
xv6 still gets a profile).  The profile is then that of the boot's work (traps, page
faults, disk transfers, exec, user mode) and not of the idle kernel's timer ticks
after it.  It runs as its own process because the compiler's profile is written when
the process exits; it prints where it stopped.
"""

import sys

from sim.boot import PROMPT
from sim.elf import BadElf, load_elf
from sim.engine import STOP_TX, CxxrtlEngine, EngineError

#: cycles per run call between looks at the console
STEP = 100_000


def train(lib_path, kernel, disk, cycles):
    """Run to the first prompt or ``cycles`` cycles; returns the cycles run and whether
    the prompt came."""
    engine = CxxrtlEngine(lib_path=lib_path)
    engine.load(load_elf(kernel, need_tohost=False))
    with open(disk, "rb") as f:
        engine.set_disk(f.read())
    console = bytearray()
    while engine.stats().cycles < cycles:
        # skipping idle time in wfi, as every session does; stopping at each byte sent
        left = cycles - engine.stats().cycles
        if engine.run(min(STEP, left), stop_on_tx=True) == STOP_TX:
            console += engine.tx_take()
            if console.endswith(PROMPT):
                return engine.stats().cycles, True
    return engine.stats().cycles, False


def main(argv):
    if len(argv) != 4:
        print("usage: " + __doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        cycles, prompt = train(argv[0], argv[1], argv[2], int(argv[3]))
    except (OSError, BadElf, EngineError, ValueError) as e:
        print(f"training run failed: {e}", file=sys.stderr)
        return 1
    print(f"training run: {cycles} cycles, " +
          ("to the first prompt" if prompt else "stopped before the first prompt"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
