r"""The simulated stationary law against theory: its variance and its tail index.

Stationary variance (online mode), derived here. With e_k = x_k - x*, the recursion is
e_k = M_k e_{k-1} + q_k, M_k = I - (eta/b) sum_i a_i a_i^T, q_k = (eta/b) noise_std
sum_i a_i z_i, with a_i ~ N(0, sigma^2 I_d) and z_i ~ N(0, 1) fresh at every step and
independent of e_{k-1}. So E q_k = 0, E[M_k^T q_k] = 0 (z has mean 0 given the a's),
E q q^T = (eta/b)^2 noise_std^2 b sigma^2 I, and by rotation invariance the stationary
covariance is v I with v E[M^T M] in its place: E[M^T M] = h(2) I, where
h(2) = 1 - 2bc + b(b + d + 1)c^2 and c = eta sigma^2 / b (docs/theory.md, section 5; it uses
E W = b sigma^2 I and E W^2 = b(b + d + 1) sigma^4 I for the Wishart W = sum a_i a_i^T).
Then v = h(2) v + (eta/b)^2 noise_std^2 b sigma^2, i.e.

    v = (eta^2 noise_std^2 sigma^2 / b) / (1 - h(2))
      = eta noise_std^2 / (2b - (b + d + 1) eta sigma^2),

finite iff h(2) < 1, i.e. eta sigma^2 < 2b / (b + d + 1). At d = 1 this is
eta noise_std^2 / (2b - (b + 2) eta sigma^2). The stationary mean is x* (E e_k =
(1 - eta sigma^2)^k e_0 -> 0). The tests check h(2) against theory's quadrature
``sgd_h(2, ...)`` and v against the simulation.

Tail index: Gürbüzbalaban, Şimşekli & Zhu (ICML 2021), Thm 2; ``sgd_tail_index``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from heavytail.simulate import sgd_linear_regression
from heavytail.theory import (
    hill_estimator,
    sgd_h,
    sgd_lyapunov_exponent,
    sgd_tail_index,
)


def stationary_variance(eta: float, b: int, d: int, sigma: float, noise_std: float) -> float:
    """v above: the stationary variance of each coordinate of the online iterate."""
    return eta * noise_std**2 / (2 * b - (b + d + 1) * eta * sigma**2)


def additive_noise_variance(eta: float, b: int, sigma: float, noise_std: float) -> float:
    """The wrong model of the negative control: M_k replaced by its mean (1 - eta sigma^2) I
    (the multiplicative noise ignored), v = E q^2 / (1 - (1 - eta sigma^2)^2)."""
    return eta * noise_std**2 / (b * (2.0 - eta * sigma**2))


# z-score threshold of the variance checks: a correct model fails with probability about
# 6e-5 (normal approximation, fine at 2e4 or more chains when the fourth moment is finite:
# the settings below have tail index > 10, checked).
Z_MAX = 4.0

VARIANCE_CASES: list[dict[str, Any]] = [
    # the 1-D fast path: v = 0.1 / 1.7 = 0.0588; additive model 0.0526 (11% lower)
    dict(eta=0.1, b=1, d=1, sigma=1.0, noise_std=1.0, x_star=[2.0], n_chains=100_000),
    # the general path: c = 0.135, v = 0.03 / 2.38 = 0.0126; additive model 0.0087
    dict(eta=0.12, b=2, d=3, sigma=1.5, noise_std=0.5, x_star=[1.0, -1.0, 0.5], n_chains=20_000),
]


@pytest.mark.parametrize("case", VARIANCE_CASES, ids=["d1-b1", "d3-b2"])
def test_stationary_variance(case: dict[str, Any]) -> None:
    eta, b, d = float(case["eta"]), int(case["b"]), int(case["d"])
    sigma, noise = float(case["sigma"]), float(case["noise_std"])
    c = eta * sigma**2 / b
    h2 = 1.0 - 2 * b * c + b * (b + d + 1) * c**2
    assert sgd_h(2.0, eta, b, dim=d, sigma=sigma) == pytest.approx(h2, rel=1e-9)
    assert sgd_tail_index(eta, b, dim=d, sigma=sigma) > 10.0  # fourth moments finite
    # 300 steps: E|e_k|^2 approaches v like h(2)^k < 0.84^300 = 1e-23, so no bias
    run = sgd_linear_regression(
        eta, b, dim=d, sigma=sigma, noise_std=noise, x_star=case["x_star"],
        n_chains=int(case["n_chains"]), n_steps=300, rng=2024,
    )  # fmt: skip
    e = run.iterates - np.asarray(case["x_star"])
    # per chain, the mean square over coordinates: independent across chains
    sq = np.mean(e**2, axis=1)
    v_hat, se = float(sq.mean()), float(sq.std(ddof=1) / math.sqrt(sq.size))
    v = stationary_variance(eta, b, d, sigma, noise)
    assert abs(v_hat - v) / se < Z_MAX, (v_hat, v, se)
    # the mean is x*: per coordinate, z-scores against sqrt(v / n)
    z_mean = e.mean(axis=0) / math.sqrt(v / e.shape[0])
    assert np.all(np.abs(z_mean) < Z_MAX), z_mean
    # negative control: the additive-noise model is rejected by the same check
    v_wrong = additive_noise_variance(eta, b, sigma, noise)
    assert abs(v_hat - v_wrong) / se > Z_MAX, (v_hat, v_wrong, se)


# Tail index: Hill's estimate on the magnitudes |x| of the stationary iterates (their
# norm at dim > 1: every direction has the same index, and the norm too), k = 2% of the
# chains (2000 or 1000 exceedances: standard error alpha / sqrt(k), 2.2-3.2%). Allowed
# relative error 10%: 3-4.5 standard errors, and room for Hill's bias on a Kesten tail,
# P(|x| > t) = C t^-alpha (1 + o(1)). Each setting has a negative control: the index a
# wrong model predicts, at least 25% away, must be rejected by the same check.
REL_TOL = 0.10

TAIL_CASES = [
    # (eta, b, dim, n_chains, n_steps, wrong model, its eta, b, dim)
    # 1-D, b = 1: alpha = 1.09, rho = -0.42. Wrong: batch size 2 (alpha = 2).
    (1.0, 1, 1, 100_000, 300, (1.0, 2, 1)),
    # 1-D, b = 5: alpha = 1.77, rho = -0.80. Wrong: alpha a function of eta / b alone,
    # i.e. the b = 1 setting with the same eta / b = 0.3 (alpha = 5.3).
    (1.5, 5, 1, 50_000, 200, (0.3, 1, 1)),
    # 2-D, b = 4 (the general path): alpha = 1.73, rho = -0.38. Wrong: the dimension
    # ignored, d = 1 (alpha = 2.49).
    (1.2, 4, 2, 50_000, 300, (1.2, 4, 1)),
]


def _tail_check(alpha_hat: float, alpha: float) -> bool:
    return abs(alpha_hat / alpha - 1.0) < REL_TOL


@pytest.mark.parametrize(
    ("eta", "b", "d", "n_chains", "n_steps", "wrong"),
    TAIL_CASES,
    ids=["d1-b1", "d1-b5", "d2-b4"],
)
def test_tail_index_matches_theory(
    eta: float, b: int, d: int, n_chains: int, n_steps: int, wrong: tuple[float, int, int]
) -> None:
    alpha = sgd_tail_index(eta, b, dim=d)
    rho = sgd_lyapunov_exponent(eta, b, dim=d)
    # burn-in: n_steps |rho| >= 100 e-folds of forgetting the start
    assert n_steps * abs(rho) >= 100
    run = sgd_linear_regression(eta, b, dim=d, n_chains=n_chains, n_steps=n_steps, rng=77)
    assert run.n_diverged == 0
    mags = np.linalg.norm(run.iterates, axis=1)
    est = hill_estimator(mags, k=n_chains // 50)
    assert _tail_check(est.alpha, alpha), (est.alpha, alpha)
    alpha_wrong = sgd_tail_index(wrong[0], wrong[1], dim=wrong[2])
    assert abs(alpha_wrong / alpha - 1.0) > 0.25
    assert not _tail_check(est.alpha, alpha_wrong), (est.alpha, alpha_wrong)
