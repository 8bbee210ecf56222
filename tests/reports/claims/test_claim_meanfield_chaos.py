"""Claim meanfield.chaos at a small powered size: verdicts, negative controls, figure."""

from __future__ import annotations

import pytest

from heavytail.reports import ControlKind, Evidence, Verdict
from heavytail.reports._claims.meanfield_chaos import (
    CHECK_LABELS,
    CLAIM,
    CONTROL_SLOPES,
    SIZES,
    ChaosData,
    ChaosSize,
    power_half_width,
)
from heavytail.theory import InvalidArgumentError

# Small enough for seconds, large enough for the rule to have power (every control
# rejected): five widths 16..256, 48 replicates, 300 steps. Smoke size is machinery only.
POWERED = ChaosSize((16, 32, 64, 128, 256), 48, (16, 32, 64, 128), 384, 16, 300)


@pytest.fixture(scope="module")
def evidence() -> Evidence[ChaosData]:
    return CLAIM.run(POWERED, rng=0)


def test_checks_predict_slope_zero_and_agree(evidence: Evidence[ChaosData]) -> None:
    assert len(evidence.checks) == 2
    assert [c.prediction for c in evidence.checks] == [0.0, 0.0]
    assert not [c.label for c in evidence.checks if c.verdict is Verdict.DISAGREE]
    assert evidence.verdict is Verdict.AGREE


def test_checks_are_those_declared_and_set_the_level(evidence: Evidence[ChaosData]) -> None:
    assert tuple(c.label for c in evidence.checks) == CHECK_LABELS
    assert evidence.settings["interval_level"] == pytest.approx(1 - 0.05 / len(CHECK_LABELS))
    d = evidence.data
    assert d.outputs.shape == d.weights.shape == d.pair_cov.shape == (len(POWERED.widths),)
    assert d.control.shape == d.pair_cov_control.shape == (len(POWERED.control_widths),)
    assert d.pair_var.shape == d.law.shape == (len(POWERED.widths),)


def test_every_control_comes_out_as_its_kind_requires(evidence: Evidence[ChaosData]) -> None:
    """Slopes +1 and -1 rejected; slope 0 detected on the networks at step 0 (units
    i.i.d. by construction); slope 0 not accepted on independent-batch data."""
    rules = {c.rule for c in evidence.checks}
    kinds = [c.kind for c in evidence.controls]
    assert kinds.count(ControlKind.ALTERNATIVE) == 2 * len(CONTROL_SLOPES)
    assert kinds.count(ControlKind.POSITIVE) == 2
    assert kinds.count(ControlKind.NULL) == 1
    for control in evidence.controls:
        assert control.rule in rules
        assert control.passed, control.label
    assert all(c.trend for c in evidence.checks)
    assert evidence.power_shown


def test_positive_controls_are_detected(evidence: Evidence[ChaosData]) -> None:
    positives = [c for c in evidence.controls if c.kind is ControlKind.POSITIVE]
    assert [c.measurement for c in positives] == [
        evidence.data.fits.positive_outputs.slope,
        evidence.data.fits.positive_weights.slope,
    ]
    for c in positives:
        assert c.verdict is Verdict.AGREE, c.label


def test_null_control_is_rejected(evidence: Evidence[ChaosData]) -> None:
    (null,) = [c for c in evidence.controls if c.kind is ControlKind.NULL]
    assert null.prediction == 0.0
    assert null.measurement == evidence.data.fits.null.slope
    assert null.verdict is not Verdict.AGREE
    # Units that share each replicate's batch noise stay correlated: n Var grows like n.
    assert null.measurement.low > 0.5


def test_findings_are_built_from_the_run(evidence: Evidence[ChaosData]) -> None:
    text = CLAIM.findings_of(evidence)
    s = evidence.checks[0].measurement
    assert f"{s.estimate:+.2f}" in text
    assert "detected" in text and "rejected" in text


def test_intervals_are_no_wider_than_the_power_calculation(evidence: Evidence[ChaosData]) -> None:
    """The statement's bound (one Gaussian column, independent widths) holds for the
    pooled, paired statistics: each half-width is at most the bound."""
    bound = power_half_width(POWERED.widths, POWERED.replicates)
    for check in evidence.checks:
        m = check.measurement
        assert (m.high - m.low) / 2 <= bound, check.label
    assert power_half_width(SIZES["quick"].widths, SIZES["quick"].replicates) < 0.5


def test_figure_has_four_panels_and_the_title(evidence: Evidence[ChaosData]) -> None:
    fig = CLAIM.figure(evidence, note="seed 0")
    assert fig.get_suptitle().startswith("meanfield.chaos")
    assert len(fig.axes) == 4


def test_statement_is_built_from_the_grid() -> None:
    quick = SIZES["quick"]
    assert f"R = {quick.replicates}" in CLAIM.statement
    assert f"{power_half_width(quick.widths, quick.replicates):.2f}" in CLAIM.statement


def test_smoke_runs() -> None:
    ev = CLAIM.run("smoke", rng=1)
    assert len(ev.checks) == 2
    assert ev.settings["replicates"] == SIZES["smoke"].replicates


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"widths": (8, 16, 32)}, "widths"),
        ({"widths": (8, 16, 16, 64)}, "widths"),
        ({"replicates": 4}, "replicates"),
        ({"law_units": 100}, "law_units"),
    ],
)
def test_sizes_are_validated(kwargs: dict, match: str) -> None:
    base = {"widths": (8, 16, 32, 64), "replicates": 16, "control_widths": (8, 16, 32, 64)}
    with pytest.raises(InvalidArgumentError, match=match):
        ChaosSize(**{**base, "law_units": 128, **kwargs})
