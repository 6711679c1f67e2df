"""The boot ROM on the SoC with the SD host and the card model: it loads an ELF from a
card written by soc/sdcard/layout.py and starts it exactly as the simulator's reset
would, and it says what is wrong, in these exact words, when there is no card, no
partition table or no kernel.

The boots run on the CXXRTL engine (one model of this board, built once and cached);
Amaranth's simulator runs the no-card boot too and must agree cycle for cycle.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from sim.elf import load_elf
from sim.engine import CxxrtlEngine, make_engine
from soc import memmap
from soc.bootrom.build import rom_image
from soc.sdcard.layout import card_image
from sim.soctarget import SoCTarget
from tests.soc.programs.build import CC, CFLAGS, HERE as PROGRAMS, have_toolchain
from tests.soc.sdcard.hostbench import CLK_FREQ, FAST_TIMEOUTS

HERE = Path(__file__).resolve().parent
RAM_SIZE = 1 << 20
CARD_SIZE = 4 << 20
FS = bytes(1024) + (0x10203040).to_bytes(4, "little") + bytes(2048 - 4)   # 3 KiB "fs.img"
BANNER = "\nrvxv6 boot ROM\nram: 1 MiB at 0x80000000\n"
STOP = "; reset the board to try again\n"
PARTITIONS = "sd: kernel at sector 2048 (2048 sectors), file system at sector 4096 (6 sectors)\n"


def board_args(rom):
    """The SoC as a board has it (reset into the ROM, the disk on an SD card, the
    devices' answers registered), with the card model inside for simulation."""
    return dict(reset_pc=memmap.BOOTROM.base, boot_rom=rom, leds=True,
                sdcard=dict(clk_freq=CLK_FREQ, **FAST_TIMEOUTS), card=dict(size=CARD_SIZE),
                registered_answers=True)


@pytest.fixture(scope="module")
def rom():
    if not have_toolchain():
        pytest.fail("riscv64-unknown-elf-gcc missing: run `make toolchain`", pytrace=False)
    return rom_image(ram_size=RAM_SIZE)


@pytest.fixture(scope="module")
def cxxrtl_board(rom):
    """The CXXRTL model of the board (built once, cached in build/sim/): its library."""
    if shutil.which("g++") is None:
        pytest.fail("g++ not found: the CXXRTL engine needs a C++ compiler", pytrace=False)
    from sim.cxxrtl.build import build_model
    from soc.soc import SoC
    return build_model(SoC(ram_size=RAM_SIZE, **board_args(rom)))


@pytest.fixture(scope="module")
def entry_state(tmp_path_factory):
    """The kernel stand-in (entry_state.S), linked at 0x8000_0000."""
    out = tmp_path_factory.mktemp("bootrom") / "entry_state.elf"
    r = subprocess.run([CC, *CFLAGS, "-T", str(PROGRAMS / "link.ld"), str(HERE / "entry_state.S"),
                        "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def boot(model, image, *, present=True, tohost=None, max_cycles=400_000):
    """Reset the board (the CXXRTL ``model``) with ``image`` on the card; run until the
    ROM stops (its last line), the stand-in's last line or ``max_cycles``.  Returns
    (UART text, LEDs, stats, the doubleword at ``tohost``)."""
    e = CxxrtlEngine(ram_size=RAM_SIZE, lib_path=model)
    try:
        e.load_card(image)
        e.set_card_present(present)
        text = ""
        while e.stats().cycles < max_cycles:
            e.run(2000)
            text += e.tx_take().decode(errors="replace")
            if text.endswith((STOP, "entry state ok\n")):
                break
        e.run(100)                      # the stand-in's tohost store follows its line
        # (The engine's tohost watch is not armed: the ROM's RAM check writes there.)
        value = int.from_bytes(e.read_ram(tohost, 8), "little") if tohost else None
        return text, e.peek("leds"), e.stats(), value
    finally:
        e.close()


def test_the_stand_in_passes_after_the_simulators_reset(entry_state):
    target = SoCTarget(engine="pysim", ram_size=RAM_SIZE)
    target.load(load_elf(str(entry_state)))
    result = target.run(max_cycles=5000)
    assert result.tohost == 1 and bytes(target.uart_output) == b"entry state ok\n"


def test_boots_an_elf_from_the_card(cxxrtl_board, entry_state):
    elf = load_elf(str(entry_state))
    text, leds, stats, tohost = boot(cxxrtl_board, card_image(entry_state.read_bytes(), FS),
                                     tohost=elf.tohost)
    filesz = sum(len(blob) for _, blob in elf.segments)      # no .bss in this program
    assert len(elf.segments) == 2
    assert text == (BANNER + "sd: SDHC/SDXC card\n" + PARTITIONS +
                    f"kernel: {filesz} bytes in 2 segments, entry 0x80000000\n"
                    "boot: starting the kernel at 0x80000000\n\n"
                    "entry state ok\n")
    # Every register 0, pc, M-mode, the trap CSRs and mstatus as reset, no interrupt.
    assert tohost == 1
    assert leds == 6                # stage 6: the kernel started
    # The partition table, the ELF header and the segments' sectors, once each.
    assert stats.sectors_read == 2 + sum(-(-len(blob) // 512) for _, blob in elf.segments)


def test_no_card(cxxrtl_board):
    text, leds, stats, _ = boot(cxxrtl_board, b"", present=False)
    assert text == (BANNER + "sd: no card: nothing answers CMD0 (is a card inserted?) "
                    "(error 1, byte 0xff)\n"
                    "boot: stopped at stage 3 (reading the card)" + STOP)
    assert leds & 0x0F == 3 and stats.sectors_read == 0


def test_engines_agree_on_the_no_card_boot(rom, cxxrtl_board):
    runs = []
    for e in (CxxrtlEngine(ram_size=RAM_SIZE, lib_path=cxxrtl_board),
              make_engine("pysim", ram_size=RAM_SIZE, soc_args=board_args(rom))):
        e.set_card_present(False)
        e.run(25_000)
        s = e.stats()
        runs.append((e.tx_take(), s.cycles, s.instret, s.traps))
        e.close()
    assert runs[0] == runs[1]
    assert runs[0][0].endswith(STOP.encode())


def test_blank_card(cxxrtl_board):
    text, leds, _, _ = boot(cxxrtl_board, bytes(4096))
    assert text == (BANNER + "sd: SDHC/SDXC card\n"
                    "sd: sector 0 holds no partition table: write the card with `make sdcard`\n"
                    "boot: stopped at stage 4 (partition table)" + STOP)
    assert leds & 0x0F == 4


def test_card_without_a_kernel(cxxrtl_board):
    text, leds, _, _ = boot(cxxrtl_board, card_image(b"not a kernel", FS))
    assert text == (BANNER + "sd: SDHC/SDXC card\n" + PARTITIONS +
                    "kernel: partition 1 holds no ELF file (it starts with 6e 6f 74 20)\n"
                    "boot: stopped at stage 5 (loading the kernel)" + STOP)
    assert leds & 0x0F == 5


def test_card_with_other_partitions(cxxrtl_board):
    image = bytearray(card_image(b"\x7fELF", FS))
    image[446 + 4] = 0x0C                       # partition 1 is FAT32 (LBA)
    text, _, _, _ = boot(cxxrtl_board, bytes(image))
    assert text.endswith("sd: partition 1 has type 0xc and 2048 sectors: not a kernel (type 0xda); "
                         "write the card with `make sdcard`\n"
                         "boot: stopped at stage 4 (partition table)" + STOP)


def test_kernel_for_another_place(cxxrtl_board, entry_state):
    """An ELF whose entry is not RAM_BASE is refused before anything is loaded."""
    elf = bytearray(entry_state.read_bytes())
    elf[24:32] = (0x8000_0100).to_bytes(8, "little")
    text, _, stats, _ = boot(cxxrtl_board, card_image(bytes(elf), FS))
    assert text.endswith("kernel: entry 0x80000100; the ROM starts kernels at 0x80000000\n"
                         "boot: stopped at stage 5 (loading the kernel)" + STOP)
    assert stats.sectors_read == 2
