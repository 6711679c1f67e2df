"""Where router2 is congested: a summary of nextpnr's ``--router2-heatmap PREFIX`` files.

    python -m soc.heatmap DIR/PREFIX [--top N] [--iters 1,5,10] [--block B]

With ``--router2-heatmap PREFIX`` nextpnr-ecp5 0.11 writes after each iteration N of
router2 (in its working directory):

- ``PREFIX_congestion_by_wiretype_N.csv``: for every wire type (``WIRE_TYPE_H02`` and
  ``_V02`` span two tiles, ``_H06``/``_V06`` six, ``_H00``/``_V00``/``_H01``/``_V01`` the
  short ones, ``_NONE`` the switch boxes' local wires and the slices' input pins),
  how many wires of that type carry 0, 1, 2, ... nets (``type,bound=0,bound=1,...``);
- ``PREFIX_congestion_by_coordinate_N.csv``: per tile, the nets on its overused
  wires summed, a line per grid column (x, 0 at the left), a value per grid row (y,
  0 at the top) in it;
- ``PREFIX_congestion_by_net_N.csv``: ``net,overused wires`` for each net with any;
- ``PREFIX_utilisation_by_wiretype_N.csv``: the wires of each type in use.

A wire with two or more nets is overused; router2 converges when none is left.  This
prints, per iteration, the overused wires and the overuse (nets beyond the first);
for the iterations it details (first, best, last), the worst wire types, the
hottest blocks of ``B`` x ``B`` tiles and the nets with the most overused wires.
"""

import argparse
import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TypeUse", "read_heatmap", "read_grid", "read_nets", "hot_blocks", "heatmap_files",
           "summarise", "main"]


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


WIRETYPE = "_congestion_by_wiretype_"
COORDINATE = "_congestion_by_coordinate_"
NET = "_congestion_by_net_"


def heatmap_files(prefix, kind=WIRETYPE):
    """``{iteration: path}`` of the files of one kind (WIRETYPE, COORDINATE, NET) that
    nextpnr wrote for ``prefix`` (a path), in iteration order."""
    prefix = Path(prefix)
    pattern = re.compile(re.escape(prefix.name + kind) + r"(\d+)\.csv$")
    found = {}
    for path in prefix.parent.glob(prefix.name + kind + "*.csv"):
        m = pattern.match(path.name)
        if m:
            found[int(m.group(1))] = path
    return dict(sorted(found.items()))


def read_grid(text):
    """The congestion by coordinate: ``{(x, y): nets on overused wires}`` of the tiles
    with any (nextpnr writes a line per x)."""
    grid = {}
    for x, line in enumerate(csv.reader(text.splitlines())):
        for y, v in enumerate(line):
            if v not in ("", "0"):
                grid[(x, y)] = int(v)
    return grid


def read_nets(text):
    """The overused wires by net: ``{net: wires}``."""
    return {row[0]: int(row[1]) for row in csv.reader(text.splitlines()) if len(row) >= 2}


def hot_blocks(grid, block, top):
    """The ``top`` blocks of ``block`` x ``block`` tiles with the most overuse, as
    ``[((x0, y0), overuse)]``, and the overuse in all."""
    blocks = {}
    for (x, y), v in grid.items():
        key = (x // block * block, y // block * block)
        blocks[key] = blocks.get(key, 0) + v
    ranked = sorted(blocks.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return ranked, sum(grid.values())


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


def place_lines(grids, nets, iteration, *, block=16, top=8):
    """Lines for one iteration: the hottest tile blocks and the worst nets."""
    lines = []
    if iteration in grids:
        ranked, total = hot_blocks(grids[iteration], block, top)
        xs = [x for x, _ in grids[iteration]] or [0]
        ys = [y for _, y in grids[iteration]] or [0]
        lines.append(f"iteration {iteration}: congestion by tile in x {min(xs)}-{max(xs)}, "
                     f"y {min(ys)}-{max(ys)}; the hottest {block}x{block}-tile blocks:")
        lines += [f"  x {x:3d}-{x + block - 1:3d}  y {y:3d}-{y + block - 1:3d}  {v:7,d}"
                  f" ({100 * v / total:4.1f}%)" for (x, y), v in ranked]
    if iteration in nets:
        worst = sorted(nets[iteration].items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        lines.append(f"iteration {iteration}: {len(nets[iteration]):,d} nets with overused "
                     "wires; the most:")
        lines += [f"  {w:6,d}  {name}" for name, w in worst]
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m soc.heatmap", description=__doc__.split("\n\n")[0])
    p.add_argument("prefix", help="the --router2-heatmap prefix, with its directory")
    p.add_argument("--top", type=int, default=8, help="how many wire types, blocks and nets")
    p.add_argument("--iters", default=None,
                   help="comma-separated iterations to detail (default first, best, last)")
    p.add_argument("--block", type=int, default=16, help="tiles per side of a block")
    args = p.parse_args(argv)
    files = heatmap_files(args.prefix)
    if not files:
        print(f"error: no {args.prefix}{WIRETYPE}N.csv files", file=sys.stderr)
        return 1
    iterations = {i: read_heatmap(path.read_text()) for i, path in files.items()}
    show = [int(i) for i in args.iters.split(",")] if args.iters else None
    lines = summarise(iterations, top=args.top, show=show)
    if show is None:
        totals = {i: sum(t.overused for t in types.values()) for i, types in iterations.items()}
        show = sorted({min(iterations), min(totals, key=lambda i: (totals[i], i)), max(iterations)})
    grids = {i: read_grid(path.read_text())
             for i, path in heatmap_files(args.prefix, COORDINATE).items() if i in show}
    nets = {i: read_nets(path.read_text())
            for i, path in heatmap_files(args.prefix, NET).items() if i in show}
    for i in show:
        more = place_lines(grids, nets, i, block=args.block, top=args.top)
        if more:
            lines += [""] + more
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
