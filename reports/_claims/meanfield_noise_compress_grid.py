"""The runs of meanfield.noise_compress: its sizes, and its grid of noises.

Each noise cell, (alpha, type) or Gaussian noise of a type, trains Wan et al.'s network
(:mod:`.meanfield_wan`) at every width and prunes its first layer (:class:`NoiseCell`);
the planted positive control of Wan et al.'s measure prunes i.i.d. columns of the
injected noise's law, without training (:class:`NoiseCompressGrid`).
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass

import numpy as np

from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_int
from heavytail.simulate import MeanFieldData
from heavytail.theory import pruning_curve

from .._kit.validation import check_increasing
from .meanfield_wan import (
    CELLS,
    GAUSSIAN,
    NOISE_TYPES,
    NoiseType,
    NoisyTraining,
    iid_columns,
    injected_noise,
    noise_scale,
    removable_fraction,
    train_noisy,
)

__all__ = [
    "KAPPAS",
    "N_STEPS",
    "POSITIVE_ALPHA",
    "NoiseCell",
    "NoiseCompressGrid",
    "NoiseCompressSize",
    "iid_removable",
    "run_grid",
]


#: The kept fractions, and the steps of the training.
KAPPAS = (0.1, 0.25)
N_STEPS = 50

#: Tail index of the planted positive control: i.i.d. columns whose noise part has this
#: index, against the same columns with Gaussian noise.
POSITIVE_ALPHA = 1.5


@dataclass(frozen=True)
class NoiseCompressSize(NoisyTraining):
    """Parameters of one size of ``meanfield.noise_compress``: Wan et al.'s training
    (:class:`~.meanfield_wan.NoisyTraining`) at two widths or more, with R = ``replicates``
    networks per (alpha, type, width) and a Gaussian control per type.

    Attributes
    ----------
    gaussian_replicates : int
        Networks per (type, width) with Gaussian noise (their errors vary little).
    n_steps : int
        Steps of the training (default :data:`N_STEPS`).
    """

    gaussian_replicates: int
    _: KW_ONLY
    n_steps: int = N_STEPS

    def __post_init__(self) -> None:
        check_increasing(self.widths, "widths")
        check_int(self.widths[0], "widths[0]", low=max(16, math.ceil(1 / min(KAPPAS))))
        check_int(self.replicates, "replicates", low=4)
        check_int(self.gaussian_replicates, "gaussian_replicates", low=4)


@dataclass(frozen=True)
class NoiseCell:
    """The runs of one noise: (alpha, type), alpha = :data:`GAUSSIAN` for Gaussian noise.

    Attributes
    ----------
    alpha : float
    noise_type : int
    errors : ndarray, shape (R, width, kappa)
        The relative node-pruning error of each replicate at each width and kappa.
    norms : ndarray, shape (R n_max,)
        The unit norms of every replicate at the widest width.
    removable : ndarray, shape (R,)
        Wan et al.'s removable fraction of each replicate at the widest width.
    tail_rng : Generator
        The cell's generator, with which the judge's tail estimate resamples.
    """

    alpha: float
    noise_type: NoiseType
    errors: FloatArray
    norms: FloatArray
    removable: FloatArray
    tail_rng: np.random.Generator


@dataclass(frozen=True)
class NoiseCompressGrid:
    """Every cell's runs, and the planted positive control of Wan et al.'s measure.

    ``cells``: the heavy-tailed :data:`CELLS`, then Gaussian noise of each type;
    ``planted_heavy``, ``planted_gaussian``: the removable fractions of i.i.d. columns
    with noise of index :data:`POSITIVE_ALPHA` and with Gaussian noise (no training).
    """

    cells: tuple[NoiseCell, ...]
    planted_heavy: FloatArray
    planted_gaussian: FloatArray
    params: NoiseCompressSize

    def cell(self, alpha: float, noise_type: int) -> NoiseCell:
        """The cell of noise (alpha, type)."""
        (found,) = [c for c in self.cells if (c.alpha, c.noise_type) == (alpha, noise_type)]
        return found


def _cell(
    params: NoiseCompressSize,
    alpha: float,
    noise_type: NoiseType,
    reps: int,
    g: np.random.Generator,
) -> NoiseCell:
    """Train ``reps`` networks at every width with one seed drawn from ``g``; prune them."""
    noise = injected_noise(alpha, params.sigma, noise_type)
    seed = int(g.integers(2**63))
    errors = np.empty((reps, len(params.widths), len(KAPPAS)))
    for j, n in enumerate(params.widths):
        run = train_noisy(params, noise, n, reps, seed, MeanFieldData(test_size=0))
        for r in range(reps):
            errors[r, j] = pruning_curve(run.w[r].T, KAPPAS, "node")  # W as d x n
    removable = np.array([removable_fraction(run.w[r]) for r in range(reps)])
    return NoiseCell(alpha, noise_type, errors, run.unit_norms().ravel(), removable, g)


def iid_removable(
    alpha: float, params: NoiseCompressSize, reps: int, rng: np.random.Generator
) -> FloatArray:
    """The removable fraction of i.i.d. type-1 columns N(0, I/d) + c L 1_d at the widest
    width, c = :func:`noise_scale` (the law of all the injected noise, no drift; alpha
    = 2: L ~ N(0, 2), the simulator's convention)."""
    n, d = params.widths[-1], params.dim
    c = noise_scale(params, alpha)
    out = np.empty(reps)
    for r in range(reps):
        if alpha == GAUSSIAN:
            w = rng.standard_normal((n, d)) / math.sqrt(d)
            w += c * math.sqrt(2.0) * rng.standard_normal((n, 1))
        else:
            w = iid_columns(alpha, 1, n, d, c, rng)
        out[r] = removable_fraction(w)
    return out


def run_grid(params: NoiseCompressSize, rng: np.random.Generator) -> NoiseCompressGrid:
    """Train each cell at every width and prune; the planted control's i.i.d. columns."""
    all_cells = CELLS + tuple((GAUSSIAN, t) for t in NOISE_TYPES)
    cells = tuple(
        _cell(
            params,
            alpha,
            typ,
            params.gaussian_replicates if alpha == GAUSSIAN else params.replicates,
            g,
        )
        for (alpha, typ), g in zip(all_cells, rng.spawn(len(all_cells)), strict=True)
    )
    control_rng = rng.spawn(1)[0]
    heavy = iid_removable(POSITIVE_ALPHA, params, params.replicates, control_rng)
    gaussian = iid_removable(GAUSSIAN, params, params.gaussian_replicates, control_rng)
    return NoiseCompressGrid(cells, heavy, gaussian, params)
