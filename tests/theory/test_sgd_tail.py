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
    hill_estimator,
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


def chi2_moment(k: int, j: int) -> float:
    """E X^j for X ~ chi2_k: k (k + 2) ... (k + 2j - 2)."""
    return float(np.prod([k + 2 * i for i in range(j)]))


def h4_closed_form(c: float, b: int, d: int) -> float:
    """E V^2, V = (1 - cX)^2 + c^2 X Y: expand and use E X^j, E Y, E Y^2 (X, Y independent)."""
    mx = [chi2_moment(b, j) for j in range(5)]
    e_1mcx_4 = sum(math.comb(4, j) * (-c) ** j * mx[j] for j in range(5))
    e_1mcx_2_x = mx[1] - 2 * c * mx[2] + c * c * mx[3]
    e_y, e_y2 = chi2_moment(d - 1, 1), chi2_moment(d - 1, 2)
    return e_1mcx_4 + 2 * c * c * e_1mcx_2_x * e_y + c**4 * mx[2] * e_y2


@pytest.mark.parametrize(("c", "b", "d"), [(0.1, 1, 2), (0.3, 2, 3), (0.05, 8, 20), (0.7, 1, 5)])
def test_h4_matches_closed_form_2d(c: float, b: int, d: int) -> None:
    # h(4) = E V^2 exercises the 2-D (T, B) quadrature; 1e-9 relative as above.
    exact = h4_closed_form(c, b, d)
    assert sgd_h(4.0, c * b, b, dim=d) == pytest.approx(exact, rel=1e-9)
    # negative control: a 1% error in c is far outside the tolerance
    assert h4_closed_form(1.01 * c, b, d) != pytest.approx(exact, rel=1e-6)


def mc_h(s: float, c: float, b: int, d: int, n: int, seed: int) -> tuple[float, float]:
    """Plain Monte Carlo of E[V^(s/2)] from chi-square draws, and its standard error."""
    rng = np.random.default_rng(seed)
    x = rng.chisquare(b, n)
    y = rng.chisquare(d - 1, n) if d > 1 else np.zeros(n)
    v = ((1 - c * x) ** 2 + c * c * x * y) ** (s / 2)
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(n))


@pytest.mark.parametrize(
    ("s", "c", "b", "d"),
    [(0.7, 0.4, 1, 1), (1.5, 0.2, 2, 3), (2.9, 0.1, 4, 2), (3.3, 0.05, 3, 10), (1.0, 0.6, 1, 2)],
)
def test_h_quadrature_matches_plain_monte_carlo(s: float, c: float, b: int, d: int) -> None:
    # 400k draws; |quadrature - MC| <= 4 standard errors (a false alarm has probability
    # ~6e-5 per case under the normal approximation, which holds since E V^s < inf).
    est, se = mc_h(s, c, b, d, 400_000, seed=20260 + b + d)
    quad = sgd_h(s, c * b, b, dim=d)
    assert abs(quad - est) <= 4.0 * se
    # negative controls: h with c off by 20%, and (for d > 1) with Y ~ chi2_d in place of
    # chi2_(d-1), i.e. the quadrature at d + 1, are rejected by the same rule
    assert abs(sgd_h(s, 1.2 * c * b, b, dim=d) - est) > 4.0 * se
    if d > 1:
        assert abs(sgd_h(s, c * b, b, dim=d + 1) - est) > 4.0 * se


@pytest.mark.parametrize(
    ("s", "eta", "b", "d", "sigma"), [(1.5, 0.5, 2, 3, 1.3), (3.0, 0.2, 4, 5, 1.0)]
)
def test_h_matches_random_matrices(s: float, eta: float, b: int, d: int, sigma: float) -> None:
    # The definition, not the representation: E ||M u||^s over random M = I - (eta/b)
    # sum_i a_i a_i^T, a_i ~ N(0, sigma^2 I_d), for a fixed unit vector u that is not a
    # coordinate vector (rotation invariance, docs/sgd_tail_index.md section 1).
    # 200k draws; |quadrature - MC| <= 4 standard errors (normal approximation).
    rng = np.random.default_rng(99 + d)
    n = 200_000
    u = np.arange(1.0, d + 1.0)
    u /= np.linalg.norm(u)
    a = sigma * rng.standard_normal((n, b, d))
    mu = u - (eta / b) * np.einsum("nbd,nb->nd", a, a @ u)
    vals = np.linalg.norm(mu, axis=1) ** s
    est, se = float(vals.mean()), float(vals.std(ddof=1) / math.sqrt(n))
    assert abs(sgd_h(s, eta, b, dim=d, sigma=sigma) - est) <= 4.0 * se
    # negative control: Y ~ chi2_(d-2) or chi2_d (an off-by-one in the dimension) is rejected
    assert abs(sgd_h(s, eta, b, dim=d - 1, sigma=sigma) - est) > 4.0 * se
    assert abs(sgd_h(s, eta, b, dim=d + 1, sigma=sigma) - est) > 4.0 * se


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
    # docs/theory.md, section 5: same eta/b, different alpha.
    a1 = sgd_tail_index(0.5, 1, dim=2)
    a2 = sgd_tail_index(1.0, 2, dim=2)
    assert abs(a1 - a2) > 0.1


def test_sigma_enters_through_eta_sigma_squared() -> None:
    assert sgd_tail_index(0.2, 2, dim=3, sigma=2.0) == pytest.approx(
        sgd_tail_index(0.8, 2, dim=3), rel=1e-9
    )


# ---------------------------------------------------------------------------------------
# No stationary law, and alpha beyond the resolved range


@pytest.mark.parametrize("c", [1e-250, 1e-8, 1e-4])
@pytest.mark.parametrize(("b", "d"), [(1, 1), (3, 4), (2, 30)])
def test_rho_small_step_series(c: float, b: int, d: int) -> None:
    # log V = z - z^2/2 + O(c^3), z = -2cX + c^2 (X^2 + XY), so
    # rho = -bc + (c^2 / 2) b (d - b - 3) + O(c^3): relative error O(c^2) (plus rounding).
    series = -b * c + 0.5 * c * c * b * (d - b - 3)
    got = sgd_lyapunov_exponent(c * b, b, dim=d)
    assert got == pytest.approx(series, rel=1e-12 + 1e3 * c * c)
    # negative control: dropping the c^2 term is detected at c = 1e-4 (unless it vanishes)
    if c == 1e-4 and d != b + 3:
        assert got != pytest.approx(-b * c, rel=1e-6)


def test_no_stationary_law() -> None:
    assert sgd_lyapunov_exponent(2.0, 2, dim=5) > 0.0
    with pytest.raises(NoStationaryLawError, match="no stationary law"):
        sgd_tail_index(2.0, 2, dim=5)
    with pytest.raises(ValueError, match="no stationary law"):
        sgd_tail_index(5.0, 1)


@pytest.mark.parametrize(("eta", "b", "d"), [(1e-4, 1, 1), (1e-40, 9, 103), (1e-300, 2, 2)])
def test_alpha_too_large_is_an_error(eta: float, b: int, d: int) -> None:
    # c <= 1e-4: alpha ~ 2/c, far beyond S_MAX = 1000; for tiny c, log h is below the
    # quadrature's resolution, which must give this error too (not a failed bracket).
    with pytest.raises(EstimationError, match="exceeds"):
        sgd_tail_index(eta, b, dim=d)


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


@settings(max_examples=25)
@given(
    s=st.floats(min_value=0.0, max_value=1000.0),
    eta=st.floats(min_value=1e-6, max_value=50.0),
    b=st.integers(min_value=1, max_value=64),
    d=st.integers(min_value=1, max_value=64),
    sigma=st.floats(min_value=0.1, max_value=3.0),
)
def test_no_input_crashes(s: float, eta: float, b: int, d: int, sigma: float) -> None:
    # Finite result or a ValueError (InvalidArgumentError, EstimationError or
    # NoStationaryLawError), never another exception, a warning (errors here) or NaN.
    try:
        log_h = sgd_h(s, eta, b, dim=d, sigma=sigma, log=True)
        assert math.isfinite(log_h)
    except ValueError:
        pass
    try:
        rho = sgd_lyapunov_exponent(eta, b, dim=d, sigma=sigma)
        assert math.isfinite(rho)
        alpha = sgd_tail_index(eta, b, dim=d, sigma=sigma)
    except ValueError:
        return
    assert math.isfinite(alpha) and alpha > 0.0
    assert rho < 0.0


# ---------------------------------------------------------------------------------------
# Agreement with a direct simulation of the recursion


def simulate_sgd(
    eta: float, b: int, d: int, *, n_chains: int, burn_in: int, n_keep: int, gap: int, seed: int
) -> np.ndarray:
    """First coordinate of online SGD iterates x_k = M_k x_{k-1} + q_k, many chains.

    Least squares with a_i ~ N(0, I_d) and y_i ~ N(0, 1) (x* = 0): x <- x - (eta/b)
    sum_i a_i (a_i^T x - y_i). After ``burn_in`` steps, ``n_keep`` snapshots ``gap`` steps
    apart are kept: a large value shrinks by e^(rho gap) ~ 1e-3 in ``gap`` = 20 steps, so
    the snapshots' tails are close to independent. One coordinate per chain, because the
    coordinates of a chain are large together.
    """
    rng = np.random.default_rng(seed)
    x = np.zeros((n_chains, d))
    out = []
    for k in range(burn_in + n_keep * gap):
        a = rng.standard_normal((n_chains, b, d))
        y = rng.standard_normal((n_chains, b))
        resid = np.einsum("nbd,nd->nb", a, x) - y
        x = x - (eta / b) * np.einsum("nbd,nb->nd", a, resid)
        if k >= burn_in and (k - burn_in) % gap == gap - 1:
            out.append(x[:, 0].copy())
    return np.concatenate(out)


# (eta, b, d): alpha = 2.904, 2.000 (the variance threshold 2b/(b+d+1)) and 1.358.
RECURSION_SETTINGS = [(0.5, 1, 1), (0.8, 2, 2), (1.1, 4, 3)]


def _check_recursion(eta: float, b: int, d: int, n_chains: int, k: int, tol: float) -> None:
    alpha = sgd_tail_index(eta, b, dim=d)
    assert 1.2 < alpha < 3.0
    x = simulate_sgd(eta, b, d, n_chains=n_chains, burn_in=100, n_keep=8, gap=20, seed=7 + d)
    est = hill_estimator(x, k=k).alpha
    assert abs(est - alpha) <= tol * alpha, (est, alpha)
    # negative control: the prediction at 0.75 eta (alpha >= 3.4 here) is rejected
    wrong = sgd_tail_index(0.75 * eta, b, dim=d)
    assert abs(est - wrong) > tol * wrong, (est, wrong)


@pytest.mark.parametrize(("eta", "b", "d"), RECURSION_SETTINGS)
def test_tail_index_matches_simulated_recursion(eta: float, b: int, d: int) -> None:
    # n = 100k iterates, Hill at k = 1000. Tolerance 15% of alpha: Hill's standard error
    # is alpha / sqrt(k) = 3.2%, and its bias at this n is about -5% in the 1-D setting
    # (over 30 seeds: mean -4.7%, sd 3.3%, range -12.1% to +2.1%; the other two settings
    # within +-4% over 6 seeds); 15% is that bias plus 3 standard deviations.
    _check_recursion(eta, b, d, n_chains=12_500, k=1000, tol=0.15)


@pytest.mark.slow
@pytest.mark.parametrize(("eta", "b", "d"), RECURSION_SETTINGS)
def test_tail_index_matches_simulated_recursion_large(eta: float, b: int, d: int) -> None:
    # n = 400k, k = 4000: standard error 1.6%; 10% = the bias (up to 5%) + 3 standard errors.
    _check_recursion(eta, b, d, n_chains=50_000, k=4000, tol=0.10)


# ---------------------------------------------------------------------------------------
# The domain: what the quadrature cannot compute is refused, naming the arguments.


def test_sgd_tail_index_refuses_degrees_beyond_the_resolved_range() -> None:
    # Before the fix: "math domain error" (ValueError from math.log, naming nothing).
    with pytest.raises(InvalidArgumentError, match="`batch_size` \\+ `dim` - 1"):
        sgd_tail_index(8.48e307, 2**62, sigma=1e-300)
    with pytest.raises(InvalidArgumentError, match="`batch_size` \\+ `dim` - 1"):
        sgd_h(2.0, 1.0, 1, dim=2_000_001)
    # At the edge of the domain, b + d - 1 = 2e6, log h(2) keeps its closed form; 1e-8
    # relative to max(1, |log h|) is the accuracy the docstring promises.
    b, d = 1_000_000, 1_000_001
    eta = 0.45 * 2.0 * b / (b + d + 1)
    got = sgd_h(2.0, eta, b, dim=d, log=True)
    assert got == pytest.approx(math.log(h2_closed_form(eta, b, d)), abs=1e-8)


@pytest.mark.parametrize("fn", [sgd_tail_index, sgd_lyapunov_exponent])
def test_sgd_refuses_c_whose_reciprocal_overflows(fn: Any) -> None:
    # c = eta sigma^2 / b = 2.5e-311 (subnormal): 1 / c is inf. Before the fix the same
    # class of input ended in "math domain error".
    with pytest.raises(InvalidArgumentError, match=r"must be at least 5\.56e-309"):
        fn(1e-300, 4, sigma=1e-5)
    # control: just inside the domain the answer is the documented one (rho ~ -b c)
    assert sgd_lyapunov_exponent(5.6e-309, 1) == pytest.approx(-5.6e-309, rel=1e-6)
