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
  in the next cycle, from registers (D is flushed in both cycles).  While X
  waits, its operand registers keep taking the forwarded values, so a result
  that leaves W meanwhile is not lost.  The
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
  following cycle (state TRAP), like in the multi-cycle core.  M's redirect
  reaches the fetch unit in the next cycle, from registers, as X's does (D is
  flushed in both cycles).
* **W** writes the register file and makes the retire record (one per
  committed instruction or trap, in order, one cycle after the commit as in
  the multi-cycle core), which the retire port shows from flip-flops in the
  next cycle (retire.py; the MMU reports its events a cycle late too, from
  its registers: hw/mmu/mmu.py).  A load that missed in the data cache waits
  in W for its line (``w_wait``): no record, no register write, every stage
  above waits, and X acts on no operand forwarded from W, until the word
  comes; a failed fill is the load's access fault, taken with the load's pc.
  Every result arrives here in a register (loaded data are shifted and
  extended at the end of M), so what W forwards to X and writes to the
  register file comes straight from flip-flops.

**The data cache** (cache.py, default 8 KiB, 2 ways, 32-byte lines) is
physically tagged; the set comes from the page offset, so it is read while
the page is translated (M mode and Bare: no translation; otherwise the pages
of the last 8 translated data accesses are remembered in a micro-TLB (utlb.py),
searched in X with the page of the base register, and other pages ask the
MMU's data port).  A load that misses goes on to W all the same (so whether
it hit does not decide whether the stages advance, nor M's next state); the
line's fill starts at once, M sees the miss from a flip-flop in the next
cycle, and W waits for the line (state WFILL of M, whose next instruction
waits untouched) and retires the load with its word as the fill ends.  It is
**write-through without allocation on a write miss**: every store goes to memory (and updates a cached copy) through a small
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

**PMP** (pmp.py): 16 entries, whose registers live in the CSR file.  One
checker, between flip-flops, serves the page-table walker (its reads and A/D
writes are checked as S-mode accesses by a gate on its bus: a denied one is
answered with a bus error, which the walker reports as an access fault), the
memory stage and the fetch unit.  Fetch and memory stage ask about whole pages:
the page they remember (with its translation) is one the PMP allows as a whole,
so accesses to it need no further check; in a page the PMP allows only in part,
each access is checked on its own (one fetch at a time, uncached).  In M mode
with no entry switched on nothing is checked and no page is needed (the
multi-cycle core's speed).  After each write to a pmp CSR the unit checks the
RAM (and the ROM) as a whole, and answers at once for any access in a memory
allowed as a whole (xv6 opens the whole space: then every page of RAM); it
also remembers a few allowed pages per requester.  Such an answer costs the
walker no cycle (its access goes on to the bus in the cycle it is allowed); the
memory stage asks the MMU from state XLATE on, registers its answer and asks the
PMP in the next cycle, which costs two cycles per translation the DTLB answers and
keeps M's decision away from the DTLB's lookup and both handshakes away from the
enables of M's wide registers; another page costs 3 cycles more.
CSR writes forget the remembered pages (and the translations) only when they
change satp, the PMP or mstatus's MPRV, MPP, SUM, MXR.

**Misaligned loads and stores** complete in hardware.  One that stays inside
a doubleword is an ordinary access with its bytes shifted; one that crosses a
doubleword (so perhaps a line or a page) is made in states MIS_*: each of its
pages is translated and checked (PMP, in RAM) in turn, and a fault names the
first byte of the part that faulted (the access, or the first byte of its second
page, as the privileged spec asks of mtval/stval); then the two doublewords are
looked up in the data cache one after the other (a miss fills the line, as an
aligned load's does, and looks again; 4 cycles more than an aligned load when
both hit in one page) or written into the write buffer.  A store writes nothing
unless both parts may be written.  Misaligned accesses to devices (outside RAM)
are access faults: devices take naturally aligned accesses of their size only.
Misaligned LR, SC and AMOs trap (causes 4 and 6).  The multi-cycle core (core.py) stays as a selectable
alternative (``core="fsm"`` of the SoC and of the ELF runner): it is the
shortest complete reading of the ISA's behaviour and the reference the
pipeline's retire stream was checked against.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..bus import BusSignature
from ..mmu.signatures import Access, EventKind, MMUEventSignature
from .alu import ALU
from .amo import AmoALU
from .bare_mmu import check_mmu_kind, make_mmu
from .cache import Cache, sets_of
from .fetch import FetchUnit
from .memport import MemoryPort
from .csr import CSR, CSRFile
from .decoder import Decoder, Decoded
from .isa import AluOp, AmoOp, Cause, Kind, Priv
from .muldiv import MulDiv
from .perf import EVENTS, CycleClass, FetchWait
from .pmp import PMPGate, PMPUnit
from .retire import RetireSignature, registered
from .system import (CSRInstruction, PendingTrap, connect_interrupts, illegal_in_mode,
                     system_instructions)
from .utlb import MicroTLB

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


def _common_block(blocks):
    """The smallest naturally aligned block ``(base, bits)`` that holds every one
    of ``blocks`` (each ``(base, bits)``, aligned): the instruction cache's
    region, RAM and the boot ROM (QEMU virt's: 0x7FFF_0000 and 0x8000_0000 lie
    in the block of the low 4 GiB)."""
    bits = max(b for _, b in blocks)
    base = blocks[0][0]
    for other, _ in blocks[1:]:
        bits = max(bits, (base ^ other).bit_length())
    return base >> bits << bits, bits


def bytes_of(mask):
    """Expand a byte mask to a bit mask."""
    return Cat(*[mask[i].replicate(8) for i in range(8)])


def low_bytes(m, value, size):
    """``value`` cut to an access of 1 << ``size`` bytes, zero above: ``value &
    bytes_of(size_mask_of(m, size))``, as a choice among four slices (a simulator
    picks one instead of assembling the mask bit by bit)."""
    out = Signal(64)
    with m.Switch(size):
        for s in range(4):
            with m.Case(s):
                m.d.comb += out.eq(value[:8 << s])
    return out


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
    #: edges from W's retirement to its report on the registered retire port
    #: (retire.py); the multi-cycle core has none.  (``mmu_events`` is the MMU's
    #: port, which reports an event one cycle after it happens: hw/mmu/mmu.py.)
    PORT_DELAY = 1
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
                 btb_entries=512, ras_entries=8, utlb_entries=8,
                 icache_size=8192, icache_ways=2, icache_line=32,
                 dcache_size=8192, dcache_ways=2, dcache_line=32,
                 wbuf_entries=4, wbuf_line=32, answer_registered=False, checks=False):
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
        self.ras_entries = ras_entries
        self.utlb_entries = utlb_entries
        self.icache_size = icache_size
        self.icache_ways = icache_ways
        self.icache_line = icache_line
        self.dcache_size = dcache_size
        self.dcache_ways = dcache_ways
        self.dcache_line = dcache_line
        self.wbuf_entries = wbuf_entries
        self.wbuf_line = wbuf_line
        self.answer_registered = answer_registered
        self.checks = checks            # simulation-only assertions (memport.py, cache.py)
        # A reset held this many cycles also clears the caches' lines (cache.py)
        self.reset_cycles = max(sets_of(icache_size, icache_ways, icache_line),
                                sets_of(dcache_size, dcache_ways, dcache_line))
        # The benchmarks' counters (perf.py and the ev_* events), by name; the
        # simulators read them (the compiled model as "core perf_<name>").
        names = list(EVENTS) + [c.counter[5:] for c in CycleClass]
        self.perf = {n: Signal(48, name=f"perf_{n}") for n in names}
        # What the counters add up, one edge at a time: bit i of ``perf_events`` is
        # EVENTS' i-th event, ``perf_class`` the cycle's class.  The compiled model
        # counts these two in its driver instead of keeping the 33 counters
        # (sim/cxxrtl/build.py, PERF_PORTS); pysim and the tests read ``perf``.
        self.perf_events = Signal(len(EVENTS))
        self.perf_class = Signal(CycleClass)
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
        m.submodules.csr = csr = CSRFile(hartid=self.hartid, pmp_entries=16)
        # PMP: one checker for the walker (through a gate on its bus), the memory
        # stage and the fetch unit, in this order of priority; it checks the memories
        # as wholes after each change, so their pages need no comparison when allowed
        blocks = [(self.ram_base, self._ram_bits)]
        if self.rom_base is not None:
            blocks.append((self.rom_base, self._rom_bits))
        m.submodules.pmp = pmp = PMPUnit(entries=16, ports=3, blocks=blocks)
        m.submodules.walker_gate = walker_gate = PMPGate()
        m.d.comb += [pmp.cfg.eq(csr.pmp_cfg), pmp.addr.eq(csr.pmp_addr)]
        m_writes_pmp = Signal()            # a pmp CSR is written (the unit forgets pages)
        m.d.comb += pmp.flush.eq(m_writes_pmp)
        wiring.connect(m, walker_gate.check, pmp.req0)
        dpmp = pmp.req1
        m.submodules.mmu = mmu = make_mmu(self.mmu_kind, self.itlb_entries, self.dtlb_entries,
                                          checks=self.checks)
        # The data cache holds RAM's lines only (M looks up, fills, writes and
        # believes a hit only for addresses in RAM): its tags keep RAM's address
        # bits alone, a short compare between the tag memory and the hit.
        m.submodules.dcache = dcache = Cache(self.dcache_size, self.dcache_ways,
                                             self.dcache_line,
                                             region=(self.ram_base, self._ram_bits),
                                             checks=self.checks)
        m.submodules.fetch = fetch = FetchUnit(
            reset_pc=self.reset_pc, in_ram=self._in_ram, in_rom=self._in_rom,
            size=self.icache_size,
            ways=self.icache_ways, line=self.icache_line, btb_entries=self.btb_entries,
            ras_entries=self.ras_entries, utlb_entries=self.utlb_entries,
            region=_common_block([(self.ram_base, self._ram_bits)] +
                                 ([] if self.rom_base is None
                                  else [(self.rom_base, self._rom_bits)])),
            checks=self.checks)
        m.submodules.dutlb = dutlb = MicroTLB(self.utlb_entries)
        m.submodules.regs = regs = Memory(shape=64, depth=32, init=[])
        rp1 = regs.read_port(domain="comb")
        rp2 = regs.read_port(domain="comb")
        wp = regs.write_port()

        priv = csr.priv
        ms = csr.mstatus
        satp_bare = csr.satp[60:64] == 0
        connect_interrupts(m, csr, self)
        # the MMU's event port leaves it from its registers, a cycle after the
        # event, as the retire port below shows a record (hw/mmu/mmu.py)
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
        m_simple = Signal()                # valid, no exception, commits in START (below)
        m_pc = Signal(64)
        m_insn = Signal(32)
        m_dec = Signal(Decoded())
        m_result = Signal(64)              # ALU/link/LUI/AUIPC value, or the address
        m_rs1v = Signal(64)
        m_rs2v = Signal(64)
        m_exc = Signal()
        m_cause = Signal(6)
        m_tval = Signal(64)
        # M's physical address: the data fast path's, loaded as the instruction
        # enters M (see "X: execute"), then the translation's (XLATE, MIS_*)
        mem_paddr = Signal(56)
        # ... it lies in RAM: with mem_paddr as the instruction enters M, else
        # compared a cycle after mem_paddr changed (see the end of M)
        m_in_ram = Signal()
        mem_paddr_in_ram = self._in_ram(mem_paddr)     # (its compare, where m_in_ram lags)
        m_fast = Signal()                  # ... and the fast path may be taken (START)
        # W
        w_valid = Signal()
        w_trap = Signal()
        w_rd = Signal(5)
        w_value = Signal(64)               # the result (loads: shifted and extended in M)
        w_load = Signal()                  # the instruction is a load (or LR)
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
        # W waits for the line of its load, which missed in the data cache (see
        # "M: ..."): it neither retires nor writes the register file, and the
        # stages above wait, until the fill brings the word
        w_wait = Signal()
        # ... and the miss was found in the previous cycle: M, in START, starts
        # the line's fill now instead of acting on its own instruction
        w_missed = Signal()
        # W waits from the cycle after the miss (``w_missed``, the one flip-flop
        # that the miss sets) and then while M waits for the fill (``w_filling``,
        # set by M's wait for it, cleared as the fill ends): so the hit, a tag
        # compare behind a block RAM's 5.8 ns, reaches one flip-flop of W's
        # instead of the logic of every condition that sets or clears w_wait.
        w_filling = Signal()
        m.d.comb += w_wait.eq(w_missed | w_filling)
        w_off = Signal(3)                  # the waiting load's byte offset, size, sign
        w_size = Signal(2)
        w_unsigned = Signal()

        # ================= control =================
        m_done = Signal()          # M finishes its instruction (or bubble) this cycle
        m_done_start = Signal()    # ... in state START
        m_done_other = Signal()    # ... in another state
        m_in_start = Signal(init=1)  # M is in state START (a flip-flop: see M)
        m_redirect = Signal()      # M flushes everything younger and refetches
        m_redirect_pc = Signal(64)
        x_redirect = Signal()      # X found a misprediction
        x_redirect_pc = Signal(64)
        # Both redirects reach the fetch unit in the next cycle, from these
        # registers: X's misprediction (see "X: execute") and M's flush and
        # refetch (see "F: fetch").  They never come in the same cycle (X does
        # not redirect while M does, and X is empty in the cycle after M's).
        fr_valid = Signal()        # the fetch unit is redirected in this cycle
        fr_pc = Signal(64)
        fr_class = Signal(CycleClass)      # ... charged as (M's flush_class, MISPREDICT)
        fr_flush = Signal()        # ... and forgets its remembered pages (M's flush_xlate)
        fr_fence_i = Signal()      # ... and invalidates its cache (M's fence.i)
        hazard = Signal()          # D must wait for a result of X's instruction
        redirect = fr_valid                            # the fetch unit's
        # D's instruction is off the path: M redirects, or X found a misprediction,
        # in this cycle or the cycle before (whose redirect reaches the fetch unit
        # in this cycle; the queue still holds the old path's words)
        d_kill = m_redirect | x_redirect | fr_valid
        # the stages below F move together: M takes X's instruction (or bubble).
        # Only from flip-flops, a few cells (see "M: the advance", after M's
        # states); it implies m_done, not the reverse.
        adv = Signal()
        m.d.comb += m_done.eq(m_done_start | m_done_other)
        flush_xlate = Signal()     # forget the remembered fetch/data pages
        flush_dxlate = Signal()    # forget the remembered data page
        m_fence_i = Signal()       # M commits a fence.i (invalidate the instruction cache)

        booted = Signal()          # a0/a1 written, fetching may start

        # cycle accounting (perf.py): the reason an empty slot carries down the stages
        x_why = Signal(CycleClass, init=CycleClass.FETCH_OTHER)
        m_why = Signal(CycleClass, init=CycleClass.FETCH_OTHER)
        m_class = Signal(CycleClass)       # what this cycle is charged to
        flush_class = Signal(CycleClass)   # the class of the slots M's redirect empties
        redirect_class = Signal(CycleClass, init=CycleClass.FETCH_OTHER)
        boot_step = Signal()

        # ================= W: write-back and retire =================
        w_final = w_value
        w_writes = w_valid & ~w_trap & ~w_wait & (w_rd != 0)
        with m.If(~booted):
            m.d.comb += [wp.addr.eq(Mux(boot_step, 11, 10)),
                         wp.data.eq(Mux(boot_step, self.dtb_addr, self.hartid)), wp.en.eq(1)]
            m.d.sync += boot_step.eq(1)
            with m.If(boot_step):
                m.d.sync += booted.eq(1)
        with m.Else():
            m.d.comb += [wp.addr.eq(w_rd), wp.data.eq(w_final), wp.en.eq(w_writes)]

        # The retire port leaves the core from flip-flops (retire.py): the record
        # of W's retirement appears on self.retire in the next cycle, all fields
        # loaded every cycle (the consumers read them only with valid).  The MMU
        # reports its events a cycle late alike (self.mmu_events, above).
        order = Signal(64)
        ret = RetireSignature().create(path=("w_ret",))
        m.d.sync += registered(ret, self.retire)
        with m.If(w_valid & ~w_wait):
            m.d.sync += order.eq(order + 1)
        m.d.comb += [
            ret.valid.eq(w_valid & ~w_wait), ret.order.eq(order), ret.pc.eq(w_pc),
            ret.insn.eq(w_insn), ret.priv.eq(w_priv), ret.rd.eq(w_rd),
            ret.rd_wdata.eq(Mux(w_rd == 0, 0, w_final)),
            ret.mem_addr.eq(w_mem_addr), ret.mem_rmask.eq(w_rmask), ret.mem_wmask.eq(w_wmask),
            # a load's bytes: the low ones of its value (w_rmask: its size)
            ret.mem_rdata.eq(Mux(w_load, w_value & bytes_of(w_rmask), w_amo_rdata)),
            ret.mem_wdata.eq(w_mem_wdata), ret.trap.eq(w_trap), ret.intr.eq(w_intr),
            ret.cause.eq(w_cause), ret.tval.eq(w_tval),
        ]

        # ================= the memory port (memport.py) =================
        # The walker, the memory stage and the fetch unit share the core's bus
        # through request registers; stores to RAM wait in its write buffer.
        m.submodules.port = port = MemoryPort(
            ram_base=self.ram_base, ram_bits=self._ram_bits,
            entries=self.wbuf_entries, line=self.wbuf_line,
            conflict_line=max(self.icache_line, self.dcache_line, self.wbuf_line),
            fetch_ahead=True, answer_registered=self.answer_registered,
            checks=self.checks)
        wiring.connect(m, port.bus, wiring.flipped(self.bus))
        wiring.connect(m, mmu.bus, walker_gate.up)
        wiring.connect(m, walker_gate.down, port.walker)
        wiring.connect(m, fetch.bus, port.fetch)
        m.d.comb += port.fetch_next_addr.eq(fetch.bus_next_addr)
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
        # The fetch unit sees M's decisions a cycle late, from registers, like X's
        # misprediction: M's redirect, the fetch's part of flush_xlate and fence.i.
        # M's decision (the CSR file's legality and read, the commit or trap in
        # M's state machine) then ends at these flip-flops and D's kill, not at
        # the fetch unit's pc, queue, cache lookup, micro-TLB, return stack and
        # state (the static estimate's worst endpoints of the merge of tmready,
        # tfront3 and tpmp2, 29-35 ns, all from M's csr.addr).  In the cycle after
        # M's redirect, X and M are empty (M redirects only as it finishes, with
        # ``adv``, and ``d_kill`` stopped D's instruction), and D's is killed
        # again (``fr_valid``: the queue still holds the old path's words, it is
        # emptied in this cycle).  The three arrive in one cycle, as they did
        # before: a translation or a line the fetch unit finishes on the old path
        # in that cycle is forgotten with them.  Privilege and satp have changed
        # a cycle before the fetch unit hears of it: fetch.py's ``unmapped`` and
        # ``fetch_free`` below lag them in the cycle of the redirect, when the
        # fetch unit acts on nothing it reads from the address.  A refetch from
        # M costs a cycle more.  (The registers are loaded in "X: execute".)
        m.d.comb += [
            fetch.booted.eq(booted), fetch.redirect.eq(fr_valid),
            fetch.redirect_pc.eq(fr_pc), fetch.fence_i.eq(fr_fence_i),
            fetch.priv.eq(priv), fetch.satp.eq(csr.satp),
            fetch.flush_xlate.eq(fr_flush), fetch.pipe_empty.eq(~x_valid & ~m_valid & ~w_wait),
            fetch.pop.eq(adv & ~hazard),
            # every write that reaches memory through this core's port, and DMA's
            fetch.snoop_valid.eq(port.wr_valid | self.snoop_valid),
            fetch.snoop_addr.eq(Mux(self.snoop_valid, self.snoop_addr, port.wr_addr)),
        ]
        wiring.connect(m, fetch.mmu, mmu.ifetch)
        wiring.connect(m, fetch.pmp, pmp.req2)
        # (a flip-flop: the fetch unit's choice of the block RAM address starts from
        # it, not from the privilege's compare and the PMP's ``on``.  Exact with
        # ``on_next``; the privilege changes only with a trap or an xRET, which
        # redirect the fetch in the next cycle (``fr_valid``), when this
        # flip-flop lags the privilege and the fetch unit acts on nothing it
        # reads from the address (fetch.py, ``unmapped``), and in the cycle
        # after a redirect the fetch unit reads no ``pmp_free`` (its ``rd_ok``
        # is 0))
        fetch_free = Signal(init=1)         # (M mode, no entry on after reset)
        m.d.sync += fetch_free.eq((priv == Priv.M) & ~pmp.on_next)
        m.d.comb += fetch.pmp_free.eq(fetch_free)
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

        def forward_w(idx, value):
            return Mux(w_writes & (w_rd == idx), w_final, value)

        m.d.comb += [rp1.addr.eq(dd.rs1), rp2.addr.eq(dd.rs2)]
        d_rs1v = forward_w(dd.rs1, rp1.data)
        d_rs2v = forward_w(dd.rs2, rp2.data)

        xk = x_dec.kind
        x_late = x_valid & (x_dec.rd != 0) & (
            (xk == Kind.LOAD) | (xk == Kind.AMO) | (xk == Kind.MULDIV) | (xk == Kind.CSR))
        # (whether D's instruction reads X's destination is found in the fetch
        # unit, for each word of its queue: ``reads_registers`` in decoder.py)
        m.d.comb += [fetch.late_rd.eq(x_dec.rd),
                     hazard.eq(d_valid & x_late & fetch.head_reads_late)]

        # Why D gives X no instruction (perf.py).
        d_why = Signal(CycleClass)
        with m.If(d_kill):
            m.d.comb += d_why.eq(Mux(m_redirect, flush_class,
                                     Mux(fr_valid, fr_class, CycleClass.MISPREDICT)))
        with m.Elif(~d_valid):
            with m.Switch(fetch.wait):
                with m.Case(FetchWait.REDIRECT):
                    m.d.comb += d_why.eq(redirect_class)
                with m.Case(FetchWait.ICACHE_MISS):
                    m.d.comb += d_why.eq(CycleClass.ICACHE_MISS)
                with m.Case(FetchWait.ITLB):
                    m.d.comb += d_why.eq(CycleClass.ITLB)
                with m.Default():
                    m.d.comb += d_why.eq(CycleClass.FETCH_OTHER)
        with m.Else():
            m.d.comb += d_why.eq(Mux(xk == Kind.LOAD, CycleClass.LOAD_USE,
                                     CycleClass.INTERLOCK))
        with m.If(fr_valid):
            m.d.sync += redirect_class.eq(fr_class)

        # D -> X
        with m.If(adv):
            m.d.sync += [
                x_why.eq(d_why),
                x_valid.eq(d_valid & ~hazard & ~d_kill),
                x_pc.eq(d_pc), x_insn.eq(d_insn), x_dec.eq(dd),
                x_dec.rd.eq(Mux(writes_rd, dd.rd, 0)),
                x_rs1v.eq(d_rs1v), x_rs2v.eq(d_rs2v), x_pred.eq(d_pred),
                x_exc.eq(d_fault), x_cause.eq(d_fault_cause),
                x_bp_hit.eq(d_bp_hit), x_bp_ctr.eq(d_bp_ctr),
            ]
        with m.Elif(m_redirect):
            # (M refetches without the stages advancing: X's slot is flushed)
            m.d.sync += [x_valid.eq(0), x_why.eq(flush_class)]

        # The forwarding choices of X's operands, decided as the instruction enters
        # X (so they come from flip-flops, not from this cycle's commit or trap):
        # from M when the instruction entering M (X's now) writes the register,
        # from W when the one entering W (M's now) does.  An instruction in M
        # that does not commit then traps, and the trap kills the one entering X
        # as well, so M's valid bit stands for its commit.  While X waits, M keeps
        # its instruction, and W is empty from the second cycle on (what W had
        # went into x_rs1v/x_rs2v): the choice from W counts only with w_valid,
        # so it is computed every cycle, whether the stages advance or not.
        x_writes = x_valid & (x_dec.rd != 0)
        m_writes = m_valid & (m_dec.rd != 0)
        fwd_m = [Signal(name=f"fwd_m{i}") for i in (1, 2)]    # rs1, rs2 from M
        fwd_w = [Signal(name=f"fwd_w{i}") for i in (1, 2)]    # ... from W
        for fm, fw, rs in zip(fwd_m, fwd_w, (dd.rs1, dd.rs2)):
            with m.If(adv):
                m.d.sync += fm.eq(x_writes & (x_dec.rd == rs))
            # (W's waiting load keeps its choice: M's instruction is not W's next.
            # When M finishes without the stages advancing, X keeps its
            # instruction, which does not read that result: it is a late one,
            # whose consumer D holds back (``hazard``), or writes no register.)
            with m.If(~w_wait):
                m.d.sync += fw.eq(adv & m_writes & (m_dec.rd == rs))

        # ================= X: execute =================
        xf3 = x_dec.funct3
        x_imm = Signal(64)
        m.d.comb += x_imm.eq(x_dec.imm)

        def forward(from_m, from_w, value, m_src=m_result, w_src=w_final):
            return Mux(from_m, m_src, Mux(from_w & w_valid, w_src, value))

        op1 = Signal(64)
        op2 = Signal(64)
        m.d.comb += [op1.eq(forward(fwd_m[0], fwd_w[0], x_rs1v)),
                     op2.eq(forward(fwd_m[1], fwd_w[1], x_rs2v))]
        # The base register's page for the data address (the micro-TLB's search,
        # the fast path's physical page, the write buffer's pages): op1's bits
        # 63:12, but forwarded from W out of a copy of W's value of its own,
        # ``w_page``.  W's register feeds X's ALU and the register file and is
        # placed beside them; the copy feeds only this, so the placer may put it
        # by the data cache and the micro-TLB, often at the other end of the chip
        # (on tq's four seeds this path, w_value -> the micro-TLB -> mem_paddr,
        # was the worst, with 17.5 of its 21 ns in routing; on none of tc's four
        # it is, measurements.md).  The copy is loaded only while M
        # holds an instruction or W waits for its load's word: the only cycles
        # whose value X may forward next (a forward from W needs M's instruction,
        # or the waiting load), and an enable of its own keeps Yosys from merging
        # it with W's register.
        w_page = Signal(52)
        x_base_page = Signal(52)
        m.d.comb += x_base_page.eq(forward(fwd_m[0], fwd_w[0], x_rs1v[12:],
                                           m_result[12:], w_page))
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
        # The branch condition has a subtraction of its own, of the forwarded
        # operands: the ALU's operand b passes the immediate's multiplexer, whose
        # select (decoded from the kind) drove 64 inputs before the carry chain
        # (tadv3's seed 1: x_dec.kind -> m_quick, 72 cells, 32.6 ns placed).
        br_sub = Signal(65)
        m.d.comb += br_sub.eq(Cat(op1, C(0, 1)) - Cat(op2, C(0, 1)))
        cond = Signal()
        with m.Switch(xf3[1:3]):
            with m.Case(0): m.d.comb += cond.eq(op1 == op2)
            with m.Case(2): m.d.comb += cond.eq(Mux(op1[63] ^ op2[63], op1[63], br_sub[63]))
            with m.Case(3): m.d.comb += cond.eq(br_sub[64])
        is_branch = xk == Kind.BRANCH
        is_jump = (xk == Kind.JAL) | (xk == Kind.JALR)
        taken = Signal()
        m.d.comb += taken.eq(is_jump | (is_branch & (cond ^ xf3[0])))
        # The jump target has an adder of its own (not the ALU's result multiplexers),
        # and the prediction is compared with both possible next pcs at once: the
        # branch condition, the last to settle, only picks one of two compares.
        jalr_sum = Signal(64)
        m.d.comb += jalr_sum.eq(op1 + x_imm)
        target = Signal(64)
        m.d.comb += target.eq(Mux(xk == Kind.JALR, Cat(C(0, 1), jalr_sum[1:]), x_pcimm))
        x_actual = Mux(taken, target, x_pc4)
        target_wrong = Signal()
        fall_through_wrong = Signal()
        m.d.comb += [target_wrong.eq(target != x_pred), fall_through_wrong.eq(x_pc4 != x_pred)]
        mispredicted = Mux(taken, target_wrong, fall_through_wrong)
        # A misaligned target (bit 1; bit 0 is 0 or cleared) without the target's
        # sum: for a branch or JAL bit 1 of pc + imm, for JALR bit 1 of rs1 + imm,
        # from the two low bits.  A jump's misalignment does not wait for the
        # branch condition (its carry chain), a branch's only for whether it is
        # taken: so the flags M needs (below) and the return stack's updates
        # leave out the condition.
        x_pcimm_1 = x_pc[1] ^ x_imm[1] ^ (x_pc[0] & x_imm[0])
        jalr_sum_1 = op1[1] ^ x_imm[1] ^ (op1[0] & x_imm[0])
        jump_misaligned = is_jump & Mux(xk == Kind.JALR, jalr_sum_1, x_pcimm_1)
        branch_off_misaligned = is_branch & x_pcimm_1      # (misaligned if taken)
        target_misaligned = jump_misaligned | (branch_off_misaligned & (cond ^ xf3[0]))
        x_ok = x_valid & ~x_exc
        # While W waits for its load's line (w_wait), an operand X forwards from W
        # is not there yet: X then neither redirects nor updates the predictor
        # (it does as W gets the word, the stages still waiting).
        x_stale = w_wait & (fwd_w[0] | fwd_w[1])
        # X redirects once while it waits: ``x_redirected`` remembers that it did
        # (its operands, and so its next pc, do not change while it waits), so
        # that x_pred is loaded only as an instruction enters X, with ``adv`` as
        # its enable and D's prediction as its value (not also from X's own late
        # compare and next pc).
        x_redirected = Signal()
        m.d.comb += [
            x_redirect.eq(x_ok & ~target_misaligned & mispredicted & ~m_redirect &
                          ~x_redirected & ~x_stale),
            x_redirect_pc.eq(x_actual),
        ]
        m.d.sync += x_redirected.eq(~adv & (x_redirected | x_redirect))
        # The redirect itself waits a cycle in registers: the compare above (at the
        # end of the ALU's carry chain and the forwarding muxes) then ends at a
        # few flip-flops and D's kill, not at the fetch unit's pc, queue and
        # state (large fanout).  The fetch unit goes on along the wrong path for
        # that cycle; what it delivers is killed in D (``d_kill``) and its queue is
        # emptied by the redirect.  A mispredict costs a cycle more.
        # (M's redirect goes into the same registers: see "F: fetch")
        m.d.sync += [
            fr_valid.eq(m_redirect | x_redirect),
            fr_pc.eq(Mux(m_redirect, m_redirect_pc, x_actual)),
            fr_class.eq(Mux(m_redirect, flush_class, CycleClass.MISPREDICT)),
            fr_flush.eq(flush_xlate),
            fr_fence_i.eq(m_fence_i),
        ]
        m.d.comb += [
            self.ev_ihit.eq(fetch.ev_hit), self.ev_imiss.eq(fetch.ev_miss),
            self.ev_branch.eq(adv & x_ok & (is_branch | is_jump)),
            self.ev_mispred.eq(x_redirect),
        ]
        # Event counters for the benchmarks (bench/boot_bench.py reads them by name
        # from the compiled model; synthesis drops them, nothing reads them there).
        mev = mmu.events

        def mmu_event(kind, port=None):
            return mev.valid & (mev.kind == kind) & (1 if port is None else mev.port == port)

        events = {"ihit": self.ev_ihit, "imiss": self.ev_imiss,
                  "dhit": self.ev_dhit, "dmiss": self.ev_dmiss,
                  "branch": self.ev_branch, "mispred": self.ev_mispred,
                  "itlb_hit": mmu_event(EventKind.TLB_HIT, 0),
                  "itlb_miss": mmu_event(EventKind.TLB_MISS, 0),
                  "dtlb_hit": mmu_event(EventKind.TLB_HIT, 1),
                  "dtlb_miss": mmu_event(EventKind.TLB_MISS, 1),
                  "pte_read": mmu_event(EventKind.PTE_READ)}
        assert list(events) == list(EVENTS)
        m.d.comb += [self.perf_events.eq(Cat(events.values())), self.perf_class.eq(m_class)]
        for i, name in enumerate(EVENTS):
            counter = self.perf[name]
            with m.If(self.perf_events[i]):
                m.d.sync += counter.eq(counter + 1)
        # ... and one per cycle class: every cycle adds one to exactly one of them
        with m.Switch(m_class):
            for cls in CycleClass:
                with m.Case(cls):
                    counter = self.perf[cls.counter[5:]]
                    m.d.sync += counter.eq(counter + 1)

        # Branch predictor update: every resolved branch/jump, and stale hits.
        # Calls and returns (the ISA's hints: a jump writing a link register, x1
        # or x5, is a call; JALR x0 through a link register a return) also keep
        # the fetch unit's return-address stack (ras.py): registered as the
        # instruction leaves X, so the stack sees only resolved instructions and
        # the late ``adv`` only reaches these two flip-flops' inputs.  The link
        # address pushed is M's result in that next cycle (x_pc + 4).
        x_link = lambda r: (r == 1) | (r == 5)     # noqa: E731
        is_call = is_jump & x_link(x_dec.rd)
        is_return = (xk == Kind.JALR) & (x_dec.rd == 0) & x_link(x_dec.rs1)
        ras_push = Signal()
        ras_pop = Signal()
        # (calls and returns are jumps, always taken: their misalignment is
        # target[1] alone, so the branch condition, at the end of the ALU's carry
        # chain, does not reach these two flip-flops)
        ras_ok = adv & x_ok & ~jump_misaligned & ~m_redirect
        m.d.sync += [ras_push.eq(ras_ok & is_call), ras_pop.eq(ras_ok & is_return)]
        # The link address pushed has a register of its own, loaded in every cycle
        # with X's pc + 4 (in the push's cycle it holds the call's, which left X
        # in the cycle before): M's result came at the end of the ALU and its
        # result multiplexers (static: -> fetch.ras.value, 26.7 ns, 16 cells,
        # the stack's write register merged into its memory).
        ras_link = Signal(64)
        m.d.sync += ras_link.eq(x_pc4)
        m.d.comb += [fetch.ras_push.eq(ras_push), fetch.ras_pop.eq(ras_pop),
                     fetch.ras_value.eq(ras_link)]
        new_ctr = Signal(2)
        with m.If(~x_bp_hit):
            m.d.comb += new_ctr.eq(2)
        with m.Elif(taken):
            m.d.comb += new_ctr.eq(Mux(x_bp_ctr == 3, 3, x_bp_ctr + 1))
        with m.Else():
            m.d.comb += new_ctr.eq(Mux(x_bp_ctr == 0, 0, x_bp_ctr - 1))
        # (registered: the table is written a cycle after X resolves, so the branch
        # condition, late, ends at these flip-flops and not at the block RAM's write
        # port; the fetch after a redirect reads the table a cycle after the
        # redirect, when this write is done)
        m.d.sync += [
            fetch.bp_upd_valid.eq(x_ok & ~x_stale &
                                  (is_jump | (is_branch & (x_bp_hit | taken)) | x_bp_hit)),
            fetch.bp_upd_pc.eq(x_pc),
            fetch.bp_upd_keep.eq(is_jump | is_branch),
            fetch.bp_upd_jump.eq(is_jump),
            fetch.bp_upd_ret.eq(is_return),
            fetch.bp_upd_counter.eq(new_ctr),
            fetch.bp_upd_target.eq(target),
        ]

        # The data micro-TLB (utlb.py) is searched with the page of the base register,
        # in parallel with the address addition; when the address lies in that page
        # (almost always) M has its physical page at once.  The address (base + a
        # sign-extended 12-bit offset; AMOs: 0) stays in the base register's page
        # when the carry out of the offset's 12-bit addition cancels its sign: a
        # 12-bit addition in X instead of a 52-bit compare in M.
        # The same 12-bit addition gives the page offset of the address, which goes
        # to the data cache's block RAM (``x_offset``, not the ALU's result: no
        # shifter and result multiplexers on the way to the RAM's address pins).
        m.d.comb += dutlb.vpn.eq(x_base_page)
        x_offset_sum = Signal(13)
        m.d.comb += x_offset_sum.eq(op1[0:12] + x_imm[0:12])
        x_offset = x_offset_sum[:12]
        x_same_page = x_offset_sum[12] == x_imm[63]

        # The data fast path, decided as the instruction enters M: in M mode with
        # no PMP entry on (``data_free``), or when the micro-TLB's entry of the
        # base register's page holds the address (and allows a store), M takes
        # the physical address below at once.  Both go into flip-flops here
        # (``m_fast``, ``mem_paddr``), so that M's data cache lookup (the tag
        # compare), the write buffer's store address and the data requester's
        # address start from mem_paddr's flip-flops and not from a multiplexer of
        # the micro-TLB's page, the virtual address and M's state, and M's
        # choice of the fast path starts from one flip-flop.  (``data_unmapped``
        # and ``data_free`` change only with the privilege, mstatus, satp or the
        # PMP CSRs: after a trap, an xRET or a refetching CSR write, whose
        # younger instructions enter X at least two cycles later, when both
        # registers have followed.)
        # The fast path keeps to the base register's page (``x_same_page``), also
        # without translation: the physical page is then the base register's, or
        # the micro-TLB's entry of it, not the ALU's sum (whose carry chain and
        # result multiplexers stay off the path to mem_paddr), and whether the
        # address lies in RAM goes into a flip-flop beside it (``m_in_ram``): the
        # base register's page compared with RAM's, or the entry's mark (filled
        # with it).  An access that leaves its base register's page in M mode
        # with no PMP entry on (``data_free``) is translated (XLATE: two cycles
        # more; such accesses are rare, and M mode runs little).
        data_priv = Mux((priv == Priv.M) & ms.mprv, ms.mpp, priv)
        data_unmapped = Signal()
        m.d.sync += data_unmapped.eq((data_priv == Priv.M) | satp_bare)
        data_free = Signal()
        m.d.sync += data_free.eq((data_priv == Priv.M) & ~pmp.on)
        x_is_read = (xk == Kind.LOAD) | ((xk == Kind.AMO) & (x_dec.funct5 == AmoOp.LR))
        x_fast = Signal()
        x_fast_paddr = Signal(56)
        m.d.comb += [
            x_fast.eq(x_same_page & (data_free | (dutlb.hit & (x_is_read | dutlb.store_ok)))),
            # (the low 12 bits: the address's, x_offset, for loads, stores and AMOs)
            x_fast_paddr.eq(Cat(x_offset, Mux(data_unmapped, x_base_page[:44], dutlb.ppn))),
        ]
        x_in_ram = Mux(data_unmapped, self._in_ram(Cat(C(0, 12), x_base_page[:44])), dutlb.mark)

        # Instructions that M commits in START unless an interrupt comes (their
        # result is m_result): flagged as they enter M, so that this commit, the
        # most frequent, reaches ``adv`` from one flip-flop and the interrupt's.
        # The legality of a CSR or system instruction (the CSR's existence and
        # privilege, the counter enables, mstatus.TVM/TSR/TW), checked in X and
        # registered as the instruction enters M, so that M's trap-or-commit in
        # START does not wait for it.  What it reads changes only with a trap or
        # an xRET (a flush), a write of mstatus (which refetches) or of
        # mcounteren, scounteren or menvcfg, which commit a cycle after the write
        # (CSR_SETTLE), when the check of the instruction in X reads the new value.
        m.d.comb += [csr.x_addr.eq(x_dec.csr), csr.x_read.eq(xk == Kind.CSR),
                     csr.x_write_intent.eq((xf3[0:2] == 1) | (x_dec.rs1 != 0))]
        x_sys_illegal = Signal()
        with m.Switch(xk):
            for k in (Kind.MRET, Kind.SRET, Kind.WFI, Kind.SFENCE):
                with m.Case(k):
                    m.d.comb += x_sys_illegal.eq(illegal_in_mode(k, priv, ms))
        m_csr_illegal = Signal()           # (with adv: CSR_READ reads it after START)
        m_sys_illegal = Signal()
        with m.If(adv):
            m.d.sync += m_csr_illegal.eq(csr.x_illegal)

        x_simple = Signal()
        with m.Switch(xk):
            with m.Case(Kind.ALU, Kind.LUI, Kind.AUIPC, Kind.JAL, Kind.JALR, Kind.BRANCH,
                        Kind.FENCE):
                m.d.comb += x_simple.eq(1)

        # What M's commit in START will need, decided here (see "M: the advance"):
        # ``m_quick``, the instruction commits in START unless an interrupt comes
        # (m_simple's, a CSR instruction that only reads, a legal xRET, fence.i);
        # ``m_qmem``, a load or store that reaches the data cache in START (the
        # fast path, in RAM, within a doubleword, in the physical address space;
        # the address's page is the base register's, so its top byte is op1's).
        # These flags (and ``m_simple``) are read only while M holds a valid
        # instruction, so only as they were loaded together with ``m_valid``
        # (``x_valid & ~m_redirect``): they leave out X's valid bit and M's
        # redirect (M's late decision), which ``m_valid`` has.  A load or store
        # never jumps, so ``m_qmem`` also leaves out ``target_misaligned`` (the
        # branch condition's 64-bit compare and the jump target's sum: they were
        # the longest path into ``m_qmem``).  ``m_quick`` and ``m_simple`` leave
        # out the branch condition: a branch whose offset leads to a misaligned
        # target (none that a compiler writes) is neither, taken or not; M
        # traps it if taken (``m_exc``), else commits it in START without the
        # stages advancing (a cycle more).
        x_flag_ok = ~x_exc & ~jump_misaligned & ~branch_off_misaligned
        x_csr_writes = (xf3[0:2] == 1) | (x_dec.rs1 != 0)
        x_csr_instret = (x_dec.csr == CSR.MINSTRET) | (x_dec.csr == CSR.INSTRET)
        x_quick = Signal()
        with m.Switch(xk):
            with m.Case(Kind.CSR):
                m.d.comb += x_quick.eq(~x_csr_instret & ~x_csr_writes & ~csr.x_illegal)
            with m.Case(Kind.MRET, Kind.SRET):
                m.d.comb += x_quick.eq(~x_sys_illegal)
            with m.Case(Kind.FENCE_I):
                m.d.comb += x_quick.eq(1)
            with m.Default():
                m.d.comb += x_quick.eq(x_simple)
        x_end_off = Signal(4)
        m.d.comb += x_end_off.eq(x_offset[0:3] + (1 << xf3[0:2]) - 1)
        x_qmem = Signal()
        m.d.comb += x_qmem.eq(((xk == Kind.LOAD) | (xk == Kind.STORE)) & x_fast &
                              ~x_end_off[3] & ~(data_unmapped & (x_base_page[44:] != 0)))
        m_quick = Signal()
        m_qmem = Signal()
        # M's instruction's kind, as flip-flops for the advance (loaded with m_dec)
        m_is_ld = Signal()
        m_is_st = Signal()
        m_is_rmw = Signal()
        # ... and the classes M's memory states and the PMP's and MMU's access kind
        # are chosen by, each a flip-flop: the PMP's answer decides M's next
        # state, and its access kind from m_dec's kind and funct5 was two LUTs
        # and a long net before it (tport5 seed 1: m_dec.kind -> mem_state,
        # 29.8 ns placed, 13 cells); W's value chose by them too.
        m_is_read = Signal()               # a load or LR
        m_is_lr = Signal()
        m_is_sc = Signal()
        m_is_amo = Signal()                # any AMO, LR and SC included
        m_is_mem = Signal()                # a load, store or AMO
        m_csr_ro = Signal()                # a CSR instruction that writes nothing
        m_csr_refetch = Signal()           # ... that refetches (satp, mstatus, pmp*)

        # X -> M; a waiting X keeps its operands up to date.  M may also finish
        # its instruction without the stages advancing (``m_done`` without
        # ``adv``: "M: the advance"): M is then empty in the next cycle.
        with m.If(adv):
            m.d.sync += [
                m_valid.eq(x_valid & ~m_redirect),
                m_pc.eq(x_pc), m_insn.eq(x_insn), m_dec.eq(x_dec), m_result.eq(x_result),
                m_rs1v.eq(op1), m_rs2v.eq(op2),
                m_is_ld.eq(xk == Kind.LOAD), m_is_st.eq(xk == Kind.STORE),
                m_is_rmw.eq((xk == Kind.AMO) & (x_dec.funct5 != AmoOp.LR) &
                            (x_dec.funct5 != AmoOp.SC)),
                m_is_read.eq(x_is_read),
                m_is_lr.eq((xk == Kind.AMO) & (x_dec.funct5 == AmoOp.LR)),
                m_is_sc.eq((xk == Kind.AMO) & (x_dec.funct5 == AmoOp.SC)),
                m_is_amo.eq(xk == Kind.AMO),
                m_is_mem.eq((xk == Kind.LOAD) | (xk == Kind.STORE) | (xk == Kind.AMO)),
                m_csr_ro.eq(~x_csr_writes),
                m_csr_refetch.eq((x_dec.csr == CSR.SATP) | (x_dec.csr == CSR.MSTATUS) |
                                 ((x_dec.csr >= CSR.PMPCFG0) & (x_dec.csr <= CSR.PMPADDR63))),
            ]
        with m.Elif(m_done):
            m.d.sync += m_valid.eq(0)
        with m.If(~adv):
            m.d.sync += [x_rs1v.eq(op1), x_rs2v.eq(op2)]
        # The registers that M reads only in state START (its exception, the
        # fast path's flag, the class of its commit) are loaded in every cycle
        # of START too: M stays in START only when it finishes there (``adv``),
        # and what they take while M leaves START for another state is never
        # read; the next instruction's values come with M's commit there
        # (``adv`` from another state).  So their enables do not wait for M's
        # decision in START (the data cache's hit, the write buffer's answer, the
        # interrupt).  (After M finishes without ``adv``, M is in START, empty.)
        # But for ``w_missed``: then M leaves START for WFILL and comes back to
        # START with the same instruction.
        with m.If((m_in_start & ~w_missed) | adv):
            m.d.sync += [
                m_fast.eq(x_fast),
                m_quick.eq(x_flag_ok & x_quick),
                m_qmem.eq(~x_exc & x_qmem & x_in_ram),
                m_why.eq(Mux(m_redirect, flush_class, x_why)),
                m_simple.eq(x_flag_ok & x_simple),
                m_sys_illegal.eq(x_sys_illegal),
                m_exc.eq(x_exc | target_misaligned),
                m_cause.eq(Mux(x_exc, x_cause, Cause.INSN_MISALIGNED)),
                m_tval.eq(Mux(x_exc, x_pc, target)),
            ]

        # ================= M: memory access, system instructions, commit =================
        kind = m_dec.kind
        f3 = m_dec.funct3
        size = f3[0:2]
        is_lr = m_is_lr                    # (flip-flops loaded with m_dec, above)
        is_sc = m_is_sc
        is_rmw = m_is_rmw
        is_read = m_is_read
        store_like = ~is_read
        size_mask = size_mask_of(m, size)
        mem_vaddr = m_result
        byte_off = mem_vaddr[0:3]
        misaligned = Signal()
        with m.Switch(size):
            with m.Case(1): m.d.comb += misaligned.eq(mem_vaddr[0])
            with m.Case(2): m.d.comb += misaligned.eq(mem_vaddr[0:2] != 0)
            with m.Case(3): m.d.comb += misaligned.eq(mem_vaddr[0:3] != 0)
        # A misaligned load or store whose bytes cross a doubleword (so perhaps a
        # cache line or a page) is made as two doubleword accesses (states MIS_*).
        end_off = Signal(4)                # the offset of its last byte in the doubleword
        m.d.comb += end_off.eq(byte_off + (1 << size) - 1)
        crosses = end_off[3]
        page_cross = crosses & (mem_vaddr[3:12] == 0x1FF)

        amo_old = Signal(64)               # an AMO's read, extended, registered
        amo_new = Signal(64)
        resv_valid = Signal()
        resv_addr = Signal(56)
        sc_match = Signal()                # an SC's reservation matched (SC_CHECK)
        sc_match_now = resv_valid & (resv_addr == mem_paddr)
        csri = CSRInstruction()            # the CSR instruction in M (system.py)
        trap = PendingTrap()               # the trap M decided on, taken in state TRAP

        # An AMO is aligned: a word at byte 0 or 4 of the doubleword (sign-extended,
        # as the .W forms compute on 64 bits), or the doubleword.  It is extended
        # as the read comes (one LUT behind the bus's read data) into ``amo_old``,
        # so that the AMO's adder and compare in AMO_OP start at a flip-flop
        # without the load's general shifter before them.
        amo_word = Mux(byte_off[2], dbus.rdata[32:], dbus.rdata[:32])
        amo_read = Mux(size == 2, amo_word.as_signed(), dbus.rdata)
        amo_src = Mux(size == 2, m_rs2v[:32].as_signed(), m_rs2v)
        m.d.comb += [amo.funct5.eq(m_dec.funct5), amo.old.eq(amo_old), amo.src.eq(amo_src)]
        store_value = Mux(is_rmw, amo_new, m_rs2v)

        # The data fast path (as in the multi-cycle core; decided in X, above): M
        # mode with no PMP entry switched on: no translation, nothing to check.
        # Otherwise the page of the last translated access is remembered when the
        # PMP allows it as a whole (in M mode and Bare it translates to itself).
        # the misaligned access's part being translated: its first byte
        mis_active = Signal()
        mis_vaddr = Signal(64)
        mis_part = Signal()                # 0: the first page, 1: the second page
        mis_pa_lo = Signal(56)             # the two doublewords
        mis_pa_hi = Signal(56)
        mis_lo = Signal(64)                # ... and what a load found there
        mis_hi = Signal(64)
        m.d.comb += [
            dpmp.priv.eq(data_priv), dpmp.access.eq(Mux(is_read, Access.LOAD, Access.STORE)),
            mmu.data.vaddr.eq(Mux(mis_active, mis_vaddr, mem_vaddr)),
            mmu.data.access.eq(Mux(is_read, Access.LOAD, Access.STORE)),
            mmu.data.priv.eq(data_priv),
            mmu.sfence.vaddr.eq(m_rs1v), mmu.sfence.asid.eq(m_rs2v[:16]),
            mmu.sfence.all_vaddr.eq(m_dec.rs1 == 0), mmu.sfence.all_asid.eq(m_dec.rs2 == 0),
        ]

        # CSR instruction (system.py)
        csr_instret = (m_dec.csr == CSR.MINSTRET) | (m_dec.csr == CSR.INSTRET)
        csr_refetch = ((m_dec.csr == CSR.SATP) | (m_dec.csr == CSR.MSTATUS) |
                       ((m_dec.csr >= CSR.PMPCFG0) & (m_dec.csr <= CSR.PMPADDR63)))
        csri.operands(m, csr, m_dec, m_rs1v)
        m.d.comb += [muldiv.funct3.eq(f3), muldiv.word.eq(m_dec.word),
                     muldiv.a.eq(m_rs1v), muldiv.b.eq(m_rs2v)]
        m_pc4 = (m_pc + 4)[:64]

        # The data cache (cache.py) reads its words and tags a cycle ahead: with
        # X's address (``read_x``) in the cycles where M may finish its instruction
        # without the cache, so that a load or store that then enters M has its
        # word and tags at once; with M's own address while M needs them (an
        # access that did not get them in START, a retry, an SC, an AMO's write);
        # with the page offset of a misaligned access's second doubleword
        # (``read_mis_hi``) in the cycle before that doubleword is looked up.
        # M is in state START: a flip-flop of its own beside the FSM's state
        # register (the FSM returns to START exactly when M finishes, ``m_done``),
        # so the many choices made on it (the cache's and the write buffer's
        # address, the data requester's) start from one flip-flop, not from a
        # decoder of the state.
        irq_stale = Signal()        # M's commit may change what the CSR file's irq says
        wfill_done = Signal()       # W's load has its word: M goes back to START
        m.d.sync += m_in_start.eq(m_done | wfill_done)
        read_x = Signal()
        read_mis_hi = Signal()
        m_rd_ok = Signal()          # the word and tags read out belong to M's address
        with m.If(m_in_start):
            m.d.comb += read_x.eq(m_rd_ok | ~m_valid | ~m_is_mem)
        fill_word = Signal(64)      # W's load's word, when it came before the fill's last beat
        fill_word_now = dcache.fill_beat == w_mem_addr[3:dcache.offset_bits]
        m.d.comb += [
            dcache.read_addr.eq(Mux(read_x, x_offset,
                                    Mux(read_mis_hi, mis_pa_hi[:12], m_result[:12]))),
            dcache.lookup_addr.eq(mem_paddr),
            dcache.write_data.eq(d_bus_wdata), dcache.write_sel.eq(d_bus_sel),
            dcache.bus.rdata.eq(dbus.rdata), dcache.bus.error.eq(dbus.error),
            dcache.fill_burst.eq(1),           # it only caches RAM
            # writes by others: the DMA master, the page-table walker's A/D updates
            dcache.snoop_valid.eq(self.snoop_valid | (walker_gate.down.valid &
                                  walker_gate.down.write & walker_gate.down.ready)),
            dcache.snoop_addr.eq(Mux(self.snoop_valid, self.snoop_addr,
                                     walker_gate.down.addr)),
        ]
        m.d.sync += m_rd_ok.eq(Mux(read_x, adv, ~adv))

        # A load's word (from the cache or the bus) is shifted and extended here, in
        # M, so that W holds the final value in a register: the path that forwards it
        # from W into X's ALU starts at a flip-flop.  The word of each way of the
        # cache is shifted and extended while the tags are compared; the hit
        # chooses among the results.
        # (A misaligned load's two doublewords are shifted as one: MIS_DONE.)
        # (While W waits for its load's line, the word from the fill is shifted and
        # extended as W's load asks: w_off, w_size, w_unsigned.)
        # Where a load's word comes from follows from flip-flops, not from M's
        # state and decisions: a load commits with the cache's word exactly when it
        # lies in RAM (``m_in_ram``) and is neither misaligned across doublewords
        # (``mis_active``: MIS_DONE commits it, from mis_lo/mis_hi) nor the load
        # W waits for (``w_wait``: the fill's word); loads outside RAM commit with
        # the bus's word.  (In the cycles where M commits no load, W's value is
        # not read.)
        unsigned = f3[2] & m_is_ld
        load_from_cache = m_is_ld & m_in_ram & ~mis_active & ~w_wait
        ld_other = Mux(mis_active, mis_lo, Mux(w_wait & ~fill_word_now, fill_word, dbus.rdata))
        _, other_value = load_extend(m, Cat(ld_other, Mux(mis_active, mis_hi, 0)),
                                     Mux(w_wait, w_off, byte_off), Mux(w_wait, w_size, size),
                                     Mux(w_wait, w_unsigned, unsigned))
        way_value = [load_extend(m, dcache.way_rdata[w], byte_off, size, unsigned)[1]
                     for w in range(dcache.ways)]
        # W's result: a load's value, else what the committing state gives
        # (``commit_value``); chosen by M's instruction kind, not by the state.
        # The hit's way (the tag compare, the latest of them) picks one of the
        # ways' extended words last: from the tag memory to W's register, the
        # compare and one LUT.  It picks with AND and OR, not a multiplexer:
        # Yosys's ``share`` merges two shifters whose results a multiplexer
        # chooses between into one shifter behind a multiplexer of their inputs,
        # which put the shift and extension after the compare (tport5 seed 1:
        # dcache.lookup_addr -> w_value 29.1 ns placed, 15 cells, the hit's way
        # driving 72 multiplexers of the ways' words).
        commit_value = Signal(64)
        m_loads = is_read
        if dcache.ways == 1:
            cache_value = way_value[0]
        else:
            pick1 = dcache.hit_way.replicate(64)
            cache_value = (way_value[0] & ~pick1) | (way_value[1] & pick1)
        w_next = Mux(load_from_cache, cache_value, Mux(m_loads | w_wait, other_value, commit_value))
        m.d.sync += w_value.eq(w_next)
        with m.If(m_valid | w_wait):        # (X's copy of its page: see "X: execute")
            m.d.sync += w_page.eq(w_next[12:])

        # Record fields of W that follow M every cycle (only meaningful with w_valid),
        # except while W waits for its load's line.
        with m.If(~w_wait):
            m.d.sync += [
                w_pc.eq(m_pc), w_priv.eq(priv), w_mem_addr.eq(mem_vaddr),
                w_mem_wdata.eq(low_bytes(m, store_value, size)),
                w_amo_rdata.eq(amo_old & Mux(size == 2, 0xFFFF_FFFF, C(-1, 64))),
                w_intr.eq(trap.intr), w_cause.eq(trap.cause), w_tval.eq(trap.tval),
                w_off.eq(byte_off), w_size.eq(size), w_unsigned.eq(unsigned),
                w_valid.eq(0),
            ]

        # M's states that the advance looks at, each as a flip-flop (one-hot with
        # the FSM's state register, beside it): every transition of M's FSM goes
        # through ``goto``, which sets them with the state register.
        # ``m_fin``: M's state finishes its instruction in this cycle whatever
        # comes (MIS_DONE, CSR_SETTLE, TRAP; CSR_READ of a legal read-only
        # access, CSR_WRITE unless it settles, SC_DECIDE of a failed SC: what
        # they decide on is known as M enters them).  ``bus_fin``: M's state
        # finishes with the port's answer (BUS but for an AMO's read, AMO_WRITE).
        # (PMP_PAGE: the PMP's range below.)
        in_state = {name: Signal(name=f"m_in_{name.lower()}")
                    for name in ("ACCESS", "MULDIV", "PMP_PAGE")}
        m_fin = Signal()
        bus_fin = Signal()

        def goto(state):
            m.next = state
            m.d.sync += [flag.eq(name == state) for name, flag in in_state.items()]
            fin = {"MIS_DONE": lambda: 1, "CSR_SETTLE": lambda: 1, "TRAP": lambda: 1,
                   "CSR_READ": lambda: ~m_csr_illegal & m_csr_ro,
                   "CSR_WRITE": lambda: m_csr_refetch | ~settles_now,
                   "SC_DECIDE": lambda: ~sc_match_now}.get(state, lambda: 0)
            m.d.sync += [m_fin.eq(fin()),
                         bus_fin.eq(~m_is_rmw if state == "BUS" else int(state == "AMO_WRITE"))]

        def charge(cls):
            """This cycle of M counts as ``cls`` (perf.py; a later charge wins)."""
            m.d.comb += m_class.eq(cls)

        def commit(value=0, *, done, rd=True, rmask=0, wmask=0, load=False, refetch=None,
                   flush=None):
            """M's instruction completes: to W, count it, maybe flush and refetch
            (``flush``: the class of the cycles the refetch costs).  ``done`` is
            ``m_done_start`` for a commit in state START, ``m_done_other`` in the
            other states (the helpers below that both use take it as a parameter)."""
            charge(CycleClass.RETIRE)
            m.d.comb += [done.eq(1), csr.instret_inc.eq(1)]
            if not load:
                m.d.comb += commit_value.eq(value)
            m.d.sync += [w_valid.eq(1), w_trap.eq(0), w_insn.eq(m_insn),
                         w_rd.eq(Mux(rd, m_dec.rd, 0)), w_load.eq(load),
                         w_rmask.eq(rmask), w_wmask.eq(wmask)]
            if refetch is not None:
                m.d.comb += [m_redirect.eq(1), m_redirect_pc.eq(refetch),
                             flush_class.eq(flush)]
            m.d.sync += mis_active.eq(0)
            goto("START")

        def raise_trap(cause, tval, intr=0):
            charge(CycleClass.TRAP)
            m.d.sync += trap.latch(cause, tval, intr) + [mis_active.eq(0)]
            goto("TRAP")

        def csr_read(done):
            """A CSR instruction reads its CSR (or traps): a read-only one commits,
            a writing one writes in the next cycle."""
            goto("CSR_WRITE")          # (its trap and commit below override it)
            csri.read(m, csr, raise_trap, m_insn, "CSR_WRITE",
                      commit_read_only=lambda value: commit(value, done=done),
                      illegal=m_csr_illegal)

        def xret():
            """mret/sret (the CSR file changes the privilege): refetch from xepc.
            (Decided in START only.)"""
            m.d.comb += flush_xlate.eq(1)
            m.d.sync += resv_valid.eq(0)
            commit(done=m_done_start, rd=False, refetch=csr.xret_pc,
                   flush=CycleClass.FLUSH_XRET)

        def wait_state(state, cls):
            """A legal wfi or sfence.vma: its cycles in ``state`` count as ``cls``."""
            def enter():
                charge(cls)
                goto(state)
            return enter

        def access_fault(tval=mem_vaddr):
            raise_trap(Mux(store_like, Cause.STORE_ACCESS, Cause.LOAD_ACCESS), tval)

        # The bytes that M asks the PMP (pmp.py) about, in the states that ask
        # (PMP_PAGE, PMP_ACCESS, MIS_PMP): always in mem_paddr's page, so their
        # page bits are mem_paddr's in every cycle, and their offsets follow
        # flip-flops alone (``m_in_pmp_page``, beside M's state register;
        # mis_active, mis_part; the access's size and offset), not a decoder of
        # M's state.  The PMP compares these with its remembered pages, and its
        # answer at once (``ready``) decides M's next state: so that path starts
        # at flip-flops and a 9-bit increment, not at M's state register through
        # a multiplexer per state and the misaligned access's carry chain (it was
        # mem_state -> mem_state, 35.3 ns placed, 14 cells).
        # PMP_PAGE: the whole page.  PMP_ACCESS: the access.  MIS_PMP: the bytes
        # of the misaligned access in this page: the second page's part (from its
        # first byte, mem_paddr), the first page's up to its end, or both
        # doublewords in one page.
        mis_first_part = mis_active & ~mis_part
        pmp_last_off = Signal(12)
        with m.If(in_state["PMP_PAGE"] | (mis_first_part & page_cross)):
            m.d.comb += pmp_last_off.eq(0xFFF)
        with m.Elif(mis_first_part):
            m.d.comb += pmp_last_off.eq(Cat(end_off[0:3], (mem_paddr[3:12] + 1)[:9]))
        with m.Else():
            m.d.comb += pmp_last_off.eq(Cat(end_off[0:3], mem_paddr[3:12]))
        m.d.comb += [
            dpmp.first.eq(Cat(Mux(in_state["PMP_PAGE"], 0, mem_paddr[:12]), mem_paddr[12:])),
            dpmp.last.eq(Cat(pmp_last_off, mem_paddr[12:])),
        ]
        # (with checks: the range each state means, compared with the above)
        pmp_first_ref = Signal(56)
        pmp_last_ref = Signal(56)

        def pmp_range(first, last):
            """The bytes first .. last that a state asks the PMP about (the range
            above gives them: this is its reference, compared with checks)."""
            m.d.comb += [pmp_first_ref.eq(first), pmp_last_ref.eq(last)]

        def pmp_ask():
            """Ask the PMP about the bytes of ``pmp_range``."""
            m.d.comb += dpmp.valid.eq(1)

        def memory_access(done, wait_state=None):
            """The bus transfer of a load, store, LR, SC or an AMO's read at
            ``mem_paddr``."""
            charge(Mux(m_is_amo, CycleClass.ATOMIC, CycleClass.UNCACHED))
            m.d.comb += [
                irq_stale.eq(1),            # (a device's interrupt line may change)
                d_bus_valid.eq(1),
                d_bus_write.eq(~is_read & ~is_rmw),
                d_bus_lock.eq(is_rmw),
            ]
            with m.If(d_bus_ready):
                with m.If(dbus.error):
                    access_fault()
                with m.Elif(is_rmw):
                    m.d.sync += amo_old.eq(amo_read)
                    goto("AMO_OP")
                with m.Elif(is_read):
                    with m.If(is_lr):
                        m.d.sync += [resv_valid.eq(1), resv_addr.eq(mem_paddr)]
                    commit(done=done, rd=True, rmask=size_mask, load=True)
                with m.Else():
                    with m.If(is_sc):
                        m.d.sync += resv_valid.eq(0)
                    # keep a cached copy current (of RAM: the cache's tags hold
                    # RAM's address bits only, a device's address would alias)
                    m.d.comb += dcache.write.eq(m_in_ram)
                    commit(0, done=done, rd=is_sc, wmask=size_mask)
            if wait_state is not None:
                with m.Else():
                    goto(wait_state)

        def buffered_store(done):
            """A store to RAM goes into the write buffer (memport.py) and commits in
            the cycle the buffer takes it; a cached copy of its line is updated."""
            m.d.comb += port.st_valid.eq(1)     # (its address and data: above the FSM)
            charge(CycleClass.STORE)
            # W's fields of the commit below, loaded whether the buffer takes the
            # store or not (without ``w_valid`` they mean nothing), so that
            # ``st_ready`` reaches W's valid bit but not these flip-flops' enables.
            m.d.sync += [w_trap.eq(0), w_insn.eq(m_insn), w_rd.eq(0), w_load.eq(0),
                         w_rmask.eq(0), w_wmask.eq(size_mask)]
            with m.If(port.st_ready):
                m.d.comb += dcache.write.eq(1)
                commit(0, done=done, rd=False, wmask=size_mask)
            with m.Else():
                goto("ACCESS")               # the buffer is full: try again

        # A cached load in START or ACCESS commits to W whatever the lookup says
        # (``ld_looks_up`` marks that cycle, ``looked_up()`` is the last statement
        # of both states), and M goes back to START as after a hit.  The hit (a
        # block RAM's output, 5.83 ns after the clock on the board, then the tag
        # compare) reaches only flip-flops: the cache's ``miss_q`` (its
        # ``fill_on_miss``: a miss starts the fill at once), ``w_missed`` (which
        # makes ``w_wait`` and ``fill_has_bus`` in the next cycle without
        # being one of their conditions: 43.91 MHz at 50, seed 6, when the hit
        # set them, 22.77 ns), the cache's LRU touch, the cycle's class (not the
        # CSR file's instruction counter: see below).  In the next
        # cycle ``w_missed`` (a flip-flop) makes M's START a cycle of WFILL
        # (``wait_fill``) and sends M there, so neither M's state nor the stages'
        # advance waits for the compare, and a miss costs what it did.  (Before,
        # the hit chose M's next state: main 1d9407a's board build at 50 MHz, the
        # tag compare -> M's decision -> the D-cache's fill_state, 23.33 ns; with
        # that choice last in the state, the tag compare -> the LRU touch -> M's
        # state, 22.53 ns.)
        ld_looks_up = Signal()
        m.d.sync += w_missed.eq(0)
        # (the load was counted as retired with its commit: the counter takes
        # that back in the next cycle, from ``w_missed``, and counts it again
        # as W retires it, so the hit does not travel to the CSR file)
        m.d.comb += csr.instret_undo.eq(w_missed)

        def looked_up():
            with m.If(ld_looks_up):
                # (the cache marks the way only on a hit)
                m.d.comb += [dcache.touch.eq(1), self.ev_dhit.eq(dcache.hit),
                             self.ev_dmiss.eq(~dcache.hit), dcache.fill_on_miss.eq(1)]
                with m.If(~dcache.hit):
                    charge(CycleClass.DCACHE_MISS)
                    m.d.sync += w_missed.eq(1)      # (w_wait, fill_has_bus follow)

        # W's load missed: its line is filled (started as it left M), its
        # word taken from the fill; M keeps its instruction, untouched, and
        # reads that instruction's word and tags for START (read_x is 0).
        # A fill that a DMA write spoilt (not ``filled``) is made again; a
        # failed one is the load's access fault: the load's pc and
        # instruction go back into M, whose instruction is flushed by the trap.
        # (WFILL, and START with ``w_missed``: the fill's first cycle.)
        def wait_fill():
            charge(CycleClass.DCACHE_MISS)
            goto("WFILL")
            drive_fill()
            # (leaves with done, unless the fill is made again)
            m.d.sync += [fill_bus_q.eq(~(dcache.done & (dcache.error | dcache.filled))),
                         w_filling.eq(1)]
            m.d.comb += dcache.refill.eq(~dcache.busy)
            with m.If(d_bus_ready & fill_word_now):
                m.d.sync += fill_word.eq(dbus.rdata)
            with m.If(dcache.done):
                with m.If(dcache.error):
                    raise_trap(Cause.LOAD_ACCESS, w_mem_addr)
                    m.d.sync += [m_pc.eq(w_pc), m_insn.eq(w_insn), m_result.eq(w_mem_addr),
                                 w_filling.eq(0), w_valid.eq(0)]
                with m.Elif(dcache.filled):
                    charge(CycleClass.RETIRE)       # (the load's, as it retires)
                    m.d.comb += [wfill_done.eq(1), csr.instret_inc.eq(1)]
                    m.d.sync += w_filling.eq(0)
                    goto("START")

        def start_fill(state):
            """A lookup of the previous cycle missed: fill its line, in ``state``."""
            m.d.comb += [dcache.refill.eq(1), self.ev_dmiss.eq(1)]
            m.d.sync += fill_bus_q.eq(1)
            goto(state)

        def access(done):
            """A translated load, store or AMO at ``mem_paddr``: cached loads look
            up the data cache (filling the line on a miss); everything else goes
            to the bus (stores write through), waiting in BUS."""
            with m.If(is_sc):
                charge(CycleClass.ATOMIC)
                goto("SC_CHECK")
            with m.Elif(misaligned & ~m_in_ram):
                access_fault()                  # devices take aligned accesses only
            with m.Elif(m_is_ld & m_in_ram):
                with m.If(~m_rd_ok):
                    charge(CycleClass.DCACHE_MISS)
                    goto("ACCESS")           # read the word and tags (again)
                with m.Else():
                    # The load goes to W whether it hits or not: the hit decides
                    # only what W does next (retire, or wait for the line in
                    # WFILL) and M's next state, not whether the stages advance.
                    # (what the hit decides: looked_up(), at the end of the state)
                    commit(done=done, rd=True, rmask=size_mask, load=True)
                    m.d.comb += ld_looks_up.eq(1)
            with m.Elif(m_is_st & m_in_ram):
                with m.If(m_rd_ok):
                    buffered_store(done)
                with m.Else():
                    charge(CycleClass.STORE)
                    goto("ACCESS")           # the tags, to update a cached copy
            with m.Else():
                memory_access(done, wait_state="BUS")

        # The data cache's line fill has the bus (M is in WFILL, MIS_FILL_LO or
        # MIS_FILL_HI, or in the START that a load's miss turns into WFILL's
        # first cycle): a flip-flop beside M's state register, set with the
        # transitions into those states and cleared with those out of them, or
        # ``w_missed``, so that the data requester's address (which the port
        # compares with the write buffer's lines to choose who goes on the bus
        # next) is chosen by two flip-flops and not by a decoder of M's state,
        # and the hit reaches neither.
        fill_has_bus = Signal()
        fill_bus_q = Signal()
        m.d.comb += fill_has_bus.eq(fill_bus_q | w_missed)
        m.d.sync += fill_bus_q.eq(0)        # (the fill states keep it: below)
        # The data requester's address, data and byte lanes, and the store offered
        # to the write buffer, follow M's state alone (they count only with
        # d_bus_valid or port.st_valid): the port compares the address with the
        # write buffer's lines in the cycle of the request, and the conditions under
        # which the memory stage asks (its instruction, page, PMP, interrupts) stay
        # off that path.  (A state below that asks otherwise assigns them there.)
        m.d.comb += [
            d_bus_addr.eq(Mux(fill_has_bus, dcache.bus.addr, mem_paddr)),
            d_bus_wdata.eq(store_value << (byte_off << 3)),
            d_bus_sel.eq(size_mask << byte_off),
            port.st_addr.eq(mem_paddr),
            port.st_data.eq(d_bus_wdata), port.st_sel.eq(d_bus_sel),
        ]
        def drive_fill():
            """The data cache's line fill has the bus (WFILL, MIS_FILL_*)."""
            m.d.comb += [
                d_bus_valid.eq(dcache.bus.valid),
                d_bus_sel.eq(dcache.bus.sel), d_bus_burst.eq(dcache.bus.burst_len),
                dcache.bus.ready.eq(d_bus_ready),
            ]

        mis_hit = Signal()

        def mis_load_part(half):
            """A misaligned load looks up one of its doublewords at ``mem_paddr`` (its
            tags and word were read in the previous cycle) and keeps the word; the
            hit is registered (``mis_hit``) and acted on in the next state,
            MIS_LO_SEEN or MIS_HI_SEEN, like a load's miss in ``w_missed``: a hit
            goes on, a miss fills the line and looks again.  (After the first,
            ``mem_paddr`` is the second's address, and MIS_FILL_LO goes back to
            mis_pa_lo.)"""
            m.d.sync += (mis_hi if half else mis_lo).eq(dcache.rdata)
            if not half:
                m.d.sync += mem_paddr.eq(mis_pa_hi)
            m.d.comb += [dcache.touch.eq(1), self.ev_dhit.eq(dcache.hit)]
            m.d.sync += mis_hit.eq(dcache.hit)
            goto("MIS_HI_SEEN" if half else "MIS_LO_SEEN")

        # Interrupts: the CSR file's decision (csr.py: the pending bits, enables,
        # delegation and privilege) is registered and acted on a cycle later, so
        # M's decision in START (and so ``adv``) starts from flip-flops.  What M
        # itself does to that decision: a CSR write, or an access to a device
        # (which may clear its interrupt line), commits in a state other than
        # START (``irq_stale``); in the cycle after such a commit no interrupt
        # is taken (``irq_hold``), whose registered decision is the one of the
        # commit's cycle.  So every decision M acts on is one the unregistered
        # design acted on, a cycle later (as stale as that was: the CLINT's mti
        # and Sstc's STIP are registered themselves).  A trap and xRET flush the
        # pipeline, so M is empty in the next cycle.  An interrupt that stays
        # pending is taken a cycle later than the CSR file asks.  (WFI changes
        # nothing: the instruction after it takes the interrupt that woke it, as
        # the privileged spec asks.)
        # Whether a CSR write must settle a cycle before it commits (CSR_SETTLE):
        # it may raise the interrupt decision (it sets an enable or a pending
        # bit, or changes the delegation, Sstc's switch or stimecmp), or it
        # changes what X's legality check of the next instruction reads (the
        # counter enables; menvcfg.STCE both).  (mstatus, satp and the PMP
        # refetch: M is empty in the next cycle.)
        # Decided in the read step (START or CSR_READ), from the value it reads
        # (which CSR_WRITE modifies: csri.old is latched from it), into a
        # flip-flop that CSR_WRITE acts on: so the CSR file's read multiplexer
        # and the write's new value reach this flip-flop, not CSR_WRITE's commit
        # and through it the advance.
        csr_settles = Signal()
        old_now = csr.rmw_rdata
        src_now = Mux(f3[2], m_dec.rs1, m_rs1v)
        new_now = Signal(12)
        with m.Switch(f3[0:2]):
            with m.Case(1): m.d.comb += new_now.eq(src_now)
            with m.Case(2): m.d.comb += new_now.eq(old_now | src_now)
            with m.Case(3): m.d.comb += new_now.eq(old_now & ~src_now)
        rises = (new_now & ~old_now[:12]).any()     # (the interrupts' bits)
        settles_now = Signal()
        m.d.sync += csr_settles.eq(settles_now)
        with m.Switch(m_dec.csr):
            with m.Case(CSR.MIE, CSR.SIE, CSR.MIP, CSR.SIP):
                m.d.comb += settles_now.eq(rises)
            with m.Case(CSR.SSTATUS):
                m.d.comb += settles_now.eq(new_now[1] & ~old_now[1])     # SIE
            with m.Case(CSR.MIDELEG, CSR.MENVCFG, CSR.STIMECMP):
                m.d.comb += settles_now.eq(1)
            with m.Case(CSR.MCOUNTEREN, CSR.SCOUNTEREN):      # (X's legality check)
                m.d.comb += settles_now.eq(1)
        irq_q = Signal()
        irq_cause_q = Signal.like(csr.irq_cause)
        irq_hold = Signal()
        m.d.sync += [irq_q.eq(csr.irq), irq_cause_q.eq(csr.irq_cause),
                     irq_hold.eq(m_done & irq_stale)]
        irq_now = irq_q & ~irq_hold

        with m.FSM(name="mem") as mem_fsm:
            with m.State("START"):
                with m.If(w_missed):
                    wait_fill()             # (M's instruction waits untouched)
                with m.Elif(~m_valid):
                    charge(m_why)
                    m.d.comb += m_done_start.eq(1)
                with m.Elif(m_simple & ~irq_now):
                    commit(m_result, done=m_done_start)
                with m.Elif(m_exc):
                    raise_trap(m_cause, m_tval)
                with m.Elif(irq_now):
                    raise_trap(irq_cause_q, 0, intr=1)
                with m.Else():
                    with m.Switch(kind):
                        with m.Case(Kind.BRANCH):
                            # not taken, its offset leading to a misaligned target
                            # (m_simple leaves out the condition: see "X -> M")
                            commit(m_result, done=m_done_start)
                        with m.Case(Kind.ALU, Kind.LUI, Kind.AUIPC, Kind.JAL, Kind.JALR,
                                    Kind.FENCE):
                            # Unreachable: without an exception these have m_simple
                            # (committed above); with one, m_exc traps.
                            if self.checks:
                                m.d.sync += Assert(0, "pipeline: a simple instruction "
                                                      "not committed by m_simple")
                        with m.Case(Kind.LOAD, Kind.STORE, Kind.AMO):
                            with m.If(misaligned & m_is_amo):
                                raise_trap(Mux(store_like, Cause.STORE_MISALIGNED,
                                               Cause.LOAD_MISALIGNED), mem_vaddr)
                            with m.Elif(data_unmapped & (mem_vaddr[56:64] != 0)):
                                access_fault()  # beyond the physical address space
                            with m.Elif(crosses):
                                charge(CycleClass.MISALIGNED)
                                m.d.sync += [mis_active.eq(1), mis_part.eq(0),
                                             mis_vaddr.eq(mem_vaddr)]
                                goto("MIS_XLATE")
                            with m.Elif(m_fast):
                                access(m_done_start)
                            with m.Else():
                                # (the MMU is asked from XLATE on: its request
                                # does not wait for this cycle's decision)
                                charge(CycleClass.DTLB)
                                goto("XLATE")
                        with m.Case(Kind.MULDIV):
                            charge(CycleClass.MULDIV)
                            m.d.comb += muldiv.start.eq(1)
                            goto("MULDIV")
                        with m.Case(Kind.CSR):
                            charge(CycleClass.CSR)
                            with m.If(csr_instret):
                                # minstret counts the previous commit one cycle
                                # late: read it in the next cycle.
                                goto("CSR_READ")
                            with m.Else():
                                csr_read(m_done_start)
                        system_instructions(
                            m, csr, insn=m_insn, pc=m_pc, raise_trap=raise_trap, xret=xret,
                            illegal=m_sys_illegal,
                            wfi=wait_state("WFI", CycleClass.WFI),
                            sfence=wait_state("SFENCE", CycleClass.SFENCE))
                        with m.Case(Kind.FENCE_I):
                            # Younger instructions may have been fetched before
                            # older stores wrote memory: fetch them again.
                            m.d.comb += m_fence_i.eq(1)
                            commit(done=m_done_start, rd=False, refetch=m_pc4,
                                   flush=CycleClass.FLUSH_FENCE)
                        with m.Default():
                            raise_trap(Cause.ILLEGAL_INSN, m_insn)
                looked_up()

            # The MMU's answer and the PMP's are registered before M acts on them:
            # XLATE (MIS_XLATE) loads the physical address and the two faults in
            # every cycle (the last load, with ``ready``, is the one kept) and only
            # its next state waits for ``ready``; the next state decides from those
            # flip-flops.  So the translation's handshake reaches M's state register
            # alone, not the enables of M's wide registers (mem_paddr, mis_*, the
            # trap latch).  The PMP is asked with the registered address; where its
            # answer would decide a trap or load M's registers (PMP_ACCESS, MIS_PMP)
            # it is registered too (``pmp_ok``) and acted on in the next state.  This
            # costs a cycle per translation (the data micro-TLB's misses), and
            # asking the MMU from XLATE on (not from START) one more when the DTLB
            # answers; nothing on the fast path.
            xl_page_fault = Signal()
            xl_access_fault = Signal()
            pmp_ok = Signal()

            def translate(then_state):
                """Ask the MMU's data port (for mem_vaddr, or mis_vaddr while
                mis_active); its answer goes into registers, acted on in
                ``then_state`` (``translation_checked``)."""
                m.d.comb += mmu.data.valid.eq(1)
                m.d.sync += [mem_paddr.eq(mmu.data.paddr),
                             xl_page_fault.eq(mmu.data.page_fault),
                             xl_access_fault.eq(mmu.data.access_fault)]
                with m.If(mmu.data.ready):
                    goto(then_state)

            def translation_checked(vaddr, then):
                """The registered translation of ``vaddr``: its fault, or ``then()``
                with the physical address in mem_paddr."""
                with m.If(xl_page_fault):
                    raise_trap(Mux(store_like, Cause.STORE_PAGE_FAULT,
                                   Cause.LOAD_PAGE_FAULT), vaddr)
                with m.Elif(xl_access_fault):
                    access_fault(vaddr)
                with m.Else():
                    then()

            def pmp_registered(then_state):
                """Ask the PMP (about the state's ``pmp_range``); its answer goes
                into ``pmp_ok``, acted on in ``then_state``."""
                pmp_ask()
                m.d.sync += pmp_ok.eq(dpmp.allowed)
                with m.If(dpmp.ready):
                    goto(then_state)

            # The PMP: a page it allows as a whole is remembered in the data
            # micro-TLB (the fast path of the next accesses to it); otherwise this
            # access alone is checked.  It is asked in the cycle after the
            # translation came, and answers at once for a page it remembers (its
            # answer here drives M's state and the micro-TLB's fill flip-flop only).
            def pmp_page():
                pmp_ask()
                with m.If(dpmp.ready):
                    with m.If(dpmp.allowed):
                        m.d.comb += dutlb.fill.eq(1)    # (its values: below the FSM)
                        goto("ACCESS")
                    with m.Else():
                        goto("PMP_ACCESS")

            with m.State("XLATE"):
                charge(CycleClass.DTLB)
                translate("PMP_PAGE")

            with m.State("PMP_PAGE"):
                charge(CycleClass.DTLB)
                pmp_range(Cat(C(0, 12), mem_paddr[12:]), Cat(C(0xFFF, 12), mem_paddr[12:]))
                translation_checked(mem_vaddr, pmp_page)

            with m.State("PMP_ACCESS"):
                charge(CycleClass.DTLB)
                pmp_range(mem_paddr, Cat(end_off[0:3], mem_paddr[3:]))
                pmp_registered("PMP_ACCESS_DONE")

            with m.State("PMP_ACCESS_DONE"):
                charge(CycleClass.DTLB)
                with m.If(pmp_ok):
                    goto("ACCESS")
                with m.Else():
                    access_fault()

            # A misaligned load or store across two doublewords.  Each page it
            # touches is translated and checked (PMP, RAM) in turn, first page
            # first; a fault names the first byte of the part that faulted (the
            # access itself, or the start of its second page).  Only then are the
            # two doublewords read (then the load commits) or written (both go
            # into the write buffer: no part of a faulting store is written).
            def mis_part_ok(in_ram):
                """The part at ``mem_paddr`` (``in_ram``: it lies in RAM) may be
                accessed: on to the next part, or to the memory accesses."""
                paddr = mem_paddr
                with m.If(~in_ram):
                    access_fault(mis_vaddr)     # devices take aligned accesses only
                with m.Elif(~mis_part & page_cross):
                    m.d.sync += [mis_pa_lo.eq(Cat(C(0, 3), paddr[3:])), mis_part.eq(1),
                                 mis_vaddr.eq(Cat(C(0, 12), mem_vaddr[12:] + 1))]
                    goto("MIS_XLATE")
                with m.Else():
                    with m.If(mis_part):
                        m.d.sync += mem_paddr.eq(mis_pa_lo)
                        m.d.sync += mis_pa_hi.eq(paddr)
                    with m.Else():
                        m.d.sync += mem_paddr.eq(Cat(C(0, 3), paddr[3:]))
                        m.d.sync += [mis_pa_lo.eq(Cat(C(0, 3), paddr[3:])),
                                     mis_pa_hi.eq(Cat(C(0, 3), (paddr[3:12] + 1)[:9], paddr[12:]))]
                    goto("MIS_LO")

            with m.State("MIS_XLATE"):
                charge(CycleClass.MISALIGNED)
                translate("MIS_PMP")

            with m.State("MIS_PMP"):
                charge(CycleClass.MISALIGNED)
                # the bytes of this access in this page
                in_page = Signal(56)
                with m.If(mis_part):
                    m.d.comb += in_page.eq(Cat(end_off[0:3], mem_paddr[3:]))
                with m.Elif(page_cross):
                    m.d.comb += in_page.eq(Cat(C(0xFFF, 12), mem_paddr[12:]))
                with m.Else():
                    m.d.comb += in_page.eq(Cat(end_off[0:3], (mem_paddr[3:12] + 1)[:9],
                                               mem_paddr[12:]))
                pmp_range(mem_paddr, in_page)

                def check():
                    with m.If(data_free):
                        # nothing to check in M mode (m_in_ram follows mem_paddr,
                        # loaded in MIS_XLATE, a cycle later: compared here)
                        mis_part_ok(mem_paddr_in_ram)
                    with m.Else():
                        pmp_registered("MIS_PMP_DONE")
                translation_checked(mis_vaddr, check)

            with m.State("MIS_PMP_DONE"):
                charge(CycleClass.MISALIGNED)
                with m.If(pmp_ok):
                    mis_part_ok(m_in_ram)
                with m.Else():
                    access_fault(mis_vaddr)

            # the doublewords: bytes byte_off.. of the first, the rest of the second
            wide = Signal(128)
            wide_sel = Signal(16)
            m.d.comb += [wide.eq(store_value << (byte_off << 3)),
                         wide_sel.eq(size_mask << byte_off)]
            # A load looks up its doublewords in the data cache (whose copy is as
            # new as the write buffer), the first in MIS_LO, the second
            # in MIS_HI, and shifts the two in MIS_DONE.  A store's second
            # doubleword is written in MIS_HI's second cycle: the cache merges
            # the store's bytes over the word it read, which MIS_HI's first
            # cycle asks for (cache.py).
            mis_hi_read = Signal()
            m.d.sync += mis_hi_read.eq(0)
            for state, half, then in (("MIS_LO", 0, "MIS_HI"), ("MIS_HI", 1, "MIS_DONE")):
                with m.State(state):
                    charge(CycleClass.MISALIGNED)
                    if half:
                        m.d.comb += read_mis_hi.eq(1)
                        m.d.sync += mis_hi_read.eq(1)
                    with m.If(is_read):
                        if not half:
                            m.d.comb += read_mis_hi.eq(1)   # the second one, for MIS_HI
                        mis_load_part(half)
                    with m.Elif(mis_hi_read if half else 1):
                        # (the store's address, data and lanes reach the port
                        # through the assignments above the FSM)
                        m.d.comb += [
                            port.st_valid.eq(1),
                            d_bus_wdata.eq(wide[64 * half:64 * half + 64]),
                            d_bus_sel.eq(wide_sel[8 * half:8 * half + 8]),
                        ]
                        with m.If(port.st_ready):
                            m.d.comb += dcache.write.eq(1)     # keep a cached copy current
                            m.d.sync += mem_paddr.eq(mis_pa_hi)
                            if half:
                                commit(0, done=m_done_other, rd=False, wmask=size_mask)
                            else:
                                goto(then)

            for state, half, then in (("MIS_LO_SEEN", 0, "MIS_HI"),
                                      ("MIS_HI_SEEN", 1, "MIS_DONE")):
                with m.State(state):
                    charge(CycleClass.MISALIGNED)
                    if not half:
                        m.d.comb += read_mis_hi.eq(1)   # (still) the second, for MIS_HI
                    with m.If(mis_hit):
                        goto(then)
                    with m.Else():
                        start_fill("MIS_FILL_HI" if half else "MIS_FILL_LO")

            for state, half in (("MIS_FILL_LO", 0), ("MIS_FILL_HI", 1)):
                with m.State(state):
                    charge(CycleClass.MISALIGNED)
                    # the doubleword's tags and word again, for the next lookup
                    m.d.comb += read_mis_hi.eq(half)
                    if not half:
                        m.d.sync += mem_paddr.eq(mis_pa_lo)
                    drive_fill()
                    m.d.sync += fill_bus_q.eq(~dcache.done)       # (leaves with done)
                    with m.If(dcache.done):
                        with m.If(dcache.error):
                            access_fault()
                        with m.Else():
                            goto("MIS_HI" if half else "MIS_LO")

            with m.State("MIS_DONE"):
                charge(CycleClass.MISALIGNED)      # (the commit below charges RETIRE)
                m.d.comb += read_x.eq(1)
                commit(done=m_done_other, rd=True, rmask=size_mask, load=True)

            with m.State("ACCESS"):
                access(m_done_other)
                looked_up()

            # W's load missed: M waits for its line (wait_fill, above).
            with m.State("WFILL"):
                wait_fill()

            # An SC compares its address with the reservation in SC_CHECK into a
            # register (``sc_match``) and acts on it in SC_DECIDE: the 56-bit
            # compare of mem_paddr then reaches one flip-flop, not M's commit and
            # through ``adv`` the enables of the pipeline's registers (mem_paddr's
            # own among them).  Neither mem_paddr nor the reservation changes in
            # SC_CHECK.  One cycle per SC.
            with m.State("SC_CHECK"):
                charge(CycleClass.ATOMIC)
                m.d.sync += sc_match.eq(sc_match_now)
                goto("SC_DECIDE")

            with m.State("SC_DECIDE"):
                charge(CycleClass.ATOMIC)
                with m.If(sc_match):
                    goto("BUS")
                with m.Else():
                    m.d.sync += resv_valid.eq(0)
                    commit(1, done=m_done_other)

            with m.State("BUS"):
                memory_access(m_done_other)

            with m.State("AMO_OP"):
                charge(CycleClass.ATOMIC)
                m.d.comb += d_bus_lock.eq(1)        # nobody writes between read and write
                m.d.sync += amo_new.eq(amo.result)
                goto("AMO_WRITE")

            with m.State("AMO_WRITE"):
                charge(CycleClass.ATOMIC)
                m.d.comb += [
                    irq_stale.eq(1),
                    d_bus_valid.eq(1), d_bus_write.eq(1), d_bus_lock.eq(1),
                ]
                with m.If(d_bus_ready):
                    with m.If(dbus.error):
                        raise_trap(Cause.STORE_ACCESS, mem_vaddr)
                    with m.Else():
                        m.d.comb += dcache.write.eq(m_in_ram)   # (as BUS)
                        commit(amo_old, done=m_done_other, rmask=size_mask, wmask=size_mask)

            with m.State("MULDIV"):
                m.d.comb += read_x.eq(1)
                charge(CycleClass.MULDIV)
                with m.If(muldiv.done):
                    commit(muldiv.result, done=m_done_other)

            with m.State("CSR_READ"):
                m.d.comb += read_x.eq(1)
                charge(CycleClass.CSR)
                csr_read(m_done_other)

            with m.State("CSR_WRITE"):
                m.d.comb += [read_x.eq(1), irq_stale.eq(1)]
                m.d.comb += [csr.we.eq(csri.writes),
                             m_writes_pmp.eq(csri.writes & (m_dec.csr >= CSR.PMPCFG0) &
                                             (m_dec.csr <= CSR.PMPADDR63)),
                             flush_dxlate.eq((m_dec.csr == CSR.SSTATUS) &
                                             (csri.new[18:20] != csri.old[18:20]))]
                with m.If(csr_refetch):
                    m.d.comb += flush_xlate.eq(1)
                    commit(csri.result, done=m_done_other, refetch=m_pc4,
                           flush=CycleClass.FLUSH_CSR)
                with m.Elif(csr_settles):
                    charge(CycleClass.CSR)
                    goto("CSR_SETTLE")
                with m.Else():
                    commit(csri.result, done=m_done_other)

            # A CSR write that may make an interrupt pending and enabled commits a
            # cycle later, so that the next instruction meets the registered
            # interrupt decision of the cycle after the write: the one the
            # unregistered decision made in that cycle (the interrupt is then
            # taken before the next instruction, as the privileged spec asks).
            # So does a write of the counter enables, so that X checks the next
            # instruction's legality with the new value.
            with m.State("CSR_SETTLE"):
                m.d.comb += read_x.eq(1)
                charge(CycleClass.CSR)
                commit(csri.result, done=m_done_other)

            with m.State("SFENCE"):
                m.d.comb += read_x.eq(1)
                charge(CycleClass.SFENCE)
                m.d.comb += [mmu.sfence.valid.eq(1), flush_xlate.eq(1)]
                with m.If(mmu.sfence.ready):
                    commit(done=m_done_other, rd=False, refetch=m_pc4,
                           flush=CycleClass.FLUSH_FENCE)

            with m.State("WFI"):
                m.d.comb += read_x.eq(1)
                # (idle once the buffered stores are in memory)
                charge(CycleClass.WFI)
                m.d.comb += self.wfi.eq(port.empty)
                with m.If(csr.wake):
                    commit(done=m_done_other, rd=False)

            with m.State("TRAP"):
                m.d.comb += read_x.eq(1)
                charge(CycleClass.TRAP)
                m.d.comb += flush_class.eq(CycleClass.FLUSH_TRAP)
                m.d.comb += csr.trap.eq(1)    # (its operands: below, in every cycle)
                m.d.comb += [m_done_other.eq(1), m_redirect.eq(1), m_redirect_pc.eq(csr.trap_pc),
                             flush_xlate.eq(1)]
                m.d.sync += [resv_valid.eq(0), w_valid.eq(1), w_trap.eq(1), w_rd.eq(0),
                             w_rmask.eq(0), w_wmask.eq(0), w_load.eq(0),
                             w_insn.eq(Mux(trap.intr, 0, m_insn))]
                goto("START")

        # The pending trap's operands go to the CSR file in every cycle, and TRAP
        # raises ``csr.trap`` alone: the handler's address (the delegation's bit
        # chosen by the cause, the vector's sum), M's redirect and the trap
        # CSRs' inputs then start from the trap's registers, not from a decoder
        # of M's state (integ's static estimate: mem_state -> fetch.redirect_pc
        # 27.0 ns, 28 cells, and -> csr.mcause 26.3 ns).
        m.d.comb += trap.present(csr, m_pc)

        # ================= M: the advance =================
        # ``adv`` (X's instruction enters M, D's X, the queue pops) loads the
        # enables of several hundred flip-flops (M's and X's registers, the data
        # cache's lookup address, the write buffer's compares ...), so it is
        # made from flip-flops through a few cells: the flags of M's state
        # (``in_state``), and what X decided about M's instruction as it entered
        # M (``m_quick``, ``m_qmem``, the kind flags).  It covers M's commits
        # whose conditions are registered: the simple instructions, CSR reads,
        # xRET and fence.i in START; loads and stores to RAM that reach the data
        # cache (START on the fast path, ACCESS), whose word and tags are there
        # (``m_rd_ok``) and, for a store, whose write buffer takes it (its
        # ``st_ready`` comes from the buffer's flip-flops); the commits of
        # MULDIV, CSR_READ, CSR_WRITE (``csr_settles`` registered), SC_DECIDE,
        # BUS and AMO_WRITE (the port's ``ready`` and ``error``), and of the
        # states that always finish (MIS_DONE, CSR_SETTLE, TRAP).  M's other
        # commits (WFI, SFENCE, a misaligned store's second part, an access to a
        # device from ACCESS; the CSR file's legality, the MMU's and PMP's
        # answers, the data cache's hit do not reach here) finish M's instruction
        # without the stages advancing (``m_done`` without ``adv``): M is empty
        # in the next cycle, which advances (a cycle more for such a commit).
        # A trap advances from TRAP, a cycle after M decided on it.
        # The write buffer's ``st_ready`` (a flip-flop of the buffer's, placed
        # beside the buffer) and the port's answer (late) come in at the end:
        # what does not depend on them is made beside them from flip-flops
        # (``adv_early``: everything but a store's commit and the bus's;
        # ``adv_st``: a store to RAM that commits if the buffer takes it), so
        # that each is a cell from ``adv``, not four (the store's term was
        # inside the START term's irq_ok and m_valid).
        irq_ok = ~irq_q | irq_hold                     # (not irq_now)
        ins = in_state
        mem_ok = Signal()        # a load or store to RAM in START or ACCESS, its word read
        adv_early = Signal()
        adv_st = Signal()
        m.d.comb += [
            mem_ok.eq(m_rd_ok & ((m_in_start & ~w_missed & m_valid & irq_ok & m_qmem) |
                                 (ins["ACCESS"] & m_in_ram))),
            adv_early.eq((m_in_start & ~w_missed & (~m_valid | (irq_ok & m_quick))) |
                         (mem_ok & m_is_ld) |
                         m_fin | (ins["MULDIV"] & muldiv.done)),
            adv_st.eq(mem_ok & m_is_st),
        ]
        m.d.comb += adv.eq(adv_early | (adv_st & port.st_ready) |
                           (bus_fin & d_bus_ready & ~dbus.error))
        # The cycle after M finished without advancing counts as that
        # instruction's wait (the class charged before its commit).
        wait_class = Signal(CycleClass, init=CycleClass.FETCH_OTHER)
        with m.If(m_class != CycleClass.RETIRE):
            m.d.sync += wait_class.eq(m_class)
        with m.If(m_done & ~adv):
            m.d.sync += m_why.eq(wait_class)

        if self.checks:
            m.d.sync += Assert(m_in_start == mem_fsm.ongoing("START"),
                               "pipeline: m_in_start differs from M's state")
            for name, flag in in_state.items():
                m.d.sync += Assert(flag == mem_fsm.ongoing(name),
                                   f"pipeline: m_in_{name.lower()} differs from M's state")
            m.d.sync += Assert(~adv | m_done, "pipeline: the stages advance while M waits")
            counted = Signal()
            m.d.sync += [counted.eq(csr.instret_inc),
                         Assert(~w_missed | counted,
                                "pipeline: a missed load's retirement taken back, never given")]
            m.d.sync += Assert(~(fwd_w[0] & w_valid) | (w_page == w_value[12:]),
                               "pipeline: X forwards W's page from a stale copy")
            on = mem_fsm.ongoing
            m.d.sync += Assert(m_fin == (
                on("MIS_DONE") | on("CSR_SETTLE") | on("TRAP") |
                (on("CSR_READ") & ~m_csr_illegal & m_csr_ro) |
                (on("CSR_WRITE") & (csr_refetch | ~csr_settles)) |
                (on("SC_DECIDE") & ~sc_match)), "pipeline: m_fin differs from M's state")
            m.d.sync += Assert(bus_fin == ((on("BUS") & ~is_rmw) | on("AMO_WRITE")),
                               "pipeline: bus_fin differs from M's state")
            m.d.sync += Assert(~m_valid | (m_is_ld == (kind == Kind.LOAD)) &
                               (m_is_st == (kind == Kind.STORE)) &
                               (m_is_rmw == ((kind == Kind.AMO) & (m_dec.funct5 != AmoOp.LR) &
                                             (m_dec.funct5 != AmoOp.SC))) &
                               (m_is_lr == ((kind == Kind.AMO) & (m_dec.funct5 == AmoOp.LR))) &
                               (m_is_sc == ((kind == Kind.AMO) & (m_dec.funct5 == AmoOp.SC))) &
                               (m_is_read == ((kind == Kind.LOAD) | m_is_lr)) &
                               (m_is_amo == (kind == Kind.AMO)) &
                               (m_is_mem == ((kind == Kind.LOAD) | (kind == Kind.STORE) |
                                             (kind == Kind.AMO))) &
                               (m_csr_refetch == csr_refetch),
                               "pipeline: M's kind flags differ from m_dec")
            m.d.sync += Assert(~dpmp.valid | ((dpmp.first == pmp_first_ref) &
                                              (dpmp.last == pmp_last_ref)),
                               "pipeline: the PMP's range differs from M's state's")
            m.d.sync += Assert(fill_has_bus == (mem_fsm.ongoing("WFILL") | w_missed |
                                                mem_fsm.ongoing("MIS_FILL_LO") |
                                                mem_fsm.ongoing("MIS_FILL_HI")),
                               "pipeline: fill_has_bus differs from M's state")

        # the data micro-TLB's fill (pmp_page; registered there): its values do not
        # depend on whether it fills
        m.d.comb += [
            dutlb.fill_vpn.eq(mem_vaddr[12:]), dutlb.fill_store_ok.eq(~is_read),
            dutlb.fill_ppn.eq(mem_paddr[12:]), dutlb.fill_mark.eq(mem_paddr_in_ram),
        ]
        # (also M's copy, when the instruction entering M chose from the old entries)
        m.d.comb += dutlb.flush.eq(flush_xlate | flush_dxlate)
        with m.If(flush_xlate | flush_dxlate):
            m.d.sync += [m_fast.eq(data_free & x_same_page), m_qmem.eq(0)]
        # The instruction entering M brings its fast path's physical address (the
        # states above that change mem_paddr never commit with a value needed later).
        with m.If(adv):
            m.d.sync += mem_paddr.eq(x_fast_paddr)
        # Whether mem_paddr lies in RAM: the fast path's answer as the instruction
        # enters M (with x_fast_paddr), else mem_paddr's compare in every cycle,
        # so the flip-flop follows a change of mem_paddr at the end of the next
        # cycle.  Every state that reads it (ACCESS, BUS, AMO_WRITE,
        # MIS_PMP_DONE) comes two cycles or more after the last change of
        # mem_paddr (XLATE, MIS_XLATE load it; PMP_PAGE, MIS_PMP follow them;
        # START keeps it), or is START on the fast path.  (MIS_PMP and the
        # micro-TLB's fill compare mem_paddr themselves.)
        m.d.sync += m_in_ram.eq(Mux(adv, x_in_ram, mem_paddr_in_ram))
        if self.checks:
            # (buffered_store loads W's fields whether or not the buffer takes it)
            m.d.sync += Assert(~(port.st_valid & w_wait),
                               "pipeline: a store offered while W waits for its load")
            m_in_ram_read = (mem_fsm.ongoing("ACCESS") | mem_fsm.ongoing("BUS") |
                             mem_fsm.ongoing("AMO_WRITE") | mem_fsm.ongoing("MIS_PMP_DONE") |
                             (m_in_start & m_valid & m_fast & m_is_mem))
            m.d.sync += Assert(~m_in_ram_read | (m_in_ram == mem_paddr_in_ram),
                               "pipeline: m_in_ram differs from mem_paddr's")
        return m
