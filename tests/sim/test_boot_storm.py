"""An interrupt storm named by `make sim` (issue 17): tests/soc/programs/uart_storm.c
with STORM1=0 completes the UART's transmitter-empty interrupt at the PLIC without
acknowledging it at the UART, for ever, as a driver tested only on QEMU would.  The
status line and the exit summary say which source storms."""

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from sim.boot import STORM_CLAIMS
from tests.soc.programs.build import build, have_toolchain

from .conftest import ROOT

STATUS = rb"\r\[sim\] storm: PLIC source 10 \(UART0\) claimed [\d,]+ times without user mode\x1b\[K"
SUMMARY = (rb"\n\[sim\] interrupt storm: PLIC source 10 \(UART0\) claimed ([\d,]+) times with no "
           rb"user-mode instruction in between \(noticed at cycle [\d,]+\): see README")


@pytest.fixture(scope="module")
def storm_elf(tmp_path_factory):
    if not have_toolchain():
        pytest.fail("riscv64-unknown-elf-gcc missing: run `make toolchain`", pytrace=False)
    return build("uart_storm", tmp_path_factory.mktemp("storm"), ram_size=32 << 20,
                 defines={"STORM1": 0})


def test_storm_on_the_status_line_and_in_the_summary(cxxrtl_model, xv6_files, storm_elf):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "sim.boot", "--kernel", str(storm_elf),
                             "--fs", str(xv6_files[1])], cwd=ROOT, stdin=slave, stdout=slave,
                            stderr=slave, close_fds=True)
    buf = bytearray()
    try:
        deadline = time.monotonic() + 300
        while not re.search(STATUS, buf):
            assert time.monotonic() < deadline, bytes(buf)
            if select.select([master], [], [], 1)[0]:
                buf += os.read(master, 4096)
        os.write(master, b"\x01x")                     # Ctrl-A x quits
        assert proc.wait(timeout=60) == 0
        while select.select([master], [], [], 0.5)[0]:
            buf += os.read(master, 4096)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)
    summary = re.search(SUMMARY, buf)
    assert summary, bytes(buf[-800:])
    assert int(summary.group(1).replace(b",", b"")) >= STORM_CLAIMS
