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

This module integrates over T with QUADPACK (breakpoints at the zero t = 1/c of 1 - ct,
the density's mode and the peak of the integrand) and over B with a tanh-sinh rule split
at the peak of the B integrand, all in log space (docs/sgd_tail_index.md, section 3).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, overload

import numpy as np
import numpy.typing as npt
from scipy import integrate, optimize, special

from ._errors import EstimationError, InvalidArgumentError, NoStationaryLawError
from ._validation import check_int, check_real

__all__ = [
    "S_MAX",
    "S_MIN",
    "sgd_h",
    "sgd_lyapunov_exponent",
    "sgd_tail_index",
    "sgd_variance_threshold",
]

FloatArray = npt.NDArray[np.float64]

#: Largest s at which h(s) is evaluated, and largest tail index that is resolved.
S_MAX = 1000.0
#: Smallest tail index that is resolved.
S_MIN = 1e-3

# QUADPACK's relative tolerance on each piece of the T integral, and the largest relative
# error (QUADPACK's estimate plus the tanh-sinh check) accepted on a whole integral.
_EPSREL = 1e-11
_MAX_REL_ERROR = 1e-8
# Half-width of a breakpoint window, in standard deviations of the peak it surrounds.
_WINDOW = 8.0
# |log h(S_MAX)| below this cannot be told from 0 (the quadrature's error on log h is
# about 1e-11): then the tail index is at least S_MAX for all that can be resolved.
_LOG_H_TOL = 1e-9
# tanh-sinh converges double-exponentially: the error of the step-h rule is about the square
# of the step-h/2h difference, so a difference of 1e-6 still means an error far below 1e-10.
_LOG_RULE_SLACK = 100.0


# ---------------------------------------------------------------------------------------
# Validation


@dataclass(frozen=True)
class _Setting:
    """The checked parameters: c = eta sigma^2 / b, the batch size b and the dimension d."""

    c: float
    b: int
    d: int


def _check_setting(eta: Any, batch_size: Any, dim: Any, sigma: Any) -> _Setting:
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
    return _Setting(c=c, b=b, d=d)


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
# The B integral: tanh-sinh in log space


@dataclass(frozen=True)
class _TanhSinh:
    """Nodes of the tanh-sinh rule on a unit interval, in log form.

    For the node at u_k = k step, with r_k = (pi/2) sinh(u_k): the distance to the left end
    is 1 / (1 + exp(-2 r_k)), to the right end 1 / (1 + exp(2 r_k)), and the weight is
    step (pi/4) cosh(u_k) / cosh(r_k)^2. Distances are kept as logs, so that an endpoint
    singularity B^(a-1) is evaluated without cancellation. ``coarse`` marks every other
    node: the rule with twice the step, whose difference from the full rule estimates the
    error.
    """

    log_left: FloatArray
    log_right: FloatArray
    log_weight: FloatArray
    log_weight_coarse: FloatArray
    coarse: npt.NDArray[np.bool_]


@lru_cache(maxsize=1)
def _tanh_sinh() -> _TanhSinh:
    # Step 1/16 and |u| <= 4: the nodes reach exp(-2 (pi/2) sinh 4) ~ 1e-37 from each end,
    # where the left-out mass of B^(-1/2) (the strongest singularity, b = 1 or d = 2) is
    # ~1e-18.
    step = 1.0 / 16.0
    k = np.arange(-64, 65)
    u = k * step
    r = 0.5 * math.pi * np.sinh(u)
    log_left = -np.logaddexp(0.0, -2.0 * r)
    log_right = -np.logaddexp(0.0, 2.0 * r)
    log_cosh_r = np.abs(r) + np.log1p(np.exp(-2.0 * np.abs(r))) - math.log(2.0)
    log_w = math.log(step * math.pi / 4.0) + np.log(np.cosh(u)) - 2.0 * log_cosh_r
    coarse = (k % 2) == 0
    return _TanhSinh(log_left, log_right, log_w, log_w + math.log(2.0), coarse)


def _beta_splits(p: float, a1: float, a2: float, log_w: float) -> list[float]:
    """Local maxima in (0, 1) of p log V + (a1 - 1) log B + (a2 - 1) log(1 - B).

    With z = 1 - w (w = (1 - ct)^2), V = 1 - z B, and the derivative vanishes where
    z (p + a1 + a2 - 2) B^2 - (p z + (a1 - 1)(1 + z) + (a2 - 1)) B + (a1 - 1) = 0.
    The coefficients are divided by 1 + |z| so that huge w does not overflow.
    """
    if log_w > 0.0:  # w > 1: z < 0, 1 + |z| = w
        inv = math.exp(-log_w)
        zeta = math.expm1(-log_w)
    else:
        w = math.exp(log_w)
        inv = 1.0 / (2.0 - w)
        zeta = (1.0 - w) * inv
    qa = zeta * (p + a1 + a2 - 2.0)
    qb = -(p * zeta + (a1 - 1.0) * (inv + zeta) + (a2 - 1.0) * inv)
    qc = (a1 - 1.0) * inv
    roots: list[float] = []
    if abs(qa) <= 1e-14 * (abs(qb) + abs(qc)):
        if qb != 0.0:
            roots.append(-qc / qb)
    else:
        disc = qb * qb - 4.0 * qa * qc
        if disc >= 0.0:
            sq = math.sqrt(disc)
            q = -0.5 * (qb + math.copysign(sq, qb))
            if q != 0.0:
                roots.extend([q / qa, qc / q])
            else:
                roots.append(-qb / (2.0 * qa))

    # Only maxima are split at: a minimum sits where the integrand is smallest (for tiny w,
    # at 1 - B ~ w next to the end B = 1), and splitting there would leave a piece with a
    # near-singularity just outside its end, which tanh-sinh resolves poorly. The
    # curvature, with V and z scaled by 1 + |z|: -p zeta^2 / (inv - zeta B)^2
    # - (a1 - 1) / B^2 - (a2 - 1) / (1 - B)^2.
    def is_max(r: float) -> bool:
        v = inv - zeta * r
        curv = -p * zeta * zeta / (v * v) - (a1 - 1.0) / (r * r) - (a2 - 1.0) / (1.0 - r) ** 2
        return curv < 0.0

    return sorted(r for r in roots if 1e-12 < r < 1.0 - 1e-12 and is_max(r))


@dataclass
class _ErrorTracker:
    """Largest relative error seen in the B integrals (tanh-sinh step h against 2h)."""

    worst: float = 0.0


class _BetaRule:
    """The B integral for one (p, a1, a2): the log-mean of V^p, or the mean of log V."""

    def __init__(self, a1: float, a2: float, tracker: _ErrorTracker) -> None:
        self.a1 = a1
        self.a2 = a2
        self.tracker = tracker
        self.ts = _tanh_sinh()

    def _nodes(self, splits: list[float]) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """log B, log(1 - B), log weight and coarse log weight at every node."""
        ts = self.ts
        edges = [0.0, *splits, 1.0]
        lb, l1b, lw, lwc = [], [], [], []
        for lo, hi in itertools.pairwise(edges):
            length = hi - lo
            log_len = math.log(length)
            left = log_len + ts.log_left  # log(B - lo)
            right = log_len + ts.log_right  # log(hi - B)
            lb.append(left if lo == 0.0 else np.logaddexp(math.log(lo), left))
            l1b.append(right if hi == 1.0 else np.logaddexp(math.log1p(-hi), right))
            lw.append(log_len + ts.log_weight)
            lwc.append(np.where(ts.coarse, log_len + ts.log_weight_coarse, -np.inf))
        return np.concatenate(lb), np.concatenate(l1b), np.concatenate(lw), np.concatenate(lwc)

    def _log_density(self, lb: FloatArray, l1b: FloatArray) -> FloatArray:
        a1, a2 = self.a1, self.a2
        out: FloatArray = (a1 - 1.0) * lb + (a2 - 1.0) * l1b - special.betaln(a1, a2)
        return out

    def log_mean_power(self, p: float, log_w: float) -> float:
        """log E[V^p] with V = (1 - B) + B w, w = exp(log_w), B ~ Beta(a1, a2)."""
        lb, l1b, lw, lwc = self._nodes(_beta_splits(p, self.a1, self.a2, log_w))
        log_v = np.logaddexp(l1b, lb + log_w)
        dens = self._log_density(lb, l1b)
        fine = special.logsumexp(lw + dens + p * log_v) - special.logsumexp(lw + dens)
        crude = special.logsumexp(lwc + dens + p * log_v) - special.logsumexp(lwc + dens)
        self.tracker.worst = max(self.tracker.worst, abs(fine - crude))
        return float(fine)

    def mean_log(self, ct: float) -> float:
        """E[log V] with V = (1 - B) + B (1 - ct)^2, B ~ Beta(a1, a2)."""
        log_w = _log_w(ct)
        lb, l1b, lw, lwc = self._nodes(_beta_splits(0.0, self.a1, self.a2, log_w))
        log_v = _log_v(lb, l1b, ct, log_w)
        dens = self._log_density(lb, l1b)
        wf = np.exp(lw + dens - np.max(lw + dens))
        wc = np.exp(lwc + dens - np.max(lwc + dens))
        fine = float(np.dot(wf, log_v) / wf.sum())
        crude = float(np.dot(wc, log_v) / wc.sum())
        # log V has a near-singularity at 1 - B ~ w for t near 1/c, where the step-2h rule
        # is much cruder than the step-h one; a step-h/2h difference of _LOG_RULE_SLACK
        # times the tolerance still leaves the step-h value far inside it.
        scale = max(1.0, abs(fine))
        self.tracker.worst = max(self.tracker.worst, abs(fine - crude) / scale / _LOG_RULE_SLACK)
        return fine


def _log_w(ct: float) -> float:
    """log (1 - ct)^2, accurate for small ct."""
    if ct < 1.0:
        return 2.0 * math.log1p(-ct)
    if ct == 1.0:
        return -math.inf
    return 2.0 * math.log(ct - 1.0)


def _log_v(lb: FloatArray, l1b: FloatArray, ct: float, log_w: float) -> FloatArray:
    """log((1 - B) + B w): log1p(B (w - 1)) where that is accurate (small ct), else logaddexp."""
    out: FloatArray = np.logaddexp(l1b, lb + log_w)
    if ct < 1e100:
        x = np.exp(lb) * (ct * (ct - 2.0))  # B (w - 1)
        small = np.abs(x) < 0.5
        out[small] = np.log1p(x[small])
    return out


# ---------------------------------------------------------------------------------------
# The T integral: QUADPACK in log space


def _log_chi2_pdf(m: int) -> Callable[[float], float]:
    half = 0.5 * m
    const = -half * math.log(2.0) - math.lgamma(half)

    def f(t: float) -> float:
        return (half - 1.0) * math.log(t) - 0.5 * t + const

    return f


def _breakpoints(st: _Setting, p: float) -> list[float]:
    """Where the T integrand has a peak, a kink or a zero: the pieces QUADPACK integrates.

    The zero of 1 - ct; the chi2_m mode +- 8 sd; and the peak of
    p log (1 - ct)^2 + log chi2_m(t) beyond 1/c, the larger root of
    c t^2 - (4 p c + (m - 2) c + 1) t + (m - 2) = 0, +- 8 of its curvature widths.
    """
    c, m = st.c, st.b + st.d - 1
    points = [1.0 / c]
    mode = max(m - 2.0, 0.0)
    sd = math.sqrt(2.0 * m)
    points += [mode, mode - _WINDOW * sd, mode + _WINDOW * sd]
    if p > 0.0:
        qb = 4.0 * p * c + (m - 2.0) * c + 1.0
        disc = qb * qb - 4.0 * c * (m - 2.0)
        if disc >= 0.0:
            peak = (qb + math.sqrt(disc)) / (2.0 * c)
            if peak > 1.0 / c:
                curv = 4.0 * p * c * c / (c * peak - 1.0) ** 2 + (0.5 * m - 1.0) / peak**2
                if curv > 0.0:
                    width = 1.0 / math.sqrt(curv)
                    points += [peak, peak - _WINDOW * width, peak + _WINDOW * width]
    finite = sorted({x for x in points if x > 0.0 and math.isfinite(x)})
    return finite


def _integrate_pieces(f: Callable[[float], float], points: list[float]) -> tuple[float, float]:
    """Integral of f over (0, inf) split at ``points``, and the summed error estimate."""
    edges = [0.0, *points]
    total = err = 0.0
    for lo, hi in zip(edges, [*points, math.inf], strict=True):
        res = integrate.quad(f, lo, hi, epsabs=0.0, epsrel=_EPSREL, limit=200, full_output=1)
        total += res[0]
        err += res[1]
    return total, err


def _log_h_one(st: _Setting, s: float, tracker: _ErrorTracker) -> float:
    """log h(s) for one s > 0, by the log-space quadrature."""
    c, b, d = st.c, st.b, st.d
    m = b + d - 1
    p = 0.5 * s
    log_pdf = _log_chi2_pdf(m)
    if d == 1:

        def phi(t: float) -> float:
            return log_pdf(t) + p * _log_w(c * t)

    else:
        rule = _BetaRule(0.5 * b, 0.5 * (d - 1), tracker)

        def phi(t: float) -> float:
            return log_pdf(t) + rule.log_mean_power(p, _log_w(c * t))

    points = _breakpoints(st, p)
    candidates = [x for x in points if x != 1.0 / c] or [1.0]
    shift = max(phi(x) for x in candidates)

    def integrand(t: float) -> float:
        return math.exp(phi(t) - shift)

    total, err = _integrate_pieces(integrand, points)
    if not (total > 0.0 and math.isfinite(total)) or err > _MAX_REL_ERROR * total:
        raise EstimationError(
            f"the quadrature for h(s) at s={s:g}, c={c:g}, b={b}, d={d} did not converge "
            f"(integral {total:g}, error estimate {err:g})"
        )
    return shift + math.log(total)


def _log_h(st: _Setting, s: FloatArray) -> FloatArray:
    tracker = _ErrorTracker()
    out = np.zeros_like(s)
    for i, si in np.ndenumerate(s):
        if si > 0.0:
            out[i] = _log_h_one(st, float(si), tracker)
    _check_tracker(tracker, st)
    return out


def _check_tracker(tracker: _ErrorTracker, st: _Setting) -> None:
    if tracker.worst > _MAX_REL_ERROR:
        raise EstimationError(
            f"the Beta integral did not converge at c={st.c:g}, b={st.b}, d={st.d} "
            f"(tanh-sinh step h and 2h differ by {tracker.worst:.2g})"
        )


def _rho(st: _Setting) -> float:
    """rho = (1/2) E log V, by the same quadrature (log singularity at t = 1/c)."""
    c, b, d = st.c, st.b, st.d
    m = b + d - 1
    log_pdf = _log_chi2_pdf(m)
    tracker = _ErrorTracker()
    if d == 1:

        def f(t: float) -> float:
            return math.exp(log_pdf(t)) * 0.5 * _log_w(c * t)

    else:
        rule = _BetaRule(0.5 * b, 0.5 * (d - 1), tracker)

        def f(t: float) -> float:
            return math.exp(log_pdf(t)) * 0.5 * rule.mean_log(c * t)

    total, err = _integrate_pieces(f, _breakpoints(st, 0.0))
    _check_tracker(tracker, st)
    if not math.isfinite(total) or err > _MAX_REL_ERROR * max(abs(total), 1e-300) + 1e-13:
        raise EstimationError(
            f"the quadrature for rho at c={c:g}, b={b}, d={d} did not converge "
            f"(value {total:g}, error estimate {err:g})"
        )
    return total


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
        Step size, > 0.
    batch_size : int
        Batch size b >= 1.
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
    Computed in log space: an outer QUADPACK integral over T = X + Y ~ chi2_(b+d-1), split at
    t = 1/c and at the peaks of the integrand, of an inner tanh-sinh integral over
    B = X / T ~ Beta(b/2, (d-1)/2), with V = (1 - B) + B (1 - cT)^2
    (docs/sgd_tail_index.md, section 3). The relative error is about 1e-10.

    Examples
    --------
    >>> from heavytail.theory import sgd_h
    >>> round(sgd_h(2.0, 0.5, 1, dim=2), 12)  # 1 - 2c + 4c^2 with c = 0.5
    1.0
    """
    st = _check_setting(eta, batch_size, dim, sigma)
    arr = _check_s(s)
    logh = _log_h(st, arr)
    if not log:
        if np.any(logh > 709.0):
            raise EstimationError(
                f"h(s) = exp({float(logh.max()):g}) overflows a float; pass log=True"
            )
        logh = np.exp(logh)
    if arr.ndim == 0:
        return float(logh)
    return logh


def sgd_lyapunov_exponent(eta: Any, batch_size: Any, *, dim: Any = 1, sigma: Any = 1.0) -> float:
    r"""Top Lyapunov exponent rho of online SGD on least squares with Gaussian data.

    .. math::

        \rho = \lim_k \tfrac1k \log\|M_k\cdots M_1\| = h'(0)
             = \tfrac12 E \log\big((1 - cX)^2 + c^2 X Y\big),

    with c, X, Y as in :func:`sgd_h` (Gürbüzbalaban, Şimşekli & Zhu, ICML 2021, Thm 2;
    docs/sgd_tail_index.md, section 1). The iterates have a stationary law iff rho < 0.

    Parameters
    ----------
    eta : float
        Step size, > 0.
    batch_size : int
        Batch size b >= 1.
    dim : int, optional
        Dimension d >= 1.
    sigma : float, optional
        Standard deviation of each data coordinate, > 0.

    Returns
    -------
    float
        rho, accurate to about 1e-10 (absolute) for moderate c.

    Raises
    ------
    InvalidArgumentError
        For a parameter outside its domain.
    EstimationError
        If the quadrature does not converge.
    """
    return _rho(_check_setting(eta, batch_size, dim, sigma))


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


def sgd_tail_index(eta: Any, batch_size: Any, *, dim: Any = 1, sigma: Any = 1.0) -> float:
    r"""Tail index alpha of the stationary law of online SGD on least squares.

    alpha is the positive root of h(alpha) = 1, where h is :func:`sgd_h`
    (Gürbüzbalaban, Şimşekli & Zhu, ICML 2021, Thm 2): P(u^T x > t) ~ e(u) t^(-alpha) for
    the stationary iterate x and every direction u. h is log-convex with h(0) = 1 and
    h'(0) = rho, so when rho < 0 there is at most one positive root.

    Parameters
    ----------
    eta : float
        Step size, > 0.
    batch_size : int
        Batch size b >= 1.
    dim : int, optional
        Dimension d >= 1.
    sigma : float, optional
        Standard deviation of each data coordinate, > 0.

    Returns
    -------
    float
        alpha in [S_MIN, S_MAX] = [1e-3, 1000], to a relative accuracy of about 1e-9.

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
    log h is found by the log-space quadrature of :func:`sgd_h`; the root is bracketed
    from s = 2 by halving or doubling and refined by Brent's method. The prediction is
    exact in the model: i.i.d. isotropic Gaussian data and a fresh batch at every step
    (online SGD).

    Examples
    --------
    >>> from heavytail.theory import sgd_tail_index, sgd_variance_threshold
    >>> round(sgd_tail_index(sgd_variance_threshold(4, dim=3), 4, dim=3), 8)
    2.0
    """
    st = _check_setting(eta, batch_size, dim, sigma)
    rho = _rho(st)
    if rho >= 0.0:
        raise NoStationaryLawError(
            f"the top Lyapunov exponent rho = {rho:.6g} is >= 0 at eta*sigma^2/b = {st.c:g}, "
            f"b = {st.b}, d = {st.d}: the SGD iterates have no stationary law"
        )
    tracker = _ErrorTracker()

    def g(s: float) -> float:
        return _log_h_one(st, s, tracker)

    lo, hi = 2.0, 2.0
    g_lo = g_hi = g(2.0)
    if g_hi > 0.0:
        while g_lo >= 0.0:
            hi, g_hi = lo, g_lo
            lo = lo / 2.0
            if lo < S_MIN:
                lo = S_MIN
                g_lo = g(lo)
                if g_lo >= 0.0:
                    raise EstimationError(
                        f"rho = {rho:.6g} < 0 but h(s) >= 1 at s = {S_MIN:g}: the tail index "
                        f"is below {S_MIN:g}, too small to resolve"
                    )
                break
            g_lo = g(lo)
    else:
        while g_hi <= 0.0:
            lo, g_lo = hi, g_hi
            hi = hi * 2.0
            if hi > S_MAX:
                hi = S_MAX
                g_hi = g(hi)
                if g_hi <= _LOG_H_TOL:
                    raise EstimationError(
                        f"h(s) < 1 for every s <= {S_MAX:g} (log h({S_MAX:g}) = {g_hi:.3g}) "
                        f"at eta*sigma^2/b = {st.c:g}, b = {st.b}, d = {st.d}: the tail "
                        f"index exceeds {S_MAX:g}, beyond what is resolved; the stationary "
                        f"law is light-tailed for practical purposes"
                    )
                break
            g_hi = g(hi)
    alpha = float(optimize.brentq(g, lo, hi, xtol=1e-13, rtol=1e-12))
    _check_tracker(tracker, st)
    return alpha
