"""Where router2 is congested: a summary of nextpnr's ``--router2-heatmap PREFIX`` files.

    python -m soc.heatmap DIR/PREFIX [--top N] [--iters 1,5,10]

With ``--router2-heatmap PREFIX`` nextpnr-ecp5 0.11 writes ``PREFIX_<iteration>.csv``
after each iteration of router2: for every wire type (the ECP5's names: ``H02`` and
``V02`` span two tiles, ``H06``/``V06`` six, ``HL7`` ... the long lines, ``A``/``B``/``C``/
``D``/``M`` the slice inputs, ``LSR``/``CE``/``CLK`` its controls, ``J...`` the switch
box's local wires), how many wires of that type carry 0, 1, 2, ... nets.  A wire with
two or more nets is overused; router2 converges when none is left.  This prints, per
iteration, the overused wires and the overuse (nets beyond the first) in all and by
wire type, the worst types first, and a table of the worst types across iterations,
so that one sees which kind of wire stays oversubscribed as the iterations go on.
"""

import argparse
import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TypeUse", "read_heatmap", "heatmap_files", "summarise", "main"]


@dataclass(frozen=True)
class TypeUse:
    """One wire type in one iteration: ``counts[k]`` wires carry ``k`` nets."""
    type: str
    counts: tuple

    @property
    def wires(self):
        return sum(self.counts)

    @property
    def used(self):
        return sum(self.counts[1:])

    @property
    def overused(self):
        """Wires with two or more nets."""
        return sum(self.counts[2:])

    @property
    def overuse(self):
        """Nets beyond the first, summed over the wires (router2's "overuse")."""
        return sum((k - 1) * n for k, n in enumerate(self.counts) if k >= 2)


def read_heatmap(text):
    """The rows of one heatmap CSV (``type,bound=0,bound=1,...``), as TypeUse by type."""
    rows = list(csv.reader(text.splitlines()))
    if not rows or not rows[0] or rows[0][0] != "type":
        raise ValueError("not a router2 wire-type heatmap (no 'type,bound=0,...' header)")
    header = [h for h in rows[0][1:] if h]
    for k, h in enumerate(header):
        if h != f"bound={k}":
            raise ValueError(f"unexpected heatmap column {h!r}")
    out = {}
    for row in rows[1:]:
        if not row or not row[0]:
            continue
        counts = [int(v) for v in row[1:] if v != ""]
        counts += [0] * (len(header) - len(counts))   # rows stop at their own maximum
        out[row[0]] = TypeUse(row[0], tuple(counts))
    return out


def heatmap_files(prefix):
    """``{iteration: path}`` of the files nextpnr wrote for ``prefix`` (a path)."""
    prefix = Path(prefix)
    pattern = re.compile(re.escape(prefix.name) + r"_(\d+)\.csv$")
    found = {}
    for path in prefix.parent.glob(prefix.name + "_*.csv"):
        m = pattern.match(path.name)
        if m:
            found[int(m.group(1))] = path
    return dict(sorted(found.items()))


def summarise(iterations, *, top=8, show=None):
    """Lines of text: ``iterations`` maps an iteration to read_heatmap's dict.  ``show``:
    the iterations to detail (default: the first, the one with the fewest overused
    wires and the last)."""
    if not iterations:
        return ["no heatmap files"]
    totals = {i: (sum(t.overused for t in types.values()), sum(t.overuse for t in types.values()))
              for i, types in iterations.items()}
    lines = ["iteration  overused wires  overuse"]
    lines += [f"{i:9d}  {w:14,d}  {o:7,d}" for i, (w, o) in totals.items()]
    first, last = min(iterations), max(iterations)
    best = min(totals, key=lambda i: (totals[i][0], i))
    show = sorted(set(show if show is not None else (first, best, last)) & set(iterations))
    # The worst types: those overused in any iteration shown, by their overused wires
    # at the last iteration shown, then at the first.
    def overused(i, name):
        t = iterations[i].get(name)
        return t.overused if t else 0
    names = {n for i in show for n, t in iterations[i].items() if t.overused}
    worst = sorted(names, key=lambda n: (-overused(show[-1], n), -overused(show[0], n), n))[:top]
    if not worst:
        return lines + ["no overused wires"]
    lines.append("")
    lines.append("overused wires by type (share of that type's used wires)")
    lines.append("type      " + "".join(f"{'iter ' + str(i):>18}" for i in show))
    for name in worst:
        cells = []
        for i in show:
            t = iterations[i].get(name)
            if t is None or not t.used:
                cells.append(f"{'-':>18}")
            else:
                cells.append(f"{t.overused:>9,d} ({100 * t.overused / t.used:4.1f}%)")
        lines.append(f"{name:10s}" + "".join(cells))
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m soc.heatmap", description=__doc__.split("\n\n")[0])
    p.add_argument("prefix", help="the --router2-heatmap prefix, with its directory")
    p.add_argument("--top", type=int, default=8, help="how many wire types to list")
    p.add_argument("--iters", default=None,
                   help="comma-separated iterations to detail (default first, best, last)")
    args = p.parse_args(argv)
    files = heatmap_files(args.prefix)
    if not files:
        print(f"error: no {args.prefix}_N.csv files", file=sys.stderr)
        return 1
    iterations = {i: read_heatmap(path.read_text()) for i, path in files.items()}
    show = [int(i) for i in args.iters.split(",")] if args.iters else None
    print("\n".join(summarise(iterations, top=args.top, show=show)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
