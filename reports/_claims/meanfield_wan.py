"""Wan et al.'s setting, shared by meanfield.noise_compress and meanfield.chaos_heavy.

Wan, Barsbey, Zaidi & Şimşekli (ICML 2024) train the mean-field network
f(x) = (1/n) Σ tanh(w_i·x) with the second layer fixed (a_i = 1) by online SGD, adding
sigma eta^(1/alpha) L to the first layer after every step, L alpha-stable of their type 1
(one scalar per unit on every coordinate) or type 3 (one elliptic vector per unit). This
module holds the grid of noises both claims run (:data:`CELLS`), the network and its
training (:func:`train_noisy`).
"""

from __future__ import annotations

import itertools
from typing import Literal, Protocol

from heavytail._lib._noise_kinds import NOISE_KINDS
from heavytail.simulate import (
    InjectedNoise,
    MeanFieldData,
    MeanFieldNetwork,
    MeanFieldRun,
    mean_field_sgd,
)

__all__ = [
    "ALPHAS",
    "BATCH",
    "CELLS",
    "DIM",
    "ETA",
    "NOISE_TYPES",
    "SIGMA",
    "NoiseType",
    "NoisyTraining",
    "injected_noise",
    "train_noisy",
]

NoiseType = Literal[1, 2, 3]

#: The grid of the injected noise: stable indices and Wan et al.'s types.
ALPHAS = (1.5, 1.75)
NOISE_TYPES: tuple[NoiseType, ...] = (1, 3)
CELLS: tuple[tuple[float, NoiseType], ...] = tuple(itertools.product(ALPHAS, NOISE_TYPES))
#: The network and its training: input dimension, batch, step and noise scale.
DIM = 8
BATCH = 8
ETA = 0.4
SIGMA = 0.1


class NoisyTraining(Protocol):
    """The training parameters of a claim's size: online SGD with injected noise."""

    @property
    def n_steps(self) -> int: ...
    @property
    def eta(self) -> float: ...
    @property
    def sigma(self) -> float: ...
    @property
    def dim(self) -> int: ...
    @property
    def batch_size(self) -> int: ...


def injected_noise(alpha: float, sigma: float, noise_type: NoiseType) -> InjectedNoise:
    """sigma eta^(1/alpha) L after every step, L of Wan et al.'s type ``noise_type``."""
    return InjectedNoise(alpha, sigma, NOISE_KINDS[noise_type - 1])


def train_noisy(
    params: NoisyTraining,
    noise: InjectedNoise,
    n: int,
    replicates: int,
    seed: int,
    data: MeanFieldData,
) -> MeanFieldRun:
    """``replicates`` networks of width n, a_i = 1 fixed, trained with ``noise`` injected.

    Raises
    ------
    RuntimeError
        If a replicate diverged.
    """
    run = mean_field_sgd(
        n,
        params.dim,
        eta=params.eta,
        batch_size=params.batch_size,
        n_steps=params.n_steps,
        n_replicates=replicates,
        network=MeanFieldNetwork(train_second_layer=False, second_layer_init="ones"),
        data=data,
        injected_noise=noise,
        rng=seed,
    )
    if run.n_diverged:
        raise RuntimeError(f"{run.n_diverged} replicates diverged at n = {n} ({noise})")
    return run
