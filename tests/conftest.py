"""Fixtures for the xv6-on-QEMU tests (tests/test_xv6_*.py).

The tests need build/xv6/kernel and build/xv6/fs.img (`make xv6`); when
they are missing the tests FAIL with that message rather than being
skipped, so a run without a build can never look green.
"""

import shutil

import pytest

from tests import xv6_console


@pytest.fixture(scope="session")
def xv6_build():
    """Paths of the built kernel and file system image."""
    kernel = xv6_console.BUILD_DIR / "kernel"
    fs_img = xv6_console.BUILD_DIR / "fs.img"
    missing = [str(p) for p in (kernel, fs_img) if not p.is_file()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `make xv6` first", pytrace=False)
    if shutil.which(xv6_console.QEMU) is None:
        pytest.fail(f"{xv6_console.QEMU} not found: run `make toolchain`", pytrace=False)
    return kernel, fs_img


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
