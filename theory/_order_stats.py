"""Order statistics of the magnitudes |x|, shared by the order-statistic tail estimators.

Notation used by every estimator module: X_(1) >= X_(2) >= ... >= X_(n) are the
descending order statistics of |x_1|, ..., |x_n|, and the k "exceedances" are the top k
values above the threshold X_(k+1). The log spacings are log(X_(i) / X_(k+1)),
i = 1..k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from heavytail._lib._errors import EstimationError, InvalidArgumentError
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import as_sample, check_int

__all__ = [
    "TopOrderStatistics",
    "check_k",
    "log_spacings",
    "sample_magnitudes",
    "top_order_statistics",
]


def sample_magnitudes(x: Any, *, min_size: int) -> FloatArray:
    """Return |x| as a new float64 array, refusing input no tail estimator can use.

    Refused with :class:`InvalidArgumentError` naming ``x``: fewer than ``min_size``
    observations, complex/object/string/boolean dtypes, more than one dimension, NaN or
    inf entries, and samples whose magnitudes are all equal (no tail to estimate).
    """
    mags = np.abs(as_sample(x, "x", min_size=min_size))
    if np.all(mags == mags[0]):
        raise InvalidArgumentError(
            f"`x` must not have all magnitudes |x| equal (all are {mags[0]:g}): "
            "such a sample has no tail to estimate"
        )
    return mags


def check_k(k: Any, n: int, *, low: int, high: int, rule: str) -> int:
    """Return ``k`` as an int in [low, high], or raise naming ``k`` and ``rule``.

    ``rule`` states the bounds symbolically (e.g. "1 <= k <= n - 1"), so that the message
    reads "`k` must satisfy 1 <= k <= n - 1 (here [1, 99], n = 100), got 100".
    """
    check_int(k, "k")  # type check (refuses floats and bools) with the standard message
    v = int(k)
    if v < low or v > high:
        span = f"[{low}, {high}]" if low <= high else "empty"
        raise InvalidArgumentError(f"`k` must satisfy {rule} (here {span}, n = {n}), got {v}")
    return v


@dataclass(frozen=True, eq=False)
class TopOrderStatistics:
    """The top m order statistics of the magnitudes, descending, and their logs.

    Attributes
    ----------
    values : ndarray
        X_(1) >= ... >= X_(m), read-only.
    logs : ndarray
        log X_(i), read-only; -inf where X_(i) == 0.
    n : int
        Size of the whole sample the top m were taken from.
    n_positive : int
        Number of strictly positive magnitudes in the whole sample; the threshold
        X_(k+1) is positive iff k < n_positive.
    n_top_ties : int
        Number of values equal to X_(1); the top k+1 values are all equal iff
        k < n_top_ties.
    """

    values: FloatArray
    logs: FloatArray
    n: int
    n_positive: int
    n_top_ties: int


def top_order_statistics(mags: FloatArray, m: int) -> TopOrderStatistics:
    """Return the m largest of ``mags`` in descending order, in O(n + m log m).

    ``np.partition`` selects the top m in linear time; only those are sorted. The result
    depends only on the multiset of values, so it is the same for any permutation of
    ``mags``.
    """
    n = mags.size
    if not 1 <= m <= n:
        raise InvalidArgumentError(f"`m` must be in [1, {n}], got {m}")
    top = np.partition(mags, n - m)[n - m :] if m < n else mags.copy()
    top.sort()
    values = np.ascontiguousarray(top[::-1])
    with np.errstate(divide="ignore"):
        logs = np.log(values)
    n_positive = int(np.count_nonzero(mags > 0))
    n_top_ties = int(np.count_nonzero(values == values[0]))
    if n_top_ties == m:  # the ties may go on below the top m
        n_top_ties = int(np.count_nonzero(mags == values[0]))
    values.flags.writeable = False
    logs.flags.writeable = False
    return TopOrderStatistics(values, logs, n, n_positive, n_top_ties)


def log_spacings(top: TopOrderStatistics, k: int) -> FloatArray:
    """Return log(X_(i) / X_(k+1)), i = 1..k, computed as log X_(i) - log X_(k+1).

    Raises
    ------
    EstimationError
        If X_(k+1) == 0 (k reaches into the zeros of the sample), or if the top k + 1
        values are all equal (every spacing is 0: no tail shape can be read).
    """
    if top.values[k] == 0.0:
        raise EstimationError(
            f"the threshold X_(k+1) is 0 at k = {k}: only {top.n_positive} of the "
            f"{top.n} magnitudes are positive, so k must be below {top.n_positive}"
        )
    if k < top.n_top_ties:
        raise EstimationError(
            f"the top k + 1 = {k + 1} magnitudes are all equal ({top.values[0]:g}; "
            f"{top.n_top_ties} values are tied at the maximum): every log spacing is 0 "
            "and the tail index is not finite; use a larger k"
        )
    return top.logs[:k] - top.logs[k]
