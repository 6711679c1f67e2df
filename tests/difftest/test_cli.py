"""`python -m sim difftest`: bad input gets a message and exit status 2 (never a
traceback), a kernel that does not boot is told apart from a divergence, and the
subcommand is reachable from `python -m sim`."""

import struct
import subprocess
import sys

import pytest

from sim.difftest import cli
from tests.isa import build as isa_build
from tests.soc.programs.build import build as soc_build

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def run_main(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err


def test_usage(capsys):
    assert run_main(capsys)[0] == cli.EXIT_USAGE
    assert run_main(capsys, "x.elf", "--random", "1")[0] == cli.EXIT_USAGE
    assert run_main(capsys, "--random", "1", "--pmp-entries", "5")[0] == cli.EXIT_USAGE


def test_ram_latency_is_checked(capsys, xv6_files):
    status, err = run_main(capsys, "--random", "1", "--ram-latency", "0")
    assert status == cli.EXIT_INPUT and "--ram-latency must be at least 1 cycle" in err
    status, err = run_main(capsys, "--random", "1", "--ram-latency", "3", "--target", "core")
    assert status == cli.EXIT_INPUT and "--ram-latency applies to the SoC only" in err
    status, err = run_main(capsys, "--kernel", xv6_files[0], "--fs", xv6_files[1],
                           "--ram-latency", "0")
    assert status == cli.EXIT_INPUT and "--ram-latency must be at least 1 cycle" in err


def test_missing_file(capsys, tmp_path):
    status, err = run_main(capsys, tmp_path / "nope.elf")
    assert status == cli.EXIT_INPUT and "cannot open" in err


def test_not_risc_v(capsys):
    status, err = run_main(capsys, sys.executable)
    assert status == cli.EXIT_INPUT
    assert "need RISC-V" in err or "not an ELF" in err


def test_32_bit_elf(capsys, tmp_path):
    # an ELF32 header for RISC-V (e_machine 243), no segments
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    header = ident + struct.pack("<HHIIIIIHHHHHH", 2, 243, 1, 0x8000_0000, 0, 0, 0, 52,
                                 32, 0, 40, 0, 0)
    path = tmp_path / "rv32.elf"
    path.write_bytes(header)
    status, err = run_main(capsys, path)
    assert status == cli.EXIT_INPUT and "32-bit" in err


@pytest.mark.skipif(not isa_build.have_toolchain(), reason="no RISC-V toolchain")
def test_elf_without_tohost(capsys, tmp_path):
    src = tmp_path / "spin.S"
    src.write_text(".globl _start\n_start: j _start\n")
    elf = tmp_path / "spin.elf"
    subprocess.run([isa_build.CC, *isa_build.CFLAGS, "-Ttext=0x80000000", str(src), "-o",
                    str(elf)], check=True)
    status, err = run_main(capsys, elf)
    assert status == cli.EXIT_INPUT and "no 'tohost' symbol" in err


@pytest.mark.skipif(not isa_build.have_toolchain(), reason="no RISC-V toolchain")
def test_core_target_program_through_python_m_sim(tmp_path):
    elf = isa_build.build("rv64_word", tmp_path)
    proc = subprocess.run([sys.executable, "-m", "sim", "difftest", str(elf), "--target", "core"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "no divergence" in proc.stderr and "PASS" in proc.stdout


def test_kernel_that_does_not_boot(capsys, cxxrtl_model, xv6_files, tmp_path):
    """A bare-metal program given as the kernel: it never prints a prompt."""
    elf = soc_build("hello", tmp_path, ram_size=32 << 20)
    status, err = run_main(capsys, "--kernel", elf, "--fs", xv6_files[1], "--boot-insns", 5000)
    assert status == cli.EXIT_INPUT
    assert "did not boot" in err


def test_kernel_for_another_machine(capsys, xv6_files):
    status, err = run_main(capsys, "--kernel", sys.executable, "--fs", xv6_files[1])
    assert status == cli.EXIT_INPUT and "kernel:" in err


def test_bad_disk_image(capsys, xv6_files, tmp_path):
    bad = tmp_path / "bad.img"
    bad.write_bytes(b"x" * 1000)
    status, err = run_main(capsys, "--kernel", xv6_files[0], "--fs", bad)
    assert status == cli.EXIT_INPUT and "disk" in err


def test_kernel_needs_a_disk(capsys, xv6_files):
    status, err = run_main(capsys, "--kernel", xv6_files[0])
    assert status == cli.EXIT_INPUT and "--fs" in err
