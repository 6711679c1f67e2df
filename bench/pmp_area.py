"""Size (and optionally Fmax) of the pipelined core's PMP unit alone on an ECP5.

    .venv/bin/python bench/pmp_area.py [--ooc [--freq MHz] [--seed N]] [--tree DIR]

Synthesises ``hw.core.pmp.PMPUnit`` as the core instantiates it (16 entries, 3
requesters, 4 remembered pages each, the simulated SoC's 128 MiB RAM at 0x8000_0000
as its block) with Yosys ``synth_ecp5`` and prints its LUT4, CCU2C (carry: two bits
each) and flip-flop counts.  With ``--ooc`` it is also placed and routed on its own
(soc/ooc.py: inputs from a shift chain, outputs registered) and nextpnr's Fmax and
critical path are printed.  ``--tree`` measures the unit of another checkout (a
before/after comparison in one command line each).  Prints the CPU model and time.
"""

import argparse
import inspect
import resource
import sys
import tempfile
import time
from pathlib import Path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ooc", action="store_true", help="also place and route (nextpnr)")
    p.add_argument("--freq", type=float, default=50.0, help="target MHz (default 50)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tree", default=str(Path(__file__).resolve().parents[1]),
                   help="the checkout whose hw/ is measured (default: this one)")
    p.add_argument("--keep", default=None, help="keep the tools' files in this directory")
    args = p.parse_args(argv)
    sys.path.insert(0, str(Path(args.tree).resolve()))

    from hw.core.pmp import PMPUnit
    from soc.fpga import cpu_model
    from soc.synth import synthesize

    kw = dict(entries=16, ports=3, memo=4)
    if "blocks" in inspect.signature(PMPUnit).parameters:
        kw["blocks"] = [(0x8000_0000, 27)]
    what = f"PMPUnit({', '.join(f'{k}={v}' for k, v in kw.items())}) of {args.tree}"
    t0 = time.monotonic()
    if args.ooc:
        from soc.ooc import run_timing
        workdir = args.keep or tempfile.mkdtemp(prefix="pmp-ooc-")
        cells, rep, _ = run_timing(PMPUnit(**kw), workdir, freq_mhz=args.freq,
                                   seed=args.seed)
        note = " (with the out-of-context wrapper's shift chain and output registers)"
    else:
        cells, rep, note = synthesize(PMPUnit(**kw)).cells, None, ""
    wall = time.monotonic() - t0
    print(what)
    print(f"cells{note}: LUT4 {cells.get('LUT4', 0)}, CCU2C {cells.get('CCU2C', 0)}, "
          f"FF {cells.get('TRELLIS_FF', 0)}, PFUMX {cells.get('PFUMX', 0)}, "
          f"L6MUX21 {cells.get('L6MUX21', 0)}")
    if rep is not None:
        for line in rep.summary_lines(f", LFE5U-85F-6, nextpnr-ecp5 seed {args.seed}"):
            print(line)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"time: {wall:.0f} s wall, {ru.ru_utime + ru.ru_stime:.0f} s CPU ({cpu_model()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
