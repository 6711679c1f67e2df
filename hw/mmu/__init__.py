"""Sv39 memory-management unit: TLBs, page-table walker, reference model.

``MMU`` (mmu.py) is the component the core instantiates; its interfaces are in
signatures.py; ``refmodel.translate`` is the pure-Python reference.
"""

from .signatures import (Access, EventKind, TranslateSignature, SfenceSignature,
                         MMUEventSignature)
from .mmu import MMU

__all__ = ["Access", "EventKind", "TranslateSignature", "SfenceSignature",
           "MMUEventSignature", "MMU"]
