"""The block-sum estimator of the stable index (Mohammadi, Mohammadpour & Ogata 2015).

Mohammadi, M., Mohammadpour, A. and Ogata, H. (2015). On estimating the tail index and
the spectral measure of multivariate alpha-stable distributions. Metrika 78(5), 549-561.

If X_1, ..., X_K1 are i.i.d. *strictly* stable with index alpha, their sum has the law of
K1^(1/alpha) X_1 (Samorodnitsky & Taqqu 1994, Property 1.2.1 / Corollary 2.1.3). Taking
logs of magnitudes, E log|X_1 + ... + X_K1| - E log|X_1| = (1/alpha) log K1, which the
estimator reads off the sample with sample means. The same holds for the Euclidean norm
of strictly stable random vectors (elliptic, or with i.i.d. stable coordinates), which
is the multivariate version.

What it assumes, and how it fails (docs/theory.md, section 4): the data must be exactly,
strictly stable and centred. On other heavy tails it estimates something else (about
1.6-1.7 on Student-t with 3 degrees of freedom); on uncentred data it collapses towards
1, because the shift grows like K1 while the stable part grows like K1^(1/alpha). It is
never capped here: an estimate above 2 is returned as it is, with a warning.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import ndtri

from heavytail._lib._errors import EstimationError, InvalidArgumentError
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import as_sample, check_int

from ._center import apply_center, check_center
from ._result import TailEstimate

__all__ = ["DEFAULT_BLOCK_SIZE", "block_sum_estimator", "uncentred_message"]


_Z = float(ndtri(0.975))

# K1 = 10. For strictly stable data the estimator is unbiased in 1/alpha for every K1, and
# its variance is about Var(log|Y|) / (K2 log(K1)^2) with K2 = n / K1 blocks, i.e.
# proportional to K1 / log(K1)^2, which is smallest at K1 = e^2 ~ 7.4 and within 2% of
# that minimum at 10.
DEFAULT_BLOCK_SIZE = 10

# Uncentred data (shared with the "auto" rule). The centre is the 25%-trimmed mean m (the
# mean of the middle half), with the Tukey-McLaughlin standard error
# se = s_w / (0.5 sqrt(n)), s_w the standard deviation of the 25%-winsorized sample
# (Wilcox 2012, "Introduction to robust estimation", 3.2). It is used rather than the
# median because the median's standard error blows up when the law has little mass at its
# centre (symmetric Pareto has none in (-1, 1), so its median sits near +-1). The data
# look uncentred when they take both signs and |m| exceeds both 10% of the interquartile
# range (a shift that visibly moves the body) and 4 standard errors (a false alarm on
# centred symmetric data has probability about 6e-5).
UNCENTRED_IQR_FRACTION = 0.1
UNCENTRED_Z = 4.0


def uncentred_message(x: FloatArray) -> str | None:
    """A message if the 1-D sample ``x`` looks uncentred (see the module constants), else None.

    One-sided samples (all >= 0 or all <= 0) are never called uncentred: there the
    magnitudes themselves are the point.
    """
    if x.ndim != 1 or x.size < 4 or x.min() >= 0 or x.max() <= 0:
        return None
    q25, q75 = np.quantile(x, [0.25, 0.75])
    iqr = float(q75 - q25)
    if not (iqr > 0 and math.isfinite(iqr)):
        return None
    # In units of the interquartile range, so that squares neither overflow nor underflow.
    wins = np.clip(x, q25, q75) / iqr
    middle = x[(x >= q25) & (x <= q75)] / iqr
    centre = float(np.mean(middle)) * iqr
    se = float(np.std(wins, ddof=1)) * iqr / (0.5 * math.sqrt(x.size))
    if abs(centre) > UNCENTRED_IQR_FRACTION * iqr and abs(centre) > UNCENTRED_Z * se:
        return (
            f"the data look uncentred: their centre (25%-trimmed mean) is {centre:.3g}, "
            f"against an interquartile range of {iqr:.3g}"
        )
    return None


def _log_magnitudes(x: FloatArray) -> FloatArray:
    """log|x_j| (1-D) or log ||x_j||_2 (rows of 2-D), without overflow or underflow."""
    if x.ndim == 1:
        return np.log(np.abs(x))
    peak = float(np.max(np.abs(x)))  # > 0: the caller has refused all-zero data
    return np.log(np.linalg.norm(x / peak, axis=1)) + math.log(peak)


def block_sum_estimator(x: Any, *, block_size: Any = None, center: Any = None) -> TailEstimate:
    r"""Mohammadi-Mohammadpour-Ogata block-sum estimator of the stable index.

    The first K = K1 K2 observations (K1 = ``block_size``, K2 = floor(n / K1) blocks)
    are summed in consecutive blocks of K1, Y_i = X_{(i-1)K1+1} + ... + X_{i K1}, and

    .. math::

        \frac{1}{\hat\alpha} = \frac{1}{\log K_1}\Big[\frac{1}{K_2}\sum_{i=1}^{K_2}
        \log|Y_i| - \frac{1}{n}\sum_{j=1}^{n} \log|X_j|\Big]

    (Mohammadi, Mohammadpour & Ogata 2015, Metrika 78, eq. (3)). The second mean runs over
    all n observations, the remainder of fewer than K1 that fill no block included, so
    that no data are dropped. For a 2-D ``x`` of shape (n, d), rows are vectors, the
    sums are vector sums and |.| is the Euclidean norm (their Section 3).

    Estimand: the *stable index* of centred, strictly stable data. For such data it is
    unbiased in 1/alpha for every K1. It is not a tail-index estimator for other laws:
    see the module notes for its failures on non-stable tails and uncentred data.

    Interval. 1/alpha_hat is a mean over independent blocks: with
    T_i = log|Y_i| / K2 - (sum of log|X_j| over block i) / n and R the remainder's
    -(sum of log|X_j|) / n, Var(1/alpha_hat) log(K1)^2 = K2 Var(T) + r Var(log|X|) / n^2
    (r the remainder's size), estimated by sample variances. The normal 95% interval of
    1/alpha is mapped to alpha (decreasing map), with an infinite upper end when the
    interval of 1/alpha reaches 0.

    Parameters
    ----------
    x : array_like, 1-D of shape (n,) or 2-D of shape (n, d)
        Real, finite; at least 2 K1 observations (rows), no zero entry (zero row).
    block_size : int or None
        K1, an integer with 2 <= K1 <= n / 2 (at least two blocks, so that the interval
        can be estimated). None (default) uses ``DEFAULT_BLOCK_SIZE`` = 10 (see there
        why). A block size that does not fit is an error; it is never shrunk.
    center : None, "median" or float
        Subtracted before estimating (:mod:`heavytail.theory._center`): None (default)
        uses ``x`` as given, bit for bit as without the option; ``"median"`` subtracts
        the sample median (of each coordinate for 2-D data), a number subtracts itself.
        Recorded in ``settings["center"]`` and ``settings["center_value"]`` when given;
        the "uncentred" check is then not run. The median of an odd number of values is
        one of them, which centring makes exactly 0: such observations (those equal to
        the centre) count in their blocks' sums but not in the mean of log|X_j|, whose
        log is -inf (an O(1/n) change); ``settings["n_at_center"]`` counts them.

    Returns
    -------
    TailEstimate
        ``method="block_sum"``, ``estimand="stable index"``; ``settings`` holds
        ``block_size``, ``n_blocks``, ``n_remainder`` and ``dim``. ``warnings`` says when
        the estimate is above 2 (not a stable index: the data are not stable) and when
        1-D data look uncentred.

    Raises
    ------
    InvalidArgumentError
        For bad ``x`` (empty, non-real, non-finite, not 1-D or 2-D, all entries or all
        rows equal) or a ``block_size`` that is not an integer in [2, n / 2].
    EstimationError
        If an observation or a block sum is exactly 0 (its log is -inf), or if
        1/alpha_hat <= 0 (the block sums are not larger than the observations, so no
        positive index fits).

    Examples
    --------
    >>> from heavytail.theory import block_sum_estimator, sample_stable
    >>> est = block_sum_estimator(sample_stable(1.2, 100_000, rng=3))
    >>> bool(abs(est.alpha - 1.2) < 0.05)
    True
    """
    given = check_center(center)
    centred, centring = apply_center(x, given, ndim=(1, 2))
    data = as_sample(centred, "x", ndim=(1, 2), min_size=2, allow_constant=False)
    n = data.shape[0]
    if data.ndim == 2 and np.all(data == data[0]):
        raise InvalidArgumentError("`x` must not have all rows equal: such a sample has no tail")
    if n < 4:
        raise InvalidArgumentError(
            f"`x` must hold at least 4 observations for the block-sum estimator (two blocks "
            f"of at least 2), got {n}"
        )
    if block_size is None:
        k1 = DEFAULT_BLOCK_SIZE
        if 2 * k1 > n:
            raise InvalidArgumentError(
                f"`block_size` defaults to {DEFAULT_BLOCK_SIZE}, which needs at least "
                f"{2 * DEFAULT_BLOCK_SIZE} observations (two blocks), got n = {n}; "
                "pass a smaller `block_size` explicitly"
            )
    else:
        check_int(block_size, "block_size")
        k1 = int(block_size)
        if k1 < 2 or 2 * k1 > n:
            raise InvalidArgumentError(
                f"`block_size` must satisfy 2 <= block_size <= n / 2 (at least two blocks; "
                f"here n = {n}), got {k1}"
            )
    k2 = n // k1
    used = k1 * k2
    with np.errstate(divide="ignore"):
        log_x = _log_magnitudes(data)
    if given is not None:
        # Observations equal to the chosen centre: excluded from the mean of log|X_j| by
        # standing in for them with the mean of the others (see ``center`` above).
        at_center = ~np.isfinite(log_x)
        centring["n_at_center"] = int(np.count_nonzero(at_center))
        if at_center.any() and not at_center.all():
            log_x[at_center] = float(np.mean(log_x[~at_center]))
    if not np.all(np.isfinite(log_x)):
        zeros = int(np.count_nonzero(~np.isfinite(log_x)))
        raise EstimationError(
            f"`x` has {zeros} zero {'entries' if data.ndim == 1 else 'rows'}: their log "
            "magnitude is -inf, so the block-sum estimator is undefined"
        )
    # Sums of blocks, computed on data divided by their largest magnitude (the estimator is
    # scale-free) so that no sum overflows.
    peak = float(np.max(np.abs(data)))
    blocks = (data[:used] / peak).reshape((k2, k1, *data.shape[1:])).sum(axis=1)
    with np.errstate(divide="ignore"):
        log_y = _log_magnitudes(blocks) + math.log(peak)
    if not np.all(np.isfinite(log_y)):
        zeros = int(np.count_nonzero(~np.isfinite(log_y)))
        raise EstimationError(
            f"{zeros} of the {k2} block sums of `x` are exactly 0: their log magnitude is "
            "-inf, so the block-sum estimator is undefined (discrete data that cancel?)"
        )
    log_k1 = math.log(k1)
    block_logs = log_x[:used].reshape(k2, k1).sum(axis=1)
    rest = log_x[used:]
    xi = (float(np.mean(log_y)) - float(np.mean(log_x))) / log_k1
    if not (math.isfinite(xi) and xi > 0):
        raise EstimationError(
            f"the block-sum estimate of 1/alpha is not positive ({xi:.4g}): the block sums "
            "are not larger than the observations, so no positive index fits these data"
        )
    t = log_y / k2 - block_logs / n
    var = k2 * float(np.var(t, ddof=1)) if k2 > 1 else 0.0
    if rest.size > 1:
        var += rest.size * float(np.var(rest, ddof=1)) / n**2
    se = math.sqrt(var) / log_k1
    low = 1.0 / (xi + _Z * se)
    high = 1.0 / (xi - _Z * se) if xi > _Z * se else math.inf
    alpha = 1.0 / xi
    warnings: list[str] = []
    if alpha > 2.0:
        warnings.append(
            f"the block-sum estimate {alpha:.3g} is above 2, which no stable index can be: "
            "the data are not stable (or not centred), so the estimator's assumption "
            "fails; the number is reported as it is, not capped"
        )
    if data.ndim == 1 and given is None:
        message = uncentred_message(data)
        if message is not None:
            warnings.append(
                f"{message}; the block-sum estimator assumes centred, strictly stable "
                "data, and a shift pulls it towards 1"
            )
    return TailEstimate(
        alpha=alpha,
        ci=(low, high),
        method="block_sum",
        estimand="stable index",
        n=n,
        settings={
            "block_size": k1,
            "n_blocks": k2,
            "n_remainder": n - used,
            "dim": 1 if data.ndim == 1 else int(data.shape[1]),
            "ci_method": "asymptotic normal (delta method)",
            **centring,
        },
        warnings=tuple(warnings),
    )
