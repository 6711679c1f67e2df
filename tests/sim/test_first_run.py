"""The first `make sim` on a machine (issue 16): the quick model comes first and boots
xv6 to the prompt; the tuned one is built in the background and every later run uses
it without building anything (sim/cxxrtl/build.py)."""

import re
import time

import pytest

from sim.boot import Session
from sim.cxxrtl import build
from sim.disk import DiskImage
from sim.elf import load_elf
from sim.engine import CxxrtlEngine
from soc.soc import SoC



def boot_to_prompt(lib, xv6_files):
    kernel, fs_img = xv6_files
    engine = CxxrtlEngine(lib_path=lib)
    engine.load(load_elf(str(kernel), need_tohost=False))
    disk = DiskImage.open(str(fs_img))
    engine.set_disk(disk.working_copy())
    session = Session(engine, disk)
    text = session.boot(timeout=900)
    engine.close()
    return text, session.prompt_at[0]


def test_first_run_builds_a_quick_model_that_boots_xv6(xv6_files, tmp_path):
    lines = []
    lib = build.build_model(SoC(), build_dir=tmp_path, log=lines.append)
    assert lib.name == build.QUICK
    assert any(re.fullmatch(f"  compiling the model: g\\+\\+ {' '.join(build.QUICK_FLAGS)}: "
                            r"\d+ s \(\d+ s CPU\)", line) for line in lines), lines
    assert not (lib.parent / build.TUNED).exists()
    assert not (lib.parent / "tuned.log").exists()     # SIM_BACKGROUND_BUILD=0 in tests
    text, stats = boot_to_prompt(lib, xv6_files)
    assert "init: starting sh" in text
    assert stats.instret > 100_000


def test_a_later_run_uses_the_tuned_model_without_building(cxxrtl_model):
    # cxxrtl_model is the tuned model of build/sim; a run now finds it and builds nothing.
    assert cxxrtl_model.name == build.TUNED
    stamp = cxxrtl_model.stat().st_mtime_ns
    lines = []
    assert build.build_model(SoC(), log=lines.append) == cxxrtl_model
    assert lines == []
    assert cxxrtl_model.stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_the_background_build_is_used_on_the_next_run(xv6_files, tmp_path, monkeypatch):
    # The whole first-run path in a fresh build directory: quick model, tuned build
    # started in the background, and the next run takes the tuned model.
    monkeypatch.setenv(build.BACKGROUND_ENV, "1")
    lines = []
    quick = build.build_model(SoC(), build_dir=tmp_path, log=lines.append)
    assert quick.name == build.QUICK
    assert any("in the background" in line for line in lines), lines
    md = quick.parent
    deadline = time.monotonic() + 3 * 3600
    while not (md / build.TUNED).exists():
        assert time.monotonic() < deadline, (md / "tuned.log").read_text()
        time.sleep(5)
    while build.tuned_build_running(build.ModelDir(md, "", True)):
        time.sleep(1)
    assert "error" not in (md / "tuned.log").read_text()
    lines = []
    tuned = build.build_model(SoC(), build_dir=tmp_path, log=lines.append)
    assert tuned == md / build.TUNED and lines == []
    text, _ = boot_to_prompt(tuned, xv6_files)
    assert "init: starting sh" in text


def test_each_step_reports_its_time_and_the_last_one(tmp_path, monkeypatch):
    # The records live in $XDG_CACHE_HOME/rvxv6; the second build of a step is
    # compared with the first.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for attempt in range(2):
        lines, status = [], []
        rep = build.Reporter(lines.append, status.append)
        rep.run("a step", "sleeping", ["sleep", "2.2"], cwd=tmp_path, error="sleep failed")
        said = [s for s in status if s]
        assert said and status[-1] is None              # cleared when the step ends
        assert lines[-1] in ("  sleeping: 2 s (0 s CPU)", "  sleeping: 3 s (0 s CPU)"), lines
        if attempt == 0:
            assert lines[0] == "  sleeping (first time on this machine)"
            assert said[0] == "[sim] sleeping: 1 s"
        else:
            assert lines[0] == "  sleeping (took 2 s last time)"
            assert said[0] == "[sim] sleeping: 1 s of about 2 s"
    assert 2.0 <= build.last_times()["a step"] < 10


def test_a_failed_step_is_a_build_error(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    rep = build.Reporter()
    with pytest.raises(build.BuildError, match="false failed:\nfalse"):
        rep.run("x", "x", ["false"], cwd=tmp_path, error="false failed")
    assert "x" not in build.last_times()
