"""Replicate statistics: rate fits, Kendall and Spearman trends, Student-t means, Bonferroni
levels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from heavytail.reports import family_level, fit_rate, kendall_trend, mean_interval
from heavytail.reports._kit.stats import (
    percentile_interval,
    spearman_by_group,
    tail_interval,
    widen_tail_interval,
)
from heavytail.theory import InvalidArgumentError, estimate_tail_index, sample_stable

X = np.geomspace(100, 1e5, 8)


def _correlated_curves(rng: np.random.Generator, slope: float, reps: int) -> np.ndarray:
    """Replicate curves log y = 0.3 + slope log x + u_r (log x - c) + e, with a random
    slope u_r per replicate (sd 0.05; c the mean of log x) and small independent noise:
    points of one curve are correlated, as the prefixes of one long sample are."""
    lx = np.log(X)
    u = rng.normal(0.0, 0.05, size=(reps, 1))
    e = rng.normal(0.0, 0.02, size=(reps, X.size))
    return np.exp(0.3 + slope * lx + u * (lx - lx.mean()) + e)


def test_fit_rate_recovers_a_known_slope() -> None:
    rng = np.random.default_rng(1)
    fit = fit_rate(X, _correlated_curves(rng, -0.5, 40))
    # Reference: the balanced pooled slope is the mean of the per-replicate slopes.
    assert fit.slope.estimate == pytest.approx(fit.replicate_slopes.mean(), rel=1e-12)
    assert fit.slope.low < -0.5 < fit.slope.high
    # The interval reflects the replicate spread (sd 0.05 / sqrt(40) = 0.008), so it is
    # several times 0.008 wide, not the far smaller within-curve OLS error.
    assert 0.02 < fit.slope.width < 0.06


def test_fit_rate_interval_coverage_and_the_naive_ols_control() -> None:
    """Coverage of the replicate (cluster) interval over 300 simulated data sets.

    Threshold: with true coverage 0.95, the number of covering intervals among 300 is
    Binomial(300, 0.95), whose 0.1% and 99.9% quantiles are 272 and 294; [0.90, 0.985]
    contains that range. Negative control: the naive OLS interval of the pooled fit,
    which treats the points of one curve as independent, must under-cover badly.
    """
    import statsmodels.api as sm

    rng = np.random.default_rng(2)
    covered = naive_covered = 0
    trials, reps = 300, 12
    for _ in range(trials):
        y = _correlated_curves(rng, -0.25, reps)
        fit = fit_rate(X, y)
        covered += fit.slope.low <= -0.25 <= fit.slope.high
        design = sm.add_constant(np.tile(np.log(X), reps))
        naive = sm.OLS(np.log(y).ravel(), design).fit().conf_int(0.05)[1]
        naive_covered += naive[0] <= -0.25 <= naive[1]
    assert 0.90 <= covered / trials <= 0.985
    assert naive_covered / trials < 0.80  # the control fails: why replicates matter


def test_fit_rate_validates() -> None:
    with pytest.raises(InvalidArgumentError, match="one column per entry"):
        fit_rate(X, np.ones((3, 5)))
    with pytest.raises(InvalidArgumentError, match="positive"):
        fit_rate(X, -np.ones((3, X.size)))


def test_kendall_trend_sees_a_trend_and_not_its_absence() -> None:
    rng = np.random.default_rng(3)
    alphas = np.array([1.0, 1.25, 1.5, 1.75, 2.0])
    falling = -2.0 * alphas + rng.normal(0.0, 0.5, size=(20, alphas.size))
    tau = kendall_trend(alphas, falling, rng=rng)
    assert tau.high < 0.0 and tau.estimate < -0.4
    # Control: no trend. The interval must contain 0 (it does at this seed; a 95%
    # interval would miss 0 in 5% of seeds).
    flat = rng.normal(0.0, 0.5, size=(20, alphas.size))
    none = kendall_trend(alphas, flat, rng=rng)
    assert none.low < 0.0 < none.high
    # Reference value: the pooled tau-b equals scipy's on the pooled pairs.
    ref = stats.kendalltau(np.tile(alphas, 20), falling.ravel()).statistic
    assert tau.estimate == pytest.approx(ref, rel=1e-12)
    # Same seed, same interval.
    a = kendall_trend(alphas, falling, rng=np.random.default_rng(9))
    b = kendall_trend(alphas, falling, rng=np.random.default_rng(9))
    assert a == b


def test_mean_interval_is_the_student_t_interval() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0])
    m = mean_interval(values, level=0.9)
    half = stats.t.ppf(0.95, 3) * values.std(ddof=1) / 2.0
    assert (m.estimate, m.low, m.high, m.level) == pytest.approx((2.5, 2.5 - half, 2.5 + half, 0.9))


def test_family_level_is_bonferroni() -> None:
    assert family_level(1) == pytest.approx(0.95)
    assert family_level(16) == pytest.approx(1 - 0.05 / 16)
    with pytest.raises(InvalidArgumentError, match="`n_checks`"):
        family_level(0)


def test_kendall_bootstrap_matches_scipy_on_the_same_resamples() -> None:
    """The block formula for resampled tau-b against scipy on each resample, with ties."""
    rng = np.random.default_rng(4)
    alphas = np.array([1.0, 1.0, 1.5, 2.0])  # tied design values
    y = np.round(rng.normal(size=(6, alphas.size)), 1)  # tied outcomes
    got = kendall_trend(alphas, y, n_boot=200, level=0.9, rng=np.random.default_rng(5))
    draws = np.random.default_rng(5).integers(0, 6, size=(200, 6))
    ref = [stats.kendalltau(np.tile(alphas, 6), y[rows].ravel()).statistic for rows in draws]
    low, high = np.quantile(ref, [0.05, 0.95])
    assert (got.low, got.high) == pytest.approx((min(low, got.estimate), max(high, got.estimate)))


def test_spearman_by_group_is_scipys_rho_with_an_interval_that_has_power() -> None:
    """40 groups of 6 points. Threshold: with a true rank correlation of about 0.7, the
    99% interval of 240 points lies well above 0 (its half-width is near 0.1); with y
    independent of x (the negative control) it holds 0."""
    rng = np.random.default_rng(5)
    groups = np.repeat(np.arange(40), 6)
    x = rng.normal(size=240)
    y = x + 0.7 * rng.normal(size=240)
    m = spearman_by_group(x, y, groups, level=0.99, n_boot=500, rng=rng)
    assert m.estimate == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert 0.4 < m.low < m.estimate < m.high < 0.95
    control = spearman_by_group(x, rng.normal(size=240), groups, level=0.99, rng=rng)
    assert control.low < 0.0 < control.high


def test_spearman_by_group_resamples_whole_groups() -> None:
    """Points of one group share their group's value: 4 groups carry the information of
    4 points, not 240. Threshold: the interval over groups is at least 3 times wider than
    the (wrong) bootstrap over points, the negative control, which treats them as 240
    independent points."""
    rng = np.random.default_rng(6)
    level = rng.normal(size=4)
    groups = np.repeat(np.arange(4), 60)
    x = level[groups] + 1e-3 * rng.normal(size=240)
    y = level[groups] + 1e-3 * rng.normal(size=240)
    m = spearman_by_group(x, y, groups, n_boot=400, rng=rng)
    assert m.estimate > 0.8
    points = spearman_by_group(x, y, np.arange(240), n_boot=400, rng=rng)
    assert points.estimate == m.estimate
    assert m.high - m.low > 3 * (points.high - points.low)


def test_spearman_by_group_validates() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidArgumentError, match="one length"):
        spearman_by_group([1, 2, 3], [1, 2, 3, 4], [0, 1, 2], rng=rng)
    with pytest.raises(InvalidArgumentError, match="two groups"):
        spearman_by_group([1, 2, 3], [1, 2, 3], [0, 0, 0], rng=rng)
    with pytest.raises(InvalidArgumentError, match="n_boot"):
        spearman_by_group([1, 2, 3], [1, 2, 3], [0, 1, 2], n_boot=10, rng=rng)


def test_tail_interval_is_the_estimators_at_95_and_wider_above() -> None:
    x = np.abs(sample_stable(1.2, 20_000, rng=1))
    est = estimate_tail_index(x, rng=np.random.default_rng(0))
    at95 = tail_interval(x, 0.95, np.random.default_rng(0))
    assert at95.estimate == est.alpha
    assert at95.low == pytest.approx(est.ci[0]) and at95.high == pytest.approx(est.ci[1])
    wider = tail_interval(x, 0.99, np.random.default_rng(0))
    assert wider.low < at95.low and wider.high >= at95.high
    assert wider.level == 0.99
    # The sample is flattened; the widening is that of the estimate itself.
    same = tail_interval(x.reshape(100, 200), 0.99, np.random.default_rng(0))
    assert (same.estimate, same.low, same.high) == (wider.estimate, wider.low, wider.high)
    assert widen_tail_interval(est, 0.99) == wider


def test_widen_tail_interval_keeps_a_positive_index_positive() -> None:
    x = np.abs(sample_stable(0.6, 300, rng=2))
    est = estimate_tail_index(x, rng=np.random.default_rng(3))
    m = widen_tail_interval(est, 1 - 0.05 / 50)
    assert 0 < m.low < est.ci[0] and m.high > est.ci[1]


def test_percentile_interval_holds_the_estimate_and_the_bootstrap_quantiles() -> None:
    boots = np.arange(1.0, 102.0)  # quantiles at 2.5% and 97.5%: 3.5 and 98.5
    m = percentile_interval(50.0, boots, 0.95)
    assert (m.estimate, m.level) == (50.0, 0.95)
    assert (m.low, m.high) == pytest.approx((3.5, 98.5), abs=1e-9)
    # An estimate outside its bootstrap interval widens it.
    assert percentile_interval(200.0, boots, 0.95).high == 200.0
    assert percentile_interval(-1.0, boots, 0.95).low == -1.0
