"""The slope checks of propagation of chaos, shared by meanfield.chaos and meanfield.chaos_heavy.

Both claims measure n Var of unit averages across replicates at every width, for the
network's outputs at :data:`N_PROBE` fixed inputs and for weight-space test functions,
on the trained networks and on two controls run on other data: a positive one (units
i.i.d. by construction, slope 0 exactly) and a null one (units dependent by
construction). Each fits log n Var = c + s log n + b/n over the widths
(:class:`ChaosStatistics`, :class:`SlopeFits`) and checks s = 0 for the outputs and for
the weights, with the same controls (:func:`record_slope_checks`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from heavytail._lib._types import FloatArray
from heavytail.theory import network_output

from .._kit.book import CheckBook, Control, Intervals
from .._kit.verdict import ControlKind, Measurement, Relation, Rule
from .meanfield_stats import ScaledVariance, VarianceSlope, slope_coefficients, variance_slope

__all__ = [
    "CONTROL_SLOPES",
    "N_PROBE",
    "RULE",
    "SLOPE_SETTINGS",
    "ChaosStatistics",
    "SlopeFits",
    "log_interval",
    "log_intervals",
    "power_half_width",
    "probe_outputs",
    "record_slope_checks",
]


#: The network's output is probed at this many fixed inputs.
N_PROBE = 8

#: The slopes of the negative controls: units that stay correlated (n Var ~ n), and
#: fluctuations of order 1/n instead of n^(-1/2) (n Var ~ 1/n).
CONTROL_SLOPES = (1.0, -1.0)

_WIDTH_REASON = (
    "an interval wider than 1, the distance from the predicted slope 0 to each control's "
    "slope ±1, could hold 0 and a control together."
)
RULE = Rule(Relation.EQUAL, 0.0, "", max_width=1.0, width_reason=_WIDTH_REASON)

#: The settings both claims record: the statistic and its fit.
SLOPE_SETTINGS = {
    "statistic": "mean over columns of log(n Var across replicates), jackknife over replicates",
    "fit": "log n Var = c + s log n + b/n, paired widths (jackknife of s over replicates)",
}


def power_half_width(widths: Sequence[int], replicates: int, n_checks: int = 2) -> float:
    """Half-width of the slope's interval for one Gaussian column of averages.

    With R replicates, log s^2 has standard deviation sqrt(2 / (R - 1)) (Gaussian
    averages); the slope of the three-term fit is sum_k c_k y_k, so its standard
    deviation is at most ||c|| sqrt(2 / (R - 1)) for independent widths, and the
    half-width is t_(R-1) at the Bonferroni level times that. Pooling several probes or
    test functions, and pairing the widths, only narrow it (measured).
    """
    c = slope_coefficients(widths, inverse_width=True)
    sd = float(np.linalg.norm(c)) * math.sqrt(2.0 / (replicates - 1))
    level = 1.0 - 0.05 / n_checks
    return float(stats.t.ppf(0.5 + level / 2.0, replicates - 1)) * sd


def probe_outputs(w: FloatArray, a: FloatArray | None, x: FloatArray) -> FloatArray:
    """f(x_p) = (1/n) Σ a_i tanh(w_i·x_p) of replicates w (R, n, dim), a (R, n): (R, P).

    ``a=None`` fixes every a_i to 1. One :func:`heavytail.theory.network_output` per
    replicate.
    """
    return np.stack(
        [network_output(w[r], None if a is None else a[r], x, "tanh") for r in range(len(w))]
    )


def log_interval(sv: ScaledVariance, level: float) -> Measurement:
    """n Var (geometric mean over columns) with its interval, from its log-scale one."""
    m = sv.interval(level)
    return Measurement(math.exp(m.estimate), math.exp(m.low), math.exp(m.high), level=level)


def log_intervals(points: Sequence[ScaledVariance], level: float) -> Intervals:
    """:func:`log_interval` of every width, in order."""
    return Intervals.of(log_interval(s, level) for s in points)


def _fit(points: Sequence[ScaledVariance], level: float) -> VarianceSlope:
    return variance_slope(points, level, paired=True, inverse_width=True)


@dataclass(frozen=True)
class SlopeFits:
    """The fitted log n Var = c + s log n + b/n of every statistic of a
    :class:`ChaosStatistics` (same names)."""

    outputs: VarianceSlope
    weights: VarianceSlope
    positive_outputs: VarianceSlope
    positive_weights: VarianceSlope
    null: VarianceSlope

    def all(self) -> tuple[VarianceSlope, ...]:
        """The five fits, in the order of the fields."""
        return (
            self.outputs,
            self.weights,
            self.positive_outputs,
            self.positive_weights,
            self.null,
        )


@dataclass(frozen=True)
class ChaosStatistics:
    """log n Var across replicates at every width (one :class:`ScaledVariance` each).

    Attributes
    ----------
    outputs, weights : tuple of ScaledVariance
        The trained networks' outputs at the probe inputs, and their unit averages of
        the weight-space test functions.
    positive_outputs, positive_weights : tuple of ScaledVariance
        The same on units i.i.d. by construction (the positive controls).
    null : tuple of ScaledVariance
        The outputs of units dependent by construction (the null control).
    """

    outputs: tuple[ScaledVariance, ...]
    weights: tuple[ScaledVariance, ...]
    positive_outputs: tuple[ScaledVariance, ...]
    positive_weights: tuple[ScaledVariance, ...]
    null: tuple[ScaledVariance, ...]

    def fits(self, level: float) -> SlopeFits:
        """Each statistic's fit over the widths, paired, with the 1/n term, at ``level``."""
        return SlopeFits(
            _fit(self.outputs, level),
            _fit(self.weights, level),
            _fit(self.positive_outputs, level),
            _fit(self.positive_weights, level),
            _fit(self.null, level),
        )


def record_slope_checks(
    book: CheckBook,
    fits: SlopeFits,
    labels: tuple[str, str],
    positive: str,
    null: str,
    prefix: str = "",
) -> None:
    """Check slope 0 for the outputs, then for the weights (``labels``), both trend checks.

    Each has the alternatives :data:`CONTROL_SLOPES` and its positive control (units
    ``positive``); the outputs also the null control (units ``null``). ``prefix`` opens
    the labels of the positive and null controls (e.g. the cell).
    """
    wrong = [Control(f"control: slope {s:+g}", s) for s in CONTROL_SLOPES]
    book.check(
        labels[0],
        0.0,
        fits.outputs.slope,
        RULE,
        *wrong,
        Control(
            f"{prefix}positive control: {positive}, outputs, slope 0",
            0.0,
            fits.positive_outputs.slope,
            kind=ControlKind.POSITIVE,
        ),
        Control(
            f"{prefix}null control: {null}, slope 0",
            0.0,
            fits.null.slope,
            kind=ControlKind.NULL,
        ),
        trend=True,
    )
    book.check(
        labels[1],
        0.0,
        fits.weights.slope,
        RULE,
        *wrong,
        Control(
            f"{prefix}positive control: {positive}, weight averages, slope 0",
            0.0,
            fits.positive_weights.slope,
            kind=ControlKind.POSITIVE,
        ),
        trend=True,
    )
