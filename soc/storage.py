"""The block device's storage port and a Python disk that serves it in simulation.

One command moves one 512-byte sector as 64 little-endian 64-bit words (byte k of the
sector is bits 8*(k%8).. of word k//8)::

    requester (virtio-blk)               storage (disk file, SD-card controller)
    cmd     {write, sector}   ------->
    wdata   64 words (writes) ------->
                              <-------   rdata  64 words (reads)
                              <-------   resp   {error}
                              <-------   capacity (sectors; 0 = no medium)

A read is answered with exactly 64 ``rdata`` words and then one ``resp`` (the words
are meaningless if ``resp.error``).  A write sends 64 ``wdata`` words after the
command; the storage answers with one ``resp`` after the last word.  All four are
valid/ready streams (amaranth.lib.stream); there is one command in flight at a time.
"""

from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["SECTOR_BYTES", "SECTOR_WORDS", "StorageCommand", "StorageResponse",
           "StorageSignature", "DiskModel"]

SECTOR_BYTES = 512
SECTOR_WORDS = SECTOR_BYTES // 8

StorageCommand = data.StructLayout({"write": 1, "sector": 64})
StorageResponse = data.StructLayout({"error": 1})


class StorageSignature(wiring.Signature):
    """Seen from the requester (``Out`` = driven by the block device)."""

    def __init__(self):
        super().__init__({
            "cmd": Out(stream.Signature(StorageCommand)),
            "wdata": Out(stream.Signature(64)),
            "rdata": In(stream.Signature(64)),
            "resp": In(stream.Signature(StorageResponse)),
            "capacity": In(64),
        })


class DiskModel:
    """A disk image in a ``bytearray`` served to a storage port from a simulator process.

    ``image`` must be a whole number of sectors.  ``fail_sectors`` makes accesses to
    those sectors answer with an error (for tests).  ``log`` records ("R"|"W", sector).
    Use as ``sim.add_process(disk.process(port))``.
    """

    def __init__(self, image, fail_sectors=()):
        if len(image) % SECTOR_BYTES:
            raise ValueError(f"disk image size {len(image)} is not a multiple of "
                             f"{SECTOR_BYTES} bytes")
        self.image = image if isinstance(image, bytearray) else bytearray(image)
        self.fail_sectors = set(fail_sectors)
        self.log = []

    @property
    def sectors(self):
        return len(self.image) // SECTOR_BYTES

    def process(self, port):
        async def serve(ctx):
            ctx.set(port.capacity, self.sectors)
            while True:
                ctx.set(port.cmd.ready, 1)
                while True:
                    _, _, valid, cmd = await ctx.tick().sample(port.cmd.valid, port.cmd.payload)
                    if valid:
                        break
                ctx.set(port.cmd.ready, 0)
                sector, is_write = cmd.sector, cmd.write
                bad = sector in self.fail_sectors or sector >= self.sectors
                self.log.append(("W" if is_write else "R", sector))
                base = sector * SECTOR_BYTES
                if is_write:
                    words = []
                    ctx.set(port.wdata.ready, 1)
                    while len(words) < SECTOR_WORDS:
                        _, _, valid, word = await ctx.tick().sample(port.wdata.valid,
                                                                     port.wdata.payload)
                        if valid:
                            words.append(word)
                    ctx.set(port.wdata.ready, 0)
                    if not bad:
                        self.image[base:base + SECTOR_BYTES] = b"".join(
                            w.to_bytes(8, "little") for w in words)
                else:
                    for k in range(SECTOR_WORDS):
                        word = 0 if bad else int.from_bytes(
                            self.image[base + 8 * k:base + 8 * k + 8], "little")
                        ctx.set(port.rdata.payload, word)
                        ctx.set(port.rdata.valid, 1)
                        while True:
                            _, _, ready = await ctx.tick().sample(port.rdata.ready)
                            if ready:
                                break
                    ctx.set(port.rdata.valid, 0)
                ctx.set(port.resp.payload, StorageResponse.const({"error": int(bad)}))
                ctx.set(port.resp.valid, 1)
                while True:
                    _, _, ready = await ctx.tick().sample(port.resp.ready)
                    if ready:
                        break
                ctx.set(port.resp.valid, 0)
        return serve
