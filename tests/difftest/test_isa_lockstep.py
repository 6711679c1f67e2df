"""Every program of tests/isa under the lock-step comparison, record by record: on the
whole SoC (compiled engine), except interrupts.S, which needs the IRQ_LINES register
that only the runner's core testbench has (pysim).  `make test-slow` runs them all on
the core target too."""

import pytest

from sim.difftest.run import CORE_REGIONS, SOC_REGIONS, model_for, run_core_target, run_engine
from sim.engine import CxxrtlEngine
from sim.ref.run import load_program
from tests.isa import build as isa_build

pytestmark = pytest.mark.skipif(not isa_build.have_toolchain(),
                                reason="riscv64-unknown-elf-gcc not installed")

#: programs that use the core testbench's IRQ_LINES register
CORE_ONLY = {"interrupts"}


def on_core(path):
    image, ram = load_program(str(path))
    hart, lock = model_for(image, len(ram), CORE_REGIONS)
    outcome = run_core_target(image, len(ram), lock, max_cycles=200_000)
    assert (outcome.stop, outcome.tohost) == ("tohost", 1)
    assert lock.checked == hart.order > 100
    assert hart.tohost == 1                  # the model saw the same final store


@pytest.mark.parametrize("name", isa_build.programs())
def test_isa_program_in_lockstep(name, isa_elfs, request):
    if name in CORE_ONLY:
        return on_core(isa_elfs[name])
    engine = CxxrtlEngine(lib_path=request.getfixturevalue("cxxrtl_model"))
    image, _ = load_program(str(isa_elfs[name]))
    engine.load(image)
    engine.set_tohost(image.tohost)
    hart, lock = model_for(image, engine.ram_size, SOC_REGIONS)
    outcome = run_engine(engine, lock, max_cycles=500_000)
    engine.close()
    assert (outcome.stop, outcome.tohost) == ("tohost", 1)
    assert lock.checked == hart.order > 100    # the store's record came first (write buffer)
    assert hart.tohost == 1


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(isa_build.programs()) - CORE_ONLY))
def test_isa_program_in_lockstep_on_the_core(name, isa_elfs):
    on_core(isa_elfs[name])
