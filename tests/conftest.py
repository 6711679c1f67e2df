"""Fixtures shared by the test directories: xv6 on QEMU (tests/test_xv6_*.py), the
CXXRTL model and xv6's build outputs for the simulator tests (tests/sim, tests/wave).

Missing prerequisites (g++, `make xv6`, QEMU) make the tests FAIL with a message
rather than skip, so a run without them can never look green.
"""

import os
import shutil

import pytest

from tests import xv6_console

# The tests use the tuned model (cxxrtl_model builds it in the foreground); no test
# leaves a background build behind (sim/cxxrtl/build.py).
os.environ["SIM_BACKGROUND_BUILD"] = "0"


@pytest.fixture(scope="session")
def cxxrtl_model():
    """Builds (or finds in build/sim/) the tuned CXXRTL model once per session."""
    if shutil.which("g++") is None:
        pytest.fail("g++ not found: the CXXRTL engine needs a C++ compiler", pytrace=False)
    from sim.cxxrtl.build import build_model
    from soc.soc import SoC
    return build_model(SoC(), tuned=True)


@pytest.fixture(scope="session")
def xv6_files():
    """(kernel, fs.img) paths of the xv6 build."""
    kernel = xv6_console.BUILD_DIR / "kernel"
    fs_img = xv6_console.BUILD_DIR / "fs.img"
    missing = [str(p) for p in (kernel, fs_img) if not p.is_file()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `make xv6` first", pytrace=False)
    return kernel, fs_img


@pytest.fixture(scope="session")
def xv6_build(xv6_files):
    """Paths of the built kernel and file system image, QEMU present."""
    if shutil.which(xv6_console.QEMU) is None:
        pytest.fail(f"{xv6_console.QEMU} not found: run `make toolchain`", pytrace=False)
    return xv6_files


@pytest.fixture(scope="module")
def xv6(xv6_build, tmp_path_factory):
    """One booted xv6 per test module, at its first `$ ` prompt; QEMU is
    killed when the module is done."""
    kernel, fs_img = xv6_build
    con = xv6_console.boot(tmp_path_factory.mktemp("xv6"), kernel, fs_img)
    try:
        yield con
    finally:
        con.close()


@pytest.fixture(scope="session")
def isa_elfs(tmp_path_factory):
    """The programs of tests/isa, assembled once per session: name -> ELF path."""
    from tests.isa import build as isa_build
    out = tmp_path_factory.mktemp("isa")
    return {name: isa_build.build(name, out) for name in isa_build.programs()}
