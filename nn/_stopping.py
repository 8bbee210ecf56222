"""When a run of SGD stops: the stopping rule and the decision at each evaluation.

A run is evaluated every ``eval_every`` steps and at ``max_steps`` (:func:`train`,
:func:`train_ensemble`). At each evaluation :func:`decide` reads the history row of the
current iterate (its mean minibatch loss since the previous evaluation, and its loss and
accuracy on the whole training set) and says whether the run goes on or ends, and how:
"converged" (the :class:`StopRule`'s targets met, then its ``then_steps`` more steps),
"diverged" (a non-finite loss, or accuracy at chance) or "step_limit" (``max_steps``
reached). The statuses are those of :data:`STATUSES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._validation import check_int, check_real

__all__ = ["Decision", "StopRule", "TargetsMet", "decide", "targets_met"]


@dataclass(frozen=True)
class StopRule:
    """When a run stops before ``max_steps``; checked at every evaluation.

    The papers train "until convergence": to a training accuracy (Wan et al. 2024: 95%)
    or a training loss (Barsbey et al. 2021), the whole training set being evaluated.

    Attributes
    ----------
    train_loss : float or None
        "converged" once the current iterate's mean cross-entropy on the training set is
        <= this (> 0).
    train_accuracy : float or None
        "converged" once its training accuracy is >= this (in (0, 1]).
    chance_after : int or None
        "diverged" if, at an evaluation at step >= this, the training accuracy is at chance
        or below: no better than always answering the most frequent training label.

    all_targets : bool
        False: any one target given is enough. True: the targets are met only at an
        evaluation where every target given holds (Barsbey et al.: training loss < 5e-5 and
        100% training accuracy).
    then_steps : int
        K >= 0: once the targets are met, the run goes on for K more steps and only then
        ends as "converged" (Barsbey et al.: 10x the averaging window, so that the averaged
        iterates are those of a converged run). K must be a multiple of ``eval_every``, so
        that the run ends exactly K steps after the evaluation that met the targets. If
        ``max_steps`` comes first, the run ends as "step_limit" and its message says when
        the targets were met.

    A non-finite loss (minibatch or whole training set) always ends the run as "diverged",
    during the K steps too. With no target, a run that does not diverge ends at
    ``max_steps`` ("step_limit").
    """

    train_loss: float | None = None
    train_accuracy: float | None = None
    chance_after: int | None = None
    all_targets: bool = False
    then_steps: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.all_targets, bool):
            raise InvalidArgumentError(
                f"`all_targets` must be a bool, got {type(self.all_targets).__name__}"
            )
        check_int(self.then_steps, "then_steps", low=0)
        if self.then_steps and self.train_loss is None and self.train_accuracy is None:
            raise InvalidArgumentError(
                "`then_steps` counts steps after the targets are met: give `train_loss` or "
                "`train_accuracy` too"
            )
        if self.train_loss is not None:
            check_real(self.train_loss, "train_loss", low=0.0, low_open=True)
        if self.train_accuracy is not None:
            check_real(self.train_accuracy, "train_accuracy", low=0.0, high=1.0, low_open=True)
        if self.chance_after is not None:
            check_int(self.chance_after, "chance_after", low=1)


def targets_met(row: dict[str, float], stop: StopRule) -> str | None:
    """The targets of ``stop`` that ``row`` meets, in words; None if they are not met."""
    checks = []
    if stop.train_loss is not None:
        checks.append(
            (
                row["train_loss"] <= stop.train_loss,
                f"train loss {row['train_loss']:.4g} <= {stop.train_loss:g}",
            )
        )
    if stop.train_accuracy is not None:
        checks.append(
            (
                row["train_accuracy"] >= stop.train_accuracy,
                f"train accuracy {row['train_accuracy']:.4g} >= {stop.train_accuracy:g}",
            )
        )
    hits = [text for ok, text in checks if ok]
    if not hits or (stop.all_targets and len(hits) < len(checks)):
        return None
    return " and ".join(hits) if stop.all_targets else hits[0]


class TargetsMet(NamedTuple):
    """The evaluation at which a run first met its targets: its step, and what was met
    there in words (ending "at step <step>")."""

    step: int
    words: str


class Decision(NamedTuple):
    """What :func:`decide` says after one evaluation.

    ``status`` is "converged", "step_limit" or "diverged", or None while the run goes on;
    ``message`` says why the run stops ("" while it goes on); ``met`` is when the targets
    were first met, None while they have not been.
    """

    status: str | None
    message: str
    met: TargetsMet | None


def decide(
    step: int,
    max_steps: int,
    row: dict[str, float],
    stop: StopRule,
    chance: float,
    met: TargetsMet | None = None,
) -> Decision:
    """Whether a run stops after the evaluation ``row`` at ``step``, and why.

    ``met`` is what an earlier evaluation met, None if the targets have not been met yet;
    it is returned updated. ``chance`` is the accuracy of always answering the most
    frequent training label.
    """
    if not (math.isfinite(row["batch_loss"]) and math.isfinite(row["train_loss"])):
        return Decision("diverged", f"non-finite loss at step {step}", met)
    if met is None:
        words = targets_met(row, stop)
        if words is not None:
            met = TargetsMet(step, f"{words} at step {step}")
            if stop.then_steps == 0:
                return Decision("converged", met.words, met)
    if met is not None:
        since = met.step
        if step - since >= stop.then_steps:
            return Decision("converged", f"{met.words}, then {step - since} more steps", met)
        if step == max_steps:
            return Decision(
                "step_limit",
                f"reached max_steps = {max_steps}, {step - since} of the {stop.then_steps} "
                f"steps after {met.words}",
                met,
            )
        return Decision(None, "", met)
    if (
        stop.chance_after is not None
        and step >= stop.chance_after
        and row["train_accuracy"] <= chance
    ):
        return Decision(
            "diverged",
            f"train accuracy {row['train_accuracy']:.4g} at chance ({chance:.4g}) at step {step}",
            met,
        )
    if step == max_steps:
        return Decision("step_limit", f"reached max_steps = {max_steps}", met)
    return Decision(None, "", met)
