"""One RISC-V hart: architectural state, memory accesses, traps and the step loop.

The state is what the specifications define and nothing of how our core is built:
the 32 integer registers ``x`` (x0 always 0), ``pc``, the privilege mode ``priv``,
the CSRs (csr.py), the PMP entries (pmp.py) and the LR/SC reservation.  Memory is a
RAM (a ``bytearray`` at ``ram_base``) plus whatever the environment ``env`` places
in the rest of the physical address space (devices; see platform.py for the
stand-alone one and sim/difftest for the lock-step one).

One instruction (``step``):

1. fetch: translate ``pc`` (Sv39 through hw/mmu/refmodel.py when priv < M and
   satp.MODE = Sv39), check PMP (execute), read the word;
2. decode (decode.py) and execute (execute.py); an exception raises
   :class:`Trap`, which leaves the registers and memory as they were (except for
   A/D bits the translation may already have set);
3. a trap enters M or, when delegated and priv < M, S mode (``_enter_trap``).

Memory accesses translate with the *effective* data privilege (mstatus.MPRV
selects MPP's in M mode), check alignment, PMP and the physical address map
(RAM, a device, or nothing: access fault), in this order.  Misaligned loads and
stores trap (``misaligned="trap"``, today's core) or complete, split at page
boundaries (``misaligned="hw"``); misaligned LR, SC and AMOs always trap.

Speed: decoded instructions are cached by instruction word (so code written at run
time is decoded afresh: no fence.i bookkeeping), and successful translations of
pages that lie in RAM are cached per access kind until something that affects
translation changes (satp, mstatus.MPRV/MPP/SUM/MXR, privilege, PMP, sfence.vma).
The caches hold no state a program can observe: A and D are set by the walk that
fills them, as the core's TLB does (a TLB hit without A, or without D for a
store, walks again).
"""

from dataclasses import dataclass

from hw.core.isa import Cause, Priv
from hw.mmu.refmodel import BusError, translate
from hw.mmu.signatures import Access

from .csr import CSRFile, MSTATUS
from .execute import compile_insn
from .pmp import PMP, R, W, X
from .trap import Halted, Trap

__all__ = ["Hart", "Config", "Trap", "Halted", "Retire", "RETIRE_FIELDS", "BusError"]

M64 = (1 << 64) - 1
PRIV_U, PRIV_S, PRIV_M = int(Priv.U), int(Priv.S), int(Priv.M)
FETCH, LOAD, STORE = Access.FETCH, Access.LOAD, Access.STORE
ACCESS_FAULT = {FETCH: int(Cause.INSN_ACCESS), LOAD: int(Cause.LOAD_ACCESS),
                STORE: int(Cause.STORE_ACCESS)}
PMP_PERM = {FETCH: X, LOAD: R, STORE: W}
LOAD_MISALIGNED = int(Cause.LOAD_MISALIGNED)
STORE_MISALIGNED = int(Cause.STORE_MISALIGNED)
#: byte mask of an access of 1, 2, 4 or 8 bytes (the retire port's mem_rmask/wmask)
SIZE_MASK = {1: 0x1, 2: 0x3, 4: 0xF, 8: 0xFF}
NOWHERE = -1            # a page number no address has (empty one-entry caches)


@dataclass(frozen=True)
class Config:
    """What the model implements where the specification leaves a choice.

    * ``pmp_entries``: 0 (today's core), 16 or 64 PMP entries; ``pmp_grain`` G.
    * ``misaligned``: ``"trap"`` (today's core: misaligned loads and stores raise
      address-misaligned) or ``"hw"`` (they complete; see the module docstring).
    * ``hartid``: mhartid.
    """
    pmp_entries: int = 0
    pmp_grain: int = 0
    misaligned: str = "trap"
    hartid: int = 0

    def __post_init__(self):
        if self.misaligned not in ("trap", "hw"):
            raise ValueError(f"misaligned must be 'trap' or 'hw', not {self.misaligned!r}")


#: the fields of a retirement record, as the core's retire port has them
RETIRE_FIELDS = ("order", "pc", "insn", "priv", "rd", "rd_wdata", "mem_addr", "mem_rmask",
                 "mem_wmask", "mem_rdata", "mem_wdata", "trap", "intr", "cause", "tval")


class Retire:
    """What one step did (hw/core/retire.py describes the fields), plus
    ``csr_writes``: the (address, value written) pairs of a CSR instruction."""
    __slots__ = RETIRE_FIELDS + ("csr_writes",)

    def __init__(self, order, pc, insn, priv, rd=0, rd_wdata=0, mem_addr=0, mem_rmask=0,
                 mem_wmask=0, mem_rdata=0, mem_wdata=0, trap=0, intr=0, cause=0, tval=0,
                 csr_writes=()):
        self.order, self.pc, self.insn, self.priv = order, pc, insn, priv
        self.rd, self.rd_wdata = rd, rd_wdata
        self.mem_addr, self.mem_rmask, self.mem_wmask = mem_addr, mem_rmask, mem_wmask
        self.mem_rdata, self.mem_wdata = mem_rdata, mem_wdata
        self.trap, self.intr, self.cause, self.tval = trap, intr, cause, tval
        self.csr_writes = csr_writes

    def as_dict(self):
        return {name: getattr(self, name) for name in RETIRE_FIELDS}


class _PageTableMemory:
    """The physical memory as the page-table walk sees it (refmodel's ``mem``):
    RAM or a device, checked by PMP with the effective privilege S."""

    def __init__(self, hart):
        self.hart = hart

    def _ok(self, addr, perm):
        h = self.hart
        if h.pmp.entries and not h.pmp.allows(addr, 8, perm, PRIV_S):
            raise BusError(addr)
        off = addr - h.ram_base
        return off if 0 <= off < h.ram_size else None

    def read64(self, addr):
        off = self._ok(addr, R)
        if off is None:
            return self.hart.env.read(addr, 8, kind="walk")
        return self.hart._dwords[off >> 3]

    def write64(self, addr, value):
        off = self._ok(addr, W)
        if off is None:
            self.hart.env.write(addr, 8, value)
        else:
            self.hart._dwords[off >> 3] = value


class Hart:
    """See the module docstring.  ``env`` is the rest of the machine (platform.py
    describes what it provides); ``ram`` a bytearray whose length is a multiple of
    4 KiB, mapped at ``ram_base``."""

    def __init__(self, env, ram, *, ram_base=0x8000_0000, pc=0x8000_0000, config=Config()):
        if len(ram) % 4096:
            raise ValueError("RAM size must be a multiple of 4 KiB")
        self.config = config
        self.env = env
        self.ram = ram
        self.ram_base = ram_base
        self.ram_size = len(ram)
        mv = memoryview(ram)
        # RAM as arrays of 1, 2, 4 and 8-byte elements, indexed by access size
        self._views = [None, mv.cast("B"), mv.cast("H"), None, mv.cast("I"),
                       None, None, None, mv.cast("Q")]
        self._shift = [0, 0, 1, 0, 2, 0, 0, 0, 3]
        self._words = self._views[4]
        self._dwords = self._views[8]
        # x[32] is where writes to x0 go, so that x[0] stays 0 without a test
        self.x = [0] * 33
        self.pc = pc
        self.priv = PRIV_M
        self.instret = 0
        self.cycles = 0         # steps taken (the stand-alone environment's clock)
        self.order = 0          # retirement records so far (instructions and traps)
        self.traps = 0          # ... of which traps
        self.pmp = PMP(config.pmp_entries, config.pmp_grain)
        self.csr = CSRFile(self, self.pmp)
        self.reservation = None     # physical address of the last LR, or None
        self.misaligned_hw = config.misaligned == "hw"
        self._ptw = _PageTableMemory(self)
        self._decoded = {}
        self.stop = None        # set to a reason to end run()
        self.irq_due = 0        # run() looks for interrupts when cycles reach this
        # what the current instruction did, for its retirement record
        self.mem_addr = self.mem_rmask = self.mem_wmask = self.mem_rdata = self.mem_wdata = 0
        self.csr_writes = []
        # tohost: the RAM doubleword whose non-zero value ends run()
        self.tohost_index = NOWHERE
        self.tohost = None
        self.context_changed()

    # ---- translation context ----

    def context_changed(self):
        """Something that affects address translation or checking changed: forget
        the cached translations and recompute the effective privileges."""
        c = self.csr
        ms = c.mstatus
        self._dpriv = (ms >> MSTATUS.MPP_SHIFT) & 3 if self.priv == PRIV_M and ms & MSTATUS.MPRV \
            else self.priv
        self._sum = 1 if ms & MSTATUS.SUM else 0
        self._mxr = 1 if ms & MSTATUS.MXR else 0
        self._tlb_x = {}        # page number -> RAM offset of the page (fetch)
        self._tlb_r = {}        # ... loads
        self._tlb_w = {}        # ... stores and AMOs
        self._fvpn = NOWHERE    # the page of the last fetch, and its RAM offset
        self._fbase = 0

    def mstatus_written(self, old):
        """mstatus changed from ``old``: the translation context changed only if
        MPRV, MPP, SUM or MXR did (SIE/MIE flip on every spinlock in a kernel)."""
        watch = MSTATUS.MPRV | MSTATUS.MPP | MSTATUS.SUM | MSTATUS.MXR
        if (old ^ self.csr.mstatus) & watch:
            self.context_changed()

    def irq_state_changed(self):
        """Something that decides which interrupt is taken may have changed."""
        self.irq_due = 0

    def _translate(self, va, access, priv):
        """Virtual -> physical address, or raise the page/access fault."""
        c = self.csr
        if priv == PRIV_M or not c.satp >> 63:          # M mode or satp.MODE = Bare
            if va >> 56:                              # beyond the physical address space
                raise Trap(ACCESS_FAULT[access], va)
            return va
        t = translate(self._ptw, c.satp, va, access, priv, self._sum, self._mxr)
        if t.cause is not None:
            raise Trap(t.cause, va)
        return t.paddr

    def _physical(self, va, access, size, priv):
        """Translate and PMP-check an access; returns (RAM offset or None, paddr)."""
        pa = self._translate(va, access, priv)
        pmp = self.pmp
        if pmp.entries and not pmp.allows(pa, size, PMP_PERM[access], priv):
            raise Trap(ACCESS_FAULT[access], va)
        off = pa - self.ram_base
        if 0 <= off and off + size <= self.ram_size:
            return off, pa
        return None, pa

    def _cacheable(self, pa, access, priv):
        """May the page of ``pa`` go into a translation cache: in RAM and, with PMP,
        allowed as a whole (so that every access inside it is)?"""
        page = pa & ~0xFFF
        if not (self.ram_base <= page and page + 4096 <= self.ram_base + self.ram_size):
            return False
        pmp = self.pmp
        return not pmp.entries or pmp.allows(page, 4096, PMP_PERM[access], priv)

    # ---- instruction fetch ----

    def fetch(self, pc):
        """The instruction word at ``pc`` (the fast path is inlined in step/run)."""
        if pc >> 12 == self._fvpn:
            return self._words[(self._fbase | (pc & 0xFFF)) >> 2]
        return self._fetch_slow(pc)

    def _fetch_slow(self, pc):
        vpn = pc >> 12
        base = self._tlb_x.get(vpn)
        if base is None:
            off, pa = self._physical(pc, FETCH, 4, self.priv)
            if off is None:
                try:
                    return self.env.read(pa, 4, kind="fetch")
                except BusError:
                    raise Trap(ACCESS_FAULT[FETCH], pc) from None
            if not self._cacheable(pa, FETCH, self.priv):
                return self._words[off >> 2]
            base = self._tlb_x[vpn] = off & ~0xFFF
        self._fvpn = vpn
        self._fbase = base
        return self._words[(base | (pc & 0xFFF)) >> 2]

    # ---- loads and stores ----

    def load(self, va, size):
        """Load ``size`` bytes at virtual address ``va``; the raw (zero-extended) value."""
        va &= M64
        if va & (size - 1):
            value = self._load_misaligned(va, size)
        else:
            base = self._tlb_r.get(va >> 12)
            if base is not None:
                value = self._views[size][(base | (va & 0xFFF)) >> self._shift[size]]
            else:
                value = self._load_slow(va, size)
        self.mem_addr = va
        self.mem_rmask = SIZE_MASK[size]
        self.mem_rdata = value
        return value

    def _load_slow(self, va, size):
        priv = self._dpriv
        off, pa = self._physical(va, LOAD, size, priv)
        if off is None:
            try:
                return self.env.read(pa, size)
            except BusError:
                raise Trap(ACCESS_FAULT[LOAD], va) from None
        if self._cacheable(pa, LOAD, priv):
            self._tlb_r[va >> 12] = off & ~0xFFF
        return self._views[size][off >> self._shift[size]]

    def store(self, va, size, value):
        """Store the low ``size`` bytes of ``value`` at virtual address ``va``."""
        va &= M64
        if va & (size - 1):
            self._store_misaligned(va, size, value)
        else:
            base = self._tlb_w.get(va >> 12)
            if base is None:
                base = self._store_slow(va, size, value)
            if base is not None:
                off = base | (va & 0xFFF)
                self._views[size][off >> self._shift[size]] = value
                if off >> 3 == self.tohost_index:
                    self._tohost_written()
        self.mem_addr = va
        self.mem_wmask = SIZE_MASK[size]
        self.mem_wdata = value

    def _store_slow(self, va, size, value):
        """Translate a store; returns the RAM page offset, or None after a device
        write."""
        priv = self._dpriv
        off, pa = self._physical(va, STORE, size, priv)
        if off is None:
            try:
                self.env.write(pa, size, value)
            except BusError:
                raise Trap(ACCESS_FAULT[STORE], va) from None
            self.irq_state_changed()           # a device may have changed its lines
            return None
        base = off & ~0xFFF
        if self._cacheable(pa, STORE, priv):
            self._tlb_w[va >> 12] = base
        return base

    def _tohost_written(self):
        value = self._dwords[self.tohost_index]
        if value:
            self.tohost = value
            self.stop = "tohost"

    # misaligned accesses that complete (misaligned="hw")

    def _pieces(self, va, size, access, cause):
        """The parts of a misaligned access, split at a page boundary:
        [(RAM offset, length)]; a fault names the address of the part that faulted.
        A part outside RAM faults: devices take naturally aligned accesses only."""
        if not self.misaligned_hw:
            raise Trap(cause, va)
        parts = []
        start = va
        end = va + size
        while start < end:
            stop = min(end, (start | 0xFFF) + 1)
            off, _ = self._physical(start & M64, access, stop - start, self._dpriv)
            if off is None:
                raise Trap(ACCESS_FAULT[access], start)
            parts.append((off, stop - start))
            start = stop
        return parts

    def _load_misaligned(self, va, size):
        data = b"".join(bytes(self.ram[off:off + n])
                        for off, n in self._pieces(va, size, LOAD, LOAD_MISALIGNED))
        return int.from_bytes(data, "little")

    def _store_misaligned(self, va, size, value):
        data = value.to_bytes(8, "little")[:size]
        at = 0
        for off, n in self._pieces(va, size, STORE, STORE_MISALIGNED):
            self.ram[off:off + n] = data[at:at + n]
            at += n
            if self.tohost_index in range(off >> 3, (off + n + 7) >> 3):
                self._tohost_written()

    # ---- atomics (never misaligned: they trap) ----

    def _atomic_address(self, va, size, access, cause):
        va &= M64
        if va & (size - 1):
            raise Trap(cause, va)
        return self._physical(va, access, size, self._dpriv)

    def _read_phys(self, off, pa, size, access, va):
        if off is not None:
            return self._views[size][off >> self._shift[size]]
        try:
            return self.env.read(pa, size)
        except BusError:
            raise Trap(ACCESS_FAULT[access], va) from None

    def _write_phys(self, off, pa, size, value, va):
        if off is not None:
            self._views[size][off >> self._shift[size]] = value
            if off >> 3 == self.tohost_index:
                self._tohost_written()
            return
        try:
            self.env.write(pa, size, value)
        except BusError:
            raise Trap(ACCESS_FAULT[STORE], va) from None
        self.irq_state_changed()

    def load_reserved(self, va, size):
        """LR: load and register a reservation on the physical address."""
        off, pa = self._atomic_address(va, size, LOAD, LOAD_MISALIGNED)
        value = self._read_phys(off, pa, size, LOAD, va)
        self.reservation = pa
        self.mem_addr, self.mem_rmask, self.mem_rdata = va & M64, SIZE_MASK[size], value
        return value

    def store_conditional(self, va, size, value):
        """SC: store if the reservation is on this very physical address (the core
        compares the whole address); returns 0 on success, 1 on failure.  The
        reservation is gone either way.  Translation comes first (as a store,
        setting D), so its faults are raised even when the SC would fail."""
        off, pa = self._atomic_address(va, size, STORE, STORE_MISALIGNED)
        held = self.reservation == pa
        self.reservation = None
        if not held:
            return 1
        self._write_phys(off, pa, size, value, va)
        self.mem_addr, self.mem_wmask, self.mem_wdata = va & M64, SIZE_MASK[size], value
        return 0

    def amo(self, va, size, operation, src):
        """Read-modify-write: returns the old value (raw); memory gets
        ``operation(old, src)``."""
        off, pa = self._atomic_address(va, size, STORE, STORE_MISALIGNED)
        old = self._read_phys(off, pa, size, STORE, va)
        new = operation(old, src) & (M64 >> (64 - 8 * size))
        self._write_phys(off, pa, size, new, va)
        mask = SIZE_MASK[size]
        self.mem_addr, self.mem_rmask, self.mem_wmask = va & M64, mask, mask
        self.mem_rdata, self.mem_wdata = old, new
        return old

    # ---- traps and returns ----

    def _enter_trap(self, cause, tval, interrupt, epc):
        """Take a trap: into S if delegated and not in M, else into M."""
        self.traps += 1
        c = self.csr
        priv = self.priv
        delegated = (c.mideleg if interrupt else c.medeleg) >> cause & 1
        ms = c.mstatus
        full_cause = cause | (1 << 63 if interrupt else 0)
        if priv != PRIV_M and delegated:
            c.sepc, c.scause, c.stval = epc & ~3 & M64, full_cause, tval
            ms &= ~(MSTATUS.SPIE | MSTATUS.SIE | MSTATUS.SPP)
            if c.mstatus & MSTATUS.SIE:
                ms |= MSTATUS.SPIE
            if priv == PRIV_S:
                ms |= MSTATUS.SPP
            self.priv = PRIV_S
            tvec = c.stvec
        else:
            c.mepc, c.mcause, c.mtval = epc & ~3 & M64, full_cause, tval
            ms &= ~(MSTATUS.MPIE | MSTATUS.MIE | MSTATUS.MPP)
            if c.mstatus & MSTATUS.MIE:
                ms |= MSTATUS.MPIE
            ms |= priv << MSTATUS.MPP_SHIFT
            self.priv = PRIV_M
            tvec = c.mtvec
        c.mstatus = ms
        base = tvec & ~3
        self.pc = base + 4 * cause if tvec & 1 and interrupt else base
        self.reservation = None
        self.context_changed()
        self.irq_state_changed()

    def mret(self):
        """Return from M: to MPP, MIE = MPIE, MPIE = 1, MPP = U (MPRV = 0 if MPP != M)."""
        c = self.csr
        ms = c.mstatus
        mpp = (ms >> MSTATUS.MPP_SHIFT) & 3
        ms &= ~(MSTATUS.MIE | MSTATUS.MPP)
        if ms & MSTATUS.MPIE:
            ms |= MSTATUS.MIE
        ms |= MSTATUS.MPIE
        if mpp != PRIV_M:
            ms &= ~MSTATUS.MPRV
        c.mstatus = ms
        return self._xret(mpp, c.mepc)

    def sret(self):
        """Return from S: to SPP, SIE = SPIE, SPIE = 1, SPP = U, MPRV = 0."""
        c = self.csr
        ms = c.mstatus
        spp = PRIV_S if ms & MSTATUS.SPP else PRIV_U
        ms &= ~(MSTATUS.SIE | MSTATUS.SPP | MSTATUS.MPRV)
        if ms & MSTATUS.SPIE:
            ms |= MSTATUS.SIE
        ms |= MSTATUS.SPIE
        c.mstatus = ms
        return self._xret(spp, c.sepc)

    def _xret(self, priv, pc):
        self.priv = priv
        self.reservation = None
        self.context_changed()
        self.irq_state_changed()
        return pc

    def sfence_vma(self):
        """Forget cached translations (all of them: a superset of what rs1/rs2 name)."""
        self.context_changed()

    # ---- interrupts ----

    def interrupt_to_take(self):
        """The interrupt to take before the next instruction, or None: pending and
        enabled, M-level ones (not delegated) first -- taken in M with MIE or below M
        always -- then delegated ones in U, or in S with SIE; within a level the
        fixed priority MEI, MSI, MTI, SEI, SSI, STI."""
        c = self.csr
        ready = c.pending() & c.mie
        if not ready:
            return None
        priv = self.priv
        ms = c.mstatus
        m_level = ready & ~c.mideleg if priv != PRIV_M or ms & MSTATUS.MIE else 0
        s_level = ready & c.mideleg \
            if priv == PRIV_U or (priv == PRIV_S and ms & MSTATUS.SIE) else 0
        for group in (m_level, s_level):
            for code in (11, 3, 7, 9, 1, 5):
                if group >> code & 1:
                    return code
        return None

    def wfi_wakes(self):
        """WFI completes when an interrupt is pending and enabled in mie, whatever
        the global enables say."""
        c = self.csr
        return bool(c.pending() & c.mie)

    # ---- running ----

    def _compile(self, word):
        exe = self._decoded[word] = compile_insn(word, self)
        return exe

    def step(self):
        """Execute one instruction (taking no interrupt) and return its Retire record;
        a trap it raises is taken and reported instead."""
        pc = self.pc
        priv = self.priv
        self.mem_rmask = self.mem_wmask = 0
        self.csr_writes = []
        word = 0
        try:
            if pc >> 12 == self._fvpn:
                word = self._words[(self._fbase | (pc & 0xFFF)) >> 2]
            else:
                word = self._fetch_slow(pc)
            exe = self._decoded.get(word) or self._compile(word)
            self.pc = exe(pc) & M64
            self.instret += 1
        except Trap as t:
            self._enter_trap(t.cause, t.tval, False, pc)
            rec = Retire(order=self.order, pc=pc, insn=word, priv=priv, trap=1,
                         cause=t.cause, tval=t.tval)
        else:
            rd = exe.rd
            rec = Retire(order=self.order, pc=pc, insn=word, priv=priv, rd=rd,
                         rd_wdata=self.x[rd] if rd else 0, mem_addr=self.mem_addr,
                         mem_rmask=self.mem_rmask, mem_wmask=self.mem_wmask,
                         mem_rdata=self.mem_rdata, mem_wdata=self.mem_wdata,
                         csr_writes=self.csr_writes)
        self.order += 1
        self.cycles += 1
        return rec

    def take_interrupt(self, cause):
        """Take interrupt ``cause`` now (before the instruction at pc); its record."""
        rec = Retire(self.order, self.pc, 0, self.priv, trap=1, intr=1, cause=cause)
        self._enter_trap(cause, 0, True, self.pc)
        self.order += 1
        self.cycles += 1
        return rec

    def run(self, max_steps, on_retire=None):
        """Run on its own until ``stop`` is set (tohost written, a WFI that can never
        wake) or ``max_steps`` steps (instructions and traps) have been taken.
        Interrupts are taken as they come.  Returns the number of steps.  With
        ``on_retire`` every step's Retire record is passed to it; without, this is
        ``step`` without the records, the loop stand-alone runs spend their time in."""
        if on_retire is not None:
            return self._run_recorded(max_steps, on_retire)
        words = self._words
        decoded = self._decoded
        steps = 0
        self.stop = None
        while steps < max_steps:
            if self.cycles >= self.irq_due:
                code = self.interrupt_to_take()
                if code is not None:
                    self._enter_trap(code, 0, True, self.pc)
                    steps += 1
                    self.cycles += 1
                    self.order += 1
                    continue
                self.irq_due = self.env.next_timer_cycle(self)
            pc = self.pc
            try:
                if pc >> 12 == self._fvpn:
                    word = words[(self._fbase | (pc & 0xFFF)) >> 2]
                else:
                    word = self._fetch_slow(pc)
                exe = decoded.get(word) or self._compile(word)
                self.pc = exe(pc) & M64
                self.instret += 1
            except Trap as t:
                self._enter_trap(t.cause, t.tval, False, pc)
            except Halted:
                self.stop = "wfi"
                break
            steps += 1
            self.cycles += 1
            self.order += 1
            if self.stop:
                break
        return steps

    def _run_recorded(self, max_steps, on_retire):
        steps = 0
        self.stop = None
        while steps < max_steps and not self.stop:
            code = None
            if self.cycles >= self.irq_due:
                code = self.interrupt_to_take()
                if code is None:
                    self.irq_due = self.env.next_timer_cycle(self)
            try:
                rec = self.step() if code is None else self.take_interrupt(code)
            except Halted:
                self.stop = "wfi"
                break
            on_retire(rec)
            steps += 1
        return steps
