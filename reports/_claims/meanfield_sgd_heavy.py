"""Claim ``meanfield.sgd_heavy``: Barsbey et al.'s assumptions, measured on plain SGD below
the divergence edge: a stationary law, heavy tails, independent units.

The setting and the training are in :mod:`.meanfield_sgd_heavy_grid`; the figure in
:mod:`.meanfield_sgd_heavy_figure`.
"""

from __future__ import annotations

import math

import numpy as np

from heavytail._lib._types import FloatArray
from heavytail.theory import TailEstimate

from .._kit.book import CheckBook, Control, Intervals, number_set, staged_measure
from .._kit.claim import Claim, Evidence, Layout, default_findings
from .._kit.stats import kendall_trend, widen_tail_interval
from .._kit.verdict import ControlKind, Measurement, Relation, Rule
from .meanfield_sgd_heavy_figure import SgdHeavyData, SgdHeavyJudged, draw
from .meanfield_sgd_heavy_grid import (
    BATCH,
    CONTROL_ALPHAS,
    DIM,
    EDGE,
    EPS,
    ETAS,
    HEAVY_BELOW,
    KS_MAX,
    N_PROBE,
    NULL_ALPHA,
    POSITIVE_ALPHA,
    WEIGHT_CEILING,
    SgdHeavyGrid,
    SgdHeavySize,
    ks_distance,
    run_grid,
)
from .meanfield_stats import scaled_variance, variance_slope

__all__ = ["CLAIM", "SgdHeavyData", "SgdHeavySize", "findings"]


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


def _heavy(est: TailEstimate, level: float) -> Measurement:
    """The widened tail index less HEAVY_BELOW."""
    m = widen_tail_interval(est, level)
    return Measurement(
        m.estimate - HEAVY_BELOW, m.low - HEAVY_BELOW, m.high - HEAVY_BELOW, level=m.level
    )


def _stationary_label(x: float) -> str:
    return (
        f"stationary law below the edge: KS(norms at T, at 2T) - {KS_MAX:g} at the most "
        f"stationary η/b = {x:g}"
    )


def _heavy_label(x: float) -> str:
    return f"heavy tails at η/b = {x:g}: tail index (auto) of the norms at 2T - {HEAVY_BELOW:g}"


_FALL_LABEL = "tail index (auto) of ‖w_i‖ falls with η/b: Kendall τ"
_RISE_LABEL = f"prunable fraction at {EPS:.0%} error rises with η/b: Kendall τ"


#: The trends' positive and null controls.
_FALLING_UNITS = (
    f"i.i.d. stable units, index falling {CONTROL_ALPHAS[0]:g} to {CONTROL_ALPHAS[-1]:g}"
)
_FIXED_UNITS = f"i.i.d. stable units, index fixed at {NULL_ALPHA:g}"


def _chaos_label(x: float) -> str:
    return f"units independent at η/b = {x:g} (stationary): slope of log n Var"


def _chaos_eta(grid: SgdHeavyGrid) -> float:
    """The eta / b where chaos is checked, NaN where it is not."""
    return math.nan if grid.chaos_at is None else float(grid.eta_over_b[grid.chaos_at])


def judge(grid: SgdHeavyGrid, book: CheckBook) -> SgdHeavyJudged:
    """Stationarity, heavy tails and the two trends in eta / b; chaos where stationary."""
    x_eta, n_boot, rng = grid.eta_over_b, grid.params.n_boot, grid.boot_rng
    best, tail_at = int(np.argmin(grid.ks)), grid.tail_at
    chaos_eta = _chaos_eta(grid)
    labels = [_stationary_label(x_eta[best]), _heavy_label(x_eta[tail_at])]
    labels += [_FALL_LABEL, _RISE_LABEL]
    if grid.chaos_at is not None:
        labels.append(_chaos_label(chaos_eta))
    level = book.declare(labels)

    pairs = zip(grid.first, grid.second, strict=True)
    ks = [_ks_interval(first, second, level, n_boot, rng) for first, second in pairs]
    init_a, init_b = grid.initial
    book.check(
        _stationary_label(x_eta[best]),
        0.0,
        ks[best],
        STATIONARY_RULE,
        Control(
            "two independent initialisations (one law)",
            0.0,
            _ks_interval(init_a, init_b, level, n_boot, rng),
            ControlKind.POSITIVE,
        ),
        Control(
            f"initialisation vs step T at η/b = {x_eta[0]:g} (not stationary)",
            0.0,
            _ks_interval(init_a, grid.first[0], level, n_boot, rng),
            ControlKind.NULL,
        ),
    )

    # Heavy tails, on its own: at the eta / b where chaos is checked, else at the
    # heaviest one below the edge.
    tails = [widen_tail_interval(est, level) for est in grid.tails]
    ctl = grid.controls
    book.check(
        _heavy_label(x_eta[tail_at]),
        0.0,
        _heavy(grid.tails[tail_at], level),
        HEAVY_RULE,
        Control(
            f"norms of i.i.d. {POSITIVE_ALPHA:g}-stable units",
            0.0,
            _heavy(ctl.positive_tail, level),
            ControlKind.POSITIVE,
        ),
        Control(
            "norms of i.i.d. Gaussian units", 0.0, _heavy(ctl.gauss_tail, level), ControlKind.NULL
        ),
    )

    # Trends in eta / b, with controls through the same estimators on i.i.d. stable units.
    x_c = np.arange(len(CONTROL_ALPHAS), dtype=np.float64)  # index falls along the row

    def tau(x: FloatArray, y: FloatArray) -> Measurement:
        return kendall_trend(x, y, level=level, n_boot=n_boot, rng=rng)

    for label, rule, measured, positive, null in (
        (_FALL_LABEL, FALL_RULE, grid.alpha, ctl.alpha, ctl.null_alpha),
        (_RISE_LABEL, RISE_RULE, grid.prunable, ctl.prunable, ctl.null_prunable),
    ):
        book.check(
            label,
            0.0,
            tau(x_eta, measured),
            rule,
            Control(_FALLING_UNITS, 0.0, tau(x_c, positive), ControlKind.POSITIVE),
            Control(_FIXED_UNITS, 0.0, tau(x_c, null), ControlKind.NULL),
            trend=True,
        )

    chaos = None
    if grid.chaos_at is not None:
        widths = grid.params.widths
        svs = [scaled_variance(o, int(n)) for o, n in zip(grid.chaos_outputs, widths, strict=True)]
        chaos = variance_slope(svs, level, paired=True).slope
        book.check(
            _chaos_label(chaos_eta),
            0.0,
            chaos,
            CHAOS_RULE,
            *(Control(f"control: slope {s:+g}", s) for s in CONTROL_SLOPES),
        )
    return SgdHeavyJudged(Intervals.of(ks), Intervals.of(tails), chaos)


def figure_data(grid: SgdHeavyGrid, judged: SgdHeavyJudged) -> SgdHeavyData:
    """The judged intervals, the per-replicate estimates and the norms' quartiles."""
    n_eta = len(grid.params.etas)
    quantiles = np.stack(
        [
            np.quantile(grid.first.reshape(n_eta, -1), [0.25, 0.5, 0.75], axis=1).T,
            np.quantile(grid.second.reshape(n_eta, -1), [0.25, 0.5, 0.75], axis=1).T,
        ],
        axis=1,
    )
    return SgdHeavyData(
        ks=judged.ks,
        tail=judged.tail,
        chaos=judged.chaos,
        eta_over_b=grid.eta_over_b,
        widths=np.array(grid.params.widths, dtype=np.int64),
        alpha=grid.alpha,
        prunable=grid.prunable,
        chaos_eta=_chaos_eta(grid),
        max_weight=grid.max_weight,
        quantiles=quantiles,
        params=grid.params,
    )


#: Train the grid; judge stationarity, tails, pruning, and chaos where stationary.
measure = staged_measure(
    run_grid,
    judge,
    figure_data,
    {
        "dim": DIM,
        "batch_size": BATCH,
        "edge": f"η/b >= {EDGE:g} excluded",
        "ks_max": KS_MAX,
        "eps": EPS,
        "model": (
            "f(x) = (1/n) Σ a_i tanh(w_i·x), both layers trained, squared loss, Gaussian "
            "inputs, default teacher, label noise 0.1, fresh batches shared by the "
            "replicates, no injected noise"
        ),
        "tail_estimator": "estimate_tail_index(auto), 95% interval widened to the level",
        "trend": "Kendall tau-b over (η/b, replicate), replicates resampled whole",
    },
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
    if d.chaos is None:
        parts.append(
            "No η/b below the edge has a stationary law by the diagnostic, so chaos was "
            "not checked."
        )
    else:
        c = d.chaos
        parts.append(
            f"Chaos checked at η/b = {d.chaos_eta:g}: slope {c.estimate:.3g} "
            f"[{c.low:.3g}, {c.high:.3g}]."
        )
    parts.append(f"Largest |w_ij| over the grid: {np.max(d.max_weight):.3g}.")
    return " ".join(parts)


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
