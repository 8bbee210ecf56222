"""The moment estimator of Dekkers, Einmahl & de Haan (1989)."""

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
from ._order_stats import TopOrderStatistics, log_spacings
from ._result import TailEstimate

__all__ = ["MOMENT_FIT", "moment_estimator"]

IntArray = npt.NDArray[np.intp]

_Z = float(ndtri(0.975))


def _gamma(m1: Any, m2: Any) -> Any:
    """gamma_hat = M1 + 1 - (1/2) / (1 - M1^2 / M2)."""
    return m1 + 1.0 - 0.5 / (1.0 - m1 * m1 / m2)


def _moment_path(top: TopOrderStatistics, ks: IntArray) -> FloatArray:
    """The moment estimate at every k in ``ks`` from two cumulative sums: O(max k) in all.

    With l_i = log X_(i) - log X_(K+1) (K the largest valid k; the shift cancels) and
    t = l_{k+1}: M1 = S1_k/k - t and M2 = S2_k/k - 2 t S1_k/k + t^2, where S1, S2 are
    the cumulative sums of l and l^2. nan where undefined (X_(k+1) = 0, ties, k < 2).
    """
    out = np.full(ks.size, np.nan)
    ok = (ks >= 2) & (ks < top.n_positive) & (ks >= top.n_top_ties)
    if not ok.any():
        return out
    kk = ks[ok]
    big = int(kk.max())
    logs = top.logs[: big + 1] - top.logs[big]
    s1 = np.cumsum(logs)[kk - 1] / kk
    s2 = np.cumsum(logs * logs)[kk - 1] / kk
    t = logs[kk]
    m1 = s1 - t
    m2 = s2 - 2.0 * t * s1 + t * t
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = _gamma(m1, m2)
    gamma[~np.isfinite(gamma) | (m2 <= 0)] = np.nan
    out[ok] = gamma
    return out


def _moment_se_xi(xi: float, k: int) -> float:
    return math.sqrt((1.0 + xi * xi) / k)


MOMENT_FIT = TailFit(
    method="moment",
    k_low=2,
    k_rule="2 <= k <= n - 1",
    k_high=lambda n: n - 1,
    used=lambda k: k + 1,
    ks_tail=lambda k: k,
    xi_path=_moment_path,
    se_xi=_moment_se_xi,
)


@fill_doc(TAIL_SAMPLE_DOC)
def moment_estimator(
    x: Any, *, k: Any = None, k_grid: KGrid | None = None, center: Any = None
) -> TailEstimate:
    """The moment estimator of Dekkers, Einmahl & de Haan (1989), as a tail index.

    With X_(1) >= ... >= X_(n) the descending order statistics of |x| and

        M_j = (1/k) sum_{i=1}^{k} (log(X_(i) / X_(k+1)))^j,   j = 1, 2,

    the extreme-value index estimate is

        gamma_hat = M1 + 1 - (1/2) / (1 - M1^2 / M2)

    (Dekkers, Einmahl & de Haan, "A moment estimator for the index of an extreme-value
    distribution", Ann. Statist. 17 (1989) 1833-1855). It is consistent for every real
    gamma (M1 alone is Hill's estimator, consistent only for gamma > 0); the tail index
    is alpha = 1/gamma when gamma > 0.

    Interval. For gamma > 0, sqrt(k) (gamma_hat - gamma) -> N(0, 1 + gamma^2) (ibid.,
    asymptotic normality), so gamma is in gamma_hat -+ 1.96 sqrt((1 + gamma_hat^2) / k);
    this interval is mapped to alpha = 1/gamma, which is decreasing, giving
    [1/gamma_high, 1/gamma_low], with an infinite upper end when gamma_low <= 0.

    Parameters
    ----------
    x : array_like, 1-D, real, finite, at least 3 observations
        The sample; its magnitudes |x| are used.
    k : int or None
        Number of exceedances, 2 <= k <= n - 1 (at k = 1, M1^2 = M2 and the formula is
        0/0). None (default) chooses k by the minimum Kolmogorov-Smirnov rule with the
        Pareto tail of index 1/gamma_hat(k) above X_(k+1); see :func:`select_k`.
    %(k_grid)s
    %(center)s

    Returns
    -------
    TailEstimate
        ``alpha`` = 1/gamma_hat, method "moment", estimand "tail index"; ``settings`` and
        ``warnings`` as for :func:`hill_estimator` (k-sensitivity threshold 5.0).

    Raises
    ------
    InvalidArgumentError
        For bad ``x``, ``k`` outside [2, n - 1], or ``k_grid`` given with ``k``.
    EstimationError
        If gamma_hat <= 0 (no heavy tail: the tail index is not finite); if X_(k+1) = 0;
        or if the top k magnitudes are all equal (the denominator 1 - M1^2/M2 is 0).

    Examples
    --------
    >>> import numpy as np
    >>> from heavytail.theory import moment_estimator
    >>> x = np.random.default_rng(2).pareto(2.0, size=20_000) + 1.0
    >>> est = moment_estimator(x, k=2_000)
    >>> bool(est.ci[0] < 2.0 < est.ci[1])
    True
    """
    mags, k_val, top, settings = tail_sample(x, center, k, k_grid, MOMENT_FIT, min_size=3)
    d = log_spacings(top, k_val)
    if np.all(d == d[0]):
        raise EstimationError(
            f"the top k = {k_val} magnitudes are all equal ({top.values[0]:g}): M1^2 = M2, "
            "so the moment estimator's denominator 1 - M1^2/M2 is 0; use a larger k"
        )
    m1 = float(np.mean(d))
    m2 = float(np.mean(d * d))
    gamma = float(_gamma(m1, m2))
    if not gamma > 0:
        raise EstimationError(
            f"the extreme-value index estimate is <= 0 (gamma_hat = {gamma:.4g} at k = "
            f"{k_val}): the data show no heavy tail, the tail index is not finite"
        )
    half = _Z * _moment_se_xi(gamma, k_val)
    low = 1.0 / (gamma + half)
    high = 1.0 / (gamma - half) if gamma > half else math.inf
    warnings = stability_warnings(top, k_val, MOMENT_FIT, settings)
    return TailEstimate(
        alpha=1.0 / gamma,
        ci=(low, high),
        method="moment",
        estimand="tail index",
        n=mags.size,
        settings=settings,
        warnings=warnings,
    )
