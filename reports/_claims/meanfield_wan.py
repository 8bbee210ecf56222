"""Wan et al.'s setting, shared by meanfield.noise_compress and meanfield.chaos_heavy.

Wan, Barsbey, Zaidi & Şimşekli (ICML 2024) train the mean-field network
f(x) = (1/n) Σ tanh(w_i·x) with the second layer fixed (a_i = 1) by online SGD, adding
sigma eta^(1/alpha) L to the first layer after every step, L alpha-stable of their type 1
(one scalar per unit on every coordinate) or type 3 (one elliptic vector per unit). This
module holds the grid of noises both claims run (:data:`CELLS`), the network and its
training (:func:`train_noisy`), the law of all the noise a run injects without the
training (:func:`noise_scale`, :func:`independent_units`, :func:`iid_columns`), and Wan et
al.'s measure of compressibility (:func:`removable_fraction`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import KW_ONLY, dataclass
from typing import Literal

import numpy as np

from heavytail._lib._noise_kinds import NOISE_KINDS
from heavytail._lib._types import FloatArray
from heavytail.simulate import (
    InjectedNoise,
    MeanFieldData,
    MeanFieldNetwork,
    MeanFieldRun,
    mean_field_sgd,
)
from heavytail.theory import prunable_fraction, sample_elliptic_stable, sample_stable

__all__ = [
    "ALPHAS",
    "BATCH",
    "CELLS",
    "DIM",
    "ETA",
    "GAUSSIAN",
    "NOISE_TYPES",
    "SIGMA",
    "WAN_SQUARED_ERROR",
    "NoiseType",
    "NoisyTraining",
    "iid_columns",
    "independent_units",
    "injected_noise",
    "noise_scale",
    "removable_fraction",
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
#: Gaussian noise at the same scale: alpha = 2 in sigma eta^(1/alpha) L.
GAUSSIAN = 2.0
#: Wan et al.'s own measure (mbarsbey/implicit-compressibility, analyze.py, criterion
#: "mce", metric "fro_squared", last layer ignored): the fraction of columns removable,
#: smallest norms first, while the squared relative Frobenius error stays at most 0.1.
WAN_SQUARED_ERROR = 0.1


@dataclass(frozen=True)
class NoisyTraining:
    """The training of a claim's size: ``replicates`` networks of each width, trained by
    online SGD with sigma eta^(1/alpha) L added to the first layer after each step.

    A claim's size extends it with its own fields (after ``replicates``), its own default
    ``n_steps`` (keyword-only, like the other parameters of the training) and the checks
    of its grid.

    Attributes
    ----------
    widths : tuple of int
        The widths n, increasing. Every width of a cell is run with one seed.
    replicates : int
        R networks per width; they share the batches and differ by their initialisation
        and their injected noise.
    n_steps, eta, sigma, dim, batch_size : int, float, float, int, int
        Steps, step size, noise scale, input dimension and batch of the training.
    """

    widths: tuple[int, ...]
    replicates: int
    _: KW_ONLY
    n_steps: int
    eta: float = ETA
    sigma: float = SIGMA
    dim: int = DIM
    batch_size: int = BATCH


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


def noise_scale(params: NoisyTraining, alpha: float) -> float:
    """sigma (eta K)^(1/alpha), K = ``n_steps``: the sum of the K injected draws
    sigma eta^(1/alpha) L is this times one L (stability)."""
    return params.sigma * (params.eta * params.n_steps) ** (1.0 / alpha)


def independent_units(
    params: NoisyTraining,
    alpha: float,
    noise_type: NoiseType,
    n: int,
    rng: np.random.Generator,
    *,
    shared: bool = False,
) -> FloatArray:
    """Units of the law of the initialisation plus all the noise, without training.

    w_i = w_i(0) + :func:`noise_scale` L_i, w_i(0) ~ N(0, I/d), for type 1 (one scalar per
    unit on every coordinate) and type 3 (an elliptic vector per unit): the law of a
    unit after ``n_steps`` steps of noise alone. Shape (R, n, dim), R = ``replicates``.
    ``shared=False``: every unit independent of every other (chaos holds exactly).
    ``shared=True``: one L per replicate, added to all its units, so that the units are
    dependent through it (chaos fails: n Var grows like n).
    """
    r, d = params.replicates, params.dim
    w0 = rng.standard_normal((r, n, d)) / math.sqrt(d)
    scale = noise_scale(params, alpha)
    m = 1 if shared else n
    if noise_type == 1:
        s = sample_stable(alpha, (r, m), rng=rng)
        noise = np.repeat(s[:, :, None], d, axis=2)
    else:
        noise = sample_elliptic_stable(alpha, r * m, d, rng=rng).reshape(r, m, d)
    return np.asarray(w0 + scale * noise, dtype=np.float64)


def iid_columns(
    alpha: float, noise_type: int, n: int, dim: int, scale: float, rng: np.random.Generator
) -> FloatArray:
    """One layer of n i.i.d. units N(0, I/d) + scale L, shape (n, dim).

    Type 1: L = L_i 1_d, L_i standard symmetric alpha-stable; type 3: an elliptic stable
    vector with standard marginals. The initialisation is drawn first, then the noise.
    """
    w = rng.standard_normal((n, dim)) / math.sqrt(dim)
    if noise_type == 1:
        w += scale * sample_stable(alpha, (n, 1), rng=rng)
    else:
        w += scale * sample_elliptic_stable(alpha, n, dim, rng=rng)
    return w


def removable_fraction(w: FloatArray) -> float:
    """Wan et al.'s measure on one first layer W (n, d): the largest fraction of its
    units (the columns of the d x n matrix) whose removal leaves a squared relative
    Frobenius error of at most :data:`WAN_SQUARED_ERROR`."""
    return prunable_fraction(w.T, math.sqrt(WAN_SQUARED_ERROR), "node")
