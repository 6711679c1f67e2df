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

        # The registers are decoded in three parts:
        #
        # * reads, in the request's first cycle (``resp.start``): the answer goes out
        #   in the next cycle;
        # * QueueNotify and InterruptACK, in that first cycle too (see below);
        # * every other write, in the next cycle (the answer's), from registers that
        #   take the bus's address, data and lanes in every cycle.  The bus cannot
        #   tell: the next request to the device starts a cycle after the answer at
        #   the earliest, when the write is done, so a read right after a write sees
        #   the new value.  So the paths from the masters through the arbiter and the
        #   decoder end at those registers, not at the device's state (Status = 0
        #   alone resets some 400 flip-flops).  The engine sees a configuration
        #   write a cycle later; the driver writes the configuration before it
        #   notifies, two requests apart.
        #
        # Each decodes the doubleword's two 32-bit halves separately (a 64-bit access
        # reaches two registers).
        sel0 = queue_sel == 0

        # ---- reads ----
        with m.If(resp.reading):
            for half in range(2):
                offset = Cat(C(0, 2), C(half, 1), bus.addr[3:])
                rword = resp.rdata[32 * half:32 * half + 32]
                with m.Switch(offset):
                    with m.Case(REG.MAGIC):
                        m.d.comb += rword.eq(MAGIC)
                    with m.Case(REG.VERSION):
                        m.d.comb += rword.eq(VERSION)
                    with m.Case(REG.DEVICE_ID):
                        m.d.comb += rword.eq(DEVICE_ID_BLOCK)
                    with m.Case(REG.VENDOR_ID):
                        m.d.comb += rword.eq(VENDOR_ID)
                    with m.Case(REG.DEVICE_FEATURES):
                        with m.Switch(dev_feat_sel):
                            with m.Case(0):
                                m.d.comb += rword.eq(DEVICE_FEATURES & 0xFFFF_FFFF)
                            with m.Case(1):
                                m.d.comb += rword.eq(DEVICE_FEATURES >> 32)
                    with m.Case(REG.QUEUE_SEL):
                        m.d.comb += rword.eq(queue_sel)
                    with m.Case(REG.QUEUE_NUM_MAX):
                        m.d.comb += rword.eq(Mux(sel0, qmax, 0))
                    with m.Case(REG.QUEUE_NUM):
                        m.d.comb += rword.eq(Mux(sel0, queue_num, 0))
                    with m.Case(REG.QUEUE_READY):
                        m.d.comb += rword.eq(Mux(sel0, queue_ready, 0))
                    with m.Case(REG.INTERRUPT_STATUS):
                        m.d.comb += rword.eq(int_status)
                    with m.Case(REG.STATUS):
                        m.d.comb += rword.eq(status)
                    for reg, off in ((desc_base, REG.QUEUE_DESC_LOW),
                                     (avail_base, REG.QUEUE_DRIVER_LOW),
                                     (used_base, REG.QUEUE_DEVICE_LOW)):
                        for word in range(2):
                            with m.Case(off + 4 * word):
                                m.d.comb += rword.eq(Mux(sel0, reg[32 * word:32 * word + 32], 0))
                    with m.Case(REG.CONFIG_GENERATION):
                        m.d.comb += rword.eq(config_gen)
                    with m.Case(REG.CONFIG):
                        m.d.comb += rword.eq(capacity[:32])
                    with m.Case(REG.CONFIG + 4):
                        m.d.comb += rword.eq(capacity[32:])

        # ---- QueueNotify and InterruptACK, at once ----
        # QueueNotify (low half of doubleword 0x50) for queue 0 wakes the engine;
        # InterruptACK (high half of 0x60) clears the bits written, merged with this
        # cycle's events here (and below, without an ACK).  Both act in the request's
        # cycle, as before the other writes moved: the engine starts, and the
        # interrupt line falls, a cycle sooner than they would a cycle later, which
        # keeps the boot's cycle count as it was (their decode is a compare of the
        # address and a few bits, a short path).
        ack_now = Signal()
        with m.If(resp.writing):
            notify_lanes = bus.sel[0:4]
            with m.If((bus.addr[3:] == REG.QUEUE_NOTIFY >> 3) & notify_lanes.any() &
                      ((bus.wdata[:32] & lane_mask(notify_lanes)) == 0)):
                m.d.sync += kick.eq(1)
            with m.If((bus.addr[3:] == REG.INTERRUPT_ACK >> 3) & bus.sel[4:8].any()):
                m.d.comb += ack_now.eq(1)
                acked = bus.wdata[32:34] & Mux(bus.sel[4], 0b11, 0b00)
                m.d.sync += int_status.eq((int_status | events) & ~acked)

        # ---- the other writes, a cycle later ----
        w_q = Signal()              # the request of the previous cycle was a write
        w_q_addr = Signal.like(bus.addr)
        w_q_data = Signal(64)
        w_q_sel = Signal(8)
        m.d.sync += [w_q.eq(resp.writing), w_q_addr.eq(bus.addr), w_q_data.eq(bus.wdata),
                     w_q_sel.eq(bus.sel)]

        with m.If(w_q):
            for half in range(2):
                lanes = w_q_sel[4 * half:4 * half + 4]
                offset = Cat(C(0, 2), C(half, 1), w_q_addr[3:])
                wdata = w_q_data[32 * half:32 * half + 32]
                wvalue = Signal(32, name=f"wvalue{half}")     # the written lanes, 0 elsewhere
                m.d.comb += wvalue.eq(wdata & lane_mask(lanes))

                def store(reg):
                    """``reg`` (a 32-bit slice) takes the written lanes."""
                    m.d.sync += reg.eq(merge_lanes(reg, wdata, lanes))

                with m.If(lanes.any()), m.Switch(offset):
                    with m.Case(REG.DEVICE_FEATURES_SEL):
                        store(dev_feat_sel)
                    with m.Case(REG.DRIVER_FEATURES):
                        with m.Switch(drv_feat_sel):
                            with m.Case(0):
                                store(drv_feat[:32])
                            with m.Case(1):
                                store(drv_feat[32:])
                    with m.Case(REG.DRIVER_FEATURES_SEL):
                        store(drv_feat_sel)
                    with m.Case(REG.QUEUE_SEL):
                        store(queue_sel)
                    with m.Case(REG.QUEUE_NUM):
                        with m.If(sel0):
                            m.d.sync += queue_num.eq(
                                merge_lanes(Cat(queue_num, C(0, 16)), wdata, lanes)[:16])
                    with m.Case(REG.QUEUE_READY):
                        with m.If(sel0 & lanes[0]):
                            m.d.sync += queue_ready.eq(wdata[0])
                    with m.Case(REG.STATUS):
                        with m.If(wvalue == 0):
                            m.d.comb += device_reset.eq(1)
                        with m.Else():
                            # FEATURES_OK only for features offered; NEEDS_RESET is
                            # the device's to set.
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
                                with m.If(sel0):
                                    store(reg[32 * word:32 * word + 32])

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
        avail_idx = Signal(16)      # the driver's avail.idx, as last read
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
        #
        # No request is computed from the read data of the one before in the cycle it
        # arrives: a state whose answer decides the next request (AVAIL_IDX: is there
        # a new request?  AVAIL_RING: its head; XFER_DESC_META: the next data buffer)
        # only stores the data, and the state after it (AVAIL_CHECK, HEAD_CHECK,
        # XFER_DESC_CHECK) checks it and issues.  So the bus's answer (through the
        # arbiter and the decoder's read-data mux) ends at registers, and no path runs
        # from it through a compare and an address adder back into the arbiter.  It
        # costs a cycle in each of those three states, 3 or 4 a request.
        req = Signal()
        req_addr = Signal(64)
        req_write = Signal()
        req_lanes = Signal(8)       # the lanes of an aligned access of this size
        req_value = Signal(64)
        req_from_buf = Signal()

        #
        # A state that issues its request in the cycle its previous request is
        # answered (the bus's ``ready``) says what it will ask for in the whole
        # state (``request``) and only ``go`` waits for ``ready``: so the bus's
        # answer (through the decoder's OR and the arbiter) reaches the enables of
        # the request registers, not the multiplexers of the address, the lanes
        # and the write data in front of them (it ran through them into
        # ``dma.sel`` and ``dma_wdata``, 11 cells).
        def request(addr, write=False, value=0, nbytes=8, from_buf=False):
            m.d.comb += [req_addr.eq(addr), req_write.eq(write),
                         req_lanes.eq((1 << nbytes) - 1), req_from_buf.eq(from_buf)]
            if write and not from_buf:
                m.d.comb += req_value.eq(value)

        def go():
            m.d.comb += req.eq(1)

        def issue(addr, write=False, value=0, nbytes=8, from_buf=False):
            request(addr, write, value, nbytes, from_buf)
            go()

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
                        request(desc_meta_addr)
                        dma_trouble(broken)
                        with wait_dma():
                            m.d.sync += dest.eq(dma.rdata)
                            go()
                            m.next = then

                def used_id_request():
                    request(used_base + 4 + (slot << 3), write=True, value=head, nbytes=4)

                def post_used_id(requested=False):
                    """Start writing the chain's head index into its used ring slot
                    (``requested``: the state said so with ``used_id_request``)."""
                    if not requested:
                        used_id_request()
                    go()
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
                        m.d.sync += avail_idx.eq(field(2))
                        m.next = "AVAIL_CHECK"

                with m.State("AVAIL_CHECK"):
                    with m.If(avail_idx == next_idx):
                        m.next = "IDLE"
                    with m.Else():
                        issue(avail_base + 4 + (slot << 1), nbytes=2)
                        m.next = "AVAIL_RING"

                with m.State("AVAIL_RING"):
                    dma_trouble(broken)
                    with wait_dma():
                        m.d.sync += head.eq(field(2))
                        m.next = "HEAD_CHECK"

                with m.State("HEAD_CHECK"):
                    with m.If(abort):
                        m.next = "IDLE"         # a reset came with the head: no NEEDS_RESET
                    with m.Elif(head >= queue_num):
                        broken()
                    with m.Else():
                        m.d.sync += [
                            cur.eq(head), hops.eq(0), first.eq(1),
                            have_status.eq(0), bad_data.eq(0), bad_header.eq(0),
                            data_bytes.eq(0), req_type.eq(0), used_len.eq(0),
                        ]
                        fetch_desc(head)
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
                    request(d_addr + 8)
                    dma_trouble(broken)
                    with wait_dma():
                        m.d.sync += req_type.eq(dma.rdata[:32])
                        go()
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
                        m.d.sync += [
                            remaining.eq(dma.rdata[0:32]),
                            d_flags.eq(dma.rdata[32:48]),
                            cur.eq(dma.rdata[48:64]),
                        ]
                        m.next = "XFER_DESC_CHECK"

                with m.State("XFER_DESC_CHECK"):
                    m.d.sync += hops.eq(hops + 1)
                    # The chain changed under our feet since the walk: give up on it.
                    with m.If(~has_next | (remaining[:3] != 0) | (ptr[:3] != 0) |
                              beyond_bus(ptr) | (cur >= queue_num) | (hops >= queue_num)):
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
                    used_id_request()
                    def status_lost():
                        m.d.sync += used_len.eq(0)
                        post_used_id(requested=True)
                    dma_trouble(status_lost)
                    with wait_dma():
                        post_used_id(requested=True)

                with m.State("USED_ID"):
                    request(used_base + 8 + (slot << 3), write=True, value=used_len, nbytes=4)
                    dma_trouble(broken)
                    with wait_dma():
                        go()
                        m.next = "USED_LEN"

                with m.State("USED_LEN"):
                    request(used_base + 2, write=True, value=next_idx + 1, nbytes=2)
                    dma_trouble(broken)
                    with wait_dma():
                        go()
                        m.next = "USED_IDX"

                with m.State("USED_IDX"):
                    request(avail_base + 2, nbytes=2)
                    dma_trouble(broken)
                    with wait_dma():
                        m.d.sync += next_idx.eq(next_idx + 1)
                        m.d.comb += raise_int.eq(INT_USED)
                        go()
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
        # same cycle merges them itself, above).
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
