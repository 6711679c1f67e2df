"""Running the RTL and the golden model side by side (see cli.py for the command).

The RTL side is one of:

* the SoC on an engine of sim/engine.py (``cxxrtl``, the default, or ``pysim``):
  its ``run_retire`` gives the retirement records, the block device's DMA
  writes and the page-table walker's A/D writes in batches; :class:`CheckedEngine` feeds them to the comparison and
  otherwise behaves like the engine, so the xv6 front end (sim/boot.py) drives it
  unchanged;
* the core alone with the runner's testbench (sim/harness.py ``CoreTarget``, pysim):
  its records arrive through ``on_retire``.  The programs of tests/isa need it (the
  IRQ_LINES register exists only there).

The model side is a hart (sim/ref) with the same RAM contents, whose environment
is a MirrorPlatform of the machine's memory map.
"""

import time
from types import SimpleNamespace

from sim.harness import CLINT_BASE, CLINT_SIZE, IRQ_LINES, CoreTarget
from sim.ref.hart import Config
from sim.ref.run import RAM_BASE, new_hart
from soc import memmap

from hw.mmu.pte import PTE_A

from .lockstep import Lockstep
from .mirror import MirrorPlatform

__all__ = ["RTL_CONFIG", "CORE_REGIONS", "SOC_REGIONS", "model_for", "CheckedEngine", "run_core_target",
           "run_engine", "Outcome"]

#: what the RTL implements where the specification leaves a choice: the pipelined
#: core (hw/core/pipeline.py, the SoC's and the runner's default) has 16 PMP
#: entries and completes misaligned loads and stores
RTL_CONFIG = Config(pmp_entries=16, misaligned="hw")
#: the device windows of each machine (everything else but RAM is an access fault)
CORE_REGIONS = ((CLINT_BASE, CLINT_SIZE), (IRQ_LINES, 8))
SOC_REGIONS = tuple((r.base, r.size) for r in memmap.DEVICE_REGIONS)
#: retirement records per engine batch
BATCH = 20_000


class Outcome(SimpleNamespace):
    """How a run ended: ``stop`` ("tohost", "limit", ...), ``tohost``, ``checked``
    (records compared), ``cycles`` (RTL), ``seconds`` (CPU)."""


def model_for(image, ram_size, regions, config=RTL_CONFIG, history=32, irq_latency=0):
    """(hart, Lockstep) for ``image`` on a machine with ``ram_size`` bytes of RAM at
    0x8000_0000 and the device ``regions`` (lockstep.py explains ``irq_latency``)."""
    ram = bytearray(ram_size)
    for addr, blob in image.segments:
        ram[addr - RAM_BASE:addr - RAM_BASE + len(blob)] = blob
    env = MirrorPlatform(regions)
    hart = new_hart(image, ram, env, config)
    return hart, Lockstep(hart, env, history=history, irq_latency=irq_latency)


def _record(r):
    """A retire report with attribute access (the runner's callback gave dicts
    before it gave sim.engine.Retire records)."""
    return SimpleNamespace(**r) if isinstance(r, dict) else r


def run_core_target(image, ram_size, lock, *, max_cycles, bus_latency=0):
    """The core alone (pysim) against ``lock``; an Outcome.  ``bus_latency``: wait
    states before every bus ready (the testbench's)."""
    target = CoreTarget(ram_base=RAM_BASE, ram_size=ram_size, bus_latency=bus_latency)
    target.load(image)
    t0 = time.process_time()
    res = target.run(max_cycles=max_cycles, on_retire=lambda r: lock.check(_record(r)))
    return Outcome(stop=res.status, tohost=res.tohost, checked=lock.checked,
                   cycles=res.cycles, seconds=time.process_time() - t0)


class CheckedEngine:
    """An engine whose every retired instruction is checked by ``lock`` (a Lockstep);
    the block device's DMA writes are applied to the model's RAM before the record
    they precede, and so are the A bits that the RTL's page-table walker set (only the
    A bit: the pipeline may walk for an access it then discards, which the
    specification allows to set A but not D; the model sets A and D itself for the
    accesses it makes).  Everything but ``run`` is the engine's own."""

    def __init__(self, engine, lock, batch=BATCH):
        self.engine = engine
        self.lock = lock
        self.batch = batch
        self.pending_dma = []
        self.pending_ad = []
        self.records = 0

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def run(self, max_cycles, *, stop_on_tx=False, skip_wfi=True):
        from sim.engine import STOP_LIMIT, STOP_RECORDS
        engine = self.engine
        start = engine.stats().cycles
        while True:
            left = max_cycles - (engine.stats().cycles - start)
            if left <= 0:
                return STOP_LIMIT
            batch = engine.run_retire(self.batch, left, stop_on_tx=stop_on_tx,
                                      skip_wfi=skip_wfi)
            self.feed(batch.records, batch.dma, batch.ad)
            if batch.stop != STOP_RECORDS:
                return batch.stop

    def feed(self, records, dma, ad=()):
        lock = self.lock
        pending, pending_ad = self.pending_dma, self.pending_ad
        pending += dma
        pending_ad += ad
        for rec in records:
            if pending and pending[0].order <= rec.order:
                self._apply_dma(rec.order)
            if pending_ad and pending_ad[0].order <= rec.order:
                self._apply_ad(rec.order)
            lock.check(rec)
        self.records += len(records)

    def _apply_ad(self, order):
        """Set in the model's RAM the A bits the walker set before record ``order``."""
        pending = self.pending_ad
        n = 0
        while n < len(pending) and pending[n].order <= order:
            w = pending[n]
            if w.pte & PTE_A:
                self.lock.set_bits(w.pte_addr, PTE_A)
            n += 1
        del pending[:n]

    def _apply_dma(self, order):
        """Apply the DMA writes that landed before record ``order``."""
        pending = self.pending_dma
        n = 0
        while n < len(pending) and pending[n].order <= order:
            w = pending[n]
            data = w.data.to_bytes(8, "little")
            for lane in range(8):
                if w.mask >> lane & 1:
                    self.lock.dma_write(w.addr + lane, data[lane:lane + 1])
            n += 1
        del pending[:n]


def run_engine(engine, lock, *, max_cycles, checked=None):
    """A bare-metal program already loaded in ``engine`` (tohost set) against
    ``lock`` to its end; an Outcome.  ``checked``: the CheckedEngine of a run
    begun by the caller."""
    checked = checked or CheckedEngine(engine, lock)
    t0 = time.process_time()
    stop = checked.run(max_cycles)
    stats = engine.stats()
    if stop == "tohost":
        # The engine stops at the edge where the store reached tohost: after the
        # store's record (a core with a write buffer) or before it (the model then
        # executes it without a record to compare, and must write the same value).
        lock.finish_with_store(stats.tohost)
    return Outcome(stop=stop, tohost=stats.tohost or None, checked=lock.checked,
                   cycles=stats.cycles, seconds=time.process_time() - t0)
