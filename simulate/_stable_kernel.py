"""Stable variates inside numba kernels: the Chambers-Mallows-Stuck transform.

Each sampler takes a ``numpy.random.Generator`` (numba accepts them in compiled code),
draws a uniform angle and a standard exponential, and applies a pure transform. They are
meant to be called from other kernels, one Generator per parallel chunk; the ``fill_*``
kernels fill an array, for tests and for callers outside numba.

Scale convention (docs/theory.md, section 3): a standard symmetric alpha-stable variable has
E exp(i t X) = exp(-|t|^alpha), alpha in (0, 2]; at alpha = 2 it is N(0, 2).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from ._numba import kernel

# Generator.random gives U = k 2^-53, k = 0, ..., 2^53 - 1. Adding half a cell, 2^-54,
# moves every U to the midpoint of its cell, inside the open interval (0, 1): the angles
# below then never reach the end points where the transforms are 0/0 or infinite (the
# same grid as heavytail.theory.sample_stable).
_HALF_CELL = 2.0**-54
# The exponential sampler returns an exact 0.0 with probability about 2^-53; the
# transforms divide by it when alpha < 1, so a zero becomes this stand-in for "a tiny
# positive draw" (the same as heavytail.theory.sample_stable).
_ZERO_EXPONENTIAL = 2.0**-64

__all__ = [
    "elliptic_stable_into",
    "fill_elliptic_stable",
    "fill_positive_stable",
    "fill_symmetric_stable",
    "positive_stable",
    "symmetric_stable",
]


@kernel()
def symmetric_stable(gen: Any, alpha: float) -> float:
    """One standard symmetric alpha-stable variate, alpha in (0, 2].

    Chambers, Mallows & Stuck (1976), beta = 0 (Samorodnitsky & Taqqu 2007, eq. 1.7.2 with
    beta = 0): with V ~ U(-pi/2, pi/2) and W ~ Exp(1) independent,

        X = sin(alpha V) / cos(V)^(1/alpha) * (cos((1 - alpha) V) / W)^((1 - alpha)/alpha),

    so that E exp(i t X) = exp(-|t|^alpha). The same expression is exact at alpha = 1
    (X = tan V, standard Cauchy) and at alpha = 2 (X = 2 sqrt(W) sin V ~ N(0, 2)), so no
    special case is needed when beta = 0. The uniform is drawn before the exponential;
    V lies on the open interval (see ``_HALF_CELL``).
    """
    v = math.pi * ((gen.random() - 0.5) + _HALF_CELL)
    w = gen.standard_exponential()
    if w == 0.0:
        w = _ZERO_EXPONENTIAL
    return (
        math.sin(alpha * v)
        / math.cos(v) ** (1.0 / alpha)
        * (math.cos((1.0 - alpha) * v) / w) ** ((1.0 - alpha) / alpha)
    )


@kernel()
def positive_stable(gen: Any, a: float) -> float:
    """One positive a-stable variate with E exp(-s A) = exp(-s^a), a in (0, 1].

    Kanter's (1975) form of the Chambers-Mallows-Stuck transform for beta = 1: with
    U ~ U(0, pi) and W ~ Exp(1) independent,

        A = sin(a U) / sin(U)^(1/a) * (sin((1 - a) U) / W)^((1 - a)/a).

    In the S1 parametrization A ~ S_a(cos(pi a / 2)^(1/a), 1, 0) (Samorodnitsky & Taqqu
    2007, Prop. 1.2.12). At a = 1 the law is the point mass at 1, returned without drawing.
    U is at least pi 2^-54 > 0 (see ``_HALF_CELL``), and at most the float nearest pi
    (the top cell rounds up to 1), where sin is 1.2e-16: sin(U) is never 0.
    """
    if a == 1.0:
        return 1.0
    u = math.pi * (gen.random() + _HALF_CELL)
    w = gen.standard_exponential()
    if w == 0.0:
        w = _ZERO_EXPONENTIAL
    return (
        math.sin(a * u)
        / math.sin(u) ** (1.0 / a)
        * (math.sin((1.0 - a) * u) / w) ** ((1.0 - a) / a)
    )


@kernel()
def elliptic_stable_into(gen: Any, alpha: float, out: npt.NDArray[np.float64]) -> None:
    """Fill ``out`` (length d) with one elliptic (sub-Gaussian) alpha-stable vector.

    L = sqrt(2 A) G, with G ~ N(0, I_d) and A positive (alpha/2)-stable with
    E exp(-s A) = exp(-s^(alpha/2)) (:func:`positive_stable`), so that

        E exp(i t . L) = E exp(-A |t|^2) = exp(-|t|^alpha)

    (Samorodnitsky & Taqqu 2007, Prop. 2.5.2). Every coordinate is then a standard
    symmetric alpha-stable variable, on the same scale as :func:`symmetric_stable`, but
    the coordinates share the one random scale A: they are dependent unless alpha = 2.
    A is drawn first, then the d normals in order.
    """
    scale = math.sqrt(2.0 * positive_stable(gen, 0.5 * alpha))
    for j in range(out.shape[0]):
        out[j] = scale * gen.standard_normal()


@kernel()
def fill_symmetric_stable(gen: Any, alpha: float, out: npt.NDArray[np.float64]) -> None:
    """Fill the 1-D array ``out`` with i.i.d. :func:`symmetric_stable` variates."""
    for i in range(out.shape[0]):
        out[i] = symmetric_stable(gen, alpha)


@kernel()
def fill_positive_stable(gen: Any, a: float, out: npt.NDArray[np.float64]) -> None:
    """Fill the 1-D array ``out`` with i.i.d. :func:`positive_stable` variates."""
    for i in range(out.shape[0]):
        out[i] = positive_stable(gen, a)


@kernel()
def fill_elliptic_stable(gen: Any, alpha: float, out: npt.NDArray[np.float64]) -> None:
    """Fill each row of the 2-D array ``out`` with an independent elliptic stable vector."""
    for i in range(out.shape[0]):
        elliptic_stable_into(gen, alpha, out[i])
