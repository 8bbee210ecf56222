"""SGD on least squares with Gaussian data, many independent chains at once.

The model of Gürbüzbalaban, Şimşekli & Zhu (ICML 2021), docs/theory.md, section 5, with the
optional heavy-tailed noise injection of Wan et al. (ICML 2024), docs/theory.md, section 6.

This wrapper and its kernels (:mod:`._sgd_linear_kernel`) are the example of how a
simulator is built, described in :mod:`._numba`: validate, spawn one Generator per chunk,
pre-fill the outputs, pick the kernel in Python, then warn and return.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from numba import get_num_threads
from numba.typed import List as TypedList

from heavytail._lib._errors import DivergenceWarning, InvalidArgumentError
from heavytail._lib._rng import RngLike, spawn_generators
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import (
    as_sample,
    check_allocation,
    check_int,
    check_real,
)

from ._injected_noise import InjectedNoise, noise_factor
from ._noise_kernel import EllipticStableNoise, IidStableNoise, UnitStableNoise
from ._sgd_linear_kernel import (
    Dataset,
    Online,
    OwnDatasets,
    SgdOutputs,
    SgdScalars,
    online_1d_kernel,
    sgd_kernel,
)

__all__ = [
    "CHUNK_SIZE",
    "DIVERGENCE_BOUND",
    "Recording",
    "SgdRun",
    "SharedDataset",
    "sgd_linear_regression",
]

CHUNK_SIZE = 1024
"""Chains per chunk. Each chunk has its own random stream; the split depends on
``n_chains`` only, never on the number of threads."""

DIVERGENCE_BOUND = 1e150
"""A chain diverges when an entry of its iterate is non-finite or exceeds this in
absolute value. Below it, one more step cannot overflow for any sane ``dim``, ``b`` and
``sigma``, so the bound is reached before a silent inf or NaN appears."""


@dataclass(frozen=True)
class Recording:
    """What to record along the way, after ``burn_in`` steps.

    Parameters
    ----------
    trajectory_every : int or None
        Record the iterate x_k at the steps k = burn_in + j * trajectory_every,
        j = 1, 2, ..., up to ``n_steps``. An int >= 1, or None for no trajectory.
    polyak_average : bool
        Record the running (Polyak-Ruppert) average of x_k over the steps
        k = burn_in + 1, ..., n_steps.

    ``sgd_linear_regression`` also accepts the shorthands ``("trajectory", every)`` and
    ``"average"``.
    """

    trajectory_every: int | None = None
    polyak_average: bool = False

    def __post_init__(self) -> None:
        if self.trajectory_every is not None:
            check_int(self.trajectory_every, "trajectory_every", low=1)
        if not isinstance(self.polyak_average, bool):
            raise InvalidArgumentError(
                f"`polyak_average` must be a bool, got {type(self.polyak_average).__name__}"
            )
        if self.trajectory_every is None and not self.polyak_average:
            raise InvalidArgumentError(
                "a Recording must request a trajectory (`trajectory_every`) or the "
                "average (`polyak_average=True`); pass `record=None` to record nothing"
            )


@dataclass(frozen=True)
class SharedDataset:
    """One dataset of ``size`` points shared by every chain, for ``dataset_size``.

    ``dataset_size=m`` (an int) gives each chain its own dataset of m points;
    ``dataset_size=SharedDataset(m)`` draws one dataset of m points, from its own random
    stream, and runs every chain on it. Chains then differ only by their batches and
    their injected noise, and the result returns the dataset as ``features`` and
    ``labels``.

    Parameters
    ----------
    size : int
        The number of points m, >= 1.
    """

    size: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", check_int(self.size, "size", low=1))


_LAWS = {"unit": UnitStableNoise, "iid": IidStableNoise, "elliptic": EllipticStableNoise}
"""The kernel's noise law of each kind (:mod:`._noise_kernel`)."""


@dataclass(frozen=True, eq=False)  # arrays: == would be elementwise
class SgdRun:
    """Result of :func:`sgd_linear_regression`. Arrays are read-only.

    Attributes
    ----------
    iterates : ndarray, shape (n_chains, dim)
        The final iterates x_n. Rows of diverged chains are NaN.
    diverged : ndarray of bool, shape (n_chains,)
        True for a chain whose iterate left the finite range (see
        :data:`DIVERGENCE_BOUND`); such a chain is stopped there, never dropped.
    divergence_step : ndarray of int, shape (n_chains,)
        The step (1-based) at which a chain diverged, -1 for the others.
    trajectory : ndarray, shape (n_chains, n_records, dim), or None
        The recorded iterates (see :class:`Recording`); NaN from a chain's divergence on.
    recorded_steps : ndarray of int, shape (n_records,), or None
        The step k of each trajectory record.
    polyak_average : ndarray, shape (n_chains, dim), or None
        The average of x_k over k = burn_in + 1, ..., n_steps; NaN for diverged chains.
    features, labels : ndarray, shapes (m, dim) and (m,), or None
        The one shared dataset when ``dataset_size`` is a :class:`SharedDataset`; None
        otherwise.
    settings : Mapping
        Every argument as used (``x_star`` as a tuple, ``record`` as a
        :class:`Recording` or None), plus ``chunk_size`` and ``divergence_bound``.
        Read-only.
    """

    iterates: FloatArray
    diverged: npt.NDArray[np.bool_]
    divergence_step: npt.NDArray[np.int64]
    trajectory: FloatArray | None = None
    recorded_steps: npt.NDArray[np.int64] | None = None
    polyak_average: FloatArray | None = None
    features: FloatArray | None = None
    labels: FloatArray | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        for name in (
            "iterates",
            "diverged",
            "divergence_step",
            "trajectory",
            "recorded_steps",
            "polyak_average",
            "features",
            "labels",
        ):
            value = getattr(self, name)
            if value is not None:
                value.setflags(write=False)

    @property
    def n_diverged(self) -> int:
        """How many chains diverged."""
        return int(np.count_nonzero(self.diverged))


def _as_recording(record: Any) -> Recording | None:
    if record is None or isinstance(record, Recording):
        return record
    if isinstance(record, str) and record == "average":
        return Recording(polyak_average=True)
    if isinstance(record, tuple) and len(record) == 2 and record[0] == "trajectory":
        return Recording(trajectory_every=check_int(record[1], "record[1]", low=1))
    raise InvalidArgumentError(
        f'`record` must be None, "average", ("trajectory", every) or a Recording, got {record!r}'
    )


def _check_memory(
    n_chains: int,
    n_chunks: int,
    dim: int,
    n_steps: int,
    burn_in: int,
    m: int,
    shared: bool,
    recording: Recording | None,
) -> None:
    """Refuse a run whose arrays would not fit in memory, naming what sizes them."""
    every = None if recording is None else recording.trajectory_every
    n_records = 0 if every is None else (n_steps - burn_in) // every
    averaged = recording is not None and recording.polyak_average
    # each chunk run at once holds its own data set of m points (or reads the shared one)
    data_copies = 1 if shared else min(n_chunks, max(1, get_num_threads())) if m else 0
    check_allocation(
        [
            (
                f"`n_chains` x `dim` = {n_chains} x {dim}",
                "the iterates (float64)",
                8 * n_chains * (dim * (2 if averaged else 1) + 1),
            ),
            (
                f"`n_chains` x (`n_steps` - `burn_in`) // `trajectory_every` x `dim` = "
                f"{n_chains} x {n_records} x {dim}",
                "the recorded trajectory (float64)",
                8 * n_chains * n_records * dim,
            ),
            (
                f"`dataset_size` x `dim` = {m} x {dim}",
                f"the data sets ({data_copies} at once, float64)",
                8 * data_copies * m * (dim + 2),
            ),
        ]
    )


def sgd_linear_regression(
    eta: float,
    batch_size: int,
    *,
    dim: int = 1,
    sigma: float = 1.0,
    noise_std: float = 1.0,
    n_chains: int,
    n_steps: int,
    x_star: npt.ArrayLike | None = None,
    dataset_size: int | SharedDataset | None = None,
    injected_noise: InjectedNoise | None = None,
    burn_in: int = 0,
    record: Recording | Literal["average"] | tuple[str, int] | None = None,
    rng: RngLike = None,
) -> SgdRun:
    r"""Simulate independent chains of SGD on a Gaussian least-squares problem.

    Each chain starts at x_0 = 0 and runs, for k = 1, ..., n_steps,

    .. math::

        x_k = x_{k-1} - \frac{\eta}{b} \sum_{i \in B_k} a_i (a_i^\top x_{k-1} - y_i)
              \;[\, + \sigma_{inj} \eta^{1/\alpha_{inj}} L_k \,],

    with features a_i ~ N(0, sigma^2 I_dim) and labels y_i = a_i . x_star +
    noise_std * N(0, 1). This is x_k = M_k x_{k-1} + q_k with
    M_k = I - (eta/b) sum_i a_i a_i^T, the recursion of Gürbüzbalaban, Şimşekli & Zhu
    (ICML 2021) whose stationary law has tail index alpha solving h(alpha) = 1 when the
    top Lyapunov exponent is negative (docs/theory.md, section 5;
    :func:`heavytail.theory.sgd_tail_index`).

    Parameters
    ----------
    eta : float
        Step size, in (0, inf).
    batch_size : int
        b >= 1, the number of samples per step.
    dim : int
        Dimension d >= 1 of x.
    sigma : float
        Feature scale, in (0, inf): a ~ N(0, sigma^2 I).
    noise_std : float
        Label noise scale, in [0, inf).
    n_chains : int
        Number of independent chains, >= 1.
    n_steps : int
        Number of SGD steps per chain, >= 1.
    x_star : array_like, shape (dim,), optional
        The true parameter (finite). Default zeros(dim).
    dataset_size : int or SharedDataset, optional
        None (default) is the online mode of the theorem: every step draws b fresh
        samples. An int m >= batch_size is the finite-sum mode: each chain draws one
        dataset of m points once and keeps it; each epoch reshuffles it (uniformly,
        Fisher-Yates) and takes floor(m / b) consecutive batches of exactly b points,
        without replacement. The m mod b points left over at the end of an epoch are
        not used in that epoch (they come back in later epochs, reshuffled), so every
        step has exactly b points. When b == m every step is the full-batch gradient
        (gradient descent), summed in index order without shuffling.
        ``SharedDataset(m)``: the same, on one dataset shared by all chains (drawn from
        its own stream and returned as ``features`` / ``labels``).
    injected_noise : InjectedNoise, optional
        Heavy-tailed noise added after every step (Wan et al., ICML 2024). The iterate is
        one unit: kind ``"unit"`` adds one scalar L to every coordinate, ``"iid"``
        independent coordinates, ``"elliptic"`` one elliptic vector.
    burn_in : int
        Steps before anything is recorded, in [0, n_steps]; < n_steps when ``record``
        asks for anything. Has no effect when ``record`` is None.
    record : None, "average", ("trajectory", every) or Recording
        What to record besides the final iterates (see :class:`Recording`).
    rng : int, Generator, SeedSequence or None
        Randomness. One child stream is spawned for the shared dataset and one per
        chunk of :data:`CHUNK_SIZE` chains, so the same ``rng`` gives bit-identical
        results whatever the number of threads, and the first chains of a run do not
        depend on how many chains follow them.

    Returns
    -------
    SgdRun
        Final iterates, the divergence mask and step, the recordings and the settings.

    Raises
    ------
    InvalidArgumentError
        For any argument outside its domain, naming the argument and the rule.

    Warns
    -----
    DivergenceWarning
        When some chains diverged (an entry non-finite or above
        :data:`DIVERGENCE_BOUND` in absolute value). They are stopped at that step,
        their iterates and later records are NaN, and they are counted and marked in
        ``diverged``; none is dropped. Expected when the top Lyapunov exponent is >= 0.

    Notes
    -----
    In the online mode the stationary mean is x_star and, when
    eta sigma^2 < 2b / (b + d + 1), the stationary covariance is v I with

        v = eta noise_std^2 / (2b - (b + d + 1) eta sigma^2),

    from v = h(2) v + (eta/b)^2 noise_std^2 b sigma^2 (E[M^T M] = h(2) I, docs/theory.md
    section 5); the derivation and its check against simulation are in
    ``tests/simulate/test_sgd_linear_theory.py``.

    Not checked here: whether the parameters admit a stationary law, or whether
    ``n_steps`` is long enough to reach it. The chains are stepped in numba threads
    over fixed chunks of chains, each chunk with its own Generator.

    Examples
    --------
    >>> from heavytail.simulate import sgd_linear_regression
    >>> run = sgd_linear_regression(0.5, 1, n_chains=2000, n_steps=200, rng=0)
    >>> run.iterates.shape, run.n_diverged
    ((2000, 1), 0)
    """
    eta = check_real(eta, "eta", low=0.0, low_open=True)
    b = check_int(batch_size, "batch_size", low=1)
    dim = check_int(dim, "dim", low=1)
    sigma = check_real(sigma, "sigma", low=0.0, low_open=True)
    noise_std = check_real(noise_std, "noise_std", low=0.0)
    n_chains = check_int(n_chains, "n_chains", low=1)
    n_steps = check_int(n_steps, "n_steps", low=1)
    if x_star is None:
        xs = np.zeros(dim)
    else:
        xs = as_sample(x_star, "x_star", ndim=1)
        if xs.shape != (dim,):
            raise InvalidArgumentError(
                f"`x_star` must have shape (dim,) = ({dim},), got {xs.shape}"
            )
        xs = np.ascontiguousarray(xs, dtype=np.float64)
    m = 0
    shared_dataset = isinstance(dataset_size, SharedDataset)
    if isinstance(dataset_size, SharedDataset):
        m = dataset_size.size
    elif dataset_size is not None:
        m = check_int(dataset_size, "dataset_size", low=1)
    if m and b > m:
        raise InvalidArgumentError(f"`batch_size` must be <= `dataset_size` ({m}), got {b}")
    noise = None
    if injected_noise is not None:
        factor = noise_factor(injected_noise, eta, DIVERGENCE_BOUND)
        noise = _LAWS[injected_noise.kind](injected_noise.alpha, factor)
    burn_in = check_int(burn_in, "burn_in", low=0, high=n_steps)
    recording = _as_recording(record)
    if recording is not None and burn_in >= n_steps:
        raise InvalidArgumentError(
            f"`burn_in` must be < `n_steps` ({n_steps}) when `record` is set, got {burn_in}"
        )

    n_chunks = math.ceil(n_chains / CHUNK_SIZE)
    _check_memory(n_chains, n_chunks, dim, n_steps, burn_in, m, shared_dataset, recording)
    data_gen, *chunk_gens = spawn_generators(rng, n_chunks + 1)

    dataset = None
    if shared_dataset:
        with np.errstate(over="ignore", invalid="ignore"):
            features = sigma * data_gen.standard_normal((m, dim))
            labels = features @ xs + noise_std * data_gen.standard_normal(m)
        if not (np.isfinite(features).all() and np.isfinite(labels).all()):
            raise InvalidArgumentError(
                "the shared data set overflows a double: `sigma`, `x_star` or `noise_std` is "
                f"too large (sigma = {sigma:g}, max |x_star| = {np.max(np.abs(xs)):g}, "
                f"noise_std = {noise_std:g})"
            )
        dataset = Dataset(features, labels)

    trajectory = None
    every = None if recording is None else recording.trajectory_every
    if every is not None:
        n_records = (n_steps - burn_in) // every
        if n_records == 0:
            raise InvalidArgumentError(
                f"`trajectory_every` must be <= n_steps - burn_in ({n_steps - burn_in}), "
                f"got {every}"
            )
        trajectory = np.full((n_chains, n_records, dim), np.nan)
    average = None
    if recording is not None and recording.polyak_average:
        average = np.full((n_chains, dim), np.nan)

    out = SgdOutputs(
        iterates=np.full((n_chains, dim), np.nan),
        divergence_step=np.full(n_chains, -1, dtype=np.int64),
        trajectory=trajectory,
        average=average,
    )
    scalars = SgdScalars(
        n_steps=n_steps,
        step=eta / b,
        batch_size=b,
        sigma=sigma,
        noise_std=noise_std,
        burn_in=burn_in,
        record_every=every,
        bound=DIVERGENCE_BOUND,
        chunk_size=CHUNK_SIZE,
    )
    # the mode is the type of the data source; the online dim-1 case has its own kernel
    source: Online | OwnDatasets | Dataset = Online(xs)
    if dataset is not None:
        source = dataset
    elif m:
        source = OwnDatasets(xs, m)
    gens = TypedList(chunk_gens)
    if dim == 1 and isinstance(source, Online):
        online_1d_kernel(gens, scalars, source, noise, out)
    else:
        sgd_kernel(gens, scalars, source, noise, out)

    diverged = out.divergence_step >= 0
    n_div = int(np.count_nonzero(diverged))
    if n_div:
        warnings.warn(
            f"{n_div} of {n_chains} chains diverged (an entry non-finite or above "
            f"{DIVERGENCE_BOUND:g} in absolute value); they are marked in `diverged` and "
            "their iterates are NaN",
            DivergenceWarning,
            stacklevel=2,
        )

    settings = {
        "eta": eta,
        "batch_size": b,
        "dim": dim,
        "sigma": sigma,
        "noise_std": noise_std,
        "n_chains": n_chains,
        "n_steps": n_steps,
        "x_star": tuple(float(v) for v in xs),
        "dataset_size": dataset_size,
        "shared_dataset": shared_dataset,
        "injected_noise": injected_noise,
        "burn_in": burn_in,
        "record": recording,
        "chunk_size": CHUNK_SIZE,
        "divergence_bound": DIVERGENCE_BOUND,
    }
    return SgdRun(
        iterates=out.iterates,
        diverged=diverged,
        divergence_step=out.divergence_step,
        trajectory=trajectory,
        recorded_steps=(
            None if every is None else burn_in + every * np.arange(1, n_records + 1, dtype=np.int64)
        ),
        polyak_average=average,
        features=None if dataset is None else dataset.features,
        labels=None if dataset is None else dataset.labels,
        settings=settings,
    )
