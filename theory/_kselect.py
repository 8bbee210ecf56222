"""Automatic choice of k: the minimum Kolmogorov-Smirnov rule, and a k-stability diagnostic.

The rule is that of Clauset, Shalizi & Newman, "Power-law distributions in empirical
data", SIAM Review 51 (2009), section 3.3: for each candidate k, fit the tail by the
estimator, compute the Kolmogorov-Smirnov distance between the empirical distribution of
the exceedances and the fitted Pareto law, and keep the k that minimises it.

Cost. Clauset et al. try every threshold, and recompute each fit and each distance from
scratch: O(n^2) (so does the ``powerlaw`` package). Here the sample is sorted once
(O(n log n), and only its top part), the estimates at all candidates come from
cumulative sums or index gathers, and the candidates lie on a grid that is dense up to
``dense_up_to`` and geometric with ``ratio`` above it. Each candidate's distance reads its
m exceedances once, so the total work after the sort is proportional to the sum of the
candidate tail sizes, at most about ``dense_up_to**2 / 2 + k_max * ratio / (ratio - 1)``
= O(n) (about 51 n at the default ratio 1.02 and k_max = n - 1; measured 51.3 n at
n = 1e4, k_max itself included).

This module knows no estimator: each estimator module describes itself by a
:class:`TailFit` and calls :func:`select` with it. The public :func:`select_k` and
:func:`k_sensitivity` look the estimators up by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from heavytail._lib._errors import EstimationError, InvalidArgumentError
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_choice, check_int, check_real

from ._center import apply_center, check_center
from ._order_stats import TopOrderStatistics, check_k, sample_magnitudes, top_order_statistics

__all__ = [
    "K_SENSITIVITY_THRESHOLDS",
    "KGrid",
    "KSelection",
    "TailFit",
    "k_of_fraction",
    "k_sensitivity",
    "select",
    "select_k",
    "sensitivity",
]

IntArray = npt.NDArray[np.intp]

METHODS = ("hill", "moment", "pickands")

# Warn "the estimate depends strongly on k" when k_sensitivity exceeds these. Each is just
# above the largest 99.5% quantile of the statistic on exact Pareto samples (no
# k-dependence, only noise) over alpha in {0.5, 1, 2, 4} and k in {100, 200, 1000}
# (n = 20 k, or 80 k for Pickands; 1000 samples each): 3.98 (hill), 4.91 (moment),
# 7.17 (pickands). For Hill the statistic is asymptotically free of alpha and k (its
# median was 1.7-1.8 throughout); for the moment and Pickands estimators it grows as
# alpha grows and k shrinks, so below k = 100 their false-alarm rate can exceed 0.5%.
# tests/theory/test_kselect.py re-checks the false-alarm rate and the power.
K_SENSITIVITY_THRESHOLDS: Mapping[str, float] = MappingProxyType(
    {"hill": 4.0, "moment": 5.0, "pickands": 7.5}
)


@dataclass(frozen=True)
class TailFit:
    """How one order-statistic estimator plugs into the k rule (private description).

    Attributes
    ----------
    method : str
        The estimator's name.
    k_low : int
        Smallest valid k.
    k_rule : str
        The valid range in words, for error messages ("1 <= k <= n - 1").
    k_high : callable
        n -> largest valid k.
    used : callable
        k -> number of top order statistics the estimate at k reads.
    ks_tail : callable
        k -> m: the Kolmogorov-Smirnov distance compares X_(1..m) with the fitted Pareto
        law above the threshold X_(m+1).
    xi_path : callable
        (top, ks) -> the extreme-value index estimates at every k in ``ks``; nan where
        the estimate is undefined (zero threshold, ties).
    se_xi : callable
        (xi, k) -> the asymptotic standard error of the xi estimate at k.
    """

    method: str
    k_low: int
    k_rule: str
    k_high: Callable[[int], int]
    used: Callable[[int], int]
    ks_tail: Callable[[int], int]
    xi_path: Callable[[TopOrderStatistics, IntArray], FloatArray]
    se_xi: Callable[[float, int], float]


@dataclass(frozen=True)
class KGrid:
    """The candidate k of the minimum-KS rule.

    Candidates are every k in [k_min, dense_up_to], then round(dense_up_to * ratio^j)
    up to k_max, plus k_max itself; all clipped to the estimator's valid range.

    Parameters
    ----------
    k_min : int, >= 1
        Smallest candidate (default 10: below 10 exceedances the KS distance cannot tell
        fits apart -- its 5% critical value is 0.41 at k = 10 -- and the estimate's
        relative standard error exceeds 30%).
    dense_up_to : int, >= 0
        Every k up to this one is a candidate (default 50). Set it to n to make the
        grid exhaustive, as in Clauset et al. (cost O(n^2) then).
    ratio : float, > 1
        Ratio between consecutive candidates above ``dense_up_to`` (default 1.02: two
        neighbouring candidates differ by 2% in k, so their estimates differ by about
        1% of a standard error at most; the cost is O(n / (ratio - 1))).
    k_max : int >= 1 or None
        Largest candidate. None means the largest valid k: n - 1 for Hill and moment,
        n // 4 for Pickands (which reads the top 4k). Every threshold down to the sample
        minimum is a candidate, as in Clauset et al.: when the whole sample is Pareto,
        the best threshold is its minimum (on symmetric Pareto(1) data at n = 5000, a grid
        stopped at n / 2 had a 1.7 times larger mean squared error, over 400 seeds).
        Thresholds in the body of a
        symmetric law, near 0, fit a Pareto tail badly and lose on the KS distance.
    """

    k_min: int = 10
    dense_up_to: int = 50
    ratio: float = 1.02
    k_max: int | None = None

    def __post_init__(self) -> None:
        check_int(self.k_min, "k_min", low=1)
        check_int(self.dense_up_to, "dense_up_to", low=0)
        check_real(self.ratio, "ratio", low=1.0, low_open=True, high=10.0)
        if self.k_max is not None:
            check_int(self.k_max, "k_max", low=self.k_min)

    def candidates(self, k_low: int, k_high: int) -> IntArray:
        """Return the sorted candidate k in [max(k_min, k_low), min(k_max, k_high)]."""
        lo = max(self.k_min, k_low)
        hi = k_high if self.k_max is None else min(self.k_max, k_high)
        if hi < lo:
            return np.empty(0, dtype=np.intp)
        dense = np.arange(lo, min(self.dense_up_to, hi) + 1, dtype=np.intp)
        start = max(self.dense_up_to, lo)
        steps = math.floor(math.log(hi / start) / math.log(self.ratio)) + 1 if hi > start else 0
        geometric = np.rint(start * self.ratio ** np.arange(steps + 1)).astype(np.intp)
        geometric = geometric[(geometric >= lo) & (geometric <= hi)]
        return np.unique(np.concatenate([dense, geometric, [hi]]).astype(np.intp))


@dataclass(frozen=True, eq=False)
class KSelection:
    """Result of the minimum-KS rule.

    Attributes
    ----------
    k : int
        The chosen k.
    ks_distance : float
        The Kolmogorov-Smirnov distance at ``k`` (the minimum over the candidates).
    method : str
        The estimator whose fitted tail was compared.
    candidates : ndarray of int
        All candidate k, ascending (read-only).
    distances : ndarray of float
        The distance at each candidate (read-only); inf where the estimate is undefined
        there (a zero threshold, tied values, or a non-positive xi estimate).
    grid : KGrid
        The grid as given.
    k_max : int
        The largest candidate actually used (``grid.k_max`` resolved and clipped).
    """

    k: int
    ks_distance: float
    method: str
    candidates: IntArray
    distances: FloatArray
    grid: KGrid
    k_max: int

    def settings(self) -> dict[str, Any]:
        """The settings to record in a :class:`TailEstimate`."""
        return {
            "k": self.k,
            "k_rule": "min-KS",
            "ks_distance": self.ks_distance,
            "k_min": int(self.candidates[0]),
            "k_max": self.k_max,
            "dense_up_to": self.grid.dense_up_to,
            "ratio": self.grid.ratio,
            "n_candidates": int(self.candidates.size),
        }


def ks_distance_pareto(logs: FloatArray, m: int, alpha: float) -> float:
    """KS distance between the top m exceedances and Pareto(alpha) above X_(m+1).

    With S_i = (X_(i) / X_(m+1))^(-alpha) the fitted survival function at the i-th
    largest value, the empirical distribution function of the m exceedances jumps from
    1 - i/m to 1 - (i-1)/m at X_(i), so the supremum distance is

        D = max_i max(S_i - (i-1)/m, i/m - S_i),

    the two-sided statistic of ``scipy.stats.kstest`` (ties included).
    """
    d = logs[:m] - logs[m]
    e = np.exp(-alpha * d)
    e -= np.arange(m) * (1.0 / m)
    return float(max(e.max(), 1.0 / m - e.min()))


def _resolved_k_max(fit: TailFit, n: int, grid: KGrid) -> int:
    k_high = fit.k_high(n)
    return k_high if grid.k_max is None else min(k_high, grid.k_max)


def select(
    mags: FloatArray, fit: TailFit, grid: KGrid, *, extra_k: int = 0
) -> tuple[KSelection, TopOrderStatistics]:
    """Run the minimum-KS rule on validated magnitudes.

    Returns the selection and the top order statistics it sorted, which hold at least
    ``fit.used(k)`` values for every candidate k and for ``extra_k`` (so that callers can
    reuse them, e.g. for the sensitivity window at the chosen k).
    """
    n = mags.size
    k_max = _resolved_k_max(fit, n, grid)
    ks = grid.candidates(fit.k_low, k_max)
    if ks.size == 0:
        raise InvalidArgumentError(
            f"`x` has {n} observations, too few for the automatic choice of `k` "
            f"(candidates must lie in [{max(grid.k_min, fit.k_low)}, {k_max}]); pass `k` "
            "explicitly, or a `k_grid` with a smaller k_min"
        )
    need = max(fit.used(int(ks[-1])), fit.ks_tail(int(ks[-1])) + 1, fit.used(extra_k))
    top = top_order_statistics(mags, min(need, n))
    xis = fit.xi_path(top, ks)
    distances = np.full(ks.size, np.inf)
    with np.errstate(over="ignore", divide="ignore"):
        alphas = 1.0 / xis
    for j, k in enumerate(ks.tolist()):
        m = fit.ks_tail(k)
        alpha = alphas[j]
        if xis[j] > 0 and math.isfinite(alpha) and top.values[m] > 0:
            distances[j] = ks_distance_pareto(top.logs, m, alpha)
    if not np.isfinite(distances).any():
        raise EstimationError(
            f"the {fit.method} estimate is undefined or not positive at every candidate k in "
            f"[{ks[0]}, {ks[-1]}]: the data show no heavy tail that a Pareto law could fit"
        )
    best = int(np.argmin(distances))  # the smallest k among exact ties
    ks.flags.writeable = False
    distances.flags.writeable = False
    selection = KSelection(
        k=int(ks[best]),
        ks_distance=float(distances[best]),
        method=fit.method,
        candidates=ks,
        distances=distances,
        grid=grid,
        k_max=int(ks[-1]),
    )
    return selection, top


def sensitivity(top: TopOrderStatistics, k: int, fit: TailFit) -> tuple[float, int, int]:
    """The k-stability statistic at k, and the window [k_lo, k_hi] it scanned.

    ``top`` must hold at least ``fit.used(min(2k, k_high))`` values. See
    :func:`k_sensitivity` for the definition.
    """
    k_lo = max(fit.k_low, (k + 1) // 2)
    k_hi = min(2 * k, fit.k_high(top.n))
    window = np.arange(k_lo, k_hi + 1, dtype=np.intp)
    xis = fit.xi_path(top, window)
    if not np.isfinite(xis).all():
        return math.inf, k_lo, k_hi
    se = fit.se_xi(float(xis[k - k_lo]), k)
    spread = float(xis.max() - xis.min())
    return (spread / se if se > 0 else math.inf), k_lo, k_hi


def sensitivity_warning(value: float, method: str, k_lo: int, k_hi: int) -> str | None:
    """The warning text when ``value`` exceeds the method's threshold, else None."""
    threshold = K_SENSITIVITY_THRESHOLDS[method]
    if value <= threshold:
        return None
    return (
        f"the estimate depends strongly on k: over k in [{k_lo}, {k_hi}] the {method} "
        f"estimate of 1/alpha spans {value:.1f} standard errors (threshold {threshold:g})"
    )


def k_of_fraction(n: Any, fraction: Any, *, minimum: int = 1) -> int:
    """The number of top order statistics in a fraction of a sample: round(fraction n).

    The one rule by which heavytail turns "Hill on the top fraction" into a k (the claims
    and the sweeps use it alike).

    Parameters
    ----------
    n : int
        Sample size, >= 1.
    fraction : float
        In (0, 1].
    minimum : int, optional
        The smallest k the estimator accepts (1 for Hill's, 2 where a spread is needed).

    Returns
    -------
    int
        k = round(fraction n) (half to even, Python's ``round``).

    Raises
    ------
    InvalidArgumentError
        When ``fraction`` is outside (0, 1], or k < ``minimum``: the fraction is too small
        for ``n`` (never raised silently to ``minimum``).

    Examples
    --------
    >>> k_of_fraction(1000, 0.1)
    100
    """
    n = check_int(n, "n", low=1)
    fraction = check_real(fraction, "fraction", low=0.0, high=1.0, low_open=True)
    minimum = check_int(minimum, "minimum", low=1)
    k = round(fraction * n)
    if k < minimum:
        raise InvalidArgumentError(
            f"`fraction` = {fraction!r} of n = {n} gives k = {k}; the estimator needs "
            f"k >= {minimum}: use a `fraction` of at least {minimum / n:.3g}"
        )
    return k


def resolve_k(
    mags: FloatArray, k: Any, k_grid: Any, fit: TailFit
) -> tuple[int, TopOrderStatistics, dict[str, Any]]:
    """Validate or choose k; return it, enough top order statistics, and the settings.

    The top order statistics returned cover the sensitivity window [k/2, 2k] as well.
    """
    n = mags.size
    top: TopOrderStatistics | None = None
    if k is None:
        if k_grid is None:
            k_grid = KGrid()
        if not isinstance(k_grid, KGrid):
            raise InvalidArgumentError(
                f"`k_grid` must be a KGrid or None, got {type(k_grid).__name__}"
            )
        selection, top = select(mags, fit, k_grid)
        k_val = selection.k
        settings = selection.settings()
    else:
        if k_grid is not None:
            raise InvalidArgumentError(
                "`k_grid` sets the candidates of the automatic choice of k; it must be None "
                f"when `k` is given (got k = {k!r})"
            )
        k_val = check_k(k, n, low=fit.k_low, high=fit.k_high(n), rule=fit.k_rule)
        settings = {"k": k_val, "k_rule": "given"}
    need = min(n, fit.used(min(2 * k_val, fit.k_high(n))))
    if top is None or top.values.size < need:
        top = top_order_statistics(mags, need)
    return k_val, top, settings


#: Docstring fragments of the parameters the order-statistic estimators share (Hill,
#: moment, Pickands: all read their tail through :func:`tail_sample`), filled in by
#: :func:`heavytail._lib._doc.fill_doc`.
TAIL_SAMPLE_DOC = {
    "k_grid": """\
k_grid : KGrid or None
    The candidates of the automatic choice (only when ``k`` is None); default
    ``KGrid()``.""",
    "center": """\
center : None, "median" or float
    Where |x| is measured from (:mod:`heavytail.theory._center`): None (default)
    uses |x| as given, bit for bit as without the option; ``"median"`` subtracts the
    sample median, a number subtracts itself. Recorded in ``settings["center"]`` and
    ``settings["center_value"]`` when given.""",
}


def tail_sample(
    x: Any, center: Any, k: Any, k_grid: Any, fit: TailFit, *, min_size: int
) -> tuple[FloatArray, int, TopOrderStatistics, dict[str, Any]]:
    """The common start of an order-statistics estimator.

    Centre ``x`` as ``center`` asks, take the magnitudes (at least ``min_size``), then
    validate or choose k (:func:`resolve_k`). Returns the magnitudes, k, enough top order
    statistics and the settings (the centring's included).
    """
    data, centring = apply_center(x, check_center(center))
    mags = sample_magnitudes(data, min_size=min_size)
    k_val, top, settings = resolve_k(mags, k, k_grid, fit)
    settings.update(centring)
    return mags, k_val, top, settings


def stability_warnings(
    top: TopOrderStatistics, k: int, fit: TailFit, settings: dict[str, Any]
) -> tuple[str, ...]:
    """Record ``k_sensitivity`` in ``settings``; return the warning it raises, if any."""
    value, k_lo, k_hi = sensitivity(top, k, fit)
    settings["k_sensitivity"] = value
    message = sensitivity_warning(value, fit.method, k_lo, k_hi)
    return () if message is None else (message,)


def _fit_for(method: str) -> TailFit:
    # Imported here, not at the top: the estimator modules import this one for their
    # automatic k, so a top-level import would be circular.
    from ._hill import HILL_FIT
    from ._moment import MOMENT_FIT
    from ._pickands import PICKANDS_FIT

    fits = {"hill": HILL_FIT, "moment": MOMENT_FIT, "pickands": PICKANDS_FIT}
    return fits[check_choice(method, "method", METHODS)]


def select_k(x: Any, *, method: str = "hill", k_grid: KGrid | None = None) -> KSelection:
    """Choose k by the minimum Kolmogorov-Smirnov rule of Clauset, Shalizi & Newman (2009).

    For each candidate k, the estimator ``method`` gives xi_hat(k) = 1/alpha_hat(k) from
    the top order statistics of |x|; the fitted tail is the Pareto law
    P(|X| > t | |X| > u) = (t/u)^(-alpha_hat(k)) above the threshold u = X_(m+1), and
    its Kolmogorov-Smirnov distance to the empirical distribution of X_(1..m) is
    computed (m = k for Hill and moment; m = 4k - 1, threshold X_(4k), for Pickands,
    whose estimate reads the top 4k). The chosen k minimises the distance (the smallest
    such k in case of exact ties). Candidates where the estimate is undefined or
    xi_hat <= 0 are skipped (their distance is inf).

    Each estimator is judged by its own fitted tail, so that the rule picks the k where
    that estimator's Pareto fit matches the data best. The cost is O(n log n) (see the
    module notes); the ``powerlaw`` package's implementation of the same rule is O(n^2).

    Parameters
    ----------
    x : array_like, 1-D, real, finite
        The sample; its magnitudes |x| are used.
    method : {"hill", "moment", "pickands"}
        The estimator whose fitted tail is compared.
    k_grid : KGrid or None
        The candidates (default ``KGrid()``: every k in [10, 50], then a 2% geometric
        grid up to the largest valid k).

    Returns
    -------
    KSelection
        The chosen k, its distance, and the whole distance curve.

    Raises
    ------
    InvalidArgumentError
        For bad ``x``, ``method`` or ``k_grid``, or a sample too small for any candidate.
    EstimationError
        If no candidate has a positive, finite estimate.

    Notes
    -----
    The minimum-KS rule balances bias (large k reaches below the Pareto regime) against
    variance (small k); it does not remove second-order bias, and on stable data with
    alpha near 2 no k is unbiased (docs/theory.md, section 4). Check :func:`k_sensitivity`.

    Examples
    --------
    >>> import numpy as np
    >>> from heavytail.theory import select_k
    >>> x = np.random.default_rng(0).pareto(1.5, size=10_000) + 1.0
    >>> sel = select_k(x)
    >>> sel.k >= 10 and sel.ks_distance < 0.05
    True
    """
    fit = _fit_for(method)
    grid = KGrid() if k_grid is None else k_grid
    if not isinstance(grid, KGrid):
        raise InvalidArgumentError(f"`k_grid` must be a KGrid or None, got {type(grid).__name__}")
    mags = sample_magnitudes(x, min_size=fit.used(fit.k_low))
    selection, _ = select(mags, fit, grid)
    return selection


def k_sensitivity(x: Any, k: Any, method: str = "hill") -> float:
    """How strongly the estimate at k depends on k: its spread over [k/2, 2k] in standard errors.

    S(k) = (max_{k'} xi_hat(k') - min_{k'} xi_hat(k')) / se(k),

    over every integer k' in [ceil(k/2), min(2k, k_high)], where xi_hat = 1/alpha_hat is
    the estimator's extreme-value index estimate and se(k) its asymptotic standard error
    at k (Hill: xi/sqrt(k); moment: sqrt(1 + xi^2)/sqrt(k); Pickands: Dekkers & de Haan
    1989). The xi scale is used because all three estimators are asymptotically normal
    on it and it stays finite where an estimate of alpha would not.

    On data whose tail is Pareto above X_(2k), S(k) is a range of a noise path and is
    (for Hill) asymptotically free of alpha and k, with median about 1.7; values above
    ``K_SENSITIVITY_THRESHOLDS[method]`` (4.0 Hill, 5.0 moment, 7.5 Pickands: just above
    the 99.5% quantile on exact Pareto data for k >= 100, see the module notes) mean
    that the estimate drifts with k by more than noise explains -- a second-order bias,
    as on stable data with alpha near 2 (Hill at alpha = 1.8, n = 1e5, k = 5000 gives
    about 12-15).

    Parameters
    ----------
    x : array_like, 1-D, real, finite
        The sample; its magnitudes |x| are used.
    k : int
        The k under study, in the estimator's valid range.
    method : {"hill", "moment", "pickands"}

    Returns
    -------
    float
        S(k) >= 0; inf when the estimate is undefined somewhere in the window (a zero
        threshold or tied order statistics).
    """
    fit = _fit_for(method)
    mags = sample_magnitudes(x, min_size=fit.used(fit.k_low))
    n = mags.size
    k_int = _check_fit_k(k, n, fit)
    top = top_order_statistics(mags, min(n, fit.used(min(2 * k_int, fit.k_high(n)))))
    value, _, _ = sensitivity(top, k_int, fit)
    return value


def _check_fit_k(k: Any, n: int, fit: TailFit) -> int:
    return check_k(k, n, low=fit.k_low, high=fit.k_high(n), rule=fit.k_rule)
