"""Claim meanfield.noise_compress: predictions, verdicts, negative controls, figure."""

from __future__ import annotations

import numpy as np
import pytest

from heavytail.reports import ControlKind, Evidence, Measurement, Verdict
from heavytail.reports._claims.meanfield_noise_compress import (
    ALPHAS,
    CELLS,
    CLAIM,
    GAUSSIAN_RULE,
    KAPPAS,
    N_CHECKS,
    NOISE_TYPES,
    RATE_TOLERANCE,
    SIZES,
    NoiseCompressData,
    NoiseCompressSize,
    check_labels,
    predicted_slope,
)
from heavytail.reports._claims.meanfield_noise_tolerances import iid_slope_table
from heavytail.reports._claims.meanfield_wan import iid_columns
from heavytail.theory import InvalidArgumentError

# A few seconds: widths 32..2048, 32 replicates. The alpha = 1.5 rates, the Gaussian
# data and the tails have power here; the alpha = 1.75 rates (distance 0.071 to the
# control slope 0, of which the tolerance takes 0.026) lack it here and at quick size.
SMALL = NoiseCompressSize((32, 256, 2048), 32, 8)


@pytest.fixture(scope="module")
def evidence() -> Evidence[NoiseCompressData]:
    return CLAIM.run(SMALL, rng=0)


def test_predictions_and_check_count(evidence: Evidence[NoiseCompressData]) -> None:
    assert len(evidence.checks) == N_CHECKS == 20
    rates = evidence.checks[: len(CELLS) * len(KAPPAS)]
    expected = [predicted_slope(a) for a, _ in CELLS for _ in KAPPAS]
    assert [c.prediction for c in rates] == pytest.approx(expected, rel=1e-12)
    tails = evidence.checks[len(rates) : len(rates) + len(CELLS)]
    assert [c.prediction for c in tails] == [a for a, _ in CELLS]
    assert all(c.prediction == 0.0 for c in evidence.checks[len(rates) + len(CELLS) :])
    removable = [c for c in evidence.checks if "removable" in c.label]
    assert len(removable) == len(CELLS) and all(c.trend for c in removable)


def test_checks_are_those_declared_and_set_the_level(
    evidence: Evidence[NoiseCompressData],
) -> None:
    """The judge declares its checks from the grid: the level is Bonferroni over them."""
    assert [c.label for c in evidence.checks] == check_labels(SMALL)
    assert evidence.settings["interval_level"] == pytest.approx(1 - 0.05 / N_CHECKS)
    assert {c.measurement.level for c in evidence.checks} == {evidence.settings["interval_level"]}


def test_figure_data_holds_each_cells_prediction_and_tolerance(
    evidence: Evidence[NoiseCompressData],
) -> None:
    d = evidence.data
    assert d.cells[: len(CELLS)] == CELLS
    for c, (alpha, _) in enumerate(d.cells):
        if alpha < 2.0:
            assert d.prediction[c] == predicted_slope(alpha)
            assert d.tolerance[c] == RATE_TOLERANCE
        else:
            assert d.prediction[c] == 0.0
            assert d.tolerance[c] == GAUSSIAN_RULE.tolerance
    assert d.slope.shape == (len(d.cells), len(KAPPAS))
    assert d.tail.shape == (len(d.cells),)


def test_iid_columns_of_type_1_move_every_coordinate_together() -> None:
    """Type 1 adds one scalar to every coordinate of a unit: within a unit the spread is
    the initialisation's, N(0, 1/d); type 3 (an elliptic vector) spreads the coordinates."""
    rng = np.random.default_rng(0)
    d = 8
    one = iid_columns(1.5, 1, 2000, d, 10.0, rng)
    three = iid_columns(1.5, 3, 2000, d, 10.0, rng)
    assert one.shape == three.shape == (2000, d)
    within = one - one.mean(axis=1, keepdims=True)
    assert 0.5 / d < float(np.mean(within**2)) * d / (d - 1) < 2.0 / d
    spread = np.abs(three - three.mean(axis=1, keepdims=True))
    assert float(np.median(spread)) > 1.0


def test_no_check_disagrees(evidence: Evidence[NoiseCompressData]) -> None:
    assert not [c.label for c in evidence.checks if c.verdict is Verdict.DISAGREE]


def test_controls_with_power_at_this_size_are_rejected(
    evidence: Evidence[NoiseCompressData],
) -> None:
    """Every control except slope 0 against the alpha = 1.75 rates (too close at 32
    replicates) comes out as its kind requires: alternatives and the Gaussian nulls of
    the rates and tails disagree, the split-Gaussian nulls of Wan et al.'s measure do not
    agree, its planted positive control is detected."""
    weak = [c for c in evidence.controls if "alpha = 1.75" in c.label and "slope 0" in c.label]
    assert len(weak) == len(NOISE_TYPES) * len(KAPPAS)
    kinds = {c.kind for c in evidence.controls}
    assert kinds == {ControlKind.ALTERNATIVE, ControlKind.NULL, ControlKind.POSITIVE}
    for control in evidence.controls:
        if control in weak:
            continue
        assert control.passed, control.label
        if "one half minus the other" not in control.label and control.kind is not (
            ControlKind.POSITIVE
        ):
            assert control.verdict is Verdict.DISAGREE, control.label
    assert evidence.power_shown
    rules = {c.rule for c in evidence.checks}
    assert all(c.rule in rules for c in evidence.controls)


def test_removable_fraction_detects_planted_heavy_tails_and_not_gaussian_halves() -> None:
    """Wan et al.'s measure, through the claim's rule: the planted effect (i.i.d. columns
    of index 1.5 against Gaussian ones) is detected; Gaussian against Gaussian is not."""
    from heavytail.reports._claims.meanfield_noise_compress import (
        REMOVABLE_RULE,
        welch_difference,
    )
    from heavytail.reports._claims.meanfield_noise_compress_grid import (
        POSITIVE_ALPHA,
        iid_removable,
    )
    from heavytail.reports._claims.meanfield_wan import GAUSSIAN

    size = NoiseCompressSize((32, 1024), 16, 16)
    rng = np.random.default_rng(5)
    heavy = iid_removable(POSITIVE_ALPHA, size, 16, rng)
    gauss = iid_removable(GAUSSIAN, size, 16, rng)
    gauss2 = iid_removable(GAUSSIAN, size, 16, rng)
    assert REMOVABLE_RULE.judge(0.0, welch_difference(heavy, gauss, 0.99)) is Verdict.AGREE
    assert REMOVABLE_RULE.judge(0.0, welch_difference(gauss2, gauss, 0.99)) is not (Verdict.AGREE)
    # the reversed difference is rejected outright
    assert REMOVABLE_RULE.judge(0.0, welch_difference(gauss, heavy, 0.99)) is Verdict.DISAGREE


def test_gaussian_noise_keeps_a_positive_error(evidence: Evidence[NoiseCompressData]) -> None:
    d = evidence.data
    gaussian = [i for i, (a, _) in enumerate(d.cells) if a == 2.0]
    heavy = [i for i, (a, _) in enumerate(d.cells) if a < 2.0]
    # the Gaussian errors stay near their limit (within 5% from 32 to 2048 units:
    # the measured slopes are within 0.04 of 0), the heavy ones fall
    g = d.error_median[gaussian]
    assert np.all(np.abs(g[..., -1] / g[..., 0] - 1) < 0.05 * np.log(64))
    h = d.error_median[heavy]
    assert np.all(h[..., -1] < h[..., 0])


def test_rules_have_power_at_the_quick_width_of_the_intervals() -> None:
    """With the interval widths of the quick run, the rules reject the controls: an
    interval of width 0.06 on the predicted slope excludes slope 0 for both alphas."""
    from heavytail.reports._claims.meanfield_noise_compress import _rate_rule

    for alpha in ALPHAS:
        pred = predicted_slope(alpha)
        m = Measurement(pred, pred - 0.03, pred + 0.03, level=0.99)
        assert _rate_rule(alpha).judge(pred, m) is Verdict.AGREE
        assert _rate_rule(alpha).judge(0.0, m) is Verdict.DISAGREE
    flat = Measurement(0.0, -0.01, 0.01, level=0.99)
    assert GAUSSIAN_RULE.judge(predicted_slope(max(ALPHAS)), flat) is Verdict.DISAGREE


@pytest.mark.slow
def test_quick_size_rejects_the_controls_it_has_power_for() -> None:
    """At quick size every control is rejected except, possibly, slope 0 against the
    alpha = 1.75 rates (their intervals, about 0.08 wide, plus the tolerance 0.026 can
    reach 0); no check disagrees."""
    ev = CLAIM.run("quick", rng=0)
    assert not [c.label for c in ev.checks if c.verdict is Verdict.DISAGREE]
    for control in ev.controls:
        if not ("alpha = 1.75" in control.label and "slope 0" in control.label):
            assert control.passed, control.label
    assert [c.verdict for c in ev.checks if "removable" in c.label] == [Verdict.AGREE] * len(CELLS)


def test_iid_table_backs_the_tolerances() -> None:
    """The i.i.d. model (few replicates here: a smoke run of the measurement) has heavy
    rates within their standard error plus a tolerance of the prediction (its bias is
    what the tolerance allows, measured at 1000 replicates), and Gaussian slopes near 0."""
    rows = iid_slope_table(replicates=40, seed=1)
    assert len(rows) == (len(CELLS) + len(NOISE_TYPES)) * len(KAPPAS)
    for alpha, _typ, _kappa, slope, bias, se in rows:
        allowed = RATE_TOLERANCE if alpha < 2 else GAUSSIAN_RULE.tolerance
        assert abs(bias) < allowed + 4 * se, (alpha, slope, se)
        if alpha < 2:
            assert slope < 0


def test_findings_come_from_the_run(evidence: Evidence[NoiseCompressData]) -> None:
    text = CLAIM.findings_of(evidence)
    assert "removable fraction" in text and evidence.verdict.value in text
    assert "removable" not in CLAIM.statement.split("(4)")[0]
    assert "Found" not in CLAIM.statement


def test_figure_and_statement(evidence: Evidence[NoiseCompressData]) -> None:
    fig = CLAIM.figure(evidence, note="seed 0")
    assert fig.get_suptitle().startswith("meanfield.noise_compress")
    assert len(fig.axes) == 4
    quick = SIZES["quick"]
    assert f"with {quick.replicates} replicates" in CLAIM.statement
    assert "fixed" in CLAIM.statement and "n^(-α/2 - 1)" in CLAIM.statement


def test_smoke_runs() -> None:
    ev = CLAIM.run("smoke", rng=2)
    assert len(ev.checks) == N_CHECKS


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"widths": (64,)}, "widths"),
        ({"widths": (64, 64)}, "widths"),
        ({"widths": (8, 64)}, "widths"),
        ({"replicates": 2}, "replicates"),
    ],
)
def test_sizes_are_validated(kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        NoiseCompressSize(
            **{"widths": (32, 64), "replicates": 8, "gaussian_replicates": 4, **kwargs}
        )
