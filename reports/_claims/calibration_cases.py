"""The calibration catalogue of the tail-index estimators: laws with a known tail index.

Each :class:`CalibrationCase` is one law, its true index, and which target of the "auto"
rule of :func:`heavytail.theory.estimate_tail_index` applies to it (docs/estimators.md,
"The cases, and what 'true alpha' means for each"):

- ``"abs"``: symmetric alpha-stable with alpha <= 1.9: |error| <= :data:`ABS_TOL`;
- ``"rel"``: symmetric Pareto and Student t: relative error <= :data:`REL_TOL`;
- both: 95% intervals that cover the truth in at least :data:`COVERAGE_TARGET` of runs;
- ``"warn"``: stable data shifted by +5 and a Gaussian scale mixture: a warning instead
  of a confident wrong answer;
- ``"none"``: reported, no target (stable alpha = 2, Gaussian);
- ``"cover"``: the widened grid's heavy-tailed laws: coverage only (their accuracy is
  reported, not judged; docs/estimators.md, "The widened grid"). Its light-tailed
  controls are ``"warn"`` cases.

The targets are stated at n = :data:`TARGET_N`. The laws and their parametrisations are
those of the calibration table (docs/calibration.py, docs/estimators.md), so that the
claim ``estimators.calibration`` and the table measure the same thing.

One run of an estimator on a sample is :func:`run_estimator` (a refusal is a NaN alpha);
the runs of one estimator on one case are :class:`Runs`, which judges each against the
case (its error, whether its interval covers, whether it is silently wrong).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_int
from heavytail.theory import EstimationError, InvalidArgumentError, TailEstimate, sample_stable

from .._kit.book import FigureData

__all__ = [
    "ABS_TOL",
    "CASES",
    "CENTRING_CASES",
    "COVERAGE_TARGET",
    "REL_TOL",
    "TARGET_N",
    "WIDE_CASES",
    "CalibrationCase",
    "Runs",
    "get_case",
    "run_estimator",
    "runs_of",
]


#: Sample size at which the targets of "auto" are stated (docs/estimators.md).
TARGET_N = 100_000
#: |error| target on stable data with alpha <= 1.9.
ABS_TOL = 0.1
#: Relative-error target on the Pareto and Student-t cases.
REL_TOL = 0.10
#: Nominal 95% intervals must cover the truth in at least this fraction of runs.
COVERAGE_TARGET = 0.90


def _stable(n: int, rng: np.random.Generator, *, alpha: float, shift: float = 0.0) -> FloatArray:
    return sample_stable(alpha, n, rng=rng) + shift


def _symmetric_pareto(n: int, rng: np.random.Generator, *, alpha: float) -> FloatArray:
    # |X| is Pareto with x_m = 1: P(|X| > t) = t^(-alpha) for t >= 1; the sign is fair.
    mags = rng.pareto(alpha, n) + 1.0
    signs = 2.0 * rng.integers(0, 2, n) - 1.0
    return np.asarray(signs * mags, dtype=np.float64)


def _student_t(n: int, rng: np.random.Generator, *, df: float) -> FloatArray:
    return np.asarray(rng.standard_t(df, n), dtype=np.float64)


def _gaussian(n: int, rng: np.random.Generator) -> FloatArray:
    return np.asarray(rng.standard_normal(n), dtype=np.float64)


def _gaussian_scale_mixture(n: int, rng: np.random.Generator) -> FloatArray:
    # X = 10^U Z, U ~ Uniform(0, 1), Z ~ N(0, 1): every moment is finite (tail index
    # infinite), yet pooled scales make the sample look heavier-tailed than a Gaussian.
    scale = 10.0 ** rng.uniform(0.0, 1.0, n)
    return np.asarray(scale * rng.standard_normal(n), dtype=np.float64)


def _half_student_t(n: int, rng: np.random.Generator, *, df: float) -> FloatArray:
    # |T|: one-sided, P(|T| > t) ~ C t^(-df), second-order parameter rho = -2/df.
    return np.asarray(np.abs(rng.standard_t(df, n)), dtype=np.float64)


def _frechet(n: int, rng: np.random.Generator, *, alpha: float) -> FloatArray:
    # F(x) = exp(-x^(-alpha)), x > 0: one-sided, 1 - F(x) = x^(-alpha) (1 - x^(-alpha) / 2
    # + ...), second-order parameter rho = -1.
    return np.asarray(rng.standard_exponential(n) ** (-1.0 / alpha), dtype=np.float64)


def _burr(n: int, rng: np.random.Generator, *, tau: float, lam: float) -> FloatArray:
    # Burr XII: P(X > x) = (1 + x^tau)^(-lam), x > 0: tail index tau * lam, rho = -tau.
    u = rng.uniform(0.0, 1.0, n)
    return np.asarray((u ** (-1.0 / lam) - 1.0) ** (1.0 / tau), dtype=np.float64)


def _skewed_stable(n: int, rng: np.random.Generator, *, alpha: float, beta: float) -> FloatArray:
    return sample_stable(alpha, n, beta=beta, rng=rng)


def _student_t_scale_mixture(n: int, rng: np.random.Generator, *, df: float) -> FloatArray:
    # 10^U T, U ~ Uniform(0, 1): pooled scales over one decade; the tail index stays df.
    scale = 10.0 ** rng.uniform(0.0, 1.0, n)
    return np.asarray(scale * rng.standard_t(df, n), dtype=np.float64)


def _stable_with_pareto_tail(
    n: int, rng: np.random.Generator, *, alpha: float, tail: float, weight: float
) -> FloatArray:
    # With probability 1 - weight a symmetric alpha-stable draw, else a symmetric Pareto
    # draw of index tail < alpha scaled by 3: the body is stable, the tail index is tail.
    body = sample_stable(alpha, n, rng=rng)
    pareto = 3.0 * _symmetric_pareto(n, rng, alpha=tail)
    return np.asarray(np.where(rng.uniform(0.0, 1.0, n) < weight, pareto, body))


def _exponential(n: int, rng: np.random.Generator) -> FloatArray:
    return np.asarray(rng.standard_exponential(n), dtype=np.float64)


def _lognormal(n: int, rng: np.random.Generator) -> FloatArray:
    return np.asarray(rng.lognormal(0.0, 1.0, n), dtype=np.float64)


def _shifted(
    n: int,
    rng: np.random.Generator,
    *,
    sampler: Callable[[int, np.random.Generator], FloatArray],
    shift: float,
) -> FloatArray:
    return sampler(n, rng) + shift


@dataclass(frozen=True)
class CalibrationCase:
    """One law of the calibration.

    Attributes
    ----------
    name : str
        Short identifier, e.g. ``"student-3"``.
    description : str
        The law in words.
    alpha : float
        The truth: the tail index of |X| when ``truth`` is ``"tail index"``; 2.0 when
        ``truth`` is ``"at least 2"`` (laws with every moment finite: any estimate
        >= 2, or an interval reaching 2, is right) or ``"infinite"``.
    truth : {"tail index", "at least 2", "infinite"}
        What ``alpha`` means. ``"infinite"``: a light tail (every moment finite), where
        only an interval whose upper end is infinite is right; the error is the
        shortfall below 2, as for ``"at least 2"``.
    target : {"abs", "rel", "cover", "warn", "none"}
        Which target of "auto" applies (module notes).
    sampler : callable
        ``(n, rng) -> sample`` of size n.
    """

    name: str
    description: str
    alpha: float
    truth: Literal["tail index", "at least 2", "infinite"]
    target: Literal["abs", "rel", "cover", "warn", "none"]
    sampler: Callable[[int, np.random.Generator], FloatArray]

    def draw(self, n: int, rng: np.random.Generator) -> FloatArray:
        """A sample of size ``n`` (>= 2) drawn with ``rng``."""
        size = check_int(n, "n", low=2)
        return self.sampler(size, rng)

    @property
    def tolerance(self) -> float:
        """The error target: ``ABS_TOL``, or ``REL_TOL * alpha`` for "rel" cases.

        Cases without an accuracy target ("warn", "none") use ``ABS_TOL`` to decide
        whether an answer is wrong.
        """
        return REL_TOL * self.alpha if self.target == "rel" else ABS_TOL

    def error(self, estimate: float) -> float:
        """``estimate - alpha``; for "at least 2" and "infinite" laws the shortfall
        ``min(estimate - 2, 0)``."""
        diff = float(estimate) - self.alpha
        return min(diff, 0.0) if self.truth != "tail index" else diff

    def covers(self, low: float, high: float) -> bool:
        """Whether the interval ``[low, high]`` is right about the truth.

        For "at least 2" laws an interval is right when it reaches 2 (``high >= 2``);
        for "infinite" laws when its upper end is infinite.
        """
        if self.truth == "at least 2":
            return bool(high >= self.alpha)
        if self.truth == "infinite":
            return bool(high == np.inf)
        return bool(low <= self.alpha <= high)


def _stable_case(alpha: float, shift: float = 0.0) -> CalibrationCase:
    if shift:
        return CalibrationCase(
            f"stable-{alpha:g}+{shift:g}",
            f"symmetric alpha-stable, alpha = {alpha:g}, shifted by +{shift:g}",
            alpha,
            "tail index",
            "warn",
            partial(_stable, alpha=alpha, shift=shift),
        )
    if alpha < 2.0:
        return CalibrationCase(
            f"stable-{alpha:g}",
            f"symmetric alpha-stable, alpha = {alpha:g}, scale 1 (S1)",
            alpha,
            "tail index",
            "abs" if alpha <= 1.9 else "none",
            partial(_stable, alpha=alpha),
        )
    return CalibrationCase(
        "stable-2",
        "symmetric alpha-stable, alpha = 2 (Gaussian, variance 2)",
        2.0,
        "at least 2",
        "none",
        partial(_stable, alpha=2.0),
    )


#: Every case of the calibration table, in table order.
CASES: tuple[CalibrationCase, ...] = (
    *(_stable_case(a) for a in (0.8, 1.2, 1.5, 1.8, 1.9, 2.0)),
    CalibrationCase(
        "pareto-1",
        "symmetric Pareto, P(|X| > t) = t^-1 for t >= 1",
        1.0,
        "tail index",
        "rel",
        partial(_symmetric_pareto, alpha=1.0),
    ),
    CalibrationCase(
        "pareto-2.5",
        "symmetric Pareto, P(|X| > t) = t^-2.5 for t >= 1",
        2.5,
        "tail index",
        "rel",
        partial(_symmetric_pareto, alpha=2.5),
    ),
    CalibrationCase(
        "student-1.5",
        "Student t, 1.5 degrees of freedom",
        1.5,
        "tail index",
        "rel",
        partial(_student_t, df=1.5),
    ),
    CalibrationCase(
        "student-3",
        "Student t, 3 degrees of freedom",
        3.0,
        "tail index",
        "rel",
        partial(_student_t, df=3.0),
    ),
    CalibrationCase("gaussian", "standard Gaussian", 2.0, "at least 2", "none", _gaussian),
    CalibrationCase(
        "gauss-mixture",
        "Gaussian scale mixture 10^U Z, U ~ Uniform(0, 1)",
        2.0,
        "at least 2",
        "warn",
        _gaussian_scale_mixture,
    ),
    _stable_case(1.5, shift=5.0),
)


def _case(
    name: str,
    description: str,
    alpha: float,
    sampler: Callable[[int, np.random.Generator], FloatArray],
    truth: Literal["tail index", "at least 2", "infinite"] = "tail index",
) -> CalibrationCase:
    return CalibrationCase(
        name, description, alpha, truth, "cover" if truth == "tail index" else "warn", sampler
    )


def _skewed_case(alpha: float, beta: float, note: str = "") -> CalibrationCase:
    """Stable with skewness ``beta`` (``note``: which tails it has)."""
    return _case(
        f"stable-{alpha:g}-skew",
        f"stable, alpha = {alpha:g}, beta = {beta:g}{note}",
        alpha,
        partial(_skewed_stable, alpha=alpha, beta=beta),
    )


def _frechet_case(alpha: float) -> CalibrationCase:
    return _case(
        f"frechet-{alpha:g}",
        f"Frechet, alpha = {alpha:g} (one-sided, rho = -1)",
        alpha,
        partial(_frechet, alpha=alpha),
    )


#: The widened grid's further laws (docs/estimators.md, "The widened grid"): one-sided
#: laws, tail indices from 0.5 to 4, skewed stable laws, a mixture of scales, stable
#: bodies with other tails, and light-tailed controls. Standard test beds of the
#: tail-estimation literature: Frechet, Burr and Student t (Beirlant, Goegebeur, Segers &
#: Teugels 2004, "Statistics of Extremes", ch. 4-5; Gomes & Guillou 2015, Int. Stat. Rev.
#: 83), skewed stable laws (McCulloch 1986; Nolan 2020, "Univariate Stable
#: Distributions", ch. 4), contaminated models (Beirlant et al. 2004, sec. 4.6), the
#: exponential and the lognormal as light-tailed controls (Clauset, Shalizi & Newman
#: 2009, sec. 5).
WIDE_CASES: tuple[CalibrationCase, ...] = (
    _frechet_case(0.5),
    _skewed_case(0.7, 1.0, " (one-sided, on (0, inf))"),
    _case(
        "burr-1",
        "Burr XII, tau = 0.5, lambda = 2: alpha = 1, rho = -0.5 (one-sided)",
        1.0,
        partial(_burr, tau=0.5, lam=2.0),
    ),
    _skewed_case(1.2, 0.5),
    _skewed_case(1.5, 1.0, " (right tail only)"),
    _skewed_case(1.8, 1.0, " (right tail only)"),
    _case("student-1.8", "Student t, 1.8 degrees of freedom", 1.8, partial(_student_t, df=1.8)),
    _case(
        "stable1.8-pareto1.2",
        "98% stable alpha = 1.8, 2% symmetric Pareto alpha = 1.2 scaled by 3",
        1.2,
        partial(_stable_with_pareto_tail, alpha=1.8, tail=1.2, weight=0.02),
    ),
    _case(
        "t2.5-scale-mix",
        "Student t(2.5) scale mixture 10^U T, U ~ Uniform(0, 1)",
        2.5,
        partial(_student_t_scale_mixture, df=2.5),
    ),
    _frechet_case(3.0),
    _case(
        "half-student-4",
        "|T|, T Student t with 4 degrees of freedom (one-sided)",
        4.0,
        partial(_half_student_t, df=4.0),
    ),
    _case(
        "exponential", "standard exponential (one-sided, light tail)", 2.0, _exponential, "infinite"
    ),
    _case(
        "lognormal",
        "lognormal, mu = 0, sigma = 1 (one-sided, light tail)",
        2.0,
        _lognormal,
        "infinite",
    ),
)

#: Shifted laws for the ``center=`` option (docs/estimators.md, "Centring").
CENTRING_CASES: tuple[CalibrationCase, ...] = (
    CalibrationCase(
        "student-1.5+5",
        "Student t, 1.5 degrees of freedom, shifted by +5",
        1.5,
        "tail index",
        "warn",
        partial(_shifted, sampler=partial(_student_t, df=1.5), shift=5.0),
    ),
    CalibrationCase(
        "pareto-2.5+3",
        "symmetric Pareto, alpha = 2.5, shifted by +3",
        2.5,
        "tail index",
        "warn",
        partial(_shifted, sampler=partial(_symmetric_pareto, alpha=2.5), shift=3.0),
    ),
    CalibrationCase(
        "stable-1.2-skew+5",
        "stable, alpha = 1.2, beta = 0.5, shifted by +5",
        1.2,
        "tail index",
        "warn",
        partial(_shifted, sampler=partial(_skewed_stable, alpha=1.2, beta=0.5), shift=5.0),
    ),
)

_BY_NAME = {c.name: c for c in (*CASES, *WIDE_CASES, *CENTRING_CASES)}


def get_case(name: str) -> CalibrationCase:
    """The case called ``name``; InvalidArgumentError listing the valid names otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        listed = ", ".join(repr(c) for c in _BY_NAME)
        raise InvalidArgumentError(f"`name` must be one of {listed}, got {name!r}") from None


@dataclass(frozen=True, eq=False)
class Runs(FigureData):
    """One estimator on the runs of one case (NaN alpha: the estimator refused).

    Attributes
    ----------
    alpha, low, high : ndarray, shape (run,)
        The estimate and its 95% interval.
    n_warnings : ndarray of int, shape (run,)
        Warnings of each run (a refusal counts as one).
    """

    alpha: FloatArray
    low: FloatArray
    high: FloatArray
    n_warnings: npt.NDArray[np.int64]

    @property
    def answered(self) -> npt.NDArray[np.bool_]:
        return np.isfinite(self.alpha)

    def errors(self, case: CalibrationCase) -> FloatArray:
        return np.array([case.error(a) for a in self.alpha[self.answered]])

    def covered(self, case: CalibrationCase) -> npt.NDArray[np.bool_]:
        """Per run: the interval is right (a refusal on a heavy tail is a miss)."""
        return np.array(
            [
                case.covers(lo, hi) if np.isfinite(a) else case.truth != "tail index"
                for a, lo, hi in zip(self.alpha, self.low, self.high, strict=True)
            ]
        )

    def silent_wrong(self, case: CalibrationCase) -> npt.NDArray[np.bool_]:
        return ~self.covered(case) & (self.n_warnings == 0)


def run_estimator(fn: Any, x: FloatArray, **kwargs: Any) -> tuple[float, float, float, int]:
    """``fn(x, **kwargs)``: its alpha, interval and count of warnings (NaN alpha and one
    warning more for a refusal)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est: TailEstimate = fn(x, **kwargs)
        except EstimationError:
            return math.nan, math.nan, math.nan, 1 + len(caught)
    return est.alpha, est.ci[0], est.ci[1], len(est.warnings) + len(caught)


def runs_of(rows: list[tuple[float, float, float, int]]) -> Runs:
    """The rows of :func:`run_estimator` as :class:`Runs`."""
    arr = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return Runs(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3].astype(np.int64))
