"""Scripted mode (`make sim RUN="..."`): commands typed one per prompt, the transcript on
stdout, exit status 0; a command that does not come back in time gives a clear message
and status 1."""

import re
import subprocess
import sys

from .conftest import ROOT


def sim_boot(xv6_files, *args, timeout=600):
    kernel, fs_img = xv6_files
    return subprocess.run([sys.executable, "-m", "sim.boot", "--kernel", str(kernel),
                           "--fs", str(fs_img), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_commands_run_one_per_prompt(cxxrtl_model, xv6_files):
    # A program that prints a line like the kernel's panic message is not a panic:
    # user-mode instructions run after it (tests/sim/test_boot_panic.py has real ones).
    proc = sim_boot(xv6_files, "--run", "echo hello world; echo panic: only words; free")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"\$ echo hello world\nhello world\n\$ echo panic: only words\n"
                     r"panic: only words\n\$ free\nfree pages: \d+ \(\d+ KiB\)\n\$ $",
                     proc.stdout.rstrip("\n")), proc.stdout
    assert "first prompt after" in proc.stderr
    assert "panic" not in proc.stderr


def test_timeout_is_reported(cxxrtl_model, xv6_files):
    # the boot takes about 10 s, the whole systest many minutes
    proc = sim_boot(xv6_files, "--run", "systest", "--timeout", "30")
    assert proc.returncode == 1
    assert "error: timeout: 'systest' did not return to the prompt within 30 s" in proc.stderr
    assert "Traceback" not in proc.stderr
