"""Tests of the predicted tail index of online SGD on least squares (theory/_sgd_h.py).

Independent sources used here: the closed form h(2) = 1 - 2bc + b(b + d + 1)c^2 (second
moments of chi-square variables, docs/sgd_tail_index.md section 2); the closed form of
h(s) in 1-D for even s (moments of chi2_1); plain Monte Carlo of the chi-square
representation; and a direct simulation of the SGD recursion.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heavytail.theory import (
    EstimationError,
    InvalidArgumentError,
    NoStationaryLawError,
    sgd_h,
    sgd_lyapunov_exponent,
    sgd_tail_index,
    sgd_variance_threshold,
)


def h2_closed_form(eta: float, b: int, d: int, sigma: float = 1.0) -> float:
    c = eta * sigma**2 / b
    return 1.0 - 2.0 * b * c + b * (b + d + 1) * c * c


# ---------------------------------------------------------------------------------------
# h(s): closed forms


@pytest.mark.parametrize(
    ("eta", "b", "d", "sigma"),
    [(0.5, 1, 1, 1.0), (1.0, 1, 1, 1.0), (0.5, 1, 2, 1.0), (0.5, 4, 3, 1.0), (0.2, 3, 7, 2.0)],
)
def test_h2_matches_closed_form(eta: float, b: int, d: int, sigma: float) -> None:
    # The quadrature's stated relative error is ~1e-10; 1e-9 leaves a margin of 10.
    got = sgd_h(2.0, eta, b, dim=d, sigma=sigma)
    assert got == pytest.approx(h2_closed_form(eta, b, d, sigma), rel=1e-9)
    # negative control: the formula with d + 1 in place of d is visibly different
    assert got != pytest.approx(h2_closed_form(eta, b, d + 1, sigma), rel=1e-6)


@pytest.mark.parametrize("c", [0.1, 0.5, 1.3])
def test_h_even_moments_1d(c: float) -> None:
    # In 1-D with b = 1, h(4) = E(1 - cX)^4, X ~ chi2_1: E X^k = 1, 3, 15, 105 (k = 1..4).
    exact = 1 - 4 * c + 6 * 3 * c**2 - 4 * 15 * c**3 + 105 * c**4
    assert sgd_h(4.0, c, 1) == pytest.approx(exact, rel=1e-9)


def test_h_at_zero_is_one_and_log_form() -> None:
    assert sgd_h(0.0, 0.3, 2, dim=3) == 1.0
    vals = sgd_h(np.array([1.0, 2.0, 3.0]), 0.3, 2, dim=3)
    logs = sgd_h(np.array([1.0, 2.0, 3.0]), 0.3, 2, dim=3, log=True)
    assert isinstance(vals, np.ndarray)
    np.testing.assert_allclose(np.log(vals), logs, rtol=1e-12)


# ---------------------------------------------------------------------------------------
# The finite-variance threshold


@pytest.mark.parametrize(("b", "d"), [(1, 1), (1, 2), (4, 3), (2, 10)])
def test_variance_threshold_gives_alpha_two(b: int, d: int) -> None:
    thr = sgd_variance_threshold(b, dim=d)
    assert thr == 2.0 * b / (b + d + 1)
    # The root finder works to ~1e-9 relative on a quadrature with ~1e-10 relative error
    # near s = 2, where |d log h / ds| is of order c; 1e-7 is a safe bound.
    assert sgd_tail_index(thr, b, dim=d) == pytest.approx(2.0, abs=1e-7)
    # Either side of the threshold the index is on the right side of 2.
    assert sgd_tail_index(0.9 * thr, b, dim=d) > 2.0
    assert sgd_tail_index(1.02 * thr, b, dim=d) < 2.0


# ---------------------------------------------------------------------------------------
# Monotonicity


def test_alpha_falls_with_eta_sigma_dim_and_rises_with_batch() -> None:
    base = sgd_tail_index(0.4, 2, dim=2)
    assert sgd_tail_index(0.5, 2, dim=2) < base  # larger eta
    assert sgd_tail_index(0.4, 2, dim=2, sigma=1.1) < base  # larger sigma
    assert sgd_tail_index(0.4, 2, dim=3) < base  # larger dim
    assert sgd_tail_index(0.4, 3, dim=2) > base  # larger batch


def test_alpha_is_not_a_function_of_eta_over_b() -> None:
    # THEORY.md section 5: same eta/b, different alpha.
    a1 = sgd_tail_index(0.5, 1, dim=2)
    a2 = sgd_tail_index(1.0, 2, dim=2)
    assert abs(a1 - a2) > 0.1


def test_sigma_enters_through_eta_sigma_squared() -> None:
    assert sgd_tail_index(0.2, 2, dim=3, sigma=2.0) == pytest.approx(
        sgd_tail_index(0.8, 2, dim=3), rel=1e-9
    )


# ---------------------------------------------------------------------------------------
# No stationary law, and alpha beyond the resolved range


def test_no_stationary_law() -> None:
    assert sgd_lyapunov_exponent(2.0, 2, dim=5) > 0.0
    with pytest.raises(NoStationaryLawError, match="no stationary law"):
        sgd_tail_index(2.0, 2, dim=5)
    with pytest.raises(ValueError, match="no stationary law"):
        sgd_tail_index(5.0, 1)


def test_alpha_too_large_is_an_error() -> None:
    # c = 1e-4: alpha ~ 2/c, far beyond S_MAX = 1000.
    with pytest.raises(EstimationError, match="exceeds"):
        sgd_tail_index(1e-4, 1)


# ---------------------------------------------------------------------------------------
# Input checks


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"eta": 0.0}, "eta"),
        ({"eta": -1.0}, "eta"),
        ({"eta": math.nan}, "eta"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.0}, "batch_size"),
        ({"dim": 0}, "dim"),
        ({"dim": 1.5}, "dim"),
        ({"sigma": 0.0}, "sigma"),
        ({"sigma": -2.0}, "sigma"),
    ],
)
def test_invalid_arguments_named(kwargs: dict[str, Any], name: str) -> None:
    args: dict[str, Any] = {"eta": 0.5, "batch_size": 2, "dim": 2, "sigma": 1.0}
    args.update(kwargs)
    eta, b = args.pop("eta"), args.pop("batch_size")
    for fn in (sgd_tail_index, sgd_lyapunov_exponent):
        with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
            fn(eta, b, **args)
    with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
        sgd_h(1.0, eta, b, **args)


@pytest.mark.parametrize("s", [-1.0, math.inf, math.nan, 1e4, "2"])
def test_invalid_s(s: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="`s`"):
        sgd_h(s, 0.5, 1)


def test_variance_threshold_checks() -> None:
    with pytest.raises(InvalidArgumentError, match="`batch_size`"):
        sgd_variance_threshold(0)
    with pytest.raises(InvalidArgumentError, match="`dim`"):
        sgd_variance_threshold(1, dim=0)


@settings(max_examples=40)
@given(
    eta=st.floats(min_value=1e-6, max_value=50.0),
    b=st.integers(min_value=1, max_value=64),
    d=st.integers(min_value=1, max_value=64),
    sigma=st.floats(min_value=0.1, max_value=3.0),
)
def test_tail_index_never_crashes(eta: float, b: int, d: int, sigma: float) -> None:
    try:
        alpha = sgd_tail_index(eta, b, dim=d, sigma=sigma)
    except ValueError:
        return
    assert math.isfinite(alpha) and alpha > 0.0
