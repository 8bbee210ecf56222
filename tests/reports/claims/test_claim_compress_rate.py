"""Claim compress.rate at a small size: predictions, verdicts, negative controls, figure."""

from __future__ import annotations

import pytest

from heavytail.reports import Evidence, Verdict
from heavytail.reports._claims.compress_rate import (
    ALPHAS,
    CLAIM,
    CONTROL_SHIFT,
    RateSize,
    slope_rule,
)

from ._helpers import (
    assert_controls_are_alternatives_and_checks_values,
    evidence_fixture,
    rerun_with_same_seed,
)

# Large enough for the rules to have power (every control rejected): 150 replicates per
# alpha up to n = 1e4 (smoke size is smaller: machinery only).
POWERED = RateSize(ALPHAS, 100, 10_000, 4, 150)


evidence = evidence_fixture(CLAIM, POWERED, 0)


def test_predictions_are_one_half_minus_one_over_alpha(evidence: Evidence) -> None:
    alphas = POWERED.alphas
    assert [c.label for c in evidence.checks] == [f"alpha = {a:g}" for a in alphas]
    for check, alpha in zip(evidence.checks, alphas, strict=True):
        assert check.prediction == pytest.approx(0.5 - 1.0 / alpha, rel=1e-12)


def test_no_check_disagrees_and_every_control_is_rejected(evidence: Evidence) -> None:
    assert not [c.label for c in evidence.checks if c.verdict is Verdict.DISAGREE]
    assert len(evidence.controls) == len(evidence.checks)
    for control, check in zip(evidence.controls, evidence.checks, strict=True):
        assert control.measurement == check.measurement  # same data, same rule
        assert control.rule == check.rule
        assert control.verdict is Verdict.DISAGREE, control.label
    assert evidence.verdict is Verdict.AGREE


def test_the_fitted_slope_is_not_the_naive_zero(evidence: Evidence) -> None:
    """A second wrong prediction, 'no decay' (slope 0, as for finite-variance entries),
    is rejected for every alpha by the same rule."""
    for check in evidence.checks:
        assert check.rule.judge(0.0, check.measurement) is Verdict.DISAGREE


def test_width_limit_is_the_control_gap() -> None:
    rule = slope_rule(1.5, 2.0)  # alpha = 1.5, the narrowest gap
    gap = abs((0.5 - 1 / 1.5) - (0.5 - 1 / (1.5 + CONTROL_SHIFT)))
    assert rule.max_width == pytest.approx(gap)
    assert rule.tolerance == 0.02 and "(1/alpha - 1/p) E[err^p]" in rule.tolerance_reason


def test_same_seed_same_numbers(evidence: Evidence) -> None:
    rerun_with_same_seed(CLAIM, POWERED, 0, evidence)


def test_figure(evidence: Evidence) -> None:
    fig = CLAIM.figure(evidence, note="seed 0")
    left, right = fig.get_axes()
    assert (left.get_xscale(), left.get_yscale()) == ("log", "log")
    assert "n" in left.get_xlabel() and "alpha" in right.get_xlabel()
    assert "replicates" in fig.get_supxlabel()
    labels = right.get_legend_handles_labels()[1]
    assert any("predicted" in label for label in labels)
    assert any("control" in label for label in labels)
    assert evidence.data.params == POWERED
    assert evidence.data.slope.shape == (len(POWERED.alphas),)


def test_controls_are_alternatives_that_count_and_checks_are_values(evidence: Evidence) -> None:
    assert_controls_are_alternatives_and_checks_values(evidence)
