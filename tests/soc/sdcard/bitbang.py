"""A host for the SD card model, bit-banged from a testbench (async ``ctx`` API).

It drives the card's SPI pins directly, independently of soc/sdcard/host.py, so the
model is checked against the specification on its own.  SPI mode 0 with a half
period of ``half`` cycles; ``cipo`` is sampled in the last cycle of the high phase.
"""

from soc.sdcard.proto import (CMD, ACMD, HCS, CMD8_ARG, TOKEN, POWER_UP_CLOCKS,
                              command_frame, crc16)


class BitBangHost:
    def __init__(self, ctx, pins, half=1):
        self.ctx = ctx
        self.pins = pins
        self.half = half
        ctx.set(pins.copi, 1)

    async def byte(self, tx, cs=1):
        ctx, pins = self.ctx, self.pins
        ctx.set(pins.cs, cs)
        rx = 0
        for i in reversed(range(8)):
            ctx.set(pins.copi, (tx >> i) & 1)
            ctx.set(pins.clk, 0)
            await ctx.tick().repeat(self.half)
            ctx.set(pins.clk, 1)
            if self.half > 1:
                await ctx.tick().repeat(self.half - 1)
            rx = (rx << 1) | ctx.get(pins.cipo)
            await ctx.tick()
        ctx.set(pins.clk, 0)
        ctx.set(pins.copi, 1)
        return rx

    async def send(self, data, cs=1):
        return bytes([await self.byte(b, cs) for b in data])

    async def power_up(self, clocks=POWER_UP_CLOCKS):
        """``clocks`` (rounded up to whole bytes) with CS high."""
        await self.send(b"\xff" * -(-clocks // 8), cs=0)

    async def deselect(self):
        await self.byte(0xFF, cs=0)

    async def command(self, index, arg=0, *, frame=None, extra=0, wait=16):
        """Send a command (``frame`` overrides its 6 bytes); returns (r1, extra bytes,
        N_CR in bytes), r1 None if no response came within ``wait`` bytes."""
        await self.byte(0xFF)
        await self.send(frame if frame is not None else command_frame(index, arg))
        for n in range(1, wait + 1):
            r1 = await self.byte(0xFF)
            if not r1 & 0x80:
                return r1, await self.send(b"\xff" * extra), n
        return None, b"", None

    async def acommand(self, index, arg=0, **kw):
        r1, _, _ = await self.command(CMD.APP_CMD)
        assert r1 is not None and r1 & ~1 == 0, f"CMD55 answered {r1}"
        return await self.command(index, arg, **kw)

    async def init(self, hcs=True, crc=True):
        """The initialization of a card, as the specification draws it; returns the OCR."""
        await self.power_up()
        assert (await self.command(CMD.GO_IDLE_STATE))[0] == 0x01
        await self.command(CMD.SEND_IF_COND, CMD8_ARG, extra=4)
        if crc:
            assert (await self.command(CMD.CRC_ON_OFF, 1))[0] == 0x01
        for _ in range(100):
            r1, _, _ = await self.acommand(ACMD.SD_SEND_OP_COND, HCS if hcs else 0)
            if r1 == 0:
                break
        else:
            raise AssertionError("the card stayed idle")
        r1, ocr, _ = await self.command(CMD.READ_OCR, extra=4)
        assert r1 == 0
        await self.deselect()
        return int.from_bytes(ocr, "big")

    async def read_data(self, wait=64):
        """After a CMD17's R1: (token, data, crc bytes); token is the first byte that is
        not 0xFF (data empty unless it is the start token)."""
        for _ in range(wait):
            token = await self.byte(0xFF)
            if token != 0xFF:
                break
        else:
            return None, b"", b""
        if token != TOKEN.START_BLOCK:
            return token, b"", b""
        data = await self.send(b"\xff" * 512)
        return token, data, await self.send(b"\xff\xff")

    async def write_data(self, data, crc=None):
        """After a CMD24's R1: the data token; returns (data response, busy bytes)."""
        crc = crc16(data) if crc is None else crc
        await self.byte(0xFF)
        await self.send(bytes([TOKEN.START_BLOCK]) + data + crc.to_bytes(2, "big"))
        response = await self.byte(0xFF)
        busy = 0
        if response & 0x1F == 0x05:
            while await self.byte(0xFF) == 0x00:
                busy += 1
                assert busy < 10_000
        return response, busy
