"""Pruning errors of a weight matrix: magnitude, node (column) and singular-value pruning.

docs/theory.md, section 2. W is d x n, column i is hidden unit i. For a kept fraction kappa in
(0, 1] the three methods keep

- "magnitude": the k = ceil(kappa d n) entries of largest |W_ij|;
- "node": the k = ceil(kappa n) columns of largest Euclidean norm;
- "singular": the k = ceil(kappa min(d, n)) largest singular values (best rank-k
  approximation, Eckart & Young 1936);

and the error is the relative Frobenius error ||W - W_k||_F / ||W||_F. Each is a relative
best k-term error (docs/theory.md, section 1, p = 2) of one vector: of the entries, of the column
norms, or of the singular values. So a whole curve over many kappa costs one sort (one SVD
for "singular"). The ordering of the three at matched budgets is derived in
docs/compressibility.md (section 4, the ordering).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from heavytail._lib._errors import EstimationError, InvalidArgumentError
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import as_sample, check_choice, check_int, check_real

from ._compress import SortedTail, as_kappas, check_kappa, kept_count, kept_counts

__all__ = [
    "matched_kappas",
    "parameter_count",
    "prunable_fraction",
    "pruning_curve",
    "pruning_error",
]

Method = Literal["magnitude", "node", "singular"]
Centre = Literal["none", "median"]

METHODS: tuple[str, ...] = ("magnitude", "node", "singular")
CENTRES: tuple[str, ...] = ("none", "median")


def _check_matrix(w: Any, centre: str) -> FloatArray:
    """Return W (centred if asked) as a finite 2-D float64 array with a non-zero entry."""
    try:
        shape = np.shape(w)
    except (ValueError, TypeError):  # ragged: as_sample names the problem
        shape = ()
    if len(shape) == 2 and 0 in shape:
        # An empty matrix has no entry at all, whatever its number of rows.
        raise InvalidArgumentError(f"`W` must hold at least 1 entry, got shape {shape}")
    arr = as_sample(w, "W", ndim=2)
    if centre == "median":
        with np.errstate(over="ignore"):
            arr = arr - np.median(arr)
        if not np.all(np.isfinite(arr)):
            raise InvalidArgumentError(
                "`W` minus its median overflows: its entries span more than the largest double"
            )
        if not arr.any():
            raise InvalidArgumentError(
                "`W` minus its median is the zero matrix: the relative error is 0/0"
            )
    elif not arr.any():
        raise InvalidArgumentError("`W` must have a non-zero entry: the relative error is 0/0")
    return arr


def _column_norms(w: FloatArray) -> FloatArray:
    """Euclidean norms of the columns of W, divided by max|W| (the errors are scale free).

    Each column is divided by its largest magnitude before squaring (the LAPACK dnrm2
    idea), so a column of huge or tiny entries keeps its relative size, and the result
    is (column max / max|W|) times a number in [1, sqrt(d)]: it cannot overflow even when
    the norms themselves exceed the largest double.
    """
    col_max = np.max(np.abs(w), axis=0)
    safe = np.where(col_max > 0.0, col_max, 1.0)
    scaled = w / safe
    ratio = col_max / float(np.max(col_max))
    return np.asarray(ratio * np.sqrt(np.einsum("ij,ij->j", scaled, scaled)), dtype=np.float64)


def _singular_values(w: FloatArray) -> FloatArray:
    """Singular values of W, computed on W / max|W| (the error is scale invariant)."""
    top = float(np.max(np.abs(w)))
    try:
        s = np.linalg.svd(w / top, compute_uv=False)
    except np.linalg.LinAlgError as exc:  # LAPACK's SVD did not converge
        raise EstimationError(f"the singular value decomposition of `W` failed: {exc}") from exc
    return np.asarray(s, dtype=np.float64)


def _units(w: FloatArray, method: str) -> FloatArray:
    """The vector whose best k-term error is the method's pruning error."""
    if method == "magnitude":
        return np.abs(w).ravel()
    if method == "node":
        return _column_norms(w)
    return _singular_values(w)


def _prepare(w: Any, method: Any, centre: Any) -> tuple[FloatArray, str]:
    method = check_choice(method, "method", METHODS)
    centre = check_choice(centre, "centre", CENTRES)
    return _check_matrix(w, centre), method


def pruning_curve(
    W: Any,
    kappas: Any,
    method: Method,
    *,
    centre: Centre = "none",
) -> FloatArray:
    r"""Relative Frobenius pruning errors of W for many kept fractions, in one pass.

    For W (d x n) and each kappa, with r = min(d, n):

    .. math::

        e_\mathrm{magnitude} = \frac{\|W - W_{[k]}\|_F}{\|W\|_F},\ k = \lceil\kappa d n\rceil;
        \quad
        e_\mathrm{node} = \Big(\frac{\sum_{i > k} \|w\|_{(i)}^2}{\sum_i \|w_i\|^2}\Big)^{1/2},
        \ k = \lceil\kappa n\rceil;
        \quad
        e_\mathrm{singular} = \Big(\frac{\sum_{i > k} s_i^2}{\sum_i s_i^2}\Big)^{1/2},
        \ k = \lceil\kappa r\rceil,

    where W_[k] keeps the k entries of largest magnitude, ||w||_(1) >= ... are the sorted
    column norms and s_1 >= ... >= s_r the singular values (docs/theory.md, section 2). Each
    is the relative best k-term error, p = 2, of the entries, the column norms or the
    singular values, computed as in :func:`heavytail.theory.relative_error_curve` (same
    rule for k, including its snapping of kappa times the count to an integer within a
    relative 1e-12). Cost: one sort of the d n magnitudes, or one pass for the column
    norms, or one SVD without singular vectors, whatever the number of kappas.

    Ordering (docs/compressibility.md, section 4): with kappa = j / n for both
    "magnitude" and "node" (so that both keep exactly j d entries), magnitude <= node;
    with node keeping j columns and "singular" keeping rank j (kappa = j / min(d, n)),
    singular <= node. At an arbitrary common kappa, neither need hold.

    Parameters
    ----------
    W : array_like
        2-D, finite, real, non-empty, with a non-zero entry (after centring).
    kappas : array_like
        Kept fractions, any shape, every entry in (0, 1].
    method : {"magnitude", "node", "singular"}
        What is kept: entries, columns (hidden units) or singular values.
    centre : {"none", "median"}, optional
        "none" (default) prunes W itself. "median" prunes W - m, m the median of all
        entries of W (one scalar), and measures the error relative to ||W - m||_F: the
        papers' magnitude-pruning code centres this way (their node-pruning code uses
        per-row medians and their SVD code per-column medians instead; see
        docs/compressibility.md, section 5).

    Returns
    -------
    numpy.ndarray
        Errors with the shape of ``kappas``, in [0, 1], exactly non-increasing in kappa.

    Raises
    ------
    InvalidArgumentError
        Bad ``W``, ``kappas``, ``method`` or ``centre``.
    EstimationError
        LAPACK's SVD did not converge ("singular" only).

    Examples
    --------
    >>> pruning_curve([[3.0, 0.0], [0.0, 4.0]], [0.5, 1.0], "node").tolist()
    [0.6, 0.0]
    """
    w, how = _prepare(W, method, centre)
    ks_in = as_kappas(kappas)
    units = _units(w, how)
    if not units.any():  # only for singular values that underflowed: not reachable for
        raise EstimationError("`W` has no non-zero singular value")  # a finite non-zero W
    ks = kept_counts(ks_in.ravel(), units.size)
    return SortedTail(units, 2.0).errors(ks).reshape(ks_in.shape)


def pruning_error(
    W: Any,
    kappa: float,
    method: Method,
    *,
    centre: Centre = "none",
) -> float:
    """Relative Frobenius error of W pruned to the kept fraction ``kappa``.

    ``pruning_curve(W, [kappa], method, centre=centre)[0]``: see :func:`pruning_curve` for
    the definitions (k = ceil(kappa d n) entries, ceil(kappa n) columns, or
    ceil(kappa min(d, n)) singular values), the centring and the ordering of the methods.

    Parameters
    ----------
    W : array_like
        2-D, finite, real, non-empty, with a non-zero entry.
    kappa : float
        Fraction kept, in (0, 1].
    method : {"magnitude", "node", "singular"}
    centre : {"none", "median"}, optional

    Returns
    -------
    float
        The error, in [0, 1]; 0 when kappa = 1.

    Examples
    --------
    >>> pruning_error([[3.0, 4.0]], 0.5, "magnitude")  # keeps 4: 3 / 5
    0.6
    """
    kappa = check_kappa(kappa)
    return float(pruning_curve(W, [kappa], method, centre=centre)[0])


def prunable_fraction(
    W: Any,
    eps: float,
    method: Method,
    *,
    centre: Centre = "none",
) -> float:
    r"""Largest fraction of W that can be removed with relative error at most ``eps``.

    With N the number of units (d n entries, n columns, or min(d, n) singular values)
    and e(k) the relative Frobenius error when the k largest are kept
    (:func:`pruning_curve`),

    .. math::

        \mathrm{prunable}(\varepsilon) = \max\{(N - k) / N : k \in \{0, ..., N\},\
        e(k) \le \varepsilon\},

    with e(0) = 1 (removing everything leaves the whole of ||W||_F as error), so that
    eps = 1 gives 1.0, and eps = 0 gives the fraction of units that are exactly zero.
    Since e is non-increasing in k, the smallest admissible k is found by bisection on
    one sort (one SVD). The fraction is of units, not of stored parameters; see
    :func:`parameter_count` for those.

    Parameters
    ----------
    W : array_like
        2-D, finite, real, non-empty, with a non-zero entry.
    eps : float
        Tolerated relative error, in [0, 1].
    method : {"magnitude", "node", "singular"}
    centre : {"none", "median"}, optional

    Returns
    -------
    float
        A fraction in [0, 1], a multiple of 1 / N.

    Examples
    --------
    >>> prunable_fraction([[3.0, 4.0, 0.0, 0.0]], 0.6, "magnitude")  # keep 4 only
    0.75
    """
    eps = check_real(eps, "eps", low=0.0, high=1.0)
    w, how = _prepare(W, method, centre)
    if eps == 1.0:
        return 1.0
    units = _units(w, how)
    tail = SortedTail(units, 2.0)
    n = units.size
    lo, hi = 1, n  # e(n) = 0 <= eps; find the smallest k in [1, n] with e(k) <= eps
    while lo < hi:
        mid = (lo + hi) // 2
        if tail.errors(np.array([mid], dtype=np.intp))[0] <= eps:
            hi = mid
        else:
            lo = mid + 1
    return (n - lo) / n


def parameter_count(shape: Any, kappa: float, method: Method) -> int:
    """Number of stored parameters of a d x n matrix pruned to the kept fraction ``kappa``.

    - "magnitude": k = ceil(kappa d n) kept values (their positions are not counted);
    - "node": k d, for k = ceil(kappa n) kept columns of length d;
    - "singular": k (d + n), for k = ceil(kappa min(d, n)): the factored storage of the
      rank-k approximation as (U_k S_k) (d x k) times V_k^T (k x n), the singular values
      folded into the left factor. This is the count the papers' code reports; storing
      the k singular values separately would add k, giving k (d + n + 1).

    At kappa = 1 singular-value storage exceeds d n unless min(d, n) (d + n) <= d n;
    the count is reported as is, not capped. k follows the rule of :func:`pruning_curve`.

    Parameters
    ----------
    shape : tuple of int
        (d, n), both >= 1.
    kappa : float
        Fraction kept, in (0, 1].
    method : {"magnitude", "node", "singular"}

    Returns
    -------
    int

    Examples
    --------
    >>> parameter_count((100, 50), 0.1, "singular")  # k = 5: 5 * (100 + 50)
    750
    """
    if not (isinstance(shape, tuple | list) and len(shape) == 2):
        raise InvalidArgumentError(f"`shape` must be a pair (d, n), got {shape!r}")
    d = check_int(shape[0], "shape[0]", low=1)
    n = check_int(shape[1], "shape[1]", low=1)
    kappa = check_kappa(kappa)
    how = check_choice(method, "method", METHODS)
    if how == "magnitude":
        return kept_count(kappa, d * n)
    if how == "node":
        return kept_count(kappa, n) * d
    return kept_count(kappa, min(d, n)) * (d + n)


def matched_kappas(shape: Any, columns: int) -> dict[str, float]:
    """Kept fractions at which the three methods match node pruning of ``columns`` columns.

    Node pruning keeping j columns of a d x n matrix is matched by magnitude pruning
    keeping the same j d entries (kappa = j / n, for which ceil(kappa d n) = j d exactly)
    and by singular-value pruning keeping rank min(j, r), r = min(d, n)
    (kappa = min(j, r) / r). These are the budgets under which magnitude <= node and
    singular <= node hold for every matrix (docs/compressibility.md,
    section 4); at matched *parameter counts* singular <= node can fail.

    Parameters
    ----------
    shape : tuple of int
        (d, n), both >= 1.
    columns : int
        Number j of columns kept by node pruning, in [1, n].

    Returns
    -------
    dict
        {"magnitude": j / n, "node": j / n, "singular": min(j, r) / r}.

    Examples
    --------
    >>> matched_kappas((2, 4), 3)
    {'magnitude': 0.75, 'node': 0.75, 'singular': 1.0}
    """
    if not (isinstance(shape, tuple | list) and len(shape) == 2):
        raise InvalidArgumentError(f"`shape` must be a pair (d, n), got {shape!r}")
    d = check_int(shape[0], "shape[0]", low=1)
    n = check_int(shape[1], "shape[1]", low=1)
    j = check_int(columns, "columns", low=1, high=n)
    r = min(d, n)
    return {"magnitude": j / n, "node": j / n, "singular": min(j, r) / r}
