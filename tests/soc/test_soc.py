"""The SoC with a testbench in the core's place (cpu=False): devices through the fabric."""

import random
import struct

import pytest
from amaranth.sim import Simulator

from soc import memmap
from soc.soc import SoC
from soc.storage import DiskModel
from soc.virtio_blk import BLK_T_IN, BLK_T_OUT, BLK_S_OK
from tests.soc.busutil import read, write, transfer
from tests.soc.test_virtio_blk import Driver, DATA, USED

PLIC = memmap.PLIC.base
UART = memmap.UART0.base
CLINT = memmap.CLINT.base


class SocDriver(Driver):
    """The virtio test driver, talking through the SoC's core port."""

    def __init__(self, soc, ctx, qsize=8):
        class Shim:
            ram = soc.ram
        super().__init__(Shim, ctx, qsize)
        self.soc = soc

    async def reg_read(self, off):
        return await read(self.ctx, self.soc.cpu_bus, memmap.VIRTIO0.base + off, 4)

    async def reg_write(self, off, value):
        await write(self.ctx, self.soc.cpu_bus, memmap.VIRTIO0.base + off, value, 4)


def run(soc, body, disk=None):
    sim = Simulator(soc)
    sim.add_clock(1e-7)
    if disk is not None:
        sim.add_process(disk.process(soc.storage))
    done = {}

    async def tb(ctx):
        await body(ctx)
        done["ok"] = True

    sim.add_testbench(tb)
    sim.run()
    assert done.get("ok")


def test_memory_map_and_faults():
    soc = SoC(ram_size=1 << 16, cpu=False)
    out = {}

    async def bench(ctx):
        bus = soc.cpu_bus
        await write(ctx, bus, 0x8000_0000, 0x1122_3344_5566_7788, 8)
        out["ram"] = await read(ctx, bus, 0x8000_0000, 8)
        out["ram_top"] = (await transfer(ctx, bus, 0x8000_fff8, 8))[1]
        out["ram_end"] = (await transfer(ctx, bus, 0x8001_0000, 8))[1]
        out["magic"] = await read(ctx, bus, memmap.VIRTIO0.base, 4)
        out["lsr"] = await read(ctx, bus, UART + 5, 1)
        out["mtimecmp"] = await read(ctx, bus, CLINT + 0x4000, 8)
        out["plic_prio"] = await read(ctx, bus, PLIC + 4 * 10, 4)
        for addr in (0x0, 0x1000, 0x0300_0000, 0x1000_2000, 0x7FFF_FFF8, 0x1_0000_0000):
            out.setdefault("faults", []).append((await transfer(ctx, bus, addr, 8))[1])

    run(soc, bench)
    assert out["ram"] == 0x1122_3344_5566_7788
    assert out["ram_top"] is False and out["ram_end"] is True
    assert out["magic"] == 0x74726976 and out["lsr"] == 0x60
    assert out["mtimecmp"] == 2**64 - 1 and out["plic_prio"] == 0
    assert out["faults"] == [True] * 6


def test_timer_and_software_interrupt_lines():
    soc = SoC(ram_size=1 << 16, cpu=False, clk_freq=20_000_000, mtime_freq=10_000_000)
    out = {}

    async def bench(ctx):
        bus = soc.cpu_bus
        await ctx.tick().repeat(100)
        out["mtime"] = ctx.get(soc.mtime)
        now = await read(ctx, bus, CLINT + 0xBFF8, 8)
        await write(ctx, bus, CLINT + 0x4000, now + 30, 8)
        out["mti0"] = ctx.get(soc.mti)
        n = 0
        while not ctx.get(soc.mti):
            await ctx.tick()
            n += 1
        out["cycles"] = n
        await write(ctx, bus, CLINT, 1, 4)
        out["msi"] = ctx.get(soc.msi)

    run(soc, bench)
    assert out["mtime"] == 50
    assert out["mti0"] == 0
    assert 50 <= out["cycles"] <= 62
    assert out["msi"] == 1


def test_uart_interrupt_through_plic_to_s_context():
    soc = SoC(ram_size=1 << 16, cpu=False)
    out = {}

    async def bench(ctx):
        bus = soc.cpu_bus
        await write(ctx, bus, PLIC + 4 * memmap.UART0_IRQ, 1)
        await write(ctx, bus, PLIC + 0x2080, 1 << memmap.UART0_IRQ)       # S context enable
        await write(ctx, bus, PLIC + 0x201000, 0)                          # S threshold
        await write(ctx, bus, UART + 2, 0x07, 1)
        await write(ctx, bus, UART + 1, 0x01, 1)
        out["sei0"] = ctx.get(soc.sei)
        ctx.set(soc.uart_rx.payload, ord("k"))
        ctx.set(soc.uart_rx.valid, 1)
        await ctx.tick()
        ctx.set(soc.uart_rx.valid, 0)
        await ctx.tick().repeat(4)
        out["sei"], out["mei"] = ctx.get(soc.sei), ctx.get(soc.mei)
        out["claim"] = await read(ctx, bus, PLIC + 0x201004)
        out["char"] = await read(ctx, bus, UART, 1)
        await write(ctx, bus, PLIC + 0x201004, out["claim"])
        await ctx.tick().repeat(4)
        out["sei_after"] = ctx.get(soc.sei)
        # And transmit: a byte written to THR comes out of uart_tx.
        await write(ctx, bus, UART, ord("Z"), 1)
        ctx.set(soc.uart_tx.ready, 1)
        for _ in range(5):
            _, _, valid, payload = await ctx.tick().sample(soc.uart_tx.valid, soc.uart_tx.payload)
            if valid:
                out["tx"] = payload
                break

    run(soc, bench)
    assert out["sei0"] == 0
    assert (out["sei"], out["mei"]) == (1, 0)
    assert out["claim"] == memmap.UART0_IRQ
    assert out["char"] == ord("k")
    assert out["sei_after"] == 0
    assert out["tx"] == ord("Z")


def test_virtio_dma_competes_with_cpu_traffic():
    soc = SoC(ram_size=1 << 17, cpu=False)
    rng = random.Random(11)
    disk = DiskModel(bytearray(rng.randrange(256) for _ in range(512 * 32)))
    original = bytes(disk.image)
    out = {}

    async def bench(ctx):
        d = SocDriver(soc, ctx)
        await d.init()
        await write(ctx, soc.cpu_bus, PLIC + 4 * memmap.VIRTIO0_IRQ, 1)
        await write(ctx, soc.cpu_bus, PLIC + 0x2000, 1 << memmap.VIRTIO0_IRQ)   # M context
        head = d.chain(0, BLK_T_IN, 3, [(DATA, 1024, True)])
        d.offer(head)
        await d.kick()
        # Hammer RAM from the "core" while the device moves data.
        scratch = 0x8001_8000
        for k in range(300):
            await write(ctx, soc.cpu_bus, scratch + 8 * (k % 64), k, 8)
            if k % 64 == 63:
                out.setdefault("rb", []).append(await read(ctx, soc.cpu_bus, scratch, 8))
        out["used"] = await d.wait_used()
        out["data"] = soc.ram.dump(ctx, DATA, 1024)
        out["mei"] = ctx.get(soc.mei)
        out["claim"] = await read(ctx, soc.cpu_bus, PLIC + 0x200004)
        await d.reg_write(0x064, 1)
        await write(ctx, soc.cpu_bus, PLIC + 0x200004, out["claim"])
        await ctx.tick().repeat(4)
        out["mei_after"] = ctx.get(soc.mei)
        # Write back through the device.
        soc.ram.load(ctx, DATA + 0x1000, b"\xA5" * 512)
        head = d.chain(1, BLK_T_OUT, 7, [(DATA + 0x1000, 512, False)])
        d.offer(head)
        await d.kick()
        out["used2"] = await d.wait_used()

    run(soc, bench, disk)
    assert out["rb"] == [0, 64, 128, 192]
    assert out["used"] == [(0, 1025)]
    assert out["data"] == original[3 * 512:5 * 512]
    assert out["mei"] == 1 and out["claim"] == memmap.VIRTIO0_IRQ and out["mei_after"] == 0
    assert out["used2"] == [(4, 1)]
    assert bytes(disk.image[7 * 512:8 * 512]) == b"\xA5" * 512


def test_a_registered_answer_is_an_option_of_the_pipelined_core_only():
    assert SoC(core_answer_registered=True).core.answer_registered
    assert not SoC().core.answer_registered
    with pytest.raises(ValueError, match="an option of the pipelined core"):
        SoC(core="fsm", core_answer_registered=True)
