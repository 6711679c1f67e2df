"""Block RAM that may read anything on a collision (hw/core/blockram.py): what the
simulators read through ``ReadAfterWrite`` and ``WriteBehind`` against a Python
model on random traffic heavy with collisions, and what Yosys makes of it for the ECP5 (the
block RAMs alone: no comparing logic of its own beside them)."""

import gc
import warnings

import pytest
from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator
from hypothesis import given, settings, strategies as st

from hw.core import blockram
from hw.core.btb import BranchPredictor

WIDTH, DEPTH = 16, 16


class Reader(wiring.Component):
    """One memory, one whole-word write port, two reads after write."""

    def __init__(self, depth=DEPTH, width=WIDTH, block=False):
        self.depth, self.width, self.block = depth, width, block
        super().__init__({
            "waddr": In(range(depth)), "wen": In(1), "wdata": In(width),
            "raddr": In(range(depth)).array(2), "rdata": Out(width).array(2),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = mem = blockram.memory(self.width, self.depth, block=self.block)
        wp = mem.write_port()
        m.d.comb += [wp.addr.eq(self.waddr), wp.en.eq(self.wen), wp.data.eq(self.wdata)]
        raw = blockram.ReadAfterWrite(m, mem, wp, "mem")
        for i in range(2):
            m.d.comb += self.rdata[i].eq(raw.read(self.raddr[i], f"r{i}"))
        return m


# a cycle: (write?, write address, data, the two read addresses); few addresses,
# so that a read meets the write of its cycle often
cycles = st.lists(st.tuples(st.booleans(), st.integers(0, 3), st.integers(0, (1 << WIDTH) - 1),
                            st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(cycles)
def test_a_read_gives_what_its_address_holds_after_the_cycle_of_the_read(trace):
    dut = Reader()
    model = [0] * DEPTH

    async def bench(ctx):
        for wen, waddr, wdata, r0, r1 in trace:
            ctx.set(dut.wen, wen)
            ctx.set(dut.waddr, waddr)
            ctx.set(dut.wdata, wdata)
            ctx.set(dut.raddr[0], r0)
            ctx.set(dut.raddr[1], r1)
            await ctx.tick()
            if wen:
                model[waddr] = wdata
            expected = (model[r0], model[r1])
            assert (ctx.get(dut.rdata[0]), ctx.get(dut.rdata[1])) == expected

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


class Ways(wiring.Component):
    """Two memories written through one WriteBehind (a word, an enable each), read
    at one address."""

    def __init__(self, depth=DEPTH, width=WIDTH):
        self.depth, self.width = depth, width
        super().__init__({
            "waddr": In(range(depth)), "wen": In(2), "wdata": In(width),
            "raddr": In(range(depth)), "rdata": Out(width).array(2),
        })

    def elaborate(self, platform):
        m = Module()
        mems = [blockram.memory(self.width, self.depth) for _ in range(2)]
        for i, mem in enumerate(mems):
            m.submodules[f"mem{i}"] = mem
        wb = blockram.WriteBehind(m, mems, "mem")
        m.d.comb += [wb.addr.eq(self.waddr), wb.en.eq(self.wen), wb.data.eq(self.wdata)]
        for i, word in enumerate(wb.read(self.raddr, "r")):
            m.d.comb += self.rdata[i].eq(word)
        return m


# a cycle: (enables, write address, data, the read address)
way_cycles = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3),
                                st.integers(0, (1 << WIDTH) - 1), st.integers(0, 3)),
                      min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(way_cycles)
def test_a_write_behind_is_read_as_if_written_at_once(trace):
    # A write given in a cycle reaches the memory a cycle later, yet a read
    # presented in the cycle of the write (or the cycle after) gives the written
    # word, per memory as its enable says.
    dut = Ways()
    model = [[0] * DEPTH for _ in range(2)]

    async def bench(ctx):
        for wen, waddr, wdata, raddr in trace:
            ctx.set(dut.wen, wen)
            ctx.set(dut.waddr, waddr)
            ctx.set(dut.wdata, wdata)
            ctx.set(dut.raddr, raddr)
            await ctx.tick()
            for i in range(2):
                if wen >> i & 1:
                    model[i][waddr] = wdata
            assert (ctx.get(dut.rdata[0]), ctx.get(dut.rdata[1])) == \
                (model[0][raddr], model[1][raddr])

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


def test_a_write_port_with_byte_lanes_is_refused():
    with warnings.catch_warnings():
        # (the module and memory of the refused read are never elaborated)
        warnings.simplefilter("ignore")
        m = Module()
        mem = blockram.memory(64, 16)
        wp = mem.write_port(granularity=8)
        with pytest.raises(ValueError, match="whole words"):
            blockram.ReadAfterWrite(m, mem, wp, "mem")
        del m, mem, wp
        gc.collect()


@pytest.mark.parametrize("design, flip_flops, block_rams", [
    # the BTB's 512 entries of 83 bits: three block RAMs and nothing else that
    # keeps state (687e2da's table, read through a port that gives the old
    # entry, had 177 flip-flops of Yosys's around it)
    (lambda: BranchPredictor(512), 0, 3),
    # 512 words of 64 bits read twice after write: the registers of
    # ReadAfterWrite only (write address 9 + enable 1 + data 64, each read's
    # address 9), two block RAMs per read port
    (lambda: Reader(512, 64), 9 + 1 + 64 + 2 * 9, 4),
    # two ways of 512 x 64 written behind and read once: the two write
    # registers (address 9 + data 64 + enables 2, each) and the read's address
    (lambda: Ways(512, 64), 2 * (9 + 64 + 2) + 9, 4),
    # the default SoC's cache tags, 128 sets of 4 bits read twice: asked for in
    # block RAM (``block``), one block RAM per read port (Yosys would take LUT RAM)
    (lambda: Reader(128, 4, block=True), 7 + 1 + 4 + 2 * 7, 2),
])
def test_yosys_adds_no_logic_of_its_own_beside_the_block_ram(design, flip_flops, block_rams):
    from soc.synth import synthesize
    result = synthesize(design())
    assert "emulate" not in result.log
    assert result.count("TRELLIS_FF") == flip_flops
    assert result.count("DP16KD") == block_rams


def test_a_small_memory_not_asked_for_in_block_ram_goes_to_lut_ram():
    # (what ``block`` is for: the same tags without it are LUT RAM, whose read
    # multiplexers spread over the die; see hw/core/cache.py)
    from soc.synth import synthesize
    result = synthesize(Reader(128, 4))
    # 128 x 4 bits in 16 x 4 LUT RAMs: 8 per read port
    assert (result.count("DP16KD"), result.count("TRELLIS_DPR16X4")) == (0, 16)
