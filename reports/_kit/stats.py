"""Intervals for claims: replicate means, rate fits, rank-correlation trends, proportions
and root mean squares.

Every interval here is computed over independent replicates, so that it reflects the
spread of whole simulations rather than an asymptotic formula for one of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from heavytail._lib._types import FloatArray
from heavytail._lib._validation import as_sample, check_int, check_real
from heavytail.theory import InvalidArgumentError, TailEstimate, estimate_tail_index

from .verdict import Measurement

__all__ = [
    "RateFit",
    "clopper_pearson",
    "family_level",
    "fit_rate",
    "kendall_trend",
    "mean_interval",
    "percentile_interval",
    "rmse_interval",
    "spearman_by_group",
    "tail_interval",
    "widen_tail_interval",
]


def family_level(n_checks: int, level: float = 0.95) -> float:
    """Per-check level so that ``n_checks`` intervals hold together with ``level``.

    Bonferroni: ``1 - (1 - level) / n_checks``. A claim with many checks would otherwise
    disagree by chance alone (16 independent 95% intervals all cover only 44% of the time).
    """
    n = check_int(n_checks, "n_checks", low=1)
    lev = check_real(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    return 1.0 - (1.0 - lev) / n


def mean_interval(values: npt.ArrayLike, level: float = 0.95) -> Measurement:
    """Mean of independent replicates with a Student-t interval.

    ``mean +- t_{R-1, (1+level)/2} * sd / sqrt(R)`` over ``R >= 2`` replicates.
    """
    x = as_sample(values, "values", min_size=2)
    lev = check_real(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    r = x.size
    mean = float(x.mean())
    half = float(stats.t.ppf(0.5 + lev / 2, r - 1) * x.std(ddof=1) / np.sqrt(r))
    return Measurement(mean, mean - half, mean + half, level=lev)


def clopper_pearson(successes: int, trials: int, level: float) -> Measurement:
    """The proportion ``successes / trials`` with its exact (Clopper-Pearson) interval."""
    k = check_int(successes, "successes", low=0)
    m = check_int(trials, "trials", low=1)
    if k > m:
        raise InvalidArgumentError(f"`successes` must be <= `trials` ({m}), got {k}")
    ci = stats.binomtest(k, m).proportion_ci(confidence_level=level, method="exact")
    p = k / m
    return Measurement(p, min(float(ci.low), p), max(float(ci.high), p), level=level)


def percentile_interval(estimate: float, boots: FloatArray, level: float) -> Measurement:
    """``estimate`` with the percentile interval of its bootstrap values ``boots`` at
    ``level``, widened where needed to contain the estimate."""
    low, high = np.quantile(boots, [0.5 - level / 2, 0.5 + level / 2])
    return Measurement(estimate, min(float(low), estimate), max(float(high), estimate), level=level)


def rmse_interval(
    errors: npt.ArrayLike, level: float, *, n_boot: int, rng: np.random.Generator
) -> Measurement:
    """Root mean square of ``errors`` with a percentile bootstrap interval over runs."""
    e = np.asarray(errors, dtype=np.float64)
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)):
        raise InvalidArgumentError("`errors` must be a 1-D array of >= 2 finite values")
    rmse = float(np.sqrt(np.mean(e * e)))
    idx = rng.integers(0, e.size, (n_boot, e.size))
    boots = np.sqrt(np.mean(e[idx] ** 2, axis=1))
    return percentile_interval(rmse, boots, level)


@dataclass(frozen=True)
class RateFit:
    """A power-law rate fitted on replicates: ``log y = intercept + slope * log x``.

    Attributes
    ----------
    slope : Measurement
        The pooled OLS slope with a cluster-robust interval (clusters = replicates,
        Student-t with ``R - 1`` degrees of freedom).
    intercept : float
        The pooled intercept.
    replicate_slopes : ndarray
        The OLS slope of each replicate alone; their spread is what the interval reflects.
    """

    slope: Measurement
    intercept: float
    replicate_slopes: FloatArray


def _replicate_rows(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """``x`` (m,) and ``y`` (R, m), one row per replicate, checked: at least two of each."""
    xs = as_sample(x, "x", min_size=2)
    ys = as_sample(y, "y", ndim=2, min_size=2)
    if ys.shape[1] != xs.size:
        raise InvalidArgumentError(
            f"`y` must have one column per entry of `x` ({xs.size}), got {ys.shape[1]}"
        )
    return xs, ys


def fit_rate(x: npt.ArrayLike, y: npt.ArrayLike, level: float = 0.95) -> RateFit:
    """Fit ``log y = a + s log x`` on replicate curves with statsmodels.

    Parameters
    ----------
    x : array, shape (m,)
        Positive abscissae (e.g. sizes n), shared by every replicate.
    y : array, shape (R, m)
        Positive values, one row per independent replicate, ``R >= 2``.
    level : float
        Coverage of the slope's interval.

    Notes
    -----
    The rows of ``y`` may be correlated along ``x`` (nested prefixes of one long sample,
    say), so the OLS standard error would be too small. Replicates are independent, so a
    cluster-robust covariance with one cluster per replicate is valid; with a balanced
    design its slope equals the mean of the per-replicate slopes.
    """
    import statsmodels.api as sm

    xs, ys = _replicate_rows(x, y)
    if np.any(xs <= 0) or np.any(ys <= 0):
        raise InvalidArgumentError("`x` and `y` must be positive to fit a power law")
    lev = check_real(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    r, m = ys.shape
    lx, ly = np.log(xs), np.log(ys)
    design = sm.add_constant(np.tile(lx, r))
    groups = np.repeat(np.arange(r), m)
    fit = sm.OLS(ly.ravel(), design).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    low, high = fit.conf_int(alpha=1 - lev)[1]
    slope = float(fit.params[1])
    per_rep = np.polynomial.polynomial.polyfit(lx, ly.T, 1)[1]
    return RateFit(
        slope=Measurement(slope, float(low), float(high), level=lev),
        intercept=float(fit.params[0]),
        replicate_slopes=np.asarray(per_rep, dtype=np.float64),
    )


def kendall_trend(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    level: float = 0.95,
    n_boot: int = 1000,
    rng: np.random.Generator,
) -> Measurement:
    """Kendall's tau-b between a design variable and replicate outcomes, with an interval.

    Parameters
    ----------
    x : array, shape (m,)
        The design values (e.g. tail indices), one per column of ``y``.
    y : array, shape (R, m)
        Outcomes, one row per independent replicate (each row one draw at every x).
    level : float
        Coverage of the percentile bootstrap interval.
    n_boot : int
        Bootstrap resamples; rows (replicates) are resampled whole.
    rng : Generator
        Randomness of the bootstrap.

    Returns
    -------
    Measurement
        tau-b of the pooled pairs ``(x_j, y_rj)``; ties in x (the same design value in
        different replicates) are handled by tau-b.
    """
    xs, ys = _replicate_rows(x, y)
    lev = check_real(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    nb = check_int(n_boot, "n_boot", low=100)
    r = ys.shape[0]
    # Every resample is a multiset of whole rows, so tau-b of a resample follows from
    # row-by-row blocks of pair sums: with w the row counts, S = w'Cw, Tx = w'Nx w and
    # Ty = w'Ny w over ordered pairs, and tau-b = S / sqrt(Tx Ty). (Pairs between two
    # copies of one row are pairs of distinct points; a point paired with itself adds 0.)
    sx = np.sign(xs[:, None] - xs[None, :])  # (m, m)
    sy = np.sign(ys[:, None, :, None] - ys[None, :, None, :])  # (R, R, m, m)
    concord = np.einsum("ij,abij->ab", sx, sy)
    n_x = np.full((r, r), float(np.count_nonzero(sx)))
    n_y = np.count_nonzero(sy, axis=(2, 3)).astype(np.float64)

    def tau(weights: FloatArray) -> FloatArray:
        s_ = np.einsum("ba,ac,bc->b", weights, concord, weights)
        tx = np.einsum("ba,ac,bc->b", weights, n_x, weights)
        ty = np.einsum("ba,ac,bc->b", weights, n_y, weights)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = s_ / np.sqrt(tx * ty)
        return np.where(ty > 0, t, 0.0)  # all-tied outcomes: no trend

    estimate = float(tau(np.ones((1, r)))[0])
    draws = rng.integers(0, r, size=(nb, r))
    weights = np.zeros((nb, r))
    np.add.at(weights, (np.repeat(np.arange(nb), r), draws.ravel()), 1.0)
    boots = tau(weights)
    return percentile_interval(estimate, boots, lev)


def spearman_by_group(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    level: float = 0.95,
    n_boot: int = 1000,
    rng: np.random.Generator,
) -> Measurement:
    """Spearman's rank correlation of paired points, with a bootstrap over groups.

    Parameters
    ----------
    x, y : array, shape (m,)
        The pairs (finite).
    groups : array of int, shape (m,)
        The group of each pair (e.g. the seed of a network: networks of one seed share
        their initial weights, so they are resampled together). At least two groups.
    level : float
        Coverage of the percentile bootstrap interval, in (0, 1).
    n_boot : int
        Bootstrap resamples (>= 100); groups are drawn with replacement and keep all
        their pairs.
    rng : Generator
        Randomness of the bootstrap.

    Returns
    -------
    Measurement
        Spearman's rho of all pairs (Pearson's correlation of the mid-ranks), with the
        percentile interval; a resample whose x or y values are all tied has rho 0.

    Examples
    --------
    >>> m = spearman_by_group([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5], [0, 0, 1, 1, 2, 2],
    ...                       n_boot=200, rng=np.random.default_rng(0))
    >>> round(m.estimate, 4)
    0.8286
    """
    xs = as_sample(x, "x", min_size=3)
    ys = as_sample(y, "y", min_size=3)
    g = np.asarray(groups)
    if not (xs.size == ys.size == g.size) or g.ndim != 1:
        raise InvalidArgumentError(
            f"`x`, `y` and `groups` must be 1-D of one length, got {xs.size}, {ys.size}, {g.shape}"
        )
    labels, index = np.unique(g, return_inverse=True)
    if labels.size < 2:
        raise InvalidArgumentError("`groups` must hold at least two groups")
    lev = check_real(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    nb = check_int(n_boot, "n_boot", low=100)

    def rho(ix: npt.NDArray[np.intp]) -> float:
        rx, ry = stats.rankdata(xs[ix]), stats.rankdata(ys[ix])
        if np.ptp(rx) == 0 or np.ptp(ry) == 0:
            return 0.0
        return float(np.corrcoef(rx, ry)[0, 1])

    estimate = rho(np.arange(xs.size))
    members = [np.flatnonzero(index == k) for k in range(labels.size)]
    boots = np.empty(nb)
    for b in range(nb):
        drawn = rng.integers(0, labels.size, size=labels.size)
        boots[b] = rho(np.concatenate([members[k] for k in drawn]))
    return percentile_interval(estimate, boots, lev)


def widen_tail_interval(est: TailEstimate, level: float) -> Measurement:
    """A tail-index estimate with its 95% interval widened to ``level``.

    The interval of ``estimate_tail_index`` is built at 95% from normal-theory pieces
    (Hill's interval is multiplicative, alpha_hat times Gamma quantiles over k) and a bias
    allowance. Each side is widened on the log scale, log(bound / alpha_hat) times
    z((1 + level)/2) / z(0.975), so that the interval of a positive index stays positive
    (the allowance is widened too, conservatively).
    """
    factor = float(stats.norm.ppf(0.5 + level / 2.0) / stats.norm.ppf(0.975))
    low, high = est.ci
    return Measurement(
        est.alpha,
        est.alpha * (max(low, 0.0) / est.alpha) ** factor,
        est.alpha * (high / est.alpha) ** factor,
        level=level,
    )


def tail_interval(sample: npt.ArrayLike, level: float, rng: np.random.Generator) -> Measurement:
    """``estimate_tail_index`` (auto) of the flattened ``sample``, drawing from ``rng``, with
    its 95% interval widened to ``level`` (:func:`widen_tail_interval`)."""
    return widen_tail_interval(estimate_tail_index(np.ravel(sample), rng=rng), level)
