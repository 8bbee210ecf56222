"""The options of :func:`heavytail.simulate.mean_field_sgd`: network, data, teacher, recording."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_choice, check_int, check_real

from ._mean_field_modes import ACTIVATIONS, LOSSES

__all__ = [
    "Activation",
    "Loss",
    "MeanFieldData",
    "MeanFieldNetwork",
    "MeanFieldRecording",
    "Teacher",
]

Activation = Literal["tanh", "relu", "sigmoid", "identity"]
Loss = Literal["squared", "logistic"]


@dataclass(frozen=True)
class Teacher:
    """The network that labels the data: f*(x) = k^(-1/2) sum_j c_j phi*(v_j . x).

    Its weights come from its own seed, not from the run's ``rng``, so that runs with
    different seeds learn the same function: v_j ~ N(0, I_dim / dim) (k rows of dim
    normals, scaled), then c_j ~ N(0, 1), from ``numpy.random.default_rng(seed)``.

    Parameters
    ----------
    n_units : int
        k >= 1.
    activation : {"tanh", "relu", "sigmoid", "identity"}
        phi*.
    seed : int
        Seed of the teacher's weights, >= 0.
    """

    n_units: int = 4
    activation: Activation = "tanh"
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_units", check_int(self.n_units, "n_units", low=1))
        check_choice(self.activation, "activation", tuple(ACTIVATIONS))
        object.__setattr__(self, "seed", check_int(self.seed, "seed", low=0))

    def weights(self, dim: int) -> tuple[FloatArray, FloatArray]:
        """(v, c): the first layer (k, dim) and the output weights (k,)."""
        dim = check_int(dim, "dim", low=1)
        gen = np.random.default_rng(self.seed)
        v = gen.standard_normal((self.n_units, dim)) / math.sqrt(dim)
        c = gen.standard_normal(self.n_units)
        return v, c


@dataclass(frozen=True, kw_only=True)
class MeanFieldNetwork:
    """The student network of :func:`mean_field_sgd` and its loss.

    Initialisation: w_i i.i.d. N(0, first_layer_std^2 I_d / d); a_i i.i.d. N(0, 1)
    (``second_layer_init="normal"``) or a_i = 1 (``"ones"``; with
    ``train_second_layer=False`` this is Wan et al.'s fixed second layer).

    Parameters
    ----------
    activation : {"tanh", "relu", "sigmoid", "identity"}
        phi; relu' is taken as 0 at 0.
    loss : {"squared", "logistic"}
        The loss, which also sets the labels: l = (f - y)^2 / 2 on real labels, or
        l = log(1 + exp(-y f)) on signs (see :class:`MeanFieldData`).
    train_second_layer : bool
        Whether a is trained.
    second_layer_init : {"normal", "ones"}
        a_i ~ N(0, 1) or a_i = 1.
    first_layer_std : float
        The initial w_i ~ N(0, first_layer_std^2 I_d / d), in (0, inf).
    """

    activation: Activation = "tanh"
    loss: Loss = "squared"
    train_second_layer: bool = True
    second_layer_init: Literal["normal", "ones"] = "normal"
    first_layer_std: float = 1.0

    def __post_init__(self) -> None:
        check_choice(self.activation, "activation", tuple(ACTIVATIONS))
        check_choice(self.loss, "loss", tuple(LOSSES))
        if not isinstance(self.train_second_layer, bool):
            raise InvalidArgumentError(
                f"`train_second_layer` must be a bool, got {type(self.train_second_layer).__name__}"
            )
        check_choice(self.second_layer_init, "second_layer_init", ("normal", "ones"))
        std = check_real(self.first_layer_std, "first_layer_std", low=0.0, low_open=True)
        object.__setattr__(self, "first_layer_std", std)


@dataclass(frozen=True, kw_only=True)
class MeanFieldData:
    """The data of :func:`mean_field_sgd`: inputs, labels, training set, test set, batches.

    Inputs x ~ N(0, I_d) (``inputs="gaussian"``) or uniform on the sphere of radius
    sqrt(d) (``"sphere"``, bounded inputs). Labels y = f*(x) + label_noise * xi with
    xi ~ N(0, 1) for the squared loss, and y = sign(f*(x) + label_noise * xi) in {-1, 1}
    for the logistic loss; f* is the ``teacher``.

    Parameters
    ----------
    teacher : Teacher
        The labelling network; default ``Teacher()`` (4 tanh units, seed 0).
    label_noise : float
        Standard deviation of the label noise, in [0, inf).
    inputs : {"gaussian", "sphere"}
        The input law.
    dataset_size : int, optional
        None (default): online mode, every step draws b fresh points. An int m >= 1 (and
        >= the batch size b): one training set of m points is drawn once and shared by
        all replicates; each epoch reshuffles it (Fisher-Yates) and takes floor(m / b)
        batches of b points without replacement; the m mod b points left over wait for a
        later epoch. b == m is full-batch gradient descent, in index order.
    test_size : int
        Points of the test set shared by all replicates, >= 0; losses on it estimate the
        population loss.
    batches : {"independent", "shared"}
        "independent": each replicate draws its own batches (its own online points or
        its own shuffles). "shared": every replicate sees the same sequence of batches,
        so that replicates differ only by their initialisation and their injected
        noise, the setting in which propagation of chaos applies across replicates.
    """

    teacher: Teacher = Teacher()
    label_noise: float = 0.1
    inputs: Literal["gaussian", "sphere"] = "gaussian"
    dataset_size: int | None = None
    test_size: int = 1000
    batches: Literal["independent", "shared"] = "independent"

    def __post_init__(self) -> None:
        if not isinstance(self.teacher, Teacher):
            raise InvalidArgumentError(
                f"`teacher` must be a Teacher, got {type(self.teacher).__name__}"
            )
        object.__setattr__(
            self, "label_noise", check_real(self.label_noise, "label_noise", low=0.0)
        )
        check_choice(self.inputs, "inputs", ("gaussian", "sphere"))
        if self.dataset_size is not None:
            m = check_int(self.dataset_size, "dataset_size", low=1)
            object.__setattr__(self, "dataset_size", m)
        object.__setattr__(self, "test_size", check_int(self.test_size, "test_size", low=0))
        check_choice(self.batches, "batches", ("independent", "shared"))


def _check_steps(steps: Any, name: str) -> tuple[int, ...]:
    if isinstance(steps, str) or not isinstance(steps, Iterable):
        raise InvalidArgumentError(f"`{name}` must be a sequence of ints, got {steps!r}")
    out = tuple(check_int(s, name, low=0) for s in steps)
    if any(b <= a for a, b in itertools.pairwise(out)):
        raise InvalidArgumentError(f"`{name}` must be strictly increasing, got {out}")
    return out


@dataclass(frozen=True)
class MeanFieldRecording:
    """What :func:`mean_field_sgd` records besides the final weights.

    Parameters
    ----------
    weight_steps : sequence of int
        Steps k (strictly increasing, 0 = the initialisation, at most ``n_steps``) at
        which W (R, n, dim) and a (R, n) are stored. Memory: R * n * (dim + 1) * 8 bytes
        per step.
    loss_steps : sequence of int
        Steps at which the mean loss on the training set (finite-sum mode) and on the
        test set are computed (one forward pass over each set).
    n_probe : int
        At each loss step, also store the network outputs at the first ``n_probe`` test
        points (0 <= n_probe <= test_size).
    """

    weight_steps: tuple[int, ...] = ()
    loss_steps: tuple[int, ...] = ()
    n_probe: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight_steps", _check_steps(self.weight_steps, "weight_steps"))
        object.__setattr__(self, "loss_steps", _check_steps(self.loss_steps, "loss_steps"))
        object.__setattr__(self, "n_probe", check_int(self.n_probe, "n_probe", low=0))
        if self.n_probe and not self.loss_steps:
            raise InvalidArgumentError("`n_probe` > 0 needs `loss_steps`")
