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
    staged_measure,
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


# 2. The grid's raw measurements, with the parameters they ran with.
@dataclass(frozen=True)
class ToyGrid:
    """The draws of one run."""

    x: npt.NDArray[np.float64]
    params: ToySize


# 3. The figure's data: named, typed fields.
@dataclass(frozen=True, eq=False)
class ToyData(FigureData):
    """The draws."""

    x: npt.NDArray[np.float64]


def toy_claim(
    claim_id: str, *, truth: float = 0.0, predicted: float = 0.0, delay: float = 0.0
) -> Claim[ToySize, ToyData]:
    """The toy claim under ``claim_id``; ``delay`` seconds of sleep make it slow."""

    # 2a. Running the grid: draws from rng only.
    def run_grid(params: ToySize, rng: np.random.Generator) -> ToyGrid:
        time.sleep(delay)
        return ToyGrid(rng.normal(truth, 1.0, size=params.n), params)

    # 2b. Judging: declare the checks (this sets the level), then record each with its
    # controls.
    def judge(grid: ToyGrid, book: CheckBook) -> None:
        level = book.declare(["mean"])
        m = mean_interval(grid.x, level=level)
        wrong = predicted + CONTROL_SHIFT
        book.check("mean", predicted, m, RULE, Control(f"mean + {CONTROL_SHIFT:g}", wrong))

    # 2c. The figure's data, from the grid (and what the judge returned, here nothing).
    def figure_data(grid: ToyGrid, judged: None) -> ToyData:
        return ToyData(grid.x)

    measure = staged_measure(run_grid, judge, figure_data, {"law": "N(truth, 1)"})

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
