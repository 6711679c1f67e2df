"""The golden model runs every program of tests/isa on its own, with the same
instruction and trap counts as the core (tests/hw/test_core_isa.py)."""

import io

import pytest

from sim.ref.run import run_elf
from sim.run import EXIT_PASS
from tests.hw.test_core_isa import EXACT_COUNTS, STRAIGHT_LINE, _straight_line_count
from tests.isa import build as isa_build

pytestmark = pytest.mark.skipif(not isa_build.have_toolchain(),
                                reason="riscv64-unknown-elf-gcc not installed")


@pytest.mark.parametrize("name", isa_build.programs())
def test_isa_program_on_model(name, isa_elfs):
    out = io.StringIO()
    status, message, res = run_elf(str(isa_elfs[name]), max_steps=100_000, out=out)
    assert status == EXIT_PASS, f"{name}: {message}\n{out.getvalue()}"
    assert res.tohost == 1
    if name in STRAIGHT_LINE:
        assert res.traps == 0
        assert res.instret == _straight_line_count(isa_elfs[name])
    if name in EXACT_COUNTS:
        assert (res.instret, res.traps) == EXACT_COUNTS[name]
