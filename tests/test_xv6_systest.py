"""The system test (user/systest.c, our usertests) on xv6 under QEMU.

systest runs each test in a child process.  A failed check prints a "FAIL <test>:
..." line; after each test comes "<test>: ok" or "<test>: FAILED (n)" (a test also
fails if its process dies or pages are missing afterwards), and the last line is
"ALL TESTS PASSED" or "N of M FAILED: <names>".  Plain `systest` runs every test
but the slow one; the slow one (dirfull, minutes) runs in `make test-slow`.
"""

import time

import pytest

from tests import xv6_console

pytestmark = pytest.mark.qemu

# (name, class): q runs in `systest -q` (and on the simulated SoC), n in `systest`,
# s only in `systest -a` or by name.
TESTS = [
    ("ulib", "q"), ("printf", "q"), ("fork", "q"), ("exec", "q"), ("pipe", "q"),
    ("files", "q"), ("dirs", "n"), ("concurrent", "n"), ("sbrk", "n"), ("malloc", "n"),
    ("kill", "q"), ("badargs", "q"), ("badexec", "q"), ("fdlimits", "q"),
    ("pipeload", "q"), ("procs", "q"), ("killpoints", "q"),
    ("filemax", "n"), ("inodes", "n"), ("diskfull", "n"), ("sbrklimit", "n"),
    ("oom", "n"),
    ("dirfull", "s"),
]
QUICK = [name for name, cls in TESTS if cls == "q"]
DEFAULT = [name for name, cls in TESTS if cls in "qn"]


def failures(output):
    return "\n".join(line for line in output.splitlines() if line.startswith("FAIL "))


def check_passed(output, names):
    """Every test in `names` passed, in that order, once each, and the summary says so."""
    assert not failures(output), f"{failures(output)}\n--- full output ---\n{output}"
    results = [line for line in output.splitlines()
               if line.endswith(": ok") or ": FAILED (" in line]
    assert results == [f"{name}: ok" for name in names], output
    assert output.splitlines()[-1] == "ALL TESTS PASSED", output
    assert "panic" not in output, output


@pytest.fixture(scope="module")
def systest_run(xv6):
    start = time.monotonic()
    output = xv6.run("systest", timeout=900)
    return output, time.monotonic() - start


def test_systest_passes(systest_run):
    output, seconds = systest_run
    print(f"systest on QEMU: {seconds:.1f} s")
    check_passed(output, DEFAULT)


def test_quick_subset(xv6):
    check_passed(xv6.run("systest -q", timeout=300), QUICK)


def test_listing(xv6):
    lines = xv6.run("systest -l").splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [f"{c} {n}" for n, c in TESTS]
    assert lines[-1] == "(q: quick, in systest -q; n: normal; s: slow, only in systest -a)"


def test_named_tests_run_in_table_order(xv6):
    assert xv6.run("systest pipe fork") == "fork: ok\npipe: ok\nALL TESTS PASSED\n"
    assert xv6.run("systest -q oom", timeout=60) == "oom: ok\nALL TESTS PASSED\n"


def test_bad_usage(xv6):
    assert xv6.run("systest nope") == "systest: no test nope (systest -l lists them)\n"
    usage = "usage: systest [-q] [NAME ...] | -a | -l\n"
    assert xv6.run("systest -x") == usage
    assert xv6.run("systest -a pipe") == usage
    assert xv6.run("systest -q -a") == usage


def test_scratch_directory_is_removed(xv6, systest_run):
    assert xv6.run("ls /st_tmp") == "ls: cannot open /st_tmp\n"


def test_a_failing_test_is_reported(xv6_build, tmp_path):
    # Fill the disk from the shell but for one copy of systest (room for the
    # scratch directory): filemax cannot write its file, says so, and pipe still runs.
    kernel, fs_img = xv6_build
    con = xv6_console.boot(tmp_path, kernel, fs_img)
    try:
        for i in range(40):
            con.run(f"cat systest > fill{i}", timeout=60)
        con.run("rm fill0")
        output = con.run("systest filemax pipe", timeout=300)
    finally:
        con.close()
    lines = output.splitlines()
    assert lines[0] == "pipe: ok", output            # table order: pipe first
    assert lines[1].startswith("FAIL filemax: blocks written, up to MAXFILE: got "), output
    assert all(line.startswith("FAIL filemax: ") for line in lines[1:-2]), output
    assert lines[-2] == f"filemax: FAILED ({len(lines) - 3})", output
    assert lines[-1] == "1 of 2 FAILED: filemax", output


@pytest.mark.slow
def test_dirfull(xv6_build, tmp_path):
    # A directory of MAXFILE blocks: ~17 k links, each a scan of the whole directory.
    kernel, fs_img = xv6_build
    con = xv6_console.boot(tmp_path, kernel, fs_img)
    try:
        check_passed(con.run("systest dirfull", timeout=3600), ["dirfull"])
    finally:
        con.close()
