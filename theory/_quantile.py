"""McCulloch's (1986) quantile fit of a stable law, and the stable-index estimator built on it.

McCulloch, J. H. (1986). Simple consistent estimators of stable distribution parameters.
Communications in Statistics - Simulation and Computation 15(4), 1109-1136.

With x_p the sample p-quantile, the two ratios

    nu_alpha = (x_0.95 - x_0.05) / (x_0.75 - x_0.25),
    nu_beta  = (x_0.95 + x_0.05 - 2 x_0.5) / (x_0.95 - x_0.05)

do not depend on scale or location. McCulloch tabulates their inverse, alpha =
psi_1(nu_alpha, nu_beta) and beta = psi_2(nu_alpha, nu_beta) (Tables III and IV), then
scale c = (x_0.75 - x_0.25) / phi_3(alpha, beta) (Table V) and the location
zeta = x_0.5 + c phi_5(alpha, beta) (Table VII), with bilinear interpolation between
the table's nodes. The tables are valid for alpha >= 0.6 (nu_alpha <= 25).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ._errors import EstimationError
from ._result import TailEstimate
from ._rng import RngLike, as_generator
from ._validation import as_sample, check_int

__all__ = ["TABLE_ERROR", "StableQuantileFit", "fit_stable_quantiles", "quantile_estimator"]

# ---------------------------------------------------------------------------------------
# McCulloch (1986), Tables III, IV, V and VII, as transcribed in SciPy
# (scipy/stats/_levy_stable/__init__.py, function `_fitstart_S1`, SciPy 1.17), which is
# distributed under the BSD 3-Clause licence: Copyright (c) 2001-2002 Enthought, Inc.
# 2003, SciPy Developers. All rights reserved. Entries above 1 in Table IV mark
# (nu_alpha, nu_beta) pairs that no stable law attains; the fit clips beta there and
# says so.
# fmt: off
_NU_ALPHA_NODES = np.array(
    [2.439, 2.5, 2.6, 2.7, 2.8, 3.0, 3.2, 3.5, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 25.0]
)
_NU_BETA_NODES = np.array([0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0])

# Table III: alpha = psi_1(nu_alpha, nu_beta); rows nu_alpha, columns nu_beta.
_PSI_1 = np.array([
    [2.000, 2.000, 2.000, 2.000, 2.000, 2.000, 2.000],
    [1.916, 1.924, 1.924, 1.924, 1.924, 1.924, 1.924],
    [1.808, 1.813, 1.829, 1.829, 1.829, 1.829, 1.829],
    [1.729, 1.730, 1.737, 1.745, 1.745, 1.745, 1.745],
    [1.664, 1.663, 1.663, 1.668, 1.676, 1.676, 1.676],
    [1.563, 1.560, 1.553, 1.548, 1.547, 1.547, 1.547],
    [1.484, 1.480, 1.471, 1.460, 1.448, 1.438, 1.438],
    [1.391, 1.386, 1.378, 1.364, 1.337, 1.318, 1.318],
    [1.279, 1.273, 1.266, 1.250, 1.210, 1.184, 1.150],
    [1.128, 1.121, 1.114, 1.101, 1.067, 1.027, 0.973],
    [1.029, 1.021, 1.014, 1.004, 0.974, 0.935, 0.874],
    [0.896, 0.892, 0.884, 0.883, 0.855, 0.823, 0.769],
    [0.818, 0.812, 0.806, 0.801, 0.780, 0.756, 0.691],
    [0.698, 0.695, 0.692, 0.689, 0.676, 0.656, 0.597],
    [0.593, 0.590, 0.588, 0.586, 0.579, 0.563, 0.513],
])

# Table IV: beta = psi_2(nu_alpha, nu_beta); rows nu_alpha, columns nu_beta.
_PSI_2 = np.array([
    [0.0, 2.160, 1.000, 1.000, 1.000, 1.000, 1.000],
    [0.0, 1.592, 3.390, 1.000, 1.000, 1.000, 1.000],
    [0.0, 0.759, 1.800, 1.000, 1.000, 1.000, 1.000],
    [0.0, 0.482, 1.048, 1.694, 1.000, 1.000, 1.000],
    [0.0, 0.360, 0.760, 1.232, 2.229, 1.000, 1.000],
    [0.0, 0.253, 0.518, 0.823, 1.575, 1.000, 1.000],
    [0.0, 0.203, 0.410, 0.632, 1.244, 1.906, 1.000],
    [0.0, 0.165, 0.332, 0.499, 0.943, 1.560, 1.000],
    [0.0, 0.136, 0.271, 0.404, 0.689, 1.230, 2.195],
    [0.0, 0.109, 0.216, 0.323, 0.539, 0.827, 1.917],
    [0.0, 0.096, 0.190, 0.284, 0.472, 0.693, 1.759],
    [0.0, 0.082, 0.163, 0.243, 0.412, 0.601, 1.596],
    [0.0, 0.074, 0.147, 0.220, 0.377, 0.546, 1.482],
    [0.0, 0.064, 0.128, 0.191, 0.330, 0.478, 1.362],
    [0.0, 0.056, 0.112, 0.167, 0.285, 0.428, 1.274],
])

# Tables V and VII are printed with alpha decreasing from 2 to 0.5 (rows) and
# beta = 0, 0.25, 0.5, 0.75, 1 (columns); they are flipped to increasing alpha below.
_ALPHA_NODES = np.array(
    [2.0, 1.9, 1.8, 1.7, 1.6, 1.5, 1.4, 1.3, 1.2, 1.1, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5]
)[::-1].copy()
_BETA_NODES = np.array([0.0, 0.25, 0.5, 0.75, 1.0])

# Table V: nu_c = phi_3(alpha, beta) = (x_0.75 - x_0.25) / c.
_PHI_3 = np.array([
    [1.908, 1.908, 1.908, 1.908, 1.908],
    [1.914, 1.915, 1.916, 1.918, 1.921],
    [1.921, 1.922, 1.927, 1.936, 1.947],
    [1.927, 1.930, 1.943, 1.961, 1.987],
    [1.933, 1.940, 1.962, 1.997, 2.043],
    [1.939, 1.952, 1.988, 2.045, 2.116],
    [1.946, 1.967, 2.022, 2.106, 2.211],
    [1.955, 1.984, 2.067, 2.188, 2.333],
    [1.965, 2.007, 2.125, 2.294, 2.491],
    [1.980, 2.040, 2.205, 2.435, 2.696],
    [2.000, 2.085, 2.311, 2.624, 2.973],
    [2.040, 2.149, 2.461, 2.886, 3.356],
    [2.098, 2.244, 2.676, 3.265, 3.912],
    [2.189, 2.392, 3.004, 3.844, 4.775],
    [2.337, 2.634, 3.542, 4.808, 6.247],
    [2.588, 3.073, 4.534, 6.636, 9.144],
])[::-1].copy()

# Table VII: nu_zeta = phi_5(alpha, beta) = (zeta - x_0.5) / c.
_PHI_5 = np.array([
    [0.0, 0.000, 0.000, 0.000, 0.000],
    [0.0, -0.017, -0.032, -0.049, -0.064],
    [0.0, -0.030, -0.061, -0.092, -0.123],
    [0.0, -0.043, -0.088, -0.132, -0.179],
    [0.0, -0.056, -0.111, -0.170, -0.232],
    [0.0, -0.066, -0.134, -0.206, -0.283],
    [0.0, -0.075, -0.154, -0.241, -0.335],
    [0.0, -0.084, -0.173, -0.276, -0.390],
    [0.0, -0.090, -0.192, -0.310, -0.447],
    [0.0, -0.095, -0.208, -0.346, -0.508],
    [0.0, -0.098, -0.223, -0.380, -0.576],
    [0.0, -0.099, -0.237, -0.424, -0.652],
    [0.0, -0.096, -0.250, -0.469, -0.742],
    [0.0, -0.089, -0.262, -0.520, -0.853],
    [0.0, -0.078, -0.272, -0.581, -0.997],
    [0.0, -0.061, -0.279, -0.659, -1.198],
])[::-1].copy()
# fmt: on

_PROBS = (0.05, 0.25, 0.5, 0.75, 0.95)

# Interpolation error of the tables: fitting the exact quantiles of S1 stable laws
# (scipy.stats.levy_stable.ppf) with alpha = 0.6, 0.65, ..., 1.95 and beta in {0, 0.5, 1}
# gives alpha_hat - alpha between -0.001 and +0.0145 (tests/theory/test_quantile.py
# re-checks it at a subset). This error does not shrink with n, so at n = 1e5 it is
# comparable to the sampling error (about 0.005-0.02), and a bootstrap interval that
# ignores it covers as little as 40% of the time (measured on alpha = 1.2). The interval
# is therefore widened by this bound on each side.
TABLE_ERROR = 0.015
GAUSSIAN_NU_ALPHA = float(_NU_ALPHA_NODES[0])  # (z_0.95 - z_0.05) / (z_0.75 - z_0.25)
HEAVY_NU_ALPHA = float(_NU_ALPHA_NODES[-1])  # the table's heavy end, alpha ~ 0.5-0.6


def _bilinear(
    x_nodes: npt.NDArray[np.float64],
    y_nodes: npt.NDArray[np.float64],
    table: npt.NDArray[np.float64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Bilinear interpolation of ``table[i, j]`` (at x_nodes[i], y_nodes[j]).

    Points are clamped into the node range; callers flag any point that was outside.
    """
    x = np.clip(x, x_nodes[0], x_nodes[-1])
    y = np.clip(y, y_nodes[0], y_nodes[-1])
    i = np.clip(np.searchsorted(x_nodes, x, side="right") - 1, 0, x_nodes.size - 2)
    j = np.clip(np.searchsorted(y_nodes, y, side="right") - 1, 0, y_nodes.size - 2)
    tx = (x - x_nodes[i]) / (x_nodes[i + 1] - x_nodes[i])
    ty = (y - y_nodes[j]) / (y_nodes[j + 1] - y_nodes[j])
    return np.asarray(
        (1 - tx) * (1 - ty) * table[i, j]
        + tx * (1 - ty) * table[i + 1, j]
        + (1 - tx) * ty * table[i, j + 1]
        + tx * ty * table[i + 1, j + 1],
        dtype=np.float64,
    )


def _alpha_from_ratios(
    nu_alpha: npt.NDArray[np.float64], nu_beta: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """alpha = psi_1(nu_alpha, |nu_beta|), and 2 on the Gaussian side of the table."""
    alpha = _bilinear(_NU_ALPHA_NODES, _NU_BETA_NODES, _PSI_1, nu_alpha, np.abs(nu_beta))
    return np.where(nu_alpha <= GAUSSIAN_NU_ALPHA, 2.0, alpha)


def _rank_weights(n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """0-based ranks (lo, hi) and weights of the linear-interpolation sample quantiles.

    x_p = (1 - f) x_(lo) + f x_(hi) with h = p (n - 1), lo = floor(h), hi = min(lo + 1,
    n - 1), f = h - lo: numpy's default ("linear", Hyndman & Fan type 7) quantile.
    Returns ranks of shape (5, 2) and weights f of shape (5,).
    """
    h = np.array(_PROBS) * (n - 1)
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    return np.stack([lo, hi], axis=1), h - lo


def _quantile_ratios(
    q: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """nu_alpha and nu_beta from quantiles q[..., k] at the probabilities _PROBS.

    The quantiles are in units of the largest magnitude (so |q| <= 1), and the
    interquartile range is positive; nu_alpha is +inf when that range is so small that the
    ratio overflows (beyond the table's heavy end, where the fit says so).
    """
    q05, q25, q50, q75, q95 = (q[..., k] for k in range(5))
    spread = q95 - q05
    with np.errstate(over="ignore"):
        nu_alpha = spread / (q75 - q25)
    return nu_alpha, (q95 + q05 - 2.0 * q50) / spread


@dataclass(frozen=True)
class StableQuantileFit:
    """McCulloch's quantile fit of a stable law S_alpha(scale, beta, loc), S1 parametrization.

    Attributes
    ----------
    alpha : float
        Stable index in [0.5, 2] (the tables' range).
    beta : float
        Skewness in [-1, 1]; set to 0 when ``alpha`` is 2, where it has no effect.
    scale : float
        Scale c > 0.
    loc : float
        Location delta in the S1 parametrization (scipy's ``levy_stable`` default).
    n : int
        Number of observations.
    nu_alpha : float
        (x_0.95 - x_0.05) / (x_0.75 - x_0.25); 2.439 for a Gaussian, larger for heavier
        tails.
    nu_beta : float
        (x_0.95 + x_0.05 - 2 x_0.5) / (x_0.95 - x_0.05), in [-1, 1].
    at_gaussian_boundary : bool
        True when ``nu_alpha`` <= 2.439, the Gaussian end of McCulloch's table: ``alpha``
        is then set to 2 (the data are no heavier-tailed than a Gaussian in their
        quantiles), not estimated.
    notes : tuple of str
        What the fit had to do outside its tables (Gaussian end, heavy end, clipped beta).
    """

    alpha: float
    beta: float
    scale: float
    loc: float
    n: int
    nu_alpha: float
    nu_beta: float
    at_gaussian_boundary: bool
    notes: tuple[str, ...] = ()


def _unit(data: npt.NDArray[np.float64]) -> float:
    """The largest magnitude of ``data`` (> 0), the unit in which the fit computes.

    Quantile differences of data near the largest doubles overflow, and those of
    subnormal data lose all precision; on data divided by their largest magnitude neither
    happens, and the ratios nu_alpha and nu_beta do not change.
    """
    return float(np.max(np.abs(data)))


def _fit_from_quantiles(q: npt.NDArray[np.float64], n: int, unit: float = 1.0) -> StableQuantileFit:
    """The fit from quantiles ``q`` of the data divided by ``unit`` (scale, loc in data units)."""
    _, q25, q50, q75, _ = (float(v) for v in q)
    if not q75 > q25:
        raise EstimationError(
            "the interquartile range of `x` is zero (at least half of the data are tied), "
            "so no stable law can be fitted by quantiles"
        )
    nu_alpha_a, nu_beta_a = _quantile_ratios(q)
    nu_alpha, nu_beta = float(nu_alpha_a), float(nu_beta_a)
    notes: list[str] = []
    at_gaussian = nu_alpha <= GAUSSIAN_NU_ALPHA
    if at_gaussian:
        alpha, beta = 2.0, 0.0
        notes.append(
            f"nu_alpha = {nu_alpha:.4g} is at or below {GAUSSIAN_NU_ALPHA}, the Gaussian end "
            "of McCulloch's table: alpha is set to 2 (the boundary), not estimated"
        )
    else:
        alpha = float(_alpha_from_ratios(nu_alpha_a, nu_beta_a))
        raw_beta = math.copysign(
            float(_bilinear(_NU_ALPHA_NODES, _NU_BETA_NODES, _PSI_2, nu_alpha_a, abs(nu_beta_a))),
            nu_beta,
        )
        beta = min(1.0, max(-1.0, raw_beta))
        if nu_alpha > HEAVY_NU_ALPHA:
            notes.append(
                f"nu_alpha = {nu_alpha:.4g} is beyond {HEAVY_NU_ALPHA}, the heavy end of "
                f"McCulloch's table (alpha about 0.5-0.6): alpha = {alpha:.3f} is the table's "
                "edge value and the true index is probably smaller"
            )
        if beta != raw_beta:
            notes.append(
                f"the quantile ratios (nu_alpha = {nu_alpha:.4g}, nu_beta = {nu_beta:.4g}) lie "
                f"where no stable law is: the table gives beta = {raw_beta:.3f}, set to {beta:g}"
            )
    abs_beta = np.array(abs(beta))
    alpha_a = np.array(alpha)
    scale = (q75 - q25) / float(_bilinear(_ALPHA_NODES, _BETA_NODES, _PHI_3, alpha_a, abs_beta))
    # phi_5 is odd in beta: phi_5(alpha, beta) = sign(beta) phi_5(alpha, |beta|).
    zeta = q50 + scale * math.copysign(1.0, beta) * float(
        _bilinear(_ALPHA_NODES, _BETA_NODES, _PHI_5, alpha_a, abs_beta)
    )
    # zeta is the S0 location (continuous in alpha); S1 moves it by beta c tan(pi alpha/2),
    # or by (2/pi) beta c log c at alpha = 1 (the S0-S1 relation of Nolan 2020, Chapter 1).
    # Computed in units of `unit`; at alpha = 1 the S1 location is not scale-equivariant,
    # hence the log(unit) term.
    if alpha == 1.0:
        loc = unit * (zeta - (2.0 / math.pi) * beta * scale * (math.log(scale) + math.log(unit)))
    else:
        loc = unit * (zeta - beta * scale * math.tan(0.5 * math.pi * alpha))
    return StableQuantileFit(
        alpha=alpha,
        beta=beta,
        scale=unit * scale,
        loc=loc,
        n=n,
        nu_alpha=nu_alpha,
        nu_beta=nu_beta,
        at_gaussian_boundary=at_gaussian,
        notes=tuple(notes),
    )


def fit_stable_quantiles(x: Any) -> StableQuantileFit:
    r"""Fit a stable law by McCulloch's (1986) quantile method.

    From the sample quantiles x_p at p = 0.05, 0.25, 0.5, 0.75, 0.95 (numpy's default
    linear interpolation), the scale- and location-free ratios

    .. math::

        \nu_\alpha = \frac{x_{.95} - x_{.05}}{x_{.75} - x_{.25}}, \qquad
        \nu_\beta = \frac{x_{.95} + x_{.05} - 2 x_{.5}}{x_{.95} - x_{.05}}

    give alpha = psi_1(nu_alpha, |nu_beta|) and beta = sign(nu_beta) psi_2(nu_alpha,
    |nu_beta|) by bilinear interpolation in McCulloch's Tables III-IV; then
    scale c = (x_.75 - x_.25) / phi_3(alpha, beta) and zeta = x_.5 + c phi_5(alpha, beta)
    (Tables V and VII), and the S1 location delta = zeta - beta c tan(pi alpha / 2).
    The fit is consistent for alpha in [0.6, 2] and any beta (McCulloch 1986, Sec. 3); it
    is invariant to scale and shift, and a sign flip flips beta only.

    Not silently capped: when nu_alpha <= 2.439 (the Gaussian end of the table) alpha is
    set to 2 and ``at_gaussian_boundary`` is True; beyond the table's heavy end
    (nu_alpha > 25) or where the table gives |beta| > 1, the fit returns the edge value
    and says so in ``notes``.

    Parameters
    ----------
    x : array_like, 1-D
        At least 5 finite observations, not all equal.

    Returns
    -------
    StableQuantileFit

    Raises
    ------
    InvalidArgumentError
        If ``x`` is not a 1-D finite sample of at least 5 values, or is constant.
    EstimationError
        If the interquartile range is zero.
    """
    data = as_sample(x, "x", min_size=5, allow_constant=False)
    n = data.size
    unit = _unit(data)
    ranks, frac = _rank_weights(n)
    part = np.partition(data / unit, np.unique(ranks))
    q = (1.0 - frac) * part[ranks[:, 0]] + frac * part[ranks[:, 1]]
    return _fit_from_quantiles(q, n, unit)


def _bootstrap_alphas(
    sorted_x: npt.NDArray[np.float64], n_boot: int, gen: np.random.Generator
) -> npt.NDArray[np.float64]:
    """McCulloch's alpha on ``n_boot`` bootstrap resamples, without forming them.

    A resample's j-th order statistic is x_(I_(j)), where I_(1) <= ... <= I_(n) are the
    sorted resampled indices, and I_(j) = ceil(n U_(j)) with U_(j) the j-th order
    statistic of n uniforms (ceil(n .) is monotone). The few U_(j) the quantiles need are
    drawn exactly from Gamma spacings: U_(r_k) = (G_1 + ... + G_k) / (G_1 + ... + G_{m+1})
    with independent G_k ~ Gamma(r_k - r_{k-1}) and G_{m+1} ~ Gamma(n + 1 - r_m). So
    each replicate costs O(1), not O(n), and has exactly the law of the ordinary
    (multinomial) bootstrap's quantiles.
    """
    n = sorted_x.size
    ranks, frac = _rank_weights(n)
    needed = np.unique(ranks)  # 0-based ranks, increasing
    one_based = needed + 1
    shapes = np.diff(np.concatenate([[0], one_based, [n + 1]])).astype(np.float64)
    spacings = gen.gamma(shapes, size=(n_boot, shapes.size))
    cum = np.cumsum(spacings, axis=1)
    u = cum[:, :-1] / cum[:, -1:]
    # u < 1 in exact arithmetic; the clip only guards a rounding of n u up to n.
    idx = np.clip(np.ceil(n * u).astype(np.int64) - 1, 0, n - 1)
    values = sorted_x[idx]  # (n_boot, len(needed))
    pos = np.searchsorted(needed, ranks)  # where each (lo, hi) rank sits in `needed`
    q = (1.0 - frac) * values[:, pos[:, 0]] + frac * values[:, pos[:, 1]]
    degenerate = q[:, 3] <= q[:, 1]  # zero interquartile range: no estimate
    q[degenerate] = np.arange(5.0)  # any valid quantiles; the result is replaced by nan
    alpha = _alpha_from_ratios(*_quantile_ratios(q))
    alpha[degenerate] = np.nan
    return alpha


def quantile_estimator(x: Any, *, n_boot: int = 200, rng: RngLike = None) -> TailEstimate:
    """Stable index by McCulloch's quantile fit, with a bootstrap percentile 95% interval.

    The estimate is ``fit_stable_quantiles(x).alpha`` (see there for the formulas and the
    tables; McCulloch 1986). It estimates the *stable index*: for non-stable data with
    tail index >= 2 (Student t, Gaussian mixtures) it reports 2 or close to 2. The
    interval is the 2.5% and 97.5% percentiles of the estimate over ``n_boot`` bootstrap
    resamples (Efron's percentile interval), drawn exactly but in O(1) per replicate by
    sampling the needed order statistics of the resample (``_bootstrap_alphas``); the
    same ``rng`` gives the same interval. The percentiles are then moved out by
    ``TABLE_ERROR`` = 0.015 each, the largest interpolation error of McCulloch's tables
    measured against exact stable quantiles (a bias that does not shrink with n; without
    it the interval covers alpha = 1.2 only about 40% of the time at n = 1e5), extended
    if need be to contain the estimate, and its upper end is kept at most 2, the end of
    the stable family. At the Gaussian end of the table
    (``settings["at_gaussian_boundary"]``) the estimate is the boundary value 2 and the
    interval is typically [~1.9, 2.0].

    Parameters
    ----------
    x : array_like, 1-D
        At least 5 finite observations, not all equal.
    n_boot : int, optional
        Bootstrap replicates, >= 20.
    rng : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Source of the bootstrap randomness.

    Returns
    -------
    TailEstimate
        ``method="quantile"``, ``estimand="stable index"``; ``settings`` holds n_boot,
        beta, scale, loc, nu_alpha, nu_beta and at_gaussian_boundary; ``warnings`` holds
        the fit's notes (table edges, clipped beta).

    Raises
    ------
    InvalidArgumentError
        Bad ``x``, ``n_boot`` or ``rng``.
    EstimationError
        If the interquartile range is zero.
    """
    data = as_sample(x, "x", min_size=5, allow_constant=False)
    n_boot = check_int(n_boot, "n_boot", low=20)
    gen = as_generator(rng)
    unit = _unit(data)
    sorted_x = np.sort(data / unit)
    n = sorted_x.size
    ranks, frac = _rank_weights(n)
    q = (1.0 - frac) * sorted_x[ranks[:, 0]] + frac * sorted_x[ranks[:, 1]]
    fit = _fit_from_quantiles(q, n, unit)
    boot = _bootstrap_alphas(sorted_x, n_boot, gen)
    finite = boot[np.isfinite(boot)]  # a resample with a zero interquartile range has none
    n_failed = n_boot - finite.size
    warnings = list(fit.notes)
    if n_failed:
        warnings.append(
            f"{n_failed} of {n_boot} bootstrap resamples had a zero interquartile range "
            "and gave no estimate; the interval uses the others"
        )
    if finite.size < 20:
        raise EstimationError(
            f"only {finite.size} of {n_boot} bootstrap resamples gave an estimate "
            "(too many tied values in `x`), so no interval can be formed"
        )
    low, high = (float(v) for v in np.percentile(finite, [2.5, 97.5]))
    low = min(low - TABLE_ERROR, fit.alpha)
    high = min(max(high + TABLE_ERROR, fit.alpha), 2.0)
    return TailEstimate(
        alpha=fit.alpha,
        ci=(float(low), float(high)),
        method="quantile",
        estimand="stable index",
        n=n,
        settings={
            "n_boot": n_boot,
            "beta": fit.beta,
            "scale": fit.scale,
            "loc": fit.loc,
            "nu_alpha": fit.nu_alpha,
            "nu_beta": fit.nu_beta,
            "at_gaussian_boundary": fit.at_gaussian_boundary,
            "ci_method": "bootstrap percentile, widened by the table error",
            "table_error": TABLE_ERROR,
        },
        warnings=tuple(warnings),
    )
