"""Boot benchmark: xv6 through the boot ROM and the SD card model, on CXXRTL.

From reset to the first shell prompt: the SoC resets into the ROM, which loads the
kernel from a card image (soc/sdcard/layout.py) held by the SD card model, whose
file-system partition then serves the kernel's virtio disk through the SD host.

    .venv/bin/python bench/sd_boot_bench.py [--clk-mhz 10] [--card-mb 8]

Prints the machine, the model build time (when one is needed), then for the ROM's
part (reset to "boot: starting the kernel") and the kernel's (to the first `$ `):
cycles, instructions, CPI, sectors read, and the CPU time and simulated cycles per
CPU second.  ``--clk-mhz`` is the system clock the SD host's dividers are computed
for (10 = the simulator's; a board runs at 50 or more: the card's identification
clock then costs more cycles, the data clock is 25 MHz either way).
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.boot_bench import cpu_model                              # noqa: E402
from sim.engine import EngineError, make_engine                   # noqa: E402
from sim.sdboot import boot_card, sd_board_args                     # noqa: E402


def run_until(engine, marker, text, limit, batch=200_000):
    """Run until ``marker`` is in the UART text; returns the text and the CPU seconds."""
    cpu0 = time.process_time()
    while marker not in text:
        if engine.stats().cycles > limit:
            raise SystemExit(f"no {marker!r} within {limit} cycles; the console said:\n{text}")
        engine.run(batch, stop_on_tx=True)
        text += engine.tx_take().decode(errors="replace")
    return text, time.process_time() - cpu0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clk-mhz", type=float, default=10)
    p.add_argument("--card-mb", type=int, default=8)
    p.add_argument("--kernel", default=str(ROOT / "build/xv6/kernel"))
    p.add_argument("--fs", default=str(ROOT / "build/xv6/fs.img"))
    args = p.parse_args(argv)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    try:
        image = boot_card(args.kernel, args.fs, args.card_mb << 20)
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: {e}")
    print(f"card image: {len(image):,} bytes on a {args.card_mb} MiB card; "
          f"system clock {args.clk_mhz} MHz")
    t0 = time.monotonic()
    try:
        soc_args = sd_board_args(clk_freq=int(args.clk_mhz * 1e6), card_size=args.card_mb << 20)
        engine = make_engine("cxxrtl", soc_args=soc_args,
                             log=lambda m: print(f"  {m}", file=sys.stderr))
    except EngineError as e:
        raise SystemExit(f"error: {e}")
    print(f"model ready in {time.monotonic() - t0:.1f} s (RTLIL export + cache lookup, or the build)")
    engine.load_card(image)

    text, cpu_rom = run_until(engine, "boot: starting the kernel", "", 50_000_000)
    rom = engine.stats()
    text, cpu_kernel = run_until(engine, "$ ", text, 200_000_000)
    end = engine.stats()
    engine.close()
    for name, s0, s1, cpu in (("boot ROM", None, rom, cpu_rom), ("kernel", rom, end, cpu_kernel)):
        cycles = s1.cycles - (s0.cycles if s0 else 0)
        instret = s1.instret - (s0.instret if s0 else 0)
        sectors = s1.sectors_read - (s0.sectors_read if s0 else 0)
        print(f"{name:8}: {cycles:,} cycles, {instret:,} instructions (CPI {cycles / instret:.2f}), "
              f"{sectors} sectors read, {cpu:.2f} s of CPU ({cycles / cpu / 1e6:.3f} M cycles/s)")
    total_cpu = cpu_rom + cpu_kernel
    print(f"reset to first '$ ': {end.cycles:,} cycles, {end.instret:,} instructions, "
          f"CPI {end.cycles / end.instret:.2f}, {end.sectors_read} sectors read, "
          f"{total_cpu:.2f} s of CPU")


if __name__ == "__main__":
    main()
