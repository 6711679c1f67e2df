"""The memory bus shared by the core, the DMA masters and every device.

One request at a time, with a valid/ready handshake::

    master                        slave
    valid, addr, write,   ----->
    wdata, sel, lock
                          <-----  ready, rdata, error

* A master raises ``valid`` with ``addr``, ``write``, ``wdata`` and ``sel`` and
  holds all of them steady until a cycle in which ``ready`` is high.  That
  cycle completes the transfer: ``rdata`` holds the read data and ``error``
  says the address decodes to nothing (an access fault for the core).  The
  master may start the next transfer in the following cycle.
* ``ready`` may come in the first cycle of ``valid`` or after any number of
  wait states; masters must tolerate both.  ``valid`` must not depend
  combinationally on ``ready``.
* ``addr`` is a physical byte address of a 64-bit doubleword: bits 2:0 are
  zero.  ``sel`` has one bit per byte lane (bit i = byte ``addr + i``), for
  reads as well as writes, so that byte-wide device registers know which
  byte is meant.  Data travel on their natural lanes (byte ``addr + i`` is
  ``wdata[8*i:8*i+8]``).
* ``lock`` asks the arbiter to keep granting this master after the current
  transfer, so that a read-modify-write (the page-table walker's A/D update,
  an AMO) is atomic with respect to the other masters.
"""

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["PADDR_WIDTH", "BusSignature"]

#: Physical address width: Sv39 physical page numbers are 44 bits.
PADDR_WIDTH = 56


class BusSignature(wiring.Signature):
    """The bus as seen from a master (``Out`` = driven by the master)."""

    def __init__(self, addr_width=PADDR_WIDTH):
        self.addr_width = addr_width
        super().__init__({
            "valid": Out(1),
            "addr":  Out(addr_width),
            "write": Out(1),
            "wdata": Out(64),
            "sel":   Out(8),
            "lock":  Out(1),
            "ready": In(1),
            "rdata": In(64),
            "error": In(1),
        })

    def __eq__(self, other):
        return isinstance(other, BusSignature) and self.addr_width == other.addr_width

    def __repr__(self):
        return f"BusSignature({self.addr_width})"
