"""The control and status registers of the golden model.

Which CSRs exist, who may touch them and what a write leaves behind follow the
privileged specification and the choices that hw/core/csr.py documents for our core
(its WARL masks are imported from there: they are the core's documented behaviour,
which this model checks the implementation of):

* machine information (mvendorid, marchid, mimpid, mhartid, mconfigptr): read-only;
* mstatus / sstatus: SIE MIE SPIE MPIE SPP MPP MPRV SUM MXR TVM TW TSR are writable
  (sstatus: SIE SPIE SPP SUM MXR); MPP = 2 (reserved) is written as U; UXL and SXL
  read as 2 (64-bit); every other field is read-only zero;
* misa: RV64 A I M S U, read-only (writes ignored);
* medeleg / mideleg / mie: masks MEDELEG_MASK, S_INTS, ALL_INTS; sie is mie seen
  through mideleg;
* mip / sip: SSIP, STIP (only while menvcfg.STCE = 0) and SEIP's software bit are
  writable from mip, SSIP from sip when delegated; MSIP, MTIP, MEIP and SEIP's line
  come from the devices, STIP from the Sstc comparison while STCE = 1;
* mtvec / stvec: MODE Direct or Vectored (bit 1 reads 0); mepc / sepc: bits 1:0 read 0;
* mcounteren / scounteren: CY TM IR; menvcfg: FIOM and STCE; senvcfg: FIOM;
* mcycle, minstret (cycle, time, instret their read-only shadows, subject to the
  counter-enable bits below M); hpmcounters 3..31, mhpmevents, mcountinhibit: zero;
* stimecmp (Sstc): from S only with menvcfg.STCE and mcounteren.TM;
* satp: modes Bare and Sv39, a write with another mode is ignored as a whole; from
  S illegal while mstatus.TVM = 1;
* PMP: ``pmp_entries`` entries (sim/ref/pmp.py), the rest of pmpcfg*/pmpaddr*
  read 0; tselect/tdata1-3 read 0 (no triggers).

Anything else is an illegal instruction, as is a write to a read-only CSR (address
bits 11:10 = 0b11) or an access from below the CSR's privilege (bits 9:8).
"""

from hw.core.csr import (CSR, SSTATUS_MASK, MEDELEG_MASK, S_INTS, ALL_INTS, MISA_VALUE)
from hw.core.isa import Interrupt, Priv

__all__ = ["CSRFile", "CSR_NAMES", "MIP_SSIP", "MIP_MSIP", "MIP_STIP", "MIP_MTIP", "MIP_SEIP",
           "MIP_MEIP", "MSTATUS"]

M64 = (1 << 64) - 1
PRIV_U, PRIV_S, PRIV_M = int(Priv.U), int(Priv.S), int(Priv.M)

MIP_SSIP = 1 << int(Interrupt.SSI)
MIP_MSIP = 1 << int(Interrupt.MSI)
MIP_STIP = 1 << int(Interrupt.STI)
MIP_MTIP = 1 << int(Interrupt.MTI)
MIP_SEIP = 1 << int(Interrupt.SEI)
MIP_MEIP = 1 << int(Interrupt.MEI)


class MSTATUS:
    """Bit positions of the mstatus fields the core implements."""
    SIE, MIE, SPIE, MPIE, SPP = 1 << 1, 1 << 3, 1 << 5, 1 << 7, 1 << 8
    MPP_SHIFT = 11
    MPP = 3 << 11
    MPRV, SUM, MXR, TVM, TW, TSR = 1 << 17, 1 << 18, 1 << 19, 1 << 20, 1 << 21, 1 << 22
    #: UXL = SXL = 2: XLEN is 64 in U and S
    XL64 = 0b1010 << 32
    #: the writable fields through mstatus and through sstatus
    M_WRITABLE = SIE | MIE | SPIE | MPIE | SPP | MPP | MPRV | SUM | MXR | TVM | TW | TSR
    S_WRITABLE = SIE | SPIE | SPP | SUM | MXR


#: CSR names for traces and disassembly (the spec's names)
CSR_NAMES = {
    0xC00: "cycle", 0xC01: "time", 0xC02: "instret",
    0x100: "sstatus", 0x104: "sie", 0x105: "stvec", 0x106: "scounteren", 0x10A: "senvcfg",
    0x140: "sscratch", 0x141: "sepc", 0x142: "scause", 0x143: "stval", 0x144: "sip",
    0x14D: "stimecmp", 0x180: "satp",
    0xF11: "mvendorid", 0xF12: "marchid", 0xF13: "mimpid", 0xF14: "mhartid",
    0xF15: "mconfigptr",
    0x300: "mstatus", 0x301: "misa", 0x302: "medeleg", 0x303: "mideleg", 0x304: "mie",
    0x305: "mtvec", 0x306: "mcounteren", 0x30A: "menvcfg", 0x320: "mcountinhibit",
    0x340: "mscratch", 0x341: "mepc", 0x342: "mcause", 0x343: "mtval", 0x344: "mip",
    0xB00: "mcycle", 0xB02: "minstret",
    0x7A0: "tselect", 0x7A1: "tdata1", 0x7A2: "tdata2", 0x7A3: "tdata3",
}
CSR_NAMES.update({0xC00 + n: f"hpmcounter{n}" for n in range(3, 32)})
CSR_NAMES.update({0xB00 + n: f"mhpmcounter{n}" for n in range(3, 32)})
CSR_NAMES.update({0x320 + n: f"mhpmevent{n}" for n in range(3, 32)})
CSR_NAMES.update({0x3A0 + n: f"pmpcfg{n}" for n in range(0, 16, 2)})
CSR_NAMES.update({0x3B0 + n: f"pmpaddr{n}" for n in range(64)})


class CSRFile:
    """The CSR state of one hart and the rules for reading and writing it.

    ``hart`` provides ``priv``, the counters (``instret``, ``cycles``), the
    environment (``env``: device interrupt lines, mtime, values handed over by the
    lock-step comparison) and ``context_changed()``, called whenever a write
    changes how addresses are translated or checked (satp, mstatus, PMP).
    """

    def __init__(self, hart, pmp):
        self.hart = hart
        self.pmp = pmp
        self.mstatus = 0
        self.medeleg = self.mideleg = self.mie = 0
        self.mtvec = self.stvec = 0
        self.mcounteren = self.scounteren = 0
        self.menvcfg = self.senvcfg = 0          # FIOM (bit 0), STCE (bit 63)
        self.mscratch = self.sscratch = 0
        self.mepc = self.sepc = 0
        self.mcause = self.scause = 0
        self.mtval = self.stval = 0
        self.satp = 0
        self.stimecmp = M64                      # Sstc: "never" at reset
        self.mip_sw = 0                          # SSIP, STIP (STCE = 0), SEIP software bits
        self._build_table()

    # ---- the table: address -> (read, write) ----

    def _build_table(self):
        h = self.hart
        t = {}

        def const(value):
            return (lambda: value), None

        def reg(name, mask=M64):
            def read():
                return getattr(self, name)

            def write(v):
                setattr(self, name, v & mask)
            return read, write

        t[CSR.MVENDORID] = const(0)
        t[CSR.MARCHID] = const(0)
        t[CSR.MIMPID] = const(0)
        t[CSR.MHARTID] = const(h.config.hartid)
        t[CSR.MCONFIGPTR] = const(0)
        t[CSR.MSTATUS] = (self._read_mstatus, self._write_mstatus)
        t[CSR.MISA] = (lambda: MISA_VALUE, lambda v: None)
        t[CSR.MEDELEG] = reg("medeleg", MEDELEG_MASK)
        t[CSR.MIDELEG] = reg("mideleg", S_INTS)
        t[CSR.MIE] = reg("mie", ALL_INTS)
        t[CSR.MTVEC] = reg("mtvec", M64 & ~2)
        t[CSR.MCOUNTEREN] = reg("mcounteren", 7)
        t[CSR.MENVCFG] = reg("menvcfg", (1 << 63) | 1)
        t[CSR.MSCRATCH] = reg("mscratch")
        t[CSR.MEPC] = reg("mepc", M64 & ~3)
        t[CSR.MCAUSE] = reg("mcause")
        t[CSR.MTVAL] = reg("mtval")
        t[CSR.MIP] = (self._read_mip, self._write_mip)
        t[CSR.MCYCLE] = (self._read_mcycle, self._write_mcycle)
        t[CSR.MINSTRET] = (self._read_minstret, self._write_minstret)
        t[CSR.SSTATUS] = (lambda: self._read_mstatus() & SSTATUS_MASK, self._write_sstatus)
        t[CSR.SIE] = (lambda: self.mie & self.mideleg, self._write_sie)
        t[CSR.STVEC] = reg("stvec", M64 & ~2)
        t[CSR.SCOUNTEREN] = reg("scounteren", 7)
        t[CSR.SENVCFG] = reg("senvcfg", 1)
        t[CSR.SSCRATCH] = reg("sscratch")
        t[CSR.SEPC] = reg("sepc", M64 & ~3)
        t[CSR.SCAUSE] = reg("scause")
        t[CSR.STVAL] = reg("stval")
        t[CSR.SIP] = (lambda: self._read_mip() & self.mideleg, self._write_sip)
        t[CSR.STIMECMP] = (lambda: self.stimecmp, self._write_stimecmp)
        t[CSR.SATP] = (lambda: self.satp, self._write_satp)
        # unprivileged counters (read-only shadows)
        t[CSR.CYCLE] = (self._read_mcycle, None)
        t[CSR.TIME] = (lambda: h.env.read_time(), None)
        t[CSR.INSTRET] = (self._read_minstret, None)
        # read-only-zero groups (writes ignored where writable)
        zero = (lambda: 0, lambda v: None)
        for n in range(3, 32):
            t[0xC00 + n] = (lambda: 0, None)        # hpmcounter3..31
            t[0xB00 + n] = zero                     # mhpmcounter3..31
            t[0x320 + n] = zero                     # mhpmevent3..31
        t[CSR.MCOUNTINHIBIT] = zero
        for addr in (CSR.TSELECT, CSR.TDATA1, CSR.TDATA2, CSR.TDATA3):
            t[addr] = zero
        # PMP: 8 even pmpcfg registers and 64 pmpaddr registers; pmp.py decides
        # which of them hold implemented entries.
        for n in range(0, 16, 2):
            t[CSR.PMPCFG0 + n] = (lambda n=n: self.pmp.read_cfg(n), lambda v, n=n: self._pmp_write(self.pmp.write_cfg, n, v))
        for n in range(64):
            t[CSR.PMPADDR0 + n] = (lambda n=n: self.pmp.read_addr(n), lambda v, n=n: self._pmp_write(self.pmp.write_addr, n, v))
        self.table = t

    # ---- access rules ----

    def illegal(self, addr, writes):
        """True when a CSR instruction on ``addr`` (writing if ``writes``) is illegal
        in the current privilege mode."""
        if addr not in self.table:
            return True
        priv = self.hart.priv
        if priv < (addr >> 8) & 3:
            return True
        if writes and addr >> 10 == 0b11:
            return True
        if priv != PRIV_M:
            if 0xC00 <= addr <= 0xC1F:
                bit = addr & 0x1F
                if bit >= 3 or not (self.mcounteren >> bit) & 1:
                    return True
                if priv == PRIV_U and not (self.scounteren >> bit) & 1:
                    return True
            elif addr == CSR.SATP:
                return priv == PRIV_S and bool(self.mstatus & MSTATUS.TVM)
            elif addr == CSR.STIMECMP:
                return not (self.menvcfg >> 63 and self.mcounteren & 2)
        return False

    def read(self, addr):
        return self.table[addr][0]()

    def write(self, addr, value):
        write = self.table[addr][1]
        if write is not None:
            write(value & M64)

    # ---- mstatus ----

    def _read_mstatus(self):
        return self.mstatus | MSTATUS.XL64

    def _write_mstatus(self, v):
        if (v & MSTATUS.MPP) >> MSTATUS.MPP_SHIFT == 2:       # reserved: written as U
            v &= ~MSTATUS.MPP
        old = self.mstatus
        self.mstatus = v & MSTATUS.M_WRITABLE
        self.hart.mstatus_written(old)

    def _write_sstatus(self, v):
        old = self.mstatus
        self.mstatus = (old & ~MSTATUS.S_WRITABLE) | (v & MSTATUS.S_WRITABLE)
        self.hart.mstatus_written(old)

    # ---- interrupts ----

    def stce(self):
        return self.menvcfg >> 63

    def sw_pending(self):
        """The pending bits software controls: SSIP, SEIP's software bit, and STIP
        while Sstc's comparison is off (STCE = 0)."""
        sw = self.mip_sw
        if self.stce():
            sw &= ~MIP_STIP
        return sw

    def device_pending_mask(self):
        """The mip bits driven from outside the CSR file: the CLINT's MSIP and MTIP,
        the interrupt controller's MEIP and SEIP lines, and STIP from Sstc's
        comparison of mtime with stimecmp while STCE = 1."""
        mask = MIP_MSIP | MIP_MTIP | MIP_MEIP | MIP_SEIP
        if self.stce():
            mask |= MIP_STIP
        return mask

    def pending(self):
        """mip: the software bits OR the environment's lines (``env.device_mip``; in
        the lock-step comparison these are the hardware's, see sim/difftest)."""
        return self.sw_pending() | (self.hart.env.device_mip() & self.device_pending_mask())

    def _read_mip(self):
        return self.pending()

    def rmw_base(self, addr):
        """The old value a CSRRS/CSRRC instruction modifies.  For mip only the
        software-writable SEIP bit takes part, not the line from the interrupt
        controller (privileged spec, mip): reading it through the OR would latch the
        line into the software bit."""
        if addr == CSR.MIP:
            return self.sw_pending()
        if addr == CSR.SIP:
            return self.sw_pending() & self.mideleg
        return self.read(addr)

    def _write_mip(self, v):
        writable = MIP_SSIP | MIP_SEIP | (0 if self.stce() else MIP_STIP)
        keep = self.mip_sw & ~writable
        self.mip_sw = keep | (v & writable)

    def _write_sip(self, v):
        if self.mideleg & MIP_SSIP:
            self.mip_sw = (self.mip_sw & ~MIP_SSIP) | (v & MIP_SSIP)

    def _write_sie(self, v):
        self.mie = (self.mie & ~self.mideleg) | (v & self.mideleg)

    def _write_stimecmp(self, v):
        self.stimecmp = v

    # ---- counters ----

    def _read_mcycle(self):
        return self.hart.env.read_cycle()

    def _write_mcycle(self, v):
        self.hart.env.write_cycle(v)

    def _read_minstret(self):
        return self.hart.instret & M64

    def _write_minstret(self, v):
        # The write replaces the increment of the writing instruction.
        self.hart.instret = v - 1

    # ---- satp, PMP ----

    def _write_satp(self, v):
        mode = v >> 60
        if mode in (0, 8):                      # Bare or Sv39, else ignored
            self.satp = v
            self.hart.context_changed()

    def _pmp_write(self, method, n, v):
        method(n, v)
        self.hart.context_changed()
