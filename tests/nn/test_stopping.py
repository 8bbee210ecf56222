"""The decision taken at each evaluation (heavytail.nn._stopping.decide) and the sums an
evaluation reads (heavytail.nn._train.SplitSums)."""

from __future__ import annotations

import math

from heavytail.nn import StopRule
from heavytail.nn._stopping import Decision, TargetsMet, decide
from heavytail.nn._train import SplitSums

CHANCE = 0.4


def _row(
    train_loss: float = 1.0, train_accuracy: float = 0.5, batch_loss: float = 1.0
) -> dict[str, float]:
    return {
        "batch_loss": batch_loss,
        "train_loss": train_loss,
        "train_accuracy": train_accuracy,
    }


def test_no_target_runs_to_max_steps() -> None:
    rule = StopRule()
    assert decide(100, 300, _row(), rule, CHANCE) == Decision(None, "", None)
    last = decide(300, 300, _row(), rule, CHANCE)
    assert last.status == "step_limit" and last.met is None
    assert last.message == "reached max_steps = 300"


def test_non_finite_losses_diverge_even_after_the_targets() -> None:
    met = TargetsMet(100, "train loss 0.001 <= 0.01 at step 100")
    rule = StopRule(train_loss=0.01, then_steps=400)
    for row in (_row(batch_loss=math.nan), _row(train_loss=math.inf)):
        decision = decide(200, 1000, row, rule, CHANCE, met)
        assert decision.status == "diverged"
        assert decision.message == "non-finite loss at step 200"
        assert decision.met == met


def test_one_target_is_enough_unless_all_are_asked_for() -> None:
    row = _row(train_loss=0.5, train_accuracy=0.99)
    any_one = decide(100, 1000, row, StopRule(train_loss=0.01, train_accuracy=0.95), CHANCE)
    assert any_one.status == "converged"
    assert any_one.met == TargetsMet(100, "train accuracy 0.99 >= 0.95 at step 100")
    assert any_one.message == any_one.met.words
    both = StopRule(train_loss=0.01, train_accuracy=0.95, all_targets=True)
    assert decide(100, 1000, row, both, CHANCE).status is None
    met = decide(100, 1000, _row(train_loss=0.005, train_accuracy=0.99), both, CHANCE)
    assert met.status == "converged"
    assert met.met is not None and met.met.step == 100
    assert "train loss" in met.message and "train accuracy" in met.message


def test_then_steps_count_from_the_evaluation_that_met_the_targets() -> None:
    rule = StopRule(train_accuracy=0.9, then_steps=200)
    first = decide(100, 1000, _row(train_accuracy=0.95), rule, CHANCE)
    assert first.status is None and first.met is not None and first.met.step == 100
    # the targets are not checked again: a worse row later does not undo them
    going = decide(200, 1000, _row(train_accuracy=0.5), rule, CHANCE, first.met)
    assert going == Decision(None, "", first.met)
    done = decide(300, 1000, _row(train_accuracy=0.5), rule, CHANCE, first.met)
    assert done.status == "converged"
    assert done.message == f"{first.met.words}, then 200 more steps"


def test_max_steps_before_the_then_steps_ends_as_step_limit() -> None:
    rule = StopRule(train_accuracy=0.9, then_steps=400)
    met = TargetsMet(800, "train accuracy 0.95 >= 0.9 at step 800")
    last = decide(1000, 1000, _row(), rule, CHANCE, met)
    assert last.status == "step_limit"
    assert last.message == (
        "reached max_steps = 1000, 200 of the 400 steps after "
        "train accuracy 0.95 >= 0.9 at step 800"
    )


def test_chance_accuracy_diverges_from_chance_after_on() -> None:
    rule = StopRule(chance_after=500)
    assert decide(400, 1000, _row(train_accuracy=CHANCE), rule, CHANCE).status is None
    at_chance = decide(500, 1000, _row(train_accuracy=CHANCE), rule, CHANCE)
    assert at_chance.status == "diverged"
    assert at_chance.message == "train accuracy 0.4 at chance (0.4) at step 500"
    assert decide(500, 1000, _row(train_accuracy=0.41), rule, CHANCE).status is None


def test_split_sums_metrics_are_means_over_each_split() -> None:
    sums = SplitSums(train_loss=30.0, train_correct=90.0, test_loss=5.0, test_correct=20.0)
    assert sums.metrics(n_train=120, n_test=40) == {
        "train_loss": 0.25,
        "train_accuracy": 0.75,
        "test_loss": 0.125,
        "test_accuracy": 0.5,
    }
