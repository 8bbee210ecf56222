"""Claim sgd.tail on a small grid: evidence, verdict rule, negative controls, figure."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaincinv

from heavytail.reports import Evidence, Verdict
from heavytail.reports._claims.sgd_tail import (
    CLAIM,
    CONTROL_ETA_FACTOR,
    RELATIVE_TOLERANCE,
    Setting,
    SgdTailSize,
    hill_at_fraction,
)
from heavytail.theory import InvalidArgumentError, sgd_tail_index

from ._helpers import (
    assert_controls_are_alternatives_and_checks_values,
    evidence_fixture,
    rerun_with_same_seed,
)

# Two settings with b = 2, so that both controls apply. 20,000 chains give k = 200
# exceedances: Hill's relative standard error is 1/sqrt(200) = 7%, so the interval at
# the Bonferroni level of 2 checks (z = 2.24) is about +-16% of alpha; with the 5%
# tolerance a prediction more than ~21% away is rejected. The controls are 42% to 58%
# away (eta x 0.8) and 45% to 58% away (eta/b heuristic), so they must be rejected.
SMALL = SgdTailSize(
    settings=(Setting(1.2, 2, 1), Setting.at_threshold(2, 1)),
    n_chains=20_000,
    n_steps=100,
    k_fraction=0.01,
    finite_sizes=(8, 64),
    finite_setting=Setting.at_threshold(1, 2),
    finite_chains=2_000,
    finite_steps=200,
)


evidence = evidence_fixture(CLAIM, SMALL, 11)


def test_evidence_is_well_formed(evidence: Evidence) -> None:
    assert len(evidence.checks) == 2
    assert len(evidence.controls) == 4  # eta control for each, eta/b heuristic for each
    data = evidence.data
    assert data.settings == SMALL.settings
    assert data.measured.shape == data.predicted.shape == data.eta_control.shape == (2,)
    np.testing.assert_array_equal(data.predicted, [c.prediction for c in evidence.checks])
    measured = [c.measurement.estimate for c in evidence.checks]
    np.testing.assert_array_equal(data.measured.estimate, measured)
    assert data.finite.shape == (2,)
    assert list(data.diverged) == [0, 0]
    for check in evidence.checks:
        m = check.measurement
        assert m.level == pytest.approx(1 - 0.05 / 2)
        assert m.low < m.estimate < m.high
        assert check.rule.tolerance == pytest.approx(RELATIVE_TOLERANCE * check.prediction)
    assert evidence.settings["n_chains"] == 20_000


def test_predictions(evidence: Evidence) -> None:
    first, threshold = evidence.checks
    assert first.prediction == pytest.approx(sgd_tail_index(1.2, 2), rel=1e-12)
    # At eta sigma^2 = 2b/(b + d + 1) = 1 the index is 2 by algebra, h(2) = 1; the
    # quadrature root must agree.
    assert threshold.prediction == 2.0
    assert sgd_tail_index(1.0, 2) == pytest.approx(2.0, rel=1e-8)


def test_checks_agree_and_every_control_is_rejected(evidence: Evidence) -> None:
    assert [c.verdict for c in evidence.checks] == [Verdict.AGREE, Verdict.AGREE]
    assert evidence.controls_rejected, [(c.label, c.verdict) for c in evidence.controls]
    for control in evidence.controls:
        setting = control.label.split("; control")[0]
        check = next(c for c in evidence.checks if c.label.split(";")[0] == setting)
        assert control.measurement == check.measurement and control.rule == check.rule
    assert evidence.verdict is Verdict.AGREE


def test_a_milder_wrong_eta_is_rejected_too(evidence: Evidence) -> None:
    """Power beyond the built-in control: a step size 30% too large is also rejected."""
    for check, s in zip(evidence.checks, SMALL.settings, strict=True):
        wrong = sgd_tail_index(1.3 * s.eta, s.batch_size, dim=s.dim)
        assert check.rule.judge(wrong, check.measurement) is Verdict.DISAGREE


def test_a_too_small_run_is_inconclusive_not_agree() -> None:
    tiny = SgdTailSize(
        settings=(Setting(1.2, 2, 1),),
        n_chains=500,
        n_steps=50,
        k_fraction=0.02,
        finite_sizes=(),
        finite_setting=Setting(1.2, 2, 1),
        finite_chains=100,
        finite_steps=1,
    )
    ev = CLAIM.run(tiny, rng=3)
    # k = 10: the interval is wider than the gap to the eta x 0.8 prediction.
    assert ev.checks[0].measurement.width > ev.checks[0].rule.max_width
    assert ev.verdict is not Verdict.AGREE


def test_same_seed_same_numbers(evidence: Evidence) -> None:
    again = rerun_with_same_seed(CLAIM, SMALL, 11, evidence)
    np.testing.assert_array_equal(again.data.finite.estimate, evidence.data.finite.estimate)


def test_hill_at_fraction_interval_is_exact_for_pareto() -> None:
    rng = np.random.default_rng(0)
    x = rng.pareto(1.5, 20_000) + 1.0
    m = hill_at_fraction(x, 0.01, 0.95)
    k = 200
    assert m.low == pytest.approx(m.estimate * gammaincinv(k, 0.025) / k)
    assert m.high == pytest.approx(m.estimate * gammaincinv(k, 0.975) / k)
    # Coverage over replicates (independent of the code: Pareto truth 1.5). 200 replicates
    # of a 95% interval cover between 88% and 99.5% with probability > 0.999 (binomial).
    hits = 0
    for _ in range(200):
        y = rng.pareto(1.5, 2_000) + 1.0
        mm = hill_at_fraction(y, 0.05, 0.95)
        hits += mm.low <= 1.5 <= mm.high
    assert 176 <= hits <= 199
    # Negative control: a truth 47% away (2.2) is covered only when alpha_hat / 1.5 > 1.21,
    # probability about 4% at k = 100; 10 or more of 50 has probability < 1e-4.
    wrong = sum(
        (mm := hill_at_fraction(rng.pareto(1.5, 2_000) + 1.0, 0.05, 0.95)).low <= 2.2 <= mm.high
        for _ in range(50)
    )
    assert wrong < 10


def test_bad_parameters() -> None:
    with pytest.raises(InvalidArgumentError, match="k_fraction"):
        SgdTailSize(SMALL.settings, 20_000, 100, 0.0, (), SMALL.finite_setting, 100, 1)
    with pytest.raises(InvalidArgumentError, match="settings"):
        SgdTailSize((), 20_000, 100, 0.01, (), SMALL.finite_setting, 100, 1)
    with pytest.raises(InvalidArgumentError, match="finite_sizes"):
        SgdTailSize(SMALL.settings, 20_000, 100, 0.01, (1,), Setting(1.0, 2), 100, 1)


def test_statement_states_tolerance_and_control(evidence: Evidence) -> None:
    assert "5% of α" in CLAIM.statement and f"η × {CONTROL_ETA_FACTOR:g}" in CLAIM.statement
    assert "descriptive" in CLAIM.statement
    rule = evidence.checks[0].rule
    assert "Student t" in rule.tolerance_reason and rule.max_width < np.inf


def test_figure(evidence: Evidence) -> None:
    fig = CLAIM.figure(evidence, note="seed 11")
    left, right = fig.get_axes()
    assert (left.get_xscale(), left.get_yscale()) == ("log", "log")
    assert right.get_xscale() == "log" and "dataset size" in right.get_xlabel()
    assert "chains" in fig.get_supxlabel()
    labels = left.get_legend_handles_labels()[1]
    assert any("control" in lab for lab in labels) and "measured = predicted" in labels


def test_controls_are_alternatives_that_count_and_checks_are_values(evidence: Evidence) -> None:
    assert_controls_are_alternatives_and_checks_values(evidence)
