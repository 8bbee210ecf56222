"""Control kinds and the verdict rules built on them (docs/design.md, "How a verdict is reached").

Every case is built from exact numbers, so each outcome is decided by the rule alone; each
rule is shown both ways (the case that must pass and the one that must not).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from heavytail.reports import (
    Check,
    CheckBook,
    Control,
    ControlKind,
    Evidence,
    Measurement,
    Relation,
    Rule,
    Verdict,
)
from heavytail.reports._kit.claim import default_findings
from heavytail.reports._kit.verdict import ControlCheck
from heavytail.theory import InvalidArgumentError

# A trend check: the correlation is negative (the whole interval below 0).
BELOW_ZERO = Rule(Relation.AT_MOST, 0.0, "")
EQUAL = Rule(Relation.EQUAL, 0.0, "", max_width=1.0, width_reason="half the control's offset")


def _m(est: float, lo: float, hi: float) -> Measurement:
    return Measurement(est, lo, hi, level=0.95)


DETECTED = _m(-0.5, -0.8, -0.2)  # the whole interval below 0: the trend is seen
FLAT = _m(0.05, -0.3, 0.4)  # straddles 0: nothing is seen
REVERSED = _m(0.5, 0.2, 0.8)  # the whole interval above 0: the opposite trend


@dataclass(frozen=True)
class _P:
    n: int = 1


def _evidence(check: Measurement, *controls: Control, trend: bool = True) -> Evidence[None]:
    book = CheckBook(_P())
    book.declare(["rho(eta/b, alpha)"])
    book.check("rho(eta/b, alpha)", 0.0, check, BELOW_ZERO, *controls, trend=trend)
    return book.evidence(None)


def test_each_kind_passes_only_on_its_own_outcome() -> None:
    def ctl(kind: ControlKind, m: Measurement) -> ControlCheck:
        return ControlCheck("c", 0.0, m, BELOW_ZERO, kind=kind)

    assert ctl(ControlKind.POSITIVE, DETECTED).passed
    assert not ctl(ControlKind.POSITIVE, FLAT).passed
    assert ctl(ControlKind.NULL, FLAT).passed  # nothing seen on null data: rejected
    assert ctl(ControlKind.NULL, REVERSED).passed
    assert not ctl(ControlKind.NULL, DETECTED).passed  # a trend on null data: not rejected
    assert ctl(ControlKind.ALTERNATIVE, REVERSED).passed
    assert not ctl(ControlKind.ALTERNATIVE, FLAT).passed  # alternatives must disagree
    assert not ctl(ControlKind.MIRROR, DETECTED).counts
    assert ctl(ControlKind.POSITIVE, DETECTED).outcome == "detected"
    assert ctl(ControlKind.NULL, DETECTED).outcome == "NOT rejected"
    assert ctl(ControlKind.MIRROR, REVERSED).outcome == "rejected (mirror, not counted)"


def test_a_trend_may_disagree_only_with_a_detected_positive_control() -> None:
    null = Control("permuted eta/b", 0.0, FLAT, kind=ControlKind.NULL)
    with_power = _evidence(
        REVERSED, Control("planted trend", 0.0, DETECTED, kind=ControlKind.POSITIVE), null
    )
    assert with_power.verdict is Verdict.DISAGREE
    without_power = _evidence(
        REVERSED, Control("planted trend", 0.0, FLAT, kind=ControlKind.POSITIVE), null
    )
    assert without_power.verdict is Verdict.INCONCLUSIVE
    assert without_power.reason.startswith("no power")
    no_positive = _evidence(REVERSED, null)
    assert no_positive.verdict is Verdict.INCONCLUSIVE
    # Control: a check that is not a trend disagrees whatever the controls.
    assert _evidence(REVERSED, null, trend=False).verdict is Verdict.DISAGREE


def test_agree_needs_every_counting_control_and_ignores_mirrors() -> None:
    positive = Control("planted trend", 0.0, DETECTED, kind=ControlKind.POSITIVE)
    null_ok = Control("permuted", 0.0, FLAT, kind=ControlKind.NULL)
    null_bad = Control("permuted", 0.0, DETECTED, kind=ControlKind.NULL)
    mirror = Control("rho >= 0", 0.0, kind=ControlKind.MIRROR)
    assert _evidence(DETECTED, positive, null_ok).verdict is Verdict.AGREE
    assert _evidence(DETECTED, positive, null_bad).verdict is Verdict.INCONCLUSIVE
    # A mirror alone is no control: the run cannot have failed it independently.
    only_mirror = _evidence(DETECTED, mirror)
    assert only_mirror.verdict is Verdict.INCONCLUSIVE
    assert "no control that counts" in only_mirror.reason
    assert _evidence(DETECTED, positive, null_ok, mirror).verdict is Verdict.AGREE


def test_sanity_checks_alone_cannot_agree_but_can_disagree() -> None:
    book = CheckBook(_P())
    book.declare(["bound holds"])
    alt = Control("offset by 2", 2.0)
    book.check("bound holds", 0.0, _m(0.1, -0.2, 0.4), EQUAL, alt, sanity=True)
    ev = book.evidence(None)
    assert ev.verdict is Verdict.INCONCLUSIVE
    assert "sanity" in ev.reason
    book = CheckBook(_P())
    book.declare(["bound holds"])
    book.check("bound holds", 0.0, _m(3.0, 2.7, 3.3), EQUAL, alt, sanity=True)
    assert book.evidence(None).verdict is Verdict.DISAGREE


def test_null_and_positive_controls_need_their_own_data() -> None:
    with pytest.raises(InvalidArgumentError, match="measurement"):
        Control("permuted", 0.0, kind=ControlKind.NULL)
    with pytest.raises(InvalidArgumentError, match="kind"):
        Control("x", 0.0, kind="null")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="trend"):
        Check("x", 0.0, DETECTED, BELOW_ZERO, trend=True, sanity=True)


def test_plain_checks_given_as_controls_are_alternatives() -> None:
    ev = Evidence(
        (Check("x", 0.0, DETECTED, BELOW_ZERO),), (Check("y", 0.0, REVERSED, BELOW_ZERO),), None
    )
    assert ev.controls[0].kind is ControlKind.ALTERNATIVE
    assert ev.verdict is Verdict.AGREE


def test_findings_are_built_from_the_run() -> None:
    positive = Control("planted trend", 0.0, DETECTED, kind=ControlKind.POSITIVE)
    a = default_findings(_evidence(DETECTED, positive))
    b = default_findings(_evidence(_m(-0.9, -1.0, -0.7), positive))
    assert "-0.5 [-0.8, -0.2]" in a and "-0.9 [-1, -0.7]" in b
    assert "1 of 1 positive controls detected" in a
    json.dumps(a)
