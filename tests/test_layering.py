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
        "    from heavytail.reports._kit.claim import Claim\n"
    )
    (tmp_path / "simulate").mkdir()
    (tmp_path / "simulate" / "_bad.py").write_text("from heavytail.theory._hill import hill\n")
    theory_bad = layering_violations("theory", tmp_path)
    assert len(theory_bad) == 3, theory_bad
    assert any("numba" in b for b in theory_bad)
    assert layering_violations("simulate", tmp_path) == [
        "simulate/_bad.py:1 imports private heavytail.theory._hill.hill of another package"
    ]


# The rooms inside reports/ (docs/design.md): sub-package -> the sibling rooms it may import.
# The claim kit is the foundation; claims are science written with the kit alone; sweeps
# and verify are machinery that never reach into one claim's module; the command line
# sits on top of everything.
ROOMS: dict[str, set[str]] = {
    "_kit": set(),
    "_parallel": set(),
    "_claims": {"_kit"},
    "_sweeps": {"_kit", "_parallel"},
    "_verify": {"_kit", "_claims", "_parallel"},
    "_cli": {"_kit", "_claims", "_verify", "_sweeps", "_parallel"},
}


def _room_imports(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, room) of every import of a room of reports/, relative or absolute."""
    tree = ast.parse(path.read_text(), filename=str(path))
    module_parts = package.split(".")
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level > 0:
                base = module_parts[: len(module_parts) - (node.level - 1)]
                dotted = [*base, *(node.module.split(".") if node.module else [])]
                names = [[*dotted, alias.name] for alias in node.names]
            elif node.module:
                names = [[*node.module.split("."), alias.name] for alias in node.names]
            else:
                continue
        elif isinstance(node, ast.Import):
            names = [alias.name.split(".") for alias in node.names]
        else:
            continue
        for parts in names:
            if parts[:2] == ["heavytail", "reports"] and len(parts) > 2:
                found.append((node.lineno, parts[2]))
    return found


def room_violations(root: Path = ROOT) -> list[str]:
    """Every import between the rooms of reports/ that the table ``ROOMS`` does not allow."""
    bad: list[str] = []
    reports = root / "reports"
    for room, allowed in ROOMS.items():
        for path in sorted((reports / room).rglob("*.py")):
            rel = path.relative_to(reports).with_suffix("")
            parts = list(rel.parts)
            package = ".".join(["heavytail", "reports", *parts[:-1]])
            if parts[-1] == "__init__":
                package = ".".join(["heavytail", "reports", *parts[:-1]])
            for line, target in _room_imports(path, package):
                if target != room and target.startswith("_") and target not in allowed:
                    where = path.relative_to(root)
                    bad.append(f"{where}:{line} imports {target} ({room} may not import it)")
    return bad


def test_every_module_of_reports_sits_in_a_room() -> None:
    loose = sorted(p.name for p in (ROOT / "reports").glob("*.py") if p.name != "__init__.py")
    assert loose == []
    rooms = sorted(p.name for p in (ROOT / "reports").iterdir() if (p / "__init__.py").exists())
    assert rooms == sorted(ROOMS)


def test_rooms_of_reports_follow_their_layering() -> None:
    assert room_violations() == []


def test_the_room_check_catches_a_wrong_import(tmp_path: Path) -> None:
    """Negative control: a kit module importing a claim and a sweep importing the registry."""
    for room in ROOMS:
        (tmp_path / "reports" / room).mkdir(parents=True)
    (tmp_path / "reports" / "_kit" / "bad.py").write_text(
        "from .._claims.registry import get_claim\n"
    )
    (tmp_path / "reports" / "_sweeps" / "bad.py").write_text(
        "def f():\n    from heavytail.reports._claims import nn_trend\n"
    )
    (tmp_path / "reports" / "_claims" / "ok.py").write_text(
        "from .._kit.verdict import Rule\nfrom .registry import get_claim\n"
    )
    assert room_violations(tmp_path) == [
        "reports/_kit/bad.py:1 imports _claims (_kit may not import it)",
        "reports/_sweeps/bad.py:2 imports _claims (_sweeps may not import it)",
    ]
