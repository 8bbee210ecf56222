"""Claim ``meanfield.chaos_heavy``: propagation of chaos under heavy-tailed injected noise.

The slope checks, their controls and the panels' drawing helpers are meanfield.chaos's
(:mod:`.meanfield_chaos_slopes`, :mod:`.meanfield_chaos_figure`); the network and its
noise are Wan et al.'s, as in meanfield.noise_compress (:mod:`.meanfield_wan`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_int
from heavytail.simulate import MeanFieldData, Teacher

from .._kit.book import CheckBook, FigureData, Intervals, and_list, number_set, staged_measure
from .._kit.claim import Caption, Claim, Evidence, Layout
from .._kit.style import PALETTE
from .._kit.validation import check_increasing
from .meanfield_chaos_figure import (
    chaos_findings,
    draw_slopes,
    draw_variance,
    finish_variance_panel,
    legend_below,
)
from .meanfield_chaos_slopes import (
    N_PROBE,
    SLOPE_SETTINGS,
    ChaosStatistics,
    SlopeFits,
    log_intervals,
    power_half_width,
    probe_outputs,
    record_slope_checks,
)
from .meanfield_stats import ScaledVariance, VarianceSlope, scaled_variance
from .meanfield_wan import (
    ALPHAS,
    BATCH,
    CELLS,
    DIM,
    ETA,
    SIGMA,
    NoiseType,
    NoisyTraining,
    independent_units,
    injected_noise,
    train_noisy,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "CELLS",
    "CLAIM",
    "N_CHECKS",
    "ChaosHeavyData",
    "ChaosHeavyGrid",
    "ChaosHeavyJudged",
    "ChaosHeavySize",
    "figure_data",
    "judge",
    "run_grid",
]


#: Wan et al.'s network and noise (:mod:`.meanfield_wan`), run longer than in
#: meanfield.noise_compress.
N_STEPS = 200
#: Bounded Lipschitz test functions of one unit (the weights have infinite variance, so
#: ‖w‖² or w·v would have no n^(-1/2) fluctuation to check).
TEST_FUNCTIONS = ("tanh(w·v)", "‖w‖/(1 + ‖w‖)")
#: The controls on other data.
POSITIVE_LABEL = "i.i.d. units of the law of the initialisation plus all the noise"
NULL_LABEL = "the same units with one noise draw per replicate, shared by its units"


def _cell_label(alpha: float, noise_type: NoiseType) -> str:
    return f"alpha = {alpha:g}, type {noise_type}"


def _check_labels(alpha: float, noise_type: NoiseType) -> tuple[str, str]:
    """The cell's two checks: the outputs at the probes, and the weight test functions."""
    label = _cell_label(alpha, noise_type)
    return (
        f"{label}: outputs at {N_PROBE} fixed inputs, slope of log n Var",
        f"{label}: unit averages of {and_list(list(TEST_FUNCTIONS))}, slope of log n Var",
    )


#: The checks, two per cell.
N_CHECKS = sum(len(_check_labels(*cell)) for cell in CELLS)


@dataclass(frozen=True)
class ChaosHeavySize(NoisyTraining):
    """Parameters of one size of ``meanfield.chaos_heavy``: Wan et al.'s training
    (:class:`~.meanfield_wan.NoisyTraining`) at four widths or more (the fit has three
    coefficients), each run with one seed per cell (paired widths, as in meanfield.chaos),
    on eight replicates or more.

    Attributes
    ----------
    n_steps : int
        Steps of the training (default :data:`N_STEPS`).
    """

    _: KW_ONLY
    n_steps: int = N_STEPS

    def __post_init__(self) -> None:
        check_increasing(self.widths, "widths", least=4)
        check_int(self.replicates, "replicates", low=8)
        check_int(self.n_steps, "n_steps", low=1)


SIZES = {
    # Machinery only: few replicates, short training.
    "smoke": ChaosHeavySize((8, 16, 32, 64), 12, n_steps=20),
    "quick": ChaosHeavySize(tuple(2**k for k in range(4, 11)), 48),
    "full": ChaosHeavySize(tuple(2**k for k in range(4, 13)), 128, n_steps=500),
}


@dataclass(frozen=True)
class ChaosHeavyGrid:
    """log n Var at every width of each cell (alpha, type) of :data:`CELLS`.

    ``statistics[c]``: the trained networks' outputs and weight test functions; the
    positive controls' on i.i.d. units of the law of the initialisation plus all the
    injected noise (no training); the null control's on the same units with the noise
    drawn once per replicate and shared by its units (dependent by construction).
    """

    statistics: tuple[ChaosStatistics, ...]
    params: ChaosHeavySize


@dataclass(frozen=True, eq=False)
class ChaosHeavyJudged(FigureData):
    """What the judge measured, per cell (alpha, type).

    Attributes
    ----------
    fits : tuple of SlopeFits, one per cell
        The fits log n Var = c + s log n + b / n of the trained networks and the controls.
    outputs, weights, null : Intervals, shape (cell, width)
        exp of the mean log n Var, with its interval at the claim's level: the trained
        networks' outputs and weight test functions, and the null control's outputs.
    """

    fits: tuple[SlopeFits, ...]
    outputs: Intervals
    weights: Intervals
    null: Intervals


@dataclass(frozen=True, eq=False)
class ChaosHeavyData(ChaosHeavyJudged):
    """n Var against n and the fitted slopes, per cell (:class:`ChaosHeavyJudged`), at
    the ``widths`` (ndarray of int) of ``params``."""

    widths: npt.NDArray[np.int64]
    params: ChaosHeavySize


def _weight_functions(w: FloatArray, v: FloatArray) -> FloatArray:
    """Unit averages of the TEST_FUNCTIONS, shape (R, 2)."""
    norm = np.linalg.norm(w, axis=2)
    h = np.stack([np.tanh(w @ v), norm / (1.0 + norm)], axis=2)
    return np.asarray(h.mean(axis=1), dtype=np.float64)


def _cell_statistics(
    params: ChaosHeavySize,
    alpha: float,
    noise_type: NoiseType,
    x_probe: FloatArray,
    v: FloatArray,
    g: np.random.Generator,
) -> ChaosStatistics:
    """Train every width of the cell on shared batches with one seed drawn from ``g``;
    then the controls' units, drawn from ``g``."""
    noise = injected_noise(alpha, params.sigma, noise_type)
    seed = int(g.integers(2**63))
    data = MeanFieldData(inputs="sphere", batches="shared", test_size=0)
    out_sv: list[ScaledVariance] = []
    w_sv: list[ScaledVariance] = []
    for n in params.widths:
        run = train_noisy(params, noise, n, params.replicates, seed, data)
        out_sv.append(scaled_variance(run.outputs(x_probe), n))
        w_sv.append(scaled_variance(_weight_functions(run.w, v), n))
    # Nested units: width n takes the first n (paired, like the trained runs).
    units = independent_units(params, alpha, noise_type, params.widths[-1], g)
    tied = independent_units(params, alpha, noise_type, params.widths[-1], g, shared=True)
    pos_o: list[ScaledVariance] = []
    pos_w: list[ScaledVariance] = []
    null_sv: list[ScaledVariance] = []
    for n in params.widths:
        pos_o.append(scaled_variance(probe_outputs(units[:, :n], None, x_probe), n))
        pos_w.append(scaled_variance(_weight_functions(units[:, :n], v), n))
        null_sv.append(scaled_variance(probe_outputs(tied[:, :n], None, x_probe), n))
    return ChaosStatistics(tuple(out_sv), tuple(w_sv), tuple(pos_o), tuple(pos_w), tuple(null_sv))


def run_grid(params: ChaosHeavySize, rng: np.random.Generator) -> ChaosHeavyGrid:
    """Per cell: every width trained on shared batches, and the controls' units."""
    probe_rng, cell_rng = rng.spawn(2)
    x_probe = probe_rng.standard_normal((N_PROBE, params.dim))
    x_probe *= math.sqrt(params.dim) / np.linalg.norm(x_probe, axis=1, keepdims=True)
    teacher_w, _ = Teacher().weights(params.dim)
    v = teacher_w[0] / np.linalg.norm(teacher_w[0])
    statistics = tuple(
        _cell_statistics(params, alpha, typ, x_probe, v, g)
        for (alpha, typ), g in zip(CELLS, cell_rng.spawn(len(CELLS)), strict=True)
    )
    return ChaosHeavyGrid(statistics, params)


def judge(grid: ChaosHeavyGrid, book: CheckBook) -> ChaosHeavyJudged:
    """Per cell, slope 0 for the outputs and for the weights with their controls."""
    level = book.declare(label for cell in CELLS for label in _check_labels(*cell))
    fits = tuple(st.fits(level) for st in grid.statistics)
    for (alpha, typ), cell_fits in zip(CELLS, fits, strict=True):
        prefix = f"{_cell_label(alpha, typ)}; "
        labels = _check_labels(alpha, typ)
        record_slope_checks(book, cell_fits, labels, POSITIVE_LABEL, NULL_LABEL, prefix)
    shape = (len(CELLS), len(grid.params.widths))

    def per_cell(pick: Callable[[ChaosStatistics], Sequence[ScaledVariance]]) -> Intervals:
        points = [p for st in grid.statistics for p in pick(st)]
        return log_intervals(points, level).reshape(*shape)

    return ChaosHeavyJudged(
        fits,
        per_cell(lambda st: st.outputs),
        per_cell(lambda st: st.weights),
        per_cell(lambda st: st.null),
    )


def figure_data(grid: ChaosHeavyGrid, judged: ChaosHeavyJudged) -> ChaosHeavyData:
    """The judged fits and intervals at the widths."""
    return ChaosHeavyData(
        **{f.name: getattr(judged, f.name) for f in dataclasses.fields(ChaosHeavyJudged)},
        widths=np.array(grid.params.widths, dtype=np.int64),
        params=grid.params,
    )


_SETTINGS: dict[str, Any] = {
    "model": (
        "f(x) = (1/n) Σ tanh(w_i·x), fixed second layer a_i = 1, inputs uniform on the "
        f"sphere of radius sqrt(d), online squared loss, teacher {Teacher()}, label "
        "noise 0.1, batches shared by the replicates, noise sigma eta^(1/alpha) L "
        "after every step"
    ),
    "cells": [_cell_label(a, t) for a, t in CELLS],
    **SLOPE_SETTINGS,
}

#: Per cell: train every width on shared batches, fit the slopes; the controls; judge.
measure = staged_measure(run_grid, judge, figure_data, _SETTINGS)


def draw(evidence: Evidence[ChaosHeavyData], axes: Sequence[Axes]) -> Caption:
    """n Var of the outputs against n per cell, with the null; every slope."""
    var_ax, slope_ax = axes
    d, s = evidence.data, evidence.data.params
    level = evidence.checks[0].measurement.level
    for i, (alpha, typ) in enumerate(CELLS):
        color = PALETTE[i % len(PALETTE)]
        draw_variance(
            var_ax, d.widths, d.outputs[i], d.fits[i].outputs, color, _cell_label(alpha, typ)
        )
        nv = d.null[i]
        var_ax.plot(d.widths, nv.estimate, color=color, linestyle=":", marker="x")
    var_ax.plot([], [], color="0.4", linestyle=":", marker="x", label="null: shared noise draw")
    finish_variance_panel(
        var_ax,
        d.widths,
        "n · Var of the outputs across replicates",
        "Outputs under stable noise: n Var against n (chaos: flat)",
    )

    rows: list[tuple[str, VarianceSlope]] = []
    for (alpha, typ), f in zip(CELLS, d.fits, strict=True):
        tag = f"α={alpha:g} t{typ}"
        rows += [
            (f"{tag} outputs", f.outputs),
            (f"{tag} weights", f.weights),
            (f"{tag} positive", f.positive_outputs),
            (f"{tag} null", f.null),
        ]
    draw_slopes(slope_ax, [f.slope for _, f in rows], [r for r, _ in rows], level)
    slope_ax.set(title="Slopes against the prediction 0")
    slope_ax.tick_params(axis="y", labelsize=6)
    legend_below(slope_ax)
    return Caption(
        "meanfield.chaos_heavy: propagation of chaos under heavy-tailed injected noise",
        f"tanh network, a_i = 1, d = {s.dim}, b = {s.batch_size}, η = {s.eta:g}, σ = "
        f"{s.sigma:g}, {s.n_steps} online steps with batches shared by the {s.replicates} "
        f"replicates; n ∈ {number_set(s.widths)}; intervals at level {level:.4g} (Bonferroni).",
    )


_Q = SIZES["quick"]
_HALF = power_half_width(_Q.widths, _Q.replicates, N_CHECKS)

_STATEMENT = (
    "Propagation of chaos under heavy-tailed injected noise (Wan et al.'s result): in the "
    "mean-field network f(x) = (1/n) Σ φ(w_i·x) trained by SGD with sigma eta^(1/alpha) L "
    "added to the first layer after every step, L alpha-stable, the units become "
    "independent as n grows, so an average over units of a bounded test function "
    "fluctuates at order n^(-1/2) across replicates that share the data: n Var tends to "
    "a constant, and the slope s of the fit log n Var = c + s log n + b/n is 0, as in "
    "meanfield.chaos. What the theorem needs, and how this run meets it: the second "
    "layer fixed (a_i = 1); a bounded activation with bounded derivatives (tanh) and a "
    "smooth loss (squared); bounded data (inputs on the sphere of radius sqrt(d)); "
    "alpha in (1, 2), so that the noise has a finite mean; the mean-field scaling (the "
    "output divided by n, each unit stepping by eta times its gradient of n L, so that "
    "a unit moves O(eta) per step whatever n); the noise scaled as sigma eta^(1/alpha), "
    "so that the run is the Euler scheme of a McKean-Vlasov equation driven by "
    "alpha-stable Lévy noise; i.i.d. initialisation. The theorem bounds the distance to "
    "the limit by terms that vanish as n grows and as eta falls, on a fixed horizon "
    "T = eta K, with constants that grow with T; this run fixes eta and K and checks the "
    f"dependence on n at that eta (eta = {ETA:g}, K = {N_STEPS}, sigma = {SIGMA:g}, "
    f"d = {DIM}, b = {BATCH}). The weights themselves have infinite variance, so the "
    "weight test functions are bounded and Lipschitz, "
    f"{and_list(list(TEST_FUNCTIONS))} (v the first teacher direction), as are the "
    f"outputs at {N_PROBE} fixed inputs on the sphere. Noise of types 1 and 3 at alpha in "
    f"{number_set(ALPHAS)}, widths n = 2^{int(math.log2(_Q.widths[0]))}.."
    f"2^{int(math.log2(_Q.widths[-1]))}, R = {_Q.replicates} replicates: "
    f"{N_CHECKS} slope checks, all trend checks. Controls, judged by the same rule, the "
    "same kinds as meanfield.chaos: alternatives s = +1 (units that stay correlated) "
    "and s = -1 (fluctuations of order 1/n); positive controls, the same statistics on "
    "units i.i.d. by construction with the law of the initialisation plus all the "
    "injected noise of the cell (sigma (eta K)^(1/alpha) L, no training), whose slope is "
    "0 exactly; null controls, the outputs of the same units with the noise drawn once "
    "per replicate and added to all its units, which are then dependent by construction "
    "(n Var grows like n), so that slope 0 must not be accepted. meanfield.chaos's null, "
    "independent batches, is no null here: the injected noise spreads the units far "
    "more than the batch noise that replicates would not share, so the dependence it "
    "creates is too small to be resolved at these widths. Power: at the "
    f"Bonferroni level over the {N_CHECKS} checks, one Gaussian column gives a slope "
    f"interval of half-width at most {_HALF:.2f} at quick size (meanfield.chaos's "
    "calculation), narrower than the distance 1 to either alternative."
)

CLAIM = Claim(
    id="meanfield.chaos_heavy",
    title="propagation of chaos under heavy-tailed noise",
    statement=_STATEMENT,
    formula=(
        "w_i ← w_i − η ∇_{w_i} n L_B + σ η^(1/α) L_i;  n · Var_r[(1/n) Σ_i h(w_i)] → C for "
        "bounded Lipschitz h:  log n Var = c + 0 · log n + b/n + O(n⁻²)"
    ),
    source=(
        "Wan, Barsbey, Zaidi & Şimşekli, 'Implicit compressibility of overparametrized "
        "neural networks trained with heavy-tailed SGD', ICML 2024 (propagation of chaos "
        "for the noisy mean-field SGD; code mbarsbey/implicit-compressibility); "
        "docs/theory.md, section 6"
    ),
    sizes=SIZES,
    measure=measure,
    draw=draw,
    layout=Layout(2, ncols=2, width=4.6, height=5.0),
    findings=chaos_findings,
)
