"""The properties that check_estimator runs: one ``_check_<property>`` function each.

:data:`CHECKS` maps each property name (the names of :data:`PROPERTIES`, in the order
they run) to its check. A check takes the :class:`CheckContext` that
:func:`~heavytail.theory.strategies.check_estimator` builds from its settings (the
estimator, the consistency cases with their seeds, the base sample and the estimator's
value on it) and returns one :class:`PropertyResult` per case. Adding a property is
adding a function here and its entry in :data:`CHECKS`, as scikit-learn's
``utils/estimator_checks.py`` yields one ``check_*`` function per property.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from ._known_tail import KnownTailSample, known_tail_sample

__all__ = [
    "CHECKS",
    "INDEX_PARAM",
    "PROPERTIES",
    "CheckContext",
    "Estimator",
    "Outcome",
    "PropertyResult",
    "call_estimator",
    "case_label",
    "case_sample",
    "median_interval",
    "median_order_statistic",
]

# The parameter that indexes each family in `check_estimator(families=...)`.
INDEX_PARAM = {"stable": "alpha", "pareto": "alpha", "student_t": "df", "gaussian": None}


class _HasAlpha(Protocol):
    @property
    def alpha(self) -> float: ...


Estimator: TypeAlias = Callable[[npt.NDArray[np.float64]], float | _HasAlpha]
"""An estimator: a float array in, a float or an object with a float ``.alpha`` out."""


@dataclass(frozen=True)
class PropertyResult:
    """The outcome of one property on one case.

    Attributes
    ----------
    name : str
        The property, one of :data:`PROPERTIES` (e.g. ``"consistency"``).
    case : str
        The case it was checked on (e.g. ``"pareto alpha=2.5"``, ``"x 1e-3"``, ``"NaN"``).
    passed : bool
        Whether the property held.
    detail : str
        What was measured against what, enough to reproduce the case.
    """

    name: str
    case: str
    passed: bool
    detail: str


# --------------------------------------------------------------------------------------
# Calling an arbitrary estimator
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One call of the estimator: its alpha as a float, or why there is none."""

    alpha: float | None
    error: Exception | None = None
    note: str = ""
    warned: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.error is not None:
            text = f"raised {type(self.error).__name__}: {_short(str(self.error))}"
        elif self.alpha is None:
            text = self.note
        else:
            text = f"returned alpha={self.alpha!r}"
        return text + self.warned_suffix()

    def warned_suffix(self) -> str:
        return f" (warned: {'; '.join(self.warned)})" if self.warned else ""


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def call_estimator(fn: Estimator, x: npt.NDArray[np.float64]) -> Outcome:
    """Call ``fn`` on a writable copy of ``x``, recording warnings instead of raising them.

    Warnings are recorded (and listed in the detail) whatever the caller's warning
    filters, so that the report does not depend on them (pytest may turn warnings into
    errors).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn(np.array(x, dtype=np.float64, copy=True))
        except Exception as exc:
            warned = tuple(f"{w.category.__name__}: {_short(str(w.message), 80)}" for w in caught)
            return Outcome(None, error=exc, warned=warned)
    warned = tuple(f"{w.category.__name__}: {_short(str(w.message), 80)}" for w in caught)
    value = getattr(out, "alpha", out)
    if isinstance(value, bool) or not isinstance(value, numbers.Real | np.ndarray):
        return Outcome(
            None,
            note=f"returned {type(out).__name__}, not a float or an object with .alpha",
            warned=warned,
        )
    try:
        alpha = float(value)
    except (TypeError, ValueError):
        return Outcome(
            None, note=f"returned a {type(value).__name__} that is not one number", warned=warned
        )
    return Outcome(alpha, warned=warned)


# --------------------------------------------------------------------------------------
# The cases and the context every check reads
# --------------------------------------------------------------------------------------


def case_sample(family: str, value: float | None, n: int, seed: int) -> KnownTailSample:
    """The sample of one consistency case: ``n`` draws of the family at its index."""
    if family == "student_t":
        return known_tail_sample(family, n, df=value, rng=seed)
    if family == "gaussian":
        return known_tail_sample(family, n, rng=seed)
    return known_tail_sample(family, n, alpha=value, rng=seed)


def case_label(family: str, value: float | None) -> str:
    """The label of one case in the report, e.g. ``"pareto alpha=2.5"``."""
    param = INDEX_PARAM[family]
    return family if param is None else f"{family} {param}={value:g}"


@dataclass(frozen=True, eq=False)
class CheckContext:
    """What every check reads: the estimator, the settings, the cases and the base sample.

    Attributes
    ----------
    fn : Estimator
        The estimator checked.
    target : str
        ``"tail index"`` or ``"stable index"``.
    n : int
        Size of the consistency and invariance samples.
    rtol, invariance_rtol : float
        Tolerances of the consistency and invariance checks.
    scale_factors : tuple of float
        The factors c of the scale-invariance check.
    cases : tuple of (family, index or None, seed)
        The consistency cases with the integer seed their samples are drawn from.
    replicates : int
        R, the number of samples of each consistency case.
    order_stat : int
        j, the order statistic of the median's interval [X_(j), X_(R+1-j)].
    case_failure_bound : float
        2 B(j - 1), the largest probability that a case fails by sampling noise alone
        (see :func:`median_order_statistic`).
    base_x : numpy.ndarray
        The invariance checks' sample (the first case, drawn with its own seed).
    base_where : str
        Where ``base_x`` comes from, for the details.
    base : Outcome
        The estimator's value on ``base_x``.
    perm_seed : int
        Seed of the permutation of the permutation-invariance check.
    """

    fn: Estimator
    target: str
    n: int
    rtol: float
    invariance_rtol: float
    scale_factors: tuple[float, ...]
    cases: tuple[tuple[str, float | None, int], ...]
    replicates: int
    order_stat: int
    case_failure_bound: float
    base_x: npt.NDArray[np.float64]
    base_where: str
    base: Outcome
    perm_seed: int


def median_order_statistic(replicates: int, level: float) -> tuple[int, float] | None:
    r"""The order statistic j of the median's interval, and its false-failure bound.

    Let X_(1) <= ... <= X_(R) be R independent estimates, m a median of their law, and
    B the distribution function of Binomial(R, 1/2). If m <= h, then X_(j) > h needs
    at most j - 1 estimates at or below m, and each is there with probability >= 1/2,
    so P(X_(j) > h) <= B(j - 1); in the same way, if m >= l, P(X_(R+1-j) < l) <=
    B(j - 1). The interval [X_(j), X_(R+1-j)] thus misses an interval [l, h] that
    holds m with probability at most 2 B(j - 1), whatever the law of the estimates
    (the distribution-free confidence interval of a median: Conover 1999, Practical
    Nonparametric Statistics, sec. 3.2).

    Parameters
    ----------
    replicates : int
        R, >= 1.
    level : float
        The largest false-failure probability allowed, in (0, 1).

    Returns
    -------
    (int, float) or None
        The largest j <= (R + 1) / 2 with 2 B(j - 1) <= level, and 2 B(j - 1); None
        when even j = 1 exceeds ``level`` (R too small).

    Examples
    --------
    >>> median_order_statistic(48, 1e-3 / 4)
    (12, 0.00022224496262...)
    >>> median_order_statistic(8, 1e-3) is None
    True
    """
    best = None
    cdf = 0.0
    for j in range(1, (replicates + 1) // 2 + 1):
        cdf += math.comb(replicates, j - 1) / 2**replicates  # now B(j - 1); exact ints
        if 2.0 * cdf > level:
            break
        best = (j, 2.0 * cdf)
    return best


def median_interval(estimates: Sequence[float], j: int) -> tuple[float, float]:
    """[X_(j), X_(R+1-j)]: the median's interval from R estimates (1-based order statistics)."""
    x = np.sort(np.asarray(estimates, dtype=np.float64))
    return float(x[j - 1]), float(x[x.size - j])


def _relative_change(new: float, ref: float) -> float:
    diff = abs(new - ref)
    return diff if ref == 0.0 else diff / abs(ref)


# --------------------------------------------------------------------------------------
# The checks, one per property
# --------------------------------------------------------------------------------------


def _invariance(
    ctx: CheckContext, prop: str, case: str, x: npt.NDArray[np.float64]
) -> PropertyResult:
    """alpha_hat(x) against alpha_hat(base_x), up to a relative change of invariance_rtol."""
    base = ctx.base
    if base.alpha is None or not math.isfinite(base.alpha):
        return PropertyResult(
            prop, case, False, f"on the base sample ({ctx.base_where}) {base.describe()}"
        )
    out = call_estimator(ctx.fn, x)
    if out.alpha is None or not math.isfinite(out.alpha):
        return PropertyResult(prop, case, False, out.describe())
    change = _relative_change(out.alpha, base.alpha)
    ok = change <= ctx.invariance_rtol
    return PropertyResult(
        prop,
        case,
        ok,
        f"alpha {base.alpha:.6g} -> {out.alpha:.6g}, relative change {change:.2g} "
        f"{'<=' if ok else '>'} {ctx.invariance_rtol:g} ({ctx.base_where}){out.warned_suffix()}",
    )


def _check_scale_invariance(ctx: CheckContext) -> list[PropertyResult]:
    """alpha_hat(c x) = alpha_hat(x) for every c in ``scale_factors``."""
    return [
        _invariance(ctx, "scale invariance", f"x {c:g}", ctx.base_x * c) for c in ctx.scale_factors
    ]


def _check_sign_invariance(ctx: CheckContext) -> list[PropertyResult]:
    """alpha_hat(-x) = alpha_hat(x)."""
    return [_invariance(ctx, "sign invariance", "-x", -ctx.base_x)]


def _check_permutation_invariance(ctx: CheckContext) -> list[PropertyResult]:
    """alpha_hat(x[perm]) = alpha_hat(x) for one permutation drawn with ``perm_seed``."""
    perm = np.random.default_rng(ctx.perm_seed).permutation(ctx.n)
    return [_invariance(ctx, "permutation invariance", f"seed={ctx.perm_seed}", ctx.base_x[perm])]


def _check_repeatable(ctx: CheckContext) -> list[PropertyResult]:
    """A second call on the base sample returns the same alpha exactly."""
    base = ctx.base
    if base.alpha is None:
        return [PropertyResult("repeatable", "same x", False, f"first call {base.describe()}")]
    again = call_estimator(ctx.fn, ctx.base_x)
    same = again.alpha is not None and (
        again.alpha == base.alpha or (math.isnan(again.alpha) and math.isnan(base.alpha))
    )
    return [
        PropertyResult(
            "repeatable",
            "same x",
            same,
            f"first call {base.describe()}, second call {again.describe()}",
        )
    ]


def _check_input_unchanged(ctx: CheckContext) -> list[PropertyResult]:
    """The estimator leaves its input array as it was."""
    x = np.array(ctx.base_x)
    raised = ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx.fn(x)
    except Exception as exc:  # the estimator's own failure is reported elsewhere
        raised = f" (the call raised {type(exc).__name__})"
    unchanged = bool(np.array_equal(x, ctx.base_x, equal_nan=True))
    return [
        PropertyResult(
            "input unchanged",
            "same x",
            unchanged,
            ("input left as it was" if unchanged else "the estimator wrote into its input")
            + raised,
        )
    ]


def _check_consistency(ctx: CheckContext) -> list[PropertyResult]:
    """The median of alpha_hat over ``replicates`` samples is within rtol of the truth.

    Fails when the order-statistic interval [X_(j), X_(R+1-j)] of the R estimates misses
    [alpha (1 - rtol), alpha (1 + rtol)] (see :func:`median_order_statistic`), or when
    an estimate is missing or not finite.
    """
    results = []
    j, bound = ctx.order_stat, ctx.case_failure_bound
    for family, value, case_seed in ctx.cases:
        case = case_label(family, value)
        where = f"n={ctx.n}, {ctx.replicates} samples from seed={case_seed}"
        seeds = np.random.SeedSequence(case_seed).generate_state(ctx.replicates)
        estimates: list[float] = []
        warned: dict[str, None] = {}  # the distinct warnings, in the order they came
        true = math.nan
        missing: PropertyResult | None = None
        for r, s in enumerate(seeds):
            sample = case_sample(family, value, ctx.n, int(s))
            true = sample.alpha if ctx.target == "tail index" else sample.stable_index
            out = call_estimator(ctx.fn, np.array(sample.x))
            if out.alpha is None or not math.isfinite(out.alpha):
                missing = PropertyResult(
                    "consistency",
                    case,
                    False,
                    f"sample {r} (seed={int(s)}) {out.describe()} ({where})",
                )
                break
            estimates.append(out.alpha)
            warned.update(dict.fromkeys(out.warned))
        if missing is not None:
            results.append(missing)
            continue
        low, high = median_interval(estimates, j)
        lo, hi = true * (1.0 - ctx.rtol), true * (1.0 + ctx.rtol)
        ok = low <= hi and high >= lo
        median = float(np.median(estimates))
        err = abs(median - true) / true
        results.append(
            PropertyResult(
                "consistency",
                case,
                ok,
                f"median alpha_hat {median:.4g}, true {ctx.target} {true:g}, relative error "
                f"{err:.3g}; its interval [{low:.4g}, {high:.4g}] (order statistics {j} and "
                f"{ctx.replicates + 1 - j}, false-failure bound {bound:.2g}) "
                f"{'meets' if ok else 'misses'} true +- rtol {ctx.rtol:g} = [{lo:.4g}, {hi:.4g}] "
                f"({where})" + (f" (warned: {'; '.join(warned)})" if warned else ""),
            )
        )
    return results


def _check_degenerate_input(ctx: CheckContext) -> list[PropertyResult]:
    """Empty, single, constant, all-zero, and NaN/inf-holding input raise ValueError."""
    short = np.array(ctx.base_x[: min(ctx.n, 1000)])
    bad: list[tuple[str, npt.NDArray[np.float64]]] = [
        ("empty", np.empty(0)),
        ("single value", np.array([1.7])),
        ("constant", np.full(short.size, 2.5)),
        ("all zeros", np.zeros(short.size)),
    ]
    for tag, value in (("NaN", math.nan), ("+inf", math.inf), ("-inf", -math.inf)):
        y = short.copy()
        y[y.size // 2] = value
        bad.append((tag, y))
    results = []
    for tag, y in bad:
        out = call_estimator(ctx.fn, y)
        ok = isinstance(out.error, ValueError)
        detail = out.describe()
        if not ok and out.error is not None:
            detail += " (expected a ValueError)"
        results.append(PropertyResult("degenerate input", tag, ok, detail))
    return results


CHECKS: Mapping[str, Callable[[CheckContext], list[PropertyResult]]] = MappingProxyType(
    {
        "scale invariance": _check_scale_invariance,
        "sign invariance": _check_sign_invariance,
        "permutation invariance": _check_permutation_invariance,
        "repeatable": _check_repeatable,
        "input unchanged": _check_input_unchanged,
        "consistency": _check_consistency,
        "degenerate input": _check_degenerate_input,
    }
)
"""Property name -> its check, in the order :func:`check_estimator` runs them."""

PROPERTIES: tuple[str, ...] = tuple(CHECKS)
"""The property names of :func:`check_estimator`, the values its ``skip`` accepts."""
