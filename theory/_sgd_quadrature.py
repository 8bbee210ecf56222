"""The quadrature behind :func:`heavytail.theory.sgd_h`: log h(s) and rho for Gaussian data.

For c = eta sigma^2 / b, T ~ chi2_(b+d-1) and B ~ Beta(b/2, (d-1)/2) independent of T
(docs/sgd_tail_index.md, section 1),

    h(s) = E[V^(s/2)],  V = (1 - B) + B (1 - c T)^2,    rho = (1/2) E log V.

The T integral is split at the zero t = 1/c of 1 - ct and around the peaks of the
integrand, and each piece is integrated by a tanh-sinh rule (exp-sinh beyond the last
breakpoint); for every T node the B integral is split at the peak of its integrand and
integrated by tanh-sinh. All of it is vectorised and done in log space, so large s does
not overflow; the same nodes with twice the step give an error estimate, and the rules
are refined until the two agree (docs/sgd_tail_index.md, section 3). The public
functions, their domains and the root finding for the tail index are in ``_sgd_h.py``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from heavytail._lib._errors import EstimationError
from heavytail._lib._types import FloatArray

__all__ = ["Setting", "log_h", "log_h_one", "rho"]


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


@dataclass(frozen=True)
class Setting:
    """The checked parameters: c = eta sigma^2 / b, the batch size b and the dimension d."""

    c: float
    b: int
    d: int


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


def _breakpoints(st: Setting, p: float) -> list[float]:
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


def _t_nodes(st: Setting, p: float, n_t: int) -> _TNodes:
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


def _log_h_pair(st: Setting, s: float, level: tuple[int, int]) -> tuple[float, float]:
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


def log_h_one(st: Setting, s: float) -> float:
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


def log_h(st: Setting, s: FloatArray) -> FloatArray:
    out = np.zeros_like(s)
    for i, si in np.ndenumerate(s):
        if si > 0.0:
            out[i] = log_h_one(st, float(si))
    return out


def _rho_pair(st: Setting, level: tuple[int, int]) -> tuple[float, float]:
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


def rho(st: Setting) -> float:
    for level in _LEVELS:
        fine, coarse = _rho_pair(st, level)
        if _converged(fine, coarse):
            return fine
    raise EstimationError(
        f"the quadrature for rho at c={st.c:g}, b={st.b}, d={st.d} did not converge "
        f"({fine:g} by the finest rules, {coarse:g} by rules of twice their step)"
    )
