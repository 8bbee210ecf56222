"""compression_bound and bounded_loss: the result's arithmetic, its monotonicity, input checks.

The steps of the bound are checked in test_generalization_prune.py (pruning, loss),
test_generalization_cover.py (cover, union bound) and test_generalization_validity.py (the
whole bound against the population loss over many training sets).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from heavytail.theory import (
    CompressionBound,
    InvalidArgumentError,
    bounded_loss,
    compression_bound,
    default_kappas,
)


def _net(seed: int = 0, n: int = 40, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) * rng.standard_t(1.5, size=(n, 1)), rng.standard_normal(n)


BASE: dict[str, Any] = {"input_radius": math.sqrt(3.0), "m": 20_000, "delta": 0.05, "margin": 0.5}


def test_terms_add_up_and_the_minimum_is_reported() -> None:
    W, a = _net()
    res = compression_bound(W, a, train_loss=0.2, **BASE)
    assert isinstance(res, CompressionBound)
    # Three floats summed: agreement to 1e-12 relative.
    assert res.gap_bound == pytest.approx(
        res.compression_term + res.cover_term + res.complexity_term, rel=1e-12
    )
    assert res.value == pytest.approx(0.2 + res.gap_bound, rel=1e-15)
    assert res.complexity_term == pytest.approx(
        math.sqrt((res.log_cover + res.log_confidence) / (2 * BASE["m"])), rel=1e-12
    )
    assert res.compression_term == pytest.approx(2.0 / BASE["margin"] * res.eps, rel=1e-15)
    assert res.cover_term == pytest.approx(2.0 / BASE["margin"] * res.radius, rel=1e-15)
    assert res.gap_bound == float(np.min(res.gap_bound_curve))
    pos = int(np.argmin(res.gap_bound_curve))
    assert res.kept == res.kept_counts[pos] and res.kappa == res.kept / 40
    assert res.eps == res.eps_curve[pos]
    assert res.vacuous == (res.value >= 1.0)
    with pytest.raises(ValueError, match="read-only"):
        res.eps_curve[0] = 0.0
    assert "kappa" in str(res)


def test_no_train_loss_gives_no_value() -> None:
    W, a = _net()
    res = compression_bound(W, a, **BASE)
    assert res.value is None and res.train_loss is None
    assert res.vacuous == (res.gap_bound >= 1.0)


def test_bound_falls_with_m_and_delta_and_rises_with_the_grid() -> None:
    """Exact monotonicity: every grid point's term falls as m or delta grows."""
    W, a = _net(1)
    by_m = [
        compression_bound(W, a, **{**BASE, "m": m}).gap_bound for m in (10**3, 10**4, 10**5, 10**6)
    ]
    assert all(x > y for x, y in itertools.pairwise(by_m))
    by_delta = [
        compression_bound(W, a, **{**BASE, "delta": dl}).gap_bound for dl in (0.01, 0.1, 0.5)
    ]
    assert all(x > y for x, y in itertools.pairwise(by_delta))
    # About m^(-1/2): at fixed k the complexity term scales exactly so, and the chosen
    # radius moves only log terms (10^(-1/2) = 0.316 per decade; found 0.331 and 0.330).
    ratios = [y / x for x, y in itertools.pairwise(by_m[1:])]
    assert all(0.28 < r < 0.36 for r in ratios), ratios


def test_fixed_second_layer_has_fewer_parameters() -> None:
    """a = None (fixed at 1) drops the k second-layer scalars and the constant."""
    W, _ = _net(2)
    fixed = compression_bound(W, None, phi="sigmoid", **BASE)
    ones = compression_bound(W, np.ones(40), phi="sigmoid", **BASE)
    assert fixed.n_parameters == fixed.kept * 3
    assert ones.n_parameters == ones.kept * 4 + 1
    assert fixed.gap_bound < ones.gap_bound
    assert fixed.settings["second_layer"] == "fixed"


def test_pruning_lowers_the_bound_when_few_units_carry_the_mass() -> None:
    """8 units of path mass about 1 and 248 of path mass 1e-4: the bound keeps the 8
    (kappa = 1/32 is on the default grid) and is lower than the bound without pruning,
    kappas = [1], whose class has 32 times more parameters."""
    rng = np.random.default_rng(4)
    n, d, big = 256, 4, 8
    W = rng.standard_normal((n, d))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    a = np.concatenate(
        [rng.choice([-1.0, 1.0], size=big), 1e-4 * rng.choice([-1.0, 1.0], size=n - big)]
    )
    kw = {**BASE, "m": 10**5, "margin": 0.01}
    pruned = compression_bound(W, a, **kw)
    full = compression_bound(W, a, kappas=[1.0], **kw)
    assert pruned.kept == big
    assert pruned.n_parameters == big * (d + 1)
    assert full.n_parameters == n * (d + 1)
    assert pruned.gap_bound < full.gap_bound / 2  # found 0.080 against 0.283
    # eps is the dropped units' share: L B (1/n) * 248 * 1e-4 (each unit has ||w|| = 1).
    assert pruned.eps == pytest.approx(math.sqrt(3.0) * (n - big) * 1e-4 / n, rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"input_radius": 0.0}, "input_radius"),
        ({"input_radius": float("nan")}, "input_radius"),
        ({"m": 0}, "m"),
        ({"m": 10.0}, "m"),
        ({"delta": 1.0}, "delta"),
        ({"delta": 0.0}, "delta"),
        ({"margin": -1.0}, "margin"),
        ({"margin": None}, "margin"),
        ({"clip": 1.0}, "clip"),
        ({"loss": "hinge"}, "loss"),
        ({"loss": "clipped_squared"}, "margin"),
        ({"loss": "clipped_squared", "margin": None}, "clip"),
        ({"loss": "clipped_squared", "margin": None, "clip": 0.0}, "clip"),
        ({"phi": "gelu"}, "phi"),
        ({"kappas": [0.5, 1.5]}, "kappas"),
        ({"kappas": []}, "kappas"),
        ({"kappas": [[0.5, 1.0]]}, "kappas"),
        ({"train_loss": 1.5}, "train_loss"),
        ({"train_loss": -0.1}, "train_loss"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, Any], name: str) -> None:
    W, a = _net()
    with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
        compression_bound(W, a, **{**BASE, **kwargs})


def test_bad_networks_are_named() -> None:
    W, a = _net()
    with pytest.raises(InvalidArgumentError, match="`W`"):
        compression_bound(W[0], a, **BASE)
    with pytest.raises(InvalidArgumentError, match="`W`"):
        compression_bound(np.where(W > 1, np.nan, W), a, **BASE)
    with pytest.raises(InvalidArgumentError, match="`a`"):
        compression_bound(W, a[:-1], **BASE)
    with pytest.raises(InvalidArgumentError, match="`a`"):
        compression_bound(W, np.full(40, np.inf), **BASE)
    with pytest.raises(InvalidArgumentError, match="overflow"):
        compression_bound(np.full((3, 2), 1e200), np.full(3, 1e200), **BASE)
    with pytest.raises(InvalidArgumentError, match="`a`"):
        compression_bound(W * 1e-300, np.full(40, 1e305), **BASE)
    with pytest.raises(InvalidArgumentError, match="`W`"):
        compression_bound(W * 1e305, a * 1e-300, **BASE)
    with pytest.raises(InvalidArgumentError, match="`input_radius`"):
        compression_bound(W * 1e10, a, kappas=[0.5], **{**BASE, "input_radius": 1e308})
    # With k = n in the grid nothing is pruned (eps = 0) and the bound stays finite.
    assert math.isfinite(compression_bound(W, a, **{**BASE, "input_radius": 1e308}).gap_bound)
    with pytest.raises(InvalidArgumentError, match="`margin`"):
        compression_bound(W, a, **{**BASE, "margin": 1e-300})
    # Large but representable: the sigmoid's output constant is computed without overflow.
    big = compression_bound(W * 1e-290, np.full(40, 1e290), phi="sigmoid", **BASE)
    assert big.scales["C"] is not None and math.isfinite(big.gap_bound)


def test_bounded_loss_arguments_are_named() -> None:
    with pytest.raises(InvalidArgumentError, match="`targets`"):
        bounded_loss([0.1, 0.2], [1, 0], margin=0.1)
    with pytest.raises(InvalidArgumentError, match="`targets`"):
        bounded_loss([0.1, 0.2], [1], margin=0.1)
    with pytest.raises(InvalidArgumentError, match="`outputs`"):
        bounded_loss([np.nan], [1], margin=0.1)
    with pytest.raises(InvalidArgumentError, match="`margin`"):
        bounded_loss([0.1], [1])
    with pytest.raises(InvalidArgumentError, match="`clip`"):
        bounded_loss([0.1], [1.0], loss="clipped_squared")
    with pytest.raises(InvalidArgumentError, match="`n`"):
        default_kappas(0)


def test_default_kappas() -> None:
    """2^(-j/2) down to 1/n, exactly: 2^j <= n^2."""
    for n in (1, 2, 3, 64, 100, 4096):
        grid = default_kappas(n)
        assert grid[0] == 1.0
        assert grid[-1] * n >= 1.0 - 1e-12 and grid[-1] * n / math.sqrt(2) < 1.0
        np.testing.assert_allclose(grid[1:] / grid[:-1], 2**-0.5, rtol=1e-15)
