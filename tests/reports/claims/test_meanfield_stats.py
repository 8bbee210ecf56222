"""Chaos statistics: scaled variances and their slope, pair covariances, sliced Wasserstein."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from heavytail.reports._claims.meanfield_stats import (
    pair_covariance,
    scaled_variance,
    sliced_wasserstein,
    unit_directions,
    variance_slope,
)
from heavytail.theory import InvalidArgumentError

WIDTHS = (16, 32, 64, 128, 256)


def _averages(rng: np.random.Generator, n: int, reps: int, rho: float, probes: int = 3):
    """Unit averages of n exchangeable Gaussian units with pair correlation rho.

    h_i = sqrt(rho) Z + sqrt(1 - rho) e_i, so Var(mean) = rho + (1 - rho) / n exactly.
    """
    z = rng.standard_normal((reps, 1, probes))
    e = rng.standard_normal((reps, n, probes))
    h = np.sqrt(rho) * z + np.sqrt(1 - rho) * e
    return h.mean(axis=1), h[:, :, 0]


def test_scaled_variance_jackknife_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 3)) * [1.0, 2.0, 0.5]
    sv = scaled_variance(x, 10)
    theta = np.mean(np.log(10 * x.var(axis=0, ddof=1)))
    loo = np.array([np.mean(np.log(10 * np.delete(x, r, 0).var(axis=0, ddof=1))) for r in range(9)])
    assert sv.log_estimate == pytest.approx(9 * theta - 8 * loo.mean(), rel=1e-12)
    assert sv.log_se == pytest.approx(np.sqrt(8 / 9 * np.sum((loo - loo.mean()) ** 2)), rel=1e-12)
    np.testing.assert_allclose(sv.scaled, 10 * x.var(axis=0, ddof=1), rtol=1e-12)


def test_variance_slope_coverage_under_chaos_and_power_against_correlation() -> None:
    """Coverage of the slope's interval over 200 data sets of independent units (slope 0).

    Threshold: with coverage 0.95 the count among 200 is Binomial(200, 0.95), whose 0.1%
    and 99.9% quantiles are 181 and 197; [0.90, 0.99] contains them. Power: units with a
    fixed pair correlation rho = 0.05 have n Var = n rho + 1 - rho, slope near 1 over
    these widths; its interval must exclude 0 in every data set.
    """
    rng = np.random.default_rng(1)
    covered = 0
    trials = 200
    for _ in range(trials):
        pts = [scaled_variance(_averages(rng, n, 40, 0.0)[0], n) for n in WIDTHS]
        fit = variance_slope(pts)
        covered += fit.slope.low <= 0.0 <= fit.slope.high
    assert 0.90 <= covered / trials <= 0.99
    for _ in range(20):
        pts = [scaled_variance(_averages(rng, n, 40, 0.05)[0], n) for n in WIDTHS]
        fit = variance_slope(pts)
        assert fit.slope.low > 0.3  # the control: correlated units are not chaotic


def test_variance_slope_interval_formula() -> None:
    pts = [scaled_variance(_averages(np.random.default_rng(n), n, 30, 0.0)[0], n) for n in WIDTHS]
    fit = variance_slope(pts, level=0.9)
    lx = np.log(WIDTHS)
    c = (lx - lx.mean()) / np.sum((lx - lx.mean()) ** 2)
    se2 = np.array([p.log_se for p in pts]) ** 2
    slope = np.sum(c * [p.log_estimate for p in pts])
    df = np.sum(c**2 * se2) ** 2 / np.sum((c**2 * se2) ** 2 / 29)
    half = stats.t.ppf(0.95, df) * np.sqrt(np.sum(c**2 * se2))
    assert fit.slope.estimate == pytest.approx(slope, rel=1e-12)
    assert fit.slope.high - fit.slope.estimate == pytest.approx(half, rel=1e-12)
    assert fit.df == pytest.approx(df, rel=1e-12)


def test_pair_covariance_is_unbiased_and_matches_brute_force() -> None:
    rng = np.random.default_rng(2)
    h = rng.standard_normal((7, 5)) + 3.0
    r, n = h.shape
    prods = [h[a, i] * h[a, j] for a in range(r) for i in range(n) for j in range(n) if i != j]
    means = h.mean(axis=1)
    cross = [means[a] * means[b] for a in range(r) for b in range(r) if a != b]
    est = pair_covariance(h)
    # jackknife bias correction of an unbiased U-statistic changes nothing
    assert est.estimate == pytest.approx(np.mean(prods) - np.mean(cross), abs=1e-10)
    assert pair_covariance(h + 100.0).estimate == pytest.approx(est.estimate, abs=1e-9)
    # Unbiased: the mean over 2000 data sets of correlation 0.1 is 0.1 within 4 standard
    # errors of that mean (sd of one estimate about 0.1 at R = 20, n = 8).
    ests = [pair_covariance(_averages(rng, 8, 20, 0.1, probes=1)[1]).estimate for _ in range(2000)]
    assert abs(np.mean(ests) - 0.1) < 4 * np.std(ests) / np.sqrt(2000)


def test_pair_covariance_interval_covers_zero_for_independent_units() -> None:
    """Coverage of 0 over 400 data sets of independent Gaussian units (R = 50, n = 20).

    The products in T_r are skewed, so the t-interval of the jackknife under-covers a
    little: 0.91 to 0.93 measured over 1000 sets (documented in ``pair_covariance``).
    Threshold: Binomial(400, 0.91) has 0.1% and 99.9% quantiles 346 and 379, so
    [0.86, 0.975] (0.975: above a nominal 0.95 by as much) holds both. Power: a
    correlation of 0.2 is found (interval above 0) in at least 19 of 20 sets (estimate sd
    about 0.04, so the interval excludes 0 by several sds)."""
    rng = np.random.default_rng(3)
    hits = sum(
        (m := pair_covariance(_averages(rng, 20, 50, 0.0, 1)[1])).low <= 0 <= m.high
        for _ in range(400)
    )
    assert 0.86 <= hits / 400 <= 0.975
    found = sum(pair_covariance(_averages(rng, 20, 50, 0.2, 1)[1]).low > 0 for _ in range(20))
    assert found >= 19


def test_sliced_wasserstein_exact_cases() -> None:
    rng = np.random.default_rng(4)
    theta = unit_directions(3, 50, rng=rng)
    assert np.allclose(np.linalg.norm(theta, axis=0), 1.0)
    x = rng.standard_normal((40, 3))
    assert sliced_wasserstein(x, x, theta) == 0.0
    # a translation by v: every projection moves by theta . v, so SW_2^2 = mean (theta.v)^2
    v = np.array([1.0, -2.0, 0.5])
    expected = np.sqrt(np.mean((v @ theta) ** 2))
    assert sliced_wasserstein(x, x + v, theta) == pytest.approx(expected, rel=1e-12)
    # unequal sizes: a sample repeated twice is the same empirical law
    assert sliced_wasserstein(x, np.vstack([x, x]), theta) == pytest.approx(0.0, abs=1e-12)
    # unequal sizes against scipy's 1-D W1
    y = rng.standard_normal((25, 3)) * 2
    w1 = np.mean([stats.wasserstein_distance(x @ theta[:, k], y @ theta[:, k]) for k in range(50)])
    assert sliced_wasserstein(x, y, theta, p=1.0) == pytest.approx(w1, rel=1e-10)


def test_sliced_wasserstein_detects_a_change_of_law() -> None:
    """Two samples of 2000 from one law are far closer than from laws 0.5 apart in mean
    (the control, SW about |v| / sqrt(dim) = 0.25): SW_2 between two samples of one
    Gaussian law is about 0.06 at N = 2000 (the empirical quantiles' tails)."""
    rng = np.random.default_rng(5)
    theta = unit_directions(4, 64, rng=rng)
    a, b = rng.standard_normal((2, 2000, 4))
    shifted = rng.standard_normal((2000, 4)) + 0.5 / np.sqrt(4)
    assert sliced_wasserstein(a, b, theta) < 0.5 * sliced_wasserstein(a, shifted, theta)


def test_inputs_are_checked() -> None:
    rng = np.random.default_rng(6)
    with pytest.raises(InvalidArgumentError, match="averages"):
        scaled_variance(np.ones((2, 3)), 4)
    with pytest.raises(InvalidArgumentError, match="vary"):
        scaled_variance(np.ones((5, 3)), 4)
    with pytest.raises(InvalidArgumentError, match="`n`"):
        scaled_variance(rng.standard_normal((5, 2)), 0)
    with pytest.raises(InvalidArgumentError, match="points"):
        variance_slope([scaled_variance(rng.standard_normal((5, 2)), 4)])
    with pytest.raises(InvalidArgumentError, match="distinct"):
        variance_slope([scaled_variance(rng.standard_normal((5, 2)), 4)] * 2)
    with pytest.raises(InvalidArgumentError, match="columns"):
        pair_covariance(rng.standard_normal((5, 1)))
    with pytest.raises(InvalidArgumentError, match="level"):
        pair_covariance(rng.standard_normal((5, 3)), level=1.0)
    theta = unit_directions(2, 3, rng=rng)
    with pytest.raises(InvalidArgumentError, match="dimension"):
        sliced_wasserstein(np.ones((3, 3)), np.ones((3, 3)), theta)
    with pytest.raises(InvalidArgumentError, match="unit norm"):
        sliced_wasserstein(np.ones((3, 2)), np.ones((3, 2)), 2 * theta)
    with pytest.raises(InvalidArgumentError, match="finite"):
        sliced_wasserstein(np.full((3, 2), np.nan), np.ones((3, 2)), theta)


def test_paired_slope_is_the_jackknife_of_the_slope() -> None:
    """Replicate r of every width shares its first units (one stream per replicate),
    as the claim's runs do: the paired interval is the jackknife of the slope itself."""
    rng = np.random.default_rng(7)
    units = rng.standard_normal((30, WIDTHS[-1], 2))
    pts = [scaled_variance(units[:, :n].mean(axis=1), n) for n in WIDTHS]
    fit = variance_slope(pts, paired=True)
    lx = np.log(WIDTHS)
    c = (lx - lx.mean()) / np.sum((lx - lx.mean()) ** 2)
    loo = [
        sum(
            ck * np.mean(np.log(n * np.delete(units[:, :n].mean(axis=1), r, 0).var(0, ddof=1)))
            for ck, n in zip(c, WIDTHS, strict=True)
        )
        for r in range(30)
    ]
    se = np.sqrt(29 / 30 * np.sum((np.array(loo) - np.mean(loo)) ** 2))
    assert fit.slope.high - fit.slope.estimate == pytest.approx(stats.t.ppf(0.975, 29) * se)
    assert fit.df == 29
    with pytest.raises(InvalidArgumentError, match="same replicates"):
        variance_slope([pts[0], scaled_variance(units[:20, :32].mean(axis=1), 32)], paired=True)


def test_inverse_width_term_removes_the_first_correction() -> None:
    """n Var = C (1 - 8/n) exactly (three replicates at +-1, 0 give the variance exactly):
    the straight line over 16..256 has slope 0.22; the fit with the 1/n term brings it
    to -0.05, the O(n^-2) remainder of log(1 - 8/n) = -8/n - 32/n^2 - ... at n = 16."""

    def point(n: int) -> object:
        x = np.array([[1.0], [-1.0], [0.0]]) * np.sqrt(1.5 * (1 - 8 / n) / n)
        return scaled_variance(x, n)

    pts = [point(n) for n in WIDTHS]
    straight = variance_slope(pts).slope.estimate
    corrected = variance_slope(pts, inverse_width=True)
    assert straight > 0.15
    assert abs(corrected.slope.estimate) < 0.5 * straight
    assert corrected.inverse_coefficient < 0
    with pytest.raises(InvalidArgumentError, match="4 distinct"):
        variance_slope(pts[:3], inverse_width=True)
