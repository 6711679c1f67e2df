"""Fixtures for the simulator tests: the CXXRTL engine and xv6's build outputs.

Missing prerequisites (g++, the RISC-V toolchain, `make xv6`) make the tests FAIL with
a message rather than skip, so a run without them never looks green.
"""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KERNEL = ROOT / "build/xv6/kernel"
FS_IMG = ROOT / "build/xv6/fs.img"


@pytest.fixture(scope="session")
def cxxrtl_model():
    """Builds (or finds in build/sim/) the CXXRTL model once per session."""
    if shutil.which("g++") is None:
        pytest.fail("g++ not found: the CXXRTL engine needs a C++ compiler", pytrace=False)
    from sim.cxxrtl.build import build_model
    from soc.soc import SoC
    return build_model(SoC())


@pytest.fixture(scope="session")
def xv6_files():
    missing = [str(p) for p in (KERNEL, FS_IMG) if not p.is_file()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `make xv6` first", pytrace=False)
    return KERNEL, FS_IMG
