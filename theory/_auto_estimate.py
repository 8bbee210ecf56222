"""``auto_estimator``: the "auto" rule of :func:`estimate_tail_index` (:mod:`._estimate`).

The "auto" rule avoids the traps of docs/theory.md, section 4:

- Hill on stable data near alpha = 2 (strongly biased upwards unless k is tiny);
- the block-sum estimator on tails that are not stable, or on uncentred data;
- a silent cap at 2.

It computes statistics, then decides from them. The decisions are pure functions of
those statistics (:mod:`._auto`), and every threshold they use is a field of one frozen
:class:`AutoPolicy` (:mod:`._auto_policy`), where each names the run that set it. The
steps:

- *first look*: a goodness-of-fit test of a stable law (:func:`stable_goodness_of_fit`),
  its statistic against ``gof_threshold``. The threshold is strict because a stable sample
  wrongly sent to the tail route can cost about 1 in alpha (:mod:`._stable_gof`).
- *stable route*: the data are consistent with a stable law. Two estimators of the stable
  index are computed: McCulloch's quantile fit (:func:`quantile_estimator`, bootstrap
  interval) and the block-sum estimator on the data centred at the fitted location
  (:func:`block_sum_estimator`). They read different features of the sample (five
  quantiles; the mean log-magnitude of single values and of block sums), and their
  errors are weakly correlated (0.1-0.5 over the stable cases of the calibration). When
  they agree (``disagreement_z``), the estimate is their inverse-variance weighted mean
  on the 1/alpha scale (``_combine_stable``); when they disagree, it is the quantile fit
  alone, with a warning. The tail of the data is then compared with the fitted law's
  (:func:`stable_tail_check`, a parametric bootstrap of Hill's statistic over the top
  ``tail_check_fraction`` of |x - loc|, and at the k that the tail route's minimum-KS
  rule picks on |x - loc|); a mismatch over the top fraction is reported as a warning.
- *second look* (:func:`decide_route`): the cost of a mistaken switch to the tail route
  depends on the law, and the tail check's replicates give Hill's error at the data's k
  on the fitted law itself. Where it is at most ``reroute_hill_rmse`` (stable indices up
  to about 1.3 at n = 1e4), a mistaken switch is cheap, and the stable law is rejected on
  the body's and the tail's misfit together: Stouffer's combination of the
  goodness-of-fit statistic and Hill's z (:func:`combined_z`) beyond ``reroute_z``. Such
  data take the tail route, with a warning that names the stable index of their body.
  This catches Student t(1.5) at n = 1e4, whose body passes as stable with index 1.23 in
  half of the samples (docs/estimators.md gives the counts).
- *support*: one-sided data whose fitted stable index is at least 1 take the tail route
  (``RouteReason.ONE_SIDED``): no stable law with alpha >= 1 is one-sided.
- *the stable route in doubt* (:func:`stable_misfit`): where the data are one-sided,
  the fitted |beta| is at least ``misfit_beta`` (the skewed edge of the quantile
  tables), Hill's z at the data's k is at least ``misfit_z`` (or the tail check is
  flagged), or Hill's z over the top ``extreme_fraction`` (1%) of |x - loc| is at least
  ``misfit_z`` (the extreme tail, where a small heavier contaminating tail lives), the
  stable route's interval is joined with the tail route's on |x - loc|, and in the last
  case with Hill's interval over that top 1% too: the interval then reflects the
  model's misfit, not only sampling error. The estimate stays the stable route's;
  ``settings["misfit"]`` records every part.
- *tail route*: a stable law is rejected. The estimate is Hill's, with k chosen by the
  minimum Kolmogorov-Smirnov rule (:func:`hill_estimator`); its interval is widened by a
  bias allowance read off the drift of the estimate from k to k/4 and joined with Hill's
  intervals at k/4 and k/16 (see ``_hill_with_bias_allowance``). The moment estimator at
  the same k is the cross-check.
- *light tails*: where the moment estimator's interval at k, k/4 or k/16 reaches an
  extreme-value index of 0 (tail route), where the likelihood-ratio test of
  :func:`lognormal_tail_test` rejects a power-law tail at k in favour of a lognormal
  one at ``light_tail_level`` (tail route), or where the stable route's interval
  reaches the Gaussian end (``gaussian_boundary``), the data do not rule out a tail
  index of infinity, and the interval's upper end is ``inf``.

Randomness: only the stable route draws, from ``rng``: the quantile fit's bootstrap, then
the tail check's replicates; the same ``rng`` gives the same result. The bootstrap sets
the interval only when the quantile fit stands alone (``settings["combined"]`` absent);
the decisions to combine and to warn about a disagreement, and the combined estimate and
interval, use delta-method standard errors and do not depend on ``rng``. Only the tail
check's warning, and the second look's decision, can, in a borderline case.

Warnings are kept where their rate on right answers is low, and each has its measured
rates on right and on wrong answers in docs/estimators.md ("Warnings"): the estimators
disagree (more than ``disagreement_z`` standard errors apart on 1/alpha); the tail of the
data does not match the fitted stable law's (a flagged tail check, which also joins the
intervals); and, on the tail route, the data look uncentred (:func:`uncentred_message`;
pass ``center``). What used to be warned of and is now part of the answer goes to
``settings["notes"]``: the join of a stable route in doubt, a light tail that cannot be
ruled out, the Gaussian end, the second look's reroute, the quantile fit's table notes
and Hill's k-sensitivity (which the bias allowance accounts for). As warnings they fired
on 56% of the right answers of the widened grid, and about as often on right answers as
on wrong ones. Nothing is capped: the stable index lives in (0, 2] by
definition, and when the interval reaches 2 its upper end is infinite (the tail index of
a finite-variance law is not identified).

The routes are in :mod:`._auto_stable_route` and :mod:`._auto_tail_route`, what they
share in :mod:`._auto_route`.
"""

from __future__ import annotations

from typing import Any

from heavytail._lib._rng import RngLike, as_generator
from heavytail._lib._validation import as_sample, check_int

from ._auto import (
    RouteDecision,
    decide_route,
    estimators_agree,
    stable_law_fits,
    stable_support_fits,
)
from ._auto_policy import AUTO_POLICY, AutoPolicy
from ._auto_route import _disagreement, _fmt_ci, _RouteResult
from ._auto_stable_route import (
    _stable_route,
    _stable_statistics,
    _StableStatistics,
    _tail_check_settings,
)
from ._auto_tail_route import _tail_route
from ._block_sum import uncentred_message
from ._center import apply_center, check_center
from ._quantile import StableQuantileFit, fit_stable_quantiles
from ._result import TailEstimate
from ._stable_gof import StableGoodnessOfFit, stable_goodness_of_fit
from ._stable_tail_check import StableTailCheck

__all__ = ["auto_estimator"]


def auto_estimator(
    x: Any,
    *,
    n_boot: int = 200,
    rng: RngLike = None,
    center: Any = None,
    policy: AutoPolicy = AUTO_POLICY,
) -> TailEstimate:
    """The "auto" rule of :func:`estimate_tail_index` (see the module notes).

    ``center`` is subtracted first (:mod:`._center`); every step then sees the centred
    data, and the "uncentred" check is not run. ``policy`` holds the rule's thresholds.
    :func:`estimate_tail_index` always uses the default, :data:`AUTO_POLICY`; another
    policy serves studies of the rule (docs/route_rules.py runs it without the second
    look).
    """
    given = check_center(center)
    centred, centring = apply_center(x, given)
    xs = as_sample(centred, "x", min_size=policy.min_size, allow_constant=False)
    check_int(n_boot, "n_boot", low=50)
    gen = as_generator(rng)

    fit = fit_stable_quantiles(xs)
    gof = stable_goodness_of_fit(xs, fit, threshold=policy.gof_threshold)
    uncentred = uncentred_message(xs) if given is None else None
    one_sided = bool(xs.min() >= 0.0 or xs.max() <= 0.0)
    one_sided_alpha = float(fit.alpha) if one_sided else None
    # The stable route's statistics draw from rng; they are computed only where the first
    # look lets a stable law through, on data whose support a stable law can have.
    stable = (
        _stable_statistics(xs, fit, n_boot, gen, policy)
        if stable_law_fits(gof, policy) and stable_support_fits(one_sided_alpha)
        else None
    )
    decision = decide_route(
        gof, None if stable is None else stable.tail, policy, one_sided_alpha=one_sided_alpha
    )
    if decision.route == "stable" and stable is not None:
        result = _stable_route(xs, stable, fit, one_sided, policy)
    else:
        result = _tail_route(xs, uncentred, policy)

    primary, check = result.primary, result.cross_check
    disagreement = None if check is None else _disagreement(primary, check)
    warnings: list[str] = []
    notes: list[str] = list(result.notes)
    if decision.rerouted and stable is not None:
        notes.append(_reroute_message(gof, stable.tail, decision, fit, policy))
    warnings.extend(result.warnings)
    # The estimators' own messages (the quantile fit's table edges, Hill's k-sensitivity)
    # are notes: the route's interval already accounts for what they describe (the
    # bias allowance of the tail route, the join of a misfit stable route), and as
    # warnings they fired on right answers about as often as on wrong ones
    # (docs/estimators.md, "Warnings").
    notes.extend(primary.warnings)
    if (
        check is not None
        and disagreement is not None
        and not estimators_agree(disagreement, policy)
    ):
        warnings.append(
            f"estimators disagree: {primary.method} gives {primary.alpha:.3g} "
            f"{_fmt_ci(primary.ci)} and {check.method} gives {check.alpha:.3g} "
            f"{_fmt_ci(check.ci)} ({disagreement:.1f} standard errors apart on 1/alpha)"
        )
    return TailEstimate(
        alpha=result.alpha,
        ci=result.ci,
        method="auto",
        estimand=primary.estimand,
        n=xs.size,
        settings={
            **_auto_settings(fit, gof, stable, decision, result, disagreement),
            "notes": tuple(dict.fromkeys(notes)),
            **centring,
        },
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _auto_settings(
    fit: StableQuantileFit,
    gof: StableGoodnessOfFit,
    stable: _StableStatistics | None,
    decision: RouteDecision,
    result: _RouteResult,
    disagreement: float | None,
) -> dict[str, Any]:
    """``TailEstimate.settings`` of "auto": what was computed, and what it decided."""
    settings: dict[str, Any] = {
        "stable_fit": {"alpha": fit.alpha, "beta": fit.beta, "scale": fit.scale, "loc": fit.loc},
        "gof_statistic": gof.statistic,
        "gof_threshold": gof.threshold,
        "route": decision.route,
        "route_reason": decision.reason.name,
    }
    if result.combination is not None:
        settings["combined"] = result.combination.details()
    settings.update(result.details)
    if stable is not None:
        settings["tail_check"] = _tail_check_settings(stable.tail, decision)
    if decision.rerouted:
        settings["rerouted"] = {"stable_alpha": float(fit.alpha), "combined_z": decision.combined_z}
    primary, check = result.primary, result.cross_check
    # On the stable route the quantile fit and its block-sum cross-check may be combined.
    settings["estimator"] = (
        f"{primary.method} + {check.method} (inverse-variance mean)"
        if result.combination is not None and check is not None
        else primary.method
    )
    settings["cross_check"] = None if check is None else check.method
    settings[primary.method] = dict(primary.settings)
    if check is not None:
        settings["cross_check_alpha"] = check.alpha
        settings["cross_check_z"] = disagreement
    return settings


def _reroute_message(
    gof: StableGoodnessOfFit,
    tail: StableTailCheck,
    decision: RouteDecision,
    fit: StableQuantileFit,
    policy: AutoPolicy,
) -> str:
    """The warning of data that the second look sends to the tail route."""
    side = "lighter" if tail.hill_z < 0 else "heavier"
    return (
        f"a stable law fits the body of the data (goodness of fit {gof.statistic:.1f} <= "
        f"{gof.threshold:g}, stable index {float(fit.alpha):.3g}) but its tail is {side}: "
        f"Hill's 1/alpha over the top {tail.hill_k} of |x - loc| is {tail.hill_xi_data:.3g}, "
        f"{tail.hill_z:+.1f} sd from samples of the fitted law; body and tail together reject "
        f"the stable law (combined z = {decision.combined_z:.2f} > {policy.reroute_z}), and "
        f"Hill, accurate on the fitted law itself at this k (RMSE {tail.hill_rmse:.3f}), "
        "gives the tail index"
    )
