"""Hypothesis strategies for property-based tests of tail-index estimators.

Samples with a known tail (:class:`KnownTailSample`): :func:`stable_samples`,
:func:`pareto_samples`, :func:`student_t_samples`, :func:`gaussian_samples` and their
union :func:`heavy_tailed_samples`; arbitrary float arrays for fuzzing
(:func:`float_arrays`); and :func:`check_estimator`, which runs the standard properties
(invariance, consistency, errors on degenerate input) on any estimator.

Every sample's seed is drawn by Hypothesis, so a failing example shrinks and prints a
seed that reproduces it: ``known_tail_sample(s.family, s.n, rng=s.seed, **s.params)``.
Each parameter (``n``, ``alpha``, ``scale``, ...) accepts a plain value or a strategy.

This module needs Hypothesis (``pip install "heavytail[dev]"``); ``heavytail.theory``
never imports it, so import from here explicitly::

    from heavytail.theory.strategies import stable_samples, check_estimator
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as exc:  # pragma: no cover - exercised only without the dev extra
    raise ImportError(
        "heavytail.theory.strategies needs Hypothesis: pip install 'heavytail[dev]' "
        "(or pip install hypothesis)"
    ) from exc

from heavytail._lib._validation import check_int

from ._check_estimator import FAMILIES as FAMILIES
from ._check_estimator import PROPERTIES as PROPERTIES
from ._check_estimator import EstimatorCheckReport as EstimatorCheckReport
from ._check_estimator import KnownTailSample as KnownTailSample
from ._check_estimator import PropertyResult as PropertyResult
from ._check_estimator import check_estimator as check_estimator
from ._check_estimator import known_tail_sample as known_tail_sample

__all__ = [
    "FAMILIES",
    "PROPERTIES",
    "EstimatorCheckReport",
    "KnownTailSample",
    "PropertyResult",
    "check_estimator",
    "float_arrays",
    "gaussian_samples",
    "heavy_tailed_samples",
    "known_tail_sample",
    "pareto_samples",
    "stable_samples",
    "student_t_samples",
]

_T = TypeVar("_T")
_FloatOr: TypeAlias = "float | st.SearchStrategy[float]"
_IntOr: TypeAlias = "int | st.SearchStrategy[int]"

# Default ranges. Module constants, so that the signatures show them.
_SEEDS = st.integers(0, 2**32 - 1)
_DEFAULT_N = st.integers(200, 2000)
_DEFAULT_SCALE = st.floats(0.01, 100.0)
_DEFAULT_STABLE_ALPHA = st.floats(0.5, 2.0)
_DEFAULT_PARETO_ALPHA = st.floats(0.5, 4.0)
_DEFAULT_DF = st.floats(1.0, 10.0)

# Finite values that break careless numerics: signed zeros, the smallest subnormal, the
# smallest normal, values whose logs or squares overflow or underflow, the largest double.
_EDGE_VALUES = (
    0.0,
    -0.0,
    1.0,
    -1.0,
    5e-324,
    2.2250738585072014e-308,
    1e-300,
    -1e-300,
    1e-160,
    1e160,
    1e300,
    -1e300,
    1.7976931348623157e308,
    -1.7976931348623157e308,
)


def _strategy(value: _T | st.SearchStrategy[_T]) -> st.SearchStrategy[_T]:
    """A strategy for ``value``: itself if it is one, else one that always gives it."""
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


def _sample(
    draw: st.DrawFn,
    family: str,
    n: _IntOr,
    scale: _FloatOr,
    **params: Any,
) -> KnownTailSample:
    """Draw the size, parameters and seed, then the sample (parameters checked there)."""
    size = draw(_strategy(n))
    drawn = {k: draw(_strategy(v)) for k, v in params.items()}
    s = draw(_strategy(scale))
    seed = draw(_SEEDS)
    return known_tail_sample(family, size, scale=s, rng=seed, **drawn)


@st.composite
def stable_samples(
    draw: st.DrawFn,
    alpha: _FloatOr = _DEFAULT_STABLE_ALPHA,
    n: _IntOr = _DEFAULT_N,
    beta: _FloatOr = 0.0,
    scale: _FloatOr = _DEFAULT_SCALE,
) -> KnownTailSample:
    """Samples of the stable law S_alpha(scale, beta, 0) (S1 parametrization).

    Drawn with :func:`~heavytail.theory.sample_stable` (Chambers-Mallows-Stuck). Tail
    index alpha for alpha < 2; alpha = 2 is the Gaussian N(0, 2 scale^2), whose
    ``alpha`` is inf and ``stable_index`` 2 (pass ``st.floats(0.5, 2.0,
    exclude_max=True)`` to avoid it).

    Parameters
    ----------
    alpha : float or strategy of float
        Stable index, in (0, 2]. Default ``st.floats(0.5, 2.0)``.
    n : int or strategy of int
        Sample size, >= 1. Default ``st.integers(200, 2000)``.
    beta : float or strategy of float
        Skewness, in [-1, 1]. Default 0 (symmetric).
    scale : float or strategy of float
        Scale, > 0. Default ``st.floats(0.01, 100.0)``.

    Returns
    -------
    SearchStrategy[KnownTailSample]
        A drawn value outside a domain raises ``InvalidArgumentError`` naming it.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings, strategies as st
    >>> @settings(max_examples=5)
    ... @given(stable_samples(alpha=st.floats(1.0, 1.9), n=500))
    ... def test_sample_is_finite(sample):
    ...     assert sample.alpha == sample.stable_index
    ...     assert np.isfinite(sample.x).all()
    >>> test_sample_is_finite()
    """
    return _sample(draw, "stable", n, scale, alpha=alpha, beta=beta)


@st.composite
def pareto_samples(
    draw: st.DrawFn,
    alpha: _FloatOr = _DEFAULT_PARETO_ALPHA,
    n: _IntOr = _DEFAULT_N,
    scale: _FloatOr = _DEFAULT_SCALE,
) -> KnownTailSample:
    """Samples of the symmetric Pareto law: a random sign times Pareto(alpha), x_min = scale.

    P(|X| > t) = (t / scale)^(-alpha) exactly for t >= scale, so Hill's estimator on
    the top k is unbiased for every k (its standard error is alpha / sqrt(k)).

    Parameters
    ----------
    alpha : float or strategy of float
        Tail index, > 0. Default ``st.floats(0.5, 4.0)``.
    n : int or strategy of int
        Sample size, >= 1. Default ``st.integers(200, 2000)``.
    scale : float or strategy of float
        x_min, > 0. Default ``st.floats(0.01, 100.0)``.

    Returns
    -------
    SearchStrategy[KnownTailSample]

    Examples
    --------
    >>> from hypothesis import given, settings, strategies as st
    >>> @settings(max_examples=5)
    ... @given(pareto_samples(alpha=st.floats(1.0, 3.0), scale=2.0))
    ... def test_floor(sample):
    ...     assert abs(sample.x).min() >= 2.0
    >>> test_floor()
    """
    return _sample(draw, "pareto", n, scale, alpha=alpha)


@st.composite
def student_t_samples(
    draw: st.DrawFn,
    df: _FloatOr = _DEFAULT_DF,
    n: _IntOr = _DEFAULT_N,
    scale: _FloatOr = _DEFAULT_SCALE,
) -> KnownTailSample:
    """Samples of ``scale`` times Student's t with ``df`` degrees of freedom.

    Tail index df (the density decays like |t|^(-df - 1)); stable index min(df, 2). A
    regularly varying tail with a second-order term, unlike the Pareto: order-statistic
    estimators are biased at large k.

    Parameters
    ----------
    df : float or strategy of float
        Degrees of freedom = tail index, > 0. Default ``st.floats(1.0, 10.0)``.
    n : int or strategy of int
        Sample size, >= 1. Default ``st.integers(200, 2000)``.
    scale : float or strategy of float
        Scale, > 0. Default ``st.floats(0.01, 100.0)``.

    Returns
    -------
    SearchStrategy[KnownTailSample]

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5)
    ... @given(student_t_samples(df=3.0, n=100))
    ... def test_df(sample):
    ...     assert (sample.alpha, sample.stable_index) == (3.0, 2.0)
    >>> test_df()
    """
    return _sample(draw, "student_t", n, scale, df=df)


@st.composite
def gaussian_samples(
    draw: st.DrawFn,
    n: _IntOr = _DEFAULT_N,
    scale: _FloatOr = _DEFAULT_SCALE,
) -> KnownTailSample:
    """Samples of N(0, scale^2): no power tail (``alpha`` = inf), stable index 2.

    A negative control for heavy-tail detectors: a tail-index estimator should return a
    large alpha (or say it cannot bound it), and a stable-index estimator about 2.

    Parameters
    ----------
    n : int or strategy of int
        Sample size, >= 1. Default ``st.integers(200, 2000)``.
    scale : float or strategy of float
        Standard deviation, > 0. Default ``st.floats(0.01, 100.0)``.

    Returns
    -------
    SearchStrategy[KnownTailSample]

    Examples
    --------
    >>> import math
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=3)
    ... @given(gaussian_samples(n=50))
    ... def test_light(sample):
    ...     assert math.isinf(sample.alpha) and sample.stable_index == 2.0
    >>> test_light()
    """
    return _sample(draw, "gaussian", n, scale)


def heavy_tailed_samples(
    n: _IntOr = _DEFAULT_N,
    scale: _FloatOr = _DEFAULT_SCALE,
    *,
    include_gaussian: bool = False,
) -> st.SearchStrategy[KnownTailSample]:
    """Samples from any of the heavy-tailed families, with their default parameter ranges.

    ``one_of`` stable (alpha in [0.5, 2), so always heavy-tailed), symmetric Pareto
    (alpha in [0.5, 4]) and Student's t (df in [1, 10]); with ``include_gaussian`` the
    Gaussian too (then ``sample.alpha`` may be inf). Use the family strategies directly
    to narrow the parameters.

    Parameters
    ----------
    n : int or strategy of int
        Sample size, >= 1. Default ``st.integers(200, 2000)``.
    scale : float or strategy of float
        Scale, > 0. Default ``st.floats(0.01, 100.0)``.
    include_gaussian : bool
        Whether to add :func:`gaussian_samples` to the union.

    Returns
    -------
    SearchStrategy[KnownTailSample]

    Examples
    --------
    >>> import math
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5)
    ... @given(heavy_tailed_samples(n=300))
    ... def test_finite_index(sample):
    ...     assert math.isfinite(sample.alpha)
    >>> test_finite_index()
    """
    parts = [
        stable_samples(alpha=st.floats(0.5, 2.0, exclude_max=True), n=n, scale=scale),
        pareto_samples(n=n, scale=scale),
        student_t_samples(n=n, scale=scale),
    ]
    if include_gaussian:
        parts.append(gaussian_samples(n=n, scale=scale))
    return st.one_of(parts)


@st.composite
def float_arrays(
    draw: st.DrawFn,
    min_size: int = 0,
    max_size: int = 200,
    *,
    allow_nan: bool = True,
    allow_infinity: bool = True,
) -> npt.NDArray[np.float64]:
    """Arbitrary 1-D float64 arrays, for fuzzing functions that take data.

    The finite entries mix Hypothesis' floats (any magnitude, subnormals included) with
    edge values (signed zeros, 5e-324, 1e-300, 1e300, the largest double, ...), and
    Hypothesis fills arrays with one repeated value, so constant arrays, ties and
    all-zero arrays come up often. Then up to three entries are replaced by NaN, inf or
    -inf; that number shrinks to zero, so a failure shrinks to a finite array when it
    can.

    Parameters
    ----------
    min_size, max_size : int
        Length range, 0 <= min_size <= max_size. Default 0 to 200.
    allow_nan, allow_infinity : bool
        Whether NaN, and +-inf, may be inserted.

    Returns
    -------
    SearchStrategy[numpy.ndarray]

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(float_arrays(max_size=50))
    ... def test_shape(x):
    ...     assert x.dtype == np.float64 and x.ndim == 1 and x.size <= 50
    >>> test_shape()
    """
    lo = check_int(min_size, "min_size", low=0)
    hi = check_int(max_size, "max_size", low=lo)
    size = draw(st.integers(lo, hi))
    finite = st.one_of(
        st.floats(allow_nan=False, allow_infinity=False, width=64),
        st.sampled_from(_EDGE_VALUES),
    )
    x = np.array(draw(hnp.arrays(np.float64, size, elements=finite)), dtype=np.float64)
    specials = [v for v, ok in ((math.nan, allow_nan), (math.inf, allow_infinity)) if ok]
    if allow_infinity:
        specials.append(-math.inf)
    if size and specials:
        for _ in range(draw(st.integers(0, min(3, size)))):
            x[draw(st.integers(0, size - 1))] = draw(st.sampled_from(specials))
    return x
