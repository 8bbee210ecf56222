"""The figure of meanfield.noise_compress: errors against n, slopes, the norms' tails."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .._kit.claim import Caption, Evidence
from .._kit.style import MEASURED, PALETTE, PREDICTED, log_panel
from .meanfield_wan import ALPHAS, GAUSSIAN

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .meanfield_noise_compress import NoiseCompressData

__all__ = ["cell_label", "draw"]


def cell_label(alpha: float, noise_type: int) -> str:
    """``α = 1.5, type 1``, or ``Gaussian (α = 2), type 1``."""
    if alpha == GAUSSIAN:
        return f"Gaussian (α = 2), type {noise_type}"
    return f"α = {alpha:g}, type {noise_type}"


def draw(evidence: Evidence[NoiseCompressData], axes: Sequence[Axes]) -> Caption:
    """Errors against n at each kappa; slopes against predictions; the norms' tails."""
    from matplotlib.ticker import FormatStrFormatter

    d, s = evidence.data, evidence.data.params
    ns = d.widths.astype(np.float64)
    styles = {1: "-", 3: "--"}
    colors = {ALPHAS[0]: PALETTE[0], ALPHAS[1]: PALETTE[2], GAUSSIAN: PALETTE[1]}
    for k, ax in enumerate(axes[:2]):
        for c, (alpha, typ) in enumerate(d.cells):
            med = d.error_median[c, k]
            ax.plot(
                ns, med, "o" + styles[typ], color=colors[alpha], ms=3, label=cell_label(alpha, typ)
            )
            if alpha != GAUSSIAN:
                ax.plot(ns, med[0] * (ns / ns[0]) ** d.prediction[c], **PREDICTED)
        ax.plot([], [], **PREDICTED, label="slope 1/2 - 1/α from the first point")
        log_panel(
            ax,
            "width n",
            "relative node-pruning error of W",
            f"κ = {d.kappas[k]:g}: geometric mean over replicates",
            "lower left",
            fontsize=6.5,
        )
        ax.set_xticks(d.widths, [f"{w:,}" for w in d.widths])
        ax.set_xticks([], minor=True)
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))

    slope_ax, tail_ax = axes[2], axes[3]
    level = evidence.checks[0].measurement.level
    labels = []
    for c, (alpha, typ) in enumerate(d.cells):
        pred, tol = d.prediction[c], d.tolerance[c]
        for k, kappa in enumerate(d.kappas):
            y = len(d.kappas) * c + k
            iv = d.slope[c, k]
            slope_ax.fill_betweenx([y - 0.4, y + 0.4], pred - tol, pred + tol, color="0.85")
            slope_ax.plot([pred, pred], [y - 0.4, y + 0.4], **PREDICTED)
            slope_ax.errorbar(
                iv.estimate,
                y,
                xerr=np.array([[iv.estimate - iv.low], [iv.high - iv.estimate]]),
                color=colors[alpha],
                linestyle="none",
                **MEASURED,
            )
            labels.append(f"{cell_label(alpha, typ)}, κ = {kappa:g}")
    slope_ax.axvline(0.0, color="0.5", linewidth=0.8)
    slope_ax.set_yticks(np.arange(len(labels)), labels, fontsize=6.5)
    slope_ax.invert_yaxis()
    slope_ax.set(
        xlabel=f"slope of log error in log n ({level:.4g} interval)",
        title="Slopes: dashes predicted, grey the tolerance",
    )

    for c, (alpha, typ) in enumerate(d.cells):
        iv = d.tail[c]
        tail_ax.plot(
            d.norm_quantiles[c],
            d.survival,
            styles[typ],
            color=colors[alpha],
            label=f"{cell_label(alpha, typ)}: α̂ = {iv.estimate[()]:.2f} "
            f"[{iv.low[()]:.2f}, {iv.high[()]:.2f}]",
        )
    x0 = float(np.max(d.norm_quantiles[:, -1]))
    for alpha in ALPHAS:
        xs = np.array([x0 / 10.0, x0])
        tail_ax.plot(xs, 1e-4 * (xs / x0) ** (-alpha), **PREDICTED)
    tail_ax.plot([], [], **PREDICTED, label="slopes −α")
    log_panel(
        tail_ax,
        f"column norm / median (n = {d.widths[-1]:,}, all replicates)",
        "P(‖w_i‖ > x)",
        "Tail of the column norms (estimate_tail_index)",
        "lower left",
    )
    return Caption(
        "meanfield.noise_compress: stable noise makes the first layer compressible",
        f"tanh, a_i = 1, d = {s.dim}, b = {s.batch_size}, η = {s.eta:g} (fixed; the theorem's "
        f"η ≤ n^(-α/2-1) is out of reach), {s.n_steps} steps, σ = {s.sigma:g}; "
        f"{s.replicates} replicates per width ({s.gaussian_replicates} Gaussian);\n"
        f"intervals at level {level:.4g} (Bonferroni over {len(evidence.checks)} checks).",
    )
