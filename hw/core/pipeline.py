"""The pipelined RV64IMA core: five stages in order, one instruction per cycle at best.

::

    F fetch ---> D decode ---> X execute ---> M memory + commit ---> W write-back
    (fetch.py:   (registers,    (ALU, branches,  (data cache, CSRs,      (register file,
     BTB, I-cache, hazards)      redirect)        traps, interrupts)      retire port)
     queue)

* **F** (fetch.py) predicts the next pc with a branch target buffer (btb.py),
  reads the instruction cache and hands words to D through a two-entry queue.
* **D** decodes the head of the queue and reads the register file
  (asynchronous LUT read, bypassed from the write of this cycle).  It holds the
  instruction back (a bubble goes to X) when the instruction in X produces its
  result only in M (loads, AMOs, multiply/divide, CSR reads) and D needs it:
  the load-use and multiply interlock, one bubble for a load that hits.
* **X** forwards operands from M (results computed in X) and W (every
  result), runs the ALU, resolves branches and jumps and compares the real
  next pc with the predicted one; on a difference it redirects the fetch
  (D is flushed).  While X waits, its operand registers keep taking the
  forwarded values, so a result that leaves W meanwhile is not lost.  The
  address of a load or store goes from the ALU straight to the data cache's
  block RAM, so the word is there when the instruction reaches M.
* **M** is the commit point: an instruction takes its trap here or commits
  here, in program order, so exceptions are precise.  Interrupts are taken
  in M before an instruction starts.  Loads, stores, AMOs, LR/SC, the
  multiply/divide unit, CSR instructions, xRET, WFI and sfence.vma do their
  work in M, several cycles if needed, while the stages above wait.  CSR
  writes, xRET, sfence.vma and fence.i flush the younger instructions and
  fetch again from the next pc, so a change of privilege, satp or of code in
  memory is seen by the next fetch.  A trap is latched and taken in the
  following cycle (state TRAP), like in the multi-cycle core.
* **W** writes the register file and drives the retire port (one record per
  committed instruction or trap, in order, one cycle after the commit as in
  the multi-cycle core).  Loaded data are shifted and extended here, from the
  registered word (no path from the memory into the register file).

**The data cache** (cache.py, default 4 KiB, 2 ways, 32-byte lines) is
physically tagged; the set comes from the page offset, so it is read while
the page is translated (M mode and Bare: no translation; otherwise the page
of the last translated data access is remembered, and other pages ask the
MMU's data port).  It is **write-through without allocation on a write
miss**: every store goes to memory (and updates a cached copy) through a small
write buffer, so memory is current as soon as the buffer drains, and every other
reader of memory waits for the buffered stores it needs (memport.py).  That
choice makes the other masters simple: the page-table walker's reads wait for
the buffered stores of their line; the disk's DMA reads see every store (the
kernel writes a device register to start the disk, and device accesses wait
until the buffer is empty); DMA writes and the walker's A/D updates are snooped
and invalidate the cached line (``snoop_valid``/``snoop_addr`` bring the DMA
master's writes from the SoC).  Loads from RAM are served by the cache;
loads, stores and AMOs outside RAM (devices) always go to the bus with their
exact size.  LR, SC and AMOs go to the bus too (AMOs with ``lock`` held
between their read and write, so they are atomic against the DMA master) and
keep a cached copy current like stores.  A store to RAM costs the pipeline one
cycle while the buffer has room (stores to one line are combined into one entry,
a whole line goes out as one burst).

The fetch unit, the memory stage (cache fills, uncached accesses, LR/SC, AMOs),
the MMU's page-table walker and the write buffer share the core's single bus
port (memport.py): a fixed priority (walker, data, fetch, then the buffer) picks
a request, which leaves the core from registers, so no path runs from the
core's logic through the SoC's interconnect to a device's ``ready``.  The grant
is kept until the last beat and while ``lock`` is held.  Cache misses in RAM
refill the whole line as one burst (hw/bus.py).

Misaligned loads, stores and AMOs trap (causes 4 and 6), as in the
multi-cycle core.  The multi-cycle core (core.py) stays as a selectable
alternative (``core="fsm"`` of the SoC and of the ELF runner): it is the
shortest complete reading of the ISA's behaviour and the reference the
pipeline's retire stream was checked against.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..bus import BusSignature
from ..mmu.signatures import Access, MMUEventSignature
from .alu import ALU
from .amo import AmoALU
from .bare_mmu import check_mmu_kind, make_mmu
from .cache import Cache
from .fetch import FetchUnit
from .memport import MemoryPort
from .csr import CSRFile
from .decoder import Decoder, Decoded
from .isa import AluOp, AmoOp, Cause, Kind, Priv
from .muldiv import MulDiv
from .retire import RetireSignature
from .system import CSRInstruction, PendingTrap, connect_interrupts, system_instructions

__all__ = ["PipelinedCore", "load_extend", "size_mask_of"]


def size_mask_of(m, size):
    """Byte mask (0x01, 0x03, 0x0F, 0xFF) of an access of 1 << ``size`` bytes."""
    mask = Signal(8)
    with m.Switch(size):
        with m.Case(0): m.d.comb += mask.eq(0x01)
        with m.Case(1): m.d.comb += mask.eq(0x03)
        with m.Case(2): m.d.comb += mask.eq(0x0F)
        with m.Case(3): m.d.comb += mask.eq(0xFF)
    return mask


def load_extend(m, raw, byte_off, size, unsigned):
    """The doubleword ``raw`` shifted down to the access at ``byte_off`` and
    extended: returns (shifted, value)."""
    shifted = Signal(64)
    value = Signal(64)
    m.d.comb += shifted.eq(raw >> (byte_off << 3))
    with m.Switch(size):
        for s, bits in ((0, 8), (1, 16), (2, 32)):
            with m.Case(s):
                m.d.comb += value.eq(Mux(unsigned, shifted[:bits], shifted[:bits].as_signed()))
        with m.Case(3):
            m.d.comb += value.eq(shifted)
    return shifted, value


def _region_bits(name, base, size):
    """log2 of the naturally aligned power-of-two block that holds a memory region
    (the core compares addresses with it; beyond the region's end the bus errs)."""
    bits = max(3, (size - 1).bit_length())
    if base % (1 << bits):
        raise ValueError(f"{name} base {base:#x} must be aligned to its size rounded up "
                         f"to a power of two")
    return bits


def bytes_of(mask):
    """Expand a byte mask to a bit mask."""
    return Cat(*[mask[i].replicate(8) for i in range(8)])


class PipelinedCore(wiring.Component):
    bus:        Out(BusSignature())
    mei:        In(1)
    sei:        In(1)
    mti:        In(1)
    msi:        In(1)
    mtime:      In(64)
    retire:     Out(RetireSignature())
    mmu_events: Out(MMUEventSignature())
    wfi:        Out(1)
    # writes of other bus masters (DMA) that reach memory, for cache coherence
    snoop_valid: In(1)
    snoop_addr:  In(56)
    # one-cycle event pulses for the benchmarks' counters
    ev_ihit:  Out(1)
    ev_imiss: Out(1)
    ev_dhit:  Out(1)
    ev_dmiss: Out(1)
    ev_branch:  Out(1)     # a branch or jump resolved in X
    ev_mispred: Out(1)     # ... and the predicted next pc was wrong

    def __init__(self, *, reset_pc=0x8000_0000, hartid=0, dtb_addr=0,
                 itlb_entries=8, dtlb_entries=8, mmu="sv39",
                 ram_base=0x8000_0000, ram_size=1 << 27, rom_base=None, rom_size=0,
                 btb_entries=64,
                 icache_size=4096, icache_ways=2, icache_line=32,
                 dcache_size=4096, dcache_ways=2, dcache_line=32,
                 wbuf_entries=2, wbuf_line=32):
        check_mmu_kind(mmu)
        # Speculative fetches are allowed in the naturally aligned power-of-two
        # block that holds the RAM (beyond its end the bus answers with an error).
        self._ram_bits = _region_bits("RAM", ram_base, ram_size)
        if rom_base is not None:
            self._rom_bits = _region_bits("ROM", rom_base, rom_size)
        self.reset_pc = reset_pc
        self.hartid = hartid
        self.dtb_addr = dtb_addr
        self.itlb_entries = itlb_entries
        self.dtlb_entries = dtlb_entries
        self.mmu_kind = mmu
        self.ram_base = ram_base
        self.ram_size = ram_size
        self.rom_base = rom_base
        self.btb_entries = btb_entries
        self.icache_size = icache_size
        self.icache_ways = icache_ways
        self.icache_line = icache_line
        self.dcache_size = dcache_size
        self.dcache_ways = dcache_ways
        self.dcache_line = dcache_line
        self.wbuf_entries = wbuf_entries
        self.wbuf_line = wbuf_line
        super().__init__()

    def _in_ram(self, paddr):
        bits = self._ram_bits
        return paddr[bits:56] == (self.ram_base >> bits)

    def _in_rom(self, paddr):
        if self.rom_base is None:
            return C(0, 1)
        bits = self._rom_bits
        return paddr[bits:56] == (self.rom_base >> bits)

    def elaborate(self, platform):
        m = Module()

        m.submodules.decoder = decoder = Decoder()
        m.submodules.alu = alu = ALU()
        m.submodules.amo = amo = AmoALU()
        m.submodules.muldiv = muldiv = MulDiv()
        m.submodules.csr = csr = CSRFile(hartid=self.hartid)
        m.submodules.mmu = mmu = make_mmu(self.mmu_kind, self.itlb_entries, self.dtlb_entries)
        m.submodules.dcache = dcache = Cache(self.dcache_size, self.dcache_ways,
                                             self.dcache_line)
        m.submodules.fetch = fetch = FetchUnit(
            reset_pc=self.reset_pc, in_ram=self._in_ram, in_rom=self._in_rom,
            size=self.icache_size,
            ways=self.icache_ways, line=self.icache_line, btb_entries=self.btb_entries)
        m.submodules.regs = regs = Memory(shape=64, depth=32, init=[])
        rp1 = regs.read_port(domain="comb")
        rp2 = regs.read_port(domain="comb")
        wp = regs.write_port()

        priv = csr.priv
        ms = csr.mstatus
        satp_bare = csr.satp[60:64] == 0
        connect_interrupts(m, csr, self)
        wiring.connect(m, wiring.flipped(self.mmu_events), mmu.events)
        m.d.comb += [mmu.data.satp.eq(csr.satp), mmu.data.sum.eq(ms.sum),
                     mmu.data.mxr.eq(ms.mxr)]

        # ================= pipeline registers =================
        # D is the head of the fetch unit's queue (fetch.py)
        # X
        x_valid = Signal()
        x_pc = Signal(64)
        x_insn = Signal(32)
        x_dec = Signal(Decoded())          # rd is 0 for instructions without one
        x_rs1v = Signal(64)
        x_rs2v = Signal(64)
        x_pred = Signal(64)
        x_exc = Signal()
        x_cause = Signal(6)
        x_bp_hit = Signal()
        x_bp_ctr = Signal(2)
        # M
        m_valid = Signal()
        m_pc = Signal(64)
        m_insn = Signal(32)
        m_dec = Signal(Decoded())
        m_result = Signal(64)              # ALU/link/LUI/AUIPC value, or the address
        m_rs1v = Signal(64)
        m_rs2v = Signal(64)
        m_exc = Signal()
        m_cause = Signal(6)
        m_tval = Signal(64)
        # W
        w_valid = Signal()
        w_trap = Signal()
        w_rd = Signal(5)
        w_value = Signal(64)
        w_load = Signal()                  # the value is loaded data: extend w_raw
        w_raw = Signal(64)
        w_off = Signal(3)
        w_size = Signal(2)
        w_unsigned = Signal()
        w_pc = Signal(64)
        w_insn = Signal(32)
        w_priv = Signal(2)
        w_mem_addr = Signal(64)
        w_rmask = Signal(8)
        w_wmask = Signal(8)
        w_amo_rdata = Signal(64)
        w_mem_wdata = Signal(64)
        w_intr = Signal()
        w_cause = Signal(6)
        w_tval = Signal(64)

        # ================= control =================
        m_done = Signal()          # M finishes its instruction (or bubble) this cycle
        m_redirect = Signal()      # M flushes everything younger and refetches
        m_redirect_pc = Signal(64)
        x_redirect = Signal()      # X found a misprediction
        x_redirect_pc = Signal(64)
        hazard = Signal()          # D must wait for a result of X's instruction
        redirect = m_redirect | x_redirect
        redirect_pc = Mux(m_redirect, m_redirect_pc, x_redirect_pc)
        adv = m_done               # the stages below F move together
        flush_xlate = Signal()     # forget the remembered fetch/data pages

        booted = Signal()          # a0/a1 written, fetching may start
        boot_step = Signal()

        # ================= W: write-back and retire =================
        w_shifted, w_loaded = load_extend(m, w_raw, w_off, w_size, w_unsigned)
        w_final = Signal(64)
        m.d.comb += w_final.eq(Mux(w_load, w_loaded, w_value))
        w_writes = w_valid & ~w_trap & (w_rd != 0)
        with m.If(~booted):
            m.d.comb += [wp.addr.eq(Mux(boot_step, 11, 10)),
                         wp.data.eq(Mux(boot_step, self.dtb_addr, self.hartid)), wp.en.eq(1)]
            m.d.sync += boot_step.eq(1)
            with m.If(boot_step):
                m.d.sync += booted.eq(1)
        with m.Else():
            m.d.comb += [wp.addr.eq(w_rd), wp.data.eq(w_final), wp.en.eq(w_writes)]

        order = Signal(64)
        ret = self.retire
        with m.If(w_valid):
            m.d.sync += order.eq(order + 1)
        w_size_mask = size_mask_of(m, w_size)
        m.d.comb += [
            ret.valid.eq(w_valid), ret.order.eq(order), ret.pc.eq(w_pc),
            ret.insn.eq(w_insn), ret.priv.eq(w_priv), ret.rd.eq(w_rd),
            ret.rd_wdata.eq(Mux(w_rd == 0, 0, w_final)),
            ret.mem_addr.eq(w_mem_addr), ret.mem_rmask.eq(w_rmask), ret.mem_wmask.eq(w_wmask),
            ret.mem_rdata.eq(Mux(w_load, w_shifted & bytes_of(w_size_mask), w_amo_rdata)),
            ret.mem_wdata.eq(w_mem_wdata), ret.trap.eq(w_trap), ret.intr.eq(w_intr),
            ret.cause.eq(w_cause), ret.tval.eq(w_tval),
        ]

        # ================= the memory port (memport.py) =================
        # The walker, the memory stage and the fetch unit share the core's bus
        # through request registers; stores to RAM wait in its write buffer.
        m.submodules.port = port = MemoryPort(
            in_ram=self._in_ram, entries=self.wbuf_entries, line=self.wbuf_line,
            conflict_line=max(self.icache_line, self.dcache_line, self.wbuf_line))
        wiring.connect(m, port.bus, wiring.flipped(self.bus))
        wiring.connect(m, mmu.bus, port.walker)
        wiring.connect(m, fetch.bus, port.fetch)
        dbus = port.data                   # the memory stage's requests
        d_bus_valid = Signal()
        d_bus_addr = Signal(56)
        d_bus_write = Signal()
        d_bus_wdata = Signal(64)
        d_bus_sel = Signal(8)
        d_bus_lock = Signal()
        d_bus_burst = Signal.like(dbus.burst_len)
        d_bus_ready = Signal()
        m.d.comb += [
            dbus.valid.eq(d_bus_valid), dbus.addr.eq(Cat(C(0, 3), d_bus_addr[3:])),
            dbus.write.eq(d_bus_write), dbus.wdata.eq(d_bus_wdata), dbus.sel.eq(d_bus_sel),
            dbus.lock.eq(d_bus_lock), dbus.burst_len.eq(d_bus_burst),
            d_bus_ready.eq(dbus.ready),
        ]

        # ================= F: fetch (fetch.py) =================
        m.d.comb += [
            fetch.booted.eq(booted), fetch.redirect.eq(redirect),
            fetch.redirect_pc.eq(redirect_pc), fetch.priv.eq(priv), fetch.satp.eq(csr.satp),
            fetch.flush_xlate.eq(flush_xlate), fetch.pipe_empty.eq(~x_valid & ~m_valid),
            fetch.pop.eq(adv & ~hazard),
            # every write that reaches memory through this core's port, and DMA's
            fetch.snoop_valid.eq(port.wr_valid | self.snoop_valid),
            fetch.snoop_addr.eq(Mux(self.snoop_valid, self.snoop_addr, port.wr_addr)),
        ]
        wiring.connect(m, fetch.mmu, mmu.ifetch)
        fh = fetch.head
        d_valid = fetch.valid
        d_pc = fh.pc
        d_insn = Mux(fh.fault, 0, fh.insn)
        d_pred = fh.pred
        d_fault = fh.fault
        d_fault_cause = Mux(fh.page_fault, Cause.INSN_PAGE_FAULT, Cause.INSN_ACCESS)
        d_bp_hit = fh.bp_hit
        d_bp_ctr = fh.bp_ctr
        pipe_empty = ~d_valid & ~x_valid & ~m_valid

        # ================= D: decode, register read, interlock =================
        m.d.comb += decoder.insn.eq(d_insn)
        dd = decoder.out
        dk = dd.kind
        writes_rd = Signal()
        with m.Switch(dk):
            with m.Case(Kind.ALU, Kind.LUI, Kind.AUIPC, Kind.JAL, Kind.JALR, Kind.LOAD,
                        Kind.AMO, Kind.MULDIV, Kind.CSR):
                m.d.comb += writes_rd.eq(~d_fault)
        uses_rs1 = Signal()
        uses_rs2 = Signal()
        with m.Switch(dk):
            with m.Case(Kind.ALU):
                m.d.comb += [uses_rs1.eq(1), uses_rs2.eq(~dd.use_imm)]
            with m.Case(Kind.BRANCH, Kind.STORE, Kind.AMO, Kind.MULDIV, Kind.SFENCE):
                m.d.comb += [uses_rs1.eq(1), uses_rs2.eq(1)]
            with m.Case(Kind.JALR, Kind.LOAD):
                m.d.comb += uses_rs1.eq(1)
            with m.Case(Kind.CSR):
                m.d.comb += uses_rs1.eq(~dd.funct3[2])

        def forward_w(idx, value):
            return Mux(w_writes & (w_rd == idx), w_final, value)

        m.d.comb += [rp1.addr.eq(dd.rs1), rp2.addr.eq(dd.rs2)]
        d_rs1v = forward_w(dd.rs1, rp1.data)
        d_rs2v = forward_w(dd.rs2, rp2.data)

        xk = x_dec.kind
        x_late = x_valid & (x_dec.rd != 0) & (
            (xk == Kind.LOAD) | (xk == Kind.AMO) | (xk == Kind.MULDIV) | (xk == Kind.CSR))
        m.d.comb += hazard.eq(d_valid & x_late & (
            (uses_rs1 & (dd.rs1 == x_dec.rd)) | (uses_rs2 & (dd.rs2 == x_dec.rd))))

        # D -> X
        with m.If(adv):
            m.d.sync += [
                x_valid.eq(d_valid & ~hazard & ~redirect),
                x_pc.eq(d_pc), x_insn.eq(d_insn), x_dec.eq(dd),
                x_dec.rd.eq(Mux(writes_rd, dd.rd, 0)),
                x_rs1v.eq(d_rs1v), x_rs2v.eq(d_rs2v), x_pred.eq(d_pred),
                x_exc.eq(d_fault), x_cause.eq(d_fault_cause),
                x_bp_hit.eq(d_bp_hit), x_bp_ctr.eq(d_bp_ctr),
            ]
        with m.Elif(m_redirect):
            m.d.sync += x_valid.eq(0)

        # ================= X: execute =================
        xf3 = x_dec.funct3
        x_imm = Signal(64)
        m.d.comb += x_imm.eq(x_dec.imm)
        m_fwd = m_valid & (m_dec.rd != 0)

        def forward(idx, value):
            return Mux(m_fwd & (m_dec.rd == idx), m_result, forward_w(idx, value))

        op1 = Signal(64)
        op2 = Signal(64)
        m.d.comb += [op1.eq(forward(x_dec.rs1, x_rs1v)), op2.eq(forward(x_dec.rs2, x_rs2v))]
        uses_imm = x_dec.use_imm | (xk == Kind.LOAD) | (xk == Kind.STORE) | \
            (xk == Kind.JALR) | (xk == Kind.AMO)
        m.d.comb += [
            alu.a.eq(op1),
            alu.b.eq(Mux(uses_imm, x_imm, op2)),
            alu.op.eq(Mux(xk == Kind.ALU, x_dec.alu_op, AluOp.ADD)),
            alu.word.eq(x_dec.word & (xk == Kind.ALU)),
        ]
        x_pc4 = (x_pc + 4)[:64]
        x_pcimm = (x_pc + x_imm)[:64]
        x_result = Signal(64)
        with m.Switch(xk):
            with m.Case(Kind.LUI):
                m.d.comb += x_result.eq(x_imm)
            with m.Case(Kind.AUIPC):
                m.d.comb += x_result.eq(x_pcimm)
            with m.Case(Kind.JAL, Kind.JALR):
                m.d.comb += x_result.eq(x_pc4)
            with m.Default():
                m.d.comb += x_result.eq(alu.result)
        cond = Signal()
        with m.Switch(xf3[1:3]):
            with m.Case(0): m.d.comb += cond.eq(alu.eq)
            with m.Case(2): m.d.comb += cond.eq(alu.lt)
            with m.Case(3): m.d.comb += cond.eq(alu.ltu)
        is_branch = xk == Kind.BRANCH
        is_jump = (xk == Kind.JAL) | (xk == Kind.JALR)
        taken = Signal()
        m.d.comb += taken.eq(is_jump | (is_branch & (cond ^ xf3[0])))
        target = Signal(64)
        m.d.comb += target.eq(Mux(xk == Kind.JALR, Cat(C(0, 1), alu.result[1:]), x_pcimm))
        x_actual = Mux(taken, target, x_pc4)
        target_misaligned = taken & target[1]
        x_ok = x_valid & ~x_exc
        m.d.comb += [
            x_redirect.eq(x_ok & ~target_misaligned & (x_actual != x_pred) & ~m_redirect),
            x_redirect_pc.eq(x_actual),
        ]
        m.d.comb += [
            self.ev_ihit.eq(fetch.ev_hit), self.ev_imiss.eq(fetch.ev_miss),
            self.ev_branch.eq(adv & x_ok & (is_branch | is_jump)),
            self.ev_mispred.eq(x_redirect),
        ]
        # Event counters for the benchmarks (bench/boot_bench.py reads them by name
        # from the compiled model; synthesis drops them, nothing reads them there).
        for name, ev in (("ihit", self.ev_ihit), ("imiss", self.ev_imiss),
                         ("dhit", self.ev_dhit), ("dmiss", self.ev_dmiss),
                         ("branch", self.ev_branch), ("mispred", self.ev_mispred)):
            counter = Signal(48, name=f"perf_{name}")
            with m.If(ev):
                m.d.sync += counter.eq(counter + 1)
        with m.If(x_redirect & ~adv):
            m.d.sync += x_pred.eq(x_actual)     # redirect once while X waits

        # Branch predictor update: every resolved branch/jump, and stale hits.
        new_ctr = Signal(2)
        with m.If(~x_bp_hit):
            m.d.comb += new_ctr.eq(2)
        with m.Elif(taken):
            m.d.comb += new_ctr.eq(Mux(x_bp_ctr == 3, 3, x_bp_ctr + 1))
        with m.Else():
            m.d.comb += new_ctr.eq(Mux(x_bp_ctr == 0, 0, x_bp_ctr - 1))
        m.d.comb += [
            fetch.bp_upd_valid.eq(x_ok & (is_jump | (is_branch & (x_bp_hit | taken)) | x_bp_hit)),
            fetch.bp_upd_pc.eq(x_pc),
            fetch.bp_upd_keep.eq(is_jump | is_branch),
            fetch.bp_upd_jump.eq(is_jump),
            fetch.bp_upd_counter.eq(new_ctr),
            fetch.bp_upd_target.eq(target),
        ]

        # X -> M; a waiting X keeps its operands up to date.
        with m.If(adv):
            m.d.sync += [
                m_valid.eq(x_valid & ~m_redirect),
                m_pc.eq(x_pc), m_insn.eq(x_insn), m_dec.eq(x_dec), m_result.eq(x_result),
                m_rs1v.eq(op1), m_rs2v.eq(op2),
                m_exc.eq(x_exc | target_misaligned),
                m_cause.eq(Mux(x_exc, x_cause, Cause.INSN_MISALIGNED)),
                m_tval.eq(Mux(x_exc, x_pc, target)),
            ]
        with m.Else():
            m.d.sync += [x_rs1v.eq(op1), x_rs2v.eq(op2)]

        # ================= M: memory access, system instructions, commit =================
        kind = m_dec.kind
        f3 = m_dec.funct3
        size = f3[0:2]
        is_lr = (kind == Kind.AMO) & (m_dec.funct5 == AmoOp.LR)
        is_sc = (kind == Kind.AMO) & (m_dec.funct5 == AmoOp.SC)
        is_rmw = (kind == Kind.AMO) & ~is_lr & ~is_sc
        is_read = (kind == Kind.LOAD) | is_lr
        store_like = ~is_read
        data_priv = Mux((priv == Priv.M) & ms.mprv, ms.mpp, priv)
        size_mask = size_mask_of(m, size)
        mem_vaddr = m_result
        byte_off = mem_vaddr[0:3]
        misaligned = Signal()
        with m.Switch(size):
            with m.Case(1): m.d.comb += misaligned.eq(mem_vaddr[0])
            with m.Case(2): m.d.comb += misaligned.eq(mem_vaddr[0:2] != 0)
            with m.Case(3): m.d.comb += misaligned.eq(mem_vaddr[0:3] != 0)

        mem_paddr = Signal(56)
        m_raw = Signal(64)                 # an AMO's read, registered
        amo_old = Signal(64)
        amo_new = Signal(64)
        resv_valid = Signal()
        resv_addr = Signal(56)
        csri = CSRInstruction()            # the CSR instruction in M (system.py)
        trap = PendingTrap()               # the trap M decided on, taken in state TRAP

        _, m_loaded = load_extend(m, m_raw, byte_off, size, 0)
        amo_src = Mux(size == 2, m_rs2v[:32].as_signed(), m_rs2v)
        m.d.comb += [amo.funct5.eq(m_dec.funct5), amo.old.eq(m_loaded), amo.src.eq(amo_src)]
        store_value = Mux(is_rmw, amo_new, m_rs2v)

        # data fast path (as in the multi-cycle core)
        data_unmapped = Signal()
        m.d.sync += data_unmapped.eq((data_priv == Priv.M) | satp_bare)
        dp_valid = Signal()
        dp_store_ok = Signal()
        dp_vpn = Signal(52)
        dp_ppn = Signal(44)
        data_fast_paddr = Signal(56)
        m.d.comb += data_fast_paddr.eq(Mux(data_unmapped, mem_vaddr[:56],
                                           Cat(mem_vaddr[:12], dp_ppn)))
        data_fast = data_unmapped | (dp_valid & (mem_vaddr[12:64] == dp_vpn) &
                                     (is_read | dp_store_ok))
        m.d.comb += [
            mmu.data.vaddr.eq(mem_vaddr),
            mmu.data.access.eq(Mux(is_read, Access.LOAD, Access.STORE)),
            mmu.data.priv.eq(data_priv),
            mmu.sfence.vaddr.eq(m_rs1v), mmu.sfence.asid.eq(m_rs2v[:16]),
            mmu.sfence.all_vaddr.eq(m_dec.rs1 == 0), mmu.sfence.all_asid.eq(m_dec.rs2 == 0),
        ]

        csri.operands(m, csr, m_dec, m_rs1v)
        m.d.comb += [muldiv.funct3.eq(f3), muldiv.word.eq(m_dec.word),
                     muldiv.a.eq(m_rs1v), muldiv.b.eq(m_rs2v)]
        m_pc4 = (m_pc + 4)[:64]

        # The data cache (cache.py): read with X's address while M starts an
        # instruction (so a load that hits completes in its first cycle in M),
        # with M's own address while M works on one.
        m_in_start = Signal()
        m_rd_ok = Signal()          # the word read out belongs to M's address
        load_from_cache = Signal()
        m.d.comb += [
            dcache.read_addr.eq(Mux(m_in_start, x_result, m_result)[:12]),
            dcache.lookup_addr.eq(Mux(m_in_start, data_fast_paddr, mem_paddr)),
            dcache.write_data.eq(d_bus_wdata), dcache.write_sel.eq(d_bus_sel),
            dcache.bus.rdata.eq(dbus.rdata), dcache.bus.error.eq(dbus.error),
            dcache.fill_burst.eq(1),           # it only caches RAM
            # writes by others: the DMA master, the page-table walker's A/D updates
            dcache.snoop_valid.eq(self.snoop_valid |
                                  (mmu.bus.valid & mmu.bus.write & mmu.bus.ready)),
            dcache.snoop_addr.eq(Mux(self.snoop_valid, self.snoop_addr, mmu.bus.addr)),
        ]
        m.d.sync += m_rd_ok.eq(Mux(m_in_start, adv, ~adv))

        # Record fields of W that follow M every cycle (only meaningful with w_valid).
        m.d.sync += [
            w_pc.eq(m_pc), w_priv.eq(priv), w_mem_addr.eq(mem_vaddr),
            w_raw.eq(Mux(load_from_cache, dcache.rdata, dbus.rdata)), w_off.eq(byte_off), w_size.eq(size),
            w_unsigned.eq(f3[2] & (kind == Kind.LOAD)),
            w_mem_wdata.eq(store_value & bytes_of(size_mask)),
            w_amo_rdata.eq(amo_old & Mux(size == 2, 0xFFFF_FFFF, C(-1, 64))),
            w_intr.eq(trap.intr), w_cause.eq(trap.cause), w_tval.eq(trap.tval),
            w_valid.eq(0),
        ]

        def commit(value=0, *, rd=True, rmask=0, wmask=0, load=False, refetch=None):
            """M's instruction completes: to W, count it, maybe flush and refetch."""
            m.d.comb += [m_done.eq(1), csr.instret_inc.eq(1)]
            m.d.sync += [w_valid.eq(1), w_trap.eq(0), w_insn.eq(m_insn),
                         w_rd.eq(Mux(rd, m_dec.rd, 0)), w_value.eq(value), w_load.eq(load),
                         w_rmask.eq(rmask), w_wmask.eq(wmask)]
            if refetch is not None:
                m.d.comb += [m_redirect.eq(1), m_redirect_pc.eq(refetch)]
            m.next = "START"

        def raise_trap(cause, tval, intr=0):
            m.d.sync += trap.latch(cause, tval, intr)
            m.next = "TRAP"

        def access_fault():
            raise_trap(Mux(store_like, Cause.STORE_ACCESS, Cause.LOAD_ACCESS), mem_vaddr)

        def xret():
            """mret/sret (the CSR file changes the privilege): refetch from xepc."""
            m.d.comb += flush_xlate.eq(1)
            m.d.sync += resv_valid.eq(0)
            commit(rd=False, refetch=csr.xret_pc)

        def memory_access(paddr, wait_state=None):
            """The bus transfer of a load, store, LR, SC or an AMO's read."""
            m.d.comb += [
                d_bus_valid.eq(1), d_bus_addr.eq(paddr),
                d_bus_write.eq(~is_read & ~is_rmw),
                d_bus_wdata.eq(store_value << (byte_off << 3)),
                d_bus_sel.eq(size_mask << byte_off),
                d_bus_lock.eq(is_rmw),
            ]
            with m.If(d_bus_ready):
                with m.If(dbus.error):
                    access_fault()
                with m.Elif(is_rmw):
                    m.d.sync += m_raw.eq(dbus.rdata)
                    m.next = "AMO_OP"
                with m.Elif(is_read):
                    with m.If(is_lr):
                        m.d.sync += [resv_valid.eq(1), resv_addr.eq(paddr)]
                    commit(rd=True, rmask=size_mask, load=True)
                with m.Else():
                    with m.If(is_sc):
                        m.d.sync += resv_valid.eq(0)
                    m.d.comb += dcache.write.eq(1)      # keep a cached copy current
                    commit(0, rd=is_sc, wmask=size_mask)
            if wait_state is not None:
                with m.Else():
                    m.next = wait_state

        def buffered_store(paddr):
            """A store to RAM goes into the write buffer (memport.py) and commits in
            the cycle the buffer takes it; a cached copy of its line is updated."""
            m.d.comb += [
                port.st_valid.eq(1), port.st_addr.eq(paddr),
                port.st_data.eq(d_bus_wdata), port.st_sel.eq(d_bus_sel),
                d_bus_wdata.eq(store_value << (byte_off << 3)),
                d_bus_sel.eq(size_mask << byte_off),
            ]
            with m.If(port.st_ready):
                m.d.comb += dcache.write.eq(1)
                commit(0, rd=False, wmask=size_mask)
            with m.Else():
                m.next = "ACCESS"               # the buffer is full: try again

        def access(paddr, wait_state):
            """A translated load, store or AMO at ``paddr``: cached loads look up
            the data cache (filling the line on a miss); everything else goes
            to the bus (stores write through)."""
            with m.If(is_sc):
                m.next = "SC_CHECK"
            with m.Elif((kind == Kind.LOAD) & self._in_ram(paddr)):
                with m.If(dcache.hit & m_rd_ok):
                    m.d.comb += [load_from_cache.eq(1), dcache.touch.eq(1), self.ev_dhit.eq(1)]
                    commit(rd=True, rmask=size_mask, load=True)
                with m.Elif(~dcache.hit):
                    m.d.comb += [dcache.fill.eq(1), self.ev_dmiss.eq(1)]
                    m.next = "DFILL"
                with m.Else():
                    m.next = "ACCESS"           # read the word again
            with m.Elif((kind == Kind.STORE) & self._in_ram(paddr)):
                buffered_store(paddr)
            with m.Else():
                memory_access(paddr, wait_state=wait_state)

        with m.FSM(name="mem"):
            with m.State("START"):
                m.d.comb += m_in_start.eq(1)
                with m.If(~m_valid):
                    m.d.comb += m_done.eq(1)
                with m.Elif(m_exc):
                    raise_trap(m_cause, m_tval)
                with m.Elif(csr.irq):
                    raise_trap(csr.irq_cause, 0, intr=1)
                with m.Else():
                    with m.Switch(kind):
                        with m.Case(Kind.ALU, Kind.LUI, Kind.AUIPC, Kind.JAL, Kind.JALR,
                                    Kind.BRANCH, Kind.FENCE):
                            commit(m_result)
                        with m.Case(Kind.LOAD, Kind.STORE, Kind.AMO):
                            with m.If(misaligned):
                                raise_trap(Mux(store_like, Cause.STORE_MISALIGNED,
                                               Cause.LOAD_MISALIGNED), mem_vaddr)
                            with m.Elif(data_fast):
                                with m.If(data_unmapped & (mem_vaddr[56:64] != 0)):
                                    access_fault()
                                with m.Else():
                                    m.d.sync += mem_paddr.eq(data_fast_paddr)
                                    access(data_fast_paddr, wait_state="BUS")
                            with m.Else():
                                m.d.comb += mmu.data.valid.eq(1)
                                m.next = "XLATE"
                        with m.Case(Kind.MULDIV):
                            m.d.comb += muldiv.start.eq(1)
                            m.next = "MULDIV"
                        with m.Case(Kind.CSR):
                            # minstret counts the previous commit one cycle late:
                            # read in the next cycle.
                            m.next = "CSR_READ"
                        system_instructions(m, csr, insn=m_insn, pc=m_pc,
                                            raise_trap=raise_trap, xret=xret)
                        with m.Case(Kind.FENCE_I):
                            # Younger instructions may have been fetched before
                            # older stores wrote memory: fetch them again.
                            m.d.comb += fetch.fence_i.eq(1)
                            commit(rd=False, refetch=m_pc4)
                        with m.Default():
                            raise_trap(Cause.ILLEGAL_INSN, m_insn)

            with m.State("XLATE"):
                m.d.comb += mmu.data.valid.eq(1)
                with m.If(mmu.data.ready):
                    with m.If(mmu.data.page_fault):
                        raise_trap(Mux(store_like, Cause.STORE_PAGE_FAULT,
                                       Cause.LOAD_PAGE_FAULT), mem_vaddr)
                    with m.Elif(mmu.data.access_fault):
                        access_fault()
                    with m.Else():
                        m.d.sync += [dp_valid.eq(1), dp_vpn.eq(mem_vaddr[12:]),
                                     dp_ppn.eq(mmu.data.paddr[12:]),
                                     dp_store_ok.eq(~is_read),
                                     mem_paddr.eq(mmu.data.paddr)]
                        m.next = "ACCESS"

            with m.State("ACCESS"):
                access(mem_paddr, wait_state="BUS")

            with m.State("DFILL"):
                m.d.comb += [
                    d_bus_valid.eq(dcache.bus.valid), d_bus_addr.eq(dcache.bus.addr),
                    d_bus_sel.eq(dcache.bus.sel), d_bus_burst.eq(dcache.bus.burst_len),
                    dcache.bus.ready.eq(d_bus_ready),
                ]
                with m.If(dcache.done):
                    with m.If(dcache.error):
                        access_fault()
                    with m.Else():
                        m.next = "ACCESS"

            with m.State("SC_CHECK"):
                with m.If(resv_valid & (resv_addr == mem_paddr)):
                    m.next = "BUS"
                with m.Else():
                    m.d.sync += resv_valid.eq(0)
                    commit(1)

            with m.State("BUS"):
                memory_access(mem_paddr)

            with m.State("AMO_OP"):
                m.d.comb += d_bus_lock.eq(1)        # nobody writes between read and write
                m.d.sync += [amo_old.eq(m_loaded), amo_new.eq(amo.result)]
                m.next = "AMO_WRITE"

            with m.State("AMO_WRITE"):
                m.d.comb += [
                    d_bus_valid.eq(1), d_bus_addr.eq(mem_paddr), d_bus_write.eq(1),
                    d_bus_wdata.eq(store_value << (byte_off << 3)),
                    d_bus_sel.eq(size_mask << byte_off), d_bus_lock.eq(1),
                ]
                with m.If(d_bus_ready):
                    with m.If(dbus.error):
                        raise_trap(Cause.STORE_ACCESS, mem_vaddr)
                    with m.Else():
                        m.d.comb += dcache.write.eq(1)
                        commit(amo_old, rmask=size_mask, wmask=size_mask)

            with m.State("MULDIV"):
                with m.If(muldiv.done):
                    commit(muldiv.result)

            with m.State("CSR_READ"):
                csri.read(m, csr, raise_trap, m_insn, "CSR_WRITE")

            with m.State("CSR_WRITE"):
                m.d.comb += [csr.we.eq(csri.writes), flush_xlate.eq(1)]
                commit(csri.result, refetch=m_pc4)

            with m.State("SFENCE"):
                m.d.comb += [mmu.sfence.valid.eq(1), flush_xlate.eq(1)]
                with m.If(mmu.sfence.ready):
                    commit(rd=False, refetch=m_pc4)

            with m.State("WFI"):
                # (idle once the buffered stores are in memory)
                m.d.comb += self.wfi.eq(port.empty)
                with m.If(csr.wake):
                    commit(rd=False)

            with m.State("TRAP"):
                m.d.comb += trap.take(csr, m_pc)
                m.d.comb += [m_done.eq(1), m_redirect.eq(1), m_redirect_pc.eq(csr.trap_pc),
                             flush_xlate.eq(1)]
                m.d.sync += [resv_valid.eq(0), w_valid.eq(1), w_trap.eq(1), w_rd.eq(0),
                             w_rmask.eq(0), w_wmask.eq(0), w_load.eq(0),
                             w_insn.eq(Mux(trap.intr, 0, m_insn))]
                m.next = "START"

        with m.If(flush_xlate):
            m.d.sync += dp_valid.eq(0)
        return m
