"""One line of text per retirement record (traces and divergence reports)."""

from .csr import CSR_NAMES
from .decode import disassemble

__all__ = ["format_record", "INTERRUPT_NAMES"]

INTERRUPT_NAMES = {1: "SSI", 3: "MSI", 5: "STI", 7: "MTI", 9: "SEI", 11: "MEI"}


def format_record(r, csr_writes=()):
    """One line for a record (anything with the retire port's fields as attributes)."""
    line = f"{r.order:8d} {'USHM'[r.priv]} {r.pc:016x} {r.insn:08x}"
    if r.trap:
        kind = f"interrupt {INTERRUPT_NAMES.get(r.cause, r.cause)}" if r.intr else "exception"
        line += f"  TRAP {kind} cause={r.cause} tval={r.tval:#x}"
        if not r.intr and r.insn:
            line += f"   ; {disassemble(r.insn)}"
        return line
    if r.rd:
        line += f"  x{r.rd}={r.rd_wdata:#x}"
    if r.mem_rmask:
        line += f"  load[{r.mem_addr:#x}/{r.mem_rmask:#x}]={r.mem_rdata:#x}"
    if r.mem_wmask:
        line += f"  store[{r.mem_addr:#x}/{r.mem_wmask:#x}]={r.mem_wdata:#x}"
    line += f"   ; {disassemble(r.insn)}"
    for addr, value in csr_writes:
        line += f"  {CSR_NAMES.get(addr, hex(addr))}<-{value:#x}"
    return line
