"""The bus rule of hw/bus.py: no slave answers in the first cycle it sees a request.

The SoC's interconnect relies on it (the arbiter hands ``ready`` to the master in its
owner register, the decoder picks ``rdata`` by the region it decoded the cycle before),
so a device that answered at once would hand its answer to the wrong master or with the
wrong data.  Here a BusChecker (tests/soc/busutil.py) sits on the port of every device
of the real SoC, the QEMU-virt ones and the board's, and on the decoder's input (whose
own answer is the fault of an unmapped address), while a testbench in the core's place
reads, writes and bursts back to back.  Each checker must count exactly the transfers
sent to it and report nothing.
"""

import pytest
from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from hw.bus import BusSignature
from soc import memmap
from soc.sdram.config import SDRAMConfig
from soc.soc import SoC
from tests.soc.busutil import BusChecker, burst, transfer
from tests.soc.conftest import run_sim
from tests.soc.test_sdram import CHIP, SMALL

RAM = memmap.RAM_BASE

#: (address, bytes, write) of the accesses each device gets, in this order, back to
#: back: a read and a write of a register whose write changes nothing that matters.
DEVICE_ACCESSES = {
    "clint":   [(memmap.CLINT.base + 0xBFF8, 8, False), (memmap.CLINT.base + 0x4000, 8, True)],
    "plic":    [(memmap.PLIC.base + 4 * 10, 4, False), (memmap.PLIC.base + 4 * 10, 4, True)],
    "uart0":   [(memmap.UART0.base + 5, 1, False), (memmap.UART0.base + 7, 1, True)],
    "virtio0": [(memmap.VIRTIO0.base, 4, False), (memmap.VIRTIO0.base + 0x30, 4, True)],
    "ram":     [(RAM + 8, 8, False), (RAM + 16, 4, True)],
}
BOARD_ACCESSES = {
    "bootrom": [(memmap.BOOTROM.base, 8, False), (memmap.BOOTROM.base + 8, 8, True)],
    "bootram": [(memmap.BOOTRAM.base, 8, False), (memmap.BOOTRAM.base + 8, 8, True)],
    "sdcard":  [(memmap.SDCARD.base + 8, 8, False), (memmap.SDCARD.base + 8, 8, True)],
    "leds":    [(memmap.LEDS.base, 1, False), (memmap.LEDS.base, 1, True)],
}
#: the RAM's bursts (beats, write) after its singles
RAM_BURSTS = [(4, False), (4, True), (16, False)]
#: unmapped addresses: the decoder answers them itself, with error
HOLES = [0x0, 0x1000_2000]


def exercise(soc, accesses):
    """Run every access on ``soc`` (cpu=False) with a checker on each port; return the
    checkers, the errors each access got and the cycles each waited for its ready."""
    checkers = {name: BusChecker(dev.bus, name=name) for name, dev in soc.slaves.items()}
    checkers["decoder"] = BusChecker(soc.decoder.bus, name="decoder")
    if soc.ram_slice is not None:
        # the SDRAM controller behind its register slice (wdata two cycles late)
        checkers["sdram"] = BusChecker(soc.ram.bus, name="sdram", wdata_lag=2)
    errors = {}
    waits = {}

    async def bench(ctx):
        bus = soc.cpu_bus
        for name, items in accesses.items():
            for addr, size, write in items:
                _, error, waited = await transfer(ctx, bus, addr, size, write=write, value=0)
                errors.setdefault(name, []).append(error)
                waits.setdefault(name, []).append(waited)
        for beats, write in RAM_BURSTS:
            _, error, _ = await burst(ctx, bus, RAM + 0x100, beats, write=write,
                                      data=[0x0101_0101_0101_0101 * b for b in range(beats)])
            errors.setdefault("ram bursts", []).append(error)
        for addr in HOLES:
            errors.setdefault("holes", []).append((await transfer(ctx, bus, addr, 8))[1])
        await ctx.tick().repeat(4)

    run_sim(soc, bench, processes=[c.process for c in checkers.values()])
    return checkers, errors, waits


def expected_transfers(accesses, sdram=False):
    counts = {name: len(items) for name, items in accesses.items()}
    counts["ram"] += len(RAM_BURSTS)
    counts["decoder"] = sum(counts.values()) + len(HOLES)
    if sdram:
        counts["sdram"] = counts["ram"]
    return counts


@pytest.mark.parametrize("ram_latency", [1, 8])
def test_no_device_answers_in_the_first_cycle(ram_latency):
    soc = SoC(ram_size=1 << 16, cpu=False, ram_latency=ram_latency)
    checkers, errors, _ = exercise(soc, DEVICE_ACCESSES)
    assert {n: c.violations for n, c in checkers.items()} == {n: [] for n in checkers}
    assert {n: c.transfers for n, c in checkers.items()} == expected_transfers(DEVICE_ACCESSES)
    assert errors == {**{n: [False, False] for n in DEVICE_ACCESSES},
                      "ram bursts": [False] * 3, "holes": [True, True]}


@pytest.mark.parametrize("registered_answers", [False, True])
def test_no_board_device_answers_in_the_first_cycle(registered_answers):
    """The board's devices, and its SDRAM controller (with the chip model) as the RAM,
    behind its register slice; with ``registered_answers`` (the board's) every device
    answers through the decoder's registers, a cycle later."""
    soc = SoC(cpu=False, memory=SDRAMConfig(CHIP, SMALL), reset_pc=memmap.BOOTROM.base,
              boot_rom=bytes(range(64)), sdcard=dict(clk_freq=1_000_000), leds=True,
              registered_answers=registered_answers)
    accesses = {**DEVICE_ACCESSES, **BOARD_ACCESSES}
    checkers, errors, waits = exercise(soc, accesses)
    assert {n: c.violations for n, c in checkers.items()} == {n: [] for n in checkers}
    assert {n: c.transfers for n, c in checkers.items()} == expected_transfers(accesses,
                                                                              sdram=True)
    # cycles without ready: the staged request (2), the registered answer (3); the
    # boot ROM and its RAM are registered in both
    devices = [n for n in accesses if n != "ram"]
    assert {n: waits[n] for n in devices} == \
        {n: [3, 3] if registered_answers or n in ("bootrom", "bootram") else [2, 2]
         for n in devices}
    # the ROM refuses writes (with error, and still a cycle late)
    assert errors == {**{n: [False, False] for n in accesses}, "bootrom": [False, True],
                      "ram bursts": [False] * 3, "holes": [True, True]}


class Slave(wiring.Component):
    """A slave answering every request for one cycle: at once (``at_once``, which
    breaks the rule), or a cycle after it sees the request (which keeps it).
    ``answers`` counts its ready cycles."""
    bus: In(BusSignature(8))

    def __init__(self, at_once):
        self.at_once = at_once
        super().__init__()
        self.answers = Signal(4)

    def elaborate(self, platform):
        m = Module()
        answered = Signal()
        m.d.sync += answered.eq(self.bus.valid & ~answered)
        m.d.comb += self.bus.ready.eq(self.bus.valid if self.at_once else answered)
        m.d.sync += self.answers.eq(self.answers + self.bus.ready)
        return m


@pytest.mark.parametrize("caught", [True, False])
def test_the_checker_catches_an_answer_in_the_first_cycle(caught):
    dut = Slave(at_once=caught)
    checker = BusChecker(dut.bus, name="dev")

    async def bench(ctx):
        for addr in (0x10, 0x18):
            await transfer(ctx, dut.bus, addr, 8)
        await ctx.tick().repeat(2)
        counts.append(ctx.get(dut.answers))

    counts = []
    run_sim(dut, bench, processes=[checker.process])
    assert checker.transfers == 2 and counts == [2]
    if caught:
        assert [msg for _, msg in checker.violations] == [
            "dev: ready in the first cycle of the transfer to 0x10",
            "dev: ready in the first cycle of the transfer to 0x18"]
    else:
        assert checker.violations == []
