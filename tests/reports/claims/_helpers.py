"""Assertions that the tests of several claims share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from heavytail.reports import Claim, ControlKind, Evidence, Verdict


def evidence_fixture(
    claim: Claim[Any, Any], size: Any, seed: int, name: str = "evidence"
) -> Callable[[], Evidence[Any]]:
    """A module-scoped fixture ``name``: the claim's evidence at ``size`` with ``seed``,
    run once for the module's tests."""

    @pytest.fixture(scope="module", name=name)
    def run_once() -> Evidence[Any]:
        return claim.run(size, rng=seed)

    return run_once


def assert_controls_are_alternatives_and_checks_values(evidence: Evidence[Any]) -> None:
    """Nearby wrong predictions on the checks' own measurements: alternatives, which count
    and must be rejected (disagree); the checks predict values, not trends."""
    assert evidence.controls
    for control in evidence.controls:
        assert control.kind is ControlKind.ALTERNATIVE and control.counts
        assert control.passed is (control.verdict is Verdict.DISAGREE)
    assert evidence.controls_rejected
    assert not any(c.trend or c.sanity for c in evidence.checks)


def rerun_with_same_seed(
    claim: Claim[Any, Any], size: Any, seed: int, evidence: Evidence[Any]
) -> Evidence[Any]:
    """The claim run again at ``size`` with ``seed``, after asserting that its checks and
    controls are those of ``evidence`` (the run with that seed)."""
    again = claim.run(size, rng=seed)
    assert again.checks == evidence.checks
    assert again.controls == evidence.controls
    return again
