"""Claim ``estimators.calibration``: "auto" meets its accuracy, coverage and warning targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from heavytail._lib._validation import check_int
from heavytail.theory import (
    InvalidArgumentError,
    block_sum_estimator,
    estimate_tail_index,
    hill_estimator,
)

from .._kit.book import CheckBook, FigureData, Intervals, number_set, power_of_ten, staged_measure
from .._kit.claim import Caption, Claim, Evidence, Layout
from .._kit.stats import clopper_pearson, rmse_interval
from .._kit.style import MEASURED, PALETTE, PREDICTED, errorbars
from .._kit.verdict import ControlKind, Measurement, Relation, Rule
from .calibration_cases import (
    ABS_TOL,
    CASES,
    COVERAGE_TARGET,
    REL_TOL,
    TARGET_N,
    WIDE_CASES,
    CalibrationCase,
    Runs,
    get_case,
    run_estimator,
    runs_of,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "CLAIM",
    "CalibrationData",
    "CalibrationSize",
    "Runs",
    "clopper_pearson",
    "rmse_interval",
]


#: At most this fraction of runs on the "warn" cases may end in a confidently wrong
#: answer (interval excluding the truth) with no warning: the same 10% allowance as the
#: coverage target, since a calibrated 95% interval misses in 5% of runs by design.
SILENT_WRONG_LIMIT = 0.10

#: The negative controls run on these cases.
ACCURACY_CONTROL_CASE = "stable-1.9"  # Hill with min-KS k: strongly biased upwards near 2
WARN_CONTROL_CASE = "stable-1.5+5"  # block-sum on uncentred data collapses towards 1


@dataclass(frozen=True)
class CalibrationSize:
    """Parameters of one size of ``estimators.calibration``.

    Attributes
    ----------
    n : int
        Sample size of every run (the targets are stated at 1e5).
    seeds : int
        Runs (independent samples) per case with an accuracy target ("abs", "rel").
    warn_seeds : int
        Runs per "warn" case (stable shifted by +5, Gaussian scale mixture).
    per_case_coverage : bool
        Check the coverage of each case on its own (needs many seeds: with S runs all
        covered, the Clopper-Pearson lower bound is (a/2)^(1/S), above 0.9 only for S
        of about 60 at the family level used here); otherwise coverage is checked pooled
        over the cases and shown per case.
    n_boot : int
        Bootstrap resamples (over runs) of the RMSE interval.
    cases : tuple of str or None
        Case names to run (None: every case with a target of the calibration table,
        and, with ``wide``, of the widened grid).
    wide : bool
        Also run the widened grid's laws (one-sided, skewed stable, mixtures, stable
        bodies with other tails, light-tailed controls; docs/estimators.md), with
        ``seeds`` runs each ("cover" cases: coverage) or ``warn_seeds`` (light-tailed
        controls: silent wrong answers).
    """

    n: int
    seeds: int
    warn_seeds: int
    per_case_coverage: bool
    n_boot: int = 2000
    cases: tuple[str, ...] | None = None
    wide: bool = False

    def __post_init__(self) -> None:
        check_int(self.n, "n", low=100)
        check_int(self.seeds, "seeds", low=2)
        check_int(self.warn_seeds, "warn_seeds", low=1)
        check_int(self.n_boot, "n_boot", low=100)
        if self.cases is not None:
            valid = {c.name for c in (*CASES, *WIDE_CASES)}
            unknown = [name for name in self.cases if name not in valid]
            if unknown:
                raise InvalidArgumentError(
                    f"`cases` must name cases of the catalogue ({', '.join(sorted(valid))}), "
                    f"got unknown {unknown}"
                )


SIZES = {
    # Machinery only, in seconds: 2 runs per case at n = 1e4, a tenth of the targets' n,
    # so its verdicts say nothing about the targets (a run costs 0.1 s, not 0.9 s).
    "smoke": CalibrationSize(10_000, 2, 2, False, n_boot=200),
    # The targets' n = 1e5 with fewer runs: about 3 min of CPU (up to 0.9 s per "auto"
    # run, on the stable cases).
    "quick": CalibrationSize(TARGET_N, 25, 40, False),
    # The calibration table's 100 seeds per case, and the widened grid's 13 laws with as
    # many (about 35 min of CPU more). The quick size leaves the widened grid out: it
    # stays within its share of the quick suite's 5 minutes (docs/estimators.md, "The
    # widened grid", has the widened grid's table at n = 1e3, 1e4 and 1e5).
    "full": CalibrationSize(TARGET_N, 100, 100, True, wide=True),
}


ACCURACY_RULE = Rule(Relation.AT_MOST, 0.0, "")
COVERAGE_RULE = Rule(Relation.AT_LEAST, 0.0, "")
SILENT_RULE = Rule(Relation.AT_MOST, 0.0, "")


@dataclass(frozen=True, eq=False)
class CalibrationData(FigureData):
    """Accuracy, coverage and silent wrong answers of "auto" and of the controls, per case.

    Attributes
    ----------
    cases : tuple of str
        The cases run, in catalogue order.
    runs : Mapping[str, Runs]
        "auto" on the runs of each case.
    rmse, coverage : Mapping[str, Measurement]
        Per accuracy case: RMSE and coverage with their simultaneous intervals.
    coverage_pooled : Measurement or None
        Coverage pooled over the accuracy cases (None: no accuracy case).
    wide_coverage : Mapping[str, Measurement]
        Per law of the widened grid with a finite tail index ("cover" cases): coverage.
    silent_wrong : Mapping[str, Measurement]
        Per trap case: the fraction of silent confidently wrong answers.
    warned : Mapping[str, float]
        Per trap case: the fraction of runs with a warning.
    hill, block_sum : Runs or None
        The controls' runs (Hill with min-KS k; block-sum without its warnings).
    hill_rmse, hill_coverage, block_sum_silent : Measurement or None
        The controls' measurements.
    params : CalibrationSize
    """

    cases: tuple[str, ...]
    runs: Mapping[str, Runs]
    rmse: Mapping[str, Measurement]
    coverage: Mapping[str, Measurement]
    coverage_pooled: Measurement | None
    wide_coverage: Mapping[str, Measurement]
    silent_wrong: Mapping[str, Measurement]
    warned: Mapping[str, float]
    hill: Runs | None
    hill_rmse: Measurement | None
    hill_coverage: Measurement | None
    block_sum: Runs | None
    block_sum_silent: Measurement | None
    params: CalibrationSize


def _cases(params: CalibrationSize) -> list[CalibrationCase]:
    if params.cases is not None:
        cases = [get_case(name) for name in params.cases]
    else:
        catalogue = (*CASES, *WIDE_CASES) if params.wide else CASES
        cases = [c for c in catalogue if c.target != "none"]
    if not any(c.target in ("abs", "rel", "cover", "warn") for c in cases):
        raise InvalidArgumentError("`cases` must include a case with a target")
    return cases


def _proportion(flags: Sequence[npt.NDArray[np.bool_]], level: float) -> Measurement:
    """The pooled proportion of True in ``flags`` with its Clopper-Pearson interval."""
    return clopper_pearson(sum(int(f.sum()) for f in flags), sum(f.size for f in flags), level)


@dataclass(frozen=True)
class CalibrationGrid:
    """Every run of "auto" and of the controls, and the stream of the bootstraps.

    ``runs[name]``: "auto" on the runs of each case of ``cases``; ``controls[name]``: the
    control estimator on the same samples (Hill with min-KS k on
    ACCURACY_CONTROL_CASE, block-sum with its warnings discarded on WARN_CONTROL_CASE);
    ``resample_rng``: the generator of the judge's RMSE bootstraps.
    """

    cases: tuple[CalibrationCase, ...]
    runs: Mapping[str, Runs]
    controls: Mapping[str, Runs]
    resample_rng: np.random.Generator
    params: CalibrationSize

    def with_target(self, *targets: str) -> list[CalibrationCase]:
        """The cases whose target is one of ``targets``, in catalogue order."""
        return [c for c in self.cases if c.target in targets]


def run_grid(params: CalibrationSize, rng: np.random.Generator) -> CalibrationGrid:
    """Run "auto" (and the controls) on fresh samples of every case."""
    cases = _cases(params)
    *streams, boot_rng = rng.spawn(len(cases) + 1)
    auto: dict[str, Runs] = {}
    control: dict[str, Runs] = {}
    for case, stream in zip(cases, streams, strict=True):
        seeds = params.warn_seeds if case.target == "warn" else params.seeds
        rows, ctrl_rows = [], []
        for run_rng in stream.spawn(seeds):
            sample_rng, est_rng = run_rng.spawn(2)
            x = case.draw(params.n, sample_rng)
            rows.append(run_estimator(estimate_tail_index, x, method="auto", rng=est_rng))
            if case.name == ACCURACY_CONTROL_CASE:
                ctrl_rows.append(run_estimator(hill_estimator, x))
            elif case.name == WARN_CONTROL_CASE:
                alpha, low, high, _ = run_estimator(block_sum_estimator, x)
                ctrl_rows.append((alpha, low, high, 0))  # its warnings discarded
        auto[case.name] = runs_of(rows)
        if ctrl_rows:
            control[case.name] = runs_of(ctrl_rows)
    return CalibrationGrid(tuple(cases), auto, control, boot_rng, params)


def _rmse_label(case: CalibrationCase) -> str:
    return f"{case.name}: RMSE <= {case.tolerance:.3g}"


def _coverage_labels(cases: Sequence[CalibrationCase], pooled: str, per_case: bool) -> list[str]:
    """The coverage checks of ``cases``: pooled, then (``per_case``) one per case."""
    if not cases:
        return []
    return [pooled, *(f"{c.name}: coverage" for c in cases if per_case)]


def _silent_label(cases: Sequence[CalibrationCase]) -> str:
    return f"silent confidently wrong answers, {' + '.join(c.name for c in cases)}"


@dataclass(frozen=True)
class CalibrationJudged:
    """What the judge measured: the checks' intervals and the controls'."""

    rmse: Mapping[str, Measurement]
    coverage: Mapping[str, Measurement]
    coverage_pooled: Measurement | None
    silent_wrong: Mapping[str, Measurement]
    hill_rmse: Measurement | None
    hill_coverage: Measurement | None
    block_sum_silent: Measurement | None


def judge(grid: CalibrationGrid, book: CheckBook) -> CalibrationJudged:
    """RMSE per accuracy case, coverage pooled (and per case), silent wrong answers on the
    traps; the controls on the same samples, judged by the same rules."""
    accuracy_cases, cover_cases = grid.with_target("abs", "rel"), grid.with_target("cover")
    warn_cases = grid.with_target("warn")
    per_case = grid.params.per_case_coverage
    n_boot, boot_rng, auto = grid.params.n_boot, grid.resample_rng, grid.runs
    accuracy_pooled = f"coverage, pooled over {len(accuracy_cases)} cases"
    cover_pooled = f"widened grid: coverage, pooled over {len(cover_cases)} laws"
    level = book.declare(
        [
            *map(_rmse_label, accuracy_cases),
            *_coverage_labels(accuracy_cases, accuracy_pooled, per_case),
            *_coverage_labels(cover_cases, cover_pooled, per_case),
            *([_silent_label(warn_cases)] if warn_cases else []),
        ]
    )

    rmse = {}
    for case in accuracy_cases:
        m = rmse_interval(auto[case.name].errors(case), level, n_boot=n_boot, rng=boot_rng)
        rmse[case.name] = m
        book.check(_rmse_label(case), case.tolerance, m, ACCURACY_RULE)
    coverage = {
        c.name: _proportion([auto[c.name].covered(c)], level)
        for c in (*accuracy_cases, *cover_cases)
    }
    pooled: dict[str, Measurement] = {}
    for cases, label in ((accuracy_cases, accuracy_pooled), (cover_cases, cover_pooled)):
        if not cases:
            continue
        pooled[label] = _proportion([auto[c.name].covered(c) for c in cases], level)
        book.check(label, COVERAGE_TARGET, pooled[label], COVERAGE_RULE)
        for c in cases if per_case else ():
            book.check(f"{c.name}: coverage", COVERAGE_TARGET, coverage[c.name], COVERAGE_RULE)
    silent = {c.name: _proportion([auto[c.name].silent_wrong(c)], level) for c in warn_cases}
    if warn_cases:
        book.check(
            _silent_label(warn_cases),
            SILENT_WRONG_LIMIT,
            _proportion([auto[c.name].silent_wrong(c) for c in warn_cases], level),
            SILENT_RULE,
        )

    # The controls: other estimators on the same samples, judged by the same rules.
    hill, hill_rmse, hill_coverage = grid.controls.get(ACCURACY_CONTROL_CASE), None, None
    if hill is not None:
        case = get_case(ACCURACY_CONTROL_CASE)
        if hill.answered.sum() >= 2:
            hill_rmse = rmse_interval(hill.errors(case), level, n_boot=n_boot, rng=boot_rng)
            book.control(
                f"control: Hill (min-KS) on {case.name}: RMSE",
                case.tolerance,
                hill_rmse,
                ACCURACY_RULE,
                kind=ControlKind.NULL,
            )
        hill_coverage = _proportion([hill.covered(case)], level)
        book.control(
            f"control: Hill (min-KS) 95% interval on {case.name}: coverage",
            COVERAGE_TARGET,
            hill_coverage,
            COVERAGE_RULE,
            kind=ControlKind.NULL,
        )
    block_sum, block_sum_silent = grid.controls.get(WARN_CONTROL_CASE), None
    if block_sum is not None:
        case = get_case(WARN_CONTROL_CASE)
        block_sum_silent = _proportion([block_sum.silent_wrong(case)], level)
        book.control(
            f"control: block-sum without its warnings on {case.name}: silent wrong answers",
            SILENT_WRONG_LIMIT,
            block_sum_silent,
            SILENT_RULE,
            kind=ControlKind.NULL,
        )
    return CalibrationJudged(
        rmse,
        coverage,
        pooled.get(accuracy_pooled),
        silent,
        hill_rmse,
        hill_coverage,
        block_sum_silent,
    )


def figure_data(grid: CalibrationGrid, judged: CalibrationJudged) -> CalibrationData:
    """The runs of "auto", the judged measurements and the controls' runs."""
    accuracy_cases, cover_cases = grid.with_target("abs", "rel"), grid.with_target("cover")
    return CalibrationData(
        cases=tuple(c.name for c in grid.cases),
        runs=grid.runs,
        rmse=judged.rmse,
        coverage={c.name: judged.coverage[c.name] for c in accuracy_cases},
        coverage_pooled=judged.coverage_pooled,
        wide_coverage={c.name: judged.coverage[c.name] for c in cover_cases},
        silent_wrong=judged.silent_wrong,
        warned={
            c.name: float(np.mean(grid.runs[c.name].n_warnings > 0))
            for c in grid.with_target("warn")
        },
        hill=grid.controls.get(ACCURACY_CONTROL_CASE),
        hill_rmse=judged.hill_rmse,
        hill_coverage=judged.hill_coverage,
        block_sum=grid.controls.get(WARN_CONTROL_CASE),
        block_sum_silent=judged.block_sum_silent,
        params=grid.params,
    )


#: Run "auto" (and the controls) on fresh samples of every case, and judge.
measure = staged_measure(
    run_grid,
    judge,
    figure_data,
    {
        "estimator": 'estimate_tail_index(x, "auto", rng=...) at its defaults',
        "rmse_interval": "percentile bootstrap over runs",
        "proportion_interval": "Clopper-Pearson (exact binomial)",
        "targets": {
            "abs": ABS_TOL,
            "rel": REL_TOL,
            "coverage": COVERAGE_TARGET,
            "silent_wrong": SILENT_WRONG_LIMIT,
        },
    },
)


def draw(evidence: Evidence[CalibrationData], axes: Sequence[Axes]) -> Caption:
    """RMSE against target, coverage with its interval, and silent wrong answers."""
    acc, cov, warn = axes
    d, s = evidence.data, evidence.data.params
    names = [n for n in d.cases if n in d.rmse]
    xs = np.arange(len(names))
    ctrl_at = names.index(ACCURACY_CONTROL_CASE) if ACCURACY_CONTROL_CASE in names else None
    hill_x = [] if ctrl_at is None else [ctrl_at + 0.25]
    cross = {**MEASURED, "marker": "x"}  # the controls

    if names:
        tol = np.array([get_case(n).tolerance for n in names])
        ratio = Intervals.of(d.rmse[n] for n in names).divided(tol)
        _bars(acc, xs, ratio, PALETTE[0], "auto: RMSE / target", MEASURED)
        top = float(ratio.high.max())
        if d.hill_rmse is not None and ctrl_at is not None:
            h = Intervals.of([d.hill_rmse]).divided(get_case(ACCURACY_CONTROL_CASE).tolerance)
            _bars(acc, hill_x, h, PALETTE[1], "control: Hill (min-KS)", cross)
            top = max(top, float(h.high[0]))
        acc.set_ylim(max(float(ratio.low.min()), 1e-4) / 20, max(top, 1.0) * 2)
    target = f"target: {ABS_TOL:g} (stable), {REL_TOL:.0%} of α (others)"
    acc.axhline(1.0, **PREDICTED, label=target)
    acc.set(
        yscale="log",
        ylabel="RMSE / target (log scale)",
        title="Accuracy: RMSE relative to its target",
    )
    acc.set_xticks(xs, names, rotation=60, ha="right")
    acc.legend(loc="lower left")

    if names:
        _bars(cov, xs, Intervals.of(d.coverage[n] for n in names), PALETTE[0], "auto, per case")
        if d.coverage_pooled is not None:
            pooled = Intervals.of([d.coverage_pooled])
            diamond = {**MEASURED, "marker": "D"}
            _bars(cov, [len(names)], pooled, PALETTE[2], "auto, pooled", diamond)
        if d.hill_coverage is not None and ctrl_at is not None:
            h = Intervals.of([d.hill_coverage])
            _bars(cov, hill_x, h, PALETTE[1], "control: Hill (min-KS)", cross)
    cov.axhline(COVERAGE_TARGET, **PREDICTED, label=f"target ≥ {COVERAGE_TARGET:g}")
    cov.axhline(0.95, color="0.5", linestyle=":", linewidth=1.0, label="nominal 0.95")
    cov.set(
        ylim=(-0.03, 1.05),
        yticks=np.linspace(0, 1, 6),
        ylabel="fraction of runs whose 95% interval covers",
        title="Coverage (Clopper-Pearson intervals)",
    )
    wide = list(d.wide_coverage)
    wide_x = np.arange(len(wide)) + len(names) + 1
    if wide:
        square = {**MEASURED, "marker": "s"}
        w = Intervals.of(d.wide_coverage[n] for n in wide)
        _bars(cov, wide_x, w, PALETTE[3], "auto, widened grid", square)
    cov.set_xticks([*xs, len(names), *wide_x], [*names, "pooled", *wide], rotation=60, ha="right")
    # Below the points (auto's coverage sits near 1; the Hill control is to the right).
    cov.legend(loc="lower left")

    wnames = list(d.silent_wrong)
    wx = np.arange(len(wnames))
    if wnames:
        sw = Intervals.of(d.silent_wrong[n] for n in wnames)
        _bars(warn, wx, sw, PALETTE[0], "auto: silent and wrong")
        warn.plot(
            wx - 0.2,
            [d.warned[n] for n in wnames],
            "s",
            color=PALETTE[2],
            markersize=5,
            label="auto: runs with a warning",
        )
        if d.block_sum_silent is not None and WARN_CONTROL_CASE in wnames:
            i = wnames.index(WARN_CONTROL_CASE)
            b = Intervals.of([d.block_sum_silent])
            _bars(warn, [i + 0.2], b, PALETTE[1], "control: block-sum, warnings dropped", cross)
    warn.axhline(SILENT_WRONG_LIMIT, **PREDICTED, label=f"limit {SILENT_WRONG_LIMIT:g}")
    warn.set(
        ylim=(-0.03, 1.95),
        yticks=np.linspace(0, 1, 6),
        xlim=(-0.6, max(len(wnames), 2) - 0.4),
        ylabel="fraction of runs",
        title="Traps: warned, or silently wrong?",
    )
    warn.set_xticks(wx, wnames, rotation=30, ha="right")
    warn.legend(loc="upper left")
    level = evidence.checks[0].measurement.level
    return Caption(
        'estimators.calibration: estimate_tail_index(x, "auto") against its targets',
        f"A fresh sample per run, n = {s.n:,}; {s.seeds} runs per accuracy case"
        f"{' and per law of the widened grid' if s.wide else ''}, "
        f"{s.warn_seeds} per trap case; intervals at level "
        f"{level:.4g} (Bonferroni over the checks).",
    )


def _bars(ax: Axes, x: Any, y: Intervals, color: str, label: str, style: Any = MEASURED) -> None:
    errorbars(ax, x, y, color=color, linestyle="none", label=label, **style)


def _families(target: str, prefix: str) -> list[float]:
    """The true indices of the cases of ``target`` whose name starts with ``prefix``."""
    return [c.alpha for c in CASES if c.target == target and c.name.startswith(prefix)]


def _listed(values: Sequence[float]) -> str:
    return ", ".join(f"{v:g}" for v in values)


_STABLE = _families("abs", "stable")
_QUICK, _FULL = SIZES["quick"], SIZES["full"]
_CONTROL_ALPHA = get_case(ACCURACY_CONTROL_CASE).alpha

_STATEMENT = (
    'The "auto" rule of estimate_tail_index meets its stated targets at '
    f"n = {power_of_ten(TARGET_N)} "
    f"(docs/estimators.md): RMSE <= {ABS_TOL:g} on symmetric alpha-stable data with alpha in "
    f"{number_set(_STABLE)}; RMSE <= {REL_TOL:.0%} of alpha on symmetric Pareto "
    f"(alpha {_listed(_families('rel', 'pareto'))}) and Student t "
    f"(df {_listed(_families('rel', 'student'))}); its 95% intervals cover the truth in at "
    f"least {COVERAGE_TARGET:.0%} of runs on those "
    "cases; and on stable data shifted by +5 and on a Gaussian scale mixture at most "
    f"{SILENT_WRONG_LIMIT:.0%} "
    "of runs end in a confidently wrong answer (interval excluding the truth) with no "
    "warning. The tolerances are the targets themselves, not loosened; the "
    f"{SILENT_WRONG_LIMIT:.0%} allowance "
    "for silent wrong answers matches the coverage target. Each run draws a fresh "
    "sample; RMSE intervals are percentile bootstraps over runs, proportions carry "
    "Clopper-Pearson intervals, all at a Bonferroni level over the claim's checks. At "
    f"quick size ({_QUICK.seeds} runs per case, {_QUICK.warn_seeds} per trap case) coverage "
    "is judged pooled over the "
    f"cases and only shown per case, so one case below {COVERAGE_TARGET:.0%} can hide in "
    "the pool; per-case "
    f"coverage is judged at full size ({_FULL.seeds} runs), where a per-case interval can "
    f"exclude {COVERAGE_TARGET:g} and reach above it. A refusal (no estimate) on a "
    "heavy-tailed law counts as "
    f"a miss. Null controls (the calibration absent by construction: known-bad "
    "estimators on the same samples, judged by the same rules, which must not pass): "
    f"Hill with min-KS k on stable {_CONTROL_ALPHA:g} (biased upwards near alpha = 2) "
    "must fail the accuracy and coverage rules; the block-sum estimator with its "
    "warnings discarded, as in the papers' code, must fail the silent-wrong rule on the "
    "shifted data. The checks are thresholds, not trends. At full size the widened grid "
    'joins (docs/estimators.md, "The '
    f'widened grid"): {len([c for c in WIDE_CASES if c.target == "cover"])} heavy-tailed '
    "laws outside the calibration table (one-sided, skewed stable, a mixture of scales, "
    "stable bodies with other tails, tail indices 0.5 to 4), whose intervals must cover "
    f"in at least {COVERAGE_TARGET:.0%} of runs, pooled and per law, and "
    f"{len([c for c in WIDE_CASES if c.target == 'warn'])} light-tailed controls "
    "(exponential, lognormal), which join the trap cases: a finite upper end there is a "
    "confident wrong answer."
)

CLAIM = Claim(
    id="estimators.calibration",
    title='calibration of the "auto" tail-index estimator',
    statement=_STATEMENT,
    formula=(
        f"RMSE(α̂) ≤ {ABS_TOL:g} (stable, α ≤ {max(_STABLE):g}), ≤ {REL_TOL:g} α (Pareto, "
        f"Student t); P(α ∈ CI95) ≥ {COVERAGE_TARGET:g}; P(wrong ∧ no warning) ≤ "
        f"{SILENT_WRONG_LIMIT:g} (shifted, mixture); n = {power_of_ten(TARGET_N)}"
    ),
    source=(
        'the targets of "auto" and the full table: docs/estimators.md (made by '
        "docs/calibration.py); estimator traps: docs/theory.md, section 4"
    ),
    sizes=SIZES,
    measure=measure,
    draw=draw,
    layout=Layout(3, width=4.0, height=3.6),
)
