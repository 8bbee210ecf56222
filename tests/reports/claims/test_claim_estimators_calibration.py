"""Claim estimators.calibration: evidence, rules with power, the case catalogue, figure."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from heavytail.reports import ControlKind, Evidence, Measurement, Verdict, family_level
from heavytail.reports._claims.calibration_cases import (
    ABS_TOL,
    CASES,
    COVERAGE_TARGET,
    REL_TOL,
    TARGET_N,
    WIDE_CASES,
    get_case,
)
from heavytail.reports._claims.estimators_calibration import (
    ACCURACY_RULE,
    CLAIM,
    COVERAGE_RULE,
    SILENT_WRONG_LIMIT,
    CalibrationSize,
    clopper_pearson,
    rmse_interval,
)
from heavytail.theory import InvalidArgumentError

from ._helpers import evidence_fixture, rerun_with_same_seed

smoke = evidence_fixture(CLAIM, "smoke", 0, "smoke")


# Only the two control cases, with enough runs for the rules to have power at n = 5000.
CONTROLS_ONLY = CalibrationSize(
    5_000, 6, 6, per_case_coverage=True, n_boot=500, cases=("stable-1.9", "stable-1.5+5")
)


controls = evidence_fixture(CLAIM, CONTROLS_ONLY, 1, "controls")


def test_smoke_evidence_is_well_formed(smoke: Evidence) -> None:
    accuracy = [c for c in CASES if c.target in ("abs", "rel")]
    warn = [c for c in CASES if c.target == "warn"]
    # One RMSE check per accuracy case, pooled coverage, pooled silent-wrong rate.
    assert len(smoke.checks) == len(accuracy) + 2
    assert [c.label.split(":")[0] for c in smoke.checks[: len(accuracy)]] == [
        c.name for c in accuracy
    ]
    level = family_level(len(accuracy) + 2)
    for check in smoke.checks:
        assert check.measurement.level == pytest.approx(level)
    size = CLAIM.sizes["smoke"]
    for case in accuracy:
        assert smoke.data.runs[case.name].alpha.shape == (size.seeds,)
    for case in warn:
        assert smoke.data.runs[case.name].alpha.shape == (size.warn_seeds,)
    assert len(smoke.controls) == 3
    assert smoke.settings["n"] == size.n


def test_targets_are_the_stated_ones(smoke: Evidence) -> None:
    by_label = {c.label.split(":")[0]: c for c in smoke.checks}
    assert by_label["stable-1.5"].prediction == ABS_TOL == 0.1
    assert by_label["student-3"].prediction == pytest.approx(REL_TOL * 3.0)
    assert by_label["pareto-2.5"].prediction == pytest.approx(0.25)
    pooled = next(c for c in smoke.checks if c.label.startswith("coverage"))
    assert pooled.prediction == COVERAGE_TARGET == 0.9
    assert smoke.checks[-1].prediction == SILENT_WRONG_LIMIT
    assert CLAIM.sizes["quick"].n == CLAIM.sizes["full"].n == TARGET_N == 100_000
    assert CLAIM.sizes["full"].seeds == 100 and CLAIM.sizes["full"].per_case_coverage


def test_every_control_is_rejected(controls: Evidence) -> None:
    """Hill on stable 1.9 (RMSE and coverage) and block-sum without its warnings on
    shifted data (silent wrong answers) must fail the very rules "auto" is judged by."""
    assert len(controls.controls) == 3
    for control in controls.controls:
        # Null controls (known-bad estimators): rejected = not agree; here they disagree.
        assert control.kind is ControlKind.NULL
        assert control.verdict is Verdict.DISAGREE, (control.label, control.measurement)
        assert control.passed
    assert controls.controls_rejected
    rules = {c.rule for c in controls.checks}
    assert {c.rule for c in controls.controls} <= rules


def test_auto_passes_where_the_controls_fail(controls: Evidence) -> None:
    by_label = {c.label: c for c in controls.checks}
    # stable-1.9: "auto" takes the stable route; its RMSE at n = 5000 is far below 0.1.
    assert by_label["stable-1.9: RMSE <= 0.1"].verdict is Verdict.AGREE
    # Shifted data: "auto" estimates the location (and, being right, need not warn);
    # never silently wrong.
    silent = controls.checks[-1]
    assert silent.measurement.estimate == 0.0
    # Per-case coverage is checked at this size (per_case_coverage=True).
    assert any(c.label == "stable-1.9: coverage" for c in controls.checks)


def test_same_seed_same_numbers(controls: Evidence) -> None:
    rerun_with_same_seed(CLAIM, CONTROLS_ONLY, 1, controls)


def test_clopper_pearson_against_closed_forms() -> None:
    # No successes: the upper bound is 1 - (a/2)^(1/n); all successes: lower (a/2)^(1/n).
    m = clopper_pearson(0, 20, 0.95)
    assert (m.estimate, m.low) == (0.0, 0.0)
    assert m.high == pytest.approx(1 - 0.025 ** (1 / 20), rel=1e-9)
    m = clopper_pearson(20, 20, 0.95)
    assert m.low == pytest.approx(0.025 ** (1 / 20), rel=1e-9) and m.high == 1.0
    # Interior: the beta-quantile form of the exact interval.
    m = clopper_pearson(7, 10, 0.9)
    assert m.low == pytest.approx(stats.beta.ppf(0.05, 7, 4), rel=1e-9)
    assert m.high == pytest.approx(stats.beta.ppf(0.95, 8, 3), rel=1e-9)
    with pytest.raises(InvalidArgumentError, match="successes"):
        clopper_pearson(11, 10, 0.95)


def test_rmse_interval_covers_a_known_rmse() -> None:
    """Errors N(0.05, 0.1^2) have RMSE sqrt(0.05^2 + 0.1^2) = 0.1118. The 95% bootstrap
    interval from 100 errors should cover it in most of 100 repetitions (percentile
    intervals undercover a little at this size: require >= 85%); the negative control,
    an RMSE of 0.15, must be covered in at most 10%."""
    rng = np.random.default_rng(4)
    truth = float(np.hypot(0.05, 0.1))
    hits = wrong = 0
    for _ in range(100):
        m = rmse_interval(rng.normal(0.05, 0.1, 100), 0.95, n_boot=400, rng=rng)
        hits += m.low <= truth <= m.high
        wrong += m.low <= 0.15 <= m.high
    assert hits >= 85 and wrong <= 10
    with pytest.raises(InvalidArgumentError, match="errors"):
        rmse_interval([0.1], 0.95, n_boot=100, rng=rng)


def test_rules_judge_as_stated() -> None:
    acc = ACCURACY_RULE
    assert acc.judge(0.1, Measurement(0.05, 0.03, 0.08)) is Verdict.AGREE
    assert acc.judge(0.1, Measurement(0.2, 0.15, 0.3)) is Verdict.DISAGREE
    assert acc.judge(0.1, Measurement(0.09, 0.05, 0.12)) is Verdict.INCONCLUSIVE
    cov = COVERAGE_RULE
    assert cov.judge(0.9, clopper_pearson(100, 100, 0.995)) is Verdict.AGREE
    assert cov.judge(0.9, clopper_pearson(70, 100, 0.995)) is Verdict.DISAGREE
    assert cov.judge(0.9, clopper_pearson(8, 8, 0.995)) is Verdict.INCONCLUSIVE


def test_case_catalogue() -> None:
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names) == 13
    assert {c.name for c in CASES if c.target == "warn"} == {"gauss-mixture", "stable-1.5+5"}
    assert get_case("student-3").tolerance == pytest.approx(0.3)
    assert get_case("stable-1.8").tolerance == 0.1
    with pytest.raises(InvalidArgumentError, match="name"):
        get_case("cauchy")
    with pytest.raises(InvalidArgumentError, match="cases"):
        CalibrationSize(1_000, 2, 2, False, cases=("cauchy",))
    with pytest.raises(InvalidArgumentError, match="seeds"):
        CalibrationSize(1_000, 1, 2, False)


def test_case_laws_have_their_tails() -> None:
    """Pareto and Student-t samplers against scipy's laws (KS, n = 20000, p > 0.001),
    and a wrong law (Pareto 2.5 data against Pareto 2) rejected by the same test."""
    rng = np.random.default_rng(7)
    pareto = np.abs(get_case("pareto-2.5").draw(20_000, rng))
    assert stats.kstest(pareto, stats.pareto(2.5).cdf).pvalue > 1e-3
    assert stats.kstest(pareto, stats.pareto(2.0).cdf).pvalue < 1e-6
    t3 = get_case("student-3").draw(20_000, rng)
    assert stats.kstest(t3, stats.t(3).cdf).pvalue > 1e-3
    shifted = get_case("stable-1.5+5").draw(20_000, rng)
    assert abs(np.median(shifted) - 5.0) < 0.05
    g = get_case("gaussian")
    assert g.covers(1.0, 2.5) and not g.covers(1.0, 1.9) and g.error(3.0) == 0.0
    assert get_case("pareto-1").covers(0.9, 1.1) and not get_case("pareto-1").covers(1.1, 1.3)


def test_figure(smoke: Evidence) -> None:
    fig = CLAIM.figure(smoke, note="seed 0")
    acc, cov, warn = fig.get_axes()
    assert acc.get_yscale() == "log"
    assert "coverage" in cov.get_title().lower() or "Coverage" in cov.get_title()
    assert "pooled" in [t.get_text() for t in cov.get_xticklabels()]
    assert any("control" in lab for lab in warn.get_legend_handles_labels()[1])
    assert f"n = {CLAIM.sizes['smoke'].n:,}" in fig.get_supxlabel()


def test_the_widened_grid_runs_at_full_size_only() -> None:
    assert CLAIM.sizes["full"].wide
    assert not CLAIM.sizes["quick"].wide and not CLAIM.sizes["smoke"].wide
    heavy = [c for c in WIDE_CASES if c.target == "cover"]
    light = [c for c in WIDE_CASES if c.target == "warn"]
    assert len(heavy) >= 10 and len(light) >= 2
    assert {c.truth for c in light} == {"infinite"}
    assert min(c.alpha for c in heavy) <= 0.5 and max(c.alpha for c in heavy) >= 4.0


def test_widened_grid_checks_and_a_light_tail_that_must_reach_infinity() -> None:
    # Two laws of the widened grid at a tiny size: the pooled coverage check of the
    # "cover" laws, and the exponential among the trap cases. The light-tail rule has
    # power: an interval with a finite upper end is wrong there however large it is.
    size = CalibrationSize(2_000, 4, 4, False, n_boot=200, cases=("frechet-0.5", "exponential"))
    ev = CLAIM.run(size, rng=3)
    labels = [c.label for c in ev.checks]
    assert labels[0].startswith("widened grid: coverage, pooled over 1 laws")
    assert labels[-1].startswith("silent confidently wrong answers, exponential")
    assert set(ev.data.wide_coverage) == {"frechet-0.5"}
    exponential = get_case("exponential")
    assert exponential.covers(3.0, np.inf) and not exponential.covers(3.0, 1e6)
