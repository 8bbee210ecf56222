"""Claim prune.ensembles at smoke size: verdicts, negative controls, the ordering, figure."""

from __future__ import annotations

import numpy as np
import pytest

from heavytail.reports._claims.prune_ensembles import CLAIM, METHODS, PruneSize
from heavytail.reports._kit.claim import Evidence
from heavytail.reports._kit.stats import mean_interval
from heavytail.reports._kit.verdict import Measurement, Verdict
from heavytail.theory import InvalidArgumentError, elliptic_layer_matrix, prunable_fraction


@pytest.fixture(scope="module")
def evidence() -> Evidence:
    return CLAIM.run("smoke", rng=0)


def test_checks_and_controls(evidence: Evidence) -> None:
    labels = [c.label for c in evidence.checks]
    assert len(labels) == 6 + 3 + 2
    assert not [c.label for c in evidence.checks if c.verdict is not Verdict.AGREE]
    escaped = [c.label for c in evidence.controls if c.verdict is not Verdict.DISAGREE]
    assert not escaped, escaped
    assert len(evidence.controls) == 11
    assert evidence.verdict is Verdict.AGREE


def test_the_one_layer_rule_rejects_the_independent_gain(evidence: Evidence) -> None:
    """The control predictions (gains of i.i.d. columns) are far from 0: the one-layer
    rule can tell independence from its absence (the gain is over 0.2 for every method
    at smoke size, against intervals narrower than 0.05)."""
    layer_controls = [c for c in evidence.controls if "gain of i.i.d." in c.label]
    assert len(layer_controls) == len(METHODS)
    for control in layer_controls:
        assert control.prediction > 0.2
        assert control.measurement.width < 0.05


def test_layer_interval_is_over_replicates_of_both_ensembles(evidence: Evidence) -> None:
    """Reference computation: per replicate, the one layer's mean fraction over the heavy
    alphas minus that replicate's own Gaussian draw; a Student-t interval over replicates
    (the Gaussian's spread must count, not only the layer's)."""
    fr = evidence.data.fractions  # (ensemble, replicate, alpha, method)
    layer_checks = [c for c in evidence.checks if c.label.startswith("one elliptic layer")]
    for m, check in enumerate(layer_checks):
        diff = fr[2][:, :-1, m].mean(axis=1) - fr[0][:, -1, m]
        ref = mean_interval(diff, level=check.measurement.level)
        assert check.measurement == ref
    with pytest.raises(InvalidArgumentError, match=r"must end with 2\.0"):
        CLAIM.run(PruneSize(4, 8, (1.0, 1.5), 2, 100, 2), rng=0)


def test_trend_rule_would_reject_a_rising_trend(evidence: Evidence) -> None:
    rule = evidence.checks[0].rule
    assert rule.judge(0.0, Measurement(0.5, 0.3, 0.7)) is Verdict.DISAGREE
    assert rule.judge(0.0, Measurement(0.0, -0.2, 0.2)) is Verdict.INCONCLUSIVE


def test_layer_equals_its_gaussian_exactly() -> None:
    """Independent reference for the one-layer prediction: sqrt(A) G and G (the same
    Gaussian draw, rescaled) have the same prunable fraction for every method."""
    w = elliptic_layer_matrix(1.2, 8, 40, rng=5)
    gaussian = w / np.linalg.norm(w)  # any positive rescaling of the layer
    for method in METHODS:
        assert prunable_fraction(w, 0.1, method) == prunable_fraction(gaussian, 0.1, method)


def test_same_seed_same_numbers(evidence: Evidence) -> None:
    again = CLAIM.run("smoke", rng=0)
    assert again.checks == evidence.checks
    np.testing.assert_array_equal(again.data.fractions, evidence.data.fractions)


def test_figure(evidence: Evidence) -> None:
    fig = CLAIM.figure(evidence, note="seed 0")
    axes = fig.get_axes()
    assert len(axes) == 4
    assert [ax.get_title().split(" ")[0] for ax in axes[:3]] == list(METHODS)
    assert "16 x 128" in fig.get_supxlabel()
    assert all(ax.get_legend() is not None for ax in axes)
