"""`python -m sim.boot` on a pseudo-terminal, as `make sim` is used: the console in raw
mode (Enter arrives as CR, Ctrl-C is a byte for xv6, not a signal for us), a status
line while booting, idle time skipped while the shell waits, Ctrl-A x quits with the
summary, and the terminal is restored."""

import re
import termios
import time

from .ptyrun import PtySession


STATUS = re.compile(rb"\r\[sim\] booting: [^\x1b]*\x1b\[K|\r\x1b\[K")


def console(buf):
    """What the terminal shows from the simulated UART (status line updates removed)."""
    return STATUS.sub(b"", bytes(buf))


def test_interactive_session_on_a_pty(cxxrtl_model, xv6_files):
    kernel, fs_img = xv6_files
    term = PtySession("--kernel", kernel, "--fs", fs_img)
    before = termios.tcgetattr(term.slave)
    try:
        buf = term.read_until(re.escape(b"init: starting sh\r\n$ "), 300, console)
        assert b"[sim] booting: " in buf             # the status line on a terminal
        time.sleep(2)                                  # idle: the core sleeps in wfi
        term.type(b"echo one two\r")                   # Enter sends CR in raw mode
        term.read_until(re.escape(b"one two\r\n$ "), 120, console)
        term.type(b"\x03")                             # Ctrl-C goes to xv6 ...
        time.sleep(0.5)
        assert term.proc.poll() is None                # ... and does not stop us
        term.type(b"\x15echo three\r")                 # ^U clears the line
        term.read_until(re.escape(b"three\r\n$ "), 120, console)
        term.type(b"\x01x")                            # Ctrl-A x quits
        assert term.finish() == 0
        buf = bytes(term.buf)
        assert b"first prompt after" in buf
        assert b"instructions, CPI" in buf and b"M cycles/s" in buf
        skips = re.search(rb"\((\d+) idle skips", buf)
        assert skips and int(skips.group(1)) > 0, buf[-400:]
        assert termios.tcgetattr(term.slave) == before     # terminal settings restored
    finally:
        term.close()
