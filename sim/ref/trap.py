"""The two ways an instruction can stop short of completing."""

__all__ = ["Trap", "Halted"]

M64 = (1 << 64) - 1


class Trap(Exception):
    """A synchronous exception: ``cause`` (the mcause exception code) and ``tval``."""

    def __init__(self, cause, tval=0):
        super().__init__(cause, tval)
        self.cause = cause
        self.tval = tval & M64


class Halted(Exception):
    """WFI that nothing can ever wake (stand-alone runs only): the run ends."""
