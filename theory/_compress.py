"""ell_p-compressibility: best k-term approximation errors, their limits and their rates.

THEORY.md section 1 (Gribonval, Cevher & Davies 2012; Amini, Unser & Marvasti 2011).
For x in R^n and a kept fraction kappa in (0, 1], the relative best k-term error is

    sigma_k(x)_p / ||x||_p,   k = ceil(kappa n),

where sigma_k(x)_p = min over k-sparse y of ||x - y||_p keeps the k largest |x_i|. The
toolkit's own derivations (the rate, the finite-n mean, the closed forms) are in
docs/compressibility.md, each with the test that checks it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import integrate, optimize, special, stats

from heavytail._lib._errors import (
    ConvergenceWarning,
    EstimationError,
    EstimationWarning,
    InvalidArgumentError,
)
from heavytail._lib._validation import as_sample, check_int, check_real

__all__ = [
    "compressibility_exponent",
    "expected_relative_error",
    "limit_relative_error",
    "relative_error",
    "relative_error_curve",
]

FloatArray = npt.NDArray[np.float64]

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
            with np.errstate(under="ignore"):
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
    magnitudes (Gribonval, Cevher & Davies 2012, Sec. II; THEORY.md section 1).

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


# --------------------------------------------------------------------------------------
# The almost-sure limit G_p[X](kappa) for i.i.d. entries.

# Families whose |X| has an exactly known power tail P(|X| > t) ~ c t^(-index): the
# index as a function of the shape parameters. A family absent here gets its tail index
# from its quantile function (see _tail_index_from_quantiles).
_KNOWN_TAIL_INDEX: dict[str, Callable[[dict[str, float]], float]] = {
    "cauchy": lambda s: 1.0,
    "halfcauchy": lambda s: 1.0,
    "invgamma": lambda s: s["a"],
    "levy": lambda s: 0.5,
    "levy_l": lambda s: 0.5,
    "levy_stable": lambda s: s["alpha"] if s["alpha"] < 2.0 else math.inf,
    "lomax": lambda s: s["c"],
    "pareto": lambda s: s["b"],
    "t": lambda s: s["df"],
}

# The quantile function of |X| is trusted at u = 10^-j while it reproduces u, i.e.
# |P(|X| > Q(u)) / u - 1| <= this; scipy's numerical inversions drift well past it where
# they fail (e.g. Student t beyond u = 1e-269, levy_stable far sooner).
_ROUND_TRIP_RTOL = 1e-6
_DEEPEST_DECADE = 300  # u = 1e-300: near the smallest normal double
# With no known family, the tail must be trusted this deep, and its local index is read
# from the last ten trusted decades.
_MIN_DECADES = 30
_WINDOW = 10
# Decision band on p * xi (xi = 1 / tail index): E|X|^p is declared finite below 1 - band
# and infinite above 1 + band; inside, convergence hangs on slowly varying factors that
# no finite quantile range can see, and the function raises. The same band bounds the
# spread of p * xi over the window (a tail that has not settled).
_BAND = 0.05
_QUAD_RTOL = 1e-10
_REMAINDER_WARN = 0.5
_LOG_MAX = math.log(np.finfo(np.float64).max)
# The kept part's integrand is rescaled when it exceeds e^_REBASE in units of Q(kappa)^p:
# below, nothing overflows (the integral is at most s0 - s_kappa < 700 times its peak).
_REBASE = 300.0


def _frozen_shapes(dist: Any) -> dict[str, float]:
    """Shape parameters of a frozen scipy distribution, by name."""
    names = [s.strip() for s in (dist.dist.shapes or "").split(",") if s.strip()]
    values = dict(zip([*names, "loc", "scale"], dist.args, strict=False))
    values.update(dist.kwds)
    return {k: float(v) for k, v in values.items()}


def _check_dist(dist: Any) -> Any:
    """Return ``dist`` if it is a frozen continuous scipy.stats distribution, else raise."""
    family = getattr(dist, "dist", None)
    if not isinstance(family, stats.rv_continuous) or not hasattr(dist, "isf"):
        raise InvalidArgumentError(
            "`dist` must be a frozen continuous scipy.stats distribution such as "
            f"scipy.stats.t(5), got {type(dist).__name__}"
        )
    try:
        shapes = _frozen_shapes(dist)
    except (TypeError, ValueError) as exc:  # a parameter that is not a number
        raise InvalidArgumentError(f"`dist` must have real parameters: {exc}") from exc
    listed = ", ".join(f"{k}={v:g}" for k, v in shapes.items())
    if not all(math.isfinite(v) for v in shapes.values()):
        raise InvalidArgumentError(
            f"`dist` must have finite parameters, got scipy.stats.{family.name}({listed})"
        )
    with np.errstate(all="ignore"):
        support = [float(v) for v in dist.support()]
    if any(math.isnan(v) for v in support):
        # scipy marks parameters outside a family's domain (a scale <= 0, t's df <= 0,
        # pareto's b <= 0, ...) by a NaN support; every other answer would be a NaN too.
        raise InvalidArgumentError(
            f"`dist` has parameters outside the domain of its family: "
            f"scipy.stats.{family.name}({listed})"
        )
    loc, scale = shapes.pop("loc", 0.0), shapes.pop("scale", 1.0)
    if family.name == "levy_stable" and shapes["alpha"] == 2.0:
        # the Gaussian N(loc, 2 scale^2), in S0 and S1 alike
        family, shapes, scale = stats.norm, {}, math.sqrt(2.0) * scale
    if scale == 1.0 and family is dist.dist:
        return dist
    # G_p is scale invariant (Q of |cX| is c Q): the law of X / scale, loc / scale + Y
    # with Y of scale 1, has the same limit, and its quantiles stay inside the double
    # range whatever the scale (a scale of 1e308 or 1e-320 would overflow or underflow).
    rel_loc = loc / scale
    if not math.isfinite(rel_loc):
        raise InvalidArgumentError(
            f"`dist` has loc / scale = {loc:g} / {scale:g} beyond the double range: "
            f"scipy.stats.{family.name}({listed})"
        )
    return family(*shapes.values(), loc=rel_loc, scale=1.0)


class _AbsQuantile:
    """Upper quantile function of |X|: Q(u) = the t >= 0 with P(|X| > t) = u.

    Support in [0, inf): Q(u) = isf(u). Support in (-inf, 0]: Q(u) = -ppf(u). Otherwise
    isf(u / 2) (exact for a law symmetric about 0) is used where it reproduces u, and a
    bracketed root of P(X > t) + P(X < -t) = u is found elsewhere.
    """

    def __init__(self, dist: Any) -> None:
        self.dist = dist
        lo, hi = (float(v) for v in dist.support())
        self.mode = "positive" if lo >= 0.0 else "negative" if hi <= 0.0 else "symmetric"
        self.bounded = math.isfinite(lo) and math.isfinite(hi)

    def survival(self, t: FloatArray) -> FloatArray:
        """P(|X| > t) for t >= 0."""
        if self.mode == "positive":
            return np.asarray(self.dist.sf(t), dtype=np.float64)
        if self.mode == "negative":
            return np.asarray(self.dist.cdf(-t), dtype=np.float64)
        return np.asarray(self.dist.sf(t) + self.dist.cdf(-t), dtype=np.float64)

    def _root(self, u: float) -> float:
        d = self.dist
        lo = max(0.0, min(float(d.isf(u)), -float(d.ppf(u))))
        hi = max(0.0, float(d.isf(0.5 * u)), -float(d.ppf(0.5 * u)))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return math.nan

        def excess(t: float) -> float:
            return float(d.sf(t) + d.cdf(-t)) - u

        f_lo, f_hi = excess(lo), excess(hi)
        if f_lo <= 0.0:
            return lo
        if f_hi >= 0.0:
            return hi
        return float(optimize.brentq(excess, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps))

    def direct(self, u: FloatArray) -> FloatArray:
        """Q(u) without root finding: NaN where isf(u / 2) does not reproduce u."""
        u = np.atleast_1d(np.asarray(u, dtype=np.float64))
        if self.mode != "symmetric":
            return self(u)
        q = np.asarray(self.dist.isf(0.5 * u), dtype=np.float64)
        with np.errstate(invalid="ignore"):
            miss = np.abs(self.survival(np.maximum(q, 0.0)) / u - 1.0)
        good = (q >= 0.0) & (miss <= 1e-9)
        # Deep in the tail scipy's own round trip drifts; the decades trusted by
        # _trusted_decades (to _ROUND_TRIP_RTOL) carry a weight of at most
        # (1e-100)^0.05 = 1e-5 of the integral (p xi < 0.95), so a 1e-6 error there
        # moves it by < 1e-10.
        good |= (u < 1e-100) & (q >= 0.0) & (miss <= _ROUND_TRIP_RTOL)
        if self.bounded:
            # Near the end of a bounded support P(|X| > Q(u)) cannot reproduce a tiny u
            # (one rounding of Q moves it by ~1e-16 absolute), but any candidate there
            # is within O(u) of the bound, relatively: below u = 1e-6 that moves the
            # integral (whose weight there is u) by less than 1e-12 of itself.
            good |= (u < 1e-6) & (q >= 0.0) & np.isfinite(q)
        return np.where(good, q, np.nan)

    def __call__(self, u: FloatArray) -> FloatArray:
        u = np.atleast_1d(np.asarray(u, dtype=np.float64))
        if self.mode == "positive":
            return np.asarray(self.dist.isf(u), dtype=np.float64)
        if self.mode == "negative":
            return -np.asarray(self.dist.ppf(u), dtype=np.float64)
        q = np.asarray(self.dist.isf(0.5 * u), dtype=np.float64)
        with np.errstate(invalid="ignore"):
            good = (q >= 0.0) & (np.abs(self.survival(np.maximum(q, 0.0)) / u - 1.0) <= 1e-9)
        for i in np.flatnonzero(~good):
            q[i] = self._root(float(u[i]))
        return q


def _trusted_decades(q_of: _AbsQuantile) -> tuple[FloatArray, FloatArray]:
    """Return (u, Q(u)) at u = 10^-1 ... 10^-j, down to the last decade that is trusted.

    A decade is trusted while Q is finite, non-decreasing as u falls, and reproduces u
    to _ROUND_TRIP_RTOL. Evaluation proceeds ten decades at a time and stops at the first
    untrusted one, so a slow quantile function is not called far past its range.
    """
    us: list[float] = []
    qs: list[float] = []
    for start in range(1, _DEEPEST_DECADE + 1, 10):
        u = 10.0 ** -np.arange(start, min(start + 10, _DEEPEST_DECADE + 1), dtype=np.float64)
        with np.errstate(all="ignore"):
            q = q_of(u)
            ok = np.isfinite(q) & (q > 0.0)
            back = np.where(ok, q_of.survival(np.where(ok, q, 1.0)), np.nan)
            ok &= np.abs(back / u - 1.0) <= _ROUND_TRIP_RTOL
        for ui, qi, oki in zip(u, q, ok, strict=True):
            if not oki or (qs and qi < qs[-1]):
                return np.array(us), np.array(qs)
            us.append(float(ui))
            qs.append(float(qi))
    return np.array(us), np.array(qs)


def _tail_index_from_quantiles(u: FloatArray, q: FloatArray, p: float) -> float:
    """Extreme-value index xi = -d log Q / d log u over the last trusted decades.

    Raises EstimationError when the decades do not reach 10^-_MIN_DECADES, when p xi
    has not settled over the last _WINDOW decades, or when p xi is within _BAND of 1.
    """
    if u.size < _MIN_DECADES:
        reached = f"{u[-1]:.0e}" if u.size else "none"
        raise EstimationError(
            "cannot decide whether E|X|^p is finite: the quantile function of `dist` is "
            f"trusted only down to u = {reached} (need 1e-{_MIN_DECADES}); its family has "
            "no tail index on record"
        )
    xi = np.diff(np.log(q[-_WINDOW - 1 :])) / math.log(10.0)
    spread = p * float(xi.max() - xi.min())
    last = p * float(xi[-1])
    if spread > _BAND:
        raise EstimationError(
            f"cannot decide whether E|X|^p is finite: p * xi of `dist` still moves by "
            f"{spread:.3f} over u in [{u[-1]:.0e}, {u[-_WINDOW - 1]:.0e}]"
        )
    if abs(last - 1.0) <= _BAND:
        raise EstimationError(
            f"cannot decide whether E|X|^p is finite: the tail index of |X| looks like "
            f"{1.0 / xi[-1]:.4g}, within {_BAND} (relative) of p = {p:g}, where slowly "
            "varying factors decide"
        )
    return float(xi[-1])


def limit_relative_error(dist: Any, kappa: float, p: float = 2.0) -> float:
    r"""Almost-sure limit G_p[X](kappa) of the relative error of an i.i.d. vector.

    For x = (X_1, ..., X_n) with i.i.d. entries distributed as X and E|X|^p < inf,
    sigma_k(x)_p / ||x||_p -> G_p[X](kappa) almost surely as n -> inf, with

    .. math::

        G_p[X](\kappa)^p = \frac{\int_\kappa^1 Q(u)^p\,du}{\int_0^1 Q(u)^p\,du}
        = \frac{E[|X|^p 1\{|X| \le \tau\}]}{E|X|^p}, \qquad P(|X| > \tau) = \kappa,

    where Q is the upper quantile function of |X| (Q(u) = the t with P(|X| > t) = u).
    If E|X|^p = inf the relative error tends to 0 and 0.0 is returned (Gribonval, Cevher
    & Davies 2012, Prop. 1 and Thm. 1; Silva & Derpich 2015; THEORY.md section 1).

    How E|X|^p = inf is decided (docs/compressibility.md, section 1):

    1. Families with an exactly known power tail of index alpha (t, cauchy, halfcauchy,
       pareto, lomax, levy, levy_l, invgamma, and levy_stable with alpha < 2): the
       moment is infinite iff alpha <= p. levy_stable with alpha = 2 is the Gaussian.
    2. Any other family: the local extreme-value index xi(u) = -d log Q / d log u is read
       from Q at u = 1e-1, ..., 1e-300, down to the last u that Q reproduces
       (P(|X| > Q(u)) = u to 1e-6). It must be trusted to at least 1e-30, p xi must vary
       by at most 0.05 over the last ten decades, and p xi must be outside [0.95, 1.05];
       then the moment is infinite iff p xi > 1. Otherwise an EstimationError is raised.

    Numerics: with u = e^-s, both integrals are quadratures in s of Q(e^-s)^p e^-s
    (smooth, and exponentially decaying when the moment is finite), scaled by Q(kappa)^p.
    They are computed by 20-point Gauss-Legendre rules on panels (halving towards s = 0,
    at most 2 wide elsewhere) with all nodes in one vectorised call of scipy's quantile
    function, and accepted when a 10-point rule agrees to 1e-12 relative; otherwise
    (a kink in Q, or a quantile function that needs root finding) by adaptive
    ``scipy.integrate.quad`` to 1e-10 relative, with a ConvergenceWarning if it falls
    short. Below the deepest trusted u0 the tail is extended as an exact power law,
    int_0^u0 Q^p du = Q(u0)^p u0 / (1 - p xi); an EstimationWarning says when that
    extension carries more than half of E|X|^p.

    Parameters
    ----------
    dist : frozen scipy.stats continuous distribution
        The law of X (e.g. ``scipy.stats.t(5)``), of any location and scale.
    kappa : float
        Fraction kept, in (0, 1].
    p : float, optional
        Norm index, finite and > 0.

    Returns
    -------
    float
        G_p[X](kappa) in [0, 1]; 0.0 when E|X|^p = inf or kappa = 1.

    Raises
    ------
    EstimationError
        When the rule above cannot tell whether E|X|^p is finite (borderline tail
        index, or a quantile function that cannot be trusted deep enough), or when kappa
        lies below the trusted range of Q.

    Notes
    -----
    Not checked: a law whose local index is still above 1/p at u = 1e-300 but whose
    moment is finite (a lognormal with sigma >= 20 at p = 2) is treated as having an
    infinite moment; its true G_p is below 1e-150 there. Closed forms for the Gaussian,
    Laplace, uniform and Pareto laws are derived in docs/compressibility.md (section 1)
    and checked against this function. Speed: about 0.1-0.5 s for laws whose quantile
    function scipy evaluates in closed form; tens of seconds for ``levy_stable`` with
    alpha > p, whose quantiles scipy finds numerically.

    Examples
    --------
    >>> from scipy import stats
    >>> round(limit_relative_error(stats.pareto(3.0), 0.5), 6)  # sqrt(1 - 0.5^(1/3))
    0.454202
    """
    dist = _check_dist(dist)
    kappa = check_kappa(kappa)
    p = check_p(p)
    if kappa == 1.0:
        return 0.0
    family = dist.dist.name
    known = _KNOWN_TAIL_INDEX.get(family)
    if known is not None:
        index = known(_frozen_shapes(dist))
        if index <= p:
            return 0.0
    q_of = _AbsQuantile(dist)
    bound = max(abs(float(v)) for v in dist.support())
    if math.isfinite(bound):
        # |X| <= bound: every moment is finite, and Q is integrated down to u = 1e-300
        # (its values there are accurate in absolute terms even where P(|X| > Q(u))
        # cannot reproduce u, as near the end of a uniform law's support).
        xi, u0, q0 = 0.0, 10.0**-_DEEPEST_DECADE, bound
    else:
        u, q = _trusted_decades(q_of)
        if known is not None:
            if u.size == 0:
                raise EstimationError(
                    "the quantile function of `dist` does not reproduce u = 0.1; "
                    "cannot integrate it"
                )
            xi = 1.0 / index
        else:
            xi = _tail_index_from_quantiles(u, q, p)
            if p * xi > 1.0:
                return 0.0
        u0, q0 = float(u[-1]), float(q[-1])
    if kappa < u0:
        raise EstimationError(
            f"`kappa` = {kappa!r} is below the smallest u = {u0:.0e} at which the quantile "
            "function of `dist` can be trusted"
        )
    q_kappa = float(q_of(np.array([kappa]))[0])
    if not q_kappa > 0.0:
        # P(|X| > 0) <= kappa: the kept entries carry all of E|X|^p.
        return 0.0
    log_ref = p * math.log(q_kappa)
    s_kappa, s0 = -math.log(kappa), -math.log(u0)

    def integrals(
        ref: float,
    ) -> tuple[Callable[[FloatArray], FloatArray], Callable[[float], float]]:
        """Q(e^-s)^p e^-s / e^ref, vectorised (NaN where Q needs root finding) and scalar."""

        def integrand(s: float) -> float:
            qs = float(q_of(np.array([math.exp(-s)]))[0])
            if qs <= 0.0:
                return 0.0
            return math.exp(min(p * math.log(qs) - ref - s, _LOG_MAX))

        def integrand_vec(s: FloatArray) -> FloatArray:
            qs = q_of.direct(np.exp(-s))
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                values = np.exp(p * np.log(qs) - ref - s)  # NaN where Q is NaN: kept
            return np.where(qs == 0.0, 0.0, values)

        return integrand_vec, integrand

    # On [0, s_kappa] (u >= kappa, the dropped entries) Q(u) <= Q(kappa): in units of
    # Q(kappa)^p the integrand is at most 1. On [s_kappa, s0] (the kept entries) it grows
    # like (Q(u) / Q(kappa))^p, which overflows for a large p: that integral gets its
    # own unit, the largest value of the integrand on its nodes when that is above
    # e^_REBASE, and the sums are then taken in logarithms.
    dropped = _integrate(*integrals(log_ref), 0.0, s_kappa)
    log_kept = -math.inf
    if s0 > s_kappa:
        ref_in = log_ref + max(0.0, _log_peak(q_of, p, s_kappa, s0, log_ref) - _REBASE)
        kept = _integrate(*integrals(ref_in), s_kappa, s0)
        log_kept = ref_in + math.log(kept) if kept > 0.0 else -math.inf
    log_remainder = log_ref + p * math.log(q0 / q_kappa) - s0 - math.log1p(-p * xi)
    log_dropped = log_ref + math.log(dropped) if dropped > 0.0 else -math.inf
    log_total = float(np.logaddexp.reduce([log_dropped, log_kept, log_remainder]))
    if not (math.isfinite(log_dropped) and math.isfinite(log_total)):
        # p so large that Q(u)^p underflows or overflows even in these units.
        raise EstimationError(
            f"`p` = {p:g} is too large for `dist`: E|X|^p cannot be integrated in the double range"
        )
    remainder_share = math.exp(log_remainder - log_total)
    if remainder_share > _REMAINDER_WARN:
        warnings.warn(
            f"more than half of E|X|^p lies beyond u = {u0:.0e}, where the tail of |X| is "
            f"extended as an exact power law of index {1.0 / xi if xi > 0 else math.inf:.4g}",
            EstimationWarning,
            stacklevel=2,
        )
    return float(math.exp(min(log_dropped - log_total, 0.0) / p))


# Fast path of the quadrature: Gauss-Legendre rules of two orders on fixed panels, all
# nodes evaluated in one vectorised call of the quantile function. Panels halve towards
# s = 0 (u = 1), where Q(e^-s)^p may behave like s^p, and are at most _PANEL wide
# elsewhere (the integrand there is smooth and decays at most like e^-s). The result is
# accepted when the two orders agree to _PANEL_RTOL relative; otherwise (a kink in Q, a
# quantile function that needs root finding) adaptive quadrature takes over.
_GL_HIGH = np.polynomial.legendre.leggauss(20)
_GL_LOW = np.polynomial.legendre.leggauss(10)
_PANEL = 2.0
_HALVINGS = 60
_PANEL_RTOL = 1e-12


def _panel_edges(a: float, b: float) -> FloatArray:
    """Panel edges on [a, b] from one grid: 2^-60, ..., 1/2, 1 (each panel at least as far
    from s = 0 as it is wide, where Q(e^-s)^p may behave like s^p), then steps of
    _PANEL."""
    geometric = 2.0 ** -np.arange(_HALVINGS, -1, -1, dtype=np.float64)
    steps = 1.0 + _PANEL * np.arange(1, max(1, math.ceil((b - 1.0) / _PANEL)) + 1)
    grid = np.concatenate((geometric, steps))
    inner = grid[(grid > a) & (grid < b)]
    return np.concatenate(([a], inner, [b]))


def _gauss_panels(f: Callable[[FloatArray], FloatArray], edges: FloatArray) -> tuple[float, float]:
    """(20-point, 10-point) Gauss-Legendre sums of f over the panels between ``edges``."""
    lo, hi = edges[:-1, None], edges[1:, None]
    half, mid = 0.5 * (hi - lo), 0.5 * (hi + lo)
    out = []
    for nodes, weights in (_GL_HIGH, _GL_LOW):
        values = f((mid + half * nodes).ravel()).reshape(-1, nodes.size)
        out.append(float(np.sum(half[:, 0] * (values @ weights))))
    return out[0], out[1]


def _integrate(
    f_vec: Callable[[FloatArray], FloatArray],
    f: Callable[[float], float],
    a: float,
    b: float,
) -> float:
    """Integral of f on [a, b]: the panel rule when its two orders agree, else quad."""
    with np.errstate(all="ignore"):
        high, low = _gauss_panels(f_vec, _panel_edges(a, b))
    if math.isfinite(high) and abs(high - low) <= _PANEL_RTOL * abs(high):
        return high
    return _quad(f, a, b)


def _log_peak(q_of: _AbsQuantile, p: float, a: float, b: float, log_ref: float) -> float:
    """Largest p log Q(e^-s) - s - log_ref over the panel nodes on [a, b] (0 if none finite)."""
    edges = _panel_edges(a, b)
    lo, hi = edges[:-1, None], edges[1:, None]
    nodes = (0.5 * (hi + lo) + 0.5 * (hi - lo) * _GL_HIGH[0]).ravel()
    with np.errstate(all="ignore"):
        values = p * np.log(q_of.direct(np.exp(-nodes))) - nodes - log_ref
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else 0.0


def _quad(f: Callable[[float], float], a: float, b: float) -> float:
    """Adaptive quadrature of f on [a, b]; a ConvergenceWarning if it misses _QUAD_RTOL."""
    value, abserr, info, *rest = integrate.quad(
        f, a, b, epsabs=0.0, epsrel=_QUAD_RTOL, limit=500, full_output=1
    )
    if rest and abserr > 1e3 * _QUAD_RTOL * abs(value):
        warnings.warn(
            f"quadrature on [{a:.3g}, {b:.3g}] reached relative error {abserr / abs(value):.1e} "
            f"only ({info.get('last', '?')} subintervals)",
            ConvergenceWarning,
            stacklevel=3,
        )
    return float(value)


# --------------------------------------------------------------------------------------
# Rates for power tails.


def compressibility_exponent(alpha: float, p: float = 2.0) -> float:
    r"""Exponent r in relative error ~ n^r (a random O(1) factor) for tail index alpha.

    For i.i.d. entries with P(|X| > t) ~ c t^(-alpha):

    .. math::

        r = \frac1p - \frac1\alpha \quad (\alpha < p), \qquad r = 0 \quad (\alpha \ge p).

    For alpha < p the error tends to 0 like n^r (THEORY.md section 1, "Rate";
    derivation in docs/compressibility.md, section 2). For alpha > p it tends to G_p > 0 (see
    :func:`limit_relative_error`). At alpha = p the error still tends to 0, but like
    (log n)^(-1/p), slower than any power, so the exponent is 0.

    Parameters
    ----------
    alpha : float
        Tail index of |X|, finite and at least 1 / 1.797e308 = 5.56e-309 (so that
        1 / alpha is a finite double).
    p : float, optional
        Norm index, finite and at least 5.56e-309, for the same reason.

    Returns
    -------
    float
        r <= 0, finite.

    Raises
    ------
    InvalidArgumentError
        ``alpha`` or ``p`` outside its domain; the message names it.

    Examples
    --------
    >>> compressibility_exponent(1.0)
    -0.5
    """
    alpha = check_reciprocal(alpha, "alpha")
    p = check_reciprocal(p, "p")
    return 1.0 / p - 1.0 / alpha if alpha < p else 0.0


# Above this p / alpha, q / beta = q^2 in the stable moments overflows a double.
_MAX_Q = 1e150


def _log_negative_stable_moment(q: float, beta: float) -> float:
    """log E[S^-q] for the positive beta-stable S with E exp(-lam S) = exp(-Gamma(1-beta) lam^beta).

    E S^-q = Gamma(1 + q / beta) / Gamma(1 + q) Gamma(1 - beta)^(-q / beta), from
    S^-q = (1 / Gamma(q)) int_0^inf lam^(q-1) e^(-lam S) d lam (docs/compressibility.md,
    section 3). In logs: for small beta the factors overflow separately.
    """
    with np.errstate(all="ignore"):  # overflow is reported by the caller's check
        return float(
            special.gammaln(1.0 + q / beta)
            - special.gammaln(1.0 + q)
            - (q / beta) * special.gammaln(1.0 - beta)
        )


def expected_relative_error(
    alpha: float,
    n: int,
    kappa: float,
    p: float = 2.0,
    *,
    correction: bool = True,
) -> float:
    r"""Predicted mean relative error of n i.i.d. exact-Pareto entries, alpha < p.

    For P(|X| > t) = (t / t0)^(-alpha), t >= t0 (the error does not depend on t0), and
    q = p / alpha > 1, k = the kept count of :func:`relative_error`, the derivation in
    docs/compressibility.md (section 3) gives

    .. math::

        E\Big[\frac{\sigma_k(x)_p}{\|x\|_p}\Big] \approx A^{1/p}
        \Big(M(1/p) + \frac{r}{p} M(1/p + 1)\Big),

        A = \frac{(k + \tfrac12)^{1-q} - (n + \tfrac12)^{1-q}}{q - 1}, \quad
        r = \frac{(n + \tfrac12)^{1-q}}{q - 1}, \quad
        M(s) = \frac{\Gamma(1 + s q)}{\Gamma(1 + s)}\,\Gamma(1 - 1/q)^{-s q}.

    A is the (nearly deterministic) sum of the n - k smallest |X_i|^p in the units of
    the Renyi representation, M(s) = E S^-s is a negative moment of the positive
    (alpha/p)-stable limit S of the whole sum, and the r term is the first-order
    correction for the part of S that n terms do not reach. As n grows the value is
    n^(1/p - 1/alpha) ((kappa^(1-q) - 1) / (q - 1))^(1/p) M(1/p) (1 + o(1)): the rate of
    :func:`compressibility_exponent`.

    The mean (not the median) is predicted because it has this closed form through the
    negative moments of S, because the error lies in [0, 1] so every moment exists, and
    because a mean over replicates has a normal-theory interval to test it against.

    Parameters
    ----------
    alpha : float
        Tail index, in (0, p): the compressible regime. For alpha >= p use
        :func:`limit_relative_error` with ``scipy.stats.pareto(alpha)``.
    n : int
        Vector length, >= 1.
    kappa : float
        Fraction kept, in (0, 1].
    p : float, optional
        Norm index, finite and > 0.
    correction : bool, optional
        Include the first-order finite-n correction (default). False gives the leading
        term A^(1/p) M(1/p) alone.

    Returns
    -------
    float
        The predicted mean, in [0, 1].

    Raises
    ------
    InvalidArgumentError
        Arguments outside their domains, or alpha >= p.
    EstimationError
        When p / alpha > 1e150: the moments of the stable limit overflow a double.

    Warns
    -----
    EstimationWarning
        When the correction exceeds 10% of the leading term: the neglected second-order
        term is then of order 1% or more, and the approximation should not be trusted
        (alpha close to p, or small n).

    Examples
    --------
    >>> round(expected_relative_error(1.0, 10_000, 0.1), 4)
    0.0191
    """
    alpha = check_real(alpha, "alpha", low=0.0, low_open=True)
    n = check_int(n, "n", low=1)
    kappa = check_kappa(kappa)
    p = check_p(p)
    if not isinstance(correction, bool | np.bool_):
        raise InvalidArgumentError(
            f"`correction` must be True or False, got {type(correction).__name__}"
        )
    if not alpha < p:
        raise InvalidArgumentError(
            f"`alpha` must be in (0, p) = (0, {p:g}) (the compressible regime), got {alpha!r}; "
            "for alpha >= p use limit_relative_error"
        )
    k = kept_count(kappa, n)
    if k == n:
        return 0.0
    q = p / alpha
    if not q < _MAX_Q:
        raise EstimationError(
            f"`alpha` = {alpha!r} is too small against p = {p:g}: the moments of the "
            "stable limit overflow"
        )
    if not q > 1.0:
        raise EstimationError(
            f"`alpha` = {alpha!r} is within rounding of p = {p:g}: p / alpha is 1 in double "
            "precision, where the finite-n terms diverge"
        )
    beta = 1.0 / q
    # log A, A = ((k + 1/2)^(1-q) - (n + 1/2)^(1-q)) / (q - 1), without underflow when q
    # is large: (k + 1/2)^(1-q) (1 - ((n + 1/2) / (k + 1/2))^(1-q)) / (q - 1). The log of
    # (n + 1/2) / (k + 1/2) from the exact integer n - k: for n near 2^53, n + 0.5 and
    # k + 0.5 may round to the same double.
    log_ratio = (1.0 - q) * math.log1p((n - k) / (k + 0.5))  # < 0
    log_a = (1.0 - q) * math.log(k + 0.5) + math.log(-math.expm1(log_ratio)) - math.log(q - 1.0)
    log_lead = _log_negative_stable_moment(1.0 / p, beta)
    if not math.isfinite(log_lead):
        # 1 / p huge: log M(1/p) = log Gamma(1 + q / p) - ... overflows.
        raise EstimationError(
            f"`p` = {p!r} is too small (with `alpha` = {alpha!r}): the negative moment "
            "M(1/p) of the stable limit overflows a double"
        )
    log_mean = log_lead
    if correction:
        # log of the correction's ratio to the leading moment: (r / p) M(1/p + 1) / M(1/p).
        log_r = (1.0 - q) * math.log(n + 0.5) - math.log(q - 1.0)
        log_rel = log_r - math.log(p) + _log_negative_stable_moment(1.0 / p + 1.0, beta) - log_lead
        if math.isnan(log_rel):
            raise EstimationError(
                f"`p` = {p!r} is too small (with `alpha` = {alpha!r}): the moment "
                "M(1/p + 1) of the finite-n correction overflows a double"
            )
        rel = math.exp(min(log_rel, 700.0))
        if rel > 0.1:
            warnings.warn(
                f"the finite-n correction is {rel:.3g} times the leading term "
                f"(alpha = {alpha:g}, p = {p:g}, n = {n}): the approximation is unreliable",
                EstimationWarning,
                stacklevel=2,
            )
        log_mean += math.log1p(rel)
    log_value = log_a / p + log_mean
    return float(math.exp(min(log_value, 0.0)))
