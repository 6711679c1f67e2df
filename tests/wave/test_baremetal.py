"""The bare-metal scenario (tests/wave/programs/shared_page.S) end to end: the VCD's
walks against the Sv39 reference model, both engines giving the same files, the
.gtkw against the VCD, the SVG, the log."""

import xml.etree.ElementTree as ET

import pytest

from hw.mmu.pte import PTE_A, PTE_D
from hw.mmu.refmodel import BusError, translate
from hw.mmu.signatures import Access, EventKind
from sim.wave.cli import write_outputs
from sim.wave.gtkw import read_gtkw_signals
from sim.wave.scenario import run_baremetal
from sim.wave.vcd import PERIOD_NS, read_vcd

SHARED_PA = None        # found from the ELF below


@pytest.fixture(scope="module")
def dumps(toolchain, cxxrtl_model, tmp_path_factory):
    """The scenario on both engines with the default window sizes; files written."""
    out = {}
    for name in ("cxxrtl", "pysim"):
        d = tmp_path_factory.mktemp(name)
        cap = run_baremetal(name, 24, 8, 64, build_dir=d)
        out[name] = (cap, write_outputs(cap, d), d)
    yield out
    for cap, _, _ in out.values():
        cap.engine.close()


class Vcd:
    def __init__(self, path):
        self.vars, self.changes = read_vcd(path)

    def at(self, name, time):
        """Value of mmu_walks.<name> at a time."""
        ident, _ = self.vars["mmu_walks." + name]
        value = None
        for t, v in self.changes[ident]:
            if t > time:
                break
            value = v
        return value

    def times(self, name, value):
        ident, _ = self.vars["mmu_walks." + name]
        return [t for t, v in self.changes[ident] if v == value]


class RamView:
    """The engine's RAM as the reference model's memory (doublewords), with some
    doublewords replaced."""

    def __init__(self, engine, override=None):
        self.engine = engine
        self.override = dict(override or {})

    def read64(self, addr):
        if addr in self.override:
            return self.override[addr]
        try:
            return int.from_bytes(self.engine.read_ram(addr, 8), "little")
        except Exception:
            raise BusError(addr) from None

    def write64(self, addr, value):
        self.override[addr] = value


def test_walks_match_the_reference_model(dumps):
    cap, result, d = dumps["cxxrtl"]
    v = Vcd(d / "walks.vcd")
    engine = cap.engine
    ends = sorted(set(v.times("result.pte_s_walk", 1)))
    assert len(ends) == 4           # S load, U load, U store (sets D), U store fault
    outcomes = []
    for t in ends:
        kind = v.at("request.ev_kind", t)
        satp = v.at("satp.ev_satp", t)
        va = v.at("request.ev_vaddr", t)
        access = Access(v.at("request.ev_access", t))
        priv = v.at("request.priv", t)
        levels = [(v.at(f"levels.l{k}_pte_addr", t), v.at(f"levels.l{k}_pte", t)) for k in (2, 1, 0)]
        # the leaf as the walk read it (the last level-0 PTE_READ of this walk)
        reads = [rt for rt in v.times("request.ev_kind", EventKind.PTE_READ.value)
                 if t - 12 * PERIOD_NS < rt < t and v.at("pte.ev_level", rt) == 0]
        leaf_read = v.at("pte.ev_pte", reads[-1])
        leaf_addr = levels[2][0]
        final_leaf = int.from_bytes(engine.read_ram(leaf_addr, 8), "little")
        # only the hardware's A/D updates change a leaf after the program wrote it
        assert leaf_read & ~(PTE_A | PTE_D) == final_leaf & ~(PTE_A | PTE_D)
        ref = translate(RamView(engine, {leaf_addr: leaf_read}), satp, va, access, priv, sum=1)
        assert [(lvl, a) for lvl, a, _ in ref.reads] == [(2, levels[0][0]), (1, levels[1][0]),
                                                         (0, levels[2][0])]
        assert [p for _, _, p in ref.reads[:2]] == [levels[0][1], levels[1][1]]
        if kind == EventKind.WALK_DONE.value:
            assert ref.fault is None
            assert ref.pte == levels[2][1] == v.at("pte.ev_pte", t)   # after the A/D update
            assert ref.paddr == v.at("result.pa", t) == v.at("result.ev_paddr", t)
            assert [w for _, w in ref.writes] == ([levels[2][1]] if leaf_read != levels[2][1] else [])
            outcomes.append((va, access.name, "ok"))
        else:
            assert kind == EventKind.WALK_FAULT.value
            assert ref.cause == v.at("result.fault_cause", t) == 15
            outcomes.append((va, access.name, "fault"))
        assert v.at("flags.pte_s", t) == 1
    assert outcomes == [(0x1000, "LOAD", "ok"), (0x2000, "LOAD", "ok"),
                        (0x1000, "STORE", "ok"), (0x2000, "STORE", "fault")]
    # both virtual pages lead to one physical page
    pas = {v.at("result.pa", t) for t in ends if v.at("result.pa", t) is not None}
    assert len(pas) == 1


def test_engines_give_the_same_files(dumps):
    a, b = dumps["cxxrtl"][2], dumps["pysim"][2]
    for name in ("walks.vcd", "walks.log"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    # the SVG differs only in nothing: same rows, same drawing
    assert (a / "walk.svg").read_bytes() == (b / "walk.svg").read_bytes()
    cx, py = dumps["cxxrtl"][0], dumps["pysim"][0]
    assert [(w.start, w.rows) for w in cx.windows] == [(w.start, w.rows) for w in py.windows]


def test_gtkw_names_only_vcd_signals(dumps):
    _, _, d = dumps["cxxrtl"]
    variables, _ = read_vcd(d / "walks.vcd")
    known = set()
    for name, (_, width) in variables.items():
        known.add(name if width == "string" or width == 1 else f"{name}[{width - 1}:0]")
    names = read_gtkw_signals(d / "walks.gtkw")
    assert len(names) > 50
    assert set(names) <= known, set(names) - known
    text = (d / "walks.gtkw").read_text()
    assert f'[dumpfile] "{d / "walks.vcd"}"' in text
    for group in ("satp", "request", "per-level PTEs", "PTE flags", "result", "TLB"):
        assert f"-{group}" in text


def test_svg_is_well_formed_with_labels(dumps):
    _, result, d = dumps["cxxrtl"]
    root = ET.parse(d / "walk.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    walk = result["drawn"]
    assert walk.vaddr == 0x1000 and walk.ad_write     # the first S walk with an A/D write
    for label in ("clk", "event", "level", "pte_addr", "pte", "result", "WALK_START",
                  "PTE_READ", "AD_WRITE", "WALK_DONE", "V R W U A S", "0x80004008",
                  f"pa {walk.paddr:#x}"):
        assert label in texts, label
    assert any(t and t.startswith("Sv39 walk over a PTE_S page: va 0x1000") for t in texts)


def test_log_lines(dumps):
    _, result, d = dumps["cxxrtl"]
    lines = (d / "walks.log").read_text().splitlines()
    assert len(lines) == 4
    assert "va=0x1000 data LOAD" in lines[0] and "A/D write" in lines[0] and lines[0].endswith(" ok")
    assert "va=0x2000 data STORE" in lines[3] and lines[3].endswith("fault cause 15")
    assert all("root=0x" in line and "L2 0x" in line and "L1 0x" in line and "L0 0x" in line
               for line in lines)
