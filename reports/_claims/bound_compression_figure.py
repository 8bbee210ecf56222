"""The figure of claim ``bound.compression``: bound, ratio to the Gaussian and chosen kept
fraction against n for both designs, and the bound against the kept fraction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from heavytail._lib._types import FloatArray

from .._kit.book import FigureData
from .._kit.claim import Caption, Evidence
from .._kit.style import PALETTE, PREDICTED, log_panel
from .bound_compression_grid import GAUSS, LOG2_KAPPA_PAYS, RUNS, BoundGrid

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["BoundData", "draw", "geometric_ratio"]


@dataclass(frozen=True, eq=False)
class BoundData(BoundGrid, FigureData):
    """The figure's data: the grid's bounds, kept fractions and losses
    (:class:`~.bound_compression_grid.BoundGrid`), read-only."""


def geometric_ratio(bound: FloatArray, run: int) -> FloatArray:
    """The geometric mean over replicates of the paired ratio of run ``run``'s bound to
    the Gaussian's, per width."""
    return np.exp(np.log(bound[run] / bound[GAUSS]).mean(axis=-1))


def draw(evidence: Evidence[BoundData], axes: Sequence[Axes]) -> Caption:
    """Bound against n (both designs); ratio to the Gaussian; chosen kappa; bound vs kappa."""
    bound_ax, ratio_ax, kappa_ax, curve_ax = axes
    d, s = evidence.data, evidence.data.params
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(RUNS))]
    for design, style in zip(d.designs, ("o-", "s--"), strict=True):
        ns = design.widths
        for k, label in enumerate(RUNS):
            line: dict[str, Any] = {
                "color": colors[k],
                "markersize": 3,
                "label": label if design is d.trained else None,
            }
            bound_ax.plot(ns, design.bound[k].mean(axis=-1), style, **line)
            if k != GAUSS:
                ratio_ax.plot(ns, geometric_ratio(design.bound, k), style, **line)
            kappa_ax.plot(ns, np.exp2(np.log2(design.kappa[k]).mean(axis=-1)), style, **line)
    for ax in (bound_ax, ratio_ax, kappa_ax):
        ax.plot([], [], "k-", label="trained (solid)")
        ax.plot([], [], "k--", label="noise-only law (dashed)")
    ratio_ax.axhline(1.0, **PREDICTED, label="equal to the Gaussian's")
    kappa_ax.axhline(2.0**LOG2_KAPPA_PAYS, **PREDICTED, label="pruning pays below")
    log_panel(bound_ax, "width n", "bound on the gap", "Bound against n", "upper left")
    log_panel(
        ratio_ax,
        "width n",
        "bound / Gaussian bound (geometric mean)",
        "Paired ratio to the Gaussian bound",
        "lower left",
    )
    log_panel(
        kappa_ax,
        "width n",
        "chosen κ (geometric mean)",
        "Kept fraction chosen by the bound",
        "lower left",
    )
    for k, label in enumerate(RUNS):
        if d.curves[k].size:
            curve_ax.plot(
                d.curve_kappas, d.curves[k], "o-", color=colors[k], markersize=3, label=label
            )
    log_panel(
        curve_ax,
        "kept fraction κ",
        "bound at κ (min over ρ)",
        f"Noise-only law, n = {d.law.widths[-1]:,}",
        "upper right",
    )
    st = evidence.settings  # the setting as recorded
    return Caption(
        "bound.compression: the node-pruning bound at α = 0.8 and 1.5 against the Gaussian",
        f"Mean-field tanh networks, d = {st['dim']}, both layers trained, η = {st['eta']:g}, "
        f"b = {st['batch_size']}, {s.n_steps} steps, m = {st['dataset_size']}; noise summed "
        f"over the run {st['noise_factor']:g}/√d per coordinate; ramp loss γ = "
        f"{st['margin']:g}, δ = {st['delta']:g}; {s.replicates} runs per point.\nNoise-only "
        "law: W_0 + the summed noise, a_0, no gradient. Planted: all but ⌈√n⌉ units scaled "
        f"by {st['plant_shrink']:g} in a.",
    )
