"""Hill, moment and Pickands estimators: formulas, intervals, hill_plot, bad input.

Every expected value is computed from the textbook formula (numpy/scipy on the sorted
magnitudes, tests/theory/_order_stat_reference.py), never copied from the code's own
output:

- Hill (1975): 1/alpha = (1/k) sum_{i<=k} log(X_(i) / X_(k+1));
- Dekkers, Einmahl & de Haan (1989): M_j = (1/k) sum_{i<=k} log(X_(i)/X_(k+1))^j,
  gamma = M1 + 1 - (1/2) / (1 - M1^2 / M2), alpha = 1/gamma;
- Pickands (1975): xi = log((X_(k) - X_(2k)) / (X_(2k) - X_(4k))) / log 2, alpha = 1/xi;

with X_(1) >= ... >= X_(n) the descending order statistics of |x| (docs/estimators.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats

from heavytail.theory import (
    EstimationError,
    HillPlot,
    InvalidArgumentError,
    KGrid,
    TailEstimate,
    hill_estimator,
    hill_plot,
    k_sensitivity,
    moment_estimator,
    pickands_estimator,
    sample_stable,
    select_k,
)

from ._order_stat_reference import descending, hill_xi, moment_xi, pickands_xi, sym_pareto

FloatArray = npt.NDArray[np.float64]
Estimator = Callable[..., TailEstimate]

# Relative tolerance between the code and the direct formulas: both are a few dozen
# floating-point operations on logs of the same order statistics (the code subtracts a
# common shift and uses cumulative sums), so they agree to ~1e-14; 1e-11 leaves room for
# the cumulative sums at k ~ n and still catches any off-by-one in an index (which moves
# the estimate by ~1/k, far above 1e-11).
RTOL = 1e-11


def _samples() -> dict[str, FloatArray]:
    rng = np.random.default_rng(20240101)
    return {
        "pareto-1.5": rng.pareto(1.5, 2_000) + 1.0,
        "sym-pareto-0.7": sym_pareto(0.7, 2_000, rng),
        "student-3": rng.standard_t(3.0, 4_000),
        "stable-1.6": sample_stable(1.6, 4_000, rng=rng),
        "lognormal-scaled": 1e-3 * rng.lognormal(0.0, 2.0, 3_000),
    }


SAMPLES = _samples()

REFERENCES: dict[str, tuple[Estimator, Callable[[FloatArray, int], float]]] = {
    "hill": (hill_estimator, lambda x, k: hill_xi(descending(x), k)),
    "moment": (moment_estimator, lambda x, k: moment_xi(descending(x), k)),
    "pickands": (pickands_estimator, lambda x, k: pickands_xi(descending(x), k)),
}


# ---------------------------------------------------------------------------------------
# 1. Formulas.


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("method", sorted(REFERENCES))
def test_estimate_matches_textbook_formula(method: str, name: str) -> None:
    estimator, xi_ref = REFERENCES[method]
    x = SAMPLES[name]
    n = x.size
    k_high = n // 4 if method == "pickands" else n - 1
    n_checked = 0
    for k in (2, 3, 10, 57, 200, k_high // 2, k_high):
        xi = xi_ref(x, k)
        if xi > 0:
            est = estimator(x, k=k)
            assert est.settings["k"] == k and est.settings["k_rule"] == "given"
            np.testing.assert_allclose(est.alpha, 1.0 / xi, rtol=RTOL)
            n_checked += 1
        else:
            # Documented: a non-positive index estimate is refused, not returned.
            with pytest.raises(EstimationError, match="<= 0"):
                estimator(x, k=k)
    assert n_checked >= 4  # the comparison above was actually exercised


@pytest.mark.parametrize("method", sorted(REFERENCES))
def test_only_magnitudes_matter(method: str) -> None:
    # Documented: the estimators use |x|, so sign flips and permutations change nothing
    # (not even rounding: the order statistics are the same numbers).
    estimator, _ = REFERENCES[method]
    x = SAMPLES["student-3"]
    rng = np.random.default_rng(5)
    flipped = x * rng.choice([-1.0, 1.0], x.size)
    k = 100
    ref = estimator(x, k=k)
    for other in (-x, np.abs(x), flipped, rng.permutation(x), list(x)):
        assert estimator(other, k=k).alpha == ref.alpha


def test_moment_refuses_a_light_tail() -> None:
    # Uniform data have extreme-value index -1: the moment estimate is negative (the
    # direct formula agrees), and the estimator refuses it as documented.
    x = np.random.default_rng(8).uniform(0.0, 1.0, 5_000)
    assert moment_xi(descending(x), 500) < 0
    with pytest.raises(EstimationError, match="no heavy tail"):
        moment_estimator(x, k=500)


def test_moment_interval_is_the_documented_normal_interval() -> None:
    # Dekkers, Einmahl & de Haan (1989): sqrt(k)(gamma_hat - gamma) -> N(0, 1 + gamma^2),
    # mapped through alpha = 1/gamma.
    x = SAMPLES["pareto-1.5"]
    z = stats.norm.ppf(0.975)
    for k in (50, 400):
        g = moment_xi(descending(x), k)
        half = z * math.sqrt((1.0 + g * g) / k)
        est = moment_estimator(x, k=k)
        expected_high = 1.0 / (g - half) if g > half else math.inf
        np.testing.assert_allclose(est.ci, (1.0 / (g + half), expected_high), rtol=1e-10)


def test_pickands_at_extreme_ratios_is_finite_or_refused() -> None:
    """Found by the input-domain fuzz test: a ratio of spacings near the double range made
    the standard error overflow (OverflowError from 2^(2 xi + 1)), and an infinite ratio
    gave alpha = 0 with a NaN lower end. Now the first gives a finite interval (its
    standard error is the usual formula divided through by 2^xi), and the
    second is refused by name. Control: the usual formula itself overflows there."""
    est = pickands_estimator(np.array([9.48075191e153, 0.0, 1.0, 1.0]), k=1)
    assert 0.0 < est.ci[0] <= est.alpha and est.ci[1] == math.inf
    assert all(not math.isnan(v) for v in (est.alpha, *est.ci))
    from heavytail.theory._pickands import pickands_se_xi

    xi = 505.0  # the divided-through form, against the usual one where it still fits
    usual = (
        xi
        / math.expm1(xi * math.log(2.0))
        * math.sqrt(2.0 ** (2.0 * xi + 1.0) + 1.0)
        / (2.0 * math.log(2.0) * math.sqrt(10))
    )
    # a few roundings of each form: 1e-13 leaves a margin of about 100 over ~20 eps
    assert pickands_se_xi(xi, 10) == pytest.approx(usual, rel=1e-13)
    with pytest.raises(OverflowError):
        math.sqrt(2.0 ** (2.0 * 511.5 + 1.0) + 1.0)
    with pytest.raises(EstimationError, match="overflows at k = 1"):
        pickands_estimator(np.array([5e-324, 1.0, 0.0, 0.0]), k=1)


def test_pickands_interval_uses_the_dekkers_de_haan_variance() -> None:
    # Dekkers & de Haan (1989): sqrt(k)(xi_hat - xi) -> N(0, v(xi)),
    # v(xi) = xi^2 (2^(2 xi + 1) + 1) / (2 (2^xi - 1) log 2)^2; at xi = 0.5 that is 3.79
    # (docs: "3.8/k against 0.25/k").
    def v(xi: float) -> float:
        return xi**2 * (2.0 ** (2 * xi + 1) + 1.0) / (2.0 * (2.0**xi - 1.0) * math.log(2.0)) ** 2

    assert v(0.5) == pytest.approx(3.79, abs=0.01)
    x = SAMPLES["pareto-1.5"]
    z = stats.norm.ppf(0.975)
    n_finite = 0
    for k in (20, 100, 500):
        xi = pickands_xi(descending(x), k)
        half = z * math.sqrt(v(xi) / k)
        est = pickands_estimator(x, k=k)
        assert est.settings["order_statistics_used"] == 4 * k
        np.testing.assert_allclose(est.ci[0], 1.0 / (xi + half), rtol=1e-10)
        if xi > half:
            np.testing.assert_allclose(est.ci[1], 1.0 / (xi - half), rtol=1e-10)
            n_finite += 1
        else:
            assert est.ci[1] == math.inf
    assert n_finite >= 1


# ---------------------------------------------------------------------------------------
# 6. Hill's exact interval under a Pareto tail.


def _gamma_interval(alpha_hat: float, k: int, level: float = 0.95) -> tuple[float, float]:
    """alpha_hat * [g_(1-level)/2, g_(1+level)/2] / k, g_p the p-quantile of Gamma(k, 1)."""
    g = stats.gamma(a=k)
    return alpha_hat * g.ppf((1 - level) / 2) / k, alpha_hat * g.ppf((1 + level) / 2) / k


def test_hill_interval_is_the_gamma_interval() -> None:
    for name in ("pareto-1.5", "stable-1.6"):
        x = SAMPLES[name]
        for k in (1, 5, 100, 1_000):
            est = hill_estimator(x, k=k)
            np.testing.assert_allclose(est.alpha, 1.0 / hill_xi(descending(x), k), rtol=RTOL)
            np.testing.assert_allclose(est.ci, _gamma_interval(est.alpha, k), rtol=1e-9)
            assert est.ci[0] < est.alpha < est.ci[1]


# 400 samples, fixed seed. Under an exact Pareto tail the coverage count is
# Binomial(400, 0.95) (alpha k H_k ~ Gamma(k, 1) exactly, by Renyi's representation); its
# central 99.9% range is [364, 393] (scipy.stats.binom.ppf(0.0005 / 0.9995, 400, 0.95)),
# i.e. coverage in [0.91, 0.9825]. A correct interval leaves that band with probability
# 0.1%; an interval of half the width covers about P(|Z| < 0.98) = 67%.
COVERAGE_REPS = 400
COVERAGE_BAND = (364, 393)


def _hill_coverage_counts(alpha: float, n: int, k: int, seed: int) -> tuple[int, int]:
    """(covered by Hill's interval, covered by a deliberately half-width interval)."""
    rng = np.random.default_rng(seed)
    good = narrow = 0
    for _ in range(COVERAGE_REPS):
        x = sym_pareto(alpha, n, rng)
        est = hill_estimator(x, k=k)
        lo, hi = est.ci
        good += lo <= alpha <= hi
        # Negative control: same centre, half the distance to each end.
        a = est.alpha
        narrow += a - (a - lo) / 2 <= alpha <= a + (hi - a) / 2
    return good, narrow


@pytest.mark.parametrize(("alpha", "k"), [(1.0, 20), (2.5, 200)])
def test_hill_interval_covers_exact_pareto(alpha: float, k: int) -> None:
    good, narrow = _hill_coverage_counts(alpha, n=1_000, k=k, seed=int(alpha * 1000) + k)
    # Measured: 379/400 and 374/400 (0.948, 0.935); half-width: 269 and 267 (0.67).
    assert COVERAGE_BAND[0] <= good <= COVERAGE_BAND[1]
    # Negative control: a wrong (too narrow) interval must fail the same band.
    assert not COVERAGE_BAND[0] <= narrow <= COVERAGE_BAND[1]


# ---------------------------------------------------------------------------------------
# hill_plot returns what its docstring says.


def test_hill_plot_default_grid_and_values() -> None:
    x = SAMPLES["stable-1.6"]
    n = x.size
    hp = hill_plot(x)
    assert isinstance(hp, HillPlot) and hp.n == n
    # Every k up to 50, then a 2% geometric grid up to the largest valid k, n - 1.
    assert hp.k[0] == 1 and hp.k[-1] == n - 1
    np.testing.assert_array_equal(hp.k[:50], np.arange(1, 51))
    assert np.all(np.diff(hp.k) > 0)
    steps = hp.k[51:] / hp.k[50:-1]
    # 2% steps, rounded to integers: at most 1.02 plus one unit of rounding at k >= 50.
    assert steps.max() <= 1.02 + 1.0 / 50
    # docstring: "about 550 points at n = 1e6"; at n = 4000, 50 + log(4000/50)/log(1.02).
    assert abs(hp.k.size - (50 + math.log(n / 50) / math.log(1.02))) <= 3
    for arr in (hp.k, hp.alpha, hp.ci_low, hp.ci_high):
        assert arr.shape == hp.k.shape and not arr.flags.writeable
    expected = np.array([1.0 / hill_xi(descending(x), int(k)) for k in hp.k])
    np.testing.assert_allclose(hp.alpha, expected, rtol=1e-10)
    for j in (0, 10, 60, hp.k.size - 1):
        k = int(hp.k[j])
        np.testing.assert_allclose(
            (hp.ci_low[j], hp.ci_high[j]), _gamma_interval(expected[j], k), rtol=1e-9
        )
        # "the same numbers as hill_estimator up to rounding in the last few places"
        assert hp.alpha[j] == pytest.approx(hill_estimator(x, k=k).alpha, rel=1e-12)


def test_hill_plot_default_range_skips_zeros_and_top_ties() -> None:
    rng = np.random.default_rng(3)
    x = rng.pareto(1.0, 500) + 1.0
    x[:100] = 0.0  # 400 positive magnitudes: the estimate is defined for k <= 399
    x[100:105] = x.max() + 1.0  # 5 values tied at the maximum: defined for k >= 5
    hp = hill_plot(x)
    assert hp.k[0] == 5 and hp.k[-1] == 399
    assert np.all(np.isfinite(hp.alpha)) and np.all(hp.alpha > 0)
    np.testing.assert_allclose(hp.alpha[0], 1.0 / hill_xi(descending(x), 5), rtol=RTOL)
    # Asking for an undefined k says why.
    with pytest.raises(EstimationError, match="threshold X_\\(k\\+1\\) is 0"):
        hill_plot(x, ks=[10, 450])
    with pytest.raises(EstimationError, match="all equal"):
        hill_plot(x, ks=[2, 10])


def test_hill_plot_given_ks_are_sorted_and_deduplicated() -> None:
    x = SAMPLES["pareto-1.5"]
    hp = hill_plot(x, ks=np.array([300, 7, 300, 42]))
    np.testing.assert_array_equal(hp.k, [7, 42, 300])
    np.testing.assert_allclose(
        hp.alpha, [1.0 / hill_xi(descending(x), k) for k in (7, 42, 300)], RTOL
    )


@pytest.mark.parametrize(
    "ks",
    [[1.0, 2.0], np.array([[1, 2]]), np.array([], dtype=int), [0, 5], [5, 2_000], [True]],
)
def test_hill_plot_bad_ks(ks: object) -> None:
    with pytest.raises(InvalidArgumentError, match="`ks`"):
        hill_plot(SAMPLES["pareto-1.5"], ks=ks)


# ---------------------------------------------------------------------------------------
# 7. Bad input.

X100 = np.random.default_rng(4).pareto(1.0, 100) + 1.0


@pytest.mark.parametrize(
    ("estimator", "bad_k", "rule"),
    [
        (hill_estimator, 0, "1 <= k <= n - 1"),
        (hill_estimator, -3, "1 <= k <= n - 1"),
        (hill_estimator, 100, "1 <= k <= n - 1"),  # k >= n
        (moment_estimator, 1, "2 <= k <= n - 1"),
        (moment_estimator, 100, "2 <= k <= n - 1"),
        (pickands_estimator, 0, "1 <= k <= n / 4"),
        (pickands_estimator, 26, "1 <= k <= n / 4"),  # 4k = 104 > n = 100
    ],
)
def test_k_out_of_range(estimator: Estimator, bad_k: int, rule: str) -> None:
    with pytest.raises(InvalidArgumentError, match="`k` must satisfy " + re.escape(rule)) as info:
        estimator(X100, k=bad_k)
    assert f"got {bad_k}" in str(info.value)


def test_k_edges_are_accepted() -> None:
    # The largest valid k: n - 1 (Hill, moment) and n // 4 (Pickands, 4k <= n).
    assert hill_estimator(X100, k=99).settings["k"] == 99
    assert hill_estimator(X100, k=1).settings["k"] == 1
    assert moment_estimator(X100, k=99).settings["k"] == 99
    x101 = np.append(X100, 1.5)
    # 4 * 25 = 100 <= 101 reads X_(100); 26 would read X_(104) > n.
    np.testing.assert_allclose(
        pickands_estimator(x101, k=25).alpha, 1.0 / pickands_xi(descending(x101), 25), rtol=RTOL
    )
    with pytest.raises(InvalidArgumentError, match="`k`"):
        pickands_estimator(x101, k=26)


@pytest.mark.parametrize("estimator", [hill_estimator, moment_estimator, pickands_estimator])
@pytest.mark.parametrize("bad_k", [2.0, True, "10", None])
def test_k_of_wrong_type(estimator: Estimator, bad_k: object) -> None:
    if bad_k is None:  # None is the automatic choice, not an error
        assert estimator(X100).settings["k_rule"] == "min-KS"
        return
    with pytest.raises(InvalidArgumentError, match="`k` must be an integer"):
        estimator(X100, k=bad_k)


@pytest.mark.parametrize("estimator", [hill_estimator, moment_estimator, pickands_estimator])
def test_k_grid_with_k_or_of_wrong_type(estimator: Estimator) -> None:
    with pytest.raises(InvalidArgumentError, match=r"`k_grid`.*must be None when `k` is given"):
        estimator(X100, k=10, k_grid=KGrid())
    for bad in ({"k_min": 10}, "default", 50):
        with pytest.raises(InvalidArgumentError, match="`k_grid` must be a KGrid or None"):
            estimator(X100, k_grid=bad)


def test_select_k_and_k_sensitivity_bad_arguments() -> None:
    with pytest.raises(InvalidArgumentError, match="`k_grid` must be a KGrid or None"):
        select_k(X100, k_grid=(10, 50))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="`method` must be one of"):
        select_k(X100, method="mle")
    with pytest.raises(InvalidArgumentError, match="`k` must satisfy 1 <= k <= n - 1"):
        k_sensitivity(X100, 100)
    with pytest.raises(InvalidArgumentError, match="`k` must satisfy"):
        k_sensitivity(X100, 26, method="pickands")
    with pytest.raises(InvalidArgumentError, match="`k` must be an integer"):
        k_sensitivity(X100, 10.0)
    # Too small a sample for any candidate of the default grid (k_min = 10).
    with pytest.raises(InvalidArgumentError, match="too few for the automatic choice of `k`"):
        select_k(X100[:8])


@pytest.mark.parametrize("estimator", [hill_estimator, moment_estimator, pickands_estimator])
def test_bad_samples(estimator: Estimator) -> None:
    for bad in (np.array([1.0, np.nan, 2.0, 3.0, 4.0]), np.ones(10), -np.ones(10), [1.0]):
        with pytest.raises(InvalidArgumentError, match="`x`"):
            estimator(bad, k=1 if estimator is not moment_estimator else 2)
