"""Fixtures for the waveform tests: the CXXRTL model (cached in build/sim/, shared with
tests/sim) and xv6's build outputs.  Missing prerequisites make the tests FAIL with a
message rather than skip."""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KERNEL = ROOT / "build/xv6/kernel"
FS_IMG = ROOT / "build/xv6/fs.img"


@pytest.fixture(scope="session")
def cxxrtl_model():
    if shutil.which("g++") is None:
        pytest.fail("g++ not found: the CXXRTL engine needs a C++ compiler", pytrace=False)
    from sim.cxxrtl.build import build_model
    from soc.soc import SoC
    return build_model(SoC())


@pytest.fixture(scope="session")
def toolchain():
    if shutil.which("riscv64-unknown-elf-gcc") is None:
        pytest.fail("riscv64-unknown-elf-gcc missing: run `make toolchain`", pytrace=False)


@pytest.fixture(scope="session")
def xv6_files():
    missing = [str(p) for p in (KERNEL, FS_IMG) if not p.is_file()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `make xv6` first", pytrace=False)
    return KERNEL, FS_IMG
