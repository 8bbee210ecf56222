"""The compiled kernels behind :func:`heavytail.simulate.mean_field_sgd`.

One replicate is one network, trained from its own initialisation by its own random
streams: ``unit_gen`` (initialisation, then each step's injected noise) and
``batch_gen`` (online points, or the epoch shuffles). Replicates never share a stream
that another replicate advances, so the numbers of a replicate do not depend on how
replicates are grouped or scheduled; the two drivers (:func:`run_serial`, one replicate
after another, and :func:`run_parallel`, replicates spread over numba threads) give
bit-identical results, and so does any thread count.

A step, for one replicate with first layer W (n, dim), second layer a (n,) and a batch
X_B (b, dim), y_B (b,):

- Z = X_B W^T (BLAS dgemm), then per batch row p: phi_p = phi(Z_p), phi'_p,
  f_p = (1/n) sum_i a_i phi_pi (fixed-order sum), g_p = l'(f_p, y_p) / b;
- D_pi = g_p a_i phi'_pi and grad_a_i = sum_p g_p phi_pi;
- G = D^T X_B (BLAS dgemm), which is n times the batch gradient in W;
- W <- W - eta G (+ the injected noise), a <- a - eta grad_a when it is trained.

Both products go through BLAS, one block of units at a time (blocks small enough that
OpenBLAS keeps each product on one thread; parallelism is numba's). At the benchmark's
shapes (b x dim x n = 32 x 32 x 4096 and 16 x 16 x 256) dgemm ran 1.2-2x faster than
the best numba loops tried at the wide shape, and within 20 % of them at the narrow one
(rows of units, 4-way unrolled, blocked by 128 to n units; docs/performance.md).
OpenBLAS computes each entry of a product with the same sequence of operations
whatever its own thread count (it splits the output, not the sums).

The mode functions (activation, loss, label, noise, batches: :mod:`._mean_field_modes`)
arrive as first-class functions in a :class:`Modes` tuple, so each kernel here has one
signature, compiled once (:func:`._mean_field_call.call`).

A replicate diverges at the first step after which an entry of W or a is non-finite or
exceeds ``bound`` in absolute value, or a recorded loss is not finite: its step goes
into ``div_step``, its final W and a become NaN, and so do its records from that step on.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from numba import prange

from heavytail._lib._types import FloatArray

from ._mean_field_math import fixed_dot
from ._mean_field_modes import (
    DataArrays,
    Work,
    teacher_value,
)
from ._numba import kernel

__all__ = [
    "STEPS",
    "EvalSets",
    "Modes",
    "Outputs",
    "Params",
    "Plan",
    "dataset_labels",
    "network_outputs",
    "run_parallel",
    "run_serial",
]

IntArray = npt.NDArray[np.int64]
Index = int | np.int64  # prange indices are converted to signed np.int64


class Modes(NamedTuple):
    """The mode functions, passed to the kernels as first-class functions."""

    act: Any  # RowFn: the student's phi
    loss: Any  # LossFn
    fill: Any  # FillFn: one step's noise
    update: Any  # UpdateFn: W <- W - eta G (+ noise)
    batch: Any  # BatchFn
    teacher_act: Any  # RowFn: the teacher's phi
    label: Any  # LabelFn


class Params(NamedTuple):
    """Scalars of a run."""

    n_steps: int
    eta: float
    batch_size: int
    train_second_layer: bool
    init_std: float  # w_i ~ N(0, init_std^2 / dim I_dim)
    random_second_layer: bool  # a_i ~ N(0, 1) at initialisation, else a_i = 1
    noise_alpha: float
    noise_scale: float  # sigma * eta^(1/alpha)
    bound: float
    unit_block: int  # units per block (see Work)
    eval_rows: int  # rows per block when a loss is evaluated on a data set


class Plan(NamedTuple):
    """What to record at each step k = 0, ..., n_steps (index k): a slot or -1."""

    weight_slot: IntArray
    loss_slot: IntArray


class Outputs(NamedTuple):
    """Preallocated outputs. ``w`` and ``a`` are the working state of each replicate."""

    w: FloatArray  # (R, n, dim)
    a: FloatArray  # (R, n)
    w_records: FloatArray  # (R, K, n, dim), NaN-filled
    a_records: FloatArray  # (R, K, n)
    train_loss: FloatArray  # (R, L) or (R, 0)
    test_loss: FloatArray  # (R, L) or (R, 0)
    probe: FloatArray  # (R, L, P) network outputs at the first P test points
    div_step: IntArray  # (R,), -1 filled


class EvalSets(NamedTuple):
    """The shared training set (empty online) and test set (possibly empty)."""

    x_train: FloatArray
    y_train: FloatArray
    x_test: FloatArray
    y_test: FloatArray


@kernel()
def _make_work(n: int, dim: int, b: int, m: int, k: int, params: Params) -> Work:
    n_blocks = (n + params.unit_block - 1) // params.unit_block
    e = params.eval_rows
    return Work(
        np.empty(b * n),
        np.empty(b * n),
        np.empty(b * n),
        np.empty((n_blocks, b)),
        np.empty(b),
        np.zeros(n_blocks, dtype=np.int64),
        np.empty((n, dim)),
        np.empty(n),
        np.zeros(n * dim),
        np.empty((b, dim)),
        np.empty(b),
        np.arange(m),
        np.empty((3, k)),
        np.empty(e * n),
        np.empty(e * n),
        np.empty(e * n),
        np.empty(e),
    )


# ---------------------------------------------------------------------------- network


@kernel()
def _block_sums(
    act: Any,
    x: FloatArray,
    w: FloatArray,
    a: FloatArray,
    z: FloatArray,
    phi: FloatArray,
    dphi: FloatArray,
    sums: FloatArray,
) -> None:
    """The forward pass of one block of units (rows of ``w``, entries of ``a``) at the
    rows x_p of ``x``: z = x w^T (BLAS), phi = phi(z), dphi = phi'(z), and
    sums[p] = sum_i a_i phi_pi in fixed order. The network output f(x_p) is the blocks'
    sums added in block order, over n; training and evaluation both go through here."""
    np.dot(x, w.T, z)
    for p in range(x.shape[0]):
        act(z[p], phi[p], dphi[p])
        sums[p] = fixed_dot(a, phi[p])


@kernel()
def _backward(d: FloatArray, x: FloatArray, g: FloatArray) -> None:
    """g = d^T x (BLAS)."""
    np.dot(d.T, x, g)


@kernel()
def _outputs(
    act: Any,
    w: FloatArray,
    a: FloatArray,
    x: FloatArray,
    block: int,
    ez: FloatArray,
    ephi: FloatArray,
    edphi: FloatArray,
    f: FloatArray,
) -> None:
    """f[p] = (1/n) sum_i a_i phi(w_i . x_p) for the rows of x, units block by block.

    The sum is the blocks' fixed-order sums (:func:`_block_sums`) added in block order,
    as in a step.
    """
    rows = x.shape[0]
    n = w.shape[0]
    sums = np.empty(rows)
    for p in range(rows):
        f[p] = 0.0
    for i0 in range(0, n, block):
        i1 = min(i0 + block, n)
        size = rows * (i1 - i0)
        z = ez[:size].reshape((rows, i1 - i0))
        phi = ephi[:size].reshape((rows, i1 - i0))
        dphi = edphi[:size].reshape((rows, i1 - i0))
        _block_sums(act, x, w[i0:i1], a[i0:i1], z, phi, dphi, sums)
        for p in range(rows):
            f[p] += sums[p]
    for p in range(rows):
        f[p] /= n


@kernel()
def _evaluate(
    modes: Modes,
    w: FloatArray,
    a: FloatArray,
    x: FloatArray,
    y: FloatArray,
    params: Params,
    work: Work,
    outputs: FloatArray,
) -> float:
    """Mean loss of the network on (x, y), summed in row order; the first
    ``len(outputs)`` network outputs go to ``outputs``."""
    m = x.shape[0]
    rows = params.eval_rows
    total = 0.0
    for start in range(0, m, rows):
        stop = min(start + rows, m)
        f = work.ef[: stop - start]
        _outputs(
            modes.act, w, a, x[start:stop], params.unit_block, work.ez, work.ephi, work.edphi, f
        )
        for p in range(stop - start):
            if start + p < outputs.shape[0]:
                outputs[start + p] = f[p]
            total += modes.loss(f[p], y[start + p])[0]
    return total / m


@kernel()
def _block_forward(
    modes: Modes, w: FloatArray, a: FloatArray, work: Work, j: Index, nb: int
) -> None:
    """Units [j nb, (j + 1) nb) at the batch: Z = X_B W^T, phi, phi', and work.fpart[j, p]."""
    b = work.xb.shape[0]
    i0 = j * nb
    i1 = min(i0 + nb, w.shape[0])
    z = work.z[b * i0 : b * i1].reshape((b, i1 - i0))
    phi = work.phi[b * i0 : b * i1].reshape((b, i1 - i0))
    dphi = work.dphi[b * i0 : b * i1].reshape((b, i1 - i0))
    _block_sums(modes.act, work.xb, w[i0:i1], a[i0:i1], z, phi, dphi, work.fpart[j])


@kernel()
def _slopes(modes: Modes, work: Work, n: int) -> None:
    """g_p = l'(f_p, y_p) / b, with f_p the blocks' sums added in block order, over n."""
    b = work.g.shape[0]
    for p in range(b):
        f = 0.0
        for j in range(work.fpart.shape[0]):
            f += work.fpart[j, p]
        work.g[p] = modes.loss(f / n, work.yb[p])[1] / b


@kernel()
def _block_update(
    modes: Modes, w: FloatArray, a: FloatArray, params: Params, work: Work, j: Index
) -> None:
    """Units of block j: D = g a phi', grad_a, G = D^T X_B, then the update and noise;
    the count of entries out of bound goes to work.bad[j]."""
    b = work.xb.shape[0]
    nb = params.unit_block
    n, dim = w.shape
    i0 = j * nb
    i1 = min(i0 + nb, n)
    phi = work.phi[b * i0 : b * i1].reshape((b, i1 - i0))
    dmat = work.dphi[b * i0 : b * i1].reshape((b, i1 - i0))
    grad_a = work.grad_a[i0:i1]
    ab = a[i0:i1]
    for i in range(i1 - i0):
        grad_a[i] = 0.0
    for p in range(b):
        g = work.g[p]
        drow = dmat[p]
        prow = phi[p]
        for i in range(i1 - i0):
            drow[i] = (g * ab[i]) * drow[i]
            grad_a[i] += g * prow[i]
    _backward(dmat, work.xb, work.grad[i0:i1])
    bad = modes.update(
        w[i0:i1], work.grad[i0:i1], params.eta, work.noise[i0 * dim : i1 * dim],
        params.noise_scale, params.bound,
    )  # fmt: skip
    if params.train_second_layer:
        for i in range(i1 - i0):
            v = ab[i] - params.eta * grad_a[i]
            ab[i] = v
            bad += 0 if abs(v) <= params.bound else 1
    work.bad[j] = bad


@kernel()
def _step_serial(
    modes: Modes, gen: Any, w: FloatArray, a: FloatArray, params: Params, work: Work
) -> bool:
    """One SGD step on the batch in work.xb, work.yb, block after block; False if the
    replicate diverged."""
    n = w.shape[0]
    n_blocks = work.fpart.shape[0]
    for j in range(n_blocks):
        _block_forward(modes, w, a, work, j, params.unit_block)
    _slopes(modes, work, n)
    modes.fill(gen, params.noise_alpha, work.noise, n)
    for j in range(n_blocks):
        _block_update(modes, w, a, params, work, j)
    return work.bad.sum() == 0


@kernel(parallel=True)
def _step_blocks_parallel(
    modes: Modes, gen: Any, w: FloatArray, a: FloatArray, params: Params, work: Work
) -> bool:
    """The same step with the blocks of units spread over numba threads: the same
    operations on the same blocks, so the same numbers as :func:`_step_serial`."""
    n = w.shape[0]
    n_blocks = work.fpart.shape[0]
    for j in prange(n_blocks):
        _block_forward(modes, w, a, work, np.int64(j), params.unit_block)
    _slopes(modes, work, n)
    modes.fill(gen, params.noise_alpha, work.noise, n)
    for j in prange(n_blocks):
        _block_update(modes, w, a, params, work, np.int64(j))
    return work.bad.sum() == 0


@kernel()
def _init_replicate(gen: Any, w: FloatArray, a: FloatArray, params: Params) -> None:
    """w_ij = init_std / sqrt(dim) N(0, 1), unit by unit; then a_i ~ N(0, 1) or 1."""
    n, dim = w.shape
    c = params.init_std / math.sqrt(dim)
    for i in range(n):
        for j in range(dim):
            w[i, j] = c * gen.standard_normal()
    for i in range(n):
        a[i] = gen.standard_normal() if params.random_second_layer else 1.0


# Copies and fills are written as loops: numba's array-slice assignment compiles to far
# more code (its broadcasting machinery), seconds of compile time per use.


@kernel()
def _store_weights(out: Outputs, r: Index, slot: int, w: FloatArray, a: FloatArray) -> None:
    n, dim = w.shape
    for i in range(n):
        for j in range(dim):
            out.w_records[r, slot, i, j] = w[i, j]
        out.a_records[r, slot, i] = a[i]


@kernel()
def _first_slot_from(slots: IntArray, k: Index) -> int:
    """The index of the first record at a step >= k (records before k, counted)."""
    count = 0
    for j in range(k):
        if slots[j] >= 0:
            count += 1
    return count


@kernel()
def _mark_divergence(out: Outputs, plan: Plan, r: Index, k: Index) -> None:
    """Replicate r diverged at step k: NaN weights, and NaN records from step k on."""
    out.div_step[r] = k
    _, n, dim = out.w.shape
    for i in range(n):
        for j in range(dim):
            out.w[r, i, j] = np.nan
        out.a[r, i] = np.nan
    for s in range(_first_slot_from(plan.loss_slot, k), out.probe.shape[1]):
        if out.train_loss.shape[1] > 0:
            out.train_loss[r, s] = np.nan
        if out.test_loss.shape[1] > 0:
            out.test_loss[r, s] = np.nan
        for j in range(out.probe.shape[2]):
            out.probe[r, s, j] = np.nan
    for s in range(_first_slot_from(plan.weight_slot, k), out.w_records.shape[1]):
        for i in range(n):
            for j in range(dim):
                out.w_records[r, s, i, j] = np.nan
            out.a_records[r, s, i] = np.nan


@kernel()
def _record(
    modes: Modes,
    r: Index,
    k: Index,
    w: FloatArray,
    a: FloatArray,
    ev: EvalSets,
    params: Params,
    plan: Plan,
    out: Outputs,
    work: Work,
) -> bool:
    """Record what the plan asks for at step k; False if a loss is not finite."""
    slot = plan.weight_slot[k]
    if slot >= 0:
        _store_weights(out, r, slot, w, a)
    slot = plan.loss_slot[k]
    if slot < 0:
        return True
    ok = True
    if ev.x_train.shape[0] > 0:
        v = _evaluate(modes, w, a, ev.x_train, ev.y_train, params, work, out.probe[r, slot, :0])
        out.train_loss[r, slot] = v
        ok = math.isfinite(v)
    if ev.x_test.shape[0] > 0:
        v = _evaluate(modes, w, a, ev.x_test, ev.y_test, params, work, out.probe[r, slot, :])
        out.test_loss[r, slot] = v
        ok = ok and math.isfinite(v)
    return ok


@kernel()
def _run_replicate(
    r: Index,
    unit_gen: Any,
    batch_gen: Any,
    modes: Modes,
    step: Any,
    data: DataArrays,
    ev: EvalSets,
    params: Params,
    plan: Plan,
    out: Outputs,
    work: Work,
) -> None:
    """Initialise replicate r, then run its steps (``step``) and records."""
    w = out.w[r]
    a = out.a[r]
    _init_replicate(unit_gen, w, a, params)
    for p in range(work.perm.shape[0]):
        work.perm[p] = p
    pos = work.perm.shape[0]  # forces a shuffle before the first step
    k = np.int64(0)  # not a literal 0: one compiled _record, not two
    ok = _record(modes, r, k, w, a, ev, params, plan, out, work)
    while ok and k < params.n_steps:
        k += 1
        pos = modes.batch(batch_gen, data, work, pos, modes.teacher_act, modes.label)
        ok = step(modes, unit_gen, w, a, params, work)
        if ok:
            ok = _record(modes, r, k, w, a, ev, params, plan, out, work)
    if not ok:
        _mark_divergence(out, plan, r, k)


@kernel()
def run_serial(
    unit_gens: Any,
    batch_gens: Any,
    modes: Modes,
    step: Any,
    data: DataArrays,
    ev: EvalSets,
    params: Params,
    plan: Plan,
    out: Outputs,
) -> None:
    """Every replicate, one after another; ``step`` may spread its blocks over threads."""
    n_rep, n, dim = out.w.shape
    work = _make_work(n, dim, params.batch_size, data.x.shape[0], data.teacher_w.shape[0], params)
    for r in range(n_rep):
        _run_replicate(
            r, unit_gens[r], batch_gens[r], modes, step, data, ev, params, plan, out, work
        )


@kernel(parallel=True)
def run_parallel(
    unit_gens: Any,
    batch_gens: Any,
    modes: Modes,
    step: Any,
    data: DataArrays,
    ev: EvalSets,
    params: Params,
    plan: Plan,
    out: Outputs,
) -> None:
    """Replicates spread over numba threads, each with its own scratch space; ``step``
    must not be parallel itself."""
    n_rep, n, dim = out.w.shape
    for r in prange(n_rep):
        rr = np.int64(r)  # a signed index: prange's own is unsigned
        work = _make_work(
            n, dim, params.batch_size, data.x.shape[0], data.teacher_w.shape[0], params
        )
        _run_replicate(
            rr, unit_gens[rr], batch_gens[rr], modes, step, data, ev, params, plan, out, work
        )


# ------------------------------------------------------------------ data and outputs


@kernel()
def dataset_labels(
    teacher_act: Any,
    label: Any,
    tw: FloatArray,
    tc: FloatArray,
    label_noise: float,
    x: FloatArray,
    xi: FloatArray,
    out: FloatArray,
) -> None:
    """Labels of the rows of ``x``: label(f*(x_p) + label_noise xi_p)."""
    scratch = np.empty((3, tw.shape[0]))
    for p in range(x.shape[0]):
        value = teacher_value(teacher_act, tw, tc, x[p], scratch)
        out[p] = label(value + label_noise * xi[p])


@kernel()
def network_outputs(
    act: Any, block: int, w: FloatArray, a: FloatArray, x: FloatArray, out: FloatArray
) -> None:
    """out[r, p] = (1/n) sum_i a[r, i] phi(w[r, i] . x[p]) for every replicate r, with the
    units summed in blocks of ``block`` as in training."""
    n = w.shape[1]
    m = x.shape[0]
    rows = min(m, 256)
    ez = np.empty(rows * n)
    ephi = np.empty(rows * n)
    edphi = np.empty(rows * n)
    for r in range(w.shape[0]):
        for start in range(0, m, rows):
            stop = min(start + rows, m)
            _outputs(act, w[r], a[r], x[start:stop], block, ez, ephi, edphi, out[r, start:stop])


STEPS = {"serial": _step_serial, "blocks_parallel": _step_blocks_parallel}
"""The step functions: blocks of units one after another, or spread over threads."""
