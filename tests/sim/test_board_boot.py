"""xv6 on the ULX3S-85F configuration of the SoC, compiled by CXXRTL (make sim
BOARD=ulx3s-85f): the board's system clock and SDRAM controller, with the SDRAM chip
model checking every command's timing.  Boots to the shell, runs commands that read
and write files, and the chip model must have seen no timing or protocol error."""

import pytest

from sim.boot import Session, open_engine

TIMEOUT = 900                 # wall seconds per step (a loaded 2-core machine)

pytestmark = pytest.mark.slow   # the model build (with its profiling boot) takes minutes


@pytest.fixture(scope="module")
def board_xv6(xv6_files):
    kernel, fs_img = xv6_files
    engine, disk = open_engine("cxxrtl", str(kernel), str(fs_img), board="ulx3s-85f")
    session = Session(engine, disk)
    session.boot_text = session.boot(TIMEOUT)
    yield session
    engine.close()


def test_boots_to_the_shell_from_sdram(board_xv6):
    assert board_xv6.boot_text.startswith("xv6 kernel: booting on hart 0\n")
    assert "init: starting sh" in board_xv6.boot_text
    stats, _ = board_xv6.prompt_at
    # The SDRAM is slower than the block RAM: more cycles per instruction.
    assert stats.cycles > 4 * stats.instret


def test_files_through_sdram(board_xv6):
    assert board_xv6.command("echo hello sdram > f; cat f", TIMEOUT) == "hello sdram\n"
    assert board_xv6.command("wc f", TIMEOUT).split() == ["1", "2", "12", "f"]


def test_sdram_model_saw_no_error(board_xv6):
    assert board_xv6.engine.sdram_error() is None
    assert board_xv6.engine.peek("sdram_refreshes") > 100
