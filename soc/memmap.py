"""Physical memory map and interrupt numbers of the SoC: the single source of truth.

The map copies QEMU's ``virt`` machine (see shared/spec/facts.md, section 2) so that
the same kernel runs on QEMU and on this SoC.  Every region is a power of two in size
and aligned to its size, so that a device only has to look at the low address bits.

Boot convention: the core leaves reset in M-mode at ``RESET_PC`` with ``a0`` = hart id
(0) and ``a1`` = 0.  There is no device tree; software takes the layout from this table
(xv6/kernel/memlayout.h repeats it in C).  The simulator loads the kernel into RAM and
resets the core at ``RESET_PC`` (RAM); a board resets it into the boot ROM at
``BOOTROM``, which loads the kernel from the SD card and jumps to ``RAM_BASE``.

The board's devices (not in QEMU's ``virt``): the boot ROM and its scratch RAM lie right
below RAM, so the ROM's last instruction can jump to RAM_BASE pc-relatively and leave
every register as a reset leaves it, and the ROM needs no main RAM but the kernel's;
``SDCARD`` (the SD host's window and status registers) and ``LEDS`` (eight LEDs) sit
after the virtio slots, in space QEMU leaves free.
"""

from dataclasses import dataclass

__all__ = [
    "Region", "CLINT", "PLIC", "UART0", "VIRTIO0", "SDCARD", "LEDS", "BOOTROM", "BOOTRAM",
    "RAM_BASE", "RESET_PC",
    "UART0_IRQ", "VIRTIO0_IRQ", "PLIC_SOURCES", "PLIC_PRIO_BITS",
    "DEVICE_REGIONS", "DEFAULT_RAM_SIZE", "ram_region",
]


@dataclass(frozen=True)
class Region:
    """A decoded address window: ``name``, ``base`` and ``size`` (a power of two)."""
    name: str
    base: int
    size: int

    def __post_init__(self):
        if self.size <= 0 or self.size & (self.size - 1):
            raise ValueError(f"region {self.name}: size {self.size:#x} is not a power of two")
        if self.base % self.size:
            raise ValueError(f"region {self.name}: base {self.base:#x} is not aligned to its size")

    @property
    def addr_width(self):
        """Number of low address bits a device in this region decodes."""
        return self.size.bit_length() - 1

    @property
    def end(self):
        return self.base + self.size

    def contains(self, addr):
        return self.base <= addr < self.end


# Devices (QEMU virt's addresses).
CLINT   = Region("clint",  0x0200_0000, 0x1_0000)
PLIC    = Region("plic",   0x0C00_0000, 0x40_0000)
UART0   = Region("uart0",  0x1000_0000, 0x100)
VIRTIO0 = Region("virtio0", 0x1000_1000, 0x1000)

DEVICE_REGIONS = (CLINT, PLIC, UART0, VIRTIO0)

# Board devices (soc/sdcard/host.py, soc/leds.py, soc/rom.py + soc/bootrom/).
SDCARD  = Region("sdcard",  0x1001_0000, 0x1000)
LEDS    = Region("leds",    0x1001_1000, 0x1000)
BOOTROM = Region("bootrom", 0x7FFF_0000, 0x8000)
BOOTRAM = Region("bootram", 0x7FFF_F000, 0x1000)

# Main memory.
RAM_BASE = 0x8000_0000
RESET_PC = RAM_BASE
#: The kernel's PHYSTOP - KERNBASE (RAM_MB in xv6/kernel/param.h).
DEFAULT_RAM_SIZE = 32 * 1024 * 1024


def ram_region(size=DEFAULT_RAM_SIZE):
    return Region("ram", RAM_BASE, size)


# PLIC interrupt sources.
UART0_IRQ   = 10
VIRTIO0_IRQ = 1
#: Sources 1..PLIC_SOURCES exist (source 0 means "no interrupt").
PLIC_SOURCES = 31
#: Width of each source priority and context threshold (QEMU virt: 3 bits, 0..7).
PLIC_PRIO_BITS = 3
