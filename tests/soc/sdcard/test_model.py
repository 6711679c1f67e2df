"""The SD card model (soc/sdcard/model.py) against the SPI-mode facts of the SD
specification, driven by a bit-banged host (bitbang.py)."""

import random

import pytest
from amaranth.sim import Simulator

from soc.sdcard.model import SDCardModel
from soc.sdcard.proto import (CMD, ACMD, HCS, CMD8_ARG, R1, OCR, TOKEN, DATA_ERROR,
                              command_frame, crc16)
from tests.soc.sdcard.bitbang import BitBangHost

SIZE = 64 * 512
IMAGE = bytes(random.Random(1).randrange(256) for _ in range(SIZE))


def run(model, bench, image=IMAGE, half=1):
    sim = Simulator(model)
    sim.add_clock(1e-7)
    result = {}

    async def tb(ctx):
        model.load(ctx, 0, image)
        host = BitBangHost(ctx, model.spi, half=half)
        result["value"] = await bench(ctx, host)

    sim.add_testbench(tb)
    sim.run()
    return result["value"]


def sector(n, image=IMAGE):
    return image[512 * n:512 * n + 512]


def test_crc_examples_from_the_specification():
    assert command_frame(CMD.GO_IDLE_STATE, 0) == bytes.fromhex("400000000095")
    assert command_frame(CMD.SEND_IF_COND, 0x1AA)[-1] == 0x87
    assert command_frame(CMD.READ_SINGLE_BLOCK, 0)[-1] == 0x55
    assert crc16(b"\xff" * 512) == 0x7FA1


def test_silent_until_74_clocks_and_a_valid_cmd0():
    async def bench(ctx, host):
        await host.power_up(clocks=64)               # too few
        early = await host.command(CMD.GO_IDLE_STATE)
        await host.power_up(clocks=16)
        bad_crc = bytearray(command_frame(CMD.GO_IDLE_STATE, 0))
        bad_crc[5] ^= 0x02
        in_sd_mode = await host.command(0, frame=bytes(bad_crc))
        other = await host.command(CMD.READ_OCR, extra=4)  # SD mode: no SPI answer
        good = await host.command(CMD.GO_IDLE_STATE)
        return early[0], in_sd_mode[0], other[0], good[0]
    assert run(SDCardModel(size=SIZE), bench) == (None, None, None, 0x01)


@pytest.mark.parametrize("kind, ocr", [("sdhc", 0xC0FF8000), ("sdsc", 0x80FF8000),
                                       ("sdv1", 0x80FF8000)])
def test_initialization_of_each_kind(kind, ocr):
    async def bench(ctx, host):
        await host.power_up()
        out = [(await host.command(CMD.GO_IDLE_STATE))[0]]
        r1, r7, _ = await host.command(CMD.SEND_IF_COND, CMD8_ARG, extra=4)
        out += [r1, r7 if kind != "sdv1" else None]
        r1, before, _ = await host.command(CMD.READ_OCR, extra=4)
        out += [r1, int.from_bytes(before, "big")]
        out.append([(await host.acommand(ACMD.SD_SEND_OP_COND, HCS))[0] for _ in range(3)])
        r1, after, _ = await host.command(CMD.READ_OCR, extra=4)
        out += [r1, int.from_bytes(after, "big")]
        return out
    r7 = bytes([0, 0, 0x01, 0xAA])
    cmd8_r1 = 0x01 if kind != "sdv1" else R1.IN_IDLE_STATE | R1.ILLEGAL_COMMAND
    expected = [0x01, cmd8_r1, r7 if kind != "sdv1" else None, 0x01, 0x00FF8000,
                [0x01, 0x00, 0x00], 0x00, ocr]
    assert run(SDCardModel(size=SIZE, kind=kind, init_polls=2), bench) == expected


def test_cmd8_voltage_mismatch_and_crc_always_checked():
    async def bench(ctx, host):
        await host.power_up()
        await host.command(CMD.GO_IDLE_STATE)
        r1, wrong_voltage, _ = await host.command(CMD.SEND_IF_COND, 0x2AA, extra=4)
        frame = bytearray(command_frame(CMD.SEND_IF_COND, CMD8_ARG))
        frame[5] ^= 0x10
        bad = await host.command(0, frame=bytes(frame))
        return r1, wrong_voltage, bad[0]
    # VCA = 0 echoed for 1.8 V-only VHS; a bad CRC on CMD8 gives R1 = idle | CRC error.
    assert run(SDCardModel(size=SIZE), bench) == (0x01, bytes([0, 0, 0, 0xAA]), 0x09)


def test_sdhc_without_hcs_or_cmd8_never_leaves_idle():
    async def bench(ctx, host):
        await host.power_up()
        await host.command(CMD.GO_IDLE_STATE)
        await host.command(CMD.SEND_IF_COND, CMD8_ARG, extra=4)
        no_hcs = [(await host.acommand(ACMD.SD_SEND_OP_COND, 0))[0] for _ in range(4)]
        # HCS is looked at only in the first ACMD41: asking later does not help.
        late = (await host.acommand(ACMD.SD_SEND_OP_COND, HCS))[0]
        await host.command(CMD.GO_IDLE_STATE)
        no_cmd8 = [(await host.acommand(ACMD.SD_SEND_OP_COND, HCS))[0] for _ in range(4)]
        return no_hcs, late, no_cmd8
    assert run(SDCardModel(size=SIZE, init_polls=1), bench) == ([1] * 4, 1, [1] * 4)


def test_illegal_commands_in_idle_and_after():
    async def bench(ctx, host):
        await host.power_up()
        await host.command(CMD.GO_IDLE_STATE)
        in_idle = [(await host.command(c, 0))[0] for c in
                   (CMD.READ_SINGLE_BLOCK, CMD.WRITE_BLOCK, CMD.SET_BLOCKLEN, 2, 9)]
        other_acmd = (await host.acommand(13))[0]
        await host.init()
        after = [(await host.command(c, 0))[0] for c in (2, 9, 13, 63)]
        return in_idle, other_acmd, after
    assert run(SDCardModel(size=SIZE), bench) == ([0x05] * 5, 0x05, [0x04] * 4)


def test_crc_on_rejects_bad_commands_and_blocks():
    async def bench(ctx, host):
        await host.init(crc=True)
        frame = bytearray(command_frame(CMD.READ_SINGLE_BLOCK, 3))
        frame[5] ^= 0x04
        bad_cmd = (await host.command(0, frame=bytes(frame)))[0]
        await host.deselect()
        r1 = (await host.command(CMD.WRITE_BLOCK, 5))[0]
        response, busy = await host.write_data(b"\x11" * 512, crc=crc16(b"\x11" * 512) ^ 1)
        await host.deselect()
        return bad_cmd, r1, response, busy, model.dump(ctx, 5 * 512, 512)
    model = SDCardModel(size=SIZE)
    bad_cmd, r1, response, busy, after = run(model, bench)
    assert (bad_cmd, r1, response, busy) == (R1.COM_CRC_ERROR, 0, 0xEB, 0)
    assert after == sector(5)


def test_crc_off_accepts_any_crc():
    async def bench(ctx, host):
        await host.init(crc=False)
        frame = bytearray(command_frame(CMD.READ_OCR, 0))
        frame[5] = 0x01
        r1 = (await host.command(0, frame=bytes(frame), extra=4))[0]
        await host.command(CMD.WRITE_BLOCK, 2)
        response, _ = await host.write_data(b"\x22" * 512, crc=0)
        await host.deselect()
        return r1, response, model.dump(ctx, 2 * 512, 512)
    model = SDCardModel(size=SIZE)
    assert run(model, bench) == (0, 0xE5, b"\x22" * 512)


@pytest.mark.parametrize("kind, sectors", [("sdhc", (0, 63)), ("sdsc", (7,))])
def test_read_blocks_with_their_crc(kind, sectors):
    unit = 1 if kind == "sdhc" else 512

    async def bench(ctx, host):
        await host.init()
        out = []
        for n in sectors:
            r1, _, _ = await host.command(CMD.READ_SINGLE_BLOCK, n * unit)
            out.append((r1, *await host.read_data()))
            await host.deselect()
        return out
    for n, (r1, token, data, crc) in zip(sectors, run(SDCardModel(size=SIZE, kind=kind), bench)):
        assert (r1, token, data) == (0, TOKEN.START_BLOCK, sector(n))
        assert int.from_bytes(crc, "big") == crc16(data)


def test_address_errors():
    async def bench(ctx, host):
        await host.init()
        out = [(await host.command(CMD.READ_SINGLE_BLOCK, 64 * 512))[0],    # beyond the card
               (await host.command(CMD.READ_SINGLE_BLOCK, 100))[0],         # not a block start
               (await host.command(CMD.WRITE_BLOCK, 512 * 1000))[0],
               (await host.command(CMD.SET_BLOCKLEN, 1024))[0],
               (await host.command(CMD.SET_BLOCKLEN, 512))[0]]
        return out
    assert run(SDCardModel(size=SIZE, kind="sdsc"), bench) == [
        R1.PARAMETER_ERROR, R1.ADDRESS_ERROR, R1.PARAMETER_ERROR, R1.PARAMETER_ERROR, 0]


def test_write_then_read_back_with_busy():
    block = bytes(range(256)) * 2

    async def bench(ctx, host):
        await host.init()
        r1 = (await host.command(CMD.WRITE_BLOCK, 9))[0]
        response, busy = await host.write_data(block)
        await host.deselect()
        await host.command(CMD.READ_SINGLE_BLOCK, 9)
        token, data, _ = await host.read_data()
        await host.deselect()
        counts = ctx.get(model.blocks_read), ctx.get(model.blocks_written)
        return r1, response, busy, token, data, model.dump(ctx, 8 * 512, 3 * 512), counts
    model = SDCardModel(size=SIZE, busy=5)
    r1, response, busy, token, data, around, counts = run(model, bench)
    assert (r1, response, token, data) == (0, 0xE5, TOKEN.START_BLOCK, block)
    assert busy >= 5
    assert around == sector(8) + block + sector(10)
    assert counts == (1, 1)


def test_bad_sectors_fail_reads_and_writes():
    async def bench(ctx, host):
        await host.init()
        await host.command(CMD.READ_SINGLE_BLOCK, 4)
        token, data, _ = await host.read_data()
        await host.deselect()
        await host.command(CMD.WRITE_BLOCK, 4)
        response, busy = await host.write_data(b"\0" * 512)
        await host.deselect()
        return token, data, response, busy, model.dump(ctx, 4 * 512, 512)
    model = SDCardModel(size=SIZE, bad_sectors=(4,))
    assert run(model, bench) == (DATA_ERROR.CARD_ECC_FAILED, b"", 0xED, 0, sector(4))


def test_corrupt_read_crc():
    async def bench(ctx, host):
        await host.init()
        await host.command(CMD.READ_SINGLE_BLOCK, 1)
        return await host.read_data()
    token, data, crc = run(SDCardModel(size=SIZE, corrupt_read_crc=True), bench)
    assert data == sector(1) and int.from_bytes(crc, "big") == crc16(data) ^ 1


@pytest.mark.parametrize("ncr, nac", [(1, 1), (8, 40)])
def test_response_delays(ncr, nac):
    async def bench(ctx, host):
        await host.init()
        r1, _, n = await host.command(CMD.READ_SINGLE_BLOCK, 0)
        waited = 0
        while await host.byte(0xFF) == 0xFF:
            waited += 1
        return r1, n, waited
    assert run(SDCardModel(size=SIZE, ncr=ncr, nac=nac), bench) == (0, ncr, nac)


def test_slow_clock_works_too():
    async def bench(ctx, host):
        return await host.init()
    assert run(SDCardModel(size=SIZE), bench, half=3) == 0xC0FF8000


def test_no_card_and_removal():
    async def bench(ctx, host):
        ctx.set(model.present, 0)
        await host.power_up()
        absent = await host.send(b"\xff" * 4) + bytes([(await host.command(CMD.GO_IDLE_STATE))[0] or 0xFF])
        ctx.set(model.present, 1)
        await host.init()
        ctx.set(model.present, 0)
        gone = (await host.command(CMD.READ_OCR, extra=4))[0]
        ctx.set(model.present, 1)
        # Powered again: it wants its 74 clocks and a CMD0 before anything else.
        silent = (await host.command(CMD.GO_IDLE_STATE))[0]
        ocr = await host.init()
        return absent, gone, silent, ocr
    model = SDCardModel(size=SIZE)
    assert run(model, bench) == (b"\xff" * 5, None, None, 0xC0FF8000)


def test_deselect_abandons_a_read():
    async def bench(ctx, host):
        await host.init()
        await host.command(CMD.READ_SINGLE_BLOCK, 3)
        await host.send(b"\xff" * 20)                    # part of the block
        await host.deselect()
        r1, ocr, _ = await host.command(CMD.READ_OCR, extra=4)
        return r1, int.from_bytes(ocr, "big")
    assert run(SDCardModel(size=SIZE), bench) == (0, 0xC0FF8000)
