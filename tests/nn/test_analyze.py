"""analyze: per-layer tail indices, prunable fractions and accuracy after pruning."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from heavytail.nn import Dataset, analyze, build_model, digits, prune_layer, weight_matrix
from heavytail.nn._analyze_accuracy import evaluate
from heavytail.theory import InvalidArgumentError, prunable_fraction, sample_stable

TRUE_ALPHA = 1.5


def _linear(out: int, inp: int, values: np.ndarray) -> torch.nn.Linear:
    # skip_init: no draw from torch's global generator (the values are set below).
    layer = torch.nn.utils.skip_init(torch.nn.Linear, inp, out, bias=False, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(values.reshape(out, inp)))
    return layer


def _weight(module: torch.nn.Module) -> torch.Tensor:
    weight = module.weight
    assert isinstance(weight, torch.Tensor)
    return weight.detach()


def _known_tail_model() -> torch.nn.Sequential:
    """Three 300 x 200 layers: stable(1.5), stable(1.0) and Gaussian entries (60,000 each).

    Large enough that the auto rule's interval on the entries is about +-0.05 and the
    rows' block-sum interval (300 rows, 30 blocks) about +-0.3.
    """
    gen = np.random.default_rng(7)
    return torch.nn.Sequential(
        _linear(300, 200, sample_stable(TRUE_ALPHA, 60_000, rng=11)),
        _linear(300, 200, sample_stable(1.0, 60_000, rng=12)),
        _linear(300, 200, gen.standard_normal(60_000)),
    )


@pytest.fixture(scope="module")
def known_table() -> pd.DataFrame:
    return analyze(_known_tail_model(), rng=0)


def _covers(row: pd.Series, kind: str, alpha: float) -> bool:
    return bool(row[f"{kind}_ci_low"] <= alpha <= row[f"{kind}_ci_high"])


@pytest.mark.parametrize("kind", ["entries", "rows"])
def test_known_tail_index_is_recovered_within_its_interval(
    known_table: pd.DataFrame, kind: str
) -> None:
    """A 95% interval at a fixed seed covers the true stable index 1.5 (the check); the
    same check must fail for a layer of index 1.0 and for a Gaussian layer (controls)."""
    stable, other, gaussian = (known_table.iloc[i] for i in range(3))
    assert stable[f"{kind}_estimand"] == "stable index"
    assert _covers(stable, kind, TRUE_ALPHA), stable[[f"{kind}_alpha", f"{kind}_ci_low"]]
    assert not _covers(other, kind, TRUE_ALPHA)  # negative control: alpha = 1
    assert not _covers(gaussian, kind, TRUE_ALPHA)  # negative control: Gaussian
    # The controls are recognised for what they are: 1.0 is covered, and the Gaussian
    # layer's estimate sits at the Gaussian end, 2 (to within its interval).
    assert _covers(other, kind, 1.0)
    assert gaussian[f"{kind}_ci_high"] >= 1.95


def test_row_norm_estimate_separates_heavy_from_light(known_table: pd.DataFrame) -> None:
    """Row norms of i.i.d. stable(a) rows have tail index a (the largest entry dominates);
    the interval covers 1.5 for the stable(1.5) layer and not for the stable(1.0) one."""
    stable, other, _ = (known_table.iloc[i] for i in range(3))
    assert _covers(stable, "norms", TRUE_ALPHA)
    assert not _covers(other, "norms", TRUE_ALPHA)


def test_prunable_fractions_are_theorys(known_table: pd.DataFrame) -> None:
    model = _known_tail_model()
    for (_, row), layer in zip(known_table.iterrows(), model, strict=True):
        w = _weight(layer).numpy().T  # theory's W: columns are the units
        for method in ("magnitude", "node", "singular"):
            assert row[f"prunable_{method}"] == prunable_fraction(w, 0.1, method)
    # Heavier tails compress better (Barsbey et al. 2021): the order of the three layers.
    assert list(known_table["prunable_magnitude"].rank()) == [2.0, 3.0, 1.0]


def test_columns_and_layout() -> None:
    conv = torch.nn.utils.skip_init(torch.nn.Conv2d, 3, 8, 3, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(sample_stable(1.5, 216, rng=4).reshape(8, 3, 3, 3)))
        conv.bias.zero_()
    # The output layer's rows are its 12 inputs (transposed, the papers' convention): too
    # few for the block sum.
    head = _linear(5, 12, sample_stable(1.5, 60, rng=5))
    net = torch.nn.Sequential(conv, torch.nn.Flatten(), head)
    table = analyze(net, rng=0, n_permutations=2)
    assert list(table["name"]) == ["0", "2"]
    assert list(table["shape"]) == ["8x3x3x3", "5x12"]  # conv (out, in, kh, kw), Linear
    assert list(table["matrix"]) == ["24x9", "5x12"]  # kernels as rows
    assert list(table["n_params"]) == [216, 60]
    assert list(table["rows_n"]) == [24, 12]  # the output layer transposed
    for kind in ("entries", "rows", "norms"):
        for suffix in ("alpha", "ci_low", "ci_high", "estimand", "method", "n", "warnings"):
            assert f"{kind}_{suffix}" in table.columns
    # Too few rows or values: NaN with the reason, never a silent NaN.
    for kind, needle in (("norms", "at least 100"), ("rows", "at least 20 rows")):
        missing = table[table[f"{kind}_alpha"].isna()]
        assert len(missing) > 0
        assert all(needle in w for w in missing[f"{kind}_warnings"])
    assert table.attrs["eps"] == 0.1
    w = weight_matrix(conv.weight.detach()).numpy().T
    assert table.loc[0, "prunable_node"] == prunable_fraction(w, 0.1, "node")


def test_subsample_is_reported_and_seeded() -> None:
    model = torch.nn.Sequential(_linear(100, 60, sample_stable(1.2, 6000, rng=3)))
    a = analyze(model, rng=5, max_entries=2000)
    # Three disjoint subsamples of 2000 // 3 entries each.
    assert a.loc[0, "entries_n"] == 3 * (2000 // 3)
    pd.testing.assert_frame_equal(a, analyze(model, rng=5, max_entries=2000))
    other = analyze(model, rng=6, max_entries=2000)
    assert other.loc[0, "entries_alpha"] != a.loc[0, "entries_alpha"]
    assert analyze(model, rng=5).loc[0, "entries_n"] == 6000


def _digits_model() -> tuple[torch.nn.Module, Dataset]:
    data = digits(rng=0)
    net = build_model("fcn2-32", in_shape=data.in_shape, n_classes=10, rng=0)
    # A few steps of full-batch gradient descent so that accuracy means something.
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    for _ in range(60):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(data.x_train), data.y_train).backward()
        opt.step()
    return net, data


def test_checkpoint_end_to_end_with_accuracy(tmp_path: Path) -> None:
    net, data = _digits_model()
    path = tmp_path / "net.pt"
    torch.save(net.state_dict(), path)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    table = analyze(path, data=data, arch="fcn2-32", rng=0, ratios=(0.5, 0.95))
    from_module = analyze(net, data=data, rng=0, ratios=(0.5, 0.95))
    pd.testing.assert_frame_equal(table, from_module)
    for key, value in net.state_dict().items():  # the caller's network is not pruned
        assert torch.equal(value, before[key])

    test_acc, test_loss = evaluate(net, data.x_test, data.y_test)
    train_acc, train_loss = evaluate(net, data.x_train, data.y_train)
    assert test_acc > 0.5  # trained: far above chance (0.1)
    assert table.loc[0, "test_accuracy"] == test_acc
    assert table.loc[0, "gap_accuracy"] == pytest.approx(train_acc - test_acc)
    assert table.loc[0, "gap_loss"] == pytest.approx(test_loss - train_loss)
    # Each accuracy column is this layer pruned alone, the others intact.
    copy = build_model("fcn2-32", in_shape=data.in_shape, n_classes=10, rng=1)
    copy.load_state_dict(net.state_dict())
    prune_layer(copy.get_submodule("layers.1"), method="node", amount=0.95)
    assert table.loc[1, "acc_node_0.95"] == evaluate(copy, data.x_test, data.y_test)[0]
    # Removing 95% of the first layer's units costs accuracy; the columns are in [0, 1].
    assert table.loc[0, "acc_node_0.95"] < test_acc
    acc = table[[c for c in table.columns if c.startswith("acc_")]].to_numpy()
    assert np.all((acc >= 0) & (acc <= 1))


def test_safetensors_checkpoint(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    net = build_model("fcn2-8", in_shape=(64,), n_classes=10, rng=0)
    save_file(dict(net.state_dict()), str(tmp_path / "w.safetensors"))
    table = analyze(tmp_path / "w.safetensors", rng=0)
    assert list(table["name"]) == ["layers.0", "layers.1"]


def test_pruned_state_dict_uses_the_masked_weight() -> None:
    net = build_model("fcn2-8", in_shape=(64,), n_classes=10, rng=0)
    prune_layer(net.get_submodule("layers.0"), method="magnitude", amount=0.5)
    state = net.state_dict()
    assert "layers.0.weight_orig" in state
    table = analyze(state, rng=0)
    # Half the entries are exactly zero, so eps = 0 would already prune half; at 0.1 more.
    assert table.loc[0, "prunable_magnitude"] > 0.5


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"eps": 0.0}, "`eps`"),
        ({"eps": 1.0}, "`eps`"),
        ({"ratios": (0.5, 1.0)}, "`ratios`"),
        ({"ratios": ()}, "`ratios`"),
        ({"max_entries": 10}, "`max_entries`"),
        ({"n_permutations": 0}, "`n_permutations`"),
        ({"arch": "fcn2-8"}, "pass `data` too"),
        ({"rng": -1}, "`rng`"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], needle: str) -> None:
    net = build_model("fcn2-8", in_shape=(64,), n_classes=10, rng=0)
    with pytest.raises(InvalidArgumentError, match=needle):
        analyze(net, **kwargs)  # type: ignore[arg-type]


def test_errors_with_data(tmp_path: Path) -> None:
    data = digits(rng=0)
    net = build_model("fcn2-8", in_shape=(64,), n_classes=10, rng=0)
    path = tmp_path / "w.pt"
    torch.save(net.state_dict(), path)
    with pytest.raises(InvalidArgumentError, match="pass `arch`"):
        analyze(path, data=data)
    with pytest.raises(InvalidArgumentError, match="fcn9"):
        analyze(path, data=data, arch="fcn9")
    with pytest.raises(InvalidArgumentError, match="does not fit the architecture 'fcn2-16'"):
        analyze(path, data=data, arch="fcn2-16")
    with pytest.raises(InvalidArgumentError, match=r"`data` must be a heavytail\.nn\.Dataset"):
        analyze(net, data="digits")
    with pytest.raises(InvalidArgumentError, match="no weight"):
        analyze({"bias": torch.zeros(3)})
    with pytest.raises(InvalidArgumentError, match="`model_or_checkpoint`"):
        analyze(3)
    with pytest.raises(InvalidArgumentError, match="no such file"):
        analyze(tmp_path / "absent.pt")
    bad = {"w.weight": torch.tensor([[1.0, math.nan], [0.0, 1.0]])}
    with pytest.raises(InvalidArgumentError, match="NaN"):
        analyze(bad)


def test_accuracy_columns_on_the_device(device: torch.device) -> None:
    data = digits(rng=0)
    net = build_model("fcn2-8", in_shape=(64,), n_classes=10, rng=0)
    here = analyze(net, data=data, rng=0, ratios=(0.5,))
    there = analyze(net, data=data, rng=0, ratios=(0.5,), device=device)
    model_level = [c for c in here.columns if c.startswith(("acc_", "test_", "train_", "gap_"))]
    pd.testing.assert_frame_equal(here.drop(columns=model_level), there.drop(columns=model_level))
    # Same network, same data: the same numbers on the CPU. On a GPU, float32 sums round
    # differently, which can flip a prediction only at a near tie of two logits: allow
    # two of the 450 test images, and the same absolute change in the loss gap.
    atol = 0.0 if device.type == "cpu" else 2 / data.n_test
    np.testing.assert_allclose(here[model_level], there[model_level], rtol=0, atol=atol)
    with pytest.raises(InvalidArgumentError, match="`device`"):
        analyze(net, device="tpu")


def test_a_dead_layer_is_reported_not_dropped() -> None:
    state = {
        "a.weight": torch.from_numpy(sample_stable(1.5, 40 * 30, rng=1).reshape(40, 30)),
        "b.weight": torch.zeros(40, 30, dtype=torch.float64),
    }
    table = analyze(state, rng=0)
    assert list(table["name"]) == ["a", "b"]
    dead = table.iloc[1]
    for kind in ("entries", "rows"):
        assert math.isnan(dead[f"{kind}_alpha"])
        assert dead[f"{kind}_warnings"].startswith("not estimated: ")
    assert [dead[f"prunable_{m}"] for m in ("magnitude", "node", "singular")] == [1.0] * 3
    assert table.iloc[0]["prunable_magnitude"] < 1.0


def _big_layer(values: np.ndarray) -> torch.nn.Sequential:
    return torch.nn.Sequential(_linear(400, 300, values))


@pytest.mark.parametrize("law", ["stable-1.5", "student-3"])
def test_entries_subsamples_agree_with_the_whole_layer(law: str) -> None:
    # 120,000 entries, over the default max_entries (1e5): the layer is split into three
    # disjoint subsamples. The whole layer (max_entries above its size: every entry) must
    # lie inside the split estimate's interval for each of 6 subsample seeds.
    gen = np.random.default_rng(21)
    if law == "stable-1.5":
        values = sample_stable(1.5, 120_000, rng=21)
    else:
        values = gen.standard_t(3.0, 120_000)
    model = _big_layer(values)
    whole = analyze(model, rng=0, max_entries=200_000, n_permutations=1).loc[0]
    assert whole["entries_n"] == 120_000
    # Negative control: a layer of another law (stable 1.1), whose whole-layer estimate
    # must fall outside every one of these intervals.
    other = analyze(
        _big_layer(sample_stable(1.1, 120_000, rng=22)), rng=0, max_entries=200_000
    ).loc[0, "entries_alpha"]
    for seed in range(6):
        part = analyze(model, rng=seed, n_permutations=1).loc[0]
        assert part["entries_n"] == 3 * (100_000 // 3)
        assert part["entries_ci_low"] <= whole["entries_alpha"] <= part["entries_ci_high"]
        assert not part["entries_ci_low"] <= other <= part["entries_ci_high"]


def test_module_without_weight_layers_is_a_clear_error() -> None:
    for bad in (torch.nn.ReLU(), torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Flatten())):
        with pytest.raises(InvalidArgumentError, match=r"model_or_checkpoint.*no layer"):
            analyze(bad)
    with pytest.raises(InvalidArgumentError, match="model_or_checkpoint"):
        analyze({"bias": torch.zeros(3)})
    with pytest.raises(InvalidArgumentError, match="model_or_checkpoint"):
        analyze({})


def test_sequential_state_dict_matched_to_arch_by_order() -> None:
    data = digits(rng=0)
    torch.manual_seed(0)
    seq = torch.nn.Sequential(
        torch.nn.Linear(64, 32, bias=False),
        torch.nn.ReLU(),
        torch.nn.Linear(32, 32, bias=False),
        torch.nn.ReLU(),
        torch.nn.Linear(32, 10, bias=False),
    ).to(torch.float64)
    state = seq.state_dict()
    assert list(state) == ["0.weight", "2.weight", "4.weight"]
    table = analyze(state, data=data, arch="fcn3-32-nobias", rng=0, ratios=(0.5,))
    assert table.attrs["matched_by_order"] == {
        "0.weight": "layers.0.weight",
        "2.weight": "layers.1.weight",
        "4.weight": "layers.2.weight",
    }
    assert "by order and shape" in table.attrs["note"]
    assert list(table["arch_name"]) == ["layers.0", "layers.1", "layers.2"]
    # The accuracy is the Sequential's own (the same weights, loaded by order).
    x = data.x_test.to(torch.float64)
    expected = float((seq(x).argmax(1) == data.y_test).double().mean())
    assert table.loc[0, "test_accuracy"] == pytest.approx(expected, abs=1e-12)
    assert not table["acc_node_0.5"].isna().any()
    # Negative control: a shape that does not match is refused, naming both counts.
    with pytest.raises(InvalidArgumentError, match="neither by name nor by order"):
        analyze(state, data=data, arch="fcn3-16-nobias", rng=0)
