"""The memory bus shared by the core, the DMA masters and every device.

One request at a time, with a valid/ready handshake::

    master                        slave
    valid, addr, write,   ----->
    wdata, sel, lock,
    burst_len
                          <-----  ready, rdata, error

* A master raises ``valid`` with ``addr``, ``write``, ``wdata`` and ``sel`` and
  holds all of them steady until a cycle in which ``ready`` is high.  That
  cycle completes the transfer: ``rdata`` holds the read data and ``error``
  says the address decodes to nothing (an access fault for the core).  The
  master may start the next transfer in the following cycle.
* A slave never answers in the first cycle it sees a request: ``ready``
  comes one or more cycles after ``valid`` rose (a slave registers its
  answer).  The SoC's interconnect relies on it (soc/interconnect.py: the
  arbiter's ``ready`` goes to the master in its owner register, the decoder
  picks ``rdata`` by the region it decoded in the cycle before), and every
  device, the RAM and the SDRAM controller keep it; tests/soc/test_bus_rule.py
  checks each of them.  Masters tolerate any number of wait states.
  ``valid`` must not depend combinationally on ``ready``.
* ``addr`` is a physical byte address of a 64-bit doubleword: bits 2:0 are
  zero.  ``sel`` has one bit per byte lane (bit i = byte ``addr + i``), for
  reads as well as writes, so that byte-wide device registers know which
  byte is meant.  Data travel on their natural lanes (byte ``addr + i`` is
  ``wdata[8*i:8*i+8]``).
* ``lock`` asks the arbiter to keep granting this master after the current
  transfer, so that a read-modify-write (the page-table walker's A/D update,
  an AMO) is atomic with respect to the other masters.

Bursts (caches filling or writing back a line)
----------------------------------------------
* ``burst_len`` gives the number of beats minus one: a transfer has
  ``burst_len + 1`` beats, one of 1, 2, 4, 8 or 16 (``burst_len`` 0, 1, 3, 7,
  15).  0 is the single transfer above, so a master or slave that knows
  nothing of bursts keeps working.
* A burst's ``addr`` is aligned to its size (``(burst_len + 1) * 8`` bytes);
  beat i is the doubleword at ``addr + 8*i``.
* ``valid``, ``addr``, ``write``, ``sel``, ``burst_len`` and ``lock`` are
  held steady from the first cycle of the transfer until its last beat
  completes; ``sel`` applies to every beat.  ``wdata`` is the current beat's
  data: it moves to the next beat's data in the cycle after each ``ready``.
* Each cycle with ``ready`` completes one beat (``rdata`` holds that beat's
  read data).  Beats may be separated by any number of cycles without
  ``ready``.  The transfer ends with the ``burst_len + 1``-th ``ready``, or
  at the first beat answered with ``error`` (the rest of the burst is
  abandoned); the master may start the next transfer in the following cycle.
* Slaves that cannot burst (device registers) are answered by the decoder
  (soc/interconnect.py) with ``error`` on the first beat; caches never burst
  outside RAM, and uncached accesses keep their exact size.
* The arbiter keeps the grant until the last beat (and while ``lock`` is
  held).
"""

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["PADDR_WIDTH", "BURST_LEN_WIDTH", "BURST_LENS", "BusSignature"]

#: Physical address width: Sv39 physical page numbers are 44 bits.
PADDR_WIDTH = 56
#: Width of ``burst_len`` (beats - 1): bursts of up to 16 beats.
BURST_LEN_WIDTH = 4
#: The legal values of ``burst_len``: 1, 2, 4, 8 or 16 beats.
BURST_LENS = (0, 1, 3, 7, 15)


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
            "burst_len": Out(BURST_LEN_WIDTH),
            "ready": In(1),
            "rdata": In(64),
            "error": In(1),
        })

    def __eq__(self, other):
        return isinstance(other, BusSignature) and self.addr_width == other.addr_width

    def __repr__(self):
        return f"BusSignature({self.addr_width})"
