"""Claim meanfield.chaos_heavy at a small powered size: verdicts, controls by kind, figure."""

from __future__ import annotations

import numpy as np
import pytest

from heavytail.reports import ControlKind, Evidence, Verdict, claim_ids, get_claim
from heavytail.reports._claims.meanfield_chaos import CONTROL_SLOPES
from heavytail.reports._claims.meanfield_chaos_heavy import (
    CELLS,
    CLAIM,
    N_CHECKS,
    SIZES,
    ChaosHeavyData,
    ChaosHeavySize,
)
from heavytail.reports._claims.meanfield_wan import independent_units
from heavytail.theory import InvalidArgumentError

# Small enough for seconds, large enough for the rule to have power at seed 0: six
# widths 16..512, 48 replicates, 100 steps. Smoke size is machinery only.
POWERED = ChaosHeavySize((16, 32, 64, 128, 256, 512), 48, n_steps=100)


@pytest.fixture(scope="module")
def evidence() -> Evidence[ChaosHeavyData]:
    return CLAIM.run(POWERED, rng=0)


def test_registered() -> None:
    assert "meanfield.chaos_heavy" in claim_ids()
    assert get_claim("meanfield.chaos_heavy") is CLAIM


def test_two_trend_checks_per_cell_predict_slope_zero(
    evidence: Evidence[ChaosHeavyData],
) -> None:
    assert len(evidence.checks) == 2 * len(CELLS) == 8
    assert all(c.prediction == 0.0 and c.trend for c in evidence.checks)
    assert not [c.label for c in evidence.checks if c.verdict is Verdict.DISAGREE]


def test_checks_are_declared_per_cell_and_set_the_level(
    evidence: Evidence[ChaosHeavyData],
) -> None:
    labels = [c.label for c in evidence.checks]
    for (alpha, typ), pair in zip(CELLS, zip(labels[::2], labels[1::2], strict=True), strict=True):
        assert all(label.startswith(f"alpha = {alpha:g}, type {typ}:") for label in pair)
    assert len(set(labels)) == N_CHECKS
    assert evidence.settings["interval_level"] == pytest.approx(1 - 0.05 / N_CHECKS)
    assert len(evidence.data.fits) == len(CELLS)
    assert evidence.data.outputs.shape == (len(CELLS), len(POWERED.widths))


def test_positive_controls_are_detected(evidence: Evidence[ChaosHeavyData]) -> None:
    """Units i.i.d. by construction (the noise's law, no training): slope 0 accepted."""
    positives = [c for c in evidence.controls if c.kind is ControlKind.POSITIVE]
    assert len(positives) == 2 * len(CELLS)
    for c in positives:
        assert c.prediction == 0.0
        assert c.verdict is Verdict.AGREE, c.label
    assert evidence.power_shown


def test_null_controls_are_rejected(evidence: Evidence[ChaosHeavyData]) -> None:
    """One noise draw shared by a replicate's units: n Var grows like n, slope near 1."""
    nulls = [c for c in evidence.controls if c.kind is ControlKind.NULL]
    assert len(nulls) == len(CELLS)
    for c, fits in zip(nulls, evidence.data.fits, strict=True):
        assert c.measurement == fits.null.slope
        assert c.verdict is Verdict.DISAGREE, c.label
        assert c.passed
        assert c.measurement.low > 0.5


def test_alternative_slopes_are_rejected(evidence: Evidence[ChaosHeavyData]) -> None:
    alternatives = [c for c in evidence.controls if c.kind is ControlKind.ALTERNATIVE]
    assert len(alternatives) == 2 * len(CELLS) * len(CONTROL_SLOPES)
    assert all(c.passed for c in alternatives), [c.label for c in alternatives if not c.passed]


def test_verdict_and_findings(evidence: Evidence[ChaosHeavyData]) -> None:
    assert evidence.verdict is Verdict.AGREE, evidence.reason
    text = CLAIM.findings_of(evidence)
    first = evidence.checks[0].measurement
    assert f"{first.estimate:+.2f}" in text
    assert "detected" in text


def test_statement_quotes_no_run() -> None:
    text = CLAIM.statement
    assert "Wan" in text and "eta^(1/alpha)" in text
    for word in ("Found", "measured at quick", "agree:", "disagree:"):
        assert word not in text
    assert f"R = {SIZES['quick'].replicates}" in text


def test_independent_units_have_the_noise_law() -> None:
    """Type 1 puts one scalar on every coordinate; shared=True one draw per replicate."""
    p = SIZES["smoke"]
    rng = np.random.default_rng(3)
    free = independent_units(p, 1.5, 1, 64, rng)
    tied = independent_units(p, 1.5, 1, 64, rng, shared=True)
    assert free.shape == tied.shape == (p.replicates, 64, p.dim)
    # The initialisation is N(0, I/d): the spread across coordinates within a unit is
    # the initialisation's alone, the noise being equal on every coordinate.
    within = free - free.mean(axis=2, keepdims=True)
    assert 0.5 / p.dim < float(np.mean(within**2)) * p.dim / (p.dim - 1) < 2.0 / p.dim
    # Shared: the per-unit means of one replicate move together (their spread across
    # units is the initialisation's, far below the noise's spread across replicates).
    unit_means = tied.mean(axis=2)
    assert np.median(unit_means.std(axis=1)) < np.median(np.abs(unit_means.mean(axis=1)))


def test_figure_has_two_panels_and_the_title(evidence: Evidence[ChaosHeavyData]) -> None:
    fig = CLAIM.figure(evidence, note="seed 0")
    assert fig.get_suptitle().startswith("meanfield.chaos_heavy")
    assert len(fig.axes) == 2


def test_smoke_runs() -> None:
    ev = CLAIM.run("smoke", rng=1)
    assert len(ev.checks) == 8
    assert ev.settings["replicates"] == SIZES["smoke"].replicates


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"widths": (8, 16, 32)}, "widths"),
        ({"widths": (8, 16, 16, 64)}, "widths"),
        ({"replicates": 4}, "replicates"),
    ],
)
def test_sizes_are_validated(kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        ChaosHeavySize(**{"widths": (8, 16, 32, 64), "replicates": 16, **kwargs})
