"""Claim sgd.offline: the ordering in m, its positive and null controls, the figure."""

from __future__ import annotations

import pytest

from heavytail.reports import ControlKind, Evidence, Measurement, Verdict, claim_ids, get_claim
from heavytail.reports._claims.sgd_offline import (
    CLAIM,
    EQUAL_RULE,
    TREND_RULE,
    OfflineData,
    OfflineSize,
)
from heavytail.theory import InvalidArgumentError

from ._helpers import evidence_fixture

# A few seconds: m in {10, 250}, 6 datasets of 1,000 chains.
SMALL = OfflineSize((10, 250), 6, 1_000, 4, 300)


evidence = evidence_fixture(CLAIM, SMALL, 0)


def test_registered() -> None:
    assert "sgd.offline" in claim_ids()
    assert get_claim("sgd.offline") is CLAIM


def test_the_positive_control_is_detected_and_the_null_control_rejected(
    evidence: Evidence[OfflineData],
) -> None:
    kinds = {c.kind: c for c in evidence.controls}
    assert set(kinds) == {ControlKind.POSITIVE, ControlKind.NULL, ControlKind.ALTERNATIVE}
    assert kinds[ControlKind.POSITIVE].verdict is Verdict.AGREE  # detected
    assert kinds[ControlKind.NULL].verdict is not Verdict.AGREE  # rejected
    assert all(c.passed for c in evidence.controls)
    assert evidence.checks[0].trend and not evidence.checks[1].trend


def test_the_apparent_index_falls_towards_the_online_one(
    evidence: Evidence[OfflineData],
) -> None:
    d = evidence.data
    assert d.apparent[:, 0].mean() > d.apparent[:, -1].mean() + 0.5
    assert abs(d.apparent[:, -1].mean() - d.online.mean()) < 0.5
    assert evidence.verdict is not Verdict.DISAGREE


def test_rules_tell_the_cases_apart() -> None:
    falling = Measurement(-0.6, -0.8, -0.3, level=0.975)
    flat = Measurement(0.02, -0.3, 0.3, level=0.975)
    assert TREND_RULE.judge(0.0, falling) is Verdict.AGREE
    assert TREND_RULE.judge(0.0, flat) is Verdict.INCONCLUSIVE
    close = Measurement(0.05, -0.15, 0.2, level=0.975)
    assert EQUAL_RULE.judge(0.0, close) is Verdict.AGREE
    assert EQUAL_RULE.judge(1.0, close) is Verdict.DISAGREE


def test_findings_and_statement(evidence: Evidence[OfflineData]) -> None:
    text = CLAIM.findings_of(evidence)
    assert "Mean apparent index" in text and evidence.verdict.value in text
    assert "Found" not in CLAIM.statement
    fig = CLAIM.figure(evidence, note="seed 0")
    assert fig.get_suptitle().startswith("sgd.offline")


def test_smoke_runs() -> None:
    ev = CLAIM.run("smoke", rng=1)
    assert len(ev.checks) == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dataset_sizes": (10,)}, "dataset_sizes"),
        ({"dataset_sizes": (10, 10)}, "dataset_sizes"),
        ({"datasets": 2}, "datasets"),
        ({"n_chains": 10}, "n_chains"),
    ],
)
def test_sizes_are_validated(kwargs: dict, match: str) -> None:
    base = {
        "dataset_sizes": (10, 100),
        "datasets": 4,
        "n_chains": 400,
        "epochs": 2,
        "min_steps": 100,
    }
    with pytest.raises(InvalidArgumentError, match=match):
        OfflineSize(**{**base, **kwargs})
