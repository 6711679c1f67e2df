"""`python -m sim wave`: option errors, an unwritable output directory, a full run of
the bare-metal scenario."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def wave(*args):
    return subprocess.run([sys.executable, "-m", "sim", "wave", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args, message", [
    (["--wave-before", "-1"], "--wave-before must be between 0 and"),
    (["--wave-after", "ten"], "--wave-after wants a whole number, not 'ten'"),
    (["--wave-max", "0"], "--wave-max must be between 1 and"),
    (["--scenario", "dos"], "invalid choice: 'dos'"),
    (["--engine", "verilator"], "invalid choice: 'verilator'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_options(args, message):
    r = wave(*args)
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_unwritable_output_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    r = wave("--scenario", "baremetal", "--wave", str(blocker / "out"))
    assert r.returncode == 2
    assert r.stderr.startswith(f"error: cannot write to the output directory {blocker / 'out'}")
    assert "Traceback" not in r.stderr


def test_missing_kernel(tmp_path):
    r = wave("--kernel", str(tmp_path / "nokernel"), "--wave", str(tmp_path))
    assert r.returncode == 2
    assert r.stderr.startswith("error: kernel: ") and "Traceback" not in r.stderr


def test_baremetal_run_writes_the_four_files(toolchain, cxxrtl_model, tmp_path):
    r = wave("--scenario", "baremetal", "--wave", str(tmp_path), "--wave-max", "3")
    assert r.returncode == 0, r.stderr
    for name in ("walks.vcd", "walks.gtkw", "walk.svg", "walks.log"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert len((tmp_path / "walks.log").read_text().splitlines()) == 3
    assert "3 window(s) captured (before 24, after 8, max 3)" in r.stderr
    assert f"gtkwave {tmp_path / 'walks.gtkw'}" in r.stderr


def test_boot_with_wave_options(cxxrtl_model, xv6_files, tmp_path):
    """`python -m sim boot --wave DIR` captures any run (here a scripted one)."""
    kernel, fs = xv6_files
    r = subprocess.run([sys.executable, "-m", "sim", "boot", "--kernel", str(kernel), "--fs",
                        str(fs), "--run", "shmem_test2", "--wave", str(tmp_path),
                        "--wave-before", "40", "--wave-after", "0"], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "walks.log").read_text().splitlines()
    assert len(lines) == 1 and "shmem_test2)" in lines[0] and "leaf [V R W U A D S]" in lines[0]
    assert "(before 40, after 0, max 64)" in r.stderr


@pytest.mark.parametrize("args, message", [
    (["--scenario", "baremetal", "--elf", "/nonexistent.elf"], "/nonexistent.elf: no such file"),
    (["--elf", "/etc/hostname"], "--elf needs --scenario baremetal"),
    (["--scenario", "baremetal", "--elf", "/etc/hostname"], "not an ELF file"),
])
def test_bad_elf(args, message, tmp_path):
    r = wave(*args, "--wave", str(tmp_path))
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_elf_without_shared_pages(toolchain, cxxrtl_model, tmp_path):
    """Any bare-metal ELF runs; tests/isa/vm.S walks page tables but has no PTE_S leaf:
    the files are written, the status says nothing was captured."""
    from tests.isa.build import build
    elf = build("vm", tmp_path)
    r = wave("--scenario", "baremetal", "--elf", str(elf), "--wave", str(tmp_path))
    assert r.returncode == 1
    assert f"{elf}: tohost = 0x1" in r.stderr
    assert "0 PTE_S walk ends seen, 0 window(s) captured" in r.stderr
    assert r.stderr.rstrip().endswith("error: no walk over a PTE_S page was captured")
    assert (tmp_path / "walks.log").read_text() == ""
    assert not (tmp_path / "walk.svg").exists()
