"""Steps 1 and 2 of docs/generalization.md: the sup-norm pruning error and the loss transfer.

Step 1: sup_{||x|| <= B} |f(x) - g(x)| <= eps_k = L B (1/n) sum_dropped |a_i| ||w_i||, where g
keeps the k units of largest path mass and the constant phi(0) (1/n) sum_i a_i. Checked on
random networks with inputs chosen adversarially (projected gradient ascent on |f - g|, with
analytic gradients), for each activation. The negative controls: on networks whose dropped
units are aligned the ascent reaches at least 95% of eps_k, so a bound 5% smaller would be
violated (the search has the power to find the supremum); and for the sigmoid, deleting the
dropped units without keeping the constant breaks the bound.

Step 2: a Lambda-Lipschitz loss moves by at most Lambda eps_k on every sample, so the training
and the population loss each move by at most Lambda eps_k (2 Lambda eps_k on the gap).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from heavytail.theory import InvalidArgumentError, bounded_loss, compression_bound, network_output
from heavytail.theory._generalization_prune import (
    ACTIVATIONS,
    activation_values,
    dropped_path_mass,
    path_mass,
    pruned_output,
    unit_order,
)

FloatArray = npt.NDArray[np.float64]
PHIS = tuple(ACTIVATIONS)

# Floating slack on an inequality between two computed sums of at most a few hundred terms
# of size <= max path mass * B: a relative 1e-12 (the rounding of such sums is ~1e-15
# relative, three orders below); it cannot hide a wrong constant, which moves the bound by
# a factor (L = 1/4 against 1) or an additive phi(0) term.
REL_SLACK = 1e-12


def _derivative(t: FloatArray, phi: str) -> FloatArray:
    if phi == "tanh":
        return 1.0 - np.tanh(t) ** 2
    if phi == "relu":
        return (t > 0.0).astype(np.float64)
    if phi == "sigmoid":
        s = activation_values(t, "sigmoid")
        return s * (1.0 - s)
    return np.ones_like(t)


def _difference(x: FloatArray, w_d: FloatArray, a_d: FloatArray, n: int, phi: str) -> FloatArray:
    """f(x) - g(x) = (1/n) sum_dropped a_i (phi(w_i . x) - phi(0)), for rows x."""
    t = x @ w_d.T
    return (activation_values(t, phi) - ACTIVATIONS[phi].at_zero) @ a_d / n


def adversarial_sup(
    W: FloatArray,
    a: FloatArray,
    k: int,
    phi: str,
    radius: float,
    rng: np.random.Generator,
    *,
    restarts: int = 48,
    steps: int = 150,
) -> float:
    """max |f - g| found by projected gradient ascent over the ball ||x|| <= radius.

    Starts: random points of the ball, the points +-radius w_i / ||w_i|| of the dropped
    units, and +-radius times the direction of sum_dropped a_i w_i. Each step moves every
    start by a normalised gradient step of length radius * 0.2 * 0.98^t in the direction
    that increases |f - g|, then projects back onto the ball; the largest |f - g| met at
    any iterate is returned.
    """
    n, d = W.shape
    drop = unit_order(path_mass(W, a))[k:]
    w_d, a_d = W[drop], a[drop]
    starts = [rng.standard_normal((restarts, d))]
    norms = np.linalg.norm(w_d, axis=1)
    live = norms > 0
    if live.any():
        u = w_d[live] / norms[live, None]
        starts += [u, -u]
    s = a_d @ w_d
    if np.linalg.norm(s) > 0:
        starts.append(np.vstack([s, -s]) / np.linalg.norm(s))
    x = np.vstack(starts)
    x *= radius / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), radius)
    x[:restarts] *= rng.uniform(size=(restarts, 1)) ** (1.0 / d)
    best = float(np.max(np.abs(_difference(x, w_d, a_d, n, phi))))
    for step in range(steps):
        t = x @ w_d.T
        h = (activation_values(t, phi) - ACTIVATIONS[phi].at_zero) @ a_d / n
        grad = (_derivative(t, phi) * a_d) @ w_d / n
        gnorm = np.linalg.norm(grad, axis=1, keepdims=True)
        direction = np.sign(h)[:, None] * grad / np.where(gnorm > 0, gnorm, 1.0)
        x = x + radius * 0.2 * 0.98**step * direction
        x *= radius / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), radius)
        best = max(best, float(np.max(np.abs(_difference(x, w_d, a_d, n, phi)))))
    return best


def _eps(W: FloatArray, a: FloatArray, k: int, phi: str, radius: float) -> float:
    n = W.shape[0]
    v = path_mass(W, a)
    dropped = float(dropped_path_mass(v, np.array([k]))[0])
    return ACTIVATIONS[phi].lipschitz * radius * dropped / n


def _random_network(rng: np.random.Generator, n: int, d: int) -> tuple[FloatArray, FloatArray]:
    """Heavy-tailed path masses: Student-t(1.5) second layer, rows of random scale."""
    W = rng.standard_normal((n, d)) * rng.standard_t(2.0, size=(n, 1)) / np.sqrt(d)
    a = rng.standard_t(1.5, size=n)
    return W, a


@pytest.mark.parametrize("phi", PHIS)
def test_sup_norm_bound_on_random_networks(phi: str) -> None:
    rng = np.random.default_rng(20240613)
    n, d, radius = 24, 3, np.sqrt(3.0)
    for _ in range(4):
        W, a = _random_network(rng, n, d)
        for k in (1, 6, 12, 23):
            eps = _eps(W, a, k, phi, radius)
            found = adversarial_sup(W, a, k, phi, radius, rng)
            assert found <= eps * (1.0 + REL_SLACK), (phi, k, found, eps)


@pytest.mark.parametrize("phi", PHIS)
def test_sup_norm_search_reaches_the_bound_on_aligned_units(phi: str) -> None:
    """Negative control: the ascent finds >= 95% of eps_k, so a 5% smaller bound fails.

    The dropped units point the same way with positive a_i and small norms
    (||w_i|| B <= 0.02), where phi~(t) = L t up to a relative 1e-4 (tanh, sigmoid) or
    exactly (relu, identity): the supremum is then within 1e-3 of eps_k, reached at
    x = B u.
    """
    rng = np.random.default_rng(7)
    n, d, k, radius = 16, 4, 4, 2.0
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    W = np.empty((n, d))
    a = np.empty(n)
    W[:k] = rng.standard_normal((k, d))  # kept: large path masses
    a[:k] = 10.0 + rng.uniform(size=k)
    W[k:] = np.outer(rng.uniform(0.001, 0.01, size=n - k), u)  # dropped: aligned, small
    a[k:] = rng.uniform(0.5, 1.0, size=n - k)
    eps = _eps(W, a, k, phi, radius)
    found = adversarial_sup(W, a, k, phi, radius, rng)
    assert found <= eps * (1.0 + REL_SLACK)
    assert found >= 0.95 * eps, (phi, found, eps)


@pytest.mark.parametrize("phi", PHIS)
def test_network_output_in_row_chunks_is_the_mean_field_formula(phi: str) -> None:
    """f(x) = (1/n) sum_i a_i phi(w_i . x): 64 x 64 weights make chunks of 64 rows, so 200
    rows take four chunks (the last one short); each row is the formula's, to rounding."""
    rng = np.random.default_rng(23)
    n, d = 64, 64
    W, a = _random_network(rng, n, d)
    X = rng.standard_normal((200, d)) / np.sqrt(d)
    expected = np.mean(a * activation_values(X @ W.T, phi), axis=1)
    f = network_output(W, a, X, phi)
    assert f.shape == (200,)
    np.testing.assert_allclose(f, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(
        network_output(W, None, X, phi), network_output(W, np.ones(n), X, phi)
    )
    # each chunk's rows are the rows of the whole product: the last chunk alone agrees
    np.testing.assert_allclose(network_output(W, a, X[192:], phi), f[192:], rtol=1e-14, atol=0)


def test_network_output_refuses_bad_input() -> None:
    W, a = _random_network(np.random.default_rng(0), 5, 3)
    with pytest.raises(InvalidArgumentError, match="`X` must have 3 columns"):
        network_output(W, a, np.ones((4, 2)), "tanh")
    with pytest.raises(InvalidArgumentError, match="`phi` must be one of"):
        network_output(W, a, np.ones((4, 3)), "softplus")
    with pytest.raises(InvalidArgumentError, match="`a` must have one entry per row"):
        network_output(W, a[:4], np.ones((4, 3)), "tanh")


def test_pruned_output_matches_the_difference_formula() -> None:
    """g computed by pruned_output equals f minus the dropped units' phi~ terms."""
    rng = np.random.default_rng(3)
    n, d, k = 20, 3, 7
    W, a = _random_network(rng, n, d)
    X = rng.standard_normal((50, d))
    for phi in PHIS:
        drop = unit_order(path_mass(W, a))[k:]
        expected = network_output(W, a, X, phi) - _difference(X, W[drop], a[drop], n, phi)
        # Same sums in another order: agreement to 1e-12 of the largest term's size.
        scale = float(np.max(np.abs(a))) * 10.0
        np.testing.assert_allclose(pruned_output(W, a, X, k, phi), expected, atol=1e-12 * scale)


def test_sigmoid_needs_the_constant() -> None:
    """Negative control: deleting the sigmoid units outright breaks the bound.

    The dropped units have w_i = 0, so v_i = 0 and eps_k = 0, yet each still adds
    a_i phi(0) / n = a_i / (2n) to f. With the constant kept, g = f exactly.
    """
    rng = np.random.default_rng(11)
    n, d, k = 10, 2, 4
    W = rng.standard_normal((n, d))
    W[k:] = 0.0
    a = rng.uniform(1.0, 2.0, size=n)
    X = rng.standard_normal((30, d))
    assert _eps(W, a, k, "sigmoid", 3.0) == 0.0
    f = network_output(W, a, X, "sigmoid")
    g = pruned_output(W, a, X, k, "sigmoid")
    np.testing.assert_allclose(g, f, rtol=1e-14)  # rounding only: the same terms, summed
    naive = network_output(W[:k], a[:k], X, "sigmoid") * k / n  # dropped units deleted
    gap = float(np.max(np.abs(f - naive)))
    assert gap == pytest.approx(float(np.sum(a[k:])) / (2 * n), rel=1e-12)
    assert gap > 0.1  # > eps_k = 0 by far: the bound needs the constant


def test_eps_is_the_l1_best_k_term_error() -> None:
    """eps_k n / (L B) is the sum of the n - k smallest path masses (brute force)."""
    rng = np.random.default_rng(5)
    W, a = _random_network(rng, 40, 5)
    v = np.abs(a) * np.linalg.norm(W, axis=1)
    ks = np.arange(1, 41)
    brute = np.array([np.sort(v)[: 40 - k].sum() for k in ks])
    np.testing.assert_allclose(dropped_path_mass(v, ks), brute, rtol=1e-13, atol=0)
    res = compression_bound(
        W, a, input_radius=2.0, m=1000, delta=0.1, margin=0.5, phi="sigmoid", kappas=ks / 40
    )
    np.testing.assert_allclose(res.eps_curve, 0.25 * 2.0 * brute / 40, rtol=1e-13)


@pytest.mark.parametrize("loss", ["ramp", "clipped_squared"])
def test_loss_moves_by_at_most_lambda_eps(loss: str) -> None:
    """Step 2: |l(f(x), y) - l(g(x), y)| <= Lambda eps_k on every sample, so the empirical
    losses differ by <= Lambda eps_k; the loss constants are those the bound uses."""
    rng = np.random.default_rng(17)
    n, d, k, radius = 30, 3, 5, np.sqrt(3.0)
    kwargs: dict[str, Any] = {"margin": 0.2} if loss == "ramp" else {"clip": 2.0}
    lam = 1.0 / 0.2 if loss == "ramp" else 2.0 * np.sqrt(2.0)
    for phi in PHIS:
        W, a = _random_network(rng, n, d)
        x = rng.standard_normal((2000, d))
        x *= radius / np.linalg.norm(x, axis=1, keepdims=True)
        y = rng.choice([-1.0, 1.0], size=2000) if loss == "ramp" else rng.standard_normal(2000)
        lf = bounded_loss(network_output(W, a, x, phi), y, loss=loss, **kwargs)
        lg = bounded_loss(pruned_output(W, a, x, k, phi), y, loss=loss, **kwargs)
        eps = _eps(W, a, k, phi, radius)
        assert np.max(np.abs(lf - lg)) <= lam * eps * (1.0 + REL_SLACK)
        assert abs(lf.mean() - lg.mean()) <= lam * eps * (1.0 + REL_SLACK)
        res = compression_bound(
            W, a, input_radius=radius, m=10, delta=0.5, loss=loss, phi=phi, **kwargs
        )
        assert res.loss_lipschitz == pytest.approx(lam, rel=1e-15)


def test_loss_lipschitz_constants_are_attained() -> None:
    """Negative control for step 2: on the ramp's slope and the square's edge the loss moves
    by Lambda times the output change (up to 1e-9), so Lambda / 2 would be violated."""
    dy = 1e-6
    ramp = bounded_loss([0.05, 0.05 + dy], [1, 1], margin=0.2)
    assert abs(ramp[1] - ramp[0]) == pytest.approx(dy / 0.2, rel=1e-6)  # float rounding of dy
    sq = bounded_loss(
        [np.sqrt(2.0) - 2 * dy, np.sqrt(2.0) - dy], [0.0, 0.0], loss="clipped_squared", clip=2.0
    )
    assert abs(sq[1] - sq[0]) == pytest.approx(2 * np.sqrt(2.0) * dy, rel=1e-5)


def test_bounded_loss_values() -> None:
    # Hand-computed: ramp = clip(1 - y yhat / gamma, 0, 1); square clipped at c.
    np.testing.assert_array_equal(
        bounded_loss([2.0, 0.05, -1.0, -0.05], [1, 1, 1, -1], margin=0.1), [0.0, 0.5, 1.0, 0.5]
    )
    np.testing.assert_array_equal(
        bounded_loss([0.5, 3.0, -1.0], [0.0, 0.0, 0.0], loss="clipped_squared", clip=2.0),
        [0.25, 2.0, 1.0],
    )
