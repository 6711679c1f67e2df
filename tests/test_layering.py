"""The packages' layers: hw <- soc <- sim (an arrow points at the user).

hw/ (the core, the MMU, the bus) imports neither soc nor sim; soc/ (the devices and
the SoC around the core) does not import sim (the engines, the ELF runner, the front
end).  Checked on the source: every import statement, at any depth (imports inside
functions included), absolute or relative.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: package -> the packages it must not import
FORBIDDEN = {"hw": {"soc", "sim"}, "soc": {"sim"}}


def imported_packages(path, root=ROOT):
    """The top-level packages a module imports (relative imports resolved)."""
    package = path.relative_to(root).parts[:-1]
    tree = ast.parse(path.read_text(), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.add(node.module.split(".")[0])
            else:
                base = package[:len(package) - (node.level - 1)]
                target = list(base) + (node.module.split(".") if node.module else [])
                found.add(target[0] if target else "")
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_upper_ones(layer):
    offenders = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        bad = imported_packages(path) & FORBIDDEN[layer]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(bad))}")
    assert not offenders, "\n".join(offenders)


def test_the_check_sees_imports(tmp_path):
    # The checker itself: absolute, relative and function-level imports are all found.
    pkg = tmp_path / "soc" / "sub"
    pkg.mkdir(parents=True)
    (pkg / "a.py").write_text("def f():\n    from sim.engine import make_engine\n")
    (pkg / "b.py").write_text("from ...sim import run\n")
    (pkg / "c.py").write_text("from .. import memmap\nimport amaranth.lib\n")
    assert imported_packages(pkg / "a.py", tmp_path) == {"sim"}
    assert imported_packages(pkg / "b.py", tmp_path) == {"sim"}
    assert imported_packages(pkg / "c.py", tmp_path) == {"soc", "amaranth"}
