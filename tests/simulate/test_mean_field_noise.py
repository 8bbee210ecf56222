"""The injected noise of mean_field_sgd: its scale, its law and its type, by KS tests.

Two runs from the same ``rng``, one step each, one with noise and one without, start from
the same initialisation and take the same gradient step (the noise has its own place in
the unit stream, after the initialisation); the difference of their first layers is the
noise sigma eta^(1/alpha) L, up to one rounding of the weights (about 1e-16, far below
what a KS test sees). The recovered L is compared with heavytail.theory's samplers by a
two-sample Kolmogorov-Smirnov test.

Rule, fixed in advance: the law is accepted when the KS p-value is at least 0.01. Each
check has negative controls (a wrong alpha, a scale off by 15 %, the other noise type)
that the same rule must reject. The seeds are fixed; with the sample sizes used (8 000 to
40 000 draws of L against 10 000 to 40 000 reference draws) the controls gave p-values
of 3e-4 (alpha 1.5 for 1.75, type 1) and below 1e-7 for all others, and the true laws
0.15 to 1.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats

from heavytail._lib._noise_kinds import NOISE_KINDS, NoiseKind
from heavytail.simulate import InjectedNoise, MeanFieldData, mean_field_sgd
from heavytail.theory import iid_columns_matrix, sample_stable

FloatArray = npt.NDArray[np.float64]

P_ACCEPT = 0.01


def _noise(n: int, dim: int, n_rep: int, noise: InjectedNoise, seed: int) -> FloatArray:
    """L of one step, shape (n_rep, n, dim), recovered from two runs."""
    kw = dict(
        eta=0.5,
        batch_size=4,
        n_steps=1,
        n_replicates=n_rep,
        data=MeanFieldData(test_size=0),
        rng=seed,
    )
    with_noise = mean_field_sgd(n, dim, injected_noise=noise, **kw)
    without = mean_field_sgd(n, dim, **kw)
    return (with_noise.w - without.w) / (noise.scale * 0.5 ** (1.0 / noise.alpha))


def _p(sample: FloatArray, reference: FloatArray) -> float:
    return float(stats.ks_2samp(sample, reference).pvalue)


def test_type_1_is_one_stable_scalar_per_unit() -> None:
    alpha = 1.75
    big = _noise(4000, 3, 4, InjectedNoise(alpha, 0.3, "unit"), seed=1)  # 16 000 L_i
    # the same L_i on every coordinate of a unit, up to the weights' rounding
    assert np.max(np.ptp(big, axis=2)) < 1e-12
    sample = big[:, :, 0].ravel()
    ref = sample_stable(alpha, 40_000, rng=100)
    assert _p(sample, ref) >= P_ACCEPT
    # negative controls: a wrong alpha, a wrong scale
    assert _p(sample, sample_stable(1.5, 40_000, rng=100)) < P_ACCEPT
    assert _p(sample, sample_stable(alpha, 40_000, scale=1.15, rng=100)) < P_ACCEPT


def test_type_2_is_iid_stable_entries() -> None:
    alpha = 1.3
    big = _noise(2000, 5, 4, InjectedNoise(alpha, 0.05, "iid"), seed=2)  # 40 000 entries
    ref = sample_stable(alpha, 40_000, rng=101)
    assert _p(big.ravel(), ref) >= P_ACCEPT
    assert _p(big.ravel(), sample_stable(1.5, 40_000, rng=101)) < P_ACCEPT
    assert _p(big.ravel(), sample_stable(alpha, 40_000, scale=1.15, rng=101)) < P_ACCEPT
    # independent coordinates: the Spearman correlation of |L_i1| and |L_i2| is 0 within
    # 4 standard errors (1 / sqrt(8000)); type 3 gives about 0.2 (below)
    rho = stats.spearmanr(np.abs(big[:, :, 0].ravel()), np.abs(big[:, :, 1].ravel()))[0]
    assert abs(rho) < 4 / math.sqrt(8000)


def test_type_3_is_an_elliptic_vector_per_unit() -> None:
    alpha, dim = 1.5, 4
    big = _noise(2000, dim, 4, InjectedNoise(alpha, 0.2, "elliptic"), seed=3)  # 8 000 vectors
    ref = iid_columns_matrix(alpha, dim, 10_000, rng=102).T  # (10 000, dim)
    # marginal law: every coordinate standard symmetric alpha-stable
    assert _p(big[:, :, 0].ravel(), ref[:, 0]) >= P_ACCEPT
    # joint law: the norms of the vectors (they depend on the shared scale)
    norms = np.linalg.norm(big, axis=2).ravel()
    assert _p(norms, np.linalg.norm(ref, axis=1)) >= P_ACCEPT
    # negative control: i.i.d. entries have the same marginals but other norms
    iid = sample_stable(alpha, (10_000, dim), rng=103)
    assert _p(norms, np.linalg.norm(iid, axis=1)) < P_ACCEPT
    # and the coordinates are dependent: the Spearman correlation of |L_i1| and |L_i2|
    # matches the reference's (0.21 here) within 4 standard errors of the two estimates
    # (sqrt(1/8000 + 1/10000)); independence (type 2) would give 0
    rho = stats.spearmanr(np.abs(big[:, :, 0].ravel()), np.abs(big[:, :, 1].ravel()))[0]
    rho_ref = stats.spearmanr(np.abs(ref[:, 0]), np.abs(ref[:, 1]))[0]
    se = math.sqrt(1 / 8000 + 1 / 10_000)
    assert abs(rho - rho_ref) < 4 * se
    assert rho > 4 * se


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_alpha_two_is_gaussian_at_the_same_scale(kind: NoiseKind) -> None:
    big = _noise(2000, 2, 4, InjectedNoise(2.0, 0.1, kind), seed=4)
    sample = big[:, :, 0].ravel()
    # standard symmetric 2-stable: N(0, 2)
    assert stats.kstest(sample, stats.norm(scale=math.sqrt(2)).cdf).pvalue >= P_ACCEPT
    assert stats.kstest(sample, stats.norm(scale=1.15 * math.sqrt(2)).cdf).pvalue < P_ACCEPT
