"""Read an xv6 file system image (the format in shared/spec/facts.md, section 4).

Used by the tests to check what mkfs (and, after a QEMU run, the kernel) wrote.
Everything is read-only and little-endian:

    img = FsImage.from_file("build/xv6/fs.img")
    img.superblock.ninodes
    img.listdir("/")            -> {name: inum}
    img.read_path("/README")    -> bytes
    img.used_blocks()           -> set of block numbers the bitmap marks

A malformed image raises FsImageError with a message, never an IndexError.
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass

BSIZE = 1024
FSMAGIC = 0x10203040
ROOTINO = 1
NDIRECT = 12
NINDIRECT = BSIZE // 4
MAXFILE = NDIRECT + NINDIRECT
DIRSIZ = 14
DINODE_SIZE = 64          # short type, major, minor, nlink; uint size; uint addrs[13]
DIRENT_SIZE = 2 + DIRSIZ  # ushort inum; char name[DIRSIZ]
IPB = BSIZE // DINODE_SIZE
BPB = BSIZE * 8

T_DIR, T_FILE, T_DEVICE = 1, 2, 3


class FsImageError(Exception):
    """The image is not a well-formed xv6 file system."""


@dataclass(frozen=True)
class Superblock:
    magic: int
    size: int
    nblocks: int
    ninodes: int
    nlog: int
    logstart: int
    inodestart: int
    bmapstart: int

    FORMAT = "<8I"


@dataclass(frozen=True)
class Dinode:
    inum: int
    type: int
    major: int
    minor: int
    nlink: int
    size: int
    addrs: tuple[int, ...]  # NDIRECT direct blocks, then the indirect block

    FORMAT = "<4hI13I"


class FsImage:
    def __init__(self, data: bytes):
        if len(data) < 2 * BSIZE or len(data) % BSIZE:
            raise FsImageError(f"image of {len(data)} bytes is not a whole number "
                               f"of {BSIZE}-byte blocks with a superblock")
        self.data = bytes(data)
        self.superblock = Superblock(*struct.unpack_from(Superblock.FORMAT, self.data, BSIZE))
        sb = self.superblock
        if sb.magic != FSMAGIC:
            raise FsImageError(f"bad magic 0x{sb.magic:08x} (want 0x{FSMAGIC:08x})")
        if sb.size * BSIZE != len(self.data):
            raise FsImageError(f"superblock says {sb.size} blocks, file has "
                               f"{len(self.data) // BSIZE}")
        last_inode_block = sb.inodestart + (sb.ninodes - 1) // IPB
        if not (2 <= sb.logstart and sb.logstart + sb.nlog <= sb.inodestart
                and last_inode_block < sb.bmapstart and sb.bmapstart < sb.size):
            raise FsImageError(f"inconsistent superblock {sb}")

    @classmethod
    def from_file(cls, path) -> "FsImage":
        with open(path, "rb") as f:
            return cls(f.read())

    # ---- blocks -----------------------------------------------------------
    @property
    def datastart(self) -> int:
        """First data block: our mkfs gives the bitmap size // BPB + 1 blocks."""
        sb = self.superblock
        return sb.bmapstart + sb.size // BPB + 1

    def block(self, bno: int) -> bytes:
        if not 0 <= bno < self.superblock.size:
            raise FsImageError(f"block number {bno} outside the image")
        return self.data[bno * BSIZE:(bno + 1) * BSIZE]

    def used_blocks(self) -> set[int]:
        """Block numbers whose free-bitmap bit is set."""
        used = set()
        for bno in range(self.superblock.size):
            bits = self.block(self.superblock.bmapstart + bno // BPB)
            bit = bno % BPB
            if bits[bit // 8] >> (bit % 8) & 1:
                used.add(bno)
        return used

    # ---- inodes -----------------------------------------------------------
    def inode(self, inum: int) -> Dinode:
        if not 0 < inum < self.superblock.ninodes:
            raise FsImageError(f"inode number {inum} out of range")
        blk = self.block(self.superblock.inodestart + inum // IPB)
        fields = struct.unpack_from(Dinode.FORMAT, blk, (inum % IPB) * DINODE_SIZE)
        return Dinode(inum, fields[0], fields[1], fields[2], fields[3], fields[4],
                      tuple(fields[5:]))

    def allocated_inodes(self) -> list[Dinode]:
        return [d for d in (self.inode(i) for i in range(1, self.superblock.ninodes))
                if d.type != 0]

    def block_list(self, ino: Dinode) -> list[int]:
        """Data block numbers of the inode, in file order (0 = hole)."""
        nblocks = (ino.size + BSIZE - 1) // BSIZE
        if nblocks > MAXFILE:
            raise FsImageError(f"inode {ino.inum}: size {ino.size} beyond MAXFILE")
        blocks = list(ino.addrs[:NDIRECT])
        if nblocks > NDIRECT:
            if ino.addrs[NDIRECT] == 0:
                raise FsImageError(f"inode {ino.inum}: no indirect block")
            blocks += struct.unpack("<%dI" % NINDIRECT, self.block(ino.addrs[NDIRECT]))
        return blocks[:nblocks]

    def blocks_owned(self, ino: Dinode) -> set[int]:
        """Every block the inode points to, the indirect block included.

        This counts blocks past the end of the file too: a write that failed
        half-way may leave one there, and truncation frees it with the rest.
        """
        owned = {b for b in ino.addrs[:NDIRECT] if b}
        ind = ino.addrs[NDIRECT]
        if ind:
            owned.add(ind)
            owned |= {b for b in struct.unpack("<%dI" % NINDIRECT, self.block(ind)) if b}
        return owned

    def read_inode(self, ino: Dinode) -> bytes:
        out = bytearray()
        for b in self.block_list(ino):
            out += self.block(b) if b else bytes(BSIZE)
        return bytes(out[:ino.size])

    # ---- directories and paths ----------------------------------------------
    def dirents(self, ino: Dinode) -> list[tuple[int, str]]:
        """(inum, name) of every used slot of a directory, in order."""
        if ino.type != T_DIR:
            raise FsImageError(f"inode {ino.inum} is not a directory")
        raw = self.read_inode(ino)
        if len(raw) % DIRENT_SIZE:
            raise FsImageError(f"directory inode {ino.inum} has size {len(raw)}, "
                               f"not a multiple of {DIRENT_SIZE}")
        out = []
        for off in range(0, len(raw), DIRENT_SIZE):
            inum, name = struct.unpack_from("<H%ds" % DIRSIZ, raw, off)
            if inum:
                out.append((inum, name.split(b"\0", 1)[0].decode("latin-1")))
        return out

    def lookup(self, path: str) -> Dinode:
        ino = self.inode(ROOTINO)
        for part in [p for p in path.split("/") if p]:
            entries = dict((name, inum) for inum, name in self.dirents(ino))
            if part[:DIRSIZ] not in entries:
                raise FsImageError(f"{path}: no entry {part!r}")
            ino = self.inode(entries[part[:DIRSIZ]])
        return ino

    def listdir(self, path: str = "/") -> dict[str, int]:
        return {name: inum for inum, name in self.dirents(self.lookup(path))}

    def read_path(self, path: str) -> bytes:
        return self.read_inode(self.lookup(path))


    # ---- consistency ------------------------------------------------------------
    def problems(self) -> list[str]:
        """What is wrong with the image, as messages; [] for a consistent one.

        Checks (fsck-style): inode types, block numbers inside the data area,
        no block owned twice, the bitmap marks exactly metadata plus owned
        blocks, directories start with "." and "..", every entry names an
        allocated inode, link counts match the entries, nothing is orphaned,
        and the log header is empty.
        """
        out = []
        sb = self.superblock
        inodes = {d.inum: d for d in self.allocated_inodes()}
        owner: dict[int, int] = {}
        for d in inodes.values():
            if d.type not in (T_DIR, T_FILE, T_DEVICE):
                out.append(f"inode {d.inum}: bad type {d.type}")
                continue
            try:
                blocks = self.blocks_owned(d)
            except FsImageError as e:
                out.append(str(e))
                continue
            for b in blocks:
                if not self.datastart <= b < sb.size:
                    out.append(f"inode {d.inum}: block {b} outside the data area")
                elif b in owner:
                    out.append(f"block {b} owned by inodes {owner[b]} and {d.inum}")
                else:
                    owner[b] = d.inum
        expected = set(range(self.datastart)) | set(owner)
        used = self.used_blocks()
        if used - expected:
            out.append(f"bitmap marks unowned blocks {sorted(used - expected)[:10]}")
        if expected - used:
            out.append(f"bitmap misses owned blocks {sorted(expected - used)[:10]}")

        links = {inum: 0 for inum in inodes}
        links[ROOTINO] = 1                 # the root has no parent entry
        seen, todo = {ROOTINO}, [(ROOTINO, ROOTINO)]
        while todo:
            inum, parent = todo.pop()
            d = inodes.get(inum)
            if d is None or d.type != T_DIR:
                out.append(f"inode {inum} should be a directory")
                continue
            try:
                ents = self.dirents(d)
            except FsImageError as e:
                out.append(str(e))
                continue
            if ents[:2] != [(inum, "."), (parent, "..")]:
                out.append(f"directory {inum}: starts with {ents[:2]}")
            for child, name in ents:
                if name == "." or (name == ".." and inum == ROOTINO):
                    continue
                if child not in inodes:
                    out.append(f"directory {inum}: entry {name!r} names free inode {child}")
                    continue
                links[child] += 1
                if name != ".." and inodes[child].type == T_DIR:
                    if child in seen:
                        out.append(f"directory {child} has two parents")
                        continue
                    seen.add(child)
                    todo.append((child, inum))
        for inum, d in inodes.items():
            if links[inum] == 0:
                out.append(f"inode {inum} is allocated but has no directory entry")
            elif links[inum] != d.nlink:
                out.append(f"inode {inum}: nlink {d.nlink}, but {links[inum]} links")
        (count,) = struct.unpack_from("<i", self.block(sb.logstart))
        if count != 0:
            out.append(f"log header holds {count} uninstalled blocks")
        return out


def main(argv: list[str]) -> int:
    """`python -m tests.fsimage fs.img [path]`: list a directory or print a file."""
    if len(argv) not in (2, 3):
        print("usage: fsimage.py fs.img [path]", file=sys.stderr)
        return 2
    try:
        img = FsImage.from_file(argv[1])
        path = argv[2] if len(argv) == 3 else "/"
        ino = img.lookup(path)
        if ino.type == T_DIR:
            for inum, name in img.dirents(ino):
                d = img.inode(inum)
                print(f"{name:{DIRSIZ}} type={d.type} inum={inum} nlink={d.nlink} size={d.size}")
        else:
            sys.stdout.buffer.write(img.read_inode(ino))
    except (OSError, FsImageError) as e:
        print(f"fsimage: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
