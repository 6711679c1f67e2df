"""The privileged side of execution, the same in both cores: Zicsr instructions,
the system instructions (ecall, ebreak, mret, sret, wfi, sfence.vma) with their
privilege checks, and taking a trap.

The cores differ in *when* they do these things (the multi-cycle core in its EXEC
state, the pipeline in its memory stage) and in what else happens around them
(the pipeline flushes, refetches and charges its cycles to a class of perf.py,
the multi-cycle core moves its pc); that part they pass in.  Everything here
adds statements to the caller's module: no submodule, so a core's hierarchy is
what it was when each core had its own copy.

* :func:`connect_interrupts`: the core's interrupt lines and mtime into the CSR
  file (csr.py), which decides when an interrupt is taken.
* :class:`PendingTrap`: the cause, tval and kind of a trap, latched in the cycle
  the core decides on it and handed to the CSR file in the cycle that takes it.
* :class:`CSRInstruction`: CSRRW/CSRRS/CSRRC and their immediate forms in two
  steps: ``read`` checks legality and latches the old value, the next step
  writes the new one (``csr.we.eq(writes)``); the old value (with mip.SEIP as
  software sees it) is ``result``.  A core may commit an instruction that
  writes nothing in its read step (the pipeline does).
* :func:`system_instructions`: the cases of the caller's ``m.Switch`` on the
  instruction kind for ecall, ebreak, mret, sret, wfi and sfence.vma.  mret and
  sret differ only in their privilege check and in which CSR-file strobe they
  raise.
"""

from amaranth import *

from .isa import Cause, Kind, Priv

__all__ = ["connect_interrupts", "PendingTrap", "CSRInstruction", "system_instructions",
           "illegal_in_mode"]


def connect_interrupts(m, csr, core):
    """The interrupt lines (mei, sei, mti, msi) and mtime of ``core`` into ``csr``."""
    m.d.comb += [
        csr.mei.eq(core.mei), csr.sei.eq(core.sei),
        csr.mti.eq(core.mti), csr.msi.eq(core.msi), csr.mtime.eq(core.mtime),
    ]


class PendingTrap:
    """A trap decided on in one cycle and taken in a later one (state TRAP of both
    cores): ``latch`` gives the statements that remember it (sync), ``take`` those
    that make the CSR file take it (comb): mepc/sepc = ``epc``, the cause and tval,
    the privilege change; the CSR file's ``trap_pc`` is where to go next."""

    def __init__(self):
        self.cause = Signal(6, name="t_cause")
        self.intr = Signal(name="t_intr")
        self.tval = Signal(64, name="t_tval")

    def latch(self, cause, tval, intr=0):
        return [self.cause.eq(cause), self.tval.eq(tval), self.intr.eq(intr)]

    def take(self, csr, epc):
        return [csr.trap.eq(1)] + self.present(csr, epc)

    def present(self, csr, epc):
        """The trap's operands alone, without ``csr.trap``: the CSR file reads them
        only with ``trap``, so a core may present them in every cycle (comb) and
        raise ``trap`` alone in its TRAP state (the handler's address is then
        made from flip-flops, not from the state's decoder: see pipeline.py)."""
        return [
            csr.trap_intr.eq(self.intr), csr.trap_cause.eq(self.cause),
            csr.trap_tval.eq(self.tval), csr.trap_epc.eq(epc),
        ]


class CSRInstruction:
    """A Zicsr instruction, read in one step and written in the next (which keeps
    the CSR read multiplexer and the CSR write logic in separate cycles)."""

    def __init__(self):
        self.old = Signal(64, name="csr_old")        # the value CSRRS/CSRRC modify (csr.rmw_rdata)
        self.sei_line = Signal(name="csr_sei_line")  # mip.SEIP read 1 only through the SEI line
        self.writes = None                           # set by operands()
        self.new = None                              # the value written, set by operands()

    def operands(self, m, csr, dec, rs1_value):
        """Address, write intent and new value for the instruction ``dec`` (a
        Decoded) whose rs1 register holds ``rs1_value``."""
        f3 = dec.funct3
        src = Mux(f3[2], dec.rs1, rs1_value)              # uimm or rs1
        # CSRRW always writes; CSRRS/CSRRC (and the immediate forms) only with rs1 != x0
        self.writes = (f3[0:2] == 1) | (dec.rs1 != 0)
        # csr.read is 0 but in the read step (read() below, in a state of the FSM,
        # which comes after this in the core)
        m.d.comb += [csr.addr.eq(dec.csr), csr.write_intent.eq(self.writes),
                     csr.read.eq(0)]
        csr_new = self.new = Signal(64, name="csr_new")
        with m.Switch(f3[0:2]):
            with m.Case(1): m.d.comb += csr_new.eq(src)
            with m.Case(2): m.d.comb += csr_new.eq(self.old | src)
            with m.Case(3): m.d.comb += csr_new.eq(self.old & ~src)
        m.d.comb += csr.wdata.eq(csr_new)

    def read(self, m, csr, raise_trap, insn, next_state, commit_read_only=None, illegal=None):
        """The read step: an illegal access (no such CSR, too little privilege, a
        write to a read-only one) traps, otherwise the old value is latched and the
        FSM goes to ``next_state``, which writes (``csr.we.eq(self.writes)``).

        With ``commit_read_only``, an instruction that writes nothing (CSRRS/CSRRC
        with rs1 = x0) does not go on: ``commit_read_only(value)`` commits it here
        with the value for rd.  ``illegal``: the legality decided earlier by the
        caller (default: the CSR file's check of this cycle)."""
        m.d.comb += csr.read.eq(1)
        sei_line = csr.rdata[9] & ~csr.rmw_rdata[9]
        with m.If(csr.illegal if illegal is None else illegal):
            raise_trap(Cause.ILLEGAL_INSN, insn)
        writes = m.Elif(self.writes) if commit_read_only else m.Else()
        with writes:
            m.d.sync += [self.old.eq(csr.rmw_rdata), self.sei_line.eq(sei_line)]
            m.next = next_state
        if commit_read_only:
            with m.Else():
                commit_read_only(csr.rmw_rdata | (sei_line << 9))

    @property
    def result(self):
        """What the instruction writes to rd."""
        return self.old | (self.sei_line << 9)


def illegal_in_mode(kind, priv, mstatus):
    """The privilege check of a system instruction: when it is illegal (cause 2).
    mret needs M; sret, wfi and sfence.vma are illegal in U, and in S when
    mstatus.TSR, TW or TVM traps them to M."""
    if kind == Kind.MRET:
        return priv != Priv.M
    trapped_in_s = {Kind.SRET: mstatus.tsr, Kind.WFI: mstatus.tw, Kind.SFENCE: mstatus.tvm}
    return (priv == Priv.U) | ((priv == Priv.S) & trapped_in_s[kind])


def system_instructions(m, csr, *, insn, pc, raise_trap, xret, wfi=None, sfence=None,
                        illegal=None):
    """The cases for ecall, ebreak, mret, sret, wfi and sfence.vma inside the
    caller's ``m.Switch`` on the instruction kind.

    ``raise_trap(cause, tval)`` is the caller's; ``xret()`` adds what the core does
    besides the CSR file's mret/sret (its pc or refetch, forgetting translations and
    the LR reservation); a legal wfi or sfence.vma calls ``wfi()`` or ``sfence()``,
    by default going to the state WFI or SFENCE of the caller's FSM.  ``illegal``:
    the privilege check of mret, sret, wfi and sfence.vma decided earlier by the
    caller (default: ``illegal_in_mode`` in this cycle)."""
    priv, ms = csr.priv, csr.mstatus
    with m.Case(Kind.ECALL):
        raise_trap(Cat(priv, C(0b10, 2)), 0)     # 8 + priv
    with m.Case(Kind.EBREAK):
        raise_trap(Cause.BREAKPOINT, pc)
    for kind, strobe in ((Kind.MRET, csr.mret), (Kind.SRET, csr.sret)):
        with m.Case(kind):
            with m.If(illegal_in_mode(kind, priv, ms) if illegal is None else illegal):
                raise_trap(Cause.ILLEGAL_INSN, insn)
            with m.Else():
                m.d.comb += strobe.eq(1)
                xret()
    for kind, then, state in ((Kind.WFI, wfi, "WFI"), (Kind.SFENCE, sfence, "SFENCE")):
        with m.Case(kind):
            with m.If(illegal_in_mode(kind, priv, ms) if illegal is None else illegal):
                raise_trap(Cause.ILLEGAL_INSN, insn)
            with m.Else():
                if then is None:
                    m.next = state
                else:
                    then()
