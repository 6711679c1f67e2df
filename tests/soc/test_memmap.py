"""soc/memmap.py agrees with the kernel's headers (they repeat the map in C)."""

import re
from pathlib import Path

from soc import memmap

KERNEL = Path(__file__).resolve().parents[2] / "xv6" / "kernel"


def defines(header):
    out = {}
    for line in (KERNEL / header).read_text().splitlines():
        found = re.match(r"#define\s+(\w+)\s+(0x[0-9a-fA-F]+|\d+)L?\b", line)
        if found:
            out[found.group(1)] = int(found.group(2), 0)
    return out


def test_device_addresses_and_irqs_match_memlayout():
    d = defines("memlayout.h")
    assert d["CLINT"] == memmap.CLINT.base
    assert d["PLIC"] == memmap.PLIC.base
    assert d["UART0"] == memmap.UART0.base
    assert d["VIRTIO0"] == memmap.VIRTIO0.base
    assert d["UART0_IRQ"] == memmap.UART0_IRQ
    assert d["VIRTIO0_IRQ"] == memmap.VIRTIO0_IRQ
    assert d["KERNBASE"] == memmap.RAM_BASE == memmap.RESET_PC


def test_default_ram_is_the_kernels_phystop():
    assert defines("param.h")["RAM_MB"] * 1024 * 1024 == memmap.DEFAULT_RAM_SIZE


def test_regions_do_not_overlap_and_are_aligned():
    regions = sorted(memmap.DEVICE_REGIONS + (memmap.ram_region(),), key=lambda r: r.base)
    for a, b in zip(regions, regions[1:]):
        assert a.end <= b.base
    for r in regions:
        assert r.base % r.size == 0


def test_board_regions():
    board = (memmap.SDCARD, memmap.LEDS, memmap.BOOTROM, memmap.BOOTRAM)
    regions = sorted(memmap.DEVICE_REGIONS + board + (memmap.ram_region(),), key=lambda r: r.base)
    for a, b in zip(regions, regions[1:]):
        assert a.end <= b.base
    # The ROM's last instruction reaches RAM_BASE with a jal (+-1 MiB), and its scratch
    # RAM is the last page below RAM.
    assert memmap.RAM_BASE - memmap.BOOTROM.base <= 1 << 20
    assert memmap.BOOTRAM.end == memmap.RAM_BASE
    # Not where QEMU's virt has devices (virtio slots 0..7) or the kernel looks.
    assert memmap.SDCARD.base >= memmap.VIRTIO0.base + 8 * 0x1000
