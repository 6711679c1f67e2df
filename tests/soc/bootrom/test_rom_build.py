"""Building the boot ROM (soc/bootrom/build.py): builds running side by side in one
build directory (two board builds of one checkout) each get the whole ROM, and a
build left half done is replaced."""

import threading
import time

import pytest

from soc.bootrom import build as rom_build_module
from soc.bootrom.build import rom_build
from tests.soc.programs.build import have_toolchain


@pytest.fixture(autouse=True)
def toolchain():
    if not have_toolchain():
        pytest.fail("riscv64-unknown-elf-gcc missing: run `make toolchain`", pytrace=False)


def test_builds_side_by_side_each_get_the_rom(tmp_path, monkeypatch):
    # Four builds started together, each tool run followed by a pause so that
    # their steps interleave (before the private work directories, two builds
    # met in one bootrom.bin.tmp and one failed with FileNotFoundError).
    run = rom_build_module._run

    def slow_run(cmd, cwd):
        out = run(cmd, cwd)
        time.sleep(0.3)
        return out

    monkeypatch.setattr(rom_build_module, "_run", slow_run)
    results, errors = [], []
    start = threading.Barrier(4)

    def build():
        start.wait()
        try:
            elf = rom_build(build_dir=tmp_path)
            results.append((elf, elf.with_suffix(".bin").read_bytes()))
        except Exception as e:            # (reported below, with the others)
            errors.append(e)

    threads = [threading.Thread(target=build) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 4
    elf, rom = results[0]
    assert all(r == (elf, rom) for r in results)
    assert len(rom) > 0 and len(rom) % 4 == 0
    # only the finished build is left: no work directory of any of the four
    assert [p.name for p in tmp_path.iterdir()] == [elf.parent.name]
    assert sorted(p.name for p in elf.parent.iterdir()) == \
        ["bootrom.bin", "bootrom.elf", "config.h", "link.ld"]


def test_a_build_left_half_done_is_replaced(tmp_path):
    elf = rom_build(build_dir=tmp_path)
    rom = elf.with_suffix(".bin").read_bytes()
    # an interrupted build: its directory without the ROM, and a stale ELF in it
    elf.with_suffix(".bin").unlink()
    elf.write_bytes(b"half")
    again = rom_build(build_dir=tmp_path)
    assert again == elf
    assert again.with_suffix(".bin").read_bytes() == rom
    assert again.read_bytes()[:4] == b"\x7fELF"
