"""Which g++ options pay for themselves on this design: compile time against model speed.

    .venv/bin/python bench/cxx_flags_bench.py [--cycles N] [FLAGS ...]

Builds the generated model (build/sim/cxxrtl-*/model.cc of the default SoC; built
first if missing) with each set of FLAGS (default: "-O0" "-O1" "-O2" "-O3"), each as
its own library in a temporary directory, and prints for each: the compile's wall and
CPU seconds, and the library's speed on the first N cycles (default 2.3 M, about the
boot to the first prompt) of the xv6 boot in simulated cycles per CPU second.  CPU
seconds are the figures to compare on a shared machine.  The profile-guided build is
sim/cxxrtl/build.py's tuned model (bench/boot_bench.py measures it).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from boot_bench import cpu_model            # noqa: E402
from sim.cxxrtl import build                 # noqa: E402
from soc.fpga import children_cpu            # noqa: E402

RUN = """
import sys, time
sys.path.insert(0, {root!r})
from sim.elf import load_elf
from sim.engine import CxxrtlEngine
e = CxxrtlEngine(lib_path={lib!r})
e.load(load_elf({kernel!r}, need_tohost=False))
e.set_disk(open({disk!r}, "rb").read())
c0 = time.process_time()
e.run({cycles})
print(time.process_time() - c0)
"""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cycles", type=int, default=2_300_000)
    p.add_argument("flags", nargs="*", default=["-O0", "-O1", "-O2", "-O3"])
    args = p.parse_args(argv)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    from soc.soc import SoC
    md = build.ModelDir.of(SoC())
    if not (md.path / "model.cc").exists():
        build.build_model(SoC(), log=lambda m: print(m, file=sys.stderr))
    out = Path(tempfile.mkdtemp(prefix="cxxflags-"))
    for spec in args.flags:
        flags = spec.split()
        lib = out / f"lib{len(list(out.iterdir()))}.so"
        t0, c0 = time.monotonic(), children_cpu()
        for cmd in ([build.CXX, *flags, *build.COMMON_FLAGS, "-I", str(build.runtime_include()),
                     "-I", str(md.path), "-c", str(build.DRIVER), "-o", str(lib) + ".o"],
                    [build.CXX, "-shared", *flags, str(lib) + ".o", "-o", str(lib)]):
            subprocess.run(cmd, check=True)
        wall, cpu = time.monotonic() - t0, children_cpu() - c0
        code = RUN.format(root=str(ROOT), lib=str(lib), kernel=str(build.TRAIN_KERNEL),
                          disk=str(build.TRAIN_DISK), cycles=args.cycles)
        run = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                   check=True).stdout)
        print(f"{spec:32s} compile {wall:6.1f} s wall, {cpu:6.1f} s CPU | "
              f"{args.cycles / run / 1e6:.3f} M cycles per CPU second", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
