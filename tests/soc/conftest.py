import pytest
from amaranth.sim import Simulator


def run_sim(dut, *benches, deadline=None, vcd=None, processes=()):
    """Run ``dut`` with async testbenches; ``deadline`` bounds simulated cycles."""
    sim = Simulator(dut)
    sim.add_clock(1e-7)
    for bench in benches:
        sim.add_testbench(bench)
    for proc in processes:
        sim.add_process(proc)
    if deadline is None:
        sim.run()
    else:
        sim.run_until(deadline * 1e-7)
    return sim


@pytest.fixture
def sim_run():
    return run_sim
