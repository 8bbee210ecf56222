"""Per-layer tail indices side by side: block-sum on rows, "auto" on entries and on norms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from heavytail.nn import LayerTails, build_model, layer_tails, rows_tail_index, tails_frame
from heavytail.theory import InvalidArgumentError, prunable_fraction, sample_stable

ALPHA = 1.5


def _stable(shape: tuple[int, int], seed: int) -> torch.Tensor:
    return torch.from_numpy(sample_stable(ALPHA, shape, rng=seed) * 0.01)


@pytest.fixture(scope="module")
def state() -> dict[str, torch.Tensor]:
    # a hidden layer of 2000 units with 50 i.i.d. stable(1.5) inputs each (rows, entries
    # and row count in the calibrated ranges), a Gaussian one (the control), and an output
    # layer (10 x 300) whose rows, once transposed, are 300 hidden units
    g = torch.Generator().manual_seed(0)
    return {
        "a.weight": _stable((2000, 50), 1),
        "a.bias": torch.zeros(2000),
        "b.weight": torch.randn(300, 2000, generator=g, dtype=torch.float64) * 0.01,
        "c.weight": _stable((10, 300), 2),
    }


@pytest.fixture(scope="module")
def tails(state: dict[str, torch.Tensor]) -> tuple[LayerTails, ...]:
    return layer_tails(state, rng=0, n_boot=200)


def test_layers_orientation_and_sample_sizes(tails: tuple[LayerTails, ...]) -> None:
    assert [t.name for t in tails] == ["a", "b", "c"]  # biases are not layers
    a, b, c = tails
    assert (a.n_rows, a.n_cols, a.output_layer) == (2000, 50, False)
    assert (c.n_rows, c.n_cols, c.output_layer) == (300, 10, True)
    assert "output layer transposed" in c.orientation
    assert a.rows is not None and a.rows.n_rows == 2000 and not a.rows_below_calibrated
    assert c.rows_below_calibrated and b.rows_below_calibrated  # 300 rows < 1000
    # entries: all of a (100,000) and c (3,000); b's 600,000 subsampled to 100,000
    assert (a.entries_n, b.entries_n, c.entries_n) == (100_000, 100_000, 3000)
    assert not a.entries_below_calibrated and c.entries_below_calibrated
    assert (a.norms_n, c.norms_n) == (2000, 300) and a.norms_below_calibrated
    assert any("calibrated range" in w for w in c.warnings)


def test_estimates_find_stable_entries_and_reject_gaussian(tails: tuple[LayerTails, ...]) -> None:
    a, b, _ = tails
    # i.i.d. stable(1.5) entries: "auto" on 1e5 entries has a 95% interval (its coverage
    # is calibrated at n = 1e5, docs/estimators.md), which holds the true index
    assert a.entries_ci[0] <= ALPHA <= a.entries_ci[1]
    # the rows are vectors of i.i.d. stable(1.5) entries: the block-sum on 2000 rows is
    # unbiased for 1/alpha; its 95% interval (median of 5 orders) holds 1.5
    assert a.rows is not None and a.rows.ci[0] <= ALPHA <= a.rows.ci[1]
    # control: Gaussian entries are light-tailed; "auto"'s interval excludes 1.5, and the
    # block-sum sees 2
    assert b.entries_ci[0] > ALPHA
    assert b.rows is not None and b.rows.alpha_capped == 2.0 and b.rows.ci[0] > ALPHA


def test_rows_estimate_is_rows_tail_index(state: dict[str, torch.Tensor]) -> None:
    t = layer_tails(state, rng=5)
    gen = np.random.default_rng(5).spawn(3)[2].spawn(4)[0]  # layer c's child, rows' child
    direct = rows_tail_index(state["c.weight"], output_layer=True, n_permutations=5, rng=gen)
    assert t[2].rows is not None and t[2].rows.alphas == direct.alphas
    # control: not transposing gives 10 rows, too few for the estimator
    with pytest.raises(InvalidArgumentError):
        rows_tail_index(state["c.weight"], output_layer=False, rng=0)


def test_one_layer_does_not_change_another(state: dict[str, torch.Tensor]) -> None:
    other = {**state, "a.weight": state["a.weight"] * 3 + 1}
    one, two = layer_tails(state, rng=3, n_boot=50), layer_tails(other, rng=3, n_boot=50)
    assert one[1].as_row() == two[1].as_row()
    assert one[0].as_row() != two[0].as_row()  # control: the changed layer changed


def test_prunable_and_distance(
    state: dict[str, torch.Tensor], tails: tuple[LayerTails, ...]
) -> None:
    w = state["a.weight"].numpy()
    a = tails[0]
    assert a.prunable["magnitude"] == prunable_fraction(w, 0.1, "magnitude")
    # "node" removes rows (units); heavytail.theory's node scheme removes columns
    assert a.prunable["node"] == prunable_fraction(w.T, 0.1, "node")
    # singular values from the Gram matrix against an SVD: the same count up to one value
    # at the boundary
    assert abs(a.prunable["singular"] - prunable_fraction(w, 0.1, "singular")) <= 1 / 50
    assert math.isnan(a.distance)
    init = {k: v * 2 for k, v in state.items()}
    moved = layer_tails(state, rng=0, n_boot=50, init=init)
    assert [t.distance for t in moved] == pytest.approx([0.5, 0.5, 0.5], rel=1e-12)


def test_frame_and_network(tails: tuple[LayerTails, ...]) -> None:
    frame = tails_frame(tails)
    assert list(frame["layer"]) == ["a", "b", "c"]
    for col in ("rows_alpha", "rows_alpha_capped", "rows_alpha_paper", "entries_alpha",
                "norms_alpha",
                "rows_n", "entries_n", "norms_n", "rows_below_calibrated",
                "entries_below_calibrated", "norms_below_calibrated", "prunable_magnitude",
                "distance_from_init"):  # fmt: skip
        assert col in frame
    net = build_model("fcn3-32-nobias", in_shape=(64,), n_classes=10, rng=0)
    t = layer_tails(net, rng=0, n_boot=50)
    assert len(t) == 3 and t[-1].output_layer and t[-1].n_rows == 32


def test_errors(state: dict[str, torch.Tensor]) -> None:
    with pytest.raises(InvalidArgumentError, match="no weight layer"):
        layer_tails({"x": torch.ones(3)})
    with pytest.raises(InvalidArgumentError, match="model_or_state"):
        layer_tails([1, 2])
    with pytest.raises(InvalidArgumentError, match="NaN"):
        layer_tails({"a.weight": torch.full((30, 4), math.nan)})
    with pytest.raises(InvalidArgumentError, match="`init`"):
        layer_tails(state, init={"a.weight": torch.ones(2, 2)}, n_boot=50)
    with pytest.raises(InvalidArgumentError, match="eps"):
        layer_tails(state, eps=2.0)
    with pytest.raises(InvalidArgumentError, match="layers"):
        tails_frame([])
