"""Claim ``meanfield.chaos``: units of a wide mean-field network become independent.

The slope checks and their controls are shared with meanfield.chaos_heavy
(:mod:`.meanfield_chaos_slopes`), and so are the panels' drawing helpers
(:mod:`.meanfield_chaos_figure`); this module runs the networks, judges them and draws
the figure.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_int
from heavytail.simulate import (
    MeanFieldData,
    MeanFieldRecording,
    MeanFieldRun,
    Teacher,
    mean_field_sgd,
)
from heavytail.theory import InvalidArgumentError

from .._kit.book import CheckBook, FigureData, Intervals, and_list, number_set, staged_measure
from .._kit.claim import Caption, Claim, Evidence, Layout
from .._kit.style import MEASURED, PALETTE, PREDICTED
from .._kit.validation import check_increasing
from .._kit.verdict import Measurement
from .meanfield_chaos_figure import (
    chaos_findings,
    draw_slopes,
    draw_variance,
    finish_variance_panel,
    legend_below,
    slope_label,
    width_ticks,
)
from .meanfield_chaos_slopes import (
    CONTROL_SLOPES,
    N_PROBE,
    RULE,
    SLOPE_SETTINGS,
    ChaosStatistics,
    SlopeFits,
    log_interval,
    log_intervals,
    power_half_width,
    probe_outputs,
    record_slope_checks,
)
from .meanfield_stats import (
    ScaledVariance,
    pair_covariance,
    scaled_variance,
    sliced_wasserstein,
    unit_directions,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "CHECK_LABELS",
    "CLAIM",
    "CONTROL_SLOPES",
    "RULE",
    "ChaosData",
    "ChaosGrid",
    "ChaosJudged",
    "ChaosSize",
    "chaos_findings",
    "figure_data",
    "judge",
    "log_interval",
    "power_half_width",
    "probe_outputs",
    "run_grid",
    "scaled_measurement",
    "slope_label",
    "width_ticks",
]


#: The network and its training: input dimension, batch, step, steps (docs/theory.md, section 6).
DIM = 8
BATCH = 8
ETA = 0.5
N_STEPS = 500
#: The weight-space test functions h(w, a) whose unit averages are checked.
TEST_FUNCTIONS = ("‖w‖²", "a", "w·v")

#: The controls on other data: the positive one has units independent by construction, the
#: null one has units that share each replicate's batch noise (chaos absent).
POSITIVE_LABEL = "the same networks at step 0 (units i.i.d. by construction)"
NULL_LABEL = "outputs with independent batches (units share each replicate's batch noise)"
#: The two checks: the outputs at the probe inputs, and the weight test functions.
CHECK_LABELS = (
    f"outputs at {N_PROBE} fixed inputs: slope of log n Var",
    f"unit averages of {and_list(list(TEST_FUNCTIONS))}: slope of log n Var",
)


@dataclass(frozen=True)
class ChaosSize:
    """Parameters of one size of ``meanfield.chaos``.

    Attributes
    ----------
    widths : tuple of int
        The widths n, increasing (at least four: the fit has three coefficients).
    replicates : int
        R independent networks per width. Every width is run with the same seed, so all
        widths see the same batches and replicate r of each width starts from the same
        stream (paired widths, :func:`~heavytail.reports._claims.meanfield_stats.variance_slope`).
    control_widths : tuple of int
        Widths of the control run with independent batches (each replicate its own).
    law_units : int
        Units per width (``law_units / replicates`` from each replicate) compared with
        the units of the widest run in sliced Wasserstein distance.
    n_directions : int
        Directions of the sliced Wasserstein distance.
    n_steps, dim, batch_size, eta : int, int, int, float
        The training (online, fresh points every step, shared across replicates).
    """

    widths: tuple[int, ...]
    replicates: int
    control_widths: tuple[int, ...]
    law_units: int
    n_directions: int = 64
    n_steps: int = N_STEPS
    dim: int = DIM
    batch_size: int = BATCH
    eta: float = ETA

    def __post_init__(self) -> None:
        check_increasing(self.widths, "widths", least=4)
        check_increasing(self.control_widths, "control_widths", least=4)
        check_int(self.replicates, "replicates", low=8)
        per = check_int(self.law_units, "law_units", low=self.replicates) // self.replicates
        if self.law_units % self.replicates or 3 * per > self.widths[-1] or per > self.widths[0]:
            raise InvalidArgumentError(
                "`law_units` must be a multiple of `replicates`, with at most the smallest "
                "width and a third of the largest width per replicate"
            )


SIZES = {
    # Machinery only: few replicates, short training.
    "smoke": ChaosSize((8, 16, 32, 64), 16, (8, 16, 32, 64), 128, 16, 60),
    "quick": ChaosSize(tuple(2**k for k in range(5, 12)), 64, (32, 64, 128, 256, 512), 2048),
    "full": ChaosSize(
        tuple(2**k for k in range(5, 15)), 128, tuple(2**k for k in range(5, 12)), 4096
    ),
}


@dataclass(frozen=True)
class ChaosGrid:
    """The statistics of every width, raw.

    Attributes
    ----------
    statistics : ChaosStatistics
        log n Var at each width of the trained outputs and weight test functions; the
        positive controls' are those of the same networks at step 0, the null control's
        those of the outputs with independent batches (at ``params.control_widths``).
    unit_outputs, control_unit_outputs : tuple of ndarray, shape (R, n)
        a_i tanh(w_i·x_1) of every unit, per width: shared batches, independent batches.
    law : ndarray, shape (width,)
        Sliced Wasserstein distance between ``law_units`` units of width n and as many
        of the widest run.
    law_floor : float
        The same between two disjoint sets of units of the widest run.
    seed : int
        The seed of every width's training.
    params : ChaosSize
    """

    statistics: ChaosStatistics
    unit_outputs: tuple[FloatArray, ...]
    control_unit_outputs: tuple[FloatArray, ...]
    law: FloatArray
    law_floor: float
    seed: int
    params: ChaosSize


@dataclass(frozen=True, eq=False)
class ChaosJudged(FigureData):
    """What the judge measured at the claim's level.

    Attributes
    ----------
    fits : SlopeFits
        The fitted log n Var = c + s log n + b / n: the outputs and weights, their
        positive controls on the networks at step 0, whose units are i.i.d. by
        construction (slope 0 exactly), and the null control with independent batches.
    outputs, weights, control : Intervals, shape (width,)
        exp of the mean log n Var (geometric mean over probes or test functions), with
        its jackknife interval at the claim's level: the outputs at the probe inputs,
        the weight-space test functions, and the outputs with independent batches.
    pair_cov : Intervals, shape (width,)
        n times the pair-averaged covariance of the unit outputs a_i phi(w_i . x_1).
    pair_cov_control : Intervals, shape (control width,)
        The same with independent batches (95% intervals).
    """

    fits: SlopeFits
    outputs: Intervals
    weights: Intervals
    control: Intervals
    pair_cov: Intervals
    pair_cov_control: Intervals


@dataclass(frozen=True, eq=False)
class ChaosData(ChaosJudged):
    """n Var of averages, pair covariances and one-unit distances, against n: the judged
    intervals and fits (:class:`ChaosJudged`) and these.

    Attributes
    ----------
    widths, control_widths : ndarray of int
    pair_var : ndarray, shape (width,)
        Var(a_i phi(w_i . x_1)) (one unit), the scale of n c.
    law, law_floor
        As in :class:`ChaosGrid`.
    params : ChaosSize
    """

    widths: npt.NDArray[np.int64]
    control_widths: npt.NDArray[np.int64]
    pair_var: FloatArray
    law: FloatArray
    law_floor: float
    params: ChaosSize


#: Record the weights at step 0 (the initialisation: units i.i.d. by construction).
_AT_INIT = MeanFieldRecording(weight_steps=(0,))


def _train(params: ChaosSize, n: int, seed: int, batches: str) -> MeanFieldRun:
    return mean_field_sgd(
        n,
        params.dim,
        eta=params.eta,
        batch_size=params.batch_size,
        n_steps=params.n_steps,
        n_replicates=params.replicates,
        data=MeanFieldData(batches=batches, test_size=0),  # type: ignore[arg-type]
        record=_AT_INIT,
        rng=seed,
    )


def _weight_functions(w: FloatArray, a: FloatArray, v: FloatArray) -> FloatArray:
    """h(w_i, a_i) for the TEST_FUNCTIONS, shape (R, n, 3)."""
    return np.stack([np.einsum("rij,rij->ri", w, w), a, w @ v], axis=2)


def _unit_outputs(run: MeanFieldRun, x: FloatArray) -> FloatArray:
    """a_i tanh(w_i . x), shape (R, n): unit i's share of n f(x)."""
    return run.a * np.tanh(run.w @ x)


def scaled_measurement(m: Measurement, by: float) -> Measurement:
    """``by`` times a measurement and its interval (``by`` > 0)."""
    return Measurement(by * m.estimate, by * m.low, by * m.high, level=m.level)


def _initial(run: MeanFieldRun) -> tuple[FloatArray, FloatArray]:
    """The weights at step 0, (R, n, dim) and (R, n)."""
    assert run.w_records is not None and run.a_records is not None
    return run.w_records[:, 0], run.a_records[:, 0]


def _units(run: MeanFieldRun, start: int, per: int) -> FloatArray:
    """Units start..start+per of every replicate as points (w_i, a_i) in R^(dim + 1)."""
    w = run.w[:, start : start + per]
    a = run.a[:, start : start + per, None]
    return np.concatenate([w, a], axis=2).reshape(-1, w.shape[2] + 1)


def run_grid(params: ChaosSize, rng: np.random.Generator) -> ChaosGrid:
    """Train every width on shared batches (and the control widths on independent ones)
    with one seed; their statistics, unit outputs and distances of the one-unit law."""
    seed = int(rng.integers(2**63))
    probe_rng, law_rng = rng.spawn(2)
    x_probe = probe_rng.standard_normal((N_PROBE, params.dim))
    teacher_w, _ = Teacher().weights(params.dim)
    v = teacher_w[0] / np.linalg.norm(teacher_w[0])
    directions = unit_directions(params.dim + 1, params.n_directions, rng=law_rng)
    per = params.law_units // params.replicates

    out_sv: list[ScaledVariance] = []
    w_sv: list[ScaledVariance] = []
    init_out_sv: list[ScaledVariance] = []
    init_w_sv: list[ScaledVariance] = []
    unit_out: list[FloatArray] = []
    law: list[float] = []
    widest = _train(params, params.widths[-1], seed, "shared")
    reference, floor_set = _units(widest, per, per), _units(widest, 2 * per, per)
    for n in params.widths:  # one run in memory at a time (the widest is kept)
        run = widest if n == params.widths[-1] else _train(params, n, seed, "shared")
        if run.n_diverged:
            raise RuntimeError(f"{run.n_diverged} replicates diverged at n = {n}")
        out_sv.append(scaled_variance(run.outputs(x_probe), n))
        w_sv.append(scaled_variance(_weight_functions(run.w, run.a, v).mean(axis=1), n))
        w0, a0 = _initial(run)
        init_out_sv.append(scaled_variance(probe_outputs(w0, a0, x_probe), n))
        init_w_sv.append(scaled_variance(_weight_functions(w0, a0, v).mean(axis=1), n))
        unit_out.append(_unit_outputs(run, x_probe[0]))
        law.append(sliced_wasserstein(_units(run, 0, per), reference, directions))
    floor = sliced_wasserstein(floor_set, reference, directions)

    ctrl_sv: list[ScaledVariance] = []
    ctrl_out: list[FloatArray] = []
    for n in params.control_widths:
        run = _train(params, n, seed, "independent")
        ctrl_sv.append(scaled_variance(run.outputs(x_probe), n))
        ctrl_out.append(_unit_outputs(run, x_probe[0]))
    statistics = ChaosStatistics(
        tuple(out_sv), tuple(w_sv), tuple(init_out_sv), tuple(init_w_sv), tuple(ctrl_sv)
    )
    return ChaosGrid(
        statistics, tuple(unit_out), tuple(ctrl_out), np.array(law), floor, seed, params
    )


def _pair_covariances(unit_outputs: Sequence[FloatArray], level: float) -> Intervals:
    """n times the pair-averaged covariance at each width n, with its interval at ``level``."""
    return Intervals.of(
        scaled_measurement(pair_covariance(u, level=level), u.shape[1]) for u in unit_outputs
    )


def judge(grid: ChaosGrid, book: CheckBook) -> ChaosJudged:
    """Slope 0 for the outputs and for the weights, with their controls; the intervals."""
    level = book.declare(CHECK_LABELS)
    st = grid.statistics
    fits = st.fits(level)
    record_slope_checks(book, fits, CHECK_LABELS, POSITIVE_LABEL, NULL_LABEL)
    return ChaosJudged(
        fits,
        log_intervals(st.outputs, level),
        log_intervals(st.weights, level),
        log_intervals(st.null, level),
        _pair_covariances(grid.unit_outputs, level),
        _pair_covariances(grid.control_unit_outputs, 0.95),
    )


def figure_data(grid: ChaosGrid, judged: ChaosJudged) -> ChaosData:
    """The judged intervals and fits, with the one-unit variances and laws."""
    params = grid.params
    return ChaosData(
        **{f.name: getattr(judged, f.name) for f in dataclasses.fields(ChaosJudged)},
        widths=np.array(params.widths, dtype=np.int64),
        control_widths=np.array(params.control_widths, dtype=np.int64),
        pair_var=np.array([float(u.var()) for u in grid.unit_outputs]),
        law=grid.law,
        law_floor=grid.law_floor,
        params=params,
    )


def _settings(grid: ChaosGrid, _: ChaosJudged) -> dict[str, Any]:
    return {
        "model": (
            f"f(x) = (1/n) Σ a_i tanh(w_i·x), both layers trained, online squared loss, "
            f"teacher {Teacher()}, label noise 0.1, batches shared by the replicates"
        ),
        **SLOPE_SETTINGS,
        "seed_of_every_width": grid.seed,
    }


#: Train every width on shared batches, measure n Var, pair covariances and laws; judge.
measure = staged_measure(run_grid, judge, figure_data, _settings)


def draw(evidence: Evidence[ChaosData], axes: Sequence[Axes]) -> Caption:
    """n Var against n; the slopes; n x pair covariance; the one-unit law's distance."""
    var_ax, slope_ax, cov_ax, law_ax = axes
    d, s, f = evidence.data, evidence.data.params, evidence.data.fits
    level = evidence.checks[0].measurement.level
    series = (
        (d.widths, d.outputs, f.outputs, PALETTE[0], f"outputs at {N_PROBE} inputs"),
        (d.widths, d.weights, f.weights, PALETTE[2], "averages of " + "/".join(TEST_FUNCTIONS)),
        (d.control_widths, d.control, f.null, PALETTE[1], "control: independent batches"),
    )
    for ns, iv, fit, color, name in series:
        draw_variance(var_ax, ns, iv, fit, color, f"{name}: {slope_label(fit)}")
    first = d.outputs.estimate[0]
    grid = np.geomspace(d.widths[0], d.widths[-1], 2)
    var_ax.plot(grid, first * (grid / grid[0]) ** 0, **PREDICTED, label="slope 0 (chaos)")
    var_ax.plot(grid, first * (grid / grid[0]), color="0.5", linestyle=":", label="slope +1")
    finish_variance_panel(
        var_ax,
        d.widths,
        "n · Var across replicates (geometric mean)",
        "Averages over units fluctuate at n^(-1/2)",
        ncols=1,
    )

    labels = [
        "outputs",
        "weight\naverages",
        "null: indep.\nbatches",
        "positive: step 0\noutputs",
        "positive: step 0\nweights",
    ]
    fits = (f.outputs, f.weights, f.null, f.positive_outputs, f.positive_weights)
    draw_slopes(slope_ax, [fit.slope for fit in fits], labels, level)
    slope_ax.plot([], [], color=PALETTE[1], linestyle=":", label="controls: ±1")
    slope_ax.set(
        xlim=(-1.4, 1.6), ylim=(-0.6, len(fits) + 0.2), title="Slopes against the predictions"
    )
    legend_below(slope_ax)

    for ns, iv, color, name in (
        (d.widths, d.pair_cov, PALETTE[0], "shared batches"),
        (d.control_widths, d.pair_cov_control, PALETTE[1], "control: independent batches"),
    ):
        cov_ax.errorbar(ns, iv.estimate, yerr=iv.yerr, color=color, label=name, **MEASURED)
    cov_ax.axhline(0.0, color="0.5", linewidth=0.8)
    cov_ax.set(
        xscale="log",
        xlabel="width n",
        ylabel="n · Cov(u_i, u_j), i ≠ j (pair average)",
        title="u_i = a_i tanh(w_i·x₁): covariance O(1/n)\n(chaos: flat; correlated units: ∝ n)",
    )
    width_ticks(cov_ax, d.widths)
    legend_below(cov_ax)

    law_ax.plot(d.widths, d.law, "o-", color=PALETTE[0], markersize=4, label="width n vs widest")
    law_ax.axhline(
        d.law_floor, **PREDICTED, label="two disjoint sets of the widest run (sampling floor)"
    )
    law_ax.set(
        xscale="log",
        xlabel="width n",
        ylabel="sliced Wasserstein-2 distance",
        title=f"Law of one unit (w_i, a_i): {s.law_units:,} units each\n(descriptive: no verdict)",
    )
    width_ticks(law_ax, d.widths)
    legend_below(law_ax)
    return Caption(
        "meanfield.chaos: propagation of chaos in a mean-field two-layer network",
        f"tanh network, d = {s.dim}, b = {s.batch_size}, η = {s.eta:g}, {s.n_steps} online "
        f"steps with batches shared by the {s.replicates} replicates of each width\n"
        f"n ∈ {number_set(s.widths)}; intervals at level {level:.4g} (Bonferroni).",
    )


_Q = SIZES["quick"]
_HALF = power_half_width(_Q.widths, _Q.replicates)

_STATEMENT = (
    "Propagation of chaos: in the mean-field network f(x) = (1/n) Σ a_i φ(w_i·x) trained "
    "by SGD, the units become independent as n grows, so an average over units, "
    "(1/n) Σ h(w_i, a_i) for a fixed test function h, fluctuates at order n^(-1/2) across "
    "independent replicates: n Var tends to a constant C, with a first correction "
    "C (1 + β/n). Checked on a tanh network (d = "
    f"{DIM}, both layers trained, online squared loss with a fixed teacher, b = {BATCH}, "
    f"η = {ETA:g}, {N_STEPS} steps) whose replicates share the batches (so that they "
    "differ only by their initialisation: the chaos is conditional on the data), at "
    f"widths n = 2^{int(math.log2(_Q.widths[0]))}..2^{int(math.log2(_Q.widths[-1]))} "
    f"with R = {_Q.replicates} replicates each. Two checks, on the network's outputs at "
    f"{N_PROBE} fixed inputs and on the averages of {and_list(list(TEST_FUNCTIONS))} "
    "(v the first teacher direction): the asymptotic slope s of the fit "
    "log n Var = c + s log n + b/n (the b/n term is chaos's own first correction, not a "
    "tolerance) must be 0. Both checks are slopes, so they are trend checks: a "
    "disagreement counts only if the positive controls are detected. Controls, judged by "
    "the same rule: alternatives s = +1 (units that stay correlated, n Var ~ n) and "
    "s = -1 (fluctuations of order 1/n); positive controls, the same slopes measured on "
    "the same networks at step 0, whose units are i.i.d. by construction (slope 0 "
    "exactly, so the fit and its interval must find it); and a null control, the "
    "outputs' slope on networks whose replicates draw their own batches, whose units "
    "share each replicate's batch noise, so that n Var grows with n and slope 0 must not "
    "be accepted. Power: with R replicates log s² has standard "
    "deviation sqrt(2/(R - 1)) for one Gaussian column of averages; the three-term fit's "
    "slope is Σ c_k y_k, so at quick size its interval at the Bonferroni level 0.975 "
    f"has half-width at most {_HALF:.2f} (pooling 8 probes and pairing the widths make "
    "it narrower), an interval narrower than the distance 1 to either control. The pair "
    "covariance of two units is shown as n times its average over all pairs: by "
    "n Var = Var(h) + (n - 1) Cov its check is the slope check, and the pair average "
    "is what makes it measurable, with error ~ Var(h)/(n sqrt(R)), where one fixed pair "
    "has error Var(h)/sqrt(R) and would need R of order n² replicates to resolve an "
    "O(1/n) covariance. The law of one unit (sliced Wasserstein distance between "
    f"{_Q.law_units:,} units of width n and as many of the widest run) is shown without "
    "a verdict: past the smallest widths its O(1/n) change lies under the two-sample "
    "floor of the distance at that many units."
)

CLAIM = Claim(
    id="meanfield.chaos",
    title="propagation of chaos",
    statement=_STATEMENT,
    formula=(
        "n · Var_r[(1/n) Σ_i h(w_i, a_i)] → C,  i.e.  log n Var = c + 0 · log n + b/n + "
        "O(n⁻²);  Cov(h(w_i), h(w_j)) = O(1/n)"
    ),
    source=(
        "De Bortoli, Durmus, Fontaine & Şimşekli, 'Quantitative propagation of chaos for "
        "SGD in wide neural networks', NeurIPS 2020 (docs/theory.md, section 6); Mei, "
        "Montanari & Nguyen (PNAS 2018) for the mean-field scaling"
    ),
    sizes=SIZES,
    measure=measure,
    draw=draw,
    layout=Layout(4, ncols=2, width=4.4, height=4.2),
    findings=chaos_findings,
)
