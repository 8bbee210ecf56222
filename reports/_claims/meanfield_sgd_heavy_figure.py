"""The figure of claim ``meanfield.sgd_heavy``: stationarity diagnostic, tail index,
prunable fraction and the norms' quartiles against eta / b."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from heavytail._lib._types import FloatArray

from .._kit.book import FigureData, Intervals
from .._kit.claim import Caption, Evidence
from .._kit.style import MEASURED, PALETTE, PREDICTED, log_panel
from .._kit.verdict import Measurement
from .meanfield_sgd_heavy_grid import BATCH, DIM, EDGE, EPS, HEAVY_BELOW, KS_MAX, SgdHeavySize

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["SgdHeavyData", "SgdHeavyJudged", "draw"]


@dataclass(frozen=True, eq=False)
class SgdHeavyJudged(FigureData):
    """What the judge measured, per step size at the widest width.

    Attributes
    ----------
    ks : Intervals, shape (eta,)
        KS distance between the pooled unit norms at T and at 2T, less KS_MAX.
    tail : Intervals, shape (eta,)
        Tail index (auto) of the pooled norms at 2T, at the claim's level.
    chaos : Measurement or None
        The chaos slope (None: no stationary law, not checked).
    """

    ks: Intervals
    tail: Intervals
    chaos: Measurement | None


@dataclass(frozen=True, eq=False)
class SgdHeavyData(SgdHeavyJudged):
    """The judged intervals (:class:`SgdHeavyJudged`), and per step size and replicate the
    measurements at the widest width.

    Attributes
    ----------
    eta_over_b : ndarray
    widths : ndarray of int
    alpha : ndarray, shape (replicate, eta)
        Tail index (auto) of each replicate's norms at 2T.
    prunable : ndarray, shape (replicate, eta)
        Fraction of units node pruning removes at relative Frobenius error EPS.
    chaos_eta : float
        The eta / b where chaos was checked (NaN: no stationary law, not checked).
    max_weight : ndarray, shape (eta,)
        The largest |w_ij| at 2T.
    quantiles : ndarray, shape (eta, 2, 3)
        Quartiles of the pooled norms at T and at 2T.
    params : SgdHeavySize
    """

    eta_over_b: FloatArray
    widths: npt.NDArray[np.int64]
    alpha: FloatArray
    prunable: FloatArray
    chaos_eta: float
    max_weight: FloatArray
    quantiles: FloatArray
    params: SgdHeavySize


def draw(evidence: Evidence[SgdHeavyData], axes: Sequence[Axes]) -> Caption:
    """Stationarity, tail index, prunable fraction and the norms' quartiles against eta/b."""
    ks_ax, tail_ax, prune_ax, q_ax = axes
    d, s = evidence.data, evidence.data.params
    x = d.eta_over_b
    k = d.ks
    ks_ax.errorbar(
        x, k.estimate + KS_MAX, yerr=k.yerr, color=PALETTE[0], label="norms at T vs 2T", **MEASURED
    )
    ks_ax.axhline(KS_MAX, **PREDICTED, label=f"stationary below {KS_MAX:g}")
    log_panel(
        ks_ax,
        "η / b",
        "two-sample KS distance",
        "Stationarity diagnostic (bootstrap over replicates)",
        "upper left",
        fontsize=6.5,
    )
    tl = d.tail
    finite_hi = np.where(np.isfinite(tl.high), tl.high, tl.estimate)
    tail_ax.errorbar(
        x,
        tl.estimate,
        yerr=[tl.estimate - tl.low, finite_hi - tl.estimate],
        color=PALETTE[1],
        label="pooled norms at 2T (auto)",
        **MEASURED,
    )
    med = np.median(d.alpha, axis=0)
    tail_ax.plot(x, med, "s:", color=PALETTE[2], markersize=3, label="per replicate, median")
    tail_ax.axhline(HEAVY_BELOW, **PREDICTED, label="heavy tails below 2")
    log_panel(
        tail_ax,
        "η / b",
        "tail index of ‖w_i‖",
        f"Tail index, n = {d.widths[-1]}, d = {DIM}",
        "upper right",
        fontsize=6.5,
    )
    lo, med, hi = np.quantile(d.prunable, [0.25, 0.5, 0.75], axis=0)
    prune_ax.errorbar(
        x, med, yerr=[med - lo, hi - med], color=PALETTE[3], label="median, quartiles", **MEASURED
    )
    log_panel(
        prune_ax,
        "η / b",
        f"prunable fraction at {EPS:.0%} error",
        "Node pruning",
        "upper left",
        log_y=False,
        fontsize=6.5,
    )
    for j, (word, style) in enumerate((("T", "o--"), ("2T", "s-"))):
        q_ax.plot(
            x,
            d.quantiles[:, j, 1],
            style,
            color=PALETTE[4],
            markersize=3,
            label=f"median at {word}",
        )
        q_ax.fill_between(
            x, d.quantiles[:, j, 0], d.quantiles[:, j, 2], color=PALETTE[4], alpha=0.15 + 0.15 * j
        )
    log_panel(
        q_ax, "η / b", "‖w_i‖", "Norms at T and 2T (median, quartiles)", "upper left", fontsize=6.5
    )
    chaos = (
        "not checked (no stationary η/b)"
        if math.isnan(d.chaos_eta)
        else f"checked at η/b = {d.chaos_eta:g}"
    )
    return Caption(
        "meanfield.sgd_heavy: Barsbey et al.'s assumptions on plain SGD below the edge",
        f"Mean-field tanh networks, d = {DIM}, b = {BATCH}, T = {s.n_steps} (runs of 2T "
        f"steps), squared loss, fresh batches shared by {s.replicates} replicates; η/b >= "
        f"{EDGE:g} excluded (divergence edge).\nChaos {chaos}. Largest |w_ij|: "
        f"{np.max(d.max_weight):.3g}.",
    )
