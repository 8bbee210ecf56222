"""The whole bound of docs/generalization.md, checked as a frequency over training sets.

Setting, small enough to compute the population loss exactly: inputs uniform on the circle
of radius B = sqrt(2) (d = 2), labels y in {-1, +1} with P(y = 1 | x) = sigmoid(t(x)) for
a fixed teacher t, m = 1000 training samples. The network has n = 32 tanh units: 8 trained
by full-batch gradient descent on the logistic loss (mean-field steps), and 24 of path mass
about 1e-6 that stay at their random start, so that pruning to k = 8 costs almost nothing
and the bound can use it. Margin gamma = 0.1 and the kappa grid are fixed in advance.

For each of R = 100 independent training sets the population ramp loss L_D(f) is computed
by quadrature over the circle (2^14 nodes, exact expectation over y), and compared with the
bound L_S(f) + gap_bound at delta = 0.1. The bound must fail in at most
binom.ppf(0.999, R, delta) = 20 training sets (the count of failures of a bound valid at
level delta exceeds it with probability < 0.001), and it must be non-vacuous (value < 1) in
most of them, or the check could not fail. Negative control: the same bound with its cover
and complexity terms removed, L_S(f) + 2 Lambda eps, fails in more training sets than that.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats

from heavytail.theory import bounded_loss, compression_bound

FloatArray = npt.NDArray[np.float64]

D = 2
B = float(np.sqrt(D))
N_UNITS = 32
N_TRAINED = 8
M = 1000
REPS = 100
DELTA = 0.1
GAMMA = 0.1
STEPS = 200
ETA = 1.0
QUAD_NODES = 2**14


def _sigmoid(z: FloatArray) -> FloatArray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _teacher(x: FloatArray) -> FloatArray:
    return 3.0 * np.tanh(2.0 * x[..., 0]) * np.tanh(2.0 * x[..., 1]) + 1.5 * np.tanh(
        x[..., 0] - x[..., 1]
    )


def _circle(theta: FloatArray) -> FloatArray:
    return B * np.stack([np.cos(theta), np.sin(theta)], axis=-1)


def _train(rng: np.random.Generator) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """R training sets and the networks trained on them: X (R, m, d), y, W (R, n, d), a."""
    x = _circle(rng.uniform(0.0, 2.0 * np.pi, size=(REPS, M)))
    y = np.where(rng.uniform(size=(REPS, M)) < _sigmoid(_teacher(x)), 1.0, -1.0)
    W = np.concatenate(
        [
            rng.standard_normal((REPS, N_TRAINED, D)),
            1e-3 * rng.standard_normal((REPS, N_UNITS - N_TRAINED, D)),
        ],
        axis=1,
    )
    a = np.concatenate(
        [
            rng.standard_normal((REPS, N_TRAINED)),
            1e-3 * rng.standard_normal((REPS, N_UNITS - N_TRAINED)),
        ],
        axis=1,
    )
    frozen = np.tanh(x @ W[:, N_TRAINED:].transpose(0, 2, 1)) @ a[:, N_TRAINED:, None]
    for _ in range(STEPS):
        h = np.tanh(x @ W[:, :N_TRAINED].transpose(0, 2, 1))  # (R, m, n trained)
        f = ((h @ a[:, :N_TRAINED, None]) + frozen)[..., 0] / N_UNITS
        g = (-y * _sigmoid(-y * f))[..., None]  # d(logistic loss)/df per sample
        # Mean-field step: each unit moves by eta times n times its gradient of the mean loss.
        grad_a = (h * g).sum(axis=1) / M
        grad_w = ((1.0 - h**2) * g * a[:, None, :N_TRAINED]).transpose(0, 2, 1) @ x / M
        a[:, :N_TRAINED] -= ETA * grad_a
        W[:, :N_TRAINED] -= ETA * grad_w
    return x, y, W, a


def _output(W: FloatArray, a: FloatArray, x: FloatArray) -> FloatArray:
    return np.asarray(np.tanh(x @ W.T) @ a / W.shape[0], dtype=np.float64)


def _population_ramp_loss(W: FloatArray, a: FloatArray) -> float:
    """E over x uniform on the circle and y | x of the ramp loss, by the trapezoid rule.

    The integrand is periodic and Lipschitz in the angle (kinks where f = +-gamma), so the
    rule's error is O(h^2) with h = 2 pi / 2^14: at most 1e-6 here (2^14 against 2^18 nodes
    differed by at most 5e-8 on ten of these networks), against bound margins of order 0.1.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, QUAD_NODES, endpoint=False)
    x = _circle(theta)
    p = _sigmoid(_teacher(x))
    f = _output(W, a, x)
    loss_pos = np.clip(1.0 - f / GAMMA, 0.0, 1.0)
    loss_neg = np.clip(1.0 + f / GAMMA, 0.0, 1.0)
    return float(np.mean(p * loss_pos + (1.0 - p) * loss_neg))


def test_bound_holds_over_training_sets_and_the_control_fails() -> None:
    rng = np.random.default_rng(1312)
    x, y, W, a = _train(rng)
    values, controls, pop, kept = [], [], [], []
    for r in range(REPS):
        train = float(np.mean(bounded_loss(_output(W[r], a[r], x[r]), y[r], margin=GAMMA)))
        res = compression_bound(
            W[r], a[r], input_radius=B, m=M, delta=DELTA, margin=GAMMA, phi="tanh", train_loss=train
        )
        assert res.value is not None
        values.append(res.value)
        controls.append(train + res.compression_term)
        pop.append(_population_ramp_loss(W[r], a[r]))
        kept.append(res.kept)
    values_a, controls_a, pop_a = np.array(values), np.array(controls), np.array(pop)
    limit = stats.binom.ppf(0.999, REPS, DELTA)
    failures = int(np.count_nonzero(pop_a > values_a))
    control_failures = int(np.count_nonzero(pop_a > controls_a))
    # The check has power only where the bound says something: value < 1 (found: all 100,
    # median 0.75) and pruning used (k = 8 of 32 chosen in every training set).
    assert np.median(values_a) < 1.0
    assert np.count_nonzero(np.array(kept) == N_TRAINED) > REPS // 2
    assert failures <= limit, (failures, limit)  # found 0
    assert control_failures > limit, (control_failures, limit)  # found 56
