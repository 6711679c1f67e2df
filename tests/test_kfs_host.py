"""The kernel's storage code (bio log fs inode dir file pipe sysfile syscall), compiled for the host.

tests/kfs_host/ builds those kernel files with a small glue layer (one process,
a RAM disk, host pointers as user addresses) into a program that runs a script
of system calls and saves the disk.  The images are then checked with
fsimage.py, including after simulated crashes at every disk write.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fsimage import BSIZE, MAXFILE, NDIRECT, T_DIR, T_FILE, FsImage

ROOT = Path(__file__).resolve().parent.parent
XV6 = ROOT / "xv6"
KFILES = ["bio", "log", "fs", "inode", "dir", "file", "pipe", "sysfile", "syscall"]
RENAME = ["printf", "memmove", "memcpy", "memset", "memcmp", "strncmp", "strncpy",
          "strlen", "safestrcpy", "sleep", "exit", "wait", "fork", "kill"]
O_RDONLY, O_WRONLY, O_RDWR, O_CREATE, O_TRUNC = 0, 1, 2, 0x200, 0x400


def _build(out: Path, sanitize: bool) -> Path:
    san = ["-fsanitize=address,undefined"] if sanitize else []
    objs = []
    defs = [f"-D{n}=k{n}" for n in RENAME]
    srcs = [XV6 / "kernel" / f"{k}.c" for k in KFILES] + [ROOT / "tests/kfs_host/kglue.c"]
    for src in srcs:
        obj = out / (src.stem + ".o")
        subprocess.run(["gcc", "-O1", "-g", "-Wall", "-Werror", "-Wno-format", "-fno-builtin",
                        *san, f"-I{XV6}", *defs, "-c", "-o", str(obj), str(src)], check=True)
        objs.append(str(obj))
    host = out / "host.o"
    subprocess.run(["gcc", "-O1", "-g", "-Wall", "-Werror", *san, f"-I{XV6}", "-c", "-o", str(host),
                    str(ROOT / "tests/kfs_host/host.c")], check=True)
    exe = out / "kfs"
    subprocess.run(["gcc", *san, "-o", str(exe), *objs, str(host)], check=True)
    return exe


@pytest.fixture(scope="module")
def tools(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("no host gcc")
    d = tmp_path_factory.mktemp("kfs")
    try:
        kfs = _build(d, sanitize=True)
        subprocess.run([str(kfs)], capture_output=True)  # sanitizer runtime present?
    except subprocess.CalledProcessError:
        kfs = _build(d, sanitize=False)
    mkfs = d / "mkfs"
    subprocess.run(["gcc", "-O2", "-Wall", "-Werror", f"-I{XV6}", "-o", str(mkfs),
                    str(XV6 / "mkfs/mkfs.c")], check=True)
    readme = d / "README"
    readme.write_bytes(b"storage layer test\n")
    base = d / "base.img"
    subprocess.run([str(mkfs), str(base), str(readme)], check=True)
    return kfs, base


def run(tools, tmp_path, script: str, image: Path | None = None, expect_rc=0):
    kfs, base = tools
    out = tmp_path / "out.img"
    r = subprocess.run([str(kfs), str(image or base), str(out)], input=script,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == expect_rc, r.stdout + r.stderr
    return r.stdout, out


def results(stdout: str) -> list[int]:
    return [int(line[2:]) for line in stdout.splitlines() if line.startswith("= ")]


def pattern(seed: int, n: int) -> bytes:
    """The bytes host.c's `fill` writes (same mixing function)."""
    m = 2**64 - 1
    out = bytearray()
    for i in range(n):
        x = (seed * 0x9E3779B97F4A7C15 + i * 0xBF58476D1CE4E5B9) & m
        x ^= x >> 31
        x = (x * 0x94D049BB133111EB) & m
        x ^= x >> 29
        out.append(x & 0xFF)
    return bytes(out)


def fnv(data: bytes) -> str:
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & (2**64 - 1)
    return f"{h:016x}"


def test_files_and_directories(tools, tmp_path):
    script = f"""
open README {O_RDONLY}
read 0 100
read 0 100
open x {O_CREATE | O_RDWR}
write 1 hi there\\n
close 1
open x {O_RDONLY}
read 1 100
fstat 1
open x {O_CREATE | O_WRONLY | O_TRUNC}
fstat 2
write 1 nope
mkdir d
mkdir d
open d {O_RDWR}
open d {O_RDONLY}
chdir d
open y {O_CREATE | O_WRONLY}
write 4 inside
chdir ..
unlink d
link x d/x2
fstat 1
link d e
link x README
unlink d/.
unlink d/..
unlink d/y
unlink d/x2
unlink d
unlink d
chdir d
open /x/z {O_CREATE | O_RDWR}
mknod cons 1 0
open cons {O_RDWR}
read 5 1
mknod bad 99 0
exit
"""
    out, img_path = run(tools, tmp_path, script)
    assert results(out) == [
        0, 19, 0,           # README read, then end of file
        1, 9, 0,            # create x, write, close
        1, 9,               # reopen and read
        0,                  # fstat
        2, 0,               # O_TRUNC open; now empty
        -1,                 # write to a read-only descriptor
        0, -1,              # mkdir d; again fails
        -1, 3,              # directory: no writing; reading ok
        0, 4, 6, 0,         # chdir, create d/y (cwd-relative), write, chdir ..
        -1,                 # d is not empty
        0, 0,               # link x d/x2; nlink is now 2
        -1,                 # no links to directories
        -1,                 # nor over an existing name
        -1, -1,             # never "." or ".."
        0, 0, 0, -1,        # empty d, then remove it; gone
        -1,                 # chdir to a removed directory
        -1,                 # x is not a directory
        0, 5, -1,           # console device node: no driver on the host
        -1,                 # major out of range
    ]
    assert '"storage layer test\\n"' in out
    assert '"hi there\\n"' in out
    lines = out.splitlines()
    stats = [ln for ln in lines if ln.startswith("dev=")]
    assert stats[0] == "dev=1 ino=3 type=2 nlink=1 size=9"
    assert stats[1] == "dev=1 ino=3 type=2 nlink=1 size=0"
    assert stats[2] == "dev=1 ino=3 type=2 nlink=2 size=0"
    assert img_nlink_after_failed_link(img_path) == 1

    img = FsImage.from_file(img_path)
    assert img.problems() == []
    assert img.listdir("/") == {".": 1, "..": 1, "README": 2, "x": 3, "cons": 6}
    assert img.read_path("/x") == b""
    cons = img.lookup("/cons")
    assert (cons.type, cons.major, cons.minor) == (3, 1, 0)
    # d (inode 4) and y (inode 5) were freed
    assert [d.inum for d in img.allocated_inodes()] == [1, 2, 3, 6]


def img_nlink_after_failed_link(path):
    """x ends with one link: d/x2 was removed and the failed link undone."""
    return FsImage.from_file(path).lookup("/x").nlink


def test_bad_arguments(tools, tmp_path):
    script = f"""
open README {O_RDONLY}
badread 0
badwrite 0
badfstat 0
badopen
badpipe
longpath 127
longpath 128
read 16 1
read -1 1
close 16
close 5
dup 7
fstat 3
open nosuch {O_RDONLY}
open README {O_RDWR | O_WRONLY}
open a/b {O_CREATE | O_RDWR}
open / {O_RDONLY}
mkdir /
unlink /
link nosuch other
open {'d' * 20} {O_CREATE | O_RDWR}
open {'d' * 14} {O_RDONLY}
badwrite 3
fstat 3
exit
"""
    out, img_path = run(tools, tmp_path, script)
    assert results(out) == [
        0, -1, -1, -1, -1, -1,
        1,        # a 127-character name fits in MAXPATH (and is cut to DIRSIZ)
        -1,       # 128 characters plus the NUL do not
        -1, -1, -1, -1, -1, -1,
        -1, -1, -1,
        2,        # "/" opens read-only
        -1, -1, -1,
        3, 4,     # names are cut to DIRSIZ characters
        -1, 0,    # a write from a bad buffer fails and leaves the file empty
    ]
    assert "dev=1 ino=4 type=2 nlink=1 size=0" in out
    img = FsImage.from_file(img_path)
    assert img.problems() == []
    assert set(img.listdir("/")) == {".", "..", "README", "a" * 14, "d" * 14}


def test_large_file_uses_indirect_block(tools, tmp_path):
    n = MAXFILE * BSIZE
    script = f"""
open big {O_CREATE | O_RDWR}
fill 0 {n} 5
fill 0 1 6
close 0
open big {O_RDONLY}
readsum 0 {n + 10}
exit
"""
    out, img_path = run(tools, tmp_path, script)
    assert results(out) == [0, n, -1, 0, 0, n]
    assert f"fnv {fnv(pattern(5, n))}" in out
    img = FsImage.from_file(img_path)
    assert img.problems() == []
    big = img.lookup("/big")
    assert big.size == n and big.addrs[NDIRECT] != 0
    assert img.read_path("/big") == pattern(5, n)


def test_disk_full_fails_cleanly_and_space_returns(tools, tmp_path):
    kfs, base = tools
    free_before = FsImage.from_file(base).superblock.size - len(FsImage.from_file(base).used_blocks())
    lines = []
    for i in range(9):     # 9 maximal files need more blocks than the disk has
        lines += [f"open f{i} {O_CREATE | O_WRONLY}", f"fill {i} {MAXFILE * BSIZE} {i}"]
    lines.append("exit")
    out, full = run(tools, tmp_path, "\n".join(lines) + "\n")
    r = results(out)
    writes = r[1::2]
    assert r[0::2] == list(range(9))
    assert -1 in writes and writes[0] == MAXFILE * BSIZE
    img = FsImage.from_file(full)
    assert img.problems() == []
    assert len(img.used_blocks()) == img.superblock.size   # really full

    # Deleting the files gives every block back.
    (tmp_path / "full.img").write_bytes(full.read_bytes())
    out, empty = run(tools, tmp_path, "\n".join(f"unlink f{i}" for i in range(9)) + "\nexit\n",
                     image=tmp_path / "full.img")
    assert results(out) == [0] * 9
    img = FsImage.from_file(empty)
    assert img.problems() == []
    assert img.superblock.size - len(img.used_blocks()) == free_before


def test_inodes_run_out_without_panic(tools, tmp_path):
    lines = []
    for i in range(200):
        lines += [f"open n{i} {O_CREATE | O_WRONLY}", "close 0"]
    lines.append("exit")
    out, img_path = run(tools, tmp_path, "\n".join(lines) + "\n")
    r = results(out)
    opens = r[0::2]
    # 200 inodes: 0 is never used, 1 is "/", 2 is README
    assert opens == [0] * 197 + [-1] * 3
    img = FsImage.from_file(img_path)
    assert img.problems() == []
    assert len(img.allocated_inodes()) == 199


def test_pipes(tools, tmp_path):
    script = """
pipe
fill 1 512 9
readsum 0 1000
write 1 abc
close 1
read 0 10
read 0 10
close 0
pipe
close 0
write 1 x
close 1
pipe
kill 1
read 0 5
write 1 abc
kill 0
fill 1 300 20
readsum 0 200
fill 1 400 21
readsum 0 1000
exit
"""
    out, _ = run(tools, tmp_path, script)
    assert results(out) == [
        0, 512, 512,    # a full ring, read back in one go
        3, 0,           # write, close the write end
        3, 0, 0,        # data, then end of file; close
        0, 0, -1, 0,    # new pipe, close its read end: writing fails
        0, -1, -1,      # killed: reading an empty pipe and writing fail
        300, 200,       # the reader leaves 100 bytes at offset 200
        400, 500,       # this write wraps around the end of the ring
    ]
    assert out.count("fds 0 1") == 3
    assert f"fnv {fnv(pattern(9, 512))}" in out
    assert f"fnv {fnv(pattern(20, 300)[:200])}" in out
    assert f"fnv {fnv(pattern(20, 300)[200:] + pattern(21, 400))}" in out


def test_bad_magic_panics_with_message(tools, tmp_path):
    _, base = tools
    bad = bytearray(base.read_bytes())
    bad[BSIZE:BSIZE + 4] = b"\0\0\0\0"
    (tmp_path / "bad.img").write_bytes(bytes(bad))
    out, _ = run(tools, tmp_path, "", image=tmp_path / "bad.img", expect_rc=3)
    assert "panic: fs_mount: the disk does not hold an xv6 file system" in out


# A workload of several transactions; 5000 bytes are written by one write()
# call, which file.c splits into two transactions (3 blocks, then the rest).
CRASH_SCRIPT = f"""
open a {O_CREATE | O_RDWR}
fill 0 5000 11
mkdir d
link a d/b
unlink README
exit
"""


def crash_states(img: FsImage):
    root = img.listdir("/")
    a = img.read_path("/a") if "a" in root else None
    d = img.listdir("/d") if "d" in root else None
    return ("a" in root, None if a is None else len(a), d is not None,
            d is not None and "b" in d, "README" in root), a


def test_crash_at_every_write_recovers_atomically(tools, tmp_path):
    out, _ = run(tools, tmp_path, CRASH_SCRIPT)
    total = int(out.split("disk writes ")[1].split()[0])
    assert total > 20
    seen = []
    for n in range(total + 1):
        out, crashed = run(tools, tmp_path, f"crash {n}\n" + CRASH_SCRIPT)
        (tmp_path / "crashed.img").write_bytes(crashed.read_bytes())
        # Reboot: fs_mount replays a committed log.
        out, rebooted = run(tools, tmp_path, "", image=tmp_path / "crashed.img")
        img = FsImage.from_file(rebooted)
        assert img.problems() == [], f"crash after {n} writes"
        state, data = crash_states(img)
        if data is not None:
            assert data == pattern(11, len(data))
        seen.append(state)
    # Only whole operations are visible, in program order.
    allowed = [
        (False, None, False, False, True),   # nothing yet
        (True, 0, False, False, True),       # a created
        (True, 3072, False, False, True),    # first chunk of the write
        (True, 5000, False, False, True),    # whole write
        (True, 5000, True, False, True),     # mkdir
        (True, 5000, True, True, True),      # link
        (True, 5000, True, True, False),     # unlink README
    ]
    assert all(s in allowed for s in seen), set(seen) - set(allowed)
    order = [allowed.index(s) for s in seen]
    assert order == sorted(order)
    assert set(order) == set(range(len(allowed)))


def test_directory_spanning_blocks_reuses_free_slots(tools, tmp_path):
    lines = []
    for i in range(100):               # 103 entries: the root spans two blocks
        lines += [f"open n{i} {O_CREATE | O_WRONLY}", "close 0"]
    lines += ["unlink n3", "unlink n70",
              f"open z1 {O_CREATE | O_WRONLY}", "close 0",
              f"open z2 {O_CREATE | O_WRONLY}", "close 0",
              f"open n99 {O_RDONLY}", f"open n3 {O_RDONLY}", "exit"]
    out, img_path = run(tools, tmp_path, "\n".join(lines) + "\n")
    assert results(out)[200:] == [0, 0, 0, 0, 0, 0, 0, -1]
    img = FsImage.from_file(img_path)
    assert img.problems() == []
    root = img.inode(1)
    assert root.size == 103 * 16          # freed slots were reused, no growth
    names = [name for _, name in img.dirents(root)]
    assert names[:3] == [".", "..", "README"]
    assert names[3 + 3] == "z1" and names[3 + 70] == "z2"
    assert names[-1] == "n99"
