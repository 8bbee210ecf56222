"""The verdict engine: rules, checks, evidence and how verdicts combine."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from heavytail.reports import (
    Check,
    Evidence,
    Measurement,
    Relation,
    Rule,
    Verdict,
    combine_verdicts,
)
from heavytail.theory import InvalidArgumentError

EQ = Rule(Relation.EQUAL, 0.0, "")
EQ_TOL = Rule(Relation.EQUAL, 0.1, "a stated bias", max_width=0.5, width_reason="a stated need")


def test_measurement_validates() -> None:
    with pytest.raises(InvalidArgumentError, match="contain the estimate"):
        Measurement(1.0, 1.5, 2.0)
    with pytest.raises(InvalidArgumentError, match="`low` must not be NaN"):
        Measurement(1.0, math.nan, 2.0)
    with pytest.raises(InvalidArgumentError, match="`estimate` must be finite"):
        Measurement(math.inf, 0.0, math.inf)
    with pytest.raises(InvalidArgumentError, match="`level`"):
        Measurement(1.0, 0.0, 2.0, level=0.0)
    m = Measurement(np.float32(1.0), 0, np.int64(2))  # type: ignore[arg-type]  # numpy reals
    assert (m.estimate, m.low, m.high, m.width) == (1.0, 0.0, 2.0, 2.0)
    one_sided = Measurement(1.0, 0.5, math.inf)
    assert one_sided.width == math.inf
    assert Measurement.exact(3.0).width == 0.0


def test_rule_needs_reasons() -> None:
    with pytest.raises(InvalidArgumentError, match="tolerance_reason"):
        Rule(Relation.EQUAL, 0.1, "  ")
    with pytest.raises(InvalidArgumentError, match="width_reason"):
        Rule(Relation.EQUAL, 0.0, "", max_width=1.0)
    with pytest.raises(InvalidArgumentError, match="`tolerance`"):
        Rule(Relation.EQUAL, -0.1, "negative")
    with pytest.raises(InvalidArgumentError, match="`max_width` must be > 0"):
        Rule(Relation.EQUAL, 0.0, "", max_width=0.0, width_reason="x")
    with pytest.raises(InvalidArgumentError, match="Relation"):
        Rule("=", 0.0, "")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("prediction", "expected"),
    [
        (1.0, Verdict.AGREE),  # inside
        (1.29, Verdict.AGREE),  # outside the interval, inside the tolerance
        (1.31, Verdict.DISAGREE),  # beyond the tolerance: a negative control
        (0.71, Verdict.AGREE),
        (0.69, Verdict.DISAGREE),
    ],
)
def test_equal_rule_with_tolerance(prediction: float, expected: Verdict) -> None:
    m = Measurement(1.0, 0.8, 1.2)
    assert EQ_TOL.judge(prediction, m) is expected


def test_equal_rule_width_decides_between_agree_and_inconclusive() -> None:
    wide = Measurement(1.0, 0.0, 2.0)  # width 2 > max_width 0.5
    assert EQ_TOL.judge(1.0, wide) is Verdict.INCONCLUSIVE
    # A wide interval that excludes the prediction is still evidence against it.
    assert EQ_TOL.judge(2.5, wide) is Verdict.DISAGREE
    assert EQ.judge(1.0, wide) is Verdict.AGREE  # no width limit


def test_one_sided_rules() -> None:
    at_most = Rule(Relation.AT_MOST, 0.0, "")
    below = Measurement(-0.5, -0.8, -0.2)
    straddle = Measurement(0.1, -0.3, 0.5)
    above = Measurement(0.5, 0.2, 0.8)
    assert at_most.judge(0.0, below) is Verdict.AGREE
    assert at_most.judge(0.0, straddle) is Verdict.INCONCLUSIVE
    assert at_most.judge(0.0, above) is Verdict.DISAGREE
    at_least = Rule(Relation.AT_LEAST, 0.0, "")
    assert at_least.judge(0.0, above) is Verdict.AGREE
    assert at_least.judge(0.0, straddle) is Verdict.INCONCLUSIVE
    assert at_least.judge(0.0, below) is Verdict.DISAGREE
    # Tolerance is an allowance in the claim's favour on both sides.
    tol = Rule(Relation.AT_MOST, 0.25, "rounding")
    assert tol.judge(0.0, Measurement(0.1, 0.05, 0.2)) is Verdict.AGREE
    assert tol.judge(0.0, Measurement(0.5, 0.3, 0.6)) is Verdict.DISAGREE


def test_combine_verdicts() -> None:
    a, d, i = Verdict.AGREE, Verdict.DISAGREE, Verdict.INCONCLUSIVE
    assert combine_verdicts([a, a]) is a
    assert combine_verdicts([a, i]) is i
    assert combine_verdicts([i, d, a]) is d
    assert combine_verdicts([]) is i  # nothing checked


def _check(label: str, prediction: float, rule: Rule = EQ_TOL) -> Check:
    return Check(label, prediction, Measurement(1.0, 0.9, 1.1), rule)


def test_evidence_verdict_needs_rejected_controls() -> None:
    good = _check("right", 1.0)
    control = _check("wrong", 3.0)
    escaped = _check("wrong but not far enough", 1.15)
    assert Evidence((good,), (control,), None).verdict is Verdict.AGREE
    # A control that escapes rejection shows the run had no power: not an agreement.
    assert Evidence((good,), (control, escaped), None).verdict is Verdict.INCONCLUSIVE
    # No control at all: nothing shows that the rule could fail.
    assert Evidence((good,), (), None).verdict is Verdict.INCONCLUSIVE
    # A disagreement stands whatever the controls.
    assert Evidence((good, control), (escaped,), None).verdict is Verdict.DISAGREE
    with pytest.raises(InvalidArgumentError, match="at least one check"):
        Evidence((), (control,), None)


def test_decisive_check_is_the_most_discrepant() -> None:
    ev = Evidence((_check("ok", 1.0), _check("far", 5.0), _check("near", 1.5)), (), None)
    assert ev.decisive.label == "far"
    assert ev.decisive.discrepancy > _check("near", 1.5).discrepancy > 0.0
    assert _check("ok", 1.0).discrepancy == 0.0


def test_evidence_is_read_only_and_pickles() -> None:
    ev = Evidence((_check("ok", 1.0),), (_check("wrong", 3.0),), {"x": [1, 2]}, {"n": 10})
    with pytest.raises(TypeError):
        ev.settings["n"] = 11  # type: ignore[index]
    back = pickle.loads(pickle.dumps(ev))
    assert back.checks == ev.checks and back.controls == ev.controls
    assert dict(back.settings) == {"n": 10} and back.verdict is Verdict.AGREE
