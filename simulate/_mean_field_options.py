"""The options of :func:`heavytail.simulate.mean_field_sgd`: teacher, noise, recording."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._validation import check_choice, check_int, check_real

from ._mean_field_modes import ACTIVATIONS

__all__ = ["Activation", "MeanFieldNoise", "MeanFieldRecording", "Teacher"]

Activation = Literal["tanh", "relu", "sigmoid", "identity"]
FloatArray = npt.NDArray[np.float64]


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


@dataclass(frozen=True)
class MeanFieldNoise:
    """Stable noise added to the first layer after every step (Wan et al., ICML 2024).

    W <- W + scale * eta^(1/alpha) * L, with L built from standard symmetric
    alpha-stable variables (E exp(i t X) = exp(-|t|^alpha); N(0, 2) at alpha = 2):

    - type 1: one scalar L_i per unit, added to every coordinate of w_i
      (w_i += s L_i 1_dim);
    - type 2: i.i.d. entries L_ij;
    - type 3: one elliptic vector per unit, L_i = sqrt(2 A_i) G_i with A_i positive
      (alpha/2)-stable and G_i ~ N(0, I_dim): every coordinate is standard symmetric
      alpha-stable, but they share A_i.

    The second layer receives no noise.

    Parameters
    ----------
    alpha : float
        Stable index, in (0, 2].
    scale : float
        sigma in sigma * eta^(1/alpha), in (0, inf).
    noise_type : {1, 2, 3}
        Wan et al.'s noise type.
    """

    alpha: float
    scale: float
    noise_type: Literal[1, 2, 3] = 1

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "alpha", check_real(self.alpha, "alpha", low=0.0, high=2.0, low_open=True)
        )
        object.__setattr__(self, "scale", check_real(self.scale, "scale", low=0.0, low_open=True))
        if isinstance(self.noise_type, bool) or self.noise_type not in (1, 2, 3):
            raise InvalidArgumentError(f"`noise_type` must be 1, 2 or 3, got {self.noise_type!r}")


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
