"""Activations and losses of the mean-field simulator, written to vectorise in numba.

A step of the simulator evaluates the activation phi and its derivative phi' at
b * n pre-activations, as many as its matrix products have multiply-adds, so phi must
cost about as little as a multiply-add. ``math.tanh`` (a libm call per entry) costs
10-25 ns, which would dominate a step. The row functions here take a whole row of
pre-activations and are plain arithmetic loops that LLVM turns into AVX2 code, about
1-2 ns per entry.

tanh and sigmoid are built on one exponential, computed the classic way (Cody & Waite
1980; Tang 1989): y = k ln 2 + r with k = round(y / ln 2) and |r| <= ln(2) / 2,
exp(y) - 1 = 2^k expm1(r) + (2^k - 1), and expm1(r) from its Taylor series to degree 13
(truncation below 5e-18 relative on |r| <= 0.347). The integer k comes from adding
1.5 * 2^52, which leaves k in the low bits of the sum; 2^k is then assembled from those
bits through an int64 view of a scratch row. No step depends on the thread count, and
the results differ from libm's by a few ulp (checked in
``tests/simulate/test_mean_field_math.py``).

Arguments beyond +-700 are clamped there: tanh is then exactly +-1 and its derivative
and the small sigmoid tail are returned as about 4e-304 instead of smaller numbers
(absolute error below 1e-303).
"""

from __future__ import annotations

import math

import numpy as np

from heavytail._lib._types import FloatArray

from ._numba import kernel

__all__ = [
    "fixed_dot",
    "identity_row",
    "logistic_loss",
    "real_label",
    "relu_row",
    "sigmoid_row",
    "sign_label",
    "squared_loss",
    "tanh_row",
]


_SHIFTER = 6755399441055744.0  # 1.5 * 2^52: x + _SHIFTER rounds x to an integer k, kept in
# the low mantissa bits of the sum, for |k| < 2^51
_SHIFTER_BITS = 0x4338000000000000  # the bit pattern of _SHIFTER
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split as in fdlibm: k * _LN2_HI is exact for
_LN2_LO = 1.90821492927058770002e-10  # |k| < 2^11
_INV_LN2 = 1.44269504088896338700e00
_CLAMP = 700.0  # exp(700) ~ 1e304 stays finite, and so does (exp(700) - 1) + 2

# 1 / j! for j = 2, ..., 13, the Taylor coefficients of expm1 after the linear term
_C2 = 1.0 / 2.0
_C3 = 1.0 / 6.0
_C4 = 1.0 / 24.0
_C5 = 1.0 / 120.0
_C6 = 1.0 / 720.0
_C7 = 1.0 / 5040.0
_C8 = 1.0 / 40320.0
_C9 = 1.0 / 362880.0
_C10 = 1.0 / 3628800.0
_C11 = 1.0 / 39916800.0
_C12 = 1.0 / 479001600.0
_C13 = 1.0 / 6227020800.0


@kernel()
def _expm1_reduced(r: float) -> float:
    """expm1(r) for |r| <= ln(2) / 2: the Taylor polynomial of degree 13.

    r + r^2 q(r), with q of degree 11 evaluated by Estrin's scheme (pairs, then powers
    r^2, r^4, r^8): a shorter chain of dependent operations than Horner's, 30 % faster
    in the vectorised loops, and as accurate here (the terms fall geometrically).
    """
    r2 = r * r
    r4 = r2 * r2
    p23 = _C2 + _C3 * r
    p45 = _C4 + _C5 * r
    p67 = _C6 + _C7 * r
    p89 = _C8 + _C9 * r
    p1011 = _C10 + _C11 * r
    p1213 = _C12 + _C13 * r
    q = (p23 + p45 * r2) + (p67 + p89 * r2) * r4 + (p1011 + p1213 * r2) * (r4 * r4)
    return r + r * (r * q)


@kernel()
def _powers_of_two(buf: FloatArray, sign: int) -> None:
    """buf[i] <- 2^(sign * k_i) in place, where buf[i] = k_i + 1.5 * 2^52 (k_i >= 0).

    Assembled from bits: (1023 + sign * k) << 52 is the pattern of 2^(sign * k), valid
    for -1022 <= sign * k <= 1023 (here 0 <= k <= 1010).
    """
    bits = buf.view(np.int64)
    for i in range(bits.shape[0]):
        bits[i] = (1023 + sign * (bits[i] - _SHIFTER_BITS)) << 52


@kernel()
def tanh_row(z: FloatArray, phi: FloatArray, dphi: FloatArray) -> None:
    """phi = tanh(z) and dphi = 1 - tanh(z)^2, entrywise on 1-D contiguous rows.

    With y = 2|z| and E - 1 = expm1(y): tanh|z| = (E - 1) / (E + 1) and
    1 - tanh^2 = 4 E / (E + 1)^2, both without cancellation. ``phi`` and ``dphi`` are
    used as scratch before they receive the result; ``z`` is read only. The three rows
    should not overlap: they may (the results are the same), but the loops then run
    without SIMD.
    """
    n = z.shape[0]
    for i in range(n):  # dphi <- k + shifter, with y = k ln2 + r
        y = min(2.0 * abs(z[i]), _CLAMP)
        dphi[i] = y * _INV_LN2 + _SHIFTER
    _powers_of_two(dphi, 1)  # now dphi = 2^k; k is recomputed below
    for i in range(n):
        zi = z[i]
        y = min(2.0 * abs(zi), _CLAMP)
        k = (y * _INV_LN2 + _SHIFTER) - _SHIFTER
        r = (y - k * _LN2_HI) - k * _LN2_LO
        two_k = dphi[i]
        em1 = two_k * _expm1_reduced(r) + (two_k - 1.0)
        q = 1.0 / (em1 + 2.0)
        phi[i] = math.copysign(em1 * q, zi)
        dphi[i] = (4.0 * q) * ((em1 + 1.0) * q)


@kernel()
def sigmoid_row(z: FloatArray, phi: FloatArray, dphi: FloatArray) -> None:
    """phi = 1 / (1 + exp(-z)) and dphi = phi (1 - phi), entrywise on 1-D rows.

    With E = exp(-|z|) in (0, 1]: sigmoid(|z|) = 1 / (1 + E), sigmoid(-|z|) = E / (1 + E)
    and the derivative E / (1 + E)^2, all without cancellation. Same scratch rules as
    :func:`tanh_row`.
    """
    n = z.shape[0]
    for i in range(n):
        y = min(abs(z[i]), _CLAMP)
        dphi[i] = y * _INV_LN2 + _SHIFTER
    _powers_of_two(dphi, -1)  # dphi = 2^-k
    for i in range(n):
        zi = z[i]
        y = min(abs(zi), _CLAMP)
        k = (y * _INV_LN2 + _SHIFTER) - _SHIFTER
        r = (y - k * _LN2_HI) - k * _LN2_LO  # exp(-y) = 2^-k exp(-r)
        e = dphi[i] * (1.0 + _expm1_reduced(-r))
        q = 1.0 / (1.0 + e)
        phi[i] = q if zi >= 0.0 else e * q
        dphi[i] = e * (q * q)


@kernel()
def relu_row(z: FloatArray, phi: FloatArray, dphi: FloatArray) -> None:
    """phi = max(z, 0) and dphi = 1{z > 0} (0 at z = 0), entrywise on 1-D rows."""
    for i in range(z.shape[0]):
        zi = z[i]
        positive = zi > 0.0
        phi[i] = zi if positive else 0.0
        dphi[i] = 1.0 if positive else 0.0


@kernel()
def identity_row(z: FloatArray, phi: FloatArray, dphi: FloatArray) -> None:
    """phi = z and dphi = 1, entrywise on 1-D rows (for closed-form checks)."""
    for i in range(z.shape[0]):
        phi[i] = z[i]
        dphi[i] = 1.0


@kernel()
def squared_loss(f: float, y: float) -> tuple[float, float]:
    """(l, dl/df) for l(f, y) = (f - y)^2 / 2."""
    e = f - y
    return 0.5 * e * e, e


@kernel()
def logistic_loss(f: float, y: float) -> tuple[float, float]:
    """(l, dl/df) for l(f, y) = log(1 + exp(-y f)), labels y in {-1, 1}.

    With m = y f: l = log1p(exp(-m)) for m >= 0 and -m + log1p(exp(m)) otherwise, and
    dl/df = -y sigmoid(-m), so that neither overflows.
    """
    m = y * f
    if m >= 0.0:
        e = math.exp(-m)
        return math.log1p(e), -y * (e / (1.0 + e))
    e = math.exp(m)
    return -m + math.log1p(e), -y / (1.0 + e)


@kernel()
def real_label(value: float) -> float:
    """The label of the squared loss: the teacher's value plus noise, as is."""
    return value


@kernel()
def sign_label(value: float) -> float:
    """The label of the logistic loss: the sign of the teacher's value plus noise (+1 at 0)."""
    return 1.0 if value >= 0.0 else -1.0


@kernel()
def fixed_dot(u: FloatArray, v: FloatArray) -> float:
    """sum_i u_i v_i in a fixed order: four interleaved partial sums, then their sum.

    The order depends on the length only, never on threads; the four independent sums
    let the loop run in SIMD without reassociation.
    """
    n = u.shape[0]
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    n4 = n - n % 4
    for i in range(0, n4, 4):
        s0 += u[i] * v[i]
        s1 += u[i + 1] * v[i + 1]
        s2 += u[i + 2] * v[i + 2]
        s3 += u[i + 3] * v[i + 3]
    for i in range(n4, n):
        s0 += u[i] * v[i]
    return (s0 + s1) + (s2 + s3)
