"""The spectral columns of analyze: eigenvalues of W^T W, their tail index and norms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from heavytail.nn import analyze
from heavytail.nn._spectral import gram_eigenvalues, mp_edge, spectral_columns


def _planted(n: int, m: int, a: float, seed: int) -> np.ndarray:
    """U diag(s) V^T with orthonormal U (n x m), V (m x m) and s i.i.d. Pareto(a) (s >= 1):
    its eigenvalues lambda = s^2 have a Pareto tail of index a / 2 exactly."""
    gen = np.random.default_rng(seed)
    u, _ = np.linalg.qr(gen.standard_normal((n, m)))
    v, _ = np.linalg.qr(gen.standard_normal((m, m)))
    s = gen.pareto(a, m) + 1.0
    return (u * s) @ v.T


def test_gram_eigenvalues_are_the_squared_singular_values() -> None:
    w = np.random.default_rng(0).standard_normal((300, 120))
    eigs = gram_eigenvalues(w)
    s = np.linalg.svd(w, compute_uv=False)
    # Each eigenvalue is within a few units of n eps ||W||_2^2 of s_i^2 (rounding of the
    # Gram product and of the symmetric eigensolver): 10 n eps ||W||_2^2 with n = 300.
    tol = 10 * 300 * np.finfo(float).eps * s[0] ** 2
    assert eigs.shape == (120,)
    assert np.all(np.diff(eigs) <= 0)
    np.testing.assert_allclose(eigs, s**2, rtol=0, atol=tol)
    np.testing.assert_allclose(gram_eigenvalues(w.T), s**2, rtol=0, atol=tol)


@pytest.mark.parametrize("a", [1.0, 2.0, 3.0])
def test_planted_power_law_spectrum_recovered(a: float) -> None:
    eigs = gram_eigenvalues(_planted(1024, 512, a, seed=1))
    cols = spectral_columns(eigs, 1024, 512)
    true = a / 2.0  # tail index of lambda = s^2
    assert cols["spectral_ci_low"] < true < cols["spectral_ci_high"]
    assert math.isfinite(cols["spectral_ci_high"])  # a power law: no light-tail end
    assert cols["spectral_alpha_ww"] == 1.0 + cols["spectral_alpha"]
    # Negative control: 1.5 times the true index lies outside (Hill's interval at
    # k >= 90 is within about +-25%).
    assert not cols["spectral_ci_low"] < 1.5 * true < cols["spectral_ci_high"]


@pytest.mark.parametrize(("n", "m"), [(2048, 784), (512, 512), (256, 1024)])
def test_gaussian_layer_reaches_the_light_tail_end(n: int, m: int) -> None:
    w = np.random.default_rng(2).standard_normal((n, m)) * 0.05
    cols = spectral_columns(gram_eigenvalues(w), n, m)
    assert cols["spectral_ci_high"] == math.inf
    assert "light tail is not ruled out" in cols["spectral_warnings"]
    # Marchenko-Pastur: no eigenvalue above the bulk edge plus the Tracy-Widom margin.
    assert cols["mp_spikes"] == 0


def test_spikes_counted_and_norms() -> None:
    gen = np.random.default_rng(3)
    n, m = 600, 300
    w = gen.standard_normal((n, m))
    # Three planted directions far above the bulk edge (sqrt(n) + sqrt(m))^2 ~ 1740.
    u, _ = np.linalg.qr(gen.standard_normal((n, 3)))
    v, _ = np.linalg.qr(gen.standard_normal((m, 3)))
    w_spiked = w + (u * np.array([200.0, 150.0, 120.0])) @ v.T
    eigs = gram_eigenvalues(w_spiked)
    cols = spectral_columns(eigs, n, m)
    assert cols["mp_spikes"] == 3
    # Negative control: the unspiked matrix has none.
    assert spectral_columns(gram_eigenvalues(w), n, m)["mp_spikes"] == 0
    s = np.linalg.svd(w_spiked, compute_uv=False)
    fro2 = float(np.sum(w_spiked**2))
    # Relative rounding of sums over n m terms: 10 n m eps.
    rtol = 10 * n * m * np.finfo(float).eps
    assert cols["spectral_norm"] == pytest.approx(s[0] ** 2, rel=rtol)
    assert cols["log_norm"] == pytest.approx(math.log10(fro2), rel=rtol)
    assert cols["stable_rank"] == pytest.approx(fro2 / s[0] ** 2, rel=rtol)
    assert mp_edge(n, m, 1.0) > (math.sqrt(n) + math.sqrt(m)) ** 2


def test_analyze_has_the_spectral_columns() -> None:
    layer = torch.nn.Linear(256, 512, bias=False, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(_planted(512, 256, 2.0, seed=4)))
    table = analyze(torch.nn.Sequential(layer, torch.nn.ReLU(), torch.nn.Linear(512, 10)), rng=0)
    row = table.loc[0]
    assert row["spectral_ci_low"] < 1.0 < row["spectral_ci_high"]
    assert row["spectral_n"] == 256
    # The singular-value pruning uses the same eigenvalues: its fraction is at least the
    # fraction of singular values whose squares sum to at most eps^2 of the total.
    eigs = gram_eigenvalues(layer.weight.detach().numpy())
    tail = np.cumsum(eigs[::-1]) / eigs.sum()
    assert row["prunable_singular"] == np.count_nonzero(tail <= 0.1**2) / eigs.size
