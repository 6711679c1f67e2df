"""mkfs builds an image that fsimage.py (written from the format facts) reads back exactly."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fsimage import (BSIZE, BPB, DIRSIZ, FSMAGIC, IPB, MAXFILE, NDIRECT, ROOTINO,
                           T_DIR, T_FILE, FsImage, FsImageError)

ROOT = Path(__file__).resolve().parent.parent
XV6 = ROOT / "xv6"
NINODES = 200  # mkfs's inode count (task K2)


def param(name: str) -> int:
    """Evaluate a #define from kernel/param.h (integers and simple products)."""
    text = (XV6 / "kernel" / "param.h").read_text()
    defs = dict(re.findall(r"^#define\s+(\w+)\s+(\S+)", text, re.M))
    expr = defs[name]
    for other, val in defs.items():
        expr = re.sub(rf"\b{other}\b", val, expr)
    assert re.fullmatch(r"[0-9*()+ ]+", expr), expr
    return eval(expr)


FSSIZE = param("FSSIZE")
LOGSIZE = param("LOGSIZE")


@pytest.fixture(scope="module")
def mkfs(tmp_path_factory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("no host gcc")
    exe = tmp_path_factory.mktemp("mkfs") / "mkfs"
    subprocess.run(["gcc", "-O2", "-Wall", "-Werror", f"-I{XV6}", "-o", str(exe),
                    str(XV6 / "mkfs" / "mkfs.c")], check=True)
    return exe


def pattern(seed: int, n: int) -> bytes:
    """n deterministic pseudo-random bytes (an LCG), different for each seed."""
    out = bytearray()
    x = seed * 2654435761 + 1
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        out.append(x >> 56)
    return bytes(out)


# name in the image -> (host file name, contents)
FILES = {
    "small": ("small", b"hello, xv6\n"),
    "empty": ("empty", b""),
    "oneblock": ("oneblock", pattern(1, BSIZE)),
    # one leading '_' is stripped, as for the user programs
    "prog": ("_prog", pattern(2, 3 * BSIZE + 5)),
    # more than NDIRECT blocks, so the indirect block is used
    "big": ("big", pattern(3, (NDIRECT + 7) * BSIZE + 123)),
    # exactly DIRSIZ characters: fits, without a terminating NUL
    "x" * DIRSIZ: ("x" * DIRSIZ, b"fourteen\n"),
}


@pytest.fixture(scope="module")
def image(mkfs, tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    sub = d / "sub"
    sub.mkdir()
    paths = []
    for name, (host, data) in FILES.items():
        p = sub / host
        p.write_bytes(data)
        paths.append(str(p))
    out = d / "fs.img"
    r = subprocess.run([str(mkfs), str(out), *paths], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return FsImage.from_file(out)


def test_superblock(image):
    sb = image.superblock
    ninodeblocks = NINODES // IPB + 1
    nbitmap = FSSIZE // BPB + 1
    nmeta = 2 + LOGSIZE + ninodeblocks + nbitmap
    assert (sb.magic, sb.size, sb.ninodes, sb.nlog) == (FSMAGIC, FSSIZE, NINODES, LOGSIZE)
    assert sb.logstart == 2
    assert sb.inodestart == 2 + LOGSIZE
    assert sb.bmapstart == 2 + LOGSIZE + ninodeblocks
    assert sb.nblocks == FSSIZE - nmeta
    # With the current param.h (FSSIZE 2000, LOGSIZE 30) the numbers are:
    if (FSSIZE, LOGSIZE) == (2000, 30):
        assert (sb.logstart, sb.inodestart, sb.bmapstart, sb.nblocks) == (2, 32, 45, 1954)
    assert len(image.data) == FSSIZE * BSIZE


def test_root_directory(image):
    root = image.inode(ROOTINO)
    assert root.type == T_DIR and root.nlink == 1
    ents = image.dirents(root)
    assert ents[:2] == [(ROOTINO, "."), (ROOTINO, "..")]
    # files follow in command-line order, inodes numbered from 2
    assert ents[2:] == [(i + 2, name) for i, name in enumerate(FILES)]
    assert root.size == (2 + len(FILES)) * 16


def test_file_contents(image):
    for name, (_, data) in FILES.items():
        ino = image.lookup("/" + name)
        assert (ino.type, ino.nlink, ino.major, ino.minor) == (T_FILE, 1, 0, 0)
        assert ino.size == len(data)
        assert image.read_path("/" + name) == data
    big = image.lookup("/big")
    assert big.addrs[NDIRECT] != 0
    assert len(image.block_list(big)) == NDIRECT + 8
    assert image.lookup("/empty").addrs == (0,) * (NDIRECT + 1)
    # unused inodes are all zero
    assert len(image.allocated_inodes()) == 1 + len(FILES)


def test_bitmap_marks_exactly_used_blocks(image):
    owned = []
    for ino in image.allocated_inodes():
        owned += sorted(image.blocks_owned(ino))
    assert len(owned) == len(set(owned)), "a block belongs to two inodes"
    assert all(image.datastart <= b < FSSIZE for b in owned)
    expected = set(range(image.datastart)) | set(owned)
    assert image.used_blocks() == expected
    # blocks are handed out in order, without gaps
    assert expected == set(range(len(expected)))
    data_blocks = sum(-(-len(d) // BSIZE) for _, d in FILES.values())
    assert len(owned) == data_blocks + 1 + 1   # + root dir block + one indirect block


def run_mkfs(mkfs, out, *files):
    return subprocess.run([str(mkfs), str(out), *map(str, files)],
                          capture_output=True, text=True)


def test_missing_input(mkfs, tmp_path):
    r = run_mkfs(mkfs, tmp_path / "fs.img", tmp_path / "nosuchfile")
    assert r.returncode != 0
    assert "cannot open" in r.stderr and "nosuchfile" in r.stderr
    assert not (tmp_path / "fs.img").exists()


def test_name_too_long(mkfs, tmp_path):
    long = tmp_path / ("y" * (DIRSIZ + 1))
    long.write_bytes(b"x")
    r = run_mkfs(mkfs, tmp_path / "fs.img", long)
    assert r.returncode != 0
    assert "longer than DIRSIZ" in r.stderr


def test_duplicate_name(mkfs, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "_cat").write_bytes(b"1")
    (tmp_path / "cat").write_bytes(b"2")
    r = run_mkfs(mkfs, tmp_path / "fs.img", tmp_path / "a" / "_cat", tmp_path / "cat")
    assert r.returncode != 0 and "both be named 'cat'" in r.stderr


def test_file_too_large(mkfs, tmp_path):
    f = tmp_path / "huge"
    f.write_bytes(bytes(MAXFILE * BSIZE + 1))
    r = run_mkfs(mkfs, tmp_path / "fs.img", f)
    assert r.returncode != 0 and "larger than the largest xv6 file" in r.stderr


def test_image_too_small(mkfs, tmp_path):
    # MAXFILE blocks each: the data area cannot hold eight of them
    nfiles = FSSIZE // MAXFILE + 1
    files = []
    for i in range(nfiles):
        f = tmp_path / f"f{i}"
        f.write_bytes(bytes(MAXFILE * BSIZE))
        files.append(f)
    r = run_mkfs(mkfs, tmp_path / "fs.img", *files)
    assert r.returncode != 0 and "image too small" in r.stderr


def test_usage(mkfs):
    r = subprocess.run([str(mkfs)], capture_output=True, text=True)
    assert r.returncode != 0 and "usage" in r.stderr


def test_reader_rejects_bad_magic(image):
    bad = bytearray(image.data)
    bad[BSIZE] ^= 0xFF
    with pytest.raises(FsImageError, match="bad magic"):
        FsImage(bytes(bad))
