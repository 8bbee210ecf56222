"""Claim ``meanfield.sgd_heavy``: Barsbey et al.'s assumptions, measured on plain SGD below
the divergence edge: a stationary law, heavy tails, independent units."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy import stats

from heavytail._lib._validation import check_int
from heavytail.simulate import MeanFieldData, MeanFieldRecording, MeanFieldRun, mean_field_sgd
from heavytail.theory import (
    DivergenceWarning,
    InvalidArgumentError,
    estimate_tail_index,
    prunable_fraction,
    sample_stable,
)

from .._kit.book import CheckBook, Control, FigureData, Intervals, number_set
from .._kit.claim import Caption, Claim, Evidence, Layout, default_findings
from .._kit.stats import family_level, kendall_trend
from .._kit.style import MEASURED, PALETTE, PREDICTED
from .._kit.verdict import ControlKind, Measurement, Relation, Rule
from .meanfield_stats import scaled_variance, variance_slope

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CLAIM", "SgdHeavyData", "SgdHeavySize", "findings", "ks_distance", "tail_interval"]

FloatArray = npt.NDArray[np.float64]

# The network and its training are those of meanfield.chaos (docs/theory.md, section 6):
# tanh units, both layers trained on the squared loss, Gaussian inputs, batches shared by
# the replicates, no injected noise; online (a fresh batch every step).
#: Input dimension: Gürbüzbalaban et al. find heavier tails as d grows at fixed eta / b.
DIM = 32
BATCH = 8
#: Step sizes eta (eta / b from 1/16 to 1.25), all below the divergence edge. A scan of
#: 1000-step runs at d = 32 before the claim was written: up to eta / b = 1.25 the
#: weights stay below a few hundred; at 1.5 they reach 1e3 and grow; at 2, 1e19; at 3
#: every replicate leaves the double range. The edge, eta / b >= EDGE, is excluded.
ETAS = (0.5, 2.0, 4.0, 8.0, 10.0)
EDGE = 1.5
#: Weights above this at any step size mean the grid reached the edge: the run stops.
WEIGHT_CEILING = 1e4
#: The network's output is probed at this many fixed inputs (the chaos statistic).
N_PROBE = 8
#: Relative error of the prunable fraction.
EPS = 0.1
#: Stationarity: the laws of the unit norms at T and 2T agree when their two-sample
#: Kolmogorov-Smirnov distance is at most KS_MAX.
KS_MAX = 0.05
_KS_REASON = (
    "a distance of 0.05 moves no quantile's probability by more than 5 points; it is "
    "three times the 95% two-sample critical value 1.36 sqrt(2/N) of N = 16,384 "
    "independent units, which leaves room for the dependence of units within a replicate"
)
#: The heavy-tail limit: a tail index below 2 (an infinite variance, the stable regime).
HEAVY_BELOW = 2.0
#: Controls of the tail-index and pruning trends: i.i.d. stable units whose index falls
#: over the grid (positive) or stays fixed (null), through the same estimator.
CONTROL_ALPHAS = (1.9, 1.7, 1.5, 1.3, 1.1)
NULL_ALPHA = 1.5
#: Positive control of the heavy-tail check: norms of i.i.d. stable vectors of this index,
#: as many as the pooled norms. At 1.5 the estimator's interval on norms of 32-vectors,
#: widened to the claim's level, reaches past 2 (the body of a sum of 32 coordinates
#: biases the tail estimate up at this count), so the control uses an index the pipeline
#: can tell from 2 at this count.
POSITIVE_ALPHA = 1.2


@dataclass(frozen=True)
class SgdHeavySize:
    """Parameters of one size of ``meanfield.sgd_heavy``.

    Attributes
    ----------
    widths : tuple of int
        Widths n, increasing (at least two): the chaos statistic is fitted over them;
        everything else is measured at the widest.
    etas : tuple of float
        Step sizes, increasing (at least three), all below the edge; batch size 8.
    replicates : int
        R networks per (step size, width), on shared batches; every step size and width
        is run with the same seed (paired).
    n_steps : int
        T: the runs last 2T steps, and the norms at T and at 2T are compared.
    n_boot : int
        Bootstrap resamples (replicates resampled whole).
    """

    widths: tuple[int, ...]
    etas: tuple[float, ...]
    replicates: int
    n_steps: int
    n_boot: int

    def __post_init__(self) -> None:
        if len(self.widths) < 2 or any(b <= a for a, b in itertools.pairwise(self.widths)):
            raise InvalidArgumentError("`widths` must hold two or more increasing widths")
        if len(self.etas) < 3 or any(b <= a for a, b in itertools.pairwise(self.etas)):
            raise InvalidArgumentError("`etas` must hold three or more increasing step sizes")
        if self.etas[-1] / BATCH >= EDGE:
            raise InvalidArgumentError(
                f"`etas` must stay below the divergence edge eta / b = {EDGE:g}"
            )
        for n in self.widths:
            check_int(n, "widths[i]", low=100)  # the tail estimator needs 100 units
        check_int(self.replicates, "replicates", low=8)
        check_int(self.n_steps, "n_steps", low=1)
        check_int(self.n_boot, "n_boot", low=100)


SIZES = {
    "smoke": SgdHeavySize((100, 128), ETAS, 8, 50, 100),
    "quick": SgdHeavySize((128, 256, 1024), ETAS, 16, 500, 200),
    "full": SgdHeavySize((128, 256, 1024, 4096), ETAS, 32, 2_000, 1_000),
}

STATIONARY_RULE = Rule(Relation.AT_MOST, 0.0, "")
HEAVY_RULE = Rule(Relation.AT_MOST, 0.0, "")
FALL_RULE = Rule(Relation.AT_MOST, 0.0, "")
RISE_RULE = Rule(Relation.AT_LEAST, 0.0, "")
CHAOS_RULE = Rule(
    Relation.EQUAL,
    0.0,
    "",
    max_width=1.0,
    width_reason=(
        "an interval wider than 1, the distance from the predicted slope 0 to each "
        "control's slope ±1, could hold 0 and a control together (as in meanfield.chaos)"
    ),
)
#: The slopes of the chaos controls: units that stay correlated, and 1/n fluctuations.
CONTROL_SLOPES = (1.0, -1.0)


def ks_distance(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """The two-sample Kolmogorov-Smirnov distance sup_t |F_x(t) - F_y(t)|."""
    a, b = np.sort(np.ravel(x)), np.sort(np.ravel(y))
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / a.size
    fb = np.searchsorted(b, grid, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


def _ks_interval(
    first: FloatArray, second: FloatArray, level: float, n_boot: int, rng: np.random.Generator
) -> Measurement:
    """KS distance between the pooled rows of ``first`` and of ``second`` (replicate,
    unit), less KS_MAX, with a percentile bootstrap over replicates resampled whole (the
    same replicates in both)."""
    est = ks_distance(first, second)
    reps = first.shape[0]
    boot = np.empty(n_boot)
    for j in range(n_boot):
        pick = rng.integers(0, reps, size=reps)
        boot[j] = ks_distance(first[pick], second[pick])
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return Measurement(est - KS_MAX, min(lo, est) - KS_MAX, max(hi, est) - KS_MAX, level=level)


def tail_interval(norms: npt.ArrayLike, level: float, rng: np.random.Generator) -> Measurement:
    """estimate_tail_index (auto) with its 95% interval widened to ``level``, each side
    on the log scale by z((1 + level)/2) / z(0.975), as meanfield.noise_compress does."""
    est = estimate_tail_index(np.ravel(norms), rng=rng)
    factor = float(stats.norm.ppf(0.5 + level / 2.0) / stats.norm.ppf(0.975))
    low, high = est.ci
    return Measurement(
        est.alpha,
        est.alpha * (max(low, 0.0) / est.alpha) ** factor,
        est.alpha * (high / est.alpha) ** factor,
        level=level,
    )


def _alpha(norms: FloatArray, rng: np.random.Generator) -> float:
    return float(estimate_tail_index(norms, rng=rng).alpha)


@dataclass(frozen=True, eq=False)
class SgdHeavyData(FigureData):
    """Per step size and replicate: the measurements at the widest width.

    Attributes
    ----------
    eta_over_b : ndarray
    widths : ndarray of int
    ks : Intervals, shape (eta,)
        KS distance between the pooled unit norms at T and at 2T, less KS_MAX.
    tail : Intervals, shape (eta,)
        Tail index (auto) of the pooled norms at 2T, at the claim's level.
    alpha : ndarray, shape (replicate, eta)
        Tail index (auto) of each replicate's norms at 2T.
    prunable : ndarray, shape (replicate, eta)
        Fraction of units node pruning removes at relative Frobenius error EPS.
    chaos_eta : float
        The eta / b where chaos was checked (NaN: no stationary law, not checked).
    chaos : ndarray, shape (3,)
        The chaos slope: estimate, low, high (NaN when not checked).
    max_weight : ndarray, shape (eta,)
        The largest |w_ij| at 2T.
    quantiles : ndarray, shape (eta, 2, 3)
        Quartiles of the pooled norms at T and at 2T.
    params : SgdHeavySize
    """

    eta_over_b: FloatArray
    widths: npt.NDArray[np.int64]
    ks: Intervals
    tail: Intervals
    alpha: FloatArray
    prunable: FloatArray
    chaos_eta: float
    chaos: FloatArray
    max_weight: FloatArray
    quantiles: FloatArray
    params: SgdHeavySize


def _train(
    params: SgdHeavySize, eta: float, n: int, seed: int, steps: tuple[int, ...] = ()
) -> MeanFieldRun:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)  # counted in the result
        return mean_field_sgd(
            n,
            DIM,
            eta=eta,
            batch_size=BATCH,
            n_steps=2 * params.n_steps,
            n_replicates=params.replicates,
            data=MeanFieldData(batches="shared", test_size=0),
            record=MeanFieldRecording(weight_steps=steps) if steps else None,
            rng=seed,
        )


def _initial_norms(params: SgdHeavySize, n: int, seed: int) -> FloatArray:
    """Unit norms of the simulator's initialisation (step 0 of a one-step run)."""
    run = mean_field_sgd(
        n,
        DIM,
        eta=1e-3,
        batch_size=BATCH,
        n_steps=1,
        n_replicates=params.replicates,
        data=MeanFieldData(test_size=0),
        record=MeanFieldRecording(weight_steps=(0,)),
        rng=seed,
    )
    assert run.w_records is not None
    return run.unit_norms(run.w_records[:, 0])


def _stable_units(
    alphas: Sequence[float], reps: int, n: int, rng: np.random.Generator
) -> FloatArray:
    """I.i.d. symmetric stable layers, shape (replicate, alpha, n, d)."""
    out = np.empty((reps, len(alphas), n, DIM))
    for r, (j, a) in itertools.product(range(reps), enumerate(alphas)):
        out[r, j] = sample_stable(a, (n, DIM), rng=rng)
    return out


def measure(params: SgdHeavySize, rng: np.random.Generator) -> Evidence[SgdHeavyData]:
    """Train the grid; measure stationarity, tails, pruning, and chaos where stationary."""
    etas, ns, reps = np.array(params.etas), np.array(params.widths), params.replicates
    x_eta = etas / BATCH
    n_max, t = int(ns[-1]), params.n_steps
    seed, init_seed = (int(s) for s in rng.integers(2**63, size=2))
    probe_rng, boot_rng, est_rng, ctl_rng = rng.spawn(4)
    x_probe = probe_rng.standard_normal((N_PROBE, DIM))

    first = np.empty((etas.size, reps, n_max))
    second = np.empty_like(first)
    alpha = np.empty((reps, etas.size))
    prunable = np.empty_like(alpha)
    max_weight = np.empty(etas.size)
    widest_out = np.empty((etas.size, reps, N_PROBE))
    for e, eta in enumerate(params.etas):
        run = _train(params, eta, n_max, seed, steps=(t,))
        if run.n_diverged or not np.all(np.isfinite(run.w)):
            raise RuntimeError(f"replicates diverged at eta / b = {eta / BATCH:g}: past the edge")
        max_weight[e] = float(np.max(np.abs(run.w)))
        if max_weight[e] > WEIGHT_CEILING:
            raise RuntimeError(
                f"weights reach {max_weight[e]:.3g} at eta / b = {eta / BATCH:g}: the grid "
                "reaches the edge of divergence"
            )
        assert run.w_records is not None
        first[e] = run.unit_norms(run.w_records[:, 0])
        second[e] = run.unit_norms()
        widest_out[e] = run.outputs(x_probe)
        for r in range(reps):
            alpha[r, e] = _alpha(second[e, r], est_rng)
            prunable[r, e] = prunable_fraction(run.w[r].T, EPS, "node")

    # Chaos is checked only where a stationary law exists: at the largest eta / b whose
    # KS distance (point estimate) is at most KS_MAX. Decided before the intervals, so
    # that the family's level is fixed by the number of checks actually made.
    ks_hat = np.array([ks_distance(first[e], second[e]) for e in range(etas.size)])
    stationary = np.flatnonzero(ks_hat <= KS_MAX)
    chaos_at = int(stationary[-1]) if stationary.size else None
    n_checks = 4 + (chaos_at is not None)
    level = family_level(n_checks)
    book = CheckBook(params, n_checks=n_checks)
    assert book.level == level

    ks = [
        _ks_interval(first[e], second[e], level, params.n_boot, boot_rng) for e in range(etas.size)
    ]
    best = int(np.argmin(ks_hat))
    init_a = _initial_norms(params, n_max, init_seed)
    init_b = _initial_norms(params, n_max, init_seed + 1)
    book.check(
        f"stationary law below the edge: KS(norms at T, at 2T) - {KS_MAX:g} at the most "
        f"stationary η/b = {x_eta[best]:g}",
        0.0,
        ks[best],
        STATIONARY_RULE,
        Control(
            "two independent initialisations (one law)",
            0.0,
            _ks_interval(init_a, init_b, level, params.n_boot, boot_rng),
            ControlKind.POSITIVE,
        ),
        Control(
            f"initialisation vs step T at η/b = {x_eta[0]:g} (not stationary)",
            0.0,
            _ks_interval(init_a, first[0], level, params.n_boot, boot_rng),
            ControlKind.NULL,
        ),
    )

    # Heavy tails, on its own: at the eta / b where chaos is checked, else at the
    # heaviest one below the edge.
    tail_at = etas.size - 1 if chaos_at is None else chaos_at
    tails = [tail_interval(second[e], level, est_rng) for e in range(etas.size)]
    shift = lambda m: Measurement(  # noqa: E731
        m.estimate - HEAVY_BELOW, m.low - HEAVY_BELOW, m.high - HEAVY_BELOW, level=m.level
    )
    pos_norms = np.linalg.norm(_stable_units((POSITIVE_ALPHA,), reps, n_max, ctl_rng), axis=-1)
    gauss_norms = np.linalg.norm(ctl_rng.standard_normal((reps, n_max, DIM)), axis=-1)
    book.check(
        f"heavy tails at η/b = {x_eta[tail_at]:g}: tail index (auto) of the norms at 2T "
        f"- {HEAVY_BELOW:g}",
        0.0,
        shift(tails[tail_at]),
        HEAVY_RULE,
        Control(
            f"norms of i.i.d. {POSITIVE_ALPHA:g}-stable units",
            0.0,
            shift(tail_interval(pos_norms, level, est_rng)),
            ControlKind.POSITIVE,
        ),
        Control(
            "norms of i.i.d. Gaussian units",
            0.0,
            shift(tail_interval(gauss_norms, level, est_rng)),
            ControlKind.NULL,
        ),
    )

    # Trends in eta / b, with controls through the same estimators on i.i.d. stable units.
    ctl = _stable_units(CONTROL_ALPHAS, reps, n_max, ctl_rng)
    null = _stable_units((NULL_ALPHA,) * len(CONTROL_ALPHAS), reps, n_max, ctl_rng)
    ctl_alpha = np.array(
        [[_alpha(np.linalg.norm(u, axis=-1), est_rng) for u in row] for row in ctl]
    )
    null_alpha = np.array(
        [[_alpha(np.linalg.norm(u, axis=-1), est_rng) for u in row] for row in null]
    )
    ctl_prune = np.array([[prunable_fraction(u.T, EPS, "node") for u in row] for row in ctl])
    null_prune = np.array([[prunable_fraction(u.T, EPS, "node") for u in row] for row in null])
    x_c = np.arange(len(CONTROL_ALPHAS), dtype=np.float64)  # index falls along the row

    def tau(x: FloatArray, y: FloatArray) -> Measurement:
        return kendall_trend(x, y, level=level, n_boot=params.n_boot, rng=boot_rng)

    tau_alpha = tau(x_eta, alpha)
    book.check(
        "tail index (auto) of ‖w_i‖ falls with η/b: Kendall τ",
        0.0,
        tau_alpha,
        FALL_RULE,
        Control(
            "i.i.d. stable units, index falling 1.9 to 1.1",
            0.0,
            tau(x_c, ctl_alpha),
            ControlKind.POSITIVE,
        ),
        Control(
            f"i.i.d. stable units, index fixed at {NULL_ALPHA:g}",
            0.0,
            tau(x_c, null_alpha),
            ControlKind.NULL,
        ),
        trend=True,
    )
    tau_prune = tau(x_eta, prunable)
    book.check(
        f"prunable fraction at {EPS:.0%} error rises with η/b: Kendall τ",
        0.0,
        tau_prune,
        RISE_RULE,
        Control(
            "i.i.d. stable units, index falling 1.9 to 1.1",
            0.0,
            tau(x_c, ctl_prune),
            ControlKind.POSITIVE,
        ),
        Control(
            f"i.i.d. stable units, index fixed at {NULL_ALPHA:g}",
            0.0,
            tau(x_c, null_prune),
            ControlKind.NULL,
        ),
        trend=True,
    )

    chaos_iv: list[Measurement] = []
    chaos_eta = math.nan
    if chaos_at is not None:
        chaos_eta = float(x_eta[chaos_at])
        outs = []
        for n in ns[:-1]:
            outs.append(_train(params, params.etas[chaos_at], int(n), seed).outputs(x_probe))
        outs.append(widest_out[chaos_at])
        svs = [scaled_variance(o, int(n)) for o, n in zip(outs, ns, strict=True)]
        chaos_iv.append(variance_slope(svs, level, paired=True).slope)
        book.check(
            f"units independent at η/b = {chaos_eta:g} (stationary): slope of log n Var",
            0.0,
            chaos_iv[0],
            CHAOS_RULE,
            *(Control(f"control: slope {s:+g}", s) for s in CONTROL_SLOPES),
        )

    quantiles = np.stack(
        [
            np.quantile(first.reshape(etas.size, -1), [0.25, 0.5, 0.75], axis=1).T,
            np.quantile(second.reshape(etas.size, -1), [0.25, 0.5, 0.75], axis=1).T,
        ],
        axis=1,
    )
    data = SgdHeavyData(
        eta_over_b=x_eta,
        widths=ns.astype(np.int64),
        ks=Intervals.of(ks),
        tail=Intervals.of(tails),
        alpha=alpha,
        prunable=prunable,
        chaos_eta=chaos_eta,
        chaos=np.array([[m.estimate, m.low, m.high] for m in chaos_iv] or [[math.nan] * 3]).ravel(),
        max_weight=max_weight,
        quantiles=quantiles,
        params=params,
    )
    return book.evidence(
        data,
        dim=DIM,
        batch_size=BATCH,
        edge=f"η/b >= {EDGE:g} excluded",
        ks_max=KS_MAX,
        eps=EPS,
        model=(
            "f(x) = (1/n) Σ a_i tanh(w_i·x), both layers trained, squared loss, Gaussian "
            "inputs, default teacher, label noise 0.1, fresh batches shared by the "
            "replicates, no injected noise"
        ),
        tail_estimator="estimate_tail_index(auto), 95% interval widened to the level",
        trend="Kendall tau-b over (η/b, replicate), replicates resampled whole",
    )


def findings(evidence: Evidence[SgdHeavyData]) -> str:
    """What the run found, from its numbers."""
    d = evidence.data
    x = d.eta_over_b
    ks = ", ".join(f"{v + KS_MAX:.3g}" for v in d.ks.estimate)
    tails = ", ".join(f"{v:.3g}" for v in d.tail.estimate)
    parts = [
        default_findings(evidence),
        f"KS distance of the norms' laws at T and 2T at η/b = {number_set(x)}: {ks} "
        f"(stationary if at most {KS_MAX:g}).",
        f"Tail index (auto) of the pooled norms at 2T: {tails}.",
        f"Median prunable fraction: {', '.join(f'{v:.2f}' for v in np.median(d.prunable, 0))}.",
    ]
    if math.isnan(d.chaos_eta):
        parts.append(
            "No η/b below the edge has a stationary law by the diagnostic, so chaos was "
            "not checked."
        )
    else:
        est, lo, hi = d.chaos
        parts.append(
            f"Chaos checked at η/b = {d.chaos_eta:g}: slope {est:.3g} [{lo:.3g}, {hi:.3g}]."
        )
    parts.append(f"Largest |w_ij| over the grid: {np.max(d.max_weight):.3g}.")
    return " ".join(parts)


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
    ks_ax.set(
        xscale="log",
        yscale="log",
        xlabel="η / b",
        ylabel="two-sample KS distance",
        title="Stationarity diagnostic (bootstrap over replicates)",
    )
    ks_ax.legend(loc="upper left", fontsize=6.5)
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
    tail_ax.set(
        xscale="log",
        yscale="log",
        xlabel="η / b",
        ylabel="tail index of ‖w_i‖",
        title=f"Tail index, n = {d.widths[-1]}, d = {DIM}",
    )
    tail_ax.legend(loc="upper right", fontsize=6.5)
    lo, med, hi = np.quantile(d.prunable, [0.25, 0.5, 0.75], axis=0)
    prune_ax.errorbar(
        x, med, yerr=[med - lo, hi - med], color=PALETTE[3], label="median, quartiles", **MEASURED
    )
    prune_ax.set(
        xscale="log",
        xlabel="η / b",
        ylabel=f"prunable fraction at {EPS:.0%} error",
        title="Node pruning",
    )
    prune_ax.legend(loc="upper left", fontsize=6.5)
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
    q_ax.set(
        xscale="log",
        yscale="log",
        xlabel="η / b",
        ylabel="‖w_i‖",
        title="Norms at T and 2T (median, quartiles)",
    )
    q_ax.legend(loc="upper left", fontsize=6.5)
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


_QUICK = SIZES["quick"]

CLAIM = Claim(
    id="meanfield.sgd_heavy",
    title="Barsbey et al.'s assumptions on plain SGD, below the divergence edge",
    statement=(
        "Barsbey et al. assume that SGD with a large step-to-batch ratio η/b drives a "
        "mean-field network to a heavy-tailed stationary law while its units stay "
        "independent, and conclude that such networks prune better. Each assumption is "
        "measured on its own, on plain SGD with no injected noise, on the network of "
        f"meanfield.chaos in d = {DIM} (Gürbüzbalaban et al. find heavier tails as d grows "
        "at fixed η/b): f(x) = (1/n) Σ a_i tanh(w_i·x), both layers trained on the "
        f"squared loss, Gaussian inputs, fresh batches of b = {BATCH} shared by "
        f"{_QUICK.replicates} replicates, runs of 2T steps (T = {_QUICK.n_steps} at quick "
        f"size), η/b in {number_set(e / BATCH for e in ETAS)}, n in "
        f"{number_set(_QUICK.widths)}. The divergence edge is excluded explicitly: a "
        f"scan before the claim found the weights growing without bound from η/b = "
        f"{EDGE:g} (no stationary law there), and a run whose weights pass "
        f"{WEIGHT_CEILING:.0e} stops the claim. Checks: (1) stationarity, the two-sample "
        "Kolmogorov-Smirnov distance between the pooled unit norms ‖w_i‖ at T and at 2T "
        f"is at most {KS_MAX:g} at the most stationary η/b, bootstrap interval over "
        "replicates (positive control: two independent initialisations, one law; null "
        "control: the initialisation against step T, not stationary); (2) heavy tails, "
        "the tail index of the pooled norms at 2T by the calibrated estimator "
        "estimate_tail_index(auto), its interval widened to the claim's level, lies "
        f"below {HEAVY_BELOW:g} (positive control: norms of i.i.d. {POSITIVE_ALPHA:g}-stable "
        "units; null control: Gaussian units); (3) the per-replicate tail index falls "
        f"and (4) the fraction of units node pruning removes at {EPS:.0%} error rises with "
        "η/b, Kendall τ over (η/b, replicate) (positive control: i.i.d. stable units with "
        "an index falling from 1.9 to 1.1 over the grid; null control: the index fixed at "
        f"{NULL_ALPHA:g}); (5) independence, checked only where a stationary law exists: at "
        "the largest η/b whose KS distance is at most the threshold, the chaos statistic "
        "of meanfield.chaos (slope of log(n Var) of the outputs at "
        f"{N_PROBE} probe inputs against log n) is 0, controls ±1. If no η/b below the "
        "edge passes the diagnostic, chaos is not checked, and the heavy-tail check is made "
        "at the largest η/b. The network has no weight decay, so nothing holds the norms "
        "back; whether a stationary law is reached within the run is what (1) measures."
    ),
    formula=(
        "KS(‖w‖ at T, ‖w‖ at 2T) ≤ 0.05;  α̂(‖w_i‖) < 2;  τ(η/b, α̂) < 0;  "
        "τ(η/b, prunable) > 0;  slope of log n Var(f(x)) in log n = 0 where stationary"
    ),
    source=(
        "Barsbey, Sefidgaran, Erdogdu, Richard & Şimşekli (NeurIPS 2021): mean-field "
        "independence of the units and a heavy-tailed stationary law at large η/b "
        "(docs/theory.md, section 6); chaos statistics of meanfield.chaos; heavy tails "
        "from η/b and d: Gürbüzbalaban, Şimşekli & Zhu (ICML 2021)."
    ),
    sizes=SIZES,
    measure=measure,
    draw=draw,
    layout=Layout(4, ncols=2, width=4.2, height=3.2),
    findings=findings,
)
