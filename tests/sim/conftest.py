"""The simulator tests' fixtures (cxxrtl_model, xv6_files) are in tests/conftest.py."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
