"""soc/heatmap.py: router2's wire-type heatmaps (nextpnr --router2-heatmap) read and
summarised.  The CSVs here have the shape nextpnr-ecp5 0.11 writes (a trailing comma
on every line, rows as long as their own type's maximum)."""

import pytest

from soc.heatmap import (COORDINATE, NET, TypeUse, heatmap_files, hot_blocks, main,
                         place_lines, read_grid, read_heatmap, read_nets, summarise)

ITER1 = """type,bound=0,bound=1,bound=2,bound=3,
H02,100,50,7,2,
V02,200,40,1,
LSR,10,5,
"""
ITER2 = """type,bound=0,bound=1,bound=2,
H02,105,52,2,
V02,200,41,0,
LSR,10,5,
"""


def test_read_heatmap_counts():
    types = read_heatmap(ITER1)
    assert set(types) == {"H02", "V02", "LSR"}
    h02 = types["H02"]
    assert h02.counts == (100, 50, 7, 2)
    assert (h02.wires, h02.used, h02.overused, h02.overuse) == (159, 59, 9, 7 + 2 * 2)
    assert types["V02"].counts == (200, 40, 1, 0)      # padded to the header's width
    assert (types["V02"].overused, types["V02"].overuse) == (1, 1)
    assert (types["LSR"].overused, types["LSR"].overuse) == (0, 0)


def test_read_heatmap_refuses_other_files():
    with pytest.raises(ValueError, match="not a router2"):
        read_heatmap("x,y\n1,2\n")
    with pytest.raises(ValueError, match="unexpected heatmap column"):
        read_heatmap("type,bound=0,bound=2,\nH02,1,2,\n")


def test_type_use_overuse():
    t = TypeUse("X", (0, 0, 0, 0, 3))     # three wires with four nets each
    assert (t.overused, t.overuse, t.used) == (3, 9, 3)


GRID = """0,0,0,0,
0,3,0,1,
0,0,0,0,
2,0,0,5,
"""
NETS = """rst,7
a[1],2
b,2
"""


def test_heatmap_files_in_iteration_order(tmp_path):
    for i in (10, 2, 1):
        (tmp_path / f"heat_congestion_by_wiretype_{i}.csv").write_text(ITER1)
    (tmp_path / "heat_congestion_by_wiretype_x.csv").write_text(ITER1)
    (tmp_path / "heatmap_congestion_by_wiretype_3.csv").write_text(ITER1)   # another prefix
    (tmp_path / "heat_congestion_by_net_4.csv").write_text(NETS)
    files = heatmap_files(tmp_path / "heat")
    assert list(files) == [1, 2, 10]
    assert files[10].name == "heat_congestion_by_wiretype_10.csv"
    assert list(heatmap_files(tmp_path / "heat", NET)) == [4]
    assert heatmap_files(tmp_path / "heat", COORDINATE) == {}


def test_grid_nets_and_blocks():
    grid = read_grid(GRID)
    assert grid == {(1, 1): 3, (1, 3): 1, (3, 0): 2, (3, 3): 5}     # a line per x
    assert hot_blocks(grid, 2, 8) == ([((2, 2), 5), ((0, 0), 3), ((2, 0), 2), ((0, 2), 1)], 11)
    assert hot_blocks(grid, 2, 2) == ([((2, 2), 5), ((0, 0), 3)], 11)
    assert read_nets(NETS) == {"rst": 7, "a[1]": 2, "b": 2}
    lines = place_lines({3: grid}, {3: read_nets(NETS)}, 3, block=2, top=2)
    assert lines == [
        "iteration 3: congestion by tile in x 1-3, y 0-3; the hottest 2x2-tile blocks:",
        "  x   2-  3  y   2-  3        5 (45.5%)",
        "  x   0-  1  y   0-  1        3 (27.3%)",
        "iteration 3: 3 nets with overused wires; the most:",
        "       7  rst",
        "       2  a[1]"]
    assert place_lines({}, {}, 3) == []


def test_summarise():
    lines = summarise({1: read_heatmap(ITER1), 2: read_heatmap(ITER2)})
    assert lines[:3] == ["iteration  overused wires  overuse",
                         "        1              10       12",
                         "        2               2        2"]
    table = lines[lines.index("overused wires by type (share of that type's used wires)") + 1:]
    assert table[0].split() == ["type", "iter", "1", "iter", "2"]
    # The worst type at the last iteration first; types never overused left out.
    assert table[1:] == ["H02               9 (15.3%)        2 ( 3.7%)",
                         "V02               1 ( 2.4%)        0 ( 0.0%)"]
    assert summarise({}) == ["no heatmap files"]
    assert summarise({1: read_heatmap("type,bound=0,bound=1,\nH02,1,2,\n")})[-1] == \
        "no overused wires"


def test_main(tmp_path, capsys):
    for i, text in ((1, ITER1), (2, ITER2)):
        (tmp_path / f"heat_congestion_by_wiretype_{i}.csv").write_text(text)
        (tmp_path / f"heat_congestion_by_coordinate_{i}.csv").write_text(GRID)
        (tmp_path / f"heat_congestion_by_net_{i}.csv").write_text(NETS)
    assert main([str(tmp_path / "heat"), "--iters", "1", "--block", "2"]) == 0
    out = capsys.readouterr().out
    assert "H02" in out and "iter 1" in out and "iter 2" not in out.split("share")[1]
    assert "iteration 1: congestion by tile in x 1-3, y 0-3; the hottest 2x2-tile blocks:" in out
    assert "iteration 2: congestion" not in out
    assert main([str(tmp_path / "heat")]) == 0       # first, best and last: 1 and 2
    out = capsys.readouterr().out
    assert "iteration 1: 3 nets" in out and "iteration 2: 3 nets" in out
    assert main([str(tmp_path / "none")]) == 1
    assert "no " in capsys.readouterr().err
