"""The registered experiments: tiny runs give the documented metrics, seeded by the config."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from heavytail.reports import Setting, experiment_names, get_experiment
from heavytail.reports._sweeps.experiments.sim import replicate_outputs
from heavytail.theory import InvalidArgumentError, network_output

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


def test_meanfield_test_outputs_with_a_large_sigmoid_argument_stay_finite() -> None:
    """The outputs behind ``test_error``: a pre-activation of +-1000 gives sigmoid 1 and 0
    (f = 1/2 here) with no warning; the control, 1 / (1 + exp(-z)), overflows there."""
    w = np.array([[[1000.0], [-1000.0]], [[2.0], [-2.0]]])  # (R = 2, n = 2, d = 1)
    a = np.ones((2, 2))
    x = np.array([[1.0], [0.5]])
    with warnings.catch_warnings(), np.errstate(over="warn", divide="warn", invalid="warn"):
        warnings.simplefilter("error")
        out = replicate_outputs(w, a, x, "sigmoid")
    assert out.shape == (2, 2)
    assert np.all(np.isfinite(out))
    assert out[0, 0] == 0.5  # (sigmoid(1000) + sigmoid(-1000)) / 2 = (1 + 0) / 2
    for r in range(2):
        np.testing.assert_array_equal(out[r], network_output(w[r], a[r], x, "sigmoid"))
    with pytest.warns(RuntimeWarning, match="overflow"), np.errstate(over="warn"):
        old = 1.0 / (1.0 + np.exp(-(x @ w[0].T)))
    assert old[0, 1] == 0.0  # the right limit, reached through exp(1000) = inf
