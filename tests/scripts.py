"""The repository's scripts that live outside a package (bench/, tools/, xv6/...),
loaded as modules so that tests can call their functions."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script(path):
    """The script at ``path`` (relative to the repository's root) as a new module
    named after its file."""
    path = ROOT / path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
