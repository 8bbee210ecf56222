"""Claim ``prune.ensembles``: heavy tails compress a layer only when its units are independent."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from heavytail.theory import (
    InvalidArgumentError,
    elliptic_layer_matrix,
    iid_columns_matrix,
    iid_entries_matrix,
    matched_kappas,
    prunable_fraction,
    pruning_curve,
)

from .._kit.book import (
    CheckBook,
    Control,
    FigureData,
    Intervals,
    and_list,
    number_set,
    staged_measure,
)
from .._kit.claim import Caption, Claim, Evidence, Layout
from .._kit.stats import kendall_trend, mean_interval
from .._kit.style import MEASURED, PALETTE, PREDICTED
from .._kit.verdict import ControlKind, Measurement, Relation, Rule

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CLAIM", "PruneData", "PruneSize"]

Method = Literal["magnitude", "node", "singular"]
METHODS: tuple[Method, ...] = ("magnitude", "node", "singular")
#: Each method in the statement, and what it keeps.
METHOD_PROSE: dict[Method, str] = {
    "magnitude": "magnitude",
    "node": "node",
    "singular": "singular-value",
}
UNITS: dict[Method, str] = {
    "magnitude": "entries",
    "node": "columns",
    "singular": "singular values",
}
ENSEMBLES: tuple[tuple[str, str, Callable[..., np.ndarray]], ...] = (
    ("entries", "i.i.d. entries", iid_entries_matrix),
    ("columns", "i.i.d. elliptic columns", iid_columns_matrix),
    ("layer", "one elliptic layer", elliptic_layer_matrix),
)
EPS = 0.1


@dataclass(frozen=True)
class PruneSize:
    """Parameters of one size of ``prune.ensembles``.

    Attributes
    ----------
    d, n : int
        Rows (inputs) and columns (hidden units) of each matrix.
    alphas : tuple of float
        Stable indices; the last must be 2 (the Gaussian, where the three ensembles
        coincide).
    replicates : int
        Independent matrices per ensemble and alpha.
    n_boot : int
        Bootstrap resamples of the Kendall trends.
    columns_grid : int
        Number of node budgets (kept columns) at which the ordering is checked.
    """

    d: int
    n: int
    alphas: tuple[float, ...]
    replicates: int
    n_boot: int
    columns_grid: int


ALPHAS = (1.0, 1.25, 1.5, 1.75, 2.0)
SIZES = {
    "smoke": PruneSize(16, 128, ALPHAS, 8, 400, 8),
    "quick": PruneSize(64, 512, ALPHAS, 40, 1000, 16),
    "full": PruneSize(128, 2048, ALPHAS, 100, 2000, 24),
}

TREND_RULE = Rule(Relation.AT_MOST, 0.0, "")
NO_TREND_RULE = Rule(Relation.AT_LEAST, 0.0, "")
LAYER_WIDTH = 0.05
LAYER_RULE = Rule(
    Relation.EQUAL,
    0.0,
    "",
    max_width=LAYER_WIDTH,
    width_reason=(
        "the gain of i.i.d. elliptic columns over the Gaussian, averaged over alpha < 2 "
        "(the control's prediction), is 0.26 to 0.45 at smoke and quick sizes; an "
        f"interval narrower than {LAYER_WIDTH} can tell a gain of a fifth of that from none"
    ),
)
ORDER_TOLERANCE = 1e-9
ORDER_RULE = Rule(
    Relation.AT_MOST,
    ORDER_TOLERANCE,
    (
        "each error is the square root of a ratio of two float sums whose relative "
        "rounding error is at most (4096 + N/4096) 2^-53, about 5e-13 for the N <= 3e5 "
        "units here (heavytail.theory.relative_error, Notes), so two mathematically equal "
        "errors can differ by about 1e-12; 1e-9 is a wide margin for that and far below a "
        "real violation (the reversed orderings exceed 0.1)"
    ),
)


#: The positive control's matrices, in words.
POSITIVE_PROSE = "Gaussian columns scaled by the quantiles of a tail-index-alpha law"
NULL_PROSE = "i.i.d. entries with the alphas permuted within each replicate"


def quantile_columns_matrix(alpha: float, d: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian columns times c_i = ((i - 1/2) / n)^(-1/alpha): a known rise in alpha.

    The column scales are the n quantiles of a Pareto law of tail index alpha (all 1
    at alpha = 2), without randomness, so that a smaller alpha concentrates the
    Frobenius mass on fewer columns by construction, as i.i.d. heavy-tailed columns do
    in the limit (docs/theory.md, section 1): the prunable fraction must rise as alpha
    falls. Shape (d, n).
    """
    g = rng.standard_normal((d, n))
    if alpha >= 2.0:
        return g
    c = ((np.arange(1, n + 1) - 0.5) / n) ** (-1.0 / alpha)
    return g * c


def _fractions(w: np.ndarray) -> np.ndarray:
    return np.array([prunable_fraction(w, EPS, m) for m in METHODS])


def _ordering_gaps(w: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """(magnitude - node, singular - node) at matched budgets, for each kept count j."""
    kap = [matched_kappas(w.shape, int(j)) for j in columns]
    errs = {m: pruning_curve(w, np.array([k[m] for k in kap]), m) for m in METHODS}
    return np.stack([errs["magnitude"] - errs["node"], errs["singular"] - errs["node"]])


@dataclass(frozen=True, eq=False)
class PruneData(FigureData):
    """Prunable fractions per ensemble, alpha and method; trends; the ordering's pairs.

    Attributes
    ----------
    alphas : ndarray
        The stable indices (the last is 2, the Gaussian).
    fractions : ndarray, shape (ensemble, replicate, alpha, method)
        Prunable fractions, ensembles and methods in the order of :data:`ENSEMBLES` and
        :data:`METHODS`.
    trend : Intervals, shape (2, method)
        Kendall's tau of (alpha, prunable fraction) for the two independent ensembles.
    layer_diff : Intervals, shape (method,)
        One elliptic layer's fraction minus the Gaussian's.
    node_errors : ndarray, shape (matrix,)
        Node-pruning error keeping n/10 columns, first replicate of each ensemble and alpha.
    other_errors : ndarray, shape (matrix, 2)
        Magnitude and singular-value errors at the matched budgets, same matrices.
    params : PruneSize
    """

    alphas: npt.NDArray[np.float64]
    fractions: npt.NDArray[np.float64]
    trend: Intervals
    layer_diff: Intervals
    node_errors: npt.NDArray[np.float64]
    other_errors: npt.NDArray[np.float64]
    params: PruneSize


@dataclass(frozen=True)
class PruneGrid:
    """The prunable fractions and orderings of every matrix, and the controls' matrices.

    ``fractions[e, r, a, m]``: ensemble e, replicate r, ``alphas[a]``, method m;
    ``gap_max`` and ``gap_min`` (2, columns): the largest and smallest (magnitude - node,
    singular - node) over all matrices at each matched budget; ``node_errors`` and
    ``other_errors``: the first replicate's errors keeping n/10 columns; ``positive`` and
    ``permuted`` (replicate, alpha, method): the positive control's fractions and the
    i.i.d.-entries fractions with the alphas permuted. ``trend_rng`` and ``control_rng``
    are the generators of the judge's bootstraps (of the checks, of the controls).
    """

    alphas: npt.NDArray[np.float64]
    columns: npt.NDArray[np.int64]
    fractions: npt.NDArray[np.float64]
    gap_max: npt.NDArray[np.float64]
    gap_min: npt.NDArray[np.float64]
    node_errors: npt.NDArray[np.float64]
    other_errors: npt.NDArray[np.float64]
    positive: npt.NDArray[np.float64]
    permuted: npt.NDArray[np.float64]
    trend_rng: np.random.Generator
    control_rng: np.random.Generator
    params: PruneSize


def run_grid(params: PruneSize, rng: np.random.Generator) -> PruneGrid:
    """Draw the three ensembles and the controls' matrices; prune every matrix."""
    alphas = np.array(params.alphas)
    if alphas.size < 3 or alphas[-1] != 2.0 or np.any(alphas[:-1] >= 2.0):
        raise InvalidArgumentError(
            f"`alphas` must end with 2.0 (the Gaussian) after at least two values below 2, "
            f"got {params.alphas}"
        )
    n_alpha, reps = alphas.size, params.replicates
    columns = np.unique(np.geomspace(1, params.n, params.columns_grid).astype(np.int64))
    fractions = np.empty((len(ENSEMBLES), reps, n_alpha, len(METHODS)))
    gap_max = np.full((2, columns.size), -np.inf)
    gap_min = np.full((2, columns.size), np.inf)
    node_errs, other_errs = [], []  # a sample of matched pairs for the figure
    streams = rng.spawn(len(ENSEMBLES))
    for e, ((_, _, sampler), stream) in enumerate(zip(ENSEMBLES, streams, strict=True)):
        for r, rep_stream in enumerate(stream.spawn(reps)):
            for a, g in enumerate(rep_stream.spawn(n_alpha)):
                w = sampler(float(alphas[a]), params.d, params.n, rng=g)
                fractions[e, r, a] = _fractions(w)
                gap = _ordering_gaps(w, columns)
                np.maximum(gap_max, gap, out=gap_max)
                np.minimum(gap_min, gap, out=gap_min)
                if r == 0:
                    kap = matched_kappas(w.shape, max(1, params.n // 10))
                    node_errs.append(pruning_curve(w, [kap["node"]], "node")[0])
                    other_errs.append(
                        [pruning_curve(w, [kap[m]], m)[0] for m in ("magnitude", "singular")]
                    )
    # The controls of the trends, on a stream of their own: the checks' numbers do not
    # depend on them.
    ctrl_rng = rng.spawn(1)[0]
    positive = np.empty((reps, n_alpha, len(METHODS)))
    for r, rep_stream in enumerate(ctrl_rng.spawn(reps)):
        for a, g in enumerate(rep_stream.spawn(n_alpha)):
            positive[r, a] = _fractions(
                quantile_columns_matrix(float(alphas[a]), params.d, params.n, g)
            )
    # Permuted labels: each replicate's i.i.d.-entries fractions assigned to the alphas in
    # a random order, so that no association with alpha is left.
    order = np.argsort(ctrl_rng.random((reps, n_alpha)), axis=1)
    permuted = np.take_along_axis(fractions[0], order[:, :, None], axis=1)
    return PruneGrid(
        alphas,
        columns,
        fractions,
        gap_max,
        gap_min,
        np.array(node_errs),
        np.array(other_errs),
        positive,
        permuted,
        trend_rng=rng,
        control_rng=ctrl_rng,
        params=params,
    )


def _trend_label(e: int, method: Method) -> str:
    return f"{ENSEMBLES[e][1]}, {method}: Kendall τ(alpha, prunable fraction)"


def _layer_label(method: Method) -> str:
    return f"one elliptic layer, {method}: prunable fraction minus the Gaussian's"


def judge(grid: PruneGrid, book: CheckBook) -> tuple[Intervals, Intervals]:
    """Two trends and one layer difference per method, the exact orderings, the trends'
    controls; the trends and the layer differences."""
    level = book.declare(
        [*(_trend_label(e, m) for e in range(2) for m in METHODS), *map(_layer_label, METHODS)]
    )
    alphas, fractions, n_boot = grid.alphas, grid.fractions, grid.params.n_boot
    trends = []
    for e in range(2):
        for m, method in enumerate(METHODS):
            tau = kendall_trend(
                alphas, fractions[e, :, :, m], level=level, n_boot=n_boot, rng=grid.trend_rng
            )
            trends.append(tau)
            label = _trend_label(e, method)
            book.check(label, 0.0, tau, TREND_RULE, trend=True)
            # The opposite rule on the same interval: shown, not counted.
            book.control(
                label + "; control: no rise", 0.0, tau, NO_TREND_RULE, kind=ControlKind.MIRROR
            )

    heavy = alphas < 2.0
    gauss = fractions[0][:, -1, :]  # (reps, methods): the alpha = 2 draws, Gaussian
    layer_diffs = []
    for m, method in enumerate(METHODS):
        diff = fractions[2][:, heavy, m].mean(axis=1) - gauss[:, m]
        naive = fractions[1][:, heavy, m].mean(axis=1) - gauss[:, m]
        diff_m = mean_interval(diff, level=level)
        layer_diffs.append(diff_m)
        label = _layer_label(method)
        book.check(
            label,
            0.0,
            diff_m,
            LAYER_RULE,
            Control(label + "; control: the gain of i.i.d. elliptic columns", float(naive.mean())),
        )

    n_mats = fractions.shape[0] * fractions.shape[1] * fractions.shape[2]
    where = f"max over {n_mats} matrices and {grid.columns.size} matched budgets"
    for i, other in enumerate(("magnitude", "singular")):
        book.check(
            f"{other} error - node error, {where}",
            0.0,
            Measurement.exact(float(grid.gap_max[i].max())),
            ORDER_RULE,
            # The reversed ordering, node <= other, judged by the same rule.
            Control(
                f"node error - {other} error, {where}; control: reversed ordering",
                0.0,
                Measurement.exact(float(-grid.gap_min[i].min())),
            ),
            sanity=True,  # a derived inequality, true for every matrix
        )
    for m, method in enumerate(METHODS):
        null_tau = kendall_trend(
            alphas, grid.permuted[:, :, m], level=level, n_boot=n_boot, rng=grid.control_rng
        )
        pos_tau = kendall_trend(
            alphas, grid.positive[:, :, m], level=level, n_boot=n_boot, rng=grid.control_rng
        )
        book.control(
            f"{method}: null control, {NULL_PROSE}: Kendall τ(alpha, prunable fraction) <= 0",
            0.0,
            null_tau,
            TREND_RULE,
            kind=ControlKind.NULL,
        )
        book.control(
            f"{method}: positive control, {POSITIVE_PROSE}: Kendall τ(alpha, prunable "
            "fraction) <= 0",
            0.0,
            pos_tau,
            TREND_RULE,
            kind=ControlKind.POSITIVE,
        )
    return Intervals.of(trends).reshape(2, len(METHODS)), Intervals.of(layer_diffs)


def figure_data(grid: PruneGrid, judged: tuple[Intervals, Intervals]) -> PruneData:
    """The fractions, the judged trends and layer differences, the ordering's pairs."""
    trend, layer_diff = judged
    return PruneData(
        grid.alphas,
        grid.fractions,
        trend,
        layer_diff,
        grid.node_errors,
        grid.other_errors,
        grid.params,
    )


def _settings(grid: PruneGrid, _: tuple[Intervals, Intervals]) -> dict[str, Any]:
    return {
        "eps": EPS,
        "columns_checked": grid.columns,
        "ensembles": "theory.iid_entries_matrix, iid_columns_matrix, elliptic_layer_matrix",
        "trend": "Kendall tau-b, replicates resampled whole (percentile bootstrap)",
    }


#: Draw the three ensembles, measure prunable fractions and the ordering, and judge.
measure = staged_measure(run_grid, judge, figure_data, _settings)


def draw(evidence: Evidence[PruneData], axes: Sequence[Axes]) -> Caption:
    """Prunable fraction against alpha per method and ensemble; the ordering scatter."""
    d, s = evidence.data, evidence.data.params
    alphas, fr = d.alphas, d.fractions
    reps = fr.shape[1]
    for m, (panel, method) in enumerate(zip(axes[:3], METHODS, strict=True)):
        g_mean = fr[0, :, -1, m].mean()
        panel.axhline(g_mean, **PREDICTED, label="Gaussian value (prediction for one layer)")
        for e, (_, ensemble, _) in enumerate(ENSEMBLES):
            vals = fr[e, :, :, m]
            mean = vals.mean(axis=0)
            half = np.array([mean_interval(vals[:, a]).high - mean[a] for a in range(alphas.size)])
            if e < 2:
                tau, lo, hi = d.trend.estimate[e, m], d.trend.low[e, m], d.trend.high[e, m]
                label = f"{ensemble} (τ = {tau:.2f} [{lo:.2f}, {hi:.2f}])"
            else:
                dm, lo, hi = d.layer_diff.estimate[m], d.layer_diff.low[m], d.layer_diff.high[m]
                label = f"{ensemble} (minus Gaussian: {dm:+.3f} [{lo:+.3f}, {hi:+.3f}])"
            panel.errorbar(
                alphas + (e - 1) * 0.02, mean, yerr=half, color=PALETTE[e], label=label, **MEASURED
            )
        panel.set(
            xlabel="tail index alpha of the entries (2 = Gaussian)",
            ylabel=f"prunable fraction of {UNITS[method]}",
            title=f"{method} pruning, relative error ≤ {EPS:g}",
            ylim=(-0.02, 1.45),
        )
        panel.legend(loc="upper right", fontsize=6.5)  # above the data: y runs to 1.45
    scatter = axes[3]
    node, other = d.node_errors, d.other_errors
    scatter.plot([0, 1], [0, 1], **PREDICTED, label="bound: error ≤ node error")
    scatter.plot(
        node, other[:, 0], "o", color=PALETTE[3], markersize=3, label="magnitude (same j·d entries)"
    )
    scatter.plot(node, other[:, 1], "s", color=PALETTE[4], markersize=3, label="singular (rank j)")
    scatter.set(
        xlabel="node-pruning error, keeping j = n/10 columns",
        ylabel="error of the other method",
        title="Ordering on the same matrices",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    scatter.legend(loc="upper left", fontsize=6.5)
    level = evidence.checks[0].measurement.level
    return Caption(
        "prune.ensembles: heavy tails compress only with independent units\n"
        f"(τ and difference intervals: simultaneous, each at level {level:.4g}; "
        "error bars: 95% intervals of the mean)",
        f"d x n = {s.d} x {s.n} matrices, {reps} replicates per ensemble and alpha, "
        f"{s.n_boot} bootstrap resamples; ordering on the first replicate "
        "of each ensemble and alpha.",
    )


CLAIM = Claim(
    id="prune.ensembles",
    title="heavy tails compress only with independent units",
    statement=(
        "For a d x n layer with alpha-stable entries, the fraction that can be pruned at a "
        f"{EPS:.0%} relative Frobenius error rises as alpha falls when the entries are "
        "i.i.d. or the columns (hidden units) are i.i.d. elliptic vectors; when the whole "
        "layer is one elliptic vector (one random scale times a Gaussian matrix) it stays "
        "at the Gaussian value for every alpha: heavy tails without independence give no "
        f"compressibility. Checked for {and_list([METHOD_PROSE[m] for m in METHODS])} "
        f"pruning with alpha in {number_set(ALPHAS)}: each rise is a Kendall rank "
        "correlation between "
        "alpha and the prunable fraction over independent replicates whose bootstrap "
        "interval must lie below 0; the one-layer difference to independent Gaussian "
        "matrices must contain 0. On the same matrices, at matched budgets (node keeps j "
        "columns, magnitude the same j d entries, singular the rank j), magnitude error <= "
        "node error and singular error <= node error must hold for every matrix, up to "
        f"{ORDER_TOLERANCE:g} for rounding; these orderings are derived for every matrix, "
        "so they are sanity checks, no evidence for the verdict. The rises are trend "
        "checks. Controls: for each method a positive control, the same Kendall "
        f"correlation on {POSITIVE_PROSE} (the rise built in, which must be detected), and "
        f"a null control, the same correlation on {NULL_PROSE} (permuted labels: no "
        "association with alpha by construction, so its interval must not lie below 0); "
        "alternatives, the i.i.d.-columns gain predicted for the "
        "one-layer ensemble and the reversed orderings; and 'no rise' for each trend, the "
        "opposite rule on the same interval, shown as a mirror and not counted."
    ),
    formula=(
        "prunable(ε) = max{(N − k)/N : e(k) ≤ ε},  e = ‖W − W_k‖_F / ‖W‖_F;  "
        "τ(α, prunable) < 0 for i.i.d. entries or columns;  "
        "prunable(sqrt(A)·G) = prunable(G);  e_mag ≤ e_node,  e_svd ≤ e_node"
    ),
    source=(
        "docs/theory.md, section 2; Barsbey et al. (NeurIPS 2021) (i.i.d. columns); "
        "scale invariance of the relative error for one elliptic layer; ordering derived in "
        "docs/compressibility.md, section 4; one layer: section 6. Matrices from "
        "heavytail.theory's ensemble samplers."
    ),
    sizes=SIZES,
    measure=measure,
    draw=draw,
    layout=Layout(4, ncols=2, width=4.0, height=3.1),
)
