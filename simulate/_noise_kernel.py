"""Heavy-tailed noise added to an iterate inside a kernel; the noise's type picks the code.

A kernel that injects noise takes a ``noise`` argument and calls
``add_stable_noise(noise, gen, x, buf)`` after each step. The wrapper passes None (no
noise), a :class:`UnitStableNoise`, an :class:`IidStableNoise` or an
:class:`EllipticStableNoise` (the kinds of :class:`heavytail.simulate.InjectedNoise`).
numba compiles one specialisation of the kernel per type, and in each the call is just
that kind's code (nothing at all for None): no mode code travels into the kernel and no
branch runs per step. The laws are those of :mod:`._stable_kernel` (docs/theory.md,
section 3): every coordinate of L is standard symmetric alpha-stable,
E exp(i t L_j) = exp(-|t|^alpha).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from heavytail._lib._types import FloatArray

from ._numba import dispatch_on_type
from ._stable_kernel import elliptic_stable_into, positive_stable, symmetric_stable

__all__ = [
    "EllipticStableNoise",
    "IidStableNoise",
    "UnitStableNoise",
    "add_stable_noise",
    "add_stable_noise_scalar",
]


class UnitStableNoise(NamedTuple):
    """x <- x + scale * L (1, ..., 1), one scalar L for the whole iterate (Wan et al.'s type 1).

    ``alpha`` in (0, 2]; ``scale`` > 0 is the whole factor (the wrapper folds any step
    size into it).
    """

    alpha: float
    scale: float


class IidStableNoise(NamedTuple):
    """x <- x + scale * L, the coordinates of L independent (Wan et al.'s type 2).

    ``alpha`` in (0, 2]; ``scale`` > 0 is the whole factor (the wrapper folds any step
    size into it).
    """

    alpha: float
    scale: float


class EllipticStableNoise(NamedTuple):
    """x <- x + scale * L, L = sqrt(2 A) G elliptic (Wan et al.'s type 3).

    A is positive (alpha/2)-stable and G ~ N(0, I) (:func:`._stable_kernel.elliptic_stable_into`):
    rotation invariant, coordinates dependent unless alpha = 2.
    """

    alpha: float
    scale: float


def add_stable_noise(
    noise: IidStableNoise | EllipticStableNoise | None, gen: Any, x: FloatArray, buf: FloatArray
) -> None:
    """x <- x + noise.scale * L, L drawn from ``gen`` by the law ``noise``'s type names.

    Compiled code only. Draws: the unit kind, one
    :func:`._stable_kernel.symmetric_stable` for the whole of x; the iid kind, one
    :func:`._stable_kernel.symmetric_stable` per coordinate in order; the elliptic kind,
    :func:`._stable_kernel.elliptic_stable_into` into ``buf`` (length of x), then adds
    it; None, nothing.
    """
    raise NotImplementedError("add_stable_noise is called from numba kernels only")


def _no_noise(noise: None, gen: Any, x: FloatArray, buf: FloatArray) -> None:
    return None


def _unit(noise: UnitStableNoise, gen: Any, x: FloatArray, buf: FloatArray) -> None:
    step = noise.scale * symmetric_stable(gen, noise.alpha)
    for j in range(x.shape[0]):
        x[j] += step


def _iid(noise: IidStableNoise, gen: Any, x: FloatArray, buf: FloatArray) -> None:
    for j in range(x.shape[0]):
        x[j] += noise.scale * symmetric_stable(gen, noise.alpha)


def _elliptic(noise: EllipticStableNoise, gen: Any, x: FloatArray, buf: FloatArray) -> None:
    elliptic_stable_into(gen, noise.alpha, buf)
    for j in range(x.shape[0]):
        x[j] += noise.scale * buf[j]


dispatch_on_type(
    add_stable_noise,
    {
        None: _no_noise,
        UnitStableNoise: _unit,
        IidStableNoise: _iid,
        EllipticStableNoise: _elliptic,
    },
)


def add_stable_noise_scalar(
    noise: IidStableNoise | EllipticStableNoise | None, gen: Any, x: float
) -> float:
    """x + noise.scale * L for a scalar x: :func:`add_stable_noise` at dim 1, same draws.

    Compiled code only. All kinds have the same law at dim 1; they differ in the draws
    (the elliptic kind draws A then one normal), which stay those of the array version.
    """
    raise NotImplementedError("add_stable_noise_scalar is called from numba kernels only")


def _no_noise_scalar(noise: None, gen: Any, x: float) -> float:
    return x


def _iid_scalar(noise: UnitStableNoise | IidStableNoise, gen: Any, x: float) -> float:
    # at dim 1 the unit kind's one scalar is the iid kind's one coordinate
    return x + noise.scale * symmetric_stable(gen, noise.alpha)


def _elliptic_scalar(noise: EllipticStableNoise, gen: Any, x: float) -> float:
    # elliptic_stable_into's draws at dim 1: A, then one normal
    r = math.sqrt(2.0 * positive_stable(gen, 0.5 * noise.alpha))
    return x + noise.scale * (r * gen.standard_normal())


dispatch_on_type(
    add_stable_noise_scalar,
    {
        None: _no_noise_scalar,
        UnitStableNoise: _iid_scalar,
        IidStableNoise: _iid_scalar,
        EllipticStableNoise: _elliptic_scalar,
    },
)
