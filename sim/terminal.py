"""The host terminal as the SoC's UART, like QEMU's -nographic console.

``Terminal`` puts stdin in raw mode (so Ctrl-C, Ctrl-D, Backspace reach xv6 as bytes)
while keeping output newline translation, and restores it on exit.  Ctrl-A starts an
escape: Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A h prints help; any other
key after Ctrl-A is sent as is.
"""

import os
import select
import sys
import termios
import tty

__all__ = ["Terminal", "CTRL_A"]

CTRL_A = 0x01
HELP = "\r\n[sim] Ctrl-A x: quit   Ctrl-A Ctrl-A: send Ctrl-A   Ctrl-A h: this help\r\n"


class Terminal:
    def __init__(self, stdin=None, stdout=None):
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.fd = self.stdin.fileno()
        self.is_tty = os.isatty(self.fd)
        self._saved = None
        self._escape = False
        self.quit = False
        self.eof = False

    def __enter__(self):
        if self.is_tty:
            self._saved = termios.tcgetattr(self.fd)
            tty.setraw(self.fd)
            attrs = termios.tcgetattr(self.fd)
            attrs[1] |= termios.OPOST | termios.ONLCR      # keep "\n" -> "\r\n" on output
            termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        return self

    def __exit__(self, *exc):
        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None
        return False

    def write(self, data):
        out = self.stdout.buffer if hasattr(self.stdout, "buffer") else None
        if out is not None:
            out.write(data)
            out.flush()
        else:
            self.stdout.write(data.decode("latin-1"))
            self.stdout.flush()

    def poll(self, timeout=0.0):
        """Bytes typed since the last call (after escape handling); waits up to timeout."""
        if self.eof:
            return b""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return b""
        data = os.read(self.fd, 1024)
        if not data:
            self.eof = True
            return b""
        return self.filter(data)

    def filter(self, data):
        """Apply the Ctrl-A escapes to typed bytes; returns what goes to the UART."""
        out = bytearray()
        for b in data:
            if self._escape:
                self._escape = False
                if b in (ord("x"), ord("X")):
                    self.quit = True
                    break
                if b in (ord("h"), ord("H")):
                    self.write(HELP.encode())
                    continue
                out.append(b)            # Ctrl-A Ctrl-A or any other key: sent as is
            elif b == CTRL_A:
                self._escape = True
            else:
                out.append(b)
        return bytes(out)
