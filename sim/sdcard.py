"""``python -m sim.sdcard KERNEL FS -o IMAGE`` (``make sdcard``): the board's boot card
as an image file for ``dd``, in the layout of soc/sdcard/layout.py.  The inputs get the
simulator's checks first (an RV64 ELF that starts at RAM_BASE, an xv6 file system
image), so a bad file gives a message and writes nothing.
"""

import argparse
import sys
from pathlib import Path

from soc import memmap
from soc.sdcard.layout import LayoutError, card_image, read_layout
from .disk import DiskImage, DiskError
from .elf import load_elf, BadElf

__all__ = ["main"]


def _check_inputs(kernel_path, fs_path):
    try:
        elf = load_elf(str(kernel_path), need_tohost=False)
        fs = DiskImage.open(str(fs_path)).original
    except (BadElf, DiskError) as e:
        raise LayoutError(str(e)) from None
    if elf.entry != memmap.RAM_BASE:
        raise LayoutError(f"{kernel_path}: entry {elf.entry:#x}; the boot ROM starts "
                          f"kernels at {memmap.RAM_BASE:#x}")
    return Path(kernel_path).read_bytes(), fs


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m sim.sdcard",
        description="Write a boot card image (partition table, kernel, file system) for dd.")
    ap.add_argument("kernel", help="the kernel ELF (build/xv6/kernel)")
    ap.add_argument("fs", help="the file system image (build/xv6/fs.img)")
    ap.add_argument("-o", "--output", required=True, help="the card image to write")
    args = ap.parse_args(argv)
    try:
        kernel, fs = _check_inputs(args.kernel, args.fs)
    except LayoutError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    image = card_image(kernel, fs)
    layout = read_layout(image)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(image)
    tmp.replace(out)
    print(f"{out}: {len(image):,} bytes\n"
          f"  sector {0:<8} the partition table\n"
          f"  sector {layout.kernel.start:<8} partition 1: the kernel, {args.kernel} "
          f"({len(kernel):,} bytes; partition of {layout.kernel.sectors} sectors)\n"
          f"  sector {layout.fs.start:<8} partition 2: the file system, {args.fs} "
          f"({len(fs):,} bytes = {layout.fs.sectors} sectors)\n"
          f"Write it to a card (everything on the card is lost; `lsblk` shows which "
          f"device the card is):\n"
          f"  sudo dd if={out} of=/dev/sdX bs=1M conv=fsync")
    return 0


if __name__ == "__main__":
    sys.exit(main())
