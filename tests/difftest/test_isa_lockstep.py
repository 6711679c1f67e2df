"""Every program of tests/isa under the lock-step comparison: the core alone (pysim,
the runner's testbench, which has the IRQ_LINES register interrupts.S needs)
against the golden model, record by record."""

import pytest

from sim.difftest.run import CORE_REGIONS, model_for, run_core_target
from sim.ref.run import load_program
from tests.isa import build as isa_build

pytestmark = pytest.mark.skipif(not isa_build.have_toolchain(),
                                reason="riscv64-unknown-elf-gcc not installed")


@pytest.mark.parametrize("name", isa_build.programs())
def test_isa_program_in_lockstep(name, isa_elfs):
    image, ram = load_program(str(isa_elfs[name]))
    hart, lock = model_for(image, len(ram), CORE_REGIONS)
    outcome = run_core_target(image, len(ram), lock, max_cycles=200_000)
    assert (outcome.stop, outcome.tohost) == ("tohost", 1)
    assert lock.checked == hart.order > 100
    assert hart.tohost == 1                  # the model saw the same final store
