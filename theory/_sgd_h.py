"""Tail index of online SGD on least squares with isotropic Gaussian data, by quadrature.

Gürbüzbalaban, Şimşekli & Zhu (ICML 2021) show that the iterates of online SGD on least
squares, x_k = M_k x_{k-1} + q_k with M_k = I - (eta/b) sum_{i<=b} a_i a_i^T, converge to a
stationary law with P(u^T x > t) ~ e(u) t^(-alpha) when the top Lyapunov exponent rho is
negative; alpha is the positive root of h(alpha) = 1, with
h(s) = lim_k (E ||M_k ... M_1||^s)^(1/k). For a_i ~ N(0, sigma^2 I_d) and c = eta sigma^2 / b,
rotation invariance gives (docs/sgd_tail_index.md, section 1)

    h(s) = E[V^(s/2)],  V = (1 - c X)^2 + c^2 X Y,  X ~ chi2_b, Y ~ chi2_(d-1),

and, with T = X + Y ~ chi2_(b+d-1) and B = X / T ~ Beta(b/2, (d-1)/2) independent of T,

    V = (1 - B) + B (1 - c T)^2.

The two integrals are computed in log space by double-exponential rules, with an error
estimate from the same nodes at twice the step (``_sgd_quadrature.py``;
docs/sgd_tail_index.md, section 3). This module holds the public functions, their
domains and the root finding for the tail index.

Domain: c >= 5.56e-309 (1/c, where the T integral is split, must be a double) and
b + d - 1 <= 2,000,000. Beyond the latter the nodes near t = 1/c no longer resolve the
chi2 peak of width sqrt(2(b + d - 1)): log h(2) drifts from its closed form by 1e-8 at
b + d - 1 = 1e7 and by 7e-4 at 1e12, past the accuracy the functions promise.
"""

from __future__ import annotations

import math
from typing import Any, overload

import numpy as np
import numpy.typing as npt
from scipy import optimize

from heavytail._lib._doc import fill_doc
from heavytail._lib._errors import EstimationError, InvalidArgumentError, NoStationaryLawError
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_int, check_real

from ._sgd_quadrature import Setting, log_h, log_h_one
from ._sgd_quadrature import rho as rho_of

_FRAGMENTS = {
    "setting_parameters": """\
eta : float
    Step size, > 0, with c = eta sigma^2 / b >= 5.56e-309 (1/c finite).
batch_size : int
    Batch size b >= 1, with b + d - 1 <= 2,000,000 (the range in which
    the quadrature keeps its accuracy; see the module docstring).
dim : int, optional
    Dimension d >= 1.
sigma : float, optional
    Standard deviation of each data coordinate, > 0.
""",
}

__all__ = [
    "S_MAX",
    "S_MIN",
    "sgd_h",
    "sgd_lyapunov_exponent",
    "sgd_tail_index",
    "sgd_variance_threshold",
]


#: Largest s at which h(s) is evaluated, and largest tail index that is resolved.
S_MAX = 1000.0
#: Smallest tail index that is resolved.
S_MIN = 1e-3

# |log h(S_MAX)| below this cannot be told from 0: then the tail index is at least S_MAX
# for all that can be resolved.
_LOG_H_TOL = 1e-9

# The smallest c = eta sigma^2 / b whose reciprocal is a finite double (1 / 1.797e308).
_MIN_C = 1.0 / float(np.finfo(np.float64).max)
# The largest number of degrees of freedom m = b + d - 1 of T ~ chi2_m. The error of
# log h(2) against its closed form, relative to max(1, |log h(2)|), measured at
# eta sigma^2 = 0.27, 0.9 and 1.71 (times 2b / (b + d + 1) when d > 1): at most 3e-10 up
# to m = 2e6 (b = d = 1e6), 1e-8 at m = 1e7, 6e-8 at m = 1e8 and 7e-4 at m = 1e12, where
# the nodes near t = 1/c ~ m no longer resolve the chi2 peak of width sqrt(2m). Beyond
# 2e6 the accuracy promised below (1e-8) is not kept, so such settings are refused.
_MAX_DEGREES = 2_000_000


# ---------------------------------------------------------------------------------------
# Validation


def _check_setting(eta: Any, batch_size: Any, dim: Any, sigma: Any) -> Setting:
    eta_ = check_real(eta, "eta", low=0.0, low_open=True)
    b = check_int(batch_size, "batch_size", low=1)
    d = check_int(dim, "dim", low=1)
    sigma_ = check_real(sigma, "sigma", low=0.0, low_open=True)
    c = eta_ * sigma_ * sigma_ / b
    if not (c > 0.0 and math.isfinite(c)):
        raise InvalidArgumentError(
            f"`eta` * `sigma`**2 / `batch_size` must be a positive finite float, got {c!r} "
            f"(eta={eta_!r}, sigma={sigma_!r}, batch_size={b})"
        )
    if b + d - 1 > _MAX_DEGREES:
        raise InvalidArgumentError(
            f"`batch_size` + `dim` - 1 must be at most {_MAX_DEGREES:,} (the degrees of "
            f"freedom of T that the quadrature resolves to 1e-8), got {b + d - 1:,} "
            f"(batch_size={b}, dim={d})"
        )
    if c < _MIN_C:
        # The integrals are split at t = 1/c, the zero of 1 - ct: it must be a double.
        raise InvalidArgumentError(
            f"`eta` * `sigma`**2 / `batch_size` must be at least {_MIN_C:.3g} (its "
            f"reciprocal must be a finite double), got {c!r} (eta={eta_!r}, "
            f"sigma={sigma_!r}, batch_size={b})"
        )
    return Setting(c=c, b=b, d=d)


def _check_s(s: Any) -> FloatArray:
    arr = np.asarray(s)
    if arr.dtype.kind not in "fiu" or arr.dtype == np.bool_:
        raise InvalidArgumentError(f"`s` must be a real number or an array of them, got {arr!r}")
    out = np.asarray(arr, dtype=np.float64)
    bad = ~np.isfinite(out) | (out < 0.0) | (out > S_MAX)
    if bad.any():
        raise InvalidArgumentError(
            f"`s` must be in [0, {S_MAX:g}], got {out[bad].flat[0]!r}"
            + (f" (and {int(bad.sum()) - 1} more)" if bad.sum() > 1 else "")
        )
    return out


# ---------------------------------------------------------------------------------------
# Public functions


@overload
def sgd_h(
    s: float, eta: float, batch_size: int, *, dim: int = ..., sigma: float = ..., log: bool = ...
) -> float: ...
@overload
def sgd_h(
    s: npt.ArrayLike,
    eta: float,
    batch_size: int,
    *,
    dim: int = ...,
    sigma: float = ...,
    log: bool = ...,
) -> float | FloatArray: ...
def sgd_h(
    s: Any,
    eta: Any,
    batch_size: Any,
    *,
    dim: Any = 1,
    sigma: Any = 1.0,
    log: bool = False,
) -> float | FloatArray:
    r"""The moment growth rate h(s) of online SGD on least squares with Gaussian data.

    For x_k = M_k x_{k-1} + q_k with M_k = I - (eta/b) sum_{i<=b} a_i a_i^T and fresh
    a_i ~ N(0, sigma^2 I_d),

    .. math::

        h(s) = \lim_k (E \|M_k \cdots M_1\|^s)^{1/k}
             = E\big[\big((1 - cX)^2 + c^2 X Y\big)^{s/2}\big],
        \quad c = \eta\sigma^2/b,\ X \sim \chi^2_b,\ Y \sim \chi^2_{d-1},

    (Gürbüzbalaban, Şimşekli & Zhu, ICML 2021, Thm 2 and eq. (3.3); the chi-square form is
    derived in docs/sgd_tail_index.md, section 1). In 1-D, h(s) = E|1 - cX|^s. h is
    log-convex with h(0) = 1 and h(2) = 1 - 2bc + b(b + d + 1)c^2.

    Parameters
    ----------
    s : float or array_like
        Order(s), in [0, S_MAX] (S_MAX = 1000).
    eta : float
        Step size, > 0, with c = eta sigma^2 / b >= 5.56e-309 (1/c finite).
    batch_size : int
        Batch size b >= 1, with b + d - 1 <= 2,000,000 (the range in which
        the quadrature keeps its accuracy; see the module docstring).
    dim : int, optional
        Dimension d >= 1 of the data.
    sigma : float, optional
        Standard deviation of each data coordinate, > 0.
    log : bool, optional
        Return log h(s) instead of h(s). Use this for large s, where h(s) may exceed the
        largest float.

    Returns
    -------
    float or ndarray
        h(s) (or log h(s)); an array of the shape of ``s`` when ``s`` is an array.

    Raises
    ------
    InvalidArgumentError
        For a parameter outside its domain.
    EstimationError
        If the quadrature does not converge, or h(s) overflows a float (use ``log=True``).

    Notes
    -----
    Computed in log space: an outer tanh-sinh integral over T = X + Y ~ chi2_(b+d-1), split
    at t = 1/c and at the peaks of the integrand, of an inner tanh-sinh integral over
    B = X / T ~ Beta(b/2, (d-1)/2), with V = (1 - B) + B (1 - cT)^2
    (docs/sgd_tail_index.md, section 3). The error of log h is about 1e-12 relative to
    max(1, |log h|) for moderate parameters; the rules are refined (up to twice in each
    axis) until the difference between the fine rules and rules of twice their step is
    below 1e-4 max(1, |log h|), which bounds the error by ~1e-8 relative, and the function
    raises rather than return a value that does not meet this.

    Examples
    --------
    >>> from heavytail.theory import sgd_h
    >>> round(sgd_h(2.0, 0.5, 1, dim=2), 12)  # 1 - 2c + 4c^2 with c = 0.5
    1.0
    """
    st = _check_setting(eta, batch_size, dim, sigma)
    arr = _check_s(s)
    logh = log_h(st, arr)
    if not log:
        if np.any(logh > 709.0):
            raise EstimationError(
                f"h(s) = exp({float(logh.max()):g}) overflows a float; pass log=True"
            )
        logh = np.exp(logh)
    if arr.ndim == 0:
        return float(logh)
    return logh


@fill_doc(_FRAGMENTS)
def sgd_lyapunov_exponent(eta: Any, batch_size: Any, *, dim: Any = 1, sigma: Any = 1.0) -> float:
    r"""Top Lyapunov exponent rho of online SGD on least squares with Gaussian data.

    .. math::

        \rho = \lim_k \tfrac1k \log\|M_k\cdots M_1\| = h'(0)
             = \tfrac12 E \log\big((1 - cX)^2 + c^2 X Y\big),

    with c, X, Y as in :func:`sgd_h` (Gürbüzbalaban, Şimşekli & Zhu, ICML 2021, Thm 2;
    docs/sgd_tail_index.md, section 1). The iterates have a stationary law iff rho < 0.

    Parameters
    ----------
    %(setting_parameters)s

    Returns
    -------
    float
        rho, accurate to about 1e-12 (absolute).

    Raises
    ------
    InvalidArgumentError
        For a parameter outside its domain.
    EstimationError
        If the quadrature does not converge.
    """
    return rho_of(_check_setting(eta, batch_size, dim, sigma))


def sgd_variance_threshold(batch_size: Any, *, dim: Any = 1) -> float:
    r"""The value of eta sigma^2 at which the tail index of SGD equals 2.

    From h(2) = 1 - 2bc + b(b + d + 1)c^2 with c = eta sigma^2 / b, h(2) < 1 (so alpha > 2
    and the stationary law has a finite variance) iff

    .. math:: \eta\sigma^2 < \frac{2b}{b + d + 1}.

    (docs/sgd_tail_index.md, section 2.)

    Parameters
    ----------
    batch_size : int
        Batch size b >= 1.
    dim : int, optional
        Dimension d >= 1.

    Returns
    -------
    float
        2b / (b + d + 1).
    """
    b = check_int(batch_size, "batch_size", low=1)
    d = check_int(dim, "dim", low=1)
    return 2.0 * b / (b + d + 1)


@fill_doc(_FRAGMENTS)
def sgd_tail_index(eta: Any, batch_size: Any, *, dim: Any = 1, sigma: Any = 1.0) -> float:
    r"""Tail index alpha of the stationary law of online SGD on least squares.

    alpha is the positive root of h(alpha) = 1, where h is :func:`sgd_h`
    (Gürbüzbalaban, Şimşekli & Zhu, ICML 2021, Thm 2): P(u^T x > t) ~ e(u) t^(-alpha) for
    the stationary iterate x and every direction u. h is log-convex with h(0) = 1 and
    h'(0) = rho, so when rho < 0 there is at most one positive root.

    Parameters
    ----------
    %(setting_parameters)s

    Returns
    -------
    float
        alpha in [S_MIN, S_MAX] = [1e-3, 1000], to a relative accuracy of about 1e-10.

    Raises
    ------
    InvalidArgumentError
        For a parameter outside its domain.
    NoStationaryLawError
        If rho >= 0: the iterates have no stationary law.
    EstimationError
        If alpha lies outside [S_MIN, S_MAX]: h(s) < 1 for every s <= 1000 (alpha > 1000,
        which happens for small eta sigma^2 / b: alpha grows like b / (eta sigma^2)), or
        h(S_MIN) >= 1 while rho < 0 (alpha < 1e-3, just below the boundary rho = 0). Also if
        a quadrature does not converge.

    Notes
    -----
    log h(2) is known in closed form, which decides whether alpha < 2. Otherwise the root
    is bracketed from s = 2 upwards with the secants of the convex log h (each secant
    crosses 0 at or beyond alpha) and refined by Brent's method on the log-space
    quadrature of :func:`sgd_h`. The prediction is
    exact in the model: i.i.d. isotropic Gaussian data and a fresh batch at every step
    (online SGD).

    Examples
    --------
    >>> from heavytail.theory import sgd_tail_index, sgd_variance_threshold
    >>> round(sgd_tail_index(sgd_variance_threshold(4, dim=3), 4, dim=3), 8)
    2.0
    """
    st = _check_setting(eta, batch_size, dim, sigma)
    rho = rho_of(st)
    if rho >= 0.0:
        raise NoStationaryLawError(
            f"the top Lyapunov exponent rho = {rho:.6g} is >= 0 at eta*sigma^2/b = {st.c:g}, "
            f"b = {st.b}, d = {st.d}: the SGD iterates have no stationary law"
        )

    # log h(2) in closed form (docs/sgd_tail_index.md, section 2).
    g2 = math.log1p(st.b * st.c * ((st.b + st.d + 1) * st.c - 2.0))

    def g(s: float) -> float:
        return g2 if s == 2.0 else log_h_one(st, s)

    if g2 == 0.0:
        return 2.0
    if g2 > 0.0:
        # alpha < 2: log h is convex with log h(0) = 0 and slope rho < 0 at 0.
        lo, hi = S_MIN, 2.0
        if g(lo) >= 0.0:
            raise EstimationError(
                f"rho = {rho:.6g} < 0 but h(s) >= 1 at s = {S_MIN:g}: the tail index is "
                f"below {S_MIN:g}, too small to resolve"
            )
    else:
        lo, g_lo, hi = 2.0, g2, 4.0
        while True:
            if hi >= S_MAX:
                hi = S_MAX
                if g(hi) <= _LOG_H_TOL:
                    raise EstimationError(
                        f"h(s) < 1 for every s <= {S_MAX:g} at eta*sigma^2/b = {st.c:g}, "
                        f"b = {st.b}, d = {st.d}: the tail index exceeds {S_MAX:g}, beyond "
                        f"what is resolved; the stationary law is light-tailed for practical "
                        f"purposes"
                    )
                break
            g_hi = g(hi)
            if g_hi > _LOG_H_TOL:
                break
            if g_hi >= 0.0:
                # Too close to 0 to tell its sign (for tiny c, log h is below the
                # quadrature's resolution everywhere): look further up, keeping lo.
                hi = 2.0 * hi
            elif g_hi > g_lo:
                # A convex function lies above its secants outside their interval, so
                # the secant through (lo, g_lo), (hi, g_hi) reaches 0 at or after alpha.
                upper = hi - g_hi * (hi - lo) / (g_hi - g_lo)
                lo, g_lo, hi = hi, g_hi, upper * (1.0 + 1e-3)
            else:
                lo, g_lo, hi = hi, g_hi, 2.0 * hi
    alpha = float(optimize.brentq(g, lo, hi, xtol=1e-13, rtol=1e-12))
    return alpha
