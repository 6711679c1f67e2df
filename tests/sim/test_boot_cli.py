"""`python -m sim.boot` refuses bad inputs with a clear message (exit status 2), before
building anything: a missing, truncated or non-xv6 disk image, a kernel ELF for another
machine or one that does not fit in RAM, and an unknown engine."""

import shutil
import struct
import subprocess
import sys

import pytest

from sim import boot
from sim.disk import BLOCK_BYTES, FSMAGIC, DiskError, DiskImage

from .conftest import ROOT


def good_image(blocks=8):
    img = bytearray(blocks * BLOCK_BYTES)
    struct.pack_into("<II", img, BLOCK_BYTES, FSMAGIC, blocks)
    return img


def run_main(capsys, *argv):
    status = boot.main(list(argv))
    return status, capsys.readouterr().err


@pytest.fixture
def kernel(xv6_files):
    return str(xv6_files[0])


def test_missing_disk(capsys, kernel, tmp_path):
    status, err = run_main(capsys, "--kernel", kernel, "--fs", str(tmp_path / "nope.img"))
    assert status == boot.EXIT_INPUT
    assert "cannot read the disk image" in err and "Traceback" not in err


def test_disk_size_not_whole_blocks(capsys, kernel, tmp_path):
    img = tmp_path / "odd.img"
    img.write_bytes(bytes(good_image()) + b"x" * 100)
    status, err = run_main(capsys, "--kernel", kernel, "--fs", str(img))
    assert status == boot.EXIT_INPUT
    assert "not a multiple of 1024" in err


def test_disk_bad_magic(capsys, kernel, tmp_path):
    img = tmp_path / "bad.img"
    data = good_image()
    data[BLOCK_BYTES] ^= 0xFF
    img.write_bytes(bytes(data))
    status, err = run_main(capsys, "--kernel", kernel, "--fs", str(img))
    assert status == boot.EXIT_INPUT
    assert "bad superblock magic" in err


def test_disk_superblock_larger_than_file(tmp_path):
    data = good_image(4)
    struct.pack_into("<I", data, BLOCK_BYTES + 4, 100)
    with pytest.raises(DiskError, match="says 100 blocks"):
        DiskImage.check(bytes(data))


def test_kernel_for_another_machine(capsys, xv6_files):
    status, err = run_main(capsys, "--kernel", sys.executable, "--fs", str(xv6_files[1]))
    assert status == boot.EXIT_INPUT
    assert "need RISC-V" in err or "64-bit" in err


def test_kernel_not_an_elf(capsys, xv6_files, tmp_path):
    bogus = tmp_path / "kernel"
    bogus.write_text("not a kernel\n")
    status, err = run_main(capsys, "--kernel", str(bogus), "--fs", str(xv6_files[1]))
    assert status == boot.EXIT_INPUT
    assert "not an ELF file" in err


def test_kernel_larger_than_ram(capsys, xv6_files, tmp_path):
    if shutil.which("riscv64-unknown-elf-gcc") is None:
        pytest.fail("riscv64-unknown-elf-gcc missing: run `make toolchain`", pytrace=False)
    src = tmp_path / "big.S"
    src.write_text(".text\n.globl _start\n_start: j _start\n.bss\n.space 0x200000\n")
    elf = tmp_path / "big.elf"
    subprocess.run(["riscv64-unknown-elf-gcc", "-nostdlib", "-static", "-Wl,-N", "-Wl,-Ttext=0x80000000",
                    str(src), "-o", str(elf)], check=True)
    status, err = run_main(capsys, "--kernel", str(elf), "--fs", str(xv6_files[1]),
                           "--ram-mb", "1")
    assert status == boot.EXIT_INPUT
    assert "but the SoC has 1 MiB" in err


def test_ram_latency_must_be_positive(capsys, xv6_files):
    status, err = run_main(capsys, "--kernel", str(xv6_files[0]), "--fs", str(xv6_files[1]),
                           "--ram-latency", "0")
    assert status == boot.EXIT_INPUT
    assert "--ram-latency must be at least 1 cycle" in err


def test_board_must_exist_and_run_on_cxxrtl(capsys, xv6_files):
    args = ["--kernel", str(xv6_files[0]), "--fs", str(xv6_files[1])]
    status, err = run_main(capsys, *args, "--board", "de10-nano")
    assert status == boot.EXIT_INPUT and "unknown board 'de10-nano'" in err
    status, err = run_main(capsys, *args, "--board", "ulx3s-85f", "--engine", "pysim")
    assert status == boot.EXIT_INPUT and "runs on the cxxrtl engine only" in err


def test_board_card_must_hold_kernel_and_disk(capsys, kernel, tmp_path):
    # The board's SD card model holds 8 MiB: the kernel and a 9 MiB disk do not fit.
    img = tmp_path / "big.img"
    img.write_bytes(bytes(good_image(9 * 1024)))
    status, err = run_main(capsys, "--kernel", kernel, "--fs", str(img), "--board", "ulx3s-85f")
    assert status == boot.EXIT_INPUT
    assert "SD card: the card image (" in err and "does not fit the 8 MiB card" in err
    assert "Traceback" not in err


def test_unknown_engine_is_a_usage_error(xv6_files):
    proc = subprocess.run([sys.executable, "-m", "sim.boot", "--engine", "verilator"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "invalid choice: 'verilator'" in proc.stderr


def test_copy_on_write_and_persist(tmp_path):
    path = tmp_path / "fs.img"
    path.write_bytes(bytes(good_image()))
    cow = DiskImage.open(str(path))
    work = cow.working_copy()
    work[5000] = 0x42
    assert not cow.write_back(work)
    assert path.read_bytes() == bytes(good_image())
    keep = DiskImage.open(str(path), persist=True)
    assert keep.write_back(work)
    assert path.read_bytes()[5000] == 0x42
    assert not keep.write_back(work)             # nothing new to write
