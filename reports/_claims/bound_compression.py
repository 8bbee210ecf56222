"""Claim ``bound.compression``: the node-pruning bound's two-sided prediction, alpha < 1
against alpha in (1, 2), each against the Gaussian on the same grid.

The networks, their training and bounds are in :mod:`.bound_compression_grid`; the figure
in :mod:`.bound_compression_figure`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from heavytail._lib._types import FloatArray

from .._kit.book import CheckBook, Control, number_set, staged_measure
from .._kit.claim import Claim, Evidence, Layout, default_findings
from .._kit.stats import clopper_pearson, fit_rate, mean_interval
from .._kit.verdict import ControlKind, Measurement, Relation, Rule
from .bound_compression_figure import BoundData, draw, geometric_ratio
from .bound_compression_grid import (
    BATCH,
    DATASET_SIZE,
    DELTA,
    DIM,
    ETA,
    GAUSS,
    HEAVY,
    LABEL_NOISE,
    LIGHT,
    LOG2_KAPPA_PAYS,
    MARGIN,
    NOISE_FACTOR,
    NOISES,
    NULL,
    PLANT_SHRINK,
    PLANTED,
    TEACHER,
    BoundGrid,
    BoundSize,
    Design,
    noise_scale,
    run_grid,
)

__all__ = ["CLAIM", "BoundData", "BoundSize", "findings"]

SIZES = {
    "smoke": BoundSize((64, 256), (1_024, 4_096), 3, 200, 500),
    "quick": BoundSize((64, 256, 1_024, 4_096), (4_096, 16_384, 65_536), 5, 500, 1_000),
    "full": BoundSize(
        (64, 256, 1_024, 4_096, 16_384),
        (4_096, 16_384, 65_536, 262_144, 1_048_576),
        10,
        500,
        10_000,
    ),
}

#: Least average log count per parameter, log(R / rho) = log_cover / q, for which the
#: slope tolerance below holds; the test checks it on the runs.
MIN_LOG_RATIO = 5.0
SLOPE_TOLERANCE = 0.05
_SLOPE_REASON = (
    "at kappa = 1 the bound is min over rho of 2 rho / gamma + M sqrt((q l + c) / (2 m)) "
    "with q = n (d + 1), l = log(R / rho) the log count per parameter and c the log of "
    "the confidence. At the optimum the cover term is C / (2 l), C the complexity term, "
    "and by the envelope theorem d log(bound) / d log n = (1/2)(1 + s / l) / (1 + 1/(2 l)), "
    "s in [0, 1] the growth exponent of the largest kept |a| ||w|| in n: it differs from "
    f"1/2 by at most 1 / (4 l) <= 0.05 for l >= {MIN_LOG_RATIO:g}"
)
SLOPE_RULE = Rule(
    Relation.EQUAL,
    SLOPE_TOLERANCE,
    _SLOPE_REASON,
    max_width=0.25,
    width_reason="half the distance (0.5) to the control's slope 0",
)
VALIDITY_RULE = Rule(Relation.AT_MOST, 0.0, "")
#: Orderings and trends: an interval wholly on the predicted side of 0.
BELOW_RULE = Rule(Relation.AT_MOST, 0.0, "")
NOT_BELOW_RULE = Rule(Relation.AT_LEAST, 0.0, "")
KAPPA_RULE = Rule(Relation.AT_MOST, 0.0, "")
#: The noises whose trained bound is checked for the slope 1/2 in n at kappa = 1.
SLOPE_NOISES = (HEAVY, GAUSS)


def _worst(measurements: Sequence[Measurement], level: float) -> Measurement:
    """The largest of several quantities, from intervals that hold simultaneously."""
    return Measurement(
        max(m.estimate for m in measurements),
        max(m.low for m in measurements),
        max(m.high for m in measurements),
        level=level,
    )


def _validity_label(n_points: int) -> str:
    return f"validity: max over the {n_points} trained points of mean(test - train - bound)"


def _slope_label(noise: int) -> str:
    return f"trained, {NOISES[noise][0]}: slope of log bound against log n (κ = 1)"


def _side_labels(design: Design) -> tuple[str, str, str, str, str]:
    """The labels of the five checks of one design, in the order they are made."""
    at, name = f"n = {design.widths[-1]:,}", design.name
    light, heavy = NOISES[LIGHT][0], NOISES[HEAVY][0]
    return (
        f"{name}, {light}: bound below the Gaussian's at {at}: mean log(bound / Gaussian)",
        f"{name}, {light}: pruning pays at {at}: 1/2 - share of replicates with κ < 1",
        f"{name}, {light}: ratio to the Gaussian falls with n: slope of log ratio in log n",
        f"{name}, {heavy}: bound not below the Gaussian's at {at}: mean log(bound / Gaussian)",
        f"{name}, {heavy}: ratio to the Gaussian does not fall with n: slope in log n",
    )


def pays_share(kappas: FloatArray, level: float) -> Measurement:
    """1/2 minus the share of replicates whose chosen κ is at least one grid step below 1
    (log2 κ <= LOG2_KAPPA_PAYS), with its exact (Clopper-Pearson) interval at ``level``.

    κ is chosen on a grid, so replicates often all choose the same one; a mean of log2 κ
    would then have no spread and a t-interval of width 0, a certainty that a few draws of
    a discrete outcome do not give. The share's exact interval does: with 5 replicates all
    alike it reaches past 1/2 at the claim's level; with 10, it does not.
    """
    pays = int(np.count_nonzero(np.log2(kappas) <= LOG2_KAPPA_PAYS))
    share = clopper_pearson(pays, kappas.size, level)
    return Measurement(0.5 - share.estimate, 0.5 - share.high, 0.5 - share.low, level=level)


def _two_sides(book: CheckBook, design: Design) -> None:
    """The five checks of one design, on its arrays (run, width, replicate)."""
    name, ns, bound, kappa, level = (
        design.name,
        design.widths,
        design.bound,
        design.kappa,
        book.level,
    )
    below, pays, falls, not_below, not_falls = _side_labels(design)

    def last(run: int) -> Measurement:
        return mean_interval(np.log(bound[run, -1] / bound[GAUSS, -1]), level=level)

    def slope(run: int) -> Measurement:
        return fit_rate(ns, (bound[run] / bound[GAUSS]).T, level=level).slope

    def log2k(run: int) -> Measurement:
        return pays_share(kappa[run, -1], level)

    def null(what: str, m: Measurement) -> Control:
        return Control(f"{name}: Gaussian (other seed){what}", 0.0, m, ControlKind.NULL)

    def positive(what: str, m: Measurement) -> Control:
        return Control(f"{name}: planted few-unit mass{what}", 0.0, m, ControlKind.POSITIVE)

    def light_below(
        label: str, statistic: Callable[[int], Measurement], what: str, *, trend: bool = False
    ) -> None:
        """The light noise's ``statistic`` below 0 (:data:`BELOW_RULE`), with the planted
        mass as positive and the Gaussian of another seed as null control."""
        book.check(
            label,
            0.0,
            statistic(LIGHT),
            BELOW_RULE,
            positive(what, statistic(PLANTED)),
            null(what, statistic(NULL)),
            trend=trend,
        )

    light_below(below, last, " vs Gaussian")
    book.check(
        pays,
        0.0,
        log2k(LIGHT),
        KAPPA_RULE,
        positive("", log2k(PLANTED)),
        Control(f"{name}: Gaussian", 0.0, log2k(GAUSS), ControlKind.NULL),
    )
    light_below(falls, slope, ", slope", trend=True)
    book.check(not_below, 0.0, last(HEAVY), NOT_BELOW_RULE, null(" vs Gaussian", last(NULL)))
    book.check(
        not_falls, 0.0, slope(HEAVY), NOT_BELOW_RULE, null(", slope", slope(NULL)), trend=True
    )


def judge(grid: BoundGrid, book: CheckBook) -> None:
    """Validity and the slope at kappa = 1 (sanity checks), then both sides per design."""
    gaps = grid.test_loss - grid.train_loss
    reps, n_points = grid.params.replicates, gaps[..., 0].size
    level = book.declare(
        [
            _validity_label(n_points),
            *(_slope_label(e) for e in SLOPE_NOISES),
            *(label for design in grid.designs for label in _side_labels(design)),
        ]
    )
    point_level = 1.0 - (1.0 - level) / n_points
    excess = [
        mean_interval(d, level=point_level)
        for d in (gaps - grid.trained.bound[: len(NOISES)]).reshape(-1, reps)
    ]
    book.check(
        _validity_label(n_points),
        0.0,
        _worst(excess, level),
        VALIDITY_RULE,
        Control(
            "test loss <= train loss (gap pooled over the trained points)",
            0.0,
            mean_interval(gaps.ravel(), level=level),
        ),
        sanity=True,
    )
    for e in SLOPE_NOISES:
        fit = fit_rate(grid.trained.widths, grid.trained.bound[e].T, level=level)
        book.check(
            _slope_label(e),
            0.5,
            fit.slope,
            SLOPE_RULE,
            Control(f"trained, {NOISES[e][0]}: slope 0 in n", 0.0),
            sanity=True,
        )
    for design in grid.designs:
        _two_sides(book, design)


def figure_data(grid: BoundGrid, _: None) -> BoundData:
    """The grid's measurements, read-only."""
    return BoundData(**{f.name: getattr(grid, f.name) for f in dataclasses.fields(grid)})


def _settings(grid: BoundGrid, _: None) -> dict[str, Any]:
    return {
        "alphas": number_set(a for _, a in NOISES),
        "noise_factor": NOISE_FACTOR,
        "noise_scales": ", ".join(
            f"{label}: {noise_scale(grid.params.n_steps, a):.3g}" for label, a in NOISES
        ),
        "dim": DIM,
        "eta": ETA,
        "batch_size": BATCH,
        "dataset_size": DATASET_SIZE,
        "margin": MARGIN,
        "delta": DELTA,
        "label_noise": LABEL_NOISE,
        "plant_shrink": PLANT_SHRINK,
        "teacher": f"{TEACHER.n_units} {TEACHER.activation} units, seed {TEACHER.seed}",
    }


#: Train and bound the networks of both designs, and judge the checks.
measure = staged_measure(run_grid, judge, figure_data, _settings)


def _ratio_text(bound: np.ndarray, run: int) -> str:
    return f"{geometric_ratio(bound, run)[-1]:.3g}"


def _kappa_text(kappa: np.ndarray, run: int) -> str:
    return number_set(np.unique(np.round(kappa[run, -1], 3)))


def findings(evidence: Evidence[BoundData]) -> str:
    """What the run found, from its numbers."""
    d = evidence.data
    parts = [default_findings(evidence)]
    for design in d.designs:
        bound, kappa = design.bound, design.kappa
        said = "; ".join(
            f"{NOISES[e][0]}: ratio {_ratio_text(bound, e)}, κ in {_kappa_text(kappa, e)}"
            for e in (LIGHT, HEAVY)
        )
        parts.append(
            f"{design.name.capitalize()} networks at n = {design.widths[-1]:,} (geometric "
            f"mean of bound / Gaussian bound, chosen κ): {said}; Gaussian κ in "
            f"{_kappa_text(kappa, GAUSS)}; planted control: ratio {_ratio_text(bound, PLANTED)}."
        )
    excess = (d.test_loss - d.train_loss).mean(axis=-1).max()
    parts.append(
        f"Largest mean measured gap of a trained point {excess:.3g}, against a smallest "
        f"mean bound of {d.trained.bound[: len(NOISES)].mean(axis=-1).min():.3g}."
    )
    return " ".join(parts)


_QUICK = SIZES["quick"]

CLAIM = Claim(
    id="bound.compression",
    title="node-pruning generalization bound: heavy tails below and above α = 1",
    statement=(
        "The pruning term of the compression bound of docs/generalization.md is an ell_1 "
        "sum of dropped path masses, and ell_1 compressibility needs a tail index α < 1 "
        "(docs/theory.md, section 1). The sharp prediction is two-sided: (a) at α < 1 "
        "heavy-tailed noise makes pruning pay (a kept fraction κ < 1 is chosen) and "
        "the bound falls below the Gaussian one, more so as n grows; (b) at α in (1, 2) "
        "it does not. Both sides are tested on the same grid, each against the Gaussian "
        "with the same data, initialisation and batches. Mean-field networks "
        f"f(x) = (1/n) Σ a_i tanh(w_i·x) in d = {DIM}, both layers trained by SGD (η = "
        f"{ETA:g}, batch {BATCH}, {_QUICK.n_steps} steps at quick size) on the logistic "
        f"loss of m = {DATASET_SIZE} points labelled sign(f*(x) + {LABEL_NOISE:g} ξ) by a "
        f"{TEACHER.n_units}-unit tanh teacher, inputs uniform on the sphere of radius "
        "sqrt(d) (B = sqrt(d)). After every step the first layer receives type-1 noise "
        "σ η^(1/α) L with α in " + number_set(a for _, a in NOISES) + ", σ chosen so "
        f"that the noise summed over the run, σ (ηT)^(1/α), is {NOISE_FACTOR:g} times "
        "the scale 1/sqrt(d) of one initial coordinate. The reason: the theorem's regime "
        "is path masses whose law is the noise's; at the initial scale the Gaussian "
        "initialisation sets the column norms of most units, their path masses are not "
        "compressible whatever α, and neither side could show. Two designs: trained "
        f"networks at n in {number_set(_QUICK.widths)}, and, to reach the large n where "
        "the ell_1 statement is asymptotic, the noise-only law of the same weights "
        "(W_0 plus the summed noise, a_0, no gradient) at n in "
        f"{number_set(_QUICK.law_widths)}. Checks, per design: at α = 0.8 the mean "
        "paired log(bound / Gaussian bound) at the largest n is below 0, pruning pays "
        "there in most replicates (the share whose chosen κ is at least one step of the "
        "grid 2^(-j/2) below 1 exceeds 1/2, by its exact Clopper-Pearson interval: κ is "
        "discrete), and the slope of the log ratio in log n is below 0 (a trend); at "
        "α = 1.5 the log ratio is not below 0 and its slope is not below 0. Positive "
        "control: the Gaussian networks with a planted heavy part, all but ceil(sqrt(n)) "
        f"units of largest path mass scaled by {PLANT_SHRINK:g} in a, where pruning "
        "provably pays and the ratio falls like n^(-1/4); null controls: Gaussian runs of "
        "another seed against the Gaussian (no effect by construction), and the Gaussian "
        "kept fraction. Sanity checks (shown, no evidence for agree): the bound lies above "
        "the measured ramp-loss gap at every trained point, on intervals simultaneous over "
        "the points (alternative control: test <= train loss), and the slope of log bound "
        f"in log n is 1/2 within {SLOPE_TOLERANCE:g} at κ = 1 (α = 1.5 and Gaussian; "
        "control slope 0). Ramp loss, margin γ = "
        f"{MARGIN:g}, δ = {DELTA:g}, {_QUICK.replicates} replicates per point. Expected "
        "from the bound's form (docs/generalization.md, 'Reading the bound'): the pruning "
        "term L B (1/n) Σ_dropped v_i is absolute, not relative to the outputs; at α < 1 "
        "the mean of the path masses is infinite and (1/n) Σ v_i grows like "
        "n^(1/α - 1), so the pruning term that a small κ leaves, though a vanishing share "
        "of the total, can still grow in n, while the Gaussian bound at κ = 1 grows like "
        "n^(1/2) up to logarithms; which wins depends on n and on the constants, and side "
        "(a) may fail for this bound."
    ),
    formula=(
        "L_D(f) − L_S(f) ≤ min_κ,ρ [2Λε_κ + 2Λρ + M sqrt((log N_κ(ρ) + log(1/δ'))/(2m))];  "
        "α = 0.8: κ < 1 and bound < bound(Gaussian), ratio falling in n;  "
        "α = 1.5: bound ≥ bound(Gaussian)"
    ),
    source=(
        "The bound: docs/generalization.md (heavytail.theory.compression_bound), after "
        "Arora, Ge, Neyshabur & Zhang (ICML 2018, Thm 2.1). ell_1 compressibility and "
        "tail index: Gribonval, Cevher & Davies (2012), docs/theory.md, section 1. "
        "Heavy-tailed noise injection: Wan, Barsbey, Zaidi & Şimşekli (ICML 2024); "
        "compressibility and generalization: Barsbey et al. (NeurIPS 2021)."
    ),
    sizes=SIZES,
    measure=measure,
    draw=draw,
    layout=Layout(4, ncols=2, width=4.2, height=3.2),
    findings=findings,
)
