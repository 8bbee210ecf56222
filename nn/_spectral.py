"""The spectral columns of :func:`analyze`: the eigenvalues of W^T W and what WeightWatcher
reads from them, each tail index with its interval.

The eigenvalues lambda_i = s_i^2 of W^T W (s_i the singular values of W) are computed
once per layer (:func:`gram_eigenvalues`); singular-value pruning uses the same ones.

Columns (:func:`spectral_columns`), with WeightWatcher's (0.7) definitions where it has
the name, so that its users read the same numbers:

- ``spectral_alpha``, ``spectral_ci_low``, ``spectral_ci_high``: the tail index of the
  eigenvalues, alpha in P(lambda > x) ~ x^(-alpha), by Hill's estimator
  (:func:`heavytail.theory.hill_estimator`) on the top ``spectral_k`` eigenvalues, k
  chosen by the minimum Kolmogorov-Smirnov rule of Clauset, Shalizi & Newman (2009), the
  rule WeightWatcher uses for its xmin. Hill's interval is exact for a Pareto tail above
  the threshold; the eigenvalues of one matrix are not independent, so it describes the
  noise of a power-law sample of that size, nothing more. The upper end is infinite when a
  light tail is not ruled out: when the moment estimator
  (:func:`heavytail.theory.moment_estimator`, whose extreme-value index gamma is <= 0 for
  bounded and light tails) at the same k gives gamma <= 0 or an interval reaching it. A
  Marchenko-Pastur bulk has a hard edge (gamma < 0), so a Gaussian layer gets an infinite
  upper end.
- ``spectral_alpha_ww``: the same fit in WeightWatcher's convention, the exponent of the
  density p(lambda) ~ lambda^(-alpha_ww): alpha_ww = 1 + alpha (ends likewise).
- ``spectral_norm``: lambda_max = ||W||_2^2 (WeightWatcher's ``spectral_norm``, the square
  of the operator norm); ``log_norm``: log10 of sum lambda_i = ||W||_F^2 (WeightWatcher's
  ``log_norm``); ``stable_rank``: ||W||_F^2 / ||W||_2^2; ``alpha_weighted``:
  alpha_ww log10(lambda_max).
- ``mp_spikes``: the number of eigenvalues above the Marchenko-Pastur bulk edge of an
  N x M matrix of i.i.d. entries of variance sigma^2, lambda_+ = sigma^2 (sqrt(N) +
  sqrt(M))^2, plus 2.02 Tracy-Widom scales sigma^2 (sqrt(N) + sqrt(M)) (1/sqrt(N) +
  1/sqrt(M))^(1/3) (Johnstone 2001, Ann. Statist. 29, Thm 1; 2.02 is the 99% quantile of
  the Tracy-Widom law of order 1), so that a Gaussian layer shows a spike in about 1% of
  draws rather than 17% (the Tracy-Widom law's mass above 0). sigma^2 is estimated by the
  mean square entry ||W||_F^2 / (N M), uncentred (a default-initialised or trained
  layer's entries have mean near 0; spikes inflate it, which makes the count
  conservative). ``mp_edge`` is that edge.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.linalg
from scipy.linalg.blas import dsyrk

from heavytail._lib._errors import EstimationError, InvalidArgumentError
from heavytail._lib._types import FloatArray
from heavytail.theory import hill_estimator, moment_estimator

__all__ = ["MIN_SPECTRAL", "SPECTRAL_COLUMNS", "gram_eigenvalues", "mp_edge", "spectral_columns"]


#: The 99% quantile of the Tracy-Widom law of order 1 (Tracy & Widom 1996; Johnstone 2001,
#: Table 1: 2.0234).
TW99 = 2.0234
#: Hill's minimum-KS rule needs this many eigenvalues (its smallest candidate k is 10).
MIN_SPECTRAL = 20

SPECTRAL_COLUMNS = (
    "spectral_alpha",
    "spectral_ci_low",
    "spectral_ci_high",
    "spectral_alpha_ww",
    "spectral_k",
    "spectral_n",
    "spectral_warnings",
    "spectral_norm",
    "log_norm",
    "stable_rank",
    "alpha_weighted",
    "mp_edge",
    "mp_spikes",
)


def gram_eigenvalues(matrix: FloatArray) -> FloatArray:
    """The eigenvalues of the Gram matrix of the shorter side of ``matrix``, descending.

    They are the squared singular values s_i^2, i <= min(N, M). The Gram matrix is formed
    by a symmetric rank-k update (BLAS dsyrk, half the work of a product) of the matrix
    divided by its largest magnitude (so that nothing overflows or underflows), and its
    eigenvalues by LAPACK's divide and conquer (dsyevd), values only. Each is within a few
    units of 1e-16 ||W||_2^2 of the exact s_i^2; rounding can leave one a little below 0,
    which is then 0.
    """
    m = np.asarray(matrix, dtype=np.float64)
    top = float(np.max(np.abs(m))) if m.size else 0.0
    if top == 0.0:
        return np.zeros(min(m.shape), dtype=np.float64)
    scaled = m / top
    # dsyrk(trans=0) forms a a^T, trans=1 forms a^T a: the Gram of the shorter side.
    gram = dsyrk(1.0, scaled, trans=0 if m.shape[0] <= m.shape[1] else 1)
    eig = scipy.linalg.eigh(
        gram,
        eigvals_only=True,
        lower=False,
        overwrite_a=True,
        check_finite=False,
        driver="evd",
    )
    return np.clip(eig[::-1], 0.0, None) * top**2


def mp_edge(n_rows: int, n_cols: int, sigma2: float) -> float:
    """The Marchenko-Pastur bulk edge of W^T W plus 2.02 Tracy-Widom scales (module notes)."""
    a, b = math.sqrt(n_rows), math.sqrt(n_cols)
    return sigma2 * ((a + b) ** 2 + TW99 * (a + b) * (1.0 / a + 1.0 / b) ** (1.0 / 3.0))


def _tail_index(eigs: FloatArray) -> dict[str, Any]:
    positive = eigs[eigs > 0]
    n = int(positive.size)
    if n < MIN_SPECTRAL:
        return {
            "spectral_alpha": math.nan,
            "spectral_ci_low": math.nan,
            "spectral_ci_high": math.nan,
            "spectral_alpha_ww": math.nan,
            "spectral_k": 0,
            "spectral_n": n,
            "spectral_warnings": (
                f"not estimated: {n} non-zero eigenvalues, Hill's minimum-KS rule needs "
                f"at least {MIN_SPECTRAL}"
            ),
        }
    warnings: list[str] = []
    try:
        hill = hill_estimator(positive)
    except (EstimationError, InvalidArgumentError) as exc:
        return {
            "spectral_alpha": math.nan,
            "spectral_ci_low": math.nan,
            "spectral_ci_high": math.nan,
            "spectral_alpha_ww": math.nan,
            "spectral_k": 0,
            "spectral_n": n,
            "spectral_warnings": f"not estimated: {exc}",
        }
    k = int(hill.settings["k"])
    low, high = hill.ci
    warnings.extend(hill.warnings)
    try:
        moment = moment_estimator(positive, k=k)
        light = not math.isfinite(moment.ci[1])
        reason = f"the moment estimator's interval at k = {k} reaches gamma = 0"
    except EstimationError:
        light = True
        reason = f"the moment estimator gives gamma <= 0 at k = {k} (a bounded or light tail)"
    if light:
        high = math.inf
        warnings.append(f"a light tail is not ruled out: {reason}; upper end infinite")
    return {
        "spectral_alpha": hill.alpha,
        "spectral_ci_low": low,
        "spectral_ci_high": high,
        "spectral_alpha_ww": 1.0 + hill.alpha,
        "spectral_k": k,
        "spectral_n": n,
        "spectral_warnings": "; ".join(warnings),
    }


def spectral_columns(eigs: FloatArray, n_rows: int, n_cols: int) -> dict[str, Any]:
    """The spectral columns of a layer (module notes) from its Gram eigenvalues ``eigs``
    (descending, as :func:`gram_eigenvalues` gives them) and the matrix's shape."""
    out = _tail_index(eigs)
    total = float(np.sum(eigs))
    lam_max = float(eigs[0]) if eigs.size else 0.0
    out["spectral_norm"] = lam_max
    out["log_norm"] = math.log10(total) if total > 0 else -math.inf
    out["stable_rank"] = total / lam_max if lam_max > 0 else math.nan
    out["alpha_weighted"] = (
        out["spectral_alpha_ww"] * math.log10(lam_max) if lam_max > 0 else math.nan
    )
    edge = mp_edge(n_rows, n_cols, total / (n_rows * n_cols))
    out["mp_edge"] = edge
    out["mp_spikes"] = int(np.count_nonzero(eigs > edge))
    return out
