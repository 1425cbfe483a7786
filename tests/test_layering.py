"""The package layers: the core is a leaf, the satellite never needs the hub.

Checked on the import statements themselves (every module, including imports inside
functions) and by running the satellite's command in a process where the hub cannot load.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "familiar": ROOT / "familiar",
    "familiar_hub": ROOT / "hub" / "familiar_hub",
    "familiar_satellite": ROOT / "satellite" / "familiar_satellite",
    "familiar_testkit": ROOT / "familiar_testkit",
    "bench": ROOT / "bench",
}
# package -> the first-party packages it must never import
FORBIDDEN = {
    "familiar": {"familiar_hub", "familiar_satellite", "tests", "bench"},
    "familiar_satellite": {"familiar_hub", "tests", "bench"},
    "familiar_hub": {"familiar_satellite", "tests", "bench"},
    # what tests and benchmarks share lives in familiar_testkit; neither imports the other
    "familiar_testkit": {"tests", "bench"},
    "bench": {"tests"},
}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_package_never_imports_what_sits_beside_or_above_it(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in sorted(PACKAGES[package].rglob("*.py"))
        if ".ref-venv" not in path.parts
    }
    assert {path: bad for path, bad in offenders.items() if bad} == {}


def test_imported_roots_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from familiar_hub.app import run_hub\n    import tests.x\n")
    assert imported_roots(module) == {"familiar_hub", "tests"}


_WITHOUT_HUB = """
import importlib.abc, sys

class NoHub(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "familiar_hub" or name.startswith("familiar_hub."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoHub())
from familiar.cli import build_parser
parser = build_parser()
args = parser.parse_args(["satellite", "-c", "x.yaml"])
assert args.func.__module__ == "familiar_satellite.cli", args.func.__module__
import familiar_satellite.app, familiar_satellite.config, familiar_satellite.device
assert not [m for m in sys.modules if m.startswith("familiar_hub")]
print("commands:", sorted(parser._subparsers._group_actions[0].choices))
"""


def test_satellite_command_works_where_the_hub_is_absent() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_HUB], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    commands = done.stdout.split("commands:", 1)[1]
    assert "'satellite'" in commands
    assert "'hub'" not in commands
