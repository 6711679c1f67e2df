"""`python -m sim.boot` on a pseudo-terminal of 80 x 24, for the terminal tests."""

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

from .conftest import ROOT


class PtySession:
    def __init__(self, *args):
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.proc = subprocess.Popen([sys.executable, "-m", "sim.boot", *map(str, args)],
                                     cwd=ROOT, stdin=self.slave, stdout=self.slave,
                                     stderr=self.slave, close_fds=True)
        self.buf = bytearray()

    def read_until(self, pattern, timeout, view=bytes):
        """Read until ``view(everything read)`` matches the regular expression ``pattern``."""
        deadline = time.monotonic() + timeout
        while not re.search(pattern, view(bytes(self.buf))):
            left = deadline - time.monotonic()
            assert left > 0, f"no {pattern!r} in {bytes(self.buf)!r}"
            if select.select([self.master], [], [], left)[0]:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                assert chunk, f"EOF before {pattern!r} in {bytes(self.buf)!r}"
                self.buf += chunk
        return self.buf

    def type(self, data):
        os.write(self.master, data)

    def finish(self, timeout=60):
        """Wait for the exit; read what is left; returns the exit status."""
        status = self.proc.wait(timeout=timeout)
        try:
            while select.select([self.master], [], [], 0.5)[0]:
                chunk = os.read(self.master, 4096)
                if not chunk:
                    break
                self.buf += chunk
        except OSError:
            pass
        return status

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        os.close(self.slave)
