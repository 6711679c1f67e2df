"""Page-table walks found in the captured windows, and the text log of the PTE_S ones.

A walk runs from a WALK_START event to WALK_DONE or WALK_FAULT on the MMU's event
port; in between come PTE_READ (one per level) and at most one AD_WRITE.  A walk
whose start lies before its window is kept, marked incomplete.
"""

from dataclasses import dataclass, field

from .capture import trigger_row
from .traces import KINDS, ACCESSES, flags_text

__all__ = ["Walk", "find_walks", "log_line", "write_log"]


@dataclass
class Walk:
    window: int
    start: int = None               # cycle of WALK_START (None: before the window)
    end: int = None                 # cycle of WALK_DONE / WALK_FAULT
    port: int = None
    vaddr: int = None
    satp: int = None
    access: int = None
    reads: list = field(default_factory=list)       # (cycle, level, pte_addr, pte)
    ad_write: tuple = None                           # (cycle, level, pte_addr, new pte)
    paddr: int = None
    cause: int = None
    leaf: int = None                # the leaf PTE as the end event reports it
    level: int = None
    shared: bool = False            # the trigger condition holds (leaf with PTE_S)

    @property
    def ok(self):
        return self.end is not None and self.cause is None

    @property
    def root(self):
        return (self.satp & ((1 << 44) - 1)) << 12

    @property
    def asid(self):
        return (self.satp >> 44) & 0xFFFF


def find_walks(windows):
    """Every walk that ends inside a window, in order."""
    walks = []
    for w in windows:
        cur = None
        for i, r in enumerate(w.rows):
            if not r["ev_valid"]:
                continue
            cycle = w.start + i
            kind = KINDS[r["ev_kind"]]
            if kind == "WALK_START":
                cur = Walk(w.number, start=cycle)
            elif kind in ("PTE_READ", "AD_WRITE", "WALK_DONE", "WALK_FAULT"):
                if cur is None:
                    cur = Walk(w.number)
                if kind == "PTE_READ":
                    cur.reads.append((cycle, r["ev_level"], r["ev_pte_addr"], r["ev_pte"]))
                elif kind == "AD_WRITE":
                    cur.ad_write = (cycle, r["ev_level"], r["ev_pte_addr"], r["ev_pte"])
            else:
                continue
            cur.port, cur.vaddr, cur.satp, cur.access = (
                r["ev_port"], r["ev_vaddr"], r["ev_satp"], r["ev_access"])
            if kind in ("WALK_DONE", "WALK_FAULT"):
                cur.end = cycle
                cur.level = r["ev_level"]
                cur.leaf = r["ev_pte"]
                cur.shared = trigger_row(1, r["ev_kind"], r["ev_pte"])
                if kind == "WALK_DONE":
                    cur.paddr = r["ev_paddr"]
                else:
                    cur.cause = r["ev_cause"]
                walks.append(cur)
                cur = None
    return walks


def log_line(walk, owner=None, named=False):
    """One line of walks.log; with ``named`` the owning process (pid and name, or
    '?' when the process table did not show the root) follows the satp."""
    who = ""
    if named:
        who = f" (pid {owner[0]} {owner[1]})" if owner else " (pid ?)"
    parts = [f"cycle {walk.end:>10}",
             f"satp asid={walk.asid:#x} root={walk.root:#x}{who}",
             f"va={walk.vaddr:#x} {('ifetch', 'data')[walk.port]} {ACCESSES.get(walk.access, '?')}"]
    if walk.start is None:
        parts.append("(started before the window)")
    for _, level, addr, pte in walk.reads:
        parts.append(f"L{level} {addr:#x}={pte:#018x}")
    if walk.ad_write:
        parts.append(f"A/D write {walk.ad_write[3]:#018x}")
    parts.append(f"leaf [{flags_text(walk.leaf)}]")
    parts.append(f"pa={walk.paddr:#x} ok" if walk.ok else f"fault cause {walk.cause}")
    return "  ".join(parts)


def write_log(path, walks, procs=None):
    """walks.log: one line per PTE_S walk; returns the lines."""
    lines = []
    for w in walks:
        if not w.shared:
            continue
        owner = procs.owner(w.root, w.end) if procs is not None else None
        lines.append(log_line(w, owner, named=procs is not None))
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    return lines
