"""Claim bound.compression: both sides of the prediction, controls of every kind, numbers
recomputed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from heavytail.reports import ControlKind, Evidence, Measurement, Verdict, mean_interval
from heavytail.reports._claims.bound_compression import (
    BELOW_RULE,
    CLAIM,
    KAPPA_RULE,
    MIN_LOG_RATIO,
    SLOPE_RULE,
    VALIDITY_RULE,
    pays_share,
)
from heavytail.reports._claims.bound_compression_grid import (
    GAUSS,
    LIGHT,
    LOG2_KAPPA_PAYS,
    NOISE_FACTOR,
    NOISES,
    NULL,
    PLANTED,
    BoundSize,
    fresh_test_sets,
    noise_only_weights,
    noise_scale,
    planted,
    train,
)
from heavytail.reports._kit.stats import clopper_pearson
from heavytail.theory import InvalidArgumentError, compression_bound, network_output

#: A tiny grid (seconds).
TINY = BoundSize((32, 128), (1_024, 4_096), 4, 200, 500)


@pytest.fixture(scope="module")
def evidence() -> Evidence:
    return CLAIM.run(TINY, rng=0)


def _controls(ev: Evidence, words: str) -> list:
    found = [c for c in ev.controls if words in c.label]
    assert found, words
    return found


def test_every_control_has_a_kind_and_positive_and_null_controls_pass(evidence: Evidence) -> None:
    """The planted controls are detected, except the share of replicates that prune,
    which four replicates cannot establish at the claim's level (every one of them
    prunes, yet the exact interval reaches past 1/2); the Gaussian-against-Gaussian nulls
    are not agreed with, and every trend check has both a positive and a null control."""
    kinds = {c.kind for c in evidence.controls}
    assert {ControlKind.POSITIVE, ControlKind.NULL, ControlKind.ALTERNATIVE} <= kinds
    for c in _controls(evidence, "planted"):
        assert c.kind is ControlKind.POSITIVE
        if c.label.endswith("planted few-unit mass"):  # the share that prunes
            assert c.measurement.estimate == -0.5 and c.verdict is Verdict.INCONCLUSIVE
        else:
            assert c.verdict is Verdict.AGREE, c.label  # detected
    for c in _controls(evidence, "other seed"):
        assert c.kind is ControlKind.NULL
        assert c.passed and c.verdict is not Verdict.AGREE, c.label
    # Not every positive control is detected (the share above), so the claim does not
    # show power as a whole; its trend checks' own positive controls are detected.
    assert not evidence.power_shown
    assert all(c.passed for c in _controls(evidence, "planted few-unit mass, slope"))
    trends = [c for c in evidence.checks if c.trend]
    assert len(trends) == 4


def test_planted_network_makes_pruning_pay() -> None:
    """Positive control built from first principles: a Gaussian noise-only network with
    a planted few-unit mass keeps about sqrt(n) units, and its bound is far below the
    unplanted one; the unplanted one keeps every unit at this n."""
    w, a = noise_only_weights(1_024, 2.0, 5)
    wp, ap = planted(w, a)
    np.testing.assert_array_equal(wp, w)
    assert np.count_nonzero(ap == a) == math.ceil(math.sqrt(1_024))
    kw = {"input_radius": math.sqrt(8), "m": 300, "delta": 0.05, "margin": 0.5, "phi": "tanh"}
    full, plant = compression_bound(w, a, **kw), compression_bound(wp, ap, **kw)
    assert full.kappa == 1.0
    assert plant.kept <= 2 * math.ceil(math.sqrt(1_024))
    assert plant.gap_bound < 0.5 * full.gap_bound


def test_noise_only_law_is_paired_and_has_the_stated_scale() -> None:
    """One seed: the same W_0 and a_0 for every alpha; the summed noise has scale
    NOISE_FACTOR / sqrt(d): at alpha = 2 (N(0, 2) per unit scale) the coordinates'
    variance is 1/d + 2 NOISE_FACTOR^2 / d within 5%."""
    w8, a8 = noise_only_weights(4_096, 0.8, 11)
    w2, a2 = noise_only_weights(4_096, 2.0, 11)
    np.testing.assert_array_equal(a8, a2)
    assert not np.array_equal(w8, w2)
    assert w2.var() == pytest.approx((1 + 2 * NOISE_FACTOR**2) / 8, rel=0.05)


def test_two_sided_checks_recompute(evidence: Evidence) -> None:
    """The ratio checks are paired means of log(bound / Gaussian bound) at the largest
    width; the kappa checks 1/2 less the share of replicates that prune, with its exact
    interval."""
    d = evidence.data
    (light,) = [c for c in evidence.checks if c.label.startswith("trained, α = 0.8: bound")]
    ref = mean_interval(
        np.log(d.trained.bound[LIGHT, -1] / d.trained.bound[GAUSS, -1]),
        level=light.measurement.level,
    )
    assert light.measurement == ref
    (kap,) = [c for c in evidence.checks if c.label.startswith("noise-only law, α = 0.8: pruning")]
    kappas = d.law.kappa[LIGHT, -1]
    share = clopper_pearson(int(np.sum(np.log2(kappas) <= LOG2_KAPPA_PAYS)), kappas.size, ref.level)
    assert (kap.measurement.estimate, kap.measurement.low, kap.measurement.high) == (
        0.5 - share.estimate,
        0.5 - share.high,
        0.5 - share.low,
    )
    # The null runs are Gaussian on another seed: not the same numbers as the Gaussian.
    assert not np.array_equal(d.trained.bound[NULL], d.trained.bound[GAUSS])
    assert np.all(d.trained.bound[PLANTED] < d.trained.bound[GAUSS])


def test_rules_have_power() -> None:
    """Each rule agrees with an interval on its side, disagrees with one on the other, and
    the kappa rule cannot decide from five replicates that all choose the same kappa, and
    decides from ten (one grid step below 1: agree; kappa = 1: disagree)."""
    below, above = Measurement(-0.2, -0.3, -0.1), Measurement(0.2, 0.1, 0.3)
    assert BELOW_RULE.judge(0.0, below) is Verdict.AGREE
    assert BELOW_RULE.judge(0.0, above) is Verdict.DISAGREE
    level = 0.996  # about the level of the claim's 13 checks
    step = math.ceil(2**-0.5 * 64) / 64  # one grid step below 1, at n = 64
    for reps, decided in ((5, False), (10, True)):
        keep_all, prune = pays_share(np.ones(reps), level), pays_share(np.full(reps, step), level)
        assert (KAPPA_RULE.judge(0.0, keep_all) is Verdict.DISAGREE) is decided
        assert (KAPPA_RULE.judge(0.0, prune) is Verdict.AGREE) is decided
        assert KAPPA_RULE.judge(0.0, keep_all) is not Verdict.AGREE
    assert VALIDITY_RULE.judge(0.0, Measurement(0.2, 0.1, 0.3)) is Verdict.DISAGREE


def test_validity_is_a_sanity_check_and_holds(evidence: Evidence) -> None:
    validity = evidence.checks[0]
    assert validity.sanity and validity.verdict is Verdict.AGREE
    d = evidence.data
    excess = (d.test_loss - d.train_loss - d.trained.bound[: len(NOISES)]).reshape(
        -1, TINY.replicates
    )
    level = 1.0 - (1.0 - validity.measurement.level) / excess.shape[0]
    assert validity.measurement.estimate == max(mean_interval(x, level).estimate for x in excess)


def test_slope_tolerance_premise_holds(evidence: Evidence) -> None:
    """The slope tolerance assumes a log count per parameter of at least MIN_LOG_RATIO at
    kappa = 1; the slope rule rejects slope 0 and a slope off by twice the tolerance."""
    d = evidence.data
    assert np.all(
        d.log_ratio[: len(NOISES)][d.trained.kappa[: len(NOISES)] == 1.0] >= MIN_LOG_RATIO
    )
    off = 0.5 + 2 * SLOPE_RULE.tolerance
    assert SLOPE_RULE.judge(0.5, Measurement(off, off - 0.01, off + 0.01)) is Verdict.DISAGREE
    assert SLOPE_RULE.judge(0.0, Measurement(0.48, 0.47, 0.49)) is Verdict.DISAGREE


def test_noises_share_data_and_initialisation() -> None:
    heavy = train(16, NOISES[LIGHT][1], TINY, 7)
    gauss = train(16, NOISES[GAUSS][1], TINY, 7)
    assert heavy.x_train is not None and gauss.x_train is not None
    np.testing.assert_array_equal(heavy.x_train, gauss.x_train)
    assert not np.array_equal(heavy.w, gauss.w)
    x, _ = fresh_test_sets(TINY, 3)
    for r in range(TINY.replicates):
        np.testing.assert_allclose(
            network_output(heavy.w[r], heavy.a[r], x[r], "tanh"),
            heavy.outputs(x[r])[r],
            rtol=1e-12,
        )


def test_noise_scale() -> None:
    for alpha in (0.8, 1.5, 2.0):
        sigma = noise_scale(500, alpha)
        assert math.isclose(sigma * (0.1 * 500) ** (1 / alpha), NOISE_FACTOR / math.sqrt(8))


def test_sizes_are_checked() -> None:
    with pytest.raises(InvalidArgumentError, match="widths"):
        BoundSize((64,), (128, 256), 3, 10, 10)
    with pytest.raises(InvalidArgumentError, match="law_widths"):
        BoundSize((64, 128), (256, 128), 3, 10, 10)


def test_findings_and_statement(evidence: Evidence) -> None:
    text = CLAIM.findings_of(evidence)
    assert evidence.verdict.value in text and "planted control" in text
    assert "Found" not in CLAIM.statement


def test_same_seed_same_numbers(evidence: Evidence) -> None:
    again = CLAIM.run(TINY, rng=0)
    assert again.checks == evidence.checks
    np.testing.assert_array_equal(again.data.law.bound, evidence.data.law.bound)


def test_figure(evidence: Evidence) -> None:
    fig = CLAIM.figure(evidence, note="seed 0")
    axes = fig.get_axes()
    assert len(axes) == 4
    assert all(ax.get_legend() is not None for ax in axes)
    assert "d = 8" in fig.get_supxlabel()
