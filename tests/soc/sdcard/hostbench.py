"""The SD host (soc/sdcard/host.py) wired to the card model, and a testbench that plays
the block device on the storage port."""

from amaranth import *
from amaranth.lib import wiring
from amaranth.sim import Simulator

from soc.sdcard.host import SDCardHost, REG, STATUS
from soc.sdcard.model import SDCardModel
from soc.sdcard.proto import SDError
from soc.storage import SECTOR_WORDS, StorageCommand
from tests.soc.busutil import read, write

#: A system clock at which both SPI clocks run at half of it (400 kHz identification
#: clock, the fastest data clock): short simulations.  A byte takes 16-17 cycles (20 µs).
CLK_FREQ = 800_000
#: Short timeouts (seconds at CLK_FREQ) so that the slow-card tests end soon: power-up
#: 80 cycles, initialization 8000 cycles (about 25 CMD55 + ACMD41 rounds), a read's
#: data token and a write's busy within about 100 bytes.
FAST_TIMEOUTS = dict(power_up=1e-4, init_timeout=0.01, read_timeout=0.002, write_timeout=0.002)


class HostCard(Elaboratable):
    def __init__(self, host, card):
        self.host = host
        self.card = card

    def elaborate(self, platform):
        m = Module()
        m.submodules.host = self.host
        m.submodules.card = self.card
        wiring.connect(m, self.host.sd, self.card.spi)
        return m


class Requester:
    """The block device's side of the storage port (soc/storage.py's protocol)."""

    def __init__(self, ctx, host):
        self.ctx = ctx
        self.host = host
        self.port = host.storage

    async def set_window(self, base, size):
        await write(self.ctx, self.host.bus, REG.BASE, base, 8)
        await write(self.ctx, self.host.bus, REG.SIZE, size, 8)

    async def status(self):
        value = await read(self.ctx, self.host.bus, REG.STATUS, 8)
        return (value & 0xFF, SDError((value >> STATUS.ERROR_SHIFT) & 0xFF),
                (value >> STATUS.DETAIL_SHIFT) & 0xFF)

    async def _until(self, signal, limit, what):
        """Tick until ``signal`` is high at an edge (at most ``limit`` cycles)."""
        for _ in range(limit):
            _, _, high = await self.ctx.tick().sample(signal)
            if high:
                return
        raise TimeoutError(what)

    async def _command(self, write, sector, limit):
        ctx, port = self.ctx, self.port
        ctx.set(port.cmd.payload, StorageCommand.const({"write": write, "sector": sector}))
        ctx.set(port.cmd.valid, 1)
        await self._until(port.cmd.ready, limit, "the host never took the command")
        ctx.set(port.cmd.valid, 0)

    async def _response(self, limit):
        ctx, port = self.ctx, self.port
        ctx.set(port.resp.ready, 1)
        for _ in range(limit):
            _, _, valid, payload = await ctx.tick().sample(port.resp.valid, port.resp.payload)
            if valid:
                ctx.set(port.resp.ready, 0)
                return bool(payload.error)
        raise TimeoutError("no response from the host")

    async def read(self, sector, limit=200_000):
        """(data, error) of one sector."""
        ctx, port = self.ctx, self.port
        await self._command(0, sector, limit)
        words = []
        ctx.set(port.rdata.ready, 1)
        cycles = 0
        while len(words) < SECTOR_WORDS:
            _, _, valid, payload = await ctx.tick().sample(port.rdata.valid, port.rdata.payload)
            cycles += 1
            if cycles > limit:
                raise TimeoutError(f"{len(words)} of {SECTOR_WORDS} words came")
            if valid:
                words.append(payload)
        ctx.set(port.rdata.ready, 0)
        error = await self._response(limit)
        return b"".join(w.to_bytes(8, "little") for w in words), error

    async def write(self, sector, data, limit=200_000):
        ctx, port = self.ctx, self.port
        await self._command(1, sector, limit)
        for k in range(SECTOR_WORDS):
            ctx.set(port.wdata.payload, int.from_bytes(data[8 * k:8 * k + 8], "little"))
            ctx.set(port.wdata.valid, 1)
            await self._until(port.wdata.ready, limit, f"the host took {k} of {SECTOR_WORDS} words")
        ctx.set(port.wdata.valid, 0)
        return await self._response(limit)


def run(host, card, bench, image=b"", vcd=None):
    """Run ``bench(ctx, requester)`` on host + card (``image`` at the card's start);
    returns what it returns and the cycles simulated."""
    top = HostCard(host, card)
    sim = Simulator(top)
    sim.add_clock(1 / CLK_FREQ)
    out = {}

    async def tb(ctx):
        if image:
            card.load(ctx, 0, image)
        out["value"] = await bench(ctx, Requester(ctx, host))

    sim.add_testbench(tb)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
    return out["value"]
