"""What the input-domain tests of theory/ and simulate/ share.

Strategies that draw values over the whole double range (subnormals, signed zeros, NaN and
inf included) beside each parameter's domain, and the check that a call either returns or
raises heavytail's own error naming one of its arguments. tests/theory/test_input_domains.py
and tests/simulate/test_input_domains.py feed every public function through them.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from heavytail.theory import (
    EstimationError,
    HeavytailError,
    HeavytailWarning,
    InvalidArgumentError,
    NoStationaryLawError,
)

LARGEST = float(np.finfo(np.float64).max)
SMALLEST_NORMAL = float(np.finfo(np.float64).smallest_normal)
SUBNORMAL = 5e-324

EDGES = (
    0.0,
    -0.0,
    SUBNORMAL,
    -SUBNORMAL,
    1e-310,
    SMALLEST_NORMAL,
    1e-300,
    1e-10,
    0.5,
    1.0,
    2.0,
    1e10,
    1e150,
    1e300,
    LARGEST,
    -1.0,
    -LARGEST,
    math.nan,
    math.inf,
    -math.inf,
)


def mostly(inside: st.SearchStrategy[Any], anything: st.SearchStrategy[Any]) -> Any:
    """``inside`` three times out of four, ``anything`` otherwise. (``st.one_of`` does not
    draw its branches uniformly; an index into a list of strategies does, about.)"""
    return st.sampled_from((inside, inside, inside, anything)).flatmap(lambda strategy: strategy)


def reals(
    *edges: float, inside: st.SearchStrategy[float] | None = None
) -> st.SearchStrategy[float]:
    """Any double (subnormals, NaN and inf included), the common edges, ``edges`` and the
    doubles next to them; and, three times as often, values from ``inside`` (the
    parameter's domain), so that the computation itself is reached as often as the checks
    that refuse bad values."""
    anything = st.one_of(
        st.floats(width=64),
        st.sampled_from(EDGES + tuple(edges)),
        st.sampled_from(tuple(np.nextafter(e, d) for e in edges for d in (-math.inf, math.inf)))
        if edges
        else st.nothing(),
    )
    return anything if inside is None else mostly(inside, anything)


def positive(high: float = LARGEST) -> st.SearchStrategy[float]:
    """Doubles in (0, high], subnormals included."""
    return st.floats(0.0, high, exclude_min=True)


def any_count(high: int, *edges: int) -> st.SearchStrategy[Any]:
    """Integers from -2 to ``high`` (a small bound: each is a count of work), 0, 1, 2, the
    ``edges``, and values that are not integers."""
    return st.one_of(
        st.integers(-2, high),
        st.sampled_from((0, 1, 2, *edges)),
        st.sampled_from((2.0, True, None, "3")),
    )


def counts(high: int, *edges: int, low: int = 1) -> st.SearchStrategy[Any]:
    """Integers in [low, high] three times out of four, else :func:`any_count`.

    ``high`` bounds the size of what a call allocates or loops over; huge counts are
    covered where the function takes them without allocating.
    """
    return mostly(st.integers(low, high), any_count(high, *edges))


def configured(examples: int) -> settings:
    """Deterministic, bounded Hypothesis settings."""
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def names_an_argument(
    message: str, names: list[str], aliases: Mapping[str, tuple[str, ...]] | None = None
) -> bool:
    """Whether ``message`` names one of ``names`` (backticked, or as a word or alias)."""
    aliases = aliases or {}
    for name in names:
        if f"`{name}" in message:
            return True
        for word in (name, *aliases.get(name, ())):
            if re.search(rf"(?<![\w`]){re.escape(word)}(?![\w`])", message):
                return True
    return False


RAISED = object()


def run(
    call: Callable[[], Any],
    names: list[str],
    aliases: Mapping[str, tuple[str, ...]] | None = None,
) -> Any:
    """The result of ``call()``, or RAISED when it raised heavytail's error naming one of
    ``names`` (or an alias of one). Warnings other than heavytail's fail; so does every
    other exception."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", HeavytailWarning)
        try:
            return call()
        except HeavytailError as exc:
            assert isinstance(exc, InvalidArgumentError | EstimationError | NoStationaryLawError)
            assert isinstance(exc, ValueError)  # every heavytail error is also a ValueError
            assert names_an_argument(str(exc), names, aliases), (
                type(exc).__name__,
                str(exc),
                names,
            )
            return RAISED


def finite_in(value: Any, low: float = -math.inf, high: float = math.inf) -> bool:
    """Whether every entry of ``value`` is finite and in [low, high]."""
    arr = np.asarray(value, dtype=np.float64)
    return bool(np.all(np.isfinite(arr)) and np.all(arr >= low) and np.all(arr <= high))
