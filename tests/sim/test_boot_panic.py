"""A kernel panic in `make sim` (issue 18): the real kernel, booted from a disk whose
root directory inode is free, panics in its first process ("inode_lock: a directory
names a free inode").  A scripted run ends a few simulated milliseconds after the
panic line with exit status 1, the transcript and a "kernel panic" message with the
cycle and instruction counts; on a terminal the panic line is intact (the status line
never wrote over it) and the session stays open until Ctrl-A x."""

import re
import subprocess
import sys
import time

import pytest

from sim.boot import PANIC_QUIET_CYCLES
from tests.fsimage import BSIZE, DINODE_SIZE, IPB, ROOTINO, FsImage

from .conftest import ROOT
from .ptyrun import PtySession

PANIC_LINE = "panic: inode_lock: a directory names a free inode (corrupt file system)"


@pytest.fixture(scope="module")
def broken_fs(xv6_files, tmp_path_factory):
    """fs.img with the root directory's inode zeroed (free)."""
    data = bytearray(xv6_files[1].read_bytes())
    sb = FsImage(bytes(data)).superblock
    at = (sb.inodestart + ROOTINO // IPB) * BSIZE + (ROOTINO % IPB) * DINODE_SIZE
    data[at:at + DINODE_SIZE] = bytes(DINODE_SIZE)
    path = tmp_path_factory.mktemp("broken") / "fs.img"
    path.write_bytes(bytes(data))
    return path


def test_panic_ends_a_scripted_run(cxxrtl_model, xv6_files, broken_fs):
    proc = subprocess.run([sys.executable, "-m", "sim.boot", "--kernel", str(xv6_files[0]),
                           "--fs", str(broken_fs), "--run", "echo never typed", "--timeout", "600"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("xv6 kernel: booting on hart 0\n"), proc.stdout
    assert proc.stdout.endswith(PANIC_LINE + "\n\n"), proc.stdout
    m = re.search(r"^error: kernel panic at cycle ([\d,]+) after ([\d,]+) instructions: (.*)$",
                  proc.stderr, re.M)
    assert m, proc.stderr
    assert m.group(3) == PANIC_LINE
    panic_cycle = int(m.group(1).replace(",", ""))
    total = int(re.search(r"\[sim\] cxxrtl: (\d+) cycles", proc.stderr).group(1))
    # It ended PANIC_QUIET_CYCLES (2 ms) after the message; printing the message from its
    # start took about 21 k cycles.
    assert PANIC_QUIET_CYCLES < total - panic_cycle < PANIC_QUIET_CYCLES + 30_000, (total, panic_cycle)
    assert f"[sim] kernel panic at cycle {m.group(1)}" in proc.stderr
    assert "timeout" not in proc.stderr and "Traceback" not in proc.stderr


class Screen:
    """What a terminal shows for a byte stream: CR, LF, ESC [ K and printable bytes."""

    def __init__(self):
        self.lines = [bytearray()]
        self.col = 0

    def feed(self, data):
        i = 0
        while i < len(data):
            b = data[i]
            line = self.lines[-1]
            if data.startswith(b"\x1b[K", i):
                del line[self.col:]
                i += 3
                continue
            if b == 0x0D:
                self.col = 0
            elif b == 0x0A:
                self.lines.append(bytearray())
                self.col = 0
            else:
                assert b >= 0x20, f"unexpected control byte {b:#x} in {data!r}"
                line[self.col:self.col + 1] = bytes([b])
                self.col += 1
            i += 1

    def text(self):
        return [bytes(line).decode("latin-1") for line in self.lines]


def test_panic_on_a_terminal(cxxrtl_model, xv6_files, broken_fs):
    term = PtySession("--kernel", xv6_files[0], "--fs", broken_fs)
    try:
        term.read_until(rb"\[sim\] kernel panic at cycle [\d,]+ \(", 600)
        time.sleep(1)
        assert term.proc.poll() is None                # the session stays open
        term.type(b"\x01x")                            # Ctrl-A x quits
        assert term.finish() == 1
    finally:
        term.close()
    buf = bytes(term.buf)
    assert b"[sim] booting: " in buf                 # a status line was shown ...
    screen = Screen()
    screen.feed(buf)
    lines = screen.text()
    # ... and the console lines are intact: none was written over or glued to it.
    assert lines[0] == "xv6 kernel: booting on hart 0", lines
    assert PANIC_LINE in lines, lines
    # The panic on the status line, whole within the 80 columns (erased on exit).
    assert re.search(rb"\r\[sim\] kernel panic at cycle [\d,]+ \([\d,]+ instructions\); "
                     rb"Ctrl-A x quits\x1b\[K", buf), buf[-600:]
    assert any(l.startswith("[sim] kernel panic at cycle ") and l.endswith(PANIC_LINE)
               for l in lines), lines              # and the summary
    console = [l for l in lines[:lines.index(PANIC_LINE) + 1] if not l.startswith("[sim]")]
    assert all("[sim]" not in l for l in console), lines
