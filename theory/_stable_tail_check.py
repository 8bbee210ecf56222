"""Does the tail of the data match the fitted stable law? A parametric-bootstrap check.

The stable goodness-of-fit test (:mod:`._stable_gof`) reads the characteristic function,
which is dominated by the body of the sample. At moderate n a law whose body looks stable
but whose tail is not can pass it: at n = 1e4 about half of the Student t(1.5) samples of
the calibration pass, and the quantile fit then reports a stable index near 1.23, where
the tail index is 1.5. The tail itself tells them apart: t(1.5) has a lighter tail than
the 1.23-stable law that fits its body.

Statistic. Hill's 1/alpha over the top k = ``fraction`` n of |x - loc| (at least
``min_k``), loc the fitted stable location:

    xi_data = (1/k) sum_{i <= k} log(Y_(i) / Y_(k+1)),  Y = |x - loc| (descending).

Under the fitted law this statistic is not 1/alpha (Hill is biased on stable tails, by an
amount that depends on alpha, k and n), so its null distribution is simulated: B =
``replicates`` samples of size n are drawn from the fitted stable law, each is
refitted (its own location) and gives its own xi. The fitted alpha is uncertain, and near
alpha = 2 Hill's bias changes fast with alpha, so each replicate draws its alpha from the
estimate's sampling law, 1/alpha* ~ N(1/alpha_hat, se^2), se the quantile fit's
delta-method standard error (a smoothed parametric bootstrap; without it, stable samples
with alpha = 1.8-1.9 were flagged in 10-30% of runs at n = 1e4). The check reports
z = (xi_data - mean) / sd over the replicates, and flags |z| > ``flag_z``. The defaults
of ``fraction``, ``min_k``, ``replicates`` and ``flag_z`` are the "auto" rule's
(``AutoPolicy.tail_check_*`` in :mod:`._auto_policy`, with their sources).

Measured on the calibration table's samples (docs/estimators.md; 100 seeds per case, the
"auto" rule's own rng): at n = 1e4, 5 of the 800 samples of the stable cases (alpha 0.8,
1.2, 1.5, 1.8, 1.9, 2, the Gaussian and the shifted 1.5) were flagged (largest |z| 4.9,
an alpha = 1.9 sample), and 29 of the 51 Student t(1.5) samples that pass the
goodness-of-fit test, all with z < 0 (z from -4.9 to -0.7: the data's tail is lighter).
At n = 1e5, at most 1 of the 500 samples of the stable cases with alpha <= 1.9 carried
any warning at all.

Second tail. Given ``hill_k`` (the "auto" rule passes the k that the minimum-KS rule
picks for Hill on |x - loc|), the same replicates also give Hill's statistic over the top
``hill_k``: its z (``hill_z``), and Hill's root mean square error in alpha at that k on
the fitted law (``hill_rmse``, each replicate against the alpha it was drawn with). The
"auto" rule uses both to decide whether a stable law that passed the goodness-of-fit
test should still be rejected (:func:`decide_route` in :mod:`._auto`). The draws
do not depend on ``hill_k``, so the first statistic is the same with or without it
(unless a replicate's threshold at ``hill_k`` is 0, and it is left out).

Extreme tail. Given ``extreme_k`` (the "auto" rule passes the top
``AutoPolicy.extreme_fraction`` = 1% of n, at least ``min_k``), the same replicates give
Hill's statistic over that top too (``extreme_z``). A law whose body is stable and whose
tail beyond the top few percent is heavier (a stable law contaminated by a small share
of a heavier Pareto tail) passes the goodness-of-fit test, the top-10% statistic and
often the minimum-KS Hill, which all read where the stable part dominates; only the top
1% sees the heavier tail. The draws do not depend on ``extreme_k`` either.

The check draws from ``rng`` (the replicates), so in a borderline case whether it flags
can depend on ``rng``; the same ``rng`` gives the same result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from heavytail._lib._errors import EstimationError, InvalidArgumentError
from heavytail._lib._types import FloatArray

from ._auto_policy import AUTO_POLICY
from ._quantile import StableQuantileFit, fit_stable_quantiles
from ._stable import sample_stable

__all__ = ["StableTailCheck", "stable_tail_check"]


@dataclass(frozen=True)
class StableTailCheck:
    """Result of :func:`stable_tail_check`.

    Attributes
    ----------
    z : float
        (xi_data - mean of the replicates) / their standard deviation; nan when the
        check could not be made (see ``note``).
    k : int
        Size of the compared tail.
    xi_data : float
        Hill's 1/alpha over the top k of |x - loc|.
    xi_null_mean, xi_null_sd : float
        Mean and standard deviation of the same statistic over the replicates.
    replicates : int
        Number of replicates that gave a statistic (a replicate that overflows the
        double range, or whose tail threshold is 0, is left out).
    flagged : bool
        |z| > ``flag_z`` (the argument of :func:`stable_tail_check`).
    note : str
        Why the check could not be made, or "".
    hill_k : int or None
        The second compared tail, when one was asked for (``hill_k`` argument; "auto"
        passes the minimum-KS k of Hill on |x - loc|); None otherwise.
    hill_z, hill_xi_data : float
        The same z and data statistic over the top ``hill_k`` (nan without ``hill_k``).
    hill_rmse : float
        Root mean square error of Hill's alpha at ``hill_k`` over the replicates, each
        against the alpha it was drawn with: how accurate Hill at this k is on the fitted
        law itself (nan without ``hill_k``).
    extreme_k : int or None
        The extreme compared tail, when one was asked for (``extreme_k`` argument); None
        otherwise.
    extreme_z, extreme_xi_data : float
        The z and data statistic over the top ``extreme_k`` (nan without it).
    """

    z: float
    k: int
    xi_data: float
    xi_null_mean: float
    xi_null_sd: float
    replicates: int
    flagged: bool
    note: str = ""
    hill_k: int | None = None
    hill_z: float = math.nan
    hill_xi_data: float = math.nan
    hill_rmse: float = math.nan
    extreme_k: int | None = None
    extreme_z: float = math.nan
    extreme_xi_data: float = math.nan


def _tail_xi(x: FloatArray, loc: float, k: int) -> float:
    """Hill's 1/alpha over the top k of |x - loc| (nan when the threshold is 0)."""
    return _tail_xis(x, loc, (k,))[0]


def _tail_xis(x: FloatArray, loc: float, ks: tuple[int, ...]) -> list[float]:
    """:func:`_tail_xi` at each k of ``ks``, from one partial sort of |x - loc|."""
    mags = np.abs(x - loc)
    n = mags.size
    deepest = max(ks)
    # Descending: Y_(1) >= ... >= Y_(deepest + 1).
    top = np.sort(np.partition(mags, n - deepest - 1)[n - deepest - 1 :])[::-1]
    with np.errstate(divide="ignore"):  # zeros below a k whose threshold is 0: unused
        logs = np.log(top)
    out = []
    for k in ks:
        if not top[k] > 0:
            out.append(math.nan)
        else:
            out.append(float(np.mean(logs[:k]) - logs[k]))
    return out


def _replicate_xi(
    fit: StableQuantileFit, alpha: float, n: int, ks: tuple[int, ...], rng: np.random.Generator
) -> list[float]:
    """The statistic at each k of ``ks`` on one sample of size n of the fitted law with
    index ``alpha``.

    The replicate is refitted for its own location, as the data were. nan when it
    overflows the double range (a very heavy replicate of data already near the largest
    doubles), when :func:`sample_stable` refuses its law as too likely to, or when its fit
    overflows: such a replicate is left out, never passed on as inf.
    """
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            y = sample_stable(alpha, n, beta=fit.beta, scale=fit.scale, loc=fit.loc, rng=rng)
    except InvalidArgumentError:  # draws of this law would overflow the double range
        return [math.nan] * len(ks)
    if not np.all(np.isfinite(y)):
        return [math.nan] * len(ks)
    try:
        loc = fit_stable_quantiles(y).loc
    except EstimationError:  # its fitted scale or location overflows
        return [math.nan] * len(ks)
    return _tail_xis(y, loc, ks)


def stable_tail_check(
    x: FloatArray,
    fit: StableQuantileFit,
    se_xi: float,
    *,
    rng: np.random.Generator,
    replicates: int = AUTO_POLICY.tail_check_replicates,
    fraction: float = AUTO_POLICY.tail_check_fraction,
    min_k: int = AUTO_POLICY.tail_check_min_k,
    flag_z: float = AUTO_POLICY.tail_check_z,
    hill_k: int | None = None,
    extreme_k: int | None = None,
) -> StableTailCheck:
    """Compare the tail of the 1-D sample ``x`` with that of its fitted stable law.

    Parameters
    ----------
    x : ndarray, 1-D, finite, validated by the caller
    fit : StableQuantileFit
        The quantile fit of ``x``.
    se_xi : float
        Standard error of 1/alpha of the fit (the quantile estimator's ``se_xi_delta``);
        nan means "unknown", and the replicates then all use the fitted alpha.
    rng : numpy.random.Generator
        Source of the replicates.
    replicates : int, >= 2
        Default ``AutoPolicy.tail_check_replicates`` (40).
    fraction : float in (0, 1)
        The compared tail is the top ``max(min_k, fraction * n)`` of |x - loc|, at most
        n - 1. Default ``AutoPolicy.tail_check_fraction`` (0.1).
    min_k : int, >= 1
        Default ``AutoPolicy.tail_check_min_k`` (10).
    flag_z : float, > 0
        ``flagged`` when |z| exceeds it. Default ``AutoPolicy.tail_check_z`` (3).
    hill_k : int in [1, n - 1], optional
        A second tail size, compared on the same replicates (``hill_z``, ``hill_rmse``).
        The draws from ``rng`` do not depend on it.
    extreme_k : int in [1, n - 1], optional
        A third tail size (``extreme_z``), compared on the same replicates; the draws do
        not depend on it either.

    Returns
    -------
    StableTailCheck
        See the module notes for the statistic and its calibration.
    """
    n = x.size
    k = min(max(min_k, int(fraction * n)), n - 1)
    xi_data = _tail_xi(x, fit.loc, k)
    if not math.isfinite(xi_data):
        return _not_made(k, xi_data, 0, "zero tail threshold")
    xi_hat = 1.0 / fit.alpha
    smooth = se_xi if math.isfinite(se_xi) and se_xi > 0 else 0.0
    # Column 0: the top fraction; then hill_k and extreme_k, those asked for.
    asked = (("hill", hill_k), ("extreme", extreme_k))
    extra_ks = {name: kk for name, kk in asked if kk is not None}
    ks = (k, *extra_ks.values())
    column = {name: i + 1 for i, name in enumerate(extra_ks)}
    null = np.empty((replicates, len(ks)))
    drawn = np.empty(replicates)
    for b in range(replicates):
        # 1/alpha* ~ N(1/alpha_hat, se^2), kept in the stable range [1/2, 1/0.1].
        xi_star = min(max(xi_hat + smooth * float(rng.standard_normal()), 0.5), 10.0)
        drawn[b] = 1.0 / xi_star
        null[b] = _replicate_xi(fit, drawn[b], n, ks, rng)
    keep = np.all(np.isfinite(null), axis=1)
    null, drawn = null[keep], drawn[keep]
    if null.shape[0] < 2:
        return _not_made(k, xi_data, null.shape[0], "fewer than 2 replicates gave a statistic")
    first = _z(xi_data, null[:, 0])
    flagged = math.isfinite(first.z) and abs(first.z) > flag_z
    extra: dict[str, Any] = {}
    if hill_k is not None:
        hill_xi = _tail_xi(x, fit.loc, hill_k)
        with np.errstate(divide="ignore"):
            err = 1.0 / null[:, column["hill"]] - drawn
        extra = {
            "hill_k": hill_k,
            "hill_xi_data": hill_xi,
            "hill_z": _z(hill_xi, null[:, column["hill"]]).z,
            "hill_rmse": float(np.sqrt(np.mean(err**2))),
        }
    if extreme_k is not None:
        extreme_xi = _tail_xi(x, fit.loc, extreme_k)
        extra.update(
            extreme_k=extreme_k,
            extreme_xi_data=extreme_xi,
            extreme_z=_z(extreme_xi, null[:, column["extreme"]]).z,
        )
    return StableTailCheck(
        z=first.z,
        k=k,
        xi_data=xi_data,
        xi_null_mean=first.mean,
        xi_null_sd=first.sd,
        replicates=int(null.shape[0]),
        flagged=flagged,
        **extra,
    )


def _not_made(k: int, xi_data: float, replicates: int, note: str) -> StableTailCheck:
    """The result of a check that could not be made, saying why."""
    return StableTailCheck(
        z=math.nan,
        k=k,
        xi_data=xi_data,
        xi_null_mean=math.nan,
        xi_null_sd=math.nan,
        replicates=int(replicates),
        flagged=False,
        note=note,
    )


class _ZScore(NamedTuple):
    """A value's z against replicates: (value - mean) / sd (nan when sd is 0)."""

    z: float
    mean: float
    sd: float


def _z(value: float, null: FloatArray) -> _ZScore:
    """The z of ``value`` over ``null``, with their mean and standard deviation."""
    mean = float(np.mean(null))
    sd = float(np.std(null, ddof=1))
    return _ZScore((value - mean) / sd if sd > 0 else math.nan, mean, sd)
