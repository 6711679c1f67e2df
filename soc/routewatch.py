"""A watchdog for nextpnr's router: stop a routing run that has stopped converging.

nextpnr-ecp5 has no limit of its own on routing.  On a congested placement its routers
can run for hours without finishing: router2 on main 1d9407a's board netlist came down
to 500-830 overused wires and then diverged, rising again for as long as it was left
(2,438 overused wires at iteration 119, after about an hour); router1 once made no
progress at all on a HeAP placement.  The board build (soc/board/build.py) reads
nextpnr's log while it runs, feeds each line to a ``RouteWatch`` and stops nextpnr
with the watch's reason.

What each router prints, and what counts as progress:

- router1, every 1,000 arc iterations, a row of its table whose fourth column is the
  number of arcs still to route::

      Info:     371000 |    89993     271003 |   21   806 |       255|   1.27   556.70|

  It converges when that number keeps reaching new lows: in the four board builds
  that routed, a new low came at least every 3 rows, and in a congested
  out-of-context run that was still converging slowly, every 15.  With
  ``--tmg-ripup`` it rips up the arcs of failing paths once everything is routed::

      Info:     653 arcs ripped up due to negative slack WNS=-1.30ns TNS=-213.42ns.

  and routes again, its count starting afresh (on main e86bdcd's board netlist at
  50 MHz it rose from 1,187 to 18,505 arcs in the next 65,000 iterations): a new
  round, whose figures are not compared with the last round's.

- router2, once per iteration::

      Info:     iter=26 wires=846954 overused=825 overuse=830 archfail=NA

  Its overused wires fall fast at first and then, on a placement it can route, on to
  zero; when it diverges they reach a lowest value and then rise (825 at iteration
  26, 1,492 at 46).

A router is stopped when its figure has not gone below its lowest for ``patience``
reports (ROUTER1_PATIENCE rows, ROUTER2_PATIENCE iterations; None: never), or when it
has routed for longer than ``limit_s`` seconds if a limit is given.

``run_watched(cmd, cwd, log_path, watch)`` runs a command (the board's build script,
or nextpnr itself out of context: soc/ooc.py) while feeding the log it writes to a
watch, and ends the command's whole process group when the watch says so, or when
this process is interrupted (Ctrl-C: KeyboardInterrupt) or asked to end (SIGTERM,
SIGHUP: a CI job's timeout, ``kill``: ``Terminated``, a KeyboardInterrupt too), which
it raises once the tools are gone, rather than leaving a nextpnr of an hour's work
running on without its parent.
"""

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

__all__ = ["RouteWatch", "run_watched", "Terminated", "ROUTER1_PATIENCE", "ROUTER2_PATIENCE",
           "POLL_S"]

ROUTER1_PATIENCE = 100          # rows of 1,000 arc iterations (100,000 iterations)
ROUTER2_PATIENCE = 20           # iterations

_ROUTER1_ROW = re.compile(r"^Info:\s+(\d+)\s*\|\s*\d+\s+\d+\s*\|\s*\d+\s+\d+\s*\|\s*(\d+)\s*\|")
_ROUTER2_ITER = re.compile(r"^Info:\s+iter=(\d+)\s+wires=\d+\s+overused=(\d+)\b")
# router1's timing-driven rip-up (--tmg-ripup), after which it routes a new round
_ROUTER1_RIPUP = re.compile(r"^Info:\s+\d+ arcs ripped up due to negative slack")
# The lines with which each router begins.
_ROUTING_STARTS = ("Info: Routing..", "Info: Running router2")


class RouteWatch:
    """Reads nextpnr's log line by line (``feed``) and says when to stop routing.

    ``feed(line, now)`` returns None while routing may go on, or the reason to stop
    it (a sentence for the user, naming the router's figures; the caller adds what
    to try).  ``now`` is a time in seconds (time.monotonic());
    the time limit counts from the first line that shows routing under way.
    """

    def __init__(self, *, router1_patience=ROUTER1_PATIENCE,
                 router2_patience=ROUTER2_PATIENCE, limit_s=None):
        self.patience = {"router1": router1_patience, "router2": router2_patience}
        self.limit_s = limit_s
        self.router = None          # which router's reports have been seen
        self.started = None         # when routing was first seen under way
        self.last = None            # (iteration, figure) of the latest report
        self.lowest = None          # (iteration, figure) of the lowest figure
        self.since_lowest = 0       # reports since the lowest

    def feed(self, line, now):
        if _ROUTER1_RIPUP.match(line):          # a new round of router1: start again
            self.lowest, self.since_lowest = None, 0
        m1, m2 = _ROUTER1_ROW.match(line), _ROUTER2_ITER.match(line)
        if m1 or m2:
            router = "router1" if m1 else "router2"
            if router != self.router:           # a new run of the routers: start again
                self.router, self.lowest, self.since_lowest = router, None, 0
            m = m1 or m2
            self.last = (int(m[1]), int(m[2]))
            if self.lowest is None or self.last[1] < self.lowest[1]:
                self.lowest, self.since_lowest = self.last, 0
            else:
                self.since_lowest += 1
        if self.started is None and (m1 or m2 or line.startswith(_ROUTING_STARTS)):
            self.started = now
        patience = self.patience.get(self.router)
        if patience is not None and self.since_lowest >= patience:
            return self._stalled()
        if self.limit_s is not None and self.started is not None \
                and now - self.started > self.limit_s:
            return self._too_long()
        return None

    def _what(self, figure):
        return (f"{figure:,} arcs left to route" if self.router == "router1"
                else f"{figure:,} overused wires")

    def _where(self, report):
        it, figure = report
        unit = "arc iteration" if self.router == "router1" else "iteration"
        return f"{self._what(figure)} at {unit} {it:,}"

    def _stalled(self):
        n = self.patience[self.router]
        count = (f"{n * 1000:,} arc iterations" if self.router == "router1"
                 else f"{n} iterations")
        return (f"{self.router} stopped converging: {count} without going below its lowest, "
                f"{self._where(self.lowest)} (now {self._where(self.last)})")

    def _too_long(self):
        state = f" ({self._where(self.last)})" if self.last else ""
        minutes = self.limit_s / 60
        return (f"routing took longer than {minutes:g} minute{'' if minutes == 1 else 's'}"
                f"{state}")


# How often run_watched reads the log (seconds).
POLL_S = 5.0


class Terminated(KeyboardInterrupt):
    """This process got ``signum`` (SIGTERM or SIGHUP) while run_watched ran a command,
    which it has stopped.  An interrupt too: whoever handles Ctrl-C handles this."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _terminated(signum, frame):
    raise Terminated(signum)


def run_watched(cmd, cwd, log_path, watch, *, env=None, stdout=None, stderr=None,
                timeout=None, poll_s=None, say=print):
    """Run ``cmd`` in ``cwd``, reading ``log_path`` as it grows and feeding its lines
    to ``watch`` (a RouteWatch, or None to only run the command).  Returns (exit
    status, reason, stopped CPU seconds): the reason is None unless the watch stopped
    the command (or it ran longer than ``timeout`` seconds), which ends the command's
    process group, after ``say``-ing why; the CPU seconds are those of the processes
    it ended (which this process never waits for, so they are not in its children's
    time: a stopped board build reported 140 s of CPU for 1,112 s of nextpnr).
    ``stdout``/``stderr`` as for subprocess.Popen.  SIGTERM or SIGHUP while it runs
    stops the command and raises ``Terminated``."""
    poll_s = POLL_S if poll_s is None else poll_s
    deadline = None if timeout is None else time.monotonic() + timeout
    # A session of its own, so that the whole command (a shell, the tools it runs)
    # is stopped together; an interrupt (Ctrl-C) stops it too: the finally clause.
    # SIGTERM and SIGHUP would end this process at once, with the tools left running
    # in their own session: they raise Terminated instead, so that the finally clause
    # stops the tools.  (Signal handlers can be set from the main thread only.)
    before = {}
    if threading.current_thread() is threading.main_thread():
        before = {sig: signal.signal(sig, _terminated) for sig in (signal.SIGTERM, signal.SIGHUP)}
    log_path, offset, partial, reason, proc = Path(log_path), 0, b"", None, None
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=stdout, stderr=stderr,
                                start_new_session=True)
        while True:
            try:
                status = proc.wait(timeout=poll_s)
            except subprocess.TimeoutExpired:
                status = None
            if watch is not None and log_path.exists():
                with open(log_path, "rb") as f:
                    f.seek(offset)
                    text = partial + f.read()
                    offset = f.tell()
                *lines, partial = text.split(b"\n")
                now = time.monotonic()
                for line in lines:
                    reason = watch.feed(line.decode("utf-8", "replace"), now)
                    if reason:
                        break
                if reason is None and status is None:
                    reason = watch.feed("", now)        # the time limit, between lines
            if status is None and reason is None and deadline is not None \
                    and time.monotonic() > deadline:
                reason = f"it ran longer than {timeout:g} s"
            if status is not None:
                return status, None, 0.0
            if reason:
                say(f"stopping nextpnr: {reason}")
                cpu = _group_cpu_s(proc.pid)
                return _stop(proc), reason, cpu
    finally:
        for sig in before:              # (a second signal must not cut the stop short)
            signal.signal(sig, signal.SIG_IGN)
        if proc is not None and proc.poll() is None:
            _stop(proc)
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _group_cpu_s(pgid):
    """The CPU seconds of the processes in group ``pgid`` but its leader (the tools a
    shell runs; the leader is waited for, and its time counted, by its parent), with
    those of the children they waited for.  Read from Linux's /proc (0 elsewhere)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:                 # (ended meanwhile)
            continue
        # fields 5 (pgrp) and 14-17 (utime, stime, cutime, cstime) of proc(5)
        if int(fields[2]) == pgid and int(stat.parent.name) != pgid:
            total += sum(int(f) for f in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def _stop(proc):
    """End the process group of ``proc``: politely, then for certain."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    return proc.wait()
