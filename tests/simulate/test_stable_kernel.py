"""The numba stable samplers against heavytail.theory's samplers (two-sample KS tests),
and the injected noise that picks its sampler by type.

``heavytail.theory.sample_stable`` is itself checked against scipy's exact S1 law
(tests/theory/test_stable.py); here the compiled samplers used inside the simulator's
kernels must draw the same laws.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numba
import numpy as np
import pytest
from scipy import stats

from heavytail.simulate._noise_kernel import (
    EllipticStableNoise,
    IidStableNoise,
    add_stable_noise,
    add_stable_noise_scalar,
)
from heavytail.simulate._stable_kernel import (
    fill_elliptic_stable,
    fill_positive_stable,
    fill_symmetric_stable,
)
from heavytail.theory import sample_elliptic_stable, sample_stable

N = 100_000
# Two-sample KS with 1e5 points a side resolves a cdf difference of about 0.01
# (critical D at p = 1e-3 is 1.95 sqrt(2 / N) = 0.0087).
P_ACCEPT = 1e-3  # a correct sampler passes unless its p-value falls below this
P_REJECT = 1e-6  # a negative control must fall below this


def _symmetric(alpha: float, seed: int, n: int = N) -> np.ndarray:
    out = np.empty(n)
    fill_symmetric_stable(np.random.default_rng(seed), alpha, out)
    return out


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.5, 1.9, 2.0])
def test_symmetric_stable_matches_theory_sampler(alpha: float) -> None:
    x = _symmetric(alpha, 1)
    ref = sample_stable(alpha, N, rng=2)
    assert np.isfinite(x).all()
    assert stats.ks_2samp(x, ref).pvalue > P_ACCEPT


def test_symmetric_stable_ks_negative_controls() -> None:
    x = _symmetric(1.5, 3)
    # a wrong index: alpha 1.5 against 1.7 differs by about 0.015 in cdf
    assert stats.ks_2samp(x, sample_stable(1.7, N, rng=4)).pvalue < P_REJECT
    # a wrong scale convention: at alpha = 2 the law is N(0, 2), not N(0, 1)
    z = _symmetric(2.0, 5)
    assert stats.ks_2samp(z, np.random.default_rng(6).standard_normal(N)).pvalue < P_REJECT
    assert (
        stats.ks_2samp(z, math.sqrt(2.0) * np.random.default_rng(6).standard_normal(N)).pvalue
        > P_ACCEPT
    )


@pytest.mark.parametrize("a", [0.25, 0.75])
def test_positive_stable_matches_theory_sampler(a: float) -> None:
    """E exp(-s A) = exp(-s^a) is S_a(cos(pi a / 2)^(1/a), 1, 0) in S1 (Samorodnitsky &
    Taqqu 2007, Prop. 1.2.12); sample_stable draws S1."""
    out = np.empty(N)
    fill_positive_stable(np.random.default_rng(7), a, out)
    assert np.all(out > 0.0) and np.isfinite(out).all()
    scale = math.cos(0.5 * math.pi * a) ** (1.0 / a)
    ref = sample_stable(a, N, beta=1.0, scale=scale, rng=8)
    assert stats.ks_2samp(out, ref).pvalue > P_ACCEPT
    # negative control: the same law without the cos factor in the scale
    wrong = sample_stable(a, N, beta=1.0, scale=1.0, rng=8)
    assert stats.ks_2samp(out, wrong).pvalue < P_REJECT


def test_positive_stable_laplace_transform() -> None:
    """An independent check: the sample mean of exp(-s A) against exp(-s^a).

    exp(-s A) lies in [0, 1], so its sample mean has standard error <= 0.5 / sqrt(N) =
    0.0016; 0.008 is 5 standard errors. The negative control exp(-s) (a = 1) is off by
    0.09 or more at these s (at s = 1 every a gives exp(-1), so s = 1 is not used).
    """
    a = 0.6
    out = np.empty(N)
    fill_positive_stable(np.random.default_rng(9), a, out)
    for s in (0.3, 3.0):
        mean = float(np.mean(np.exp(-s * out)))
        assert abs(mean - math.exp(-(s**a))) < 0.008
        assert abs(mean - math.exp(-s)) > 0.05


@pytest.mark.parametrize("alpha", [1.2, 2.0])
def test_elliptic_stable_matches_theory_sampler(alpha: float) -> None:
    d = 3
    out = np.empty((N // 2, d))
    fill_elliptic_stable(np.random.default_rng(10), alpha, out)
    ref = sample_elliptic_stable(alpha, N // 2, d, rng=11)
    # every coordinate is standard symmetric alpha-stable
    assert stats.ks_2samp(out[:, 0], sample_stable(alpha, N, rng=12)).pvalue > P_ACCEPT
    # the norm carries the dependence between coordinates
    norms = np.linalg.norm(out, axis=1)
    assert stats.ks_2samp(norms, np.linalg.norm(ref, axis=1)).pvalue > P_ACCEPT
    if alpha < 2.0:
        # negative control: independent coordinates have the same marginals but a
        # different norm law
        iid = _symmetric(alpha, 13, n=3 * (N // 2)).reshape(-1, d)
        assert stats.ks_2samp(norms, np.linalg.norm(iid, axis=1)).pvalue < P_REJECT


def test_extreme_indices_stay_finite() -> None:
    """Small alpha gives huge but finite draws; the open-interval angles keep the
    transforms away from 0/0 (both checked on 1e6 draws)."""
    x = _symmetric(0.3, 14, n=1_000_000)
    assert np.isfinite(x).all()
    out = np.empty(1_000_000)
    fill_positive_stable(np.random.default_rng(15), 0.1, out)
    assert np.isfinite(out).all() and np.all(out > 0.0)


# ---------------------------------------------------------------------------- injected noise


@numba.njit
def _add_noise(noise: Any, gen: Any, x: np.ndarray) -> np.ndarray:
    buf = np.empty(x.shape[0])
    add_stable_noise(noise, gen, x, buf)
    return x


@numba.njit
def _add_noise_scalar(noise: Any, gen: Any, x: float) -> float:
    return add_stable_noise_scalar(noise, gen, x)


@pytest.mark.parametrize("law", ["iid", "elliptic"])
def test_add_stable_noise_picks_the_law_by_type(law: str) -> None:
    """x + scale L with L from the sampler the type names, on the same stream, to the bit."""
    alpha, scale, d = 1.3, 0.25, 4
    x0 = np.arange(1.0, d + 1.0)
    noise = IidStableNoise(alpha, scale) if law == "iid" else EllipticStableNoise(alpha, scale)
    got = _add_noise(noise, np.random.default_rng(20), x0.copy())
    draw = np.empty((1, d))
    if law == "iid":
        fill_symmetric_stable(np.random.default_rng(20), alpha, draw[0])
    else:
        fill_elliptic_stable(np.random.default_rng(20), alpha, draw)
    np.testing.assert_array_equal(got, x0 + scale * draw[0])
    # negative control: the other law, on the same stream, gives other numbers
    other = EllipticStableNoise(alpha, scale) if law == "iid" else IidStableNoise(alpha, scale)
    assert not np.any(_add_noise(other, np.random.default_rng(20), x0.copy()) == got)
    # at dim 1 the scalar version draws and adds the same
    one = _add_noise(noise, np.random.default_rng(21), np.array([0.5]))
    assert _add_noise_scalar(noise, np.random.default_rng(21), 0.5) == one[0]


def test_add_stable_noise_none_adds_and_draws_nothing() -> None:
    gen = np.random.default_rng(22)
    x0 = np.array([1.0, -2.0])
    np.testing.assert_array_equal(_add_noise(None, gen, x0.copy()), x0)
    assert _add_noise_scalar(None, gen, 3.0) == 3.0
    # the stream is untouched: its next draw is the first draw of a fresh one
    assert gen.random() == np.random.default_rng(22).random()


def test_add_stable_noise_refuses_an_unknown_type() -> None:
    """A type without an implementation fails at compile time; it is never ignored."""

    class OtherNoise(NamedTuple):
        alpha: float
        scale: float

    with pytest.raises(numba.core.errors.TypingError, match="add_stable_noise"):
        _add_noise(OtherNoise(1.5, 0.1), np.random.default_rng(23), np.zeros(2))
