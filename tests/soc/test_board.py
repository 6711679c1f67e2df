# amaranth: UnusedElaboratable=no
"""Board tops (soc/board/): every supported board elaborates, converts to RTLIL and
gets its pins and clock constraints; the build's command line and report parsing."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from soc.board import BOARDS, board
from soc.board.build import clock_name, main as build_main
from soc.board.pll import pll_params
from soc.board.top import BoardTop
from soc.fpga import parse_nextpnr

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
    for name, value in (("CLKI_DIV", p.clki_div), ("CLKFB_DIV", p.clkfb_div),
                        ("CLKOP_DIV", p.clkop_div), ("CLKOS_CPHASE", p.clkos_cphase)):
        assert re.search(rf"parameter \\{name} {value}\b", il), name
    # The SDRAM's pins are driven from registers in the I/O cells.
    assert il.count("cell \\OFS1P3DX") >= 2 + 13 + 2 + 5 + 16
    assert "cell \\IFS1P3DX" in il and "cell \\ODDRX1F" in il


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


def test_unknown_board_and_clock_are_refused(capsys):
    assert build_main(["--board", "de10-nano"]) == 2
    assert "unknown board 'de10-nano'" in capsys.readouterr().err
    assert build_main(["--clk-mhz", "1000"]) == 2
    assert "cannot make exactly 1000 MHz" in capsys.readouterr().err


NEXTPNR_LOG = """\
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


def test_make_program_says_what_is_missing(tmp_path):
    env = dict(os.environ, PATH="/usr/bin:/bin")
    if subprocess.run(["sh", "-c", "command -v openFPGALoader"], env=env).returncode == 0:
        pytest.skip("openFPGALoader is installed here")
    r = subprocess.run(["make", "-s", "program"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode != 0
    assert "make program needs openFPGALoader" in r.stderr
