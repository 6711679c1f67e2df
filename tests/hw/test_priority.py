"""hw/priority.py's lowest-first tree: every request pattern of small sizes, against
the obvious rule (the lowest-numbered node that asks wins, with its index and
payload)."""

import pytest

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from hw.priority import lowest_first


class Picker(wiring.Component):
    """``n`` candidates, candidate i's payload the constant ``10 * i + 3`` (8 bits)
    and the input ``tag`` bit i (so that a payload is a signal, not only a constant)."""

    def __init__(self, n, named):
        self.n, self.named = n, named
        super().__init__({
            "asks":  In(n),
            "tag":   In(n),
            "any":   Out(1),
            "index": Out(max(1, (n - 1).bit_length())),
            "value": Out(8),
            "bit":   Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        found, index, (value, bit) = lowest_first(
            m, [(self.asks[i], (10 * i + 3, self.tag[i])) for i in range(self.n)],
            name="pick" if self.named else None)
        m.d.comb += [self.any.eq(found), self.index.eq(index),
                     self.value.eq(value), self.bit.eq(bit)]
        return m


@pytest.mark.parametrize("named", [False, True])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 6, 8])
def test_lowest_asking_node_wins(n, named):
    dut = Picker(n, named)
    seen = []

    async def bench(ctx):
        for asks in range(1 << n):
            tag = asks ^ 0b1011011 & ((1 << n) - 1)
            ctx.set(dut.asks, asks)
            ctx.set(dut.tag, tag)
            assert ctx.get(dut.any) == (asks != 0)
            if asks:
                first = (asks & -asks).bit_length() - 1
                assert (ctx.get(dut.index), ctx.get(dut.value), ctx.get(dut.bit)) == \
                    (first, 10 * first + 3, tag >> first & 1), f"asks {asks:0{n}b}"
            seen.append(asks)

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    assert len(seen) == 1 << n


def test_no_candidates_is_an_error():
    with pytest.raises(ValueError, match="at least one candidate"):
        lowest_first(Module(), [])


def test_named_nodes_are_signals_in_the_module():
    m = Module()
    a, b, c = Signal(), Signal(), Signal()
    found, index, _ = lowest_first(m, [(a, ()), (b, ()), (c, ())], name="q")
    assert (found.name, index.name) == ("q_a2_0", "q_id2_0")
    assert len(index) == 2
