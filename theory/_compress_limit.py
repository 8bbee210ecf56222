"""The almost-sure limit G_p[X](kappa) of the relative best k-term error of i.i.d. vectors.

docs/theory.md, section 1 (Gribonval, Cevher & Davies 2012, Prop. 1 and Thm. 1; Silva &
Derpich 2015). For x with i.i.d. entries distributed as X and E|X|^p < inf, the relative
error of :func:`heavytail.theory.relative_error` tends almost surely to

    G_p[X](kappa)^p = int_kappa^1 Q(u)^p du / int_0^1 Q(u)^p du,

Q the upper quantile function of |X|; it tends to 0 when E|X|^p = inf. This module
decides which case holds (a known family's tail index, or the local index read off Q)
and computes the two integrals by quadrature in s = -log u (docs/compressibility.md,
section 1).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import integrate, optimize, stats

from heavytail._lib._errors import (
    ConvergenceWarning,
    EstimationError,
    EstimationWarning,
    InvalidArgumentError,
)
from heavytail._lib._types import FloatArray

from ._compress import check_kappa, check_p

__all__ = ["limit_relative_error"]


# Families whose |X| has an exactly known power tail P(|X| > t) ~ c t^(-index): the
# index as a function of the shape parameters. A family absent here gets its tail index
# from its quantile function (see _tail_index_from_quantiles).
_KNOWN_TAIL_INDEX: dict[str, Callable[[dict[str, float]], float]] = {
    "cauchy": lambda s: 1.0,
    "halfcauchy": lambda s: 1.0,
    "invgamma": lambda s: s["a"],
    "levy": lambda s: 0.5,
    "levy_l": lambda s: 0.5,
    "levy_stable": lambda s: s["alpha"] if s["alpha"] < 2.0 else math.inf,
    "lomax": lambda s: s["c"],
    "pareto": lambda s: s["b"],
    "t": lambda s: s["df"],
}

# The quantile function of |X| is trusted at u = 10^-j while it reproduces u, i.e.
# |P(|X| > Q(u)) / u - 1| <= this; scipy's numerical inversions drift well past it where
# they fail (e.g. Student t beyond u = 1e-269, levy_stable far sooner).
_ROUND_TRIP_RTOL = 1e-6
_DEEPEST_DECADE = 300  # u = 1e-300: near the smallest normal double
# With no known family, the tail must be trusted this deep, and its local index is read
# from the last ten trusted decades.
_MIN_DECADES = 30
_WINDOW = 10
# Decision band on p * xi (xi = 1 / tail index): E|X|^p is declared finite below 1 - band
# and infinite above 1 + band; inside, convergence hangs on slowly varying factors that
# no finite quantile range can see, and the function raises. The same band bounds the
# spread of p * xi over the window (a tail that has not settled).
_BAND = 0.05
_QUAD_RTOL = 1e-10
_REMAINDER_WARN = 0.5
_LOG_MAX = math.log(np.finfo(np.float64).max)
# The kept part's integrand is rescaled when it exceeds e^_REBASE in units of Q(kappa)^p:
# below, nothing overflows (the integral is at most s0 - s_kappa < 700 times its peak).
_REBASE = 300.0


def _frozen_shapes(dist: Any) -> dict[str, float]:
    """Shape parameters of a frozen scipy distribution, by name."""
    names = [s.strip() for s in (dist.dist.shapes or "").split(",") if s.strip()]
    values = dict(zip([*names, "loc", "scale"], dist.args, strict=False))
    values.update(dist.kwds)
    return {k: float(v) for k, v in values.items()}


def _check_dist(dist: Any) -> Any:
    """Return ``dist`` if it is a frozen continuous scipy.stats distribution, else raise."""
    family = getattr(dist, "dist", None)
    if not isinstance(family, stats.rv_continuous) or not hasattr(dist, "isf"):
        raise InvalidArgumentError(
            "`dist` must be a frozen continuous scipy.stats distribution such as "
            f"scipy.stats.t(5), got {type(dist).__name__}"
        )
    try:
        shapes = _frozen_shapes(dist)
    except (TypeError, ValueError) as exc:  # a parameter that is not a number
        raise InvalidArgumentError(f"`dist` must have real parameters: {exc}") from exc
    listed = ", ".join(f"{k}={v:g}" for k, v in shapes.items())
    if not all(math.isfinite(v) for v in shapes.values()):
        raise InvalidArgumentError(
            f"`dist` must have finite parameters, got scipy.stats.{family.name}({listed})"
        )
    with np.errstate(all="ignore"):
        support = [float(v) for v in dist.support()]
    if any(math.isnan(v) for v in support):
        # scipy marks parameters outside a family's domain (a scale <= 0, t's df <= 0,
        # pareto's b <= 0, ...) by a NaN support; every other answer would be a NaN too.
        raise InvalidArgumentError(
            f"`dist` has parameters outside the domain of its family: "
            f"scipy.stats.{family.name}({listed})"
        )
    loc, scale = shapes.pop("loc", 0.0), shapes.pop("scale", 1.0)
    if family.name == "levy_stable" and shapes["alpha"] == 2.0:
        # the Gaussian N(loc, 2 scale^2), in S0 and S1 alike
        family, shapes, scale = stats.norm, {}, math.sqrt(2.0) * scale
    if scale == 1.0 and family is dist.dist:
        return dist
    # G_p is scale invariant (Q of |cX| is c Q): the law of X / scale, loc / scale + Y
    # with Y of scale 1, has the same limit, and its quantiles stay inside the double
    # range whatever the scale (a scale of 1e308 or 1e-320 would overflow or underflow).
    rel_loc = loc / scale
    if not math.isfinite(rel_loc):
        raise InvalidArgumentError(
            f"`dist` has loc / scale = {loc:g} / {scale:g} beyond the double range: "
            f"scipy.stats.{family.name}({listed})"
        )
    return family(*shapes.values(), loc=rel_loc, scale=1.0)


class _AbsQuantile:
    """Upper quantile function of |X|: Q(u) = the t >= 0 with P(|X| > t) = u.

    Support in [0, inf): Q(u) = isf(u). Support in (-inf, 0]: Q(u) = -ppf(u). Otherwise
    isf(u / 2) (exact for a law symmetric about 0) is used where it reproduces u, and a
    bracketed root of P(X > t) + P(X < -t) = u is found elsewhere.
    """

    def __init__(self, dist: Any) -> None:
        self.dist = dist
        lo, hi = (float(v) for v in dist.support())
        self.mode = "positive" if lo >= 0.0 else "negative" if hi <= 0.0 else "symmetric"
        self.bounded = math.isfinite(lo) and math.isfinite(hi)

    def survival(self, t: FloatArray) -> FloatArray:
        """P(|X| > t) for t >= 0."""
        if self.mode == "positive":
            return np.asarray(self.dist.sf(t), dtype=np.float64)
        if self.mode == "negative":
            return np.asarray(self.dist.cdf(-t), dtype=np.float64)
        return np.asarray(self.dist.sf(t) + self.dist.cdf(-t), dtype=np.float64)

    def _root(self, u: float) -> float:
        d = self.dist
        lo = max(0.0, min(float(d.isf(u)), -float(d.ppf(u))))
        hi = max(0.0, float(d.isf(0.5 * u)), -float(d.ppf(0.5 * u)))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return math.nan

        def excess(t: float) -> float:
            return float(d.sf(t) + d.cdf(-t)) - u

        f_lo, f_hi = excess(lo), excess(hi)
        if f_lo <= 0.0:
            return lo
        if f_hi >= 0.0:
            return hi
        return float(optimize.brentq(excess, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps))

    def direct(self, u: FloatArray) -> FloatArray:
        """Q(u) without root finding: NaN where isf(u / 2) does not reproduce u."""
        u = np.atleast_1d(np.asarray(u, dtype=np.float64))
        if self.mode != "symmetric":
            return self(u)
        q = np.asarray(self.dist.isf(0.5 * u), dtype=np.float64)
        with np.errstate(invalid="ignore"):
            miss = np.abs(self.survival(np.maximum(q, 0.0)) / u - 1.0)
        good = (q >= 0.0) & (miss <= 1e-9)
        # Deep in the tail scipy's own round trip drifts; the decades trusted by
        # _trusted_decades (to _ROUND_TRIP_RTOL) carry a weight of at most
        # (1e-100)^0.05 = 1e-5 of the integral (p xi < 0.95), so a 1e-6 error there
        # moves it by < 1e-10.
        good |= (u < 1e-100) & (q >= 0.0) & (miss <= _ROUND_TRIP_RTOL)
        if self.bounded:
            # Near the end of a bounded support P(|X| > Q(u)) cannot reproduce a tiny u
            # (one rounding of Q moves it by ~1e-16 absolute), but any candidate there
            # is within O(u) of the bound, relatively: below u = 1e-6 that moves the
            # integral (whose weight there is u) by less than 1e-12 of itself.
            good |= (u < 1e-6) & (q >= 0.0) & np.isfinite(q)
        return np.where(good, q, np.nan)

    def __call__(self, u: FloatArray) -> FloatArray:
        u = np.atleast_1d(np.asarray(u, dtype=np.float64))
        if self.mode == "positive":
            return np.asarray(self.dist.isf(u), dtype=np.float64)
        if self.mode == "negative":
            return -np.asarray(self.dist.ppf(u), dtype=np.float64)
        q = np.asarray(self.dist.isf(0.5 * u), dtype=np.float64)
        with np.errstate(invalid="ignore"):
            good = (q >= 0.0) & (np.abs(self.survival(np.maximum(q, 0.0)) / u - 1.0) <= 1e-9)
        for i in np.flatnonzero(~good):
            q[i] = self._root(float(u[i]))
        return q


def _trusted_decades(q_of: _AbsQuantile) -> tuple[FloatArray, FloatArray]:
    """Return (u, Q(u)) at u = 10^-1 ... 10^-j, down to the last decade that is trusted.

    A decade is trusted while Q is finite, non-decreasing as u falls, and reproduces u
    to _ROUND_TRIP_RTOL. Evaluation proceeds ten decades at a time and stops at the first
    untrusted one, so a slow quantile function is not called far past its range.
    """
    us: list[float] = []
    qs: list[float] = []
    for start in range(1, _DEEPEST_DECADE + 1, 10):
        u = 10.0 ** -np.arange(start, min(start + 10, _DEEPEST_DECADE + 1), dtype=np.float64)
        with np.errstate(all="ignore"):
            q = q_of(u)
            ok = np.isfinite(q) & (q > 0.0)
            back = np.where(ok, q_of.survival(np.where(ok, q, 1.0)), np.nan)
            ok &= np.abs(back / u - 1.0) <= _ROUND_TRIP_RTOL
        for ui, qi, oki in zip(u, q, ok, strict=True):
            if not oki or (qs and qi < qs[-1]):
                return np.array(us), np.array(qs)
            us.append(float(ui))
            qs.append(float(qi))
    return np.array(us), np.array(qs)


def _tail_index_from_quantiles(u: FloatArray, q: FloatArray, p: float) -> float:
    """Extreme-value index xi = -d log Q / d log u over the last trusted decades.

    Raises EstimationError when the decades do not reach 10^-_MIN_DECADES, when p xi
    has not settled over the last _WINDOW decades, or when p xi is within _BAND of 1.
    """
    if u.size < _MIN_DECADES:
        reached = f"{u[-1]:.0e}" if u.size else "none"
        raise EstimationError(
            "cannot decide whether E|X|^p is finite: the quantile function of `dist` is "
            f"trusted only down to u = {reached} (need 1e-{_MIN_DECADES}); its family has "
            "no tail index on record"
        )
    xi = np.diff(np.log(q[-_WINDOW - 1 :])) / math.log(10.0)
    spread = p * float(xi.max() - xi.min())
    last = p * float(xi[-1])
    if spread > _BAND:
        raise EstimationError(
            f"cannot decide whether E|X|^p is finite: p * xi of `dist` still moves by "
            f"{spread:.3f} over u in [{u[-1]:.0e}, {u[-_WINDOW - 1]:.0e}]"
        )
    if abs(last - 1.0) <= _BAND:
        raise EstimationError(
            f"cannot decide whether E|X|^p is finite: the tail index of |X| looks like "
            f"{1.0 / xi[-1]:.4g}, within {_BAND} (relative) of p = {p:g}, where slowly "
            "varying factors decide"
        )
    return float(xi[-1])


def limit_relative_error(dist: Any, kappa: float, p: float = 2.0) -> float:
    r"""Almost-sure limit G_p[X](kappa) of the relative error of an i.i.d. vector.

    For x = (X_1, ..., X_n) with i.i.d. entries distributed as X and E|X|^p < inf,
    sigma_k(x)_p / ||x||_p -> G_p[X](kappa) almost surely as n -> inf, with

    .. math::

        G_p[X](\kappa)^p = \frac{\int_\kappa^1 Q(u)^p\,du}{\int_0^1 Q(u)^p\,du}
        = \frac{E[|X|^p 1\{|X| \le \tau\}]}{E|X|^p}, \qquad P(|X| > \tau) = \kappa,

    where Q is the upper quantile function of |X| (Q(u) = the t with P(|X| > t) = u).
    If E|X|^p = inf the relative error tends to 0 and 0.0 is returned (Gribonval, Cevher
    & Davies 2012, Prop. 1 and Thm. 1; Silva & Derpich 2015; docs/theory.md, section 1).

    How E|X|^p = inf is decided (docs/compressibility.md, section 1):

    1. Families with an exactly known power tail of index alpha (t, cauchy, halfcauchy,
       pareto, lomax, levy, levy_l, invgamma, and levy_stable with alpha < 2): the
       moment is infinite iff alpha <= p. levy_stable with alpha = 2 is the Gaussian.
    2. Any other family: the local extreme-value index xi(u) = -d log Q / d log u is read
       from Q at u = 1e-1, ..., 1e-300, down to the last u that Q reproduces
       (P(|X| > Q(u)) = u to 1e-6). It must be trusted to at least 1e-30, p xi must vary
       by at most 0.05 over the last ten decades, and p xi must be outside [0.95, 1.05];
       then the moment is infinite iff p xi > 1. Otherwise an EstimationError is raised.

    Numerics: with u = e^-s, both integrals are quadratures in s of Q(e^-s)^p e^-s
    (smooth, and exponentially decaying when the moment is finite), scaled by Q(kappa)^p.
    They are computed by 20-point Gauss-Legendre rules on panels (halving towards s = 0,
    at most 2 wide elsewhere) with all nodes in one vectorised call of scipy's quantile
    function, and accepted when a 10-point rule agrees to 1e-12 relative; otherwise
    (a kink in Q, or a quantile function that needs root finding) by adaptive
    ``scipy.integrate.quad`` to 1e-10 relative, with a ConvergenceWarning if it falls
    short. Below the deepest trusted u0 the tail is extended as an exact power law,
    int_0^u0 Q^p du = Q(u0)^p u0 / (1 - p xi); an EstimationWarning says when that
    extension carries more than half of E|X|^p.

    Parameters
    ----------
    dist : frozen scipy.stats continuous distribution
        The law of X (e.g. ``scipy.stats.t(5)``), of any location and scale.
    kappa : float
        Fraction kept, in (0, 1].
    p : float, optional
        Norm index, finite and > 0.

    Returns
    -------
    float
        G_p[X](kappa) in [0, 1]; 0.0 when E|X|^p = inf or kappa = 1.

    Raises
    ------
    EstimationError
        When the rule above cannot tell whether E|X|^p is finite (borderline tail
        index, or a quantile function that cannot be trusted deep enough), or when kappa
        lies below the trusted range of Q.

    Notes
    -----
    Not checked: a law whose local index is still above 1/p at u = 1e-300 but whose
    moment is finite (a lognormal with sigma >= 20 at p = 2) is treated as having an
    infinite moment; its true G_p is below 1e-150 there. Closed forms for the Gaussian,
    Laplace, uniform and Pareto laws are derived in docs/compressibility.md (section 1)
    and checked against this function. Speed: about 0.1-0.5 s for laws whose quantile
    function scipy evaluates in closed form; tens of seconds for ``levy_stable`` with
    alpha > p, whose quantiles scipy finds numerically.

    Examples
    --------
    >>> from scipy import stats
    >>> round(limit_relative_error(stats.pareto(3.0), 0.5), 6)  # sqrt(1 - 0.5^(1/3))
    0.454202
    """
    dist = _check_dist(dist)
    kappa = check_kappa(kappa)
    p = check_p(p)
    if kappa == 1.0:
        return 0.0
    family = dist.dist.name
    known = _KNOWN_TAIL_INDEX.get(family)
    if known is not None:
        index = known(_frozen_shapes(dist))
        if index <= p:
            return 0.0
    q_of = _AbsQuantile(dist)
    bound = max(abs(float(v)) for v in dist.support())
    if math.isfinite(bound):
        # |X| <= bound: every moment is finite, and Q is integrated down to u = 1e-300
        # (its values there are accurate in absolute terms even where P(|X| > Q(u))
        # cannot reproduce u, as near the end of a uniform law's support).
        xi, u0, q0 = 0.0, 10.0**-_DEEPEST_DECADE, bound
    else:
        u, q = _trusted_decades(q_of)
        if known is not None:
            if u.size == 0:
                raise EstimationError(
                    "the quantile function of `dist` does not reproduce u = 0.1; "
                    "cannot integrate it"
                )
            xi = 1.0 / index
        else:
            xi = _tail_index_from_quantiles(u, q, p)
            if p * xi > 1.0:
                return 0.0
        u0, q0 = float(u[-1]), float(q[-1])
    if kappa < u0:
        raise EstimationError(
            f"`kappa` = {kappa!r} is below the smallest u = {u0:.0e} at which the quantile "
            "function of `dist` can be trusted"
        )
    q_kappa = float(q_of(np.array([kappa]))[0])
    if not q_kappa > 0.0:
        # P(|X| > 0) <= kappa: the kept entries carry all of E|X|^p.
        return 0.0
    log_ref = p * math.log(q_kappa)
    s_kappa, s0 = -math.log(kappa), -math.log(u0)

    def integrals(
        ref: float,
    ) -> tuple[Callable[[FloatArray], FloatArray], Callable[[float], float]]:
        """Q(e^-s)^p e^-s / e^ref, vectorised (NaN where Q needs root finding) and scalar."""

        def integrand(s: float) -> float:
            qs = float(q_of(np.array([math.exp(-s)]))[0])
            if qs <= 0.0:
                return 0.0
            return math.exp(min(p * math.log(qs) - ref - s, _LOG_MAX))

        def integrand_vec(s: FloatArray) -> FloatArray:
            qs = q_of.direct(np.exp(-s))
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                values = np.exp(p * np.log(qs) - ref - s)  # NaN where Q is NaN: kept
            return np.where(qs == 0.0, 0.0, values)

        return integrand_vec, integrand

    # On [0, s_kappa] (u >= kappa, the dropped entries) Q(u) <= Q(kappa): in units of
    # Q(kappa)^p the integrand is at most 1. On [s_kappa, s0] (the kept entries) it grows
    # like (Q(u) / Q(kappa))^p, which overflows for a large p: that integral gets its
    # own unit, the largest value of the integrand on its nodes when that is above
    # e^_REBASE, and the sums are then taken in logarithms.
    dropped = _integrate(*integrals(log_ref), 0.0, s_kappa)
    log_kept = -math.inf
    if s0 > s_kappa:
        ref_in = log_ref + max(0.0, _log_peak(q_of, p, s_kappa, s0, log_ref) - _REBASE)
        kept = _integrate(*integrals(ref_in), s_kappa, s0)
        log_kept = ref_in + math.log(kept) if kept > 0.0 else -math.inf
    log_remainder = log_ref + p * math.log(q0 / q_kappa) - s0 - math.log1p(-p * xi)
    log_dropped = log_ref + math.log(dropped) if dropped > 0.0 else -math.inf
    log_total = float(np.logaddexp.reduce([log_dropped, log_kept, log_remainder]))
    if not (math.isfinite(log_dropped) and math.isfinite(log_total)):
        # p so large that Q(u)^p underflows or overflows even in these units.
        raise EstimationError(
            f"`p` = {p:g} is too large for `dist`: E|X|^p cannot be integrated in the double range"
        )
    remainder_share = math.exp(log_remainder - log_total)
    if remainder_share > _REMAINDER_WARN:
        warnings.warn(
            f"more than half of E|X|^p lies beyond u = {u0:.0e}, where the tail of |X| is "
            f"extended as an exact power law of index {1.0 / xi if xi > 0 else math.inf:.4g}",
            EstimationWarning,
            stacklevel=2,
        )
    return float(math.exp(min(log_dropped - log_total, 0.0) / p))


# Fast path of the quadrature: Gauss-Legendre rules of two orders on fixed panels, all
# nodes evaluated in one vectorised call of the quantile function. Panels halve towards
# s = 0 (u = 1), where Q(e^-s)^p may behave like s^p, and are at most _PANEL wide
# elsewhere (the integrand there is smooth and decays at most like e^-s). The result is
# accepted when the two orders agree to _PANEL_RTOL relative; otherwise (a kink in Q, a
# quantile function that needs root finding) adaptive quadrature takes over.
_GL_HIGH = np.polynomial.legendre.leggauss(20)
_GL_LOW = np.polynomial.legendre.leggauss(10)
_PANEL = 2.0
_HALVINGS = 60
_PANEL_RTOL = 1e-12


def _panel_edges(a: float, b: float) -> FloatArray:
    """Panel edges on [a, b] from one grid: 2^-60, ..., 1/2, 1 (each panel at least as far
    from s = 0 as it is wide, where Q(e^-s)^p may behave like s^p), then steps of
    _PANEL."""
    geometric = 2.0 ** -np.arange(_HALVINGS, -1, -1, dtype=np.float64)
    steps = 1.0 + _PANEL * np.arange(1, max(1, math.ceil((b - 1.0) / _PANEL)) + 1)
    grid = np.concatenate((geometric, steps))
    inner = grid[(grid > a) & (grid < b)]
    return np.concatenate(([a], inner, [b]))


def _gauss_panels(f: Callable[[FloatArray], FloatArray], edges: FloatArray) -> tuple[float, float]:
    """(20-point, 10-point) Gauss-Legendre sums of f over the panels between ``edges``."""
    lo, hi = edges[:-1, None], edges[1:, None]
    half, mid = 0.5 * (hi - lo), 0.5 * (hi + lo)
    out = []
    for nodes, weights in (_GL_HIGH, _GL_LOW):
        values = f((mid + half * nodes).ravel()).reshape(-1, nodes.size)
        out.append(float(np.sum(half[:, 0] * (values @ weights))))
    return out[0], out[1]


def _integrate(
    f_vec: Callable[[FloatArray], FloatArray],
    f: Callable[[float], float],
    a: float,
    b: float,
) -> float:
    """Integral of f on [a, b]: the panel rule when its two orders agree, else quad."""
    with np.errstate(all="ignore"):
        high, low = _gauss_panels(f_vec, _panel_edges(a, b))
    if math.isfinite(high) and abs(high - low) <= _PANEL_RTOL * abs(high):
        return high
    return _quad(f, a, b)


def _log_peak(q_of: _AbsQuantile, p: float, a: float, b: float, log_ref: float) -> float:
    """Largest p log Q(e^-s) - s - log_ref over the panel nodes on [a, b] (0 if none finite)."""
    edges = _panel_edges(a, b)
    lo, hi = edges[:-1, None], edges[1:, None]
    nodes = (0.5 * (hi + lo) + 0.5 * (hi - lo) * _GL_HIGH[0]).ravel()
    with np.errstate(all="ignore"):
        values = p * np.log(q_of.direct(np.exp(-nodes))) - nodes - log_ref
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else 0.0


def _quad(f: Callable[[float], float], a: float, b: float) -> float:
    """Adaptive quadrature of f on [a, b]; a ConvergenceWarning if it misses _QUAD_RTOL."""
    value, abserr, info, *rest = integrate.quad(
        f, a, b, epsabs=0.0, epsrel=_QUAD_RTOL, limit=500, full_output=1
    )
    if rest and abserr > 1e3 * _QUAD_RTOL * abs(value):
        warnings.warn(
            f"quadrature on [{a:.3g}, {b:.3g}] reached relative error {abserr / abs(value):.1e} "
            f"only ({info.get('last', '?')} subintervals)",
            ConvergenceWarning,
            stacklevel=3,
        )
    return float(value)
