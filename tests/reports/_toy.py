"""Tiny claims for tests of the runner, the report and the command line (not registered)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from heavytail.reports._claim import Claim, Evidence
from heavytail.reports._stats import mean_interval
from heavytail.reports._verdict import Check, Relation, Rule

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

RULE = Rule(
    Relation.EQUAL, 0.0, "", max_width=1.0, width_reason="an interval of width 1 says little"
)


def toy_claim(
    claim_id: str, *, truth: float = 0.0, predicted: float = 0.0, delay: float = 0.0
) -> Claim[Any]:
    """A claim that the mean of N(truth, 1) draws equals ``predicted``; control: +3."""

    def measure(n: int, rng: np.random.Generator) -> Evidence:
        time.sleep(delay)
        x = rng.normal(truth, 1.0, size=n)
        m = mean_interval(x)
        return Evidence(
            checks=(Check("mean", predicted, m, RULE),),
            controls=(Check("mean + 3", predicted + 3.0, m, RULE),),
            data={"x": x},
            settings={"n": n, "law": "N(truth, 1)"},
        )

    def plot(evidence: Evidence, ax: Sequence[Axes] | None, note: str) -> Figure:
        from heavytail.reports._style import footnote, panels

        fig, (panel,) = panels(ax, 1)
        panel.hist(evidence.data["x"], bins=20)
        panel.set(title=claim_id, xlabel="x (units)", ylabel="count")
        if ax is None:
            footnote(fig, f"n = {evidence.settings['n']}. {note}")
        return fig

    return Claim(
        id=claim_id,
        title="toy mean",
        statement="The mean of normal draws equals the predicted value.",
        formula="E X = μ",
        source="a test",
        sizes={"smoke": 100, "quick": 400, "full": 1000},
        rules={"mean": RULE},
        measure=measure,
        plot=plot,
    )
