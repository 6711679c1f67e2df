"""The full FPGA build (make bitstream) for every supported board: synthesis, place
and route, packing.  Fails when a clock misses its target.  Slow (10-30 minutes on the
2-core machine)."""

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
    assert sync["reached"] >= sync["target"] == report["clk_mhz"]
    assert report["LUT4"] > 10_000 and report["MULT18X18D"] > 0
    print(out)
