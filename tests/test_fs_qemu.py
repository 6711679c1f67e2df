"""The storage layer inside the real kernel on QEMU: shell file operations,
and crash recovery (QEMU killed in the middle of a large write, then rebooted).

Needs build/xv6/kernel and the user programs (`make xv6`); skipped otherwise.
"""

import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.fsimage import FsImage

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "xv6"
KERNEL = BUILD / "kernel"
README = b"The storage layer test README.\nIt has two lines.\n"

pytestmark = pytest.mark.qemu


def ram_mb() -> int:
    for line in (ROOT / "xv6/kernel/param.h").read_text().splitlines():
        if line.startswith("#define RAM_MB"):
            return int(line.split()[2])
    raise AssertionError("RAM_MB not in param.h")


@pytest.fixture(scope="module")
def base_image(tmp_path_factory):
    if shutil.which("qemu-system-riscv64") is None:
        pytest.skip("no qemu-system-riscv64")
    progs = sorted((BUILD / "user").glob("*")) if (BUILD / "user").is_dir() else []
    if not KERNEL.exists() or not (BUILD / "mkfs").exists() or not progs:
        pytest.skip("xv6 not built (make xv6)")
    d = tmp_path_factory.mktemp("fsq")
    (d / "README").write_bytes(README)
    img = d / "base.img"
    subprocess.run([str(BUILD / "mkfs"), str(img), *map(str, progs), str(d / "README")],
                   check=True)
    return img


class Machine:
    def __init__(self, image: Path):
        self.p = subprocess.Popen(
            ["qemu-system-riscv64", "-machine", "virt", "-bios", "none",
             "-kernel", str(KERNEL), "-m", f"{ram_mb()}M", "-smp", "1", "-nographic",
             "-global", "virtio-mmio.force-legacy=false",
             "-drive", f"file={image},if=none,format=raw,id=disk0",
             "-device", "virtio-blk-device,drive=disk0,bus=virtio-mmio-bus.0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.out = b""

    def until(self, token: bytes, timeout=30.0) -> bytes:
        start = len(self.out)
        end = time.time() + timeout
        while time.time() < end:
            ready, _, _ = select.select([self.p.stdout], [], [], 0.1)
            if ready:
                chunk = os.read(self.p.stdout.fileno(), 4096)
                if not chunk:
                    break
                self.out += chunk
                if self.out.endswith(token):
                    return self.out[start:]
        raise AssertionError(f"no {token!r} within {timeout}s; output:\n"
                             + self.out.decode(errors="replace"))

    def send(self, line: str):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def run(self, line: str) -> str:
        """One shell command; its output without the echo and the next prompt."""
        self.send(line)
        text = self.until(b"$ ").decode(errors="replace").replace("\r", "")
        body = text[:-2]
        assert body.startswith(line + "\n"), body
        return body[len(line) + 1:]

    def kill(self):
        self.p.kill()
        self.p.wait()


def test_shell_file_operations(base_image, tmp_path):
    img = tmp_path / "fs.img"
    shutil.copy(base_image, img)
    m = Machine(img)
    try:
        m.until(b"$ ")
        assert m.run("echo hi > x") == ""
        assert m.run("cat x") == "hi\n"
        assert m.run("mkdir d") == ""
        ls_d = m.run("ls d").split("\n")
        assert [ln.split()[0] for ln in ls_d if ln] == [".", ".."]
        assert m.run("echo more > d/y") == ""
        assert m.run("cat d/y") == "more\n"
        assert m.run("rm d") != ""           # not empty: rm reports a failure
        assert m.run("rm d/y") == ""
        assert m.run("rm x") == ""
        assert "x" not in m.run("ls").split()
        assert m.run("cat README | wc") == "2 9 49\n"
        assert m.run("cat README | grep two") == "It has two lines.\n"
    finally:
        m.kill()
    fs = FsImage.from_file(img)
    assert fs.problems() == []
    assert fs.listdir("/d") == {".": fs.listdir("/")["d"], "..": 1}
    assert "x" not in fs.listdir("/")


@pytest.mark.parametrize("delay", [0.05, 0.12, 0.2, 0.3])
def test_crash_during_write_recovers(base_image, tmp_path, delay):
    img = tmp_path / "fs.img"
    shutil.copy(base_image, img)
    m = Machine(img)
    try:
        m.until(b"$ ")
        m.send("cat systest > a")
        time.sleep(delay)
    finally:
        m.kill()                 # power off in the middle of the copy

    m = Machine(img)             # reboot: fs_mount replays a committed log
    try:
        m.until(b"$ ")
        m.run("ls")
    finally:
        m.kill()
    fs = FsImage.from_file(img)
    assert fs.problems() == []
    if "a" in fs.listdir("/"):
        data = fs.read_path("/a")
        assert data == fs.read_path("/systest")[:len(data)]
