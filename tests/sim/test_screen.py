"""sim/terminal.py's Screen: console output and the status line never mix."""

import io

from sim.terminal import Screen


class Stream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def screen(tty=True):
    out, err = Stream(tty), Stream(tty)
    return Screen(out, err), out, err


def test_status_is_erased_before_console_output_and_drawn_after():
    s, out, err = screen()
    s.status("[sim] booting")
    assert err.getvalue() == "\r[sim] booting\x1b[K"
    s.console(b"line one\n")
    assert out.getvalue() == "line one\n"
    assert err.getvalue() == "\r[sim] booting\x1b[K" + "\r\x1b[K" + "\r[sim] booting\x1b[K"


def test_status_never_written_over_a_line_in_progress():
    s, out, err = screen()
    s.console(b"panic: could not")
    s.status("[sim] booting")
    assert err.getvalue() == ""                   # waits for the end of the line
    s.console(b" find virtio disk\n")
    assert out.getvalue() == "panic: could not find virtio disk\n"
    assert err.getvalue() == "\r[sim] booting\x1b[K"


def test_an_alert_starts_a_new_line():
    s, out, err = screen()
    s.console(b"$ ")
    s.status("[sim] interrupt storm", alert=True)
    assert err.getvalue() == "\n\r[sim] interrupt storm\x1b[K"
    assert out.getvalue() == "$ "


def test_no_redraws_when_not_a_terminal():
    for out_tty, err_tty in ((False, True), (True, False)):
        out, err = Stream(out_tty), Stream(err_tty)
        s = Screen(out, err)
        s.status("[sim] booting")
        s.console(b"hello\n")
        s.status("[sim] booting", alert=True)
        s.log("[sim] a message")
        assert out.getvalue() == "hello\n"
        assert err.getvalue() == "[sim] a message\n"


def test_log_ends_a_console_line_in_progress_first():
    s, out, err = screen(tty=False)
    s.console(b"$ ")
    s.log("[sim] interrupted")
    assert err.getvalue() == "\n[sim] interrupted\n"
