"""The host terminal as the SoC's UART, like QEMU's -nographic console.

``Terminal`` puts stdin in raw mode (so Ctrl-C, Ctrl-D, Backspace reach xv6 as bytes)
while keeping output newline translation, and restores it on exit.  Ctrl-A starts an
escape: Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A h prints help; any other
key after Ctrl-A is sent as is.

``Screen`` writes the console output (stdout) and the simulator's status line and
messages (stderr) so that they never mix.
"""

import os
import select
import shutil
import sys
import termios
import tty

__all__ = ["Terminal", "Screen", "CTRL_A"]

ERASE_LINE = "\r\033[K"       # to column 0, erase to the end of the line


class Screen:
    """The console and the status line on one terminal, never mixed.

    * ``console(bytes)`` writes what the SoC's UART sent to stdout.  A status line on
      the screen is erased first and drawn again after, if the console is then at the
      start of a line.
    * ``status(text)`` sets the status line (None: none).  It is drawn only on an empty
      console line: a console line in progress (a prompt, a message without its
      newline yet) is never written over; the status waits for the line to end.  An
      ``alert`` (a kernel panic, an interrupt storm) that finds a line in progress
      starts a new line for itself instead.
    * ``log(msg)`` prints one line of the simulator's own on stderr.

    The status line is live only when both stdout and stderr are terminals (``live``);
    otherwise ``status`` draws nothing at all and the caller prints a summary at the end.
    """

    def __init__(self, out=None, err=None, *, live=None):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        if live is None:
            live = _isatty(self.out) and _isatty(self.err)
        self.live = live
        self.text = None            # the status line's text, or None
        self.shown = False          # the status line is on the screen now
        self.line_start = True      # the console's cursor is at the start of a line

    def console(self, data):
        if not data:
            return
        self._erase()
        buf = getattr(self.out, "buffer", None)
        if buf is not None:
            buf.write(data)
        else:
            self.out.write(bytes(data).decode("latin-1"))
        self.out.flush()
        self.line_start = data[-1:] == b"\n"
        self._draw()

    def status(self, text, *, alert=False):
        self.text = text
        if not self.live:
            return
        if text is None:
            self._erase()
            return
        if alert and not self.line_start:
            self.err.write("\n")
            self.line_start = True
        self._draw()

    def log(self, msg):
        self._erase()
        if not self.line_start:
            self.err.write("\n")
            self.line_start = True
        self.err.write(msg + "\n")
        self.err.flush()
        self._draw()

    def clear(self):
        """Erase the status line and forget it (before leaving the terminal)."""
        self.status(None)

    def _draw(self):
        if not (self.live and self.text and self.line_start):
            return
        width = shutil.get_terminal_size((80, 24)).columns
        # One screen row: a line that wrapped could not be erased with ERASE_LINE.
        self.err.write("\r" + self.text[:max(width - 1, 1)] + "\033[K")
        self.err.flush()
        self.shown = True

    def _erase(self):
        if self.shown:
            self.err.write(ERASE_LINE)
            self.err.flush()
            self.shown = False


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

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
