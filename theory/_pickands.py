"""Pickands' (1975) estimator of the extreme-value index, as a tail index."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri

from heavytail._lib._doc import fill_doc
from heavytail._lib._errors import EstimationError
from heavytail._lib._types import FloatArray

from ._kselect import TAIL_SAMPLE_DOC, KGrid, TailFit, stability_warnings, tail_sample
from ._order_stats import TopOrderStatistics
from ._result import TailEstimate

__all__ = ["PICKANDS_FIT", "pickands_estimator", "pickands_se_xi"]

IntArray = npt.NDArray[np.intp]

_Z = float(ndtri(0.975))
_LOG2 = math.log(2.0)


def _pickands_path(top: TopOrderStatistics, ks: IntArray) -> FloatArray:
    """xi_hat(k) = log((X_(k) - X_(2k)) / (X_(2k) - X_(4k))) / log 2 at every k in ``ks``.

    nan where a difference is 0 (tied order statistics).
    """
    v = top.values
    a, b, c = v[ks - 1], v[2 * ks - 1], v[4 * ks - 1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        xi = np.log((a - b) / (b - c)) / _LOG2
    xi[~np.isfinite(xi)] = np.nan
    return xi


def pickands_se_xi(xi: float, k: int) -> float:
    """Asymptotic standard error of Pickands' xi_hat at k (Dekkers & de Haan 1989).

    sqrt(k) (xi_hat - xi) -> N(0, v(xi)) with

        v(xi) = xi^2 (2^(2 xi + 1) + 1) / (2 (2^xi - 1) log 2)^2,

    whose limit at xi = 0 is 3 / (2 (log 2)^2)^2. Above xi = 500, where 2^(2 xi + 1)
    nears the double range, it is computed as xi sqrt(2 + 2^(-2 xi)) / (1 - 2^(-xi)) over
    2 log 2 sqrt(k), the same quantity divided through by 2^xi.
    """
    if xi > _LARGE_XI:
        shrink = 2.0**-xi
        return (xi * math.sqrt(2.0 + shrink * shrink) / (-math.expm1(-xi * _LOG2))) / (
            2.0 * _LOG2 * math.sqrt(k)
        )
    # xi / (2^xi - 1) -> 1 / log 2 as xi -> 0
    ratio = 1.0 / _LOG2 if abs(xi) < 1e-8 else xi / math.expm1(xi * _LOG2)
    return ratio * math.sqrt(2.0 ** (2.0 * xi + 1.0) + 1.0) / (2.0 * _LOG2 * math.sqrt(k))


#: Above this xi, pickands_se_xi divides through by 2^xi (2^(2 xi + 1) would overflow
#: beyond xi = 511).
_LARGE_XI = 500.0


PICKANDS_FIT = TailFit(
    method="pickands",
    k_low=1,
    k_rule="1 <= k <= n / 4 (the estimate reads X_(4k))",
    k_high=lambda n: n // 4,
    used=lambda k: 4 * k,
    ks_tail=lambda k: 4 * k - 1,
    xi_path=_pickands_path,
    se_xi=pickands_se_xi,
)


@fill_doc(TAIL_SAMPLE_DOC)
def pickands_estimator(
    x: Any, *, k: Any = None, k_grid: KGrid | None = None, center: Any = None
) -> TailEstimate:
    """Pickands' (1975) estimator, as a tail index alpha = 1/xi.

    With X_(1) >= ... >= X_(n) the descending order statistics of |x|,

        xi_hat = log((X_(k) - X_(2k)) / (X_(2k) - X_(4k))) / log 2

    (Pickands, "Statistical inference using extreme order statistics", Ann. Statist. 3
    (1975) 119-131). It estimates the extreme-value index xi for every real xi and is
    invariant to shifts as well as scale; the tail index is alpha = 1/xi when xi > 0.

    Interval. sqrt(k) (xi_hat - xi) -> N(0, v(xi)), v(xi) = xi^2 (2^(2xi+1) + 1) /
    (2 (2^xi - 1) log 2)^2 (Dekkers & de Haan, "On the estimation of the extreme-value
    index and large quantile estimation", Ann. Statist. 17 (1989) 1795-1832). The
    interval xi_hat -+ 1.96 sqrt(v(xi_hat) / k) (the plug-in standard error of the
    delta method) is mapped through the decreasing alpha = 1/xi to
    [1/xi_high, 1/xi_low], with an infinite upper end when xi_low <= 0. Pickands'
    variance is several times Hill's (at xi = 0.5, 3.8/k against 0.25/k).

    Parameters
    ----------
    x : array_like, 1-D, real, finite, at least 4 observations
        The sample; its magnitudes |x| are used.
    k : int or None
        1 <= k <= n // 4 (the estimate reads X_(4k)). None (default) chooses k by the
        minimum Kolmogorov-Smirnov rule, comparing the top 4k - 1 values with the Pareto
        tail of index 1/xi_hat(k) above X_(4k); see :func:`select_k`.
    %(k_grid)s
    %(center)s

    Returns
    -------
    TailEstimate
        ``alpha`` = 1/xi_hat, method "pickands", estimand "tail index"; ``settings`` as
        for :func:`hill_estimator` (k-sensitivity threshold 7.5).

    Raises
    ------
    InvalidArgumentError
        For bad ``x``, ``k`` outside [1, n // 4], or ``k_grid`` given with ``k``.
    EstimationError
        If xi_hat <= 0 (no heavy tail: the tail index is not finite), or if X_(k) =
        X_(2k) or X_(2k) = X_(4k) (tied order statistics make the ratio 0 or 0/0).

    Examples
    --------
    >>> import numpy as np
    >>> from heavytail.theory import pickands_estimator
    >>> x = np.random.default_rng(3).pareto(1.0, size=40_000) + 1.0
    >>> est = pickands_estimator(x, k=2_000)
    >>> bool(est.ci[0] < 1.0 < est.ci[1])
    True
    """
    mags, k_val, top, settings = tail_sample(x, center, k, k_grid, PICKANDS_FIT, min_size=4)
    v = top.values
    a, b, c = float(v[k_val - 1]), float(v[2 * k_val - 1]), float(v[4 * k_val - 1])
    if a == b or b == c:
        which = "X_(k) = X_(2k)" if a == b else "X_(2k) = X_(4k)"
        raise EstimationError(
            f"{which} at k = {k_val} (tied order statistics): Pickands' ratio "
            "(X_(k) - X_(2k)) / (X_(2k) - X_(4k)) is 0 or undefined; use another k"
        )
    xi = math.log((a - b) / (b - c)) / _LOG2
    if math.isinf(xi):
        raise EstimationError(
            f"Pickands' ratio (X_(k) - X_(2k)) / (X_(2k) - X_(4k)) overflows at k = {k_val} "
            f"(X_(k) = {a:.3g}, X_(2k) = {b:.3g}, X_(4k) = {c:.3g}): the extreme-value "
            "index estimate is not finite; use another k"
        )
    if not xi > 0:
        raise EstimationError(
            f"the extreme-value index estimate is <= 0 (xi_hat = {xi:.4g} at k = {k_val}): "
            "the data show no heavy tail, the tail index is not finite"
        )
    half = _Z * pickands_se_xi(xi, k_val)
    low = 1.0 / (xi + half)
    high = 1.0 / (xi - half) if xi > half else math.inf
    settings["order_statistics_used"] = 4 * k_val
    warnings = stability_warnings(top, k_val, PICKANDS_FIT, settings)
    return TailEstimate(
        alpha=1.0 / xi,
        ci=(low, high),
        method="pickands",
        estimand="tail index",
        n=mags.size,
        settings=settings,
        warnings=warnings,
    )
