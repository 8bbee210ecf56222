"""The papers' tail index of a layer's rows: the multivariate block-sum estimator.

Barsbey et al. (NeurIPS 2021) estimate, per layer, the stable index of the hidden units.
Their code (github.com/mbarsbey/sgd_comp_gen, ``exp_utils.py``: ``get_layers`` and
``alpha_estimation``) does this:

- each weight is taken as torch stores it, (out, in), so that each row is one unit's
  incoming weights (a convolution weight (out, in, k1, k2) is read as (out * in, k1 * k2));
- the output layer is transposed, so that its rows are the last hidden layer's units
  (each row is then one hidden unit's outgoing weights);
- each column's median is subtracted;
- the rows are put in 5 random orders, the multivariate block-sum estimate is taken for
  each, and the median over the orders is kept;
- the estimate is reported capped at 2.

:func:`rows_tail_index` follows that convention with
:func:`heavytail.theory.block_sum_estimator` at its default block size K1 = 10, where the
papers' ``est_alpha`` takes the median over several block sizes (2, 5, 10, 20, ...,
rounded down to divisors of the number of rows). For centred, strictly stable rows every
block size estimates the same 1/alpha without bias (Mohammadi, Mohammadpour & Ogata 2015);
they differ only in variance, and K1 = 10 is within 2% of the smallest variance
(theory/_block_sum.py, ``DEFAULT_BLOCK_SIZE``). The fixed block size is what gives each
order its delta-method interval.

The papers' own number is given beside it, computed exactly as ``est_alpha`` does
(:func:`paper_block_sum_alpha`): on the same row orders, the median over their block
sizes of the multivariate block-sum estimate, capped at 2 inside each order, then the
median over the orders (``alpha_paper``); and the same without the cap
(``alpha_paper_uncapped``). It carries no interval, as in the papers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._rng import RngLike, as_generator
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_int
from heavytail.theory import block_sum_estimator

__all__ = [
    "MIN_CALIBRATED_ROWS",
    "MIN_ROWS",
    "RowsTailIndex",
    "paper_block_sum_alpha",
    "rows_tail_index",
]


#: The block-sum estimator's default block size (10) needs two blocks.
MIN_ROWS = 20
#: The smallest sample size at which the block-sum estimator was calibrated
#: (docs/estimators.md: n = 1e3, 1e4 and 1e5, one-dimensional samples; at n = 1e3 its
#: coverage on stable(1.5) data is already down to 0.83). Fewer rows are marked.
MIN_CALIBRATED_ROWS = 1000
#: The papers report the estimate capped at 2, the largest stable index.
CAP = 2.0
_ABOVE_TWO = "the block-sum estimate "


@dataclass(frozen=True)
class RowsTailIndex:
    """The multivariate block-sum estimate of a layer's rows, in the papers' convention.

    Attributes
    ----------
    alpha : float
        The median over the row orders of the block-sum estimates, uncapped (it can
        exceed 2 when the rows are not stable vectors; ``warnings`` then says so).
    alpha_capped : float
        min(alpha, 2): the number the papers report.
    ci : tuple of float
        95% interval of ``alpha``: each row order gives the estimator's own delta-method
        interval (normal on 1/alpha, mapped to alpha; upper end infinite when the
        interval of 1/alpha reaches 0); the reported ends are the medians of the orders'
        lower ends and of their upper ends. It describes sampling noise of i.i.d. stable
        rows, not the estimator's bias on other laws.
    n_rows, n_cols : int
        The shape of the matrix whose rows were used (after any transposition).
    orientation : str
        What the rows are.
    below_calibrated_range : bool
        True when ``n_rows`` is below ``MIN_CALIBRATED_ROWS`` = 1000, the smallest sample
        size of the estimator's calibration (docs/estimators.md).
    warnings : tuple of str
        The estimator's warnings, and the two above when they apply.
    alphas : tuple of float
        The estimate of each row order.
    block_size : int
        K1 of the block-sum estimator.
    alpha_paper : float
        The papers' number on the same row orders: per order, the median over the
        papers' block sizes capped at 2 (``est_alpha``), then the median over the orders.
    alpha_paper_uncapped : float
        The same without the cap.
    paper_block_sizes : tuple of int
        The block sizes the papers' rule picks for ``n_rows`` rows.
    """

    alpha: float
    alpha_capped: float
    ci: tuple[float, float]
    n_rows: int
    n_cols: int
    orientation: str
    below_calibrated_range: bool
    warnings: tuple[str, ...]
    alphas: tuple[float, ...]
    block_size: int
    alpha_paper: float = math.nan
    alpha_paper_uncapped: float = math.nan
    paper_block_sizes: tuple[int, ...] = ()


def _largest_divisor_at_most(n: int, m: int) -> int:
    """The papers' ``find_m``: the largest divisor of n that is at most m."""
    while n % m != 0:
        m -= 1
    return m


def paper_block_sizes(n_rows: int) -> tuple[int, ...]:
    """The block sizes of the papers' ``est_alpha`` for ``n_rows`` rows.

    Each of 2, 5, 10, 20, 50, 100, 500, 1000 up to n_rows / 2, rounded down to a divisor
    of n_rows, and the largest divisor at most sqrt(n_rows); [2, 5] for 10 rows. A size
    of 1 (n_rows prime) is dropped: a block of one row estimates nothing, and the papers'
    code stops there with an assertion.
    """
    if n_rows == 10:
        return (2, 5)
    sizes = {
        _largest_divisor_at_most(n_rows, c)
        for c in (2, 5, 10, 20, 50, 100, 500, 1000)
        if c <= n_rows / 2
    }
    root = _largest_divisor_at_most(n_rows, int(math.sqrt(n_rows)))
    if root > 1:
        sizes.add(root)
    sizes.discard(1)
    return tuple(sorted(sizes))


def paper_block_sum_alpha(rows: FloatArray, *, cap: bool = True) -> float:
    """The papers' ``est_alpha`` on a matrix whose rows are in the order given.

    For each block size m of :func:`paper_block_sizes`, the rows are summed in
    consecutive blocks of m, and 1/alpha is (mean log ||block sum|| - mean log ||row||) /
    log m (``alpha_estimator_multi``, with its eps = 2^-52 inside the logarithms); the
    median over the block sizes is returned, capped at 2 when ``cap`` is true.
    """
    x = np.asarray(rows, dtype=np.float64)
    n = x.shape[0]
    sizes = paper_block_sizes(n)
    if not sizes:
        raise InvalidArgumentError(
            f"`weight` has {n} rows, a prime number: the papers' block sizes need a divisor"
        )
    eps = float(np.spacing(1.0))
    x_log = float(np.mean(np.log(np.linalg.norm(x, axis=1) + eps)))
    estimates = []
    for m in sizes:
        blocks = x.reshape(n // m, m, -1).sum(axis=1)
        y_log = float(np.mean(np.log(np.linalg.norm(blocks, axis=1) + eps)))
        estimates.append(1.0 / ((y_log - x_log) / math.log(m)))
    alpha = float(np.median(estimates))
    return min(alpha, CAP) if cap else alpha


def _as_matrix(weight: Any) -> FloatArray:
    """``weight`` (torch tensor or array-like) as a float64 2-D array, or an error."""
    if isinstance(weight, torch.Tensor):
        if weight.is_complex():
            raise InvalidArgumentError("`weight` must be real, got a complex tensor")
        array = weight.detach().to(device="cpu", dtype=torch.float64).numpy()
    else:
        try:
            array = np.asarray(weight)
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(
                f"`weight` must be a torch tensor or a numeric array, got {type(weight).__name__}"
            ) from exc
        if array.dtype == object or not (
            np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
        ):
            raise InvalidArgumentError(
                f"`weight` must hold real numbers, got an array of dtype {array.dtype}"
            )
        array = array.astype(np.float64)
    if array.ndim == 4:
        array = array.reshape(array.shape[0] * array.shape[1], -1)
    elif array.ndim != 2:
        raise InvalidArgumentError(
            "`weight` must be a 2-D weight (out, in) or a 4-D convolution weight "
            f"(out, in, k1, k2), got shape {tuple(array.shape)}"
        )
    if array.size == 0:
        raise InvalidArgumentError(f"`weight` must not be empty, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InvalidArgumentError("`weight` has NaN or infinite entries")
    return array


def rows_tail_index(
    weight: Any,
    *,
    output_layer: bool = False,
    n_permutations: int = 5,
    rng: RngLike = None,
) -> RowsTailIndex:
    """Stable index of a layer's rows by the multivariate block-sum estimator, as the
    papers compute it (Barsbey et al. 2021; see the module notes).

    The weight is read as torch stores it, (out, in): each row is one unit's incoming
    weights. With ``output_layer=True`` it is transposed first, so that each row is one
    hidden unit's outgoing weights (the papers' ``get_layers`` transposes the last layer).
    Each column's median is subtracted, the rows are put in ``n_permutations`` random
    orders, :func:`heavytail.theory.block_sum_estimator` (block size 10) estimates the
    stable index of each order, and the median over the orders is kept.

    Parameters
    ----------
    weight : torch.Tensor or array_like
        A Linear weight (out, in) or a convolution weight (out, in, k1, k2), read as the
        (out * in, k1 * k2) matrix of its kernels. Real and finite.
    output_layer : bool
        Transpose the matrix first (the network's last layer, whose rows would otherwise
        be the output units).
    n_permutations : int
        Random row orders (>= 1). The papers use 5.
    rng : int, numpy Generator, SeedSequence or None
        Seeds the row orders.

    Returns
    -------
    RowsTailIndex
        ``alpha`` (uncapped median), ``alpha_capped`` (min(alpha, 2), the papers'
        number), ``ci`` (see :class:`RowsTailIndex`), the shape, ``orientation``,
        ``below_calibrated_range`` (fewer than 1000 rows) and ``warnings``.

    Raises
    ------
    InvalidArgumentError
        For a ``weight`` that is not a real, finite 2-D or 4-D array or tensor, has fewer
        than 20 rows (after any transposition), or has all rows equal; for a non-bool
        ``output_layer`` or an ``n_permutations`` below 1.
    EstimationError
        When the block-sum estimator cannot estimate (a zero row after centring, or
        block sums no larger than the rows).

    Examples
    --------
    >>> import numpy as np
    >>> from heavytail.theory import sample_stable
    >>> w = sample_stable(1.5, (2000, 20), rng=0)
    >>> est = rows_tail_index(w, rng=0)
    >>> bool(est.ci[0] < 1.5 < est.ci[1]), est.n_rows, est.below_calibrated_range
    (True, 2000, False)
    """
    if not isinstance(output_layer, bool):
        raise InvalidArgumentError(f"`output_layer` must be a bool, got {output_layer!r}")
    n_permutations = check_int(n_permutations, "n_permutations", low=1)
    gen = as_generator(rng)
    matrix = _as_matrix(weight)
    if output_layer:
        matrix = matrix.T
        orientation = (
            "hidden units (output layer transposed: each row is one unit's outgoing weights)"
        )
    else:
        orientation = "units (torch's out x in: each row is one unit's incoming weights)"
    n_rows, n_cols = matrix.shape
    if n_rows < MIN_ROWS:
        hint = "" if output_layer else "; for the network's output layer pass output_layer=True"
        raise InvalidArgumentError(
            f"`weight` gives {n_rows} rows ({orientation}); the block-sum estimator needs "
            f"at least {MIN_ROWS} (two blocks of 10){hint}"
        )
    if np.all(matrix == matrix[0]):
        raise InvalidArgumentError("`weight` has all rows equal: such rows have no tail")
    # The coordinate-wise median does not depend on the order of the rows: subtracted once.
    centred = matrix - np.median(matrix, axis=0)
    alphas: list[float] = []
    lows: list[float] = []
    highs: list[float] = []
    warnings: list[str] = []
    block_size = 10
    papers: list[float] = []
    papers_uncapped: list[float] = []
    for _ in range(n_permutations):
        ordered = centred[gen.permutation(n_rows)]
        est = block_sum_estimator(ordered)
        if paper_block_sizes(n_rows):
            papers_uncapped.append(paper_block_sum_alpha(ordered, cap=False))
            papers.append(min(papers_uncapped[-1], CAP))
        block_size = int(est.settings["block_size"])
        alphas.append(est.alpha)
        lows.append(est.ci[0])
        highs.append(est.ci[1])
        # Each order's "above 2" warning is replaced by one on the median below.
        warnings.extend(w for w in est.warnings if not w.startswith(_ABOVE_TWO))
    alpha = float(np.median(alphas))
    ci = (float(np.median(lows)), float(np.median(highs)))
    if alpha > CAP:
        warnings.append(
            f"the rows' block-sum estimate {alpha:.3g} is above 2, which no stable index can "
            "be: the rows are not stable vectors, so the estimator's assumption fails; "
            "alpha is reported as it is, alpha_capped is 2 (the papers' report)"
        )
    below = n_rows < MIN_CALIBRATED_ROWS
    if below:
        warnings.append(
            f"{n_rows} rows, below the block-sum estimator's calibrated range "
            f"(n >= {MIN_CALIBRATED_ROWS}, docs/estimators.md)"
        )
    return RowsTailIndex(
        alpha=alpha,
        alpha_capped=min(alpha, CAP) if math.isfinite(alpha) else alpha,
        ci=ci,
        n_rows=int(n_rows),
        n_cols=int(n_cols),
        orientation=orientation,
        below_calibrated_range=below,
        warnings=tuple(dict.fromkeys(warnings)),
        alphas=tuple(alphas),
        block_size=block_size,
        alpha_paper=float(np.median(papers)) if papers else math.nan,
        alpha_paper_uncapped=float(np.median(papers_uncapped)) if papers else math.nan,
        paper_block_sizes=paper_block_sizes(n_rows),
    )
