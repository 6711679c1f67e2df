"""An SVG timing diagram of one page-table walk, in the style of WaveDrom, drawn here.

Lanes: the clock (with cycle numbers), the MMU event on each cycle, the walker's
state and level, the PTE address and PTE value of each event (flags spelled out, e.g.
"V R W U A D S"), and the result (physical address or fault cause).  Below the lanes
a table lists the walk's steps.  Open the file in any browser.
"""

from xml.sax.saxutils import escape

from .traces import KINDS, ACCESSES, flags_text

__all__ = ["write_svg", "pick_walk"]

CELL = 92               # pixels per cycle
LANE = 38               # lane height
LEFT = 130              # label column
TOP = 70
PRE = "xml:space='preserve' style='white-space:pre'"
FONT = "font-family='DejaVu Sans Mono, Menlo, Consolas, monospace'"
COLORS = {"WALK_START": "#dbeafe", "PTE_READ": "#dcfce7", "AD_WRITE": "#fef9c3",
          "WALK_DONE": "#bbf7d0", "WALK_FAULT": "#fecaca", "TLB_HIT": "#e0e7ff",
          "TLB_MISS": "#fde68a", "TLB_FLUSH": "#e5e7eb"}


def pick_walk(walks):
    """The walk to draw: the first complete PTE_S walk with an A/D write, else the
    first complete PTE_S walk, else None."""
    shared = [w for w in walks if w.shared and w.start is not None]
    with_ad = [w for w in shared if w.ad_write]
    return (with_ad or shared or [None])[0]


def _box(out, x0, x1, y, text, fill, sub=None):
    """A bus-style value box from x0 to x1 with slanted ends."""
    h = LANE - 10
    s = 5
    pts = f"{x0},{y + h / 2} {x0 + s},{y} {x1 - s},{y} {x1},{y + h / 2} {x1 - s},{y + h} {x0 + s},{y + h}"
    out.append(f"<polygon points='{pts}' fill='{fill}' stroke='#334155' stroke-width='1'/>")
    cx = (x0 + x1) / 2
    if sub is None:
        out.append(f"<text x='{cx}' y='{y + h / 2 + 4}' text-anchor='middle' font-size='11' "
                   f"{FONT}>{escape(text)}</text>")
    else:
        out.append(f"<text x='{cx}' y='{y + 12}' text-anchor='middle' font-size='10.5' "
                   f"{FONT}>{escape(text)}</text>")
        out.append(f"<text x='{cx}' y='{y + 24}' text-anchor='middle' font-size='9.5' "
                   f"fill='#7c2d12' {FONT}>{escape(sub)}</text>")


def _idle(out, x0, x1, y):
    mid = y + (LANE - 10) / 2
    out.append(f"<line x1='{x0}' y1='{mid}' x2='{x1}' y2='{mid}' stroke='#94a3b8'/>")


def _segments(values):
    """Runs of equal values: [(first index, last index, value)]."""
    runs = []
    for i, v in enumerate(values):
        if runs and runs[-1][2] == v:
            runs[-1][1] = i
        else:
            runs.append([i, i, v])
    return runs


def write_svg(path, walk, window, states=None, owner=None):
    """Draw ``walk`` (from walks.find_walks) using the rows of its ``window``;
    ``owner`` = (pid, name) of the process, if known."""
    states = states or {}
    first = max(window.start, walk.start - 2)
    last = min(window.end, walk.end + 2)
    rows = window.rows[first - window.start:last - window.start + 1]
    n = len(rows)
    lanes = ["clk", "event", "walker", "level", "pte_addr", "pte", "result"]
    width = LEFT + n * CELL + 20
    table_top = TOP + len(lanes) * LANE + 30
    steps = [(c, f"L{lvl} read", a, p) for c, lvl, a, p in walk.reads]
    if walk.ad_write:
        c, lvl, a, p = walk.ad_write
        steps.append((c, f"L{lvl} A/D write", a, p))
    height = table_top + 24 + 18 * (len(steps) + 2) + 10
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
           f"viewBox='0 0 {width} {height}'>",
           f"<rect width='{width}' height='{height}' fill='white'/>"]
    access = ACCESSES.get(walk.access, "?")
    result = (f"pa {walk.paddr:#x}" if walk.ok else f"page fault, cause {walk.cause}"
              if walk.cause in (12, 13, 15) else f"access fault, cause {walk.cause}")
    title = (f"Sv39 walk over a PTE_S page: va {walk.vaddr:#x} ({('ifetch', 'data')[walk.port]} "
             f"{access}), satp root {walk.root:#x} ASID {walk.asid}"
             f"{f' (pid {owner[0]} {owner[1]})' if owner else ''}, cycles {walk.start}..{walk.end}: "
             f"{result}")
    out.append(f"<text x='10' y='22' font-size='14' font-weight='bold' {FONT}>{escape(title)}</text>")
    out.append(f"<text x='10' y='42' font-size='11' fill='#475569' {FONT}>one column per clock "
               f"cycle; values are those sampled at the rising edge in the middle of the column"
               f"</text>")
    for k, name in enumerate(lanes):
        y = TOP + k * LANE
        out.append(f"<text x='10' y='{y + 18}' font-size='12' {FONT}>{name}</text>")
    # clock and cycle numbers
    y = TOP
    pts = []
    for i in range(n):
        x = LEFT + i * CELL
        pts += [f"{x},{y + 26}", f"{x + CELL / 2},{y + 26}", f"{x + CELL / 2},{y + 4}",
                f"{x + CELL},{y + 4}", f"{x + CELL},{y + 26}"]
        out.append(f"<text x='{x + CELL / 2}' y='{TOP - 6}' text-anchor='middle' font-size='10' "
                   f"fill='#475569' {FONT}>{first + i}</text>")
        out.append(f"<line x1='{x + CELL / 2}' y1='{TOP}' x2='{x + CELL / 2}' "
                   f"y2='{TOP + len(lanes) * LANE}' stroke='#e2e8f0' stroke-dasharray='3,3'/>")
    out.append(f"<polyline points='{' '.join(pts)}' fill='none' stroke='#0f172a' stroke-width='1.5'/>")
    # per-cycle event lanes
    for i, r in enumerate(rows):
        x0, x1 = LEFT + i * CELL + 1, LEFT + (i + 1) * CELL - 1
        kind = KINDS[r["ev_kind"]] if r["ev_valid"] else None
        lane = dict((name, TOP + k * LANE + 5) for k, name in enumerate(lanes))
        if kind is None:
            for name in ("event", "pte_addr", "pte", "result"):
                _idle(out, x0, x1, lane[name])
            continue
        fill = COLORS.get(kind, "#f1f5f9")
        _box(out, x0, x1, lane["event"], kind, fill)
        if kind in ("PTE_READ", "AD_WRITE", "WALK_DONE", "WALK_FAULT"):
            _box(out, x0, x1, lane["pte_addr"], f"{r['ev_pte_addr']:#x}", fill)
            _box(out, x0, x1, lane["pte"], f"{r['ev_pte']:#x}", fill, flags_text(r["ev_pte"]))
        else:
            _idle(out, x0, x1, lane["pte_addr"])
            _idle(out, x0, x1, lane["pte"])
        if kind == "WALK_DONE":
            _box(out, x0, x1, lane["result"], f"pa {r['ev_paddr']:#x}", "#bbf7d0")
        elif kind == "WALK_FAULT":
            _box(out, x0, x1, lane["result"], f"fault {r['ev_cause']}", "#fecaca")
        elif kind == "TLB_HIT":
            _box(out, x0, x1, lane["result"], f"pa {r['ev_paddr']:#x}", "#e0e7ff")
        else:
            _idle(out, x0, x1, lane["result"])
    # walker state and level: runs of equal values
    for name, col, fmt in (("walker", "walker_state", None), ("level", "walker_level", "L{}")):
        y = TOP + lanes.index(name) * LANE + 5
        if col not in rows[0]:
            continue
        for a, b, v in _segments([r[col] for r in rows]):
            text = states.get(col, {}).get(v, str(v)) if fmt is None else fmt.format(v)
            _box(out, LEFT + a * CELL + 1, LEFT + (b + 1) * CELL - 1, y, text, "#f8fafc")
    # the table of steps
    y = table_top
    out.append(f"<text x='10' y='{y}' font-size='12' font-weight='bold' {FONT}>steps</text>")
    for k, (c, what, addr, pte) in enumerate(steps):
        out.append(f"<text x='10' y='{y + 18 * (k + 1)}' font-size='11' {PRE} {FONT}>"
                   f"{escape(f'cycle {c:>8}  {what:<14} pte@{addr:#x} = {pte:#018x}  [{flags_text(pte)}]')}"
                   f"</text>")
    out.append(f"<text x='10' y='{y + 18 * (len(steps) + 1)}' font-size='11' {PRE} {FONT}>"
               f"{escape(f'cycle {walk.end:>8}  result         {result}')}</text>")
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
