"""Claim ``meanfield.noise_compress``: injected stable noise makes wide layers compressible.

The network and its noise are Wan et al.'s (:mod:`.meanfield_wan`); the sizes and the
runs are in :mod:`.meanfield_noise_compress_grid`, the figure is drawn by
:mod:`.meanfield_noise_compress_figure`, and the measurement behind the rules'
tolerances is :mod:`.meanfield_noise_tolerances`. This module judges the runs.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from heavytail._lib._types import FloatArray

from .._kit.book import (
    CheckBook,
    Control,
    FigureData,
    Intervals,
    and_list,
    number_set,
    staged_measure,
)
from .._kit.claim import Claim, Evidence, Layout
from .._kit.stats import fit_rate, tail_interval
from .._kit.verdict import ControlKind, Measurement, Relation, Rule
from .meanfield_noise_compress_figure import cell_label, draw
from .meanfield_noise_compress_grid import (
    KAPPAS,
    POSITIVE_ALPHA,
    NoiseCell,
    NoiseCompressGrid,
    NoiseCompressSize,
    run_grid,
)
from .meanfield_wan import (
    ALPHAS,
    CELLS,
    GAUSSIAN,
    NOISE_TYPES,
    WAN_SQUARED_ERROR,
)

__all__ = [
    "ALPHAS",
    "CELLS",
    "CLAIM",
    "KAPPAS",
    "NOISE_TYPES",
    "NoiseCell",
    "NoiseCompressData",
    "NoiseCompressGrid",
    "NoiseCompressJudged",
    "NoiseCompressSize",
    "check_labels",
    "figure_data",
    "judge",
    "run_grid",
    "welch_difference",
]


#: The rules: each rate within its tolerance of 1/2 - 1/alpha (measured by
#: :func:`~.meanfield_noise_tolerances.iid_slope_table`), the Gaussian rates within
#: theirs of 0, the tails equal to alpha.
RATE_TOLERANCE = 0.026
_RATE_REASON = (
    "The finite-variance part of the weights (initialisation and drift) adds order-n sums "
    "to the kept and the dropped squared norms, so the local slope is "
    "(1/2 - 1/alpha)(1 - psi_n)(1 - err^2), psi_n the finite-variance share of the kept "
    "sum (order n^(1 - 2/alpha)): shallower than 1/2 - 1/alpha. Measured on i.i.d. "
    "columns N(0, I/d) + sigma T^(1/alpha) L (the initialisation, and exactly the law of "
    "all the injected noise, T = eta x steps) over the quick widths with 1000 replicates "
    "(iid_slope_table): shallower by at most 0.0194 (alpha = 1.75, type 1, kappa = 0.1; "
    "standard error 0.0034), by at most 0.0075 for alpha = 1.5 (0.0058); hence the "
    "largest bias plus two standard errors, 0.026. The drift is not in that model."
)
GAUSSIAN_TOLERANCE = 0.0031
_GAUSSIAN_REASON = (
    "k = ceil(kappa n) keeps a fraction above kappa at small n (7/64 at kappa = 0.1), and "
    "the error of i.i.d. finite-variance norms converges at order 1/n: on i.i.d. columns "
    "N(0, I/d) + sigma T^(1/2) N(0, 2) (the initialisation and the Gaussian noise's law) "
    "the slopes over the quick widths are -0.0018 to +0.0025 (iid_slope_table, 1000 "
    "replicates, standard errors <= 0.0004); hence the largest plus two standard "
    "errors, 0.0031."
)


def predicted_slope(alpha: float) -> float:
    """1/2 - 1/alpha: the rate of the node-pruning error of i.i.d. norms of index alpha."""
    return 0.5 - 1.0 / alpha


#: The slowest heavy-tailed rate of the grid, which a Gaussian slope must be told from.
_SLOWEST = predicted_slope(max(ALPHAS))


def _rate_rule(alpha: float) -> Rule:
    gap = abs(predicted_slope(alpha))
    return Rule(
        Relation.EQUAL,
        RATE_TOLERANCE,
        _RATE_REASON,
        max_width=gap,
        width_reason=(
            f"an interval wider than the distance ({gap:.3f}) to slope 0, no "
            "compressibility, could not tell the two apart."
        ),
    )


GAUSSIAN_RULE = Rule(
    Relation.EQUAL,
    GAUSSIAN_TOLERANCE,
    _GAUSSIAN_REASON,
    max_width=abs(_SLOWEST),
    width_reason=(
        f"an interval wider than the distance ({abs(_SLOWEST):.3f}) to the slowest "
        f"heavy-tailed rate of the grid (alpha = {max(ALPHAS):g}) could not tell a "
        "positive limit from compressibility."
    ),
)


def _tail_rule(alpha: float) -> Rule:
    width = 2.0 * (GAUSSIAN - alpha)
    return Rule(
        Relation.EQUAL,
        0.0,
        "",
        max_width=width,
        width_reason=(
            f"compressibility in ell_2 needs a tail index below 2; an interval wider than "
            f"{width:g}, twice the distance from alpha to 2, would hold 2 if centred at "
            "alpha."
        ),
    )


SIZES = {
    # Machinery only: intervals too wide for verdicts.
    "smoke": NoiseCompressSize((32, 64, 128), 8, 4, n_steps=10),
    "quick": NoiseCompressSize((64, 512, 4096), 64, 16),
    "full": NoiseCompressSize((64, 256, 1024, 4096, 16384), 128, 32),
}

#: Wan et al.'s measure: heavy-tailed runs remove more columns than Gaussian ones (a sign).
REMOVABLE_RULE = Rule(Relation.AT_LEAST, 0.0, "")


def welch_difference(x: FloatArray, y: FloatArray, level: float) -> Measurement:
    """mean(x) - mean(y) with a Welch (unequal-variance Student-t) interval."""
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(vx + vy)
    diff = float(x.mean() - y.mean())
    if se == 0.0:
        return Measurement(diff, diff, diff, level=level)
    dof = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    half = float(stats.t.ppf(0.5 + level / 2.0, dof) * se)
    return Measurement(diff, diff - half, diff + half, level=level)


def _rate_label(alpha: float, noise_type: int, kappa: float) -> str:
    return f"alpha = {alpha:g}, type {noise_type}, κ = {kappa:g}: slope of log error"


def _tail_label(alpha: float, noise_type: int) -> str:
    return f"alpha = {alpha:g}, type {noise_type}: tail index of the column norms"


def _gaussian_label(noise_type: int, kappa: float) -> str:
    return f"Gaussian noise, type {noise_type}, κ = {kappa:g}: slope 0 (positive limit)"


def _removable_label(alpha: float, noise_type: int, n_max: int) -> str:
    return (
        f"alpha = {alpha:g}, type {noise_type}, n = {n_max}: removable fraction at squared "
        f"error {WAN_SQUARED_ERROR:g}, heavy minus Gaussian"
    )


def check_labels(params: NoiseCompressSize) -> list[str]:
    """The checks, in the order they are made: (1) the rates, (2) the tails, (3) the
    Gaussian rates, (4) Wan et al.'s removable fraction."""
    return [
        *(_rate_label(a, t, kappa) for a, t in CELLS for kappa in KAPPAS),
        *(_tail_label(a, t) for a, t in CELLS),
        *(_gaussian_label(t, kappa) for t in NOISE_TYPES for kappa in KAPPAS),
        *(_removable_label(a, t, params.widths[-1]) for a, t in CELLS),
    ]


N_CHECKS = len(check_labels(SIZES["quick"]))


@dataclass(frozen=True, eq=False)
class NoiseCompressJudged(FigureData):
    """The judged intervals, per cell of the grid (in its order).

    Attributes
    ----------
    slope : Intervals, shape (cell, kappa)
        Fitted slope of log error on log n (cluster-robust by replicate).
    tail : Intervals, shape (cell,)
        The tail index of the column norms at the widest width (estimate_tail_index).
    """

    slope: Intervals
    tail: Intervals


@dataclass(frozen=True, eq=False)
class NoiseCompressData(NoiseCompressJudged):
    """Errors against n, their slopes (:class:`NoiseCompressJudged`), the column norms' tail.

    Attributes
    ----------
    widths : ndarray of int
    cells : tuple of (alpha, type)
        The heavy-tailed cells, then the Gaussian ones (alpha = 2).
    kappas : tuple of float
    prediction, tolerance : ndarray, shape (cell,)
        The predicted slope of each cell (0 for Gaussian noise) and its rule's tolerance.
    error_median : ndarray, shape (cell, kappa, width)
        Geometric mean over replicates of the relative node-pruning error.
    norm_quantiles : ndarray, shape (cell, q)
        Upper quantiles of the norms / their median at the widest width, at the
        survival probabilities ``survival``.
    survival : ndarray, shape (q,)
    removable : tuple of ndarray
        Per cell, Wan et al.'s removable fraction of each replicate at the widest width.
    params : NoiseCompressSize
    """

    widths: npt.NDArray[np.int64]
    cells: tuple[tuple[float, int], ...]
    kappas: tuple[float, ...]
    prediction: FloatArray
    tolerance: FloatArray
    error_median: FloatArray
    norm_quantiles: FloatArray
    survival: FloatArray
    removable: tuple[FloatArray, ...]
    params: NoiseCompressSize


SURVIVAL = np.geomspace(0.5, 1e-4, 25)


def judge(grid: NoiseCompressGrid, book: CheckBook) -> NoiseCompressJudged:
    """Fit the rates and estimate the tails at the claim's level; the four families of
    checks with their controls (:func:`check_labels`)."""
    params = grid.params
    level = book.declare(check_labels(params))
    fits: dict[tuple[float, int], list[Measurement]] = {}
    tail_by: dict[tuple[float, int], Measurement] = {}
    for cell in grid.cells:
        key = (cell.alpha, cell.noise_type)
        fits[key] = [
            fit_rate(params.widths, cell.errors[:, :, k], level=level).slope
            for k in range(len(KAPPAS))
        ]
        tail_by[key] = tail_interval(cell.norms, level, cell.tail_rng)

    for alpha, typ in CELLS:
        gauss = fits[(GAUSSIAN, typ)]
        for k, kappa in enumerate(KAPPAS):
            book.check(
                _rate_label(alpha, typ, kappa),
                predicted_slope(alpha),
                fits[(alpha, typ)][k],
                _rate_rule(alpha),
                Control(
                    f"alpha = {alpha:g}, type {typ}, κ = {kappa:g}; alternative: slope 0",
                    0.0,
                    kind=ControlKind.ALTERNATIVE,
                ),
                Control(
                    f"type {typ}, κ = {kappa:g}; null control: Gaussian-noise data, slope "
                    f"1/2 - 1/{alpha:g}",
                    predicted_slope(alpha),
                    gauss[k],
                    kind=ControlKind.NULL,
                ),
            )
    for alpha, typ in CELLS:
        book.check(
            _tail_label(alpha, typ),
            alpha,
            tail_by[(alpha, typ)],
            _tail_rule(alpha),
            Control(
                f"type {typ}; null control: Gaussian-noise norms, tail index {alpha:g}",
                alpha,
                tail_by[(GAUSSIAN, typ)],
                kind=ControlKind.NULL,
            ),
        )
    for typ in NOISE_TYPES:
        for k, kappa in enumerate(KAPPAS):
            book.check(
                _gaussian_label(typ, kappa),
                0.0,
                fits[(GAUSSIAN, typ)][k],
                GAUSSIAN_RULE,
                Control(
                    f"Gaussian noise, type {typ}, κ = {kappa:g}; alternative: slope "
                    f"1/2 - 1/{max(ALPHAS):g}",
                    _SLOWEST,
                    kind=ControlKind.ALTERNATIVE,
                ),
            )
    # Wan et al.'s measure at the widest width: more columns removable with heavy noise.
    planted = welch_difference(grid.planted_heavy, grid.planted_gaussian, level)
    for alpha, typ in CELLS:
        gauss_rm = grid.cell(GAUSSIAN, typ).removable
        half = gauss_rm.size // 2
        book.check(
            _removable_label(alpha, typ, params.widths[-1]),
            0.0,
            welch_difference(grid.cell(alpha, typ).removable, gauss_rm, level),
            REMOVABLE_RULE,
            Control(
                f"type {typ}; null control: Gaussian-noise runs, one half minus the other",
                0.0,
                welch_difference(gauss_rm[:half], gauss_rm[half:], level),
                kind=ControlKind.NULL,
            ),
            Control(
                f"positive control: i.i.d. columns, noise of index {POSITIVE_ALPHA:g} "
                "minus Gaussian noise (the injected noise's law, no training)",
                0.0,
                planted,
                kind=ControlKind.POSITIVE,
            ),
            trend=True,
        )
    keys = [(c.alpha, c.noise_type) for c in grid.cells]
    return NoiseCompressJudged(
        Intervals.of(itertools.chain.from_iterable(fits[k] for k in keys)).reshape(
            len(keys), len(KAPPAS)
        ),
        Intervals.of(tail_by[k] for k in keys),
    )


def figure_data(grid: NoiseCompressGrid, judged: NoiseCompressJudged) -> NoiseCompressData:
    """Geometric-mean errors and the norms' upper quantiles per cell, with the judged fits."""
    cells = grid.cells
    gaussian = [c.alpha == GAUSSIAN for c in cells]
    return NoiseCompressData(
        slope=judged.slope,
        tail=judged.tail,
        widths=np.array(grid.params.widths, dtype=np.int64),
        cells=tuple((float(c.alpha), int(c.noise_type)) for c in cells),
        kappas=KAPPAS,
        prediction=np.array(
            [0.0 if g else predicted_slope(c.alpha) for c, g in zip(cells, gaussian, strict=True)]
        ),
        tolerance=np.array([GAUSSIAN_TOLERANCE if g else RATE_TOLERANCE for g in gaussian]),
        error_median=np.array([np.exp(np.log(c.errors).mean(axis=0)).T for c in cells]),
        norm_quantiles=np.array(
            [np.quantile(c.norms, 1.0 - SURVIVAL) / np.median(c.norms) for c in cells]
        ),
        survival=SURVIVAL,
        removable=tuple(c.removable for c in cells),
        params=grid.params,
    )


def _settings(grid: NoiseCompressGrid, _: NoiseCompressJudged) -> dict[str, Any]:
    params = grid.params
    return {
        "model": (
            "f(x) = (1/n) Σ tanh(w_i·x), a_i = 1 fixed, online squared loss with the default "
            "teacher, W += σ η^(1/α) L after every step"
        ),
        "error": "node pruning of W (d x n): relative Frobenius error keeping ceil(κ n) columns",
        "fit": "OLS of log error on log n, cluster-robust by replicate (statsmodels)",
        "tail": "estimate_tail_index (auto) on the R n_max norms, 95% sides widened (log scale)",
        "kappas": KAPPAS,
        "theorem_step_size_bound": (
            f"eta <= n^(-alpha/2 - 1): {params.widths[-1] ** (-min(ALPHAS) / 2 - 1):.2g} "
            f"at n = {params.widths[-1]}, alpha = {min(ALPHAS):g}; run at eta = {params.eta:g}"
        ),
    }


#: Train each cell at every width, prune, fit the rates, estimate the tails; judge.
measure = staged_measure(run_grid, judge, figure_data, _settings)


_Q = SIZES["quick"]

_STATEMENT = (
    "Wan, Barsbey, Zaidi & Şimşekli's modified SGD adds σ η^(1/α) L to the first layer "
    "after every step, L alpha-stable (type 1: one scalar per unit added to every "
    "coordinate; type 3: one elliptic vector per unit). The column norms ‖w_i‖ then have "
    "tail index alpha, and the node-pruned first layer (keep the ceil(κ n) columns of "
    "largest norm) has a relative Frobenius error that tends to 0 as n grows, like "
    "n^(1/2 - 1/alpha) for i.i.d. norms (docs/theory.md, section 1). Checked on a tanh network "
    f"with a_i = 1 fixed (d = {_Q.dim}, b = {_Q.batch_size}, online squared loss with a fixed "
    f"teacher, σ = {_Q.sigma:g}, {_Q.n_steps} steps) for alpha in {number_set(ALPHAS)}, types "
    f"{and_list([str(t) for t in NOISE_TYPES])} and κ in {number_set(KAPPAS)}, at widths "
    f"n = 2^{int(math.log2(_Q.widths[0]))}..2^{int(math.log2(_Q.widths[-1]))} "
    f"with {_Q.replicates} replicates each. The theorem asks for η <= n^(-α/2 - 1) "
    f"({_Q.widths[-1] ** (-min(ALPHAS) / 2 - 1):.1g} at n = {_Q.widths[-1]}, α = "
    f"{min(ALPHAS):g}), out of reach of any run at these widths: the claim runs at the fixed "
    f"η = {_Q.eta:g}, as the paper's experiments do. Checks: (1) the slope of log error in log "
    "n, fitted on replicates, equals 1/2 - 1/alpha within "
    f"{RATE_TOLERANCE:g}: the finite-variance part of the weights (initialisation and "
    "drift) adds order-n sums to the kept and dropped squared norms, so the local slope is "
    "(1/2 - 1/alpha)(1 - psi_n)(1 - err²), psi_n the finite-variance share of the kept "
    "sum, which decays like n^(1 - 2/alpha): a pre-asymptotic bias towards 0, measured on "
    "i.i.d. columns with the same initialisation and noise as at most 0.019 (0.026 with "
    "two standard errors, the tolerance); controls: "
    "slope 0, and the same prediction on Gaussian-noise data; (2) the tail index of the "
    "column norms at the widest width (estimate_tail_index, its interval at the claim's "
    "level) equals alpha, informative if narrower than 2(2 - alpha); control: the "
    "Gaussian-noise norms; (3) with Gaussian noise (alpha = 2) at the same scale the error "
    f"stays at a positive limit: slope 0 within {GAUSSIAN_TOLERANCE:g} (the rounding of "
    "ceil(κ n) and the 1/n convergence of i.i.d. norms, measured); control: slope "
    f"1/2 - 1/{max(ALPHAS):g}; (4) Wan et al.'s own measure (their analyze.py: criterion "
    "'mce', squared Frobenius error, last layer ignored, here the fixed a): the fraction of "
    "units (columns of the d x n first layer), smallest norms first, removable while the "
    f"squared relative Frobenius error stays at most {WAN_SQUARED_ERROR:g}, compared at the "
    f"widest width n = {_Q.widths[-1]}: heavy-tailed runs minus Gaussian runs of the same "
    "type (Welch interval) is above 0, a sign check; null control: the Gaussian runs split "
    "in two halves (no effect by construction: must not agree); positive control: the "
    f"same measure on i.i.d. columns N(0, I/d) + c L 1_d with L of index {POSITIVE_ALPHA:g} "
    "against Gaussian L, c the scale of all the noise a run injects (a known effect "
    f"through the same measure: must be detected). Intervals are Bonferroni over the "
    f"{N_CHECKS} checks. Controls: the alternatives (slope 0 for the heavy rates, the "
    "slowest heavy rate for the Gaussian slopes) must be rejected; the null controls "
    "(Gaussian-noise data judged against the heavy-tailed predictions) must not agree."
)


def findings(evidence: Evidence[NoiseCompressData]) -> str:
    """What the run found, from its evidence."""
    from .._kit.claim import default_findings

    d = evidence.data
    parts = [default_findings(evidence)]
    said = []
    for c, (alpha, typ) in enumerate(d.cells):
        said.append(f"{cell_label(alpha, typ)} {float(np.mean(d.removable[c])):.3f}")
    parts.append(
        f"Mean removable fraction at squared error {WAN_SQUARED_ERROR:g} (n = "
        f"{d.widths[-1]:,}): " + "; ".join(said) + "."
    )
    verdicts: dict[str, list[str]] = {}
    for check in evidence.checks:
        if "removable" in check.label:
            verdicts.setdefault("removable", []).append(check.verdict.value)
        elif "tail index" in check.label:
            verdicts.setdefault("tail", []).append(check.verdict.value)
        elif "Gaussian noise" in check.label:
            verdicts.setdefault("gaussian", []).append(check.verdict.value)
        else:
            verdicts.setdefault("rate", []).append(check.verdict.value)
    parts.append(
        "Verdicts by family: "
        + "; ".join(
            f"{name}: " + ", ".join(f"{v.count(x)} {x}" for x in sorted(set(v)))
            for name, v in verdicts.items()
        )
        + "."
    )
    return " ".join(parts)


CLAIM = Claim(
    id="meanfield.noise_compress",
    title="stable noise injection and compressibility",
    statement=_STATEMENT,
    formula=(
        "‖W − W_κ‖_F / ‖W‖_F ≍ n^(1/2 − 1/α) → 0 (α < 2);  P(‖w_i‖ > t) ~ c t^(−α);  "
        "α = 2: → G(κ) > 0"
    ),
    source=(
        "Wan, Barsbey, Zaidi & Şimşekli, 'Implicit compressibility of overparametrized "
        "neural networks trained with heavy-tailed SGD', ICML 2024 (docs/theory.md, section 6); "
        "the rate: docs/theory.md, section 1 (derived), Gribonval, Cevher & Davies (2012)"
    ),
    sizes=SIZES,
    measure=measure,
    draw=draw,
    layout=Layout(4, ncols=2, width=4.4, height=3.6),
    findings=findings,
)
