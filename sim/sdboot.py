"""Booting from an SD card in simulation: the SoC of a board whose kernel comes from
the boot ROM and whose disk is the SD card model (soc/sdcard/model.py) inside the
design, and its card image.  Both engines run it (``make_engine(name,
soc_args=sd_board_args())``, then ``engine.load_card(image)``).
"""

from soc import memmap
from soc.bootrom.build import rom_image
from soc.sdcard.layout import card_image, read_layout
from soc.sdcard.proto import SECTOR_BYTES

__all__ = ["sd_board_args", "boot_card", "card_for", "card_fs", "CARD_SIZE"]

#: The card model's size: the xv6 card image (1 MiB + the kernel's MiB + fs.img) fits.
CARD_SIZE = 8 << 20


def sd_board_args(*, clk_freq=10_000_000, mtime_freq=10_000_000, card_size=CARD_SIZE,
                  ram_size=memmap.DEFAULT_RAM_SIZE, sdcard=None):
    """``soc_args`` for the engines: reset into the ROM, LEDs, the SD host (its dividers
    and timeouts for ``clk_freq``; ``sdcard`` overrides its parameters) and the card."""
    return dict(clk_freq=clk_freq, mtime_freq=mtime_freq, reset_pc=memmap.BOOTROM.base,
                boot_rom=rom_image(ram_size=ram_size, mtime_freq=mtime_freq), leds=True,
                sdcard={"clk_freq": clk_freq, **(sdcard or {})}, card=dict(size=card_size))


def card_for(kernel, fs, card_size=CARD_SIZE):
    """The card image (``make sdcard``'s layout) for the kernel ELF and the file system
    (bytes); ValueError if it does not fit a card of ``card_size`` bytes."""
    image = card_image(kernel, fs)
    if len(image) > card_size:
        raise ValueError(f"the card image ({len(image)} bytes) does not fit the "
                         f"{card_size >> 20} MiB card")
    return image


def boot_card(kernel_path, fs_path, card_size=CARD_SIZE):
    """The card image for ``kernel_path`` and ``fs_path`` (ValueError if too large)."""
    with open(kernel_path, "rb") as k, open(fs_path, "rb") as f:
        return card_for(k.read(), f.read(), card_size)


def card_fs(engine, image):
    """The file system partition of the card ``image`` as the engine's card model holds
    it now (what the kernel wrote included)."""
    fs = read_layout(image).fs
    return engine.card_image(fs.end * SECTOR_BYTES)[fs.start * SECTOR_BYTES:]
