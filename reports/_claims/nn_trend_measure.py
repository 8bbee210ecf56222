"""Measurement of claim ``nn.trend``: Barsbey et al.'s protocol run through heavytail.nn,
the per-layer estimators side by side, and the correlations within each batch size.

The training (parameters, data, edge scan, the trained grid, each layer's estimates) is in
:mod:`.nn_trend_train`, the statistics in :mod:`.nn_trend_stats`. :func:`measure`
composes running the grid (:func:`run_grid`), judging (:func:`judge`) and the figure's
data (:func:`figure_data`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from heavytail._lib._types import FloatArray

from .._kit.book import CheckBook, Control, FigureData, Intervals, staged_measure
from .._kit.verdict import ControlKind, Measurement, Relation, Rule
from .nn_trend_stats import (
    UNINFORMATIVE,
    combined_spearman,
    median_interval,
    permuted_within,
)
from .nn_trend_train import (
    Trained,
    TrendSize,
    alpha_of,
    layer_estimates,
    resolve,
    synthetic_alpha,
    train_networks,
)

BoolArray = npt.NDArray[np.bool_]

#: Estimators, per layer: the papers' est_alpha on the rows as they report it (capped at
#: 2) and uncapped; "auto" on the column-centred entries; "auto" on the row norms.
ESTIMATORS = ("rows_capped", "rows", "entries", "norms")
ESTIMATOR_TEXT = {
    "rows_capped": "the papers' est_alpha on each layer's rows (rows = units; the output "
    "layer transposed; column medians subtracted): per row order, the median over their "
    "block sizes (2, 5, 10, 20, 50, 100, 500, 1000 up to n/2, rounded down to divisors, and "
    "the largest divisor <= sqrt(n)) of the multivariate block-sum estimate, capped at 2 "
    "within each order, then the median over 5 row orders; a point estimate, no interval "
    "(the papers give none)",
    "rows": "the same est_alpha without the cap at 2 (median over block sizes, then over "
    "the 5 orders); no interval",
    "entries": "heavytail's 'auto' on the column-centred entries, with its 95% interval "
    "(calibrated from 10,000 entries)",
    "norms": "'auto' on the row norms (the papers' alpha_hat_norms)",
}
#: The paper's estimator and the calibrated one, each checked separately.
PAPER_EST = "rows_capped"
CALIBRATED_EST = "entries"
#: Heavy tails: ell_2-compressibility needs alpha < 2 (Barsbey et al., Theorem 3). "auto"
#: reads a Gaussian layer of a network's shape a little below 2 (median 1.97 over 12 draws
#: of 256 x 256 entries, 11 of them below 2), so a layer is judged heavy-tailed against
#: Gaussian layers of its own shape read by the same estimator, not against 2: its median
#: alpha minus theirs must lie strictly below 0 (the largest float below 0: a difference
#: interval reaching 0 is not heavy).
HEAVY = 2.0
BELOW_GAUSSIAN = float(np.nextafter(0.0, -1.0))
#: Preconditions: share of converged networks, and how far each layer moved from its
#: initialisation (median over networks of ||W - W0|| / ||W0||): below 10% a layer is
#: still its random initialisation, whose tails say nothing about SGD.
MIN_CONVERGED = 0.8
MIN_DISTANCE = 0.1
#: Positive control: i.i.d. symmetric stable layers whose index falls linearly in
#: log(eta/b) across each batch size's grid from POS_ALPHA[0] to POS_ALPHA[1], the range
#: of Barsbey et al.'s Figure 1 (tail indices of about 1.4-2.0).
POS_ALPHA = (1.9, 1.4)
#: The tail-index check's reference, its null control (another set of Gaussian layers of
#: the same shape) and its positive control (i.i.d. stable layers at POS_ALPHA[0], the
#: lightest tail of Barsbey et al.'s Figure 1): NULL_TAIL_DRAWS layers each; 12 draws give
#: a median a finite order-statistic interval at levels up to 1 - 2^-11.
NULL_TAIL_DRAWS = 12

FALL = Rule(Relation.AT_MOST, 0.0, "")
HEAVY_RULE = Rule(Relation.AT_MOST, 0.0, "")


@dataclass(frozen=True, eq=False)
class Networks(FigureData):
    """One entry per network (batch size, then step size, then seed), per layer.

    Attributes
    ----------
    batch_size, eta_over_b, seed : ndarray, shape (networks,)
    converged : ndarray of bool, shape (networks,)
    gap : ndarray, shape (networks,)
        Train minus test accuracy of the averaged network.
    layers : tuple of str
    alpha : dict of str to Intervals, shape (networks, layers) each
        Per estimator (ESTIMATORS); the papers' est_alpha has no interval (low = high =
        the estimate), "auto" carries its bootstrap interval. NaN where the network did
        not converge.
    sample_size : dict of str to tuple of int
        Per estimator, each layer's sample size.
    below_calibrated : dict of str to tuple of bool
    prunable : ndarray, shape (networks, layers)
        Magnitude-prunable fraction at relative error EPS (NaN: not converged).
    distance : ndarray, shape (networks, layers)
        ||W - W0|| / ||W0|| of the averaged weights.
    """

    batch_size: npt.NDArray[np.int64]
    eta_over_b: FloatArray
    seed: npt.NDArray[np.int64]
    converged: BoolArray
    gap: FloatArray
    layers: tuple[str, ...]
    alpha: dict[str, Intervals]
    sample_size: dict[str, tuple[int, ...]]
    below_calibrated: dict[str, tuple[bool, ...]]
    prunable: FloatArray
    distance: FloatArray


@dataclass(frozen=True, eq=False)
class TrendJudged(FigureData):
    """What the judge measured.

    Attributes
    ----------
    checks : tuple of str
        Label of each correlation in ``correlations``.
    correlations : Intervals
    reported, reported_values
        The reported (two-sided and partial) correlations, by label.
    positive : Intervals
        The positive controls' correlations (per batch size, paper's then calibrated).
    preconditions : tuple of str
        The preconditions that failed.
    """

    checks: tuple[str, ...]
    correlations: Intervals
    reported: tuple[str, ...]
    reported_values: Intervals
    positive: Intervals
    preconditions: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class TrendData(Networks, TrendJudged):
    """The networks' estimates (:class:`Networks`), the judged correlations
    (:class:`TrendJudged`), each batch size's divergence edge and the parameters as run."""

    edges: dict[int, float]
    params: TrendSize


@dataclass(frozen=True)
class TrendGrid:
    """The trained networks' per-layer estimates, and the controls' synthetic layers.

    ``networks``: the estimates of every network (:class:`Networks`); ``gauss[j]`` and
    ``gauss_ref[j]``: "auto" on two sets of NULL_TAIL_DRAWS Gaussian layers of the shape of
    layer j (the tail check's null control and its reference); ``stable_pos[j]``: the same
    on i.i.d. stable layers at POS_ALPHA[0] (its positive control); ``synthetic[b]``:
    the positive control's stable layers of batch size b, read by the paper's and the
    calibrated estimator; ``permute_rng``: the generator of the null controls'
    permutations, drawn by the judge. ``params`` as run here (:func:`resolve`).
    """

    trained: Trained
    networks: Networks
    gauss: tuple[FloatArray, ...]
    gauss_ref: tuple[FloatArray, ...]
    stable_pos: tuple[FloatArray, ...]
    synthetic: dict[int, dict[str, FloatArray]]
    permute_rng: np.random.Generator
    params: TrendSize

    @property
    def batch_sizes(self) -> tuple[int, ...]:
        return tuple(sorted(set(int(b) for b in self.networks.batch_size)))


def run_grid(params: TrendSize, rng: np.random.Generator) -> TrendGrid:
    """Train the grid by the paper's protocol; estimate each layer's tails; draw the
    controls' synthetic layers."""
    from heavytail.nn import torch_threads

    params = resolve(params)
    seed0 = int(rng.integers(2**20))
    tails_rng, null_rng, pos_rng, gauss_rng = rng.spawn(4)
    with torch_threads(1):  # the same numbers on any machine; no oversubscription
        trained = train_networks(params, seed0)
        run = trained.run
        tails = layer_estimates(run, params, tails_rng)
    first = tails[0]
    layers = tuple(t.name for t in first)
    bsz = np.array(run.batch_sizes, dtype=np.int64)
    x_eta = np.array(run.etas) / bsz
    conv = run.converged
    alpha: dict[str, Intervals] = {}
    for est in ESTIMATORS:
        arr = np.array([[alpha_of(t, est) for t in net] for net in tails], dtype=np.float64)
        arr[~conv] = np.nan
        alpha[est] = Intervals(arr[..., 0], arr[..., 1], arr[..., 2])
    rows = tuple(t.n_rows for t in first)
    rows_below = tuple(t.rows_below_calibrated for t in first)
    prunable = np.array([[t.prunable["magnitude"] for t in net] for net in tails])
    prunable[~conv] = np.nan
    shapes = [(t.shape[0], int(np.prod(t.shape[1:]))) for t in first]

    def layers_of(alpha: float) -> tuple[FloatArray, ...]:
        return tuple(
            synthetic_alpha(np.full(NULL_TAIL_DRAWS, alpha), shape, (CALIBRATED_EST,), gauss_rng)[
                CALIBRATED_EST
            ]
            for shape in shapes
        )

    gauss = layers_of(2.0)
    # Positive control: the networks of b as i.i.d. stable layers of the shape of the
    # first hidden-to-hidden layer, alpha falling linearly in log(eta/b).
    width = rows[min(1, len(layers) - 1)]
    synthetic = {}
    for b in sorted(set(int(v) for v in bsz)):
        lx = np.log(x_eta[bsz == b])
        span = np.ptp(lx) if lx.size else 0.0
        frac = (lx - lx.min()) / span if span > 0 else np.zeros_like(lx)
        target = POS_ALPHA[0] + (POS_ALPHA[1] - POS_ALPHA[0]) * frac
        ests = (PAPER_EST, CALIBRATED_EST)
        synthetic[b] = synthetic_alpha(target, (width, width), ests, pos_rng)
    networks = Networks(
        batch_size=bsz,
        eta_over_b=x_eta,
        seed=np.array(run.seeds, dtype=np.int64),
        converged=conv,
        gap=np.array([r.generalization_gap for r in run.results], dtype=np.float64),
        layers=layers,
        alpha=alpha,
        sample_size={
            "rows_capped": rows,
            "rows": rows,
            "entries": tuple(t.entries_n for t in first),
            "norms": tuple(t.norms_n for t in first),
        },
        below_calibrated={
            "rows_capped": rows_below,
            "rows": rows_below,
            "entries": tuple(t.entries_below_calibrated for t in first),
            "norms": tuple(t.norms_below_calibrated for t in first),
        },
        prunable=prunable,
        distance=np.array(
            [[d[f"{name}.weight"] for name in layers] for d in run.distance], dtype=np.float64
        ),
    )
    # Drawn after the others, so that their streams are those of earlier versions.
    gauss_ref, stable_pos = layers_of(2.0), layers_of(POS_ALPHA[0])
    return TrendGrid(trained, networks, gauss, gauss_ref, stable_pos, synthetic, null_rng, params)


def preconditions(grid: TrendGrid) -> tuple[FloatArray | None, tuple[str, ...]]:
    """Each layer's median distance from init over converged networks (None: none
    converged), and the preconditions that failed, in words."""
    nets = grid.networks
    conv = nets.converged
    moved = (
        np.nanmedian(np.where(conv[:, None], nets.distance, np.nan), axis=0) if conv.any() else None
    )
    failed = []
    if float(conv.mean()) < MIN_CONVERGED:
        failed.append(
            f"{int(conv.sum())} of {conv.size} networks converged, fewer than {MIN_CONVERGED:.0%}"
        )
    if moved is not None and np.any(~(moved >= MIN_DISTANCE)):
        failed.append(
            "a layer's median ||W - W0|| / ||W0|| is below "
            f"{MIN_DISTANCE:g}: the weights did not move from their initialisation"
        )
    return moved, tuple(failed)


def minus_gaussian(values: FloatArray, gaussian: FloatArray, *, level: float) -> Measurement:
    """The median of ``values`` minus that of ``gaussian`` (the estimator on Gaussian layers
    of the same shape), with an interval at ``level``.

    Each median's order-statistic interval is taken at sqrt(level): the two sets are drawn
    independently, so both cover together with probability at least level, and then the
    difference interval [low - high_ref, high - low_ref] covers the difference.
    """
    half = math.sqrt(level)
    m, ref = median_interval(values, level=half), median_interval(gaussian, level=half)
    return Measurement(m.estimate - ref.estimate, m.low - ref.high, m.high - ref.low, level=level)


#: The estimators of the fall checks, as their labels name them.
FALL_ESTIMATORS = ((PAPER_EST, "paper's est_alpha, capped"), (CALIBRATED_EST, "auto"))


def _labels(tag: str, below: bool) -> tuple[str, str, str, str]:
    """The four checks of one batch size and layer: the falls (paper's, auto), pruning,
    heavy tails."""
    heavy = f"{tag}: heavy tails: median α (auto) minus that of Gaussian layers of its shape"
    if below:
        heavy += " (below auto's calibrated range: not judged)"
    paper, auto = (f"{tag}: α ({what}) falls with η/b: ρ(η/b, α)" for _, what in FALL_ESTIMATORS)
    return paper, auto, f"{tag}: heavier tails prune more: ρ(α auto, prunable)", heavy


def judge(grid: TrendGrid, book: CheckBook) -> TrendJudged:
    """Within each batch size and layer: the two falls and the pruning trend with their
    controls, the tail-index check, and the reported correlations."""
    nets = grid.networks
    below = nets.below_calibrated[CALIBRATED_EST]
    tags = {
        (b, j): f"b = {b}, {name}" for b in grid.batch_sizes for j, name in enumerate(nets.layers)
    }
    level = book.declare(label for (_, j), tag in tags.items() for label in _labels(tag, below[j]))
    _, failed = preconditions(grid)
    x_eta, seed, rng = nets.eta_over_b, nets.seed, grid.permute_rng
    labels: list[str] = []
    values: list[Measurement] = []
    rep_labels: list[str] = []
    rep_values: list[Measurement] = []
    positives: list[Measurement] = []

    def gated(m: Measurement) -> Measurement:
        """A failed precondition makes a trend check's interval uninformative."""
        return Measurement(m.estimate, *UNINFORMATIVE, level=m.level) if failed else m

    hidden = min(1, len(nets.layers) - 1)
    for b in grid.batch_sizes:
        in_b = (nets.batch_size == b) & nets.converged
        all_b = nets.batch_size == b
        pos: dict[str, Measurement] = {}
        for est, _ in FALL_ESTIMATORS:
            syn = grid.synthetic[b][est]
            pos[est] = combined_spearman(x_eta[all_b], syn, seed[all_b], level=level)
            positives.append(pos[est])
        for j in range(len(nets.layers)):
            *falls, prune_label, heavy_label = _labels(tags[b, j], below[j])
            for label, (est, what) in zip(falls, FALL_ESTIMATORS, strict=True):
                y = nets.alpha[est].estimate[in_b, j]
                m = combined_spearman(x_eta[in_b], y, seed[in_b], level=level)
                null = combined_spearman(
                    permuted_within(x_eta[in_b], seed[in_b], rng), y, seed[in_b], level=level
                )
                controls = [
                    Control(f"{label}; null: η/b permuted within seed", 0.0, null, ControlKind.NULL)
                ]
                if j == hidden:
                    controls.append(
                        Control(
                            f"b = {b}: positive: i.i.d. stable layers, α {POS_ALPHA[0]:g} → "
                            f"{POS_ALPHA[1]:g} over the grid ({what})",
                            0.0,
                            pos[est],
                            ControlKind.POSITIVE,
                        )
                    )
                book.check(label, 0.0, gated(m), FALL, *controls, trend=True)
                labels.append(label)
                values.append(m)
            a_cal = nets.alpha[CALIBRATED_EST].estimate[in_b, j]
            pr = nets.prunable[in_b, j]
            m = combined_spearman(a_cal, pr, seed[in_b], level=level)
            null = combined_spearman(
                permuted_within(a_cal, seed[in_b], rng), pr, seed[in_b], level=level
            )
            book.check(
                prune_label,
                0.0,
                gated(m),
                FALL,
                Control(
                    f"{prune_label}; null: α permuted within seed", 0.0, null, ControlKind.NULL
                ),
                trend=True,
            )
            labels.append(prune_label)
            values.append(m)
            # Tail-index check: median over the networks of the calibrated estimate, minus
            # that of Gaussian layers of the same shape.
            heavy = minus_gaussian(a_cal, grid.gauss_ref[j], level=level)
            if below[j]:
                # "auto" has no measured coverage below 10,000 entries: shown, not judged.
                heavy = Measurement(heavy.estimate, -math.inf, math.inf, level=level)
            book.check(
                heavy_label,
                BELOW_GAUSSIAN,
                heavy,
                HEAVY_RULE,
                Control(
                    f"{heavy_label}; null: another set of Gaussian layers",
                    BELOW_GAUSSIAN,
                    minus_gaussian(grid.gauss[j], grid.gauss_ref[j], level=level),
                    ControlKind.NULL,
                ),
                Control(
                    f"{heavy_label}; positive: i.i.d. stable layers, α {POS_ALPHA[0]:g}",
                    BELOW_GAUSSIAN,
                    minus_gaussian(grid.stable_pos[j], grid.gauss_ref[j], level=level),
                    ControlKind.POSITIVE,
                ),
            )
            # Reported two-sided, and partial correlations.
            g = np.where(nets.converged, nets.gap, np.nan)[in_b]
            d = nets.distance[in_b, j]
            for text, xv, yv, given in (
                ("ρ(α auto, gap)", a_cal, g, None),
                ("partial ρ(α, prunable | η/b)", a_cal, pr, x_eta[in_b]),
                ("partial ρ(α, prunable | distance)", a_cal, pr, d),
                ("partial ρ(α, gap | η/b)", a_cal, g, x_eta[in_b]),
                ("partial ρ(α, gap | distance)", a_cal, g, d),
                ("ρ(η/b, distance)", x_eta[in_b], d, None),
            ):
                rep_labels.append(f"{tags[b, j]}: {text}")
                rep_values.append(combined_spearman(xv, yv, seed[in_b], level=level, given=given))
    return TrendJudged(
        tuple(labels),
        Intervals.of(values),
        tuple(rep_labels),
        Intervals.of(rep_values),
        Intervals.of(positives),
        failed,
    )


def figure_data(grid: TrendGrid, judged: TrendJudged) -> TrendData:
    """The per-network estimates and the judged correlations."""
    return TrendData(
        **{f.name: getattr(grid.networks, f.name) for f in dataclasses.fields(Networks)},
        **{f.name: getattr(judged, f.name) for f in dataclasses.fields(TrendJudged)},
        edges={int(b): float(e.edge) for b, e in grid.trained.edges.items()},
        params=grid.params,
    )


def _settings(grid: TrendGrid, judged: TrendJudged) -> dict[str, Any]:
    """What results.json records beyond the parameters."""
    nets = grid.networks
    trained, layers, below = grid.trained, nets.layers, nets.below_calibrated
    moved, _ = preconditions(grid)
    rep = judged.reported_values
    return dict(
        data_source=trained.source,
        device=trained.device,
        estimators={k: ESTIMATOR_TEXT[k] for k in ESTIMATORS},
        sample_sizes={
            name: {k: int(nets.sample_size[k][j]) for k in ("rows", "entries", "norms")}
            for j, name in enumerate(layers)
        },
        below_calibrated_range={
            name: [k for k in ("rows", "entries", "norms") if below[k][j]]
            for j, name in enumerate(layers)
        },
        edges={str(b): float(e.edge) for b, e in trained.edges.items()},
        edge_rule=next(iter(trained.edges.values())).rule,
        grid={str(b): list(trained.grid.etas(b)) for b in grid.batch_sizes},
        eta_over_b_decades=float(trained.grid.span_decades),
        networks=nets.converged.size,
        converged=int(nets.converged.sum()),
        median_distance_from_init={
            name: float(moved[j]) if moved is not None else math.nan
            for j, name in enumerate(layers)
        },
        preconditions="met" if not judged.preconditions else "; ".join(judged.preconditions),
        correlation=(
            "within b and layer: Spearman rho per seed, mean over seeds weighted by n_s, "
            "normal interval with the null variance 1/(n_s - 1 - k) per seed"
        ),
        reported={
            lab: [float(e), float(lo), float(hi)]
            for lab, e, lo, hi in zip(judged.reported, rep.estimate, rep.low, rep.high, strict=True)
        },
        train_seconds=float(trained.run.seconds),
    )


#: Train the grid by the paper's protocol; estimate each layer's tails; correlate. The
#: book records the parameters as run here (``grid.params``, :func:`resolve`).
measure = staged_measure(run_grid, judge, figure_data, _settings)


def network_count(data: TrendData) -> tuple[int, int]:
    """(converged, all) networks."""
    return int(data.converged.sum()), int(data.converged.size)


def layer_table(data: TrendData) -> list[dict[str, Any]]:
    """Per batch size and layer: the medians over converged networks of each estimator,
    the prunable fraction and the distance from init, with the sample sizes."""
    rows = []
    for b in sorted(set(int(v) for v in data.batch_size)):
        m = (data.batch_size == b) & data.converged
        for j, name in enumerate(data.layers):
            row: dict[str, Any] = {"b": b, "layer": name}
            for est in ESTIMATORS:
                v = data.alpha[est].estimate[m, j]
                v = v[np.isfinite(v)]
                row[est] = (float(np.median(v)), float(v.min()), float(v.max())) if v.size else None
                row[f"{est}_n"] = data.sample_size[est][j]
                row[f"{est}_below"] = data.below_calibrated[est][j]
            row["prunable"] = float(np.nanmedian(data.prunable[m, j])) if m.any() else math.nan
            row["distance"] = float(np.nanmedian(data.distance[m, j])) if m.any() else math.nan
            rows.append(row)
    return rows
