"""The Hill estimator of the tail index, and the Hill plot."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import gammaincinv

from heavytail._lib._doc import fill_doc
from heavytail._lib._errors import EstimationError, InvalidArgumentError
from heavytail._lib._types import FloatArray

from ._kselect import TAIL_SAMPLE_DOC, KGrid, TailFit, stability_warnings, tail_sample
from ._order_stats import (
    TopOrderStatistics,
    log_spacings,
    sample_magnitudes,
    top_order_statistics,
)
from ._result import TailEstimate

__all__ = ["HILL_FIT", "HillPlot", "hill_estimator", "hill_plot"]

IntArray = npt.NDArray[np.intp]

_LEVEL = 0.95


def _hill_path(top: TopOrderStatistics, ks: IntArray) -> FloatArray:
    """Hill's 1/alpha at every k in ``ks`` from one cumulative sum: O(max k) in all.

    H_k = (1/k) sum_{i<=k} l_i - l_{k+1}, with l_i = log X_(i) - log X_(K+1) (K the
    largest valid k): the shift cancels in H_k, and keeps the cumulative sums small so
    that they lose no more than a few units in the last place. nan where X_(k+1) = 0 or
    the top k + 1 values are all equal.
    """
    out = np.full(ks.size, np.nan)
    ok = (ks < top.n_positive) & (ks >= top.n_top_ties)
    if not ok.any():
        return out
    kk = ks[ok]
    big = int(kk.max())
    logs = top.logs[: big + 1] - top.logs[big]
    csum = np.cumsum(logs)
    out[ok] = csum[kk - 1] / kk - logs[kk]
    return out


def _hill_se_xi(xi: float, k: int) -> float:
    return xi / math.sqrt(k)


HILL_FIT = TailFit(
    method="hill",
    k_low=1,
    k_rule="1 <= k <= n - 1",
    k_high=lambda n: n - 1,
    used=lambda k: k + 1,
    ks_tail=lambda k: k,
    xi_path=_hill_path,
    se_xi=_hill_se_xi,
)


def _hill_interval(alpha: FloatArray | float, k: IntArray | int) -> tuple[Any, Any]:
    """The exact-under-Pareto 95% interval alpha_hat * [g_0.025(k), g_0.975(k)] / k."""
    half = (1.0 - _LEVEL) / 2.0
    low = alpha * gammaincinv(k, half) / k
    high = alpha * gammaincinv(k, 1.0 - half) / k
    return low, high


@fill_doc(TAIL_SAMPLE_DOC)
def hill_estimator(
    x: Any, *, k: Any = None, k_grid: KGrid | None = None, center: Any = None
) -> TailEstimate:
    """Hill's (1975) estimator of the tail index of |X|.

    With X_(1) >= ... >= X_(n) the descending order statistics of |x_1|, ..., |x_n|,

        1/alpha_hat = H_k = (1/k) sum_{i=1}^{k} log(X_(i) / X_(k+1)),

    the maximum-likelihood estimate of alpha for a Pareto tail P(|X| > t | |X| > u) =
    (t/u)^(-alpha) above the threshold u = X_(k+1) (Hill 1975, eq. (3)). It is consistent
    for P(|X| > t) = t^(-alpha) L(t), L slowly varying, when k -> inf and k/n -> 0; its
    bias depends on how fast L settles (the second-order behaviour), which no k removes
    on stable data with alpha near 2 (docs/theory.md, section 4).

    Interval. If the tail is exactly Pareto above X_(k+1), then conditionally on X_(k+1)
    the ratios X_(i)/X_(k+1), i <= k, are the order statistics of k i.i.d. Pareto(alpha)
    variables (Renyi's representation), whose logs are Exponential(rate alpha); so
    alpha k H_k ~ Gamma(k, 1) exactly, and

        alpha in [alpha_hat g_0.025(k) / k, alpha_hat g_0.975(k) / k],

    with g_p(k) the p-quantile of Gamma(k, 1), has coverage exactly 95% under a Pareto
    tail. Since g_p(k)/k = 1 + z_p/sqrt(k) + O(1/k), this is the asymptotic interval
    from sqrt(k) (alpha_hat/alpha - 1) -> N(0, 1), i.e. alpha in
    [alpha_hat/(1 + 1.96/sqrt(k)), alpha_hat/(1 - 1.96/sqrt(k))], to first order (the
    lower end is the smaller: alpha_hat/alpha > 1 + 1.96/sqrt(k) is the unlikely event
    that excludes alpha from below). Unlike the normal form it is finite for every k >= 1
    and exact for small k. It accounts for noise only, not for bias.

    Parameters
    ----------
    x : array_like, 1-D, real, finite, at least 2 observations
        The sample; its magnitudes |x| are used (so sign and order do not matter).
    k : int or None
        Number of exceedances, 1 <= k <= n - 1. None (default) chooses k by the
        minimum Kolmogorov-Smirnov rule of Clauset, Shalizi & Newman (2009), with the
        Hill-fitted Pareto tail; see :func:`select_k`.
    %(k_grid)s
    %(center)s

    Returns
    -------
    TailEstimate
        ``alpha`` = 1/H_k, its 95% interval, method "hill", estimand "tail index", and
        ``settings``: ``k``, ``k_rule`` ("given" or "min-KS"), ``k_sensitivity`` (see
        :func:`k_sensitivity`), and for "min-KS" also ``ks_distance``, ``k_min``,
        ``k_max``, ``dense_up_to``, ``ratio`` and ``n_candidates``. ``warnings`` holds
        "the estimate depends strongly on k ..." when ``k_sensitivity`` exceeds its
        threshold (4.0).

    Raises
    ------
    InvalidArgumentError
        For bad ``x`` (fewer than 2 observations, non-real or non-finite entries, all
        magnitudes equal), ``k`` outside [1, n - 1], or ``k_grid`` given with ``k``.
    EstimationError
        If X_(k+1) = 0 (k reaches into the zeros of the sample) or the top k + 1
        magnitudes are all equal.

    Notes
    -----
    Not checked: that the tail is regularly varying at all (Hill returns a finite number
    for Gaussian or exponential data too, which then drifts up with decreasing k), and
    that the data are independent.

    Examples
    --------
    >>> import numpy as np
    >>> from heavytail.theory import hill_estimator
    >>> x = np.random.default_rng(1).pareto(2.0, size=20_000) + 1.0
    >>> est = hill_estimator(x, k=2_000)
    >>> bool(est.ci[0] < 2.0 < est.ci[1])
    True
    """
    mags, k_val, top, settings = tail_sample(x, center, k, k_grid, HILL_FIT, min_size=2)
    xi = float(np.mean(log_spacings(top, k_val)))
    alpha = 1.0 / xi
    low, high = _hill_interval(alpha, k_val)
    warnings = stability_warnings(top, k_val, HILL_FIT, settings)
    return TailEstimate(
        alpha=alpha,
        ci=(float(low), float(high)),
        method="hill",
        estimand="tail index",
        n=mags.size,
        settings=settings,
        warnings=warnings,
    )


@dataclass(frozen=True, eq=False)
class HillPlot:
    """The Hill estimate and its 95% interval as functions of k (read-only arrays).

    Attributes
    ----------
    k : ndarray of int
        Numbers of exceedances, ascending.
    alpha : ndarray of float
        Hill's estimate 1/H_k at each k (the same numbers as :func:`hill_estimator`
        up to rounding in the last few places).
    ci_low, ci_high : ndarray of float
        The 95% interval at each k (see :func:`hill_estimator`).
    n : int
        Sample size.
    """

    k: IntArray
    alpha: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    n: int


def _check_ks(ks: Any, n: int) -> IntArray:
    arr = np.asarray(ks)
    if arr.dtype.kind not in "iu":
        raise InvalidArgumentError(f"`ks` must be an array of integers, got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidArgumentError(f"`ks` must be a non-empty 1-D array, got shape {arr.shape}")
    if arr.min() < 1 or arr.max() > n - 1:
        raise InvalidArgumentError(
            f"`ks` must lie in [1, n - 1] = [1, {n - 1}], got values in [{arr.min()}, {arr.max()}]"
        )
    return np.unique(arr.astype(np.intp))


def hill_plot(x: Any, ks: Any = None) -> HillPlot:
    """The Hill plot: Hill's estimate of alpha and its 95% interval against k.

    All estimates come from one sort and one cumulative sum, O(n log n) in all (see
    :func:`hill_estimator` for the estimator and the interval).

    Parameters
    ----------
    x : array_like, 1-D, real, finite, at least 2 observations
        The sample; its magnitudes |x| are used.
    ks : array_like of int or None
        The k to evaluate, each in [1, n - 1] (sorted and de-duplicated). None (default):
        every k up to 50, then a 2% geometric grid up to the largest valid k (about 550
        points at n = 1e6), starting at the smallest k whose top k + 1 values are not all
        equal and ending at n_positive - 1 (n_positive: the number of non-zero
        magnitudes), where the estimate is defined.

    Returns
    -------
    HillPlot

    Raises
    ------
    InvalidArgumentError
        For bad ``x`` or ``ks``.
    EstimationError
        If the estimate is undefined at a requested k (X_(k+1) = 0, or the top k + 1
        values all equal), or at every k.
    """
    mags = sample_magnitudes(x, min_size=2)
    n = mags.size
    if ks is None:
        top = top_order_statistics(mags, n)
        lo, hi = max(1, top.n_top_ties), top.n_positive - 1
        if hi < lo:
            raise EstimationError(
                f"the Hill estimate is undefined at every k: the {top.n_top_ties} largest "
                f"magnitudes are tied and only {top.n_positive} magnitudes are positive"
            )
        k_arr = KGrid(k_min=lo, dense_up_to=50, ratio=1.02, k_max=hi).candidates(1, n - 1)
    else:
        k_arr = _check_ks(ks, n)
        top = top_order_statistics(mags, int(k_arr[-1]) + 1)
    xi = _hill_path(top, k_arr)
    bad = ~np.isfinite(xi) | (xi <= 0)
    if bad.any():
        k_bad = int(k_arr[np.argmax(bad)])
        log_spacings(top, k_bad)  # raises the EstimationError that says why (zero or ties)
        raise EstimationError(f"the Hill estimate is not positive at k = {k_bad}")
    alpha = 1.0 / xi
    low, high = _hill_interval(alpha, k_arr)
    for arr in (k_arr, alpha, low, high):
        arr.flags.writeable = False
    return HillPlot(k=k_arr, alpha=alpha, ci_low=low, ci_high=high, n=n)
