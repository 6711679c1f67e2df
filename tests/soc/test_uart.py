from hypothesis import given, settings, strategies as st

from soc.uart import UART16550, REG
from tests.soc.busutil import read, write
from tests.soc.conftest import run_sim


async def rd(ctx, dut, reg):
    return await read(ctx, dut.bus, reg, 1)


async def wr(ctx, dut, reg, value):
    await write(ctx, dut.bus, reg, value, 1)


async def send_rx(ctx, dut, byte, limit=50):
    """Offer one byte on the rx stream; returns True once the UART took it."""
    ctx.set(dut.rx.valid, 1)
    ctx.set(dut.rx.payload, byte)
    for _ in range(limit):
        _, _, ready = await ctx.tick().sample(dut.rx.ready)
        if ready:
            ctx.set(dut.rx.valid, 0)
            return True
    ctx.set(dut.rx.valid, 0)
    return False


def test_reset_values():
    dut = UART16550()
    out = {}

    async def bench(ctx):
        for name, reg in (("ier", 1), ("iir", 2), ("lcr", 3), ("mcr", 4), ("lsr", 5),
                          ("msr", 6), ("scr", 7), ("rbr", 0)):
            out[name] = await rd(ctx, dut, reg)
        out["irq"] = ctx.get(dut.irq)
        out["high"] = await read(ctx, dut.bus, 0x10, 8)

    run_sim(dut, bench)
    assert out == {"ier": 0, "iir": 0x01, "lcr": 0, "mcr": 0, "lsr": 0x60, "msr": 0xB0,
                   "scr": 0, "rbr": 0, "irq": 0, "high": 0}


def test_dlab_scratch_and_xv6_init_sequence():
    dut = UART16550()
    out = {}

    async def bench(ctx):
        await wr(ctx, dut, REG.IER, 0x00)
        await wr(ctx, dut, REG.LCR, 0x80)
        await wr(ctx, dut, REG.DLL, 0x03)
        await wr(ctx, dut, REG.DLM, 0x00)
        out["dl"] = (await rd(ctx, dut, 0), await rd(ctx, dut, 1))
        await wr(ctx, dut, REG.DLM, 0x12)
        out["dlm"] = await rd(ctx, dut, 1)
        await wr(ctx, dut, REG.LCR, 0x03)
        out["ier_after_dlab"] = await rd(ctx, dut, REG.IER)
        await wr(ctx, dut, REG.FCR, 0x07)
        out["iir_fifo"] = await rd(ctx, dut, REG.IIR)
        await wr(ctx, dut, REG.IER, 0x03)
        out["iir_thre"] = await rd(ctx, dut, REG.IIR)     # THR empty is pending
        out["irq_after_read"] = ctx.get(dut.irq)           # the read cleared it
        out["iir_again"] = await rd(ctx, dut, REG.IIR)
        await wr(ctx, dut, REG.SCR, 0x5A)
        out["scr"] = await rd(ctx, dut, REG.SCR)
        await wr(ctx, dut, REG.LCR, 0x83)
        out["lcr"] = await rd(ctx, dut, REG.LCR)
        # A 64-bit read sees all registers on their lanes (DLAB=1 here).
        out["all"] = await read(ctx, dut.bus, 0, 8)

    run_sim(dut, bench)
    assert out["dl"] == (3, 0) and out["dlm"] == 0x12
    assert out["ier_after_dlab"] == 0
    assert out["iir_fifo"] == 0xC1
    assert out["iir_thre"] == 0xC2 and out["irq_after_read"] == 0
    assert out["iir_again"] == 0xC1
    assert out["scr"] == 0x5A and out["lcr"] == 0x83
    assert out["all"] == int.from_bytes(bytes([3, 0x12, 0xC1, 0x83, 0, 0x60, 0xB0, 0x5A]), "little")


def test_transmit_stream_and_thre_interrupt():
    dut = UART16550()
    sent = []
    out = {}

    async def bench(ctx):
        await wr(ctx, dut, REG.FCR, 0x01)
        await wr(ctx, dut, REG.IER, 0x02)
        out["iir0"] = await rd(ctx, dut, REG.IIR)
        for ch in b"hello":
            await wr(ctx, dut, REG.THR, ch)
        out["lsr_busy"] = await rd(ctx, dut, REG.LSR)
        out["irq_busy"] = ctx.get(dut.irq)
        # Now let the consumer drain.
        ctx.set(dut.tx.ready, 1)
        for _ in range(20):
            _, _, valid, payload = await ctx.tick().sample(dut.tx.valid, dut.tx.payload)
            if valid:
                sent.append(payload)
        ctx.set(dut.tx.ready, 0)
        out["lsr_idle"] = await rd(ctx, dut, REG.LSR)
        out["irq_idle"] = ctx.get(dut.irq)
        out["iir1"] = await rd(ctx, dut, REG.IIR)
        # Writing THR clears the pending THRE interrupt too.
        await wr(ctx, dut, REG.IER, 0x02)
        out["irq_re"] = ctx.get(dut.irq)
        await wr(ctx, dut, REG.THR, 0x41)
        out["irq_thr"] = ctx.get(dut.irq)

    run_sim(dut, bench)
    assert out["iir0"] == 0xC2
    assert out["lsr_busy"] == 0x00
    assert out["irq_busy"] == 0
    assert bytes(sent) == b"hello"
    assert out["lsr_idle"] == 0x60
    assert out["irq_idle"] == 1 and out["iir1"] == 0xC2
    assert out["irq_re"] == 1 and out["irq_thr"] == 0


def test_transmit_fifo_capacity():
    dut = UART16550()
    sent = []

    async def bench(ctx):
        await wr(ctx, dut, REG.FCR, 0x01)
        for ch in range(20):                # only 16 fit, the rest is dropped
            await wr(ctx, dut, REG.THR, ch)
        ctx.set(dut.tx.ready, 1)
        for _ in range(30):
            _, _, valid, payload = await ctx.tick().sample(dut.tx.valid, dut.tx.payload)
            if valid:
                sent.append(payload)
        # Without FIFOs only one byte is held.
        ctx.set(dut.tx.ready, 0)
        await wr(ctx, dut, REG.FCR, 0x00)
        for ch in (7, 8):
            await wr(ctx, dut, REG.THR, ch)
        ctx.set(dut.tx.ready, 1)
        for _ in range(5):
            _, _, valid, payload = await ctx.tick().sample(dut.tx.valid, dut.tx.payload)
            if valid:
                sent.append(payload)

    run_sim(dut, bench)
    assert sent == list(range(16)) + [7]


def test_receive_interrupts_and_trigger_levels():
    dut = UART16550(rx_timeout=40)
    out = {}

    async def bench(ctx):
        # Non-FIFO mode: one byte of room, data-ready interrupt at once.
        await wr(ctx, dut, REG.IER, 0x01)
        out["took1"] = await send_rx(ctx, dut, 0x31)
        out["took2"] = await send_rx(ctx, dut, 0x32, limit=10)   # no room
        out["lsr"] = await rd(ctx, dut, REG.LSR)
        out["iir"] = await rd(ctx, dut, REG.IIR)
        out["irq"] = ctx.get(dut.irq)
        out["rbr"] = await rd(ctx, dut, REG.RBR)
        out["lsr2"] = await rd(ctx, dut, REG.LSR)
        out["irq2"] = ctx.get(dut.irq)
        # FIFO mode, trigger 4.
        await wr(ctx, dut, REG.FCR, 0x47)
        for ch in b"abc":
            assert await send_rx(ctx, dut, ch)
        out["iir_below"] = await rd(ctx, dut, REG.IIR)
        assert await send_rx(ctx, dut, ord("d"))
        out["iir_trig"] = await rd(ctx, dut, REG.IIR)
        out["bytes"] = bytes([await rd(ctx, dut, REG.RBR) for _ in range(3)])
        # One byte left below the trigger: the character timeout fires later.
        out["iir_left"] = await rd(ctx, dut, REG.IIR)
        await ctx.tick().repeat(50)
        out["iir_timeout"] = await rd(ctx, dut, REG.IIR)
        out["last"] = await rd(ctx, dut, REG.RBR)
        out["iir_done"] = await rd(ctx, dut, REG.IIR)
        # Fill the FIFO: 16 bytes fit, then backpressure; FCR bit 1 clears it.
        took = [await send_rx(ctx, dut, k, limit=10) for k in range(18)]
        out["took"] = took
        await wr(ctx, dut, REG.FCR, 0x43)
        out["lsr_cleared"] = await rd(ctx, dut, REG.LSR)

    run_sim(dut, bench)
    assert out["took1"] and not out["took2"]
    assert out["lsr"] == 0x61
    assert out["iir"] == 0x04 and out["irq"] == 1
    assert out["rbr"] == 0x31 and out["lsr2"] == 0x60 and out["irq2"] == 0
    assert out["iir_below"] == 0xC1
    assert out["iir_trig"] == 0xC4
    assert out["bytes"] == b"abc"
    assert out["iir_left"] == 0xC1
    assert out["iir_timeout"] == 0xCC
    assert out["last"] == ord("d")
    assert out["iir_done"] == 0xC1
    assert out["took"] == [True] * 16 + [False] * 2
    assert out["lsr_cleared"] == 0x60


def test_rx_data_has_priority_over_thre():
    dut = UART16550()
    out = {}

    async def bench(ctx):
        await wr(ctx, dut, REG.FCR, 0x07)
        await wr(ctx, dut, REG.IER, 0x03)
        await send_rx(ctx, dut, 0x55)
        out["first"] = await rd(ctx, dut, REG.IIR)     # RX data, THRE still pending
        await rd(ctx, dut, REG.RBR)
        out["second"] = await rd(ctx, dut, REG.IIR)
        out["third"] = await rd(ctx, dut, REG.IIR)

    run_sim(dut, bench)
    assert (out["first"], out["second"], out["third"]) == (0xC4, 0xC2, 0xC1)


def test_loopback():
    dut = UART16550()
    out = {}

    async def bench(ctx):
        ctx.set(dut.tx.ready, 1)
        await wr(ctx, dut, REG.MCR, 0x10 | 0x0B)      # loop, DTR, RTS, OUT2
        out["msr"] = await rd(ctx, dut, REG.MSR)
        await wr(ctx, dut, REG.FCR, 0x01)
        for ch in b"xyz":
            await wr(ctx, dut, REG.THR, ch)
        out["tx_valid"] = ctx.get(dut.tx.valid)
        await ctx.tick().repeat(4)
        out["got"] = bytes([await rd(ctx, dut, REG.RBR) for _ in range(3)])
        out["lsr"] = await rd(ctx, dut, REG.LSR)

    run_sim(dut, bench)
    assert out["msr"] == 0xB0
    assert out["tx_valid"] == 0
    assert out["got"] == b"xyz"
    assert out["lsr"] == 0x60


class UartModel:
    """The 16550 behaviour of soc/uart.py's docstring, as plain Python."""

    def __init__(self, depth=16):
        self.depth = depth
        self.ier = 0
        self.fifo_en = 0
        self.trig = 0
        self.rx = []
        self.tx = []
        self.thre_ip = False

    @property
    def limit(self):
        return self.depth if self.fifo_en else 1

    def cause(self):
        level = (1, 4, 8, 14)[self.trig]
        rda = self.ier & 1 and (len(self.rx) >= level if self.fifo_en else bool(self.rx))
        if rda:
            return 0x4
        if self.ier & 2 and self.thre_ip:
            return 0x2
        return 0x1

    def iir_read(self):
        c = self.cause()
        if c == 0x2:
            self.thre_ip = False
        return c | (0xC0 if self.fifo_en else 0)

    def lsr(self):
        return (1 if self.rx else 0) | (0x60 if not self.tx else 0)

    def thr_write(self, v):
        if len(self.tx) < self.limit:
            self.tx.append(v)
        self.thre_ip = False

    def rbr_read(self):
        return self.rx.pop(0) if self.rx else 0

    def ier_write(self, v):
        self.ier = v & 0xF
        if v & 2 and not self.tx:
            self.thre_ip = True

    def fcr_write(self, v):
        changed = (v & 1) != self.fifo_en
        if v & 2 or changed:
            self.rx = []
        if v & 4 or changed:
            if self.tx:
                self.thre_ip = True
            self.tx = []
        self.fifo_en = v & 1
        self.trig = v >> 6

    def feed(self, b):
        if len(self.rx) < self.limit:
            self.rx.append(b)
            return True
        return False

    def drain(self, n):
        out = self.tx[:n]
        self.tx = self.tx[n:]
        if out and not self.tx:
            self.thre_ip = True
        return out


@settings(max_examples=12, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 255)), min_size=5, max_size=40))
def test_random_against_model(ops):
    dut = UART16550(rx_timeout=1 << 20)
    model = UartModel()
    mism = []

    async def bench(ctx):
        for n, (op, v) in enumerate(ops):
            if op == 0:
                await wr(ctx, dut, REG.THR, v)
                model.thr_write(v)
            elif op == 1:
                got, want = await rd(ctx, dut, REG.RBR), model.rbr_read()
                if got != want:
                    mism.append((n, "rbr", got, want))
            elif op == 2:
                got, want = await rd(ctx, dut, REG.IIR), model.iir_read()
                if got != want:
                    mism.append((n, "iir", hex(got), hex(want)))
            elif op == 3:
                await wr(ctx, dut, REG.IER, v & 0x3)
                model.ier_write(v & 0x3)
            elif op == 4:
                fcr = (v & 0xC7)
                await wr(ctx, dut, REG.FCR, fcr)
                model.fcr_write(fcr)
            elif op == 5:
                took = await send_rx(ctx, dut, v, limit=3)
                if took != model.feed(v):
                    mism.append((n, "rx accepted", took))
            else:
                k = v % 5
                got = []
                ctx.set(dut.tx.ready, 1)
                for _ in range(k):
                    _, _, valid, payload = await ctx.tick().sample(dut.tx.valid, dut.tx.payload)
                    if valid:
                        got.append(payload)
                ctx.set(dut.tx.ready, 0)
                want = model.drain(k)
                if got != want:
                    mism.append((n, "tx", got, want))
            await ctx.tick().repeat(2)
            got_lsr = await rd(ctx, dut, REG.LSR)
            if got_lsr != model.lsr():
                mism.append((n, "lsr", hex(got_lsr), hex(model.lsr())))
            if ctx.get(dut.irq) != (model.cause() != 1):
                mism.append((n, "irq", ctx.get(dut.irq)))

    run_sim(dut, bench)
    assert mism == []


def test_a_read_right_after_a_write_sees_it():
    """Most writes are decoded in the cycle after the request (soc/uart.py); the next
    request, a cycle after the answer, must still see their effect, and that of THR and
    MCR through the loopback."""
    dut = UART16550()
    out = {}

    async def bench(ctx):
        ctx.set(dut.tx.ready, 0)                      # bytes wait in the TX FIFO
        await wr(ctx, dut, REG.FCR, 0x01)
        out["fifo_on"] = await rd(ctx, dut, REG.IIR)
        await wr(ctx, dut, REG.IER, 0x02)             # TX empty: THR-empty pending
        out["ier_thre"] = await rd(ctx, dut, REG.IIR)
        await wr(ctx, dut, REG.THR, 0x41)
        out["lsr_tx_waiting"] = await rd(ctx, dut, REG.LSR)
        await wr(ctx, dut, REG.MCR, 0x10)             # loopback: the waiting byte to RX
        out["lsr_looped"] = await rd(ctx, dut, REG.LSR)
        await wr(ctx, dut, REG.THR, 0x42)             # in loopback: straight to RX
        out["rbr"] = [await rd(ctx, dut, REG.RBR)]
        out["rbr"].append(await rd(ctx, dut, REG.RBR))
        await wr(ctx, dut, REG.THR, 0x43)
        await wr(ctx, dut, REG.FCR, 0x03)             # clear RX
        out["lsr_rx_cleared"] = await rd(ctx, dut, REG.LSR)
        await wr(ctx, dut, REG.MCR, 0x00)
        await wr(ctx, dut, REG.THR, 0x44)
        await wr(ctx, dut, REG.THR, 0x45)
        out["iir_tx_full"] = await rd(ctx, dut, REG.IIR)
        await wr(ctx, dut, REG.FCR, 0x05)             # clear TX: THR empty at once
        out["iir_tx_cleared"] = await rd(ctx, dut, REG.IIR)
        # a 64-bit store writes every register (THR 0, IER 0, FCR 0: FIFOs off and
        # cleared, LCR with DLAB, SCR), read back at once
        await write(ctx, dut.bus, 0, (0x80 << 24) | (0x66 << 56), 8)
        out["dlab_scr"] = await read(ctx, dut.bus, 0, 8)

    run_sim(dut, bench)
    assert out == {"fifo_on": 0xC1, "ier_thre": 0xC2, "lsr_tx_waiting": 0x00,
                   "lsr_looped": 0x61, "rbr": [0x41, 0x42], "lsr_rx_cleared": 0x60,
                   "iir_tx_full": 0xC1, "iir_tx_cleared": 0xC2,
                   "dlab_scr": int.from_bytes(bytes([0, 0, 0x01, 0x80, 0, 0x60, 0xB0, 0x66]),
                                              "little")}
