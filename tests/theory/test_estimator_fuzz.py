"""Fuzzing: every tail-index estimator, fed arbitrary float arrays, behaves.

For any 1-D float64 array (NaN, inf, zeros, ties, subnormals, huge values, lengths 0 to
200; see ``float_arrays``), each estimator either returns a TailEstimate whose alpha is
finite and positive, with an interval low <= alpha <= high (high may be inf), or raises
a ValueError. It never raises another exception, never returns NaN, never issues a
warning that is not heavytail's own (numpy's RuntimeWarnings mean unguarded numerics),
and never hangs.
"""

from __future__ import annotations

import math
import signal
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import heavytail.theory as theory
from heavytail.theory import HeavytailWarning, TailEstimate
from heavytail.theory.strategies import float_arrays

FloatArray = npt.NDArray[np.float64]

METHODS = ("hill", "pickands", "moment", "block_sum", "quantile", "auto")

# A hang detector, not a speed test: every call here takes milliseconds on 200 values,
# so a call still running after this long is stuck in a loop.
HANG_SECONDS = 30


def _estimators() -> dict[str, Callable[[FloatArray], Any]]:
    """Every public estimator, with a fixed rng where it draws (bootstrap intervals)."""
    out: dict[str, Callable[[FloatArray], Any]] = {
        "hill_estimator": lambda x: theory.hill_estimator(x),
        "pickands_estimator": lambda x: theory.pickands_estimator(x),
        "moment_estimator": lambda x: theory.moment_estimator(x),
        "block_sum_estimator": lambda x: theory.block_sum_estimator(x),
        "quantile_estimator": lambda x: theory.quantile_estimator(x, rng=0),
    }
    for method in METHODS:
        options = {"rng": 0} if method in ("quantile", "auto") else {}
        out[f"estimate_tail_index[{method}]"] = lambda x, m=method, o=options: (
            theory.estimate_tail_index(x, method=m, **o)
        )
    return out


NAMES = [
    "hill_estimator",
    "pickands_estimator",
    "moment_estimator",
    "block_sum_estimator",
    "quantile_estimator",
    *(f"estimate_tail_index[{m}]" for m in METHODS),
]


@contextmanager
def _hang_guard(seconds: int) -> Iterator[None]:
    if not hasattr(signal, "SIGALRM"):  # no alarms on this platform: no guard
        yield
        return

    def stuck(signum: int, frame: object) -> None:
        raise TimeoutError(f"the estimator ran for more than {seconds} s: it hangs")

    previous = signal.signal(signal.SIGALRM, stuck)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _check_behaves(fn: Callable[[FloatArray], Any], x: FloatArray) -> None:
    original = x.copy()
    with warnings.catch_warnings(record=True) as caught, _hang_guard(HANG_SECONDS):
        warnings.simplefilter("always")
        try:
            result = fn(x)
        except ValueError:
            result = None
    foreign = [w for w in caught if not issubclass(w.category, HeavytailWarning)]
    assert not foreign, (
        f"warnings that are not heavytail's own: {[str(w.message) for w in foreign]}"
    )
    np.testing.assert_array_equal(x, original)  # the input is never modified
    if result is None:
        return
    assert isinstance(result, TailEstimate), f"returned {type(result).__name__}"
    alpha = result.alpha
    low, high = result.ci
    assert math.isfinite(alpha) and alpha > 0, f"alpha = {alpha}"
    assert not (math.isnan(low) or math.isnan(high)), f"ci = {result.ci}"
    assert low <= alpha <= high, f"alpha = {alpha} outside its interval {result.ci}"
    assert 1 <= result.n <= x.size


def _edge(values: list[float]) -> FloatArray:
    return np.array(values, dtype=np.float64)


# Known edge cases, always run (before the generated examples).
EDGE_CASES = {
    "empty": _edge([]),
    "all zeros": np.zeros(50),
    "two values": _edge([1.0, 2.0]),
    "huge value among zeros": np.concatenate([np.zeros(60), [1e300]]),
    "tiny values": np.full(80, 1e-300) * np.arange(1, 81),
    "huge values": np.full(80, 1e300) * np.arange(1, 81) / 80,
    "negative only": -np.geomspace(1.0, 1e6, 100),
    "constant": np.full(100, 3.7),
    "two distinct values": np.repeat([1.0, 5.0], 50),
    "subnormals": np.full(40, 5e-324) * np.arange(1, 41),
    "one NaN": np.concatenate([np.geomspace(1.0, 1e3, 99), [np.nan]]),
    "one inf": np.concatenate([np.geomspace(1.0, 1e3, 99), [np.inf]]),
    "largest doubles": np.array([1.7976931348623157e308, -1.7976931348623157e308] * 30),
}


def _with_edge_examples(test: Callable[..., None]) -> Callable[..., None]:
    for x in EDGE_CASES.values():
        test = example(x=x)(test)
    return test


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40)
@_with_edge_examples
@given(x=float_arrays())
def test_estimator_returns_a_sound_estimate_or_raises_value_error(name: str, x: FloatArray) -> None:
    _check_behaves(_estimators()[name], x)


@pytest.mark.parametrize("case", ["empty", "all zeros", "constant", "one NaN", "one inf"])
@pytest.mark.parametrize("name", NAMES)
def test_inputs_without_a_tail_are_refused(name: str, case: str) -> None:
    # These carry no information about a tail: a number returned for them is made up.
    with pytest.raises(ValueError):
        _estimators()[name](EDGE_CASES[case].copy())


@settings(max_examples=60)
@given(x=float_arrays(min_size=0, max_size=120), dim=st.integers(1, 4))
def test_block_sum_on_arbitrary_2d_arrays(x: FloatArray, dim: int) -> None:
    # The multivariate block-sum estimator (rows are vectors, Euclidean norms).
    rows = x.size // dim
    _check_behaves(theory.block_sum_estimator, x[: rows * dim].reshape(rows, dim))


@settings(max_examples=60)
@example(x=EDGE_CASES["largest doubles"])
@example(x=EDGE_CASES["huge value among zeros"])
@given(x=float_arrays(min_size=0, max_size=200))
def test_stable_fit_and_goodness_of_fit_behave(x: FloatArray) -> None:
    # The stable fit returns finite parameters or raises a ValueError; the goodness-of-fit
    # test on a fitted sample returns a statistic that is a number (inf when it cannot be
    # computed), never NaN, and no foreign warnings.
    with warnings.catch_warnings(record=True) as caught, _hang_guard(HANG_SECONDS):
        warnings.simplefilter("always")
        try:
            fit = theory.fit_stable_quantiles(x)
        except ValueError:
            return
        assert all(math.isfinite(v) for v in (fit.alpha, fit.beta, fit.scale))
        assert 0.5 <= fit.alpha <= 2.0 and -1.0 <= fit.beta <= 1.0 and fit.scale > 0
        gof = theory.stable_goodness_of_fit(x, fit)
    assert not math.isnan(gof.statistic)
    assert gof.accepted == (gof.statistic <= gof.threshold)
    foreign = [w for w in caught if not issubclass(w.category, HeavytailWarning)]
    assert not foreign, [str(w.message) for w in foreign]
