"""Building the assembly test programs of this directory into ELFs."""

import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
CC = "riscv64-unknown-elf-gcc"
CFLAGS = ["-march=rv64ima_zicsr_zifencei", "-mabi=lp64", "-nostdlib", "-nostartfiles",
          "-static", "-mcmodel=medany"]


def have_toolchain():
    return shutil.which(CC) is not None


def programs():
    """Names of the test programs (file stems of *.S)."""
    return sorted(p.stem for p in HERE.glob("*.S"))


#: what the programs assume of each core kind: the pipelined core (the default) has
#: 16 PMP entries and completes misaligned loads and stores; the multi-cycle core
#: has no PMP entries and traps on them.
CORE_DEFINES = {"pipeline": (), "fsm": ("-DMISALIGNED_TRAPS", "-DNO_PMP")}


def build_for(name, outdir, core):
    """build() with the expectations of ``core`` (CORE_DEFINES), into outdir/core/."""
    out = Path(outdir) / core
    out.mkdir(exist_ok=True)
    return build(name, out, CORE_DEFINES[core])


def build(name, outdir, extra=()):
    """Assemble and link tests/isa/<name>.S into outdir/<name>.elf."""
    out = Path(outdir) / f"{name}.elf"
    cmd = [CC, *CFLAGS, "-T", str(HERE / "link.ld"), f"-I{HERE}", *extra,
           str(HERE / f"{name}.S"), "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out
