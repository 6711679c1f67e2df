"""How the SoC's main memory is an SDRAM: ``SDRAMConfig`` (soc/soc.py takes it as
``memory=``)."""

from dataclasses import dataclass

from .chip import Cycles, Geometry, Timing, SPEED_7, ULX3S_85F

__all__ = ["SDRAMConfig"]


@dataclass(frozen=True)
class SDRAMConfig:
    """``timing``: the controller's timings in cycles of the system clock;
    ``read_delay``: see SDRAMController; ``model``: put the chip model (model.py) inside
    the SoC, wired to the controller (simulation), instead of exposing the pins."""
    timing: Cycles
    geometry: Geometry = ULX3S_85F
    read_delay: int = 0
    model: bool = True

    @classmethod
    def for_clock(cls, clk_freq, *, datasheet: Timing = SPEED_7, geometry=ULX3S_85F,
                  read_delay=0, model=True):
        return cls(datasheet.cycles(clk_freq), geometry, read_delay, model)
