"""Claim ``meanfield.chaos_heavy``: propagation of chaos under heavy-tailed injected noise."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from heavytail._lib._noise_kinds import NOISE_KINDS
from heavytail._lib._validation import check_int
from heavytail.simulate import (
    InjectedNoise,
    MeanFieldData,
    MeanFieldNetwork,
    MeanFieldRun,
    Teacher,
    mean_field_sgd,
)
from heavytail.theory import InvalidArgumentError, sample_elliptic_stable, sample_stable

from .._kit.book import CheckBook, Control, FigureData, Intervals, and_list, number_set
from .._kit.claim import Caption, Claim, Evidence, Layout
from .._kit.style import MEASURED, PALETTE
from .._kit.verdict import ControlKind, Measurement
from .meanfield_chaos import (
    CONTROL_SLOPES,
    N_PROBE,
    RULE,
    chaos_findings,
    draw_slopes,
    log_interval,
    power_half_width,
    probe_outputs,
    width_ticks,
)
from .meanfield_stats import ScaledVariance, VarianceSlope, scaled_variance, variance_slope

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CELLS", "CLAIM", "ChaosHeavyData", "ChaosHeavySize", "independent_units"]

FloatArray = npt.NDArray[np.float64]
NoiseType = Literal[1, 2, 3]

#: The grid of Wan et al.'s injected noise: stable indices and types (docs/theory.md, 6).
ALPHAS = (1.5, 1.75)
NOISE_TYPES: tuple[NoiseType, ...] = (1, 3)
CELLS: tuple[tuple[float, NoiseType], ...] = tuple(itertools.product(ALPHAS, NOISE_TYPES))
#: Wan et al.'s network: fixed second layer a_i = 1, tanh units, bounded (sphere) inputs;
#: the training and noise scale of meanfield.noise_compress, run longer.
DIM = 8
BATCH = 8
ETA = 0.4
N_STEPS = 200
SIGMA = 0.1
#: Bounded Lipschitz test functions of one unit (the weights have infinite variance, so
#: ‖w‖² or w·v would have no n^(-1/2) fluctuation to check).
TEST_FUNCTIONS = ("tanh(w·v)", "‖w‖/(1 + ‖w‖)")
#: Two checks per cell: the outputs at the probes, and the weight test functions.
N_CHECKS = 2 * len(CELLS)


@dataclass(frozen=True)
class ChaosHeavySize:
    """Parameters of one size of ``meanfield.chaos_heavy``.

    Attributes
    ----------
    widths : tuple of int
        The widths n, increasing (at least four: the fit has three coefficients). Every
        width of a cell is run with one seed (paired widths, as in meanfield.chaos).
    replicates : int
        R networks per width; they share the batches and differ by their
        initialisation and their injected noise.
    n_steps, eta, sigma, dim, batch_size
        Online SGD with sigma eta^(1/alpha) L added to the first layer after each step.
    """

    widths: tuple[int, ...]
    replicates: int
    n_steps: int = N_STEPS
    eta: float = ETA
    sigma: float = SIGMA
    dim: int = DIM
    batch_size: int = BATCH

    def __post_init__(self) -> None:
        ws = self.widths
        if len(ws) < 4 or any(b <= a for a, b in itertools.pairwise(ws)):
            raise InvalidArgumentError("`widths` must hold at least 4 increasing widths")
        check_int(self.replicates, "replicates", low=8)
        check_int(self.n_steps, "n_steps", low=1)


SIZES = {
    # Machinery only: few replicates, short training.
    "smoke": ChaosHeavySize((8, 16, 32, 64), 12, n_steps=20),
    "quick": ChaosHeavySize(tuple(2**k for k in range(4, 11)), 48),
    "full": ChaosHeavySize(tuple(2**k for k in range(4, 13)), 128, n_steps=500),
}


@dataclass(frozen=True, eq=False)
class ChaosHeavyData(FigureData):
    """n Var against n and the fitted slopes, per cell (alpha, type).

    Attributes
    ----------
    widths : ndarray of int
    outputs, weights, null : Intervals, shape (cell, width)
        exp of the mean log n Var, with its interval at the claim's level: the trained
        networks' outputs and weight test functions, and the null control's outputs.
    outputs_fit, weights_fit, null_fit, positive_outputs_fit, positive_weights_fit :
        tuple of VarianceSlope, one per cell
        The fits log n Var = c + s log n + b / n. The positive ones are on i.i.d. units
        of the law of the initialisation plus all the injected noise (no training); the
        null one on the same units with the noise drawn once per replicate and shared
        by its units (dependent by construction).
    params : ChaosHeavySize
    """

    widths: npt.NDArray[np.int64]
    outputs: Intervals
    weights: Intervals
    null: Intervals
    outputs_fit: tuple[VarianceSlope, ...]
    weights_fit: tuple[VarianceSlope, ...]
    null_fit: tuple[VarianceSlope, ...]
    positive_outputs_fit: tuple[VarianceSlope, ...]
    positive_weights_fit: tuple[VarianceSlope, ...]
    params: ChaosHeavySize


def _train(
    params: ChaosHeavySize, noise: InjectedNoise, n: int, seed: int, batches: str
) -> MeanFieldRun:
    run = mean_field_sgd(
        n,
        params.dim,
        eta=params.eta,
        batch_size=params.batch_size,
        n_steps=params.n_steps,
        n_replicates=params.replicates,
        network=MeanFieldNetwork(train_second_layer=False, second_layer_init="ones"),
        data=MeanFieldData(inputs="sphere", batches=batches, test_size=0),  # type: ignore[arg-type]
        injected_noise=noise,
        rng=seed,
    )
    if run.n_diverged:
        raise RuntimeError(f"{run.n_diverged} replicates diverged at n = {n} ({noise})")
    return run


def _weight_functions(w: FloatArray, v: FloatArray) -> FloatArray:
    """Unit averages of the TEST_FUNCTIONS, shape (R, 2)."""
    norm = np.linalg.norm(w, axis=2)
    h = np.stack([np.tanh(w @ v), norm / (1.0 + norm)], axis=2)
    return np.asarray(h.mean(axis=1), dtype=np.float64)


def independent_units(
    params: ChaosHeavySize,
    alpha: float,
    noise_type: NoiseType,
    n: int,
    rng: np.random.Generator,
    *,
    shared: bool = False,
) -> FloatArray:
    """Units of the law of the initialisation plus all the noise, without training.

    w_i = w_i(0) + sigma (eta K)^(1/alpha) L_i, w_i(0) ~ N(0, I/d), K = ``n_steps``: the
    sum of the K injected draws sigma eta^(1/alpha) L has that law (stability), for type
    1 (one scalar per unit on every coordinate) and type 3 (an elliptic vector per
    unit). Shape (R, n, dim). ``shared=False``: every unit independent of every other
    (chaos holds exactly). ``shared=True``: one L per replicate, added to all its units,
    so that the units are dependent through it (chaos fails: n Var grows like n).
    """
    r, d = params.replicates, params.dim
    w0 = rng.standard_normal((r, n, d)) / math.sqrt(d)
    scale = params.sigma * (params.eta * params.n_steps) ** (1.0 / alpha)
    m = 1 if shared else n
    if noise_type == 1:
        s = sample_stable(alpha, (r, m), rng=rng)
        noise = np.repeat(s[:, :, None], d, axis=2)
    else:
        noise = sample_elliptic_stable(alpha, r * m, d, rng=rng).reshape(r, m, d)
    return np.asarray(w0 + scale * noise, dtype=np.float64)


def _fit(points: Sequence[ScaledVariance], level: float) -> VarianceSlope:
    return variance_slope(points, level, paired=True, inverse_width=True)


def _cell_label(alpha: float, noise_type: NoiseType) -> str:
    return f"alpha = {alpha:g}, type {noise_type}"


def measure(params: ChaosHeavySize, rng: np.random.Generator) -> Evidence[ChaosHeavyData]:
    """Per cell: train every width on shared batches, fit the slopes; the controls."""
    book = CheckBook(params, n_checks=N_CHECKS)
    level = book.level
    probe_rng, cell_rng = rng.spawn(2)
    x_probe = probe_rng.standard_normal((N_PROBE, params.dim))
    x_probe *= math.sqrt(params.dim) / np.linalg.norm(x_probe, axis=1, keepdims=True)
    teacher_w, _ = Teacher().weights(params.dim)
    v = teacher_w[0] / np.linalg.norm(teacher_w[0])

    fits: dict[str, list[VarianceSlope]] = {k: [] for k in ("out", "w", "null", "pos_o", "pos_w")}
    series: dict[str, list[Measurement]] = {k: [] for k in ("out", "w", "null")}
    wrong = [Control(f"control: slope {s:+g}", s) for s in CONTROL_SLOPES]
    for (alpha, typ), g in zip(CELLS, cell_rng.spawn(len(CELLS)), strict=True):
        noise = InjectedNoise(alpha, params.sigma, NOISE_KINDS[typ - 1])
        seed = int(g.integers(2**63))
        out_sv, w_sv, null_sv, pos_o, pos_w = [], [], [], [], []
        for n in params.widths:
            run = _train(params, noise, n, seed, "shared")
            out_sv.append(scaled_variance(run.outputs(x_probe), n))
            w_sv.append(scaled_variance(_weight_functions(run.w, v), n))
        # Nested units: width n takes the first n (paired, like the trained runs).
        units = independent_units(params, alpha, typ, params.widths[-1], g)
        tied = independent_units(params, alpha, typ, params.widths[-1], g, shared=True)
        for n in params.widths:
            pos_o.append(scaled_variance(probe_outputs(units[:, :n], None, x_probe), n))
            pos_w.append(scaled_variance(_weight_functions(units[:, :n], v), n))
            null_sv.append(scaled_variance(probe_outputs(tied[:, :n], None, x_probe), n))
        cell = {
            "out": _fit(out_sv, level),
            "w": _fit(w_sv, level),
            "null": _fit(null_sv, level),
            "pos_o": _fit(pos_o, level),
            "pos_w": _fit(pos_w, level),
        }
        for key, fit in cell.items():
            fits[key].append(fit)
        series["out"] += [log_interval(s, level) for s in out_sv]
        series["w"] += [log_interval(s, level) for s in w_sv]
        series["null"] += [log_interval(s, level) for s in null_sv]
        label = _cell_label(alpha, typ)
        book.check(
            f"{label}: outputs at {N_PROBE} fixed inputs, slope of log n Var",
            0.0,
            cell["out"].slope,
            RULE,
            *wrong,
            Control(
                f"{label}; positive control: {POSITIVE_LABEL}, outputs, slope 0",
                0.0,
                cell["pos_o"].slope,
                kind=ControlKind.POSITIVE,
            ),
            Control(
                f"{label}; null control: {NULL_LABEL}, slope 0",
                0.0,
                cell["null"].slope,
                kind=ControlKind.NULL,
            ),
            trend=True,
        )
        book.check(
            f"{label}: unit averages of {and_list(list(TEST_FUNCTIONS))}, slope of log n Var",
            0.0,
            cell["w"].slope,
            RULE,
            *wrong,
            Control(
                f"{label}; positive control: {POSITIVE_LABEL}, weight averages, slope 0",
                0.0,
                cell["pos_w"].slope,
                kind=ControlKind.POSITIVE,
            ),
            trend=True,
        )
    k, nw = len(CELLS), len(params.widths)
    data = ChaosHeavyData(
        widths=np.array(params.widths, dtype=np.int64),
        outputs=Intervals.of(series["out"]).reshape(k, nw),
        weights=Intervals.of(series["w"]).reshape(k, nw),
        null=Intervals.of(series["null"]).reshape(k, nw),
        outputs_fit=tuple(fits["out"]),
        weights_fit=tuple(fits["w"]),
        null_fit=tuple(fits["null"]),
        positive_outputs_fit=tuple(fits["pos_o"]),
        positive_weights_fit=tuple(fits["pos_w"]),
        params=params,
    )
    return book.evidence(
        data,
        model=(
            "f(x) = (1/n) Σ tanh(w_i·x), fixed second layer a_i = 1, inputs uniform on the "
            f"sphere of radius sqrt(d), online squared loss, teacher {Teacher()}, label "
            "noise 0.1, batches shared by the replicates, noise sigma eta^(1/alpha) L "
            "after every step"
        ),
        cells=[_cell_label(a, t) for a, t in CELLS],
        statistic="mean over columns of log(n Var across replicates), jackknife over replicates",
        fit="log n Var = c + s log n + b/n, paired widths (jackknife of s over replicates)",
    )


#: The controls on other data.
POSITIVE_LABEL = "i.i.d. units of the law of the initialisation plus all the noise"
NULL_LABEL = "the same units with one noise draw per replicate, shared by its units"


def draw(evidence: Evidence[ChaosHeavyData], axes: Sequence[Axes]) -> Caption:
    """n Var of the outputs against n per cell, with the null; every slope."""
    var_ax, slope_ax = axes
    d, s = evidence.data, evidence.data.params
    level = evidence.checks[0].measurement.level
    for i, (alpha, typ) in enumerate(CELLS):
        color = PALETTE[i % len(PALETTE)]
        iv, fit = d.outputs[i], d.outputs_fit[i]
        var_ax.errorbar(
            d.widths, iv.estimate, yerr=iv.yerr, color=color, linestyle="none", **MEASURED
        )
        grid = np.geomspace(d.widths[0], d.widths[-1], 100)
        var_ax.plot(grid, fit.fitted(grid), color=color, label=_cell_label(alpha, typ))
        nv = d.null[i]
        var_ax.plot(d.widths, nv.estimate, color=color, linestyle=":", marker="x")
    var_ax.plot([], [], color="0.4", linestyle=":", marker="x", label="null: shared noise draw")
    var_ax.set(
        xscale="log",
        yscale="log",
        xlabel="width n",
        ylabel="n · Var of the outputs across replicates",
        title="Outputs under stable noise: n Var against n (chaos: flat)",
    )
    width_ticks(var_ax, d.widths)
    var_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=6.5)

    rows: list[tuple[str, VarianceSlope]] = []
    for i, (alpha, typ) in enumerate(CELLS):
        tag = f"α={alpha:g} t{typ}"
        rows += [
            (f"{tag} outputs", d.outputs_fit[i]),
            (f"{tag} weights", d.weights_fit[i]),
            (f"{tag} positive", d.positive_outputs_fit[i]),
            (f"{tag} null", d.null_fit[i]),
        ]
    draw_slopes(slope_ax, [f.slope for _, f in rows], [r for r, _ in rows], level)
    slope_ax.set(title="Slopes against the prediction 0")
    slope_ax.tick_params(axis="y", labelsize=6)
    slope_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=6.5)
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
