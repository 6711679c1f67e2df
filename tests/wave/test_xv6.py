"""`make wave`'s default scenario on cxxrtl: xv6 runs shmem_test2 and crypto_cli, and the
log names the walks over PTE_S pages with their process.

The process behind a page-table root comes from the kernel's own process table in RAM,
located and decoded with the kernel's DWARF (sim/wave/procs.py), so this test does not
assume a layout: it checks that the table found has NPROC entries, that pid 2 is
crypto_srv, that pid 2's root at the end of the run is the root of a logged PTE_S walk,
and that the walk's pointer PTEs are in RAM where the log says."""

import io
import re

import pytest

from sim.wave.cli import write_outputs
from sim.wave.procs import ProcTableLayout
from sim.wave.scenario import run_xv6
from tests.test_xv6_assignment3 import SENTENCE, check_shmem_test2

NPROC = 16


@pytest.fixture(scope="module")
def dump(cxxrtl_model, xv6_files, tmp_path_factory):
    kernel, fs = xv6_files
    out = io.StringIO()
    cap = run_xv6("cxxrtl", ["shmem_test2", "crypto_cli"], 24, 8, 64, kernel=kernel, fs=fs,
                  timeout=300, out=out)
    d = tmp_path_factory.mktemp("xv6wave")
    yield cap, write_outputs(cap, d), d, out.getvalue()
    cap.engine.close()


def test_the_programs_ran(dump):
    cap, _, _, console = dump
    assert "$ crypto_cli\n" + SENTENCE + "\n$ " in console
    part = console.split("$ shmem_test2\n", 1)[1].split("$ crypto_cli", 1)[0]
    check_shmem_test2(part)


def test_log_has_a_pte_s_walk_of_crypto_srv(dump, xv6_files):
    cap, result, d, _ = dump
    lines = (d / "walks.log").read_text().splitlines()
    assert lines
    mine = [line for line in lines if "(pid 2 crypto_srv)" in line]
    assert mine, lines
    layout = ProcTableLayout.from_kernel(xv6_files[0])
    assert layout.count == NPROC
    table = layout.read(cap.engine)
    roots = {pid: root for root, (pid, _) in table.items()}
    assert table[roots[2]] == (2, "crypto_srv")
    m = re.search(r"root=(0x[0-9a-f]+) \(pid 2 crypto_srv\)", mine[0])
    assert int(m.group(1), 16) == roots[2]
    # the pointer PTEs as logged are what RAM holds; the leaf is either unchanged or
    # gone (the server unmaps a request's pages when it is done with them)
    steps = re.findall(r"L(\d) (0x[0-9a-f]+)=(0x[0-9a-f]+)", mine[0])
    assert [int(lvl) for lvl, _, _ in steps] == [2, 1, 0]
    for lvl, addr, value in steps:
        ram = int.from_bytes(cap.engine.read_ram(int(addr, 16), 8), "little")
        assert ram == int(value, 16) or (lvl == "0" and ram == 0)
    flags = re.search(r"leaf \[([A-Z ]+)\]", mine[0]).group(1).split()
    assert "S" in flags and "V" in flags and "U" in flags
    assert mine[0].endswith(" ok")


def test_files_written(dump):
    cap, result, d, _ = dump
    assert result["drawn"] is not None
    for name in ("walks.vcd", "walks.gtkw", "walk.svg", "walks.log"):
        assert (d / name).stat().st_size > 0
    assert (d / "walks.vcd").stat().st_size < 2_000_000
    # the picture names the process of the walk it draws
    walk = result["drawn"]
    pid, name = cap.procs.owner(walk.root, walk.end)
    assert f"ASID 0 (pid {pid} {name}), cycles {walk.start}..{walk.end}" in (d / "walk.svg").read_text()
