"""Programs written for xv6-riscv build and run here unchanged (issue 15).

xv6/Makefile keeps two lists: UPROGS, our own programs, built with -Werror, and
FOREIGN_UPROGS, programs written for xv6-riscv, built as xv6-riscv builds them:
warnings are shown but are not errors.  user/classic.c is such a program,
written in the old style on purpose (a uint64 to %p, a pointer to %x, extra
printf arguments, ints holding pointers); here it is built both ways and run.
Also: our headers against xv6-riscv's interface (tests/xv6_interface.c), and the
README every xv6 disk carries.
"""

import re
import shutil
import subprocess

import pytest

from tests import xv6_console
from tests.test_xv6_usys import make_expand

REPO = xv6_console.REPO
XV6 = REPO / "xv6"
CC = "riscv64-unknown-elf-gcc"


@pytest.fixture(scope="module")
def cross_cc():
    if shutil.which(CC) is None:
        pytest.fail(f"{CC} not found: run `make toolchain`", pytrace=False)


def make_xv6(out, *targets, **variables):
    """`make -C xv6 OUT=out TARGETS VAR=value...`; returns the CompletedProcess."""
    args = [f"{k}={v}" for k, v in variables.items()]
    return subprocess.run(["make", "--no-print-directory", "-C", str(XV6), f"OUT={out}",
                           *args, *targets], capture_output=True, text=True)


def warnings(stderr):
    return [line for line in stderr.splitlines() if ": warning: " in line]


def test_foreign_program_builds_with_warnings(cross_cc, tmp_path):
    built = make_xv6(tmp_path, f"{tmp_path}/user/classic")
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "user" / "classic").is_file()
    shown = warnings(built.stderr)
    assert all(line.startswith("user/classic.c:") for line in shown), shown
    text = "\n".join(shown)
    assert "too many arguments for format [-Wformat-extra-args]" in text
    assert re.search(r"format '%p' expects argument of type 'void \*', but argument 2 has "
                     r"type 'long unsigned int'", text)
    assert "format '%x' expects argument of type 'unsigned int', but argument 2 has " \
           "type 'char *'" in text
    assert "makes integer from pointer without a cast [-Wint-conversion]" in text
    assert "makes pointer from integer without a cast [-Wint-conversion]" in text
    assert ": error: " not in built.stderr


def test_the_same_program_among_ours_is_an_error(cross_cc, tmp_path):
    built = make_xv6(tmp_path, f"{tmp_path}/user/classic", UPROGS="classic", FOREIGN_UPROGS="")
    assert built.returncode != 0
    assert "error: too many arguments for format [-Werror=format-extra-args]" in built.stderr
    assert not (tmp_path / "user" / "classic").exists()


def test_a_program_in_both_lists_is_refused(tmp_path):
    built = make_xv6(tmp_path, FOREIGN_UPROGS="cat classic")
    assert built.returncode != 0
    assert "cat: in both UPROGS and FOREIGN_UPROGS" in built.stderr


@pytest.mark.parametrize("value", ["abc", "0", "12x", "-4"])
def test_ram_mb_must_be_a_number(tmp_path, value):
    built = make_xv6(tmp_path, RAM_MB=value)
    assert built.returncode != 0
    assert f"RAM_MB must be a number of MiB, e.g. RAM_MB=128 (got '{value}')" in built.stderr


def test_headers_match_xv6_riscv_interface(cross_cc, tmp_path):
    flags = make_expand("$(FOREIGN_CFLAGS)", f"OUT={tmp_path}", directory=XV6)
    assert "-Werror" not in flags and "-Wall" in flags
    check = subprocess.run([CC, *flags, "-Werror", "-fsyntax-only",
                            str(REPO / "tests" / "xv6_interface.c")],
                           cwd=XV6, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_our_programs_are_strict(tmp_path):
    flags = make_expand("$(CFLAGS)", f"OUT={tmp_path}", directory=XV6)
    assert "-Werror" in flags and "-Wall" in flags


@pytest.fixture(scope="module")
def fsroot(xv6_build):
    return xv6_build[0].parent / "fsroot"


def test_classic_runs(xv6, xv6_build):
    ram = xv6_console.kernel_ram_mb(xv6_build[0])
    readme = (xv6_build[0].parent / "fsroot" / "README").read_bytes()
    lines = readme.count(b"\n")
    assert xv6.run("classic") == (
        "classic: 1 argument(s)\n"
        "classic: PGSIZE 0x0000000000001000\n"
        "classic: NOFILE 16 MAXARG 32 MAXPATH 128 DIRSIZ 14\n"
        "classic: BSIZE 1024 MAXFILE 268 dirent 16 stat 24\n"
        "classic: O_CREATE 200 O_TRUNC 400 SYS_close 21 T_DIR 1\n"
        f"classic: KERNBASE 80000000 RAM {ram} MiB\n"
        "classic: MAXVA 0x0000004000000000 TRAPFRAME 0x0000003fffffe000\n"
        "classic: sbrk ok\n"
        f"classic: README {lines} lines {len(readme)} bytes, size {len(readme)}\n"
        "classic: wrote 5 bytes, type 2 nlink 1\n"
        "classic: done\n")


def test_readme_is_on_the_disk(xv6, fsroot, tmp_path):
    text = (fsroot / "README").read_text()
    assert xv6.run("cat README") == text
    assert text.startswith("This is rvxv6: an operating system compatible with xv6-riscv")
    assert "Ctrl-A x" in text
    # The list at the end names exactly the programs on the disk.
    listed = text.split("Programs on this disk:\n", 1)[1].split()
    on_disk = sorted(p.name for p in fsroot.iterdir() if p.name != "README")
    assert listed == on_disk
    # And each of our programs is described above it (foreign ones need not be).
    foreign = make_expand("$(FOREIGN_UPROGS)", f"OUT={tmp_path}", directory=XV6)
    described = text.split("Programs on this disk:")[0]
    for name in on_disk:
        if name not in foreign:
            assert re.search(rf"\b{name}\b", described), f"{name} is not described in README"


def test_a_new_ram_size_rebuilds_the_kernel(cross_cc, tmp_path):
    kernel = tmp_path / "kernel"
    assert make_xv6(tmp_path, str(kernel), RAM_MB=32).returncode == 0
    assert xv6_console.kernel_ram_mb(kernel) == 32
    # `make -q`: status 0 when up to date, 1 when something must be rebuilt.
    assert make_xv6(tmp_path, "-q", str(kernel), RAM_MB=32).returncode == 0
    assert make_xv6(tmp_path, "-q", str(kernel), RAM_MB=64).returncode == 1
    assert make_xv6(tmp_path, str(kernel), RAM_MB=64).returncode == 0
    assert xv6_console.kernel_ram_mb(kernel) == 64
    assert make_xv6(tmp_path, "-q", str(kernel), RAM_MB=64).returncode == 0


def test_make_sim_gives_the_simulator_ram_mb(tmp_path):
    # What `make sim RAM_MB=128` would run (make -n prints it; the xv6 build it
    # would do goes to tmp_path, not build/xv6).
    shown = subprocess.run(["make", "-n", "--no-print-directory", "-C", str(REPO), "sim",
                            "RAM_MB=128", f"XV6OUT={tmp_path}"],
                           capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    boot = [line for line in shown.stdout.splitlines() if " -m sim.boot " in line]
    assert len(boot) == 1, shown.stdout
    assert f"--kernel {tmp_path}/kernel --fs {tmp_path}/fs.img --ram-mb 128 " in boot[0]
    assert "RAM_MB=128" in shown.stdout and "-DRAM_MB=128" in shown.stdout
