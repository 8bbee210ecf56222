"""Claim ``meanfield.sgd_heavy``: Barsbey et al.'s assumptions, measured on plain SGD."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from heavytail._lib._validation import check_int
from heavytail.simulate import MeanFieldRecording, MeanFieldRun, mean_field_sgd
from heavytail.theory import (
    DivergenceWarning,
    InvalidArgumentError,
    hill_estimator,
    prunable_fraction,
)

from .._kit.book import CheckBook, Control, FigureData, Intervals, number_set
from .._kit.claim import Caption, Claim, Evidence, Layout
from .._kit.stats import kendall_trend
from .._kit.style import MEASURED, PALETTE, PREDICTED
from .._kit.verdict import Measurement, Relation, Rule
from .meanfield_stats import scaled_variance, variance_slope

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CLAIM", "SgdHeavyData", "SgdHeavySize", "hill_alpha"]

FloatArray = npt.NDArray[np.float64]

# The network and its training are those of meanfield.chaos (docs/theory.md, section 6): tanh
# units, both layers trained on the squared loss, Gaussian inputs, batches shared by the
# replicates, no injected noise.
DIM = 8
BATCH = 8
#: Step sizes: eta / b from 1/16 (the scale of meanfield.chaos) to 1.25, the edge of
#: divergence found by a scan of 500-step runs before the claim was written: at
#: eta / b = 1 the weights stay below 200; at 1.25 they reach 1e3 (n = 1024) to 1e7 or
#: more (n = 64); at 1.5 they reach 1e19 to 1e42; at 1.75 replicates leave the double
#: range.
ETAS = (0.5, 1.0, 2.0, 4.0, 8.0, 10.0)
#: The finite training set: 500 points, seen for 8 epochs by 500 steps of 8 points.
DATASET_SIZE = 500
#: The network's output is probed at this many fixed inputs (the chaos statistic).
N_PROBE = 8
#: Relative error of the prunable fraction, and the share of units Hill's estimator uses.
EPS = 0.1
HILL_FRACTION = 0.1
#: The two ways of drawing batches: fresh points every step, or one finite training set.
MODES = ("online", "finite")


@dataclass(frozen=True)
class SgdHeavySize:
    """Parameters of one size of ``meanfield.sgd_heavy``.

    Attributes
    ----------
    widths : tuple of int
        Widths n, increasing (at least two): the chaos statistic is fitted over them;
        the tail index, the prunable fraction and the gap are measured at the widest.
    etas : tuple of float
        Step sizes, increasing (at least three); the batch size is fixed at 8.
    replicates : int
        R networks per (mode, step size, width), trained on the same batches (shared);
        every step size and width is run with the same seed, so replicate r starts from
        the same stream everywhere (paired).
    n_steps : int
        SGD steps of every run.
    test_size : int
        Test points of the finite-data runs (their gap).
    n_boot : int
        Bootstrap resamples of the Kendall trends.
    """

    widths: tuple[int, ...]
    etas: tuple[float, ...]
    replicates: int
    n_steps: int
    test_size: int
    n_boot: int

    def __post_init__(self) -> None:
        if len(self.widths) < 2 or any(b <= a for a, b in itertools.pairwise(self.widths)):
            raise InvalidArgumentError("`widths` must hold two or more increasing widths")
        if len(self.etas) < 3 or any(b <= a for a, b in itertools.pairwise(self.etas)):
            raise InvalidArgumentError("`etas` must hold three or more increasing step sizes")
        for n in self.widths:
            check_int(n, "widths[i]", low=10)  # Hill needs at least one unit in its top 10%
        check_int(self.replicates, "replicates", low=8)
        check_int(self.n_steps, "n_steps", low=1)
        check_int(self.test_size, "test_size", low=2)
        check_int(self.n_boot, "n_boot", low=100)


SIZES = {
    "smoke": SgdHeavySize((32, 64, 128), ETAS, 8, 100, 500, 200),
    "quick": SgdHeavySize((64, 256, 1024), ETAS, 24, 500, 1_000, 1_000),
    "full": SgdHeavySize((64, 256, 1024, 4096), ETAS, 64, 500, 4_000, 2_000),
}

FALL_RULE = Rule(Relation.AT_MOST, 0.0, "")
RISE_RULE = Rule(Relation.AT_LEAST, 0.0, "")
CHAOS_WIDTH = 1.0
CHAOS_RULE = Rule(
    Relation.EQUAL,
    0.0,
    "",
    max_width=CHAOS_WIDTH,
    width_reason=(
        "an interval wider than 1, the distance from the predicted slope 0 to each "
        "control's slope ±1, could hold 0 and a control together (as in meanfield.chaos)"
    ),
)
#: The slopes of the chaos controls: units that stay correlated, and 1/n fluctuations.
CONTROL_SLOPES = (1.0, -1.0)


def hill_alpha(norms: npt.ArrayLike) -> float:
    """Hill's estimate of the tail index from the top ``HILL_FRACTION`` of ``norms``."""
    x = np.asarray(norms, dtype=np.float64)
    k = max(1, int(HILL_FRACTION * x.size))
    return float(hill_estimator(x, k=k).alpha)


@dataclass(frozen=True, eq=False)
class SgdHeavyData(FigureData):
    """Per mode (online, finite), step size and replicate: the four measurements.

    Attributes
    ----------
    eta_over_b : ndarray
        The step sizes divided by the batch size.
    widths : ndarray of int
    alpha : ndarray, shape (mode, replicate, eta)
        Hill's tail index of the unit norms ||w_i|| at the widest n.
    prunable : ndarray, shape (mode, replicate, eta)
        Fraction of units node pruning removes at relative Frobenius error ``EPS``.
    gap : ndarray, shape (replicate, eta)
        Test minus training loss (squared loss) of the finite-data runs.
    chaos : Intervals, shape (mode, eta)
        Slope of log(n Var) of the outputs at the probe inputs against log n, across
        replicates, at the claim's level (0: independent units).
    trends : Intervals, shape (4,)
        Kendall's tau of (eta / b, measurement) for alpha online, alpha finite, prunable
        online, prunable finite; and ``gap_trend`` for the gap.
    gap_trend : Intervals, shape (1,)
    kept : ndarray of int, shape (mode,)
        Replicates used: those that stayed finite at every step size and width.
    max_weight : ndarray, shape (mode, eta, width)
        The largest |w_ij| over the kept replicates.
    params : SgdHeavySize
    """

    eta_over_b: FloatArray
    widths: npt.NDArray[np.int64]
    alpha: FloatArray
    prunable: FloatArray
    gap: FloatArray
    chaos: Intervals
    trends: Intervals
    gap_trend: Intervals
    kept: npt.NDArray[np.int64]
    max_weight: FloatArray
    params: SgdHeavySize


def _train(params: SgdHeavySize, mode: str, eta: float, n: int, seed: int) -> MeanFieldRun:
    finite = mode == "finite"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)  # counted in the result
        return mean_field_sgd(
            n,
            DIM,
            eta=eta,
            batch_size=BATCH,
            n_steps=params.n_steps,
            n_replicates=params.replicates,
            batches="shared",
            dataset_size=DATASET_SIZE if finite else None,
            test_size=params.test_size if finite else 0,
            record=MeanFieldRecording(loss_steps=(params.n_steps,)) if finite else None,
            rng=seed,
        )


def measure(params: SgdHeavySize, rng: np.random.Generator) -> Evidence[SgdHeavyData]:
    """Train the grid without injected noise; measure tails, chaos, pruning and the gap."""
    etas, ns, reps = np.array(params.etas), np.array(params.widths), params.replicates
    x_eta = etas / BATCH
    seed = int(rng.integers(2**63))
    probe_rng, boot_rng = rng.spawn(2)
    x_probe = probe_rng.standard_normal((N_PROBE, DIM))
    shape = (len(MODES), reps, etas.size)
    alpha, prunable = np.full(shape, np.nan), np.full(shape, np.nan)
    gap = np.full((reps, etas.size), np.nan)
    outputs = np.full((len(MODES), etas.size, ns.size, reps, N_PROBE), np.nan)
    max_weight = np.full((len(MODES), etas.size, ns.size), np.nan)
    diverged = np.zeros((len(MODES), reps), dtype=bool)
    for (k, mode), (e, eta), (i, n) in itertools.product(
        enumerate(MODES), enumerate(params.etas), enumerate(params.widths)
    ):
        run = _train(params, mode, eta, n, seed)
        diverged[k] |= run.diverged
        outputs[k, e, i] = run.outputs(x_probe)
        ok = ~run.diverged
        if ok.any():
            max_weight[k, e, i] = float(np.max(np.abs(run.w[ok])))
        if i == ns.size - 1:
            norms = run.unit_norms()
            for r in np.flatnonzero(ok):
                alpha[k, r, e] = hill_alpha(norms[r])
                prunable[k, r, e] = prunable_fraction(run.w[r].T, EPS, "node")
            if mode == "finite":
                assert run.generalization_gap is not None  # both losses recorded
                gap[:, e] = run.generalization_gap[:, 0]

    kept = ~diverged
    n_kept = kept.sum(axis=1)
    if np.any(n_kept < 8):
        raise RuntimeError(
            f"too few replicates stayed finite at every step size and width: {n_kept} of "
            f"{reps} (online, finite); the grid reaches past the edge of divergence"
        )
    book = CheckBook(params, n_checks=2 * len(MODES) + len(MODES) + 1)
    chaos_iv: list[Measurement] = []
    edge = f"η/b = {x_eta[-1]:g}"
    for k, mode in enumerate(MODES):
        for e in range(etas.size):
            svs = [scaled_variance(outputs[k, e, i][kept[k]], int(n)) for i, n in enumerate(ns)]
            chaos_iv.append(variance_slope(svs, book.level, paired=True).slope)
        book.check(
            f"{mode}: units independent at {edge}: slope of log n Var of the outputs",
            0.0,
            chaos_iv[-1],
            CHAOS_RULE,
            *(Control(f"{mode}: control: slope {s:+g}", s) for s in CONTROL_SLOPES),
        )

    trends: list[Measurement] = []
    for name, values, rule, opposite, word in (
        ("tail index of ‖w_i‖ (Hill)", alpha, FALL_RULE, RISE_RULE, "fall"),
        (f"prunable fraction at {EPS:.0%} error", prunable, RISE_RULE, FALL_RULE, "rise"),
    ):
        for k, mode in enumerate(MODES):
            tau = kendall_trend(
                x_eta, values[k][kept[k]], level=book.level, n_boot=params.n_boot, rng=boot_rng
            )
            trends.append(tau)
            label = f"{mode}: {name} should {word}: Kendall τ(η/b, value)"
            book.check(label, 0.0, tau, rule)
            book.control(f"{label}; control: no {word}", 0.0, tau, opposite)
    finite = MODES.index("finite")
    gap_tau = kendall_trend(
        x_eta, gap[kept[finite]], level=book.level, n_boot=params.n_boot, rng=boot_rng
    )
    label = "finite: measured gap should fall: Kendall τ(η/b, test - train loss)"
    book.check(label, 0.0, gap_tau, FALL_RULE)
    book.control(f"{label}; control: no fall", 0.0, gap_tau, RISE_RULE)

    data = SgdHeavyData(
        eta_over_b=x_eta,
        widths=ns.astype(np.int64),
        alpha=alpha,
        prunable=prunable,
        gap=gap,
        chaos=Intervals.of(chaos_iv).reshape(len(MODES), etas.size),
        trends=Intervals.of(trends),
        gap_trend=Intervals.of([gap_tau]),
        kept=n_kept.astype(np.int64),
        max_weight=max_weight,
        params=params,
    )
    return book.evidence(
        data,
        dim=DIM,
        batch_size=BATCH,
        dataset_size=DATASET_SIZE,
        eps=EPS,
        hill_fraction=HILL_FRACTION,
        replicates_kept=n_kept,
        model=(
            "f(x) = (1/n) Σ a_i tanh(w_i·x), both layers trained, squared loss, Gaussian "
            "inputs, default teacher, label noise 0.1, batches shared by the replicates, "
            "no injected noise"
        ),
        chaos_statistic=(
            "slope of log n Var across replicates of the outputs at "
            f"{N_PROBE} probe inputs, paired widths (reports._meanfield_stats)"
        ),
        trend="Kendall tau-b over (η/b, replicate), replicates resampled whole",
    )


def _tau_text(m: Intervals) -> str:
    """One trend (a 0-d entry of :class:`Intervals`) as text."""
    est, low, high = (float(v) for v in (m.estimate, m.low, m.high))
    return f"τ = {est:+.2f} [{low:+.2f}, {high:+.2f}]"


def _quartiles(values: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    q = np.nanquantile(values, [0.25, 0.5, 0.75], axis=0)
    return q[0], q[1], q[2]


def draw(evidence: Evidence[SgdHeavyData], axes: Sequence[Axes]) -> Caption:
    """Tail index, chaos slope, prunable fraction and gap against eta / b."""
    tail_ax, chaos_ax, prune_ax, gap_ax = axes
    d, s = evidence.data, evidence.data.params
    x = d.eta_over_b
    offsets = (0.97, 1.03)
    for k, mode in enumerate(MODES):
        color = PALETTE[k]
        for ax, values, tau in (
            (tail_ax, d.alpha[k], d.trends[k]),
            (prune_ax, d.prunable[k], d.trends[len(MODES) + k]),
        ):
            lo, med, hi = _quartiles(values)
            ax.errorbar(
                x * offsets[k],
                med,
                yerr=[med - lo, hi - med],
                color=color,
                label=f"{mode}: {_tau_text(tau)}",
                **MEASURED,
            )
        c = d.chaos[k]
        chaos_ax.errorbar(
            x * offsets[k], c.estimate, yerr=c.yerr, color=color, label=mode, **MEASURED
        )
    level = evidence.checks[0].measurement.level
    tail_ax.set(
        xscale="log",
        xlabel="η / b",
        ylabel=f"Hill α of ‖w_i‖ (top {HILL_FRACTION:.0%} of units)",
        title=f"Tail index of the unit norms, n = {d.widths[-1]}\n(median, quartiles)",
    )
    tail_ax.legend(loc="lower left", fontsize=6.5)
    chaos_ax.axhline(0.0, **PREDICTED, label="0: independent units (chaos)")
    for slope in CONTROL_SLOPES:
        chaos_ax.axhline(slope, color="0.5", linestyle=":", linewidth=1.0)
    chaos_ax.plot([], [], color="0.5", linestyle=":", label="±1: controls")
    chaos_ax.set(
        xscale="log",
        xlabel="η / b",
        ylabel="slope of log(n Var of outputs) in log n",
        title=f"Chaos across n = {', '.join(str(n) for n in d.widths)}; checked at η/b = "
        f"{x[-1]:g}\n(intervals at level {level:.4g})",
    )
    chaos_ax.legend(loc="lower left", fontsize=6.5)
    prune_ax.set(
        xscale="log",
        xlabel="η / b",
        ylabel=f"prunable fraction of units at {EPS:.0%} error",
        title=f"Node pruning, n = {d.widths[-1]} (median, quartiles)",
    )
    prune_ax.legend(loc="upper left", fontsize=6.5)
    lo, med, hi = _quartiles(d.gap)
    gap_ax.errorbar(
        x,
        med,
        yerr=[med - lo, hi - med],
        color=PALETTE[1],
        label=f"finite: {_tau_text(d.gap_trend[0])}",
        **MEASURED,
    )
    gap_ax.axhline(0.0, color="0.5", linewidth=0.8)
    gap_ax.set_yscale("symlog", linthresh=1e-3)
    gap_ax.set(
        xscale="log",
        xlabel="η / b",
        ylabel="test − train loss (squared), symlog",
        title=f"Measured gap, m = {DATASET_SIZE}, n = {d.widths[-1]} (median, quartiles)",
    )
    gap_ax.legend(loc="lower left", fontsize=6.5)
    kept = ", ".join(f"{mode} {k}" for mode, k in zip(MODES, d.kept, strict=True))
    return Caption(
        "meanfield.sgd_heavy: Barsbey et al.'s assumptions on plain SGD (no injected noise)",
        f"Mean-field tanh networks, d = {DIM}, b = {BATCH}, {s.n_steps} steps, squared loss, "
        f"batches shared by {s.replicates} replicates (kept: {kept}); finite data: "
        f"{DATASET_SIZE} points.\nτ: Kendall's tau of (η/b, value), bootstrap over "
        f"replicates at level {level:.4g}. Largest |w_ij| at η/b = {x[-1]:g}: "
        f"{np.nanmax(d.max_weight[:, -1]):.3g}.",
    )


_QUICK = SIZES["quick"]

CLAIM = Claim(
    id="meanfield.sgd_heavy",
    title="Barsbey et al.'s assumptions on plain SGD",
    statement=(
        "Barsbey et al. assume that SGD with a large step-to-batch ratio η/b drives a "
        "mean-field network to a heavy-tailed stationary law while its units stay "
        "independent, and conclude that such networks prune, and generalize, better. "
        "Measured on plain SGD, with no injected noise, on the network of meanfield.chaos "
        f"(f(x) = (1/n) Σ a_i tanh(w_i·x), d = {DIM}, both layers trained on the squared "
        f"loss, Gaussian inputs, batches of b = {BATCH} shared by {_QUICK.replicates} "
        f"replicates, {_QUICK.n_steps} steps), online and with one training set of "
        f"{DATASET_SIZE} points, at η/b in {number_set(e / BATCH for e in ETAS)} and n in "
        f"{number_set(_QUICK.widths)}. The last η/b is the edge of divergence found by a "
        "scan before the claim: at η/b = 1 the weights stay below 200, at 1.25 they reach "
        "1e3 to 1e11 (the narrowest networks first), at 1.5 1e19 and beyond, and at 1.75 "
        "replicates leave the double range. Checks, each a Kendall rank correlation "
        "between η/b and a measurement of every replicate (widest n), with a bootstrap "
        "interval over replicates: Hill's tail index of the unit norms ‖w_i‖ (top "
        f"{HILL_FRACTION:.0%} of the units) falls; the fraction of units node pruning "
        f"removes at {EPS:.0%} relative error rises; the measured gap, test minus training "
        "loss on the finite data, falls. And the units stay independent where the tails "
        "are heaviest: at the edge, by the chaos statistic of meanfield.chaos, the slope of "
        f"log(n Var) of the outputs at {N_PROBE} probe inputs across replicates against "
        "log n is 0 (controls ±1); the fit is a straight line in log n, without the 1/n "
        "term of meanfield.chaos, for which the replicates here are too few. Negative "
        "controls: no fall, no rise, slopes ±1. "
        "Found at quick size (seed 0), and the verdict is disagree: the two limits do not "
        "hold together. Hill's index falls overall (τ = -0.53 online, -0.48 finite) but "
        "not steadily and never below 3, so the norms are not heavy-tailed in the sense "
        "alpha < 2 (about 8 at η/b = 1/16, 4 to 5 at 1/2, back to 6 at 1, 4 to 5 at the "
        "edge). The prunable fraction rises to about a quarter at η/b = 1/2 and collapses "
        "to 3-6% at 1 and beyond (τ = +0.12 online, agree; -0.04 finite, disagree). The "
        "gap grows with η/b up to 1 and turns negative, widely spread, at the edge "
        "(τ = +0.39, disagree). The units follow chaos below the edge "
        "(slopes within 0.6 of 0), but not at the edge, where the tails are heaviest: "
        "there n Var falls steeply with n (slope -4 online, -9 finite), because the "
        "narrowest networks blow up first."
    ),
    formula=(
        "τ(η/b, α̂(‖w_i‖)) < 0;  slope of log n Var(f(x)) in log n = 0;  "
        "τ(η/b, prunable) > 0;  τ(η/b, L_test − L_train) < 0"
    ),
    source=(
        "Barsbey, Sefidgaran, Erdogdu, Richard & Şimşekli (NeurIPS 2021): mean-field "
        "independence of the units and a heavy-tailed stationary law at large η/b, and "
        "their consequences for pruning and generalization (docs/theory.md, section 6); chaos "
        "statistics of meanfield.chaos (De Bortoli, Durmus, Fontaine & Şimşekli 2020); "
        "heavy tails from η/b: Gürbüzbalaban, Şimşekli & Zhu (ICML 2021)."
    ),
    sizes=SIZES,
    measure=measure,
    draw=draw,
    layout=Layout(4, ncols=2, width=4.2, height=3.2),
)
