"""The boot card's layout (soc/sdcard/layout.py) and `make sdcard`'s command line."""

import struct
import subprocess
import sys

import pytest

from soc.sdcard.layout import (card_image, read_layout, LayoutError, Partition,
                               PARTITION_TYPE)
from sim.sdcard import main

KERNEL = b"\x7fELF" + bytes(range(256)) * 3
FS = bytes(1024) + struct.pack("<II", 0x10203040, 3) + bytes(2048 - 8)


def entries(image):
    return [struct.unpack_from("<B3sB3sII", image, 446 + 16 * i) for i in range(4)]


def test_partition_table_and_contents():
    image = card_image(KERNEL, FS)
    assert len(image) == (4096 + 6) * 512
    assert image[510:512] == b"\x55\xaa"
    assert entries(image) == [
        (0, b"\xfe\xff\xff", PARTITION_TYPE, b"\xfe\xff\xff", 2048, 2048),
        (0, b"\xfe\xff\xff", PARTITION_TYPE, b"\xfe\xff\xff", 4096, 6),
        (0, b"\0\0\0", 0, b"\0\0\0", 0, 0), (0, b"\0\0\0", 0, b"\0\0\0", 0, 0)]
    assert image[2048 * 512:2048 * 512 + len(KERNEL)] == KERNEL
    assert not any(image[2048 * 512 + len(KERNEL):4096 * 512])
    assert image[4096 * 512:] == FS
    assert not any(image[512:2048 * 512])
    assert read_layout(image).kernel == Partition(2048, 2048)
    assert read_layout(image).fs == Partition(4096, 6)


def test_a_kernel_over_a_mib_gets_two():
    layout = read_layout(card_image(bytes(1 << 20) + b"x", FS))
    assert layout.kernel == Partition(2048, 4096) and layout.fs.start == 6144


@pytest.mark.parametrize("change, message", [
    (lambda img: img.__setitem__(slice(510, 512), b"\0\0"), "sector 0 holds no partition table"),
    (lambda img: img.__setitem__(446 + 4, 0x83), "partition 1 (the kernel) has type 0x83"),
    (lambda img: img.__setitem__(slice(462 + 12, 462 + 16), bytes(4)), "partition 2 (the file system)"),
])
def test_read_layout_refuses_other_cards(change, message):
    image = bytearray(card_image(KERNEL, FS))
    change(image)
    with pytest.raises(LayoutError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_layout(bytes(image))


def test_make_sdcard_writes_the_kernel_and_fs_unchanged(xv6_files, tmp_path, capsys):
    kernel, fs = xv6_files
    out = tmp_path / "card" / "sdcard.img"
    assert main([str(kernel), str(fs), "-o", str(out)]) == 0
    image = out.read_bytes()
    layout = read_layout(image)
    k, f = kernel.read_bytes(), fs.read_bytes()
    assert image[layout.kernel.start * 512:layout.kernel.start * 512 + len(k)] == k
    assert image[layout.fs.start * 512:] == f and layout.fs.sectors * 512 == len(f)
    printed = capsys.readouterr().out
    assert f"sudo dd if={out} of=/dev/sdX bs=1M conv=fsync" in printed
    assert f"sector {layout.fs.start:<8} partition 2: the file system" in printed


def test_bad_inputs_get_a_message(tmp_path, xv6_files):
    kernel, fs = xv6_files
    cases = [([str(fs), str(fs)], "not an ELF file"),
             ([str(kernel), str(kernel)], "not a multiple of 1024"),
             ([str(kernel), str(tmp_path / "none.img")], "cannot read the disk image")]
    for args, message in cases:
        r = subprocess.run([sys.executable, "-m", "sim.sdcard", *args, "-o",
                            str(tmp_path / "x.img")], capture_output=True, text=True)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
        assert not (tmp_path / "x.img").exists()
