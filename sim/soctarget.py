"""The whole SoC as a target of the ELF runner, on either engine of sim/engine.py.

``SoCTarget`` has the interface of sim/harness.py's targets (``load(image)``, then
``run(max_cycles=, on_retire=, vcd=)`` returning a ``RunResult``) and runs the program on
an engine: ``cxxrtl``, the compiled model (default), or ``pysim``, Amaranth's simulator.
Both give the same cycle, instruction and trap counts and the same retire records, as
the engines do.  Differences from the core-only target: the real devices answer (UART,
CLINT, PLIC, virtio block), the program must start at 0x8000_0000 (the SoC's reset
address), the RAM size is a power of two, and while the core waits in ``wfi`` mtime jumps
to one tick before the next timer event (CLINT mtimecmp or Sstc stimecmp), so idle loops
cost no simulated time.

The default RAM size is the SoC's (32 MiB), the machine whose compiled model `make sim`
has built.  On cxxrtl any other machine (RAM size, ``mtime_div``, MMU, TLB sizes) is a
model of its own, compiled on first use (minutes; ``log`` receives the progress).

* ``uart_input``: bytes offered to the UART receiver; with ``uart_prompt`` set they are
  held back until the program has written that byte sequence to the UART.
* ``uart_output``: after ``run``, every byte the program transmitted; ``echo_uart(bytes)``
  receives them as they come.
* ``disk``: a bytes-like disk image (whole sectors) served to the block device; after
  ``run`` the (possibly written) image is in ``disk_image``.
* tohost: the RAM doubleword at the ELF's ``tohost`` symbol is watched every cycle; a
  non-zero value ends the run.
* ``on_retire(record)``: every retire report, a ``sim.engine.Retire`` sampled at the
  clock edge where the port showed it.
"""

import time

from soc import memmap

from .engine import MTIME_HZ, STOP_LIMIT, STOP_TOHOST, EngineError, make_engine
from .harness import RunResult

__all__ = ["SoCTarget"]

#: retire records per run_retire call while tracing
TRACE_BATCH = 4096


class SoCTarget:
    name = "soc"

    def __init__(self, *, engine="cxxrtl", ram_base=memmap.RAM_BASE,
                 ram_size=memmap.DEFAULT_RAM_SIZE, mtime_div=1, mmu="sv39", itlb_entries=8,
                 dtlb_entries=8, uart_input=b"", uart_prompt=None, disk=None, echo_uart=None,
                 log=None, core="pipeline"):
        if ram_base != memmap.RAM_BASE:
            raise ValueError(f"the SoC's RAM starts at {memmap.RAM_BASE:#x}")
        if mtime_div < 1:
            raise ValueError("mtime_div must be at least 1")
        size = 1 << 16
        while size < ram_size:
            size <<= 1
        self.engine = engine
        self.ram_size = size
        self.soc_args = dict(clk_freq=MTIME_HZ * mtime_div, mtime_freq=MTIME_HZ,
                             itlb_entries=itlb_entries, dtlb_entries=dtlb_entries, mmu=mmu,
                             core=core)
        self.uart_input = bytes(uart_input)
        self.uart_prompt = bytes(uart_prompt) if uart_prompt else None
        self.disk_image = bytes(disk) if disk is not None else b""
        self.echo_uart = echo_uart
        self.log = log
        self.uart_output = bytearray()

    def load(self, image):
        if image.entry != memmap.RESET_PC:
            raise ValueError(f"entry point {image.entry:#x}: the SoC starts at "
                             f"{memmap.RESET_PC:#x}")
        for addr, blob in image.segments:
            if addr < memmap.RAM_BASE or addr + len(blob) > memmap.RAM_BASE + self.ram_size:
                raise ValueError(f"segment at {addr:#x}..{addr + len(blob):#x} lies outside "
                                 f"RAM {memmap.RAM_BASE:#x}..{memmap.RAM_BASE + self.ram_size:#x}")
        self.image = image

    def run(self, *, max_cycles, on_retire=None, vcd=None):
        """Run from reset; raises EngineError when the engine cannot be had (a model
        that does not build) or cannot do what is asked (a VCD on cxxrtl)."""
        extra = {}
        if vcd:
            if self.engine != "pysim":
                raise EngineError("a VCD needs the pysim engine")
            extra["vcd"] = vcd
        engine = make_engine(self.engine, ram_size=self.ram_size, log=self.log,
                             soc_args=self.soc_args, **extra)
        try:
            engine.load(self.image)
            engine.set_disk(self.disk_image)
            if self.image.tohost is not None:
                engine.set_tohost(self.image.tohost)
            return self._run(engine, max_cycles, on_retire)
        finally:
            self.disk_image = engine.disk_image()
            engine.close()

    def _run(self, engine, max_cycles, on_retire):
        t0 = time.monotonic()
        released = self.uart_prompt is None
        if released and self.uart_input:
            engine.rx_push(self.uart_input)
        stop, cycles = STOP_LIMIT, 0
        # Back to Python after each byte sent: echo it, release the input after the prompt.
        while stop != STOP_TOHOST and cycles < max_cycles:
            if on_retire is None:
                stop = engine.run(max_cycles - cycles, stop_on_tx=True)
            else:
                batch = engine.run_retire(TRACE_BATCH, max_cycles - cycles, stop_on_tx=True)
                stop = batch.stop
                for record in batch.records:
                    on_retire(record)
            cycles = engine.stats().cycles
            sent = engine.tx_take()
            if sent:
                self.uart_output += sent
                if self.echo_uart is not None:
                    self.echo_uart(sent)
                if not released and self.uart_output.endswith(self.uart_prompt):
                    released = True
                    engine.rx_push(self.uart_input)
        s = engine.stats()
        status, tohost = ("tohost", s.tohost) if stop == STOP_TOHOST else ("limit", None)
        return RunResult(status, tohost, s.cycles, s.instret, s.traps, time.monotonic() - t0)
