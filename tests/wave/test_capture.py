"""The capture windows: the window rules on synthetic samples, and --wave-before,
--wave-after and --wave-max on the bare-metal scenario in both engines."""

import pytest

from hw.mmu.signatures import EventKind
from sim.wave.capture import WindowCapture, trigger_row
from sim.wave.scenario import run_baremetal
from sim.wave.walks import find_walks

DONE, FAULT, READ = EventKind.WALK_DONE.value, EventKind.WALK_FAULT.value, EventKind.PTE_READ.value
S_LEAF = 0x20001000 | 0x100 | 0x17          # V R W U + PTE_S


def feed(cap, triggers, cycles):
    """Cycles 0..cycles-1; a PTE_S WALK_DONE at each cycle in triggers; the one
    column is the cycle number times 10."""
    for c in range(cycles):
        hit = c in triggers
        if not cap.sample(c, 1 if hit else 0, DONE if hit else 0, S_LEAF if hit else 0, [10 * c]):
            return c
    return None


def windows_of(cap):
    out = {}
    for number, cycle, value in cap.take():
        assert value == 10 * cycle
        out.setdefault(number, []).append(cycle)
    return [out[k] for k in sorted(out)]


def test_trigger_condition():
    assert trigger_row(1, DONE, S_LEAF)
    assert not trigger_row(0, DONE, S_LEAF)                 # no event
    assert not trigger_row(1, DONE, S_LEAF & ~0x100)        # no PTE_S
    assert not trigger_row(1, READ, S_LEAF)                 # a read is not the end
    assert trigger_row(1, FAULT, S_LEAF)                    # fault on an S leaf
    assert not trigger_row(1, FAULT, 0x100 | 0x1)           # S on a pointer: no leaf


def test_window_before_after_exact():
    cap = WindowCapture(1, before=5, after=3, max_windows=10)
    feed(cap, {20, 50}, 80)
    assert windows_of(cap) == [list(range(15, 24)), list(range(45, 54))]


def test_retrigger_extends_and_windows_never_overlap():
    cap = WindowCapture(1, before=5, after=3, max_windows=10)
    feed(cap, {20, 22, 27}, 40)
    # 22 is inside the first window and extends it; 27 comes 2 cycles after it
    # closed, so its window has only those 2 cycles before the trigger
    assert windows_of(cap) == [list(range(15, 26)), list(range(26, 31))]


def test_short_history_and_zero_lengths():
    cap = WindowCapture(1, before=8, after=0, max_windows=10)
    feed(cap, {3}, 10)
    assert windows_of(cap) == [[0, 1, 2, 3]]
    cap = WindowCapture(1, before=0, after=2, max_windows=10)
    feed(cap, {3}, 10)
    assert windows_of(cap) == [[3, 4, 5]]


def test_max_windows_disarms():
    cap = WindowCapture(1, before=1, after=1, max_windows=2)
    stopped = feed(cap, {10, 20, 30, 40}, 50)
    assert stopped == 21                # the capture ends with the second window
    assert windows_of(cap) == [[9, 10, 11], [19, 20, 21]]
    assert (cap.windows, cap.triggers) == (2, 2)


@pytest.fixture(scope="module", params=["cxxrtl", "pysim"])
def small(request, toolchain, tmp_path_factory):
    if request.param == "cxxrtl":
        request.getfixturevalue("cxxrtl_model")
    cap = run_baremetal(request.param, 5, 3, 2, build_dir=tmp_path_factory.mktemp("w"))
    yield cap
    cap.engine.close()


def test_engine_windows_exact(small):
    """--wave-before 5 --wave-after 3 --wave-max 2: two windows of 9 cycles each, the
    trigger (the PTE_S walk's WALK_DONE) sixth; then the capture is off."""
    assert len(small.windows) == 2
    walks = find_walks(small.windows)
    ends = [w.end for w in walks if w.shared]
    assert len(ends) == 2
    for window, end in zip(small.windows, ends):
        assert len(window.rows) == 5 + 1 + 3
        assert window.start == end - 5
        trig = window.rows[5]
        assert trig["ev_valid"] and trig["ev_kind"] == DONE and trig["ev_pte"] & 0x100
    windows, triggers, armed, is_open, queued = small.info
    assert (windows, triggers, armed, is_open, queued) == (2, 2, 0, 0, 0)


def expected_windows(ends, before, after, first_cycle=0):
    """The windows the rules give for triggers at the cycles ``ends``."""
    windows = []
    for t in ends:
        if windows and t <= windows[-1][1]:
            windows[-1][1] = t + after              # inside the open window: extend
        else:
            floor = windows[-1][1] + 1 if windows else first_cycle
            windows.append([max(t - before, floor), t + after])
    return [tuple(w) for w in windows]


@pytest.fixture(scope="module", params=["cxxrtl", "pysim"])
def overlapping(request, toolchain, tmp_path_factory):
    if request.param == "cxxrtl":
        request.getfixturevalue("cxxrtl_model")
    cap = run_baremetal(request.param, 40, 60, 64, build_dir=tmp_path_factory.mktemp("w"))
    yield cap
    cap.engine.close()


def test_engine_windows_short_history_and_retrigger(overlapping):
    """--wave-before 40 --wave-after 60 on the scenario's four walks (some less than 40
    + 60 cycles apart): windows shortened after a previous one and extended by a
    trigger inside them, in both engines' captures."""
    ends = [w.end for w in find_walks(overlapping.windows) if w.shared]
    assert len(ends) == 4
    got = [(w.start, w.end) for w in overlapping.windows]
    assert got == expected_windows(ends, 40, 60)
    # the walks are close enough for both rules to matter
    firsts = [min(t for t in ends if s <= t <= e) for s, e in got]
    assert any(first - s < 40 for first, (s, _) in zip(firsts, got))
    assert any(sum(s <= t <= e for t in ends) > 1 for s, e in got)
