"""The RV64IMA cores: ``pipeline`` (the default, hw/core/pipeline.py) and ``fsm``
(the multi-cycle state machine of hw/core/core.py)."""

CORE_KINDS = ("pipeline", "fsm")


def build_core(kind="pipeline", *, ram_base=0x8000_0000, ram_size=1 << 27, rom_base=None,
               rom_size=0, answer_registered=False, **kwargs):
    """A core of the given kind; ``kwargs`` are the arguments both cores take
    (reset_pc, hartid, dtb_addr, itlb_entries, dtlb_entries, mmu).  The RAM and
    the (optional) ROM region tell the pipeline what it may cache and where
    speculative fetches are harmless; ``answer_registered``: the pipeline's memory
    port registers the bus's answer (hw/core/memport.py)."""
    if kind == "pipeline":
        from .pipeline import PipelinedCore
        return PipelinedCore(ram_base=ram_base, ram_size=ram_size, rom_base=rom_base,
                             rom_size=rom_size, answer_registered=answer_registered,
                             **kwargs)
    if answer_registered:
        raise ValueError("a registered answer (answer_registered) is an option of the "
                         "pipelined core")
    if kind == "fsm":
        from .core import Core
        return Core(**kwargs)
    raise ValueError(f"core must be one of {', '.join(CORE_KINDS)}, not {kind!r}")


def port_delay(kind):
    """Edges from a retirement to its report on the retire port of a core of this kind,
    beyond the core's own (``PipelinedCore.PORT_DELAY``: its ports are registered)."""
    if kind == "pipeline":
        from .pipeline import PipelinedCore
        return PipelinedCore.PORT_DELAY
    return 0
