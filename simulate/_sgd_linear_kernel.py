"""The compiled kernels behind :func:`heavytail.simulate.sgd_linear_regression`.

Two entry points with one signature, ``(gens, scalars, source, noise, out)``; the
wrapper picks one (see :mod:`._numba` for the pattern). :func:`online_1d_kernel` runs
the online mode at dim 1 with the iterate in a scalar; :func:`sgd_kernel` runs every
mode, named by the type of ``source``: :class:`Online`, :class:`OwnDatasets` (finite-sum,
each chain draws its own dataset) or :class:`Dataset` (finite-sum, one dataset for all).
``scalars`` is an :class:`SgdScalars`; ``noise`` is None or a law of
:mod:`._noise_kernel`; ``out`` is an :class:`SgdOutputs`, whose trajectory and average
are None when not recorded. Every chain of :func:`sgd_kernel` runs through
:func:`_chain`, whose batch gradient the data's type picks (:func:`_add_gradient`).

Deterministic given its Generators: chains are split into fixed chunks of
``chunk_size`` (the last one may be shorter); chunk c uses ``gens[c]`` alone and steps
its chains one after the other, each chain through all its steps. ``prange`` hands whole
chunks to threads, so the numbers never depend on the thread count.

Order of the draws, per chain of a chunk:

- finite-sum mode with one dataset per chain: the dataset first, point by point (the
  ``dim`` feature normals, then the label-noise normal);
- then per step: online, for each of the ``b`` samples, its ``dim`` feature normals then
  its label-noise normal; finite-sum, at the start of each epoch, the Fisher-Yates
  shuffle's ``m - 1`` integers (no shuffle when ``b == m``);
- then the injected noise of the step, if any (see :mod:`._noise_kernel`).

A chain is stopped at the first step where an entry of its iterate is non-finite or
exceeds ``bound`` in absolute value: its step number goes into ``divergence_step`` and
its outputs keep the NaN the caller filled them with.

Performance (``benchmarks/bench_sgd_linear.py``). A call that passes arrays or a
Generator costs reference-count updates, which dominate a step as cheap as this one: a
trial with the end of each step (update, noise, check, records) in a helper called per
step ran about 5x slower at dim 1. So a step makes no call: the pieces picked by type
(:func:`_add_gradient`, :func:`._noise_kernel.add_stable_noise`) are inlined by numba,
and the rest of the step is written out in :func:`_chain`. The online dim-1 path
:func:`_online_chain_1d` keeps the iterate in a register and earns its place: without it
(:func:`_chain` at dim 1, bit-identical numbers) the CPU time at dim 1 was 1.29-1.64x
at b = 1 and 1.25-1.33x at b = 5 (4e4 chains x 500 steps, 1 thread, three rounds on a
shared 2-core machine); the benchmark prints this ratio as ``general/fast``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from numba import prange

from heavytail._lib._types import FloatArray

from ._noise_kernel import add_stable_noise, add_stable_noise_scalar
from ._numba import dispatch_on_type, kernel

__all__ = [
    "Dataset",
    "Online",
    "OwnDatasets",
    "SgdOutputs",
    "SgdScalars",
    "online_1d_kernel",
    "sgd_kernel",
]

IntArray = npt.NDArray[np.int64]


class SgdScalars(NamedTuple):
    """The scalar parameters, shared by every chain."""

    n_steps: int
    step: float  # eta / b
    batch_size: int
    sigma: float
    noise_std: float
    burn_in: int
    record_every: int | None  # the trajectory's spacing; None when none is recorded
    bound: float  # the divergence bound
    chunk_size: int


class Online(NamedTuple):
    """The online mode's input: ``x_star`` (dim,). Every step draws b fresh samples."""

    x_star: FloatArray


class OwnDatasets(NamedTuple):
    """The finite-sum mode's input when each chain draws its own dataset of ``size`` points.

    Points a ~ N(0, sigma^2 I), labels a . x_star + noise_std N(0, 1); ``x_star`` (dim,).
    """

    x_star: FloatArray
    size: int


class Dataset(NamedTuple):
    """A finite-sum dataset: ``features`` (m, dim), ``labels`` (m,)."""

    features: FloatArray
    labels: FloatArray


class SgdOutputs(NamedTuple):
    """What the kernels write into, pre-filled by the caller with NaN (and -1).

    ``iterates`` (n_chains, dim); ``divergence_step`` (n_chains,); ``trajectory``
    (n_chains, n_records, dim), the iterates at steps burn_in + r record_every,
    r = 1, ..., n_records, or None; ``average`` (n_chains, dim) or None. (A NamedTuple
    nested in this one would not do: numba's ``prange`` cannot pass one holding arrays.)
    """

    iterates: FloatArray
    divergence_step: IntArray
    trajectory: FloatArray | None
    average: FloatArray | None


class _Scratch(NamedTuple):
    """One chunk's working arrays: x, a, grad, buf, acc of length dim; perm of length m."""

    x: FloatArray
    a: FloatArray
    grad: FloatArray
    buf: FloatArray
    acc: FloatArray
    perm: IntArray


@kernel()
def _scratch(dim: int, m: int) -> _Scratch:
    return _Scratch(
        np.empty(dim), np.empty(dim), np.empty(dim), np.empty(dim), np.empty(dim),
        np.empty(m, dtype=np.int64),
    )  # fmt: skip


@kernel()
def _chunk(c: np.int64, chunk_size: int, n_chains: int) -> tuple[np.int64, np.int64]:
    """The chains [first, last) of chunk c (a signed index: prange's own is unsigned)."""
    first = c * chunk_size
    last = first + chunk_size
    return first, last if last < n_chains else np.int64(n_chains)


@kernel()
def _draw_dataset(gen: Any, p: SgdScalars, x_star: FloatArray, data: Dataset) -> None:
    """Fill one dataset: rows a_i ~ N(0, sigma^2 I), labels a_i . x* + noise_std N(0, 1)."""
    m, dim = data.features.shape
    for q in range(m):
        ax_star = 0.0
        for j in range(dim):
            aj = p.sigma * gen.standard_normal()
            data.features[q, j] = aj
            ax_star += aj * x_star[j]
        data.labels[q] = ax_star + p.noise_std * gen.standard_normal()


@kernel()
def _shuffle(gen: Any, perm: IntArray) -> None:
    """Fisher-Yates shuffle of ``perm`` in place."""
    for i in range(perm.shape[0] - 1, 0, -1):
        k = gen.integers(0, i + 1)
        tmp = perm[i]
        perm[i] = perm[k]
        perm[k] = tmp


def _add_gradient(data: Any, gen: Any, p: SgdScalars, pos: int, s: _Scratch) -> int:
    """s.grad <- sum over the step's batch of a (a . x - y); returns the new ``pos``.

    Compiled code only; ``data``'s type picks the code (:func:`._numba.dispatch_on_type`):
    :class:`Online` draws the batch, :class:`Dataset` takes the next batch of the epoch.
    ``pos`` counts the points of the epoch already used (the online mode ignores it).
    """
    raise NotImplementedError("_add_gradient is called from numba kernels only")


def _online_gradient(data: Online, gen: Any, p: SgdScalars, pos: int, s: _Scratch) -> int:
    x, a, grad = s.x, s.a, s.grad
    dim = x.shape[0]
    for j in range(dim):
        grad[j] = 0.0
    for _ in range(p.batch_size):
        ax = 0.0
        ax_star = 0.0
        for j in range(dim):
            aj = p.sigma * gen.standard_normal()
            a[j] = aj
            ax += aj * x[j]
            ax_star += aj * data.x_star[j]
        resid = ax - (ax_star + p.noise_std * gen.standard_normal())
        for j in range(dim):
            grad[j] += a[j] * resid
    return pos


def _dataset_gradient(data: Dataset, gen: Any, p: SgdScalars, pos: int, s: _Scratch) -> int:
    x, grad, perm = s.x, s.grad, s.perm
    m, dim = data.features.shape
    b = p.batch_size
    for j in range(dim):
        grad[j] = 0.0
    if pos + b > m:  # the epoch is over; the last m mod b points wait
        if b < m:
            _shuffle(gen, perm)
        pos = 0
    for q in range(pos, pos + b):
        row = perm[q]
        ax = 0.0
        for j in range(dim):
            ax += data.features[row, j] * x[j]
        resid = ax - data.labels[row]
        for j in range(dim):
            grad[j] += data.features[row, j] * resid
    return pos + b


dispatch_on_type(_add_gradient, {Online: _online_gradient, Dataset: _dataset_gradient})


def _chunk_data(source: Any, dim: int) -> tuple[Online | Dataset, _Scratch]:
    """The data a chunk's chains run on (``_add_gradient``'s first argument) and the
    chunk's scratch arrays; ``source``'s type picks the code. Compiled code only."""
    raise NotImplementedError("_chunk_data is called from numba kernels only")


def _online_data(source: Online, dim: int) -> tuple[Online, _Scratch]:
    return source, _scratch(dim, 0)


def _shared_data(source: Dataset, dim: int) -> tuple[Dataset, _Scratch]:
    return source, _scratch(dim, source.labels.shape[0])


def _own_data(source: OwnDatasets, dim: int) -> tuple[Dataset, _Scratch]:
    m = source.size
    return Dataset(np.empty((m, dim)), np.empty(m)), _scratch(dim, m)


dispatch_on_type(_chunk_data, {Online: _online_data, Dataset: _shared_data, OwnDatasets: _own_data})


def _start_chain(source: Any, gen: Any, p: SgdScalars, data: Any) -> None:
    """Before each chain: with :class:`OwnDatasets`, draw the chain's dataset into
    ``data``; nothing otherwise. Compiled code only."""
    raise NotImplementedError("_start_chain is called from numba kernels only")


def _nothing(source: Any, gen: Any, p: SgdScalars, data: Any) -> None:
    return None


def _draw_own(source: OwnDatasets, gen: Any, p: SgdScalars, data: Dataset) -> None:
    _draw_dataset(gen, p, source.x_star, data)


dispatch_on_type(_start_chain, {Online: _nothing, Dataset: _nothing, OwnDatasets: _draw_own})


@kernel()
def _chain(
    gen: Any,
    i: int,
    p: SgdScalars,
    data: Online | Dataset,
    noise: Any,
    s: _Scratch,
    out: SgdOutputs,
    trajectory: FloatArray | None,
    average: FloatArray | None,
) -> None:
    """Run chain i from x_0 = 0 and write its outputs.

    ``trajectory`` and ``average`` are ``out``'s, passed again as arguments: numba drops
    the code under ``if ... is not None`` for a None argument, not for a None field.
    """
    x, acc, perm = s.x, s.acc, s.perm
    dim = x.shape[0]
    for j in range(dim):
        x[j] = 0.0
        acc[j] = 0.0
    for q in range(perm.shape[0]):
        perm[q] = q
    pos = perm.shape[0]  # a finite-sum epoch is over: shuffle before the first step
    for k in range(1, p.n_steps + 1):
        pos = _add_gradient(data, gen, p, pos, s)
        for j in range(dim):
            x[j] -= p.step * s.grad[j]
        add_stable_noise(noise, gen, x, s.buf)
        for j in range(dim):
            if not abs(x[j]) <= p.bound:  # also catches NaN
                out.divergence_step[i] = k
                return
        if k > p.burn_in:
            if average is not None:
                for j in range(dim):
                    acc[j] += x[j]
            if trajectory is not None:
                every = p.record_every
                assert every is not None  # the wrapper sets both or neither
                if (k - p.burn_in) % every == 0:
                    for j in range(dim):
                        trajectory[i, (k - p.burn_in) // every - 1, j] = x[j]
    for j in range(dim):
        out.iterates[i, j] = x[j]
    if average is not None:
        for j in range(dim):
            average[i, j] = acc[j] / (p.n_steps - p.burn_in)


@kernel()
def _online_chain_1d(
    gen: Any,
    i: int,
    p: SgdScalars,
    x_star: float,
    noise: Any,
    out: SgdOutputs,
    trajectory: FloatArray | None,
    average: FloatArray | None,
) -> None:
    """:func:`_chain` in the online mode at dim 1, the iterate held in a scalar.

    The same arithmetic, in the same order, and the same draws.
    """
    x = 0.0
    acc = 0.0
    for k in range(1, p.n_steps + 1):
        grad = 0.0
        for _ in range(p.batch_size):
            a = p.sigma * gen.standard_normal()
            resid = a * x - (a * x_star + p.noise_std * gen.standard_normal())
            grad += a * resid
        x -= p.step * grad
        x = add_stable_noise_scalar(noise, gen, x)
        if not abs(x) <= p.bound:  # also catches NaN
            out.divergence_step[i] = k
            return
        if k > p.burn_in:
            if average is not None:
                acc += x
            if trajectory is not None:
                every = p.record_every
                assert every is not None  # the wrapper sets both or neither
                if (k - p.burn_in) % every == 0:
                    trajectory[i, (k - p.burn_in) // every - 1, 0] = x
    out.iterates[i, 0] = x
    if average is not None:
        average[i, 0] = acc / (p.n_steps - p.burn_in)


@kernel(parallel=True)
def online_1d_kernel(gens: Any, p: SgdScalars, source: Online, noise: Any, out: SgdOutputs) -> None:
    """Every chain in the online mode at dim 1 (:func:`_online_chain_1d`)."""
    n_chains = out.iterates.shape[0]
    x_star = source.x_star[0]
    for c in prange(len(gens)):
        gen = gens[np.int64(c)]
        first, last = _chunk(np.int64(c), p.chunk_size, n_chains)
        for i in range(first, last):
            _online_chain_1d(gen, i, p, x_star, noise, out, out.trajectory, out.average)


@kernel(parallel=True)
def sgd_kernel(
    gens: Any, p: SgdScalars, source: Online | OwnDatasets | Dataset, noise: Any, out: SgdOutputs
) -> None:
    """Every chain, in the mode ``source``'s type names (:func:`_chain`)."""
    n_chains, dim = out.iterates.shape
    for c in prange(len(gens)):
        gen = gens[np.int64(c)]
        data, s = _chunk_data(source, dim)
        first, last = _chunk(np.int64(c), p.chunk_size, n_chains)
        for i in range(first, last):
            _start_chain(source, gen, p, data)
            _chain(gen, i, p, data, noise, s, out, out.trajectory, out.average)
