"""One figure style for every report figure.

Figures are built on ``matplotlib.figure.Figure`` directly, never through pyplot, so
that nothing is registered globally, nothing is shown, and a figure is freed as soon as
its last reference goes. The style is applied through ``rc_context`` while a figure is
drawn, so that importing this module changes no global setting.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .book import Intervals

__all__ = [
    "MEASURED",
    "PALETTE",
    "PREDICTED",
    "Corner",
    "errorbars",
    "footnote",
    "log_panel",
    "panels",
    "style",
]

#: Colour-blind-safe qualitative palette (Okabe & Ito 2008).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
#: Theory is drawn in black dashes, measurements in colour with their interval.
PREDICTED: Mapping[str, Any] = {"color": "black", "linestyle": "--", "linewidth": 1.2}
MEASURED: Mapping[str, Any] = {"marker": "o", "markersize": 4, "linewidth": 1.0, "capsize": 2}
#: Where a panel's legend goes.
Corner = Literal["upper left", "upper right", "lower left", "lower right"]

_RC: Mapping[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "pdf.fonttype": 42,
}


@contextmanager
def style() -> Iterator[None]:
    """Apply the report style while drawing (a context manager)."""
    import matplotlib as mpl

    rc: Any = dict(_RC)  # matplotlib types rc keys as literals; ours are checked at run time
    with mpl.rc_context(rc):
        yield


def panels(
    ax: Sequence[Axes] | None,
    n: int,
    *,
    width: float = 3.6,
    height: float = 3.0,
    ncols: int | None = None,
) -> tuple[Figure, list[Axes]]:
    """Return a figure and its ``n`` panels: new ones, or the given Axes.

    Call inside :func:`style` so that new figures get the report style.
    """
    if ax is not None:
        axes = list(ax)
        root = axes[0].get_figure(root=True)
        if root is None:  # pragma: no cover - an Axes always belongs to a figure
            raise ValueError("the Axes given do not belong to a figure")
        return root, axes
    from matplotlib.figure import Figure

    cols = n if ncols is None else ncols
    rows = -(-n // cols)
    fig = Figure(figsize=(width * cols, height * rows + 0.5), layout="constrained")
    grid = fig.subplots(rows, cols, squeeze=False)
    axes = list(grid.ravel()[:n])
    for extra in grid.ravel()[n:]:
        extra.remove()
    return fig, axes


def footnote(fig: Figure, text: str) -> None:
    """Write what was simulated (sizes, replicates, seed) under the figure."""
    fig.supxlabel(text, fontsize=7, color="0.35")


def errorbars(ax: Axes, x: Any, intervals: Intervals, **kwargs: Any) -> Any:
    """Estimates with their intervals as error bars at ``x``, in the :data:`MEASURED`
    style, which ``kwargs`` (colour, label, ...) complete or override."""
    return ax.errorbar(x, intervals.estimate, yerr=intervals.yerr, **{**MEASURED, **kwargs})


def log_panel(
    ax: Axes,
    xlabel: str,
    ylabel: str,
    title: str,
    legend: Corner,
    *,
    log_y: bool = True,
    fontsize: float = 6,
) -> None:
    """Label a panel with a log x-axis (and log y-axis unless ``log_y`` is False) and put
    its legend at ``legend``."""
    ax.set(xscale="log", xlabel=xlabel, ylabel=ylabel, title=title)
    if log_y:
        ax.set_yscale("log")
    ax.legend(loc=legend, fontsize=fontsize)
