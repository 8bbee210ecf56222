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

The T integral is split at the zero t = 1/c of 1 - ct and around the peaks of the
integrand, and each piece is integrated by a tanh-sinh rule (exp-sinh beyond the last
breakpoint); for every T node the B integral is split at the peak of its integrand and
integrated by tanh-sinh. All of it is vectorised and done in log space, so large s does not
overflow; the same nodes with twice the step give an error estimate
(docs/sgd_tail_index.md, section 3).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, overload

import numpy as np
import numpy.typing as npt
from scipy import optimize

from heavytail._lib._errors import EstimationError, InvalidArgumentError, NoStationaryLawError
from heavytail._lib._validation import check_int, check_real

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

# Largest difference, relative to max(1, |value|), between log h (or rho) by the fine
# rules and by the rules of twice their step. That difference estimates the error of the
# coarse rules; a double-exponential rule squares its error when its step is halved, so
# the fine rules' error is ~1e-8 at worst. Against adaptive QUADPACK quadrature the error
# is below 1e-12 (relative) over c in [0.003, 2], b < 20, d < 40, s in [0.01, 1000].
_MAX_RULE_GAP = 1e-4
# Half-width of a breakpoint window, in widths of the peak it surrounds.
_WINDOW = 8.0
# Nodes per unit of u (1 / step) of the T and B rules, tried in turn until the fine and
# the coarse rules agree: step 1/16 in T (one axis, cheap) and 1/8 in B first; large s with
# large b and d (a sharp peak in B) needs finer B rules.
_LEVELS = ((16, 8), (16, 16), (32, 32))
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
# Fixed double-exponential rules, in log form


@dataclass(frozen=True)
class _Rule:
    """Nodes of a double-exponential rule with step 1/n on u in [-4, 4], in log form.

    tanh-sinh on a unit interval: with r = (pi/2) sinh(u), the distance of the node to
    the left end is 1 / (1 + exp(-2r)), to the right end 1 / (1 + exp(2r)), and the weight
    is step (pi/4) cosh(u) / cosh(r)^2. The nodes reach exp(-pi sinh 4) ~ 1e-37 from each
    end, where the left-out mass of the strongest singularity met here, x^(-1/2), is
    ~1e-18. exp-sinh on (0, inf): the node is x = exp(r), the weight step (pi/2) cosh(u) x;
    the nodes span 1e-19 to 4e18. Distances are kept as logs, so that endpoint
    singularities are evaluated without cancellation. ``log_weight_coarse`` is the rule
    with step 2/n (every other node, twice the weight; -inf elsewhere): the difference of
    the two rules estimates the error of the coarse one, and so bounds that of the fine
    one (double-exponential rules square their error when the step is halved).
    """

    log_left: FloatArray
    log_right: FloatArray
    log_weight: FloatArray
    log_weight_coarse: FloatArray


def _coarse(log_w: FloatArray, k: npt.NDArray[np.int_]) -> FloatArray:
    out: FloatArray = np.where(k % 2 == 0, log_w + math.log(2.0), -np.inf)
    return out


@lru_cache(maxsize=4)
def _tanh_sinh(n: int = 16) -> _Rule:
    step = 1.0 / n
    k = np.arange(-4 * n, 4 * n + 1)
    u = k * step
    r = 0.5 * math.pi * np.sinh(u)
    log_left = -np.logaddexp(0.0, -2.0 * r)
    log_right = -np.logaddexp(0.0, 2.0 * r)
    log_cosh_r = np.abs(r) + np.log1p(np.exp(-2.0 * np.abs(r))) - math.log(2.0)
    log_w = math.log(step * math.pi / 4.0) + np.log(np.cosh(u)) - 2.0 * log_cosh_r
    return _Rule(log_left, log_right, log_w, _coarse(log_w, k))


@lru_cache(maxsize=4)
def _exp_sinh(n: int = 16) -> _Rule:
    step = 1.0 / n
    k = np.arange(-4 * n, 4 * n + 1)
    u = k * step
    r = 0.5 * math.pi * np.sinh(u)
    log_w = math.log(step * math.pi / 2.0) + np.log(np.cosh(u)) + r
    return _Rule(r, np.full_like(r, np.inf), log_w, _coarse(log_w, k))


# ---------------------------------------------------------------------------------------
# The T nodes: pieces between the breakpoints of the T integrand


@dataclass(frozen=True)
class _TNodes:
    """Nodes of the T integral: log t, log |1 - ct|, and the log weights (fine, coarse)."""

    log_t: FloatArray
    log_dist: FloatArray
    log_weight: FloatArray
    log_weight_coarse: FloatArray


def _breakpoints(st: _Setting, p: float) -> list[float]:
    """Where the T integrand has a peak, a kink or a zero: the ends of the T pieces.

    The zero t = 1/c of 1 - ct; the chi2_m mode +- 8 sd, and 16, 32, 64, 128 sd above
    it; and the peak of
    p log (1 - ct)^2 + log chi2_m(t) beyond 1/c, the larger root of
    c t^2 - (4 p c + (m - 2) c + 1) t + (m - 2) = 0, +- 8 of its curvature widths.
    """
    c, m = st.c, st.b + st.d - 1
    points = [1.0 / c]
    mode = max(m - 2.0, 0.0)
    sd = math.sqrt(2.0 * m)
    points += [mode, mode - _WINDOW * sd, mode + _WINDOW * sd]
    # The chi2 tail, in pieces whose lengths grow geometrically, so that no piece is so
    # long (up to 1/c, for tiny c) that its nodes miss where the density decays.
    points += [mode + k * sd for k in (16.0, 32.0, 64.0, 128.0)]
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
    return sorted({x for x in points if x > 0.0 and math.isfinite(x)})


def _t_nodes(st: _Setting, p: float, n_t: int) -> _TNodes:
    """tanh-sinh on each finite piece, exp-sinh beyond the last breakpoint."""
    inv_c = 1.0 / st.c
    points = _breakpoints(st, p)
    ts, es = _tanh_sinh(n_t), _exp_sinh(n_t)
    log_t, log_dist, lw, lwc = [], [], [], []
    edges = [0.0, *points]
    for lo, hi in itertools.pairwise(edges):
        log_len = math.log(hi - lo)
        from_lo = log_len + ts.log_left  # log(t - lo)
        from_hi = log_len + ts.log_right  # log(hi - t)
        if lo == 0.0:
            log_t.append(from_lo)
        else:
            log_t.append(np.logaddexp(math.log(lo), from_lo))
        if hi <= inv_c:  # |t - 1/c| = (1/c - hi) + (hi - t)
            gap = inv_c - hi
            dist = from_hi if gap == 0.0 else np.logaddexp(math.log(gap), from_hi)
        else:  # lo >= 1/c: |t - 1/c| = (lo - 1/c) + (t - lo)
            gap = lo - inv_c
            dist = from_lo if gap == 0.0 else np.logaddexp(math.log(gap), from_lo)
        log_dist.append(math.log(st.c) + dist)
        lw.append(log_len + ts.log_weight)
        lwc.append(log_len + ts.log_weight_coarse)
    last = edges[-1]
    log_t.append(np.logaddexp(math.log(last), es.log_left))
    gap = last - inv_c
    dist = es.log_left if gap == 0.0 else np.logaddexp(math.log(gap), es.log_left)
    log_dist.append(math.log(st.c) + dist)
    lw.append(es.log_weight)
    lwc.append(es.log_weight_coarse)
    lt, ld = np.concatenate(log_t), np.concatenate(log_dist)
    # Far below 1/c, log(1 - ct) = log1p(-ct) keeps its relative accuracy (the distance
    # to 1/c does not, when 1/c is huge): this matters for rho ~ -bc at tiny c.
    log_ct = math.log(st.c) + lt
    near_zero = log_ct < -math.log(2.0)
    ld[near_zero] = np.log1p(-np.exp(log_ct[near_zero]))
    return _TNodes(lt, ld, np.concatenate(lw), np.concatenate(lwc))


def _log_chi2_pdf(m: int, log_t: FloatArray) -> FloatArray:
    half = 0.5 * m
    out: FloatArray = (
        (half - 1.0) * log_t - 0.5 * np.exp(log_t) - half * math.log(2.0) - math.lgamma(half)
    )
    return out


# ---------------------------------------------------------------------------------------
# The B nodes: four tanh-sinh pieces per t, around the peak of the B integrand


@dataclass(frozen=True)
class _BNodes:
    """Nodes of the B integral for every t (rows): B, 1 - B, their logs, the weights."""

    b: FloatArray
    b1: FloatArray
    log_b: FloatArray
    log_b1: FloatArray
    weight: FloatArray
    weight_coarse: FloatArray


def _beta_peak(p: float, a1: float, a2: float, log_w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The interior maximum of g(B) = p log V + (a1 - 1) log B + (a2 - 1) log(1 - B).

    V = 1 - z B with z = 1 - w. g' = 0 where
    z (p + a1 + a2 - 2) B^2 - (p z + (a1 - 1)(1 + z) + (a2 - 1)) B + (a1 - 1) = 0
    (coefficients divided by 1 + |z|, so that huge w does not overflow); of the (at most
    two) roots in (0, 1), at most one is a maximum (g'' < 0). Returns the peak and its
    width 1 / sqrt(-g''), or (0.5, 0.5) for a t without an interior maximum.
    """
    big = log_w > 0.0
    w_small = np.exp(np.minimum(log_w, 0.0))
    inv = np.where(big, np.exp(-np.abs(log_w)), 1.0 / (2.0 - w_small))
    zeta = np.where(big, np.expm1(-np.abs(log_w)), (1.0 - w_small) / (2.0 - w_small))
    qa = zeta * (p + a1 + a2 - 2.0)
    qb = -(p * zeta + (a1 - 1.0) * (inv + zeta) + (a2 - 1.0) * inv)
    qc = (a1 - 1.0) * inv
    peak = np.full(log_w.shape, 0.5)
    width = np.full(log_w.shape, 0.5)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        disc = qb * qb - 4.0 * qa * qc
        sq = np.sqrt(np.maximum(disc, 0.0))
        q = -0.5 * (qb + np.copysign(sq, qb))
        linear = np.abs(qa) <= 1e-14 * (np.abs(qb) + np.abs(qc))
        r1 = np.where(linear, -qc / qb, q / qa)
        r2 = np.where(linear, np.nan, qc / q)
        for r in (r1, r2):
            v = inv - zeta * r
            curv = -p * zeta * zeta / (v * v) - (a1 - 1.0) / (r * r) - (a2 - 1.0) / (1.0 - r) ** 2
            ok = (disc >= 0.0) & (r > 1e-12) & (r < 1.0 - 1e-12) & (curv < 0.0)
            peak = np.where(ok, r, peak)
            width = np.where(ok, 1.0 / np.sqrt(-curv), width)
    return peak, width


def _b_nodes(p: float, a1: float, a2: float, log_w: FloatArray, n_b: int) -> _BNodes:
    """tanh-sinh on [0, s1], [s1, peak], [peak, s3], [s3, 1] for each t (rows).

    s1 = max(peak - 8 width, peak / 2) and s3 = min(peak + 8 width, (1 + peak) / 2): a
    narrow peak gets pieces of its own size, so that it is resolved. No piece ends next to
    a minimum of the integrand (for w ~ 0, at 1 - B ~ w), where a near-singularity just
    outside a piece's end would be poorly resolved. B and 1 - B are each measured from
    the nearer end of their piece, so both are accurate down to 1e-37.
    """
    peak, width = _beta_peak(p, a1, a2, log_w)
    s1 = np.maximum(peak - _WINDOW * width, 0.5 * peak)
    s3 = np.minimum(peak + _WINDOW * width, 0.5 * (1.0 + peak))
    edges = [np.zeros_like(peak), s1, peak, s3, np.ones_like(peak)]
    ts = _tanh_sinh(n_b)
    left, right = np.exp(ts.log_left), np.exp(ts.log_right)
    weight, weight_c = np.exp(ts.log_weight), np.exp(ts.log_weight_coarse)
    bs, b1s, ws, wcs = [], [], [], []
    for lo, hi in itertools.pairwise(edges):
        length = (hi - lo)[:, None]
        bs.append(lo[:, None] + length * left)
        b1s.append((1.0 - hi)[:, None] + length * right)
        ws.append(length * weight)
        wcs.append(length * weight_c)
    bb, b1 = np.concatenate(bs, axis=1), np.concatenate(b1s, axis=1)
    return _BNodes(
        bb, b1, np.log(bb), np.log(b1), np.concatenate(ws, axis=1), np.concatenate(wcs, axis=1)
    )


def _log_v(bn: _BNodes, log_w: FloatArray) -> FloatArray:
    """log V = log((1 - B) + B w) at every node (rows: t), without overflow for huge w."""
    if log_w.max() < 700.0:
        out: FloatArray = np.log(bn.b1 + bn.b * np.exp(log_w)[:, None])
        return out
    out = np.logaddexp(bn.log_b1, bn.log_b + log_w[:, None])
    return out


def _beta_means(
    bn: _BNodes, a1: float, a2: float, exponent: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """log E[exp(exponent)] over B ~ Beta(a1, a2), per row, by the fine and coarse rules.

    Computed as the ratio of the rule on exp(exponent) times the density to the rule on
    the density, so that the rule's error on the normalisation cancels.
    """
    log_dens = (a1 - 1.0) * bn.log_b + (a2 - 1.0) * bn.log_b1
    top = np.max(log_dens, axis=1, keepdims=True)
    dens = np.exp(log_dens - top)
    full = log_dens + exponent
    shift = np.max(full, axis=1, keepdims=True)
    vals = np.exp(full - shift)
    fine = np.log(np.sum(bn.weight * vals, axis=1)) - np.log(np.sum(bn.weight * dens, axis=1))
    coarse = np.log(np.sum(bn.weight_coarse * vals, axis=1)) - np.log(
        np.sum(bn.weight_coarse * dens, axis=1)
    )
    diff = (shift - top)[:, 0]
    return fine + diff, coarse + diff


def _logsumexp(x: FloatArray) -> float:
    top = float(np.max(x))
    if not math.isfinite(top):
        return top
    return top + math.log(float(np.sum(np.exp(x - top))))


# ---------------------------------------------------------------------------------------
# log h(s) and rho


def _log_h_pair(st: _Setting, s: float, level: tuple[int, int]) -> tuple[float, float]:
    """log h(s) by the fine and by the coarse rule (both axes), for one s > 0."""
    p = 0.5 * s
    tn = _t_nodes(st, p, level[0])
    m = st.b + st.d - 1
    log_pdf = _log_chi2_pdf(m, tn.log_t)
    log_w = 2.0 * tn.log_dist
    # V lies between min(1, w) and max(1, w): drop the t nodes whose largest possible
    # contribution is below e^-50 times the smallest possible one of the largest node.
    base = tn.log_weight + log_pdf
    keep = base + p * np.maximum(log_w, 0.0) >= np.max(base + p * np.minimum(log_w, 0.0)) - 50.0
    log_w, log_pdf = log_w[keep], log_pdf[keep]
    lw, lwc = tn.log_weight[keep], tn.log_weight_coarse[keep]
    if st.d == 1:
        inner = inner_c = p * log_w
    else:
        a1, a2 = 0.5 * st.b, 0.5 * (st.d - 1)
        bn = _b_nodes(p, a1, a2, log_w, level[1])
        inner, inner_c = _beta_means(bn, a1, a2, p * _log_v(bn, log_w))
    fine = _logsumexp(lw + log_pdf + inner)
    coarse = _logsumexp(lwc + log_pdf + inner_c)
    return fine, coarse


def _converged(fine: float, coarse: float) -> bool:
    return math.isfinite(fine) and abs(fine - coarse) <= _MAX_RULE_GAP * max(1.0, abs(fine))


def _log_h_one(st: _Setting, s: float) -> float:
    """log h(s) for one s > 0, refining the rules until the fine and coarse ones agree."""
    for level in _LEVELS:
        fine, coarse = _log_h_pair(st, s, level)
        if _converged(fine, coarse):
            return fine
    raise EstimationError(
        f"the quadrature for h(s) at s={s:g}, c={st.c:g}, b={st.b}, d={st.d} did not "
        f"converge (log h = {fine:g} by the finest rules, {coarse:g} by rules of twice "
        f"their step)"
    )


def _log_h(st: _Setting, s: FloatArray) -> FloatArray:
    out = np.zeros_like(s)
    for i, si in np.ndenumerate(s):
        if si > 0.0:
            out[i] = _log_h_one(st, float(si))
    return out


def _rho_pair(st: _Setting, level: tuple[int, int]) -> tuple[float, float]:
    """rho = (1/2) E log V by the fine and the coarse rule."""
    tn = _t_nodes(st, 0.0, level[0])
    m = st.b + st.d - 1
    pdf = np.exp(_log_chi2_pdf(m, tn.log_t))
    log_w = 2.0 * tn.log_dist
    if st.d == 1:
        inner = inner_c = 0.5 * log_w
    else:
        a1, a2 = 0.5 * st.b, 0.5 * (st.d - 1)
        bn = _b_nodes(0.0, a1, a2, log_w, level[1])
        log_v = _log_v(bn, log_w)
        # log1p(B (w - 1)) where V is near 1, for full relative accuracy of small rho.
        x = bn.b * np.expm1(np.minimum(log_w, 700.0))[:, None]
        small = np.abs(x) < 0.5
        log_v[small] = np.log1p(x[small])
        log_dens = (a1 - 1.0) * bn.log_b + (a2 - 1.0) * bn.log_b1
        dens = np.exp(log_dens - np.max(log_dens, axis=1, keepdims=True))
        wf, wc = bn.weight * dens, bn.weight_coarse * dens
        inner = 0.5 * (wf * log_v).sum(axis=1) / wf.sum(axis=1)
        inner_c = 0.5 * (wc * log_v).sum(axis=1) / wc.sum(axis=1)
    fine = float(np.sum(np.exp(tn.log_weight) * pdf * inner))
    coarse = float(np.sum(np.exp(tn.log_weight_coarse) * pdf * inner_c))
    return fine, coarse


def _rho(st: _Setting) -> float:
    for level in _LEVELS:
        fine, coarse = _rho_pair(st, level)
        if _converged(fine, coarse):
            return fine
    raise EstimationError(
        f"the quadrature for rho at c={st.c:g}, b={st.b}, d={st.d} did not converge "
        f"({fine:g} by the finest rules, {coarse:g} by rules of twice their step)"
    )


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
        the quadrature keeps its accuracy; see the module notes).
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
        Step size, > 0, with c = eta sigma^2 / b >= 5.56e-309 (1/c finite).
    batch_size : int
        Batch size b >= 1, with b + d - 1 <= 2,000,000 (the range in which
        the quadrature keeps its accuracy; see the module notes).
    dim : int, optional
        Dimension d >= 1.
    sigma : float, optional
        Standard deviation of each data coordinate, > 0.

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
        Step size, > 0, with c = eta sigma^2 / b >= 5.56e-309 (1/c finite).
    batch_size : int
        Batch size b >= 1, with b + d - 1 <= 2,000,000 (the range in which
        the quadrature keeps its accuracy; see the module notes).
    dim : int, optional
        Dimension d >= 1.
    sigma : float, optional
        Standard deviation of each data coordinate, > 0.

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
    rho = _rho(st)
    if rho >= 0.0:
        raise NoStationaryLawError(
            f"the top Lyapunov exponent rho = {rho:.6g} is >= 0 at eta*sigma^2/b = {st.c:g}, "
            f"b = {st.b}, d = {st.d}: the SGD iterates have no stationary law"
        )

    # log h(2) in closed form (docs/sgd_tail_index.md, section 2).
    g2 = math.log1p(st.b * st.c * ((st.b + st.d + 1) * st.c - 2.0))

    def g(s: float) -> float:
        return g2 if s == 2.0 else _log_h_one(st, s)

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
