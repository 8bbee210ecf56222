"""Every package re-exports exactly its public names, and importing theory stays light."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["heavytail.theory", "heavytail.simulate", "heavytail.nn", "heavytail.reports"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_matches_public_names(name: str) -> None:
    mod = importlib.import_module(name)
    public = {
        n
        for n, v in vars(mod).items()
        if not n.startswith("_") and not isinstance(v, type(importlib))  # skip submodules
    }
    assert set(mod.__all__) == public, (
        f"{name}: names public but not in __all__: {sorted(public - set(mod.__all__))}; "
        f"in __all__ but missing: {sorted(set(mod.__all__) - public)}"
    )
    assert len(mod.__all__) == len(set(mod.__all__)), f"{name}.__all__ has duplicates"


@pytest.mark.parametrize("name", PACKAGES)
def test_public_names_have_docstrings(name: str) -> None:
    mod = importlib.import_module(name)
    missing = [n for n in mod.__all__ if callable(getattr(mod, n)) and not getattr(mod, n).__doc__]
    assert not missing, f"{name}: public names without a docstring: {missing}"


def test_heavytail_is_a_namespace() -> None:
    import heavytail

    assert getattr(heavytail, "__file__", None) is None


def test_importing_theory_is_light() -> None:
    code = (
        "import sys, heavytail.theory; "
        "heavy = [m for m in ('numba', 'torch', 'matplotlib', 'hypothesis') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing heavytail.theory pulled in: {out.stdout.strip()}"
