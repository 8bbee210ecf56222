"""Figures of ``heavytail analyze``: tail indices per layer, prunable fractions, tails.

Built without pyplot (see :mod:`._style`): each ``*_figure`` function takes ``ax=None``
and returns the Figure. :func:`survival_axes` and :func:`power_law_line` draw on given
axes; ``heavytail tail-index`` draws its survival panel with them too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .._kit.style import MEASURED, PALETTE, PREDICTED, footnote, panels, style

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "power_law_line",
    "prunable_figure",
    "survival_axes",
    "survival_figure",
    "tail_index_figure",
]

_KINDS = (
    ("entries", "entries"),
    ("rows", "rows as vectors (block-sum)"),
    ("norms", "row norms"),
)
_METHODS = (("magnitude", "entries"), ("node", "rows (units)"), ("singular", "singular values"))
#: Tail indices above this are drawn at the top edge (light tails give huge Hill values).
ALPHA_AXIS_TOP = 6.0


def tail_index_figure(table: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Each layer's three tail-index estimates with their 95% intervals.

    Estimates and interval ends above ``ALPHA_AXIS_TOP`` (light-tailed layers, for
    which Hill's estimate is large and unstable) are drawn at the top edge, marked
    with a triangle; missing estimates are left out (the table says why).
    """
    with style():
        # Wide enough for the legend, which sits outside the axes.
        width = 2.6 + max(3.0, 1.1 * len(table))
        fig, (axis,) = panels(None if ax is None else [ax], 1, width=width)
        x = np.arange(len(table))
        for j, (kind, label) in enumerate(_KINDS):
            alpha = table[f"{kind}_alpha"].to_numpy(dtype=float)
            low = table[f"{kind}_ci_low"].to_numpy(dtype=float)
            high = table[f"{kind}_ci_high"].to_numpy(dtype=float)
            shown = np.isfinite(alpha)
            if not shown.any():
                continue
            top = ALPHA_AXIS_TOP
            a = np.minimum(alpha, top)
            lo = np.minimum(low, top)
            hi = np.minimum(np.where(np.isfinite(high), high, top), top)
            pos = x + (j - 1) * 0.22
            axis.errorbar(
                pos[shown],
                a[shown],
                yerr=[(a - lo)[shown], (hi - a)[shown]],
                color=PALETTE[j],
                linestyle="none",
                label=label,
                **{k: v for k, v in MEASURED.items() if k != "linewidth"},
            )
            clipped = shown & (alpha > top)
            if clipped.any():
                axis.plot(pos[clipped], a[clipped], "^", color=PALETTE[j], markersize=7)
        axis.axhline(2.0, **PREDICTED, label="2: Gaussian end of the stable family")
        axis.set(
            xticks=x,
            ylim=(0.0, ALPHA_AXIS_TOP * 1.04),
            ylabel="tail index alpha (95% interval)",
            title="Tail index per layer",
        )
        axis.set_xticklabels([str(n) for n in table["name"]], rotation=30, ha="right")
        # Outside the axes: the clipped estimates sit at the top edge.
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        footnote(fig, f"values above {ALPHA_AXIS_TOP:g} drawn at the top edge (triangles)")
    return fig


def prunable_figure(table: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Bars: the fraction of each layer's entries, rows and singular values prunable at eps."""
    eps = table.attrs.get("eps")
    with style():
        fig, (axis,) = panels(None if ax is None else [ax], 1, width=max(4.0, 1.1 * len(table)))
        x = np.arange(len(table))
        for j, (method, label) in enumerate(_METHODS):
            axis.bar(
                x + (j - 1) * 0.27,
                table[f"prunable_{method}"].to_numpy(dtype=float),
                width=0.27,
                color=PALETTE[j],
                label=label,
            )
        axis.set(
            xticks=x,
            ylim=(0.0, 1.0),
            ylabel="fraction removable",
            title=f"Prunable at relative error {eps:g}" if eps is not None else "Prunable",
        )
        axis.set_xticklabels([str(n) for n in table["name"]], rotation=30, ha="right")
        axis.legend(loc="upper left")
        footnote(fig, "relative Frobenius error ||W - W_k|| / ||W|| at most eps")
    return fig


def survival_figure(
    weight: npt.ArrayLike,
    row: Mapping[str, Any] | pd.Series,
    ax: Axes | None = None,
    *,
    tail_fraction: float = 0.01,
) -> Figure:
    """Empirical P(|w - median| > t) of one layer's entries, with the fitted power law.

    The line t^(-alpha), alpha the layer's ``entries_alpha``, is drawn through the
    empirical survival function at the top ``tail_fraction`` of the entries (at least
    10 of them); its slope is the estimate, its anchor a choice of the figure.
    """
    w = np.asarray(weight, dtype=np.float64).ravel()
    mags = np.sort(np.abs(w - np.median(w)))[::-1]
    mags = mags[mags > 0]
    n = mags.size
    alpha = float(row["entries_alpha"])
    with style():
        fig, (axis,) = panels(None if ax is None else [ax], 1, width=4.2, height=3.2)
        survival_axes(
            axis,
            mags,
            "empirical P(|w - median| > t)",
            xlabel="t",
            ylabel="P(|w - median| > t)",
            title=f"{row['name']}: alpha = {_fmt(alpha)} "
            f"[{_fmt(float(row['entries_ci_low']))}, {_fmt(float(row['entries_ci_high']))}]",
        )
        k = min(max(10, math.ceil(tail_fraction * n)), n)
        if math.isfinite(alpha) and k < n:
            power_law_line(
                axis, mags, k, k / (n + 1), alpha, f"t^(-{alpha:.3g}) through the top {k}"
            )
        axis.legend(loc="lower left")
        used = f"{w.size:,} entries; estimate from {int(row['entries_n']):,} of them"
        match = re.search(r"(\d+) disjoint subsamples", str(row.get("entries_method", "")))
        if match:  # large layers: the median of disjoint subsamples, the union interval
            used += f" ({match.group(1)} disjoint subsamples)"
        footnote(fig, used)
    return fig


def survival_axes(
    axis: Axes, mags: npt.NDArray[np.float64], label: str, *, xlabel: str, ylabel: str, title: str
) -> None:
    """Log-log axes with the empirical survival function of ``mags`` (sorted largest first,
    all > 0; none: the axes alone), P(X > mags[i]) = (i + 1) / (n + 1): every one of the
    largest values, then a geometric thinning (about 2000 points)."""
    n = mags.size
    if n:
        survival = np.arange(1, n + 1) / (n + 1)
        idx = np.unique(np.geomspace(1, n, 2000).astype(np.intp)) - 1
        axis.plot(mags[idx], survival[idx], ".", color=PALETTE[0], markersize=2, label=label)
    axis.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=ylabel, title=title)


def power_law_line(
    axis: Axes, mags: npt.NDArray[np.float64], start: int, level: float, alpha: float, label: str
) -> None:
    """The power law ``level (t / t0)^(-alpha)`` from t0 = ``mags[start]`` to the largest
    of ``mags`` (sorted largest first), drawn as a prediction (dashed)."""
    t0 = mags[start]
    grid = np.geomspace(t0, mags[0], 50)
    axis.plot(grid, level * (grid / t0) ** (-alpha), **PREDICTED, label=label)


def _fmt(x: float) -> str:
    if math.isnan(x):
        return "n/a"
    return "inf" if math.isinf(x) else f"{x:.3g}"
