"""The training run of the profile-guided CXXRTL build (see build.py).

    python -m sim.cxxrtl.train LIB KERNEL DISK CYCLES

Boots KERNEL with DISK on the instrumented model LIB for CYCLES cycles.  It runs as its
own process because the compiler's profile is written when the process exits.
"""

import ctypes
import sys

from sim.elf import BadElf, load_elf


def train(lib_path, kernel, disk, cycles):
    lib = ctypes.CDLL(str(lib_path))
    p, u64, buf = ctypes.c_void_p, ctypes.c_uint64, ctypes.c_char_p
    lib.sim_new.restype, lib.sim_new.argtypes = p, [buf, ctypes.c_size_t]
    lib.sim_ram_access.restype = ctypes.c_int
    lib.sim_ram_access.argtypes = [p, u64, buf, u64, ctypes.c_int]
    lib.sim_set_disk.argtypes = [p, buf, u64]
    lib.sim_run.restype, lib.sim_run.argtypes = ctypes.c_int, [p, u64, ctypes.c_int]
    err = ctypes.create_string_buffer(256)
    h = lib.sim_new(err, 256)
    if not h:
        raise RuntimeError(err.value.decode())
    for addr, blob in load_elf(kernel, need_tohost=False).segments:
        data = bytes(blob)
        if lib.sim_ram_access(h, addr, data, len(data), 1) != 0:
            raise RuntimeError(f"the kernel segment at {addr:#x} does not fit in the model's RAM")
    image = open(disk, "rb").read()
    lib.sim_set_disk(h, image, len(image))
    lib.sim_run(h, cycles, 2)           # 2: skip idle time in wfi, as the engine does


def main(argv):
    if len(argv) != 4:
        print("usage: " + __doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        train(argv[0], argv[1], argv[2], int(argv[3]))
    except (OSError, BadElf, RuntimeError, ValueError) as e:
        print(f"training run failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
