"""The ``nn.train`` experiment: a real network trained by SGD with :mod:`heavytail.nn`.

A fully connected network (:func:`heavytail.nn.build_model`, ``fcn<depth>-<width>``) is
trained with plain SGD, optionally with Wan et al.'s injected stable noise
(:func:`heavytail.nn.train`), on teacher-student data or scikit-learn's bundled digits
(nothing is downloaded). The measurements are those of the averaged network (the mean of
the last iterates, Barsbey et al. 2021, section 5): the tail index of the entries of its
first layer (Hill on the top ``hill_fraction`` of the magnitudes), the share of those
entries that magnitude pruning removes at relative error ``eps``, accuracies, losses and
the accuracy gap.

torch is imported when a run starts, not when the experiment is registered. Torch runs
on one intra-op thread inside the run (restored afterwards), so that the
numbers do not depend on the process the run lands in: torch's CPU results can change
with the thread count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from heavytail._lib._errors import InvalidArgumentError
from heavytail.theory import prunable_fraction

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

__all__ = ["EXPERIMENTS", "nn_train"]


def nn_train(config: Mapping[str, Any]) -> ExperimentOutput:
    """Train ``fcn<depth>-<width>`` and measure its averaged weights (see the module notes).

    Metrics: ``status``, ``steps``; ``train_accuracy``, ``test_accuracy``,
    ``test_error`` = 1 - test accuracy, ``gap`` = train - test accuracy; ``train_loss``,
    ``test_loss`` and ``loss_gap`` when finite; ``tail_index`` (with its interval) and
    ``prunable_fraction`` of the first layer's entries when they are finite. Arrays: the
    averaged weights, named after the state dict with dots as underscores.
    """
    from heavytail.nn import (
        InjectedNoise,
        build_model,
        digits,
        teacher_student,
        torch_threads,
        train,
    )

    seed = config["seed"]
    if config["data"] == "digits":
        data = digits(rng=seed)
    else:
        data = teacher_student(
            config["n_train"],
            config["n_test"],
            in_features=config["in_features"],
            n_classes=config["n_classes"],
            width=config["teacher_width"],
            rng=seed,
        )
    spec = f"fcn{config['depth']}-{config['width']}" + ("-mf" if config["mean_field"] else "")
    noise = None
    if config["noise_alpha"] > 0:
        noise = InjectedNoise(
            alpha=config["noise_alpha"],
            scale=config["noise_scale"],
            kind=config["noise_kind"],
            layers=config["noise_layers"],
        )
    with torch_threads(1):
        model = build_model(spec, in_shape=data.in_shape, n_classes=data.n_classes, rng=seed)
        result = train(
            model,
            data,
            eta=config["eta"],
            batch_size=config["batch_size"],
            max_steps=config["max_steps"],
            noise=noise,
            rng=seed,
            eval_every=config["eval_every"],
            progress=False,
        )
    metrics: dict[str, MetricValue] = {
        "status": result.status,
        "steps": result.steps,
        "train_accuracy": result.train_accuracy,
        "test_accuracy": result.test_accuracy,
        "test_error": 1.0 - result.test_accuracy,
        "gap": result.generalization_gap,
    }
    if math.isfinite(result.train_loss) and math.isfinite(result.test_loss):
        metrics.update(
            train_loss=result.train_loss, test_loss=result.test_loss, loss_gap=result.loss_gap
        )
    arrays = {
        name.replace(".", "_"): t.detach().double().numpy()
        for name, t in result.averaged_state.items()
    }
    first = next(a for n, a in arrays.items() if n.endswith("weight") and a.ndim == 2)
    if np.isfinite(first).all() and np.any(first):
        metrics.update(hill_metrics(first, config["hill_fraction"], "the first layer's entries"))
        metrics["prunable_fraction"] = prunable_fraction(first, config["eps"], "magnitude")
    return metrics, arrays


#: The inputs of scikit-learn's digits (8 x 8 images, 10 classes).
DIGITS_IN_FEATURES = 64


def _check_nn_train(config: Mapping[str, Any]) -> None:
    digits = config["data"] == "digits"
    inputs = DIGITS_IN_FEATURES if digits else config["in_features"]
    # The first weight layer is inputs x width, or inputs x classes in an fcn1.
    outputs = config["width"] if config["depth"] >= 2 else (10 if digits else config["n_classes"])
    hill_k(config["hill_fraction"], inputs * outputs, "the first layer's entries")
    if config["data"] == "teacher_student" and config["batch_size"] > config["n_train"]:
        raise InvalidArgumentError(
            f"batch_size = {config['batch_size']} must be <= n_train = {config['n_train']}"
        )


EXPERIMENTS = (
    Experiment(
        "nn.train",
        nn_train,
        (
            Setting(
                "data", "str", "teacher_student", "the data", choices=("teacher_student", "digits")
            ),
            Setting("n_train", "int", 512, "teacher-student training points, >= 1", low=1),
            Setting("n_test", "int", 512, "teacher-student test points, >= 1", low=1),
            Setting("in_features", "int", 16, "teacher-student input dimension, >= 1", low=1),
            Setting("n_classes", "int", 4, "teacher-student classes, >= 2", low=2),
            Setting("teacher_width", "int", 64, "teacher's hidden width, >= 1", low=1),
            Setting("depth", "int", 2, "weight layers of the FCN, >= 1", low=1),
            Setting("width", "int", 64, "hidden width of the FCN, >= 1", low=1),
            Setting("mean_field", "bool", False, "mean-field (1/width) output layer"),
            Setting("eta", "float", 0.1, "step size, > 0", **POSITIVE),
            Setting("batch_size", "int", 32, "batch size, in [1, n_train]", low=1),
            Setting("max_steps", "int", 1000, "SGD steps, >= 1", low=1),
            Setting("eval_every", "int", 500, "steps between evaluations, >= 1", low=1),
            noise_alpha_setting(),
            Setting("noise_scale", "float", 0.0, "injected noise scale, >= 0", low=0),
            noise_kind_setting("unit"),
            Setting(
                "noise_layers", "str", "all", "layers receiving noise", choices=("all", "first")
            ),
            *common_settings(),
        ),
        "A fully connected network trained by SGD (heavytail.nn.train) on teacher-student "
        "data or digits: tail index and prunable fraction of the first layer, accuracies, "
        "losses and the accuracy gap of the averaged network.",
        check=_check_nn_train,
    ),
)
