"""ell_p-compressibility: best k-term approximation errors of a vector.

docs/theory.md, section 1 (Gribonval, Cevher & Davies 2012; Amini, Unser & Marvasti 2011).
For x in R^n and a kept fraction kappa in (0, 1], the relative best k-term error is

    sigma_k(x)_p / ||x||_p,   k = ceil(kappa n),

where sigma_k(x)_p = min over k-sparse y of ||x - y||_p keeps the k largest |x_i|. The
input checks and :class:`SortedTail` here are shared with the pruning errors
(``_prune.py``); the almost-sure limit of the error is in ``_compress_limit.py`` and its
rate and finite-n mean in ``_compress_rate.py``. The toolkit's own derivations (the
rate, the finite-n mean, the closed forms) are in docs/compressibility.md, each with the
test that checks it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from heavytail._lib._errors import (
    InvalidArgumentError,
)
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import as_sample, check_real

__all__ = ["relative_error", "relative_error_curve"]


# kappa n within this relative distance of an integer is taken to be that integer before
# the ceiling: float products are off by a few units in the last place (2^-52 = 2.2e-16),
# so 0.3 * 10 = 3.0000000000000004 must keep 3 entries, not 4. A genuine kappa n as close
# to an integer as 1e-12 relative needs n > 1e12 entries.
_INTEGER_SNAP = 1e-12

# Prefix sums are computed in blocks of this many terms: a sequential cumulative sum
# inside each block, then a cumulative sum of the block totals. Both are exactly monotone
# (adding non-negative floats never decreases a sum), and the rounding error of each
# prefix sum is at most (_BLOCK + n / _BLOCK) units of 2^-53 of it: 2e-12 for n = 2^24,
# against n 2^-53 = 2e-9 for one long sequential sum.
_BLOCK = 4096

# A tail whose largest term is below this fraction of the largest entry's p-th power is
# summed in logarithms instead: its own small terms may have underflowed in the scaled
# powers. Above it, any term that underflowed (< 2^-1022) is below 2^-322 times the tail's
# largest term, and even 2^60 of them change the tail by less than 2^-262 of itself.
_UNDERFLOW_GUARD = 2.0**-700
# The smallest positive normal double, 2^-1022: below it a ratio has lost digits.
_SMALLEST_NORMAL = float(np.finfo(np.float64).smallest_normal)


# --------------------------------------------------------------------------------------
# Input checks shared with the pruning module.


def check_kappa(kappa: Any, name: str = "kappa") -> float:
    """Return ``kappa`` as a float in (0, 1], or raise naming ``name``."""
    return check_real(kappa, name, low=0.0, high=1.0, low_open=True)


def check_p(p: Any) -> float:
    """Return the norm index ``p`` as a finite float > 0, or raise."""
    return check_real(p, "p", low=0.0, low_open=True)


# The smallest positive x whose reciprocal is a finite double: 1 / 1.797e308 = 5.56e-309.
_MIN_RECIPROCAL = 1.0 / float(np.finfo(np.float64).max)


def check_reciprocal(value: Any, name: str) -> float:
    """Return ``value`` as a finite float > 0 whose reciprocal is finite, or raise.

    For formulas in 1 / value (the exponent 1/p - 1/alpha): below 5.56e-309 (subnormal
    values included) the reciprocal overflows to inf and the formula gives -inf or NaN.
    """
    v = check_real(value, name, low=0.0, low_open=True)
    if v < _MIN_RECIPROCAL:
        raise InvalidArgumentError(
            f"`{name}` must be at least {_MIN_RECIPROCAL:.3g} (1 / {name} must be a finite "
            f"double), got {value!r}"
        )
    return v


def as_kappas(kappas: Any, name: str = "kappas") -> FloatArray:
    """Return ``kappas`` as a float64 array (any shape) with every entry in (0, 1].

    An empty array is accepted (its curve is empty). The message names the first
    offending entry and its index.
    """
    try:
        arr = np.asarray(kappas)
    except (ValueError, TypeError) as exc:  # ragged nested sequences
        raise InvalidArgumentError(f"`{name}` must be an array of real numbers: {exc}") from exc
    if arr.dtype.kind not in "fiu":
        raise InvalidArgumentError(
            f"`{name}` must be an array of real numbers, got dtype {arr.dtype}"
        )
    out = np.array(arr, dtype=np.float64)  # a copy: callers may keep `kappas`
    bad = ~((out > 0.0) & (out <= 1.0))  # NaN fails both comparisons
    if bad.any():
        index = np.unravel_index(int(np.argmax(bad)), out.shape)
        where = index[0] if len(index) == 1 else index
        raise InvalidArgumentError(
            f"`{name}` must be in (0, 1], got {float(out[index])!r} at index {where}"
        )
    return out


def kept_count(kappa: float, n: int) -> int:
    """Return k = ceil(kappa n), robust to floating error, in [1, n].

    kappa n is first replaced by the nearest integer when it lies within a relative 1e-12
    of it, so that kappa = 0.3, n = 10 keeps 3 entries (the float product is
    3.0000000000000004, whose ceiling is 4), and kappa = k / n always keeps exactly k.
    """
    t = kappa * n
    r = round(t)
    k = r if abs(t - r) <= _INTEGER_SNAP * max(r, 1) else math.ceil(t)
    return min(max(int(k), 1), n)


def kept_counts(kappas: FloatArray, n: int) -> npt.NDArray[np.intp]:
    """Vectorised :func:`kept_count` (same rule), for an array of checked kappas."""
    t = kappas * n
    r = np.rint(t)
    snap = np.abs(t - r) <= _INTEGER_SNAP * np.maximum(r, 1.0)
    k = np.where(snap, r, np.ceil(t))
    return np.clip(k, 1, n).astype(np.intp)


# --------------------------------------------------------------------------------------
# The one computation behind every error in this module and in the pruning module.


class SortedTail:
    """The sorted p-th powers of a vector of magnitudes, with blocked prefix sums.

    Built once (one O(n log n) sort); :meth:`errors` then gives the relative best k-term
    error for any set of kept counts in O(1) each, which is how a whole curve, or the
    bisection of :func:`heavytail.theory.prunable_fraction`, costs a single sort.

    ``a`` holds |x_i| (finite, >= 0, not all zero).

    Numerics: the magnitudes are divided by their maximum m (so the largest power is
    exactly 1, nothing overflows, and the total is >= 1 for every p; scaling x by a power
    of two changes nothing), the powers are sorted once, and every tail sum is a blocked
    prefix sum (see _BLOCK), so the errors are exactly non-increasing in k and exactly
    invariant under permutations of x. Tails whose terms may have underflowed are summed
    in logarithms (see _UNDERFLOW_GUARD), so a tiny error comes back tiny, not zero.
    """

    def __init__(self, a: FloatArray, p: float) -> None:
        self.p = p
        self.a_sorted = np.sort(a, axis=None)
        self.n = n = self.a_sorted.size
        self.top = float(self.a_sorted[-1])
        with np.errstate(under="ignore"):
            w = self.a_sorted / self.top
        # Ratios a / m below the smallest normal double have lost digits or underflowed to
        # 0, but their p-th powers need not be small: (2^-1074)^0.001 = 0.48. Those powers
        # are taken from the exact logarithm of the ratio instead, so that the total (and
        # every tail sum) keeps them; otherwise a tail summed in logarithms could exceed
        # the total it is divided by. The lost entries are a prefix of the sorted ones.
        start = int(np.searchsorted(self.a_sorted, 0.0, side="right"))
        stop = int(np.searchsorted(w, _SMALLEST_NORMAL, side="left"))
        if p == 2.0:
            np.multiply(w, w, out=w)
        elif p != 1.0:
            with np.errstate(under="ignore"):
                np.power(w, p, out=w)
        if stop > start:
            # p * log(ratio) may overflow to -inf for a huge p: its power is then 0.
            with np.errstate(under="ignore", over="ignore"):
                w[start:stop] = np.exp(p * _log_ratios(self.a_sorted[start:stop], self.top))
        self.w = w
        rows = n // _BLOCK + 1  # one spare row, so that j = n indexes a row of its own
        padded = np.zeros(rows * _BLOCK)
        padded[:n] = w
        self.inner = np.cumsum(padded.reshape(rows, _BLOCK), axis=1)
        self.before = np.zeros(rows)
        np.cumsum(self.inner[:-1, -1], out=self.before[1:])
        self.total = float(self._sums(np.array([n], dtype=np.intp))[0])
        self._log_tails: FloatArray | None = None

    def _sums(self, drops: npt.NDArray[np.intp]) -> FloatArray:
        """sum(w[:j]) for each j in ``drops`` (0 <= j <= n)."""
        row, col = np.divmod(drops, _BLOCK)
        partial = np.where(col > 0, self.inner[row, col - 1], 0.0)
        return np.asarray(self.before[row] + partial, dtype=np.float64)

    def errors(self, ks: npt.NDArray[np.intp]) -> FloatArray:
        """Relative errors when the k largest are kept, for each k in ``ks`` (1 <= k <= n)."""
        p = self.p
        drops = self.n - np.asarray(ks, dtype=np.intp)
        errors = np.power(self._sums(drops) / self.total, 1.0 / p)
        # Rounding can leave a tail one unit above the total only when nothing is kept but
        # the largest term and that term is negligible; the error is then 1 to rounding.
        np.minimum(errors, 1.0, out=errors)
        last_dropped = np.maximum(drops - 1, 0)
        largest_dropped = np.where(drops > 0, self.w[last_dropped], 0.0)
        fallback = (largest_dropped < _UNDERFLOW_GUARD) & (drops > 0)
        fallback &= self.a_sorted[last_dropped] > 0.0
        if fallback.any():
            log_tails = self._log_tail_sums(int(drops[fallback].max()))
            log_total = math.log(self.total)
            with np.errstate(under="ignore"):
                # The tail is part of the total; rounding of the two sums (one in
                # logarithms, one in floats) could put it a few units above: cap at 1.
                log_rel = np.minimum(log_tails[drops[fallback] - 1] - log_total, 0.0)
                errors[fallback] = np.exp(log_rel / p)
        return errors

    def _log_tail_sums(self, last: int) -> FloatArray:
        """log of sum(w[:j]) for j = 1 ... last, summed in logarithms."""
        if self._log_tails is None or self._log_tails.size < last:
            with np.errstate(divide="ignore", over="ignore"):
                log_terms = self.p * _log_ratios(self.a_sorted[:last], self.top)
            self._log_tails = np.logaddexp.accumulate(log_terms)
        return self._log_tails


def _log_ratios(a: FloatArray, top: float) -> FloatArray:
    """log(a / top) for 0 <= a <= top, from binary mantissas and exponents.

    Finite where a / top underflows (-inf where a = 0), and exactly unchanged when a and
    top are scaled by the same power of two.
    """
    mant, expo = np.frexp(a)
    top_mant, top_expo = math.frexp(top)
    with np.errstate(divide="ignore"):
        out: FloatArray = np.log(mant / top_mant) + (expo - top_expo) * math.log(2.0)
    return out


def tail_errors(a: FloatArray, ks: npt.NDArray[np.intp], p: float) -> FloatArray:
    """Relative best k-term errors of the magnitudes ``a`` for each k in ``ks``, one sort.

    ``a`` holds |x_i| (finite, >= 0, not all zero; any shape, flattened); every k is in
    [1, a.size]. Returns (sum of the a.size - k smallest a_i^p / sum of all a_i^p)^(1/p).
    See :class:`SortedTail` for the numerics.
    """
    return SortedTail(a, p).errors(ks)


def _magnitudes(x: Any) -> FloatArray:
    """|x| for a checked 1-D ``x`` that is not all zero."""
    a = np.abs(as_sample(x, "x"))
    if not a.any():
        raise InvalidArgumentError(
            "`x` must have a non-zero entry: the relative error of the zero vector is 0/0"
        )
    return a


def relative_error(x: Any, kappa: float, p: float = 2.0) -> float:
    r"""Relative best k-term approximation error sigma_k(x)_p / ||x||_p.

    .. math::

        \frac{\sigma_k(x)_p}{\|x\|_p}
        = \Big(\frac{\sum_{i > k} |x|_{(i)}^p}{\sum_{i=1}^n |x|_{(i)}^p}\Big)^{1/p},
        \qquad k = \lceil \kappa n \rceil,

    where |x|_(1) >= ... >= |x|_(n): the best k-sparse approximation keeps the k largest
    magnitudes (Gribonval, Cevher & Davies 2012, Sec. II; docs/theory.md, section 1).

    The kept count is k = ceil(kappa n), except that kappa n is first replaced by the
    nearest integer when it is within a relative 1e-12 of it, so that float rounding
    cannot add an entry: kappa = 0.3 with n = 10 keeps 3 (the float product is
    3.0000000000000004), and kappa = k / n keeps exactly k. k is at least 1.

    Parameters
    ----------
    x : array_like
        1-D, finite, real, with at least one non-zero entry (the zero vector gives 0/0
        and is refused).
    kappa : float
        Fraction of entries kept, in (0, 1].
    p : float, optional
        Norm index, finite and > 0 (p < 1 gives a quasi-norm; the k largest entries are
        still the best k-term approximation).

    Returns
    -------
    float
        The relative error, in [0, 1]; 0 when kappa = 1.

    Notes
    -----
    Entries are divided by the largest magnitude before the p-th power, so huge entries
    and huge p do not overflow, and a tail whose terms underflow is summed in
    logarithms, so a tiny error (down to about 1e-300) is returned as such and not as
    0. The tail sums carry a relative rounding error of at most (4096 + n / 4096) 2^-53.
    The value equals ``relative_error_curve(x, [kappa], p)[0]`` exactly.

    Examples
    --------
    >>> relative_error([3.0, 4.0], 0.5)  # keeps 4, drops 3: 3 / 5
    0.6
    """
    a = _magnitudes(x)
    kappa = check_kappa(kappa)
    p = check_p(p)
    ks = np.array([kept_count(kappa, a.size)], dtype=np.intp)
    return float(tail_errors(a, ks, p)[0])


def relative_error_curve(x: Any, kappas: Any, p: float = 2.0) -> FloatArray:
    """Relative best k-term errors of ``x`` for many kept fractions, from one sort.

    The same quantity, rule for k and numerics as :func:`relative_error`, evaluated at
    every entry of ``kappas`` from one sort of |x|^p and its prefix sums: the cost is one
    O(n log n) sort whatever the number of kappas.

    Parameters
    ----------
    x : array_like
        1-D, finite, real, with at least one non-zero entry.
    kappas : array_like
        Kept fractions, any shape, every entry in (0, 1].
    p : float, optional
        Norm index, finite and > 0.

    Returns
    -------
    numpy.ndarray
        Errors with the shape of ``kappas``, each in [0, 1]. They are exactly
        non-increasing in kappa.
    """
    a = _magnitudes(x)
    ks_in = as_kappas(kappas)
    p = check_p(p)
    ks = kept_counts(ks_in.ravel(), a.size)
    return tail_errors(a, ks, p).reshape(ks_in.shape)
