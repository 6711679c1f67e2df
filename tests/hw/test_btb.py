"""The branch predictor (hw/core/btb.py) against a model of its table written from
its description: random updates and lookups, every output that means something
compared (on a miss, only ``hit`` and ``taken``)."""

import random

import pytest
from amaranth.sim import Simulator

from hw.core.btb import BranchPredictor


def tag_of(pc, entries, tag_bits=8):
    """The tag btb.py describes: the address bits above the index folded by XOR."""
    above, folded = pc >> (2 + entries.bit_length() - 1), 0
    while above:
        folded ^= above & (2**tag_bits - 1)
        above >>= tag_bits
    return folded


def lookups(dut, written, looked_up):
    """Write a taken jump's entry at each pc of ``written``, then read each of
    ``looked_up``: its (hit, taken, target)."""
    out = []

    async def bench(ctx):
        for pc in written:
            ctx.set(dut.upd_valid, 1)
            ctx.set(dut.upd_pc, pc)
            ctx.set(dut.upd_keep, 1)
            ctx.set(dut.upd_jump, 1)
            ctx.set(dut.upd_target, pc + 0x100)
            await ctx.tick()
        ctx.set(dut.upd_valid, 0)
        for pc in looked_up:
            ctx.set(dut.read_pc, pc)
            await ctx.tick()
            ctx.set(dut.pc, pc)
            out.append((ctx.get(dut.hit), ctx.get(dut.taken), ctx.get(dut.target)))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return out


def test_the_tag_folds_every_address_bit_above_the_index():
    # 512 entries: the index is pc[2:11], the tag pc[11:64] folded into 8 bits.
    # The kernel's 0x8000_0000 and a user program's 0x0 share an index; bit 31
    # is the tag's bit 4, so they do not share an entry.  Nor does 0x8000_0800
    # (bit 11: the tag's bit 0).  0x80_0000_0000 has bit 39 instead, which folds
    # onto the same tag bit: a hit for the kernel's entry (only a prediction).
    # Bit 63 folds onto it too: with bit 31 it cancels it.
    dut = BranchPredictor(512)
    assert tag_of(0x8000_0000, 512) == 0x10 and tag_of(0x80_0000_0000, 512) == 0x10
    assert tag_of(2**63 | 0x8000_0000, 512) == 0x00
    assert lookups(dut, [0x8000_0000], [0x8000_0000, 0x0, 0x8000_0800, 0x80_0000_0000,
                                        2**63 | 0x8000_0000]) == [
        (1, 1, 0x8000_0100), (0, 0, 0x8000_0100), (0, 0, 0x8000_0100),
        (1, 1, 0x8000_0100), (0, 0, 0x8000_0100)]


class Model:
    """The table as btb.py describes it: one entry per index."""

    def __init__(self, entries):
        self.entries = entries
        self.table = {}

    def index(self, pc):
        return (pc >> 2) % self.entries

    def update(self, pc, keep, jump, ret, counter, target):
        self.table[self.index(pc)] = dict(valid=keep, jump=jump, ret=ret, counter=counter,
                                          tag=tag_of(pc, self.entries), target=target & ~3)

    def lookup(self, read_pc, pc):
        """The outputs for an entry read at ``read_pc`` and compared with ``pc``."""
        e = self.table.get(self.index(read_pc))
        if e is None:
            return None                     # never written: only 'not hit' is known
        hit = e["valid"] and e["tag"] == tag_of(pc, self.entries)
        return dict(hit=int(hit), taken=int(hit and (e["jump"] or e["counter"] >= 2)),
                    ret=e["ret"], counter=e["counter"], target=e["target"])


@pytest.mark.parametrize("seed", [1, 2])
def test_btb_against_the_model(seed):
    entries = 16                            # small: indices and tags collide often
    dut = BranchPredictor(entries)
    model = Model(entries)
    rng = random.Random(seed)
    # a few code places: pcs that share indices, with tags equal or not
    bases = [0x8000_0000, 0x8000_0040, 0x0000_1000, 0x0000_1040, 0x3f_ffff_f000]
    pcs = [b + 4 * rng.randrange(16) for b in bases for _ in range(6)]
    results = {"checked": 0, "hits": 0, "taken": 0, "other_hits": 0}

    async def bench(ctx):
        for _ in range(3000):
            read_pc = rng.choice(pcs)
            upd = rng.random() < 0.4
            upd_pc = rng.choice(pcs)
            # (a lookup of the index written in the same cycle may get anything)
            if upd and model.index(upd_pc) == model.index(read_pc):
                upd = False
            ctx.set(dut.read_pc, read_pc)
            fields = dict(keep=rng.random() < 0.85, jump=rng.random() < 0.3,
                          ret=rng.random() < 0.2, counter=rng.randrange(4),
                          target=rng.choice(pcs + [rng.getrandbits(64)]))
            ctx.set(dut.upd_valid, upd)
            ctx.set(dut.upd_pc, upd_pc)
            for name, value in fields.items():
                ctx.set(getattr(dut, f"upd_{name}"), value)
            expect = model.lookup(read_pc, read_pc)
            await ctx.tick()
            if upd:
                model.update(upd_pc, **fields)
            # the entry read at read_pc, compared with the pc it was read for
            ctx.set(dut.pc, read_pc)
            got = {name: ctx.get(getattr(dut, name))
                   for name in ("hit", "taken", "ret", "counter", "target")}
            if expect is None:
                assert got["hit"] == 0 and got["taken"] == 0
            else:
                if not expect["hit"]:
                    # (ret, counter and target mean something only with a hit)
                    got = {k: got[k] for k in ("hit", "taken")}
                    expect = {k: expect[k] for k in ("hit", "taken")}
                assert got == expect, (hex(read_pc), got, expect)
                results["hits"] += got["hit"]
                results["taken"] += got["taken"]
            results["checked"] += 1
            # the same entry compared with another pc: a hit exactly when the stored
            # tag is that pc's (the fold in hardware is the model's)
            # (this cycle's update went to another index: the entry is the same)
            other = rng.choice(pcs + [rng.getrandbits(64)])
            ctx.set(dut.pc, other)
            expect_other = model.lookup(read_pc, other)
            if expect_other is not None:
                hit = expect_other["hit"]
                assert ctx.get(dut.hit) == hit
                results["other_hits"] += hit and tag_of(other, entries) != tag_of(read_pc, entries)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    # the run met every case: hits, taken ones, and misses
    assert results["checked"] == 3000
    assert results["hits"] > 300 and results["taken"] > 100 and results["other_hits"] > 50
