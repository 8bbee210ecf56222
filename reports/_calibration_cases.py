"""The calibration catalogue of the tail-index estimators: laws with a known tail index.

Each :class:`CalibrationCase` is one law, its true index, and which target of the "auto"
rule of :func:`heavytail.theory.estimate_tail_index` applies to it (docs/estimators.md,
"The cases, and what 'true alpha' means for each"):

- ``"abs"``: symmetric alpha-stable with alpha <= 1.9: |error| <= :data:`ABS_TOL`;
- ``"rel"``: symmetric Pareto and Student t: relative error <= :data:`REL_TOL`;
- both: 95% intervals that cover the truth in at least :data:`COVERAGE_TARGET` of runs;
- ``"warn"``: stable data shifted by +5 and a Gaussian scale mixture: a warning instead
  of a confident wrong answer;
- ``"none"``: reported, no target (stable alpha = 2, Gaussian).

The targets are stated at n = :data:`TARGET_N`. The laws and their parametrisations are
those of the calibration table (docs/calibration.py, docs/estimators.md), so that the
claim ``estimators.calibration`` and the table measure the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

import numpy as np
import numpy.typing as npt

from heavytail._lib._validation import check_int
from heavytail.theory import InvalidArgumentError, sample_stable

__all__ = [
    "ABS_TOL",
    "CASES",
    "COVERAGE_TARGET",
    "REL_TOL",
    "TARGET_N",
    "CalibrationCase",
    "get_case",
]

FloatArray = npt.NDArray[np.float64]

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
        >= 2, or an interval reaching 2, is right).
    truth : {"tail index", "at least 2"}
        What ``alpha`` means.
    target : {"abs", "rel", "warn", "none"}
        Which target of "auto" applies (module notes).
    sampler : callable
        ``(n, rng) -> sample`` of size n.
    """

    name: str
    description: str
    alpha: float
    truth: Literal["tail index", "at least 2"]
    target: Literal["abs", "rel", "warn", "none"]
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
        """``estimate - alpha``; for "at least 2" laws the shortfall ``min(estimate - 2, 0)``."""
        diff = float(estimate) - self.alpha
        return min(diff, 0.0) if self.truth == "at least 2" else diff

    def covers(self, low: float, high: float) -> bool:
        """Whether the interval ``[low, high]`` is right about the truth.

        For "at least 2" laws an interval is right when it reaches 2 (``high >= 2``).
        """
        if self.truth == "at least 2":
            return bool(high >= self.alpha)
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

_BY_NAME = {c.name: c for c in CASES}


def get_case(name: str) -> CalibrationCase:
    """The case called ``name``; InvalidArgumentError listing the valid names otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        listed = ", ".join(repr(c) for c in _BY_NAME)
        raise InvalidArgumentError(f"`name` must be one of {listed}, got {name!r}") from None
