"""Lock-step comparison: every retirement record of the RTL against the golden model's.

For each record the RTL retires (an instruction, an exception, or an interrupt),
the model takes the same step: for an interrupt it takes the interrupt the RTL
took (after checking that the model agrees it could be taken there); otherwise it
executes its next instruction, which either retires or traps.  The two records
are then compared field by field, in this order:

    order, pc, insn, priv, trap, intr, cause, tval (the last three for traps),
    rd, rd_wdata, mem_rmask, mem_wmask, mem_addr (if a mask is set),
    mem_rdata (loads and AMOs), mem_wdata (stores, SCs and AMOs)

The retirement port has no CSR-write field: the model's CSR writes are shown in
its trace, and CSR state is compared where the program reads it (the old value
a CSR instruction returns in rd, and every value derived from it), including the
trap CSRs through the handler addresses (pc) and privilege of the next record.

Before a record, the block device's DMA writes into RAM that the RTL performed
before it are applied to the model's RAM (``dma_write``), and so are the A bits its
page-table walker set (``set_bits``; run.py says why).  Values only the
hardware can know are handed over by the environment (mirror.py).

The first difference raises :class:`Divergence`, whose message shows the last
``history`` records of both sides and names the first differing field.
"""

from collections import deque

from sim.ref.csr import MIP_SEIP, MIP_SSIP, MIP_STIP, MSTATUS
from sim.ref.trace import INTERRUPT_NAMES, format_record

__all__ = ["Lockstep", "Divergence", "format_record"]

PRIV_M, PRIV_S, PRIV_U = 3, 1, 0


class Divergence(Exception):
    """The RTL and the model disagree; ``field`` names the first differing field,
    ``order`` the record; the message is the full report."""

    def __init__(self, message, field, order):
        super().__init__(message)
        self.field = field
        self.order = order


def first_difference(rtl, model):
    """(field, rtl value, model value) of the first field that differs, or None."""
    fields = ["order", "pc", "insn", "priv", "trap"]
    if rtl.trap or model.trap:
        fields += ["intr", "cause", "tval"]
    fields += ["rd", "rd_wdata", "mem_rmask", "mem_wmask"]
    if rtl.mem_rmask or rtl.mem_wmask:
        fields.append("mem_addr")
    if rtl.mem_rmask:
        fields.append("mem_rdata")
    if rtl.mem_wmask:
        fields.append("mem_wdata")
    for f in fields:
        a, b = getattr(rtl, f), getattr(model, f)
        if a != b:
            return f, a, b
    return None


class Lockstep:
    """Checks RTL records against ``hart`` (whose env is a MirrorPlatform).

    ``irq_latency``: how many instructions the RTL may retire while the model sees
    an interrupt whose pending bit software set (SSIP, STIP without Sstc, SEIP's
    software bit) enabled and not taken (0 for today's core: it takes an interrupt
    before the next instruction)."""

    def __init__(self, hart, env, *, history=32, irq_latency=0):
        self.hart = hart
        self.env = env
        self.log = deque(maxlen=history)         # (RTL record, model Retire)
        self.irq_latency = irq_latency
        self.irq_waiting = 0
        self.checked = 0

    def dma_write(self, paddr, data):
        """The block device wrote ``data`` (bytes) at physical address ``paddr``."""
        h = self.hart
        off = paddr - h.ram_base
        if off < 0 or off + len(data) > h.ram_size:
            raise ValueError(f"DMA write {paddr:#x}+{len(data)} outside the model's RAM")
        h.ram[off:off + len(data)] = data

    def set_bits(self, paddr, bits):
        """Set ``bits`` in the doubleword at ``paddr`` of the model's RAM (an A bit the
        RTL's page-table walker set; nothing if ``paddr`` is outside the RAM)."""
        h = self.hart
        off = paddr - h.ram_base
        if 0 <= off <= h.ram_size - 8:
            word = int.from_bytes(h.ram[off:off + 8], "little") | bits
            h.ram[off:off + 8] = word.to_bytes(8, "little")

    def check(self, rtl):
        """Step the model for the RTL record ``rtl`` (the retire port's fields as
        attributes: sim.engine.Retire) and compare; raises Divergence."""
        h = self.hart
        self.env.rtl = rtl
        if rtl.trap and rtl.intr:
            problem = self._interrupt_problem(rtl.cause)
            model = h.take_interrupt(rtl.cause)
            self.irq_waiting = 0
        else:
            problem = self._missed_interrupt()
            model = h.step()
        self.log.append((rtl, model))
        self.checked += 1
        # the common case first: every field that applies is equal
        if (rtl.pc != model.pc or rtl.insn != model.insn or rtl.trap != model.trap or
                rtl.rd != model.rd or rtl.rd_wdata != model.rd_wdata or
                rtl.mem_rmask != model.mem_rmask or rtl.mem_wmask != model.mem_wmask or
                rtl.priv != model.priv or rtl.order != model.order or rtl.trap or
                ((rtl.mem_rmask or rtl.mem_wmask) and (
                    rtl.mem_addr != model.mem_addr or
                    (rtl.mem_rmask and rtl.mem_rdata != model.mem_rdata) or
                    (rtl.mem_wmask and rtl.mem_wdata != model.mem_wdata)))):
            diff = first_difference(rtl, model)
            if diff is not None:
                field, a, b = diff
                raise Divergence(self._report(f"field {field}: RTL {self._fmt(a)}, model "
                                              f"{self._fmt(b)}"), field, rtl.order)
        if problem:
            raise Divergence(self._report(problem), "interrupt", rtl.order)
    def finish_with_store(self, value):
        """The RTL stopped when ``value`` reached tohost.  The pipelined core's
        write buffer retires a store before its data reach memory: the model,
        checked against that record, wrote tohost already.  A core that writes
        first (the multi-cycle one) stopped before the store's record came out:
        the model's next step must be that store."""
        h = self.hart
        if h.tohost == value:
            return
        model = h.step()
        self.log.append((None, model))
        if h.tohost != value:
            what = (f"the RTL's last instruction wrote tohost = {value:#x}; the model's "
                    f"({model.pc:#x}) did not (tohost {h.tohost})")
            raise Divergence(self._report(what), "tohost", model.order)

    @staticmethod
    def _fmt(v):
        return f"{v:#x}" if isinstance(v, int) and v > 9 else str(v)

    def _interrupt_problem(self, cause):
        """Why the model thinks interrupt ``cause`` cannot be taken now, or None."""
        h = self.hart
        c = h.csr
        name = INTERRUPT_NAMES.get(cause, str(cause))
        if cause not in INTERRUPT_NAMES:
            return f"RTL took interrupt {cause}, which does not exist"
        if not c.mie >> cause & 1:
            return f"RTL took interrupt {name} while mie.{name}E = 0 in the model"
        ms = c.mstatus
        if c.mideleg >> cause & 1:
            enabled = h.priv == PRIV_U or (h.priv == PRIV_S and ms & MSTATUS.SIE)
        else:
            enabled = h.priv != PRIV_M or ms & MSTATUS.MIE
        if not enabled:
            return (f"RTL took interrupt {name} where the model has it globally disabled "
                    f"(priv {'USHM'[h.priv]}, mstatus {ms:#x}, mideleg {c.mideleg:#x})")
        return None

    def _missed_interrupt(self):
        """An interrupt only software makes pending is pending and enabled, and the
        RTL went on with an instruction: a problem after irq_latency instructions."""
        h = self.hart
        c = h.csr
        if not c.mip_sw:                       # the common case: nothing set by software
            self.irq_waiting = 0
            return None
        sw = c.sw_pending() & (MIP_SSIP | MIP_STIP | MIP_SEIP) & c.mie
        if not sw:
            self.irq_waiting = 0
            return None
        ms = c.mstatus
        m_ok = h.priv != PRIV_M or ms & MSTATUS.MIE
        s_ok = h.priv == PRIV_U or (h.priv == PRIV_S and ms & MSTATUS.SIE)
        takeable = (sw & ~c.mideleg if m_ok else 0) | (sw & c.mideleg if s_ok else 0)
        if not takeable:
            self.irq_waiting = 0
            return None
        self.irq_waiting += 1
        if self.irq_waiting <= self.irq_latency:
            return None
        names = ", ".join(INTERRUPT_NAMES[b] for b in (1, 5, 9) if takeable >> b & 1)
        return (f"interrupt {names} pending (set by software) and enabled in the model, but "
                f"the RTL retired an instruction instead of taking it")

    def _report(self, what):
        lines = [f"DIVERGENCE at record {self.checked - 1}: {what}", "",
                 f"last {len(self.log)} records of the RTL:"]
        lines += ["  " + format_record(rtl) for rtl, _ in self.log if rtl is not None]
        lines += ["", f"last {len(self.log)} records of the golden model:"]
        lines += ["  " + format_record(m, m.csr_writes) for _, m in self.log]
        return "\n".join(lines)
