"""From captured windows to the traces of the dump, grouped as in the VCD and .gtkw.

A trace is one VCD variable: a scope (group), a name, a width (or ``STRING`` for a
text variable such as an event name) and one value per captured row (``None`` =
unknown, written as x).  Some traces are sampled columns as they are; the others are
decoded from them row by row (satp fields, PTE flags, VA fields) or held across the
rows of a walk (each level's PTE address and value, the final physical address or
fault cause).  Held values start unknown at the beginning of each window, because
the walk may have started before it.
"""

from dataclasses import dataclass, field

from hw.mmu.pte import (PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D, PTE_S,
                        PTE_PPN_SHIFT)
from hw.mmu.signatures import Access, EventKind

from .capture import trigger_row

__all__ = ["STRING", "Trace", "GROUPS", "build_traces", "state_names", "flags_text", "KINDS"]

STRING = "string"
KINDS = {k.value: k.name for k in EventKind}
ACCESSES = {a.value: a.name for a in Access}
FLAG_BITS = (("V", PTE_V), ("R", PTE_R), ("W", PTE_W), ("X", PTE_X), ("U", PTE_U),
             ("G", PTE_G), ("A", PTE_A), ("D", PTE_D), ("S", PTE_S))
#: scopes in display order
GROUPS = ("satp", "request", "pte", "levels", "flags", "result", "tlb", "walker")
_PA_MASK = (1 << 56) - 1
_PPN_MASK = (1 << 44) - 1


@dataclass
class Trace:
    scope: str
    name: str
    width: object                   # bits, or STRING
    values: list = field(default_factory=list)
    fmt: str = "hex"                # how .gtkw shows it: hex, dec or bin


def flags_text(pte):
    """The set flag letters of a PTE, e.g. 'V R W U A D S' ('-' if none)."""
    return " ".join(n for n, bit in FLAG_BITS if pte & bit) or "-"


def state_names():
    """Names of the MMU's FSM states, from the design itself: {column: {code: name}}."""
    from amaranth.hdl import Fragment
    from hw.mmu.mmu import MMU
    from sim.engine import EngineError, _find_signal
    frag = Fragment.get(MMU(itlb_entries=8, dtlb_entries=8), None)
    out = {}
    for column, path, name in (("walker_state", ("walker",), "walk_state"),
                               ("itlb_port_state", (), "port0_state"),
                               ("dtlb_port_state", (), "port1_state")):
        try:
            sig = _find_signal(frag, path, name)
        except EngineError:         # renamed in the design: shown as numbers only
            continue
        if sig.decoder is None:
            continue
        names = {}
        for n in range(1 << len(sig)):
            try:
                names[n] = sig.decoder(n).split("/")[0]
            except KeyError:        # an unused code
                pass
        out[column] = names
    return out


def build_traces(windows, columns, states=None):
    """Traces over all rows of all windows (in order).  ``columns`` is [(name, width)]
    of the sampled columns; ``states`` maps state columns to code names."""
    have = dict(columns)
    states = states or {}
    T = {}
    order = []

    def add(scope, name, width, fmt="hex"):
        t = Trace(scope, name, width, fmt=fmt)
        T[name] = t
        order.append(t)

    # satp: the CSR (if sampled) and the walk's satp from the event port
    if "csr_satp" in have:
        add("satp", "csr_satp", 64)
        add("satp", "csr_mode", 4, "dec")
        add("satp", "csr_asid", 16)
        add("satp", "csr_root", 56)
    add("satp", "ev_satp", 64)
    add("satp", "mode", 4, "dec")
    add("satp", "asid", 16)
    add("satp", "root", 56)
    # the request an event describes
    for name, width, fmt in (("ev_valid", 1, "bin"), ("ev_kind", 3, "dec"),
                             ("kind", STRING, None), ("ev_port", 1, "bin"),
                             ("port", STRING, None), ("ev_access", 2, "dec"),
                             ("access", STRING, None), ("ev_vaddr", 64, "hex"),
                             ("vpn2", 9, "hex"), ("vpn1", 9, "hex"), ("vpn0", 9, "hex"),
                             ("offset", 12, "hex")):
        add("request", name, width, fmt)
    if "priv" in have:
        add("request", "priv", 2, "dec")
    # the PTE an event carries, and its fields
    add("pte", "ev_level", 2, "dec")
    add("pte", "ev_pte_addr", 56)
    add("pte", "ev_pte", 64)
    add("pte", "ppn", 44)
    add("pte", "pte_flags", STRING)
    for letter, _ in FLAG_BITS:
        add("flags", f"pte_{letter.lower()}", 1, "bin")
    # each level's PTE of the current walk (held)
    for lvl in (2, 1, 0):
        add("levels", f"l{lvl}_pte_addr", 56)
        add("levels", f"l{lvl}_pte", 64)
        add("levels", f"l{lvl}_flags", STRING)
    # results
    for name, width, fmt in (("pte_s_walk", 1, "bin"), ("walk_done", 1, "bin"),
                             ("walk_fault", 1, "bin"), ("ad_write", 1, "bin"),
                             ("ev_paddr", 56, "hex"), ("ev_cause", 4, "dec"),
                             ("pa", 56, "hex"), ("fault_cause", 4, "dec")):
        add("result", name, width, fmt)
    for name in ("ifetch_res_paddr", "ifetch_res_pf", "ifetch_res_af",
                 "data_res_paddr", "data_res_pf", "data_res_af"):
        if name in have:
            add("result", name, have[name], "hex" if have[name] > 1 else "bin")
    # TLBs
    for name in ("tlb_hit", "tlb_miss", "tlb_flush", "itlb_refill", "dtlb_refill"):
        add("tlb", name, 1, "bin")
    for name in ("itlb_port_state", "dtlb_port_state"):
        if name in have:
            add("tlb", name, have[name], "dec")
            if name in states:
                add("tlb", name + "_name", STRING)
    # the walker's registers
    for name in ("walker_state", "walker_level", "walker_pte_addr", "walker_pte"):
        if name in have:
            add("walker", name, have[name], "dec" if have[name] <= 4 else "hex")
            if name in states:
                add("walker", name + "_name", STRING)

    def put(name, value):
        if name in T:
            T[name].values.append(value)

    for w in windows:
        held = {k: None for k in ("ev_satp", "pa", "fault_cause")}
        levels = {lvl: (None, None) for lvl in (0, 1, 2)}
        for r in w.rows:
            valid, kind, pte = r["ev_valid"], r["ev_kind"], r["ev_pte"]
            ev = KINDS[kind] if valid else None
            if "csr_satp" in have:
                s = r["csr_satp"]
                put("csr_satp", s)
                put("csr_mode", s >> 60)
                put("csr_asid", (s >> 44) & 0xFFFF)
                put("csr_root", (s & _PPN_MASK) << 12)
            if valid and ev != "TLB_FLUSH":
                held["ev_satp"] = r["ev_satp"]
            s = held["ev_satp"]
            put("ev_satp", r["ev_satp"])
            put("mode", None if s is None else s >> 60)
            put("asid", None if s is None else (s >> 44) & 0xFFFF)
            put("root", None if s is None else (s & _PPN_MASK) << 12)
            va = r["ev_vaddr"]
            for name in ("ev_valid", "ev_kind", "ev_port", "ev_access", "ev_vaddr", "ev_level",
                         "ev_pte_addr", "ev_pte", "ev_paddr", "ev_cause"):
                put(name, r[name])
            put("kind", ev or "")
            put("port", ("ifetch", "data")[r["ev_port"]] if valid else "")
            put("access", ACCESSES.get(r["ev_access"], "?") if valid else "")
            put("vpn2", (va >> 30) & 0x1FF)
            put("vpn1", (va >> 21) & 0x1FF)
            put("vpn0", (va >> 12) & 0x1FF)
            put("offset", va & 0xFFF)
            if "priv" in have:
                put("priv", r["priv"])
            put("ppn", (pte >> PTE_PPN_SHIFT) & _PPN_MASK)
            carries_pte = ev in ("PTE_READ", "AD_WRITE", "WALK_DONE", "WALK_FAULT")
            put("pte_flags", flags_text(pte) if carries_pte else "")
            for letter, bit in FLAG_BITS:
                put(f"pte_{letter.lower()}", int(bool(pte & bit)))
            # walk bookkeeping
            if ev == "WALK_START":
                levels = {lvl: (None, None) for lvl in (0, 1, 2)}
                held["pa"] = held["fault_cause"] = None
            elif ev in ("PTE_READ", "AD_WRITE"):
                levels[r["ev_level"]] = (r["ev_pte_addr"], pte)
            elif ev == "WALK_DONE":
                held["pa"] = r["ev_paddr"]
            elif ev == "WALK_FAULT":
                held["fault_cause"] = r["ev_cause"]
            for lvl in (2, 1, 0):
                addr, value = levels[lvl]
                put(f"l{lvl}_pte_addr", addr)
                put(f"l{lvl}_pte", value)
                put(f"l{lvl}_flags", "" if value is None else flags_text(value))
            put("pte_s_walk", int(trigger_row(valid, kind, pte)))
            put("walk_done", int(ev == "WALK_DONE"))
            put("walk_fault", int(ev == "WALK_FAULT"))
            put("ad_write", int(ev == "AD_WRITE"))
            put("pa", held["pa"])
            put("fault_cause", held["fault_cause"])
            for name in ("ifetch_res_paddr", "ifetch_res_pf", "ifetch_res_af",
                         "data_res_paddr", "data_res_pf", "data_res_af"):
                if name in have:
                    put(name, r[name])
            put("tlb_hit", int(ev == "TLB_HIT"))
            put("tlb_miss", int(ev == "TLB_MISS"))
            put("tlb_flush", int(ev == "TLB_FLUSH"))
            # The TLB is refilled at the edge that also registers the WALK_DONE event,
            # so the new entry is visible in the event's cycle.
            put("itlb_refill", int(ev == "WALK_DONE" and r["ev_port"] == 0))
            put("dtlb_refill", int(ev == "WALK_DONE" and r["ev_port"] == 1))
            for name in ("itlb_port_state", "dtlb_port_state", "walker_state",
                         "walker_level", "walker_pte_addr", "walker_pte"):
                if name in have:
                    put(name, r[name])
                    if name in states:
                        put(name + "_name", states[name].get(r[name], str(r[name])))
    return order
