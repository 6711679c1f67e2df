"""Kernel console and process behaviour seen from the serial console (QEMU).

Complements tests/test_xv6_shell.py (K3) with the kernel features that the
shell tests do not reach: ^H and ^U editing, ^D in the middle of a line,
^P process listing, the boot line, and process 2 (the /crypto_srv
launcher) starting quietly.
"""

import re

import pytest

from tests import xv6_console

pytestmark = pytest.mark.qemu


def test_boot_banner_and_quiet_process_two(xv6):
    text = xv6.transcript()
    assert text.startswith("xv6 kernel: booting on hart 0\n")
    # Nothing but init's line between the banner and the prompt: pid 2
    # (crypto_srv) starts without a word.
    assert "xv6 kernel: booting on hart 0\ninit: starting sh\n$ " in text


def test_ctrl_h_erases_one_character(xv6):
    xv6.send("echo tyX\x08po\n")
    out = xv6.expect(xv6_console.PROMPT)
    # The terminal sees the erase as backspace, space, backspace.
    assert "X\b \b" in out
    assert out.endswith("typo\n"), out


def test_ctrl_u_kills_the_line(xv6):
    xv6.send("echo wrong words\x15echo right\n")
    out = xv6.expect(xv6_console.PROMPT)
    assert out.count("\b \b") == len("echo wrong words")
    assert out.endswith("right\n"), out


def test_erasing_an_empty_line_does_nothing(xv6):
    xv6.send("\x7f\x7f\x15echo empty-ok\n")
    out = xv6.expect(xv6_console.PROMPT)
    assert "\b" not in out
    assert out.endswith("empty-ok\n"), out


def test_ctrl_d_mid_line_delivers_the_partial_line(xv6):
    # xv6 semantics: ^D after "abc" hands "abc" to the reader and stays in
    # the buffer, so the reader's next read() returns 0 (end of file).
    # cat therefore prints "abc" once and exits; the shell lives on.
    xv6.send("cat\n")
    xv6.settle()
    xv6.send("abc\x04")
    out = xv6.expect(xv6_console.PROMPT)
    assert out == "abcabc", repr(out)     # the echo, then cat's output
    assert xv6.run("echo after") == "after\n"


def test_ctrl_d_at_line_start_is_end_of_file(xv6):
    xv6.send("wc\n")
    xv6.settle()
    xv6.send("one two\nthree\n\x04")
    out = xv6.expect(xv6_console.PROMPT)
    assert out.endswith("2 3 14\n"), repr(out)


def test_ctrl_p_lists_processes(xv6):
    xv6.settle()          # let sh finish printing its prompt and block in read
    xv6.send("\x10")
    listing = xv6.settle()
    entries = [l.split() for l in listing.splitlines() if l.strip()]
    assert ["1", "asleep", "init"] in entries, listing
    assert any(e[1:] == ["asleep", "sh"] for e in entries), listing
    for e in entries:
        assert len(e) == 3 and re.fullmatch(r"\d+", e[0]), listing
        assert e[1] in ("new", "asleep", "ready", "running", "zombie"), listing
    # Process 2 is the crypto server, waiting for requests.
    assert ["2", "asleep", "crypto_srv"] in entries, listing
    assert xv6.run("echo still") == "still\n"


def test_ctrl_p_shows_a_sleeping_background_job(xv6):
    xv6.send("sleep 300 &\n")
    xv6.expect(xv6_console.PROMPT)
    # The child first shows as "ready sleep" (exec done, not yet in its sleep
    # call); on a loaded host QEMU may take a while to get it there, so list
    # again until it blocks, for at most 10 listings.
    for _ in range(10):
        xv6.settle(quiet=0.5)
        xv6.send("\x10")
        listing = xv6.settle()
        entries = [l.split()[1:] for l in listing.splitlines() if l.strip()]
        if ["asleep", "sleep"] in entries:
            break
        assert ["ready", "sleep"] in entries or ["running", "sleep"] in entries, listing
    assert ["asleep", "sleep"] in entries, listing
