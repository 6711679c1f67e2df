"""bench/nextpnr_paths.py: the timing analysis over nextpnr's SDF, on a hand-written
SDF (exact values), and on a small design placed and routed by nextpnr in seconds
(the script's figures are nextpnr's own: its log after placement, its JSON report
after routing)."""

import json
import re
import subprocess

import pytest

from tests.scripts import load_script

np_paths = load_script("bench/nextpnr_paths.py")

# Two flip-flops a, b ("x$a[0]" escaped as SDF writes it) launch; a's path runs
# through two LUTs into q's DI, b also drives q's CE directly (fanout 2).
SDF = r"""(DELAYFILE
  (SDFVERSION "3.0")
  (TIMESCALE 1ps)
  (CELL
    (CELLTYPE "top")
    (INSTANCE )
    (DELAY
      (ABSOLUTE
        (INTERCONNECT ck/CLKO x\$a\[0\]/CLK (0:0:0) (0:0:0))
        (INTERCONNECT ck/CLKO b/CLK (0:0:0) (0:0:0))
        (INTERCONNECT ck/CLKO q/CLK (0:0:0) (0:0:0))
        (INTERCONNECT x\$a\[0\]/Q l1/A (900:950:1000) (900:950:1000))
        (INTERCONNECT b/Q l1/B (300:300:300) (300:300:300))
        (INTERCONNECT b/Q q/CE (700:700:700) (600:600:600))
        (INTERCONNECT l1/F l2/A (400:400:400) (400:400:400))
        (INTERCONNECT l2/F q/DI (200:200:200) (200:200:200))
      )
    )
  )
  (CELL
    (CELLTYPE "DCCA")
    (INSTANCE ck)
    )
  (CELL
    (CELLTYPE "TRELLIS_FF")
    (INSTANCE x\$a\[0\])
    (DELAY
      (ABSOLUTE
        (IOPATH CLK Q (430:477:525) (430:477:500))
      )
    )
    )
  (CELL
    (CELLTYPE "TRELLIS_FF")
    (INSTANCE b)
    (DELAY
      (ABSOLUTE
        (IOPATH CLK Q (430:477:525) (430:477:525))
      )
    )
    )
  (CELL
    (CELLTYPE "TRELLIS_COMB")
    (INSTANCE l1)
    (DELAY
      (ABSOLUTE
        (IOPATH A F (200:218:236) (200:218:236))
        (IOPATH B F (200:218:236) (200:218:236))
      )
    )
    )
  (CELL
    (CELLTYPE "TRELLIS_COMB")
    (INSTANCE l2)
    (DELAY
      (ABSOLUTE
        (IOPATH A F (100:118:136) (100:118:140))
      )
    )
    )
  (CELL
    (CELLTYPE "TRELLIS_FF")
    (INSTANCE q)
    (TIMINGCHECK
      (SETUPHOLD (posedge DI) (posedge CLK) (90:95:100) (0:0:0))
      (SETUPHOLD (negedge DI) (posedge CLK) (90:95:100) (0:0:0))
      (SETUPHOLD (posedge CE) (posedge CLK) (50:50:50) (0:0:0))
    )
    )
)
"""

NETLIST = {"modules": {"top": {
    "cells": {
        "x$a[0]": {"attributes": {"NEXTPNR_BEL": "X3/Y4/SLICEA.FF0"},
                   "port_directions": {"CLK": "input", "Q": "output"},
                   "connections": {"CLK": [2], "Q": [5]}},
        "l1": {"attributes": {"NEXTPNR_BEL": "X10/Y2/SLICEB.COMB0"},
               "port_directions": {"A": "input", "B": "input", "F": "output"},
               "connections": {"A": [5], "B": [6], "F": [7]}},
        "ck": {"attributes": {}, "port_directions": {"CLKO": "output"},
               "connections": {"CLKO": [2]}},
    },
    "netnames": {
        "clk": {"hide_name": 0, "bits": [2]},
        "a": {"hide_name": 0, "bits": [5, 9]},
        "$auto$long_hidden_name": {"hide_name": 1, "bits": [5]},
        "sum": {"hide_name": 0, "bits": [7]},
    }}}}


@pytest.fixture
def analysis(tmp_path):
    (tmp_path / "t.sdf").write_text(SDF)
    (tmp_path / "p.json").write_text(json.dumps(NETLIST))
    return np_paths.Analysis(np_paths.read_sdf(tmp_path / "t.sdf"),
                             np_paths.read_netlist(tmp_path / "p.json"))


def test_sdf_reading(tmp_path):
    (tmp_path / "t.sdf").write_text(SDF)
    sdf = np_paths.read_sdf(tmp_path / "t.sdf")
    assert sdf.celltype == {"": "top", "ck": "DCCA", "x$a[0]": "TRELLIS_FF", "b": "TRELLIS_FF",
                            "l1": "TRELLIS_COMB", "l2": "TRELLIS_COMB", "q": "TRELLIS_FF"}
    assert sdf.arcs[("x$a[0]", "CLK", "Q")] == 0.525
    assert sdf.arcs[("l2", "A", "F")] == 0.140           # the worse of rise and fall
    assert sdf.setup == {("q", "DI"): ("CLK", 0.1), ("q", "CE"): ("CLK", 0.05)}
    assert sdf.conns[3] == ("x$a[0]", "Q", "l1", "A", 1.0)
    assert sdf.conns[5] == ("b", "Q", "q", "CE", 0.7)


def test_worst_path_hop_by_hop(analysis):
    # x$a[0].Q 0.525 + 1.0 -> l1.A 1.525 + 0.236 -> l1.F 1.761 + 0.4 -> l2.A 2.161
    # + 0.14 -> l2.F 2.301 + 0.2 -> q.DI 2.501, + setup 0.1 = 2.601 ns
    eps = analysis.endpoints()
    assert [(round(d, 6), pin) for d, pin, _ in eps] == [
        (2.601, ("q", "DI")), (1.275, ("q", "CE"))]
    (mhz, ns), = analysis.fmax().values()
    assert list(analysis.fmax()) == ["clk"]
    assert round(ns, 6) == 2.601 and round(mhz, 3) == 384.468
    path = analysis.path(("q", "DI"), 0.1)
    hops = [(h.cell, h.celltype, h.frm, h.to, round(h.logic, 6), h.net, h.fanout,
             round(h.route, 6), h.dist) for h in path.hops]
    assert hops == [
        ("x$a[0]", "TRELLIS_FF", "CLK", "Q", 0.525, "a[0]", 1, 1.0, 9),
        ("l1", "TRELLIS_COMB", "A", "F", 0.236, "sum", 1, 0.4, -1),
        ("l2", "TRELLIS_COMB", "A", "F", 0.14, "l2.F", 1, 0.2, -1),
        ("q", "TRELLIS_FF", "DI", "", 0.0, "", 0, 0.0, -1)]
    assert round(path.logic, 6) == 1.001 and round(path.routing, 6) == 1.6
    assert round(path.delay, 6) == 2.601
    lines = np_paths.format_path(path)
    assert lines[0] == "  2.601 ns  q.DI  (logic 1.001 ns, routing 1.600 ns, 3 cells)"
    assert lines[2] == "     0.525  1.000   1.525      1    9  x$a[0] (TRELLIS_FF) CLK->Q / a[0]"
    assert lines[-1] == "     0.100  0.000   2.601              q (TRELLIS_FF) DI setup"


def test_recurring_nets(analysis):
    nets = np_paths.recurring_nets(analysis, analysis.endpoints())
    assert {k: (c, f, round(r, 6)) for k, (c, f, r) in nets.items()} == {
        "a[0]": (1, 1, 1.0), "sum": (1, 1, 0.4), "l2.F": (1, 1, 0.2), "b.Q": (1, 2, 0.7)}


def test_report_without_timing_is_a_message(tmp_path, capsys):
    (tmp_path / "r.json").write_text('{"utilization": {}, "fmax": {}, "critical_paths": []}')
    assert np_paths.main(["--report", str(tmp_path / "r.json")]) == 1
    assert "fills it after routing" in capsys.readouterr().out


def test_a_missing_file_is_a_message(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        np_paths.main(["--sdf", str(tmp_path / "top.sdf")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'top.sdf'}: no such file" in err and "--sdf" in err
    assert "Traceback" not in err


# -- with the tools: a design of a few cells, placed and routed in seconds ----------

VERILOG = """
module top(input clk, input [3:0] a, input [3:0] b, input en, output reg [3:0] q);
  reg [3:0] ra, rb; reg ren;
  always @(posedge clk) begin
    ra <= a; rb <= b; ren <= en;
    if (ren) q <= ra + rb;
  end
endmodule
"""


def _run(tmp_path, *cmd):
    from soc.fpga import tool
    subprocess.run([tool(cmd[0]), *cmd[1:]], cwd=tmp_path, check=True, capture_output=True)


def test_agrees_with_nextpnr(tmp_path):
    (tmp_path / "small.v").write_text(VERILOG)
    _run(tmp_path, "yosys", "-q", "-p", "read_verilog small.v; synth_ecp5 -top top -json small.json")
    common = ["--25k", "--package", "CABGA256", "--speed", "6", "--json", "small.json",
              "--freq", "100", "--seed", "1", "--router", "router2", "--timing-allow-fail"]
    _run(tmp_path, "nextpnr-ecp5", *common, "--no-route", "--sdf", "placed.sdf",
         "--log", "placed.log")
    _run(tmp_path, "nextpnr-ecp5", *common, "--sdf", "routed.sdf", "--report", "report.json",
         "--detailed-timing-report", "--log", "routed.log")
    # after placement: the log's Fmax (nextpnr prints no path then)
    logged = re.findall(r"Max frequency for clock '[^']*': ([\d.]+) MHz",
                        (tmp_path / "placed.log").read_text())
    placed = np_paths.Analysis(np_paths.read_sdf(tmp_path / "placed.sdf"))
    (mhz, _), = placed.fmax().values()
    assert f"{mhz:.2f}" == logged[-1]
    # after routing: the JSON report's Fmax and critical path, hop for hop
    fmax, paths = np_paths.read_report(tmp_path / "report.json")
    routed = np_paths.Analysis(np_paths.read_sdf(tmp_path / "routed.sdf"))
    (mhz, _), = routed.fmax().values()
    (want, _), = fmax.values()
    assert f"{mhz:.2f}" == f"{want:.2f}"
    _, _, crit = next(p for p in paths if not p[0].startswith("<async>") and "async" not in p[1])
    d, pin, setup = routed.endpoints()[0]
    ours = routed.path(pin, setup)
    assert [h.cell for h in ours.hops] == [h.cell for h in crit.hops]
    assert [round(h.logic, 3) for h in ours.hops] == [round(h.logic, 3) for h in crit.hops]
    assert [round(h.route, 3) for h in ours.hops] == [round(h.route, 3) for h in crit.hops]
    assert round(ours.delay, 3) == round(crit.delay, 3)


def test_families(analysis):
    assert np_paths.register_name("design.core.t_cause_TRELLIS_FF_Q_12") == "design.core.t_cause"
    assert np_paths.register_name("design.core.fetch.cache.tag0.1.0") == "design.core.fetch.cache.tag0"
    fams = np_paths.families(analysis, analysis.endpoints())
    assert [(round(d, 6), s, e, c, round(r, 6)) for d, s, e, c, r in fams] == [
        (2.601, "x$a[0]", "q", 3, 1.6), (1.275, "b", "q", 1, 0.7)]


def test_spread(analysis):
    eps = analysis.endpoints()          # 2.601 ns (q.DI) and 1.275 ns (q.CE)
    count, total = np_paths.spread(eps, 1.0)
    assert count == 2 and round(total, 6) == 1.876
    count, total = np_paths.spread(eps, 2.0)
    assert count == 1 and round(total, 6) == 0.601
    assert np_paths.spread(eps, 2.7) == (0, 0)


def test_spread_printed(tmp_path, capsys):
    (tmp_path / "t.sdf").write_text(SDF)
    assert np_paths.main(["--sdf", str(tmp_path / "t.sdf"), "--period", "2",
                          "--period", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "later than 2 ns (500.00 MHz): 1 endpoint inputs, 0.6 ns in all"
    assert out[2] == "later than 1 ns (1000.00 MHz): 2 endpoint inputs, 1.9 ns in all"
