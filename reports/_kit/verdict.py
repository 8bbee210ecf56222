"""Verdicts, and the rules that turn a prediction and a measured interval into one.

A claim fixes its rules before it draws any data: the relation it predicts (equal, at
most, at least), the tolerance added to the measured interval (with its reason), and the
widest interval it accepts as informative (with its reason). A :class:`Check` pairs one
prediction with one measurement under one rule; its verdict is a pure function of the
three, so that a deliberately wrong prediction (a negative control) can be judged by the
very same rule.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

import numpy as np

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._validation import check_real

__all__ = [
    "Check",
    "ControlCheck",
    "ControlKind",
    "Measurement",
    "Relation",
    "Rule",
    "Verdict",
    "combine_verdicts",
]


class Verdict(Enum):
    """Outcome of confronting a prediction with a measurement.

    ``AGREE``: the prediction is compatible with the measurement, and the measurement is
    precise enough for that to mean something. ``DISAGREE``: the measurement excludes the
    prediction, beyond the stated tolerance. ``INCONCLUSIVE``: too noisy to tell.
    """

    AGREE = "agree"
    DISAGREE = "disagree"
    INCONCLUSIVE = "inconclusive"


class Relation(Enum):
    """What a claim predicts about a measured quantity ``m`` and a predicted value ``v``."""

    EQUAL = "="
    AT_MOST = "<="
    AT_LEAST = ">="


@dataclass(frozen=True)
class Measurement:
    """A measured value with its interval.

    Attributes
    ----------
    estimate : float
        The point estimate.
    low, high : float
        The interval; ``low <= estimate <= high``. A bound may be infinite (a one-sided
        interval), never NaN.
    level : float
        Coverage of the interval, in (0, 1]. Claims with several checks use simultaneous
        (Bonferroni) intervals, so that the family of a claim's checks has 95% coverage.
        ``1.0`` marks an exact quantity (no sampling error).
    """

    estimate: float
    low: float
    high: float
    level: float = 0.95

    def __post_init__(self) -> None:
        for name in ("estimate", "low", "high", "level"):
            value = getattr(self, name)
            if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
                raise InvalidArgumentError(f"`{name}` must be a real number, got {value!r}")
            if math.isnan(value):
                raise InvalidArgumentError(f"`{name}` must not be NaN")
            object.__setattr__(self, name, float(value))
        if not math.isfinite(self.estimate):
            raise InvalidArgumentError(f"`estimate` must be finite, got {self.estimate}")
        if not self.low <= self.estimate <= self.high:
            raise InvalidArgumentError(
                f"the interval must contain the estimate: got low={self.low!r}, "
                f"estimate={self.estimate!r}, high={self.high!r}"
            )
        check_real(self.level, "level", low=0.0, high=1.0, low_open=True)

    @classmethod
    def exact(cls, value: float) -> Measurement:
        """A quantity computed without sampling error (its interval is the point)."""
        return cls(value, value, value, level=1.0)

    @property
    def width(self) -> float:
        """``high - low``."""
        return self.high - self.low


@dataclass(frozen=True)
class Rule:
    """A verdict rule, fixed by a claim before its run.

    With ``[lo, hi]`` the measured interval and ``tol`` the tolerance:

    - ``EQUAL`` (the quantity equals the prediction ``v``): *disagree* if ``v`` lies
      outside ``[lo - tol, hi + tol]``; otherwise *inconclusive* if ``hi - lo`` exceeds
      ``max_width``; otherwise *agree*.
    - ``AT_MOST`` (the quantity is at most ``v``): *disagree* if ``lo - tol > v`` (the
      whole interval lies above the bound); *agree* if ``hi - tol <= v`` and the interval
      is informative; *inconclusive* otherwise.
    - ``AT_LEAST``: the mirror image of ``AT_MOST``.

    An interval that excludes the prediction is evidence against it whatever its width,
    so width only decides between *agree* and *inconclusive*.

    Attributes
    ----------
    relation : Relation
        What is predicted.
    tolerance : float
        Non-negative allowance for a known pre-asymptotic bias or numerical error.
    tolerance_reason : str
        Why the tolerance has that size. Required when the tolerance is not zero.
    max_width : float
        The widest interval that still counts as informative (``inf``: any width).
    width_reason : str
        Why; required when ``max_width`` is finite.
    """

    relation: Relation
    tolerance: float
    tolerance_reason: str
    max_width: float = math.inf
    width_reason: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.relation, Relation):
            raise InvalidArgumentError(
                f"`relation` must be a Relation, got {type(self.relation).__name__}"
            )
        object.__setattr__(self, "tolerance", check_real(self.tolerance, "tolerance", low=0.0))
        width = self.max_width
        if not (isinstance(width, int | float) and not isinstance(width, bool) and width > 0):
            raise InvalidArgumentError(f"`max_width` must be > 0, got {width!r}")
        object.__setattr__(self, "max_width", float(width))
        if self.tolerance > 0 and not self.tolerance_reason.strip():
            raise InvalidArgumentError("`tolerance_reason` must say why the tolerance is needed")
        if math.isfinite(self.max_width) and not self.width_reason.strip():
            raise InvalidArgumentError("`width_reason` must say why the width limit is chosen")

    def judge(self, prediction: float, measurement: Measurement) -> Verdict:
        """Return the verdict of ``prediction`` against ``measurement`` under this rule."""
        v = check_real(prediction, "prediction")
        lo, hi, tol = measurement.low, measurement.high, self.tolerance
        informative = measurement.width <= self.max_width
        if self.relation is Relation.EQUAL:
            if v < lo - tol or v > hi + tol:
                return Verdict.DISAGREE
            return Verdict.AGREE if informative else Verdict.INCONCLUSIVE
        if self.relation is Relation.AT_MOST:
            if lo - tol > v:
                return Verdict.DISAGREE
            return Verdict.AGREE if hi - tol <= v and informative else Verdict.INCONCLUSIVE
        if hi + tol < v:
            return Verdict.DISAGREE
        return Verdict.AGREE if lo + tol >= v and informative else Verdict.INCONCLUSIVE

    def describe(self) -> str:
        """One line: the relation, the tolerance and the width limit."""
        parts = [f"measured {self.relation.value} predicted"]
        if self.tolerance > 0:
            parts.append(f"tolerance {self.tolerance:.3g}")
        if math.isfinite(self.max_width):
            parts.append(f"informative if the interval is narrower than {self.max_width:.3g}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Check:
    """One prediction confronted with one measurement under one rule.

    Attributes
    ----------
    label : str
        What is compared, e.g. ``"Pareto(3), kappa = 0.1"``.
    prediction : float
        The theory's value (or bound, per ``rule.relation``).
    measurement : Measurement
        The measured value with its interval.
    rule : Rule
        The verdict rule, fixed before the run.
    trend : bool
        A trend or a correlation (a sign, an ordering): its *disagree* counts only where a
        positive control of the claim showed that the pipeline detects the effect.
    sanity : bool
        A check that cannot realistically fail (a proven bound with a large slack, an
        algebraic identity). It is shown and may still disagree (something is broken),
        but it is no evidence for *agree*.
    """

    label: str
    prediction: float
    measurement: Measurement
    rule: Rule
    trend: bool = False
    sanity: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "prediction", check_real(self.prediction, "prediction"))
        if self.trend and self.sanity:
            raise InvalidArgumentError("a check is either a `trend` or a `sanity` check")

    @property
    def verdict(self) -> Verdict:
        """The rule's verdict on this prediction and measurement."""
        return self.rule.judge(self.prediction, self.measurement)

    @property
    def discrepancy(self) -> float:
        """Distance from the prediction to the tolerance-widened interval, in widths.

        Zero when the prediction is compatible with the measurement; used to pick the
        check that decides a claim's verdict.
        """
        m, tol, v = self.measurement, self.rule.tolerance, self.prediction
        if self.relation_is(Relation.AT_MOST):
            gap = max(m.low - tol - v, 0.0)
        elif self.relation_is(Relation.AT_LEAST):
            gap = max(v - m.high - tol, 0.0)
        else:
            gap = max(m.low - tol - v, v - m.high - tol, 0.0)
        scale = m.width + tol
        if gap == 0.0:
            return 0.0
        return gap / scale if scale > 0 and math.isfinite(scale) else math.inf

    def relation_is(self, relation: Relation) -> bool:
        """Whether this check predicts ``relation``."""
        return self.rule.relation is relation


def combine_verdicts(verdicts: Iterable[Verdict]) -> Verdict:
    """One verdict for several: any disagreement wins, then any inconclusive one.

    An empty family is inconclusive: nothing was checked.
    """
    seen = set(verdicts)
    if not seen:
        return Verdict.INCONCLUSIVE
    if Verdict.DISAGREE in seen:
        return Verdict.DISAGREE
    if Verdict.INCONCLUSIVE in seen:
        return Verdict.INCONCLUSIVE
    return Verdict.AGREE


class ControlKind(Enum):
    """What a control shows, and so what it must come out as.

    - ``NULL``: the effect is absent by construction (permuted labels, a Gaussian in place
      of a stable law); the check's rule must *not* agree on it (rejected = not agree).
    - ``POSITIVE``: a known effect of the predicted size, through the same pipeline; the
      rule must agree on it (detected = agree). It shows the run had the power to see
      the effect.
    - ``ALTERNATIVE``: a nearby wrong prediction on the same measurement; the rule must
      disagree (rejected = disagree). It shows the measurement tells the prediction from
      its neighbours.
    - ``MIRROR``: the opposite rule on the same interval. Rejecting it is the same event
      as the check agreeing, so it is shown but does not count as a control.
    """

    NULL = "null"
    POSITIVE = "positive"
    ALTERNATIVE = "alternative"
    MIRROR = "mirror"


@dataclass(frozen=True)
class ControlCheck(Check):
    """A control judged by a claim's rule, with its kind (:class:`ControlKind`)."""

    kind: ControlKind = ControlKind.ALTERNATIVE

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.kind, ControlKind):
            raise InvalidArgumentError(
                f"`kind` must be a ControlKind, got {type(self.kind).__name__}"
            )

    @property
    def counts(self) -> bool:
        """Whether the control counts as evidence (every kind but ``MIRROR``)."""
        return self.kind is not ControlKind.MIRROR

    @property
    def passed(self) -> bool:
        """Whether the control came out as its kind requires (a mirror: rejected)."""
        if self.kind is ControlKind.POSITIVE:
            return self.verdict is Verdict.AGREE
        if self.kind is ControlKind.NULL:
            return self.verdict is not Verdict.AGREE
        return self.verdict is Verdict.DISAGREE

    @property
    def outcome(self) -> str:
        """``detected`` / ``not detected`` for a positive control, ``rejected`` /
        ``NOT rejected`` otherwise, with ``(mirror, not counted)`` for a mirror."""
        if self.kind is ControlKind.POSITIVE:
            return "detected" if self.passed else "NOT detected"
        word = "rejected" if self.passed else "NOT rejected"
        return f"{word} (mirror, not counted)" if self.kind is ControlKind.MIRROR else word
