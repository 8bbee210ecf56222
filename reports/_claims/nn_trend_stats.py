"""Statistics of claim ``nn.trend``.

The correlation statistic (one for every check, control and reported number): within one
batch size b and one layer, Spearman's rho over the networks of each seed (its step
sizes), then the mean over the seeds weighted by their numbers of networks n_s. Its
interval is normal, mean +- z * se, with se^2 = sum n_s^2 / (n_s - 1 - k) / (sum n_s)^2:
the exact variance of Spearman's rho under no association, 1 / (n_s - 1) (1 / (n_s - 2)
for a partial correlation, k = 1); under association the variance is usually smaller (it
shrinks roughly like (1 - rho^2)^2 as |rho| grows), so the interval is approximate and
errs wide. At the claim's Bonferroni level, cut to [-1, 1]. A Fisher-z average was tried
first and rejected: with 4-6 networks per seed a seed whose ranks agree perfectly has an
infinite z, and a null control (eta/b permuted) then came out as a detection. The
interval is deterministic, so that the verdict has no resampling noise. A partial
Spearman correlation is the Pearson correlation of the ranks' residuals after a linear
fit on the ranks of the variable held fixed.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import stats

from heavytail._lib._types import FloatArray

from .._kit.verdict import Measurement

#: Below this many networks per seed a seed gives no correlation.
MIN_PER_SEED = 4
#: The interval of a correlation that could not be measured.
UNINFORMATIVE = (-1.0, 1.0)
#: The value of a median interval with no data (the tail check's bound).
_NO_DATA = 2.0


def _ranks(v: FloatArray) -> FloatArray:
    return np.asarray(stats.rankdata(v), dtype=np.float64)


def _corr(a: FloatArray, b: FloatArray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _spearman(x: FloatArray, y: FloatArray, given: FloatArray | None) -> float:
    rx, ry = _ranks(x), _ranks(y)
    if given is None:
        return _corr(rx, ry)
    rz = _ranks(given)
    design = np.column_stack([np.ones_like(rz), rz])
    ex = rx - design @ np.linalg.lstsq(design, rx, rcond=None)[0]
    ey = ry - design @ np.linalg.lstsq(design, ry, rcond=None)[0]
    return _corr(ex, ey)


def combined_spearman(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    level: float,
    given: npt.ArrayLike | None = None,
) -> Measurement:
    """Spearman's rho within each group, combined over the groups (module notes).

    Pairs with a non-finite value are dropped; a group with fewer than MIN_PER_SEED (+1
    for a partial correlation) pairs is skipped. With no group left, the estimate is 0
    with the uninformative interval [-1, 1].
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    gs = np.asarray(groups)
    zs = None if given is None else np.asarray(given, dtype=np.float64)
    k = 0 if zs is None else 1
    ok = np.isfinite(xs) & np.isfinite(ys)
    if zs is not None:
        ok &= np.isfinite(zs)
    num = den = var = 0.0
    for g in np.unique(gs[ok]):
        m = ok & (gs == g)
        n = int(m.sum())
        if n < MIN_PER_SEED + k:
            continue
        r = _spearman(xs[m], ys[m], None if zs is None else zs[m])
        num += n * r
        den += n
        var += n * n / (n - 1 - k)
    if den == 0:
        return Measurement(0.0, *UNINFORMATIVE, level=level)
    rho, se = num / den, math.sqrt(var) / den
    q = float(stats.norm.ppf(0.5 + level / 2.0))
    return Measurement(rho, max(rho - q * se, -1.0), min(rho + q * se, 1.0), level=level)


def median_interval(values: npt.ArrayLike, *, level: float) -> Measurement:
    """The median with its distribution-free order-statistic interval at ``level``
    (infinite ends when too few values reach it)."""
    v = np.sort(np.asarray(values, dtype=np.float64)[np.isfinite(values)])
    n = v.size
    if n == 0:
        return Measurement(_NO_DATA, -math.inf, math.inf, level=level)
    # Largest j with P(Bin(n, 1/2) < j) <= (1 - level) / 2: [v_(j), v_(n+1-j)] covers.
    j = int(stats.binom.ppf((1.0 - level) / 2.0, n, 0.5))
    while j > 0 and stats.binom.cdf(j - 1, n, 0.5) > (1.0 - level) / 2.0:
        j -= 1
    med = float(np.median(v))
    if j < 1:
        return Measurement(med, -math.inf, math.inf, level=level)
    return Measurement(med, min(float(v[j - 1]), med), max(float(v[n - j]), med), level=level)


def permuted_within(x: FloatArray, groups: npt.ArrayLike, rng: np.random.Generator) -> FloatArray:
    """``x`` with its values permuted within each group (the null control)."""
    out = x.copy()
    gs = np.asarray(groups)
    for g in np.unique(gs):
        idx = np.flatnonzero(gs == g)
        out[idx] = x[rng.permutation(idx)]
    return out
