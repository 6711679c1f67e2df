# amaranth: UnusedElaboratable=no
"""The ROM device (soc/rom.py), the LED register (soc/leds.py) and the board devices'
places in the SoC's decoder."""

import pytest

from soc import memmap
from soc.leds import LEDs
from soc.rom import ROM
from soc.soc import SoC
from tests.soc.busutil import read, transfer, write
from tests.soc.conftest import run_sim

CONTENTS = bytes((11 * k + 5) & 0xFF for k in range(100))      # 12.5 words


def test_rom_reads_its_contents_and_faults_on_writes_and_beyond():
    dut = ROM(CONTENTS, memmap.BOOTROM)
    out = {}

    async def bench(ctx):
        out["words"] = [await read(ctx, dut.bus, 8 * k, 8) for k in range(13)]
        out["byte"] = await read(ctx, dut.bus, 0x41, 1)
        out["write"] = await transfer(ctx, dut.bus, 0x10, 8, write=True, value=1)
        out["after"] = await read(ctx, dut.bus, 0x10, 8)
        out["beyond"] = await transfer(ctx, dut.bus, 13 * 8, 8)    # past the contents
        out["far"] = await transfer(ctx, dut.bus, 0x4000, 8)

    run_sim(dut, bench)
    padded = CONTENTS + bytes(4)
    assert out["words"] == [int.from_bytes(padded[8 * k:8 * k + 8], "little") for k in range(13)]
    assert out["byte"] == CONTENTS[0x41]
    assert out["write"][1] is True and out["after"] == int.from_bytes(CONTENTS[16:24], "little")
    assert out["beyond"][:2] == (0, True) and out["far"][:2] == (0, True)
    assert out["write"][2] == out["beyond"][2] == 1          # answered a cycle later, like RAM


def test_rom_checks_its_size():
    with pytest.raises(ValueError, match="do not fit"):
        ROM(bytes(memmap.BOOTROM.size + 8), memmap.BOOTROM)
    with pytest.raises(ValueError, match="no contents"):
        ROM(b"", memmap.BOOTROM)


def test_leds_register():
    dut = LEDs()
    out = {}

    async def bench(ctx):
        out["reset"] = (ctx.get(dut.leds), await read(ctx, dut.bus, 0, 1))
        await write(ctx, dut.bus, 0, 0x5A, 1)
        out["set"] = (ctx.get(dut.leds), await read(ctx, dut.bus, 0, 1))
        await write(ctx, dut.bus, 0, 0x1FF, 2)                 # byte 1 is not a register
        out["wide"] = ctx.get(dut.leds)
        await write(ctx, dut.bus, 8, 0x33, 1)                  # nor is offset 8
        out["other"] = (ctx.get(dut.leds), await read(ctx, dut.bus, 8, 1))

    run_sim(dut, bench)
    assert out == {"reset": (0, 0), "set": (0x5A, 0x5A), "wide": 0xFF, "other": (0xFF, 0)}


def test_board_devices_in_the_soc():
    soc = SoC(ram_size=1 << 16, cpu=False, reset_pc=memmap.BOOTROM.base, boot_rom=CONTENTS,
              sdcard=dict(clk_freq=1_000_000), leds=True)
    out = {}

    async def bench(ctx):
        bus = soc.cpu_bus
        out["rom"] = await read(ctx, bus, memmap.BOOTROM.base, 8)
        await write(ctx, bus, memmap.BOOTRAM.base + 0xFF8, 0x1234, 8)
        out["bootram"] = await read(ctx, bus, memmap.BOOTRAM.base + 0xFF8, 8)
        await write(ctx, bus, memmap.LEDS.base, 6, 1)
        out["leds"] = ctx.get(soc.leds)
        await write(ctx, bus, memmap.SDCARD.base + 8, 4000, 8)
        out["sd_size"] = await read(ctx, bus, memmap.SDCARD.base + 8, 8)
        out["capacity"] = await read(ctx, bus, memmap.VIRTIO0.base + 0x100, 4)
        out["gap"] = (await transfer(ctx, bus, memmap.BOOTROM.end, 8))[1]

    run_sim(soc, bench)
    assert out == {"rom": int.from_bytes(CONTENTS[:8], "little"), "bootram": 0x1234,
                   "leds": 6, "sd_size": 4000, "capacity": 4000, "gap": True}
    assert not hasattr(soc, "storage") and hasattr(soc, "sd")


def test_card_model_needs_the_host():
    with pytest.raises(ValueError, match="needs the SD host"):
        SoC(ram_size=1 << 16, cpu=False, card=dict(size=4096))
