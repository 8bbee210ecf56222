"""Hypothesis draws the same examples whatever else the process imported (tests/conftest.py)."""

from __future__ import annotations

import importlib
import pkgutil
import struct

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers

import heavytail

from .conftest import HYPOTHESIS_LOCAL_CONSTANTS


def _draws() -> list[bytes]:
    seen: list[bytes] = []

    @settings(derandomize=True, max_examples=300, database=None)
    @given(st.floats())
    def draw(x: float) -> None:
        seen.append(struct.pack("<d", x))  # bit patterns: NaN compares equal to itself

    draw()
    return seen


def test_examples_do_not_depend_on_the_modules_imported_before() -> None:
    """The pool of local constants Hypothesis draws from is empty, before and after every
    heavytail module is imported, and the examples are the same. Control: Hypothesis's
    own collector finds constants in heavytail's modules (the pool the suite would
    otherwise draw from grows with each import)."""
    before = _draws()
    for info in pkgutil.walk_packages(heavytail.__path__, "heavytail."):
        importlib.import_module(info.name)
    assert not providers._get_local_constants().floats
    assert _draws() == before
    found = HYPOTHESIS_LOCAL_CONSTANTS()
    assert len(found.floats) + len(found.integers) > 50, "no local constants found"
