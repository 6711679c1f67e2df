"""NS16550A-compatible UART with byte-stream ports instead of serial pins.

``rx`` (a stream sink) takes bytes from the outside world (terminal, deserializer),
``tx`` (a stream source) gives them out.  Both have backpressure, so no byte is ever
lost and the line-status error bits (overrun, parity, framing, break) stay 0; the
divisor latch and LCR are stored for software but do not change the streams (a
baud-rate serializer belongs to the FPGA wrapper).

Byte registers (offset): 0 RBR/THR (DLL when LCR.DLAB), 1 IER (DLM when DLAB),
2 IIR (read) / FCR (write), 3 LCR, 4 MCR, 5 LSR, 6 MSR, 7 SCR.  Offsets 8..255 read
as 0 and ignore writes.

* FIFOs of ``fifo_depth`` bytes; with FCR.0 = 0 (reset) each side holds one byte, as
  a 16450.  Writing FCR with bit 1 / bit 2 clears RX / TX; changing bit 0 clears both.
  FCR bits 7:6 select the RX trigger level (1, 4, 8, 14 bytes).
* IIR, highest priority first: RX data available (0x4: RX level >= trigger, or any
  byte without FIFOs), character timeout (0xC: bytes below the trigger level and no
  RX activity for ``rx_timeout`` cycles), THR empty (0x2), none (0x1).  Bits 7:6
  read 11 while FIFOs are enabled (so 0xC1 when idle).
* The THR-empty interrupt is set when the transmit side becomes empty or IER is
  written with bit 1 while it is empty; reading IIR while it is the reported cause,
  or writing THR, clears it.
* LSR: bit 0 data ready, bit 5 THR empty, bit 6 transmitter empty (both = TX side
  empty; the byte a stream consumer accepted counts as sent).
* MCR bit 4 is loopback: TX bytes go to RX instead of ``tx``; MSR then reflects MCR
  (CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2); otherwise MSR reads 0xB0 (CTS, DSR,
  DCD asserted, no deltas).
"""

from amaranth import *
from amaranth.lib import wiring, stream, fifo
from amaranth.lib.wiring import In, Out

from hw.bus import BusSignature
from . import memmap
from .regs import BusResponder

__all__ = ["UART16550", "REG"]


class REG:
    RBR = THR = DLL = 0
    IER = DLM = 1
    IIR = FCR = 2
    LCR = 3
    MCR = 4
    LSR = 5
    MSR = 6
    SCR = 7


IIR_NONE = 0x1
IIR_THRE = 0x2
IIR_RDA = 0x4
IIR_TIMEOUT = 0xC


class UART16550(wiring.Component):
    def __init__(self, fifo_depth=16, rx_timeout=1024):
        if fifo_depth < 14:
            raise ValueError("the 16550 trigger levels need a FIFO of at least 14 bytes")
        self.fifo_depth = fifo_depth
        self.rx_timeout = rx_timeout
        super().__init__({
            "bus": In(BusSignature(memmap.UART0.addr_width)),
            "rx": In(stream.Signature(8)),
            "tx": Out(stream.Signature(8)),
            "irq": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        resp = BusResponder(m, bus)

        ier = Signal(4)
        lcr = Signal(8)
        mcr = Signal(5)
        scr = Signal(8)
        dll = Signal(8)
        dlm = Signal(8)
        fifo_en = Signal()
        trig_sel = Signal(2)
        thre_ip = Signal()
        timeout_ip = Signal()

        clear_rx = Signal()
        clear_tx = Signal()
        rxq = ResetInserter(clear_rx)(fifo.SyncFIFO(width=8, depth=self.fifo_depth))
        txq = ResetInserter(clear_tx)(fifo.SyncFIFO(width=8, depth=self.fifo_depth))
        m.submodules.rxq = rxq
        m.submodules.txq = txq

        limit = Mux(fifo_en, self.fifo_depth, 1)
        loopback = mcr[4]
        dlab = lcr[7]

        # --- the outside world ---
        rx_room = rxq.level < limit
        m.d.comb += [
            self.tx.valid.eq(txq.r_rdy & ~loopback),
            self.tx.payload.eq(txq.r_data),
            self.rx.ready.eq(rx_room & ~loopback),
        ]
        tx_pop = Signal()
        rx_push = Signal()
        rx_byte = Signal(8)
        with m.If(loopback):
            m.d.comb += [
                tx_pop.eq(txq.r_rdy & rx_room),
                rx_push.eq(txq.r_rdy & rx_room),
                rx_byte.eq(txq.r_data),
            ]
        with m.Else():
            m.d.comb += [
                tx_pop.eq(self.tx.valid & self.tx.ready),
                rx_push.eq(self.rx.valid & self.rx.ready),
                rx_byte.eq(self.rx.payload),
            ]
        m.d.comb += [
            rxq.w_data.eq(rx_byte),
            rxq.w_en.eq(rx_push),
            txq.r_en.eq(tx_pop),
        ]

        # --- status ---
        trigger = Signal(4)
        with m.Switch(trig_sel):
            for code, level in enumerate((1, 4, 8, 14)):
                with m.Case(code):
                    m.d.comb += trigger.eq(level)
        data_ready = rxq.r_rdy
        tx_empty = ~txq.r_rdy
        lsr = Cat(data_ready, C(0, 4), tx_empty, tx_empty, C(0, 1))
        msr = Mux(loopback, Cat(C(0, 4), mcr[1], mcr[0], mcr[2], mcr[3]), C(0xB0, 8))

        rda = ier[0] & Mux(fifo_en, rxq.level >= trigger, data_ready)
        cause = Signal(4)
        with m.If(rda):
            m.d.comb += cause.eq(IIR_RDA)
        with m.Elif(ier[0] & timeout_ip):
            m.d.comb += cause.eq(IIR_TIMEOUT)
        with m.Elif(ier[1] & thre_ip):
            m.d.comb += cause.eq(IIR_THRE)
        with m.Else():
            m.d.comb += cause.eq(IIR_NONE)
        iir = Cat(cause, C(0, 2), fifo_en, fifo_en)
        m.d.comb += self.irq.eq(cause != IIR_NONE)

        # --- register accesses, one byte lane per register ---
        # Reads are decoded in the request's first cycle (the answer goes out in the
        # next), with their side effects: a read of RBR pops the byte, a read of IIR
        # that reports THR empty clears that interrupt.  Writes are decoded a cycle
        # later, from registers that take the request's lanes and data in every
        # cycle, so the paths from the masters through the arbiter and the decoder
        # end there, not at the UART's state (FCR's clears reset both FIFOs).  The
        # bus cannot tell: the next request starts a cycle after the answer at the
        # earliest, when the write is done, so a read right after a write sees its
        # effect.  Except two writes, decoded at once, whose effect a read right
        # after sees only through the loopback (MCR bit 4), a cycle later on its way:
        # THR (the byte goes TX FIFO -> RX FIFO in the cycle after it is pushed) and
        # MCR (turning the loopback on sends a byte waiting in the TX FIFO to RX).
        at_regs = bus.addr[3:] == 0
        rbr_read = Signal()
        iir_read_thre = Signal()
        # (decoded only in a request's first cycle: a simulator skips it otherwise)
        with m.If(resp.reading & at_regs):
            for lane, value in ((REG.RBR, Mux(dlab, dll, Mux(data_ready, rxq.r_data, 0))),
                                (REG.IER, Mux(dlab, dlm, ier)),
                                (REG.IIR, iir),
                                (REG.LCR, lcr),
                                (REG.MCR, mcr),
                                (REG.LSR, lsr),
                                (REG.MSR, msr),
                                (REG.SCR, scr)):
                m.d.comb += resp.rdata[8 * lane:8 * lane + 8].eq(value)
            with m.If(bus.sel[REG.RBR] & ~dlab):
                m.d.comb += rbr_read.eq(1)
            with m.If(bus.sel[REG.IIR] & (cause == IIR_THRE)):
                m.d.comb += iir_read_thre.eq(1)

        # THR and MCR, at once.
        thr_write = Signal()
        with m.If(resp.writing & at_regs):
            with m.If(bus.sel[REG.THR] & ~dlab):
                m.d.comb += thr_write.eq(1)
            with m.If(bus.sel[REG.MCR]):
                m.d.sync += mcr.eq(bus.wdata[8 * REG.MCR:8 * REG.MCR + 5])

        # The other writes, a cycle later.
        w_q = Signal()              # the request of the previous cycle wrote the registers
        w_q_sel = Signal(8)
        w_q_data = Signal(64)
        m.d.sync += [w_q.eq(resp.writing & at_regs), w_q_sel.eq(bus.sel),
                     w_q_data.eq(bus.wdata)]
        ier_write_thri = Signal()

        def wbyte(lane):
            return w_q_data[8 * lane:8 * lane + 8]

        with m.If(w_q):
            with m.If(w_q_sel[REG.DLL] & dlab):
                m.d.sync += dll.eq(wbyte(REG.DLL))
            with m.If(w_q_sel[REG.IER]):
                with m.If(dlab):
                    m.d.sync += dlm.eq(wbyte(REG.DLM))
                with m.Else():
                    m.d.sync += ier.eq(wbyte(REG.IER)[:4])
                    m.d.comb += ier_write_thri.eq(wbyte(REG.IER)[1])
            with m.If(w_q_sel[REG.FCR]):
                fcr = wbyte(REG.FCR)
                m.d.sync += [fifo_en.eq(fcr[0]), trig_sel.eq(fcr[6:8])]
                changed = fcr[0] != fifo_en
                m.d.comb += [clear_rx.eq(fcr[1] | changed), clear_tx.eq(fcr[2] | changed)]
            with m.If(w_q_sel[REG.LCR]):
                m.d.sync += lcr.eq(wbyte(REG.LCR))
            with m.If(w_q_sel[REG.SCR]):
                m.d.sync += scr.eq(wbyte(REG.SCR))

        m.d.comb += [
            rxq.r_en.eq(rbr_read & data_ready),
            txq.w_data.eq(bus.wdata[:8]),
            # A full transmitter drops the byte, as the real part overwrites it.
            txq.w_en.eq(thr_write & (txq.level < limit)),
        ]

        # THR-empty interrupt bookkeeping.
        tx_was_full = Signal()
        m.d.sync += tx_was_full.eq(txq.r_rdy)
        became_empty = tx_was_full & ~txq.r_rdy
        with m.If(thr_write | iir_read_thre):
            m.d.sync += thre_ip.eq(0)
        # (a clear of a TX FIFO with bytes in it empties the TX side at once: set in
        # the cycle after the clear, as a read of IIR right after the FCR write sees)
        with m.Elif(became_empty | (clear_tx & txq.r_rdy) | (ier_write_thri & tx_empty)):
            m.d.sync += thre_ip.eq(1)

        # Character timeout.
        idle = Signal(range(self.rx_timeout + 1))
        with m.If(rx_push | rbr_read | ~data_ready | ~fifo_en):
            m.d.sync += [idle.eq(0), timeout_ip.eq(0)]
        with m.Elif(idle == self.rx_timeout):
            m.d.sync += timeout_ip.eq(1)
        with m.Else():
            m.d.sync += idle.eq(idle + 1)
        return m
