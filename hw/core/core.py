"""The RV64IMA core.

Micro-architecture: a multi-cycle state machine, one instruction at a time.

    FETCH [-> FETCH_BUS] -> EXEC ------------------------------> (commit)
                           |-> MEM_XLATE [-> MEM_BUS] [-> LOAD_DATA [-> AMO_WRITE]]
                                                                   -> (commit)
                           |-> MULDIV  |-> SFENCE  |-> WFI        -> (commit)
                           |-> CSR_WRITE -----------------------> (commit)
    any fault -> TRAP -> FETCH

* FETCH asks the MMU's fetch port to translate pc (interrupts are taken
  here, between instructions), FETCH_BUS reads the instruction word and
  registers its decoded form, EXEC reads the register file (LUT RAM,
  asynchronous read) and finishes every ALU, jump, branch and CSR
  instruction.
* Fast paths: in M mode or with satp = Bare, and when the address lies
  in the page of the previous translated fetch (or data access), FETCH
  (or MEM_XLATE) skips the MMU and starts the bus transfer itself.  With a
  zero-wait-state memory an ALU instruction then takes 2 cycles, a store
  3, a load 4 (read data are registered before they are extended and
  written back), an AMO 5, a successful SC 5 (the reservation is checked in a cycle of
  its own), a CSR instruction 3, a multiply 6, a divide 68
  (W forms 36); a TLB hit in the MMU costs 2 extra cycles, a walk more.
* Every state that needs the bus is a core state; while the core waits
  for a translation, the MMU's page-table walker owns the bus.  The two
  never want the bus at the same time, so the arbiter is a multiplexer
  selected by the state.
* Misaligned loads, stores and AMOs trap (causes 4 and 6); they are not
  emulated.  Jumps and branches to an address that is not 4-byte aligned
  trap with cause 0 on the jump itself.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..bus import BusSignature
from ..mmu.signatures import Access, MMUEventSignature
from .alu import ALU
from .amo import AmoALU
from .csr import CSRFile
from .decoder import Decoder, Decoded
from .isa import AluOp, AmoOp, Cause, Kind, Priv
from .muldiv import MulDiv
from .retire import RetireSignature
from .system import CSRInstruction, PendingTrap, connect_interrupts, system_instructions
from .bare_mmu import check_mmu_kind, make_mmu

__all__ = ["Core"]


class Core(wiring.Component):
    bus:        Out(BusSignature())
    mei:        In(1)
    sei:        In(1)
    mti:        In(1)
    msi:        In(1)
    mtime:      In(64)
    retire:     Out(RetireSignature())
    mmu_events: Out(MMUEventSignature())
    wfi:        Out(1)

    def __init__(self, *, reset_pc=0x8000_0000, hartid=0, dtb_addr=0,
                 itlb_entries=8, dtlb_entries=8, mmu="sv39"):
        check_mmu_kind(mmu)
        self.reset_pc = reset_pc
        self.hartid = hartid
        self.dtb_addr = dtb_addr
        self.itlb_entries = itlb_entries
        self.dtlb_entries = dtlb_entries
        self.mmu_kind = mmu
        super().__init__()

    def elaborate(self, platform):
        m = Module()

        m.submodules.decoder = decoder = Decoder()
        m.submodules.alu = alu = ALU()
        m.submodules.amo = amo = AmoALU()
        m.submodules.muldiv = muldiv = MulDiv()
        m.submodules.csr = csr = CSRFile(hartid=self.hartid)
        m.submodules.mmu = mmu = make_mmu(self.mmu_kind, self.itlb_entries, self.dtlb_entries)
        m.submodules.regs = regs = Memory(shape=64, depth=32, init=[])
        rp1 = regs.read_port(domain="comb")
        rp2 = regs.read_port(domain="comb")
        wp = regs.write_port()

        # ---- architectural / pipeline state ----
        pc = Signal(64, init=self.reset_pc)
        insn = Signal(32)
        dec = Signal(Decoded())
        fetch_paddr = Signal(56)
        mem_vaddr = Signal(64)
        mem_paddr = Signal(56)
        amo_old = Signal(64)          # value read by an AMO, sign-extended for .W
        resv_valid = Signal()
        resv_addr = Signal(56)
        order = Signal(64)
        # the pending trap, latched for the TRAP state (system.py), and its instruction
        trap = PendingTrap()
        t_insn = Signal(32)

        priv = csr.priv
        ms = csr.mstatus
        satp_bare = csr.satp[60:64] == 0

        connect_interrupts(m, csr, self)

        # ---- operands ----
        m.d.comb += [rp1.addr.eq(dec.rs1), rp2.addr.eq(dec.rs2)]
        rs1 = rp1.data
        rs2 = rp2.data
        imm = Signal(64)
        m.d.comb += imm.eq(dec.imm)
        kind = dec.kind
        f3 = dec.funct3

        # ALU operands: rs1 op (imm | rs2); loads/stores/JALR add rs1 + imm.
        uses_imm = dec.use_imm | (kind == Kind.LOAD) | (kind == Kind.STORE) | \
            (kind == Kind.JALR) | (kind == Kind.AMO)
        m.d.comb += [
            alu.a.eq(rs1),
            alu.b.eq(Mux(uses_imm, imm, rs2)),
            alu.op.eq(Mux(kind == Kind.ALU, dec.alu_op, AluOp.ADD)),
            alu.word.eq(dec.word & (kind == Kind.ALU)),
        ]
        pc_plus_4 = (pc + 4)[:64]
        pc_plus_imm = (pc + imm)[:64]

        # ---- memory access attributes ----
        size = f3[0:2]                                       # 0 B, 1 H, 2 W, 3 D
        is_lr = (kind == Kind.AMO) & (dec.funct5 == AmoOp.LR)
        is_sc = (kind == Kind.AMO) & (dec.funct5 == AmoOp.SC)
        is_rmw = (kind == Kind.AMO) & ~is_lr & ~is_sc
        is_read = (kind == Kind.LOAD) | is_lr
        store_like_cause = ~is_read
        # effective privilege of data accesses (MPRV)
        data_priv = Mux((priv == Priv.M) & ms.mprv, ms.mpp, priv)
        size_mask = Signal(8)
        with m.Switch(size):
            with m.Case(0): m.d.comb += size_mask.eq(0x01)
            with m.Case(1): m.d.comb += size_mask.eq(0x03)
            with m.Case(2): m.d.comb += size_mask.eq(0x0F)
            with m.Case(3): m.d.comb += size_mask.eq(0xFF)
        addr = alu.result
        misaligned = Signal()
        with m.Switch(size):
            with m.Case(1): m.d.comb += misaligned.eq(addr[0])
            with m.Case(2): m.d.comb += misaligned.eq(addr[0:2] != 0)
            with m.Case(3): m.d.comb += misaligned.eq(addr[0:3] != 0)

        # Load data: shift the doubleword down to the access, then extend.
        byte_off = mem_vaddr[0:3]           # the page offset is not translated
        load_raw = Signal(64)         # the doubleword a load read, registered
        rdata_shifted = Signal(64)
        m.d.comb += rdata_shifted.eq(load_raw >> (byte_off << 3))
        load_value = Signal(64)
        unsigned_load = f3[2] & (kind == Kind.LOAD)
        with m.Switch(size):
            with m.Case(0):
                m.d.comb += load_value.eq(Mux(unsigned_load, rdata_shifted[:8],
                                              rdata_shifted[:8].as_signed()))
            with m.Case(1):
                m.d.comb += load_value.eq(Mux(unsigned_load, rdata_shifted[:16],
                                              rdata_shifted[:16].as_signed()))
            with m.Case(2):
                m.d.comb += load_value.eq(Mux(unsigned_load, rdata_shifted[:32],
                                              rdata_shifted[:32].as_signed()))
            with m.Case(3):
                m.d.comb += load_value.eq(rdata_shifted)
        raw_read = rdata_shifted & Cat(*[size_mask[i].replicate(8) for i in range(8)])

        # AMO source operand, sign-extended like the loaded value for .W
        amo_src = Mux(size == 2, rs2[:32].as_signed(), rs2)
        m.d.comb += [amo.funct5.eq(dec.funct5), amo.old.eq(load_value), amo.src.eq(amo_src)]
        amo_new = Signal(64)          # the AMO's result, registered in LOAD_DATA
        store_value = Signal(64)
        m.d.comb += store_value.eq(Mux(is_rmw, amo_new, rs2))
        store_value_masked = store_value & Cat(*[size_mask[i].replicate(8) for i in range(8)])

        # ---- retire port ----
        ret = self.retire
        m.d.sync += ret.valid.eq(0)

        def report(*, rd=0, rd_val=0, trap=False, mem=None):
            """Emit the retire report of this cycle (sync).

            Only the fields that say *whether* something happened are set
            here; the wide data fields (pc, insn, memory address and data,
            trap cause and value) follow the core's state every cycle (see
            below the state machine), which keeps the commit decision off
            hundreds of flip-flop enables."""
            stmts = [
                ret.valid.eq(1), order.eq(order + 1),
                ret.rd.eq(rd), ret.rd_wdata.eq(Mux(rd == 0, 0, rd_val)),
                ret.mem_rmask.eq(0), ret.mem_wmask.eq(0), ret.trap.eq(int(trap)),
            ]
            if mem is not None:
                rmask, wmask = mem
                stmts += [ret.mem_rmask.eq(rmask), ret.mem_wmask.eq(wmask)]
            m.d.sync += stmts

        def commit(next_pc, *, rd=None, value=0, mem=None):
            """The instruction completes: write rd, move pc, report, next."""
            if rd is not None:
                m.d.comb += [wp.addr.eq(rd), wp.data.eq(value), wp.en.eq(rd != 0)]
            m.d.comb += csr.instret_inc.eq(1)
            m.d.sync += pc.eq(next_pc)
            report(rd=0 if rd is None else rd, rd_val=value, mem=mem)
            m.next = "FETCH"

        def raise_trap(cause, tval, insn_bits=None):
            m.d.sync += trap.latch(cause, tval) + [
                t_insn.eq(insn if insn_bits is None else insn_bits)]
            m.next = "TRAP"

        # ---- bus: the core's own requests or the walker's ----
        core_bus = Signal()
        c_addr = Signal(56)
        c_write = Signal()
        c_wdata = Signal(64)
        c_sel = Signal(8)
        c_lock = Signal()
        with m.If(core_bus):
            m.d.comb += [
                self.bus.valid.eq(1), self.bus.addr.eq(Cat(C(0, 3), c_addr[3:])),
                self.bus.write.eq(c_write), self.bus.wdata.eq(c_wdata),
                self.bus.sel.eq(c_sel), self.bus.lock.eq(c_lock),
            ]
        with m.Else():
            m.d.comb += [
                self.bus.valid.eq(mmu.bus.valid), self.bus.addr.eq(mmu.bus.addr),
                self.bus.write.eq(mmu.bus.write), self.bus.wdata.eq(mmu.bus.wdata),
                self.bus.sel.eq(mmu.bus.sel), self.bus.lock.eq(mmu.bus.lock),
                mmu.bus.ready.eq(self.bus.ready), mmu.bus.error.eq(self.bus.error),
            ]
        m.d.comb += mmu.bus.rdata.eq(self.bus.rdata)
        wiring.connect(m, wiring.flipped(self.mmu_events), mmu.events)

        # ---- MMU requests ----
        for port in (mmu.ifetch, mmu.data):
            m.d.comb += [port.satp.eq(csr.satp), port.sum.eq(ms.sum), port.mxr.eq(ms.mxr)]
        m.d.comb += [
            mmu.ifetch.vaddr.eq(pc), mmu.ifetch.access.eq(Access.FETCH),
            mmu.ifetch.priv.eq(priv),
            mmu.data.vaddr.eq(mem_vaddr),
            mmu.data.access.eq(Mux(is_read, Access.LOAD, Access.STORE)),
            mmu.data.priv.eq(data_priv),
            mmu.sfence.vaddr.eq(rs1), mmu.sfence.asid.eq(rs2[:16]),
            mmu.sfence.all_vaddr.eq(dec.rs1 == 0), mmu.sfence.all_asid.eq(dec.rs2 == 0),
        ]
        # Physical addresses are 56 bits; without translation the upper
        # virtual bits must be zero, or the access faults.
        fetch_unmapped = (priv == Priv.M) | satp_bare
        # For data, registered: priv, mstatus and satp change only when an
        # instruction commits (CSR write, trap, xRET), and every data access is
        # at least two cycles later (FETCH, EXEC, then MEM_XLATE), so the copy is
        # always current there.  It keeps the MPRV/MPP mux off the bus address path.
        data_unmapped = Signal()
        m.d.sync += data_unmapped.eq((data_priv == Priv.M) | satp_bare)

        # ---- CSR instruction operands ----
        # CSR instructions take two cycles: EXEC checks legality and latches
        # the old value, CSR_WRITE computes and writes the new one (system.py).
        csri = CSRInstruction()
        csri.operands(m, csr, dec, rs1)

        m.d.comb += [
            muldiv.funct3.eq(f3), muldiv.word.eq(dec.word), muldiv.a.eq(rs1), muldiv.b.eq(rs2),
        ]
        fetch_half = Signal()               # which word of the doubleword is fetched
        m.d.comb += fetch_half.eq(fetch_paddr[2])
        m.d.comb += decoder.insn.eq(Mux(fetch_half, self.bus.rdata[32:64],
                                        self.bus.rdata[0:32]))

        # Fetch fast path: without translation (M mode or Bare) the physical
        # address is pc itself; with translation, a fetch from the page of
        # the last translated fetch reuses its physical page.  Either way
        # FETCH starts the bus read at once, skipping the MMU.  The cached
        # page is forgotten on every event that could change the mapping or
        # the mode: traps, xRET, CSR writes, sfence.vma.
        fp_valid = Signal()
        fp_vpn = Signal(52)
        fp_ppn = Signal(44)
        fetch_direct = fetch_unmapped & (pc[56:64] == 0)
        fast_paddr = Signal(56)
        m.d.comb += fast_paddr.eq(Mux(fetch_direct, pc[:56], Cat(pc[:12], fp_ppn)))
        fetch_fast = fetch_direct | (fp_valid & (pc[12:64] == fp_vpn))

        def finish_fetch_translation():
            with m.If(mmu.ifetch.page_fault):
                raise_trap(Cause.INSN_PAGE_FAULT, pc, 0)
            with m.Elif(mmu.ifetch.access_fault | (fetch_unmapped & (pc[56:64] != 0))):
                raise_trap(Cause.INSN_ACCESS, pc, 0)
            with m.Else():
                m.d.sync += [fetch_paddr.eq(mmu.ifetch.paddr), fp_valid.eq(1),
                             fp_vpn.eq(pc[12:]), fp_ppn.eq(mmu.ifetch.paddr[12:])]
                m.next = "FETCH_BUS"

        def finish_fetch_read():
            with m.If(self.bus.error):
                raise_trap(Cause.INSN_ACCESS, pc, 0)
            with m.Else():
                m.d.sync += [insn.eq(decoder.insn), dec.eq(decoder.out)]
                m.next = "EXEC"

        # Data fast path, like the fetch one: without translation the
        # physical address is the virtual one; with translation, an access
        # to the page of the last translated data access reuses its physical
        # page (for a store only if that translation was for a store, so
        # that W and D are known to be set).  Forgotten on the same events.
        dp_valid = Signal()
        dp_store_ok = Signal()
        dp_vpn = Signal(52)
        dp_ppn = Signal(44)
        data_fast_paddr = Signal(56)
        m.d.comb += data_fast_paddr.eq(Mux(data_unmapped, mem_vaddr[:56],
                                           Cat(mem_vaddr[:12], dp_ppn)))
        data_fast = data_unmapped | (dp_valid & (mem_vaddr[12:64] == dp_vpn) &
                                     (is_read | dp_store_ok))

        def memory_access(paddr, wait_state=None):
            """The bus transfer of a load, store, LR, SC or an AMO's read."""
            m.d.comb += [
                core_bus.eq(1), c_addr.eq(paddr),
                c_write.eq(~is_read & ~is_rmw),
                c_wdata.eq(store_value << (byte_off << 3)),
                c_sel.eq(size_mask << byte_off),
                c_lock.eq(is_rmw),
            ]
            with m.If(self.bus.ready):
                with m.If(self.bus.error):
                    raise_trap(Mux(store_like_cause, Cause.STORE_ACCESS,
                                   Cause.LOAD_ACCESS), mem_vaddr)
                with m.Elif(is_read | is_rmw):
                    # Loaded data are registered first (LOAD_DATA): no path
                    # from the memory's output to the register file.
                    m.d.sync += load_raw.eq(self.bus.rdata)
                    with m.If(is_lr):
                        m.d.sync += [resv_valid.eq(1), resv_addr.eq(paddr)]
                    m.next = "LOAD_DATA"
                with m.Else():
                    with m.If(is_sc):
                        m.d.sync += resv_valid.eq(0)
                    commit(pc_plus_4, rd=Mux(is_sc, dec.rd, 0), value=0,
                           mem=(0, size_mask))
            if wait_state is not None:
                with m.Else():
                    m.next = wait_state

        def xret():
            """mret/sret (the CSR file changes the privilege): continue at xepc with
            the reservation and the remembered pages forgotten."""
            m.d.sync += [resv_valid.eq(0), fp_valid.eq(0), dp_valid.eq(0)]
            commit(csr.xret_pc)

        with m.FSM(name="state") as fsm:
            with m.State("RESET"):
                m.d.comb += [wp.addr.eq(10), wp.data.eq(self.hartid), wp.en.eq(1)]
                m.next = "RESET_A1"
            with m.State("RESET_A1"):
                m.d.comb += [wp.addr.eq(11), wp.data.eq(self.dtb_addr), wp.en.eq(1)]
                m.next = "FETCH"

            with m.State("FETCH"):
                with m.If(csr.irq):
                    m.d.sync += trap.latch(csr.irq_cause, 0, 1) + [t_insn.eq(0)]
                    m.next = "TRAP"
                with m.Elif(fetch_fast):
                    m.d.comb += [core_bus.eq(1), c_addr.eq(fast_paddr),
                                 c_sel.eq(Mux(fast_paddr[2], 0xF0, 0x0F)),
                                 fetch_half.eq(fast_paddr[2])]
                    m.d.sync += fetch_paddr.eq(fast_paddr)
                    with m.If(self.bus.ready):
                        finish_fetch_read()
                    with m.Else():
                        m.next = "FETCH_BUS"
                with m.Else():
                    m.d.comb += mmu.ifetch.valid.eq(1)
                    with m.If(mmu.ifetch.ready):
                        finish_fetch_translation()
                    with m.Else():
                        m.next = "FETCH_WAIT"
            with m.State("FETCH_WAIT"):
                m.d.comb += mmu.ifetch.valid.eq(1)
                with m.If(mmu.ifetch.ready):
                    finish_fetch_translation()

            with m.State("FETCH_BUS"):
                m.d.comb += [core_bus.eq(1), c_addr.eq(fetch_paddr),
                             c_sel.eq(Mux(fetch_paddr[2], 0xF0, 0x0F))]
                with m.If(self.bus.ready):
                    finish_fetch_read()

            with m.State("EXEC"):
                with m.Switch(kind):
                    with m.Case(Kind.ALU):
                        commit(pc_plus_4, rd=dec.rd, value=alu.result)
                    with m.Case(Kind.LUI):
                        commit(pc_plus_4, rd=dec.rd, value=imm)
                    with m.Case(Kind.AUIPC):
                        commit(pc_plus_4, rd=dec.rd, value=pc_plus_imm)
                    with m.Case(Kind.JAL, Kind.JALR):
                        target = Mux(kind == Kind.JAL, pc_plus_imm,
                                     Cat(C(0, 1), alu.result[1:]))
                        with m.If(target[1]):
                            raise_trap(Cause.INSN_MISALIGNED, target)
                        with m.Else():
                            commit(target, rd=dec.rd, value=pc_plus_4)
                    with m.Case(Kind.BRANCH):
                        cond = Signal()
                        with m.Switch(f3[1:3]):
                            with m.Case(0): m.d.comb += cond.eq(alu.eq)
                            with m.Case(2): m.d.comb += cond.eq(alu.lt)
                            with m.Case(3): m.d.comb += cond.eq(alu.ltu)
                        taken = cond ^ f3[0]
                        with m.If(taken & pc_plus_imm[1]):
                            raise_trap(Cause.INSN_MISALIGNED, pc_plus_imm)
                        with m.Else():
                            commit(Mux(taken, pc_plus_imm, pc_plus_4))
                    with m.Case(Kind.LOAD, Kind.STORE, Kind.AMO):
                        m.d.sync += mem_vaddr.eq(addr)
                        with m.If(misaligned):
                            raise_trap(Mux(store_like_cause, Cause.STORE_MISALIGNED,
                                           Cause.LOAD_MISALIGNED), addr)
                        with m.Else():
                            m.next = "MEM_XLATE"
                    with m.Case(Kind.MULDIV):
                        m.d.comb += muldiv.start.eq(1)
                        m.next = "MULDIV"
                    with m.Case(Kind.CSR):
                        csri.read(m, csr, raise_trap, insn, "CSR_WRITE")
                    system_instructions(m, csr, insn=insn, pc=pc, raise_trap=raise_trap,
                                        xret=xret)
                    with m.Case(Kind.FENCE, Kind.FENCE_I):
                        # One hart, no caches: memory is always coherent.
                        commit(pc_plus_4)
                    with m.Default():
                        raise_trap(Cause.ILLEGAL_INSN, insn)

            with m.State("CSR_WRITE"):
                m.d.comb += csr.we.eq(csri.writes)
                m.d.sync += [fp_valid.eq(0), dp_valid.eq(0)]
                commit(pc_plus_4, rd=dec.rd, value=csri.result)

            with m.State("MEM_XLATE"):
                with m.If(data_fast):
                    # No MMU round trip: check and access at once.
                    with m.If(data_unmapped & (mem_vaddr[56:64] != 0)):
                        raise_trap(Mux(store_like_cause, Cause.STORE_ACCESS,
                                       Cause.LOAD_ACCESS), mem_vaddr)
                    with m.Elif(is_sc):
                        m.d.sync += mem_paddr.eq(data_fast_paddr)
                        m.next = "SC_CHECK"
                    with m.Else():
                        m.d.sync += mem_paddr.eq(data_fast_paddr)
                        memory_access(data_fast_paddr, wait_state="MEM_BUS")
                with m.Else():
                    m.d.comb += mmu.data.valid.eq(1)
                    with m.If(mmu.data.ready):
                        with m.If(mmu.data.page_fault):
                            raise_trap(Mux(store_like_cause, Cause.STORE_PAGE_FAULT,
                                           Cause.LOAD_PAGE_FAULT), mem_vaddr)
                        with m.Elif(mmu.data.access_fault):
                            raise_trap(Mux(store_like_cause, Cause.STORE_ACCESS,
                                           Cause.LOAD_ACCESS), mem_vaddr)
                        with m.Else():
                            # Remember the page; store permission only if
                            # this translation was for a store (D now set).
                            m.d.sync += [dp_valid.eq(1), dp_vpn.eq(mem_vaddr[12:]),
                                         dp_ppn.eq(mmu.data.paddr[12:]),
                                         dp_store_ok.eq(~is_read)]
                            m.d.sync += mem_paddr.eq(mmu.data.paddr)
                            with m.If(is_sc):
                                m.next = "SC_CHECK"
                            with m.Else():
                                m.next = "MEM_BUS"

            with m.State("SC_CHECK"):
                # A cycle of its own for the reservation compare, off the path
                # from the address to the bus.
                with m.If(resv_valid & (resv_addr == mem_paddr)):
                    m.next = "MEM_BUS"
                with m.Else():
                    # SC without a matching reservation fails: rd = 1, no store.
                    m.d.sync += resv_valid.eq(0)
                    commit(pc_plus_4, rd=dec.rd, value=1)

            with m.State("MEM_BUS"):
                memory_access(mem_paddr)

            with m.State("LOAD_DATA"):
                with m.If(is_rmw):
                    m.d.sync += [amo_old.eq(load_value), amo_new.eq(amo.result)]
                    m.next = "AMO_WRITE"
                with m.Else():
                    commit(pc_plus_4, rd=dec.rd, value=load_value,
                           mem=(size_mask, 0))

            with m.State("AMO_WRITE"):
                m.d.comb += [
                    core_bus.eq(1), c_addr.eq(mem_paddr), c_write.eq(1),
                    c_wdata.eq(store_value << (byte_off << 3)),
                    c_sel.eq(size_mask << byte_off),
                    c_lock.eq(1),
                ]
                with m.If(self.bus.ready):
                    with m.If(self.bus.error):
                        raise_trap(Cause.STORE_ACCESS, mem_vaddr)
                    with m.Else():
                        commit(pc_plus_4, rd=dec.rd, value=amo_old,
                               mem=(size_mask, size_mask))

            with m.State("MULDIV"):
                with m.If(muldiv.done):
                    commit(pc_plus_4, rd=dec.rd, value=muldiv.result)

            with m.State("SFENCE"):
                m.d.comb += mmu.sfence.valid.eq(1)
                m.d.sync += [fp_valid.eq(0), dp_valid.eq(0)]
                with m.If(mmu.sfence.ready):
                    commit(pc_plus_4)

            with m.State("WFI"):
                m.d.comb += self.wfi.eq(1)
                with m.If(csr.wake):
                    commit(pc_plus_4)

            with m.State("TRAP"):
                m.d.comb += trap.take(csr, pc)
                m.d.sync += [pc.eq(csr.trap_pc), resv_valid.eq(0), fp_valid.eq(0),
                             dp_valid.eq(0)]
                report(trap=True)
                m.next = "FETCH"

        # Retire data fields: meaningful in the cycle after a report (when
        # ``valid`` is high), whatever they hold otherwise.
        in_trap = fsm.ongoing("TRAP")
        m.d.sync += [
            ret.order.eq(order), ret.pc.eq(pc), ret.priv.eq(priv),
            ret.insn.eq(Mux(in_trap, t_insn, insn)),
            ret.mem_addr.eq(mem_vaddr),
            ret.mem_rdata.eq(Mux(fsm.ongoing("AMO_WRITE"),
                                 amo_old & Mux(size == 2, 0xFFFF_FFFF, C(-1, 64)),
                                 raw_read)),
            ret.mem_wdata.eq(store_value_masked),
            ret.intr.eq(trap.intr), ret.cause.eq(trap.cause), ret.tval.eq(trap.tval),
        ]
        return m
