"""The SDRAM chip's pins as the controller sees them (``Out`` = driven by the controller).

Control lines are the asserted values (1 = the active-low pin is low); amaranth-boards'
``SDRAMResource`` declares them ``PinsN``, which inverts them.  The bidirectional data
pins are split into ``dq_o`` / ``dq_oe`` (controller drives) and ``dq_i`` (the pins'
value as the controller samples it).
"""

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .chip import Geometry

__all__ = ["SDRAMPinsSignature"]


class SDRAMPinsSignature(wiring.Signature):
    def __init__(self, geometry=Geometry()):
        self.geometry = geometry
        super().__init__({
            "clk_en": Out(1),
            "cs":     Out(1),
            "ras":    Out(1),
            "cas":    Out(1),
            "we":     Out(1),
            "ba":     Out(max(geometry.bank_bits, 1)),
            "a":      Out(geometry.addr_pins),
            "dqm":    Out(geometry.width // 8),
            "dq_o":   Out(geometry.width),
            "dq_oe":  Out(1),
            "dq_i":   In(geometry.width),
        })

    def __eq__(self, other):
        return isinstance(other, SDRAMPinsSignature) and self.geometry == other.geometry

    def __repr__(self):
        return f"SDRAMPinsSignature({self.geometry})"
