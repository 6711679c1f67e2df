"""`python -m sim run FILE.elf`: run a bare-metal RISC-V ELF on the simulated hardware.

Targets: ``core`` (the core alone, memory and timer modelled by the testbench; Amaranth's
Python simulator only) and ``soc`` (the whole SoC, on the compiled CXXRTL model by
default or on pysim with ``--engine pysim``: the same cycle, instruction and trap counts).

Exit status: 0 the program passed (stored 1 to tohost); 1 it failed (stored
(n << 1) | 1: test case n) or stored another value; 2 the ELF cannot be
run (or the engine cannot be had); 3 the cycle limit was reached; 64 bad command line.
"""

import argparse
import sys
import time

from hw.core import CORE_KINDS
from soc import memmap

from .elf import BadElf, load_elf
from .engine import ENGINES, EngineError
from .harness import TARGETS, BusProtocolError, DesignCheckError, _format_mmu_event
from .ref.trace import format_record

EXIT_PASS, EXIT_FAIL, EXIT_BAD_ELF, EXIT_LIMIT, EXIT_USAGE = 0, 1, 2, 3, 64


def _size(text):
    text = text.strip().lower()
    scale = 1
    for suffix, mult in (("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30)):
        if text.endswith(suffix):
            text, scale = text[:-1], mult
    try:
        return int(text, 0) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}") from None


def build_parser():
    p = argparse.ArgumentParser(prog="python -m sim", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run an ELF until it writes tohost")
    r.add_argument("elf", help="RISC-V RV64 ELF with a tohost symbol")
    r.add_argument("--max-cycles", type=int, default=2_000_000,
                   help="stop with an error after this many cycles (default 2000000)")
    r.add_argument("--trace", action="store_true", help="print every retired instruction")
    r.add_argument("--trace-mmu", action="store_true",
                   help="print the MMU's events (TLB hits/misses, walks, A/D writes)")
    r.add_argument("--target", choices=sorted(TARGETS), default="core",
                   help="what to simulate: 'core' (default) = the core with memory, timer "
                        "and interrupt lines modelled in the testbench; 'soc' = the whole "
                        "SoC (UART output is echoed)")
    r.add_argument("--engine", choices=sorted(ENGINES), default=None,
                   help="simulator of the soc target: 'cxxrtl' (default; the compiled model) "
                        "or 'pysim' (Amaranth's simulator, about 1000x slower); the core "
                        "target runs on pysim only")
    r.add_argument("--ram-size", type=_size, default=None,
                   help="RAM size (default: core 1M or enough to cover the ELF; soc 32M, "
                        "the SoC's)")
    r.add_argument("--mtime-div", type=int, default=1,
                   help="core cycles per mtime tick (default 1)")
    r.add_argument("--mmu", choices=["sv39", "bare"], default="sv39",
                   help="translation unit: the Sv39 MMU (default) or none")
    r.add_argument("--core", choices=list(CORE_KINDS), default="pipeline",
                   help="the core: 'pipeline' (default, 5 stages with caches) or 'fsm' "
                        "(the multi-cycle core)")
    r.add_argument("--bus-latency", type=int, default=0,
                   help="wait states before each bus ready (core target; default 0)")
    r.add_argument("--vcd", help="write a VCD waveform to this file (slow; pysim only)")
    sub.add_parser("boot", add_help=False,
                   help="boot xv6 on the SoC (make sim; options: python -m sim boot --help)")
    sub.add_parser("ref", add_help=False,
                   help="run an ELF on the golden model (ISA simulator) alone (options: "
                        "python -m sim ref --help)")
    sub.add_parser("difftest", add_help=False,
                   help="the RTL and the golden model in lock-step (options: python -m sim "
                        "difftest --help)")
    sub.add_parser("wave", add_help=False,
                   help="waveforms of page-table walks over PTE_S pages (make wave; options: "
                        "python -m sim wave --help)")
    return p


def tohost_verdict(tohost):
    """(exit status, message) for the value a program stored to tohost: 1 = pass,
    (n << 1) | 1 = test case n failed, anything else is not a pass/fail code."""
    if tohost == 1:
        return EXIT_PASS, "PASS"
    if tohost & 1:
        return EXIT_FAIL, f"FAIL: test case {tohost >> 1}"
    return EXIT_FAIL, f"FAIL: tohost = {tohost:#x} (not a pass/fail code)"


def run_elf(path, *, max_cycles, trace=False, trace_mmu=False, target="core", engine=None,
            bus_latency=0, ram_size=None, mtime_div=1, mmu="sv39", vcd=None, out=sys.stdout,
            log=None, core="pipeline"):
    """Run one ELF; returns (exit status, message, RunResult or None).  ``engine``:
    the soc target's simulator (default cxxrtl); ``log(msg)``: progress of a model build."""
    if target == "soc":
        engine = engine or "cxxrtl"
        if bus_latency:
            return EXIT_USAGE, "error: --bus-latency applies to the core target only", None
        if vcd and engine != "pysim":
            return EXIT_USAGE, "error: --vcd needs --engine pysim", None
    elif engine not in (None, "pysim"):
        return EXIT_USAGE, (f"error: the core target runs on pysim only (the {engine} model "
                            f"is the whole SoC: use --target soc)"), None
    else:
        engine = "pysim"
    try:
        image = load_elf(path)
    except BadElf as e:
        return EXIT_BAD_ELF, f"error: {e}", None
    ram_base = memmap.RAM_BASE
    lo, hi = image.extent()
    if lo < ram_base:
        return EXIT_BAD_ELF, (f"error: {path}: segment at {lo:#x} lies below RAM "
                              f"({ram_base:#x})"), None
    if ram_size is None:
        ram_size = max(1 << 20, (hi - ram_base + 0xFFFF) & ~0xFFFF)
        if target == "soc":
            ram_size = max(ram_size, memmap.DEFAULT_RAM_SIZE)
    if not ram_base <= image.entry < ram_base + ram_size:
        return EXIT_BAD_ELF, f"error: {path}: entry point {image.entry:#x} is not in RAM", None
    if mtime_div < 1:
        return EXIT_USAGE, "error: --mtime-div must be at least 1", None
    if target == "soc":
        extra = {"engine": engine, "log": log,
                 "echo_uart": lambda b: (out.write(b.decode("latin-1")), out.flush())}
    else:
        extra = {"bus_latency": bus_latency}
    try:
        tgt = TARGETS[target](ram_base=ram_base, ram_size=ram_size, mtime_div=mtime_div,
                              mmu=mmu, core=core, **extra)
    except ImportError as e:
        return EXIT_USAGE, f"error: target {target!r} is not available ({e})", None
    except ValueError as e:
        return EXIT_USAGE, f"error: {e}", None
    try:
        tgt.load(image)
    except ValueError as e:
        return EXIT_BAD_ELF, f"error: {path}: {e} (see --ram-size)", None

    on_retire = (lambda r: print(format_record(r), file=out)) if trace else None
    t0 = time.monotonic()
    run_args = dict(max_cycles=max_cycles, on_retire=on_retire, vcd=vcd)
    if trace_mmu:
        if target != "core":
            return EXIT_USAGE, "error: --trace-mmu needs --target core", None
        run_args["on_mmu_event"] = lambda c, e: print(_format_mmu_event(c, e), file=out)
    try:
        res = tgt.run(**run_args)
    except BusProtocolError as e:
        return EXIT_FAIL, f"error: bus protocol violation: {e}", None
    except DesignCheckError as e:
        return EXIT_FAIL, f"error: design check failed: {e}", None
    except EngineError as e:
        return EXIT_BAD_ELF, f"error: {e}", None
    secs = res.seconds if res.seconds is not None else time.monotonic() - t0
    cpi = res.cycles / res.instret if res.instret else float("nan")
    print(f"cycles {res.cycles}  instructions {res.instret}  traps {res.traps}  "
          f"CPI {cpi:.3f}  ({res.cycles / secs:.0f} cycles/s, {target} target, {engine})",
          file=out)
    if res.status == "limit":
        return EXIT_LIMIT, f"error: no tohost write within {max_cycles} cycles", res
    return (*tohost_verdict(res.tohost), res)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["boot"]:
        from .boot import main as boot_main
        return boot_main(argv[1:])
    if argv[:1] == ["ref"]:
        from .ref.run import main as ref_main
        return ref_main(argv[1:])
    if argv[:1] == ["difftest"]:
        from .difftest.cli import main as difftest_main
        return difftest_main(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return EXIT_USAGE if e.code else 0
    status, message, _ = run_elf(args.elf, max_cycles=args.max_cycles, trace=args.trace,
                                 trace_mmu=args.trace_mmu, bus_latency=args.bus_latency,
                                 target=args.target, engine=args.engine,
                                 ram_size=args.ram_size, mtime_div=args.mtime_div,
                                 mmu=args.mmu, vcd=args.vcd, core=args.core,
                                 log=lambda msg: print(msg, file=sys.stderr))
    print(message, file=sys.stderr if status else sys.stdout)
    return status
