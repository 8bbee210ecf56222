"""Claim meanfield.sgd_heavy: stationarity diagnostic, heavy tails and chaos, each with
controls of its kind; chaos only where a stationary law exists."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from heavytail.reports import ControlKind, Evidence, Measurement, Verdict
from heavytail.reports._claims.meanfield_sgd_heavy import (
    CLAIM,
    FALL_RULE,
    RISE_RULE,
    STATIONARY_RULE,
)
from heavytail.reports._claims.meanfield_sgd_heavy_grid import (
    BATCH,
    KS_MAX,
    SgdHeavySize,
    ks_distance,
)
from heavytail.theory import InvalidArgumentError

#: A small grid below the edge: the norms still grow between T and 2T. The widest width
#: and the replicates give the quick size's 16,384 pooled units, the count at which the
#: KS threshold and the tail estimator's interval have the power their positive controls
#: show (with 2,048 units both controls come out inconclusive).
TINY = SgdHeavySize((128, 1024), (0.5, 2.0, 8.0), 16, 50, 100)
#: Step sizes so small that the norms cannot move between T = 1 and 2T = 2: the
#: diagnostic finds a stationary law, and chaos is then checked.
FROZEN = SgdHeavySize((128, 256), (1e-4, 2e-4, 4e-4), 8, 1, 100)


@pytest.fixture(scope="module")
def tiny() -> Evidence:
    return CLAIM.run(TINY, rng=0)


@pytest.fixture(scope="module")
def frozen() -> Evidence:
    return CLAIM.run(FROZEN, rng=0)


def _controls(ev: Evidence, words: str) -> list:
    found = [c for c in ev.controls if words in c.label]
    assert found, words
    return found


def test_growing_norms_fail_the_diagnostic_and_chaos_is_not_checked(tiny: Evidence) -> None:
    """Where the norms' law moves between T and 2T the stationarity check disagrees, no
    chaos check is made, and the findings say so."""
    (stat,) = [c for c in tiny.checks if c.label.startswith("stationary law")]
    assert stat.verdict is Verdict.DISAGREE
    assert not any("independent" in c.label for c in tiny.checks)
    assert math.isnan(tiny.data.chaos_eta)
    assert "chaos was not checked" in CLAIM.findings_of(tiny)


def test_chaos_is_checked_where_the_law_is_stationary(frozen: Evidence) -> None:
    """With the weights frozen the diagnostic passes, and chaos is checked at the largest
    stationary eta / b; two tiny steps from an i.i.d. initialisation leave the units
    independent, so the interval holds the predicted slope 0."""
    (stat,) = [c for c in frozen.checks if c.label.startswith("stationary law")]
    assert stat.verdict is Verdict.AGREE
    (chaos,) = [c for c in frozen.checks if "independent" in c.label]
    assert frozen.data.chaos_eta == pytest.approx(FROZEN.etas[-1] / BATCH)
    assert "stationary" in chaos.label
    assert chaos.verdict is not Verdict.DISAGREE
    assert chaos.measurement.low <= 0.0 <= chaos.measurement.high
    assert all(c.kind is ControlKind.ALTERNATIVE for c in _controls(frozen, "control: slope"))


def test_positive_controls_detected_and_null_controls_rejected(tiny: Evidence) -> None:
    """Every trend check has a detected positive control and a rejected null control;
    the stationarity and heavy-tail checks too."""
    assert tiny.power_shown
    for c in tiny.controls:
        assert c.passed, c.label
    kinds = {c.kind for c in tiny.controls}
    assert {ControlKind.POSITIVE, ControlKind.NULL} <= kinds
    trends = [c for c in tiny.checks if c.trend]
    assert len(trends) == 2
    positives = [c for c in tiny.controls if c.kind is ControlKind.POSITIVE]
    nulls = [c for c in tiny.controls if c.kind is ControlKind.NULL]
    assert all(c.verdict is Verdict.AGREE for c in positives)
    assert all(c.verdict is not Verdict.AGREE for c in nulls)
    (init_vs_t,) = _controls(tiny, "not stationary")
    assert init_vs_t.verdict is Verdict.DISAGREE  # a non-stationary run fails the diagnostic


def test_ks_distance_is_scipys() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal(500), rng.standard_normal(700) + 0.1
    assert ks_distance(x, y) == pytest.approx(stats.ks_2samp(x, y).statistic, abs=1e-12)


def test_rules_have_power() -> None:
    assert STATIONARY_RULE.judge(0.0, Measurement(-0.02, -0.03, -0.01)) is Verdict.AGREE
    assert STATIONARY_RULE.judge(0.0, Measurement(0.1, 0.05, 0.15)) is Verdict.DISAGREE
    falling, rising = Measurement(-0.5, -0.6, -0.4), Measurement(0.5, 0.4, 0.6)
    assert FALL_RULE.judge(0.0, falling) is Verdict.AGREE
    assert FALL_RULE.judge(0.0, rising) is Verdict.DISAGREE
    assert RISE_RULE.judge(0.0, rising) is Verdict.AGREE
    assert KS_MAX == 0.05


def test_the_edge_is_excluded() -> None:
    with pytest.raises(InvalidArgumentError, match="edge"):
        SgdHeavySize((128, 256), (0.5, 1.0, 12.0), 8, 10, 100)
    with pytest.raises(InvalidArgumentError, match="widths"):
        SgdHeavySize((128,), (0.5, 1.0, 2.0), 8, 10, 100)
    with pytest.raises(InvalidArgumentError, match="replicates"):
        SgdHeavySize((128, 256), (0.5, 1.0, 2.0), 4, 10, 100)


def test_same_seed_same_numbers(tiny: Evidence) -> None:
    again = CLAIM.run(TINY, rng=0)
    assert again.checks == tiny.checks
    np.testing.assert_array_equal(again.data.alpha, tiny.data.alpha)


def test_figure(tiny: Evidence) -> None:
    fig = CLAIM.figure(tiny, note="seed 0")
    axes = fig.get_axes()
    assert len(axes) == 4
    assert all(ax.get_legend() is not None for ax in axes)
    assert "not checked" in fig.get_supxlabel()
