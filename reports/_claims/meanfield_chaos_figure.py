"""Drawing and findings shared by meanfield.chaos and meanfield.chaos_heavy.

n Var against the width with its fitted curve (:func:`draw_variance`), the fitted slopes
against the prediction 0 and the alternatives ±1 (:func:`draw_slopes`), the width axis
(:func:`width_ticks`), and the findings in words (:func:`chaos_findings`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .._kit.book import Intervals
from .._kit.claim import Evidence
from .._kit.style import MEASURED, PALETTE, PREDICTED
from .._kit.verdict import ControlKind, Measurement
from .meanfield_chaos_slopes import CONTROL_SLOPES
from .meanfield_stats import VarianceSlope

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "chaos_findings",
    "draw_slopes",
    "draw_variance",
    "finish_variance_panel",
    "legend_below",
    "slope_label",
    "width_ticks",
]


def width_ticks(ax: Axes, widths: npt.NDArray[np.int64]) -> None:
    """Ticks at the widths (every other one past eight), labelled as integers."""
    ticks = widths if widths.size <= 8 else widths[::2]
    ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
    ax.set_xticks([], minor=True)


def legend_below(ax: Axes, **kwargs: Any) -> None:
    """The panel's legend centred under it, in small type."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=6.5, **kwargs)


def _slope_words(m: Measurement) -> str:
    return f"s = {m.estimate:+.2f} [{m.low:+.2f}, {m.high:+.2f}]"


def slope_label(fit: VarianceSlope) -> str:
    """The fitted slope with its interval: ``s = +0.01 [-0.10, +0.12]``."""
    return _slope_words(fit.slope)


def draw_variance(
    ax: Axes,
    widths: npt.NDArray[np.int64],
    variance: Intervals,
    fit: VarianceSlope,
    color: str,
    label: str,
) -> None:
    """n Var at each width with its interval, and the fitted curve through them."""
    ax.errorbar(
        widths, variance.estimate, yerr=variance.yerr, color=color, linestyle="none", **MEASURED
    )
    grid = np.geomspace(widths[0], widths[-1], 100)
    ax.plot(grid, fit.fitted(grid), color=color, label=label)


def finish_variance_panel(
    ax: Axes, widths: npt.NDArray[np.int64], ylabel: str, title: str, **legend: Any
) -> None:
    """Log axes of n Var against the width n, ticked at the widths; the legend below."""
    ax.set(xscale="log", yscale="log", xlabel="width n", ylabel=ylabel, title=title)
    width_ticks(ax, widths)
    legend_below(ax, **legend)


def draw_slopes(
    ax: Axes, slopes: Sequence[Measurement], labels: Sequence[str], level: float
) -> None:
    """The fitted slopes of log n Var with their intervals, one row each, against the
    prediction 0 and the alternative controls ±1."""
    iv = Intervals.of(slopes)
    ys = np.arange(len(iv))
    ax.errorbar(
        iv.estimate,
        ys,
        xerr=iv.yerr,
        color=PALETTE[0],
        linestyle="none",
        label=f"fitted asymptotic slope ({level:.4g} interval)",
        **MEASURED,
    )
    ax.axvline(0.0, **PREDICTED, label="chaos: 0")
    for c in CONTROL_SLOPES:
        ax.axvline(c, color=PALETTE[1], linestyle=":", linewidth=1.2)
    ax.set(
        yticks=ys,
        yticklabels=list(labels),
        xlabel="slope s of log n Var in log n (fit with a 1/n term)",
    )


def chaos_findings(evidence: Evidence[Any]) -> str:
    """What the run found: each check's slope, and each control on other data, in words
    built from the evidence (the verdict and its reason first)."""
    parts = [f"This run's verdict is {evidence.verdict.value}: {evidence.reason}."]
    for c in evidence.checks:
        parts.append(f"{c.label}: {_slope_words(c.measurement)}, {c.verdict.value}.")
    for c in evidence.controls:
        if c.kind in (ControlKind.POSITIVE, ControlKind.NULL):
            parts.append(
                f"{c.label[0].upper()}{c.label[1:]}: {_slope_words(c.measurement)}, {c.outcome}."
            )
    alternatives = [c for c in evidence.controls if c.kind is ControlKind.ALTERNATIVE]
    if alternatives:
        rejected = sum(c.passed for c in alternatives)
        parts.append(f"Alternative slopes rejected: {rejected} of {len(alternatives)}.")
    return " ".join(parts)
