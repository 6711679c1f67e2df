"""The boot card's layout: the image that ``python -m sim.sdcard`` (``make sdcard``)
writes for ``dd``, and its reader (the boot ROM's checks, in Python).

One card holds the kernel and the file system, as two primary partitions of an MBR
partition table (so ``fdisk -l`` on the image or the card shows the layout)::

    sector 0        the partition table (MBR: 4 entries at byte 446, 0x55 0xAA at 510)
    sector 2048     partition 1, type 0xDA: the kernel ELF file, as it is (the same file
                    `make qemu` and `make sim` boot), padded to a whole MiB
    after it        partition 2, type 0xDA: the xv6 file system image (fs.img), exactly
                    its size, on a MiB boundary

0xDA is "non-file-system data": operating systems on a PC leave such partitions alone.
The boot ROM (soc/bootrom/) reads partition 1's ELF into RAM, then sets the SD host's
window (soc/sdcard/host.py: BASE, SIZE) to partition 2, so the kernel's virtio disk is
fs.img from its sector 0 and cannot reach the kernel or the partition table.
"""

import struct
from dataclasses import dataclass
from pathlib import Path

from .proto import SECTOR_BYTES

__all__ = ["PARTITION_TYPE", "ALIGN_SECTORS", "MBR_ENTRIES", "Partition", "CardLayout",
           "LayoutError", "card_image", "read_layout"]

#: Partition type of both partitions (non-file-system data).
PARTITION_TYPE = 0xDA
#: Partitions start on 1 MiB boundaries, as partitioning tools do.
ALIGN_SECTORS = 2048
#: Byte offset of the four 16-byte partition entries in sector 0, and the signature's.
MBR_ENTRIES = 446
MBR_SIGNATURE = 510
#: An entry's CHS fields when the partition is addressed by LBA only.
CHS_UNUSED = b"\xfe\xff\xff"


class LayoutError(Exception):
    """The files cannot make a boot card, or an image is not one: the message says why."""


@dataclass(frozen=True)
class Partition:
    start: int      # first sector
    sectors: int

    @property
    def end(self):
        return self.start + self.sectors


@dataclass(frozen=True)
class CardLayout:
    kernel: Partition
    fs: Partition


def _round_up(n, unit):
    return -(-n // unit) * unit


def card_image(kernel, fs):
    """The card image (bytes) holding the kernel ELF ``kernel`` and the file system ``fs``."""
    kernel_part = Partition(ALIGN_SECTORS, _round_up(max(len(kernel), 1), ALIGN_SECTORS * SECTOR_BYTES)
                            // SECTOR_BYTES)
    fs_part = Partition(kernel_part.end, len(fs) // SECTOR_BYTES)
    image = bytearray(fs_part.end * SECTOR_BYTES)
    for i, part in enumerate((kernel_part, fs_part)):
        entry = (b"\x00" + CHS_UNUSED + bytes([PARTITION_TYPE]) + CHS_UNUSED +
                 struct.pack("<II", part.start, part.sectors))
        image[MBR_ENTRIES + 16 * i:MBR_ENTRIES + 16 * i + 16] = entry
    image[MBR_SIGNATURE:MBR_SIGNATURE + 2] = b"\x55\xaa"
    image[kernel_part.start * SECTOR_BYTES:kernel_part.start * SECTOR_BYTES + len(kernel)] = kernel
    image[fs_part.start * SECTOR_BYTES:] = fs
    return bytes(image)


def read_layout(image):
    """The CardLayout of a card image, checked as the boot ROM checks it."""
    if len(image) < SECTOR_BYTES or image[MBR_SIGNATURE:MBR_SIGNATURE + 2] != b"\x55\xaa":
        raise LayoutError("sector 0 holds no partition table")
    parts = []
    for i, what in enumerate(("kernel", "file system")):
        entry = image[MBR_ENTRIES + 16 * i:MBR_ENTRIES + 16 * i + 16]
        kind = entry[4]
        start, sectors = struct.unpack_from("<II", entry, 8)
        if kind != PARTITION_TYPE or sectors == 0:
            raise LayoutError(f"partition {i + 1} (the {what}) has type {kind:#04x} and "
                              f"{sectors} sectors; want type {PARTITION_TYPE:#04x}")
        parts.append(Partition(start, sectors))
    return CardLayout(*parts)
