"""The automatic choice of k (minimum-KS rule of Clauset, Shalizi & Newman 2009) and the
k-sensitivity diagnostic.

Sources of truth used here, independent of the code under test:
- scipy.stats.kstest against scipy.stats.pareto for every Kolmogorov-Smirnov distance;
- the textbook Hill / moment / Pickands formulas, written below on the sorted magnitudes;
- a brute-force O(n^2) loop over every k for the argmin of the rule;
- Monte Carlo on exact Pareto, Student t and stable samples, with fixed seeds, thresholds
  whose reasons are stated, and negative controls that must fail.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats

from heavytail.theory import (
    K_SENSITIVITY_THRESHOLDS,
    InvalidArgumentError,
    KGrid,
    KSelection,
    hill_estimator,
    k_sensitivity,
    moment_estimator,
    pickands_estimator,
    sample_stable,
    select_k,
)
from heavytail.theory._kselect import ks_distance_pareto

from ._order_stat_reference import (
    descending,
    hill_xi,
    moment_xi,
    pickands_xi,
    sym_pareto,
)

FloatArray = npt.NDArray[np.float64]


# method -> (xi at k, m = number of exceedances compared, largest valid k)
Rule = tuple[Callable[[FloatArray, int], float], Callable[[int], int], Callable[[int], int]]
RULES: dict[str, Rule] = {
    "hill": (hill_xi, lambda k: k, lambda n: n - 1),
    "moment": (moment_xi, lambda k: k, lambda n: n - 1),
    "pickands": (pickands_xi, lambda k: 4 * k - 1, lambda n: n // 4),
}


def _kstest_distance(xs: FloatArray, m: int, alpha: float) -> float:
    """scipy's two-sided KS statistic of X_(1..m) / X_(m+1) against Pareto(alpha), x_m = 1."""
    return float(stats.kstest(xs[:m] / xs[m], stats.pareto(b=alpha).cdf).statistic)


# ---------------------------------------------------------------------------------------
# 2. ks_distance_pareto is scipy's KS statistic.


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ks_distance_equals_scipy_kstest(seed: int) -> None:
    rng = np.random.default_rng(seed)
    samples = [
        rng.pareto(1.3, 800) + 1.0,
        rng.standard_t(3.0, 800),
        sample_stable(1.7, 800, rng=rng),
    ]
    for x in samples:
        xs = descending(x)
        logs = np.log(xs)
        for m in (1, 2, 10, 137, 799):
            for alpha in (0.4, 1.0, 1.7, 5.0):
                got = ks_distance_pareto(logs, m, alpha)
                # 1e-12: both compute max |F_fit - F_emp| at the same m points; they
                # differ only in how the survival function is rounded (exp vs power).
                assert got == pytest.approx(_kstest_distance(xs, m, alpha), abs=1e-12)


def test_ks_distance_with_ties_equals_scipy_kstest() -> None:
    # The docstring says the formula is scipy's statistic "ties included".
    rng = np.random.default_rng(9)
    xs = descending(np.round(rng.pareto(1.0, 400) + 1.0, 1))
    assert np.unique(xs[:200]).size < 200  # there are ties
    logs = np.log(xs)
    for m in (20, 200):
        assert ks_distance_pareto(logs, m, 1.2) == pytest.approx(
            _kstest_distance(xs, m, 1.2), abs=1e-12
        )


# ---------------------------------------------------------------------------------------
# 3. The minimum-KS rule.


def _brute_force(x: FloatArray, method: str, k_min: int) -> tuple[FloatArray, FloatArray]:
    """Every k in [k_min, k_high]: the textbook estimate, then scipy's KS distance (O(n^2))."""
    xi_at, tail, k_high = RULES[method]
    xs = descending(x)
    ks = np.arange(k_min, k_high(xs.size) + 1)
    dist = np.full(ks.size, np.inf)
    for j, k in enumerate(ks.tolist()):
        with np.errstate(divide="ignore", invalid="ignore"):
            xi = xi_at(xs, k)
        if math.isfinite(xi) and xi > 0:  # documented: xi <= 0 or undefined -> inf
            dist[j] = _kstest_distance(xs, tail(k), 1.0 / xi)
    return ks.astype(float), dist


@pytest.mark.parametrize("method", ["hill", "moment", "pickands"])
@pytest.mark.parametrize("family", ["pareto", "student-3", "stable-1.5"])
def test_exhaustive_grid_matches_brute_force(method: str, family: str) -> None:
    rng = np.random.default_rng(["pareto", "student-3", "stable-1.5"].index(family) + 17)
    n = 400
    x = {
        "pareto": sym_pareto(1.2, n, rng),
        "student-3": rng.standard_t(3.0, n),
        "stable-1.5": sample_stable(1.5, n, rng=rng),
    }[family]
    sel = select_k(x, method=method, k_grid=KGrid(k_min=5, dense_up_to=n))
    ks, dist = _brute_force(x, method, k_min=5)
    np.testing.assert_array_equal(sel.candidates, ks)  # exhaustive: every k in range
    np.testing.assert_array_equal(np.isinf(sel.distances), np.isinf(dist))
    finite = np.isfinite(dist)
    # 1e-10: each distance is ~1e-2..1, computed from estimates that agree to ~1e-13.
    np.testing.assert_allclose(sel.distances[finite], dist[finite], rtol=0, atol=1e-10)
    best = int(np.argmin(dist))
    assert sel.k == int(ks[best])
    assert sel.ks_distance == pytest.approx(dist[best], abs=1e-10)
    assert sel.method == method and sel.k_max == int(ks[-1])


@pytest.mark.parametrize("method", ["hill", "moment", "pickands"])
def test_default_choice_minimises_over_its_candidates(method: str) -> None:
    x = sample_stable(1.4, 20_000, rng=3)
    sel = select_k(x, method=method)
    assert isinstance(sel, KSelection)
    assert sel.candidates.size == sel.distances.size
    assert not sel.candidates.flags.writeable and not sel.distances.flags.writeable
    assert sel.ks_distance == sel.distances.min()
    # The smallest k among exact ties.
    assert sel.k == int(sel.candidates[np.flatnonzero(sel.distances == sel.distances.min())[0]])
    # The distance at the chosen k is scipy's KS statistic for the textbook fit there.
    xi_at, tail, k_high = RULES[method]
    xs = descending(x)
    assert sel.ks_distance == pytest.approx(
        _kstest_distance(xs, tail(sel.k), 1.0 / xi_at(xs, sel.k)), abs=1e-10
    )
    # The default grid runs to the largest valid k.
    assert sel.k_max == int(sel.candidates[-1]) == k_high(x.size)
    # The estimator of that name uses the same choice.
    estimators = {
        "hill": hill_estimator,
        "moment": moment_estimator,
        "pickands": pickands_estimator,
    }
    est = estimators[method](x)
    assert est.settings["k"] == sel.k and est.settings["k_rule"] == "min-KS"
    assert est.settings["n_candidates"] == sel.candidates.size
    assert est.settings["k_max"] == sel.k_max


# ---------------------------------------------------------------------------------------
# KGrid.


def test_kgrid_candidates_dense_then_geometric() -> None:
    grid = KGrid()  # k_min 10, dense up to 50, ratio 1.02
    c = grid.candidates(1, 10_000)
    np.testing.assert_array_equal(c[:41], np.arange(10, 51))  # dense part
    assert c[-1] == 10_000 and np.all(np.diff(c) > 0)
    # Above 50: the integers nearest to 50 * 1.02^j (the docstring's rule), and k_max.
    geometric = {round(50 * 1.02**j) for j in range(1, 400) if 50 * 1.02**j <= 10_000.5}
    assert set(c[41:].tolist()) == {g for g in geometric if g > 50} | {10_000}
    # Size: 41 dense + log(10000 / 50) / log(1.02) ~ 267.6 geometric steps, less the
    # duplicates that rounding merges near 50 (1.02 * k - k < 1 below k = 50).
    assert 41 + 230 <= c.size <= 41 + 269


def test_kgrid_candidates_clipping() -> None:
    # Clipped to the estimator's valid range [k_low, k_high] and to [k_min, k_max].
    np.testing.assert_array_equal(KGrid().candidates(20, 30), np.arange(20, 31))
    np.testing.assert_array_equal(KGrid(k_max=25).candidates(1, 1_000), np.arange(10, 26))
    np.testing.assert_array_equal(KGrid(k_min=1, dense_up_to=0).candidates(3, 3), [3])
    assert KGrid().candidates(1, 9).size == 0  # k_high below k_min: no candidate
    # 5 * 1.5^j = 7.5, 11.25, 16.9, 25.3, 38.0, 57.0, 85.4 (rounded), then k_max = 100.
    c = KGrid(k_min=2, dense_up_to=5, ratio=1.5, k_max=100).candidates(1, 10**6)
    np.testing.assert_array_equal(c, [2, 3, 4, 5, 8, 11, 17, 25, 38, 57, 85, 100])
    # k_max above k_high: k_high wins.
    assert KGrid(k_max=10**6).candidates(1, 500)[-1] == 500


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"k_min": 0}, "k_min"),
        ({"k_min": 2.0}, "k_min"),
        ({"k_min": True}, "k_min"),
        ({"dense_up_to": -1}, "dense_up_to"),
        ({"dense_up_to": 5.5}, "dense_up_to"),
        ({"ratio": 1.0}, "ratio"),
        ({"ratio": 0.5}, "ratio"),
        ({"ratio": math.nan}, "ratio"),
        ({"ratio": 11.0}, "ratio"),
        ({"k_max": 5}, "k_max"),  # below k_min = 10
        ({"k_max": 0}, "k_max"),
        ({"k_max": 100.0}, "k_max"),
    ],
)
def test_kgrid_bad_arguments(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
        KGrid(**kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# 4. The default upper end k_max = n - 1.

N4 = 5_000
SEEDS4 = range(40)


def _hill_errors_and_choices(family: str) -> tuple[FloatArray, FloatArray, list[int], list[int]]:
    """Hill's error with the default grid and with k_max = n // 2, and the chosen k."""
    err_full: list[float] = []
    err_half: list[float] = []
    k_full: list[int] = []
    k_half: list[int] = []
    for seed in SEEDS4:
        rng = np.random.default_rng([4, seed])
        if family == "pareto":
            x, truth = sym_pareto(1.0, N4, rng), 1.0
        else:
            x, truth = rng.standard_t(3.0, N4), 3.0
        full = hill_estimator(x)
        half = hill_estimator(x, k_grid=KGrid(k_max=N4 // 2))
        err_full.append(full.alpha - truth)
        err_half.append(half.alpha - truth)
        k_full.append(full.settings["k"])
        k_half.append(half.settings["k"])
    return np.array(err_full), np.array(err_half), k_full, k_half


def _rmse(err: FloatArray) -> float:
    return float(np.sqrt(np.mean(err**2)))


def test_full_grid_beats_half_grid_on_symmetric_pareto() -> None:
    err_full, err_half, k_full, _ = _hill_errors_and_choices("pareto")
    # Measured on these seeds ([4, 0..39]): RMSE 0.0225 (default) against 0.0237
    # (k_max = n // 2), ratio 0.946; chosen k > n // 2 in 37 of 40 seeds. Over 400 seeds
    # ([4, 0..399]) the ratio is 0.77 (MSE ratio 0.59), and over its ten blocks of 40
    # seeds it ranges 0.645-0.946 (mean 0.77, sd 0.085), so "smaller" (ratio < 1) holds
    # for 40 seeds with probability about 99.7%. Theory: Hill's variance is alpha^2 / k,
    # so k ~ n against k <= n / 2 gives a ratio near sqrt(1/2) = 0.71 at best.
    assert _rmse(err_full) < _rmse(err_half)
    # On data that are Pareto all the way down the KS distance keeps shrinking with k;
    # 30 of 40 ("most", with margin below the 37 measured).
    assert sum(k > N4 // 2 for k in k_full) >= 30


def test_full_grid_changes_nothing_on_student_t() -> None:
    # Negative control: on Student t(3) thresholds in the body (near 0) fit a Pareto tail
    # badly, so the default grid picks the same k as the half grid in every seed
    # (measured: 40 of 40, chosen k <= 1098 < n / 2 = 2500), and the two claims of the
    # Pareto test must both fail here.
    err_full, err_half, k_full, k_half = _hill_errors_and_choices("student-3")
    assert k_full == k_half
    assert max(k_full) < N4 // 2
    assert not _rmse(err_full) < _rmse(err_half)  # equal: the same k in every seed
    assert not sum(k > N4 // 2 for k in k_full) >= 30


def test_default_k_max_is_the_largest_valid_k() -> None:
    x = np.random.default_rng(6).pareto(1.0, 1_001) + 1.0
    assert select_k(x).k_max == 1_000
    assert select_k(x, method="moment").k_max == 1_000
    assert select_k(x, method="pickands").k_max == 250  # 4k <= n
    assert select_k(x, k_grid=KGrid(k_max=500)).k_max == 500
    assert select_k(x, method="pickands", k_grid=KGrid(k_max=500)).k_max == 250


# ---------------------------------------------------------------------------------------
# 5. k_sensitivity: false alarms on exact Pareto data, and power on stable data.

# Binomial reasoning: the module comment says each threshold is "just above the largest
# 99.5% quantile" on exact Pareto samples over alpha in {0.5, 1, 2, 4}, k in
# {100, 200, 1000}, n = 20 k (80 k for Pickands). If the false-alarm rate is at most
# 0.5%, the count of alarms among R = 2000 samples is at most Binomial(2000, 0.005),
# whose 99.9% quantile is 21 (scipy.stats.binom.ppf(0.999, 2000, 0.005)).
FA_REPS = 2_000
FA_MAX = 21


def _sensitivities(method: str, alpha: float, k: int) -> FloatArray:
    n = (80 if method == "pickands" else 20) * k
    rng = np.random.default_rng([5, int(alpha * 10), k])
    return np.array([k_sensitivity(rng.pareto(alpha, n) + 1.0, k, method) for _ in range(FA_REPS)])


@pytest.mark.parametrize("method", ["hill", "moment", "pickands"])
def test_k_sensitivity_false_alarm_rate(method: str) -> None:
    threshold = K_SENSITIVITY_THRESHOLDS[method]
    # k = 100 (the smallest k of the claim, where the moment and Pickands statistics
    # are largest) and the two ends of the alpha range. Measured alarms of 2000
    # (alpha 0.5 / 4): hill 3 / 11, moment 0 / 10, pickands 1 / 5. Hill at alpha = 4 is at
    # the edge of the claim (11/2000 = 0.55%, empirical 99.5% quantile 4.01 against the
    # threshold 4.0), well inside the binomial bound of 21.
    s = {alpha: _sensitivities(method, alpha, 100) for alpha in (0.5, 4.0)}
    for alpha, values in s.items():
        assert np.all(np.isfinite(values)) and np.all(values >= 0)
        assert int(np.sum(values > threshold)) <= FA_MAX, (method, alpha)
    # "Just above" the quantile, not far above it: at the worse alpha, the 98% quantile
    # already reaches 70% of the threshold (else the threshold would be needlessly lax).
    # Measured: 0.85 (hill), 0.79 (moment), 0.80 (pickands).
    assert max(np.quantile(v, 0.98) for v in s.values()) >= 0.7 * threshold
    # Negative control: a threshold 25% lower must fail the same false-alarm bound
    # (measured: 90, 54 and 77 alarms of 2000 at the worse alpha).
    assert max(int(np.sum(v > 0.75 * threshold)) for v in s.values()) > FA_MAX


def test_k_sensitivity_hill_is_free_of_alpha_and_k() -> None:
    # The docstring: Hill's statistic on exact Pareto data has median about 1.7 whatever
    # alpha and k. Medians of 2000 draws have standard error ~0.02; band 1.55-1.85
    # (measured 1.69, 1.73, 1.75).
    for alpha, k in ((0.5, 100), (4.0, 100), (1.0, 200)):
        assert 1.55 <= float(np.median(_sensitivities("hill", alpha, k))) <= 1.85
    # Negative control: the moment statistic is not alpha-free (module notes); its median
    # at alpha = 0.5 must fall outside Hill's band.
    assert not 1.55 <= float(np.median(_sensitivities("moment", 0.5, 100))) <= 1.85


# Power: stable data with alpha = 1.8 have a second-order bias that Hill's estimate
# drifts with. docs/estimators.md reports that the warning fires in 66-85% of runs at
# n = 1e5; at n = 1e4 (the min-KS k) it fired in 49 of 50 runs on these seeds
# ([18, 0..49]; 0.90 on 60 other seeds, 0.98 at n = 5e3, 0.92 at n = 2e4). We assert
# >= 60%: below the docs' lower end 0.66, and 7 binomial standard deviations
# (sqrt(0.9 * 0.1 / 50) = 0.042) below the lowest rate measured.
POWER_N = 10_000
POWER_REPS = 50
POWER_MIN = 0.6


def _warning_rate(draw: Callable[[np.random.Generator], FloatArray]) -> float:
    fired = 0
    for seed in range(POWER_REPS):
        est = hill_estimator(draw(np.random.default_rng([18, seed])))
        fired += est.settings["k_sensitivity"] > K_SENSITIVITY_THRESHOLDS["hill"]
        assert bool(est.warnings) == (est.settings["k_sensitivity"] > 4.0)
    return fired / POWER_REPS


def test_k_sensitivity_warning_fires_on_stable_near_2() -> None:
    rate = _warning_rate(lambda rng: sample_stable(1.8, POWER_N, rng=rng))
    assert rate >= POWER_MIN


def test_k_sensitivity_warning_is_quiet_on_pareto() -> None:
    # Negative control for the power test: the same procedure on exact Pareto(1.8) data
    # (measured: 0 of 50) must fail the power bound; and it stays near the 0.5% rate.
    rate = _warning_rate(lambda rng: rng.pareto(1.8, POWER_N) + 1.0)
    assert not rate >= POWER_MIN
    assert rate <= 0.06  # at most 3 of 50: P(>= 4 | p = 0.005, 50 draws) < 3e-5


# ---------------------------------------------------------------------------------------
# 8. The candidate count grows logarithmically with n (what keeps the cost linear).


def test_candidate_count_grows_logarithmically() -> None:
    rng = np.random.default_rng(12)
    sizes, work = [], []
    for n in (1_000, 10_000, 100_000):
        sel = select_k(rng.pareto(1.0, n) + 1.0)
        sizes.append(sel.candidates.size)
        work.append(int(sel.candidates.sum()) / n)  # exceedances read, per observation
    # Each decade of n adds log(10) / log(1.02) = 116.3 geometric candidates (+-2 for
    # rounding); an exhaustive grid would add 9 times n. Measured: 193, 309, 425
    # candidates; 50.4, 51.3, 51.2 exceedances read per observation.
    for a, b in itertools.pairwise(sizes):
        assert 114 <= b - a <= 119
    # Total distance work: about dense_up_to^2 / 2 + k_max * ratio / (ratio - 1)
    # = 1250 + 51 (n - 1) (module notes), plus k_max itself (always a candidate) and up
    # to 0.5 per candidate of rounding: at most 52 n + 1500, i.e. O(n).
    for n, w in zip((1_000, 10_000, 100_000), work, strict=True):
        assert w <= 52.0 + 1_500 / n
    # Negative control: an exhaustive grid's count grows linearly, failing the bound.
    full = [KGrid(dense_up_to=n).candidates(1, n - 1).size for n in (1_000, 10_000)]
    assert not full[1] - full[0] <= 119


def test_k_of_fraction_rounds_and_refuses_too_small_a_fraction() -> None:
    from heavytail.theory import InvalidArgumentError, k_of_fraction

    assert k_of_fraction(1000, 0.1) == 100
    assert k_of_fraction(1000, 0.0125) == 12  # 12.5 rounds half to even
    assert k_of_fraction(10, 1.0) == 10
    # At the bound: minimum / n always gives k = minimum.
    assert k_of_fraction(7, 2 / 7, minimum=2) == 2
    with pytest.raises(InvalidArgumentError, match=r"`fraction` = 0\.1 of n = 10 gives k = 1"):
        k_of_fraction(10, 0.1, minimum=2)
    with pytest.raises(InvalidArgumentError, match="`fraction`"):
        k_of_fraction(10, 0.0)
    with pytest.raises(InvalidArgumentError, match="`n`"):
        k_of_fraction(0, 0.5)
