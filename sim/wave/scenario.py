"""The runs `python -m sim wave` captures: the bare-metal program and xv6.

* ``baremetal``: tests/wave/programs/shared_page.S, assembled here, runs on the SoC
  until it writes tohost (a few thousand cycles; a dump in about a second on cxxrtl).
* ``xv6``: boots build/xv6/kernel with build/xv6/fs.img and types the commands, as
  ``make sim RUN=...`` does; capture starts at reset.  After every batch of cycles
  the kernel's process table is read from RAM, so a page-table root can be named
  (see procs.py).
"""

import subprocess
import shutil
from pathlib import Path

from sim.elf import BadElf, load_elf
from sim.engine import STOP_TOHOST, EngineError, make_engine

from .capture import arm, collect

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "tests/wave/programs/shared_page.S"
LINK = ROOT / "tests/wave/programs/link.ld"
CC = "riscv64-unknown-elf-gcc"
CFLAGS = ["-march=rv64ima_zicsr_zifencei", "-mabi=lp64", "-nostdlib", "-nostartfiles",
          "-static", "-mcmodel=medany"]
BAREMETAL_CYCLES = 200_000


class ScenarioError(Exception):
    """The scenario could not run (bad input) or ``failed`` (the run went wrong)."""

    def __init__(self, message, failed=False):
        super().__init__(message)
        self.failed = failed


def build_program(out_dir):
    """Assemble the bare-metal scenario into out_dir/shared_page.elf."""
    if shutil.which(CC) is None:
        raise ScenarioError(f"{CC} not found (make toolchain)")
    out = Path(out_dir) / "shared_page.elf"
    cmd = [CC, *CFLAGS, "-T", str(LINK), str(PROGRAM), "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise ScenarioError(f"assembling {PROGRAM.name} failed:\n{r.stderr}")
    return out


class Capture:
    """The result of a captured run."""

    def __init__(self, engine, cols, windows, info, transcript="", procs=None):
        self.engine = engine            # still open: RAM can be read
        self.cols = cols                # [(Column, width)]
        self.windows = windows          # [Window] in order
        self.info = info                # engine.wave_info() at the end
        self.transcript = transcript
        self.procs = procs              # procs.ProcWatch or None
        self.tohost = None              # bare-metal runs: the value written to tohost

    @property
    def columns(self):
        return [(c.name, w) for c, w in self.cols]


def run_baremetal(engine_name, before, after, max_windows, *, build_dir, log=None, elf=None,
                  max_cycles=BAREMETAL_CYCLES):
    """Run the scenario program, or ``elf`` (any bare-metal RV64 ELF with a tohost
    symbol), on the SoC until it writes tohost.  The scenario program must pass
    (tohost = 1); another ELF's tohost value is only reported (Capture.tohost)."""
    path = elf or build_program(build_dir)
    try:
        image = load_elf(str(path))
    except BadElf as e:
        raise ScenarioError(str(e)) from None
    engine = make_engine(engine_name, log=log)
    try:
        engine.load(image)
        engine.set_tohost(image.tohost)
    except EngineError as e:
        engine.close()
        raise ScenarioError(f"{path}: {e}") from None
    cols = arm(engine, before, after, max_windows)
    stop = engine.run(max_cycles)
    engine.wave_stop()
    tohost = engine.stats().tohost
    if elf is None and (stop != STOP_TOHOST or tohost != 1):
        engine.close()
        raise ScenarioError(f"the bare-metal scenario did not pass (stop {stop}, tohost "
                            f"{tohost:#x})", failed=True)
    windows = collect(engine.wave_take(), cols)
    cap = Capture(engine, cols, [windows[k] for k in sorted(windows)], engine.wave_info())
    cap.tohost = tohost if stop == STOP_TOHOST else None
    return cap


class _WatchedEngine:
    """The engine as the boot session sees it; after each run() it collects the
    finished rows and looks at the process table."""

    def __init__(self, engine, cols, procs):
        self._engine = engine
        self._cols = cols
        self._procs = procs
        self._last_look = -self.PROC_INTERVAL
        self.windows = {}

    def __getattr__(self, name):
        return getattr(self._engine, name)

    #: cycles between looks at the process table when no window has arrived
    PROC_INTERVAL = 1_000_000

    def run(self, max_cycles, **kw):
        stop = self._engine.run(max_cycles, **kw)
        rows = self._engine.wave_take()
        if rows:
            collect(rows, self._cols, self.windows)
        if self._procs is not None:
            # right after new rows (their processes are most likely alive now), and
            # now and then in between, so the previous look is never far back
            cycles = self._engine.stats().cycles
            if rows or max_cycles == 0 or cycles - self._last_look >= self.PROC_INTERVAL:
                self._procs.snapshot(self._engine)
                self._last_look = cycles
        return stop


class Recorder:
    """A capture armed on an engine that something else drives (a boot session):
    ``engine`` is the engine to drive, ``finish()`` stops and returns the Capture.
    With ``kernel`` (an xv6 ELF) the process table is watched to name the roots."""

    def __init__(self, engine, before, after, max_windows, *, kernel=None, log=None):
        from .procs import ProcWatch, ProcTableError
        procs = None
        if kernel is not None and not hasattr(engine, "read_ram"):
            if log:
                log(f"processes will not be named: the {engine.name} engine cannot read RAM")
        elif kernel is not None:
            try:
                procs = ProcWatch.from_kernel(kernel)
            except ProcTableError as e:
                if log:
                    log(f"processes will not be named: {e}")
        self._raw = engine
        self.cols = arm(engine, before, after, max_windows)
        self.engine = _WatchedEngine(engine, self.cols, procs)
        self.procs = procs

    def finish(self, transcript=""):
        watched = self.engine
        watched.run(0)
        self._raw.wave_stop()
        collect(self._raw.wave_take(), self.cols, watched.windows)
        return Capture(self._raw, self.cols, [watched.windows[k] for k in sorted(watched.windows)],
                       self._raw.wave_info(), transcript, self.procs)


def run_xv6(engine_name, commands, before, after, max_windows, *, kernel, fs, timeout,
            out, log=None):
    """Boot xv6, type the commands; returns a Capture.  ``out`` receives the console."""
    from sim.boot import Session, UsageError, open_engine, scripted
    try:
        engine, disk = open_engine(engine_name, str(kernel), str(fs), log=log)
    except UsageError as e:
        raise ScenarioError(str(e)) from None
    rec = Recorder(engine, before, after, max_windows, kernel=kernel, log=log)
    session = Session(rec.engine, disk)
    problem = scripted(session, commands, timeout, out)
    capture = rec.finish(bytes(session.transcript).decode("latin-1"))
    if problem:
        engine.close()
        raise ScenarioError(problem, failed=True)
    return capture
