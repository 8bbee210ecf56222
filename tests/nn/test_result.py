"""TrainResult and EnsembleResult: fields, gaps, and the .safetensors round trip."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest
import torch
from safetensors import safe_open

from heavytail._lib._errors import InvalidArgumentError
from heavytail.nn import (
    InjectedNoise,
    StopRule,
    TrainResult,
    build_model,
    load_result,
    load_state,
    teacher_student,
    train,
)
from heavytail.nn._result import HISTORY_COLUMNS


@pytest.fixture(scope="module")
def result() -> TrainResult:
    data = teacher_student(120, 60, in_features=5, n_classes=3, rng=0)
    net = build_model("fcn2-8", in_shape=(5,), n_classes=3, rng=0)
    return train(
        net, data, eta=0.3, batch_size=12, max_steps=30, eval_every=10, average_last=4,
        noise=InjectedNoise(alpha=1.5, scale=0.01, kind="iid"), stop=StopRule(train_loss=1e-6),
        rng=9, progress=False,
    )  # fmt: skip


def test_fields(result: TrainResult) -> None:
    assert result.status == "step_limit" and result.steps == 30
    assert tuple(result.history.columns) == HISTORY_COLUMNS
    assert list(result.history["step"]) == [10, 20, 30]
    assert result.history["step"].dtype == "int64"
    assert result.settings["eta"] == 0.3 and result.settings["rng"] == 9
    assert result.settings["model"] == "fcn2-8"  # the build_model spec
    assert result.settings["noise"] == {"alpha": 1.5, "scale": 0.01, "kind": "iid", "layers": "all"}
    assert result.generalization_gap == result.train_accuracy - result.test_accuracy
    assert result.loss_gap == result.test_loss - result.train_loss
    assert set(result.final_state) == {
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
    }
    # the averaged and the final network differ (noise moves every step)
    assert not torch.equal(
        result.final_state["layers.0.weight"], result.averaged_state["layers.0.weight"]
    )
    state = result.state_dict(averaged=False)
    state["layers.0.bias"].zero_()  # a copy: the result is unchanged
    assert not torch.equal(result.final_state["layers.0.bias"], state["layers.0.bias"])


def test_frozen(result: TrainResult) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.status = "converged"  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.final_state["x"] = torch.zeros(1)  # type: ignore[index]


def test_save_load_round_trip(result: TrainResult, tmp_path: Path) -> None:
    path = tmp_path / "run.safetensors"
    result.save(path)
    back = load_result(path)
    for name in result.final_state:
        assert torch.equal(back.final_state[name], result.final_state[name])
        assert torch.equal(back.averaged_state[name], result.averaged_state[name])
    pd.testing.assert_frame_equal(back.history, result.history)
    assert dict(back.settings) == dict(result.settings)
    assert (back.status, back.steps, back.message) == (result.status, result.steps, result.message)
    assert back.test_accuracy == result.test_accuracy and back.train_loss == result.train_loss
    averaged = load_state(path)
    assert averaged.keys() == result.averaged_state.keys()
    assert all(torch.equal(averaged[k], v) for k, v in result.averaged_state.items())
    final = load_state(path, averaged=False)
    assert all(torch.equal(final[k], v) for k, v in result.final_state.items())
    # the settings are readable from the file's metadata without heavytail
    with safe_open(str(path), framework="pt") as f:
        assert json.loads(f.metadata()["settings"])["batch_size"] == 12


def test_load_refuses_other_files(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(other))
    with pytest.raises(InvalidArgumentError, match="`path` must be a file written by"):
        load_result(other)
    with pytest.raises(InvalidArgumentError, match="`path` must be an existing"):
        load_state(tmp_path / "missing.safetensors")


def test_bad_status_refused(result: TrainResult) -> None:
    with pytest.raises(InvalidArgumentError, match="`status`"):
        dataclasses.replace(result, status="done")
