"""The registered experiments: tiny runs give the documented metrics, seeded by the config."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from heavytail.reports import Setting, experiment_names, get_experiment
from heavytail.theory import InvalidArgumentError

TINY: dict[str, dict[str, Any]] = {
    "sgd.linear": {"n_chains": 300, "n_steps": 60, "eta": 0.5},
    "meanfield.sgd": {"width": 32, "n_steps": 40, "test_size": 50, "dataset_size": 64},
    "nn.train": {"n_train": 64, "n_test": 32, "width": 16, "max_steps": 20, "eval_every": 10},
    "toy": {},
}
METRICS = {
    "sgd.linear": {"tail_index", "prunable_fraction", "predicted_tail_index", "n_diverged"},
    "meanfield.sgd": {"tail_index", "prunable_fraction", "gap", "test_loss", "train_loss"},
    "nn.train": {"tail_index", "prunable_fraction", "gap", "test_error", "status", "steps"},
    "toy": {"value", "n", "label"},
}


def test_the_registry_lists_the_built_in_experiments() -> None:
    assert set(experiment_names()) == set(TINY)
    with pytest.raises(InvalidArgumentError, match=r"`experiment` must be one of 'meanfield\.sgd'"):
        get_experiment("nope")


@pytest.mark.parametrize("name", sorted(TINY))
def test_tiny_run_metrics_and_seeding(name: str) -> None:
    exp = get_experiment(name)
    config = {**exp.defaults(), **TINY[name]}
    metrics, arrays = exp.function(config)
    assert METRICS[name] <= set(metrics), sorted(metrics)
    assert all(isinstance(v, int | float | str) for v in metrics.values())
    assert arrays and all(isinstance(a, np.ndarray) for a in arrays.values())
    again, again_arrays = exp.function(dict(config))
    assert again == metrics  # the config's seed is the only randomness
    for key, arr in arrays.items():
        np.testing.assert_array_equal(arr, again_arrays[key])
    other, _ = exp.function({**config, "seed": config["seed"] + 1})
    assert other != metrics  # negative control: the seed does matter


def test_setting_checks() -> None:
    s = Setting("eta", "float", 0.5, "step", low=0)
    assert s.check(1, "eta") == 1.0 and isinstance(s.check(1, "eta"), float)
    with pytest.raises(InvalidArgumentError, match=r"eta must be in \[0, inf\), got -1.0"):
        s.check(-1.0, "eta")
    with pytest.raises(InvalidArgumentError, match="must be finite"):
        s.check(float("inf"), "eta")
    with pytest.raises(InvalidArgumentError, match="Setting `kind` must be one of"):
        Setting("x", "list", [], "bad")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="the default of 'n' must be of type int"):
        Setting("n", "int", 1.5, "bad")
