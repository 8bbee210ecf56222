"""The three random weight-matrix ensembles of docs/theory.md, section 2.

Each sampler returns a d x n matrix W whose column i is hidden unit i:

- :func:`iid_entries_matrix`: i.i.d. symmetric alpha-stable entries;
- :func:`iid_columns_matrix`: i.i.d. columns, each an elliptic (sub-Gaussian) alpha-stable
  vector in R^d;
- :func:`elliptic_layer_matrix`: the whole layer one elliptic alpha-stable vector in
  R^(d n): a single random scale sqrt(A) times a Gaussian matrix.

All three have the same marginal law, S_alpha(scale, 0, 0) for every entry (the
convention of :func:`heavytail.theory.sample_elliptic_stable`); they differ only in their
dependence. Heavy tails compress under the first two as n grows, and not at all under the
third: there every pruning error has the law of the Gaussian matrix's, whatever alpha
(docs/compressibility.md, section 6).
"""

from __future__ import annotations

import math

import numpy as np

from heavytail._lib._rng import RngLike, as_generator
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_allocation, check_int, check_real

from ._stable import sample_elliptic_stable, sample_stable

__all__ = ["elliptic_layer_matrix", "iid_columns_matrix", "iid_entries_matrix"]


def _check(alpha: float, d: int, n: int, scale: float) -> tuple[float, int, int, float]:
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    d = check_int(d, "d", low=1)
    n = check_int(n, "n", low=1)
    scale = check_real(scale, "scale", low=0.0, high=math.inf, low_open=True, high_open=True)
    check_allocation(
        [(f"`d` x `n` = {d} x {n}", "the matrix and its draws (3 float64 arrays)", 24 * d * n)]
    )
    return alpha, d, n, scale


def iid_entries_matrix(
    alpha: float, d: int, n: int, *, scale: float = 1.0, rng: RngLike = None
) -> FloatArray:
    """A d x n matrix of i.i.d. symmetric alpha-stable entries S_alpha(scale, 0, 0).

    docs/theory.md, section 2, first ensemble. Drawn by
    :func:`heavytail.theory.sample_stable` (Chambers-Mallows-Stuck); alpha = 2 gives
    i.i.d. N(0, 2 scale^2) entries.

    Parameters
    ----------
    alpha : float
        Stable index, in (0, 2], about 0.052 or more: the rule of
        :func:`heavytail.theory.sample_stable` that keeps draws below the largest double.
    d, n : int
        Rows (input dimension) and columns (hidden units), >= 1.
    scale : float, optional
        Stable scale of each entry, > 0, below the limit of
        :func:`heavytail.theory.sample_stable` (so that no draw overflows).
    rng : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Source of randomness (keyword-only); the same seed gives the same matrix.

    Returns
    -------
    numpy.ndarray
        float64, shape (d, n).

    Examples
    --------
    >>> iid_entries_matrix(1.5, 3, 4, rng=0).shape
    (3, 4)
    """
    alpha, d, n, scale = _check(alpha, d, n, scale)
    return sample_stable(alpha, (d, n), scale=scale, rng=as_generator(rng))


def iid_columns_matrix(
    alpha: float, d: int, n: int, *, scale: float = 1.0, rng: RngLike = None
) -> FloatArray:
    r"""A d x n matrix of i.i.d. columns, each an elliptic alpha-stable vector in R^d.

    Column i is sqrt(A_i) G_i with A_1, ..., A_n i.i.d. positive (alpha/2)-stable and
    G_i ~ N(0, 2 scale^2 I_d) (docs/theory.md, sections 2 and 3; the convention of
    :func:`heavytail.theory.sample_elliptic_stable`, characteristic function
    exp(-scale^alpha ||theta||^alpha) per column). Entries of one column are dependent
    (they share A_i); columns are independent. The column norms have tail index alpha,
    so node pruning compresses as n grows when alpha < 2.

    Parameters
    ----------
    alpha : float
        Stable index, in (0, 2], about 0.104 or more: the rule of
        :func:`heavytail.theory.sample_elliptic_stable`.
    d, n : int
        Rows and columns, >= 1.
    scale : float, optional
        Marginal stable scale of each entry, > 0.
    rng : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Source of randomness (keyword-only).

    Returns
    -------
    numpy.ndarray
        float64, shape (d, n).
    """
    alpha, d, n, scale = _check(alpha, d, n, scale)
    cols = sample_elliptic_stable(alpha, n, d, scale=scale, rng=as_generator(rng))
    return np.ascontiguousarray(cols.T)


def elliptic_layer_matrix(
    alpha: float, d: int, n: int, *, scale: float = 1.0, rng: RngLike = None
) -> FloatArray:
    r"""A d x n matrix that is one elliptic alpha-stable vector: sqrt(A) times a Gaussian.

    W = sqrt(A) G with a single positive (alpha/2)-stable A (Laplace transform
    exp(-lambda^(alpha/2))) and G a d x n matrix of i.i.d. N(0, 2 scale^2) entries: the
    law of :func:`heavytail.theory.sample_elliptic_stable` with dim = d n, reshaped.
    Every entry is S_alpha(scale, 0, 0), as in the other two ensembles, but all share
    one random scale. Every relative pruning error is invariant to scaling W, so it has
    exactly the law of the Gaussian matrix G's, whatever alpha: heavy tails without
    independence give no compressibility (docs/theory.md, section 2).

    Parameters
    ----------
    alpha : float
        Stable index, in (0, 2], about 0.104 or more: the rule of
        :func:`heavytail.theory.sample_elliptic_stable`.
    d, n : int
        Rows and columns, >= 1.
    scale : float, optional
        Marginal stable scale of each entry, > 0.
    rng : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Source of randomness (keyword-only).

    Returns
    -------
    numpy.ndarray
        float64, shape (d, n).
    """
    alpha, d, n, scale = _check(alpha, d, n, scale)
    flat = sample_elliptic_stable(alpha, 1, d * n, scale=scale, rng=as_generator(rng))
    return flat.reshape(d, n)
