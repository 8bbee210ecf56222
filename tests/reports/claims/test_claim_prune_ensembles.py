"""Claim prune.ensembles at smoke size: verdicts, negative controls, the ordering, figure."""

from __future__ import annotations

import numpy as np
import pytest

from heavytail.reports import ControlKind, Evidence, Measurement, Verdict, mean_interval
from heavytail.reports._claims.prune_ensembles import (
    CLAIM,
    METHODS,
    PruneSize,
    quantile_columns_matrix,
)
from heavytail.theory import InvalidArgumentError, elliptic_layer_matrix, prunable_fraction

from ._helpers import evidence_fixture, rerun_with_same_seed

evidence = evidence_fixture(CLAIM, "smoke", 0)


def test_checks_and_controls(evidence: Evidence) -> None:
    labels = [c.label for c in evidence.checks]
    assert len(labels) == 6 + 3 + 2
    assert not [c.label for c in evidence.checks if c.verdict is not Verdict.AGREE]
    assert [c.trend for c in evidence.checks] == [True] * 6 + [False] * 5
    assert [c.sanity for c in evidence.checks] == [False] * 9 + [True] * 2
    kinds = [c.kind for c in evidence.controls]
    assert kinds.count(ControlKind.MIRROR) == 6  # 'no rise': the opposite rule
    assert kinds.count(ControlKind.ALTERNATIVE) == 3 + 2
    assert kinds.count(ControlKind.NULL) == kinds.count(ControlKind.POSITIVE) == len(METHODS)
    failed = [c.label for c in evidence.controls if not c.passed]
    assert not failed, failed
    assert len(evidence.controls) == 6 + 5 + 2 * len(METHODS)
    assert evidence.verdict is Verdict.AGREE


def test_positive_controls_are_detected(evidence: Evidence) -> None:
    """Column scales at the quantiles of a tail-index-alpha law: the rise is built in."""
    positives = [c for c in evidence.controls if c.kind is ControlKind.POSITIVE]
    for c in positives:
        assert c.verdict is Verdict.AGREE, c.label
        assert c.measurement.high < -0.5
    assert evidence.power_shown


def test_null_controls_are_rejected(evidence: Evidence) -> None:
    """Permuted alphas: no association by construction, the interval holds 0."""
    nulls = [c for c in evidence.controls if c.kind is ControlKind.NULL]
    for c in nulls:
        assert c.verdict is not Verdict.AGREE, c.label
        assert c.measurement.low < 0.0 < c.measurement.high


def test_quantile_columns_matrix_concentrates_mass_as_alpha_falls() -> None:
    g = np.random.default_rng(0)
    fractions = [
        prunable_fraction(quantile_columns_matrix(a, 16, 256, g), 0.1, "node")
        for a in (1.0, 1.5, 2.0)
    ]
    assert fractions[0] > fractions[1] > fractions[2]
    np.testing.assert_array_equal(
        quantile_columns_matrix(2.0, 4, 8, np.random.default_rng(1)),
        np.random.default_rng(1).standard_normal((4, 8)),
    )


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
    again = rerun_with_same_seed(CLAIM, "smoke", 0, evidence)
    np.testing.assert_array_equal(again.data.fractions, evidence.data.fractions)


def test_figure(evidence: Evidence) -> None:
    fig = CLAIM.figure(evidence, note="seed 0")
    axes = fig.get_axes()
    assert len(axes) == 4
    assert [ax.get_title().split(" ")[0] for ax in axes[:3]] == list(METHODS)
    assert "16 x 128" in fig.get_supxlabel()
    assert all(ax.get_legend() is not None for ax in axes)
