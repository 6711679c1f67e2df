"""Cycle accounting of the pipelined core: every cycle is charged to exactly one class.

The memory stage M is where instructions commit, so it is where time is counted.
In every cycle M does one of three things:

* it **commits** an instruction (class ``RETIRE``: one cycle per retired
  instruction, the ideal CPI of 1);
* it **works** on an instruction that needs more than one cycle there (a data
  cache miss, a translation or PMP check, a misaligned access across two
  doublewords, a full write buffer, a device access, an atomic,
  a multiply or divide, a CSR access, sfence.vma, wfi, a trap): the cycle is
  charged to that work;
* it holds a **bubble**: an empty slot that entered the pipeline upstream.  The
  slot carries the reason it was made with it down the stages: D held its
  instruction back (``LOAD_USE``, or ``INTERLOCK`` for a multiply/divide, CSR or
  AMO result), a redirect flushed it (``MISPREDICT`` from the execute stage,
  ``FLUSH_*`` from M: after a CSR write that changes translation, xRET,
  fence.i/sfence.vma, a trap), or the fetch unit had nothing to give (a redirect
  refilling the queue is charged like the redirect; ``ICACHE_MISS``, ``ITLB``,
  ``FETCH_OTHER`` for uncached fetches, the two boot cycles and after a fetch fault).

So the counts add up to the cycles run, and ``RETIRE`` equals the instructions
retired.  A stall upstream that M does not see (the fetch unit refilling
while M works on a long instruction) costs nothing and is not counted.

The core keeps one counter per class (``perf_<name>``, 48 bits, plus the event
counters ``perf_ihit`` ... of pipeline.py); nothing in the design reads them, so
synthesis removes them.  The compiled simulation model leaves them out too and keeps
what they count, the cycle's class (``perf_class``) and the event bits
(``perf_events``, in the order of EVENTS): its driver adds them up at each edge and
gives the same values as ``core perf_<name>`` (sim/cxxrtl/build.py PERF_PORTS,
sim/engine.py ``peek``); bench/boot_bench.py prints them.
"""

from amaranth.lib import enum

__all__ = ["CycleClass", "FetchWait", "EVENTS"]

#: the event counters (``perf_<name>``) besides the cycle classes
EVENTS = {
    "ihit":      "instruction cache hits (instructions fetched from it)",
    "imiss":     "instruction cache misses (line fills started)",
    "dhit":      "data cache load hits",
    "dmiss":     "data cache load misses (line fills started)",
    "branch":    "branches and jumps resolved",
    "mispred":   "redirects of the execute stage (mispredicted next pc)",
    "itlb_hit":  "fetch translations the ITLB answered (the fetch unit's page missed)",
    "itlb_miss": "fetch translations that needed the page-table walker",
    "dtlb_hit":  "data translations the DTLB answered (M's remembered page missed)",
    "dtlb_miss": "data translations that needed the page-table walker",
    "pte_read":  "page-table entries the walker read",
}


class CycleClass(enum.Enum, shape=5):
    RETIRE      = 0
    LOAD_USE    = 1      # D waits for a load's data
    INTERLOCK   = 2      # D waits for a multiply/divide, CSR or AMO result
    MISPREDICT  = 3      # X found the predicted next pc wrong
    FLUSH_CSR   = 4      # M refetches after a CSR write
    FLUSH_XRET  = 5      # ... after mret/sret
    FLUSH_FENCE = 6      # ... after fence.i or sfence.vma
    FLUSH_TRAP  = 7      # ... after taking a trap or an interrupt
    ICACHE_MISS = 8      # the fetch unit fills a line
    ITLB        = 9      # the fetch unit translates its pc
    FETCH_OTHER = 10     # boot, uncached fetches, a fetch fault
    DCACHE_MISS = 11     # a load fills a line of the data cache
    DTLB        = 12     # M translates a data address (and asks the PMP)
    STORE       = 13     # a store waits for room in the write buffer
    UNCACHED    = 14     # a load or store to a device
    ATOMIC      = 15     # LR, SC, AMO
    MULDIV      = 16
    CSR         = 17     # a CSR instruction's extra cycles in M
    SFENCE      = 18
    WFI         = 19
    TRAP        = 20     # raising a trap: the cycle it is found and the cycle it is taken
    MISALIGNED  = 21     # a misaligned load or store across two doublewords (MIS_*)

    @property
    def counter(self):
        """The name of its counter in the core (``core perf_<name>`` in the model)."""
        return "perf_" + self.name.lower()


class FetchWait(enum.Enum, shape=2):
    """Why the fetch unit pushed nothing into its queue (fetch.py ``wait``)."""
    REDIRECT    = 0      # a redirect emptied the queue; the new pc is being read
    ICACHE_MISS = 1
    ITLB        = 2
    OTHER       = 3
