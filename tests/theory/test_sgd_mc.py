"""Tests of the particle Monte Carlo estimates of h(s), rho and alpha (theory/_sgd_mc.py).

Independent references: the closed form h(2) = 1 - 2bc + b(b + d + 1)c^2 and the
variance threshold (isotropic data), the exact h(2) for any covariance (the spectral radius
of X -> E[M X M] restricted to diagonal matrices, docs/sgd_tail_index.md section 4), and the
quadrature of theory/_sgd_h.py (itself checked against closed forms and plain Monte Carlo
in test_sgd_tail.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from heavytail.theory import (
    EstimationError,
    InvalidArgumentError,
    NoStationaryLawError,
    SGDMonteCarloEstimate,
    sgd_log_h_monte_carlo,
    sgd_lyapunov_exponent,
    sgd_lyapunov_exponent_monte_carlo,
    sgd_tail_index,
    sgd_tail_index_monte_carlo,
    sgd_variance_threshold,
)

# Small runs for the default suite: 10 replicates of 1000 particles, 100 steps after 30.
FAST: dict[str, Any] = {"n_particles": 1000, "n_steps": 100, "burn_in": 30, "n_replicates": 10}


def h2_exact(eta: float, b: int, lam: np.ndarray) -> float:
    """h(2) for a_i ~ N(0, diag(lam)): the top eigenvalue of
    A = diag((1 - cb lam)^2 + c^2 b lam^2) + c^2 b lam lam^T, c = eta / b
    (docs/sgd_tail_index.md, section 4)."""
    c = eta / b
    a = np.diag((1 - c * b * lam) ** 2 + c * c * b * lam**2) + c * c * b * np.outer(lam, lam)
    return float(np.linalg.eigvalsh(a).max())


def agrees(est: SGDMonteCarloEstimate, ref: float) -> bool:
    """|estimate - ref| within the 99.9% t interval of the replicates (t_{0.9995, 9} = 4.78
    for 10 replicates): a false alarm has probability 1e-3 if the bias is negligible."""
    r = len(est.replicates)
    q = float(stats.t.ppf(0.9995, r - 1))
    return abs(est.estimate - ref) <= q * est.se


def test_h2_exact_reduces_to_isotropic_closed_form() -> None:
    for eta, b, d in [(0.5, 2, 3), (0.3, 1, 1), (1.0, 4, 7)]:
        c = eta / b
        assert h2_exact(eta, b, np.ones(d)) == pytest.approx(
            1 - 2 * b * c + b * (b + d + 1) * c * c, rel=1e-12
        )


def test_log_h_matches_exact_h2_anisotropic() -> None:
    lam = np.array([2.0, 0.5, 0.5])
    est = sgd_log_h_monte_carlo(2.0, 0.4, 2, lam, rng=5, **FAST)
    assert est.quantity == "log h(s)"
    assert agrees(est, math.log(h2_exact(0.4, 2, lam)))
    # negative control: the isotropic covariance with the same trace has another h(2),
    # which the same rule rejects
    assert not agrees(est, math.log(h2_exact(0.4, 2, np.ones(3))))


def test_log_h_full_matrix_equals_its_eigenvalues() -> None:
    # Only the eigenvalues matter: a rotated covariance gives the same numbers.
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))
    lam = np.array([2.0, 0.5, 0.5])
    cov = q @ np.diag(lam) @ q.T
    kw: dict[str, Any] = {"n_particles": 200, "n_steps": 20, "burn_in": 5, "n_replicates": 2}
    a = sgd_log_h_monte_carlo(2.5, 0.4, 2, cov, rng=1, **kw)
    b = sgd_log_h_monte_carlo(2.5, 0.4, 2, lam, rng=1, **kw)
    np.testing.assert_allclose(a.replicates, b.replicates, rtol=1e-9)


def test_rho_matches_quadrature() -> None:
    est = sgd_lyapunov_exponent_monte_carlo(0.8, 4, np.ones(3), rng=7, **FAST)
    exact = sgd_lyapunov_exponent(0.8, 4, dim=3)
    assert agrees(est, exact)
    assert not agrees(est, sgd_lyapunov_exponent(0.85, 4, dim=3))  # negative control


def test_alpha_matches_variance_threshold() -> None:
    # At eta = 2b / (b + d + 1) the tail index is exactly 2 (closed form of h(2)).
    eta = sgd_variance_threshold(2, dim=2)
    est = sgd_tail_index_monte_carlo(eta, 2, np.ones(2), rng=11, **FAST)
    assert est.quantity == "alpha"
    assert agrees(est, 2.0)
    # negative control: the quadrature's alpha at 1.1 eta (1.7) is rejected
    assert not agrees(est, sgd_tail_index(1.1 * eta, 2, dim=2))


@pytest.mark.slow
def test_alpha_matches_quadrature_and_anisotropy_changes_it() -> None:
    iso = sgd_tail_index_monte_carlo(0.8, 4, np.ones(3), rng=6, **FAST)
    exact = sgd_tail_index(0.8, 4, dim=3)
    assert agrees(iso, exact)
    # negative control: an anisotropic covariance with the same trace has a measurably
    # different alpha (about 1.13 against 3.76)
    aniso = sgd_tail_index_monte_carlo(0.8, 4, np.array([2.0, 0.5, 0.5]), rng=6, **FAST)
    assert not agrees(aniso, exact)
    assert aniso.ci[1] < iso.ci[0]


def test_same_seed_same_numbers() -> None:
    kw: dict[str, Any] = {"n_particles": 100, "n_steps": 10, "burn_in": 2, "n_replicates": 3}
    a = sgd_log_h_monte_carlo(1.5, 0.5, 1, [1.0, 2.0], rng=3, **kw)
    b = sgd_log_h_monte_carlo(1.5, 0.5, 1, [1.0, 2.0], rng=3, **kw)
    c = sgd_log_h_monte_carlo(1.5, 0.5, 1, [1.0, 2.0], rng=4, **kw)
    assert a.replicates == b.replicates
    assert a.replicates != c.replicates
    assert a.ci[0] < a.estimate < a.ci[1]
    assert a.settings["n_particles"] == 100


def test_no_stationary_law_and_out_of_range() -> None:
    kw: dict[str, Any] = {"n_particles": 200, "n_steps": 30, "burn_in": 10, "n_replicates": 2}
    with pytest.raises(NoStationaryLawError, match="no stationary law"):
        sgd_tail_index_monte_carlo(3.0, 1, [1.0], rng=0, **kw)
    # eta = 0.02 in 1-D: alpha ~ 100, beyond the largest s the method resolves
    with pytest.raises(EstimationError, match="above the range"):
        sgd_tail_index_monte_carlo(0.02, 1, [1.0], rng=0, **kw)


@pytest.mark.parametrize(
    ("cov", "match"),
    [
        ([[1.0, 0.5], [0.0, 1.0]], "symmetric"),
        ([[1.0, 2.0], [2.0, 1.0]], "positive definite"),
        ([0.0, 1.0], "positive definite"),
        ([1.0, np.nan], "finite"),
        (np.ones((2, 3)), "square"),
        (np.ones((2, 2, 2)), "1-D"),
        ([], "non-empty"),
        (["a"], "real"),
    ],
)
def test_bad_cov(cov: Any, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match="`cov`") as info:
        sgd_log_h_monte_carlo(1.0, 0.5, 1, cov, rng=0)
    assert match in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"eta": 0.0}, "eta"),
        ({"batch_size": 0}, "batch_size"),
        ({"n_particles": 1}, "n_particles"),
        ({"n_steps": 0}, "n_steps"),
        ({"burn_in": -1}, "burn_in"),
        ({"n_replicates": 1}, "n_replicates"),
        ({"rng": -1}, "rng"),
        ({"rng": "seed"}, "rng"),
    ],
)
def test_bad_arguments_named(kwargs: dict[str, Any], name: str) -> None:
    args: dict[str, Any] = {"eta": 0.5, "batch_size": 1, "cov": [1.0], "rng": 0}
    args.update(kwargs)
    for fn in (sgd_tail_index_monte_carlo, sgd_lyapunov_exponent_monte_carlo):
        with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
            fn(**args)
    with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
        sgd_log_h_monte_carlo(1.0, **args)


@pytest.mark.parametrize("s", [-0.1, 20.5, math.nan, math.inf])
def test_bad_s(s: float) -> None:
    with pytest.raises(InvalidArgumentError, match="`s`"):
        sgd_log_h_monte_carlo(s, 0.5, 1, [1.0], rng=0)


@settings(max_examples=25)
@given(
    s=st.floats(min_value=0.0, max_value=20.0),
    eta=st.floats(min_value=1e-6, max_value=1e3),
    b=st.integers(min_value=1, max_value=8),
    lam=st.lists(st.floats(min_value=1e-3, max_value=1e3), min_size=1, max_size=4),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_monte_carlo_never_crashes(
    s: float, eta: float, b: int, lam: list[float], seed: int
) -> None:
    kw: dict[str, Any] = {"n_particles": 20, "n_steps": 5, "burn_in": 1, "n_replicates": 2}
    for call in (
        lambda: sgd_log_h_monte_carlo(s, eta, b, lam, rng=seed, **kw),
        lambda: sgd_tail_index_monte_carlo(eta, b, lam, rng=seed, **kw),
    ):
        try:
            est = call()
        except ValueError:
            continue
        assert math.isfinite(est.estimate) and math.isfinite(est.se)
