"""A goodness-of-fit test of a stable law, by the modulus of the empirical characteristic function.

Every stable law S_alpha(c, beta, delta) has |E exp(i t X)| = exp(-(c |t|)^alpha),
whatever its skewness beta and location delta (Samorodnitsky & Taqqu 1994, Definition
1.1.6). So

    y(t) = log(-log |phi(t)|) = alpha log c + alpha log t

is a straight line in log t, and a law is stable (of some alpha, c, beta, delta) only if
its y is straight there. This is the regression of Koutrouvelis (1980, "Regression-type
estimation of the parameters of stable laws", JASA 75, 918-928), used here as a test:
fit the line by generalised least squares on m points t_1 < ... < t_m, with the
covariance of the empirical y estimated from the data (delta method), and measure the
misfit by the GLS residual quadratic form Q, asymptotically chi-squared with m - 2
degrees of freedom under a stable law. Location and skewness do not enter, so shifted
or skewed stable data pass; Student-t, Pareto and Gaussian scale mixtures bend the line
(their y has slope 2 near t = 0 when the variance is finite, or a body that is not
stable-shaped) and fail when n is large enough.

Calibration (by simulation). The chi-squared law is only asymptotic: the t grid is
chosen from the data, the covariance is estimated, and a ridge (``GOF_RIDGE``) is added
to it; under a stable law Q comes out smaller than chi-squared(8) (median about 3-5, not
7.3) but with a longer upper tail at some alpha. The threshold 25
(``AutoPolicy.gof_threshold`` in :mod:`._auto_policy`, the default here) was set by
simulation on stable laws with alpha in {0.8, 1.2, 1.5, 1.8, 1.9, 2.0} and beta
in {0, 0.5} (12 laws), so that a stable sample is almost never rejected:

- n = 1e3, 1000 samples per law (seed 778): 12 of 12000 above 25 (0.1%; 24 above 22,
  the earlier threshold, the chi-squared(8) 99.5% quantile);
- n = 1e4, 500 per law (seed 777): none of 6000 above 25 (largest 23.6, at alpha = 1.8;
  one above 22);
- n = 1e5, 60 per law (seed 779): none of 720 above 25 (largest 19.4).

Why so strict. The two errors cost very different amounts. A stable sample wrongly
rejected goes to the tail route, where Hill on a stable law near alpha = 2 is off by
about 1 (docs/theory.md, section 4: 2.9 for alpha = 1.8 at n = 1e4); one such run in 100 adds
0.1 to the RMSE of a case. A heavy-tailed law that is not stable but passes gets its
stable index, off by about 0.3 on Student t(1.5) at n = 1e4. At n = 1e4 the threshold of
22 rejected 2 of the calibration table's 100 stable-1.8 samples (Q = 23.0 and 23.5).

Power, threshold 25: at n = 1e4 (100 samples each, the calibration table's), Student t(3),
symmetric Pareto(1) and (2.5) and the Gaussian scale mixture 10^U Z were rejected every
time (smallest Q 60.2, on t(3)), Student t(1.5) in 49 (its median Q is 24.7); at
n = 1e5, Student t(1.5) in 30 of 30 (smallest Q 151.6). So at n >= 1e5 the route choice
is reliable on these laws; at smaller n, data of tail index below 2 that are not stable
can pass as stable. The "auto" rule then takes a second look, where a mistaken rejection
is cheap (:func:`decide_route` in :mod:`._auto`: 41 of those 51 t(1.5) samples
are rejected there); the rest get the stable index, which is what such data are
attracted to. ``tests/theory/test_estimate.py`` re-checks the false-rejection rate on
fresh seeds and the power against Student-t, Pareto and mixture samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from heavytail._lib._types import FloatArray
from heavytail._lib._validation import as_sample

from ._auto_policy import AUTO_POLICY
from ._quantile import StableQuantileFit

__all__ = ["GOF_POINTS", "GOF_RIDGE", "StableGoodnessOfFit", "stable_goodness_of_fit"]


# Number of t points of the regression (so Q has m - 2 = 8 degrees of freedom).
GOF_POINTS = 10

# Ridge added to the covariance, as a fraction of its diagonal. Near alpha = 2 the
# empirical moduli at small t are nearly collinear (1 - cos(t x) ~ t^2 x^2 / 2 for all of
# them), so the covariance is nearly singular and the GLS form would amplify the O(1/n)
# bias of the log-log transform along its smallest directions; the ridge bounds that.
GOF_RIDGE = 0.1


@dataclass(frozen=True)
class StableGoodnessOfFit:
    """Result of :func:`stable_goodness_of_fit`.

    Attributes
    ----------
    statistic : float
        The GLS residual quadratic form Q (inf when it cannot be computed).
    threshold : float
        The rejection threshold it is compared with.
    accepted : bool
        ``statistic <= threshold``: the data are consistent with a stable law.
    ecf_alpha : float
        The slope of the GLS line: Koutrouvelis' regression estimate of the stable index
        (nan when the statistic cannot be computed).
    t : tuple of float
        The points t_1 < ... < t_m used.
    note : str
        Why the statistic could not be computed, or "".
    """

    statistic: float
    threshold: float
    accepted: bool
    ecf_alpha: float
    t: tuple[float, ...]
    note: str = ""


def _grid(fit: StableQuantileFit, n: int) -> FloatArray:
    """The t points: (c t)^alpha from s_min to s_max, geometric, for the fitted alpha, c.

    |phi(t)| = exp(-s) then runs from about 1 - s_min to exp(-s_max). The ends keep the
    empirical modulus away from 1 and from 0 by many standard errors (about sqrt(s / n)
    and 1 / sqrt(n)): s_min = max(0.02, 30 / n), s_max = min(3, max(1, log(sqrt(n) / 5))).
    """
    s_min = max(0.02, 30.0 / n)
    s_max = min(3.0, max(1.0, math.log(math.sqrt(n) / 5.0)))
    s = np.geomspace(s_min, s_max, GOF_POINTS)
    return s ** (1.0 / fit.alpha) / fit.scale


def _covariance_of_columns(u: FloatArray) -> FloatArray:
    """``np.cov(u, rowvar=False)`` (at least 2-D) of a C-ordered (n, m) array it may
    overwrite: the same operations, without np.cov's copy of ``u``."""
    n = u.shape[0]
    u -= u.mean(axis=0)
    # np.cov multiplies X by a conjugated copy of X.T; the copy keeps BLAS's gemm (a
    # product of one buffer with itself would be sent to syrk, rounded otherwise).
    cov = np.dot(u.T, u.conj())
    cov *= np.true_divide(1, n - 1)
    return np.atleast_2d(cov.squeeze())


def stable_goodness_of_fit(
    x: FloatArray, fit: StableQuantileFit, *, threshold: float = AUTO_POLICY.gof_threshold
) -> StableGoodnessOfFit:
    r"""Test whether the 1-D sample ``x`` comes from some stable law.

    With phi_n(t) = (1/n) sum_j exp(i t x_j), r_j = |phi_n(t_j)| and
    y_j = log(-log r_j), fit y_j = a + alpha log t_j by generalised least squares with the
    delta-method covariance

    .. math::

        \operatorname{Cov}(y_j, y_l) = \frac{\operatorname{Cov}(u_j, u_l)}
        {n\, r_j \log r_j\, r_l \log r_l}, \qquad
        u_j(x) = \frac{C_j \cos(t_j x) + S_j \sin(t_j x)}{r_j},

    (C_j, S_j the real and imaginary parts of phi_n(t_j); u_j is the influence function of
    r_j). The statistic is the residual form Q = min_{a, alpha} (y - a - alpha log t)^T
    Cov^{-1} (y - a - alpha log t), about chi-squared with m - 2 degrees of freedom for a
    stable law (Koutrouvelis 1980). The points t_j are placed where the quantile fit
    ``fit`` puts (c t)^alpha between s_min and s_max (see ``_grid``), which makes the test
    invariant to scale and shift.

    Parameters
    ----------
    x : array_like, 1-D, finite, at least 2 observations
    fit : StableQuantileFit
        McCulloch's fit of ``x`` (places the grid).
    threshold : float
        Reject when Q > threshold; default 25, the "auto" rule's
        ``AutoPolicy.gof_threshold`` (the chi-squared(8) 99.85% quantile; calibrated by
        simulation, see the module notes).

    Returns
    -------
    StableGoodnessOfFit
        With ``accepted`` False and an infinite statistic when it cannot be computed
        (an empirical modulus at 0 or 1, or a singular covariance: data too discrete).
    """
    x = as_sample(x, "x", min_size=2)
    n = x.size
    t = _grid(fit, n)
    grid = tuple(float(v) for v in t)
    # Centre at the median first: |phi| is shift-invariant, and this keeps t x moderate so
    # that cos and sin lose no precision on shifted data.
    with np.errstate(over="ignore", invalid="ignore"):
        tx = np.multiply.outer(x - np.median(x), t)  # (n, m)
    if not np.isfinite(tx).all():  # data spanning nearly the whole double range
        return StableGoodnessOfFit(
            math.inf, threshold, False, math.nan, grid, "t x overflows (data range too wide)"
        )
    # The (n, m) arrays are m = GOF_POINTS times the input each: at most two are alive at
    # once (cos and sin, then u and its copy in the covariance), each written in place.
    # The operations, and their order, are those of the plain expressions
    # u = (cos * c + sin * s) / r and np.cov(u, rowvar=False), so the numbers are too.
    cos = np.cos(tx)
    sin = np.sin(tx, out=tx)
    del tx
    c = cos.mean(axis=0)
    s = sin.mean(axis=0)
    r = np.hypot(c, s)
    if not (np.all(r > 0) and np.all(r < 1)):
        return StableGoodnessOfFit(
            math.inf, threshold, False, math.nan, grid, "empirical modulus at 0 or 1"
        )
    u = np.multiply(cos, c, out=cos)
    u += np.multiply(sin, s, out=sin)
    del sin
    u /= r
    cov_u = _covariance_of_columns(u)
    logr = np.log(r)
    y = np.log(-logr)
    d = 1.0 / (r * logr)
    cov_y = cov_u * np.outer(d, d) / n
    cov_y = cov_y + GOF_RIDGE * np.diag(np.diag(cov_y))
    design = np.column_stack([np.ones_like(t), np.log(t)])
    try:
        chol = np.linalg.cholesky(cov_y)
    except np.linalg.LinAlgError:
        return StableGoodnessOfFit(
            math.inf, threshold, False, math.nan, grid, "singular covariance (discrete data)"
        )
    # Whiten: solve L w = v, then ordinary least squares on the whitened system.
    wy = np.linalg.solve(chol, y)
    wd = np.linalg.solve(chol, design)
    coef, *_ = np.linalg.lstsq(wd, wy, rcond=None)
    resid = wy - wd @ coef
    q = float(resid @ resid)
    if not math.isfinite(q):
        return StableGoodnessOfFit(
            math.inf, threshold, False, math.nan, grid, "statistic not finite"
        )
    return StableGoodnessOfFit(q, threshold, q <= threshold, float(coef[1]), grid)
