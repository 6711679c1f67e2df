"""`python -m sim.boot` (also `make sim`): boot xv6 on the simulated SoC, the UART as terminal.

Interactive (default): the terminal is the console, in raw mode like QEMU's
-nographic: Ctrl-C goes to xv6, Ctrl-A x quits.  While booting a status line on stderr
shows cycles, instructions and simulated MHz (only when stdout and stderr are both
terminals, and never over a console line in progress: sim/terminal.py, Screen); on
exit a summary gives cycles, instructions, CPI, wall time and speed.

Scripted (``--run "cmd1; cmd2"``): waits for the shell prompt, types each command,
waits for the next prompt, prints the transcript and exits 0, or 1 if a command did
not come back to the prompt within ``--timeout`` seconds or the kernel panicked.

Kernel panics: a console line that starts with "panic: " (xv6's panic() prints it,
then spins with interrupts off), followed by PANIC_QUIET_CYCLES cycles (2 simulated
ms) with no console output and no user-mode instruction retired, is a kernel panic.
The user-mode condition tells it from a program that prints such a line.  A scripted
run then ends at once with exit status 1; an interactive one stops simulating, says
so on the status line and waits for Ctrl-A x.

Interrupt storms: when the engine reports one PLIC source claimed STORM_CLAIMS times
with no user-mode instruction retired in between (sim/engine.py, the claim watch),
the status line and the summary name the source (docs/simulation.md: "Software that
runs on QEMU but storms here").

The disk image is copy-on-write (the file is not changed) unless ``--persist``.
Exit status: 0 fine, 1 scripted run failed or the kernel panicked, 2 bad
kernel/disk/arguments, 3 the simulator could not be built.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from soc import memmap

from . import sdboot
from .disk import DiskError, DiskImage
from .elf import BadElf, load_elf
from .engine import ENGINES, MTIME_HZ, EngineError, make_engine
from .terminal import Screen

ROOT = Path(__file__).resolve().parents[1]
PROMPT = b"$ "
EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_BUILD = 0, 1, 2, 3

#: cycles per run() call between looks at the terminal
BATCH = {"cxxrtl": 100_000, "pysim": 500}

#: the start of the kernel's panic message on the console
PANIC_TEXT = b"panic: "
#: quiet cycles after a panic line (2 ms at the SoC's 10 MHz) before it counts
PANIC_QUIET_CYCLES = 20_000
#: claims of one interrupt source with no user-mode instruction between them: a storm
STORM_CLAIMS = 10_000
IRQ_NAMES = {memmap.UART0_IRQ: "UART0", memmap.VIRTIO0_IRQ: "VIRTIO0"}


class UsageError(Exception):
    pass


class KernelPanic(Exception):
    """The kernel panicked; the message gives its panic line, cycle and instructions."""


def build_parser():
    p = argparse.ArgumentParser(prog="python -m sim.boot", description=__doc__.split("\n")[0])
    p.add_argument("--engine", choices=sorted(ENGINES), default=os.environ.get("ENGINE") or "cxxrtl",
                   help="simulation engine (default: $ENGINE or cxxrtl)")
    p.add_argument("--kernel", default=str(ROOT / "build/xv6/kernel"), help="xv6 kernel ELF")
    p.add_argument("--fs", default=str(ROOT / "build/xv6/fs.img"), help="file system image")
    p.add_argument("--persist", action="store_true",
                   help="write the disk back to the image file on exit (default: copy-on-write)")
    p.add_argument("--run", metavar="CMDS",
                   help="scripted mode: type these ';'-separated commands, one per prompt")
    p.add_argument("--timeout", type=float, default=None,
                   help="scripted mode: seconds of wall time allowed for the boot and for each "
                        "command (default 300 on cxxrtl, 36000 on pysim)")
    p.add_argument("--boot-only", action="store_true",
                   help="stop at the first prompt and print the boot figures")
    p.add_argument("--ram-mb", type=int, default=None,
                   help="RAM size in MiB (default: what the kernel was built for, its RAM_MB; "
                        f"{memmap.DEFAULT_RAM_SIZE >> 20} for a kernel that does not say)")
    p.add_argument("--ram-latency", type=int, default=1, metavar="N",
                   help="cycles from a RAM request to its first beat (default 1, the block "
                        "RAM's timing; larger values stand in for a slower memory)")
    p.add_argument("--board", default=None, metavar="NAME",
                   help="simulate a board's configuration of the SoC (soc/board/: its clock, "
                        "its SDRAM controller with the SDRAM chip model, the boot ROM loading "
                        "the kernel from an SD card model that holds make sdcard's image of "
                        "KERNEL and FS; cxxrtl only): ulx3s-85f (default: the simulated SoC "
                        "with block RAM, the kernel loaded by the simulator)")
    p.add_argument("--no-status", action="store_true", help="no status line while booting")
    from .wave.cli import add_wave_options
    add_wave_options(p, required_dir=False)
    return p


def read_kernel(path):
    try:
        return load_elf(path, need_tohost=False)
    except BadElf as e:
        raise UsageError(f"kernel: {e}") from None


def check_kernel(path, image, ram_size):
    """UsageError unless the kernel image starts at the reset address and fits the RAM."""
    if image.entry != memmap.RESET_PC:
        raise UsageError(f"kernel: {path}: entry point {image.entry:#x}, but the SoC starts "
                         f"at {memmap.RESET_PC:#x}")
    lo, hi = image.extent()
    if lo < memmap.RAM_BASE:
        raise UsageError(f"kernel: {path}: a segment starts at {lo:#x}, below RAM "
                         f"({memmap.RAM_BASE:#x})")
    if hi > memmap.RAM_BASE + ram_size:
        raise UsageError(f"kernel: {path}: needs RAM up to {hi:#x} but the SoC has "
                         f"{ram_size >> 20} MiB ({memmap.RAM_BASE:#x}..{memmap.RAM_BASE + ram_size:#x})")


def load_kernel(path, ram_size):
    """The kernel's ElfImage, checked against a machine with ram_size bytes of RAM."""
    image = read_kernel(path)
    check_kernel(path, image, ram_size)
    return image


class Session:
    """An engine with xv6 loaded, its console transcript and figures.

    ``screen`` (sim/terminal.py), if given, receives the console output as it comes
    and shows the status line.  ``panic`` is set (Panic) once the kernel has panicked,
    ``storm`` (Storm) while or after an interrupt storm."""

    def __init__(self, engine, disk, *, screen=None):
        self.engine = engine
        self.disk = disk
        self.screen = screen
        self.transcript = bytearray()
        self.t0 = time.monotonic()
        self.prompt_at = None       # (Stats, wall seconds) at the first prompt
        self.stats = engine.stats()
        self.panic = None
        self.storm = None
        self._suspect = None        # a "panic: " line waiting for its quiet time
        self._last_status = 0.0

    def pump(self, max_cycles, *, exact=False):
        """Run up to max_cycles (stopping at each output byte if exact); returns new output.

        While a panic line waits for its quiet time, the run stops where that ends."""
        if self._suspect:
            left = self._suspect.quiet_from + PANIC_QUIET_CYCLES - self.stats.cycles
            max_cycles = max(1, min(max_cycles, left))
        self.engine.run(max_cycles, stop_on_tx=exact)
        out = self.engine.tx_take()
        self.stats = s = self.engine.stats()
        if out:
            new_from = len(self.transcript)
            self.transcript += out
            if self.screen:
                self.screen.console(out)
            if self.prompt_at is None and self.transcript.endswith(PROMPT):
                self.prompt_at = (s, time.monotonic() - self.t0)
        else:
            new_from = None
        if self.panic is None:
            self._watch_panic(new_from, s)
        self._watch_storm(s)
        if self.screen:
            self._show_status(s)
        return out

    def _watch_panic(self, new_from, s):
        sus = self._suspect
        if sus and s.user_instret != sus.stats.user_instret:
            self._suspect = sus = None          # user code runs: a program printed it
        if sus is None and new_from is not None:
            at = self._panic_line(new_from)
            if at is not None:
                self._suspect = sus = _Suspect(at, s, s.cycles)
        if sus:
            if new_from is not None:
                sus.quiet_from = s.cycles
            elif s.cycles - sus.quiet_from >= PANIC_QUIET_CYCLES:
                line = bytes(self.transcript[sus.at:]).split(b"\n")[0]
                self.panic = Panic(line.decode("latin-1").rstrip("\r"), sus.stats)
                self._suspect = None

    def _panic_line(self, new_from):
        """Offset of a line starting with PANIC_TEXT that ends in the new output, or None."""
        t = self.transcript
        i = t.find(PANIC_TEXT, max(0, new_from - len(PANIC_TEXT) + 1))
        while i >= 0:
            if i == 0 or t[i - 1] in b"\r\n":
                return i
            i = t.find(PANIC_TEXT, i + 1)
        return None

    def _watch_storm(self, s):
        """``storm`` is the latest storm; ``storm.now`` while it lasts."""
        st = self.storm
        if s.claim_streak >= STORM_CLAIMS:
            if not (st and st.now and st.source == s.claim_source and s.claim_streak >= st.claims):
                self.storm = st = Storm(s.claim_source, s.cycles)
            st.claims = s.claim_streak
        elif st:
            st.now = False

    def _show_status(self, s):
        if self.panic:
            st = self.panic.stats
            self.screen.status(f"[sim] kernel panic at cycle {st.cycles:,} ({st.instret:,} "
                               f"instructions); Ctrl-A x quits", alert=True)
            return
        now = time.monotonic()
        if now - self._last_status < 0.5:
            return
        self._last_status = now
        if self.storm and self.storm.now:
            self.screen.status(f"[sim] {self.storm.describe(short=True)}", alert=True)
        elif self.prompt_at is None:
            self.screen.status(f"[sim] booting: {s.cycles / 1e6:.2f} M cycles, "
                               f"{s.instret / 1e6:.2f} M instructions, "
                               f"{s.cycles / (now - self.t0) / 1e6:.2f} MHz")
        else:
            self.screen.status(None)

    def wait_for_prompt(self, since, deadline):
        """Run until the transcript after offset `since` ends with a fresh prompt.
        Raises KernelPanic."""
        batch = BATCH[self.engine.name] * 10
        while True:
            self.pump(batch, exact=True)
            if self.panic:
                raise KernelPanic(str(self.panic))
            tail = self.transcript[since:]
            if tail.endswith(PROMPT) and (since == 0 or b"\n" in tail):
                return True
            if time.monotonic() > deadline:
                return False

    def command(self, cmd, timeout):
        """Type one command line; return its output (without the echo) up to the next
        prompt.  Raises TimeoutError if the prompt does not come back in time, or
        KernelPanic."""
        since = len(self.transcript)
        self.engine.rx_push(cmd.encode() + b"\n")
        if not self.wait_for_prompt(since, time.monotonic() + timeout):
            raise TimeoutError(f"{cmd!r} did not return to the prompt within {timeout:.0f} s"
                               + self._storm_note())
        tail = bytes(self.transcript[since:])
        echo = cmd.encode() + b"\n"
        if not tail.startswith(echo):
            raise RuntimeError(f"unexpected output before the echo of {cmd!r}: {tail!r}")
        return tail[len(echo):-len(PROMPT)].decode("latin-1")

    def boot(self, timeout):
        """Run to the first prompt; returns the boot messages.  Raises TimeoutError or
        KernelPanic."""
        if not self.wait_for_prompt(0, time.monotonic() + timeout):
            raise TimeoutError(f"no shell prompt within {timeout:.0f} s of boot"
                               + self._storm_note())
        return bytes(self.transcript[:-len(PROMPT)]).decode("latin-1")

    def _storm_note(self):
        return f" ({self.storm.describe()})" if self.storm else ""

    def summary(self):
        s = self.engine.stats()
        wall = time.monotonic() - self.t0
        cpi = s.cycles / s.instret if s.instret else float("nan")
        lines = [f"[sim] {self.engine.name}: {s.cycles} cycles, {s.instret} instructions, "
                 f"CPI {cpi:.2f}, wall {wall:.1f} s, {s.cycles / wall / 1e6:.2f} M cycles/s "
                 f"({s.wfi_skips} idle skips, {s.sectors_read} sectors read, "
                 f"{s.sectors_written} written)"]
        if self.prompt_at:
            p, w = self.prompt_at
            lines.append(f"[sim] first prompt after {p.instret} instructions, {p.cycles} cycles, "
                         f"{w:.1f} s wall")
        if self.panic:
            lines.append(f"[sim] {self.panic}")
        if self.storm:
            lines.append(f"[sim] {self.storm.describe()}: see docs/simulation.md, \"Software "
                         f"that runs on QEMU but storms here\"")
        return "\n".join(lines)


class _Suspect:
    """A console line starting with PANIC_TEXT, at transcript offset ``at``."""

    def __init__(self, at, stats, quiet_from):
        self.at, self.stats, self.quiet_from = at, stats, quiet_from


class Panic:
    def __init__(self, line, stats):
        self.line = line            # the console line, "panic: ..."
        self.stats = stats          # when it appeared

    def __str__(self):
        return (f"kernel panic at cycle {self.stats.cycles:,} after {self.stats.instret:,} "
                f"instructions: {self.line}")


class Storm:
    """One PLIC source claimed STORM_CLAIMS times or more with no user-mode instruction
    in between; ``cycle`` is where the simulator noticed, ``now`` while it lasts."""

    def __init__(self, source, cycle):
        self.source, self.cycle, self.claims, self.now = source, cycle, 0, True

    def describe(self, short=False):
        name = IRQ_NAMES.get(self.source)
        what = f"PLIC source {self.source}" + (f" ({name})" if name else "")
        if short:           # for the status line: fits in 80 columns
            return f"storm: {what} claimed {self.claims:,} times without user mode"
        return (f"interrupt storm: {what} claimed {self.claims:,} times with no user-mode "
                f"instruction in between (noticed at cycle {self.cycle:,})")


def start(args, log, progress=None):
    return open_engine(args.engine, args.kernel, args.fs, ram_mb=args.ram_mb,
                       ram_latency=args.ram_latency, persist=args.persist, log=log,
                       board=args.board, progress=progress)


def open_engine(engine_name, kernel, fs, *, ram_mb=None, ram_latency=1, persist=False,
                log=None, board=None, progress=None, lib_path=None):
    """Check the inputs, build/load the engine, load the kernel and the disk (with
    ``board``: a card image holding both, on the board's SD card model, from which its
    boot ROM loads the kernel).  ``ram_mb=None`` gives the machine the RAM the kernel
    was built for.  ``lib_path``: cxxrtl, this model library of that machine (the
    benchmarks choose the quick or the tuned one) instead of the best one there is.

    Returns (engine, DiskImage); raises UsageError or EngineError."""
    image = read_kernel(kernel)
    built_for = image.ram_mb
    if ram_mb is None:
        ram_mb = built_for or memmap.DEFAULT_RAM_SIZE >> 20
    elif built_for is not None and built_for != ram_mb:
        raise UsageError(f"kernel: {kernel} was built for {built_for} MiB of RAM, not "
                         f"{ram_mb}: build it with `make xv6 RAM_MB={ram_mb}` "
                         f"(or leave --ram-mb out)")
    ram_size = ram_mb << 20
    if ram_size <= 0 or ram_size & (ram_size - 1):
        raise UsageError("--ram-mb must be a power of two")
    if ram_latency < 1:
        raise UsageError("--ram-latency must be at least 1 cycle")
    soc_args = {"ram_latency": ram_latency}
    if board is not None:
        from soc.board import board as board_spec
        try:
            spec = board_spec(board)
        except ValueError as e:
            raise UsageError(str(e)) from None
        if engine_name != "cxxrtl":
            raise UsageError("a board's configuration runs on the cxxrtl engine only")
        ram_size = spec.sdram.size
        if built_for is not None and built_for << 20 > ram_size:
            raise UsageError(f"kernel: {kernel} was built for {built_for} MiB of RAM but the "
                             f"board {board} has {ram_size >> 20} MiB: build it with "
                             f"`make xv6 RAM_MB={ram_size >> 20}`")
        soc_args = spec.soc_args(simulation=True, card_size=sdboot.CARD_SIZE)
    check_kernel(kernel, image, ram_size)
    try:
        disk = DiskImage.open(fs, persist=persist)
    except DiskError as e:
        raise UsageError(f"disk: {e}") from None
    if board is not None:
        try:
            with open(kernel, "rb") as f:
                card = sdboot.card_for(f.read(), disk.working_copy(), sdboot.CARD_SIZE)
        except (OSError, ValueError) as e:
            raise UsageError(f"SD card: {e}") from None
    extra = {} if lib_path is None else {"lib_path": lib_path}
    engine = make_engine(engine_name, ram_size=ram_size, log=log, progress=progress,
                         soc_args=soc_args, **extra)
    if board is None:
        engine.load(image)
        engine.set_disk(disk.working_copy())
    else:
        engine.load_card(card)
    return engine, disk


def final_disk(engine):
    """The disk as the run left it: the storage port's, or the card's file system."""
    if engine.card is None:
        return engine.disk_image()
    return sdboot.card_fs(engine, engine.card)


def scripted(session, commands, timeout, out=None):
    """Boot, type the commands; returns None, or what went wrong.  The console goes to
    the session's screen, or to the stream ``out``."""
    if session.screen is None:
        session.screen = Screen(out, live=False)
    try:
        session.boot(timeout)
        for cmd in commands:
            session.command(cmd, timeout)
    except TimeoutError as e:
        return f"timeout: {e}"
    except (KernelPanic, RuntimeError) as e:
        return str(e)
    return None


def interactive(session, term):
    """The terminal loop.  While the machine is busy it runs flat out; while it idles
    (sleeping in wfi, no output, no typed input) it runs small batches, waits for typed
    input a little after each, and never lets simulated time run ahead of wall time.
    (An idle xv6 costs about 2.4 k cycles per 10 ms timer tick: on cxxrtl an idle shell
    uses about a sixth of a core, paced to real time.)  After a kernel panic it only
    waits for Ctrl-A x."""
    engine = session.engine
    batch = BATCH[engine.name]
    drained_at = None
    anchor = None               # (mtime, wall time) where real-time pacing started
    while not term.quit:
        if session.panic:
            term.poll(0.2)
            if term.eof:
                break
            continue
        booting = session.prompt_at is None
        before = session.stats.wfi_skips
        out = session.pump(batch if anchor is None else max(batch // 10, 1), exact=booting)
        stats = session.stats
        idle = not out and engine.rx_pending() == 0 and stats.wfi_skips > before
        wait = 0.0
        if idle:
            now = time.monotonic()
            if anchor is None:
                anchor = (stats.mtime, now)
            ahead = (stats.mtime - anchor[0]) / MTIME_HZ - (now - anchor[1])
            # never ahead of wall time, and a short pause per idle batch in any case
            wait = min(max(ahead, 0.005), 0.05)
        else:
            anchor = None
        typed = term.poll(wait)
        if typed:
            engine.rx_push(typed)
            anchor = None
        if term.eof:
            # Piped input ended: finish what was typed, then stop at the next prompt.
            if engine.rx_pending() == 0 and session.transcript.endswith(PROMPT):
                if drained_at is None:
                    drained_at = engine.stats().cycles
                elif engine.stats().cycles - drained_at > 20 * batch:
                    break
            else:
                drained_at = None


def main(argv=None):
    args = build_parser().parse_args(argv)
    err = sys.stderr
    screen = Screen(sys.stdout, err, live=None if not args.no_status else False)

    def log(msg):
        screen.log(f"[sim] {msg}")

    wave = None
    try:
        if args.wave:
            from .wave.cli import UsageError as WaveUsageError, check_out_dir
            try:
                wave_dir = check_out_dir(args.wave)
            except WaveUsageError as e:
                raise UsageError(str(e)) from None
        engine, disk = start(args, log, screen.status)
        if args.wave:
            from .wave.scenario import Recorder
            wave = Recorder(engine, args.wave_before, args.wave_after, args.wave_max,
                            kernel=args.kernel, log=log)
    except UsageError as e:
        print(f"error: {e}", file=err)
        return EXIT_INPUT
    except EngineError as e:
        print(f"error: {e}", file=err)
        return EXIT_BUILD
    session = Session(wave.engine if wave else engine, disk, screen=screen)
    timeout = args.timeout or (300.0 if engine.name == "cxxrtl" else 36000.0)
    result = EXIT_OK
    try:
        if args.run is not None or args.boot_only:
            commands = [c.strip() for c in (args.run or "").split(";") if c.strip()]
            problem = scripted(session, commands, timeout)
            screen.clear()
            print(file=sys.stdout)
            if problem:
                print(f"error: {problem}", file=err)
                result = EXIT_FAIL
        else:
            from .terminal import Terminal
            with Terminal() as term:
                interactive(session, term)
            screen.clear()
            print(file=sys.stdout)
            if session.panic:
                result = EXIT_FAIL
    except KeyboardInterrupt:
        screen.clear()
        print("\n[sim] interrupted", file=err)
        result = EXIT_FAIL
    print(session.summary(), file=err)
    if args.board:
        try:
            problem = engine.sdram_error()
        except EngineError as e:
            problem = (f"unreadable ({e})", "?", "?")
        if problem:
            print(f"error: the SDRAM chip model saw a timing error: {problem[0]} at cycle "
                  f"{problem[1]} (bank {problem[2]})", file=err)
            result = EXIT_FAIL
        else:
            print("[sim] SDRAM chip model: no timing or protocol errors", file=err)
    if wave:
        from .wave.cli import report
        capture = wave.finish(bytes(session.transcript).decode("latin-1"))
        if report(capture, wave_dir, args, f"boot on {engine.name}", time.monotonic() - session.t0):
            result = result or EXIT_FAIL
    try:
        if disk.write_back(final_disk(engine)):
            print(f"[sim] wrote the disk back to {disk.path}", file=err)
    except (OSError, DiskError) as e:
        print(f"error: could not write the disk back: {e}", file=err)
        result = EXIT_FAIL
    engine.close()
    return result


if __name__ == "__main__":
    sys.exit(main())
