"""Fixtures for the waveform tests (cxxrtl_model and xv6_files are in tests/conftest.py).
Missing prerequisites make the tests FAIL with a message rather than skip."""

import shutil

import pytest


@pytest.fixture(scope="session")
def toolchain():
    if shutil.which("riscv64-unknown-elf-gcc") is None:
        pytest.fail("riscv64-unknown-elf-gcc missing: run `make toolchain`", pytrace=False)

