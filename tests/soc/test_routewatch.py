"""The router watchdog (soc/routewatch.py) on the lines nextpnr-ecp5 0.11 writes."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from soc.routewatch import RouteWatch, run_watched
from tests.soc.test_board import gone

ROOT = Path(__file__).resolve().parents[2]

ROUTER1_HEADER = [
    "Info: Routing..",
    "Info: Setting up routing queue.",
    "Info: Routing 188203 arcs.",
    "Info:            |   (re-)routed arcs  |   delta    | remaining|       time spent     |",
    "Info:    IterCnt |  w/ripup   wo/ripup |  w/r  wo/r |      arcs| batch(sec) total(sec)|",
]


def router1_row(iteration, remaining):
    return (f"Info: {iteration:10d} |    89993     271003 |   21   806 | "
            f"{remaining:9d}|       1.27     556.70|")


def router2_row(iteration, overused):
    return (f"Info:     iter={iteration} wires=846954 overused={overused} "
            f"overuse={overused + 8} archfail=NA")


def feed_all(watch, lines, t0=0.0, step=1.0):
    """Feed ``lines`` one per ``step`` seconds; the first reason to stop, and after which line."""
    for i, line in enumerate(lines):
        reason = watch.feed(line, t0 + i * step)
        if reason:
            return i, reason
    return None, None


# router2 on main 1d9407a's board netlist, seed 2 (build/fpga/s2/top.tim): its lowest
# was 825 overused wires at iteration 26, and it rose from there.
S2 = [59992, 40864, 27226, 17896, 11578, 8034, 5740, 4261, 3521, 2837, 2439, 2051, 1810,
      1568, 1325, 1190, 1140, 1064, 1009, 956, 959, 934, 871, 869, 858, 825, 951, 946, 1039,
      1092, 1067, 1117, 1067, 1039, 1118, 1148, 1189, 1200, 1439, 1384, 1401, 1468, 1475,
      1522, 1454, 1492, 1500, 1510]


def test_router2_diverging_is_stopped_20_iterations_after_its_lowest():
    lines = ["Info: Running router2...", "Info: Running main router loop..."] + \
        [router2_row(i + 1, n) for i, n in enumerate(S2)]
    at, reason = feed_all(RouteWatch(), lines)
    assert lines[at] == router2_row(46, 1492)
    assert reason == ("router2 stopped converging: 20 iterations without going below its "
                      "lowest, 825 overused wires at iteration 26 (now 1,492 overused wires "
                      "at iteration 46)")


def test_router2_converging_is_left_alone():
    # a plateau shorter than the patience, then on to zero
    counts = [4000, 2000, 900, 500] + [520, 510, 505] * 6 + [480, 200, 30, 0]
    lines = [router2_row(i + 1, n) for i, n in enumerate(counts)]
    assert feed_all(RouteWatch(), lines) == (None, None)


def test_router1_stalling_is_stopped_and_converging_is_not():
    watch = RouteWatch(router1_patience=5)
    rows = [router1_row(1000 * (i + 1), n) for i, n in
            enumerate([187365, 186656, 186008, 186010, 186500, 186100, 186020, 186008, 186009])]
    at, reason = feed_all(watch, ROUTER1_HEADER + rows)
    # 186,008 at row 3; rows 4-8 are not below it: the fifth of them stops the router
    assert at == len(ROUTER1_HEADER) + 7
    assert reason == ("router1 stopped converging: 5,000 arc iterations without going below "
                      "its lowest, 186,008 arcs left to route at arc iteration 3,000 (now "
                      "186,008 arcs left to route at arc iteration 8,000)")
    # the same rows falling by one each time are progress
    rows = [router1_row(1000 * (i + 1), 1000 - i) for i in range(300)]
    assert feed_all(RouteWatch(router1_patience=5), ROUTER1_HEADER + rows) == (None, None)


def test_the_default_router1_patience_is_100_rows():
    rows = [router1_row(1000 * (i + 1), 15000 + (i % 2)) for i in range(101)]
    at, reason = feed_all(RouteWatch(), ROUTER1_HEADER + rows)
    assert at == len(ROUTER1_HEADER) + 100
    assert reason.startswith("router1 stopped converging: 100,000 arc iterations ")


def test_the_time_limit_counts_from_the_start_of_routing():
    # placement takes 50 s (not counted); routing starts at t=50
    lines = ["Info: Placing.."] * 50 + ROUTER1_HEADER + \
        [router1_row(1000 * (i + 1), 10000 - i) for i in range(200)]
    at, reason = feed_all(RouteWatch(limit_s=120), lines)
    assert at == 50 + 121
    assert reason == ("routing took longer than 2 minutes (9,884 arcs left to route at arc "
                      "iteration 117,000)")
    # a limit before any router's report says only the time
    watch = RouteWatch(limit_s=60)
    assert watch.feed("Info: Running router2...", 0.0) is None
    assert watch.feed("", 60.0) is None
    assert watch.feed("", 60.5) == "routing took longer than 1 minute"


def test_no_patience_never_stops_on_progress():
    watch = RouteWatch(router1_patience=None, router2_patience=None)
    lines = [router2_row(i + 1, n) for i, n in enumerate(S2 * 3)]
    assert feed_all(watch, lines) == (None, None)


def test_a_second_run_of_the_routers_starts_afresh():
    # router2 falls back to router1 for the last arcs in some flows: router1's counts
    # are not compared with router2's
    watch = RouteWatch(router1_patience=3)
    lines = [router2_row(i + 1, n) for i, n in enumerate([900, 300, 10])] + \
        ROUTER1_HEADER + [router1_row(1000 * (i + 1), 50 - i) for i in range(10)]
    assert feed_all(watch, lines) == (None, None)
    assert watch.router == "router1" and watch.lowest == (10000, 41)


# A process that runs a command under run_watched, as the board build runs its tools:
# the command starts a child of its own (as the build script starts nextpnr) and
# writes its pid.
RUNNER = """
import sys
from pathlib import Path
from soc.routewatch import Terminated, run_watched
work = Path(sys.argv[1])
try:
    run_watched(["sh", "-c", "sleep 120 & echo $! > child.pid; wait"], work,
                work / "log", None, poll_s=0.1)
except Terminated as e:
    print("terminated", e.signum)
    sys.exit(3)
print("the command ended by itself")
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_the_build_stops_its_tools(tmp_path, sig):
    # Without its handler, SIGTERM ended Python at once and left the tools running in
    # their own session: a killed board build left nextpnr routing for half an hour.
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(tmp_path)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    pid_file = tmp_path / "child.pid"
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline and proc.poll() is None, "the command never started"
        time.sleep(0.05)
    child = int(pid_file.read_text())
    assert not gone(child, wait_s=0)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    assert (proc.returncode, out) == (3, f"terminated {int(sig)}\n")
    assert gone(child, wait_s=5), "the command's child outlived the runner"


RIPUP = "Info:     653 arcs ripped up due to negative slack WNS=-1.30ns TNS=-213.42ns."


def test_router1_timing_ripup_starts_a_new_round():
    # --tmg-ripup: router1 routes everything but 270 arcs, rips up 653 for timing, and
    # its count restarts and rises (main e86bdcd at 50 MHz, seed 2: 1,187 to 18,505)
    # before it falls again; that round is not compared with the first one's lowest
    watch = RouteWatch(router1_patience=3)
    first = [router1_row(1000 * (i + 1), n) for i, n in enumerate([9000, 4000, 270])]
    again = [router1_row(1000 * (i + 1), n) for i, n in enumerate([1187, 3525, 18505])]
    assert feed_all(watch, ROUTER1_HEADER + first + [RIPUP] + again) == (None, None)
    assert watch.lowest == (1000, 1187) and watch.since_lowest == 2
    # ... but a stalled new round is stopped all the same, on its own figures
    assert watch.feed(router1_row(4000, 17000), 100.0) == (
        "router1 stopped converging: 3,000 arc iterations without going below its lowest, "
        "1,187 arcs left to route at arc iteration 1,000 "
        "(now 17,000 arcs left to route at arc iteration 4,000)")


BURN = ("import time\n"
        "start = time.process_time()\n"
        "while time.process_time() - start < 0.5:\n"
        "    pass\n"
        "open('burnt', 'w').close()\n"
        "time.sleep(120)\n")


class StopWhenBurnt:
    """A watch that stops the command once it has used its CPU time (``burnt``)."""

    def __init__(self, work):
        self.burnt = work / "burnt"

    def feed(self, line, now):
        return "it has burnt its CPU time" if self.burnt.exists() else None


def test_a_stopped_command_reports_the_cpu_time_of_what_it_stopped(tmp_path):
    # The tools that a stop ends are never waited for by this process, so their CPU
    # time would be lost (a stopped board build reported 140 s of CPU for 1,112 s of
    # nextpnr): run_watched reads it before it stops them.
    quoted = BURN.replace("'", "'\\''")
    cmd = ["sh", "-c", f"touch log; '{sys.executable}' -c '{quoted}'"]
    status, reason, cpu = run_watched(cmd, tmp_path, tmp_path / "log", StopWhenBurnt(tmp_path),
                                      timeout=120, poll_s=0.1, say=lambda message: None)
    assert reason == "it has burnt its CPU time"
    assert status == -signal.SIGTERM
    assert 0.5 <= cpu < 5
    # a command that ends by itself: its time is in this process's children's
    assert run_watched(["true"], tmp_path, tmp_path / "log", None, poll_s=0.1) == (0, None, 0.0)
