"""The multiply/divide unit against the Python reference on corner and random operands."""

import itertools

from amaranth.sim import Simulator
from hypothesis import given, settings, strategies as st

from hw.core.muldiv import MulDiv
from tests.hw.rvref import muldiv as ref_muldiv, M64

OPS = ["MUL", "MULH", "MULHSU", "MULHU", "DIV", "DIVU", "REM", "REMU"]
W_OPS = ["MUL", "DIV", "DIVU", "REM", "REMU"]
CORNERS = [0, 1, 2, 3, M64, M64 - 1, 1 << 63, (1 << 63) - 1, 0x8000_0000, 0x7FFF_FFFF,
           0xFFFF_FFFF, 0xFFFF_FFFF_8000_0000, 0x1_0000_0000, 7, M64 - 6]


def run_vectors(vectors, scramble=False):
    """vectors: (op, a, b, word).  Returns the latencies; asserts each result.

    ``scramble``: the inputs hold other values in every cycle but ``start``'s
    (the unit must take its operands, operation and width with ``start`` only,
    though it loads its operand registers in every idle cycle)."""
    dut = MulDiv()
    failures = []
    latencies = set()

    junk = iter(itertools.cycle([(5, 1, M64 - 6, 3), (0, 0, 1 << 63, 0), (3, 1, 7, M64)]))

    def scramble_inputs(ctx):
        if scramble:
            f3, word, a, b = next(junk)
            ctx.set(dut.funct3, f3)
            ctx.set(dut.word, word)
            ctx.set(dut.a, a)
            ctx.set(dut.b, b)

    async def bench(ctx):
        for op, a, b, word in vectors:
            if scramble:
                scramble_inputs(ctx)
                await ctx.tick()    # an idle cycle with other inputs
            ctx.set(dut.funct3, OPS.index(op))
            ctx.set(dut.word, word)
            ctx.set(dut.a, a)
            ctx.set(dut.b, b)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            cycles = 1
            while not ctx.get(dut.done):
                assert ctx.get(dut.busy)
                scramble_inputs(ctx)
                await ctx.tick()
                cycles += 1
                assert cycles < 100, "no done"
            latencies.add((op.startswith("MUL"), word, cycles))
            got = ctx.get(dut.result)
            want = ref_muldiv(op, a, b, word)
            if got != want:
                failures.append((op, word, hex(a), hex(b), hex(got), hex(want)))
            await ctx.tick()
            assert not ctx.get(dut.busy)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert not failures, failures[:5]
    return latencies


def test_corner_operands():
    vectors = [(op, a, b, 0) for op in OPS for a, b in itertools.product(CORNERS, CORNERS)]
    vectors += [(op, a, b, 1) for op in W_OPS for a, b in itertools.product(CORNERS, CORNERS)]
    latencies = run_vectors(vectors)
    # multiply: 4 cycles from start to done; divide: 66 (64 steps), W: 34
    assert latencies == {(True, 0, 4), (True, 1, 4), (False, 0, 66), (False, 1, 34)}


def test_spec_corner_results():
    # The ISA's table of division corner cases, written out by hand.
    dut_cases = [
        ("DIV", 5, 0, 0, M64), ("DIVU", 5, 0, 0, M64), ("REM", 5, 0, 0, 5),
        ("REMU", 5, 0, 0, 5), ("DIV", 1 << 63, M64, 0, 1 << 63), ("REM", 1 << 63, M64, 0, 0),
        ("DIVW", 0x8000_0000, M64, 1, 0xFFFF_FFFF_8000_0000),
        ("REMW", 0x8000_0000, M64, 1, 0), ("DIVUW", 9, 0, 1, M64),
        ("REMUW", 0xFFFF_FFFF_1234_5678, 0, 1, 0x1234_5678),
        ("DIV", M64 - 6, 2, 0, M64 - 2), ("REM", M64 - 6, 2, 0, M64),    # -7/2 = -3 r -1
    ]
    for op, a, b, word, want in dut_cases:
        base = op[:-1] if word else op
        assert ref_muldiv(base, a, b, word) == want, op
    run_vectors([(op[:-1] if w else op, a, b, w) for op, a, b, w, _ in dut_cases])


u64 = st.one_of(st.sampled_from(CORNERS), st.integers(0, M64), st.integers(0, 0xFFFF))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(OPS), u64, u64), min_size=1, max_size=20),
       st.lists(st.tuples(st.sampled_from(W_OPS), u64, u64), min_size=1, max_size=10))
def test_random_operands(vectors, w_vectors):
    run_vectors([(op, a, b, 0) for op, a, b in vectors] +
                [(op, a, b, 1) for op, a, b in w_vectors])


def test_operands_taken_with_start_only():
    # The operand registers load in every idle cycle (their enable is the state,
    # not ``start``); what the inputs hold before and after ``start`` must not
    # reach the result.
    vectors = [(op, a, b, 0) for op in OPS for a, b in [(M64 - 6, 2), (1 << 63, M64), (12345, 67)]]
    vectors += [(op, a, b, 1) for op in W_OPS for a, b in [(0x8000_0000, M64), (9, 0), (100, 7)]]
    latencies = run_vectors(vectors, scramble=True)
    assert latencies == {(True, 0, 4), (True, 1, 4), (False, 0, 66), (False, 1, 34)}
