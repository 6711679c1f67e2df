"""Control and status registers, privilege mode, trap entry/return, interrupts.

The CSR file owns the architectural state of the privileged architecture:
the current privilege mode, mstatus and its restricted views, the trap
registers of M and S mode, delegation, interrupt enables/pending bits,
the counters and Sstc's stimecmp.  The core asks it:

* whether a CSR access is legal (``addr``, ``write_intent``) and what the
  CSR reads as (``rdata``; ``rmw_rdata`` is the value a CSRRS/CSRRC modifies:
  the same but for mip's SEIP, which is only the software bit there); with ``we``
  it writes ``wdata`` this cycle;
* to take a trap (``trap`` with cause/interrupt flag/tval/epc): it picks
  the target mode from the delegation registers, updates the state and
  gives the handler address in ``trap_pc`` (valid in the same cycle);
* to return (``mret``/``sret``): ``xret_pc`` holds mepc/sepc;
* which interrupt, if any, must be taken before the next instruction
  (``irq``/``irq_cause``), and whether WFI may finish (``wake``).

PMP: ``pmp_entries`` entries (16, the pipelined core, or 0, the multi-cycle
core), whose registers go out as ``pmp_cfg``/``pmp_addr`` to the checker
(pmp.py).  WARL choices (the same as the golden model's, sim/ref/pmp.py):
configuration bits 6:5 read 0; W = 1 with R = 0 (reserved) is written as W = 0;
pmpaddr holds physical address bits 55:2; a locked entry ignores writes to its
configuration and address, and the address below a locked TOR entry is locked
too.  pmpcfg0 and pmpcfg2 hold entries 0-7 and 8-15 (RV64: odd pmpcfg do not
exist); the rest of pmpcfg* and pmpaddr16..63 read 0 and ignore writes (all of
them with zero entries).  No debug triggers: tselect/tdata1-3 read as 0 (tdata1.type = 0,
"no trigger") and ignore writes.  Hardware performance counters 3..31 and mcountinhibit are
read-only zero.  satp accepts the modes Bare and Sv39 only; a write with
any other mode is ignored as a whole.
"""

from amaranth import *
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .isa import Interrupt, Priv

__all__ = ["CSRFile", "CSR", "MStatus"]


class CSR:
    """CSR addresses (privileged spec, "CSR Listing")."""
    # unprivileged counters
    CYCLE, TIME, INSTRET = 0xC00, 0xC01, 0xC02
    HPMCOUNTER3, HPMCOUNTER31 = 0xC03, 0xC1F
    # supervisor
    SSTATUS, SIE, STVEC, SCOUNTEREN, SENVCFG = 0x100, 0x104, 0x105, 0x106, 0x10A
    SSCRATCH, SEPC, SCAUSE, STVAL, SIP = 0x140, 0x141, 0x142, 0x143, 0x144
    STIMECMP = 0x14D
    SATP = 0x180
    # machine information
    MVENDORID, MARCHID, MIMPID, MHARTID, MCONFIGPTR = 0xF11, 0xF12, 0xF13, 0xF14, 0xF15
    # machine trap setup / handling
    MSTATUS, MISA, MEDELEG, MIDELEG, MIE, MTVEC, MCOUNTEREN = \
        0x300, 0x301, 0x302, 0x303, 0x304, 0x305, 0x306
    MENVCFG = 0x30A
    MCOUNTINHIBIT = 0x320
    MHPMEVENT3, MHPMEVENT31 = 0x323, 0x33F
    MSCRATCH, MEPC, MCAUSE, MTVAL, MIP = 0x340, 0x341, 0x342, 0x343, 0x344
    PMPCFG0, PMPCFG15 = 0x3A0, 0x3AF
    PMPADDR0, PMPADDR63 = 0x3B0, 0x3EF
    MCYCLE, MINSTRET = 0xB00, 0xB02
    MHPMCOUNTER3, MHPMCOUNTER31 = 0xB03, 0xB1F
    # debug triggers (none implemented)
    TSELECT, TDATA1, TDATA2, TDATA3 = 0x7A0, 0x7A1, 0x7A2, 0x7A3


class MStatus(data.StructLayout):
    """mstatus bit layout (RV64)."""
    def __init__(self):
        super().__init__({
            "_0": 1, "sie": 1, "_2": 1, "mie": 1, "_4": 1, "spie": 1, "ube": 1, "mpie": 1,
            "spp": 1, "vs": 2, "mpp": 2, "fs": 2, "xs": 2, "mprv": 1, "sum": 1, "mxr": 1,
            "tvm": 1, "tw": 1, "tsr": 1, "_23": 9, "uxl": 2, "sxl": 2, "sbe": 1, "mbe": 1,
            "_38": 25, "sd": 1,
        })


#: mstatus bits visible through sstatus: SIE SPIE UBE SPP VS FS XS SUM MXR UXL SD
SSTATUS_MASK = (1 << 1) | (1 << 5) | (1 << 6) | (1 << 8) | (3 << 9) | (3 << 13) | \
               (3 << 15) | (1 << 18) | (1 << 19) | (3 << 32) | (1 << 63)
#: exceptions that may be delegated (not 10, 14 (reserved), 11 (ecall from M))
MEDELEG_MASK = 0xB3FF
#: interrupts that may be delegated to S: SSI, STI, SEI
S_INTS = (1 << Interrupt.SSI) | (1 << Interrupt.STI) | (1 << Interrupt.SEI)
ALL_INTS = S_INTS | (1 << Interrupt.MSI) | (1 << Interrupt.MTI) | (1 << Interrupt.MEI)
#: interrupt priority, highest first (privileged spec)
IRQ_PRIORITY = [Interrupt.MEI, Interrupt.MSI, Interrupt.MTI,
                Interrupt.SEI, Interrupt.SSI, Interrupt.STI]

MISA_VALUE = (2 << 62) | (1 << 0) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20)   # RV64 AIMSU


def _updated(ms, updates):
    """The value of mstatus ``ms`` after ``updates``, a list of (condition, {field:
    value}), lowest priority first: each field is the value of the last update whose
    condition holds and that names it, or its old value."""
    fields = []
    for name, field in MStatus():
        v = ms[name]
        for cond, values in updates:
            if name in values:
                new = values[name]
                new = C(int(new), field.width) if isinstance(new, int) else Value.cast(new)
                assert len(new) == field.width, (name, len(new))
                v = Mux(cond, new, v)
        fields.append(v)
    return Cat(*fields)


class CSRFile(wiring.Component):
    # CSR instruction port
    addr:         In(12)
    read:         In(1, init=1)  # the CSR at addr is read this cycle (see below)
    write_intent: In(1)      # the instruction will write (CSRRW*, or rs1/uimm != 0)
    illegal:      Out(1)     # the access is not allowed (or the CSR does not exist)
    rdata:        Out(64)
    rmw_rdata:    Out(64)    # what CSRRS/CSRRC modify: rdata, but mip.SEIP without the line
    # the legality alone, of another access (the pipeline's X stage; x_read 0: legal)
    x_addr:       In(12)
    x_read:       In(1)
    x_write_intent: In(1)
    x_illegal:    Out(1)
    we:           In(1)
    wdata:        In(64)
    # traps
    trap:         In(1)
    trap_intr:    In(1)
    trap_cause:   In(6)
    trap_tval:    In(64)
    trap_epc:     In(64)
    trap_pc:      Out(64)    # handler address for the trap presented this cycle
    trap_to_s:    Out(1)
    mret:         In(1)
    sret:         In(1)
    xret_pc:      Out(64)    # mepc when mret, sepc otherwise
    instret_inc:  In(1)
    instret_undo: In(1)      # the retirement given in the cycle before was none
    # interrupts
    mei:          In(1)
    sei:          In(1)
    mti:          In(1)
    msi:          In(1)
    mtime:        In(64)
    irq:          Out(1)
    irq_cause:    Out(4)
    wake:         Out(1)
    # state the rest of the core needs
    priv:         Out(2)
    mstatus:      Out(MStatus())
    satp:         Out(64)
    # the PMP registers (pmp.py): entry i in bits 8i.. and 54i..
    pmp_cfg:      Out(8 * 16)
    pmp_addr:     Out(54 * 16)

    def __init__(self, hartid=0, pmp_entries=0):
        if pmp_entries not in (0, 16):
            raise ValueError(f"PMP entries must be 0 or 16, not {pmp_entries}")
        self._hartid = hartid
        self.pmp_entries = pmp_entries
        super().__init__()

    def elaborate(self, platform):
        m = Module()

        priv = Signal(2, init=Priv.M)
        ms = Signal(MStatus())
        medeleg = Signal(16)
        mideleg = Signal(12)
        mie = Signal(12)
        mtvec = Signal(64)
        stvec = Signal(64)
        mcounteren = Signal(3)
        scounteren = Signal(3)
        menvcfg_fiom = Signal()
        menvcfg_stce = Signal()
        senvcfg_fiom = Signal()
        mscratch = Signal(64)
        sscratch = Signal(64)
        mepc = Signal(62)
        sepc = Signal(62)
        mcause = Signal(64)
        scause = Signal(64)
        mtval = Signal(64)
        stval = Signal(64)
        satp = Signal(64)
        stimecmp = Signal(64, init=(1 << 64) - 1)
        mcycle = Signal(64)
        minstret = Signal(64)
        ssip = Signal()
        stip_sw = Signal()
        seip_sw = Signal()
        stip_cmp = Signal()

        m.d.comb += [self.priv.eq(priv), self.mstatus.eq(ms), self.satp.eq(satp)]

        npmp = self.pmp_entries
        pmpcfg = [Signal(8, name=f"pmpcfg_e{i}") for i in range(npmp)]
        pmpaddr = [Signal(54, name=f"pmpaddr{i}") for i in range(npmp)]
        if npmp:
            m.d.comb += [self.pmp_cfg.eq(Cat(*pmpcfg)), self.pmp_addr.eq(Cat(*pmpaddr))]

        # ---- interrupt pending bits ----
        m.d.sync += stip_cmp.eq(self.mtime >= stimecmp)
        mip = Signal(12)
        m.d.comb += [
            mip[Interrupt.SSI].eq(ssip),
            mip[Interrupt.MSI].eq(self.msi),
            mip[Interrupt.STI].eq(Mux(menvcfg_stce, stip_cmp, stip_sw)),
            mip[Interrupt.MTI].eq(self.mti),
            mip[Interrupt.SEI].eq(seip_sw | self.sei),
            mip[Interrupt.MEI].eq(self.mei),
        ]
        pending = mip & mie
        m.d.comb += self.wake.eq(pending != 0)
        m_take = pending & ~mideleg & Mux((priv != Priv.M) | ms.mie, 0xFFF, 0)
        s_on = (priv == Priv.U) | ((priv == Priv.S) & ms.sie)
        s_take = pending & mideleg & Mux(s_on, 0xFFF, 0)
        # Interrupts for M come before those for S; within a level the
        # fixed priority order applies.  (The cause is chosen only when some interrupt
        # is to be taken: a simulator then tests one condition in the other cycles.)
        irq_bits = sum(1 << code for code in IRQ_PRIORITY)
        with m.If(((s_take | m_take) & irq_bits).any()):
            m.d.comb += self.irq.eq(1)
            for group in (s_take, m_take):           # later assignment wins
                for code in reversed(IRQ_PRIORITY):
                    with m.If(group[code]):
                        m.d.comb += self.irq_cause.eq(code)

        # ---- legality and read mux ----
        mstatus_rd = Signal(64)
        # UXL and SXL read as 2 (64-bit); the stored bits stay zero.
        m.d.comb += mstatus_rd.eq(ms.as_value() | (0b1010 << 32))

        def lookup(a, read, write_intent, name):
            """The read multiplexer and the legality check of the CSR at ``a``: its
            value and whether the access is illegal."""
            lowest = a[8:10]
            read_only = a[10:12] == 0b11
            exists = Signal(name=f"{name}_exists")
            extra_illegal = Signal(name=f"{name}_extra_illegal")
            rd = Signal(64, name=f"{name}_rdata")

            counter_bit = a[0:5]
            counter_en = Signal(name=f"{name}_counter_en")
            m.d.comb += counter_en.eq(
                Mux(counter_bit < 3, (mcounteren >> counter_bit[0:2])[0], 0) &
                ((priv != Priv.U) | Mux(counter_bit < 3, (scounteren >> counter_bit[0:2])[0], 0)))

            # The read multiplexer and the legality check give their answer while ``read``
            # is high and 0 otherwise: the core reads in one state of its FSM (system.py,
            # CSRInstruction), and a simulator evaluates the ~70 address compares only then.
            # Left unconnected, ``read`` is 1 (the unit tests).
            with m.If(read), m.Switch(a):
                def case(addr, value):
                    with m.Case(addr):
                        m.d.comb += [exists.eq(1), rd.eq(value)]
                case(CSR.MVENDORID, 0)
                case(CSR.MARCHID, 0)
                case(CSR.MIMPID, 0)
                case(CSR.MHARTID, self._hartid)
                case(CSR.MCONFIGPTR, 0)
                case(CSR.MSTATUS, mstatus_rd)
                case(CSR.MISA, MISA_VALUE)
                case(CSR.MEDELEG, medeleg)
                case(CSR.MIDELEG, mideleg)
                case(CSR.MIE, mie)
                case(CSR.MTVEC, mtvec)
                case(CSR.MCOUNTEREN, mcounteren)
                case(CSR.MENVCFG, Cat(menvcfg_fiom, C(0, 62), menvcfg_stce))
                case(CSR.MCOUNTINHIBIT, 0)
                case(CSR.MSCRATCH, mscratch)
                case(CSR.MEPC, Cat(C(0, 2), mepc))
                case(CSR.MCAUSE, mcause)
                case(CSR.MTVAL, mtval)
                case(CSR.MIP, mip)
                case(CSR.MCYCLE, mcycle)
                case(CSR.MINSTRET, minstret)
                case(CSR.SSTATUS, mstatus_rd & SSTATUS_MASK)
                case(CSR.SIE, mie & mideleg)
                case(CSR.STVEC, stvec)
                case(CSR.SCOUNTEREN, scounteren)
                case(CSR.SENVCFG, senvcfg_fiom)
                case(CSR.SSCRATCH, sscratch)
                case(CSR.SEPC, Cat(C(0, 2), sepc))
                case(CSR.SCAUSE, scause)
                case(CSR.STVAL, stval)
                case(CSR.SIP, mip & mideleg)
                case(CSR.STIMECMP, stimecmp)
                case(CSR.SATP, satp)
                if npmp:
                    case(CSR.PMPCFG0, Cat(*pmpcfg[0:8]))
                    case(CSR.PMPCFG0 + 2, Cat(*pmpcfg[8:16]))
                    for i in range(npmp):
                        case(CSR.PMPADDR0 + i, pmpaddr[i])
                # The large read-only-zero groups are matched by bit patterns, not as
                # ~200 single addresses: in simulation every address compare costs time
                # on every cycle.  Earlier cases win, so the holes in a pattern's range
                # (0xB01, 0x321-0x322, 0x3F0-0x3FF) are listed first as non-existent.
                with m.Case(0xB01, 0x321, 0x322, "0011 1111 ----"):
                    pass
                with m.Case("1100 000- ----"):          # cycle, time, instret, hpmcounter3..31
                    m.d.comb += exists.eq(1)
                    with m.Switch(a[0:5]):
                        with m.Case(0):
                            m.d.comb += rd.eq(mcycle)
                        with m.Case(1):
                            m.d.comb += rd.eq(self.mtime)
                        with m.Case(2):
                            m.d.comb += rd.eq(minstret)
                    # Access from below M needs the counter-enable bits.
                    with m.If((priv != Priv.M) & ~counter_en):
                        m.d.comb += extra_illegal.eq(1)
                with m.Case("1011 000- ----",           # mhpmcounter3..31 (0xB03..0xB1F)
                            "0011 001- ----",           # mhpmevent3..31 (0x323..0x33F)
                            "0011 1010 ---0",           # pmpcfg0, 2, .., 14 (RV64: even only)
                            "0011 1011 ----",           # pmpaddr0..15
                            "0011 11-- ----",           # pmpaddr16..63 (0x3C0..0x3EF)
                            "0111 1010 00--"):          # tselect, tdata1..3
                    m.d.comb += [exists.eq(1), rd.eq(0)]

            # Supervisor CSRs that M-mode controls access to.
            with m.If(read & (a == CSR.SATP) & (priv == Priv.S) & ms.tvm):
                m.d.comb += extra_illegal.eq(1)
            with m.If(read & (a == CSR.STIMECMP) & (priv == Priv.S) &
                      ~(menvcfg_stce & mcounteren[1])):
                m.d.comb += extra_illegal.eq(1)

            illegal = Signal(name=f"{name}_illegal")
            m.d.comb += illegal.eq(read & (~exists | (priv < lowest) |
                                           (read_only & write_intent) | extra_illegal))
            return rd, illegal

        # The access of the instruction in the core's M stage (read, written), and
        # the legality of the one in its X stage (``x_*``): the pipeline registers
        # that as the instruction enters M, so that M's decision does not wait for
        # the check.  (The check reads the privilege, mstatus.TVM, the counter
        # enables and menvcfg.STCE: the core makes sure that none changes between
        # the two, see pipeline.py.)
        a = self.addr
        rd, illegal = lookup(a, self.read, self.write_intent, "m")
        _, x_illegal = lookup(self.x_addr, self.x_read, self.x_write_intent, "x")
        m.d.comb += self.x_illegal.eq(x_illegal)

        # A CSRRS/CSRRC on mip modifies SEIP's software bit only; the line from the
        # interrupt controller shows in reads but is not written back (privileged
        # spec, mip), or a read-modify-write of any other bit while the line is high
        # would latch it into the software bit for good.
        m.d.comb += self.rmw_rdata.eq(rd)
        with m.If(self.read & (a == CSR.MIP)):
            m.d.comb += self.rmw_rdata[Interrupt.SEI].eq(seip_sw)
        m.d.comb += [self.rdata.eq(rd), self.illegal.eq(illegal)]

        # ---- counters ----
        m.d.sync += mcycle.eq(mcycle + 1)
        # A retirement is counted one cycle later (instret_due), so that the
        # commit decision does not ripple through the 64-bit incrementer.
        # The next instruction reads minstret no earlier than two cycles
        # after the commit, so software cannot tell.
        # ``instret_undo`` takes back the retirement given in the cycle before
        # (the pipeline's cached load that missed: it retires when its line
        # comes), so that the data cache's hit reaches no counter logic here.
        instret_due = Signal()
        m.d.sync += instret_due.eq(self.instret_inc)
        with m.If(instret_due & ~self.instret_undo):
            m.d.sync += minstret.eq(minstret + 1)

        # ---- the trap's and xRET's targets ----
        cause = self.trap_cause
        to_s = Signal()
        deleg_bits = Mux(self.trap_intr, mideleg, medeleg)
        m.d.comb += to_s.eq((priv != Priv.M) & (deleg_bits >> cause)[0])
        tvec = Mux(to_s, stvec, mtvec)
        base = Cat(C(0, 2), tvec[2:])
        m.d.comb += [
            self.trap_to_s.eq(to_s),
            self.trap_pc.eq(Mux(tvec[0] & self.trap_intr, base + (cause << 2), base)),
        ]
        m.d.comb += self.xret_pc.eq(Mux(self.mret, Cat(C(0, 2), mepc), Cat(C(0, 2), sepc)))

        # The state changes below happen only in a cycle with a CSR write, a trap or an
        # xRET (a simulator skips all of them in the other cycles).
        with m.If(self.we | self.trap | self.mret | self.sret):
            # ---- CSR writes ----
            w = self.wdata
            wv = data.View(MStatus(), w)

            # mstatus as one word: each field's value after the write, the trap and the
            # xRET of this cycle (later ones override earlier ones, as separate
            # assignments of the fields would), stored as a whole.  A simulator then
            # evaluates one condition for the register in every cycle instead of a
            # multiplexer chain for each of its 18 separately assigned bit ranges.
            sstatus_bits = dict(sie=wv.sie, spie=wv.spie, spp=wv.spp, sum=wv.sum, mxr=wv.mxr)
            m.d.sync += ms.eq(_updated(ms, [          # lowest priority first
                (self.we & (a == CSR.MSTATUS), dict(
                    **sstatus_bits, mie=wv.mie, mpie=wv.mpie, mprv=wv.mprv, tvm=wv.tvm,
                    tw=wv.tw, tsr=wv.tsr,
                    # MPP is WARL: the reserved encoding 2 becomes U.
                    mpp=Mux(wv.mpp == 2, Priv.U, wv.mpp))),
                (self.we & (a == CSR.SSTATUS), sstatus_bits),
                (self.trap & to_s, dict(spie=ms.sie, sie=0, spp=priv[0])),
                (self.trap & ~to_s, dict(mpie=ms.mie, mie=0, mpp=priv)),
                (self.mret, dict(mie=ms.mpie, mpie=1, mpp=Priv.U)),
                (self.mret & (ms.mpp != Priv.M), dict(mprv=0)),
                (self.sret, dict(sie=ms.spie, spie=1, spp=0, mprv=0)),
            ]))

            with m.If(self.we):
                with m.Switch(a):
                    with m.Case(CSR.MEDELEG):
                        m.d.sync += medeleg.eq(w[:16] & MEDELEG_MASK)
                    with m.Case(CSR.MIDELEG):
                        m.d.sync += mideleg.eq(w[:12] & S_INTS)
                    with m.Case(CSR.MIE):
                        m.d.sync += mie.eq(w[:12] & ALL_INTS)
                    with m.Case(CSR.SIE):
                        m.d.sync += mie.eq((mie & ~mideleg) | (w[:12] & mideleg))
                    with m.Case(CSR.MIP):
                        m.d.sync += [ssip.eq(w[Interrupt.SSI]), seip_sw.eq(w[Interrupt.SEI])]
                        with m.If(~menvcfg_stce):
                            m.d.sync += stip_sw.eq(w[Interrupt.STI])
                    with m.Case(CSR.SIP):
                        with m.If(mideleg[Interrupt.SSI]):
                            m.d.sync += ssip.eq(w[Interrupt.SSI])
                    with m.Case(CSR.MTVEC):
                        # MODE is WARL: Direct (0) or Vectored (1).
                        m.d.sync += mtvec.eq(Cat(w[0], C(0, 1), w[2:]))
                    with m.Case(CSR.STVEC):
                        m.d.sync += stvec.eq(Cat(w[0], C(0, 1), w[2:]))
                    with m.Case(CSR.MCOUNTEREN):
                        m.d.sync += mcounteren.eq(w[:3])
                    with m.Case(CSR.SCOUNTEREN):
                        m.d.sync += scounteren.eq(w[:3])
                    with m.Case(CSR.MENVCFG):
                        m.d.sync += [menvcfg_fiom.eq(w[0]), menvcfg_stce.eq(w[63])]
                    with m.Case(CSR.SENVCFG):
                        m.d.sync += senvcfg_fiom.eq(w[0])
                    with m.Case(CSR.MSCRATCH):
                        m.d.sync += mscratch.eq(w)
                    with m.Case(CSR.SSCRATCH):
                        m.d.sync += sscratch.eq(w)
                    with m.Case(CSR.MEPC):
                        m.d.sync += mepc.eq(w[2:])
                    with m.Case(CSR.SEPC):
                        m.d.sync += sepc.eq(w[2:])
                    with m.Case(CSR.MCAUSE):
                        m.d.sync += mcause.eq(w)
                    with m.Case(CSR.SCAUSE):
                        m.d.sync += scause.eq(w)
                    with m.Case(CSR.MTVAL):
                        m.d.sync += mtval.eq(w)
                    with m.Case(CSR.STVAL):
                        m.d.sync += stval.eq(w)
                    with m.Case(CSR.STIMECMP):
                        m.d.sync += stimecmp.eq(w)
                    with m.Case(CSR.SATP):
                        with m.If((w[60:64] == 0) | (w[60:64] == 8)):
                            m.d.sync += satp.eq(Cat(w[0:44], w[44:60], C(0, 3), w[63]))
                    with m.Case(CSR.MCYCLE):
                        m.d.sync += mcycle.eq(w)
                    with m.Case(CSR.MINSTRET):
                        # the write replaces the increment of the writing instruction
                        m.d.sync += [minstret.eq(w), instret_due.eq(0)]
                    for reg in range(0, npmp // 4, 2):          # pmpcfg0, pmpcfg2
                        with m.Case(CSR.PMPCFG0 + reg):
                            for i in range(4 * reg, 4 * reg + 8):
                                byte = w[8 * (i % 8):8 * (i % 8) + 8]
                                with m.If(~pmpcfg[i][7]):
                                    # R W X A L; bits 6:5 read 0; W without R is reserved
                                    m.d.sync += pmpcfg[i].eq(Cat(byte[0], byte[1] & byte[0],
                                                                 byte[2:5], C(0, 2), byte[7]))
                    for i in range(npmp):
                        above_locks = C(0, 1)
                        if i + 1 < npmp:                          # a locked TOR entry above
                            above_locks = pmpcfg[i + 1][7] & (pmpcfg[i + 1][3:5] == 1)
                        with m.Case(CSR.PMPADDR0 + i):
                            with m.If(~pmpcfg[i][7] & ~above_locks):
                                m.d.sync += pmpaddr[i].eq(w[0:54])

            # ---- traps ----
            full_cause = Cat(cause, C(0, 57), self.trap_intr)
            with m.If(self.trap):
                with m.If(to_s):
                    m.d.sync += [
                        sepc.eq(self.trap_epc[2:]), scause.eq(full_cause),
                        stval.eq(self.trap_tval), priv.eq(Priv.S),
                    ]
                with m.Else():
                    m.d.sync += [
                        mepc.eq(self.trap_epc[2:]), mcause.eq(full_cause),
                        mtval.eq(self.trap_tval), priv.eq(Priv.M),
                    ]

            # ---- trap return ----
            with m.If(self.mret):
                m.d.sync += priv.eq(ms.mpp)
            with m.If(self.sret):
                m.d.sync += priv.eq(ms.spp)
        return m
