"""Closed forms: identity units with a fixed second layer are linear regression.

With phi = identity and a_i = 1 fixed, f(x) = u . x with u = (1/n) sum_i w_i, and the
mean-field step moves every unit by the same vector, eta (1/b) sum_p (y_p - u . x_p) x_p.
So u runs SGD on least squares with step eta (docs/theory.md, section 5), whatever n, and
w_i(k) - w_i(0) is the same for all units.
"""

from __future__ import annotations

import math

import numpy as np

from heavytail.simulate import (
    MeanFieldData,
    MeanFieldNetwork,
    MeanFieldRecording,
    Teacher,
    mean_field_sgd,
)

LINEAR = MeanFieldNetwork(activation="identity", train_second_layer=False, second_layer_init="ones")
TEACHER = Teacher(1, "identity", seed=3)


def test_full_batch_gradient_descent_reaches_least_squares() -> None:
    m, dim, n = 30, 3, 16
    run = mean_field_sgd(
        n,
        dim,
        eta=0.3,
        batch_size=m,
        n_steps=400,
        data=MeanFieldData(teacher=TEACHER, dataset_size=m, label_noise=0.5),
        record=MeanFieldRecording(weight_steps=(0,)),
        rng=2,
        network=LINEAR,
    )
    # eta lambda_max(X^T X / m) < 2 here (lambda in [0.4, 1.8]), so GD converges at
    # rate <= 0.88 per step: after 400 steps the distance is below 1e-20 of the start
    x, y = run.x_train, run.y_train
    u_star = np.linalg.lstsq(x, y, rcond=None)[0]
    u = run.w[0].mean(axis=0)
    # Rounding only: the fixed point of the iteration, computed in float64, is off from
    # the exact one by about cond(X^T X / m) (<= 4.5 here) times the rounding of a step,
    # m * dim * eps * |u*| ~ 90 * 2.2e-16 (|u*| is O(1)): about 1e-13; 1e-12 is a 10x
    # margin and far below the distance to the negative control's solution (> 1e-3).
    np.testing.assert_allclose(u, u_star, rtol=0, atol=1e-12)
    # every unit moved by the same vector
    moves = run.w[0] - run.w_records[0, 0]
    # the units' updates are the same sums in the same order up to the rounding of each
    # unit's own weights: a few eps per step relative to |w| = O(1), far below 1e-13
    np.testing.assert_allclose(moves, np.broadcast_to(moves[0], moves.shape), atol=1e-13)
    # negative control: the least-squares solution of other data is far away
    other = np.linalg.lstsq(run.x_test, run.y_test, rcond=None)[0]
    assert np.max(np.abs(u - other)) > 1e-3


def test_online_sgd_has_the_stationary_variance_of_linear_regression() -> None:
    """Online SGD on least squares with x ~ N(0, I_d), noise sd s: the stationary law of u
    has mean beta and covariance v I, v = eta s^2 / (2 b - (b + d + 1) eta)
    (sgd_linear_regression's Notes; E[M^T M] = h(2) I, docs/theory.md, section 5).

    Rule: the mean over R = 2000 replicates of r = |u - beta|^2 / d estimates v; accept
    when |z| < 3.29 (two-sided 0.001), z = (mean(r) - v) / (sd(r) / sqrt(R)). Negative
    controls: without the (b + d + 1) eta correction (v = eta s^2 / (2 b)), or with the
    step eta / n of the unscaled gradient, the same rule must reject. Measured: mean(r)
    0.0611 against v = 0.0625, z = -1.0; the controls give z = 7.7 and 33.
    """
    eta, b, dim, s, n_rep = 0.1, 1, 2, 1.0, 2000
    run = mean_field_sgd(
        4,
        dim,
        eta=eta,
        batch_size=b,
        n_steps=300,
        n_replicates=n_rep,
        data=MeanFieldData(teacher=TEACHER, label_noise=s, test_size=0),
        rng=6,
        network=LINEAR,
    )
    # E|u - beta|^2 contracts by 1 - 2 eta + (d + 2) eta^2 = 0.84 per step: after 300
    # steps the start is forgotten (0.84^300 < 1e-22)
    beta = run.teacher_w[0] * run.teacher_c[0]  # f*(x) = c (v . x) with k = 1
    u = run.w.mean(axis=1)
    r = np.sum((u - beta) ** 2, axis=1) / dim

    def z(v: float) -> float:
        return float((r.mean() - v) / (r.std(ddof=1) / math.sqrt(n_rep)))

    v = eta * s**2 / (2 * b - (b + dim + 1) * eta)
    assert abs(z(v)) < 3.29
    assert abs(z(eta * s**2 / (2 * b))) > 3.29
    eta_n = eta / 4
    assert abs(z(eta_n * s**2 / (2 * b - (b + dim + 1) * eta_n))) > 3.29
    # the mean is beta: each coordinate within 3.29 standard errors
    se = u.std(axis=0, ddof=1) / math.sqrt(n_rep)
    assert np.all(np.abs(u.mean(axis=0) - beta) < 3.29 * se)
