"""RTLIL export of designs with big RAMs.

Amaranth 0.5.10 writes every ``Memory`` with a ``$meminit_v2`` cell that spells out each
bit of its initial contents, zeros included: for the 32 MiB RAM that is a 256-Mbit
constant and minutes of conversion before CXXRTL or Yosys even start.  ``convert``
below is ``amaranth.back.rtlil.convert`` except that a memory whose initial contents
are all zero gets no initializer cell at all (Yosys then leaves it undefined; CXXRTL
and the ECP5's block RAMs start at zero), so the export takes a fraction of a second.
Memories with non-zero contents are written as usual.
"""

import contextlib

from amaranth.back import rtlil

__all__ = ["convert", "skip_zero_meminit"]


@contextlib.contextmanager
def skip_zero_meminit():
    emitter = rtlil.ModuleEmitter
    original = emitter.emit_memory

    def emit_memory(self, cell_idx, cell):
        if any(cell.init):
            original(self, cell_idx, cell)

    emitter.emit_memory = emit_memory
    try:
        yield
    finally:
        emitter.emit_memory = original


def convert(design, name="top", **kwargs):
    """``rtlil.convert(design, name, **kwargs)`` without all-zero memory initializers."""
    with skip_zero_meminit():
        return rtlil.convert(design, name=name, **kwargs)
