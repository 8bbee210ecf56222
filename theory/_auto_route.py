"""What the two routes of the "auto" rule share (:mod:`._auto_estimate`).

A route's result (:class:`_RouteResult`), the standard error of 1/alpha read off an
estimate (:func:`_xi_se`, :func:`_xi_se_deterministic`), the disagreement of two
estimates in those standard errors (:func:`_disagreement`), and small helpers: a
cross-check that may fail (:func:`_try`), the hull of intervals and an interval's text.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from heavytail._lib._errors import EstimationError

from ._result import TailEstimate

if TYPE_CHECKING:
    from ._auto_stable_route import StableCombination

__all__: list[str] = []

_Z95 = 1.959964


@dataclass(frozen=True)
class _RouteResult:
    """The estimate of one route.

    ``primary`` gives the estimate (or, combined with ``cross_check``, ``combination``);
    ``cross_check`` is the second estimator, None where it gave no estimate; ``warnings``
    are the route's own; ``notes`` what it found that does not cast doubt on the result
    (it is in the interval); ``details`` what ``settings`` records of it.
    """

    primary: TailEstimate
    cross_check: TailEstimate | None
    alpha: float
    ci: tuple[float, float]
    combination: StableCombination | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def _hull(*intervals: tuple[float, float]) -> tuple[float, float]:
    """The smallest interval holding every one of ``intervals``."""
    return (min(c[0] for c in intervals), max(c[1] for c in intervals))


def _try(fn: Callable[[], TailEstimate]) -> TailEstimate | None:
    """Run a cross-check; None when it cannot produce an estimate on these data."""
    try:
        return fn()
    except EstimationError:
        return None


def _xi_se(est: TailEstimate) -> float:
    """Standard error of 1/alpha read off the 95% interval (inf when unbounded)."""
    lo, hi = est.ci
    xi_hi = 1.0 / lo if lo > 0 else math.inf
    xi_lo = 1.0 / hi if math.isfinite(hi) and hi > 0 else 0.0
    return (xi_hi - xi_lo) / (2 * _Z95)


def _xi_se_deterministic(est: TailEstimate) -> float:
    """The delta-method standard error of 1/alpha where the estimator records one.

    The quantile fit's interval is a bootstrap one, so the standard error read off it
    moves with ``rng``; its ``se_xi_delta`` does not. Using it keeps the route's decisions
    (combine or not, warn or not) free of ``rng``.
    """
    se = float(est.settings.get("se_xi_delta", math.nan))
    return se if math.isfinite(se) and se > 0 else _xi_se(est)


def _disagreement(a: TailEstimate, b: TailEstimate) -> float:
    se = math.hypot(_xi_se_deterministic(a), _xi_se_deterministic(b))
    diff = abs(1.0 / a.alpha - 1.0 / b.alpha)
    if not math.isfinite(se) or se <= 0:
        return 0.0
    return diff / se


def _fmt_ci(ci: tuple[float, float]) -> str:
    return f"[{ci[0]:.3g}, {ci[1]:.3g}]"
