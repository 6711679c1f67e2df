"""`python -m sim difftest`: the RTL and the golden model in lock-step, one retired
instruction at a time.

    python -m sim difftest FILE.elf [--target soc|core] [--engine cxxrtl|pysim]
    python -m sim difftest --random SEED [--count N] [--length GROUPS]
    python -m sim difftest --kernel build/xv6/kernel --fs build/xv6/fs.img --run "cmds"

A bare-metal ELF (tohost convention of `python -m sim run`) runs on the whole SoC
(default; compiled engine unless ``--engine pysim``) or on the core alone
(``--target core``, pysim: the runner's testbench with IRQ_LINES, as tests/isa
needs).  ``--random SEED`` generates the program (sim/difftest/randprog.py) instead;
``--count N`` runs seeds SEED .. SEED+N-1.  ``--kernel``/``--fs`` boot xv6 on the SoC
as `python -m sim boot` does and type the ``--run`` commands.

On the first divergence: the last ``--history`` records of both sides and the first
differing field on stderr, exit status 1.  Exit status: 0 no divergence (and the
program passed, or the commands came back to the prompt); 1 divergence, or the
program failed, or the kernel panicked; 2 bad input (not a RISC-V RV64 ELF, no
tohost, a kernel that does not boot, a bad disk image); 3 the cycle limit; 64 bad
command line.
"""

import argparse
import os
import sys
import time

from sim.ref.run import ProgramError, add_model_options, config_from, load_program
from sim.run import tohost_verdict

from .lockstep import Divergence
from .mirror import ModelLimit
from .run import (RTL_CONFIG, CORE_REGIONS, SOC_REGIONS, CheckedEngine, model_for, run_core_target,
                  run_engine)

__all__ = ["main"]

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_LIMIT, EXIT_USAGE = 0, 1, 2, 3, 64


class InputError(Exception):
    """Bad input: exit status 2 with this message."""


def build_parser():
    p = argparse.ArgumentParser(prog="python -m sim difftest",
                                description=__doc__.split("\n")[0] + " " +
                                __doc__.split("\n")[1].strip())
    p.add_argument("elf", nargs="?", help="bare-metal RISC-V RV64 ELF with a tohost symbol")
    p.add_argument("--random", type=int, metavar="SEED",
                   help="a generated random program instead of an ELF")
    p.add_argument("--count", type=int, default=1,
                   help="with --random: this many seeds from SEED on (default 1)")
    p.add_argument("--length", type=int, default=200,
                   help="with --random: groups of instructions in the body (default 200)")
    p.add_argument("--kernel", help="xv6 kernel ELF: boot it (with --fs) on the SoC")
    p.add_argument("--fs", help="xv6 file system image (copy-on-write)")
    p.add_argument("--run", metavar="CMDS", default="",
                   help="with --kernel: ';'-separated commands to type at the prompt")
    p.add_argument("--target", choices=("soc", "core"), default="soc",
                   help="bare metal: the whole SoC (default) or the core alone (pysim)")
    p.add_argument("--engine", choices=("cxxrtl", "pysim"),
                   default=os.environ.get("ENGINE") or "cxxrtl",
                   help="engine of the SoC (default: $ENGINE or cxxrtl)")
    p.add_argument("--bus-latency", type=int, default=0,
                   help="--target core: wait states before every bus ready (default 0)")
    p.add_argument("--ram-latency", type=int, default=1, metavar="N",
                   help="the SoC: the RAM's first beat N cycles after a request (default 1; "
                        "another value is a model build of its own)")
    p.add_argument("--max-cycles", type=int, default=20_000_000,
                   help="bare metal: stop with status 3 after this many cycles")
    p.add_argument("--boot-insns", type=int, default=20_000_000,
                   help="xv6: a kernel that has not printed its prompt after this many "
                        "instructions does not boot (default 20000000)")
    p.add_argument("--max-insns", type=int, default=1_000_000_000,
                   help="xv6: stop with an error after this many instructions in all "
                        "(default 1000000000)")
    p.add_argument("--timeout", type=float, default=None,
                   help="xv6: wall-clock seconds allowed for each command (default: no "
                        "limit; the model, not the machine, sets the pace)")
    p.add_argument("--irq-latency", type=int, default=0,
                   help="instructions the RTL may retire before taking an interrupt that "
                        "software made pending and enabled (default 0: at once)")
    p.add_argument("--history", type=int, default=32,
                   help="records of each side shown on a divergence (default 32)")
    add_model_options(p, RTL_CONFIG, "the pipelined core")
    return p


def _summary(kind, outcome, args, err):
    rate = outcome.checked / outcome.seconds if outcome.seconds > 0 else float("nan")
    print(f"difftest {kind}: {outcome.checked} records compared, no divergence "
          f"({outcome.cycles} cycles; {outcome.seconds:.1f} s CPU, {rate:,.0f} records/s)",
          file=err)


def _program_status(outcome, name):
    """Exit status and message for a bare-metal run that did not diverge."""
    if outcome.stop == "limit" or not outcome.tohost:
        return EXIT_LIMIT, f"{name}: no tohost write within the cycle limit"
    status, message = tohost_verdict(outcome.tohost)
    return status, f"{name}: {message}" + (" (RTL and model agree)" if status else "")


def run_image(image, name, args, config, err, disk=None):
    """One bare-metal program (an ElfImage) on the chosen target (the SoC with
    ``disk`` as its block device's contents, if given); an exit status."""
    if args.bus_latency and args.target != "core":
        raise InputError("--bus-latency applies to --target core only")
    if args.ram_latency != 1 and args.target == "core":
        raise InputError("--ram-latency applies to the SoC only (--target core: "
                         "--bus-latency)")
    if args.target == "core":
        _, hi = image.extent()
        ram_size = max(1 << 20, (hi - 0x8000_0000 + 0xFFFF) & ~0xFFFF)
        _, lock = model_for(image, ram_size, CORE_REGIONS, config, args.history,
                            args.irq_latency)
        kind = "core target (pysim)"
        outcome = run_core_target(image, ram_size, lock, max_cycles=args.max_cycles,
                                  bus_latency=args.bus_latency)
    else:
        from sim.engine import EngineError
        from soc import memmap
        if image.entry != memmap.RESET_PC:
            raise InputError(f"{name}: entry point {image.entry:#x}, but the SoC starts at "
                             f"{memmap.RESET_PC:#x} (--target core runs any entry)")
        try:
            engine = new_engine(args.engine, err, args.ram_latency)
            engine.load(image)
            engine.set_tohost(image.tohost)
            if disk is not None:
                engine.set_disk(disk)
        except EngineError as e:
            raise InputError(str(e)) from None
        _, lock = model_for(image, engine.ram_size, SOC_REGIONS, config, args.history,
                            args.irq_latency)
        kind = f"SoC on {engine.name}"
        outcome = run_engine(engine, lock, max_cycles=args.max_cycles)
    _summary(f"{name} ({kind})", outcome, args, err)
    status, message = _program_status(outcome, name)
    print(message, file=err if status else sys.stdout)
    return status


def new_engine(name, err, ram_latency=1):
    """A fresh engine for the default SoC (its RAM answering after ``ram_latency``
    cycles); the compiled model is found (or built) once per process, not once per
    program (sim/engine.py keeps it), and by a later process without converting the
    design (sim/cxxrtl/build.py, design_fingerprint)."""
    from sim.engine import make_engine
    if ram_latency < 1:
        raise InputError("--ram-latency must be at least 1 cycle")
    log = (lambda m: print(f"[sim] {m}", file=err)) if name == "cxxrtl" else None
    return make_engine(name, soc_args={"ram_latency": ram_latency}, log=log)


def bare_metal(args, config, err):
    try:
        image, _ = load_program(args.elf)
    except ProgramError as e:
        raise InputError(str(e)) from None
    return run_image(image, args.elf, args, config, err)


def random_programs(args, config, err):
    from .randprog import disk_for, generate
    worst = EXIT_OK
    dma = args.target == "soc"          # the block device exists on the SoC only
    for seed in range(args.random, args.random + args.count):
        image = generate(seed, args.length, config.pmp_entries, dma=dma)
        name = f"random seed {seed}"
        try:
            status = run_image(image, name, args, config, err,
                               disk=disk_for(seed) if dma else None)
        except (Divergence, ModelLimit) as e:
            print(str(e) if isinstance(e, Divergence) else f"error: the model cannot follow: {e}",
                  file=err)
            print(f"replay: python -m sim difftest --random {seed} --length {args.length}"
                  f"{' --target core' if args.target == 'core' else ''}"
                  f"{f' --ram-latency {args.ram_latency}' if args.ram_latency != 1 else ''}"
                  f"{f' --irq-latency {args.irq_latency}' if args.irq_latency else ''}"
                  f"{f' --pmp-entries {config.pmp_entries}' if config.pmp_entries else ''}",
                  file=err)
            return EXIT_FAIL
        worst = max(worst, status)
    return worst


class _Panic(Exception):
    pass


class _NoBoot(Exception):
    pass


def xv6(args, config, err):
    from sim.boot import Session, UsageError, load_kernel, open_engine
    from sim.terminal import Screen
    from sim.engine import EngineError
    if not args.fs:
        raise InputError("--kernel needs --fs (the file system image)")
    try:
        engine, disk = open_engine(args.engine, args.kernel, args.fs,
                                   ram_latency=args.ram_latency,
                                   log=lambda m: print(f"[sim] {m}", file=err))
        image = load_kernel(args.kernel, engine.ram_size)
    except (UsageError, EngineError) as e:
        raise InputError(str(e)) from None
    _, lock = model_for(image, engine.ram_size, SOC_REGIONS, config, args.history,
                        args.irq_latency)
    checked = CheckedEngine(engine, lock)

    class Checked(Session):
        def pump(self, max_cycles, *, exact=False):
            out = super().pump(max_cycles, exact=exact)
            if b"panic" in self.transcript:
                raise _Panic()
            if self.prompt_at is None and lock.checked > args.boot_insns:
                raise _NoBoot()
            if lock.checked > args.max_insns:
                raise TimeoutError(f"more than {args.max_insns} instructions")
            return out

    session = Checked(checked, disk, screen=Screen(sys.stdout, err, live=False))
    t0 = time.process_time()
    commands = [c.strip() for c in args.run.split(";") if c.strip()]
    try:
        try:
            session.boot(1e9)
        except (_NoBoot, TimeoutError):
            raise InputError(f"{args.kernel}: the kernel did not boot (no shell prompt after "
                             f"{lock.checked} instructions)") from None
        except _Panic:
            raise InputError(f"{args.kernel}: the kernel panicked while booting") from None
        boot_records = lock.checked
        boot_secs = time.process_time() - t0
        for cmd in commands:
            session.command(cmd, args.timeout or 1e12)
    except _Panic:
        print("\nerror: the kernel panicked (RTL and model agree up to here)", file=err)
        return EXIT_FAIL
    except (TimeoutError, RuntimeError) as e:
        print(f"\nerror: {e}", file=err)
        return EXIT_FAIL
    finally:
        stats = engine.stats()
        engine.close()
    secs = time.process_time() - t0
    print(file=sys.stdout)
    print(f"difftest xv6 ({engine.name}): {lock.checked} records compared, no divergence; "
          f"boot to the prompt {boot_records} records in {boot_secs:.1f} s CPU; "
          f"everything {secs:.1f} s CPU ({lock.checked / secs:,.0f} records/s, "
          f"{stats.cycles} cycles)", file=err)
    return EXIT_OK


def main(argv=None):
    err = sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:
        return EXIT_USAGE if e.code else 0
    modes = [args.elf is not None, args.random is not None, args.kernel is not None]
    if sum(modes) != 1:
        print("error: give one of FILE.elf, --random SEED, --kernel KERNEL", file=err)
        return EXIT_USAGE
    try:
        config = config_from(args)
    except ValueError as e:
        print(f"error: {e}", file=err)
        return EXIT_USAGE
    try:
        if args.kernel:
            return xv6(args, config, err)
        if args.random is not None:
            return random_programs(args, config, err)
        return bare_metal(args, config, err)
    except InputError as e:
        print(f"error: {e}", file=err)
        return EXIT_INPUT
    except Divergence as e:
        print(str(e), file=err)
        return EXIT_FAIL
    except ModelLimit as e:
        print(f"error: the model cannot follow: {e}", file=err)
        return EXIT_FAIL
