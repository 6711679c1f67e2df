"""xv6 booted the way a board boots it, on the CXXRTL engine: reset into the boot ROM,
which loads build/xv6/kernel from a card image (`make sdcard`'s layout) held by the SD
card model; the kernel's virtio disk is the card's file-system partition through the
SD host.  Files written reach the card; a card pulled out is an I/O error for the
kernel, never a hang.

Slow: a model of its own (about 5 minutes to build on the 2-core machine), then about
4 M cycles to the prompt.
"""

import time

import pytest
from elftools.elf.elffile import ELFFile

from sim.boot import Session
from sim.engine import make_engine
from sim.sdboot import boot_card, sd_board_args
from soc.sdcard.layout import read_layout

pytestmark = pytest.mark.slow

TIMEOUT = 600


@pytest.fixture(scope="module")
def board(xv6_files):
    kernel, fs_img = xv6_files
    image = boot_card(kernel, fs_img)
    engine = make_engine("cxxrtl", soc_args=sd_board_args())
    engine.load_card(image)
    session = Session(engine, None)
    session.boot_text = session.boot(TIMEOUT)
    yield session, image
    engine.close()


def test_boots_through_the_rom_and_the_card(board, xv6_files):
    session, image = board
    layout = read_layout(image)
    # The ROM counts the bytes the ELF's loadable segments hold in the file.
    with open(xv6_files[0], "rb") as f:
        loads = [seg for seg in ELFFile(f).iter_segments()
                 if seg["p_type"] == "PT_LOAD" and seg["p_memsz"]]
        filesz = sum(seg["p_filesz"] for seg in loads)
    plural = "" if len(loads) == 1 else "s"
    text = session.boot_text
    assert text.startswith(
        "\nrvxv6 boot ROM\nram: 32 MiB at 0x80000000\nsd: SDHC/SDXC card\n"
        f"sd: kernel at sector {layout.kernel.start} ({layout.kernel.sectors} sectors), "
        f"file system at sector {layout.fs.start} ({layout.fs.sectors} sectors)\nkernel: ")
    assert (f"\nkernel: {filesz} bytes in {len(loads)} segment{plural}, entry 0x80000000\n"
            in text)
    assert "\nboot: starting the kernel at 0x80000000\n\nxv6 kernel: booting on hart 0\n" in text
    assert "init: starting sh" in text
    stats, _ = session.prompt_at
    # The ROM read the partition table, the ELF header and the kernel (49 KB); the
    # kernel then read and wrote its file system (the log) through the same host.
    assert stats.sectors_read > 2 + filesz // 512 and stats.sectors_written > 0


def test_files_written_reach_the_card(board):
    session, image = board
    assert session.command("echo written on the card > sdfile", TIMEOUT) == ""
    assert session.command("cat sdfile", TIMEOUT) == "written on the card\n"
    layout = read_layout(image)
    card = session.engine.card_image(len(image))
    fs_at = layout.fs.start * 512
    assert card[:fs_at] == image[:fs_at]                    # table and kernel untouched
    assert card[fs_at:] != image[fs_at:]
    assert b"written on the card\n" in card[fs_at:]
    assert session.engine.stats().sectors_written > 0


def test_a_removed_card_is_an_io_error_for_the_kernel(board):
    session, _ = board
    engine = session.engine
    engine.set_card_present(False)
    engine.rx_push(b"wc sdfile\n")              # exec reads wc from the disk: not cached
    deadline = time.monotonic() + TIMEOUT
    while b"panic" not in session.transcript and time.monotonic() < deadline:
        session.pump(500_000)
    tail = bytes(session.transcript).split(b"wc sdfile\n")[-1].decode("latin-1")
    assert "virtio_disk: block " in tail and ": device status 1\n" in tail
    assert "panic: virtio_disk: disk I/O error" in tail
