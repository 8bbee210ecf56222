"""mean_field_sgd against a plain numpy replay of its documented model and random streams.

The replay below follows the docstrings of ``mean_field_sgd`` and
``heavytail.simulate._mean_field_modes`` (stream layout, order of the draws, epochs,
update and noise), one replicate at a time, with numpy matrix products. It shares no
code with the kernels, so agreement to rounding checks the model, the modes and the
random streams together. (numba's Generator methods return the same numbers as numpy's
for the same state.)
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from scipy.special import expit

from heavytail.simulate import (
    InjectedNoise,
    MeanFieldData,
    MeanFieldNetwork,
    MeanFieldRecording,
    Teacher,
    mean_field_sgd,
)

from .._reference import positive_stable, symmetric_stable

FloatArray = npt.NDArray[np.float64]

# The kernels sum in other orders than numpy's products (blocks of units, four partial
# sums), so the two differ by rounding, amplified by the steps' Jacobians over at most
# 12 steps at these small step sizes. 1e-9 relative is far above that and far below any
# real difference (a wrong draw or a wrong term changes the numbers at O(1e-3) or more).
RTOL = 1e-9

PHI = {
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
    "sigmoid": (expit, lambda z: expit(z) * expit(-z)),
    "identity": (lambda z: z, np.ones_like),
}


def _inputs(gen: np.random.Generator, size: Any, law: str) -> FloatArray:
    x = gen.standard_normal(size)
    if law == "sphere":
        x = x * math.sqrt(x.shape[-1]) / np.linalg.norm(x, axis=-1, keepdims=True)
    return x


def _replay(n: int, dim: int, seed: int, **kw: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(W (R, n, dim), a (R, n), test losses (R,)) after kw["n_steps"] steps."""
    eta, b, n_steps, n_rep = kw["eta"], kw["batch_size"], kw["n_steps"], kw["n_replicates"]
    net, data = kw.get("network", MeanFieldNetwork()), kw.get("data", MeanFieldData())
    act, dact = PHI[net.activation]
    logistic = net.loss == "logistic"
    teacher = data.teacher
    label_noise = data.label_noise
    law = data.inputs
    m = data.dataset_size or 0
    noise = kw.get("injected_noise")
    train_a = net.train_second_layer

    tgen = np.random.default_rng(teacher.seed)
    tw = tgen.standard_normal((teacher.n_units, dim)) / math.sqrt(dim)
    tc = tgen.standard_normal(teacher.n_units)
    tact = PHI[teacher.activation][0]

    def label(x: FloatArray, xi: FloatArray) -> FloatArray:
        v = tact(x @ tw.T) @ tc / math.sqrt(teacher.n_units) + label_noise * xi
        return np.where(v >= 0, 1.0, -1.0) if logistic else v

    data_gen, shared_gen, rep_root = np.random.default_rng(seed).spawn(3)
    x_train = _inputs(data_gen, (m, dim), law)
    y_train = label(x_train, data_gen.standard_normal(m))
    x_test = _inputs(data_gen, (data.test_size, dim), law)
    y_test = label(x_test, data_gen.standard_normal(data.test_size))

    def forward(w: FloatArray, a: FloatArray, x: FloatArray) -> tuple[FloatArray, ...]:
        z = x @ w.T
        return z, act(z) @ a / n

    def slope_and_loss(f: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        if logistic:
            return -y * expit(-y * f), np.logaddexp(0.0, -y * f)
        return f - y, 0.5 * (f - y) ** 2

    ws, as_, losses = [], [], []
    for child in rep_root.spawn(n_rep):
        unit, batches = child.spawn(2)
        if data.batches == "shared":
            batches = copy.deepcopy(shared_gen)
        w = unit.standard_normal((n, dim)) * net.first_layer_std / math.sqrt(dim)
        a = unit.standard_normal(n) if net.second_layer_init == "normal" else np.ones(n)
        perm = np.arange(m)
        pos = m
        for _ in range(n_steps):
            if m:
                if pos + b > m:
                    if b < m:
                        for i in range(m - 1, 0, -1):
                            k = int(batches.integers(0, i + 1))
                            perm[i], perm[k] = perm[k], perm[i]
                    pos = 0
                xb, yb = x_train[perm[pos : pos + b]], y_train[perm[pos : pos + b]]
                pos += b
            else:
                xb = np.empty((b, dim))
                yb = np.empty(b)
                for q in range(b):
                    xb[q] = _inputs(batches, dim, law)
                    yb[q] = label(xb[q : q + 1], np.array([batches.standard_normal()]))[0]
            z, f = forward(w, a, xb)
            g = slope_and_loss(f, yb)[0] / b
            d = g[:, None] * a[None, :] * dact(z)
            grad_w = d.T @ xb
            grad_a = act(z).T @ g
            w = w - eta * grad_w
            if noise is not None:
                s = noise.scale * eta ** (1.0 / noise.alpha)
                if noise.kind == "unit":
                    w = (
                        w
                        + s
                        * np.array([symmetric_stable(unit, noise.alpha) for _ in range(n)])[:, None]
                    )
                elif noise.kind == "iid":
                    w = w + s * np.array(
                        [
                            [symmetric_stable(unit, noise.alpha) for _ in range(dim)]
                            for _ in range(n)
                        ]
                    )
                else:
                    rows = []
                    for _ in range(n):
                        c = math.sqrt(2.0 * positive_stable(unit, noise.alpha / 2))
                        rows.append([c * unit.standard_normal() for _ in range(dim)])
                    w = w + s * np.array(rows)
            if train_a:
                a = a - eta * grad_a
        ws.append(w)
        as_.append(a)
        losses.append(slope_and_loss(forward(w, a, x_test)[1], y_test)[1].mean())
    return np.array(ws), np.array(as_), np.array(losses)


CASES = [
    dict(
        network=MeanFieldNetwork(activation="tanh"),
        data=MeanFieldData(dataset_size=10, test_size=5),
        batch_size=3,
        injected_noise=InjectedNoise(1.5, 0.05, "unit"),
    ),
    dict(
        network=MeanFieldNetwork(activation="relu", loss="logistic"),
        data=MeanFieldData(dataset_size=6, test_size=5),
        batch_size=6,
    ),
    dict(
        network=MeanFieldNetwork(activation="sigmoid"),
        data=MeanFieldData(test_size=5),
        batch_size=2,
        injected_noise=InjectedNoise(1.2, 0.02, "iid"),
    ),
    dict(
        network=MeanFieldNetwork(activation="tanh"),
        data=MeanFieldData(inputs="sphere", test_size=5),
        batch_size=3,
        injected_noise=InjectedNoise(1.7, 0.05, "elliptic"),
    ),
    dict(
        network=MeanFieldNetwork(
            activation="identity", train_second_layer=False, second_layer_init="ones"
        ),
        data=MeanFieldData(dataset_size=7, test_size=5, batches="shared"),
        batch_size=2,
    ),
    dict(
        network=MeanFieldNetwork(activation="tanh", first_layer_std=2.0),
        data=MeanFieldData(
            test_size=5, batches="shared", teacher=Teacher(3, "relu", seed=7), label_noise=0.0
        ),
        batch_size=2,
    ),
    dict(
        network=MeanFieldNetwork(activation="relu", loss="logistic"),
        data=MeanFieldData(dataset_size=9, test_size=5, inputs="sphere"),
        batch_size=4,
        injected_noise=InjectedNoise(2.0, 0.1, "unit"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{v}" for v in c.values())[:60])
def test_agrees_with_the_numpy_replay(case: dict[str, Any]) -> None:
    kw = dict(eta=0.3, n_steps=12, n_replicates=3) | case
    run = mean_field_sgd(7, 3, **kw, record=MeanFieldRecording(loss_steps=(12,)), rng=11)
    w, a, loss = _replay(7, 3, 11, **kw)
    np.testing.assert_allclose(run.w, w, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(run.a, a, rtol=RTOL, atol=1e-12)
    assert run.test_loss is not None
    np.testing.assert_allclose(run.test_loss[:, 0], loss, rtol=RTOL)
    # negative control: the replay with another seed disagrees at O(1e-3) or more
    w_other = _replay(7, 3, 12, **kw)[0]
    assert np.max(np.abs(w_other - run.w)) > 1e-3


def test_wide_network_in_blocks_agrees_with_the_replay() -> None:
    """n > unit_block: the blocks run in parallel, and the sums are added block by block."""
    kw = dict(
        eta=0.2,
        batch_size=64,
        n_steps=3,
        n_replicates=1,
        data=MeanFieldData(test_size=3),
        injected_noise=InjectedNoise(1.6, 0.05, "unit"),
    )
    run = mean_field_sgd(600, 8, **kw, rng=4)
    assert run.settings["unit_block"] < 600
    assert run.settings["driver"] == "run_serial, step blocks_parallel"
    w, a, _ = _replay(600, 8, 4, **kw)
    np.testing.assert_allclose(run.w, w, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(run.a, a, rtol=RTOL, atol=1e-12)
