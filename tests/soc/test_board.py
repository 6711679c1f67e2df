# amaranth: UnusedElaboratable=no
"""Board tops (soc/board/): every supported board elaborates, converts to RTLIL and
gets its pins and clock constraints; the build's command line and report parsing."""

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from soc.board import BOARDS, MTIME_FREQ, board
from soc.board.build import clock_name, format_report, main as build_main, timing_driven
from soc.board.pll import pll_params
from soc.board.top import BoardTop
from soc.bootrom.build import rom_image
from soc.fpga import parse_nextpnr, yosys_cpu_seconds
from soc.routewatch import Terminated

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=sorted(BOARDS))
def plan(request):
    spec = board(request.param)
    os.environ.setdefault("OPENFPGALOADER", "true")     # programming tool: not needed here
    platform = spec.platform_class()(toolchain="Trellis")
    return spec, platform.build(BoardTop(spec), name="top", do_build=False).files


def test_top_converts_to_rtlil(plan):
    spec, files = plan
    il = files["top.il"]
    assert "module \\top" in il
    p = pll_params(spec.osc_freq, spec.clk_freq, spec.sdram_phase)
    assert "cell \\EHXPLLL" in il
    # The system clock's reset leaves the PLL's reset hold through a global buffer
    # (soc/board/pll.py: the global network takes it to the flip-flops).
    hold = il[il.index("module \\top.pll.reset\n"):]
    hold = hold[:hold.index("\nend\n")]
    # pinned to a site the fabric reaches (soc/board/__init__.py, reset_dcc)
    assert f'attribute \\BEL "{spec.reset_dcc}"\n  cell \\DCCA \\rst_buffer\n' in hold
    assert re.search(r"cell \\DCCA \\rst_buffer\n(    connect .*\n)*    connect \\CLKO \\rst\n", hold)
    assert "wire width 1 output 2  \\rst" in hold
    for name, value in (("CLKI_DIV", p.clki_div), ("CLKFB_DIV", p.clkfb_div),
                        ("CLKOP_DIV", p.clkop_div), ("CLKOS_CPHASE", p.clkos_cphase)):
        assert re.search(rf"parameter \\{name} {value}\b", il), name
    # The SDRAM's pins are driven from registers in the I/O cells.
    assert il.count("cell \\OFS1P3DX") >= 2 + 13 + 2 + 5 + 16
    assert "cell \\IFS1P3DX" in il and "cell \\ODDRX1F" in il
    # The boot ROM's program is the initial contents of a memory (block RAM), the SD
    # card host and the LED register are in.
    rom = il[il.index("module \\top.soc.rom\n"):]
    rom = rom[:rom.index("\nend\n")]
    image = rom_image(ram_size=spec.sdram.size, mtime_freq=MTIME_FREQ)
    depth = 1 << ((len(image) + 7) // 8 - 1).bit_length()
    assert f"memory width 64 size {depth} \\mem" in rom
    assert "cell $meminit_v2" in rom
    assert format(int.from_bytes(image[:8], "little"), "064b") in rom
    assert "module \\top.soc.sdhost\n" in il and "module \\top.soc.led_register\n" in il


def test_pins_and_clock_constraints(plan):
    spec, files = plan
    lpf = files["top.lpf"]
    # The oscillator's frequency; nextpnr derives the PLL outputs' from it.
    assert f'FREQUENCY PORT "clk25_0__io" {spec.osc_freq} HZ' in lpf
    sites = dict(re.findall(r'LOCATE COMP "([^"]+)" SITE "([^"]+)"', lpf))
    # ULX3S: FTDI serial (M1 in, L4 out), SDRAM clock F19, a few address and data pins, LEDs.
    assert sites["uart_0__rx__io"] == "M1" and sites["uart_0__tx__io"] == "L4"
    assert sites["sdram_0__clk__io"] == "F19"
    assert sites["sdram_0__a__io[10]"] == "N19" and sites["sdram_0__dq__io[15]"] == "J17"
    assert [sites[f"led_{i}__io"] for i in range(8)] == "B2 C2 C1 D2 D1 E2 E1 H3".split()
    # The microSD slot in SPI mode: CLK, CMD (copi), DAT0 (cipo), DAT3 (chip select).
    assert [sites[f"sd_card_spi_0__{name}__io"] for name in ("clk", "copi", "cipo", "cs")] \
        == ["J1", "J3", "K2", "H1"]
    # Their fast slew rate reaches nextpnr: amaranth-boards spells it SLEW, which
    # nextpnr drops with a warning (soc/board/platforms.py).
    for name in ("clk", "copi", "cipo", "cs"):
        assert re.search(rf'IOBUF PORT "sd_card_spi_0__{name}__io" [^;]*SLEWRATE=FAST;', lpf), name
    assert "SLEW=" not in lpf


def test_unknown_board_and_clock_are_refused(capsys):
    assert build_main(["--board", "de10-nano"]) == 2
    assert "unknown board 'de10-nano'" in capsys.readouterr().err
    assert build_main(["--clk-mhz", "1000"]) == 2
    assert "cannot make 1000 MHz from 25 MHz (nearest: 800 MHz)" in capsys.readouterr().err


NEXTPNR_LOG = """\
Info: SA placement time 295.82s
Info: Router1 time 617.81s
Info: Logic utilisation before packing:
Info:     Total LUT4s:     30781/83640    37%
Info:         logic LUTs:  17321/83640    20%

Info: Device utilisation:
Info: 	          TRELLIS_IO:    57/   365    15%
Info: 	              DP16KD:     7/   208     3%
Info: 	          MULT18X18D:    16/   156    10%
Info: 	          TRELLIS_FF:  9120/ 83640    10%
Info: 	        TRELLIS_COMB: 31002/ 83640    37%

Info: Max frequency for clock '$glbnet$clk': 31.50 MHz (PASS at 25.00 MHz)
Info: Max frequency for clock '$glbnet$clk': 28.20 MHz (PASS at 25.00 MHz)
Info: Max frequency for clock '$glbnet$pll.clk_sdram': 120.00 MHz (FAIL at 150.00 MHz)

Info: Critical path report for clock '$glbnet$clk' (posedge -> posedge):
Info:       type curr  total name
Info:   clk-to-q  0.52  0.52 Source core.pc_TRELLIS_FF_Q.Q
Info:    routing  1.10  1.62 Net core.pc[3] (2,25) -> (2,26)
Info: 
"""


def test_nextpnr_log_is_read():
    rep = parse_nextpnr(NEXTPNR_LOG)
    assert rep.fmax == {"$glbnet$clk": (28.20, 25.0), "$glbnet$pll.clk_sdram": (120.0, 150.0)}
    assert rep.failing() == {"$glbnet$pll.clk_sdram": (120.0, 150.0)}
    assert rep.utilisation["DP16KD"] == (7, 208) and rep.utilisation["TRELLIS_COMB"] == (31002, 83640)
    assert rep.critical_paths["$glbnet$clk"][1].endswith("Source core.pc_TRELLIS_FF_Q.Q")
    assert len(rep.critical_paths["$glbnet$clk"]) == 3
    assert clock_name("$glbnet$clk") == "sync (system clock)"
    assert rep.pass_times == {"SA placement": 295.82, "Router1": 617.81}
    lines = rep.summary_lines(", seed 1")
    assert lines[:2] == ["Fmax $glbnet$clk: 28.20 MHz (meets 25 MHz, seed 1)",
                         "Fmax $glbnet$pll.clk_sdram: 120.00 MHz (misses 150 MHz, seed 1)"]
    assert lines[2] == "critical path ($glbnet$clk):"
    assert lines[3:] == ["  " + line for line in rep.critical_paths["$glbnet$clk"]]


def test_a_clock_short_by_less_than_the_log_shows_fails():
    """nextpnr rounds to two decimals: 20.001 ns is "50.00 MHz (FAIL at 50.00 MHz)"
    (seed 5 of 2026-12-05), and its FAIL is what counts."""
    log = ("Info: Max frequency for clock '$glbnet$clk': 49.00 MHz (FAIL at 50.00 MHz)\n"
           "ERROR: Max frequency for clock           '$glbnet$clk': 50.00 MHz "
           "(FAIL at 50.00 MHz)\n")
    rep = parse_nextpnr(log)
    assert rep.fmax == {"$glbnet$clk": (50.0, 50.0)}
    assert rep.failing() == {"$glbnet$clk": (50.0, 50.0)}
    assert rep.summary_lines() == ["Fmax $glbnet$clk: 50.00 MHz (misses 50 MHz)"]
    passed = parse_nextpnr(log + "Info: Max frequency for clock '$glbnet$clk': 50.00 MHz "
                                 "(PASS at 50.00 MHz)\n")
    assert passed.failing() == {}


def test_yosys_time_is_read():
    log = ("2.52. Executing CHECK pass (checking for obvious problems).\n"
           "End of script. Logfile hash: 91b16d6ffe, time: 245.93s, user: 245.95s, "
           "system: 0.00s\n")
    assert yosys_cpu_seconds(log) == 245.95
    assert yosys_cpu_seconds("ERROR: stopped before the end\n") is None


def test_the_report_says_where_the_build_time_went():
    report = {"board": "ulx3s-85f", "device": "LFE5U-85F-6BG381C", "clk_mhz": 25.0,
              "LUT4": 35712, "CCU2C": 3603, "TRELLIS_DPR16X4": 254, "FF": 17252,
              "DP16KD": 27, "MULT18X18D": 16, "nextpnr_lut4": None, "fmax_mhz": {},
              "critical_path": {}, "seed": 1, "router": "router1", "timing_driven": True,
              "netlist_reused": False,
              "earlier_seeds": [], "build_wall_s": 1594.2, "build_cpu_s": 1035.4,
              "cpu": "AMD EPYC", "yosys_cpu_s": 245.95,
              "nextpnr_pass_s": {"SA placement": 295.82, "Router1": 617.81},
              "error": None, "bitstream": "build/fpga/d1/top.bit"}
    lines = format_report(report).splitlines()
    assert lines[2] == "nextpnr seed 1, router1, static placer, timing-driven placement"
    assert lines[4] == ("of which Yosys 246 s CPU, SA placement 296 s, Router1 618 s "
                        "(nextpnr's passes: its wall clock)")
    assert lines[3].startswith("build time 1594 s wall, 1035 s CPU (AMD EPYC, ")
    report.update(yosys_cpu_s=None, nextpnr_pass_s={})
    assert not any(line.startswith("of which") for line in format_report(report).splitlines())
    report["netlist_reused"] = True
    assert format_report(report).splitlines()[3].endswith(
        " cores), synthesis skipped (Yosys's netlist of an earlier build of this design)")
    report["netlist_reused"] = False
    # a seed sweep's earlier builds: one that routed, one the watchdog stopped
    report["earlier_seeds"] = [{"seed": 2, "reached_mhz": 48.99, "error": "timing failed"},
                               {"seed": 4, "reached_mhz": None, "error": "router1 stopped"}]
    assert format_report(report).splitlines()[3] == \
        "seeds tried before: 2 (48.99 MHz), 4 (not routed)"


def test_make_bitstream_passes_its_variables_on():
    # what make bitstream would run (make -n prints it without running it)
    r = subprocess.run(["make", "-n", "--no-print-directory", "-C", str(ROOT), "bitstream",
                        "CLK_MHZ=50", "SEED=3", "BITSTREAM_OPTS=--route-minutes 30"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    command = [line for line in r.stdout.splitlines() if "soc.board.build" in line]
    assert len(command) == 1
    assert re.search(r"-m soc\.board\.build --board ulx3s-85f --clk-mhz 50 +--seed 3 "
                     r"--route-minutes 30$", command[0]), command[0]


def test_make_program_says_what_is_missing(tmp_path):
    env = dict(os.environ, PATH="/usr/bin:/bin")
    if subprocess.run(["sh", "-c", "command -v openFPGALoader"], env=env).returncode == 0:
        pytest.skip("openFPGALoader is installed here")
    r = subprocess.run(["make", "-s", "program"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode != 0
    assert "make program needs openFPGALoader" in r.stderr


YOSYS_STAT = """\
=== top ===

      136 cells
        2   DP16KD
       16   MULT18X18D
     6700   CCU2C
    17321   LUT4
       10   TRELLIS_DPR16X4
     6740   TRELLIS_FF

=== design hierarchy ===
"""


# the last lines of a Yosys log whose script ran to its end
YOSYS_END = ("End of script. Logfile hash: 92b225474d, time: 182.95s, user: 182.96s, "
             "system: 0.00s\n")


def stand_in_yosys(directory, log_text, status=0, name="yosys"):
    """A stand-in for Yosys as the build script runs it (in the build directory):
    counts its runs in ``name``.runs, writes ``log_text`` as its log (top.rpt) and
    a netlist (top.json), and exits with ``status``."""
    (directory / f"{name}.out").write_text(log_text)
    script = directory / name
    script.write_text("#!/bin/sh\n"
                      f'echo run >> "{directory}/{name}.runs"\n'
                      f'cp "{directory}/{name}.out" top.rpt\n'
                      "echo '{}' > top.json\n"
                      f"exit {status}\n")
    script.chmod(0o755)
    return str(script)


def yosys_runs(directory, name="yosys"):
    """How often the stand-in ``name`` of ``stand_in_yosys`` has run."""
    runs = directory / f"{name}.runs"
    return len(runs.read_text().split()) if runs.exists() else 0


def fake_tool(directory, name, log_flag, log_text, status, hang=False):
    """A stand-in for a YoWASP tool: writes ``log_text`` to the file named after
    ``log_flag`` on its command line and exits with ``status``; with ``hang``, it
    writes its process id to ``name``.pid and then runs until it is stopped."""
    (directory / f"{name}.out").write_text(log_text)
    script = directory / name
    script.write_text("#!/bin/sh\n"
                      + (f'echo $$ > "{directory}/{name}.pid"\n' if hang else "")
                      + "while [ $# -gt 0 ]; do\n"
                      f'  if [ "$1" = "{log_flag}" ]; then cp "{directory}/{name}.out" "$2"; fi\n'
                      "  shift\n"
                      "done\n"
                      + ("exec sleep 600\n" if hang else "")
                      + f"exit {status}\n")
    script.chmod(0o755)
    return str(script)


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    """Point the build at stand-ins of the tools; returns a function that makes them:
    each writes the log it is given and exits with the status it is given."""
    tools = tmp_path / "tools"
    tools.mkdir()

    def make(yosys_log, yosys_status, nextpnr_log, nextpnr_status, nextpnr_hangs=False):
        env = {"YOSYS": fake_tool(tools, "yosys", "-l", yosys_log, yosys_status),
               "NEXTPNR_ECP5": fake_tool(tools, "nextpnr", "--log", nextpnr_log, nextpnr_status,
                                         hang=nextpnr_hangs),
               "ECPPACK": fake_tool(tools, "ecppack", "--no-log", "", 0),
               "OPENFPGALOADER": "true"}
        use_tools(monkeypatch, env)
    return make


def use_tools(monkeypatch, env):
    """Point the build at the tools ``env`` names (restored after the test)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("soc.board.build.tool_env", lambda: dict(env))


def test_a_timing_failure_fails_the_build(fake_tools, tmp_path, capsys):
    # nextpnr-ecp5 stops with status 1 when a clock misses its target, after writing
    # its log; the build reports the figures and exits 1.
    fake_tools(YOSYS_STAT, 0, NEXTPNR_LOG.replace("28.20 MHz (PASS", "24.10 MHz (FAIL"), 1)
    out = tmp_path / "out"
    assert build_main(["--out", str(out)]) == 1
    captured = capsys.readouterr()
    report = json.loads((out / "report.json").read_text())
    assert (report["LUT4"], report["FF"], report["DP16KD"], report["MULT18X18D"]) == \
        (17321, 6740, 2, 16)
    # Yosys's LUT4 are the logic LUTs; nextpnr's total also counts 2 per carry and 6 per
    # LUT RAM (17,321 + 2 x 6,700 + 6 x 10)
    assert (report["CCU2C"], report["TRELLIS_DPR16X4"], report["nextpnr_lut4"]) == (6700, 10, 30781)
    assert report["fmax_mhz"] == {
        "sync (system clock)": {"reached": 24.10, "target": 25.0, "met": False},
        "pll.clk_sdram": {"reached": 120.0, "target": 150.0, "met": False}}
    assert report["error"] == ("timing failed: sync (system clock) reaches 24.10 MHz < "
                               "25.00 MHz, pll.clk_sdram reaches 120.00 MHz < 150.00 MHz")
    assert report["bitstream"] is None
    text = (out / "report.txt").read_text()
    assert text == captured.out
    assert "Fmax sync (system clock): 24.10 MHz (target 25.00 MHz, FAILED)\n" in text
    assert ("LUT4 17321, CCU2C 6700, TRELLIS_DPR16X4 10, FF 6740, DP16KD 2, MULT18X18D 16\n"
            "nextpnr's total LUT4 (with the carries' and LUT RAMs'): 30781\n") in text
    assert text.endswith(f"error: {report['error']}\n")
    assert f"see {out / 'top.tim'} for nextpnr's log" in captured.err


def test_a_clock_short_by_a_picosecond_fails_the_build(fake_tools, tmp_path, capsys):
    # nextpnr's "25.00 MHz (FAIL at 25.00 MHz)": timing failed, and the report says so
    # (not "met", and not only that the script stopped)
    fake_tools(YOSYS_STAT, 0, NEXTPNR_LOG.replace("28.20 MHz (PASS", "25.00 MHz (FAIL")
               .replace("120.00 MHz (FAIL at 150.00", "150.00 MHz (PASS at 150.00"), 1)
    out = tmp_path / "out"
    assert build_main(["--out", str(out), "--clk-mhz", "25"]) == 1
    captured = capsys.readouterr()
    report = json.loads((out / "report.json").read_text())
    assert report["fmax_mhz"]["sync (system clock)"] == {"reached": 25.0, "target": 25.0,
                                                         "met": False}
    assert report["error"] == ("timing failed: sync (system clock) misses 25.00 MHz by "
                               "less than 0.01 MHz (nextpnr: FAIL)")
    assert "Fmax sync (system clock): 25.00 MHz (target 25.00 MHz, FAILED)\n" in captured.out
    assert report["seed_may_help"]


def test_a_synthesis_failure_is_reported_without_a_traceback(fake_tools, tmp_path, capsys):
    fake_tools("ERROR: out of memory\n", 1, "", 0)
    out = tmp_path / "out"
    out.mkdir()
    (out / "top.bit").write_bytes(b"an earlier build's")   # not taken for this one's
    assert build_main(["--out", str(out)]) == 1
    captured = capsys.readouterr()
    report = json.loads((out / "report.json").read_text())
    assert report["error"] == "the build script stopped with status 1"
    assert report["LUT4"] is None and report["fmax_mhz"] == {} and report["bitstream"] is None
    assert report["nextpnr_lut4"] is None
    assert "nextpnr's total LUT4" not in captured.out
    assert captured.out.endswith("error: the build script stopped with status 1\n")
    assert "Traceback" not in captured.err


def test_further_nextpnr_options_reach_nextpnr(fake_tools, tmp_path, capsys):
    # --nextpnr-opt adds an option after the flow's own (the seed, the router, the
    # static placer and, at the default 25 MHz, untimed placement); the report
    # records them.
    fake_tools(YOSYS_STAT, 0, NEXTPNR_LOG, 0)
    out = tmp_path / "out"
    build_main(["--out", str(out), "--seed", "3", "--clk-mhz", "25",
                "--nextpnr-opt=--placer-heap-beta=0.7",
                "--nextpnr-opt=--router2-heatmap=heat"])
    capsys.readouterr()
    script = (out / "build_top.sh").read_text()
    assert (" --seed 3 --router router1 --placer static --no-tmdriv --placer-heap-beta=0.7"
            " --router2-heatmap=heat ") in script
    report = json.loads((out / "report.json").read_text())
    assert report["seed"] == 3 and report["router"] == "router1"
    assert report["nextpnr_opts"] == ["--placer-heap-beta=0.7", "--router2-heatmap=heat"]


def test_the_router_is_a_choice(fake_tools, tmp_path, capsys):
    # router1 by default (router2 diverged on the board's netlist); --router router2
    # asks for the other, and the report names it
    fake_tools(YOSYS_STAT, 0, NEXTPNR_LOG, 0)
    out = tmp_path / "out"
    build_main(["--out", str(out), "--router", "router2", "--clk-mhz", "25"])
    captured = capsys.readouterr()
    # (without --seed, the board's own seed)
    from soc.board import board
    seed = board("ulx3s-85f").seed
    assert seed == 5
    assert f" --seed {seed} --router router2 --placer static --no-tmdriv " in \
        (out / "build_top.sh").read_text()
    assert json.loads((out / "report.json").read_text())["router"] == "router2"
    assert f"nextpnr seed {seed}, router2, static placer, untimed placement\n" in captured.out


@pytest.mark.parametrize("args, timed", [
    ([], True),                                     # the board's 50 MHz
    (["--clk-mhz", "25"], False),
    (["--clk-mhz", "25", "--placement", "timing"], True),
    (["--placement", "untimed"], False)])
def test_placement_is_timing_driven_above_30_mhz(fake_tools, tmp_path, capsys, args, timed):
    # untimed placement (nextpnr's --no-tmdriv) at and below UNTIMED_MAX_MHZ, where it
    # has margin and saves about a third of the build's time; --placement overrides
    fake_tools(YOSYS_STAT, 0, NEXTPNR_LOG, 0)
    out = tmp_path / "out"
    build_main(["--out", str(out)] + args)
    captured = capsys.readouterr()
    script = (out / "build_top.sh").read_text()
    assert ("--placer static --no-tmdriv --log" in script) == (not timed)
    assert ("--placer static --log" in script) == timed
    assert json.loads((out / "report.json").read_text())["timing_driven"] == timed
    assert ("timing-driven placement\n" if timed else "untimed placement\n") in captured.out


def test_timing_driven_at_the_threshold_and_an_unknown_placement():
    # the threshold (the builds through main() above take 25 and 50 MHz)
    assert [timing_driven("auto", f) for f in (25e6, 30e6, 30.01e6, 31.25e6, 50e6)] == \
        [False, False, True, True, True]
    assert timing_driven("timing", 12.5e6) is True and timing_driven("untimed", 50e6) is False
    with pytest.raises(ValueError, match="unknown placement 'fast'"):
        timing_driven("fast", 25e6)


def test_an_unknown_router_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        build_main(["--out", str(tmp_path / "out"), "--router", "router3"])
    assert e.value.code == 2
    assert "invalid choice: 'router3'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def router2_log(counts):
    """nextpnr's log up to router2's iterations with ``counts`` overused wires."""
    placed = NEXTPNR_LOG.split("\nInfo: Critical path")[0]
    return placed + "\nInfo: Running router2...\n" + "".join(
        f"Info:     iter={i + 1} wires=846954 overused={n} overuse={n + 8} archfail=NA\n"
        for i, n in enumerate(counts))


def gone(pid, wait_s=10):
    """Whether process ``pid`` ends within ``wait_s`` seconds (a zombie that no one
    reaps has ended): the build waits for its shell, the signal reaches the tool too."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] == "Z":
                return True
        except FileNotFoundError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def test_a_router_that_stops_converging_is_stopped(fake_tools, tmp_path, capsys, monkeypatch):
    # router2 as it diverged on main 1d9407a's board netlist: lowest 825 at iteration 26,
    # then rising; nextpnr would run on for hours, the watchdog ends it at iteration 46
    monkeypatch.setattr("soc.routewatch.POLL_S", 0.05)
    counts = [59992, 40864, 27226, 17896, 11578, 8034, 5740, 4261, 3521, 2837, 2439, 2051,
              1810, 1568, 1325, 1190, 1140, 1064, 1009, 956, 959, 934, 871, 869, 858, 825,
              951, 946, 1039, 1092, 1067, 1117, 1067, 1039, 1118, 1148, 1189, 1200, 1439,
              1384, 1401, 1468, 1475, 1522, 1454, 1492]
    fake_tools(YOSYS_STAT, 0, router2_log(counts), 0, nextpnr_hangs=True)
    out = tmp_path / "out"
    assert build_main(["--out", str(out), "--router", "router2"]) == 1
    captured = capsys.readouterr()
    reason = ("router2 stopped converging: 20 iterations without going below its lowest, "
              "825 overused wires at iteration 26 (now 1,492 overused wires at iteration 46)")
    report = json.loads((out / "report.json").read_text())
    assert report["error"] == (reason + "; the placement may be too congested to route: try "
                               "another --seed, --router router1, or a lower --clk-mhz")
    # the placer's estimates are not passed off as the routed design's
    assert report["fmax_mhz"] == {} and report["critical_path"] == {}
    assert report["nextpnr_lut4"] == 30781 and report["bitstream"] is None
    assert report["route_watch"] is True and report["route_minutes"] is None
    assert f"stopping nextpnr: {reason}\n" in captured.err
    assert captured.out.endswith(f"error: {report['error']}\n")
    pid = int((tmp_path / "tools" / "nextpnr.pid").read_text())
    assert gone(pid)


def test_the_route_time_limit_and_no_watch(fake_tools, tmp_path, capsys, monkeypatch):
    # a router still converging is stopped by --route-minutes only; --no-route-watch
    # turns the convergence check off
    monkeypatch.setattr("soc.routewatch.POLL_S", 0.05)
    counts = [900] * 30
    fake_tools(YOSYS_STAT, 0, router2_log(counts), 0, nextpnr_hangs=True)
    out = tmp_path / "out"
    assert build_main(["--out", str(out), "--router", "router2", "--no-route-watch",
                       "--route-minutes", "0.005"]) == 1
    report = json.loads((out / "report.json").read_text())
    assert report["error"].startswith(
        "routing took longer than 0.005 minutes (900 overused wires at iteration 30); ")
    assert report["route_watch"] is False and report["route_minutes"] == 0.005
    assert gone(int((tmp_path / "tools" / "nextpnr.pid").read_text()))
    capsys.readouterr()


@pytest.mark.parametrize("exc, status, name", [
    (KeyboardInterrupt(), 130, "SIGINT"), (Terminated(signal.SIGTERM), 143, "SIGTERM"),
    (Terminated(signal.SIGHUP), 129, "SIGHUP")])
def test_a_stopped_build_says_so_and_exits_with_the_signal(monkeypatch, capsys, exc, status,
                                                           name):
    # run_watched has stopped the tools (tests/soc/test_routewatch.py) and raised
    def stopped(*args, **kwargs):
        raise exc
    monkeypatch.setattr("soc.board.build.build", stopped)
    assert build_main([]) == status
    captured = capsys.readouterr()
    assert captured.err == f"{name}: the build was stopped, and its tools\n"
    assert captured.out == ""


# nextpnr's logs for the seed sweep: the system clock met (the SDRAM clock too), or not
SWEEP_PASS = NEXTPNR_LOG.replace("120.00 MHz (FAIL at 150.00", "180.00 MHz (PASS at 150.00")
SWEEP_FAIL = SWEEP_PASS.replace("28.20 MHz (PASS", "24.10 MHz (FAIL")


@pytest.fixture
def seed_tools(tmp_path, monkeypatch):
    """Stand-ins of the tools whose nextpnr answers as each seed is given it:
    ``make({seed: (log, status)})``; returns a function giving the seeds it was run
    with, in order."""
    tools = tmp_path / "tools"
    tools.mkdir()

    def make(outcomes):
        for seed, (log, status) in outcomes.items():
            (tools / f"nextpnr-{seed}.out").write_text(log)
            (tools / f"nextpnr-{seed}.status").write_text(f"{status}\n")
        nextpnr = tools / "nextpnr"
        nextpnr.write_text("#!/bin/sh\n"
                           "while [ $# -gt 0 ]; do\n"
                           '  case "$1" in --seed) seed=$2 ;; --log) log=$2 ;; esac\n'
                           "  shift\n"
                           "done\n"
                           f'echo "$seed" >> "{tools}/seeds"\n'
                           f'cp "{tools}/nextpnr-$seed.out" "$log"\n'
                           f'exit $(cat "{tools}/nextpnr-$seed.status")\n')
        ecppack = tools / "ecppack"
        ecppack.write_text("#!/bin/sh\n"
                           "while [ $# -gt 0 ]; do\n"
                           '  case "$1" in --bit) echo bitstream > "$2" ;; esac\n'
                           "  shift\n"
                           "done\n")
        for script in (nextpnr, ecppack):
            script.chmod(0o755)
        env = {"YOSYS": stand_in_yosys(tools, YOSYS_STAT + YOSYS_END),
               "NEXTPNR_ECP5": str(nextpnr), "ECPPACK": str(ecppack), "OPENFPGALOADER": "true"}
        use_tools(monkeypatch, env)
        seeds = tools / "seeds"
        return lambda: [int(n) for n in seeds.read_text().split()] if seeds.exists() else []
    return make


def test_seeds_are_tried_in_turn_until_one_meets_timing(seed_tools, tmp_path, capsys):
    # as main 680d027 at 50 MHz: seed 3 met timing where 1 and 2 did not
    run = seed_tools({1: (SWEEP_FAIL, 1), 2: (SWEEP_FAIL.replace("24.10", "24.60"), 1),
                      3: (SWEEP_PASS, 0), 4: (SWEEP_PASS, 0)})
    out = tmp_path / "out"
    assert build_main(["--out", str(out), "--seed", "1-4"]) == 0
    captured = capsys.readouterr()
    assert run() == [1, 2, 3]
    report = json.loads((out / "report.json").read_text())
    assert report["seed"] == 3 and report["error"] is None
    assert report["bitstream"] == str(out / "top.bit")
    assert report["earlier_seeds"] == [
        {"seed": 1, "reached_mhz": 24.10, "error": "timing failed: sync (system clock) "
                                                   "reaches 24.10 MHz < 25.00 MHz"},
        {"seed": 2, "reached_mhz": 24.60, "error": "timing failed: sync (system clock) "
                                                   "reaches 24.60 MHz < 25.00 MHz"}]
    assert "seeds tried before: 1 (24.10 MHz), 2 (24.60 MHz)\n" in captured.out
    assert ("seed 1: timing failed: sync (system clock) reaches 24.10 MHz < 25.00 MHz; "
            "trying seed 2\n") in captured.err
    # Yosys ran for the first seed only: the others placed its netlist
    assert yosys_runs(tmp_path / "tools") == 1
    assert report["netlist_reused"] is True and report["yosys_cpu_s"] is None
    assert report["LUT4"] == 17321             # (from the log Yosys wrote then)
    assert captured.err.count("synthesis skipped: ") == 2


def test_a_netlist_serves_only_the_same_design(seed_tools, tmp_path, capsys):
    run = seed_tools({1: (SWEEP_PASS, 0), 2: (SWEEP_PASS, 0)})
    out = tmp_path / "out"
    assert build_main(["--out", str(out), "--seed", "1"]) == 0
    assert (out / "netlist.key").exists() and yosys_runs(tmp_path / "tools") == 1
    # the same design again, another seed: nextpnr only
    assert build_main(["--out", str(out), "--seed", "2"]) == 0
    assert yosys_runs(tmp_path / "tools") == 1
    assert json.loads((out / "report.json").read_text())["netlist_reused"] is True
    # --resynth, another clock (another top.il), a changed netlist key: Yosys again
    assert build_main(["--out", str(out), "--seed", "2", "--resynth"]) == 0
    assert yosys_runs(tmp_path / "tools") == 2
    assert json.loads((out / "report.json").read_text())["netlist_reused"] is False
    assert build_main(["--out", str(out), "--seed", "2", "--clk-mhz", "20"]) == 0
    assert yosys_runs(tmp_path / "tools") == 3
    (out / "netlist.key").write_text("another design\n")
    assert build_main(["--out", str(out), "--seed", "2", "--clk-mhz", "20"]) == 0
    assert yosys_runs(tmp_path / "tools") == 4
    # a netlist whose log is gone (or a Yosys that stopped early) is not reused
    (out / "top.rpt").unlink()
    assert build_main(["--out", str(out), "--seed", "2", "--clk-mhz", "20"]) == 0
    assert yosys_runs(tmp_path / "tools") == 5
    capsys.readouterr()
    assert run() == [1, 2, 2, 2, 2, 2]


def test_a_yosys_that_stops_early_leaves_no_netlist_to_reuse(fake_tools, tmp_path,
                                                             monkeypatch, capsys):
    # Yosys wrote its statistics and (part of) a netlist, then failed before the
    # end of its log (while writing the netlist, say): the netlist is not marked
    # for reuse, and the next build runs Yosys again
    fake_tools(YOSYS_STAT, 0, NEXTPNR_LOG, 0)
    tools = tmp_path / "tools"
    env = {"YOSYS": stand_in_yosys(tools, YOSYS_STAT, status=1),
           "NEXTPNR_ECP5": os.environ["NEXTPNR_ECP5"], "ECPPACK": os.environ["ECPPACK"],
           "OPENFPGALOADER": "true"}
    use_tools(monkeypatch, env)
    out = tmp_path / "out"
    for _ in range(2):
        assert build_main(["--out", str(out)]) == 1
        assert not (out / "netlist.key").exists()
    capsys.readouterr()
    assert yosys_runs(tools) == 2


def test_a_sweep_that_never_meets_timing_fails_with_the_last_seed(seed_tools, tmp_path,
                                                                   capsys):
    run = seed_tools({1: (SWEEP_FAIL, 1), 5: (SWEEP_FAIL.replace("24.10", "23.00"), 1)})
    out = tmp_path / "out"
    assert build_main(["--out", str(out), "--seed", "5,1"]) == 1
    capsys.readouterr()
    assert run() == [5, 1]
    report = json.loads((out / "report.json").read_text())
    assert report["seed"] == 1 and report["seed_may_help"] is True
    assert [a["seed"] for a in report["earlier_seeds"]] == [5]
    assert report["earlier_seeds"][0]["reached_mhz"] == 23.00


def test_a_failure_that_is_no_seeds_fault_ends_the_sweep(seed_tools, tmp_path, capsys):
    # nextpnr stopped by an error of its own, with no Fmax: another seed would not help
    run = seed_tools({1: ("ERROR: Failed to route arc 1.0 of net 'x'\n", 1),
                      2: (SWEEP_PASS, 0)})
    out = tmp_path / "out"
    assert build_main(["--out", str(out), "--seed", "1-2"]) == 1
    capsys.readouterr()
    assert run() == [1]
    report = json.loads((out / "report.json").read_text())
    assert report["error"] == "the build script stopped with status 1"
    assert report["seed_may_help"] is False and report["earlier_seeds"] == []


def test_a_bad_seed_list_is_refused(capsys):
    assert build_main(["--seed", "4-1"]) == 2
    assert capsys.readouterr().err == \
        "error: bad --seed '4-1': give N, N-M or a list such as 1,3,5-7\n"
