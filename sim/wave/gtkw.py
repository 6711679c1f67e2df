"""GTKWave save file for the dump: opens the VCD with the signals grouped.

Written with pyvcd's GTKWSave (pyvcd is the VCD library Amaranth itself depends on).
As in Amaranth's own .gtkw output, a vector is named with its bit range
(``mmu_walks.pte.ev_pte[63:0]``), a 1-bit or string variable without one.  The PTE
fields are decoded into their own traces (flags V..S, PPN, the flag letters as text),
and event kinds and FSM states have text traces next to their codes, so no translate
filter is needed.
"""

import os

from vcd.gtkw import GTKWSave

from .traces import GROUPS, STRING
from .vcd import PERIOD_NS, TOP

__all__ = ["write_gtkw", "gtkw_name", "read_gtkw_signals"]

#: what each group is called in GTKWave
TITLES = {
    "satp": "satp (CSR and walk: mode / ASID / root)",
    "request": "request (event, port, access, VA fields)",
    "pte": "PTE on the event port",
    "levels": "per-level PTEs of the walk",
    "flags": "PTE flags",
    "result": "result (pa / fault, A/D write)",
    "tlb": "TLB (hit / miss / flush / refill)",
    "walker": "walker registers",
}


def gtkw_name(scope, name, width):
    base = f"{TOP}.{scope}.{name}" if scope else f"{TOP}.{name}"
    return base if width == STRING or width == 1 else f"{base}[{width - 1}:0]"


def write_gtkw(path, vcd_path, traces, *, first_cycle=0):
    """Write the save file for the VCD at vcd_path (traces as in the VCD)."""
    with open(path, "w") as f:
        save = GTKWSave(f)
        save.comment("written by rvxv6 sim.wave: MMU walks over PTE_S pages")
        save.dumpfile(os.path.abspath(vcd_path))
        save.savefile(os.path.abspath(path))
        save.zoom_markers(-6.0, marker=first_cycle * PERIOD_NS)
        save.size(1600, 1000)
        save.pos(-1, -1)
        save.treeopen(f"{TOP}.")
        save.signals_width(320)
        save.sst_expanded(True)
        save.trace(gtkw_name("", "clk", 1), datafmt="bin")
        save.trace(gtkw_name("", "cycle", 64), datafmt="dec")
        save.trace(gtkw_name("", "in_window", 1), datafmt="bin")
        for group in GROUPS:
            members = [t for t in traces if t.scope == group]
            if not members:
                continue
            with save.group(TITLES[group]):
                for t in members:
                    fmt = "hex" if t.width == STRING else t.fmt
                    save.trace(gtkw_name(t.scope, t.name, t.width), datafmt=fmt)


def read_gtkw_signals(path):
    """The signal names a .gtkw file refers to (for the tests)."""
    names = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and line[0] not in "[@-*^+#":
                names.append(line)
    return names
