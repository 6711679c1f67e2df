"""The SoC stays synthesizable for the ECP5: no Yosys errors, no latches."""

import pytest

from soc.soc import SoC
from soc.synth import synthesize


def check(result, label):
    print(f"\n{label}: {result.summary()}")
    assert result.latches == []
    assert result.count("LUT4") > 0 and result.count("TRELLIS_FF") > 0


def test_devices_and_interconnect_synthesize():
    # About 40 s of Yosys (plus a minute the first time YoWASP compiles itself).
    result = synthesize(SoC(ram_size=64 * 1024, cpu=False))
    check(result, "SoC without core, 64 KiB RAM")
    # The 64 KiB RAM is block RAM (32 DP16KD), plus the virtio sector buffer.
    assert result.count("DP16KD") >= 32


@pytest.mark.slow
def test_full_soc_synthesizes():
    # About 2 minutes of Yosys.
    result = synthesize(SoC(ram_size=64 * 1024))
    check(result, "SoC with core, 64 KiB RAM")
    assert result.count("DP16KD") >= 32


def test_parse_stat_and_latch_detection():
    from soc.synth import _parse_stat
    log = ("=== top ===\n   Number of cells: 3\n     10   LUT4\n      2   $_DLATCH_P_\n"
           "      4   TRELLIS_FF\n\n=== design hierarchy ===\n")
    cells = _parse_stat(log)
    assert cells == {"LUT4": 10, "$_DLATCH_P_": 2, "TRELLIS_FF": 4}
