"""The comparison can fail: a deliberately broken model, a patched RTL value and an
interrupt the model has disabled are each caught at the right record, with the
right field named."""

import pytest

from sim.difftest.lockstep import Divergence
from sim.difftest.run import CORE_REGIONS, model_for, run_core_target
from sim.ref import execute
from sim.ref.decode import describe
from sim.ref.run import load_program
from tests.isa import build as isa_build

pytestmark = pytest.mark.skipif(not isa_build.have_toolchain(),
                                reason="riscv64-unknown-elf-gcc not installed")


@pytest.fixture(scope="module")
def arith(tmp_path_factory):
    return isa_build.build("rv64i_arith", tmp_path_factory.mktemp("catch"))


def clean_trace(path):
    """The model's own records of the program (it passes on its own)."""
    image, ram = load_program(str(path))
    hart, lock = model_for(image, len(ram), CORE_REGIONS)
    from sim.ref.platform import HarnessPlatform
    from sim.ref.run import new_hart
    env = HarnessPlatform()
    h = new_hart(image, bytearray(ram), env)
    recs = []
    h.run(100_000, on_retire=recs.append)
    assert h.tohost == 1
    return recs


def run_lockstep(path, patch_record=None):
    image, ram = load_program(str(path))
    hart, lock = model_for(image, len(ram), CORE_REGIONS)
    if patch_record is not None:
        check = lock.check

        def patched(rec):
            check(patch_record(rec))
        lock.check = patched
    run_core_target(image, len(ram), lock, max_cycles=100_000)
    return lock


def test_broken_model_instruction_is_caught_at_its_first_use(arith, monkeypatch):
    first_sub = next(r for r in clean_trace(arith) if describe(r.insn).name == "sub")
    monkeypatch.setitem(execute.ALU, "sub", lambda a, b: (a - b + 1) & (2**64 - 1))
    with pytest.raises(Divergence) as e:
        run_lockstep(arith)
    assert (e.value.order, e.value.field) == (first_sub.order, "rd_wdata")
    report = str(e.value)
    assert "field rd_wdata" in report
    assert "sub " in report.splitlines()[-1]          # the model's last record is the sub


def test_patched_rtl_store_data_is_caught(arith):
    stores = [r for r in clean_trace(arith) if r.mem_wmask]
    target = stores[0].order

    def corrupt(rec):
        if rec.order == target:
            rec = type(rec)(**{**vars(rec), "mem_wdata": rec.mem_wdata ^ 0x10}) \
                if hasattr(rec, "__dict__") else rec._replace(mem_wdata=rec.mem_wdata ^ 0x10)
        return rec
    with pytest.raises(Divergence) as e:
        run_lockstep(arith, corrupt)
    assert (e.value.order, e.value.field) == (target, "mem_wdata")


def test_patched_rtl_pc_is_caught(arith):
    def corrupt(rec):
        if rec.order == 40:
            rec = type(rec)(**{**vars(rec), "pc": rec.pc + 4}) \
                if hasattr(rec, "__dict__") else rec._replace(pc=rec.pc + 4)
        return rec
    with pytest.raises(Divergence) as e:
        run_lockstep(arith, corrupt)
    assert (e.value.order, e.value.field) == (40, "pc")


def test_interrupt_the_model_has_disabled_is_caught(arith):
    def fake_interrupt(rec):
        if rec.order == 10:
            fields = {**(vars(rec) if hasattr(rec, "__dict__") else rec._asdict())}
            fields.update(trap=1, intr=1, cause=7, insn=0, tval=0, rd=0, rd_wdata=0,
                          mem_rmask=0, mem_wmask=0)
            rec = type(rec)(**fields)
        return rec
    with pytest.raises(Divergence) as e:
        run_lockstep(arith, fake_interrupt)
    assert (e.value.order, e.value.field) == (10, "interrupt")
    assert "mie.MTIE = 0" in str(e.value)
