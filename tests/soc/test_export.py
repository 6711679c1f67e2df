import time

from amaranth import *
from amaranth.back import rtlil
from amaranth.lib import memory

from soc.export import convert
from soc.ram import RAM
from soc.soc import SoC


def test_big_ram_exports_fast_without_initializer():
    t0 = time.monotonic()
    text = convert(SoC(cpu=False))                 # 32 MiB RAM
    assert time.monotonic() - t0 < 30
    assert "memory width 64 size 4194304" in text
    assert "$meminit_v2" not in text


def test_nonzero_initializers_are_kept():
    class Top(Elaboratable):
        def elaborate(self, platform):
            m = Module()
            m.submodules.a = memory.Memory(shape=8, depth=4, init=[1, 2, 3, 4])
            m.submodules.z = memory.Memory(shape=8, depth=4, init=[])
            return m

    text = convert(Top(), ports=[])
    assert text.count("$meminit_v2") == 1
    assert text.count("memory width 8 size 4") == 2
    # The patch is undone afterwards: plain conversion writes both initializers.
    assert rtlil.convert(Top(), ports=[]).count("$meminit_v2") == 2


def test_small_ram_same_as_plain_conversion_apart_from_init():
    plain = rtlil.convert(RAM(size=64), name="top", emit_src=False)
    ours = convert(RAM(size=64), name="top", emit_src=False)
    assert "$meminit_v2" in plain and "$meminit_v2" not in ours
    assert len(ours) < len(plain)
