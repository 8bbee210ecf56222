"""A tiny claim, written the way every claim is written (not registered).

It is the pattern to copy for a new claim (see ``heavytail.reports._kit.book``), and a
stand-in claim for the tests of the runner, the report and the command line: the mean
of N(truth, 1) draws equals ``predicted``; control: ``predicted + 3``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from heavytail.reports import (
    Caption,
    CheckBook,
    Claim,
    Control,
    Evidence,
    FigureData,
    Relation,
    Rule,
    mean_interval,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes


# 1. Parameters per size, and the constants the statement is built from.
@dataclass(frozen=True)
class ToySize:
    """Parameters of one size: ``n`` draws."""

    n: int


SIZES = {"smoke": ToySize(100), "quick": ToySize(400), "full": ToySize(1000)}
#: The control predicts a mean this much too large.
CONTROL_SHIFT = 3.0
WIDTH = 1.0
RULE = Rule(
    Relation.EQUAL,
    0.0,
    "",
    max_width=WIDTH,
    width_reason=f"an interval of width {WIDTH:g} says little",
)


# 3. The figure's data: named, typed fields.
@dataclass(frozen=True, eq=False)
class ToyData(FigureData):
    """The draws."""

    x: npt.NDArray[np.float64]


def toy_claim(
    claim_id: str, *, truth: float = 0.0, predicted: float = 0.0, delay: float = 0.0
) -> Claim[ToySize, ToyData]:
    """The toy claim under ``claim_id``; ``delay`` seconds of sleep make it slow."""

    # 2. measure: draw from rng only; each check with its controls, in a CheckBook.
    def measure(params: ToySize, rng: np.random.Generator) -> Evidence[ToyData]:
        time.sleep(delay)
        book = CheckBook(params, n_checks=1)
        x = rng.normal(truth, 1.0, size=params.n)
        m = mean_interval(x, level=book.level)
        wrong = predicted + CONTROL_SHIFT
        book.check("mean", predicted, m, RULE, Control(f"mean + {CONTROL_SHIFT:g}", wrong))
        return book.evidence(ToyData(x), law="N(truth, 1)")

    # 4. draw: into the Axes given; return the caption of a new figure.
    def draw(evidence: Evidence[ToyData], axes: Sequence[Axes]) -> Caption:
        (panel,) = axes
        panel.hist(evidence.data.x, bins=20)
        panel.set(title=claim_id, xlabel="x (units)", ylabel="count")
        return Caption(f"{claim_id}: toy mean", f"n = {evidence.data.x.size}.")

    return Claim(
        id=claim_id,
        title="toy mean",
        statement=(
            f"The mean of {SIZES['quick'].n} normal draws equals the predicted value. "
            f"Control: the prediction + {CONTROL_SHIFT:g}."
        ),
        formula="E X = μ",
        source="a test",
        sizes=SIZES,
        measure=measure,
        draw=draw,
    )
