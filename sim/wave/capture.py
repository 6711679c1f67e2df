"""Windows of sampled MMU signals around walks over PTE_S pages.

Both engines sample the same columns (``COLUMNS``, by CXXRTL debug name) at every clock
edge while a capture is armed, exactly as they sample the output ports.  The window
logic, identical in driver.cc (``WaveCapture``) and in :class:`WindowCapture` (pysim):

* trigger: the MMU's event port shows WALK_DONE, or WALK_FAULT on a leaf (R or X
  set), whose PTE has bit 8 (PTE_S) set;
* the last ``before`` rows wait in a ring; a trigger opens a window with them and the
  trigger row; the window stays open until ``after`` cycles past its last trigger (a
  trigger inside an open window extends it), so windows never overlap, and a
  window that follows soon after another has fewer than ``before`` rows before its
  first trigger;
* after ``max_windows`` windows the capture disarms itself (no further cost);
* the MMU's event port (either core's ``mmu_events``) reports an event one cycle
  after what it describes (hw/mmu/mmu.py): it shows at edge t+1 what the MMU did by
  edge t.  Its columns (``late``; on cxxrtl the names the engine passes with a
  leading ``~``) and the trigger of a row of edge t are therefore taken from edge t+1,
  so that the rows, windows and walks are those of a port without the delay: an
  event sits in the row of the cycle of the lookup (or one cycle after the walker's
  step), beside the MMU's and the walker's registers of that cycle.

A row is (window number, cycle, value of each column); ``cycle`` counts clock edges
from reset, starting at 0.
"""

from collections import deque
from dataclasses import dataclass, field

from hw.mmu.pte import PTE_R, PTE_S, PTE_X
from hw.mmu.signatures import EventKind

__all__ = ["Column", "COLUMNS", "WindowCapture", "Window", "available_columns", "arm",
           "collect", "trigger_row"]


@dataclass(frozen=True)
class Column:
    """One sampled signal: its name in the VCD, the design's debug name, and whether
    the capture works without it (internal registers a later design may rename)."""
    name: str
    debug: str
    required: bool = False


_EV = "mmu_events__"
#: The sampled signals: the MMU event port (always), then MMU/CSR registers.
COLUMNS = (
    Column("ev_valid", _EV + "valid", True),
    Column("ev_kind", _EV + "kind", True),
    Column("ev_port", _EV + "port", True),
    Column("ev_vaddr", _EV + "vaddr", True),
    Column("ev_satp", _EV + "satp", True),
    Column("ev_access", _EV + "access", True),
    Column("ev_level", _EV + "level", True),
    Column("ev_pte_addr", _EV + "pte_addr", True),
    Column("ev_pte", _EV + "pte", True),
    Column("ev_paddr", _EV + "paddr", True),
    Column("ev_cause", _EV + "cause", True),
    Column("csr_satp", "core csr satp"),
    Column("priv", "core csr priv"),
    Column("walker_state", "core mmu walker walk_state"),
    Column("walker_level", "core mmu walker level"),
    Column("walker_pte_addr", "core mmu walker pte_addr"),
    Column("walker_pte", "core mmu walker pte"),
    Column("itlb_port_state", "core mmu port0_state"),
    Column("dtlb_port_state", "core mmu port1_state"),
    Column("ifetch_res_paddr", "core mmu res_paddr0"),
    Column("ifetch_res_pf", "core mmu res_pf0"),
    Column("ifetch_res_af", "core mmu res_af0"),
    Column("data_res_paddr", "core mmu res_paddr1"),
    Column("data_res_pf", "core mmu res_pf1"),
    Column("data_res_af", "core mmu res_af1"),
)


def trigger_row(valid, kind, pte):
    """The trigger condition on one sample of the event port."""
    if not valid or not pte & PTE_S:
        return False
    return kind == EventKind.WALK_DONE.value or (
        kind == EventKind.WALK_FAULT.value and bool(pte & (PTE_R | PTE_X)))


class WindowCapture:
    """The window logic of driver.cc's WaveCapture, for the pysim engine."""

    def __init__(self, ncols, before, after, max_windows, late=()):
        self.ncols = ncols
        self.before, self.after, self.max_windows = before, after, max_windows
        self.late = set(late)       # columns of a registered port (module docstring)
        self.prev = None            # with late columns: the previous edge's row
        self.ring = deque(maxlen=before or 1)
        self.open = False
        self.close_at = 0
        self.windows = 0
        self.triggers = 0
        self.out = []

    def sample(self, cycle, ev_valid, ev_kind, ev_pte, values):
        """One edge; returns False once the capture has finished."""
        if self.late:
            # this edge completes the previous edge's row
            prev, self.prev = self.prev, (cycle, values)
            if prev is None:
                return True
            cycle = prev[0]
            values = [v if i in self.late else prev[1][i] for i, v in enumerate(values)]
        row = (cycle, *values)
        hit = trigger_row(ev_valid, ev_kind, ev_pte)
        if hit:
            self.triggers += 1
        if not self.open and hit and self.windows < self.max_windows:
            self.open = True
            self.windows += 1
            self.out += [(self.windows - 1, *r) for r in self.ring]
            self.ring.clear()
        if self.open:
            self.out.append((self.windows - 1, *row))
            if hit:
                self.close_at = cycle + self.after
            if cycle >= self.close_at:
                self.open = False
                if self.windows >= self.max_windows:
                    return False
        elif self.before:
            self.ring.append(row)
        return True

    def take(self):
        out, self.out = self.out, []
        return out


@dataclass
class Window:
    """One captured window: ``rows[i]`` maps column names to values at cycle
    ``start + i``."""
    number: int
    start: int
    rows: list = field(default_factory=list)

    @property
    def end(self):
        return self.start + len(self.rows) - 1


def available_columns(engine):
    """The columns this engine's design can sample (with widths), in COLUMNS order.
    Raises ValueError if a required one is missing."""
    cols = []
    for col in COLUMNS:
        width = engine.wave_signal_width(col.debug)
        if width:
            cols.append((col, width))
        elif col.required:
            raise ValueError(f"the design has no signal {col.debug!r} to sample")
    return cols


def arm(engine, before, after, max_windows):
    """Arm the engine's capture; returns the [(Column, width)] sampled."""
    cols = available_columns(engine)
    engine.wave_arm([c.debug for c, _ in cols], before, after, max_windows)
    return cols


def collect(rows, cols, windows=None):
    """Group raw rows (window number, cycle, values...) into Window objects, appending
    to ``windows`` (a dict number -> Window) so rows can be collected in pieces."""
    windows = {} if windows is None else windows
    names = [c.name for c, _ in cols]
    for number, cycle, *values in rows:
        w = windows.get(number)
        if w is None:
            w = windows[number] = Window(number, cycle)
        if cycle != w.end + 1 and w.rows:
            raise ValueError(f"window {number}: cycle {cycle} after {w.end}")
        w.rows.append(dict(zip(names, values)))
    return windows
