"""McCulloch's (1986) quantile fit of a stable law, and the stable-index estimator built on it.

McCulloch, J. H. (1986). Simple consistent estimators of stable distribution parameters.
Communications in Statistics - Simulation and Computation 15(4), 1109-1136.

With x_p the sample p-quantile, the two ratios

    nu_alpha = (x_0.95 - x_0.05) / (x_0.75 - x_0.25),
    nu_beta  = (x_0.95 + x_0.05 - 2 x_0.5) / (x_0.95 - x_0.05)

do not depend on scale or location. McCulloch tabulates their inverse, alpha =
psi_1(nu_alpha, nu_beta) and beta = psi_2(nu_alpha, nu_beta) (Tables III and IV), then
scale c = (x_0.75 - x_0.25) / phi_3(alpha, beta) (Table V) and the location
zeta = x_0.5 + c phi_5(alpha, beta) (Table VII).

The tables used here are McCulloch's, recomputed on a fine grid from exact stable
quantiles by ``_quantile_table_gen.py`` (stored beside it as ``_quantile_table.json``,
with its source): psi_1 and psi_2 on 241 x 51 nodes in (log(nu_alpha - 2.4387 + 0.05),
nu_beta), phi_3 and phi_5 on 76 x 21 nodes in (alpha, beta), all interpolated
bilinearly. McCulloch's printed tables (as transcribed in scipy's ``_fitstart_S1``) are
off by up to +0.0145 in alpha on exact quantiles, a bias that does not shrink with n; the
recomputed ones by at most ``TABLE_ERROR``. The tables span alpha in [0.5, 2].
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from heavytail._lib._errors import EstimationError
from heavytail._lib._rng import RngLike, as_generator
from heavytail._lib._validation import as_sample, check_int

from ._center import apply_center, check_center
from ._result import TailEstimate

__all__ = ["TABLE_ERROR", "StableQuantileFit", "fit_stable_quantiles", "quantile_estimator"]

_TABLE_FILE = Path(__file__).resolve().with_name("_quantile_table.json")


def _load_tables() -> dict[str, npt.NDArray[np.float64]]:
    """The recomputed tables (see ``_quantile_table_gen.py``) as float arrays."""
    raw = json.loads(_TABLE_FILE.read_text())
    keys = (
        "alpha_nodes",
        "beta_nodes",
        "phi_3",
        "phi_5",
        "u_nodes",
        "nu_beta_nodes",
        "inverse_alpha",
        "inverse_beta",
        "inverse_attainable",
    )
    out = {key: np.asarray(raw[key], dtype=np.float64) for key in keys}
    out["gaussian_nu_alpha"] = np.asarray(raw["gaussian_nu_alpha"], dtype=np.float64)
    out["u_offset"] = np.asarray(raw["u_offset"], dtype=np.float64)
    return out


_T = _load_tables()
_ALPHA_NODES = _T["alpha_nodes"]
_BETA_NODES = _T["beta_nodes"]
_PHI_3 = _T["phi_3"]  # (x_0.75 - x_0.25) / c
_PHI_5 = _T["phi_5"]  # (zeta - x_0.5) / c, zeta the S0 location
_U_NODES = _T["u_nodes"]
_NU_BETA_NODES = _T["nu_beta_nodes"]
_PSI_1 = _T["inverse_alpha"]
_PSI_2 = _T["inverse_beta"]
_ATTAINABLE = _T["inverse_attainable"]
_U_OFFSET = float(_T["u_offset"])

_PROBS = (0.05, 0.25, 0.5, 0.75, 0.95)

# Interpolation error of the tables. Fitting the exact quantiles of S1 stable laws
# (scipy.stats.levy_stable.ppf) at alpha = 0.557, 0.607, ..., 1.957 (between the table's
# nodes) and beta in {0, 0.3, 0.7, 1} gives |alpha_hat - alpha| <= 9e-5 for beta <= 0.7,
# and up to 0.0021 at beta = 1, the edge of the attainable ratios, where beta_hat falls to
# 0.90-0.98 and the scale is up to 10% off (tests/theory/test_quantile.py re-checks a
# subset). The error does not shrink with n; the interval is widened by this bound on each
# side. (McCulloch's printed tables were off by up to +0.0145, which at n = 1e5 left the
# bootstrap interval covering alpha = 1.2 in only 4 of 10 samples.)
TABLE_ERROR = 0.0025
GAUSSIAN_NU_ALPHA = float(_T["gaussian_nu_alpha"])  # (z_.95 - z_.05) / (z_.75 - z_.25)
HEAVY_NU_ALPHA = float(np.exp(_U_NODES[-1]) + GAUSSIAN_NU_ALPHA - _U_OFFSET)  # alpha ~ 0.5


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


def _u(nu_alpha: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The inverse tables' first coordinate, log(nu_alpha - G + offset), G the Gaussian value."""
    with np.errstate(invalid="ignore"):
        return np.asarray(
            np.log(np.maximum(nu_alpha - GAUSSIAN_NU_ALPHA + _U_OFFSET, _U_OFFSET)),
            dtype=np.float64,
        )


def _alpha_from_ratios(
    nu_alpha: npt.NDArray[np.float64], nu_beta: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """alpha = psi_1(nu_alpha, |nu_beta|), and 2 on the Gaussian side of the table."""
    alpha = _bilinear(_U_NODES, _NU_BETA_NODES, _PSI_1, _u(nu_alpha), np.abs(nu_beta))
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
        (x_0.95 - x_0.05) / (x_0.75 - x_0.25); 2.4387 for a Gaussian, larger for heavier
        tails.
    nu_beta : float
        (x_0.95 + x_0.05 - 2 x_0.5) / (x_0.95 - x_0.05), in [-1, 1].
    at_gaussian_boundary : bool
        True when ``nu_alpha`` <= 2.4387, its Gaussian value: ``alpha``
        is then set to 2 (the data are no heavier-tailed than a Gaussian in their
        quantiles), not estimated.
    notes : tuple of str
        What the fit had to do at the edges of its tables (Gaussian end, heavy end, beta
        at the edge of the attainable ratios).
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
            "the interquartile range of `x` is zero (at least half of the data are tied, or "
            "it underflows next to the largest value), so no stable law can be fitted by "
            "quantiles"
        )
    nu_alpha_a, nu_beta_a = _quantile_ratios(q)
    nu_alpha, nu_beta = float(nu_alpha_a), float(nu_beta_a)
    notes: list[str] = []
    at_gaussian = nu_alpha <= GAUSSIAN_NU_ALPHA
    if at_gaussian:
        alpha, beta = 2.0, 0.0
        notes.append(
            f"nu_alpha = {nu_alpha:.4g} is at or below {GAUSSIAN_NU_ALPHA:.4f}, its Gaussian "
            "value: alpha is set to 2 (the boundary), not estimated"
        )
    else:
        alpha = float(_alpha_from_ratios(nu_alpha_a, nu_beta_a))
        u = _u(nu_alpha_a)
        abs_nu_beta = np.abs(nu_beta_a)
        beta = math.copysign(
            min(1.0, float(_bilinear(_U_NODES, _NU_BETA_NODES, _PSI_2, u, abs_nu_beta))),
            nu_beta,
        )
        if nu_alpha > HEAVY_NU_ALPHA:
            notes.append(
                f"nu_alpha = {nu_alpha:.4g} is beyond {HEAVY_NU_ALPHA:.4g}, the heavy end of "
                f"the table (alpha = 0.5): alpha = {alpha:.3f} is the table's edge value and "
                "the true index is probably smaller"
            )
        if float(_bilinear(_U_NODES, _NU_BETA_NODES, _ATTAINABLE, u, abs_nu_beta)) < 0.5:
            notes.append(
                f"the quantile ratios (nu_alpha = {nu_alpha:.4g}, nu_beta = {nu_beta:.4g}) lie "
                f"at or beyond the edge of those of stable laws: beta is set to {beta:.3g}"
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
    if not (math.isfinite(unit * scale) and math.isfinite(loc)):
        raise EstimationError(
            f"the fitted scale ({unit * scale:g}) or location ({loc:g}) of `x` overflows: "
            "the data's spread is near the largest double"
        )
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
    |nu_beta|) by bilinear interpolation in McCulloch's Tables III-IV (recomputed on a
    fine grid, see the module notes); then scale c = (x_.75 - x_.25) / phi_3(alpha, beta)
    and zeta = x_.5 + c phi_5(alpha, beta) (Tables V and VII), and the S1 location
    delta = zeta - beta c tan(pi alpha / 2) (at alpha = 1: zeta - (2/pi) beta c log c).
    The fit is consistent for alpha in [0.5, 2] and any beta (McCulloch 1986, Sec. 3); it
    is invariant to scale and shift, and a sign flip flips beta only. The S1 location is
    ill-conditioned near alpha = 1 when beta != 0 (tan(pi alpha / 2) diverges there).

    Not silently capped: when nu_alpha <= 2.4387 (the Gaussian value) alpha is set to 2
    and ``at_gaussian_boundary`` is True; beyond the table's heavy end (nu_alpha > 60,
    alpha = 0.5) or at the edge of the ratios that stable laws attain, the fit returns the
    edge value and says so in ``notes``.

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
        If the interquartile range is zero, or the fitted scale or location overflows.
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


def _delta_se_xi(sorted_x: npt.NDArray[np.float64], q: npt.NDArray[np.float64]) -> float:
    """Delta-method standard error of 1/alpha of the fit from the quantiles ``q``.

    The five sample quantiles are asymptotically normal with covariance
    (min(p_i, p_j) - p_i p_j) s_i s_j / n, where s = 1/f(x_p) is the sparsity (Bahadur
    representation; e.g. Serfling 1980, Sec. 2.3). The sparsity is estimated from the
    data by the difference quotient (x_{p+h} - x_{p-h}) / (2h) (Siddiqui 1960), with
    h = min(0.25 n^(-1/3), 0.025) (the n^(-1/3) rate of Hall & Sheather 1988; at most half
    of the smallest probability, 0.05). The gradient of 1/alpha in the five quantiles is
    a central difference of McCulloch's map with steps of 1e-4 interquartile ranges
    (the map is bilinear within table cells far wider than that). Deterministic: no
    resampling. nan at the Gaussian end of the table (alpha = 2 there, with a zero
    gradient on one side), or when the gradient or the variance is not finite and
    positive.
    """
    n = sorted_x.size
    p = np.array(_PROBS)
    h = min(0.25 * n ** (-1.0 / 3.0), 0.025)

    def at(probs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        pos = probs * (n - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, n - 1)
        frac = pos - lo
        return np.asarray((1.0 - frac) * sorted_x[lo] + frac * sorted_x[hi], dtype=np.float64)

    sparsity = (at(p + h) - at(p - h)) / (2.0 * h)
    cov = (np.minimum.outer(p, p) - np.outer(p, p)) * np.outer(sparsity, sparsity) / n
    step = 1e-4 * float(q[3] - q[1])
    shifts = step * np.eye(5)
    perturbed = np.concatenate([q + shifts, q - shifts])  # (10, 5)
    alpha = _alpha_from_ratios(*_quantile_ratios(perturbed))
    if not (np.all(np.isfinite(alpha)) and np.all(alpha < 2.0) and step > 0):
        return math.nan
    xi = 1.0 / alpha
    grad = (xi[:5] - xi[5:]) / (2.0 * step)
    var = float(grad @ cov @ grad)
    return math.sqrt(var) if math.isfinite(var) and var > 0 else math.nan


def quantile_estimator(
    x: Any, *, n_boot: int = 200, rng: RngLike = None, center: Any = None
) -> TailEstimate:
    """Stable index by McCulloch's quantile fit, with a bootstrap percentile 95% interval.

    The estimate is ``fit_stable_quantiles(x).alpha`` (see there for the formulas and the
    tables; McCulloch 1986). It estimates the *stable index*: for non-stable data with
    tail index >= 2 (Student t, Gaussian mixtures) it reports 2 or close to 2. The
    interval is the 2.5% and 97.5% percentiles of the estimate over ``n_boot`` bootstrap
    resamples (Efron's percentile interval), drawn exactly but in O(1) per replicate by
    sampling the needed order statistics of the resample (``_bootstrap_alphas``); the
    same ``rng`` gives the same interval. The percentiles are then moved out by
    ``TABLE_ERROR`` = 0.0025 each, a bound on the tables' interpolation error measured
    against exact stable quantiles (a bias that does not shrink with n), extended
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
    center : None, "median" or float
        Accepted for a uniform interface with the other estimators, and subtracted
        before the fit; but the location does not matter here: the fit estimates it
        (``settings["loc"]``), and alpha, beta and the scale are read off differences
        and ratios of quantiles, which a shift leaves unchanged (up to rounding). None
        (default) leaves ``x`` as given; when given it is recorded in
        ``settings["center"]`` and ``settings["center_value"]``.

    Returns
    -------
    TailEstimate
        ``method="quantile"``, ``estimand="stable index"``; ``settings`` holds n_boot,
        beta, scale, loc, nu_alpha, nu_beta, at_gaussian_boundary, and se_xi_delta, the
        delta-method standard error of 1/alpha (deterministic; nan at the Gaussian end,
        see ``_delta_se_xi``); ``warnings`` holds the fit's notes (table edges, clipped
        beta).

    Raises
    ------
    InvalidArgumentError
        Bad ``x``, ``n_boot`` or ``rng``.
    EstimationError
        If the interquartile range is zero, the fitted scale or location overflows, or
        too few bootstrap resamples give an estimate.
    """
    centred, centring = apply_center(x, check_center(center))
    data = as_sample(centred, "x", min_size=5, allow_constant=False)
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
            "se_xi_delta": _delta_se_xi(sorted_x, q),
            **centring,
        },
        warnings=tuple(warnings),
    )
