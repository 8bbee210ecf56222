"""The decisions of the "auto" rule, as pure functions of statistics already computed.

The "auto" rule of :func:`estimate_tail_index` (see :mod:`._estimate`) computes its
statistics (the stable goodness-of-fit test, the tail check of the stable route, the two
stable-route estimates) and then asks the functions here what to do. They draw nothing
and estimate nothing: each reads numbers it is given and the thresholds of an
:class:`AutoPolicy`, and returns a named result.

- :func:`stable_law_fits`, the first look: the goodness-of-fit statistic Q against
  ``gof_threshold``. Where it fails, nothing else is computed on the stable route.
- :func:`decide_route`: the route, "stable" or "tail", with its :class:`RouteReason`. The
  second look at a stable law that passed the first: where Hill is accurate on the fitted
  law at the data's k (its RMSE over the tail check's replicates at most
  ``reroute_hill_rmse``), a mistaken switch to the tail route costs little, and the stable
  law is rejected when the body's and the tail's misfit together
  (:func:`combined_z`) exceed ``reroute_z``.
- :func:`estimators_agree`: whether the stable route's two estimates are close enough
  (``disagreement_z``) to be averaged; on either route, a disagreement is a warning.
- :func:`stable_misfit`: why the stable route's interval must also hold the tail
  route's (one-sided data, a fit at the skewed edge of the tables, a tail that the
  fitted law does not match), or nothing.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from ._auto_policy import AUTO_POLICY, AutoPolicy
from ._stable_gof import GOF_POINTS, StableGoodnessOfFit
from ._stable_tail_check import StableTailCheck

__all__ = [
    "MisfitReason",
    "RouteDecision",
    "RouteName",
    "RouteReason",
    "combined_z",
    "decide_route",
    "estimators_agree",
    "stable_law_fits",
    "stable_misfit",
]

RouteName = Literal["stable", "tail"]


class RouteReason(enum.Enum):
    """Why "auto" took its route. The value says it in words."""

    #: The goodness-of-fit statistic could not be computed (``StableGoodnessOfFit.note``):
    #: no stable law is fitted to data it cannot test.
    GOF_UNDEFINED = "the goodness-of-fit statistic could not be computed"
    #: Q > ``gof_threshold``: the body of the data is not stable-shaped.
    GOF_REJECTS = "the goodness-of-fit test rejects a stable law"
    #: The data are one-sided and the fitted stable index is at least 1: no stable law
    #: with alpha >= 1 is one-sided (its support is the whole line; Samorodnitsky &
    #: Taqqu 1994, Property 1.2.14), so the stable fit describes the body only.
    ONE_SIDED = "the data are one-sided, which no stable law with alpha >= 1 is"
    #: A stable law fits and the tail check gave no Hill statistic at the data's k (Hill
    #: failed on |x - loc|, or the replicates gave no finite z or RMSE): no second look.
    NO_SECOND_LOOK = "a stable law fits, and the tail gives no second look"
    #: A stable law fits and Hill is inaccurate on the fitted law at the data's k (RMSE >
    #: ``reroute_hill_rmse``): the tail route would cost more than it could gain.
    HILL_INACCURATE = "a stable law fits, and Hill is inaccurate on it at the data's k"
    #: A stable law fits and the combined z is at most ``reroute_z``.
    TAIL_CONSISTENT = "a stable law fits, and body and tail together do not reject it"
    #: The second look: a stable law fits the body, Hill is accurate on it at the data's
    #: k, and the combined z exceeds ``reroute_z``.
    BODY_AND_TAIL_REJECT = "a stable law fits the body, but body and tail together reject it"


@dataclass(frozen=True)
class RouteDecision:
    """The route of "auto" and why (the result of :func:`decide_route`).

    Attributes
    ----------
    route : {"stable", "tail"}
    reason : RouteReason
    combined_z : float or None
        Stouffer's combination of the body's and the tail's misfit (:func:`combined_z`),
        where the second look could be made; None for the reasons ``GOF_UNDEFINED``,
        ``GOF_REJECTS`` and ``NO_SECOND_LOOK``, where it was not computed.
    """

    route: RouteName
    reason: RouteReason
    combined_z: float | None = None

    @property
    def rerouted(self) -> bool:
        """True when the second look sent data that passed the first look to the tail."""
        return self.reason is RouteReason.BODY_AND_TAIL_REJECT


def stable_law_fits(gof: StableGoodnessOfFit, policy: AutoPolicy = AUTO_POLICY) -> bool:
    """The first look: Q <= ``policy.gof_threshold`` (an infinite Q never fits)."""
    return gof.statistic <= policy.gof_threshold


def combined_z(gof_statistic: float, hill_z: float) -> float:
    """Stouffer's combination of the body's and the tail's evidence against a stable law.

    The body: the goodness-of-fit statistic Q read as chi-squared(GOF_POINTS - 2), z_Q =
    Phi^-1(1 - P(chi2 > Q)) (conservative: under a stable law Q is smaller than chi2(8),
    median 3-5 against 7.3). The tail: the two-sided p-value of Hill's z at the
    minimum-KS k, z_T = Phi^-1(1 - 2 Phi(-|z|)). The two read nearly disjoint parts of
    the sample (the characteristic function near |phi| in [0.05, 0.98], dominated by the
    body; the top k order statistics) and are treated as independent:
    z = (z_Q + z_T) / sqrt(2), standard normal under the null (Stouffer et al. 1949).
    """
    p_body = stats.chi2.sf(gof_statistic, GOF_POINTS - 2)
    p_tail = 2.0 * stats.norm.sf(abs(hill_z))
    # p-values of exactly 1 (Q = 0, z = 0) or 0 would give infinite z; the clip keeps z
    # finite (each below 37.1 in size) without moving any value that can decide anything.
    z_body, z_tail = stats.norm.isf(np.clip([p_body, p_tail], 1e-300, 1.0 - 1e-12))
    return float(z_body + z_tail) / math.sqrt(2.0)


def decide_route(
    gof: StableGoodnessOfFit,
    tail: StableTailCheck | None,
    policy: AutoPolicy = AUTO_POLICY,
    *,
    one_sided_alpha: float | None = None,
) -> RouteDecision:
    """The route of "auto", and the reason, from the statistics it has.

    Parameters
    ----------
    gof : StableGoodnessOfFit
        The goodness-of-fit test of a stable law on the data (its ``statistic`` is
        compared with ``policy.gof_threshold``).
    tail : StableTailCheck or None
        The stable route's tail check, run with ``hill_k`` (the data's minimum-KS k);
        None where it was not run, which "auto" does only when the first look fails.
    policy : AutoPolicy
    one_sided_alpha : float or None
        For one-sided data (all >= 0 or all <= 0), the fitted stable index; None for
        data that take both signs.

    Returns
    -------
    RouteDecision
        In order: Q undefined or above the threshold -> "tail"; one-sided data with a
        fitted stable index of at least 1 -> "tail"; no Hill statistic at the
        data's k -> "stable"; Hill's RMSE on the fitted law above
        ``policy.reroute_hill_rmse`` -> "stable"; combined z at most ``policy.reroute_z``
        -> "stable"; else "tail" (the second look rejects the stable law).

    Examples
    --------
    >>> from heavytail.theory._auto import decide_route
    >>> from heavytail.theory._stable_gof import StableGoodnessOfFit
    >>> rejected = StableGoodnessOfFit(30.0, 25.0, False, 1.3, ())
    >>> decide_route(rejected, None).reason.value
    'the goodness-of-fit test rejects a stable law'
    """
    if not math.isfinite(gof.statistic):
        return RouteDecision("tail", RouteReason.GOF_UNDEFINED)
    if not stable_law_fits(gof, policy):
        return RouteDecision("tail", RouteReason.GOF_REJECTS)
    if not stable_support_fits(one_sided_alpha):
        return RouteDecision("tail", RouteReason.ONE_SIDED)
    if (
        tail is None
        or tail.hill_k is None
        or not (math.isfinite(tail.hill_z) and math.isfinite(tail.hill_rmse))
    ):
        return RouteDecision("stable", RouteReason.NO_SECOND_LOOK)
    z = combined_z(gof.statistic, tail.hill_z)
    if tail.hill_rmse > policy.reroute_hill_rmse:
        return RouteDecision("stable", RouteReason.HILL_INACCURATE, z)
    if z <= policy.reroute_z:
        return RouteDecision("stable", RouteReason.TAIL_CONSISTENT, z)
    return RouteDecision("tail", RouteReason.BODY_AND_TAIL_REJECT, z)


def stable_support_fits(one_sided_alpha: float | None) -> bool:
    """Whether a stable law can have the data's support.

    ``one_sided_alpha`` is the fitted stable index of one-sided data, None for data of
    both signs. Only stable laws with alpha < 1 and beta = +-1 are one-sided
    (Samorodnitsky & Taqqu 1994, Property 1.2.14), so one-sided data with a fitted index
    of at least 1 are not stable. Not a tuned threshold: a fact about the family.
    """
    return one_sided_alpha is None or one_sided_alpha < 1.0


class MisfitReason(enum.Enum):
    """Why the stable route's interval is joined with the tail route's."""

    #: One-sided data: stable only at the edge of the family (alpha < 1, beta = +-1),
    #: where the quantile tables are least accurate and Frechet- or Pareto-like laws
    #: pass the goodness-of-fit test too.
    ONE_SIDED = "the data are one-sided"
    #: |beta_hat| >= ``misfit_beta``: the fit sits at the skewed edge of McCulloch's
    #: tables, where the delta-method standard error undercovers.
    SKEWED = "the stable fit is at the skewed edge of the tables"
    #: |Hill's z| at the data's minimum-KS k, against samples of the fitted law, is at
    #: least ``misfit_z``: the tail does not look like the fitted law's.
    TAIL_DISAGREES = "the tail of the data does not match the fitted stable law"
    #: |Hill's z| over the top ``extreme_fraction`` of |x - loc| (the extreme tail) is at
    #: least ``misfit_z``: a heavier (or lighter) tail beyond where the body's law rules.
    EXTREME_TAIL = "the extreme tail of the data does not match the fitted stable law"


def stable_misfit(
    one_sided: bool,
    beta: float,
    tail: StableTailCheck | None,
    policy: AutoPolicy = AUTO_POLICY,
) -> tuple[MisfitReason, ...]:
    """The reasons, if any, to join the stable route's interval with the tail route's.

    The stable route's interval measures sampling error under a stable law. Where the
    data give a reason to doubt that law (see :class:`MisfitReason`), the interval must
    also hold what the tail says, or it claims a precision the model does not have: at n
    = 1e4, one-sided 0.7-stable data covered in 63% of runs and Student t(1.5) samples
    kept on the stable route in none (docs/estimators.md, "The widened grid").

    Examples
    --------
    >>> from heavytail.theory._auto import stable_misfit
    >>> [r.name for r in stable_misfit(True, 0.2, None)]
    ['ONE_SIDED']
    >>> stable_misfit(False, 0.2, None)
    ()
    """
    reasons = []
    if one_sided:
        reasons.append(MisfitReason.ONE_SIDED)
    if abs(beta) >= policy.misfit_beta:
        reasons.append(MisfitReason.SKEWED)
    if tail is not None and (tail.flagged or _beyond(tail.hill_z, policy.misfit_z)):
        reasons.append(MisfitReason.TAIL_DISAGREES)
    if tail is not None and _beyond(tail.extreme_z, policy.misfit_z):
        reasons.append(MisfitReason.EXTREME_TAIL)
    return tuple(reasons)


def _beyond(z: float, limit: float) -> bool:
    """|z| >= limit, for a finite z (a check that could not be made says nothing)."""
    return math.isfinite(z) and abs(z) >= limit


def estimators_agree(disagreement: float, policy: AutoPolicy = AUTO_POLICY) -> bool:
    """Two estimates agree when their difference on 1/alpha, in standard errors of the
    difference (``disagreement``), is at most ``policy.disagreement_z``."""
    return disagreement <= policy.disagreement_z
