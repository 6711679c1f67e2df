"""virtio-mmio (version 2) block device with one split virtqueue.

Registers: shared/spec/facts.md section 2 (virtio 1.x, "MMIO Device Register Layout").
Offered features: VIRTIO_F_VERSION_1 (bit 32) only.  FEATURES_OK sticks when the
driver's features are a subset of the offered ones (a driver that writes only word 0,
as xv6's, is accepted).  Writing Status = 0 resets the device.

Requests are taken from the avail ring after a QueueNotify, in order, and each is
handled in two passes over its descriptor chain:

1. walk: read every descriptor; the first is the 16-byte header {type, reserved,
   sector}, the last (device-writable, at least 1 byte) receives the status byte, the
   ones between carry data.  This finds the status byte and the data length and checks
   the chain before any data moves.
2. transfer: sector by sector through a 512-byte buffer, between the storage port
   (soc/storage.py) and the data buffers (64-bit DMA words).

Then the status byte, the used element {id = head, len = bytes written to the driver's
buffers} and used.idx are written, and InterruptStatus bit 0 is raised.

Answers: OK; UNSUPP for types other than IN (0) and OUT (1); IOERR for a header that
is not a readable descriptor of at least 16 bytes on an 8-byte boundary, data
descriptors of the wrong direction, not 8-byte aligned or not a multiple of 8 bytes
long, a data length that is not a whole number of sectors, sectors beyond the
capacity, a storage error or a bus error on a data buffer.  A chain without a status
descriptor (one descriptor only, last one read-only, a loop, or an index beyond the
queue) is returned in the used ring with len 0 and no status write.  A broken queue
(bad ring index or size, misaligned ring addresses, bus error on a ring or
descriptor) sets DEVICE_NEEDS_RESET and raises InterruptStatus bit 1; the device then
does nothing until it is reset.  Indirect descriptors and event-index are not offered;
the avail ring's NO_INTERRUPT flag is ignored (every completion interrupts).
"""

from amaranth import *
from amaranth.lib import wiring, memory
from amaranth.lib.wiring import In, Out

from hw.bus import BusSignature, PADDR_WIDTH
from . import memmap
from .regs import BusResponder, merge_lanes, lane_mask
from .storage import StorageSignature, SECTOR_WORDS

__all__ = ["VirtioBlock", "REG", "STATUS", "BLK_T_IN", "BLK_T_OUT",
           "BLK_S_OK", "BLK_S_IOERR", "BLK_S_UNSUPP", "DEVICE_FEATURES"]

MAGIC = 0x7472_6976
VERSION = 2
DEVICE_ID_BLOCK = 2
VENDOR_ID = 0x554D_4551             # "QEMU": QEMU virt's, which drivers such as xv6-riscv's check
DEVICE_FEATURES = 1 << 32           # VIRTIO_F_VERSION_1


class REG:
    MAGIC = 0x000
    VERSION = 0x004
    DEVICE_ID = 0x008
    VENDOR_ID = 0x00C
    DEVICE_FEATURES = 0x010
    DEVICE_FEATURES_SEL = 0x014
    DRIVER_FEATURES = 0x020
    DRIVER_FEATURES_SEL = 0x024
    QUEUE_SEL = 0x030
    QUEUE_NUM_MAX = 0x034
    QUEUE_NUM = 0x038
    QUEUE_READY = 0x044
    QUEUE_NOTIFY = 0x050
    INTERRUPT_STATUS = 0x060
    INTERRUPT_ACK = 0x064
    STATUS = 0x070
    QUEUE_DESC_LOW = 0x080
    QUEUE_DESC_HIGH = 0x084
    QUEUE_DRIVER_LOW = 0x090
    QUEUE_DRIVER_HIGH = 0x094
    QUEUE_DEVICE_LOW = 0x0A0
    QUEUE_DEVICE_HIGH = 0x0A4
    CONFIG_GENERATION = 0x0FC
    CONFIG = 0x100


class STATUS:
    ACKNOWLEDGE = 1
    DRIVER = 2
    DRIVER_OK = 4
    FEATURES_OK = 8
    NEEDS_RESET = 0x40
    FAILED = 0x80


DESC_F_NEXT = 1
DESC_F_WRITE = 2
DESC_F_INDIRECT = 4

BLK_T_IN = 0
BLK_T_OUT = 1
BLK_S_OK = 0
BLK_S_IOERR = 1
BLK_S_UNSUPP = 2

INT_USED = 1
INT_CONFIG = 2


class VirtioBlock(wiring.Component):
    def __init__(self, queue_max=16):
        if queue_max < 1 or queue_max & (queue_max - 1) or queue_max > 32768:
            raise ValueError("queue_max must be a power of two in 1..32768")
        self.queue_max = queue_max
        super().__init__({
            "bus": In(BusSignature(memmap.VIRTIO0.addr_width)),
            "dma": Out(BusSignature()),
            "storage": Out(StorageSignature()),
            "irq": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        resp = BusResponder(m, bus)
        qmax = self.queue_max

        # ---------------- driver-visible registers ----------------
        status = Signal(8)
        dev_feat_sel = Signal(32)
        drv_feat_sel = Signal(32)
        drv_feat = Signal(64)
        queue_sel = Signal(32)
        queue_num = Signal(16)
        queue_ready = Signal()
        desc_base = Signal(64)
        avail_base = Signal(64)
        used_base = Signal(64)
        int_status = Signal(2)
        config_gen = Signal(32)

        kick = Signal()            # a notify arrived and has not been looked at
        abort = Signal()           # the driver reset the device while the engine ran
        device_reset = Signal()    # Status = 0 written (decoded a cycle after the request)
        raise_int = Signal(2)      # engine events this cycle

        capacity = self.storage.capacity
        seen_capacity = Signal(64)
        m.d.sync += seen_capacity.eq(capacity)
        cap_changed = seen_capacity != capacity
        with m.If(cap_changed):
            m.d.sync += config_gen.eq(config_gen + 1)
        events = Signal(2)
        m.d.comb += events.eq(raise_int |
                              Mux(cap_changed & status[2], INT_CONFIG, 0))

        # The request is decoded twice.  In its first cycle (``resp.start``) for
        # the read data and for the writes the engine reacts to at once (a notify,
        # an InterruptACK); in the next cycle, from registers loaded in every cycle,
        # for the other writes (the configuration and Status, whose reset reaches
        # some 400 flip-flops).  The bus does not see the difference: the answer
        # comes in that next cycle, and the next request to the device starts a
        # cycle later at the earliest, when those writes are done.  So the paths
        # from the masters through the arbiter and the decoder end at the request
        # registers, not at the device's state.  (The engine sees a configuration
        # write a cycle later; the driver writes the configuration before it
        # notifies, two requests apart.)
        w_q = Signal()              # the request of the previous cycle was a write
        w_q_addr = Signal.like(bus.addr)
        w_q_data = Signal(64)
        w_q_sel = Signal(8)
        m.d.sync += [w_q.eq(resp.writing), w_q_addr.eq(bus.addr), w_q_data.eq(bus.wdata),
                     w_q_sel.eq(bus.sel)]

        sel0 = queue_sel == 0
        for half, late in ((0, False), (1, False), (0, True), (1, True)):
            req_sel = w_q_sel if late else bus.sel
            lanes = req_sel[4 * half:4 * half + 4]
            active = lanes.any()
            offset = Cat(C(0, 2), C(half, 1), (w_q_addr if late else bus.addr)[3:])
            wdata = (w_q_data if late else bus.wdata)[32 * half:32 * half + 32]
            decode_now = w_q if late else resp.start
            # the written value, used only in the cycle decoded (below): computed
            # only then, or a simulator computes it for both halves in every cycle
            wvalue = Signal(32, name=f"wvalue{half}" + ("_late" if late else ""))
            with m.If(decode_now):
                m.d.comb += wvalue.eq(wdata & lane_mask(lanes))
            rword = resp.rdata[32 * half:32 * half + 32]
            wr = (w_q if late else resp.writing) & active

            def read(value):
                if not late:
                    m.d.comb += rword.eq(value)

            def store32(reg, lo=0):
                part = reg[lo:lo + 32]
                if late:
                    with m.If(wr):
                        m.d.sync += part.eq(merge_lanes(part, wdata, lanes))

            # Decoded only in the cycle it is wanted: outside it no read data or
            # side effect is wanted (and a simulator skips the whole decode).
            with m.If(decode_now):
                with m.Switch(offset):
                    with m.Case(REG.MAGIC):
                        read(MAGIC)
                    with m.Case(REG.VERSION):
                        read(VERSION)
                    with m.Case(REG.DEVICE_ID):
                        read(DEVICE_ID_BLOCK)
                    with m.Case(REG.VENDOR_ID):
                        read(VENDOR_ID)
                    with m.Case(REG.DEVICE_FEATURES):
                        if not late:
                            with m.Switch(dev_feat_sel):
                                with m.Case(0):
                                    read(DEVICE_FEATURES & 0xFFFF_FFFF)
                                with m.Case(1):
                                    read(DEVICE_FEATURES >> 32)
                    with m.Case(REG.DEVICE_FEATURES_SEL):
                        store32(dev_feat_sel)
                    with m.Case(REG.DRIVER_FEATURES):
                        if late:
                            with m.If(wr & (drv_feat_sel == 0)):
                                m.d.sync += drv_feat[:32].eq(merge_lanes(drv_feat[:32], wdata, lanes))
                            with m.If(wr & (drv_feat_sel == 1)):
                                m.d.sync += drv_feat[32:].eq(merge_lanes(drv_feat[32:], wdata, lanes))
                    with m.Case(REG.DRIVER_FEATURES_SEL):
                        store32(drv_feat_sel)
                    with m.Case(REG.QUEUE_SEL):
                        read(queue_sel)
                        store32(queue_sel)
                    with m.Case(REG.QUEUE_NUM_MAX):
                        read(Mux(sel0, qmax, 0))
                    with m.Case(REG.QUEUE_NUM):
                        read(Mux(sel0, queue_num, 0))
                        if late:
                            with m.If(wr & sel0):
                                m.d.sync += queue_num.eq(merge_lanes(Cat(queue_num, C(0, 16)),
                                                                     wdata, lanes)[:16])
                    with m.Case(REG.QUEUE_READY):
                        read(Mux(sel0, queue_ready, 0))
                        if late:
                            with m.If(wr & sel0 & lanes[0]):
                                m.d.sync += queue_ready.eq(wdata[0])
                    with m.Case(REG.QUEUE_NOTIFY):
                        if not late:
                            with m.If(wr & (wvalue == 0)):
                                m.d.sync += kick.eq(1)
                    with m.Case(REG.INTERRUPT_STATUS):
                        read(int_status)
                    with m.Case(REG.INTERRUPT_ACK):
                        if not late:
                            with m.If(wr):
                                m.d.sync += int_status.eq((int_status | events) & ~wvalue[:2])
                    with m.Case(REG.STATUS):
                        read(status)
                        if late:
                            with m.If(wr):
                                with m.If(wvalue == 0):
                                    m.d.comb += device_reset.eq(1)
                                with m.Else():
                                    accepted = Signal(8, name=f"status_accepted{half}")
                                    unknown = (drv_feat & ~C(DEVICE_FEATURES, 64)) != 0
                                    m.d.comb += accepted.eq(Mux(unknown,
                                                                wvalue[:8] & ~STATUS.FEATURES_OK,
                                                                wvalue[:8]))
                                    m.d.sync += status.eq((accepted & ~STATUS.NEEDS_RESET) |
                                                          (status & STATUS.NEEDS_RESET))
                    for reg, off in ((desc_base, REG.QUEUE_DESC_LOW),
                                     (avail_base, REG.QUEUE_DRIVER_LOW),
                                     (used_base, REG.QUEUE_DEVICE_LOW)):
                        for word in range(2):
                            with m.Case(off + 4 * word):
                                read(Mux(sel0, reg[32 * word:32 * word + 32], 0))
                                if late:
                                    with m.If(wr & sel0):
                                        m.d.sync += reg[32 * word:32 * word + 32].eq(
                                            merge_lanes(reg[32 * word:32 * word + 32], wdata,
                                                        lanes))
                    with m.Case(REG.CONFIG_GENERATION):
                        read(config_gen)
                    with m.Case(REG.CONFIG):
                        read(capacity[:32])
                    with m.Case(REG.CONFIG + 4):
                        read(capacity[32:])

        m.d.comb += self.irq.eq(int_status != 0)

        # ---------------- the request engine ----------------
        dma = self.dma
        buf = memory.Memory(shape=64, depth=SECTOR_WORDS, init=[])
        m.submodules.buf = buf
        buf_rd = buf.read_port()
        buf_wr = buf.write_port()

        widx = Signal(range(SECTOR_WORDS))
        widx_next = Signal(range(SECTOR_WORDS))
        m.d.comb += widx_next.eq(widx)
        m.d.sync += widx.eq(widx_next)
        # The read port looks one cycle ahead, so buf_rd.data is always buf[widx].
        m.d.comb += buf_rd.addr.eq(widx_next)

        next_idx = Signal(16)       # avail entries consumed = used entries produced
        head = Signal(16)
        cur = Signal(16)            # descriptor to fetch next
        hops = Signal(range(qmax + 2))
        first = Signal()
        d_addr = Signal(64)
        d_len = Signal(32)
        d_flags = Signal(16)
        d_next = Signal(16)
        hdr_next = Signal(16)
        req_type = Signal(32)
        sector = Signal(64)
        status_addr = Signal(64)
        have_status = Signal()
        bad_data = Signal()
        bad_header = Signal()
        data_bytes = Signal(32)
        sectors_left = Signal(24)
        ptr = Signal(64)
        remaining = Signal(32)
        result = Signal(8)
        used_len = Signal(32)

        num_mask = Signal(16)
        m.d.comb += num_mask.eq(queue_num - 1)
        slot = next_idx & num_mask
        is_in = req_type == BLK_T_IN
        n_sectors = data_bytes[9:]

        # DMA request registers; the buffer feeds write data directly when asked.
        dma_from_buf = Signal()
        dma_wdata = Signal(64)
        dma_shift = Signal(3)       # the byte offset of the request's address
        m.d.comb += [
            dma.wdata.eq(Mux(dma_from_buf, buf_rd.data, dma_wdata)),
            dma.lock.eq(0),
        ]

        # A state starts a DMA request with ``issue``, which only says what it wants
        # (the req_* signals); one set of registers below takes it.  So the address of
        # a request is computed only in the state that makes it, and one lane shifter
        # serves every state (a simulator also evaluates each state's address only
        # while the engine is in that state).
        req = Signal()
        req_addr = Signal(64)
        req_write = Signal()
        req_lanes = Signal(8)       # the lanes of an aligned access of this size
        req_value = Signal(64)
        req_from_buf = Signal()

        def issue(addr, write=False, value=0, nbytes=8, from_buf=False):
            m.d.comb += [req.eq(1), req_addr.eq(addr), req_write.eq(write),
                         req_lanes.eq((1 << nbytes) - 1), req_from_buf.eq(from_buf)]
            if write and not from_buf:
                m.d.comb += req_value.eq(value)

        # the read data shifted to the request's byte offset, looked at only when the
        # DMA completes (computed only then, or a simulator shifts it in every cycle)
        dma_field = Signal(64)
        with m.If(dma.valid & dma.ready):
            m.d.comb += dma_field.eq(dma.rdata >> Cat(C(0, 3), dma_shift))

        def field(nbytes):
            """The ``nbytes`` bytes the request asked for, from the DMA's read data
            (valid in the cycle the DMA completes)."""
            return dma_field[:8 * nbytes]

        def beyond_bus(addr):
            return addr[PADDR_WIDTH:] != 0

        dma_done = dma.valid & dma.ready
        with m.If(dma_done):
            m.d.sync += dma.valid.eq(0)

        def fetch_desc(index):
            issue(desc_base + (index << 4))

        desc_meta_addr = desc_base + (cur << 4) + 8

        # The engine's checks are each computed into a signal in the state that looks
        # at it (0 elsewhere), so that a simulator evaluates them only there.
        queue_ok = Signal()
        data_bad = Signal()
        running = (status & (STATUS.DRIVER_OK | STATUS.NEEDS_RESET)) == STATUS.DRIVER_OK

        # The engine runs in the cycles it has work: in IDLE only when kicked or
        # aborted (the IDLE state does nothing otherwise), so a simulator skips the
        # whole engine in the other cycles, most of them.
        engine_awake = Signal()
        with m.If(engine_awake):
            with m.FSM(name="engine") as engine:
                def broken():
                    m.d.comb += raise_int.eq(INT_CONFIG)
                    m.d.sync += status.eq(status | STATUS.NEEDS_RESET)
                    m.next = "IDLE"

                def wait_dma():
                    """Context for the body that runs when the DMA completes normally."""
                    return m.If(dma_done & ~abort & ~dma.error)

                def dma_trouble(on_error):
                    """A reset abandons the request; a bus error calls ``on_error``."""
                    with m.If(dma_done & abort):
                        m.next = "IDLE"
                    with m.Elif(dma_done & dma.error):
                        on_error()

                def desc_addr_state(name, dest, then):
                    """State ``name``: the address doubleword of descriptor ``cur`` arrives into
                    ``dest``; ask for its len/flags/next doubleword and go to ``then``."""
                    with m.State(name):
                        dma_trouble(broken)
                        with wait_dma():
                            m.d.sync += dest.eq(dma.rdata)
                            issue(desc_meta_addr)
                            m.next = then

                def post_used_id():
                    """Start writing the chain's head index into its used ring slot."""
                    issue(used_base + 4 + (slot << 3), write=True, value=head, nbytes=4)
                    m.next = "USED_ID"

                with m.State("IDLE"):
                    with m.If(abort):
                        m.d.sync += [abort.eq(0), next_idx.eq(0)]
                    with m.Elif(kick & running & queue_ready):
                        m.d.sync += kick.eq(0)
                        m.d.comb += queue_ok.eq(
                            (queue_num != 0) & ((queue_num & num_mask) == 0) &
                            (queue_num <= qmax) &
                            (desc_base[:4] == 0) & (avail_base[0] == 0) & (used_base[:2] == 0) &
                            ~beyond_bus(desc_base) & ~beyond_bus(avail_base) &
                            ~beyond_bus(used_base))
                        with m.If(queue_ok):
                            issue(avail_base + 2, nbytes=2)
                            m.next = "AVAIL_IDX"
                        with m.Else():
                            broken()

                with m.State("AVAIL_IDX"):
                    dma_trouble(broken)
                    with wait_dma():
                        with m.If(field(2) == next_idx):
                            m.next = "IDLE"
                        with m.Else():
                            issue(avail_base + 4 + (slot << 1), nbytes=2)
                            m.next = "AVAIL_RING"

                with m.State("AVAIL_RING"):
                    dma_trouble(broken)
                    with wait_dma():
                        ring_head = field(2)
                        with m.If(ring_head >= queue_num):
                            broken()
                        with m.Else():
                            m.d.sync += [
                                head.eq(ring_head), cur.eq(ring_head), hops.eq(0), first.eq(1),
                                have_status.eq(0), bad_data.eq(0), bad_header.eq(0),
                                data_bytes.eq(0), req_type.eq(0), used_len.eq(0),
                            ]
                            fetch_desc(ring_head)
                            m.next = "DESC_ADDR"

                # ---- pass 1: walk the chain ----
                desc_addr_state("DESC_ADDR", d_addr, then="DESC_META")

                with m.State("DESC_META"):
                    dma_trouble(broken)
                    with wait_dma():
                        m.d.sync += [
                            d_len.eq(dma.rdata[0:32]),
                            d_flags.eq(dma.rdata[32:48]),
                            d_next.eq(dma.rdata[48:64]),
                            hops.eq(hops + 1),
                        ]
                        m.next = "DESC_CHECK"

                has_next = d_flags[0]
                dev_writes = d_flags[1]
                indirect = d_flags[2]
                with m.State("DESC_CHECK"):
                    with m.If(first):
                        m.d.sync += [first.eq(0), hdr_next.eq(d_next)]
                        header_ok = (~dev_writes & ~indirect & (d_len >= 16) & (d_addr[:3] == 0) &
                                     ~beyond_bus(d_addr))
                        with m.If(header_ok & has_next):
                            issue(d_addr)
                            m.next = "HEADER_TYPE"
                        with m.Else():
                            m.d.sync += bad_header.eq(1)
                            m.next = "FOLLOW"
                    with m.Elif(has_next):
                        direction_ok = dev_writes == is_in
                        shape_ok = ((d_addr[:3] == 0) & (d_len[:3] == 0) & ~indirect &
                                    ~beyond_bus(d_addr))
                        with m.If(~direction_ok | ~shape_ok):
                            m.d.sync += bad_data.eq(1)
                        m.d.sync += data_bytes.eq(data_bytes + d_len)
                        # Remember a data length overflow as an error too.
                        with m.If((data_bytes + d_len)[32]):
                            m.d.sync += bad_data.eq(1)
                        m.next = "FOLLOW"
                    with m.Else():
                        with m.If(dev_writes & ~indirect & (d_len != 0) & ~beyond_bus(d_addr)):
                            m.d.sync += [have_status.eq(1), status_addr.eq(d_addr)]
                        m.next = "DECIDE"

                with m.State("HEADER_TYPE"):
                    dma_trouble(broken)
                    with wait_dma():
                        m.d.sync += req_type.eq(dma.rdata[:32])
                        issue(d_addr + 8)
                        m.next = "HEADER_SECTOR"

                with m.State("HEADER_SECTOR"):
                    dma_trouble(broken)
                    with wait_dma():
                        m.d.sync += sector.eq(dma.rdata)
                        m.next = "FOLLOW"

                with m.State("FOLLOW"):
                    with m.If(~has_next):
                        m.next = "DECIDE"        # a lone header: no status descriptor
                    with m.Elif((d_next >= queue_num) | (hops >= queue_num)):
                        m.d.sync += have_status.eq(0)
                        m.next = "DECIDE"        # index out of range or a loop
                    with m.Else():
                        m.d.sync += cur.eq(d_next)
                        fetch_desc(d_next)
                        m.next = "DESC_ADDR"

                with m.State("DECIDE"):
                    supported = (req_type == BLK_T_IN) | (req_type == BLK_T_OUT)
                    in_range = (sector <= capacity) & (n_sectors <= capacity - sector)
                    m.d.comb += data_bad.eq(bad_data | (data_bytes[:9] != 0) | ~in_range)
                    with m.If(~have_status):
                        m.d.sync += used_len.eq(0)
                        post_used_id()
                    with m.Elif(bad_header):
                        m.d.sync += result.eq(BLK_S_IOERR)
                        m.next = "STATUS"
                    with m.Elif(~supported):
                        m.d.sync += result.eq(BLK_S_UNSUPP)
                        m.next = "STATUS"
                    with m.Elif(data_bad):
                        m.d.sync += result.eq(BLK_S_IOERR)
                        m.next = "STATUS"
                    with m.Elif(data_bytes == 0):
                        m.d.sync += result.eq(BLK_S_OK)
                        m.next = "STATUS"
                    with m.Else():
                        m.d.sync += [
                            sectors_left.eq(n_sectors), cur.eq(hdr_next), hops.eq(0),
                            remaining.eq(0), result.eq(BLK_S_OK),
                        ]
                        m.d.comb += widx_next.eq(0)
                        with m.If(is_in):
                            m.next = "SREAD_CMD"
                        with m.Else():
                            m.next = "FILL"

                # ---- pass 2: move the data ----
                def data_error():
                    m.d.sync += result.eq(BLK_S_IOERR)
                    m.next = "STATUS"

                st = self.storage

                def storage_cmd_state(name, write, then):
                    """State ``name``: hand the storage a read or write command for ``sector``."""
                    with m.State(name):
                        m.d.comb += [st.cmd.valid.eq(1), st.cmd.payload.write.eq(write),
                                     st.cmd.payload.sector.eq(sector)]
                        with m.If(st.cmd.ready):
                            m.next = then

                def storage_resp_state(name, on_ok):
                    """State ``name``: take the storage's response for the sector just moved."""
                    with m.State(name):
                        m.d.comb += st.resp.ready.eq(1)
                        with m.If(st.resp.valid):
                            with m.If(abort):
                                m.next = "IDLE"
                            with m.Elif(st.resp.payload.error):
                                data_error()
                            with m.Else():
                                on_ok()

                def sector_done(then):
                    """One sector fully moved: finish the request, or go on with the next one."""
                    with m.If(sectors_left == 1):
                        m.next = "STATUS"
                    with m.Else():
                        m.d.sync += [sectors_left.eq(sectors_left - 1), sector.eq(sector + 1)]
                        m.next = then

                desc_addr_state("XFER_DESC_ADDR", ptr, then="XFER_DESC_META")

                with m.State("XFER_DESC_META"):
                    dma_trouble(broken)
                    with wait_dma():
                        new_len = dma.rdata[0:32]
                        new_flags = dma.rdata[32:48]
                        new_next = dma.rdata[48:64]
                        m.d.sync += [remaining.eq(new_len), cur.eq(new_next), hops.eq(hops + 1)]
                        # The chain changed under our feet since the walk: give up on it.
                        with m.If(~new_flags[0] | (new_len[:3] != 0) | (ptr[:3] != 0) |
                                  beyond_bus(ptr) | (new_next >= queue_num) | (hops >= queue_num)):
                            data_error()
                        with m.Elif(is_in):
                            m.next = "DRAIN"
                        with m.Else():
                            m.next = "FILL"

                # OUT: memory -> buffer (one sector), then buffer -> storage.
                with m.State("FILL"):
                    with m.If(remaining == 0):
                        fetch_desc(cur)
                        m.next = "XFER_DESC_ADDR"
                    with m.Else():
                        issue(ptr)
                        m.next = "FILL_WAIT"

                with m.State("FILL_WAIT"):
                    dma_trouble(data_error)
                    with wait_dma():
                        m.d.comb += [buf_wr.addr.eq(widx), buf_wr.data.eq(dma.rdata),
                                     buf_wr.en.eq(1)]
                        m.d.sync += [ptr.eq(ptr + 8), remaining.eq(remaining - 8)]
                        m.d.comb += widx_next.eq(widx + 1)
                        with m.If(widx == SECTOR_WORDS - 1):
                            m.next = "SWRITE_CMD"
                        with m.Else():
                            m.next = "FILL"

                storage_cmd_state("SWRITE_CMD", write=1, then="SWRITE_DATA")

                with m.State("SWRITE_DATA"):
                    m.d.comb += [st.wdata.valid.eq(1), st.wdata.payload.eq(buf_rd.data)]
                    with m.If(st.wdata.ready):
                        m.d.comb += widx_next.eq(widx + 1)
                        with m.If(widx == SECTOR_WORDS - 1):
                            m.next = "SWRITE_RESP"

                storage_resp_state("SWRITE_RESP", on_ok=lambda: sector_done(then="FILL"))

                # IN: storage -> buffer (one sector), then buffer -> memory.
                storage_cmd_state("SREAD_CMD", write=0, then="SREAD_DATA")

                with m.State("SREAD_DATA"):
                    m.d.comb += st.rdata.ready.eq(1)
                    with m.If(st.rdata.valid):
                        m.d.comb += [buf_wr.addr.eq(widx), buf_wr.data.eq(st.rdata.payload),
                                     buf_wr.en.eq(1)]
                        m.d.comb += widx_next.eq(widx + 1)
                        with m.If(widx == SECTOR_WORDS - 1):
                            m.next = "SREAD_RESP"

                def start_drain():
                    m.next = "DRAIN"
                storage_resp_state("SREAD_RESP", on_ok=start_drain)

                with m.State("DRAIN"):
                    with m.If(remaining == 0):
                        fetch_desc(cur)
                        m.next = "XFER_DESC_ADDR"
                    with m.Else():
                        issue(ptr, write=True, from_buf=True)
                        m.next = "DRAIN_WAIT"

                with m.State("DRAIN_WAIT"):
                    dma_trouble(data_error)
                    with wait_dma():
                        m.d.sync += [ptr.eq(ptr + 8), remaining.eq(remaining - 8)]
                        m.d.comb += widx_next.eq(widx + 1)
                        with m.If(widx == SECTOR_WORDS - 1):
                            sector_done(then="SREAD_CMD")
                        with m.Else():
                            m.next = "DRAIN"

                # ---- completion ----
                with m.State("STATUS"):
                    wrote = Mux(is_in & (result == BLK_S_OK), data_bytes + 1, 1)
                    m.d.sync += used_len.eq(wrote)
                    issue(status_addr, write=True, value=result, nbytes=1)
                    m.next = "STATUS_WAIT"

                with m.State("STATUS_WAIT"):
                    def status_lost():
                        m.d.sync += used_len.eq(0)
                        post_used_id()
                    dma_trouble(status_lost)
                    with wait_dma():
                        post_used_id()

                with m.State("USED_ID"):
                    dma_trouble(broken)
                    with wait_dma():
                        issue(used_base + 8 + (slot << 3), write=True, value=used_len, nbytes=4)
                        m.next = "USED_LEN"

                with m.State("USED_LEN"):
                    dma_trouble(broken)
                    with wait_dma():
                        issue(used_base + 2, write=True, value=next_idx + 1, nbytes=2)
                        m.next = "USED_IDX"

                with m.State("USED_IDX"):
                    dma_trouble(broken)
                    with wait_dma():
                        m.d.sync += next_idx.eq(next_idx + 1)
                        m.d.comb += raise_int.eq(INT_USED)
                        issue(avail_base + 2, nbytes=2)
                        m.next = "AVAIL_IDX"
        m.d.comb += engine_awake.eq(~engine.ongoing("IDLE") | abort | kick)

        # The request a state issued (after the FSM: it wins over the clearing of
        # dma.valid when the previous request completes in this cycle).
        with m.If(req):
            shift = req_addr[:3]
            m.d.sync += [
                dma.valid.eq(1),
                dma.addr.eq(Cat(C(0, 3), req_addr[3:PADDR_WIDTH])),
                dma.write.eq(req_write),
                dma.sel.eq(req_lanes << shift),
                dma_shift.eq(shift),
                dma_from_buf.eq(req_from_buf),
            ]
            with m.If(req_write & ~req_from_buf):
                m.d.sync += dma_wdata.eq(req_value << Cat(C(0, 3), shift))

        # Interrupt status: engine events and capacity changes (an InterruptACK in the
        # same cycle merges them itself, in the register switch above).
        ack_now = Signal()
        m.d.comb += ack_now.eq(resp.writing & (bus.addr[3:] == (REG.INTERRUPT_ACK >> 3)) &
                               bus.sel[4:8].any())
        with m.If(~ack_now & (events != 0)):
            m.d.sync += int_status.eq(int_status | events)

        # Reset wins over everything the engine did this cycle.
        with m.If(device_reset):
            m.d.sync += [
                status.eq(0), dev_feat_sel.eq(0), drv_feat_sel.eq(0), drv_feat.eq(0),
                queue_sel.eq(0), queue_num.eq(0), queue_ready.eq(0),
                desc_base.eq(0), avail_base.eq(0), used_base.eq(0),
                int_status.eq(0), kick.eq(0), abort.eq(1),
            ]
        return m
