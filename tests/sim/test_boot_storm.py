"""An interrupt storm named by `make sim` (issue 17): tests/soc/programs/uart_storm.c
with STORM1=0 completes the UART's transmitter-empty interrupt at the PLIC without
acknowledging it at the UART, for ever, as a driver tested only on QEMU would.  The
status line and the exit summary say which source storms."""

import re

import pytest

from sim.boot import STORM_CLAIMS
from tests.soc.programs.build import build, have_toolchain

from .ptyrun import PtySession

STATUS = rb"\r\[sim\] storm: PLIC source 10 \(UART0\) claimed [\d,]+ times without user mode\x1b\[K"
SUMMARY = (rb"\n\[sim\] interrupt storm: PLIC source 10 \(UART0\) claimed ([\d,]+) times with no "
           rb"user-mode instruction in between \(noticed at cycle [\d,]+\): see docs/simulation\.md, "
           rb".Software that runs on QEMU but storms here.")


@pytest.fixture(scope="module")
def storm_elf(tmp_path_factory):
    if not have_toolchain():
        pytest.fail("riscv64-unknown-elf-gcc missing: run `make toolchain`", pytrace=False)
    return build("uart_storm", tmp_path_factory.mktemp("storm"), ram_size=32 << 20,
                 defines={"STORM1": 0})


def test_storm_on_the_status_line_and_in_the_summary(cxxrtl_model, xv6_files, storm_elf):
    term = PtySession("--kernel", storm_elf, "--fs", xv6_files[1])
    try:
        term.read_until(STATUS, 300)
        term.type(b"\x01x")                            # Ctrl-A x quits
        assert term.finish() == 0
    finally:
        term.close()
    summary = re.search(SUMMARY, bytes(term.buf))
    assert summary, bytes(term.buf[-800:])
    assert int(summary.group(1).replace(b",", b"")) >= STORM_CLAIMS
