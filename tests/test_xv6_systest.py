"""Run the system test program (user/systest.c) on xv6 under QEMU.

systest prints "<group>: ok" per group and "ALL OK" last when every check
passed; each failed check prints a "FAIL <group>: ..." line.
"""

import pytest

pytestmark = pytest.mark.qemu

GROUPS = ["ulib", "printf", "fork", "exec", "pipe", "files", "dirs", "concurrent",
          "sbrk", "malloc", "kill", "badargs"]


@pytest.fixture(scope="module")
def systest_output(xv6):
    return xv6.run("systest", timeout=180)


def _failures(output):
    return "\n".join(line for line in output.splitlines() if line.startswith("FAIL "))


@pytest.mark.parametrize("group", GROUPS)
def test_group_passes(systest_output, group):
    lines = systest_output.splitlines()
    assert f"{group}: ok" in lines, (
        f"group {group} did not pass:\n{_failures(systest_output)}\n"
        f"--- full output ---\n{systest_output}")


def test_all_ok_is_the_last_line(systest_output):
    assert not _failures(systest_output), _failures(systest_output)
    assert systest_output.splitlines()[-1] == "ALL OK", systest_output


def test_groups_run_in_order_once_each(systest_output):
    seen = [line.split(":")[0] for line in systest_output.splitlines()
            if line.endswith(": ok") or ": FAILED (" in line]
    assert seen == GROUPS


def test_single_groups_and_unknown_group(xv6):
    assert xv6.run("systest pipe fork") == "fork: ok\npipe: ok\nALL OK\n"
    assert xv6.run("systest nope") == (
        "systest: no group nope (groups: " + " ".join(GROUPS) + ")\n")


def test_scratch_directory_is_removed(xv6, systest_output):
    assert xv6.run("ls /st_tmp") == "ls: cannot open /st_tmp\n"
