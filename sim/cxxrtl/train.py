"""The training run of the profile-guided CXXRTL build (see build.py).

    python -m sim.cxxrtl.train LIB KERNEL DISK CYCLES

Boots KERNEL with DISK on the instrumented model LIB for CYCLES cycles.  It runs as its
own process because the compiler's profile is written when the process exits.
"""

import sys

from sim.elf import BadElf, load_elf
from sim.engine import CxxrtlEngine, EngineError


def train(lib_path, kernel, disk, cycles):
    engine = CxxrtlEngine(lib_path=lib_path)
    engine.load(load_elf(kernel, need_tohost=False))
    with open(disk, "rb") as f:
        engine.set_disk(f.read())
    engine.run(cycles)            # skipping idle time in wfi, as every session does


def main(argv):
    if len(argv) != 4:
        print("usage: " + __doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        train(argv[0], argv[1], argv[2], int(argv[3]))
    except (OSError, BadElf, EngineError, ValueError) as e:
        print(f"training run failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
