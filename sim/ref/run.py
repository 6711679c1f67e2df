"""`python -m sim ref FILE.elf`: run a bare-metal RISC-V ELF on the golden model alone.

The same conventions as `python -m sim run` (sim/run.py): the ELF is loaded at its
physical addresses, starts in M mode at its entry point with a0 = hart id (0) and
a1 = 0, and ends when it stores a non-zero value to its ``tohost`` doubleword (1 =
pass, (n << 1) | 1 = test case n failed).  The machine is the runner's core target
(platform.py: RAM, CLINT, IRQ_LINES) plus a UART transmit register for printing.

Exit status: 0 passed; 1 failed (or stored another value); 2 the ELF cannot be
run; 3 the step limit was reached (or WFI with nothing that could wake it); 64 bad
command line.
"""

import argparse
import sys
import time

from sim.elf import BadElf, load_elf
from sim.harness import RunResult
from sim.run import EXIT_BAD_ELF, EXIT_LIMIT, EXIT_USAGE, _size, tohost_verdict

from .hart import Config, Hart
from .platform import HarnessPlatform
from .trace import format_record

__all__ = ["main", "run_elf", "load_program", "RAM_BASE"]

RAM_BASE = 0x8000_0000


class ProgramError(Exception):
    """The ELF cannot be run on this machine: the message says why."""


def load_program(path, *, ram_size=None, need_tohost=True):
    """(ElfImage, RAM bytearray with the segments copied in).  Raises ProgramError."""
    try:
        image = load_elf(path, need_tohost=need_tohost)
    except BadElf as e:
        raise ProgramError(str(e)) from None
    lo, hi = image.extent()
    if lo < RAM_BASE:
        raise ProgramError(f"{path}: segment at {lo:#x} lies below RAM ({RAM_BASE:#x})")
    if ram_size is None:
        ram_size = max(1 << 20, (hi - RAM_BASE + 0xFFFF) & ~0xFFFF)
    if ram_size % 4096:
        raise ProgramError(f"RAM size {ram_size:#x} is not a multiple of 4 KiB")
    if hi > RAM_BASE + ram_size:
        raise ProgramError(f"{path}: segments end at {hi:#x}, beyond RAM "
                           f"{RAM_BASE:#x}..{RAM_BASE + ram_size:#x} (see --ram-size)")
    if not RAM_BASE <= image.entry < RAM_BASE + ram_size:
        raise ProgramError(f"{path}: entry point {image.entry:#x} is not in RAM")
    ram = bytearray(ram_size)
    for addr, blob in image.segments:
        ram[addr - RAM_BASE:addr - RAM_BASE + len(blob)] = blob
    return image, ram


def new_hart(image, ram, env, config=Config()):
    """A hart at the ELF's entry point in reset state (a0 = hart id, a1 = 0), its
    tohost doubleword watched."""
    hart = Hart(env, ram, ram_base=RAM_BASE, pc=image.entry, config=config)
    hart.x[10] = config.hartid
    if image.tohost is not None:
        hart.tohost_index = (image.tohost - RAM_BASE) >> 3
    env.attach(hart)
    return hart


def run_elf(path, *, max_steps=10_000_000, trace=False, config=Config(), ram_size=None,
            out=None):
    """Run one ELF on the model; returns (exit status, message, RunResult or None).
    The RunResult's ``cycles`` are the model's steps (instructions and traps).
    Output (the trace, UART bytes, the summary) goes to ``out`` (default stdout)."""
    out = out or sys.stdout
    try:
        image, ram = load_program(path, ram_size=ram_size)
    except ProgramError as e:
        return EXIT_BAD_ELF, f"error: {e}", None
    env = HarnessPlatform(out=lambda b: (out.write(b.decode("latin-1")), out.flush()))
    hart = new_hart(image, ram, env, config)
    t0 = time.process_time()
    hart.run(max_steps, on_retire=(lambda rec: print(format_record(rec, rec.csr_writes),
                                                            file=out)) if trace
             else None)
    secs = time.process_time() - t0
    steps = hart.order
    res = RunResult("tohost" if hart.tohost else "limit", hart.tohost, steps,
                    steps - hart.traps, hart.traps)
    speed = steps / secs if secs > 0 else float("nan")
    print(f"instructions {res.instret}  traps {res.traps}  "
          f"({speed:,.0f} instructions/s, golden model)", file=out)
    if hart.stop == "wfi":
        return EXIT_LIMIT, "error: WFI with no interrupt that could ever wake it", res
    if not hart.tohost:
        return EXIT_LIMIT, f"error: no tohost write within {max_steps} steps", res
    return (*tohost_verdict(res.tohost), res)


def add_model_options(p, defaults=Config(), which="the multi-cycle core"):
    """The model's implementation choices (Config) as command-line options, with the
    defaults of ``defaults`` (the choices of the core named by ``which``)."""
    p.add_argument("--pmp-entries", type=int, choices=(0, 16, 64),
                   default=defaults.pmp_entries,
                   help=f"PMP entries (default {defaults.pmp_entries}, as {which})")
    p.add_argument("--misaligned", choices=("trap", "hw"), default=defaults.misaligned,
                   help=f"misaligned loads/stores trap or complete in hardware "
                        f"(default {defaults.misaligned}, as {which})")


def config_from(args):
    return Config(pmp_entries=args.pmp_entries, misaligned=args.misaligned)


def build_parser():
    p = argparse.ArgumentParser(prog="python -m sim ref", description=__doc__.split("\n")[0])
    p.add_argument("elf", help="RISC-V RV64 ELF with a tohost symbol")
    p.add_argument("--max-steps", type=int, default=10_000_000,
                   help="stop with an error after this many instructions and traps "
                        "(default 10000000)")
    p.add_argument("--trace", action="store_true",
                   help="print every retired instruction (with disassembly and CSR writes)")
    p.add_argument("--ram-size", type=_size, default=None,
                   help="RAM size (default: 1M or enough to cover the ELF)")
    add_model_options(p)
    return p


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:
        return EXIT_USAGE if e.code else 0
    try:
        config = config_from(args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    status, message, _ = run_elf(args.elf, max_steps=args.max_steps, trace=args.trace,
                                 config=config, ram_size=args.ram_size)
    print(message, file=sys.stderr if status else sys.stdout)
    return status
