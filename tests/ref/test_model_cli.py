"""`python -m sim ref`: exit statuses and messages as `python -m sim run` gives them,
the trace, and bad input."""

import subprocess
import sys

import pytest

from sim.ref import run as ref_run
from tests.isa import build as isa_build

pytestmark = pytest.mark.skipif(not isa_build.have_toolchain(),
                                reason="riscv64-unknown-elf-gcc not installed")

PROGRAM = """#include "test.h"
    TEST_START
{body}
    j __finish
    TEST_PASS
"""


def assemble(tmp_path, name, body):
    """A program of tests/isa's kind whose body leaves the tohost value in a0."""
    src = tmp_path / f"{name}.S"
    src.write_text(PROGRAM.format(body=body))
    elf = tmp_path / f"{name}.elf"
    subprocess.run([isa_build.CC, *isa_build.CFLAGS, "-T", str(isa_build.HERE / "link.ld"),
                    f"-I{isa_build.HERE}", str(src), "-o", str(elf)], check=True)
    return str(elf)


def run_main(capsys, *argv):
    status = ref_run.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


def test_pass_fail_and_other_values(capsys, tmp_path):
    assert run_main(capsys, assemble(tmp_path, "ok", "li a0, 1"))[0] == 0
    status, _, err = run_main(capsys, assemble(tmp_path, "case3", "li a0, 7"))
    assert status == 1 and "FAIL: test case 3" in err
    status, _, err = run_main(capsys, assemble(tmp_path, "other", "li a0, 6"))
    assert status == 1 and "not a pass/fail code" in err


def test_step_limit_and_endless_wfi(capsys, tmp_path):
    status, _, err = run_main(capsys, assemble(tmp_path, "spin", "2: j 2b"), "--max-steps", 100)
    assert status == 3 and "within 100 steps" in err
    status, _, err = run_main(capsys, assemble(tmp_path, "sleep", "wfi"))
    assert status == 3 and "WFI" in err


def test_trace_shows_records_with_disassembly(capsys, isa_elfs):
    status, out, _ = run_main(capsys, isa_elfs["atomic"], "--trace")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["0", "M", "0000000080000000", "00000193"]
    assert lines[0].endswith("; addi gp, zero, 0")
    assert any("amoswap.d" in line and "store[" in line and "load[" in line for line in lines)
    assert any("TRAP exception cause=6" in line for line in lines)
    assert lines[-2].startswith("instructions 377  traps 2") and lines[-1] == "PASS"


def test_bad_input(capsys, tmp_path):
    status, _, err = run_main(capsys, tmp_path / "none.elf")
    assert status == 2 and "cannot open" in err
    status, _, err = run_main(capsys, sys.executable)
    assert status == 2 and "need RISC-V" in err
    assert run_main(capsys, "x.elf", "--pmp-entries", "3")[0] == 64


def test_options_for_the_pipelined_core(capsys, tmp_path):
    # a misaligned load traps by default (the handler reports case 2) and completes
    # with --misaligned hw; 16 PMP entries, all OFF, leave M mode alone
    body = """
    la t0, trapped
    csrw mtvec, t0
    la t1, tohost
    ld t2, 3(t1)
    li a0, 1
    j done
trapped:
    li a0, 5
done:"""
    elf = assemble(tmp_path, "mis", body)
    status, _, err = run_main(capsys, elf)
    assert status == 1 and "test case 2" in err
    assert run_main(capsys, elf, "--misaligned", "hw")[0] == 0
    assert run_main(capsys, elf, "--pmp-entries", "16")[0] == 1
