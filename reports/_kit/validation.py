"""Checks of a claim's parameters that the general checks of ``heavytail._lib`` do not make.

A claim's size checks its grids in ``__post_init__`` with these, so that a bad grid is
refused, naming its parameter, before any run.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from heavytail.theory import InvalidArgumentError

from .book import number_word

__all__ = ["check_increasing"]


def check_increasing(values: Sequence[float], name: str, least: int = 2) -> None:
    """Check that ``values`` (the parameter ``name``) holds at least ``least`` values,
    strictly increasing: a grid to fit or to trend over.

    Raises
    ------
    InvalidArgumentError
        If not; the message names ``name``, the rule and the values given.
    """
    if len(values) < least or any(b <= a for a, b in itertools.pairwise(values)):
        raise InvalidArgumentError(
            f"`{name}` must hold at least {number_word(least)} increasing values, got {values}"
        )
