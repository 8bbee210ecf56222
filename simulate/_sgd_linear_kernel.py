"""The compiled kernel behind :func:`heavytail.simulate.sgd_linear_regression`.

Deterministic given its Generators: chains are split into fixed chunks of ``chunk_size``
(the last one may be shorter); chunk c uses ``gens[c]`` alone and steps its chains one
after the other, each chain through all its steps. ``prange`` hands whole chunks to
threads, so the numbers never depend on the thread count.

Order of the draws, per chain of a chunk:

- finite-sum mode with one dataset per chain: the dataset first, point by point (the
  ``dim`` feature normals, then the label-noise normal);
- then per step: online, for each of the ``b`` samples, its ``dim`` feature normals then
  its label-noise normal; finite-sum, at the start of each epoch, the Fisher-Yates
  shuffle's ``m - 1`` integers (no shuffle when ``b == m``);
- then the injected noise of the step, if any (see :mod:`._stable_kernel`).

A chain is stopped at the first step where an entry of its iterate is non-finite or
exceeds ``bound`` in absolute value: its step number goes into ``div_step`` and its
outputs keep the NaN the caller filled them with.

Performance note: a call that passes a Generator or an array costs reference-count
updates, which dominate a step as cheap as this one. So the per-step work is written
inline in one function per chain (:func:`_chain_online_1d`, the scalar path of the online
1-D case, and :func:`_chain_general`), and helpers are called per chain, per epoch, or
only when noise is injected.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import prange

from ._numba import kernel
from ._stable_kernel import elliptic_stable_into, positive_stable, symmetric_stable

__all__ = ["INJECT_ELLIPTIC", "INJECT_IID", "INJECT_NONE", "sgd_linear_kernel"]

INJECT_NONE = 0
INJECT_IID = 1
INJECT_ELLIPTIC = 2

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@kernel()
def _draw_dataset(
    gen: Any,
    sigma: float,
    noise_std: float,
    x_star: FloatArray,
    features: FloatArray,
    labels: FloatArray,
) -> None:
    """Fill one dataset: rows a_i ~ N(0, sigma^2 I), labels a_i . x* + noise_std N(0, 1)."""
    m, dim = features.shape
    for p in range(m):
        ax_star = 0.0
        for j in range(dim):
            aj = sigma * gen.standard_normal()
            features[p, j] = aj
            ax_star += aj * x_star[j]
        labels[p] = ax_star + noise_std * gen.standard_normal()


@kernel()
def _shuffle(gen: Any, perm: IntArray) -> None:
    """Fisher-Yates shuffle of ``perm`` in place."""
    for i in range(perm.shape[0] - 1, 0, -1):
        k = gen.integers(0, i + 1)
        tmp = perm[i]
        perm[i] = perm[k]
        perm[k] = tmp


@kernel()
def _inject(
    gen: Any, kind: int, alpha: float, scale: float, x: FloatArray, buf: FloatArray
) -> None:
    """x <- x + scale * L, L standard symmetric alpha-stable: i.i.d. entries or elliptic."""
    if kind == INJECT_IID:
        for j in range(x.shape[0]):
            x[j] += scale * symmetric_stable(gen, alpha)
    elif kind == INJECT_ELLIPTIC:
        elliptic_stable_into(gen, alpha, buf)
        for j in range(x.shape[0]):
            x[j] += scale * buf[j]


@kernel()
def _chain_online_1d(
    gen: Any,
    i: int,
    n_steps: int,
    step: float,
    b: int,
    sigma: float,
    noise_std: float,
    x_star: float,
    inject_kind: int,
    inject_alpha: float,
    inject_scale: float,
    burn_in: int,
    traj_every: int,
    average: bool,
    bound: float,
    x_out: FloatArray,
    div_step: IntArray,
    traj: FloatArray,
    avg: FloatArray,
) -> None:
    """Chain ``i`` in the online mode at dim = 1, the iterate held in a scalar.

    The same arithmetic, in the same order, as :func:`_chain_general` at dim = 1.
    """
    x = 0.0
    acc = 0.0
    for k in range(1, n_steps + 1):
        grad = 0.0
        for _ in range(b):
            a = sigma * gen.standard_normal()
            resid = a * x - (a * x_star + noise_std * gen.standard_normal())
            grad += a * resid
        x -= step * grad
        if inject_kind == INJECT_IID:
            x += inject_scale * symmetric_stable(gen, inject_alpha)
        elif inject_kind == INJECT_ELLIPTIC:  # the order of elliptic_stable_into
            s = math.sqrt(2.0 * positive_stable(gen, 0.5 * inject_alpha))
            x += inject_scale * (s * gen.standard_normal())
        if not abs(x) <= bound:  # also catches NaN
            div_step[i] = k
            return
        if k > burn_in:
            acc += x
            if traj_every > 0 and (k - burn_in) % traj_every == 0:
                traj[i, (k - burn_in) // traj_every - 1, 0] = x
    x_out[i, 0] = x
    if average:
        avg[i, 0] = acc / (n_steps - burn_in)


@kernel()
def _chain_general(
    gen: Any,
    i: int,
    n_steps: int,
    step: float,
    b: int,
    sigma: float,
    noise_std: float,
    x_star: FloatArray,
    m: int,
    features: FloatArray,
    labels: FloatArray,
    perm: IntArray,
    inject_kind: int,
    inject_alpha: float,
    inject_scale: float,
    burn_in: int,
    traj_every: int,
    average: bool,
    bound: float,
    x: FloatArray,
    a: FloatArray,
    grad: FloatArray,
    buf: FloatArray,
    acc: FloatArray,
    x_out: FloatArray,
    div_step: IntArray,
    traj: FloatArray,
    avg: FloatArray,
) -> None:
    """Chain ``i``, any dim: online when ``m == 0``, else on the dataset given.

    ``x``, ``a``, ``grad``, ``buf``, ``acc`` (length dim) and ``perm`` (length m) are
    scratch space owned by the chunk.
    """
    dim = x.shape[0]
    for p in range(m):
        perm[p] = p
    pos = m  # forces a shuffle before the first step
    for j in range(dim):
        x[j] = 0.0
        acc[j] = 0.0
    for k in range(1, n_steps + 1):
        for j in range(dim):
            grad[j] = 0.0
        if m == 0:
            for _ in range(b):
                ax = 0.0
                ax_star = 0.0
                for j in range(dim):
                    aj = sigma * gen.standard_normal()
                    a[j] = aj
                    ax += aj * x[j]
                    ax_star += aj * x_star[j]
                resid = ax - (ax_star + noise_std * gen.standard_normal())
                for j in range(dim):
                    grad[j] += a[j] * resid
        else:
            if pos + b > m:  # the epoch is over; the last m mod b points wait
                if b < m:
                    _shuffle(gen, perm)
                pos = 0
            for q in range(pos, pos + b):
                p = perm[q]
                ax = 0.0
                for j in range(dim):
                    ax += features[p, j] * x[j]
                resid = ax - labels[p]
                for j in range(dim):
                    grad[j] += features[p, j] * resid
            pos += b
        for j in range(dim):
            x[j] -= step * grad[j]
        if inject_kind != INJECT_NONE:
            _inject(gen, inject_kind, inject_alpha, inject_scale, x, buf)
        for j in range(dim):
            if not abs(x[j]) <= bound:  # also catches NaN
                div_step[i] = k
                return
        if k > burn_in:
            for j in range(dim):
                acc[j] += x[j]
            if traj_every > 0 and (k - burn_in) % traj_every == 0:
                r = (k - burn_in) // traj_every - 1
                for j in range(dim):
                    traj[i, r, j] = x[j]
    for j in range(dim):
        x_out[i, j] = x[j]
    if average:
        for j in range(dim):
            avg[i, j] = acc[j] / (n_steps - burn_in)


@kernel(parallel=True)
def sgd_linear_kernel(
    gens: Any,
    chunk_size: int,
    n_steps: int,
    eta: float,
    b: int,
    sigma: float,
    noise_std: float,
    x_star: FloatArray,
    m: int,
    shared: bool,
    shared_features: FloatArray,
    shared_labels: FloatArray,
    inject_kind: int,
    inject_alpha: float,
    inject_scale: float,
    burn_in: int,
    traj_every: int,
    average: bool,
    bound: float,
    x_out: FloatArray,
    div_step: IntArray,
    traj: FloatArray,
    avg: FloatArray,
) -> None:
    """Run every chain; write final iterates, divergence steps and recordings.

    ``m == 0`` is the online mode; otherwise each chain runs on ``shared_features`` /
    ``shared_labels`` when ``shared`` is true, or on its own dataset of ``m`` points.
    ``x_out``, ``traj`` and ``avg`` must be prefilled with NaN and ``div_step`` with -1;
    ``traj`` is (n_chains, n_records, dim) and ``avg`` (n_chains, dim) when recorded,
    otherwise empty.
    """
    n_chains, dim = x_out.shape
    n_chunks = len(gens)
    step = eta / b
    for c in prange(n_chunks):
        gen = gens[np.int64(c)]  # a signed index: prange's own is unsigned
        first = np.int64(c) * chunk_size
        last = min(first + chunk_size, n_chains)
        if m == 0 and dim == 1:
            for i in range(first, last):
                _chain_online_1d(
                    gen, i, n_steps, step, b, sigma, noise_std, x_star[0],
                    inject_kind, inject_alpha, inject_scale, burn_in, traj_every, average,
                    bound, x_out, div_step, traj, avg,
                )  # fmt: skip
        else:
            x = np.empty(dim)
            a = np.empty(dim)
            grad = np.empty(dim)
            buf = np.empty(dim)
            acc = np.empty(dim)
            perm = np.empty(m, dtype=np.int64)
            if m > 0 and not shared:
                features = np.empty((m, dim))
                labels = np.empty(m)
            else:
                features = shared_features
                labels = shared_labels
            for i in range(first, last):
                if m > 0 and not shared:
                    _draw_dataset(gen, sigma, noise_std, x_star, features, labels)
                _chain_general(
                    gen, i, n_steps, step, b, sigma, noise_std, x_star, m, features, labels,
                    perm, inject_kind, inject_alpha, inject_scale, burn_in, traj_every,
                    average, bound, x, a, grad, buf, acc, x_out, div_step, traj, avg,
                )  # fmt: skip
