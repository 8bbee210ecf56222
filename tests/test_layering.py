"""Imports flow one way: reports -> nn, simulate -> theory -> _lib (docs/design.md).

Every import statement of every module in the packages is read with ``ast`` (not run), so
that an import hidden inside a function is caught as well as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Folder -> the heavytail packages its modules may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "_lib": set(),
    "theory": {"_lib"},
    "simulate": {"_lib", "theory"},
    "nn": {"_lib", "theory"},
    "reports": {"_lib", "theory", "simulate", "nn"},
}
# Third-party packages a layer must never import, even lazily.
FORBIDDEN_THIRD_PARTY: dict[str, set[str]] = {
    "_lib": {"numba", "torch", "matplotlib", "scipy"},
    "theory": {"numba", "torch", "matplotlib"},
    "simulate": {"torch"},
    "nn": set(),
    "reports": set(),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every absolute import in ``path``; relative ones stay inside."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def layering_violations(folder: str, root: Path = ROOT) -> list[str]:
    """Every import in ``root/folder`` that runs against the layering, as readable lines."""
    bad: list[str] = []
    for path in sorted((root / folder).rglob("*.py")):
        where = path.relative_to(root)
        for line, name in _imports(path):
            parts = name.split(".")
            if parts[0] == "heavytail" and len(parts) > 1:
                target = parts[1]
                if target == folder:
                    continue
                if target not in ALLOWED[folder]:
                    bad.append(f"{where}:{line} imports {name} ({folder} may not import {target})")
                elif target != "_lib" and len(parts) > 2 and parts[2].startswith("_"):
                    bad.append(f"{where}:{line} imports private {name} of another package")
            elif parts[0] in FORBIDDEN_THIRD_PARTY[folder]:
                bad.append(f"{where}:{line} imports {parts[0]}, which {folder} must not use")
    return bad


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_imports_follow_the_layering(folder: str) -> None:
    assert layering_violations(folder) == []


def test_the_check_catches_a_wrong_import(tmp_path: Path) -> None:
    """Negative control: theory importing simulate, a private name, and numba all fail."""
    (tmp_path / "theory").mkdir()
    (tmp_path / "theory" / "_bad.py").write_text(
        "from heavytail.simulate import sgd_linear_regression\n"
        "def f():\n"
        "    import numba\n"
        "    from heavytail.reports._claim import Claim\n"
    )
    (tmp_path / "simulate").mkdir()
    (tmp_path / "simulate" / "_bad.py").write_text("from heavytail.theory._hill import hill\n")
    theory_bad = layering_violations("theory", tmp_path)
    assert len(theory_bad) == 3, theory_bad
    assert any("numba" in b for b in theory_bad)
    assert layering_violations("simulate", tmp_path) == [
        "simulate/_bad.py:1 imports private heavytail.theory._hill.hill of another package"
    ]
