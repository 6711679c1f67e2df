"""The xv6 disk image for the simulator: checked, copy-on-write, optionally written back.

``DiskImage.open(path)`` reads the whole file into memory after checking that it is
a plausible xv6 file system: a non-empty whole number of 1024-byte blocks, and the
superblock (block 1) carrying FSMAGIC with a size that fits in the file.  The engine
gets a private copy, so a simulated run never changes the file unless ``persist`` is
set; then ``write_back(image)`` replaces the file's contents with the final image (only
if something changed).
"""

import os
import struct

__all__ = ["DiskImage", "DiskError", "BLOCK_BYTES", "FSMAGIC"]

BLOCK_BYTES = 1024          # xv6 BSIZE
FSMAGIC = 0x10203040        # xv6 superblock magic (kernel/fs.h)


class DiskError(Exception):
    """The image cannot be used: the message says why."""


class DiskImage:
    def __init__(self, path, data, persist=False):
        self.path = path
        self.original = bytes(data)
        self.persist = persist

    @classmethod
    def open(cls, path, persist=False):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise DiskError(f"{path}: cannot read the disk image: {e.strerror}") from None
        cls.check(data, path)
        return cls(path, data, persist)

    @staticmethod
    def check(data, path="disk image"):
        if not data:
            raise DiskError(f"{path}: the disk image is empty")
        if len(data) % BLOCK_BYTES:
            raise DiskError(f"{path}: size {len(data)} is not a multiple of {BLOCK_BYTES} "
                            f"bytes (not an xv6 file system image)")
        if len(data) < 2 * BLOCK_BYTES:
            raise DiskError(f"{path}: too small for an xv6 file system ({len(data)} bytes)")
        magic, size = struct.unpack_from("<II", data, BLOCK_BYTES)
        if magic != FSMAGIC:
            raise DiskError(f"{path}: bad superblock magic {magic:#010x} (expected "
                            f"{FSMAGIC:#010x}): not an xv6 file system image")
        if size * BLOCK_BYTES > len(data):
            raise DiskError(f"{path}: the superblock says {size} blocks but the file holds "
                            f"{len(data) // BLOCK_BYTES}")

    def working_copy(self):
        """A private bytearray for the engine (copy-on-write: the file is untouched)."""
        return bytearray(self.original)

    def write_back(self, image):
        """With ``persist``, store the final image in the file; returns True if written."""
        if not self.persist or bytes(image) == self.original:
            return False
        if len(image) != len(self.original):
            raise DiskError("the simulated disk changed size")
        tmp = f"{self.path}.tmp{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(image)
        os.replace(tmp, self.path)
        self.original = bytes(image)
        return True
