"""A design seen before is found without converting it again (sim/cxxrtl/build.py,
design_fingerprint): the fingerprint of the design's sources and arguments names the
model directory in build/sim/index/."""

import json
from types import SimpleNamespace

import pytest

from sim.cxxrtl import build
from soc.soc import SoC


def tree(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_source_digest_follows_every_file_of_the_design(tmp_path):
    tree(tmp_path, {"hw/core.py": "a = 1\n", "soc/soc.py": "b = 2\n", "sim/driver.cc": "int x;\n",
                    "xv6/kernel/main.c": "int main;\n"})
    first = build.source_digest(tmp_path)
    assert build.source_digest(tmp_path) == first
    tree(tmp_path, {"xv6/kernel/main.c": "int other;\n",                  # not a design dir
                    "hw/__pycache__/core.cpython-311.pyc": "bytecode"})
    assert build.source_digest(tmp_path) == first
    tree(tmp_path, {"hw/core.py": "a = 2\n"})                             # an edit
    edited = build.source_digest(tmp_path)
    assert edited != first
    tree(tmp_path, {"sim/new.py": ""})                                    # a new file
    assert build.source_digest(tmp_path) not in (first, edited)
    (tmp_path / "sim/new.py").rename(tmp_path / "sim/renamed.py")         # a rename
    assert build.source_digest(tmp_path) not in (first, edited)


def test_the_fingerprint_names_sources_and_arguments(tmp_path):
    tree(tmp_path, {"hw/core.py": "a = 1\n", "pyproject.toml": "[project]\n"})
    one = build.design_fingerprint("(33554432, '[]')", tmp_path)
    assert len(one) == 24
    assert build.design_fingerprint("(33554432, '[]')", tmp_path) == one
    assert build.design_fingerprint("(65536, '[]')", tmp_path) != one
    tree(tmp_path, {"pyproject.toml": "[project]\nname = 'x'\n"})
    assert build.design_fingerprint("(33554432, '[]')", tmp_path) != one
    # no recipe, or one that prints an object's address: no fingerprint
    assert build.design_fingerprint(None, tmp_path) is None
    assert build.design_fingerprint("<object at 0x7f3a2c>", tmp_path) is None


def test_the_index_skips_making_and_converting_the_soc(tmp_path, monkeypatch):
    made, conversions = [], []
    rtlil = "rtlil of the design\n"
    def make_soc():
        made.append(1)
        return SimpleNamespace(ram_size=64 * 1024, card=None)   # too small to train
    def convert(soc):
        conversions.append(soc)
        return rtlil
    monkeypatch.setattr(build, "soc_rtlil", convert)
    first = build.ModelDir.of(make_soc, tmp_path, recipe="small")
    assert (len(made), len(conversions)) == (1, 1)
    assert (first.text, first.pgo) == (rtlil, False)
    assert first.path == tmp_path / f"cxxrtl-{build.model_key(rtlil, False)}"
    entry = tmp_path / "index" / build.design_fingerprint("small")
    assert json.loads(entry.read_text()) == {"dir": first.path.name, "pgo": False}
    # No model.cc yet (the build stopped before it): converted again.
    assert build.ModelDir.of(make_soc, tmp_path, recipe="small").path == first.path
    assert (len(made), len(conversions)) == (2, 2)
    first.path.mkdir(parents=True)
    (first.path / "model.cc").write_text("// the model\n")
    again = build.ModelDir.of(make_soc, tmp_path, recipe="small")
    assert (again.path, again.text, again.pgo) == (first.path, None, False)
    assert (len(made), len(conversions)) == (2, 2)
    # another recipe, or none, converts; a damaged entry is converted and rewritten
    build.ModelDir.of(make_soc, tmp_path, recipe="other")
    build.ModelDir.of(make_soc(), tmp_path)
    assert len(conversions) == 4
    assert sorted(p.name for p in (tmp_path / "index").iterdir()) == sorted(
        build.design_fingerprint(r) for r in ("small", "other"))
    entry.write_text("cxxrtl-0123\n")
    assert build.ModelDir.of(make_soc, tmp_path, recipe="small").path == first.path
    assert len(conversions) == 5
    assert json.loads(entry.read_text()) == {"dir": first.path.name, "pgo": False}


def test_a_model_seen_before_is_found_without_making_the_soc(cxxrtl_model, monkeypatch):
    # cxxrtl_model is the default SoC's tuned model in build/sim; the first call records
    # its fingerprint, the second finds the model without making or converting the SoC.
    recipe = "tests/sim/test_model_index.py: SoC()"
    assert build.build_model(SoC, recipe=recipe) == cxxrtl_model
    def refuse(*args):
        pytest.fail("the SoC was made or converted again")
    monkeypatch.setattr(build, "soc_rtlil", refuse)
    lines = []
    assert build.build_model(refuse, recipe=recipe, log=lines.append) == cxxrtl_model
    assert lines == []
