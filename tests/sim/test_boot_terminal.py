"""`python -m sim.boot` on a pseudo-terminal, as `make sim` is used: the console in raw
mode (Enter arrives as CR, Ctrl-C is a byte for xv6, not a signal for us), a status
line while booting, idle time skipped while the shell waits, Ctrl-A x quits with the
summary, and the terminal is restored."""

import os
import pty
import re
import select
import subprocess
import sys
import termios
import time

from .conftest import ROOT


STATUS = re.compile(rb"\r\[sim\] booting: [^\x1b]*\x1b\[K|\r\x1b\[K")


def console(buf):
    """What the terminal shows from the simulated UART (status line updates removed)."""
    return STATUS.sub(b"", bytes(buf))


def read_until(fd, needle, buf, timeout):
    deadline = time.monotonic() + timeout
    while needle not in console(buf):
        left = deadline - time.monotonic()
        assert left > 0, f"no {needle!r} in {bytes(buf)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            assert chunk, f"EOF before {needle!r} in {bytes(buf)!r}"
            buf += chunk
    return buf


def test_interactive_session_on_a_pty(cxxrtl_model, xv6_files):
    kernel, fs_img = xv6_files
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    proc = subprocess.Popen([sys.executable, "-m", "sim.boot", "--kernel", str(kernel),
                             "--fs", str(fs_img)], cwd=ROOT, stdin=slave, stdout=slave,
                            stderr=slave, close_fds=True)
    try:
        buf = read_until(master, b"init: starting sh\r\n$ ", bytearray(), 300)
        assert b"[sim] booting: " in buf             # the status line on a terminal
        time.sleep(2)                                  # idle: the core sleeps in wfi
        os.write(master, b"echo one two\r")            # Enter sends CR in raw mode
        buf = read_until(master, b"one two\r\n$ ", buf, 120)
        os.write(master, b"\x03")                      # Ctrl-C goes to xv6 ...
        time.sleep(0.5)
        assert proc.poll() is None                     # ... and does not stop us
        os.write(master, b"\x15echo three\r")          # ^U clears the line
        buf = read_until(master, b"three\r\n$ ", buf, 120)
        os.write(master, b"\x01x")                     # Ctrl-A x quits
        buf = read_until(master, b"first prompt after", buf, 60)
        assert proc.wait(timeout=30) == 0
        assert b"instructions, CPI" in buf and b"M cycles/s" in buf
        skips = re.search(rb"\((\d+) idle skips", buf)
        assert skips and int(skips.group(1)) > 0, buf[-400:]
        assert termios.tcgetattr(slave) == before      # terminal settings restored
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)
