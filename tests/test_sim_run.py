"""`python -m sim run`: exit codes and messages for passing, failing and unusable programs."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.isa import build as isa_build

ROOT = Path(__file__).resolve().parent.parent
needs_gcc = pytest.mark.skipif(not isa_build.have_toolchain(), reason="no RISC-V gcc")

PROGRAM = """
    .section .text.init, "ax"
    .globl _start
_start:
    li a0, {value}
    la t0, tohost
    sd a0, 0(t0)
1:  j 1b
    .section .tohost, "aw"
    .align 3
    .globl tohost
tohost: .dword 0
    .globl fromhost
fromhost: .dword 0
"""


def sim_run(*args):
    p = subprocess.run([sys.executable, "-m", "sim", "run", *map(str, args)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert "Traceback" not in p.stdout + p.stderr
    return p.returncode, p.stdout + p.stderr


def assemble(tmp_path, source, name, *, march="rv64ima_zicsr", mabi="lp64", ld_args=()):
    src = tmp_path / f"{name}.S"
    src.write_text(source)
    out = tmp_path / f"{name}.elf"
    subprocess.run(["riscv64-unknown-elf-gcc", f"-march={march}", f"-mabi={mabi}", "-nostdlib",
                    "-T", str(ROOT / "tests/isa/link.ld"), *ld_args, str(src), "-o", str(out)],
                   check=True, capture_output=True)
    return out


@needs_gcc
def test_pass(tmp_path):
    code, out = sim_run(assemble(tmp_path, PROGRAM.format(value=1), "pass"))
    assert code == 0
    assert "PASS" in out
    # 4 instructions (li, auipc, addi, sd) retire before the store ends the run
    assert "instructions 4 " in out and "CPI" in out


@needs_gcc
def test_fail_reports_case(tmp_path):
    code, out = sim_run(assemble(tmp_path, PROGRAM.format(value=(5 << 1) | 1), "fail"))
    assert code == 1
    assert "FAIL: test case 5" in out


@needs_gcc
def test_odd_tohost_value(tmp_path):
    code, out = sim_run(assemble(tmp_path, PROGRAM.format(value=2), "two"))
    assert code == 1
    assert "tohost = 0x2" in out


@needs_gcc
def test_cycle_limit(tmp_path):
    src = PROGRAM.format(value=1).replace("    li a0, 1\n", "2:  j 2b\n")
    code, out = sim_run(assemble(tmp_path, src, "loop"), "--max-cycles", 200)
    assert code == 3
    assert "no tohost write within 200 cycles" in out


def test_not_an_elf(tmp_path):
    f = tmp_path / "text.elf"
    f.write_text("this is not an ELF file\n")
    code, out = sim_run(f)
    assert code == 2
    assert "not an ELF file" in out


def test_missing_file(tmp_path):
    code, out = sim_run(tmp_path / "nothing.elf")
    assert code == 2
    assert "cannot open" in out


@needs_gcc
def test_rv32_elf(tmp_path):
    code, out = sim_run(assemble(tmp_path, PROGRAM.format(value=1).replace("sd a0", "sw a0"),
                                 "rv32", march="rv32ima_zicsr", mabi="ilp32",
                                 ld_args=["-Wl,-melf32lriscv"]))
    assert code == 2
    assert "32-bit" in out


def test_wrong_machine():
    host_elf = Path(sys.executable).resolve()
    code, out = sim_run(host_elf)
    assert code == 2
    assert "need RISC-V" in out or "not an ELF" in out


@needs_gcc
def test_no_tohost(tmp_path):
    src = PROGRAM.format(value=1).replace("tohost", "somewhere")
    code, out = sim_run(assemble(tmp_path, src, "notohost"))
    assert code == 2
    assert "no 'tohost' symbol" in out


@needs_gcc
def test_segment_outside_ram(tmp_path):
    code, out = sim_run(assemble(tmp_path, PROGRAM.format(value=1), "low",
                                 ld_args=["-Wl,--section-start=.text=0x1000"]))
    assert code == 2
    assert "below RAM" in out or "outside RAM" in out


@needs_gcc
def test_trace(tmp_path):
    code, out = sim_run(assemble(tmp_path, PROGRAM.format(value=1), "trace"), "--trace")
    assert code == 0
    lines = [l for l in out.splitlines() if l.strip().startswith(("0 ", "1 ", "2 ", "3 "))]
    assert lines[0].split()[:4] == ["0", "M", "0000000080000000", "00100513"]
    assert "x10=0x1" in lines[0]
    assert "store[0x80001000]=0x1" in lines[3]


def test_bad_option():
    code, out = sim_run("x.elf", "--max-cycles", "lots")
    assert code == 64


@needs_gcc
def test_soc_target(tmp_path):
    # The same tiny program on the whole SoC (its RAM, interconnect, devices).
    code, out = sim_run(assemble(tmp_path, PROGRAM.format(value=(3 << 1) | 1), "soc"),
                        "--target", "soc")
    assert code == 1
    assert "FAIL: test case 3" in out and "soc target" in out


def test_trace_mmu_needs_core_target(tmp_path):
    f = tmp_path / "x.elf"
    f.write_text("not an elf")
    code, out = sim_run(f, "--target", "soc", "--trace-mmu")
    assert code == 2          # the ELF is checked first
