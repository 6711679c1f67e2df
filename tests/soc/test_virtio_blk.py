"""virtio-mmio block device against a Python driver and a Python disk model."""

import random
import struct

import pytest
from hypothesis import given, settings, strategies as st
from amaranth import *
from amaranth.lib import wiring
from amaranth.sim import Simulator

from soc import memmap
from soc.interconnect import Decoder
from soc.ram import RAM
from soc.storage import DiskModel
from soc.virtio_blk import (VirtioBlock, REG, STATUS, BLK_T_IN, BLK_T_OUT, BLK_S_OK,
                            BLK_S_IOERR, BLK_S_UNSUPP)
from tests.soc.busutil import read, write

RAM_BASE = 0x8000_0000
RAM_SIZE = 1 << 17
DESC = RAM_BASE + 0x1000
AVAIL = RAM_BASE + 0x2000
USED = RAM_BASE + 0x3000
HDRS = RAM_BASE + 0x4000
STATUSES = RAM_BASE + 0x5000
DATA = RAM_BASE + 0x8000

F_NEXT, F_WRITE = 1, 2


class Bench(Elaboratable):
    def __init__(self, queue_max=16):
        self.dev = VirtioBlock(queue_max=queue_max)
        self.ram = RAM(size=RAM_SIZE)
        self.dec = Decoder([memmap.Region("ram", RAM_BASE, RAM_SIZE)])

    def elaborate(self, platform):
        m = Module()
        m.submodules.dev = self.dev
        m.submodules.ram = self.ram
        m.submodules.dec = self.dec
        wiring.connect(m, self.dev.dma, self.dec.bus)
        wiring.connect(m, self.dec.ram, self.ram.bus)
        return m


class Driver:
    """Just enough of a virtio driver, written from the spec, to exercise the device."""

    def __init__(self, bench, ctx, qsize=8):
        self.b = bench
        self.ctx = ctx
        self.qsize = qsize
        self.avail_idx = 0
        self.used_seen = 0

    async def reg_read(self, off):
        return await read(self.ctx, self.b.dev.bus, off, 4)

    async def reg_write(self, off, value):
        await write(self.ctx, self.b.dev.bus, off, value, 4)

    async def init(self, features=0):
        await self.reg_write(REG.STATUS, 0)
        await self.reg_write(REG.STATUS, STATUS.ACKNOWLEDGE)
        await self.reg_write(REG.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER)
        await self.reg_write(REG.DRIVER_FEATURES_SEL, 0)
        await self.reg_write(REG.DRIVER_FEATURES, features)
        st = STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK
        await self.reg_write(REG.STATUS, st)
        assert await self.reg_read(REG.STATUS) & STATUS.FEATURES_OK
        await self.reg_write(REG.QUEUE_SEL, 0)
        await self.reg_write(REG.QUEUE_NUM, self.qsize)
        for off, addr in ((REG.QUEUE_DESC_LOW, DESC), (REG.QUEUE_DRIVER_LOW, AVAIL),
                          (REG.QUEUE_DEVICE_LOW, USED)):
            await self.reg_write(off, addr & 0xFFFF_FFFF)
            await self.reg_write(off + 4, addr >> 32)
        await self.reg_write(REG.QUEUE_READY, 1)
        await self.reg_write(REG.STATUS, st | STATUS.DRIVER_OK)

    def put_desc(self, i, addr, length, flags, nxt=0):
        self.b.ram.load(self.ctx, DESC + 16 * i, struct.pack("<QIHH", addr, length, flags, nxt))

    def put_header(self, slot, typ, sector):
        addr = HDRS + 16 * slot
        self.b.ram.load(self.ctx, addr, struct.pack("<IIQ", typ, 0, sector))
        return addr

    def offer(self, head):
        slot = self.avail_idx % self.qsize
        self.b.ram.load(self.ctx, AVAIL + 4 + 2 * slot, struct.pack("<H", head))
        self.avail_idx = (self.avail_idx + 1) & 0xFFFF
        self.b.ram.load(self.ctx, AVAIL + 2, struct.pack("<H", self.avail_idx))

    async def kick(self):
        await self.reg_write(REG.QUEUE_NOTIFY, 0)

    async def wait_used(self, count=1, limit=20000):
        for _ in range(limit):
            idx = struct.unpack("<H", self.b.ram.dump(self.ctx, USED + 2, 2))[0]
            if (idx - self.used_seen) & 0xFFFF >= count:
                break
            await self.ctx.tick()
        else:
            raise TimeoutError("device did not complete the request")
        await self.ctx.tick().repeat(3)      # the interrupt follows the used.idx write
        out = []
        for k in range(count):
            slot = (self.used_seen + k) % self.qsize
            out.append(struct.unpack("<II", self.b.ram.dump(self.ctx, USED + 4 + 8 * slot, 8)))
        self.used_seen = (self.used_seen + count) & 0xFFFF
        return out

    def status_byte(self, slot):
        return self.b.ram.dump(self.ctx, STATUSES + slot, 1)[0]

    def chain(self, slot, typ, sector, buffers, first_desc=None, status_len=1):
        """Header, data ``buffers`` [(addr, len, device_writes)], status: returns head."""
        base = (slot * 4) % self.qsize if first_desc is None else first_desc
        hdr = self.put_header(slot, typ, sector)
        idx = [base + k for k in range(len(buffers) + 2)]
        self.put_desc(idx[0], hdr, 16, F_NEXT, idx[1])
        for k, (addr, length, dw) in enumerate(buffers):
            self.put_desc(idx[k + 1], addr, length, F_NEXT | (F_WRITE if dw else 0), idx[k + 2])
        self.b.ram.load(self.ctx, STATUSES + slot, b"\xff")
        self.put_desc(idx[-1], STATUSES + slot, status_len, F_WRITE)
        return idx[0]


async def restart_driver(bench, ctx):
    """After a device reset: zero both rings' headers and bring the device up again with
    a new Driver (its ring indexes start over at 0), which is returned."""
    bench.ram.load(ctx, USED, bytes(8))
    bench.ram.load(ctx, AVAIL, bytes(8))
    driver = Driver(bench, ctx)
    await driver.init()
    return driver


def make_disk(sectors=64, seed=1):
    rng = random.Random(seed)
    return DiskModel(bytearray(rng.randrange(256) for _ in range(512 * sectors)))


def run(bench, disk, body):
    sim = Simulator(bench)
    sim.add_clock(1e-7)
    sim.add_process(disk.process(bench.dev.storage))
    done = {}

    async def tb(ctx):
        await body(ctx)
        done["ok"] = True

    sim.add_testbench(tb)
    sim.run()       # the disk is a background process; every wait in body is bounded
    assert done.get("ok"), "testbench did not finish"


def test_identity_registers_and_reset_values():
    b = Bench()
    disk = make_disk(40)
    out = {}

    async def body(ctx):
        d = Driver(b, ctx)
        await ctx.tick().repeat(3)
        for name, off in (("magic", REG.MAGIC), ("version", REG.VERSION),
                          ("device", REG.DEVICE_ID), ("vendor", REG.VENDOR_ID), ("status", REG.STATUS),
                          ("qmax", REG.QUEUE_NUM_MAX), ("qready", REG.QUEUE_READY),
                          ("isr", REG.INTERRUPT_STATUS), ("cap_lo", REG.CONFIG),
                          ("cap_hi", REG.CONFIG + 4), ("feat0", REG.DEVICE_FEATURES)):
            out[name] = await d.reg_read(off)
        await d.reg_write(REG.DEVICE_FEATURES_SEL, 1)
        out["feat1"] = await d.reg_read(REG.DEVICE_FEATURES)
        await d.reg_write(REG.DEVICE_FEATURES_SEL, 2)
        out["feat2"] = await d.reg_read(REG.DEVICE_FEATURES)
        await d.reg_write(REG.QUEUE_SEL, 1)
        out["qmax1"] = await d.reg_read(REG.QUEUE_NUM_MAX)
        await d.reg_write(REG.QUEUE_SEL, 0)
        # Queue address registers read back; a 64-bit access sees both halves.
        await d.reg_write(REG.QUEUE_DESC_LOW, 0x1234_5670)
        await d.reg_write(REG.QUEUE_DESC_HIGH, 0x9)
        out["desc64"] = await read(ctx, b.dev.bus, REG.QUEUE_DESC_LOW, 8)
        # Features beyond the offer: FEATURES_OK does not stick.
        await d.reg_write(REG.DRIVER_FEATURES, 1 << 5)
        await d.reg_write(REG.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK)
        out["status_bad_feat"] = await d.reg_read(REG.STATUS)
        await d.reg_write(REG.DRIVER_FEATURES, 0)
        await d.reg_write(REG.DRIVER_FEATURES_SEL, 1)
        await d.reg_write(REG.DRIVER_FEATURES, 1)        # VERSION_1
        await d.reg_write(REG.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK)
        out["status_ok_feat"] = await d.reg_read(REG.STATUS)
        await d.reg_write(REG.STATUS, 0)
        out["after_reset"] = (await d.reg_read(REG.STATUS), await d.reg_read(REG.QUEUE_DESC_LOW),
                              await d.reg_read(REG.QUEUE_DESC_HIGH))

    run(b, disk, body)
    assert out["magic"] == 0x74726976 and out["version"] == 2 and out["device"] == 2
    assert out["vendor"] == 0x554D4551           # "QEMU", as QEMU virt's devices
    assert out["status"] == 0 and out["qmax"] == 16 and out["qready"] == 0 and out["isr"] == 0
    assert (out["cap_lo"], out["cap_hi"]) == (40, 0)
    assert (out["feat0"], out["feat1"], out["feat2"]) == (0, 1, 0)
    assert out["qmax1"] == 0
    assert out["desc64"] == 0x9_1234_5670
    assert out["status_bad_feat"] == STATUS.ACKNOWLEDGE | STATUS.DRIVER
    assert out["status_ok_feat"] == STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK
    assert out["after_reset"] == (0, 0, 0)


def test_a_read_right_after_a_write_sees_it():
    """Writes other than QueueNotify and InterruptACK are decoded a cycle after the
    request (soc/virtio_blk.py); a read in the next request (a cycle after the answer)
    must still see each of them."""
    b = Bench()
    disk = make_disk(40)
    out = {}

    async def body(ctx):
        d = Driver(b, ctx)
        for name, off, value in (("qsel", REG.QUEUE_SEL, 3), ("qsel0", REG.QUEUE_SEL, 0),
                                 ("qnum", REG.QUEUE_NUM, 8), ("qready", REG.QUEUE_READY, 1),
                                 ("desc", REG.QUEUE_DESC_LOW, 0x1110),
                                 ("avail_hi", REG.QUEUE_DRIVER_HIGH, 0x22),
                                 ("used", REG.QUEUE_DEVICE_LOW, 0x3330),
                                 ("status", REG.STATUS, STATUS.ACKNOWLEDGE)):
            await d.reg_write(off, value)
            out[name] = await d.reg_read(off)
        # one 64-bit store reaches two registers; both read back at once
        await write(ctx, b.dev.bus, REG.QUEUE_DEVICE_LOW, (0x4 << 32) | 0x5550, 8)
        out["used64"] = await read(ctx, b.dev.bus, REG.QUEUE_DEVICE_LOW, 8)
        await d.reg_write(REG.STATUS, 0)                  # reset: every register back to 0
        out["reset"] = [await d.reg_read(REG.STATUS)]
        out["reset"].append(await d.reg_read(REG.QUEUE_NUM))
        # InterruptACK, at once: a completed request raises bit 0, the ACK clears it
        await d.init()
        d.offer(d.chain(0, BLK_T_IN, 1, [(DATA, 512, True)]))
        await d.kick()
        await d.wait_used()
        out["isr"] = await d.reg_read(REG.INTERRUPT_STATUS)
        await d.reg_write(REG.INTERRUPT_ACK, 1)
        out["isr_acked"] = await d.reg_read(REG.INTERRUPT_STATUS)

    run(b, disk, body)
    assert out == {"qsel": 3, "qsel0": 0, "qnum": 8, "qready": 1, "desc": 0x1110,
                   "avail_hi": 0x22, "used": 0x3330, "status": STATUS.ACKNOWLEDGE,
                   "used64": (0x4 << 32) | 0x5550, "reset": [0, 0], "isr": 1, "isr_acked": 0}


def test_read_write_single_and_multi_descriptor():
    b = Bench()
    disk = make_disk(64, seed=7)
    original = bytes(disk.image)
    out = {}
    payload = bytes(random.Random(3).randrange(256) for _ in range(1024))

    async def body(ctx):
        d = Driver(b, ctx)
        await d.init()
        # 1) read sectors 4-5 (one 1024-byte buffer) like xv6.
        head = d.chain(0, BLK_T_IN, 4, [(DATA, 1024, True)])
        d.offer(head)
        await d.kick()
        out["used1"] = await d.wait_used()
        out["st1"] = d.status_byte(0)
        out["data1"] = b.ram.dump(ctx, DATA, 1024)
        out["irq1"] = ctx.get(b.dev.irq)
        out["isr1"] = await d.reg_read(REG.INTERRUPT_STATUS)
        await d.reg_write(REG.INTERRUPT_ACK, 1)
        out["irq_acked"] = ctx.get(b.dev.irq)
        # 2) write sectors 10-11 from three buffers (512 + 256 + 256 bytes).
        b.ram.load(ctx, DATA + 0x1000, payload[:512])
        b.ram.load(ctx, DATA + 0x2000, payload[512:768])
        b.ram.load(ctx, DATA + 0x3000, payload[768:])
        head = d.chain(1, BLK_T_OUT, 10, [(DATA + 0x1000, 512, False),
                                          (DATA + 0x2000, 256, False),
                                          (DATA + 0x3000, 256, False)], first_desc=3)
        d.offer(head)
        await d.kick()
        out["used2"] = await d.wait_used()
        out["st2"] = d.status_byte(1)
        # 3) read them back split differently (256 + 768).
        head = d.chain(2, BLK_T_IN, 10, [(DATA + 0x4000, 256, True),
                                         (DATA + 0x5000, 768, True)])
        d.offer(head)
        await d.kick()
        out["used3"] = await d.wait_used()
        out["back"] = b.ram.dump(ctx, DATA + 0x4000, 256) + b.ram.dump(ctx, DATA + 0x5000, 768)

    run(b, disk, body)
    assert out["used1"] == [(0, 1025)] and out["st1"] == BLK_S_OK
    assert out["data1"] == original[4 * 512:6 * 512]
    assert out["irq1"] == 1 and out["isr1"] == 1 and out["irq_acked"] == 0
    assert out["used2"] == [(3, 1)] and out["st2"] == BLK_S_OK
    assert bytes(disk.image[10 * 512:12 * 512]) == payload
    assert bytes(disk.image[:10 * 512]) == original[:10 * 512]
    assert bytes(disk.image[12 * 512:]) == original[12 * 512:]
    assert out["used3"] == [(0, 1025)] and out["back"] == payload
    assert disk.log == [("R", 4), ("R", 5), ("W", 10), ("W", 11), ("R", 10), ("R", 11)]


def test_several_requests_one_kick_and_ring_wrap():
    b = Bench()
    disk = make_disk(64, seed=9)
    original = bytes(disk.image)
    out = {"used": []}

    async def body8(ctx):
        d = Driver(b, ctx, qsize=8)
        await d.init()
        for rnd in range(5):                  # 10 requests through an 8-entry ring
            for k in range(2):
                n = 2 * rnd + k
                head = d.chain(k, BLK_T_IN, 20 + n, [(DATA + 0x1000 * n, 512, True)])
                d.offer(head)
            await d.kick()
            out["used"] += await d.wait_used(2)
        out["data"] = [b.ram.dump(ctx, DATA + 0x1000 * n, 512) for n in range(10)]
        out["avail"] = d.avail_idx

    run(b, disk, body8)
    assert out["used"] == [(0, 513), (4, 513)] * 5
    for n in range(10):
        assert out["data"][n] == original[(20 + n) * 512:(21 + n) * 512]


def test_error_statuses():
    b = Bench()
    disk = make_disk(16, seed=2)
    original = bytes(disk.image)
    out = {}

    async def body(ctx):
        d = Driver(b, ctx, qsize=16)
        await d.init()

        async def one(slot, typ, sector, buffers, **kw):
            head = d.chain(slot, typ, sector, buffers, **kw)
            d.offer(head)
            await d.kick()
            used = await d.wait_used()
            return used[0], d.status_byte(slot)

        out["unsupp"] = await one(0, 8, 0, [(DATA, 512, True)])                  # GET_ID
        out["beyond"] = await one(1, BLK_T_IN, 15, [(DATA, 1024, True)])         # 15..16 of 16
        out["far"] = await one(0, BLK_T_OUT, 2**64 - 1, [(DATA, 512, False)])    # no wrap
        out["odd_len"] = await one(1, BLK_T_IN, 0, [(DATA, 500, True)])
        out["wrong_dir"] = await one(0, BLK_T_IN, 0, [(DATA, 512, False)])
        out["misaligned"] = await one(1, BLK_T_OUT, 0, [(DATA + 4, 512, False)])
        out["unmapped"] = await one(0, BLK_T_IN, 0, [(0x4000_0000, 512, True)])  # bus error
        out["empty_ok"] = await one(1, BLK_T_OUT, 3, [])
        disk.fail_sectors.add(5)
        out["disk_err"] = await one(0, BLK_T_IN, 5, [(DATA, 512, True)])
        out["disk_werr"] = await one(1, BLK_T_OUT, 5, [(DATA, 512, False)])
        # Header too short.
        head = d.chain(0, BLK_T_IN, 0, [(DATA, 512, True)])
        d.put_desc(head, HDRS, 8, F_NEXT, head + 1)
        d.offer(head)
        await d.kick()
        out["short_hdr"] = ((await d.wait_used())[0], d.status_byte(0))
        # Missing status: the last descriptor is read-only.
        head = d.chain(1, BLK_T_IN, 0, [(DATA, 512, True)])
        d.put_desc(head + 2, STATUSES + 1, 1, 0)
        d.offer(head)
        await d.kick()
        out["no_status"] = ((await d.wait_used())[0], d.status_byte(1))
        # A lone header.
        d.put_header(2, BLK_T_IN, 0)
        d.put_desc(12, HDRS + 32, 16, 0)
        d.offer(12)
        await d.kick()
        out["lone"] = (await d.wait_used())[0]
        # A loop: 13 -> 14 -> 13 ...
        d.put_desc(13, HDRS + 32, 16, F_NEXT, 14)
        d.put_desc(14, DATA, 512, F_NEXT | F_WRITE, 13)
        d.offer(13)
        await d.kick()
        out["loop"] = (await d.wait_used())[0]
        # Next index beyond the queue.
        d.put_desc(13, HDRS + 32, 16, F_NEXT, 99)
        d.offer(13)
        await d.kick()
        out["bad_next"] = (await d.wait_used())[0]
        # The device still works afterwards.
        out["after"] = await one(0, BLK_T_IN, 1, [(DATA + 0x800, 512, True)])
        out["data"] = b.ram.dump(ctx, DATA + 0x800, 512)
        out["status_reg"] = await d.reg_read(REG.STATUS)

    run(b, disk, body)
    assert out["unsupp"] == ((0, 1), BLK_S_UNSUPP)
    assert out["beyond"] == ((4, 1), BLK_S_IOERR)
    assert out["far"] == ((0, 1), BLK_S_IOERR)
    assert out["odd_len"] == ((4, 1), BLK_S_IOERR)
    assert out["wrong_dir"] == ((0, 1), BLK_S_IOERR)
    assert out["misaligned"] == ((4, 1), BLK_S_IOERR)
    assert out["unmapped"] == ((0, 1), BLK_S_IOERR)
    assert out["empty_ok"] == ((4, 1), BLK_S_OK)
    assert out["disk_err"] == ((0, 1), BLK_S_IOERR)
    assert out["disk_werr"] == ((4, 1), BLK_S_IOERR)
    assert out["short_hdr"] == ((0, 1), BLK_S_IOERR)
    assert out["no_status"] == ((4, 0), 0xFF)
    assert out["lone"] == (12, 0)
    assert out["loop"] == (13, 0)
    assert out["bad_next"] == (13, 0)
    assert out["after"] == ((0, 513), BLK_S_OK)
    assert out["data"] == original[512:1024]
    assert out["status_reg"] & STATUS.NEEDS_RESET == 0
    assert bytes(disk.image) == original        # nothing was written by the failures


def test_broken_queue_needs_reset():
    b = Bench()
    disk = make_disk(16)
    out = {}

    async def body(ctx):
        d = Driver(b, ctx)
        await d.init()
        d.offer(77)                       # head index beyond the queue
        await d.kick()
        for _ in range(200):
            await ctx.tick()
            if ctx.get(b.dev.irq):
                break
        out["isr"] = await d.reg_read(REG.INTERRUPT_STATUS)
        out["status"] = await d.reg_read(REG.STATUS)
        # Further notifies do nothing until reset.
        d.offer(0)
        await d.kick()
        await ctx.tick().repeat(200)
        out["used_idx"] = struct.unpack("<H", b.ram.dump(ctx, USED + 2, 2))[0]
        # Reset and start over: works again.
        d2 = await restart_driver(b, ctx)
        out["status2"] = await d2.reg_read(REG.STATUS)
        head = d2.chain(0, BLK_T_IN, 2, [(DATA, 512, True)])
        d2.offer(head)
        await d2.kick()
        out["used"] = await d2.wait_used()

    run(b, disk, body)
    assert out["isr"] == 2
    assert out["status"] & STATUS.NEEDS_RESET
    assert out["used_idx"] == 0
    assert out["status2"] & STATUS.NEEDS_RESET == 0
    assert out["used"] == [(0, 513)]


def test_reset_during_transfer_abandons_request():
    b = Bench()
    disk = make_disk(64)
    original = bytes(disk.image)
    out = {}

    async def body(ctx):
        d = Driver(b, ctx)
        await d.init()
        head = d.chain(0, BLK_T_IN, 0, [(DATA, 8192, True)])
        d.offer(head)
        await d.kick()
        await ctx.tick().repeat(300)
        await d.reg_write(REG.STATUS, 0)
        await ctx.tick().repeat(3000)
        out["used_idx"] = struct.unpack("<H", b.ram.dump(ctx, USED + 2, 2))[0]
        out["isr"] = await d.reg_read(REG.INTERRUPT_STATUS)
        # Fresh start, fresh rings.
        d2 = await restart_driver(b, ctx)
        head = d2.chain(0, BLK_T_IN, 30, [(DATA + 0x4000, 512, True)])
        d2.offer(head)
        await d2.kick()
        out["used"] = await d2.wait_used()
        out["data"] = b.ram.dump(ctx, DATA + 0x4000, 512)

    run(b, disk, body)
    assert out["used_idx"] == 0 and out["isr"] == 0
    assert out["used"] == [(0, 513)]
    assert out["data"] == original[30 * 512:31 * 512]


@settings(max_examples=6, deadline=None)
@given(st.data())
def test_random_requests_against_disk_model(data):
    """Random reads and writes, with data split at random 8-byte boundaries, checked
    against a bytearray model of the disk and of the driver's buffers."""
    nsect = 24
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)
    requests = []
    for _ in range(data.draw(st.integers(1, 4))):
        count = rng.randint(1, 3)
        sector = rng.randrange(0, nsect - count + 1)
        total = 512 * count
        cuts = sorted(rng.sample(range(8, total, 8), rng.randint(0, 2)))
        pieces = [b - a for a, b in zip([0] + cuts, cuts + [total])]
        requests.append((rng.random() < 0.5, sector, pieces))
    b = Bench()
    disk = make_disk(nsect, seed=seed)
    model = bytearray(disk.image)
    mism = []

    async def body(ctx):
        d = Driver(b, ctx, qsize=8)
        await d.init()
        for n, (is_write, sector, pieces) in enumerate(requests):
            bufs = []
            addr = DATA
            for k, length in enumerate(pieces):
                bufs.append((addr, length, not is_write))
                if is_write:
                    blob = bytes(rng.randrange(256) for _ in range(length))
                    b.ram.load(ctx, addr, blob)
                else:
                    b.ram.load(ctx, addr, b"\xcc" * length)
                addr += length + 8 * rng.randint(1, 16)
            head = d.chain(0, BLK_T_OUT if is_write else BLK_T_IN, sector, bufs, first_desc=0)
            d.offer(head)
            await d.kick()
            (used_id, used_len), = await d.wait_used()
            got = b"".join(b.ram.dump(ctx, a, l) for a, l, _ in bufs)
            start = sector * 512
            if is_write:
                model[start:start + len(got)] = got
                want_len = 1
            else:
                if got != bytes(model[start:start + len(got)]):
                    mism.append(("read data", n))
                want_len = len(got) + 1
            if (used_id, used_len, d.status_byte(0)) != (0, want_len, BLK_S_OK):
                mism.append(("used", n, used_id, used_len, d.status_byte(0)))

    run(b, disk, body)
    assert mism == []
    assert bytes(disk.image) == bytes(model)


def test_capacity_change_bumps_generation_and_interrupts():
    b = Bench()
    disk = make_disk(16)
    out = {}

    async def body(ctx):
        d = Driver(b, ctx)
        await ctx.tick().repeat(2)
        out["gen0"] = await d.reg_read(REG.CONFIG_GENERATION)
        await d.init()
        ctx.set(b.dev.storage.capacity, 1 << 33)        # a new medium, 4 TiB
        await ctx.tick().repeat(3)
        out["gen1"] = await d.reg_read(REG.CONFIG_GENERATION)
        out["cap"] = (await d.reg_read(REG.CONFIG), await d.reg_read(REG.CONFIG + 4))
        out["isr"] = await d.reg_read(REG.INTERRUPT_STATUS)
        await d.reg_write(REG.INTERRUPT_ACK, 2)
        out["isr2"] = await d.reg_read(REG.INTERRUPT_STATUS)

    run(b, disk, body)
    assert out["gen1"] == out["gen0"] + 1
    assert out["cap"] == (0, 2)
    assert out["isr"] == 2 and out["isr2"] == 0
