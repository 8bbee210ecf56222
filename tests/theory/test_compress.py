"""Best k-term errors, their almost-sure limits, their rate, and the finite-n mean.

The closed forms and the finite-n mean checked here are derived in
docs/compressibility.md; every statistical check has a fixed seed, a threshold with its
reason, and a negative control that the same check rejects.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from heavytail.theory import (
    EstimationError,
    EstimationWarning,
    InvalidArgumentError,
    compressibility_exponent,
    expected_relative_error,
    limit_relative_error,
    relative_error,
    relative_error_curve,
    sample_stable,
)
from heavytail.theory.strategies import float_arrays

FloatArray = npt.NDArray[np.float64]


# --------------------------------------------------------------------------------------
# relative_error: exact values from the definition.


def brute_force(x: FloatArray, k: int, p: float) -> float:
    """sigma_k(x)_p / ||x||_p by trying every k-subset (tiny n only): an independent source."""
    from itertools import combinations

    # scaled by the largest entry first (the ratio is scale-free): an entry such as 5.7e-290
    # would otherwise underflow to 0 when squared and leave 0 / 0
    a = (np.abs(x) / np.max(np.abs(x))) ** p
    best = math.inf
    for keep in combinations(range(x.size), k):
        mask = np.ones(x.size, dtype=bool)
        mask[list(keep)] = False
        best = min(best, float(a[mask].sum()))
    return float((best / a.sum()) ** (1.0 / p))


def test_small_exact_values() -> None:
    # 3-4-5: keeping 4 leaves 3 of the norm 5.
    # 9 / 25 and a square root: two roundings, at most 1 eps (2.2e-16) relative
    assert relative_error([3.0, 4.0], 0.5) == pytest.approx(0.6, rel=1e-15)
    assert relative_error([3.0, -4.0], 1.0) == 0.0
    # kappa n = 0.3 * 10 = 3.0000000000000004 keeps 3 entries, not 4.
    x = np.arange(1.0, 11.0)
    expected = math.sqrt(float(np.sum(x[:7] ** 2)) / float(np.sum(x**2)))
    assert relative_error(x, 0.3) == pytest.approx(expected, rel=1e-14)
    # p = 1: drop 1 + 2 of 1 + 2 + 3.
    assert relative_error([1.0, -2.0, 3.0], 1 / 3, p=1.0) == pytest.approx(0.5, rel=1e-15)


@settings(max_examples=60)
@given(
    x=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=7).filter(
        lambda v: any(e != 0.0 for e in v)
    ),
    k_frac=st.floats(0.0, 1.0),
    p=st.sampled_from([0.5, 1.0, 2.0, 3.0]),
)
def test_matches_brute_force(x: list[float], k_frac: float, p: float) -> None:
    xa = np.array(x)
    n = xa.size
    k = max(1, math.ceil(k_frac * n))
    # Tolerance: both sides are sums of at most 7 terms; 1e-9 allows for the brute
    # force's different summation order on subnormal-free data, and for p = 0.5's
    # square of the ratio.
    assert relative_error(xa, k / n, p) == pytest.approx(brute_force(xa, k, p), rel=1e-9, abs=1e-12)


def test_curve_equals_pointwise() -> None:
    x = np.random.default_rng(3).standard_cauchy(1000)
    kappas = np.linspace(0.001, 1.0, 37)
    curve = relative_error_curve(x, kappas)
    assert curve.shape == kappas.shape
    assert np.array_equal(curve, [relative_error(x, float(k)) for k in kappas])
    grid = relative_error_curve(x, kappas.reshape(37, 1))
    assert grid.shape == (37, 1)
    assert relative_error_curve(x, np.array([])).shape == (0,)


def test_tiny_tail_is_not_zero() -> None:
    # The dropped term's square (1e-400) underflows; the log-space fallback keeps it.
    assert relative_error([1e-200, 1.0], 0.5) == pytest.approx(1e-200, rel=1e-12)
    assert relative_error([1.0, 1e-300], 0.5, p=3.0) == pytest.approx(1e-300, rel=1e-12)


def test_extreme_magnitudes_and_p() -> None:
    big = np.array([1.7e308, -1.7e308, 1e308])
    # Squares of these overflow; the error is 1 / sqrt(2 * 1.7^2 + 1).
    assert relative_error(big, 2 / 3) == pytest.approx(1 / math.sqrt(2 * 1.7**2 + 1), rel=1e-12)
    # Huge p: the error is the ratio of the largest dropped to the largest entry, to the
    # power (number of ties)^(1/p) -> 1.
    assert relative_error([1.0, 2.0], 0.5, p=1e6) == pytest.approx(0.5, rel=1e-5)
    assert 0.0 <= relative_error([1.0, 2.0], 0.5, p=1e300) <= 1.0
    assert relative_error([5e-324, 5e-324], 0.5) == pytest.approx(math.sqrt(0.5), rel=1e-12)


# --------------------------------------------------------------------------------------
# Input checks.


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([1.0, 2.0], 0.0), r"`kappa` must be in \(0, 1\]"),
        (([1.0, 2.0], 1.5), r"`kappa` must be in \(0, 1\]"),
        (([1.0, 2.0], math.nan), r"`kappa` must be a number"),
        (([1.0, 2.0], 0.5, 0.0), r"`p` must be in \(0, inf\]"),
        (([1.0, 2.0], 0.5, -1.0), r"`p` must be in \(0, inf\]"),
        (([1.0, 2.0], 0.5, math.inf), r"`p` must be finite"),
        (([1.0, math.nan], 0.5), r"`x` must be finite"),
        (([1.0, math.inf], 0.5), r"`x` must be finite"),
        (([[1.0, 2.0]], 0.5), r"`x` must be 1-D"),
        (([], 0.5), r"`x` must hold at least 1"),
        (([0.0, 0.0], 0.5), r"`x` must have a non-zero entry"),
        ((["a", "b"], 0.5), r"`x` must be an array of real numbers"),
    ],
)
def test_relative_error_rejects(args: tuple[Any, ...], match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        relative_error(*args)


def test_curve_rejects_bad_kappas() -> None:
    with pytest.raises(
        InvalidArgumentError, match=r"`kappas` must be in \(0, 1\], got 0.0 at index 1"
    ):
        relative_error_curve([1.0, 2.0], [0.5, 0.0])
    with pytest.raises(InvalidArgumentError, match=r"`kappas` must be in \(0, 1\], got nan"):
        relative_error_curve([1.0, 2.0], [math.nan])
    with pytest.raises(InvalidArgumentError, match="`kappas` must be an array of real numbers"):
        relative_error_curve([1.0, 2.0], ["x"])


@settings(max_examples=200)
@given(
    x=float_arrays(max_size=40),
    kappa=st.one_of(st.floats(), st.sampled_from([0.0, 1e-300, 0.5, 1.0])),
    p=st.one_of(st.floats(), st.sampled_from([0.5, 1.0, 2.0, 1e-300, 1e300])),
)
def test_no_input_crashes(x: FloatArray, kappa: float, p: float) -> None:
    """Any input either gives an error in [0, 1] or raises InvalidArgumentError."""
    try:
        e = relative_error(x, kappa, p)
    except InvalidArgumentError:
        return
    assert 0.0 <= e <= 1.0
    curve = relative_error_curve(x, [kappa, 1.0], p)
    assert curve[0] == e and curve[1] == 0.0


# --------------------------------------------------------------------------------------
# Properties.

seeds = st.integers(0, 2**32 - 1)


@settings(max_examples=80)
@given(
    x=float_arrays(min_size=1, max_size=60, allow_nan=False, allow_infinity=False),
    p=st.sampled_from([0.5, 1.0, 2.0, 4.0]),
    seed=seeds,
)
def test_properties(x: FloatArray, p: float, seed: int) -> None:
    if not np.any(x != 0.0):
        return
    kappas = np.linspace(1.0 / x.size, 1.0, x.size)
    curve = relative_error_curve(x, kappas, p)
    assert np.all((curve >= 0.0) & (curve <= 1.0))
    assert np.all(np.diff(curve) <= 0.0)  # exactly non-increasing in kappa
    rng = np.random.default_rng(seed)
    # Permutations and sign flips change nothing, exactly.
    y = rng.permutation(x) * rng.choice([-1.0, 1.0], size=x.size)
    assert np.array_equal(relative_error_curve(y, kappas, p), curve)
    # Power-of-two scaling is exact when nothing over- or underflows.
    top = float(np.max(np.abs(x)))
    if 1e-290 < top < 1e290 and np.all((np.abs(x) == 0.0) | (np.abs(x) > 1e-290)):
        assert np.array_equal(relative_error_curve(8.0 * x, kappas, p), curve)
        # Other scales: x c / (m c) differs from x / m by at most two roundings.
        c = float(rng.uniform(0.1, 10.0))
        np.testing.assert_allclose(
            relative_error_curve(c * x, kappas, p), curve, rtol=1e-12, atol=1e-14
        )


# --------------------------------------------------------------------------------------
# limit_relative_error against the closed forms of docs/compressibility.md.


def gaussian_g(kappa: float, p: float) -> float:
    """G_p for N(0, 1): P((p + 1)/2, tau^2/2)^(1/p), tau = Phi^-1(1 - kappa/2)."""
    tau = stats.norm.isf(kappa / 2)
    return float(special.gammainc((p + 1) / 2, tau**2 / 2) ** (1 / p))


def laplace_g(kappa: float, p: float) -> float:
    """G_p for Laplace(0, 1): P(p + 1, -log kappa)^(1/p)."""
    return float(special.gammainc(p + 1, -math.log(kappa)) ** (1 / p))


def pareto_g(kappa: float, p: float, b: float) -> float:
    """G_p for Pareto(b), b > p: (1 - kappa^(1 - p/b))^(1/p)."""
    return float((1 - kappa ** (1 - p / b)) ** (1 / p))


KAPPAS = [1e-4, 0.1, 0.9]
# The panel quadrature's two orders agree to 1e-12 (fallback: quad to 1e-10); 1e-8 on G
# leaves room for the 1/p power and scipy's quantile functions, and is over 1e4 times
# smaller than the smallest negative control's gap (Pareto 4 against 4.01: > 3e-4).
RTOL = 1e-8


@pytest.mark.parametrize("kappa", KAPPAS)
@pytest.mark.parametrize("p", [0.5, 2.0, 3.0])
def test_limit_closed_forms(kappa: float, p: float) -> None:
    assert limit_relative_error(stats.norm(), kappa, p) == pytest.approx(
        gaussian_g(kappa, p), rel=RTOL
    )
    assert limit_relative_error(stats.laplace(scale=7.0), kappa, p) == pytest.approx(
        laplace_g(kappa, p), rel=RTOL
    )
    b = p + 2.5
    assert limit_relative_error(stats.pareto(b, scale=2.0), kappa, p) == pytest.approx(
        pareto_g(kappa, p, b), rel=RTOL
    )
    # Uniform on [-a, a]: G_p = (1 - kappa)^((p + 1) / p).
    uniform = (1 - kappa) ** ((p + 1) / p)
    assert limit_relative_error(stats.uniform(-3.0, 6.0), kappa, p) == pytest.approx(
        uniform, rel=RTOL
    )


@pytest.mark.parametrize("b", [2.05, 2.2])
def test_limit_pareto_near_the_boundary(b: float) -> None:
    """Pareto with b just above p = 2: at b = 2.05 a fifth of E|X|^2 lies beyond u = 1e-30."""
    for kappa in [1e-4, 0.1, 0.9]:
        assert limit_relative_error(stats.pareto(b), kappa) == pytest.approx(
            pareto_g(kappa, 2.0, b), rel=RTOL
        )


def test_limit_negative_controls() -> None:
    """The same tolerance tells the three closed forms apart, and a wrong Pareto index."""
    for kappa in [0.01, 0.1, 0.5]:
        g = limit_relative_error(stats.laplace(), kappa)
        assert g != pytest.approx(gaussian_g(kappa, 2.0), rel=RTOL)
        h = limit_relative_error(stats.pareto(4.0), kappa)
        assert h == pytest.approx(pareto_g(kappa, 2.0, 4.0), rel=RTOL)
        assert h != pytest.approx(pareto_g(kappa, 2.0, 4.01), rel=RTOL)


@pytest.mark.parametrize(
    "dist",
    [
        stats.cauchy(),
        stats.t(2.0),
        stats.t(1.5),
        stats.pareto(2.0),
        stats.pareto(1.2),
        stats.levy_stable(1.5, 0.0),
        stats.lomax(1.9),
    ],
)
def test_limit_is_zero_for_infinite_moment(dist: Any) -> None:
    assert limit_relative_error(dist, 0.1) == 0.0


def test_limit_infinite_moment_from_quantiles() -> None:
    # genpareto(c) has tail index 1/c and is not in the table of known families.
    assert limit_relative_error(stats.genpareto(0.6), 0.1) == 0.0  # alpha = 1.67 < 2
    g = limit_relative_error(stats.genpareto(0.25), 0.1)  # alpha = 4 > 2
    assert 0.0 < g < 1.0
    with pytest.raises(EstimationError, match=r"within 0\.05"):
        limit_relative_error(stats.genpareto(0.5), 0.1)  # alpha = p: undecidable


def test_limit_edges_and_errors() -> None:
    assert limit_relative_error(stats.norm(), 1.0) == 0.0
    with pytest.raises(InvalidArgumentError, match="`dist` must be a frozen continuous"):
        limit_relative_error(stats.norm, 0.1)
    with pytest.raises(InvalidArgumentError, match="`dist` must be a frozen continuous"):
        limit_relative_error(stats.poisson(3.0), 0.1)
    with pytest.raises(InvalidArgumentError, match=r"`kappa` must be in \(0, 1\]"):
        limit_relative_error(stats.norm(), 0.0)
    with pytest.raises(InvalidArgumentError, match=r"`p` must be in"):
        limit_relative_error(stats.norm(), 0.5, p=-2.0)


def test_limit_against_simulation_student_t() -> None:
    """Student t, 5 degrees of freedom: replicated finite-n errors against the limit.

    R = 20 vectors of n = 50_000 (seed 20261126). E|X|^4 < inf, so each error is within
    O(n^-1/2) of its mean and the finite-n bias is O(1/n); the check is |mean - G| < 4
    standard errors (a false alarm has probability 6e-5 under normality). Negative
    control: the limit of t with 4 degrees of freedom is rejected by the same check.
    """
    rng = np.random.default_rng(20261126)
    n, reps = 50_000, 20
    for kappa in [0.05, 0.3]:
        errs = np.array([relative_error(rng.standard_t(5.0, n), kappa) for _ in range(reps)])
        mean, se = errs.mean(), errs.std(ddof=1) / math.sqrt(reps)
        g5 = limit_relative_error(stats.t(5.0), kappa)
        g4 = limit_relative_error(stats.t(4.5), kappa)
        assert abs(mean - g5) < 4 * se, (mean, se, g5)
        assert abs(mean - g4) > 4 * se, (mean, se, g4)


# --------------------------------------------------------------------------------------
# compressibility_exponent and expected_relative_error.


def test_exponent_values() -> None:
    assert compressibility_exponent(1.0) == -0.5
    assert compressibility_exponent(1.5, p=2.0) == pytest.approx(1 / 2 - 1 / 1.5)
    assert compressibility_exponent(0.5, p=1.0) == pytest.approx(-1.0)
    assert compressibility_exponent(2.0) == 0.0  # log decay, no power
    assert compressibility_exponent(3.0) == 0.0
    for bad in [0.0, -1.0, math.inf, math.nan]:
        with pytest.raises(InvalidArgumentError, match="`alpha`"):
            compressibility_exponent(bad)
    with pytest.raises(InvalidArgumentError, match="`p`"):
        compressibility_exponent(1.0, p=0.0)


def test_expected_relative_error_checks() -> None:
    with pytest.raises(InvalidArgumentError, match=r"`alpha` must be in \(0, p\)"):
        expected_relative_error(2.0, 100, 0.1)
    with pytest.raises(InvalidArgumentError, match="`n` must be"):
        expected_relative_error(1.0, 0, 0.1)
    with pytest.raises(InvalidArgumentError, match="`n` must be an integer"):
        expected_relative_error(1.0, 10.0, 0.1)
    with pytest.raises(InvalidArgumentError, match="`correction`"):
        expected_relative_error(1.0, 10, 0.1, correction=1)  # type: ignore[arg-type]
    assert expected_relative_error(1.0, 10, 1.0) == 0.0


def pareto_vector(alpha: float, n: int, rng: np.random.Generator) -> FloatArray:
    """Exact Pareto magnitudes: P(X > t) = t^(-alpha), t >= 1 (inverse transform)."""
    return np.asarray(rng.random(n) ** (-1.0 / alpha), dtype=np.float64)


def fitted_slope(draw: Any, ns: list[int], reps: int, kappa: float) -> float:
    """Least-squares slope of the median log error against log n."""
    medians = [
        float(np.median([math.log(relative_error(draw(n), kappa)) for _ in range(reps)]))
        for n in ns
    ]
    return float(np.polyfit(np.log(ns), medians, 1)[0])


@pytest.mark.parametrize(("law", "alpha"), [("pareto", 1.0), ("stable", 1.2)])
def test_rate_slope(law: str, alpha: float) -> None:
    """docs/compressibility.md, derivation (a): log-log slope 1/p - 1/alpha.

    Seed 20261126; 60 vectors per n in {1e3, 1e4, 1e5}; p = 2, kappa = 0.1. Threshold
    0.08: the slope's standard error is about 0.02 and the finite-n bias of the stable
    case was about 0.02 in trial runs (fitted here: -0.489 and -0.374, against -0.5 and
    -0.333). Negative controls: -1/alpha (1/p forgotten) and 0
    (no compressibility) are farther than 0.08 from the fitted slope.
    """
    rng = np.random.default_rng(20261126)

    def draw(n: int) -> FloatArray:
        if law == "pareto":
            return pareto_vector(alpha, n, rng)
        return sample_stable(alpha, n, rng=rng)

    slope = fitted_slope(draw, [1_000, 10_000, 100_000], 60, 0.1)
    predicted = compressibility_exponent(alpha)
    assert abs(slope - predicted) < 0.08, (slope, predicted)
    for wrong in (-1.0 / alpha, 0.0):
        assert abs(slope - wrong) > 0.08, (slope, wrong)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.5])
def test_expected_relative_error_against_simulation(alpha: float) -> None:
    """docs/compressibility.md, derivation (b): the finite-n mean for Pareto tails.

    400 vectors of n = 1e4 exact Pareto draws (seed 7), kappa = 0.1, p = 2. The mean
    must be within 4 standard errors of the prediction (false alarm 6e-5 per case under
    normality; the neglected O(1/k) terms are ~1e-3 relative, below 0.1 standard error).
    Negative control: the prediction at alpha +- 0.1 is rejected by the same check.
    """
    rng = np.random.default_rng(7)
    n, reps, kappa = 10_000, 400, 0.1
    errs = np.array([relative_error(pareto_vector(alpha, n, rng), kappa) for _ in range(reps)])
    mean, se = float(errs.mean()), float(errs.std(ddof=1)) / math.sqrt(reps)
    predicted = expected_relative_error(alpha, n, kappa)
    assert abs(mean - predicted) < 4 * se, (mean, se, predicted)
    for wrong_alpha in (alpha - 0.1, alpha + 0.1):
        wrong = expected_relative_error(wrong_alpha, n, kappa)
        assert abs(mean - wrong) > 4 * se, (mean, se, wrong)


def test_expected_relative_error_large_n_matches_rate() -> None:
    """The prediction follows n^(1/p - 1/alpha) exactly as n grows (derivation (a) and (b))."""
    for alpha in (0.8, 1.2):
        e1 = expected_relative_error(alpha, 10**6, 0.1)
        e2 = expected_relative_error(alpha, 10**8, 0.1)
        slope = math.log(e2 / e1) / math.log(100.0)
        # Corrections are O(1/(kappa n)) relative: 1e-5 at n = 1e6.
        assert slope == pytest.approx(compressibility_exponent(alpha), abs=1e-4)


@settings(max_examples=25)
@given(
    dist=st.sampled_from([stats.pareto(3.0), stats.pareto(1.5), stats.expon(), stats.uniform()]),
    kappa=st.one_of(st.floats(), st.sampled_from([1e-300, 1e-5, 0.5, 1.0])),
    p=st.one_of(st.floats(), st.sampled_from([0.1, 1.0, 2.0, 10.0])),
)
def test_limit_no_input_crashes(dist: Any, kappa: float, p: float) -> None:
    """Any kappa and p: a value in [0, 1], or InvalidArgumentError / EstimationError."""
    try:
        g = limit_relative_error(dist, kappa, p)
    except (InvalidArgumentError, EstimationError):
        return
    assert 0.0 <= g <= 1.0


@settings(max_examples=200)
@given(
    alpha=st.one_of(st.floats(), st.sampled_from([1e-300, 1e-3, 0.5, 1.999])),
    n=st.one_of(st.integers(-5, 10**12), st.floats()),
    kappa=st.one_of(st.floats(), st.sampled_from([1e-12, 0.1, 1.0])),
    p=st.one_of(st.floats(), st.sampled_from([0.5, 2.0, 4.0])),
    correction=st.booleans(),
)
def test_exponent_and_mean_no_input_crashes(
    alpha: float, n: Any, kappa: float, p: float, correction: bool
) -> None:
    """Any input: r <= 0 and a mean in [0, 1], or a documented error (warnings allowed)."""
    try:
        r = compressibility_exponent(alpha, p)
    except InvalidArgumentError:
        pass
    else:
        assert r <= 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        try:
            m = expected_relative_error(alpha, n, kappa, p, correction=correction)
        except (InvalidArgumentError, EstimationError):
            return
    assert 0.0 <= m <= 1.0


# --------------------------------------------------------------------------------------
# Inputs at the ends of the double range (each test failed before its fix).


def log_domain_error(x: list[float], k: int, p: float) -> float:
    """sigma_k(x)_p / ||x||_p from math.log of each entry: an independent reference.

    Each |x_i|^p is exp(p log|x_i|), summed with logsumexp, so no ratio of entries is
    formed and nothing underflows before the power is taken.
    """
    logs = sorted((p * math.log(abs(v)) for v in x if v != 0.0), reverse=True)
    top = logs[0]

    def lse(values: list[float]) -> float:
        return top + math.log(math.fsum(math.exp(v - top) for v in values))

    return math.exp((lse(logs[k:]) - lse(logs)) / p)


@pytest.mark.parametrize(
    ("x", "kappa", "p"),
    [
        ([5.7e280, 1.4e-43, 1.4e-43, 1.4e-43], 0.25, 0.001),  # ratios underflow to 0
        ([5.6e280, 1.4e-43, 1.4e-43, 1.4e-43], 0.25, 0.001),  # ratios subnormal
        ([1e300, 5e-324, 5e-324, 1.0], 0.25, 0.01),
        ([1.7e308, 1e-310, 3e-320, 2.0], 0.5, 0.1),
    ],
)
def test_relative_error_when_ratios_leave_the_normal_range(
    x: list[float], kappa: float, p: float
) -> None:
    # Before the fix the first case returned 3.2e153: the p-th powers of the ratios that
    # underflowed were missing from the total but present in the tail summed in logs.
    got = relative_error(x, kappa, p)
    assert 0.0 <= got <= 1.0
    k = math.ceil(kappa * len(x))
    # The reference's logs carry ~1e-16 absolute error, divided by p (>= 1e-3) in the
    # exponent: 1e-12 relative at most; 1e-9 leaves a margin of 1000.
    assert got == pytest.approx(log_domain_error(x, k, p), rel=1e-9)
    curve = relative_error_curve(x, [kappa, 1.0], p)
    assert curve[0] == got and curve[1] == 0.0
    # negative control: the old computation, a tail summed in logs over a total that lost
    # the underflowed terms (only the top term's 1 is left), fails both checks above.
    if x[0] == 5.7e280:
        tail = 3.0 * math.exp(p * (math.log(1.4e-43) - math.log(5.7e280)))
        old = math.exp(math.log(tail / 1.0) / p)
        assert old > 1.0 and old != pytest.approx(log_domain_error(x, k, p), rel=1e-9)


@pytest.mark.parametrize(
    "dist",
    [
        stats.t(-1),
        stats.t(0),
        stats.pareto(-1),
        stats.norm(scale=-1),
        stats.norm(scale=0.0),
        stats.levy_stable(3.0, 0.0),
        stats.t(math.inf),
        stats.uniform(0.0, -1.0),
    ],
)
def test_limit_relative_error_refuses_invalid_laws(dist: Any) -> None:
    # Before the fix: 0.0 ("infinite moment") for t(-1), t(0), pareto(-1), and a ValueError
    # from inside scipy's root finder for norm(scale=-1).
    with pytest.raises(InvalidArgumentError, match="`dist`"):
        limit_relative_error(dist, 0.1)


def test_limit_relative_error_is_scale_free_across_the_double_range() -> None:
    # G_p is scale invariant; before the fix a scale of 1e308 or 1e-320 made the quantile
    # function overflow or underflow, and the function raised EstimationError.
    base = limit_relative_error(stats.norm(), 0.1)
    for scale in (1e308, 1e-320, 5e-324):
        # units of the scale cancel exactly in G; 1e-12 covers the rounding of loc / scale
        assert limit_relative_error(stats.norm(scale=scale), 0.1) == pytest.approx(base, rel=1e-12)
    # loc / scale beyond the double range is refused, naming `dist`
    with pytest.raises(InvalidArgumentError, match="`dist`"):
        limit_relative_error(stats.norm(loc=1e300, scale=1e-300), 0.1)


@pytest.mark.parametrize("p", [50.0, 300.0, 1000.0])
def test_limit_relative_error_at_large_p(p: float) -> None:
    # |X| uniform on [0, 1]: Q(u) = 1 - u, G_p^p = (1 - kappa)^(p + 1) (the closed form of
    # docs/compressibility.md, section 1). Before the fix p = 1000 raised OverflowError.
    kappa = 0.5
    expected = (1.0 - kappa) ** ((p + 1.0) / p)
    # quadrature to 1e-10 relative, divided by p in the exponent: 1e-9 is a 10x margin
    assert limit_relative_error(stats.uniform(), kappa, p) == pytest.approx(expected, rel=1e-9)
    # negative control: the p = 2 value is far from it
    assert limit_relative_error(stats.uniform(), kappa, 2.0) != pytest.approx(expected, rel=1e-3)
    with pytest.raises(EstimationError, match="`p`"):
        limit_relative_error(stats.uniform(), kappa, 1e300)


@pytest.mark.parametrize(("alpha", "p"), [(5e-324, 2.0), (1e-310, 2.0), (1.0, 1e-323)])
def test_compressibility_exponent_refuses_what_overflows(alpha: float, p: float) -> None:
    # Before the fix compressibility_exponent(5e-324) returned -inf.
    name = "alpha" if alpha < 1e-300 else "p"
    with pytest.raises(InvalidArgumentError, match=rf"`{name}` must be at least 5\.56e-309"):
        compressibility_exponent(alpha, p)


def test_compressibility_exponent_at_the_edge_of_its_domain() -> None:
    smallest = 1.0 / np.finfo(np.float64).max
    r = compressibility_exponent(smallest * 1.0000001)
    assert math.isfinite(r) and r == pytest.approx(0.5 - 1.0 / (smallest * 1.0000001), rel=1e-15)
    assert compressibility_exponent(1e308, 1e-300) == 0.0  # alpha >= p: r = 0


def test_expected_relative_error_refuses_overflowing_moments() -> None:
    # 1 / p = 1e300: log Gamma(1 + 1 / (p beta)) overflows. Before the fix: NaN.
    with pytest.raises(EstimationError, match="`p`"):
        expected_relative_error(1e-308, 10, 0.5, 1e-300)
