"""Textbook formulas of the order-statistic estimators, written out directly, for tests.

Each takes the magnitudes sorted in descending order, X_(1) >= ... >= X_(n)
(:func:`descending`), and gives the extreme-value index xi = 1/alpha at k.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def descending(x: Any) -> FloatArray:
    """X_(1) >= ... >= X_(n): descending order statistics of |x| (X_(i) = out[i - 1])."""
    return np.sort(np.abs(np.asarray(x, dtype=np.float64)))[::-1]


def sym_pareto(alpha: float, n: int, rng: np.random.Generator) -> FloatArray:
    """|X| ~ Pareto(alpha) with x_m = 1, with a random sign."""
    return (rng.pareto(alpha, n) + 1.0) * rng.choice([-1.0, 1.0], n)


def hill_xi(xs: FloatArray, k: int) -> float:
    """Hill: the mean of log(X_(i) / X_(k+1)) over i <= k."""
    return float(np.mean(np.log(xs[:k] / xs[k])))


def moment_xi(xs: FloatArray, k: int) -> float:
    """Dekkers, Einmahl and de Haan's moment estimator at k."""
    logs = np.log(xs[:k] / xs[k])
    m1 = float(np.mean(logs))
    m2 = float(np.mean(logs**2))
    return m1 + 1.0 - 0.5 / (1.0 - m1 * m1 / m2)


def pickands_xi(xs: FloatArray, k: int) -> float:
    """Pickands: log((X_(k) - X_(2k)) / (X_(2k) - X_(4k))) / log 2."""
    x_k, x_2k, x_4k = xs[k - 1], xs[2 * k - 1], xs[4 * k - 1]
    return math.log((x_k - x_2k) / (x_2k - x_4k)) / math.log(2.0)
