"""The three matrix ensembles of docs/theory.md, section 2: marginal law, dependence, and the
no-compressibility of one elliptic layer (docs/compressibility.md, section 6)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from heavytail.theory import (
    InvalidArgumentError,
    elliptic_layer_matrix,
    iid_columns_matrix,
    iid_entries_matrix,
    pruning_curve,
)

Sampler = Callable[..., npt.NDArray[np.float64]]
SAMPLERS = [iid_entries_matrix, iid_columns_matrix, elliptic_layer_matrix]
P_ACCEPT = 1e-3  # a correct law passes unless its KS p-value falls below this
P_REJECT = 1e-6  # a negative control must fall below this


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_shape_seed_and_checks(sampler: Sampler) -> None:
    w = sampler(1.3, 4, 6, rng=7)
    assert w.shape == (4, 6) and w.dtype == np.float64 and np.all(np.isfinite(w))
    assert np.array_equal(w, sampler(1.3, 4, 6, rng=7))
    assert not np.array_equal(w, sampler(1.3, 4, 6, rng=8))
    assert np.array_equal(sampler(1.3, 4, 6, rng=np.random.default_rng(7)), w)
    with pytest.raises(TypeError):
        sampler(1.3, 4, 6, 7)  # rng is keyword-only
    for bad, match in [
        ({"alpha": 0.0}, "`alpha`"),
        ({"alpha": 2.5}, "`alpha`"),
        ({"d": 0}, "`d`"),
        ({"n": 2.0}, "`n` must be an integer"),
        ({"scale": -1.0}, "`scale`"),
        ({"rng": -3}, "`rng`"),
    ]:
        args = {"alpha": 1.0, "d": 3, "n": 3, "scale": 1.0, "rng": 0, **bad}
        with pytest.raises(InvalidArgumentError, match=match):
            sampler(args.pop("alpha"), args.pop("d"), args.pop("n"), **args)


def test_marginals_are_cauchy() -> None:
    """alpha = 1: every entry is S_1(scale, 0, 0), the Cauchy law with that scale.

    Samples of 4000 independent entries per ensemble (seed 3): a row of i.i.d. entries,
    a row across i.i.d. columns, and entry (0, 0) of 4000 independent elliptic layers.
    KS against Cauchy(scale 2) passes at P_ACCEPT; the negative control, Cauchy scale
    3, is rejected at P_REJECT by the same test.
    """
    rng = np.random.default_rng(3)
    samples = {
        "entries": iid_entries_matrix(1.0, 3, 4000, scale=2.0, rng=rng)[0],
        "columns": iid_columns_matrix(1.0, 3, 4000, scale=2.0, rng=rng)[1],
        "layer": np.array(
            [elliptic_layer_matrix(1.0, 2, 3, scale=2.0, rng=rng)[0, 0] for _ in range(4000)]
        ),
    }
    for name, x in samples.items():
        assert stats.kstest(x, stats.cauchy(scale=2.0).cdf).pvalue > P_ACCEPT, name
        assert stats.kstest(x, stats.cauchy(scale=3.0).cdf).pvalue < P_REJECT, name


def test_dependence_structure() -> None:
    """Within a column (elliptic) or a layer, |entries| share one scale: log|W_ij| are
    positively correlated; across i.i.d. entries they are not.

    For i.i.d. entries the correlation of log|W_0j| and log|W_1j| over 4000 columns has
    standard error 1/sqrt(4000) = 0.016; |r| < 0.08 (5 standard errors) passes. For i.i.d.
    elliptic columns the shared A gives a correlation near 0.5 at alpha = 1; > 0.3 is the
    check, which the i.i.d. control fails.
    """
    rng = np.random.default_rng(4)
    ent = np.log(np.abs(iid_entries_matrix(1.0, 2, 4000, rng=rng)))
    col = np.log(np.abs(iid_columns_matrix(1.0, 2, 4000, rng=rng)))
    r_ent = np.corrcoef(ent)[0, 1]
    r_col = np.corrcoef(col)[0, 1]
    assert abs(r_ent) < 0.08
    assert r_col > 0.3
    # The layer's columns are not independent: the log-norms of two columns share A.
    norms = np.array(
        [
            np.log(np.linalg.norm(elliptic_layer_matrix(1.0, 3, 2, rng=rng), axis=0))
            for _ in range(2000)
        ]
    )
    assert np.corrcoef(norms.T)[0, 1] > 0.3
    cols = np.log(np.linalg.norm(iid_columns_matrix(1.0, 3, 4000, rng=rng), axis=0))
    assert abs(np.corrcoef(cols[:2000], cols[2000:])[0, 1]) < 0.1


@pytest.mark.parametrize("method", ["magnitude", "node", "singular"])
def test_elliptic_layer_is_as_compressible_as_gaussian(method: str) -> None:
    """One elliptic layer: pruning errors have the Gaussian matrix's law, whatever alpha.

    The layer is sqrt(A) G and every error is scale invariant, so with the same seed the
    alpha = 0.8 layer and the alpha = 2 layer (G itself: the sampler draws G first) give
    the same errors to rounding (1e-12). Statistically: 30 layers of 40 x 60 at alpha =
    0.8 (seed 9) have a mean magnitude/node/singular error at kappa = 0.1 within 5
    standard errors of that of 30 Gaussian matrices; the negative control, i.i.d.
    entries at alpha = 0.8, is far below (its errors tend to 0) and is rejected by the
    same check.
    """
    kappas = np.array([0.1, 0.3])
    for seed in range(3):
        a = pruning_curve(elliptic_layer_matrix(0.8, 20, 30, rng=seed), kappas, method)
        g = pruning_curve(elliptic_layer_matrix(2.0, 20, 30, rng=seed), kappas, method)
        np.testing.assert_allclose(a, g, rtol=1e-12)

    rng = np.random.default_rng(9)
    reps = 30

    def errors(sampler: Sampler, alpha: float) -> npt.NDArray[np.float64]:
        return np.array(
            [pruning_curve(sampler(alpha, 40, 60, rng=rng), [0.1], method)[0] for _ in range(reps)]
        )

    layer = errors(elliptic_layer_matrix, 0.8)
    gauss = errors(iid_entries_matrix, 2.0)
    iid = errors(iid_entries_matrix, 0.8)

    def z(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> float:
        se = math.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
        return abs(float(x.mean() - y.mean())) / se

    assert z(layer, gauss) < 5.0
    assert z(iid, gauss) > 5.0


@settings(max_examples=60)
@given(
    sampler=st.sampled_from(SAMPLERS),
    alpha=st.one_of(st.floats(), st.sampled_from([0.5, 1.0, 2.0])),
    d=st.one_of(st.integers(-2, 6), st.floats(0, 5)),
    n=st.one_of(st.integers(-2, 6), st.floats(0, 5)),
    scale=st.one_of(st.floats(), st.sampled_from([1e-300, 1.0, 1e300])),
    seed=st.integers(0, 2**32 - 1),
)
def test_no_input_crashes(
    sampler: Sampler, alpha: float, d: Any, n: Any, scale: float, seed: int
) -> None:
    """Any arguments: a (d, n) float64 matrix without NaN, or InvalidArgumentError."""
    try:
        w = sampler(alpha, d, n, scale=scale, rng=seed)
    except InvalidArgumentError:
        return
    assert w.shape == (d, n) and w.dtype == np.float64
    assert not np.isnan(w).any()
