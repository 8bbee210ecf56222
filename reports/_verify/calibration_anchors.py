"""The two anchors of the estimators' calibration table (docs/calibration.py).

- "powerlaw": the ``powerlaw`` package's ``Fit`` (Alstott, Bullmore & Plenz 2014), whose
  pdf exponent minus 1 is the tail index, with the minimum-KS choice of ``xmin`` of
  Clauset, Shalizi & Newman (2009) made over a bounded grid of thresholds
  (:func:`powerlaw_fit`);
- "papers": the block-sum recipe of the papers' code (Barsbey et al. 2021,
  ``est_alpha_one`` in ``exp_utils.py`` of github.com/mbarsbey/sgd_comp_gen), written
  out in :func:`papers_block_sum`.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from typing import Any

import numpy as np

from heavytail._lib._types import FloatArray
from heavytail.theory import EstimationError

__all__ = [
    "PAPERS_BLOCK_SIZES",
    "POWERLAW_DENSE_UP_TO",
    "POWERLAW_RATIO",
    "Z95",
    "papers_block_sum",
    "powerlaw_fit",
]


Z95 = 1.959963984540054

# powerlaw anchor: candidate thresholds xmin = X_(k), the k-th largest |x|, for every k in
# [2, POWERLAW_DENSE_UP_TO] and then a geometric grid of ratio POWERLAW_RATIO up to n.
POWERLAW_DENSE_UP_TO = 50
POWERLAW_RATIO = 1.1


def _powerlaw_ks(n: int) -> list[int]:
    ks = list(range(2, min(POWERLAW_DENSE_UP_TO, n) + 1))
    k = float(POWERLAW_DENSE_UP_TO)
    while True:
        k *= POWERLAW_RATIO
        if round(k) >= n:
            break
        ks.append(round(k))
    ks.append(n)
    return sorted(set(ks))


def powerlaw_fit(x: Any) -> tuple[float, tuple[float, float]]:
    """The ``powerlaw`` package's power-law fit of |x|, as a tail index, and its 95% interval.

    For each candidate threshold xmin = X_(k) (the k-th largest |x|; every k in [2, 50],
    then a 10% geometric grid up to n), ``powerlaw.Fit(tail, xmin=xmin)`` fits the continuous
    power law to the values >= xmin (maximum likelihood: pdf exponent
    a = 1 + k / sum log(x_i / xmin)) and gives its Kolmogorov-Smirnov distance D and the
    standard error sigma = (a - 1)/sqrt(k). As in ``Fit.find_xmin``, the threshold with the
    smallest D among the fits that are in range and not flagged as noise is kept (the
    smallest D overall if none is). The tail index is a - 1, with the interval
    a - 1 -+ 1.96 sigma.

    Only the values >= xmin are passed: a fit at a fixed xmin reads only those, so the
    numbers are the ones ``Fit(|x|, xmin=xmin)`` gives, in O(k) instead of O(n log n).
    What differs from ``Fit(|x|)`` is the candidate set: the package tries every distinct
    value of |x| as xmin (O(n^2): about 18 s per fit at n = 1e4 here), this grid 105
    (n = 1e4) to 129 (n = 1e5) of them. The package's prints and warnings are silenced.

    The package's defaults are kept, including the power law's parameter range
    a in [0, 3] (``Power_Law.DEFAULT_PARAMETER_RANGES`` in powerlaw 2.0.0): fits with a
    tail index above 2 are out of range, so this anchor, like ``Fit(|x|)``, reports at
    most 2.
    """
    import powerlaw  # an optional (dev) dependency: imported only when the anchor runs

    mags = np.sort(np.abs(np.asarray(x, dtype=np.float64)))[::-1]
    n = mags.size
    best: tuple[bool, float, float, float] | None = None  # (valid, D, alpha, sigma)
    sink = io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(sink),
        np.errstate(all="ignore"),
    ):
        warnings.simplefilter("ignore")
        for k in _powerlaw_ks(n):
            xmin = float(mags[k - 1])
            if xmin <= 0.0:
                continue
            tail = mags[mags >= xmin]
            pl = powerlaw.Fit(tail, xmin=xmin, verbose=0).power_law
            dist = float(pl.D)
            a = float(pl.alpha)
            s = float(pl.sigma)
            if not (math.isfinite(dist) and math.isfinite(a)):
                continue
            valid = bool(pl.in_range()) and not bool(pl.noise_flag)
            cand = (valid, dist, a, s)
            if best is None or (valid, -dist) > (best[0], -best[1]):
                best = cand
    if best is None:
        raise EstimationError("powerlaw: no candidate threshold gave a finite fit")
    _, _, a, s = best
    alpha = a - 1.0
    return alpha, (alpha - Z95 * s, alpha + Z95 * s)


# The papers' block sizes, and their rule for a size that does not divide N.
PAPERS_BLOCK_SIZES = (2, 5, 10, 20, 50, 100, 500, 1000)


def _papers_find_m(n: int, m: int = 0) -> int:
    """``find_m``: the largest divisor of n that is <= m (m = floor(sqrt(n)) by default)."""
    if m == 0:
        m = int(np.sqrt(n))
    while n % m != 0:
        m -= 1
    return m


def _papers_mmo(m: int, x: FloatArray) -> float:
    """``alpha_estimator_one(m, X, "mmo2014")``: the block-sum estimate at block size m."""
    n_blocks = x.size // m  # the callers make m divide N
    y = x.reshape(n_blocks, m).sum(axis=1)
    eps = np.spacing(1)
    y_log = np.log(np.abs(y) + eps).mean()
    x_log = np.log(np.abs(x) + eps).mean()
    diff = (y_log - x_log) / math.log(m)
    return float(1.0 / diff)


def papers_block_sum(x: Any) -> float:
    """The papers' tail-index recipe: median block-sum estimate over block sizes, capped at 2.

    Mohammadi, Mohammadpour & Ogata (2015): split the N samples into blocks of K1, sum
    each block to Y_i, and estimate 1/alpha = [mean log|Y_i| - mean log|X_j|] / log K1.
    Written as ``est_alpha_one(X)`` in ``exp_utils.py`` of Barsbey et al.'s code
    (github.com/mbarsbey/sgd_comp_gen), step by step:

    - candidate block sizes: each of 2, 5, 10, 20, 50, 100, 500, 1000 that is <= N/2;
      a size that does not divide N is *shrunk* to the largest divisor of N below it
      (``find_m``), so for a prime N every size becomes 1 and their code stops at an
      assertion (here: an error);
    - the largest divisor of N below sqrt(N) is added as one more size (at N = 1e5: 250;
      at N = 1e4 it is 100, already there);
    - the estimate at each size, log(|.| + machine epsilon) as in their code;
    - the median over the sizes, then ``min(median, 2.0)``: the result is *capped at 2*,
      silently.

    No centring: ``est_alpha_one`` has ``center=False`` by default. (Their
    ``alpha_estimation`` driver subtracts the median of each layer first, and takes the
    median over 5 random permutations; neither is part of the estimator run here.)
    """
    xs = np.asarray(x, dtype=np.float64)
    n = xs.size
    cands = (
        [c if n % c == 0 else _papers_find_m(n, c) for c in PAPERS_BLOCK_SIZES if c <= n / 2]
        if n != 10
        else [2, 5]
    )
    if 1 in cands:
        raise EstimationError(f"papers' block sum: N = {n} leaves a block size of 1")
    sizes = sorted(set(cands))
    m = _papers_find_m(n)
    if m not in sizes and m > 1:
        sizes.append(m)
    with np.errstate(divide="ignore"):
        alphas = [_papers_mmo(size, xs) for size in sizes]
    return min(float(np.median(alphas)), 2.0)
