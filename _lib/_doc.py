"""Shared fragments of numpydoc docstrings, filled in by a decorator (as scipy's
``_lib.doccer`` does), so that a parameter documented by several functions is written once.

A docstring names a fragment as ``%(name)s`` on a line of its own, indented as the
fragment's lines should be; :func:`fill_doc` replaces it with the fragment, each line of
the fragment re-indented to that depth.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TypeVar

__all__ = ["fill_doc"]

F = TypeVar("F", bound=Callable[..., object])

_SLOT = re.compile(r"^(?P<indent>[ \t]*)%\((?P<name>\w+)\)s[ \t]*$", re.MULTILINE)


def fill_doc(fragments: Mapping[str, str]) -> Callable[[F], F]:
    """A decorator that fills the ``%(name)s`` lines of a docstring from ``fragments``.

    Each fragment is dedented text (its first line at column 0). A slot naming no
    fragment raises ``KeyError`` when the module is imported, so a typo cannot reach a
    user.
    """

    def fill(func: F) -> F:
        doc = func.__doc__
        if doc is None:
            return func

        def replace(match: re.Match[str]) -> str:
            indent, name = match.group("indent"), match.group("name")
            text = fragments[name].strip("\n")
            return "\n".join(indent + line if line else line for line in text.splitlines())

        func.__doc__ = _SLOT.sub(replace, doc)
        return func

    return fill
