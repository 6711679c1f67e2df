"""The golden model runs every program of tests/isa on its own, with the same
instruction and trap counts as the core (tests/hw/test_core_isa.py), with the
choices of each core kind: the pipelined core's (16 PMP entries, misaligned loads
and stores in hardware) and the multi-cycle core's (none, they trap)."""

import io

import pytest

from sim.difftest.run import RTL_CONFIG
from sim.ref.hart import Config
from sim.ref.run import run_elf
from sim.run import EXIT_PASS
from tests.hw.test_core_isa import EXACT_COUNTS, STRAIGHT_LINE, _straight_line_count
from tests.isa import build as isa_build

pytestmark = pytest.mark.skipif(not isa_build.have_toolchain(),
                                reason="riscv64-unknown-elf-gcc not installed")


CONFIGS = {"pipeline": RTL_CONFIG, "fsm": Config()}


@pytest.fixture(scope="module")
def isa_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("isa_model")


@pytest.mark.parametrize("core", ["pipeline", "fsm"])
@pytest.mark.parametrize("name", isa_build.programs())
def test_isa_program_on_model(name, core, isa_dir):
    elf = isa_build.build_for(name, isa_dir, core)
    out = io.StringIO()
    status, message, res = run_elf(str(elf), max_steps=100_000, out=out,
                                   config=CONFIGS[core])
    assert status == EXIT_PASS, f"{name}: {message}\n{out.getvalue()}"
    assert res.tohost == 1
    if name in STRAIGHT_LINE:
        assert res.traps == 0
        assert res.instret == _straight_line_count(elf)
    if name in EXACT_COUNTS:
        assert (res.instret, res.traps) == EXACT_COUNTS[name]
