"""The packages depend on each other one way only: ``server`` -> ``dashapp`` -> ``models``."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Each package, and the project packages it must never import.
FORBIDDEN = {"models": {"server", "dashapp"}, "dashapp": {"server"}}


def imported_packages(path: Path) -> set[str]:
    """The top-level names a module imports, at any depth of its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_flow_one_way(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_walker_sees_nested_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from server.config import x\n    import dashapp.cache\n")
    assert imported_packages(module) == {"server", "dashapp"}


def test_importing_models_stays_light() -> None:
    """``import models`` loads neither plotly, Dash nor Flask-Compress."""
    probe = (
        "import sys, models; "
        "print(sorted(m for m in ('plotly', 'dash', 'flask_compress', 'pandas', 'server') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
