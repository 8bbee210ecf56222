"""The stable route of the "auto" rule (:mod:`._auto_estimate`).

McCulloch's quantile fit and the block-sum estimator on the data centred at the fitted
location, averaged on 1/alpha where they agree (:func:`_combine_stable`); the tail check
against the fitted law (:func:`_check_tail`); where the stable law is in doubt, the
route's interval joined with the tail route's (:func:`_stable_route`); and the Gaussian
end of the stable family, where the interval's upper end is infinite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ._auto import (
    MisfitReason,
    RouteDecision,
    estimators_agree,
    stable_misfit,
)
from ._auto_policy import AutoPolicy
from ._auto_route import (
    _Z95,
    _disagreement,
    _fmt_ci,
    _hull,
    _RouteResult,
    _try,
    _xi_se,
    _xi_se_deterministic,
)
from ._auto_tail_route import _tail_interval
from ._block_sum import block_sum_estimator
from ._hill import hill_estimator
from ._quantile import StableQuantileFit, quantile_estimator
from ._result import TailEstimate
from ._stable_tail_check import StableTailCheck, stable_tail_check

__all__ = ["StableCombination"]


@dataclass(frozen=True)
class _StableStatistics:
    """What the stable route computes before the route is decided.

    ``quantile``: McCulloch's fit, with its bootstrap interval (draws from ``rng``);
    ``block_sum``: the block-sum estimate on the data centred at the fitted location, or
    None where it gives no estimate; ``tail``: the tail check (draws from ``rng``);
    ``hill``: Hill at the minimum-KS k on |x - loc|, or None where it gives no estimate.
    """

    quantile: TailEstimate
    block_sum: TailEstimate | None
    tail: StableTailCheck
    hill: TailEstimate | None = None


@dataclass(frozen=True)
class StableCombination:
    """The inverse-variance mean of the two stable-route estimates (``_combine_stable``).

    ``alpha`` and ``ci`` are the combined estimate and its interval; ``weight_quantile``
    the quantile fit's weight, ``se_xi`` the standard deviation of the combined 1/alpha,
    ``rho`` the correlation assumed between the two errors.
    """

    alpha: float
    ci: tuple[float, float]
    weight_quantile: float
    se_xi: float
    rho: float

    def details(self) -> dict[str, float]:
        """What ``settings["combined"]`` records."""
        return {"weight_quantile": self.weight_quantile, "se_xi": self.se_xi, "rho": self.rho}


def _stable_statistics(
    xs: npt.NDArray[np.float64],
    fit: StableQuantileFit,
    n_boot: int,
    gen: np.random.Generator,
    policy: AutoPolicy,
) -> _StableStatistics:
    """The quantile fit (bootstrap: draws), the block-sum cross-check, the tail check (draws)."""
    quantile = quantile_estimator(xs, n_boot=n_boot, rng=gen)
    block_sum = _try(lambda: block_sum_estimator(xs - fit.loc))
    tail, hill = _check_tail(xs, fit, quantile, gen, policy)
    return _StableStatistics(quantile, block_sum, tail, hill)


def _stable_route(
    xs: npt.NDArray[np.float64],
    stable: _StableStatistics,
    fit: StableQuantileFit,
    one_sided: bool,
    policy: AutoPolicy,
) -> _RouteResult:
    """The stable route: the two estimates averaged where they agree, the interval joined
    with the tail route's where the stable law is in doubt, and its warnings."""
    primary, check = stable.quantile, stable.block_sum
    combination = None
    if check is not None and estimators_agree(_disagreement(primary, check), policy):
        combination = _combine_stable(primary, check, policy.combine_rho)
    alpha, ci = (
        (primary.alpha, primary.ci) if combination is None else (combination.alpha, combination.ci)
    )
    warnings: list[str] = []
    notes: list[str] = []
    details: dict[str, Any] = {}
    reasons = stable_misfit(one_sided, float(fit.beta), stable.tail, policy)
    tail_ci = extreme_ci = None
    extreme_k = stable.tail.extreme_k if MisfitReason.EXTREME_TAIL in reasons else None
    if reasons:
        mags = np.abs(xs - fit.loc)
        tail_ci = _tail_interval(mags, stable.hill, policy)
        if extreme_k is not None:
            # The extreme tail disagrees with the fitted law: the interval must also hold
            # what Hill says there, beyond where the tail route's minimum-KS k may sit.
            extreme = _try(lambda: hill_estimator(mags, k=extreme_k))
            extreme_ci = None if extreme is None else extreme.ci
    if extreme_ci is None:
        extreme_k = None
    if stable.tail.flagged:
        # A flagged tail check also joins the intervals (MisfitReason.TAIL_DISAGREES); it
        # stays a warning: before the join it fired on 0.3% of the widened grid's right
        # answers and 2.6% of its wrong ones (docs/estimators.md, "Warnings").
        warnings.append(_tail_message(stable.tail))
    parts = [part for part in (tail_ci, extreme_ci) if part is not None]
    if reasons and parts:
        joined = _hull(ci, *parts)
        details["misfit"] = {
            "reasons": tuple(r.name for r in reasons),
            "stable_ci": ci,
            "tail_ci": tail_ci,
            "extreme_ci": extreme_ci,
            "extreme_k": extreme_k,
        }
        notes.append(_misfit_message(reasons, ci, _hull(*parts), extreme_k))
        ci = joined
    if fit.alpha >= policy.gaussian_boundary or ci[1] >= policy.gaussian_boundary:
        # The tail index of a finite-variance law is not identified by a stable fit: any
        # light or finite-variance tail fits. The interval's upper end says so.
        details["gaussian_end"] = True
        notes.append(
            f"the interval {_fmt_ci(ci)} reaches the Gaussian end of the stable family "
            f"(stable fit alpha = {fit.alpha:.3f}): the data cannot rule out a "
            "finite-variance law, whose tail index a stable fit does not identify; the "
            "upper end is infinite"
        )
        ci = (ci[0], math.inf)
    return _RouteResult(
        primary, check, alpha, ci, combination, tuple(warnings), tuple(notes), details
    )


def _misfit_message(
    reasons: tuple[MisfitReason, ...],
    stable_ci: tuple[float, float],
    tail_ci: tuple[float, float],
    extreme_k: int | None = None,
) -> str:
    why = "; ".join(r.value for r in reasons)
    extreme = (
        ""
        if extreme_k is None
        else f", and Hill's interval over the top {extreme_k}, where the extreme tail disagrees"
    )
    return (
        f"the stable law is in doubt ({why}): its interval {_fmt_ci(stable_ci)} is joined "
        f"with the tail's {_fmt_ci(tail_ci)} (Hill on |x - loc|: the tail route's interval "
        f"with its bias allowance{extreme})"
    )


def _check_tail(
    xs: npt.NDArray[np.float64],
    fit: StableQuantileFit,
    quantile: TailEstimate,
    gen: np.random.Generator,
    policy: AutoPolicy,
) -> tuple[StableTailCheck, TailEstimate | None]:
    """Run :func:`stable_tail_check` with the policy's settings, also at Hill's minimum-KS k.

    Returns the check and Hill's estimate on |x - loc| at that k (None where it failed).
    """
    # The k at which the tail route's Hill would look at these data, measured from the
    # fitted location as the replicates are.
    hill = _try(lambda: hill_estimator(np.abs(xs - fit.loc)))
    hill_k = None if hill is None else int(hill.settings["k"])
    extreme_k = min(
        max(policy.tail_check_min_k, int(policy.extreme_fraction * xs.size)), xs.size - 1
    )
    # The delta-method standard error is undefined at the Gaussian end of the table
    # (alpha_hat = 2); the bootstrap interval's then stands in for it.
    check = stable_tail_check(
        xs,
        fit,
        _xi_se_deterministic(quantile),
        rng=gen,
        replicates=policy.tail_check_replicates,
        fraction=policy.tail_check_fraction,
        min_k=policy.tail_check_min_k,
        flag_z=policy.tail_check_z,
        hill_k=hill_k,
        extreme_k=extreme_k,
    )
    return check, hill


def _tail_check_settings(tail: StableTailCheck, decision: RouteDecision) -> dict[str, Any]:
    """``settings["tail_check"]``: the tail check, and the second look's z where it was made."""
    out: dict[str, Any] = {
        "z": tail.z,
        "k": tail.k,
        "xi_data": tail.xi_data,
        "xi_null_mean": tail.xi_null_mean,
        "xi_null_sd": tail.xi_null_sd,
        "hill_k": tail.hill_k,
        "hill_z": tail.hill_z,
        "hill_rmse": tail.hill_rmse,
        "extreme_k": tail.extreme_k,
        "extreme_z": tail.extreme_z,
    }
    if decision.combined_z is not None:
        out["combined_z"] = decision.combined_z
    return out


def _tail_message(tail: StableTailCheck) -> str:
    """The warning of a flagged tail check."""
    lighter = "lighter" if tail.z < 0 else "heavier"
    return (
        f"the tail of the data is {lighter} than the fitted stable law's: Hill's 1/alpha "
        f"over the top {tail.k} of |x - loc| is {tail.xi_data:.3g}, against "
        f"{tail.xi_null_mean:.3g} +- {tail.xi_null_sd:.3g} on samples of the fitted law "
        f"({tail.z:+.1f} sd); the data may not be stable (or the fitted alpha is off), and "
        "the stable index may not be their tail index"
    )


def _combine_stable(
    quantile: TailEstimate, block_sum: TailEstimate, rho: float
) -> StableCombination | None:
    """The inverse-variance weighted mean of two stable-index estimates, on 1/alpha.

    Both standard errors are deterministic, so the estimate does not depend on ``rng``:
    the quantile fit's is its delta-method standard error (``se_xi_delta`` in its
    settings; within 0.85-1.11 of the simulated standard deviation over alpha in
    [0.6, 1.97], n = 1e4 and 1e5), the block-sum estimator's its own delta-method one.
    The block-sum estimate is first capped at 2 (xi >= 1/2): a stable index cannot exceed
    2, and the quantile fit lives in (0, 2] too. With weights w = 1/se^2, xi = sum w xi_i /
    sum w, and its variance is computed with a correlation ``rho`` between the two errors
    (``AutoPolicy.combine_rho``, 0.5: the top of the 0.1-0.5 measured over the
    calibration's stable cases, so that the interval errs wide). The interval is
    xi -+ 1.96 sd mapped to alpha, widened by the quantile fit's share of the tables' error
    bound, its upper end capped at 2.

    Returns None when the quantile fit has no delta-method standard error (at the
    Gaussian end of its table) or the block-sum one is not finite: the quantile fit then
    stands alone.
    """
    se_q = float(quantile.settings.get("se_xi_delta", math.nan))
    se_b = _xi_se(block_sum)
    if not (math.isfinite(se_q) and math.isfinite(se_b) and se_q > 0 and se_b > 0):
        return None
    xi_q = 1.0 / quantile.alpha
    xi_b = max(1.0 / block_sum.alpha, 0.5)
    w_q, w_b = 1.0 / se_q**2, 1.0 / se_b**2
    total = w_q + w_b
    xi = (w_q * xi_q + w_b * xi_b) / total
    # Var = (w_q^2 se_q^2 + w_b^2 se_b^2 + 2 rho w_q w_b se_q se_b) / total^2, w = 1/se^2.
    sd = math.sqrt(total + 2.0 * rho * math.sqrt(w_q * w_b)) / total
    share = w_q / total
    widen = share * float(quantile.settings.get("table_error", 0.0))
    low = 1.0 / (xi + _Z95 * sd) - widen
    high = 2.0 if xi - _Z95 * sd <= 0.5 else min(1.0 / (xi - _Z95 * sd) + widen, 2.0)
    return StableCombination(
        alpha=1.0 / xi, ci=(max(low, 0.0), high), weight_quantile=share, se_xi=sd, rho=rho
    )
