"""Simulation engines for the whole SoC: ``cxxrtl`` (compiled, fast) and ``pysim`` (exact, slow).

Both run the same design (soc.SoC with the core) with the same outside world and give
the same cycle counts and the same console output for the same inputs:

* UART: ``tx`` is always ready (every byte the SoC sends is collected); bytes pushed
  with ``rx_push`` are offered to ``rx`` one at a time, from the clock edge after the push.
* Storage port: a sector store in memory (``set_disk``), answering one word per cycle.
  Its state machine (the same in driver.cc and ``_PyStorage``):
  IDLE (cmd.ready) --cmd--> WDATA (wdata.ready, 64 words) or RDATA (rdata.valid, 64
  words) --> RESP (resp.valid, error = sector beyond the end) --resp--> IDLE.
  A SoC built with an SD card model (``soc_args`` with ``card=``, soc/soc.py) has no
  storage port: its card is the model's memory, filled with ``load_card`` before the
  run, and ``set_card_present`` inserts or removes it.
* Retire counting: instructions (retire.valid and not trap), those of them retired in
  user mode, and traps.  The pipelined core's retire port is registered (it shows a
  retirement at the edge after W's): a run that ends at tohost also counts (and logs,
  as the edge that would show it) the report its flip-flops hold after the last edge,
  so that the run ends with what the core retired by then, as when the port was
  combinational; a later run skips that report.
* Interrupt claims: how often each PLIC source has been claimed (its in-service bit
  rose) since the last user-mode instruction; ``claim_streak`` is the highest count
  and ``claim_source`` its source (sim/boot.py reports a storm from them).
* tohost: a RAM doubleword watched after every cycle (bare-metal test programs).
* Idle skipping: after a clock edge at which ``wfi`` was high, mtime jumps to one tick before
  the earliest of the CLINT's mtimecmp and the core's Sstc stimecmp.

The cycle protocol (see driver.cc): rising edge with the outputs sampled as the design
shows them at the edge, then the models update and drive the inputs for the next edge,
then idle skipping if ``wfi`` was high at the edge.

The API, the same on both engines::

    e = make_engine("cxxrtl")           # or "pysim", or CxxrtlEngine(...) / PysimEngine(...);
                                        # soc_args={"ram_latency": 3, ...}, vcd= on pysim
    e.load(image)                       # sim/elf.py image: segments into RAM (before running)
    e.set_disk(data); e.set_tohost(paddr)
    e.run(max_cycles, stop_on_tx=False, skip_wfi=True)   # -> STOP_LIMIT, STOP_TX, STOP_TOHOST
    e.rx_push(b"ls\n"); e.tx_take(); e.stats(); e.read_ram(paddr, n) (cxxrtl); e.disk_image()
    batch = e.run_retire(max_records, max_cycles, stop_on_tx=False, skip_wfi=True)

``run`` and ``run_retire`` continue where the last run stopped: a run in pieces is
cycle for cycle the same as one run.  ``stop_on_tx`` ends a run after the edge at which
the UART sent a byte; STOP_TOHOST after the edge at which the tohost doubleword became
non-zero (then ``stats().tohost`` holds it).

Retirement records (``run_retire``): runs like ``run`` and also collects, from the SoC's
observation ports, every retire report (``Retire``: the cycle and every field of the
core's retirement port, hw/core/retire.py) and every write of the block device's DMA to
memory (``DmaWrite``: cycle, order, addr, data, mask) and every A/D update the MMU's
page-table walker wrote back (``AdWrite``: cycle, order, pte_addr, pte; from the MMU
event port, its AD_WRITE events), until ``max_records`` reports are collected
(STOP_RECORDS) or another stop comes first.  It returns a ``RetireBatch`` (stop
reason, records in order, DMA writes in order, A/D writes in order).  ``cycle`` counts clock edges from
reset, from 0: the record was sampled at that edge, and ``stats().cycles`` is
``cycle + 1`` after a run that stopped there.  A DMA write's ``order`` is the retire
order before which it landed: the write completed after the reports with smaller orders
(at edges up to its own) and before the report ``order``, so a model of the CPU applies
it just before executing that instruction; the same holds for an A/D write (one
for an access that the pipeline began and then discarded sets an A bit that no
retired instruction needed: the specification allows that for A, not for D).  That is exact as long as an instruction's
bus accesses are over by the edge that reports it, as in today's core (a load polling a
location the device writes reads what the model reads: tests/sim/test_retire_log.py
replays every load of a program that polls the used ring).  The pipelined core reads a
load's data from its data cache in M, the cycle before W retires it, and its retire
port reports the load at the edge after that: a load in M in the cycle a DMA write
lands read memory before the write, and is reported at the edge after the DMA port's
report of it (which is registered too).  So with the pipelined core a DMA write's
``order`` also counts the report of the edge after its own (``_DmaLead``); a write
reported at the last edge of a run comes in the next run's batch, or at once when the
run ended at tohost (with the report taken ahead).
Only ``run_retire`` collects: the cycles of a plain ``run`` in between are not logged.
On cxxrtl the C++ loop queues the records in a vector that Python drains in batches
after the run; without ``run_retire`` the loop pays one flag test per cycle.
"""

import ctypes
import functools
from collections import namedtuple
from dataclasses import dataclass, field

from amaranth import C

from hw.core.perf import EVENTS, CycleClass
from hw.core import port_delay
from hw.core.retire import RetireSignature
from hw.mmu.mmu import MMU
from hw.mmu.signatures import EventKind
from soc import memmap

__all__ = ["ENGINES", "make_engine", "Stats", "EngineError", "STOP_LIMIT", "STOP_TX",
           "STOP_TOHOST", "STOP_RECORDS", "MTIME_HZ", "RETIRE_FIELDS", "Retire", "DmaWrite", "AdWrite",
           "RetireBatch"]

STOP_LIMIT, STOP_TX, STOP_TOHOST, STOP_RECORDS = "limit", "tx", "tohost", "records"
_STOPS = {0: STOP_LIMIT, 1: STOP_TX, 2: STOP_TOHOST, 3: STOP_RECORDS}
_RUN_STOP_ON_TX, _RUN_SKIP_WFI, _RUN_LOG, _RUN_TAKE_AHEAD = 1, 2, 4, 8
SECTOR_BYTES, SECTOR_WORDS = 512, 64
#: mtime ticks per second of simulated time (the SoC's default mtime_freq)
MTIME_HZ = 10_000_000
U64 = (1 << 64) - 1
PRIV_U = 0


class EngineError(Exception):
    """The engine cannot be built or used; the message says why."""


#: the retirement port's fields (hw/core/retire.py) in the order of a Retire record
RETIRE_FIELDS = tuple(name for name in RetireSignature().members if name != "valid")
#: the fields of the SoC's ``dma_write`` port (soc/soc.py DmaWriteSignature) that a
#: DmaWrite record carries
_DMA_FIELDS = ("addr", "data", "mask")

Retire = namedtuple("Retire", ("cycle",) + RETIRE_FIELDS)
Retire.__doc__ = ("One retire report: the clock edge (from 0) at which the port showed it, "
                  "then the port's fields (hw/core/retire.py RetireSignature).")
DmaWrite = namedtuple("DmaWrite", ("cycle", "order") + _DMA_FIELDS)
DmaWrite.__doc__ = ("A write of the block device to memory: the edge at which it completed, "
                    "the retire order before which it landed, the physical doubleword "
                    "address, the data on its byte lanes and the lane mask.")
#: the MMU event port's fields (hw/mmu/signatures.py MMUEventSignature) that the A/D
#: log samples: the kind first (only AD_WRITE events are kept), then what an AdWrite holds
_AD_FIELDS = ("kind", "pte_addr", "pte")
_AD_KIND = EventKind.AD_WRITE.value
AdWrite = namedtuple("AdWrite", ("cycle", "order", "pte_addr", "pte"))
AdWrite.__doc__ = ("A PTE the MMU's walker wrote back with its A (and D) bit set: the edge "
                   "of the event, the retire order before which it landed, the PTE's "
                   "physical address and the value written.")


@dataclass
class RetireBatch:
    """What ``run_retire`` collected: why it stopped, the retire records, the DMA
    writes and the walker's A/D writes, each in order."""
    stop: str
    records: list
    dma: list
    ad: list = field(default_factory=list)


def _check_max_records(max_records):
    if max_records < 1:
        raise ValueError("max_records must be at least 1")


@dataclass
class Stats:
    cycles: int = 0
    instret: int = 0
    traps: int = 0
    tohost: int = 0
    wfi_skips: int = 0
    skipped_ticks: int = 0
    sectors_read: int = 0
    sectors_written: int = 0
    mtime: int = 0
    user_instret: int = 0       # instructions retired in user mode
    claim_source: int = 0       # the PLIC source claimed most since the last user-mode
    claim_streak: int = 0       # instruction, and how often (see _PyClaimWatch)


def _new_soc(ram_size, soc_args=None):
    """The SoC to simulate: ``SoC(ram_size, **soc_args)`` (soc/soc.py)."""
    from soc.soc import SoC
    return SoC(ram_size=ram_size, **(soc_args or {}))


def _card_sectors(image):
    """(offset, 512 bytes) of the card image's sectors that are not all zero (a card
    model starts zeroed)."""
    image = bytes(image)
    if len(image) % SECTOR_BYTES:
        raise EngineError(f"card image size {len(image)} is not a multiple of {SECTOR_BYTES}")
    return [(at, image[at:at + SECTOR_BYTES]) for at in range(0, len(image), SECTOR_BYTES)
            if any(image[at:at + SECTOR_BYTES])]


def _check_segments(image, ram_size):
    for addr, blob in image.segments:
        if addr < memmap.RAM_BASE or addr + len(blob) > memmap.RAM_BASE + ram_size:
            raise EngineError(
                f"segment {addr:#x}..{addr + len(blob):#x} does not fit in RAM "
                f"{memmap.RAM_BASE:#x}..{memmap.RAM_BASE + ram_size:#x} ({ram_size >> 20} MiB)")


def _trimmed(blob):
    """The segment without its trailing zero bytes (RAM starts zeroed)."""
    return bytes(blob).rstrip(b"\0")


#: (ram_size, SoC arguments) -> the model's library, found or built once per process
#: (build_model exports the design to RTLIL to hash it: 2 s saved per engine)
_models = {}


class CxxrtlEngine:
    """The SoC compiled by CXXRTL + g++; the cycle loop runs in C++ (driver.cc)."""

    name = "cxxrtl"

    def __init__(self, ram_size=memmap.DEFAULT_RAM_SIZE, log=None, lib_path=None, soc_args=None,
                 progress=None):
        """Builds (or finds) the model of ``SoC(ram_size=ram_size, **soc_args)`` (soc/soc.py: e.g.
        ``ram_latency``, or a board configuration with an SD card model): the default
        SoC's is cached after its first build, any other configuration is a build of its
        own; or loads the library ``lib_path`` as it is (the build's profiling run uses
        this).  ``log`` and ``progress`` report a build (sim/cxxrtl/build.py, build_model)."""
        if lib_path is None:
            key = (ram_size, repr(sorted((soc_args or {}).items())))
            lib_path = _models.get(key)
        if lib_path is None:
            from .cxxrtl.build import BuildError, build_model
            try:
                # the SoC is made only if its model is not found by the recipe
                make_soc = functools.partial(_new_soc, ram_size, soc_args)
                lib_path = _models[key] = build_model(make_soc, log=log, progress=progress,
                                                      recipe=repr(key))
            except BuildError as e:
                raise EngineError(str(e)) from None
        self.lib_path = lib_path     # which library runs (the benchmarks print it)
        self._ahead = _ahead_flag(soc_args)
        # (the pipelined core: see the module docstring)
        self._dma_lead = _DmaLead() if self._ahead else None
        lib = ctypes.CDLL(str(lib_path))
        p, u64, i32 = ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int
        buf = ctypes.c_char_p
        for fname, res, args in (
                ("sim_new", p, [buf, ctypes.c_size_t]), ("sim_free", None, [p]),
                ("sim_ram_size", u64, [p]), ("sim_ram_access", i32, [p, u64, buf, u64, i32]),
                ("sim_set_disk", None, [p, buf, u64]), ("sim_disk_size", u64, [p]),
                ("sim_get_disk", None, [p, buf]), ("sim_rx_push", None, [p, buf, u64]),
                ("sim_rx_pending", u64, [p]), ("sim_tx_take", u64, [p, buf, u64]),
                ("sim_set_tohost", i32, [p, u64]), ("sim_run", i32, [p, u64, i32, u64]),
                ("sim_stats", None, [p, ctypes.POINTER(u64)]),
                ("sim_log_arm", i32, [p, buf, buf, buf, u64, buf, ctypes.c_size_t]),
                ("sim_log_take", u64, [p, i32, ctypes.POINTER(u64), u64]),
                ("sim_mem_access", i32, [p, buf, u64, buf, u64, i32]),
                ("sim_peek", i32, [p, buf, ctypes.POINTER(u64)]), ("sim_poke", i32, [p, buf, u64]),
                ("sim_perf", i32, [p, ctypes.POINTER(u64), u64, ctypes.POINTER(u64), u64])):
            f = getattr(lib, fname)
            f.restype, f.argtypes = res, args
        self._lib = lib
        err = ctypes.create_string_buffer(256)
        self._h = lib.sim_new(err, 256)
        if not self._h:
            raise EngineError(f"CXXRTL model: {err.value.decode()}")
        self.ram_size = lib.sim_ram_size(self._h)
        self._txbuf = ctypes.create_string_buffer(1 << 16)
        self._logbuf = None         # the drain buffer of the logs, once armed
        self.card = None            # the image load_card put on the card model

    def close(self):
        if self._h:
            self._lib.sim_free(self._h)
            self._h = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def load(self, image):
        _check_segments(image, self.ram_size)
        for addr, blob in image.segments:
            data = _trimmed(blob)
            if data and self._lib.sim_ram_access(self._h, addr, data, len(data), 1) != 0:
                raise EngineError(f"cannot load {addr:#x}")

    def read_ram(self, paddr, length):
        out = ctypes.create_string_buffer(length)
        if self._lib.sim_ram_access(self._h, paddr, out, length, 0) != 0:
            raise EngineError(f"range {paddr:#x}+{length:#x} is outside RAM")
        return out.raw

    def set_disk(self, data):
        data = bytes(data)
        self._lib.sim_set_disk(self._h, data, len(data))

    def disk_image(self):
        n = self._lib.sim_disk_size(self._h)
        out = ctypes.create_string_buffer(n)
        self._lib.sim_get_disk(self._h, out)
        return out.raw

    def set_tohost(self, paddr):
        if self._lib.sim_set_tohost(self._h, paddr & ~7) != 0:
            raise EngineError(f"tohost {paddr:#x} is outside RAM")

    def load_card(self, image):
        """Put ``image`` on the SD card model's card (from its first byte); ``card`` keeps it."""
        for at, data in _card_sectors(image):
            if self._lib.sim_mem_access(self._h, b"card mem", at, data, len(data), 1) != 0:
                raise EngineError("this SoC has no SD card model, or the image is larger "
                                  "than its card")
        self.card = bytes(image)

    def card_image(self, length):
        """The first ``length`` bytes of the SD card model's card."""
        out = ctypes.create_string_buffer(length)
        if self._lib.sim_mem_access(self._h, b"card mem", 0, out, length, 0) != 0:
            raise EngineError("this SoC has no SD card model of that size")
        return out.raw

    def set_card_present(self, present):
        if self._lib.sim_poke(self._h, b"card_removed", int(not present)) != 0:
            raise EngineError("this SoC has no SD card model")

    def peek(self, name):
        """The value of the design's signal ``name`` (a CXXRTL debug name: "leds",
        "card card idle")."""
        value = ctypes.c_uint64()
        if self._lib.sim_peek(self._h, name.encode(), ctypes.byref(value)) == 0:
            return value.value
        if name.startswith("core perf_"):
            counts = self.perf_counters()
            if name[10:] in counts:
                return counts[name[10:]]
        raise EngineError(f"the model has no signal {name!r} of at most 64 bits")

    def perf_counters(self):
        """The pipelined core's benchmark counters (hw/core/perf.py) by name, as
        ``core perf_<name>`` of the design would read; the model keeps no counters,
        its driver adds up the core's ``perf_class`` and ``perf_events`` (driver.cc,
        sim_perf).  {} if the core has none.  All of them from one sim_perf call:
        a caller that wants several reads them here once rather than peeking each
        (every peek of a counter asks the driver for all of them)."""
        classes = (ctypes.c_uint64 * len(CycleClass))()
        events = (ctypes.c_uint64 * len(EVENTS))()
        if self._lib.sim_perf(self._h, classes, len(classes), events, len(events)) != 0:
            return {}
        counts = {c.counter[5:]: classes[c.value] for c in CycleClass}
        counts.update(zip(EVENTS, events))
        return counts

    def rx_push(self, data):
        data = bytes(data)
        self._lib.sim_rx_push(self._h, data, len(data))

    def rx_pending(self):
        return self._lib.sim_rx_pending(self._h)

    def tx_take(self):
        out = b""
        while True:
            n = self._lib.sim_tx_take(self._h, self._txbuf, len(self._txbuf))
            out += self._txbuf.raw[:n]
            if n < len(self._txbuf):
                return out

    def run(self, max_cycles, *, stop_on_tx=False, skip_wfi=True):
        return _STOPS[self._lib.sim_run(self._h, max_cycles,
                                        _run_flags(stop_on_tx, skip_wfi) | self._ahead, 0)]

    def run_retire(self, max_records, max_cycles, *, stop_on_tx=False, skip_wfi=True):
        """Run like ``run`` and collect retire records and DMA writes (module docstring)."""
        _check_max_records(max_records)
        if self._logbuf is None:
            names = lambda port, fields: "\n".join(f"{port}__{f}" for f in ("valid",) + fields)
            err = ctypes.create_string_buffer(256)
            if self._lib.sim_log_arm(self._h, names("retire", RETIRE_FIELDS).encode(),
                                     names("dma_write", _DMA_FIELDS).encode(),
                                     names("mmu_events", _AD_FIELDS).encode(), _AD_KIND,
                                     err, 256) != 0:
                raise EngineError(f"retire log: {err.value.decode()}")
            self._logbuf = (ctypes.c_uint64 * (len(Retire._fields) * 4096))()
        flags = _run_flags(stop_on_tx, skip_wfi) | _RUN_LOG | self._ahead
        stop = _STOPS[self._lib.sim_run(self._h, max_cycles, flags, max_records)]
        ad = [AdWrite(cycle, order, addr, pte)
              for cycle, order, _, addr, pte in self._log_take(2, None, 5)]
        records, dma = self._log_take(0, Retire), self._log_take(1, DmaWrite)
        if self._dma_lead is not None:
            dma = self._dma_lead.settle(stop, records, dma, self.stats().cycles)
        return RetireBatch(stop, records, dma, ad)

    def _log_take(self, which, record, width=None):
        """Drain log ``which`` (0 retire, 1 DMA, 2 A/D) into a list of ``record`` tuples
        (of plain tuples of ``width`` words if ``record`` is None)."""
        buf, width = self._logbuf, width or len(record._fields)
        record = record or tuple
        full = len(buf) // width * width
        rows = []
        while True:
            n = self._lib.sim_log_take(self._h, which, buf, len(buf))
            words = memoryview(buf).cast("B").cast("Q")[:n].tolist()
            rows += map(record, zip(*[iter(words)] * width)) if record is tuple else \
                map(record._make, zip(*[iter(words)] * width))
            if n < full:
                return rows

    def stats(self):
        arr = (ctypes.c_uint64 * 12)()
        self._lib.sim_stats(self._h, arr)
        stats = Stats(*arr)
        read, written = ctypes.c_uint64(), ctypes.c_uint64()
        if (self._lib.sim_peek(self._h, b"card_blocks_read", ctypes.byref(read)) == 0 and
                self._lib.sim_peek(self._h, b"card_blocks_written", ctypes.byref(written)) == 0):
            stats.sectors_read, stats.sectors_written = read.value, written.value
        return stats

    def sdram_error(self):
        """The board configuration's SDRAM chip model: None, or its first error as
        (name, cycle, bank) (soc/sdram/model.py)."""
        from soc.sdram.model import Error
        code = self.peek("sdram_error")
        if code == Error.NONE.value:
            return None
        return Error(code).name, self.peek("sdram_error_cycle"), self.peek("sdram_error_bank")

    # --- waveform capture (sim/wave/capture.py describes the windows) ---

    def _wave_fn(self, fname, res, args):
        f = getattr(self._lib, fname)
        f.restype, f.argtypes = res, args
        return f

    def wave_signal_width(self, name):
        """Width of the model's signal ``name`` (debug name), 0 if it cannot be sampled."""
        f = self._wave_fn("sim_wave_signal_width", ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p])
        return f(self._h, name.encode())

    def wave_arm(self, names, before, after, max_windows):
        """Sample the signals ``names`` (debug names) every cycle from now on, keeping
        windows around PTE_S walks; the C++ loop does the work (driver.cc)."""
        u64, p = ctypes.c_uint64, ctypes.c_void_p
        f = self._wave_fn("sim_wave_arm", ctypes.c_int,
                          [p, ctypes.c_char_p, u64, u64, u64, ctypes.c_char_p, ctypes.c_size_t])
        err = ctypes.create_string_buffer(256)
        # '~': a column of the MMU's event port, taken one edge late (driver.cc)
        marked = ["~" + n if i in _late_columns(names) else n for i, n in enumerate(names)]
        if f(self._h, "\n".join(marked).encode(), before, after, max_windows, err, 256) != 0:
            raise EngineError(f"waveform capture: {err.value.decode()}")
        self._wave_row = len(names) + 2
        self._wave_buf = (ctypes.c_uint64 * (self._wave_row * 1024))()

    def wave_take(self):
        """Finished rows, each (window number, cycle, values...), oldest first."""
        u64 = ctypes.c_uint64
        f = self._wave_fn("sim_wave_take", u64, [ctypes.c_void_p, ctypes.POINTER(u64), u64])
        rows = []
        buf = getattr(self, "_wave_buf", None)
        if buf is None or self.wave_info()[4] == 0:
            return rows
        while True:
            n = f(self._h, buf, len(buf))
            words = buf[:n]
            rows += [tuple(words[i:i + self._wave_row]) for i in range(0, n, self._wave_row)]
            if n < len(buf) - self._wave_row:
                return rows

    def wave_stop(self):
        """Stop sampling (an open window ends here)."""
        self._wave_fn("sim_wave_stop", None, [ctypes.c_void_p])(self._h)

    def wave_info(self):
        """(windows opened, triggers seen, armed, a window is open, rows queued)"""
        u64 = ctypes.c_uint64
        arr = (u64 * 5)()
        self._wave_fn("sim_wave_info", None, [ctypes.c_void_p, ctypes.POINTER(u64)])(self._h, arr)
        return tuple(arr)


def _run_flags(stop_on_tx, skip_wfi):
    return (_RUN_STOP_ON_TX if stop_on_tx else 0) | (_RUN_SKIP_WFI if skip_wfi else 0)


def _late_columns(names):
    """The waveform columns (by index) of the MMU's event port, which reports an event
    one cycle after it happens (hw/mmu/mmu.py, either core): a capture takes them one
    edge late (sim/wave/capture.py)."""
    assert MMU.EVENT_DELAY == 1         # the capture delays them by one edge
    return {i for i, n in enumerate(names) if n.startswith("mmu_events__")}


class _DmaLead:
    """The DMA writes of ``run_retire`` with the pipelined core (module docstring): a
    write's order, counted through the edge of its report, also counts the report of
    the next edge; a write whose next edge has not run yet waits for the next batch."""

    def __init__(self):
        self.held = []

    def settle(self, stop, records, dma, cycles):
        """The writes ready to hand out after a run that stopped with ``stop`` after
        ``cycles`` edges from reset and reported ``records``."""
        rows, self.held = self.held + dma, []
        reported = {r.cycle for r in records}
        out = []
        for w in rows:
            if w.cycle + 1 >= cycles and stop != STOP_TOHOST:
                self.held.append(w)          # (its next edge is the next run's first)
            else:
                out.append(w._replace(order=w.order + (w.cycle + 1 in reported)))
        return out


def _ahead_flag(soc_args):
    """_RUN_TAKE_AHEAD for a SoC whose core's retire port is registered (module
    docstring: a run that ends at tohost)."""
    return _RUN_TAKE_AHEAD if port_delay((soc_args or {}).get("core", "pipeline")) else 0


def _find_signal(fragment, path, name):
    """The signal called ``name`` assigned in the sub-fragment at ``path`` (names)."""
    frag = fragment
    for part in path:
        for sub, sub_name, *_ in frag.subfragments:
            if sub_name == part:
                frag = sub
                break
        else:
            raise EngineError(f"design has no sub-module {'.'.join(path)}")
    for stmts in frag.statements.values():
        for stmt in stmts:
            for sig in stmt._lhs_signals():
                if sig.name == name:
                    return sig
    raise EngineError(f"design has no signal {'.'.join(path)}.{name}")


class _PyStorage:
    """The storage port's state machine, as in driver.cc."""

    IDLE, WDATA, RDATA, RESP = range(4)

    def __init__(self):
        self.disk = bytearray()
        self.state = self.IDLE
        self.write = self.bad = False
        self.sector = self.k = 0
        self.words = []
        self.sectors_read = self.sectors_written = 0

    def word(self):
        if self.state != self.RDATA or self.bad:
            return 0
        base = self.sector * SECTOR_BYTES + 8 * self.k
        return int.from_bytes(self.disk[base:base + 8], "little")

    def step(self, cmd_fire, cmd, wdata_fire, wword, rdata_fire, resp_fire):
        if cmd_fire:
            self.write = bool(cmd & 1)
            self.sector = cmd >> 1
            self.bad = self.sector >= len(self.disk) // SECTOR_BYTES
            self.k = 0
            self.words = []
            self.state = self.WDATA if self.write else self.RDATA
        elif wdata_fire:
            self.words.append(wword)
            if len(self.words) == SECTOR_WORDS:
                if not self.bad:
                    base = self.sector * SECTOR_BYTES
                    self.disk[base:base + SECTOR_BYTES] = b"".join(
                        w.to_bytes(8, "little") for w in self.words)
                    self.sectors_written += 1
                self.state = self.RESP
        elif rdata_fire:
            self.k += 1
            if self.k == SECTOR_WORDS:
                if not self.bad:
                    self.sectors_read += 1
                self.state = self.RESP
        elif resp_fire:
            self.state = self.IDLE


class _PyClaimWatch:
    """Claims of each PLIC source since the last user-mode instruction, as in driver.cc."""

    def __init__(self):
        self.counts = [0] * 32
        self.in_service = 0
        self.source = self.streak = 0

    def sample(self, now):
        claimed = now & ~self.in_service
        self.in_service = now
        i = 0
        while claimed:
            if claimed & 1:
                self.counts[i] += 1
                if self.counts[i] > self.streak:
                    self.streak, self.source = self.counts[i], i
            claimed >>= 1
            i += 1

    def user_retired(self):
        if self.streak:
            self.counts = [0] * 32
            self.source = self.streak = 0


class PysimEngine:
    """The SoC in Amaranth's Python simulator (exact, ~1000x slower than cxxrtl)."""

    name = "pysim"

    def __init__(self, ram_size=memmap.DEFAULT_RAM_SIZE, log=None, soc_args=None, vcd=None,
                 progress=None):
        """Simulates ``SoC(ram_size=ram_size, **soc_args)``; with ``vcd`` (a path) every
        signal is written to that VCD file until ``close``.  (``progress`` is for the
        same calls as CxxrtlEngine: nothing is built here.)"""
        from amaranth.hdl import Fragment
        from amaranth.sim import Simulator
        self.soc = soc = _new_soc(ram_size, soc_args)
        self._soc_args = soc_args
        self._dma_lead = _DmaLead() if _ahead_flag(soc_args) else None
        self._skip = False          # the next edge's report was taken at a tohost stop
        self.ram_size = ram_size
        frag = Fragment.get(soc, None)
        self._stimecmp = _find_signal(frag, ("core", "csr"), "stimecmp")
        self._in_service = _find_signal(frag, ("plic",), "in_service")
        self._claims = _PyClaimWatch()
        self._frag = frag
        self._wave = None           # sim.wave.capture.WindowCapture while armed
        self._wave_sigs = ()
        self._sim = Simulator(frag)
        self._sim.add_clock(1e-6)
        self._sim.add_testbench(self._bench)
        self._vcd = None
        if vcd:
            self._vcd = self._sim.write_vcd(vcd)
            self._vcd.__enter__()
        self._pending_loads = []
        self._card_loads = []
        self.card = None            # the image load_card put on the card model
        self._card_removed = 0
        self._card_counts = (0, 0)
        self._rx = bytearray()
        self._tx = bytearray()
        self._disk = _PyStorage()
        self._tohost_row = None
        self._stats = Stats()
        self._flags = 0
        self._left = 0              # cycles the current run may still take
        self._enough = None         # run_retire: says the log is full
        self._stop = None           # why the current run ends, set by the testbench
        self._started = False
        # The logs of run_retire: the ports' fields, sampled only while _log is set.
        self._log_sigs = (*(getattr(soc.retire, f) for f in RETIRE_FIELDS),
                          soc.dma_write.valid, *(getattr(soc.dma_write, f) for f in _DMA_FIELDS),
                          soc.mmu_events.valid, *(getattr(soc.mmu_events, f) for f in _AD_FIELDS))
        self._log = None            # (retire records, DMA writes, A/D writes) while run_retire runs

    def close(self):
        if self._vcd is not None:
            self._vcd.__exit__(None, None, None)
            self._vcd = None

    def load(self, image):
        if self._started:
            raise EngineError("load before running")
        _check_segments(image, self.ram_size)
        self._pending_loads += [(addr, _trimmed(blob)) for addr, blob in image.segments]

    def set_disk(self, data):
        if self._started:
            raise EngineError("set the disk before running")
        self._disk.disk = bytearray(data)

    def disk_image(self):
        return bytes(self._disk.disk)

    def set_tohost(self, paddr):
        self._tohost_row = self.soc.ram.word_index(paddr & ~7)

    def load_card(self, image):
        if self._started:
            raise EngineError("load the card before running")
        card = getattr(self.soc, "card", None)
        if card is None or len(image) > card.size:
            raise EngineError("this SoC has no SD card model, or the image is larger than "
                              "its card")
        self._card_loads += _card_sectors(image)
        self.card = bytes(image)

    def set_card_present(self, present):
        if getattr(self.soc, "card", None) is None:
            raise EngineError("this SoC has no SD card model")
        self._card_removed = int(not present)

    def rx_push(self, data):
        self._rx += bytes(data)

    def rx_pending(self):
        return len(self._rx)

    def tx_take(self):
        out = bytes(self._tx)
        self._tx.clear()
        return out

    def stats(self):
        s = self._stats
        if getattr(self.soc, "card", None) is None:
            s.sectors_read, s.sectors_written = self._disk.sectors_read, self._disk.sectors_written
        else:
            s.sectors_read, s.sectors_written = self._card_counts
        s.claim_source, s.claim_streak = self._claims.source, self._claims.streak
        return Stats(**vars(s))

    async def _bench(self, ctx):
        soc = self.soc
        st = getattr(soc, "storage", None)       # None: the SD card model serves the disk
        disk = self._disk
        for addr, data in self._pending_loads:
            soc.ram.load(ctx, addr, data)
        self._pending_loads = []
        card = getattr(soc, "card", None)
        for at, data in self._card_loads:
            card.load(ctx, at, data)
        self._card_loads = []
        card_removed = 0

        def drive_storage():
            if st is None:
                return
            ctx.set(st.cmd.ready, disk.state == disk.IDLE)
            ctx.set(st.wdata.ready, disk.state == disk.WDATA)
            ctx.set(st.rdata.valid, disk.state == disk.RDATA)
            ctx.set(st.rdata.payload, disk.word())
            ctx.set(st.resp.valid, disk.state == disk.RESP)
            ctx.set(st.resp.payload.as_value(), int(disk.state == disk.RESP and disk.bad))
            ctx.set(st.capacity, len(disk.disk) // SECTOR_BYTES)

        ctx.set(soc.uart_tx.ready, 1)
        drive_storage()
        if st is not None:
            storage_sigs = (st.cmd.valid, st.cmd.payload.as_value(), st.wdata.valid,
                            st.wdata.payload, st.rdata.ready, st.resp.ready)
        else:
            storage_sigs = (C(0, 1),) * 6
        card_sigs = (soc.card_blocks_read, soc.card_blocks_written) if card is not None else ()
        offered = None
        stats = self._stats
        claims = self._claims
        mtime, mtimecmp, stimecmp = soc.clint.mtime_reg, soc.clint.mtimecmp_reg, self._stimecmp
        log_sigs = self._log_sigs if self._log is not None else ()
        while True:
            if self._card_removed != card_removed:
                card_removed = self._card_removed
                ctx.set(soc.card_removed, card_removed)
            (_, _, tx_valid, tx_byte, rx_valid, rx_ready, cmd_valid, cmd, wvalid, wword,
             rready, resp_ready, ret_valid, ret_trap, ret_priv, sleeping, in_service,
             *rest) = await ctx.tick().sample(
                soc.uart_tx.valid, soc.uart_tx.payload, soc.uart_rx.valid, soc.uart_rx.ready,
                *storage_sigs, soc.retire.valid, soc.retire.trap, soc.retire.priv, soc.wfi,
                self._in_service, *card_sigs, *log_sigs, *self._wave_sigs)
            if card_sigs:
                self._card_counts = tuple(rest[:2])
            log_vals = rest[len(card_sigs):]
            wave_vals = log_vals[len(log_sigs):]
            if wave_vals:
                self._wave_sample(stats.cycles, wave_vals)
            if self._skip:          # counted and logged when the last run ended
                self._skip = False
                ret_valid = 0
            if log_sigs:
                self._log_sample(stats.cycles, ret_valid, log_vals,
                                 stats.instret + stats.traps + ret_valid)
            stats.cycles += 1
            if ret_valid:
                if ret_trap:
                    stats.traps += 1
                else:
                    stats.instret += 1
                    if ret_priv == PRIV_U:
                        stats.user_instret += 1
                        claims.user_retired()
            claims.sample(in_service)
            if tx_valid:
                self._tx.append(tx_byte)
            if rx_valid and rx_ready:
                del self._rx[0]
            want = self._rx[0] if self._rx else None
            if want != offered:
                ctx.set(soc.uart_rx.valid, want is not None)
                ctx.set(soc.uart_rx.payload, want or 0)
                offered = want
            fires = (disk.state == disk.IDLE and cmd_valid, disk.state == disk.WDATA and wvalid,
                     disk.state == disk.RDATA and rready, disk.state == disk.RESP and resp_ready)
            if any(fires):
                disk.step(fires[0], cmd, fires[1], wword, fires[2], fires[3])
                drive_storage()
            if self._flags & _RUN_SKIP_WFI and sleeping:
                now = ctx.get(mtime)
                target = min(ctx.get(mtimecmp), ctx.get(stimecmp))
                if target != U64 and target > now + 1:
                    ctx.set(mtime, target - 1)
                    stats.wfi_skips += 1
                    stats.skipped_ticks += target - 1 - now
            if self._tohost_row is not None:
                v = ctx.get(soc.ram.mem.data[self._tohost_row])
                if v:
                    stats.tohost = v
            stats.mtime = ctx.get(mtime)
            self._left -= 1
            if stats.tohost:
                self._stop = STOP_TOHOST
                if self._flags & _RUN_TAKE_AHEAD:
                    self._take_ahead(ctx)
            elif tx_valid and self._flags & _RUN_STOP_ON_TX:
                self._stop = STOP_TX
            elif self._enough is not None and self._enough():
                self._stop = STOP_RECORDS
            elif self._left == 0:
                self._stop = STOP_LIMIT
            if self._stop is not None:
                # The run ends here: wait for the next one before choosing what the
                # next edge samples (the logs' fields only while run_retire runs).
                await ctx.delay(0)
                log_sigs = self._log_sigs if self._log is not None else ()

    def _take_ahead(self, ctx):
        """A run that ends at tohost takes the report the retire port's flip-flops
        hold after its last edge (driver.cc take_ahead)."""
        ret, stats = self.soc.retire, self._stats
        if not ctx.get(ret.valid):
            return
        self._skip = True
        if ctx.get(ret.trap):
            stats.traps += 1
        else:
            stats.instret += 1
            if ctx.get(ret.priv) == PRIV_U:
                stats.user_instret += 1
                self._claims.user_retired()
        if self._log is not None:
            self._log[0].append(Retire(stats.cycles,
                                       *(ctx.get(getattr(ret, f)) for f in RETIRE_FIELDS)))

    def _log_sample(self, cycle, ret_valid, values, order):
        """Keep an edge's retire report, DMA write and A/D write (the same rows as
        driver.cc's Log)."""
        records, dma, ad = self._log
        n = len(RETIRE_FIELDS)
        if ret_valid:
            records.append(Retire(cycle, *values[:n]))
        if values[n]:
            dma.append(DmaWrite(cycle, order, *values[n + 1:n + 1 + len(_DMA_FIELDS)]))
        ev_valid, kind, pte_addr, pte = values[n + 1 + len(_DMA_FIELDS):]
        if ev_valid and kind in (_AD_KIND, EventKind.AD_WRITE):    # (pysim gives the enum)
            ad.append(AdWrite(cycle, order, pte_addr, pte))

    def run_retire(self, max_records, max_cycles, *, stop_on_tx=False, skip_wfi=True):
        """Run like ``run`` and collect retire records and DMA writes (module docstring)."""
        _check_max_records(max_records)
        self._log = records, dma, ad = [], [], []
        try:
            stop = self._run(max_cycles, stop_on_tx, skip_wfi, lambda: len(records) >= max_records)
        finally:
            self._log = None
        if self._dma_lead is not None:
            dma = self._dma_lead.settle(stop, records, dma, self._stats.cycles)
        return RetireBatch(stop, records, dma, ad)

    # --- waveform capture (sim/wave/capture.py), the same windows as driver.cc ---

    def _wave_signal(self, name):
        """The design's signal for a CXXRTL debug name: "mmu_events__kind" is a port of the
        SoC, "core mmu walker level" the signal `level` of sub-module core.mmu.walker."""
        parts = name.split(" ")
        if len(parts) == 1:
            obj = self.soc
            for attr in name.split("__"):
                obj = getattr(obj, attr, None)
                if obj is None:
                    raise EngineError(f"design has no port {name}")
        else:
            obj = _find_signal(self._frag, tuple(parts[:-1]), parts[-1])
        return obj.as_value() if hasattr(obj, "as_value") else obj

    def wave_signal_width(self, name):
        try:
            width = len(self._wave_signal(name))
        except EngineError:
            return 0
        return width if width <= 64 else 0

    def wave_arm(self, names, before, after, max_windows):
        from .wave.capture import WindowCapture
        ev = self.soc.mmu_events
        cols = [self._wave_signal(n) for n in names]
        self._wave = WindowCapture(len(cols), before, after, max_windows,
                                   late=_late_columns(names))
        self._wave_sigs = (ev.valid, ev.kind.as_value(), ev.pte, *cols) if max_windows else ()

    def _wave_sample(self, cycle, values):
        values = [int(v) for v in values]
        if not self._wave.sample(cycle, values[0], values[1], values[2], values[3:]):
            self._wave_sigs = ()

    def wave_take(self):
        return self._wave.take() if self._wave else []

    def wave_stop(self):
        self._wave_sigs = ()
        if self._wave:
            self._wave.open = False

    def wave_info(self):
        w = self._wave
        if w is None:
            return (0, 0, 0, 0, 0)
        return (w.windows, w.triggers, int(bool(self._wave_sigs)), int(w.open), len(w.out))

    def run(self, max_cycles, *, stop_on_tx=False, skip_wfi=True):
        return self._run(max_cycles, stop_on_tx, skip_wfi, None)

    def _run(self, max_cycles, stop_on_tx, skip_wfi, enough):
        """The cycle loop of run and run_retire (the testbench decides when it stops);
        ``enough()`` says the log is full."""
        self._started = True
        self._flags = _run_flags(stop_on_tx, skip_wfi) | _ahead_flag(self._soc_args)
        if max_cycles <= 0:
            return STOP_LIMIT
        self._left, self._enough, self._stop = max_cycles, enough, None
        while self._stop is None:
            self._sim.advance()
        return self._stop


ENGINES = {"cxxrtl": CxxrtlEngine, "pysim": PysimEngine}


def make_engine(name, ram_size=memmap.DEFAULT_RAM_SIZE, log=None, **kwargs):
    """The engine ``name`` ("cxxrtl" or "pysim"); ``kwargs`` go to its constructor."""
    try:
        cls = ENGINES[name]
    except KeyError:
        raise EngineError(f"unknown engine {name!r} (choose from {', '.join(ENGINES)})") from None
    return cls(ram_size=ram_size, log=log, **kwargs)
