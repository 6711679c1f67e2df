"""The full FPGA build (make bitstream) for every supported board: synthesis, place
and route, packing, with the YoWASP tools.  The board's clock is met; a clock the
design cannot reach makes the build exit 1 with the figures in its report.  Slow (on
the 2-core machine about 17 minutes of CPU for the default build at 50 MHz and as
much for the 60 MHz one, both placed for timing); `make test-slow` runs it.
tests/soc/test_board.py checks the report and the exit status against stand-ins of
the tools in seconds."""

import json

import pytest

from soc.board import BOARDS
from soc.board.build import main as build_main

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_bitstream_meets_timing(name, tmp_path, capsys):
    status = build_main(["--board", name, "--out", str(tmp_path)])
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "report.json").read_text())
    assert status == 0, out
    assert report["error"] is None
    assert (tmp_path / "top.bit").stat().st_size > 100_000
    sync = report["fmax_mhz"]["sync (system clock)"]
    assert sync["met"] and sync["reached"] >= sync["target"] == report["clk_mhz"]
    assert report["LUT4"] > 10_000 and report["MULT18X18D"] > 0
    assert report["timing_driven"] is True         # (the board's clock: 50 MHz)
    print(out)


#: A system clock the SoC does not reach on the board's seed, the seed this test builds
#: (seed 1 until 2026-12-05, 5 since: ``BoardSpec.seed``).  Until
#: 2026-12-05 that was 50 MHz (680d027, router1: 49.22 MHz); since the SDRAM slice and
#: the devices' registered answers seed 1 meets 50 MHz (51.22 MHz, 5b5334e; 50.63 MHz
#: with the PMP's regions in LUT RAM, b14b0db), so the test asks for 60, 16 % above the
#: best seed measured (51.67 MHz, 5b5334e's seed 2).
UNREACHABLE_MHZ = 60


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_bitstream_fails_when_timing_fails(name, tmp_path, capsys):
    status = build_main(["--board", name, "--clk-mhz", str(UNREACHABLE_MHZ),
                         "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 1, captured.out
    report = json.loads((tmp_path / "report.json").read_text())
    sync = report["fmax_mhz"]["sync (system clock)"]
    assert sync["target"] == report["clk_mhz"] == UNREACHABLE_MHZ
    assert 0 < sync["reached"] < UNREACHABLE_MHZ
    assert report["error"].startswith(
        f"timing failed: sync (system clock) reaches {sync['reached']:.2f} MHz < "
        f"{UNREACHABLE_MHZ:.2f} MHz")
    assert report["bitstream"] is None and report["LUT4"] > 10_000
    assert report["timing_driven"] is True
    assert "see " in captured.err and "top.tim" in captured.err
    print(captured.out)
