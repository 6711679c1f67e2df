"""`python -m sim wave` (`make wave`): waveforms of the MMU's walks over PTE_S pages.

Runs a scenario with the capture armed and writes, into the output directory:
walks.vcd (the windows around each walk whose leaf PTE has PTE_S), walks.gtkw (GTKWave
save file: `gtkwave walks.gtkw`), walk.svg (one walk drawn, for a browser) and
walks.log (one line per PTE_S walk).

Scenarios: ``xv6`` (default) boots build/xv6/kernel and types ``--run`` (default
"shmem_test2; crypto_cli"); ``baremetal`` runs tests/wave/programs/shared_page.S, or
with ``--elf FILE`` any bare-metal ELF with a tohost symbol.
Exit status: 0 written; 1 the run failed or captured no PTE_S walk; 2 bad arguments,
inputs or output directory; 3 the simulator could not be built.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from sim.engine import ENGINES, EngineError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RUN = "shmem_test2; crypto_cli"
EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_BUILD = 0, 1, 2, 3
LIMIT = 100_000             # largest --wave-before / --wave-after
MAX_WINDOWS = 10_000


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


class UsageError(Exception):
    pass


def _count(name, low, high):
    def parse(text):
        try:
            value = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} wants a whole number, not {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be between {low} and {high}, not {value}")
        return value
    return parse


def add_wave_options(p, *, required_dir=True):
    """The capture options (shared with `python -m sim boot`)."""
    if required_dir:
        p.add_argument("--wave", "--out", dest="out", metavar="DIR",
                       default=str(ROOT / "build/wave"),
                       help="output directory (default build/wave)")
    else:
        p.add_argument("--wave", dest="wave", metavar="DIR", default=None,
                       help="capture the MMU's walks over PTE_S pages into DIR (walks.vcd, "
                            "walks.gtkw, walk.svg, walks.log; see python -m sim wave)")
    p.add_argument("--wave-before", type=_count("--wave-before", 0, LIMIT), default=24,
                   metavar="N", help="cycles kept before a trigger (default 24)")
    p.add_argument("--wave-after", type=_count("--wave-after", 0, LIMIT), default=8,
                   metavar="N", help="cycles kept after the last trigger of a window (default 8)")
    p.add_argument("--wave-max", type=_count("--wave-max", 1, MAX_WINDOWS), default=64,
                   metavar="N", help="at most this many windows (default 64)")


def build_parser():
    p = _Parser(prog="python -m sim wave", description=__doc__.split("\n")[0])
    p.add_argument("--scenario", choices=("xv6", "baremetal"), default="xv6",
                   help="what to run (default xv6)")
    p.add_argument("--engine", choices=sorted(ENGINES), default=os.environ.get("ENGINE") or "cxxrtl",
                   help="simulation engine (default: $ENGINE or cxxrtl)")
    p.add_argument("--run", metavar="CMDS", default=DEFAULT_RUN,
                   help=f"xv6: the ';'-separated commands to type (default {DEFAULT_RUN!r})")
    add_wave_options(p)
    p.add_argument("--elf", metavar="FILE",
                   help="baremetal: run this RV64 ELF (with a tohost symbol) instead of the "
                        "scenario program, until it writes tohost or --max-cycles")
    p.add_argument("--max-cycles", type=_count("--max-cycles", 1, 1 << 40), default=2_000_000,
                   metavar="N", help="--elf: cycle limit (default 2000000)")
    p.add_argument("--kernel", default=str(ROOT / "build/xv6/kernel"), help="xv6 kernel ELF")
    p.add_argument("--fs", default=str(ROOT / "build/xv6/fs.img"), help="file system image")
    p.add_argument("--timeout", type=float, default=None,
                   help="xv6: wall seconds for the boot and for each command (default 300 on "
                        "cxxrtl, 36000 on pysim)")
    p.add_argument("--quiet", action="store_true", help="do not echo the xv6 console")
    return p


def check_out_dir(path):
    """Create the output directory and make sure files can be written in it."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".wave-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise UsageError(f"cannot write to the output directory {path}: "
                         f"{e.strerror or e}") from None
    return out


def write_outputs(capture, out_dir):
    """Write the four files; returns a dict of what was written and found."""
    from .gtkw import write_gtkw
    from .svg import pick_walk, write_svg
    from .traces import build_traces, state_names
    from .vcd import PERIOD_NS, write_vcd
    from .walks import find_walks, write_log
    states = state_names()
    traces = build_traces(capture.windows, capture.columns, states)
    files = {"vcd": out_dir / "walks.vcd", "gtkw": out_dir / "walks.gtkw",
             "svg": out_dir / "walk.svg", "log": out_dir / "walks.log"}
    write_vcd(files["vcd"], capture.windows, traces)
    first = capture.windows[0].start if capture.windows else 0
    write_gtkw(files["gtkw"], files["vcd"], traces, first_cycle=first)
    walks = find_walks(capture.windows)
    lines = write_log(files["log"], walks, capture.procs)
    walk = pick_walk(walks)
    if walk is not None:
        window = next(w for w in capture.windows if w.number == walk.window)
        owner = capture.procs.owner(walk.root, walk.end) if capture.procs else None
        write_svg(files["svg"], walk, window, states, owner)
    elif files["svg"].exists():
        files["svg"].unlink()
    return {"files": files, "walks": walks, "log": lines, "drawn": walk}


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        out_dir = check_out_dir(args.out)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except SystemExit as e:          # --help
        return e.code or 0
    from .scenario import ScenarioError, run_baremetal, run_xv6

    def log(msg):
        print(f"[wave] {msg}", file=sys.stderr, flush=True)

    t0 = time.monotonic()
    try:
        if args.elf and args.scenario != "baremetal":
            raise UsageError("--elf needs --scenario baremetal")
        if args.scenario == "baremetal":
            if args.elf and not Path(args.elf).is_file():
                raise UsageError(f"{args.elf}: no such file")
            capture = run_baremetal(args.engine, args.wave_before, args.wave_after, args.wave_max,
                                    build_dir=out_dir, log=log, elf=args.elf,
                                    max_cycles=args.max_cycles)
            if args.elf:
                log(f"{args.elf}: " + ("no tohost write" if capture.tohost is None
                                       else f"tohost = {capture.tohost:#x}"))
        else:
            commands = [c.strip() for c in args.run.split(";") if c.strip()]
            timeout = args.timeout or (300.0 if args.engine == "cxxrtl" else 36000.0)
            sink = open(os.devnull, "w") if args.quiet else sys.stdout
            capture = run_xv6(args.engine, commands, args.wave_before, args.wave_after,
                              args.wave_max, kernel=args.kernel, fs=args.fs, timeout=timeout,
                              out=sink, log=log)
            print(file=sink)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except EngineError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BUILD
    except ScenarioError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAIL if e.failed else EXIT_INPUT
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("\n[wave] interrupted", file=sys.stderr)
        return EXIT_FAIL
    status = report(capture, out_dir, args, f"{args.scenario} on {args.engine}",
                    time.monotonic() - t0)
    capture.engine.close()
    return status


def report(capture, out_dir, args, label, run_secs):
    """Write the outputs of a finished capture and say where they are; returns the
    exit status (1 if no PTE_S walk was captured)."""
    def say(msg):
        print(f"[wave] {msg}", file=sys.stderr, flush=True)
    try:
        result = write_outputs(capture, out_dir)
    except OSError as e:
        print(f"error: writing the outputs: {e}", file=sys.stderr)
        return EXIT_INPUT
    stats = capture.engine.stats()
    files = result["files"]
    windows, triggers = capture.info[0], capture.info[1]
    shared = sum(1 for w in result["walks"] if w.shared)
    say(f"{label}: {stats.cycles} cycles in {run_secs:.1f} s; "
        f"{triggers} PTE_S walk ends seen, {windows} window(s) captured "
        f"(before {args.wave_before}, after {args.wave_after}, max {args.wave_max}), "
        f"{shared} PTE_S walk(s) in them")
    for key in ("vcd", "gtkw", "svg", "log"):
        f = files[key]
        if f.exists():
            say(f"  {key:4s} {f}  ({f.stat().st_size} bytes)")
    for line in result["log"][:5]:
        say(f"  {line}")
    if len(result["log"]) > 5:
        say(f"  ... {len(result['log']) - 5} more in {files['log']}")
    if result["drawn"] is None:
        print("error: no walk over a PTE_S page was captured", file=sys.stderr)
        return EXIT_FAIL
    say(f"open: gtkwave {files['gtkw']}   or a browser on {files['svg']}")
    return EXIT_OK
