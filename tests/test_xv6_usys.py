"""Host-side checks of the xv6 user-space tooling (no QEMU needed):
user/gen_usys.py, and that the console harness starts QEMU exactly like
`make qemu` does."""

import re
import shutil
import subprocess
import sys

import pytest

from tests import xv6_console
from tests.scripts import load_script

REPO = xv6_console.REPO
GEN = REPO / "xv6" / "user" / "gen_usys.py"
SYSCALL_H = REPO / "xv6" / "kernel" / "syscall.h"

# facts.md section 4: the xv6 calls and their numbers.
XV6_CALLS = {
    "fork": 1, "exit": 2, "wait": 3, "pipe": 4, "read": 5, "kill": 6, "exec": 7,
    "fstat": 8, "chdir": 9, "dup": 10, "getpid": 11, "sbrk": 12, "sleep": 13,
    "uptime": 14, "open": 15, "write": 16, "mknod": 17, "unlink": 18, "link": 19,
    "mkdir": 20, "close": 21,
}


gen = load_script("xv6/user/gen_usys.py")


def test_parse_real_header_has_the_xv6_calls():
    calls = gen.parse_syscalls(SYSCALL_H.read_text())
    numbers = dict(calls)
    assert len(numbers) == len(calls)
    for name, number in XV6_CALLS.items():
        assert numbers[name] == number
    # Calls added later take numbers above 21.
    assert all(n > 21 for name, n in calls if name not in XV6_CALLS)


def test_parse_accepts_spacing_and_comments():
    text = "#define SYS_a 1\n#  define   SYS_b\t2 // two\n#define SYS_c 3 /* x */\n" \
           "#define NOT_A_CALL 4\n// #define SYS_d 5 is not a define\n"
    assert gen.parse_syscalls(text) == [("a", 1), ("b", 2), ("c", 3)]


@pytest.mark.parametrize("text, message", [
    ("", "no `#define SYS_"),
    ("#define SYS_a 1\n#define SYS_a 2\n", "SYS_a defined twice"),
    ("#define SYS_a 1\n#define SYS_b 1\n", "number 1 of SYS_b is already used by SYS_a"),
])
def test_parse_rejects_bad_headers(text, message):
    with pytest.raises(gen.HeaderError, match=re.escape(message)):
        gen.parse_syscalls(text)


def test_command_line_errors_are_messages(tmp_path):
    missing = subprocess.run([sys.executable, str(GEN), str(tmp_path / "nope.h")],
                             capture_output=True, text=True)
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert "cannot read" in missing.stderr and "Traceback" not in missing.stderr

    empty = tmp_path / "empty.h"
    empty.write_text("// nothing\n")
    result = subprocess.run([sys.executable, str(GEN), str(empty)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "no `#define SYS_" in result.stderr and "Traceback" not in result.stderr

    usage = subprocess.run([sys.executable, str(GEN)], capture_output=True, text=True)
    assert usage.returncode == 2 and usage.stderr.startswith("usage:")


def _toolchain():
    gcc = shutil.which("riscv64-unknown-elf-gcc")
    objdump = shutil.which("riscv64-unknown-elf-objdump")
    if not (gcc and objdump):
        pytest.fail("RISC-V toolchain missing: run `make toolchain`", pytrace=False)
    return gcc, objdump


def test_generated_stubs_assemble_to_li_ecall_ret(tmp_path):
    gcc, objdump = _toolchain()
    usys = tmp_path / "usys.S"
    out = subprocess.run([sys.executable, str(GEN), str(SYSCALL_H)],
                         capture_output=True, text=True, check=True).stdout
    usys.write_text(out)
    obj = tmp_path / "usys.o"
    subprocess.run([gcc, "-march=rv64ima_zicsr_zifencei", "-mabi=lp64", "-c",
                    "-I", str(REPO / "xv6"), "-o", str(obj), str(usys)], check=True)
    dump = subprocess.run([objdump, "-d", "-M", "no-aliases,numeric", str(obj)],
                          capture_output=True, text=True, check=True).stdout
    # Each function: addi a7(x17), zero, N / ecall / jalr zero, 0(ra).
    bodies = {}
    for block in re.split(r"\n(?=[0-9a-f]+ <)", dump):
        head = re.match(r"[0-9a-f]+ <(\w+)>:", block)
        if head:
            bodies[head.group(1)] = re.findall(r"^\s+[0-9a-f]+:\s+[0-9a-f]+\s+(.+?)\s*$",
                                               block, re.MULTILINE)
    expected = dict(gen.parse_syscalls(SYSCALL_H.read_text()))
    assert set(bodies) == set(expected)
    for name, number in expected.items():
        assert bodies[name] == [f"addi\tx17,x0,{number}", "ecall", "jalr\tx0,0(x1)"], name
    # And every stub is a global function symbol.
    syms = subprocess.run([objdump, "-t", str(obj)], capture_output=True, text=True,
                          check=True).stdout
    for name in expected:
        assert re.search(rf"\bg\s+F\s+\.text\s+[0-9a-f]+\s+{name}$", syms, re.MULTILINE), name


def test_default_ram_mb_comes_from_param_h(tmp_path):
    param = tmp_path / "param.h"
    param.write_text("#define NPROC 16\n#ifndef RAM_MB\n#define RAM_MB       48   // comment\n#endif\n")
    assert xv6_console.default_ram_mb(param) == 48
    param.write_text("#define NPROC 16\n")
    with pytest.raises(ValueError, match="RAM_MB"):
        xv6_console.default_ram_mb(param)


def test_kernel_says_how_much_ram_it_was_built_for(xv6_files):
    kernel, _ = xv6_files
    assert xv6_console.kernel_ram_mb(kernel) in (xv6_console.default_ram_mb(), 64, 128, 256)


def make_expand(text, *make_args, directory=REPO):
    """`text` (e.g. "$(QEMUOPTS)") expanded by make in `directory`'s Makefile, split
    into words."""
    return subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(directory), *make_args,
         "--eval", f"k3-print:\n\t@echo {text}", "k3-print"],
        capture_output=True, text=True, check=True).stdout.split()


def test_qemu_command_matches_the_makefile():
    # Ask make itself for QEMUOPTS and compare with the harness's list.
    kernel, fs_img = "build/xv6/kernel", "build/xv6/fs.img"
    assert make_expand("$(QEMU) $(QEMUOPTS)") == xv6_console.qemu_command(
        kernel, fs_img, ram=xv6_console.default_ram_mb())
    assert make_expand("$(QEMU) $(QEMUOPTS)", "RAM_MB=128") == xv6_console.qemu_command(
        kernel, fs_img, ram=128)
