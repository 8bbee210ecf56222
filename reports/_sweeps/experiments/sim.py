"""Experiments on the numba simulators: ``sgd.linear`` and ``meanfield.sgd``.

Both measure what the theory links (docs/theory.md, sections 2, 5 and 6): the tail
index of the trained weights (Hill's estimator on the top ``hill_fraction`` of the
magnitudes, :func:`heavytail.theory.estimate_tail_index` with ``method="hill"``), how
much of them can be pruned at relative error ``eps``
(:func:`heavytail.theory.prunable_fraction`) and, for the networks, the test loss and
the generalization gap. Diverged chains or replicates are counted in ``n_diverged``
and left out of the other metrics; a run in which all diverged fails.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._noise_kinds import NoiseKind
from heavytail._lib._types import FloatArray
from heavytail.simulate import (
    InjectedNoise,
    MeanFieldData,
    MeanFieldNetwork,
    MeanFieldRecording,
    mean_field_sgd,
    sgd_linear_regression,
)
from heavytail.theory import (
    DivergenceWarning,
    NoStationaryLawError,
    network_output,
    prunable_fraction,
    sgd_tail_index,
)

from ..experiment import Experiment, ExperimentOutput, MetricValue
from .common import (
    POSITIVE,
    Setting,
    common_settings,
    hill_k,
    hill_metrics,
    noise_alpha_setting,
    noise_kind_setting,
)

__all__ = ["EXPERIMENTS", "meanfield_sgd", "sgd_linear"]


def _noise_settings(kind: NoiseKind) -> tuple[Setting, ...]:
    """``noise_alpha``, ``noise_scale`` and ``noise_kind`` (default ``kind``): the injected
    noise of the simulators (:class:`heavytail.simulate.InjectedNoise`), read by
    :func:`_injected_noise`."""
    return (
        noise_alpha_setting(),
        Setting("noise_scale", "float", 1.0, "scale of the injected noise, > 0", **POSITIVE),
        noise_kind_setting(kind),
    )


def _injected_noise(config: Mapping[str, Any]) -> InjectedNoise | None:
    """The simulators' injected noise of ``config`` (None when ``noise_alpha`` is 0)."""
    if config["noise_alpha"] > 0:
        return InjectedNoise(config["noise_alpha"], config["noise_scale"], config["noise_kind"])
    return None


def sgd_linear(config: Mapping[str, Any]) -> ExperimentOutput:
    """SGD on least squares (:func:`heavytail.simulate.sgd_linear_regression`).

    Metrics: ``tail_index`` (Hill, of the entries of the final iterates minus x* = 0),
    with its interval; ``predicted_tail_index`` (:func:`heavytail.theory.sgd_tail_index`,
    online mode without injected noise, when a stationary law exists);
    ``prunable_fraction`` of the entries of the iterates seen as one vector
    (magnitude pruning); ``n_diverged``. Array: ``iterates`` (n_chains, dim).
    """
    noise = _injected_noise(config)
    m = config["dataset_size"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)  # counted in n_diverged
        run = sgd_linear_regression(
            config["eta"],
            config["batch_size"],
            dim=config["dim"],
            sigma=config["sigma"],
            noise_std=config["noise_std"],
            n_chains=config["n_chains"],
            n_steps=config["n_steps"],
            dataset_size=m if m > 0 else None,
            injected_noise=noise,
            rng=config["seed"],
        )
    kept = run.iterates[~run.diverged]
    if kept.shape[0] == 0:
        raise ValueError(f"all {run.diverged.size} chains diverged")
    metrics: dict[str, MetricValue] = {"n_diverged": run.n_diverged}
    metrics.update(hill_metrics(kept, config["hill_fraction"], "left after divergences"))
    metrics["prunable_fraction"] = prunable_fraction(
        kept.reshape(1, -1), config["eps"], "magnitude"
    )
    if m == 0 and noise is None:
        try:
            metrics["predicted_tail_index"] = sgd_tail_index(
                config["eta"], config["batch_size"], dim=config["dim"], sigma=config["sigma"]
            )
        except NoStationaryLawError:
            metrics["stationary"] = "no"
    return metrics, {"iterates": np.asarray(run.iterates)}


def replicate_outputs(w: FloatArray, a: FloatArray, x: FloatArray, activation: str) -> FloatArray:
    """f_r(x_p) of each replicate r (w: (R, n, d), a: (R, n)) at each row of x: (R, len(x))."""
    return np.stack([network_output(w[r], a[r], x, activation) for r in range(w.shape[0])])


def meanfield_sgd(config: Mapping[str, Any]) -> ExperimentOutput:
    """A mean-field two-layer network trained by SGD (:func:`heavytail.simulate.mean_field_sgd`).

    Metrics: ``tail_index`` (Hill, of the unit norms ||w_i|| pooled over the replicates)
    with its interval; ``prunable_fraction`` (node pruning of W, the mean over
    replicates); ``test_loss`` and, with a finite training set, ``train_loss`` and
    ``gap`` = test - train (final step, mean over replicates); ``test_error`` (share of
    misclassified test points, logistic loss only); ``n_diverged``. Arrays: ``w``
    (R, width, dim) and ``a`` (R, width).
    """
    noise = _injected_noise(config)
    m = config["dataset_size"]
    n_steps = config["n_steps"]
    test_size = config["test_size"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)  # counted in n_diverged
        run = mean_field_sgd(
            config["width"],
            config["dim"],
            eta=config["eta"],
            batch_size=config["batch_size"],
            n_steps=n_steps,
            n_replicates=config["n_replicates"],
            network=MeanFieldNetwork(activation=config["activation"], loss=config["loss"]),
            data=MeanFieldData(
                label_noise=config["label_noise"],
                dataset_size=m if m > 0 else None,
                test_size=test_size,
            ),
            injected_noise=noise,
            record=MeanFieldRecording(loss_steps=(n_steps,)) if test_size > 0 else None,
            rng=config["seed"],
        )
    ok = ~run.diverged
    if not ok.any():
        raise ValueError(f"all {run.diverged.size} replicates diverged")
    metrics: dict[str, MetricValue] = {"n_diverged": run.n_diverged}
    metrics.update(
        hill_metrics(run.unit_norms()[ok], config["hill_fraction"], "left after divergences")
    )
    metrics["prunable_fraction"] = float(
        np.mean([prunable_fraction(w.T, config["eps"], "node") for w in run.w[ok]])
    )
    if run.test_loss is not None:
        metrics["test_loss"] = float(np.mean(run.test_loss[ok, -1]))
    if run.train_loss is not None and run.test_loss is not None:
        metrics["train_loss"] = float(np.mean(run.train_loss[ok, -1]))
        metrics["gap"] = float(metrics["test_loss"]) - float(metrics["train_loss"])
    if config["loss"] == "logistic" and test_size > 0:
        out = replicate_outputs(run.w[ok], run.a[ok], run.x_test, config["activation"])
        metrics["test_error"] = float(np.mean(np.sign(out) != run.y_test[None, :]))
    return metrics, {"w": np.asarray(run.w), "a": np.asarray(run.a)}


def _check_batch(config: Mapping[str, Any]) -> None:
    """The simulators' rule: a batch is drawn from the dataset, b <= m (m = 0: online)."""
    m = config["dataset_size"]
    if m > 0 and config["batch_size"] > m:
        raise InvalidArgumentError(
            f"batch_size = {config['batch_size']} must be <= dataset_size = {m}"
        )


def _check_sgd_linear(config: Mapping[str, Any]) -> None:
    hill_k(config["hill_fraction"], config["n_chains"] * config["dim"], "n_chains x dim")
    _check_batch(config)


def _check_meanfield(config: Mapping[str, Any]) -> None:
    n = config["n_replicates"] * config["width"]
    hill_k(config["hill_fraction"], n, "n_replicates x width")
    _check_batch(config)


EXPERIMENTS = (
    Experiment(
        "sgd.linear",
        sgd_linear,
        (
            Setting("eta", "float", 0.5, "step size, > 0", **POSITIVE),
            Setting("batch_size", "int", 1, "batch size b, >= 1", low=1),
            Setting("dim", "int", 1, "dimension d, >= 1", low=1),
            Setting("sigma", "float", 1.0, "feature scale, > 0", **POSITIVE),
            Setting("noise_std", "float", 1.0, "label noise scale, >= 0", low=0),
            Setting("n_chains", "int", 2000, "independent chains, >= 1", low=1),
            Setting("n_steps", "int", 1000, "SGD steps per chain, >= 1", low=1),
            Setting("dataset_size", "int", 0, "points per chain's dataset; 0: online", low=0),
            *_noise_settings("iid"),
            *common_settings(),
        ),
        "SGD on Gaussian least squares (Gürbüzbalaban, Şimşekli & Zhu 2021): the tail "
        "index of the final iterates against its prediction h(alpha) = 1, and their "
        "prunable fraction.",
        check=_check_sgd_linear,
    ),
    Experiment(
        "meanfield.sgd",
        meanfield_sgd,
        (
            Setting("width", "int", 256, "number of units n, >= 1", low=1),
            Setting("dim", "int", 8, "input dimension d, >= 1", low=1),
            Setting("eta", "float", 1.0, "step size, > 0", **POSITIVE),
            Setting("batch_size", "int", 8, "batch size b, >= 1", low=1),
            Setting("n_steps", "int", 500, "SGD steps, >= 1", low=1),
            Setting("n_replicates", "int", 1, "independent networks, >= 1", low=1),
            Setting(
                "activation",
                "str",
                "tanh",
                "unit activation",
                choices=("tanh", "relu", "sigmoid", "identity"),
            ),
            Setting("loss", "str", "squared", "training loss", choices=("squared", "logistic")),
            Setting("label_noise", "float", 0.1, "label noise std, >= 0", low=0),
            Setting("dataset_size", "int", 500, "training points; 0: online", low=0),
            Setting("test_size", "int", 1000, "test points, >= 0", low=0),
            *_noise_settings("unit"),
            *common_settings(),
        ),
        "A mean-field two-layer network trained by SGD (Barsbey et al. 2021; Wan et al. "
        "2024): the tail index of the unit norms, the node-prunable fraction, test loss "
        "and generalization gap.",
        check=_check_meanfield,
    ),
)
