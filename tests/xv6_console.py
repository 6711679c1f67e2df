"""Drive xv6 on QEMU through its serial console.

QEMU runs with the top Makefile's QEMUOPTS (``-nographic``: the UART is
QEMU's stdin/stdout), on a private copy of the file system image so that
tests never change build/xv6/fs.img.  Output is read with non-blocking
reads; every byte is kept in a transcript, and any timeout or early QEMU
exit raises :class:`ConsoleError` carrying the whole transcript.

    with XV6Console(kernel, fs_img, workdir) as con:
        con.expect("$ ", timeout=60)
        print(con.run("ls"))

Nothing is built here: the kernel and image must exist (``make xv6``).
"""

import atexit
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PARAM_H = REPO / "xv6" / "kernel" / "param.h"
# `make xv6` puts the kernel and fs.img here; XV6_BUILD_DIR overrides it
# (for testing a build made elsewhere with `make -C xv6 OUT=...`).
BUILD_DIR = Path(os.environ.get("XV6_BUILD_DIR", REPO / "build" / "xv6"))
QEMU = "qemu-system-riscv64"
PROMPT = "$ "

# The same pattern the Makefiles give sed: `#define RAM_MB <digits>`.
_RAM_MB_RE = re.compile(r"^#define RAM_MB[ \t]*([0-9]*)", re.MULTILINE)


# Consoles with a live QEMU, killed at interpreter exit in case a caller
# forgot close() or the test run was interrupted.
_live = set()


@atexit.register
def _kill_leftovers():
    for con in list(_live):
        con.close()


class ConsoleError(AssertionError):
    """A console interaction failed; the message ends with the transcript."""


def default_ram_mb(param_h=PARAM_H):
    """The default RAM size in MiB: RAM_MB in xv6/kernel/param.h."""
    text = Path(param_h).read_text()
    found = _RAM_MB_RE.search(text)
    if not found or not found.group(1):
        raise ValueError(f"{param_h}: no `#define RAM_MB <number>` line")
    return int(found.group(1))


def kernel_ram_mb(kernel):
    """The RAM size in MiB the kernel ELF was built for (`make xv6 RAM_MB=...`)."""
    from sim.elf import load_elf
    ram = load_elf(kernel, need_tohost=False).ram_mb
    if ram is None:
        raise ValueError(f"{kernel}: no kernel_ram_mb symbol: not an xv6 kernel of ours?")
    return ram


def qemu_command(kernel, fs_img, ram=None):
    """The QEMU command line of `make qemu` (the top Makefile's QEMUOPTS); the
    machine gets the RAM the kernel was built for unless `ram` (MiB) says."""
    if ram is None:
        ram = kernel_ram_mb(kernel)
    return [
        QEMU,
        "-machine", "virt", "-bios", "none", "-kernel", str(kernel),
        "-m", f"{ram}M", "-smp", "1", "-nographic",
        "-global", "virtio-mmio.force-legacy=false",
        "-drive", f"file={fs_img},if=none,format=raw,id=disk0",
        "-device", "virtio-blk-device,drive=disk0,bus=virtio-mmio-bus.0",
    ]


class XV6Console:
    """One QEMU run of xv6, talked to through the serial console."""

    def __init__(self, kernel, fs_img, workdir):
        self.kernel = Path(kernel)
        self.fs_source = Path(fs_img)
        self.workdir = Path(workdir)
        self.proc = None
        self.text = ""          # everything QEMU printed so far, '\r' removed
        self.pos = 0            # how far expect() has consumed self.text
        self.stderr_text = ""

    # ---- starting and stopping ----

    def start(self):
        for path in (self.kernel, self.fs_source):
            if not path.is_file():
                raise ConsoleError(f"{path} does not exist: run `make xv6` first")
        if shutil.which(QEMU) is None:
            raise ConsoleError(f"{QEMU} is not installed: run `make toolchain`")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.fs_img = self.workdir / "fs.img"
        shutil.copyfile(self.fs_source, self.fs_img)
        self.command = qemu_command(self.kernel, self.fs_img)
        self.proc = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=self.workdir)
        _live.add(self)
        os.set_blocking(self.proc.stdout.fileno(), False)
        os.set_blocking(self.proc.stderr.fileno(), False)
        return self

    def close(self):
        """Stop QEMU (always safe to call, also twice)."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        _live.discard(self)
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                stream.close()
            except OSError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    # ---- reading ----

    def transcript(self):
        out = self.text
        if self.stderr_text:
            out += "\n--- QEMU stderr ---\n" + self.stderr_text
        return out

    def _fail(self, message):
        raise ConsoleError(
            f"{message}\n--- console transcript ({len(self.text)} chars) ---\n"
            f"{self.transcript()}\n--- end of transcript ---")

    def _pump(self, wait):
        """Read whatever QEMU has printed, waiting at most `wait` seconds
        for the first byte.  Returns False once QEMU has exited and all
        its output is in."""
        if self.proc is None:
            return False
        streams = [self.proc.stdout, self.proc.stderr]
        ready, _, _ = select.select(streams, [], [], max(wait, 0))
        got_any = False
        for stream in ready:
            try:
                chunk = os.read(stream.fileno(), 65536)
            except BlockingIOError:
                continue
            if not chunk:
                continue
            got_any = True
            decoded = chunk.decode("utf-8", errors="replace").replace("\r", "")
            if stream is self.proc.stdout:
                self.text += decoded
            else:
                self.stderr_text += decoded
        if not got_any and self.proc.poll() is not None:
            return False
        return True

    def expect(self, needle, timeout=10):
        """Wait until `needle` appears in output not consumed yet.  Returns
        the text before it and consumes both."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.text.find(needle, self.pos)
            if found >= 0:
                before = self.text[self.pos:found]
                self.pos = found + len(needle)
                return before
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._fail(f"timeout after {timeout}s waiting for {needle!r}")
            if not self._pump(min(remaining, 0.5)):
                code = self.proc.returncode if self.proc else None
                self._fail(f"QEMU exited (status {code}) while waiting for {needle!r}")

    def send(self, data):
        """Type `data` on the console."""
        if self.proc is None or self.proc.poll() is not None:
            self._fail(f"QEMU is not running; cannot send {data!r}")
        try:
            self.proc.stdin.write(data.encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as err:
            self._fail(f"cannot send {data!r}: {err}")

    def run(self, command, timeout=10):
        """Type one command line and return what it printed up to the next
        prompt (without the echoed command line)."""
        if "\n" in command:
            raise ValueError("run() takes a single line")
        self.send(command + "\n")
        # First the console's echo of the line (so that a "$ " inside the
        # command is not taken for the prompt), then the output.
        early = self.expect(command + "\n", timeout)
        if early:
            self._fail(f"unexpected output {early!r} before the echo of {command!r}")
        return self.expect(PROMPT, timeout)

    def settle(self, quiet=0.3, timeout=5):
        """Wait until the console has been silent for `quiet` seconds and
        return (and consume) everything printed meanwhile."""
        deadline = time.monotonic() + timeout
        last_len = len(self.text)
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            self._pump(0.05)
            if len(self.text) != last_len:
                last_len = len(self.text)
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                break
        out = self.text[self.pos:]
        self.pos = len(self.text)
        return out


def boot(workdir, kernel=None, fs_img=None, timeout=60):
    """Start QEMU and wait for the first shell prompt.  Returns the
    console; the caller must close() it."""
    con = XV6Console(kernel or BUILD_DIR / "kernel", fs_img or BUILD_DIR / "fs.img", workdir)
    con.start()
    try:
        con.boot_log = con.expect(PROMPT, timeout)
    except BaseException:
        con.close()
        raise
    return con
