"""The retirement observation port (one report per retired instruction or trap)."""

from amaranth.lib import wiring
from amaranth.lib.wiring import Out

__all__ = ["RetireSignature", "registered"]


class RetireSignature(wiring.Signature):
    """Seen from the core (``Out`` = driven by the core); ``valid`` for one cycle.

    * ``order`` counts reports from 0 (retired instructions and traps alike).
    * ``pc``, ``insn``, ``priv``: the instruction and the mode it ran in.  For
      an interrupt, ``pc`` is the address of the instruction that was about
      to run and ``insn`` is 0; for a fetch fault ``insn`` is 0.
    * ``rd``/``rd_wdata``: the destination register and the value written;
      both 0 when nothing is written (rd == x0 or no destination).
    * ``mem_addr``: the virtual address of the access; ``mem_rmask`` /
      ``mem_wmask``: one bit per byte read/written starting at ``mem_addr``
      (0x1, 0x3, 0xf or 0xff); ``mem_rdata``/``mem_wdata``: the value as the
      instruction sees it (not shifted to bus lanes, read data not extended).
      An AMO reports both masks.
    * ``trap``: the report is a trap (the instruction, if any, did not retire
      and is not counted in minstret); ``intr`` says it was an interrupt;
      ``cause`` the exception/interrupt code and ``tval`` the trap value.

    The pipelined core (pipeline.py) drives the port from flip-flops: a record
    appears in the cycle after W retires the instruction, every field of it
    taken in that one cycle of W (the multi-cycle core, core.py, reports one
    cycle after its commit too).  All fields are valid in the cycle ``valid``
    is high.  ``rd``,
    ``rd_wdata``, the masks and ``trap`` are 0 when they do not apply; the
    wide fields that only apply in some reports (``mem_addr``,
    ``mem_rdata``, ``mem_wdata`` when their mask is 0, ``intr``, ``cause``,
    ``tval`` when ``trap`` is 0) hold whatever the core last computed.
    """

    def __init__(self):
        super().__init__({
            "valid":     Out(1),
            "order":     Out(64),
            "pc":        Out(64),
            "insn":      Out(32),
            "priv":      Out(2),
            "rd":        Out(5),
            "rd_wdata":  Out(64),
            "mem_addr":  Out(64),
            "mem_rmask": Out(8),
            "mem_wmask": Out(8),
            "mem_rdata": Out(64),
            "mem_wdata": Out(64),
            "trap":      Out(1),
            "intr":      Out(1),
            "cause":     Out(6),
            "tval":      Out(64),
        })

    def __eq__(self, other):
        return type(other) is RetireSignature

    def __repr__(self):
        return "RetireSignature()"


def registered(src, dst):
    """Statements for a sync domain that copy every member of the interface ``src``
    into ``dst`` (both of one signature): ``dst`` shows what ``src`` showed one cycle
    before, every field from the same cycle.  The cores' observation ports leave
    them this way, so that what feeds a trace (and an out-of-context wrapper's
    register) starts at a flip-flop (docs/hardware.md)."""
    srcs = [value for _path, _member, value in src.signature.flatten(src)]
    dsts = [value for _path, _member, value in dst.signature.flatten(dst)]
    assert len(srcs) == len(dsts)
    return [d.eq(s) for s, d in zip(srcs, dsts)]
