"""The return-address stack (hw/core/ras.py) against a Python model, and the
fetch unit's use of it on a program (exact predictions, from the core's counters)."""

import random

import pytest
from amaranth.sim import Simulator

from hw.core.ras import ReturnStack


class Model:
    """A circular stack of ``entries`` slots with a top pointer: a push writes the
    slot above the top and moves up, a pop moves down; the top is the slot at
    the pointer (the oldest entries are overwritten, a pop below the bottom
    shows what the slot still holds)."""

    def __init__(self, entries):
        self.slots = [0] * entries
        self.tos = 0

    @property
    def top(self):
        return self.slots[self.tos]

    def step(self, push, pop, value):
        n = len(self.slots)
        if push:
            self.tos = (self.tos + 1) % n
            self.slots[self.tos] = value & ~3
        elif pop:
            self.tos = (self.tos - 1) % n


@pytest.mark.parametrize("entries", [2, 4, 8])
def test_against_model(entries):
    dut = ReturnStack(entries)
    model = Model(entries)
    rng = random.Random(entries)

    async def bench(ctx):
        depth = 0
        for _ in range(800):
            assert ctx.get(dut.top) == model.top
            # runs of calls and returns, deeper than the stack now and then
            r = rng.random()
            push = r < 0.45 + 0.1 * (depth < 3)
            pop = not push and r < 0.9
            value = rng.getrandbits(64)
            ctx.set(dut.push, push)
            ctx.set(dut.pop, pop)
            ctx.set(dut.value, value)
            await ctx.tick()
            model.step(push, pop, value)
            depth += push - pop
        assert ctx.get(dut.top) == model.top

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


def test_entries_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        ReturnStack(6)
    with pytest.raises(ValueError, match="power of two"):
        ReturnStack(1)



TWO_SITES = """
    li s0, 3
2:  call f
    call f
    addi s0, s0, -1
    bnez s0, 2b
    j 3f
f:  addi a0, a0, 1
{body}    ret
3:
"""


def test_returns_to_two_call_sites(tmp_path):
    # A function called from two places, three times round a loop: its `ret` goes
    # back to the other call site each time, which the BTB alone (one target per
    # jump) would mispredict every time after the first.  With the stack:
    # mispredicted are the first `call f` (not yet in the BTB), the first `ret`
    # (idem), the second `call f` (idem), the loop's `bnez` the first time (not
    # yet known) and the last (it falls through), `j 3f` and the tail's `j 1b` the
    # first time: 7, none of the returns after the first.  The `ret` is four
    # instructions after its call: the call has left X and been pushed when the
    # `ret` is fetched.  Branches and jumps: 15 in the loop, `j 3f`, and the
    # spin loop's `j 1b` 5 times (counted as they leave X, until the run stops,
    # one more since the tohost store waits in the write buffer's store stage: 8
    # before X's redirect was registered, a cycle more per misprediction; 7 while
    # a wrong-path line fill was dropped before it reached the bus: the run's
    # length depends on when the line fills end).
    from tests.hw.test_perf import run
    res, c = run(tmp_path, TWO_SITES.format(body="    addi a1, a1, 1\n    addi a2, a2, 1\n"))
    assert (res.perf["branch"], res.perf["mispred"]) == (21, 7)


def test_return_right_after_its_call(tmp_path):
    # The same with the `ret` two instructions after its call: it is fetched while
    # the call is in X, before the stack has the call's link address (the stack
    # is kept from resolved instructions, ras.py), so it goes to the top before
    # that, the other call site: the 4 returns after the first are mispredicted
    # as well, 11 in all (branches and jumps: as above, the spin loop's `j 1b` 8
    # times).
    from tests.hw.test_perf import run
    res, c = run(tmp_path, TWO_SITES.format(body=""))
    assert (res.perf["branch"], res.perf["mispred"]) == (24, 11)
