"""The modes of the mean-field simulator: compiled functions chosen in Python.

Each choice (activation, loss, injected-noise type, online or finite data and the input
law) is a small compiled function. The wrapper picks them from the tables below and
hands them to the kernel as numba first-class functions (``numba.types.FunctionType``):
the kernel calls them through a pointer, so it is compiled once, for one signature,
whatever the modes, and each mode function is compiled once on its own. Both stay in
numba's on-disk cache.

Measured alternatives: passing the functions as ordinary arguments, or closing over
them, makes numba compile the whole kernel again for each combination (their types
hold the objects' identity), and misses the disk cache in every new process; selecting
by the type of tag arguments (overloads) does cache, but each combination still links
and re-optimises every function above the tags, about 40 s per combination on the
development machine. An indirect call costs a few nanoseconds, and the kernel makes one
per row of n activations, per batch point, or per step.

Order of the random draws, which the tests replay:

- online inputs, per point: "gaussian" draws ``dim`` standard normals; "sphere" draws
  the same and rescales the row to norm sqrt(dim); then the point's label-noise normal;
- finite data: at the start of each epoch (not when b == m), the Fisher-Yates shuffle's
  m - 1 integers;
- noise, per step, after the gradient step (see :mod:`._stable_kernel`): kind "unit" draws
  n symmetric stable variables, unit by unit; "iid" draws n * dim, unit by unit and
  coordinate by coordinate within a unit; "elliptic" draws n elliptic vectors, each its
  positive stable scale then ``dim`` normals.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from numba import typeof, types

from heavytail._lib._types import FloatArray

from ._mean_field_math import (
    fixed_dot,
    identity_row,
    logistic_loss,
    real_label,
    relu_row,
    sigmoid_row,
    sign_label,
    squared_loss,
    tanh_row,
)
from ._numba import kernel
from ._stable_kernel import elliptic_stable_into, symmetric_stable

__all__ = [
    "ACTIVATIONS",
    "BATCHES",
    "LOSSES",
    "NOISES",
    "WORK_EXAMPLE",
    "BatchFn",
    "DataArrays",
    "FillFn",
    "GeneratorType",
    "LabelFn",
    "LossFn",
    "RowFn",
    "UpdateFn",
    "Work",
    "teacher_value",
]

IntArray = npt.NDArray[np.int64]


class DataArrays(NamedTuple):
    """Where batches come from: the training set (empty online) and the teacher."""

    x: FloatArray  # (m, dim)
    y: FloatArray  # (m,)
    teacher_w: FloatArray  # (k, dim)
    teacher_c: FloatArray  # (k,)
    label_noise: float


class Work(NamedTuple):
    """Scratch space of one replicate at a time.

    Units are processed in blocks of ``unit_block`` (the last may be shorter). The
    per-block matrices are stored block after block in flat rows, so that each block's
    (b, block) matrix is contiguous (a BLAS output).
    """

    z: FloatArray  # (b * n,): pre-activations, block by block
    phi: FloatArray  # (b * n,)
    dphi: FloatArray  # (b * n,): phi', then D = g a phi'
    fpart: FloatArray  # (n_blocks, b): per-block sums of a_i phi_pi
    g: FloatArray  # (b,): l'(f_p, y_p) / b
    bad: IntArray  # (n_blocks,): entries out of bound after the update, per block
    grad: FloatArray  # (n, dim)
    grad_a: FloatArray  # (n,)
    noise: FloatArray  # (n * dim,); kind "unit" keeps L_i at [i * dim]
    xb: FloatArray  # (b, dim)
    yb: FloatArray  # (b,)
    perm: IntArray  # (m,)
    teacher: FloatArray  # (3, k)
    ez: FloatArray  # (eval_rows * n,): evaluation blocks
    ephi: FloatArray
    edphi: FloatArray
    ef: FloatArray  # (eval_rows,)


# numba types of the first-class functions. typeof of a Generator, an array or a
# NamedTuple instance builds a type without compiling anything.
_F8 = types.float64
_I8 = types.int64
_ROW = types.float64[::1]
_MAT = types.float64[:, ::1]
GeneratorType = typeof(np.random.default_rng(0))
_DATA_TYPE = typeof(DataArrays(np.empty((0, 1)), np.empty(0), np.empty((1, 1)), np.empty(1), 0.0))
_F1, _F2, _I1 = np.empty(1), np.empty((1, 1)), np.empty(1, dtype=np.int64)
WORK_EXAMPLE = Work(
    _F1, _F1, _F1, _F2, _F1, _I1, _F2, _F1, _F1, _F2, _F1, _I1, _F2, _F1, _F1, _F1, _F1
)
_WORK_TYPE = typeof(WORK_EXAMPLE)
RowFn = types.FunctionType(types.void(_ROW, _ROW, _ROW))
LossFn = types.FunctionType(types.UniTuple(_F8, 2)(_F8, _F8))
LabelFn = types.FunctionType(_F8(_F8))
FillFn = types.FunctionType(types.void(GeneratorType, _F8, _ROW, _I8))
UpdateFn = types.FunctionType(_I8(_MAT, _MAT, _F8, _ROW, _F8, _F8))
BatchFn = types.FunctionType(_I8(GeneratorType, _DATA_TYPE, _WORK_TYPE, _I8, RowFn, LabelFn))

ACTIVATIONS: dict[str, Any] = {
    "tanh": tanh_row,
    "relu": relu_row,
    "sigmoid": sigmoid_row,
    "identity": identity_row,
}
"""activation name -> row function (z, phi, dphi)."""

LOSSES: dict[str, tuple[Any, Any]] = {
    "squared": (squared_loss, real_label),
    "logistic": (logistic_loss, sign_label),
}
"""loss name -> (loss function (f, y) -> (l, dl/df), label function)."""


# ----------------------------------------------------------------------------- noise


@kernel()
def _fill_none(gen: Any, alpha: float, buf: FloatArray, n: int) -> None:
    """No noise: draws nothing."""


@kernel()
def _fill_unit(gen: Any, alpha: float, buf: FloatArray, n: int) -> None:
    """Kind "unit": buf[i * dim] = L_i, one standard symmetric alpha-stable scalar per unit."""
    d = buf.shape[0] // n
    for i in range(n):
        buf[i * d] = symmetric_stable(gen, alpha)


@kernel()
def _fill_entry(gen: Any, alpha: float, buf: FloatArray, n: int) -> None:
    """Kind "iid": buf = n * dim i.i.d. standard symmetric alpha-stable entries."""
    for j in range(buf.shape[0]):
        buf[j] = symmetric_stable(gen, alpha)


@kernel()
def _fill_elliptic(gen: Any, alpha: float, buf: FloatArray, n: int) -> None:
    """Kind "elliptic": n elliptic alpha-stable vectors of length dim, one after the other."""
    d = buf.shape[0] // n
    for i in range(n):
        elliptic_stable_into(gen, alpha, buf[i * d : (i + 1) * d])


@kernel()
def _update_plain(
    w: FloatArray, g: FloatArray, eta: float, buf: FloatArray, scale: float, bound: float
) -> int:
    """w <- w - eta g; returns how many entries left [-bound, bound] (NaN counts)."""
    wf = w.reshape(w.size)
    gf = g.reshape(g.size)
    bad = 0
    for j in range(wf.shape[0]):
        x = wf[j] - eta * gf[j]
        wf[j] = x
        bad += 0 if abs(x) <= bound else 1
    return bad


@kernel()
def _update_unit(
    w: FloatArray, g: FloatArray, eta: float, buf: FloatArray, scale: float, bound: float
) -> int:
    """w[i, :] <- w[i, :] - eta g[i, :] + scale buf[i * dim] (kind "unit")."""
    n, dim = w.shape
    bad = 0
    for i in range(n):
        s = scale * buf[i * dim]
        wi = w[i]
        gi = g[i]
        for j in range(dim):
            x = wi[j] - eta * gi[j] + s
            wi[j] = x
            bad += 0 if abs(x) <= bound else 1
    return bad


@kernel()
def _update_entry(
    w: FloatArray, g: FloatArray, eta: float, buf: FloatArray, scale: float, bound: float
) -> int:
    """w <- w - eta g + scale buf, entrywise (types 2 and 3)."""
    wf = w.reshape(w.size)
    gf = g.reshape(g.size)
    bad = 0
    for j in range(wf.shape[0]):
        x = wf[j] - eta * gf[j] + scale * buf[j]
        wf[j] = x
        bad += 0 if abs(x) <= bound else 1
    return bad


NOISES: dict[str | None, tuple[Any, Any]] = {
    None: (_fill_none, _update_plain),
    "unit": (_fill_unit, _update_unit),
    "iid": (_fill_entry, _update_entry),
    "elliptic": (_fill_elliptic, _update_entry),
}
"""The noise's kind (None: no noise) -> (fill function, update function)."""


# ------------------------------------------------------------------------------ data


@kernel()
def teacher_value(
    act: Any, tw: FloatArray, tc: FloatArray, x: FloatArray, scratch: FloatArray
) -> float:
    """f*(x) = k^(-1/2) sum_j c_j phi*(v_j . x); ``scratch`` is (3, k)."""
    k = tw.shape[0]
    h = scratch[0]
    for j in range(k):
        h[j] = fixed_dot(tw[j], x)
    act(h, scratch[1], scratch[2])
    return fixed_dot(tc, scratch[1]) / math.sqrt(k)


@kernel()
def _shuffle(gen: Any, perm: IntArray) -> None:
    """Fisher-Yates shuffle of ``perm`` in place (the order of sgd_linear_regression)."""
    for i in range(perm.shape[0] - 1, 0, -1):
        k = gen.integers(0, i + 1)
        tmp = perm[i]
        perm[i] = perm[k]
        perm[k] = tmp


@kernel()
def _finite_batch(
    gen: Any, data: DataArrays, work: Work, pos: int, teacher_act: Any, label: Any
) -> int:
    """Epochs of floor(m / b) batches without replacement; m mod b points wait.

    ``pos`` is the position in the epoch; pos = m forces a shuffle before the first step.
    No shuffle when b == m (full batch, in index order).
    """
    m, dim = data.x.shape
    b = work.xb.shape[0]
    perm = work.perm
    if pos + b > m:
        if b < m:
            _shuffle(gen, perm)
        pos = 0
    for q in range(b):
        p = perm[pos + q]
        for j in range(dim):
            work.xb[q, j] = data.x[p, j]
        work.yb[q] = data.y[p]
    return pos + b


@kernel()
def _gaussian_batch(
    gen: Any, data: DataArrays, work: Work, pos: int, teacher_act: Any, label: Any
) -> int:
    """b fresh points: x ~ N(0, I_dim), then the label noise, point by point."""
    xb = work.xb
    for q in range(xb.shape[0]):
        row = xb[q]
        for j in range(row.shape[0]):
            row[j] = gen.standard_normal()
        value = teacher_value(teacher_act, data.teacher_w, data.teacher_c, row, work.teacher)
        work.yb[q] = label(value + data.label_noise * gen.standard_normal())
    return pos


@kernel()
def _sphere_batch(
    gen: Any, data: DataArrays, work: Work, pos: int, teacher_act: Any, label: Any
) -> int:
    """b fresh points uniform on the sphere of radius sqrt(dim), then the label noise."""
    xb = work.xb
    for q in range(xb.shape[0]):
        row = xb[q]
        d = row.shape[0]
        s = 0.0
        for j in range(d):
            v = gen.standard_normal()
            row[j] = v
            s += v * v
        c = math.sqrt(d / s)
        for j in range(d):
            row[j] *= c
        value = teacher_value(teacher_act, data.teacher_w, data.teacher_c, row, work.teacher)
        work.yb[q] = label(value + data.label_noise * gen.standard_normal())
    return pos


BATCHES: dict[str, Any] = {
    "finite": _finite_batch,
    "gaussian": _gaussian_batch,
    "sphere": _sphere_batch,
}
"""data mode ("finite", or the online input law) -> batch function."""
