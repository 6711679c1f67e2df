"""Building the SoC test programs (C + start.S) into ELFs."""

import shutil
import subprocess
from pathlib import Path

from soc import memmap

HERE = Path(__file__).resolve().parent
CC = "riscv64-unknown-elf-gcc"
CFLAGS = ["-march=rv64ima_zicsr_zifencei", "-mabi=lp64", "-mcmodel=medany", "-O2",
          "-Wall", "-Werror", "-ffreestanding", "-nostdlib", "-nostartfiles", "-static",
          "-fno-builtin"]


def have_toolchain():
    return shutil.which(CC) is not None


def memmap_defines():
    """The device addresses and IRQ numbers, from soc/memmap.py."""
    return [f"-DCLINT_BASE={memmap.CLINT.base:#x}UL", f"-DPLIC_BASE={memmap.PLIC.base:#x}UL",
            f"-DUART_BASE={memmap.UART0.base:#x}UL", f"-DVIRTIO_BASE={memmap.VIRTIO0.base:#x}UL",
            f"-DUART0_IRQ={memmap.UART0_IRQ}", f"-DVIRTIO0_IRQ={memmap.VIRTIO0_IRQ}"]


def build(name, outdir, ram_size=1 << 16, defines=None):
    """tests/soc/programs/NAME.c -> OUTDIR/NAME.elf; ``defines`` {macro: value} are
    passed with -D (and named in the file name: NAME-MACRO=VALUE.elf)."""
    defines = defines or {}
    tag = "".join(f"-{k}={v}" for k, v in defines.items())
    out = Path(outdir) / f"{name}{tag}.elf"
    cmd = [CC, *CFLAGS, *memmap_defines(), f"-DRAM_SIZE={ram_size:#x}UL",
           *[f"-D{k}={v}" for k, v in defines.items()], "-T", str(HERE / "link.ld"), f"-I{HERE}",
           str(HERE / "start.S"), str(HERE / f"{name}.c"), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"building {name} failed:\n{proc.stderr}")
    return out
