"""The boards' amaranth-boards platforms, with the pin attributes nextpnr reads.

amaranth-boards 0.0.21 gives the ULX3S's microSD slot the attribute ``SLEW=FAST``;
nextpnr-ecp5 knows that attribute as ``SLEWRATE`` and drops ``SLEW`` with a warning
("attribute 'SLEW' is not recognised"), leaving the card's pins at the default slow
slew rate.  ``ULX3S_85F`` is amaranth-boards' platform with the attribute respelled.
"""

from amaranth.build import Attrs, Resource
from amaranth_boards.ulx3s import ULX3S_85F_Platform

__all__ = ["ULX3S_85F", "respell_slew"]


def respell_slew(resource):
    """``resource`` with its ``SLEW`` attribute renamed ``SLEWRATE`` (the same
    resource if it has none)."""
    if "SLEW" not in resource.attrs:
        return resource
    attrs = {("SLEWRATE" if key == "SLEW" else key): value
             for key, value in resource.attrs.items()}
    clock = [resource.clock] if resource.clock is not None else []
    return Resource(resource.name, resource.number, *resource.ios, *clock, Attrs(**attrs))


class ULX3S_85F(ULX3S_85F_Platform):
    resources = [respell_slew(r) for r in ULX3S_85F_Platform.resources]
