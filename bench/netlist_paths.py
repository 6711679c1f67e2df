"""The longest paths of a synthesised ECP5 netlist, in seconds instead of an hour.

    .venv/bin/python bench/netlist_paths.py top.json [--top N] [--detail K] [--filter TEXT]

Reads the JSON netlist that Yosys ``synth_ecp5 -json`` writes (``bench/soc_timing.py
--synth-only --keep DIR`` makes DIR/top.json in about 10 minutes; ``make bitstream``
leaves build/fpga/<board>/top.json) and runs a
static timing analysis over it with a simple delay model of the ECP5-85F speed 6:
every net a cell drives costs a routing delay that grows with its fanout, every
cell its logic delay (LUT4 0.4 ns, carry chains 0.1 ns per CCU2C along the
chain, block RAM 4.3 ns from the clock, an unregistered multiplier 4 ns, ...).
Flip-flops, block RAM ports and the top's ports start and end paths.  Prints the
estimated arrival time and logic depth of the worst ``--top`` endpoints (one per
register or memory, by name) and the cells of the worst ``--detail`` paths.

This is not nextpnr: placement and routing decide the real delays.  It is a quick
way to see *which* paths are long and whether a change shortened them (each
figure is comparable with the others of the same model); docs/measurements.md ("A
quicker loop") gives how its worst path compared with nextpnr's result.
"""

import argparse
import json
import math
import re
import sys
from collections import defaultdict

# logic delays, ns (rough figures of the ECP5 speed 6 timing database)
LUT = 0.40
MUX = 0.25              # PFUMX / L6MUX21 after their LUTs (dedicated wiring)
CARRY_IN = 0.45         # A/B/C/D -> COUT of a CCU2C
CARRY_STEP = 0.10       # CIN -> COUT of each further CCU2C
CARRY_SUM = 0.35        # CIN -> S0/S1
CLK_Q = 0.45            # flip-flop
BRAM_CLK_Q = 4.30       # DP16KD without output register
LUTRAM = 0.60           # DPR16X4 read address -> data
MULT = 4.00             # MULT18X18D, inputs to outputs, no registers
# routing, ns: a net with fanout f
def route(fanout):
    return 0.75 + 0.35 * math.log2(max(fanout, 1))


SEQ_IN_CELLS = {"TRELLIS_FF", "DP16KD"}


def load(path):
    with open(path) as f:
        js = json.load(f)
    tops = [n for n, mod in js["modules"].items()
            if mod.get("attributes", {}).get("top")]
    return js["modules"][tops[0] if tops else "top"]


def analyse(mod):
    cells = mod["cells"]
    names = {}
    for name, net in mod["netnames"].items():
        for b in net["bits"]:
            if isinstance(b, int):
                old = names.get(b)
                if old is None or (old.startswith("$") and not name.startswith("$")) or \
                        (old.startswith("$") == name.startswith("$") and len(name) < len(old)):
                    names[b] = name
    driver = {}                                    # bit -> (cell, port)
    sinks = defaultdict(list)                      # bit -> [(cell, port)]
    for cname, c in cells.items():
        for port, bits in c["connections"].items():
            d = c["port_directions"].get(port, "input")
            for b in bits:
                if not isinstance(b, int):
                    continue
                if d == "output":
                    driver[b] = (cname, port)
                else:
                    sinks[b].append((cname, port))
    for pname, p in mod["ports"].items():
        if p["direction"] == "input":
            for b in p["bits"]:
                if isinstance(b, int):
                    driver[b] = ("<port>", pname)

    def fanout(b):
        return len(sinks.get(b, ()))

    arrival = {}            # bit -> (time, depth, previous bit or None, through cell)
    # Combinational arcs of a cell: which output depends on which inputs, and delay.
    def arcs(ctype, port):
        """(inputs, delay, dedicated) for output ``port`` of a cell of ``ctype``,
        or None when the output starts a path (sequential)."""
        if ctype == "LUT4":
            return ["A", "B", "C", "D"], LUT
        if ctype in ("PFUMX",):
            return ["ALUT", "BLUT", "C0"], MUX
        if ctype == "L6MUX21":
            return ["D0", "D1", "SD"], MUX
        if ctype == "CCU2C":
            if port == "COUT":
                return ["A0", "B0", "C0", "D0", "A1", "B1", "C1", "D1", "CIN"], CARRY_IN
            return ["A0", "B0", "C0", "D0", "A1", "B1", "C1", "D1", "CIN"], CARRY_SUM
        if ctype == "TRELLIS_DPR16X4":
            return ["RAD"], LUTRAM
        if ctype == "MULT18X18D":
            return ["A", "B", "SIGNEDA", "SIGNEDB"], MULT
        if ctype == "ALU54B":
            return ["A", "B", "C", "CIN", "MA", "MB", "SIGNEDIA", "SIGNEDIB"], MULT
        return None

    def start_time(cname, port):
        if cname == "<port>":
            return 0.0
        ctype = cells[cname]["type"]
        if ctype == "TRELLIS_FF":
            return CLK_Q
        if ctype == "DP16KD":
            return BRAM_CLK_Q
        return 0.5     # anything else unknown: treat as a start point

    def input_bits(c, ports):
        for p in ports:
            for prefix_port, bits in c["connections"].items():
                if prefix_port == p or (re.fullmatch(p + r"\d+", prefix_port)):
                    for b in bits:
                        if isinstance(b, int):
                            yield prefix_port, b

    visiting = set()         # bits whose inputs are being evaluated (loop detection)

    def solve(bit):
        """Arrival time of ``bit`` (iterative depth-first: netlists are deep)."""
        stack = [bit]
        while stack:
            b = stack[-1]
            if b in arrival:
                stack.pop()
                continue
            drv = driver.get(b)
            if drv is None:
                arrival[b] = (0.0, 0, None, None)
                stack.pop()
                continue
            cname, port = drv
            if cname == "<port>":
                arrival[b] = (route(fanout(b)), 0, None, None)
                stack.pop()
                continue
            c = cells[cname]
            a = arcs(c["type"], port)
            if a is None:
                arrival[b] = (start_time(cname, port) + route(fanout(b)), 0, None, cname)
                stack.pop()
                continue
            ins, delay = a
            pending = [ib for _, ib in input_bits(c, ins) if ib not in arrival]
            if pending and b not in visiting:
                visiting.add(b)
                for ib in pending:
                    if ib in visiting:          # a combinational loop: cut it here
                        arrival[ib] = (0.0, 0, None, None)
                    else:
                        stack.append(ib)
                continue
            best = (0.0, 0, None)
            for ip, ib in input_bits(c, ins):
                t, dpt, _, _ = arrival.get(ib, (0.0, 0, None, None))
                if ip == "CIN" and c["type"] == "CCU2C":
                    t_here = t + (CARRY_STEP if port == "COUT" else CARRY_SUM) - delay
                else:
                    t_here = t
                if t_here > best[0]:
                    best = (t_here, dpt, ib)
            # carry chain and MUX nets use dedicated wiring: no routing delay
            dedicated = all(s[1] in ("CIN", "ALUT", "BLUT", "D0", "D1")
                            for s in sinks.get(b, ())) and sinks.get(b)
            out_route = 0.0 if dedicated else route(fanout(b))
            arrival[b] = (best[0] + delay + out_route, best[1] + 1, best[2], cname)
            visiting.discard(b)
            stack.pop()

    endpoints = []          # (time, depth, bit, cell, port)
    for cname, c in cells.items():
        if c["type"] in SEQ_IN_CELLS or (c["type"] == "TRELLIS_DPR16X4"):
            for port, bits in c["connections"].items():
                if c["port_directions"].get(port) != "input":
                    continue
                if c["type"] == "TRELLIS_DPR16X4" and port.startswith("RAD"):
                    continue
                if port in ("CLK", "CLKA", "CLKB", "WCK"):
                    continue
                for b in bits:
                    if isinstance(b, int):
                        solve(b)
                        t, dpt, _, _ = arrival[b]
                        endpoints.append((t, dpt, b, cname, port))
    for pname, p in mod["ports"].items():
        if p["direction"] == "output":
            for b in p["bits"]:
                if isinstance(b, int):
                    solve(b)
                    t, dpt, _, _ = arrival[b]
                    endpoints.append((t, dpt, b, "<port>", pname))
    return endpoints, arrival, names, cells


def trace(bit, arrival, names):
    path = []
    while bit is not None:
        t, dpt, prev, cname = arrival[bit]
        path.append((t, dpt, names.get(bit, f"${bit}"), cname))
        bit = prev
    return path[::-1]


def endpoint_name(ep, cells, names):
    t, dpt, b, cname, port = ep
    if cname == "<port>":
        return f"port {port}"
    c = cells[cname]
    if c["type"] == "TRELLIS_FF":
        q = c["connections"].get("Q", [None])[0]
        return f"FF {names.get(q, cname)}.{port}"
    return f"{c['type']} {cname}.{port} ({names.get(b, '')})"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("netlist")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--detail", type=int, default=3)
    p.add_argument("--filter", default=None, help="only endpoints whose name has TEXT")
    args = p.parse_args(argv)
    mod = load(args.netlist)
    endpoints, arrival, names, cells = analyse(mod)
    endpoints.sort(key=lambda e: -e[0])
    seen = set()
    shown = []
    for ep in endpoints:
        name = endpoint_name(ep, cells, names)
        key = re.sub(r"\[\d+\]|\d+$", "", name)
        key = re.sub(r"\.(DI|D|CE|LSR|M)\d*$", "", key)
        if args.filter and args.filter not in name:
            continue
        if key in seen:
            continue
        seen.add(key)
        shown.append((ep, name))
        if len(shown) >= args.top:
            break
    cnt = defaultdict(int)
    for c in cells.values():
        cnt[c["type"]] += 1
    print(f"cells: LUT4 {cnt['LUT4']}, CCU2C {cnt['CCU2C']}, FF {cnt['TRELLIS_FF']}, "
          f"DP16KD {cnt['DP16KD']}, MULT18X18D {cnt['MULT18X18D']}")
    worst = endpoints[0][0]
    print(f"worst estimated path {worst:.1f} ns (model Fmax {1000 / worst:.1f} MHz); "
          f"endpoints over 40/30/20 ns: "
          f"{sum(e[0] > 40 for e in endpoints)}/{sum(e[0] > 30 for e in endpoints)}/"
          f"{sum(e[0] > 20 for e in endpoints)}")
    for ep, name in shown:
        print(f"{ep[0]:6.1f} ns {ep[1]:3d} cells  {name}")
    for ep, name in shown[:args.detail]:
        print(f"\npath to {name}:")
        last = None
        for t, dpt, net, cname in trace(ep[2], arrival, names):
            short = re.sub(r"^top\.|^design\.", "", net)
            short = re.sub(r"(_(LUT4|PFUMX|L6MUX21|CCU2C|TRELLIS_FF)_[A-Z0-9_]+)+$", "~", short)
            src = ""
            if cname and cname in cells:
                src = cells[cname].get("attributes", {}).get("src", "")
                src = ",".join(re.sub(r"^.*/", "", x) for x in src.split("|")
                               if x and "/share/" not in x)
            line = f"{short}  [{cells[cname]['type'] if cname in cells else ''} {src}]"
            if line != last:
                print(f"  {t:6.1f} {dpt:3d}  {line}")
            last = line
    return 0


if __name__ == "__main__":
    sys.exit(main())
