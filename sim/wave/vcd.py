"""VCD writer (and a small reader for the tests) for captured windows.

Time: the SoC clock is 10 MHz, so a cycle is 100 ns.  Row ``n`` (cycle ``n`` from
reset) is shown from ``n*100`` ns to ``(n+1)*100`` ns; ``clk`` is 0 in its first
half and rises at ``n*100 + 50``: that rising edge is the one at which the row was
sampled.  ``cycle`` carries the absolute cycle number, ``window`` the window number
and ``in_window`` is 1 inside a window; between windows every other signal is x
(string variables show ``-``).  Text variables (event kinds, state names, PTE flags)
are GTKWave ``string`` variables.  The output depends only on the rows, so both
engines give byte-identical files for the same run.
"""

from .traces import STRING

__all__ = ["PERIOD_NS", "write_vcd", "read_vcd", "TOP"]

PERIOD_NS = 100
TOP = "mmu_walks"


# identifier characters: printable ASCII without '$' and '#' (keyword and time marks)
_ID_CHARS = [chr(c) for c in range(33, 127) if chr(c) not in "$#"]


def _ident(k):
    chars = []
    k += 1
    while k:
        k, r = divmod(k - 1, len(_ID_CHARS))
        chars.append(_ID_CHARS[r])
    return "".join(chars)


def _value(width, v):
    if width == STRING:
        text = "-" if v is None or v == "" else str(v).replace(" ", "")
        return f"s{text} "
    if v is None:
        return "x" if width == 1 else "bx "
    if width == 1:
        return str(v & 1)
    return f"b{v:b} "


def write_vcd(path, windows, traces):
    """Write the traces (from traces.build_traces over ``windows``) to ``path``."""
    base = [("clk", 1), ("cycle", 64), ("window", 16), ("in_window", 1)]
    ids = {}
    lines = ["$version rvxv6 sim.wave $end", "$timescale 1ns $end", f"$scope module {TOP} $end"]
    for k, (name, width) in enumerate(base):
        ids[name] = _ident(k)
        lines.append(f"$var wire {width} {ids[name]} {name} $end")
    scope = None
    for k, t in enumerate(traces, start=len(base)):
        if t.scope != scope:
            if scope is not None:
                lines.append("$upscope $end")
            lines.append(f"$scope module {t.scope} $end")
            scope = t.scope
        ident = _ident(k)
        ids[t.name] = ident
        if t.width == STRING:
            lines.append(f"$var string 1 {ident} {t.name} $end")
        else:
            lines.append(f"$var wire {t.width} {ident} {t.name} $end")
    if scope is not None:
        lines.append("$upscope $end")
    lines += ["$upscope $end", "$enddefinitions $end"]

    last = {}

    def change(name, width, v, out):
        text = _value(width, v)
        if last.get(name) != text:
            last[name] = text
            out.append(text + ids[name])

    def all_x(time, out):
        out.append(f"#{time}")
        change("in_window", 1, 0, out)
        change("clk", 1, 0, out)
        change("cycle", 64, None, out)
        change("window", 16, None, out)
        for t in traces:
            change(t.name, t.width, None, out)

    row_index = 0
    first = True
    for w in windows:
        for i in range(len(w.rows)):
            cycle = w.start + i
            t0 = cycle * PERIOD_NS
            out = [f"#{t0}"]
            if first:
                out.append("$dumpvars")
            change("clk", 1, 0, out)
            change("cycle", 64, cycle, out)
            change("window", 16, w.number, out)
            change("in_window", 1, 1, out)
            for t in traces:
                change(t.name, t.width, t.values[row_index], out)
            if first:
                out.append("$end")
                first = False
            out += [f"#{t0 + PERIOD_NS // 2}", "1" + ids["clk"]]
            last["clk"] = "1"
            lines += out
            row_index += 1
        all_x((w.end + 1) * PERIOD_NS, lines)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def read_vcd(path):
    """Parse a VCD: returns (variables, changes): variables maps 'scope.name' to
    (identifier, width or 'string'); changes maps identifier to [(time, value)]
    with values as ints, None for x, or strings."""
    variables, changes = {}, {}
    scopes = []
    time = 0
    with open(path) as f:
        tokens = f.read().split()
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "$scope":
            scopes.append(tokens[i + 2])
            i += 4
        elif tok == "$upscope":
            scopes.pop()
            i += 2
        elif tok == "$var":
            kind, width, ident, name = tokens[i + 1:i + 5]
            variables[".".join(scopes + [name])] = (ident, "string" if kind == "string" else int(width))
            changes.setdefault(ident, [])
            j = i + 5
            while tokens[j] != "$end":
                j += 1
            i = j + 1
        elif tok in ("$version", "$timescale", "$date", "$comment"):
            while tokens[i] != "$end":
                i += 1
            i += 1
        elif tok in ("$enddefinitions", "$dumpvars", "$end"):
            i += 2 if tok == "$enddefinitions" else 1
        elif tok.startswith("#"):
            time = int(tok[1:])
            i += 1
        elif tok[0] in "bB":
            bits = tok[1:]
            changes[tokens[i + 1]].append((time, None if "x" in bits else int(bits, 2)))
            i += 2
        elif tok[0] == "s":
            changes[tokens[i + 1]].append((time, tok[1:]))
            i += 2
        else:
            changes[tok[1:]].append((time, None if tok[0] == "x" else int(tok[0])))
            i += 1
    return variables, changes
