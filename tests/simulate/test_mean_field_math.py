"""The mean-field simulator's vectorised activations and its losses, against numpy/scipy.

The activations are written by hand (an exponential from a Taylor polynomial and a
power of two assembled from bits) so that numba vectorises them; these tests hold them
to a few ulp of libm, and the negative controls show that the tolerance would catch an
error as small as one part in 1e13.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from scipy.special import expit

from heavytail.simulate._mean_field_math import (
    fixed_dot,
    identity_row,
    logistic_loss,
    relu_row,
    sigmoid_row,
    squared_loss,
    tanh_row,
)

FloatArray = npt.NDArray[np.float64]

# libm's tanh and scipy's expit are within 1 ulp of the true values; the hand-written
# versions were measured within 3 ulp (values) and 5 ulp (derivatives) on 1e6 points.
# 8 ulp leaves room for other CPUs' rounding, and is 1000x tighter than the negative
# controls below.
ULP = 8.0


def _grid() -> FloatArray:
    gen = np.random.default_rng(20261128)
    return np.concatenate(
        [
            gen.standard_normal(20_000) * 3.0,
            np.linspace(-40.0, 40.0, 8001),
            gen.standard_normal(500) * 1e-6,
            [0.0, -0.0, 5e-324, 1e-300, 0.5 * math.log(3.0), 19.0, 20.0, 350.0, -700.0],
        ]
    )


def _ulps(got: FloatArray, want: FloatArray) -> float:
    tiny = np.finfo(np.float64).tiny
    return float(np.max(np.abs(got - want) / np.maximum(np.spacing(np.abs(want)), tiny)))


def _row(fn: object, z: FloatArray) -> tuple[FloatArray, FloatArray]:
    phi = np.empty_like(z)
    dphi = np.empty_like(z)
    fn(np.ascontiguousarray(z), phi, dphi)  # type: ignore[operator]
    return phi, dphi


def test_tanh_row_is_within_a_few_ulp() -> None:
    z = _grid()
    phi, dphi = _row(tanh_row, z)
    assert _ulps(phi, np.tanh(z)) <= ULP
    e = np.exp(-2.0 * np.abs(z))
    sech2 = 4.0 * e / (1.0 + e) ** 2  # no overflow; within 3 ulp (e is within 1)
    keep = sech2 > 1e-300  # the documented clamp region aside
    assert _ulps(dphi[keep], sech2[keep]) <= ULP
    assert np.all(np.signbit(phi) == np.signbit(z))  # odd, -0.0 included
    # negative control: a relative error of 1e-13 (about 450 ulp) is caught
    assert _ulps(phi * (1 + 1e-13), np.tanh(z)) > 100 * ULP


def test_tanh_row_clamps_far_out_as_documented() -> None:
    phi, dphi = _row(tanh_row, np.array([701.0, -1e300, 1e308]))
    assert np.array_equal(phi, [1.0, -1.0, 1.0])
    assert np.all((dphi > 0) & (dphi < 1e-303))


def test_sigmoid_row_is_within_a_few_ulp() -> None:
    z = _grid()
    phi, dphi = _row(sigmoid_row, z)
    keep = np.abs(z) <= 700  # beyond, the documented clamp
    assert _ulps(phi[keep], expit(z[keep])) <= ULP
    deriv = expit(z) * expit(-z)
    assert _ulps(dphi[keep], deriv[keep]) <= ULP
    assert _ulps(phi * (1 + 1e-13), expit(z)) > 100 * ULP  # negative control


def test_relu_and_identity_rows_are_exact() -> None:
    z = _grid()
    phi, dphi = _row(relu_row, z)
    assert np.array_equal(phi, np.maximum(z, 0.0))
    assert np.array_equal(dphi, (z > 0).astype(float))  # relu'(0) = 0, as documented
    phi, dphi = _row(identity_row, z)
    assert np.array_equal(phi, z)
    assert np.all(dphi == 1.0)


def test_rows_of_any_length_and_alignment() -> None:
    """The SIMD loops have remainders: every length from 0 to 17, and offset rows."""
    gen = np.random.default_rng(3)
    base = gen.standard_normal(40) * 4
    for length in range(18):
        for offset in (0, 1, 3):
            z = base[offset : offset + length]
            phi, _ = _row(tanh_row, z)
            assert _ulps(phi, np.tanh(z)) <= ULP if length else phi.size == 0


@pytest.mark.parametrize("y", [-1.0, 1.0])
def test_logistic_loss_and_slope(y: float) -> None:
    for f in np.concatenate([np.linspace(-50, 50, 1001), [-1e3, 1e3, 0.0]]):
        loss, slope = logistic_loss(float(f), y)
        assert loss == pytest.approx(np.logaddexp(0.0, -y * f), rel=1e-14, abs=1e-300)
        assert slope == pytest.approx(-y * expit(-y * f), rel=1e-14, abs=1e-300)
        assert math.isfinite(loss) and math.isfinite(slope)


def test_squared_loss_and_slope() -> None:
    assert squared_loss(3.0, 1.0) == (2.0, 2.0)
    assert squared_loss(-1.5, 0.5) == (2.0, -2.0)


def test_fixed_dot_is_an_accurate_sum_in_a_fixed_order() -> None:
    gen = np.random.default_rng(5)
    for n in (0, 1, 3, 4, 7, 256, 1001):
        u, v = gen.standard_normal(n), gen.standard_normal(n)
        exact = math.fsum(u * v)
        got = fixed_dot(u, v)
        # recursive summation error bound: n eps sum |u_i v_i| (Higham 2002, eq. 4.4)
        assert abs(got - exact) <= n * 2.3e-16 * float(np.sum(np.abs(u * v)))
        # the fixed order: four interleaved partial sums, then (s0 + s1) + (s2 + s3)
        s = [0.0, 0.0, 0.0, 0.0]
        n4 = n - n % 4
        for i in range(n4):
            s[i % 4] += u[i] * v[i]
        for i in range(n4, n):
            s[0] += u[i] * v[i]
        assert got == (s[0] + s[1]) + (s[2] + s[3])
