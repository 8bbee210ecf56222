"""Claim bound.compression: its controls are rejected, its rules have power, its numbers add up."""

from __future__ import annotations

import math

import numpy as np
import pytest

from heavytail.reports._claims.bound_compression import (
    CLAIM,
    HEAVY_RULE,
    MIN_LOG_RATIO,
    NOISES,
    SLOPE_RULE,
    VALIDITY_RULE,
    BoundSize,
    _test_sets,
    _train,
    network_outputs,
    noise_scale,
)
from heavytail.reports._kit.claim import Evidence
from heavytail.reports._kit.stats import mean_interval
from heavytail.reports._kit.verdict import Measurement, Verdict
from heavytail.theory import InvalidArgumentError

#: A tiny grid (seconds) whose smallest m = 100 makes the networks overfit clearly: the
#: pooled gap there is 0.04 [0.017, 0.062] at seed 0 (0.055 and 0.044 at seeds 1, 2), so
#: the control "test loss <= train loss" is refuted with room to spare.
TINY = BoundSize((32, 128), (100, 3_000), 4, 300, 1_000)


@pytest.fixture(scope="module")
def evidence() -> Evidence:
    return CLAIM.run(TINY, rng=0)


def _control(ev: Evidence, words: str) -> list:
    found = [c for c in ev.controls if words in c.label]
    assert found, words
    return found


def test_controls_are_rejected(evidence: Evidence) -> None:
    """Every control but the reversed ordering is refuted by the same rule as its check."""
    for words in ("test loss <= train loss", "slope 0 in m", "slope 0 in n", "non-vacuous"):
        for control in _control(evidence, words):
            assert control.verdict is Verdict.DISAGREE, control.label
    (gap,) = _control(evidence, "test loss <= train loss")
    assert gap.measurement.low > 0.0  # the measured gap is positive, interval included


def test_validity_holds_and_its_measurement_is_the_worst_point(evidence: Evidence) -> None:
    """Reference computation: the largest mean(test - train - bound) over the points, each
    interval at the Bonferroni level over the points."""
    d = evidence.data
    validity = evidence.checks[0]
    assert validity.verdict is Verdict.AGREE
    assert validity.prediction == 0.0
    excess = (d.test_loss - d.train_loss - d.gap_bound).reshape(-1, TINY.replicates)
    level = 1.0 - (1.0 - validity.measurement.level) / excess.shape[0]
    ref = [mean_interval(x, level=level) for x in excess]
    assert validity.measurement.estimate == max(m.estimate for m in ref)
    assert validity.measurement.low == max(m.low for m in ref)
    assert validity.measurement.high == max(m.high for m in ref)
    np.testing.assert_allclose(d.value, d.train_loss + d.gap_bound, rtol=1e-15)


def test_validity_rule_rejects_a_bound_below_the_gap() -> None:
    """Power: a gap whose interval lies above the bound is a disagreement; one that
    straddles it is not an agreement."""
    assert VALIDITY_RULE.judge(0.0, Measurement(0.2, 0.1, 0.3)) is Verdict.DISAGREE
    assert VALIDITY_RULE.judge(0.0, Measurement(0.05, -0.05, 0.1)) is Verdict.INCONCLUSIVE
    assert VALIDITY_RULE.judge(0.0, Measurement(-0.5, -0.6, -0.4)) is Verdict.AGREE


def test_heavy_ordering_is_paired_and_its_rule_has_power(evidence: Evidence) -> None:
    """The check is the mean over replicates of the grid-averaged log ratio of the paired
    runs; the rule accepts a clearly lower heavy-tailed bound, rejects a clearly higher
    one, and the reversed control is the same interval mirrored."""
    d = evidence.data
    check = evidence.checks[1]
    per_rep = np.log(d.gap_bound[0] / d.gap_bound[1]).mean(axis=(0, 1))
    assert check.measurement == mean_interval(per_rep, level=check.measurement.level)
    (reversed_,) = _control(evidence, "reversed ordering")
    assert reversed_.measurement.estimate == -check.measurement.estimate
    assert reversed_.measurement.low == -check.measurement.high
    assert HEAVY_RULE.judge(0.0, Measurement(-0.2, -0.3, -0.1)) is Verdict.AGREE
    assert HEAVY_RULE.judge(0.0, Measurement(0.2, 0.1, 0.3)) is Verdict.DISAGREE
    # A check and its reversed control cannot both agree.
    assert not (check.verdict is Verdict.AGREE and reversed_.verdict is Verdict.AGREE)


def test_heavy_and_gaussian_runs_share_data_and_initialisation() -> None:
    """Common random numbers: one seed gives both noises the same training set and first
    draws; the forward pass used on the fresh test sets is the simulator's."""
    heavy = _train(16, 50, NOISES[0][1], TINY, 7)
    gauss = _train(16, 50, NOISES[1][1], TINY, 7)
    assert heavy.x_train is not None and gauss.x_train is not None
    np.testing.assert_array_equal(heavy.x_train, gauss.x_train)
    assert not np.array_equal(heavy.w, gauss.w)  # the noise differs
    x, y = _test_sets(TINY, 3)
    assert x.shape == (TINY.replicates, TINY.test_size, 8)
    assert set(np.unique(y)) == {-1.0, 1.0}
    np.testing.assert_allclose(np.linalg.norm(x, axis=2), math.sqrt(8), rtol=1e-12)
    for r in range(TINY.replicates):
        np.testing.assert_allclose(
            network_outputs(heavy.w[r], heavy.a[r], x[r]), heavy.outputs(x[r])[r], rtol=1e-12
        )


def test_slope_tolerance_premise_holds(evidence: Evidence) -> None:
    """The slope tolerance assumes a log count per parameter of at least MIN_LOG_RATIO;
    the slope rule rejects the controls' slope 0 and a slope off by twice the tolerance."""
    assert np.all(evidence.data.log_ratio >= MIN_LOG_RATIO)
    off = -0.5 + 2 * SLOPE_RULE.tolerance
    assert SLOPE_RULE.judge(-0.5, Measurement(off, off - 0.01, off + 0.01)) is Verdict.DISAGREE
    assert SLOPE_RULE.judge(0.0, Measurement(-0.48, -0.49, -0.47)) is Verdict.DISAGREE
    assert SLOPE_RULE.judge(-0.5, Measurement(-0.48, -0.49, -0.47)) is Verdict.AGREE


def test_noise_scale_matches_the_initial_coordinate_scale() -> None:
    steps = 500
    sigma = noise_scale(steps)
    assert math.isclose(sigma * (0.1 * steps) ** (1 / NOISES[0][1]), 1 / math.sqrt(8))


def test_sizes_are_checked() -> None:
    with pytest.raises(InvalidArgumentError, match="widths"):
        BoundSize((64,), (300, 1000), 3, 10, 10)
    with pytest.raises(InvalidArgumentError, match="sample_sizes"):
        BoundSize((64, 128), (1000, 300), 3, 10, 10)
    with pytest.raises(InvalidArgumentError, match="sample_sizes"):
        BoundSize((64, 128), (8, 300), 3, 10, 10)


def test_same_seed_same_numbers(evidence: Evidence) -> None:
    again = CLAIM.run(TINY, rng=0)
    assert again.checks == evidence.checks
    np.testing.assert_array_equal(again.data.gap_bound, evidence.data.gap_bound)


def test_figure(evidence: Evidence) -> None:
    fig = CLAIM.figure(evidence, note="seed 0")
    axes = fig.get_axes()
    assert len(axes) == 4
    assert all(ax.get_legend() is not None for ax in axes)
    assert "d = 8" in fig.get_supxlabel()
    assert evidence.checks[1].verdict.value in axes[2].get_title()
