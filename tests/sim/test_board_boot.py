"""xv6 on the ULX3S-85F configuration of the SoC, compiled by CXXRTL (make sim
BOARD=ulx3s-85f): the board's system clock, its SDRAM controller with the SDRAM chip
model checking every command's timing, the boot ROM in block RAM and the SD card host
with the SD card model holding `make sdcard`'s image of build/xv6/kernel and fs.img.
The core leaves reset in the ROM, which loads the kernel from the card into the
SDRAM; the kernel boots to the shell with the card's file system as its disk, runs
commands that read and write files, and the chip model must have seen no timing or
protocol error.

Slow: the board configuration is a model of its own (several minutes to build on the
2-core machine), then about 3.4 M cycles to the prompt at the board's 50 MHz.
"""

import pytest
from elftools.elf.elffile import ELFFile

from sim.boot import Session, final_disk, open_engine
from sim.sdboot import CARD_SIZE, card_for
from soc.sdcard.layout import read_layout

TIMEOUT = 900                 # wall seconds per step (a loaded 2-core machine)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def board_xv6(xv6_files):
    kernel, fs_img = xv6_files
    engine, disk = open_engine("cxxrtl", str(kernel), str(fs_img), board="ulx3s-85f")
    session = Session(engine, disk)
    session.boot_text = session.boot(TIMEOUT)
    yield session
    engine.close()


def test_the_rom_loads_the_kernel_from_the_card_into_sdram(board_xv6, xv6_files):
    kernel, fs_img = xv6_files
    engine = board_xv6.engine
    image = card_for(kernel.read_bytes(), fs_img.read_bytes(), CARD_SIZE)
    assert engine.card == image                 # make sdcard's layout, on the card model
    layout = read_layout(image)
    with open(kernel, "rb") as f:
        loads = [seg for seg in ELFFile(f).iter_segments()
                 if seg["p_type"] == "PT_LOAD" and seg["p_memsz"]]
        filesz = sum(seg["p_filesz"] for seg in loads)
        kernel_text = next(seg.data() for seg in loads if seg["p_vaddr"] == 0x8000_0000)
    text = board_xv6.boot_text
    assert text.startswith(
        "\nrvxv6 boot ROM\nram: 32 MiB at 0x80000000\nsd: SDHC/SDXC card\n"
        f"sd: kernel at sector {layout.kernel.start} ({layout.kernel.sectors} sectors), "
        f"file system at sector {layout.fs.start} ({layout.fs.sectors} sectors)\n")
    assert (f"\nkernel: {filesz} bytes in {len(loads)} segment"
            f"{'' if len(loads) == 1 else 's'}, entry 0x80000000\n" in text)
    assert "\nboot: starting the kernel at 0x80000000\n\nxv6 kernel: booting on hart 0\n" in text
    assert "init: starting sh" in text
    # The kernel's first page, as the ROM put it in the SDRAM chip model's memory.
    assert engine.read_ram(0x8000_0000, 4096) == kernel_text[:4096]
    stats, _ = board_xv6.prompt_at
    assert stats.sectors_read > 2 + filesz // 512
    # The SDRAM is slower than the block RAM: more cycles per instruction (the
    # pipelined core: CPI 1.8 on the block RAM, 2.6 here).
    assert stats.cycles > 2 * stats.instret
    print(f"\nULX3S-85F configuration, reset to the first prompt: {stats.instret:,} "
          f"instructions, {stats.cycles:,} cycles, CPI {stats.cycles / stats.instret:.1f}, "
          f"{stats.sectors_read} sectors read")


def test_files_reach_the_card(board_xv6, xv6_files):
    assert board_xv6.command("echo hello sdram > f; cat f", TIMEOUT) == "hello sdram\n"
    assert board_xv6.command("wc f", TIMEOUT).split() == ["1", "2", "12", "f"]
    fs = final_disk(board_xv6.engine)
    assert len(fs) == xv6_files[1].stat().st_size
    assert b"hello sdram\n" in fs


def test_sdram_model_saw_no_error(board_xv6):
    assert board_xv6.engine.sdram_error() is None
    assert board_xv6.engine.peek("sdram_refreshes") > 100
    assert board_xv6.engine.peek("leds") & 0x1F == 6       # the ROM's last stage: started
