"""Claim meanfield.chaos at a small powered size: verdicts, negative controls, figure."""

from __future__ import annotations

import pytest

from heavytail.reports._claims.meanfield_chaos import (
    CLAIM,
    CONTROL_SLOPES,
    SIZES,
    ChaosData,
    ChaosSize,
    power_half_width,
)
from heavytail.reports._kit.claim import Evidence
from heavytail.reports._kit.verdict import Verdict
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


def test_every_control_is_rejected_by_the_checks_rule(evidence: Evidence[ChaosData]) -> None:
    """Slopes +1 and -1 on the checks' data, and slope 0 on independent-batch data."""
    rules = {c.rule for c in evidence.checks}
    assert len(evidence.controls) == 2 * len(CONTROL_SLOPES) + 1
    for control in evidence.controls:
        assert control.rule in rules
        assert control.verdict is Verdict.DISAGREE, control.label
    data_control = evidence.controls[-1]
    assert data_control.prediction == 0.0
    assert data_control.measurement == evidence.data.control_fit.slope
    # Units that share each replicate's batch noise stay correlated: n Var grows like n.
    assert data_control.measurement.low > 0.5


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
