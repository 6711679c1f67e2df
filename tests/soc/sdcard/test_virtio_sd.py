"""The virtio block device on an SD card: a driver (tests/soc/test_virtio_blk.py's)
sees the card's window as its disk, and gets IOERR, never a hang, when the card
fails: removed, a bad block, a sector beyond the card."""

import random

from amaranth import *
from amaranth.lib import wiring
from amaranth.sim import Simulator

from soc import memmap
from soc.interconnect import Decoder
from soc.ram import RAM
from soc.sdcard.host import SDCardHost, REG as SDREG
from soc.sdcard.model import SDCardModel
from soc.virtio_blk import VirtioBlock, REG, BLK_T_IN, BLK_T_OUT, BLK_S_OK, BLK_S_IOERR
from tests.soc.busutil import write
from tests.soc.sdcard.hostbench import CLK_FREQ, FAST_TIMEOUTS
from tests.soc.test_virtio_blk import Driver, RAM_BASE, RAM_SIZE, DATA

SECTORS = 24
IMAGE = bytes(random.Random(11).randrange(256) for _ in range(SECTORS * 512))
WINDOW = 4          # the disk starts at card block 4 ...
DISK_SECTORS = 24   # ... and has 24 sectors, the last 4 of them beyond the card's end


class VirtioOnSD(Elaboratable):
    def __init__(self, card):
        self.dev = VirtioBlock()
        self.ram = RAM(size=RAM_SIZE)
        self.dec = Decoder([memmap.Region("ram", RAM_BASE, RAM_SIZE)])
        self.host = SDCardHost(clk_freq=CLK_FREQ, **FAST_TIMEOUTS)
        self.card = card

    def elaborate(self, platform):
        m = Module()
        for name in ("dev", "ram", "dec", "host", "card"):
            m.submodules[name] = getattr(self, name)
        wiring.connect(m, self.dev.dma, self.dec.bus)
        wiring.connect(m, self.dec.ram, self.ram.bus)
        wiring.connect(m, self.dev.storage, self.host.storage)
        wiring.connect(m, self.host.sd, self.card.spi)
        return m


def test_driver_gets_ioerr_when_the_card_fails():
    card = SDCardModel(size=SECTORS * 512, bad_sectors=(WINDOW + 7,))
    b = VirtioOnSD(card)
    out = {}

    async def body(ctx):
        card.load(ctx, 0, IMAGE)
        await write(ctx, b.host.bus, SDREG.BASE, WINDOW, 8)
        await write(ctx, b.host.bus, SDREG.SIZE, DISK_SECTORS, 8)
        d = Driver(b, ctx)
        await d.init()
        out["capacity"] = await d.reg_read(REG.CONFIG)

        async def request(slot, typ, sector, nbytes, addr=DATA):
            head = d.chain(slot, typ, sector, [(addr, nbytes, typ == BLK_T_IN)])
            d.offer(head)
            await d.kick()
            ((used_id, used_len),) = await d.wait_used(limit=200_000)
            assert used_id == head
            return used_len, d.status_byte(slot)

        out["ok"] = await request(0, BLK_T_IN, 2, 1024)
        out["data"] = b.ram.dump(ctx, DATA, 1024)
        ctx.set(card.present, 0)
        out["removed"] = await request(1, BLK_T_IN, 2, 512)
        ctx.set(card.present, 1)
        out["back"] = await request(2, BLK_T_IN, 0, 512)
        out["bad_read"] = await request(3, BLK_T_IN, 6, 1024)    # its second sector is bad
        b.ram.load(ctx, DATA + 0x1000, bytes(512))
        out["bad_write"] = await request(0, BLK_T_OUT, 7, 512, DATA + 0x1000)
        out["beyond"] = await request(1, BLK_T_IN, 22, 512)     # card block 26 (of 24)
        out["good_write"] = await request(2, BLK_T_OUT, 1, 512, DATA + 0x1000)
        out["card"] = card.dump(ctx, 0, SECTORS * 512)

    sim = Simulator(b)
    sim.add_clock(1 / CLK_FREQ)
    sim.add_testbench(body)
    sim.run()

    assert out["capacity"] == DISK_SECTORS
    assert out["ok"] == (1025, BLK_S_OK)
    assert out["data"] == IMAGE[(WINDOW + 2) * 512:(WINDOW + 4) * 512]
    # An I/O error writes the status byte only (used length 1).
    assert out["removed"] == (1, BLK_S_IOERR)
    assert out["back"] == (513, BLK_S_OK)
    assert out["bad_read"] == (1, BLK_S_IOERR)
    assert out["bad_write"] == (1, BLK_S_IOERR)
    assert out["beyond"] == (1, BLK_S_IOERR)
    assert out["good_write"] == (1, BLK_S_OK)
    expected = bytearray(IMAGE)
    expected[(WINDOW + 1) * 512:(WINDOW + 2) * 512] = bytes(512)
    assert out["card"] == bytes(expected)
