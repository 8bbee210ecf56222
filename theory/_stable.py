"""Samplers of stable laws: scalar (Chambers-Mallows-Stuck) and elliptic (sub-Gaussian).

Parametrization: S1 of Samorodnitsky & Taqqu (1994), Definition 1.1.6, the same as
``scipy.stats.levy_stable`` with its default ``parameterization = "S1"``. X ~ S_alpha(s,
beta, mu) has characteristic function

    E exp(i t X) = exp(-|s t|^alpha (1 - i beta sign(t) tan(pi alpha / 2)) + i mu t),  alpha != 1,
    E exp(i t X) = exp(-|s t| (1 + i beta (2 / pi) sign(t) log|t|) + i mu t),          alpha == 1.

With beta = 0 this is exp(-|s t|^alpha + i mu t) (docs/theory.md, section 3), and alpha = 2 is
the Gaussian N(mu, 2 s^2).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._rng import RngLike, as_generator
from heavytail._lib._validation import check_allocation, check_int, check_real

__all__ = ["sample_elliptic_stable", "sample_stable"]

_HALF_PI = 0.5 * math.pi
# numpy's exponential sampler returns an exact 0.0 with probability about 2^-53 per draw:
# the rounding of a draw far below any other it returns. For alpha < 1 (and alpha = 1 with
# beta != 0) the transform divides by it, so a zero is replaced by this stand-in for
# "a tiny positive draw", which keeps such draws finite (e.g. |X| < 1e62 at alpha = 0.5).
_ZERO_EXPONENTIAL = 2.0**-64

_LOG_DBL_MAX = math.log(float(np.finfo(np.float64).max))
# The largest accepted probability that one draw exceeds the largest double (1.8e308).
# Parameters that make overflow likelier (alpha below about 0.052 at scale 1, or a
# scale within a few orders of magnitude of 1.8e308) are refused: such a draw would be
# inf, or NaN after the transform. At 1e-16 per draw, 10^9 draws meet an overflow with
# probability 1e-7.
_MAX_OVERFLOW_PROBABILITY = 1e-16
_LOG_MAX_OVERFLOW = math.log(_MAX_OVERFLOW_PROBABILITY)


def _log_tail(alpha: float, log_t: float) -> float:
    """log of the approximate P(|Y| > t), Y ~ S_alpha(1, beta, 0) (any beta), t = e^log_t.

    The power tail C_alpha t^(-alpha), C_alpha = (2/pi) Gamma(alpha) sin(pi alpha / 2)
    (Samorodnitsky & Taqqu 1994, Property 1.2.15; the sum of both tails, whatever beta),
    plus the tail P(|N(0, 2)| > t) = 2 Phi(-t / sqrt(2)) of the alpha = 2 law, which
    dominates for alpha near 2 at moderate t. Used only to decide whether draws stay in
    the double range, where t >= 1e4 and the power tail is accurate.
    """
    if not (alpha > 0.0 and log_t > 0.0):  # alpha / 2 underflowed to 0, or t <= 1
        return 0.0
    gauss = math.log(2.0) + float(special.log_ndtr(-math.exp(min(log_t, 709.0)) / math.sqrt(2.0)))
    if alpha >= 2.0:
        return gauss
    log_c = math.log(2.0 / math.pi) + math.lgamma(alpha) + math.log(math.sin(0.5 * math.pi * alpha))
    # A probability: the asymptotic form can exceed 1 where t^alpha is not yet large.
    return min(float(np.logaddexp(log_c - alpha * log_t, gauss)), 0.0)


def _check_double_range(alpha: float, beta: float, scale: float, loc: float) -> None:
    """Raise unless a draw of S_alpha(scale, beta, loc) overflows with probability <= 1e-16.

    First the standard draw (scale 1, loc 0), which the transform computes: too likely
    to overflow means ``alpha`` is too small. Then the scaled and shifted draw: too likely
    to overflow means ``scale`` (or ``loc``) is too large.
    """
    log_p = _log_tail(alpha, _LOG_DBL_MAX)
    if log_p > _LOG_MAX_OVERFLOW:
        raise InvalidArgumentError(
            f"`alpha` = {alpha!r} is too small: a draw exceeds the largest double "
            f"(1.8e308) with probability {math.exp(log_p):.2g}, more than "
            f"{_MAX_OVERFLOW_PROBABILITY:g} (P(|X| > t) ~ C_alpha t^-alpha)"
        )
    shift = loc
    if alpha == 1.0 and beta != 0.0:
        shift += (2.0 / math.pi) * beta * scale * math.log(scale)
    # log of the room left between |shift| and the largest double, for the scaled draw
    fraction = abs(shift) / math.exp(_LOG_DBL_MAX)  # inf or NaN when the shift overflowed
    room = _LOG_DBL_MAX + math.log1p(-fraction) if fraction < 1.0 else -math.inf
    log_p = _log_tail(alpha, room - math.log(scale)) if math.isfinite(room) else 0.0
    if log_p > _LOG_MAX_OVERFLOW:
        raise InvalidArgumentError(
            f"`scale` = {scale!r} with `loc` = {loc!r} is too large at alpha = {alpha:g}: "
            f"a draw exceeds the largest double (1.8e308) with probability "
            f"{math.exp(log_p):.2g}, more than {_MAX_OVERFLOW_PROBABILITY:g}"
        )


def _check_draws(count: int, named: str) -> None:
    """Refuse ``count`` draws that could not fit in memory, before drawing them.

    A draw needs its value and the uniform and exponential variates it is made of: three
    float64 arrays of ``count`` entries at once.
    """
    check_allocation(
        [(named, "the draws and the variates they are made of (3 float64 arrays)", 24 * count)]
    )


def _check_size(size: Any, name: str = "size") -> tuple[int, ...]:
    """Return ``size`` as a shape tuple of non-negative ints, or raise naming ``name``."""
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        shape: tuple[int, ...] = (check_int(size, name, low=0),)
    elif isinstance(size, tuple):
        shape = tuple(check_int(s, f"{name}[{i}]", low=0) for i, s in enumerate(size))
    else:
        shape = ()
    if shape or isinstance(size, tuple):
        _check_draws(math.prod(shape), f"`{name}` = {size}")
        return shape
    raise InvalidArgumentError(
        f"`{name}` must be a non-negative int or a tuple of them, got {type(size).__name__}"
    )


def _uniform_angle(gen: np.random.Generator, shape: tuple[int, ...]) -> npt.NDArray[np.float64]:
    """Uniform angles on the open interval (-pi/2, pi/2).

    ``Generator.random`` gives U = k 2^-53, k = 0, ..., 2^53 - 1; the angle is
    pi ((U - 1/2) + 2^-54), the midpoint of U's cell, so the grid of angles is symmetric
    about 0 and excludes both end points (the transform is 0/0 at theta = -pi/2 when
    alpha = 1 and beta = 1). Both steps before the product are exact in floating point.
    """
    theta = gen.random(size=shape)
    theta -= 0.5
    theta += 2.0**-54
    theta *= math.pi
    return theta


def _standard_s1(
    alpha: float,
    beta: float,
    theta: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """The Chambers-Mallows-Stuck transform: S_alpha(1, beta, 0) from an angle and an exponential.

    ``theta`` is uniform on the open interval (-pi/2, pi/2) and ``w`` is standard
    exponential; both arrays are overwritten (they are scratch space owned by the
    caller). Weron (1996), eq. (3.2)-(3.3); Samorodnitsky & Taqqu (1994), Proposition
    1.7.1 for beta = 0. For alpha != 1, with B = arctan(beta tan(pi alpha/2)) / alpha and
    S = (1 + beta^2 tan^2(pi alpha/2))^(1/(2 alpha)),

        X = S sin(alpha (theta + B)) / cos(theta)^(1/alpha)
              * (cos(theta - alpha (theta + B)) / w)^((1 - alpha)/alpha).

    The magnitude is formed as exp of a sum of logs, so no intermediate power overflows:
    the result is finite whenever the draw itself is representable (always for
    alpha >= 0.5, where |X| < 1e62 for every pair of inputs drawn here: cos(theta)
    >= 1e-16 and w >= 2^-64). For
    beta = 0, B = 0 and S = 1 exactly. For alpha = 1,

        X = (2/pi) [(pi/2 + beta theta) tan(theta)
                    - beta log((pi/2) w cos(theta) / (pi/2 + beta theta))],

    which is tan(theta) (standard Cauchy) when beta = 0.
    """
    if alpha == 1.0:
        if beta == 0.0:
            return np.tan(theta, out=theta)
        t = _HALF_PI + beta * theta
        tan_t = np.tan(theta)
        np.cos(theta, out=theta)
        theta *= w
        theta *= _HALF_PI
        theta /= t
        np.log(theta, out=theta)
        theta *= -beta
        t *= tan_t
        theta += t
        theta *= 2.0 / math.pi
        return theta
    inv_alpha = 1.0 / alpha
    if beta == 0.0:
        shift = 0.0
        log_s = 0.0
    else:
        zeta = beta * math.tan(_HALF_PI * alpha)
        shift = math.atan(zeta) * inv_alpha
        log_s = 0.5 * inv_alpha * math.log1p(zeta * zeta)
    # log|X| = log S - log(cos theta)/alpha
    #          + ((1 - alpha)/alpha) (log cos(theta - alpha (theta + B)) - log w)
    power = (1.0 - alpha) * inv_alpha
    a = theta + shift
    a *= alpha
    log_mag = np.cos(theta)
    np.log(log_mag, out=log_mag)
    log_mag *= -inv_alpha
    # |theta - alpha (theta + B)| < pi/2, so its cosine is positive; for theta within
    # 1e-15 of -pi/2 or pi/2 rounding could give -4e-16 instead, hence the abs.
    theta -= a
    np.cos(theta, out=theta)
    np.abs(theta, out=theta)
    np.log(theta, out=theta)
    theta *= power
    log_mag += theta
    np.log(w, out=w)
    w *= power
    log_mag -= w
    if log_s:
        log_mag += log_s
    np.exp(log_mag, out=log_mag)
    np.sin(a, out=a)
    a *= log_mag
    return a


def sample_stable(
    alpha: float,
    size: int | tuple[int, ...],
    *,
    beta: float = 0.0,
    scale: float = 1.0,
    loc: float = 0.0,
    rng: RngLike = None,
) -> npt.NDArray[np.float64]:
    r"""Draw from the stable law S_alpha(scale, beta, loc), S1 parametrization.

    The law is that of ``scipy.stats.levy_stable(alpha, beta, loc=loc, scale=scale)``
    with scipy's default S1 parametrization (Samorodnitsky & Taqqu 1994, Def. 1.1.6):

    .. math::

        E e^{itX} = \exp\{-|s t|^\alpha (1 - i\beta\,\mathrm{sign}(t)\tan(\pi\alpha/2))
                    + i\mu t\}, \quad \alpha \ne 1,

    with :math:`\tan(\pi\alpha/2)` replaced by :math:`-(2/\pi)\log|t|` at alpha = 1.
    Symmetric draws (beta = 0) satisfy P(|X| > t) ~ C_alpha s^alpha t^(-alpha) with
    C_alpha = (2/pi) Gamma(alpha) sin(pi alpha / 2) for alpha < 2 (docs/theory.md, section 3).

    Method: Chambers, Mallows & Stuck (1976) in Weron's (1996) form. One uniform angle
    on the open interval (-pi/2, pi/2) and one standard exponential per draw, then a
    pure transform with special cases at alpha = 1 (with the log term when beta != 0)
    and beta = 0. For
    alpha != 1 the magnitude is computed as exp of a sum of logs, so draws are finite
    for alpha >= 0.5 (and for smaller alpha unless the draw itself exceeds the largest
    double, about 1.8e308). alpha = 2 draws N(loc, 2 scale^2) directly (beta has no
    effect there). At alpha = 1 with beta != 0 the S1 scale rule adds
    (2/pi) beta scale log(scale) to the location, as in Samorodnitsky & Taqqu,
    Property 1.2.3.

    Parameters
    ----------
    alpha : float
        Stable index, in (0, 2], and large enough that a standard draw stays below the
        largest double (see Raises): about alpha >= 0.052.
    size : int or tuple of int
        Output shape; entries >= 0.
    beta : float, optional
        Skewness, in [-1, 1].
    scale : float, optional
        Scale s > 0, small enough that the scaled draw stays below the largest double
        (see Raises).
    loc : float, optional
        Location mu, finite.
    rng : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Source of randomness; the same seed gives the same draws.

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``size``; every entry finite.

    Raises
    ------
    InvalidArgumentError
        An argument outside its domain, named in the message. This includes parameters
        under which one draw would exceed the largest double, 1.8e308, with probability
        above 1e-16, judged from the tail
        P(|X - mu| > t) ~ C_alpha s^alpha t^(-alpha) (plus the Gaussian tail that
        dominates for alpha near 2): ``alpha`` below about 0.052 (then even a standard
        draw overflows too often), or ``scale`` (and ``|loc|``) too close to 1.8e308 for
        the given alpha, e.g. scale > 7.1e297 at alpha = 1.5 (with loc = 0).

    Examples
    --------
    >>> x = sample_stable(1.5, 1000, rng=0)
    >>> x.shape
    (1000,)
    """
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    shape = _check_size(size)
    beta = check_real(beta, "beta", low=-1.0, high=1.0)
    scale = check_real(scale, "scale", low=0.0, high=math.inf, low_open=True, high_open=True)
    loc = check_real(loc, "loc")
    _check_double_range(alpha, beta, scale, loc)
    gen = as_generator(rng)
    if alpha == 2.0:
        return gen.normal(loc, math.sqrt(2.0) * scale, size=shape)
    theta = _uniform_angle(gen, shape)
    w = gen.standard_exponential(size=shape)
    if alpha < 1.0 or (alpha == 1.0 and beta != 0.0):
        w[w == 0.0] = _ZERO_EXPONENTIAL
    x = _standard_s1(alpha, beta, theta, w)
    if scale != 1.0:
        x *= scale
    shift = loc
    if alpha == 1.0 and beta != 0.0:
        shift += (2.0 / math.pi) * beta * scale * math.log(scale)
    if shift != 0.0:
        x += shift
    return x


def sample_elliptic_stable(
    alpha: float,
    size: int,
    dim: int,
    *,
    scale: float = 1.0,
    rng: RngLike = None,
) -> npt.NDArray[np.float64]:
    r"""Draw elliptic (sub-Gaussian) symmetric alpha-stable vectors in R^dim.

    X = sqrt(A) G with A and G independent (Samorodnitsky & Taqqu 1994, Prop. 2.5.2):

    - A ~ S_{alpha/2}((cos(pi alpha / 4))^(2/alpha), 1, 0), a positive stable variable
      with Laplace transform E exp(-lambda A) = exp(-lambda^(alpha/2));
    - G ~ N(0, 2 scale^2 I_dim).

    Scale convention: the characteristic function is

    .. math::

        E e^{i\langle\theta, X\rangle} = \exp(-\mathrm{scale}^\alpha\,\|\theta\|^\alpha),

    so every coordinate (and every projection <u, X> with ||u|| = 1) is marginally
    symmetric alpha-stable S_alpha(scale, 0, 0), the law of
    ``sample_stable(alpha, n, scale=scale)``. Another common convention takes
    G ~ N(0, scale^2 I), whose marginals have scale ``scale / sqrt(2)``. The law is
    rotation invariant, and the coordinates are dependent (they share A) unless
    alpha = 2, which gives N(0, 2 scale^2 I_dim).

    Parameters
    ----------
    alpha : float
        Stable index, in (0, 2], and about 0.104 or more: the positive (alpha/2)-stable
        A must stay below the largest double (the rule of :func:`sample_stable`, applied
        to A).
    size : int
        Number of vectors, >= 0.
    dim : int
        Dimension, >= 1.
    scale : float, optional
        Marginal scale, > 0, small enough that each coordinate stays below the largest
        double (the rule of :func:`sample_stable`).
    rng : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        float64 array of shape (size, dim); every entry finite.

    Raises
    ------
    InvalidArgumentError
        An argument outside its domain, named in the message; see :func:`sample_stable`
        for the rule that keeps draws below the largest double.
    """
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    size = check_int(size, "size", low=0)
    dim = check_int(dim, "dim", low=1)
    _check_draws(size * (dim + 1), f"`size` x (`dim` + 1) = {size} x {dim + 1}")
    scale = check_real(scale, "scale", low=0.0, high=math.inf, low_open=True, high_open=True)
    if alpha < 2.0:
        # A ~ S_{alpha/2}(cos(pi alpha / 4)^(2/alpha), 1, 0), all of its tail to the right.
        half = 0.5 * alpha
        log_p = _log_tail(half, _LOG_DBL_MAX) + half * math.log(math.cos(0.5 * _HALF_PI * alpha))
        if log_p > _LOG_MAX_OVERFLOW:
            raise InvalidArgumentError(
                f"`alpha` = {alpha!r} is too small: the scale variable A, positive "
                f"(alpha/2)-stable, exceeds the largest double (1.8e308) with probability "
                f"{math.exp(log_p):.2g}, more than {_MAX_OVERFLOW_PROBABILITY:g}"
            )
    _check_double_range(alpha, 0.0, scale, 0.0)
    gen = as_generator(rng)
    g = gen.normal(0.0, math.sqrt(2.0) * scale, size=(size, dim))
    if alpha == 2.0:
        return g
    half = 0.5 * alpha
    a_scale = math.cos(0.5 * _HALF_PI * alpha) ** (1.0 / half)
    a = sample_stable(half, size, beta=1.0, scale=a_scale, rng=gen)
    g *= np.sqrt(a)[:, None]
    return g
