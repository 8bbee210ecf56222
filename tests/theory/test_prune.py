"""Pruning errors: against an independent masked/reconstructed reference, properties, and
the ordering at matched budgets derived in docs/compressibility.md, section 4."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from heavytail.theory import (
    InvalidArgumentError,
    iid_columns_matrix,
    iid_entries_matrix,
    matched_kappas,
    parameter_count,
    prunable_fraction,
    pruning_curve,
    pruning_error,
)
from heavytail.theory.strategies import float_arrays

FloatArray = npt.NDArray[np.float64]
METHODS = ["magnitude", "node", "singular"]


# --------------------------------------------------------------------------------------
# An independent reference: build the pruned matrix and take the norm of the difference.


def reference_error(w: FloatArray, kappa: float, method: str) -> float:
    """Prune W explicitly (argsort and mask, or SVD and reconstruct) and measure."""
    d, n = w.shape
    if method == "magnitude":
        k = max(1, round(kappa * d * n))
        flat = w.ravel().copy()
        flat[np.argsort(np.abs(flat))[: d * n - k]] = 0.0
        pruned = flat.reshape(d, n)
    elif method == "node":
        k = max(1, round(kappa * n))
        pruned = w.copy()
        pruned[:, np.argsort(np.linalg.norm(w, axis=0))[: n - k]] = 0.0
    else:
        k = max(1, round(kappa * min(d, n)))
        u, s, vh = np.linalg.svd(w, full_matrices=False)
        pruned = (u[:, :k] * s[:k]) @ vh[:k]
    return float(np.linalg.norm(w - pruned) / np.linalg.norm(w))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(7, 13), (13, 7), (1, 9), (9, 1), (20, 20)])
def test_matches_reference(method: str, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(11)
    w = rng.standard_t(1.5, size=shape)
    d, n = shape
    units = {"magnitude": d * n, "node": n, "singular": min(d, n)}[method]
    kappas = np.arange(1, units + 1) / units  # every k, with kappa units = k exactly
    curve = pruning_curve(w, kappas, method)
    ref = [reference_error(w, float(k), method) for k in kappas]
    # Tolerance: the reference subtracts and re-norms (relative rounding ~1e-15 of
    # ||W||, hence absolute ~1e-15 on the error) and the SVD reconstruction adds
    # ~1e-14 of ||W||; 1e-11 is far below any gap between consecutive k.
    np.testing.assert_allclose(curve, ref, rtol=1e-9, atol=1e-11)
    assert pruning_error(w, float(kappas[0]), method) == curve[0]


def test_small_exact_values() -> None:
    w = np.array([[3.0, 0.0], [0.0, 4.0]])
    # Node and magnitude: 9 / 25 then a square root, two roundings of eps / 2 each, so
    # 1 eps = 2.2e-16 relative at most. Singular: the SVD is backward stable, off by at
    # most about (m + n) eps ||W||_F = 4 eps * 5 on each singular value, i.e. 4 eps
    # relative to ||W||_F, and the error (0.6) is divided by ||W||_F: 4 eps / 0.6 = 1.5e-15.
    # A wrong kept count changes the error to 0 or 1.
    eps = float(np.finfo(np.float64).eps)
    assert pruning_error(w, 0.5, "node") == pytest.approx(0.6, rel=eps, abs=0)
    assert pruning_error(w, 0.5, "singular") == pytest.approx(0.6, rel=4 * eps / 0.6, abs=0)
    assert pruning_error(w, 0.25, "magnitude") == pytest.approx(0.6, rel=eps, abs=0)
    assert pruning_error(w, 0.5, "magnitude") == 0.0
    # centre="median": median of (3, 0, 0, 4) is 1.5; W - 1.5 = [[1.5, -1.5], [-1.5, 2.5]].
    expected = math.sqrt(3 * 1.5**2 / (3 * 1.5**2 + 2.5**2))
    assert pruning_error(w, 0.25, "magnitude", centre="median") == pytest.approx(expected)


def test_extreme_magnitudes() -> None:
    """Entries near the largest double: the column norms and ||W||_F exceed it."""
    w = np.array([[1.7e308, 1.0e308, 0.0], [1.7e308, 0.0, 1e-300]])
    # Node: norms sqrt(2) 1.7e308, 1e308, 1e-300; keep 1 -> sqrt(1 / (2 * 1.7^2 + 1)).
    expected = math.sqrt(1.0 / (2 * 1.7**2 + 1.0))
    assert pruning_error(w, 1 / 3, "node") == pytest.approx(expected, rel=1e-12)
    assert pruning_error(w, 1 / 3, "magnitude") == pytest.approx(expected, rel=1e-12)
    s = np.linalg.svd(w / 1e308, compute_uv=False)
    assert pruning_error(w, 0.5, "singular") == pytest.approx(s[1] / math.hypot(*s), rel=1e-10)


def test_parameter_count() -> None:
    assert parameter_count((100, 50), 0.1, "magnitude") == 500
    assert parameter_count((100, 50), 0.1, "node") == 5 * 100
    assert parameter_count((100, 50), 0.1, "singular") == 5 * 150
    assert parameter_count((3, 10), 0.3, "node") == 9  # 0.3 * 10 keeps 3, not 4
    assert parameter_count((10, 3), 1.0, "singular") == 3 * 13
    with pytest.raises(InvalidArgumentError, match="`shape` must be a pair"):
        parameter_count((3,), 0.5, "node")
    with pytest.raises(InvalidArgumentError, match=r"`shape\[0\]` must be in \[1, inf\]"):
        parameter_count((0, 3), 0.5, "node")
    with pytest.raises(InvalidArgumentError, match="`method` must be one of"):
        parameter_count((3, 3), 0.5, "nodes")  # type: ignore[arg-type]


def test_prunable_fraction_definition() -> None:
    rng = np.random.default_rng(5)
    w = rng.standard_cauchy((30, 40))
    for method in METHODS:
        units = {"magnitude": 1200, "node": 40, "singular": 30}[method]
        curve = pruning_curve(w, np.arange(1, units + 1) / units, method)
        for eps in [0.0, 1e-3, 0.05, 0.3, 0.9, 0.999]:
            f = prunable_fraction(w, eps, method)
            k = round(units * (1 - f))
            assert curve[k - 1] <= eps  # keeping k is within eps
            assert k == 1 or curve[k - 2] > eps  # keeping k - 1 is not
        assert prunable_fraction(w, 1.0, method) == 1.0
    sparse = np.zeros((4, 5))
    sparse[1, 2] = 3.0
    sparse[0, 4] = -1.0
    assert prunable_fraction(sparse, 0.0, "magnitude") == 18 / 20
    assert prunable_fraction(sparse, 0.0, "node") == 3 / 5


# --------------------------------------------------------------------------------------
# Input checks and fuzzing.


@pytest.mark.parametrize(
    ("w", "kwargs", "match"),
    [
        ([1.0, 2.0], {}, "`W` must be 2-D, got 1-D"),
        (np.ones((2, 2, 2)), {}, "`W` must be 2-D, got 3-D"),
        (np.ones((0, 3)), {}, "`W` must hold at least 1"),
        (np.ones((3, 0)), {}, "`W` must hold at least 1"),
        ([[1.0, math.nan]], {}, "`W` must be finite"),
        ([[1.0, -math.inf]], {}, "`W` must be finite"),
        ([[0.0, 0.0]], {}, "`W` must have a non-zero entry"),
        ([[2.0, 2.0]], {"centre": "median"}, "`W` minus its median is the zero matrix"),
        ([[1.0, 2.0]], {"centre": "mean"}, "`centre` must be one of 'none', 'median'"),
        ([[1.0, 2.0]], {"method": "rows"}, "`method` must be one of"),
        ([[1.0, 2.0]], {"kappa": 0.0}, r"`kappa` must be in \(0, 1\]"),
        ([[1.0, 2.0]], {"kappa": 1.01}, r"`kappa` must be in \(0, 1\]"),
        ([[1.0, 2.0]], {"kappa": math.nan}, "`kappa` must be a number"),
        ([[1.7e308, -1.7e308, -1.7e308]], {"centre": "median"}, "`W` minus its median overflows"),
    ],
)
def test_pruning_error_rejects(w: Any, kwargs: dict[str, Any], match: str) -> None:
    args = {"kappa": 0.5, "method": "node", **kwargs}
    with pytest.raises(InvalidArgumentError, match=match):
        pruning_error(w, **args)


@pytest.mark.parametrize("eps", [-0.1, 1.1, math.nan, math.inf])
def test_prunable_fraction_rejects_eps(eps: float) -> None:
    with pytest.raises(InvalidArgumentError, match="`eps`"):
        prunable_fraction([[1.0, 2.0]], eps, "node")


@settings(max_examples=150)
@given(
    flat=float_arrays(max_size=24),
    rows=st.integers(1, 4),
    kappa=st.one_of(st.floats(), st.sampled_from([1e-300, 0.5, 1.0])),
    eps=st.one_of(st.floats(), st.sampled_from([0.0, 0.5, 1.0])),
    method=st.sampled_from([*METHODS, "bogus"]),
    centre=st.sampled_from(["none", "median", "x"]),
)
def test_no_input_crashes(
    flat: FloatArray, rows: int, kappa: float, eps: float, method: Any, centre: Any
) -> None:
    """Any input gives a value in [0, 1] or raises InvalidArgumentError."""
    w = flat[: (flat.size // rows) * rows].reshape(rows, -1) if flat.size >= rows else flat
    for fn, level in ((pruning_error, kappa), (prunable_fraction, eps)):
        try:
            value = fn(w, level, method, centre=centre)
        except InvalidArgumentError:
            continue
        assert 0.0 <= value <= 1.0, fn.__name__


# --------------------------------------------------------------------------------------
# Properties on arbitrary matrices.

seeds = st.integers(0, 2**32 - 1)


@st.composite
def matrices(draw: st.DrawFn, max_side: int = 8) -> FloatArray:
    """Arbitrary finite matrices with a non-zero entry (any magnitudes up to 1e150)."""
    d = draw(st.integers(1, max_side))
    n = draw(st.integers(1, max_side))
    elements = st.one_of(
        st.floats(-1e150, 1e150, allow_nan=False),
        st.sampled_from([0.0, 1.0, -1.0, 1e-300, 5e-324]),
    )
    w = draw(hnp.arrays(np.float64, (d, n), elements=elements))
    if not w.any():
        w[0, 0] = 1.0
    return w


@settings(max_examples=80)
@given(w=matrices(), method=st.sampled_from(METHODS), seed=seeds)
def test_properties(w: FloatArray, method: str, seed: int) -> None:
    d, n = w.shape
    kappas = np.linspace(0.01, 1.0, 25)
    curve = pruning_curve(w, kappas, method)
    assert np.all((curve >= 0.0) & (curve <= 1.0))
    assert np.all(np.diff(curve) <= 0.0)  # exactly non-increasing
    assert curve[-1] == 0.0
    rng = np.random.default_rng(seed)
    # Row and column permutations, and sign flips of columns, leave every method's
    # error unchanged; magnitude and node are exactly unchanged (same sorted values).
    moved = (w[rng.permutation(d)][:, rng.permutation(n)]) * rng.choice([-1.0, 1.0], n)
    permuted = pruning_curve(moved, kappas, method)
    if method == "singular":
        # The SVD of a permuted matrix is computed in another order: backward stable,
        # so errors agree to a few units of 1e-16 relative to ||W||; 1e-10 absolute
        # leaves room for small singular values' relative error.
        np.testing.assert_allclose(permuted, curve, rtol=1e-8, atol=1e-10)
    else:
        assert np.array_equal(permuted, curve)
    # Scaling: 2^j exactly for magnitude (j small enough not to overflow), approximately
    # otherwise (one rounding per entry).
    c = float(rng.uniform(0.01, 100.0))
    scaled = pruning_curve(c * w, kappas, method)
    np.testing.assert_allclose(scaled, curve, rtol=1e-8, atol=1e-10)
    if method == "magnitude":
        full = rng.permutation(w.ravel()).reshape(d, n)
        assert np.array_equal(pruning_curve(full, kappas, method), curve)


@settings(max_examples=40)
@given(w=matrices(), shift=st.floats(-1e3, 1e3), method=st.sampled_from(METHODS))
def test_median_centring_removes_a_shift(w: FloatArray, shift: float, method: str) -> None:
    """centre="median" prunes W - median(W), so adding a constant changes nothing."""
    w = np.clip(w, -1e3, 1e3)
    centred = w - np.median(w)
    norm = float(np.linalg.norm(centred))
    if norm < 1e-3:  # the shift would swamp the spread (1e3 * 2^-52 against <= 1e-3)
        return
    kappas = np.linspace(0.05, 1.0, 10)
    a = pruning_curve(w, kappas, method, centre="median")
    b = pruning_curve(w + shift, kappas, method, centre="median")
    # Adding then subtracting the shift (and the median) moves each entry by at most
    # 2 * 2^-52 * (|shift| + max|W|); every best k-term error (and the norm) is
    # 1-Lipschitz in W for the Frobenius norm, so each relative error moves by at most
    # 2 * ||W - W'||_F / ||W - m||_F; 4x that bound, plus 1e-14 for the errors' own
    # rounding, is the tolerance.
    moved = 2 * 2.0**-52 * (abs(shift) + float(np.max(np.abs(w)))) * math.sqrt(w.size)
    np.testing.assert_allclose(a, b, rtol=0, atol=8 * moved / norm + 1e-14)


def test_median_centring_negative_control() -> None:
    """Without centring, the same shift changes the errors far beyond that tolerance."""
    w = np.array([[1.0, 2.0, 3.0, 10.0]])
    kappas = [0.25, 0.5]
    for method in METHODS:
        a = pruning_curve(w, kappas, method, centre="median")
        b = pruning_curve(w + 100.0, kappas, method, centre="median")
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    plain = pruning_curve(w, kappas, "magnitude")
    shifted = pruning_curve(w + 100.0, kappas, "magnitude")
    assert np.all(np.abs(plain - shifted) > 0.1)


# --------------------------------------------------------------------------------------
# The ordering at matched budgets (docs/compressibility.md, section 4).


@settings(max_examples=150)
@given(w=matrices(max_side=9), data=st.data())
def test_ordering_at_matched_budgets(w: FloatArray, data: st.DataObject) -> None:
    """Magnitude <= node and singular <= node when node keeps j columns, magnitude keeps
    the same j d entries and singular keeps rank min(j, r): on every matrix.

    Tolerance: the singular-value side is an SVD, backward stable to a few ulps of
    ||W||_F, so it may exceed node by ~1e-15 when the two coincide (e.g. orthogonal
    columns). Magnitude and node drop the same mass when they coincide, but sum it
    differently, each error being sqrt(tail / total) over N = d n squared ratios
    (a / max)^2 (theory/_compress.py, SortedTail):
    - float sums: each of tail and total is within (N - 1) eps relative, and node's column
      norms squared back add (d + 2) eps, so each error is within (N + d + 3) eps;
    - tails whose ratios underflow are summed in logarithms; a term's logarithm is at most
      p |ln(2^-1074 / 2^1024)| = 2 * 1455 in size, so each carries an absolute rounding of
      2910 eps, and N of them give N * 2910 eps in log(tail / total), half of it in the
      error (a relative error; found at 26 eps on a 3 x 7 matrix with one entry 2.7e116).
    The two methods' bounds add. At most 9 x 9 this is below 6e-11, far below the gaps of
    the negative controls below (0.1 and more).
    """
    d, n = w.shape
    j = data.draw(st.integers(1, n))
    kap = matched_kappas((d, n), j)
    node = pruning_error(w, kap["node"], "node")
    mag = pruning_error(w, kap["magnitude"], "magnitude")
    sing = pruning_error(w, kap["singular"], "singular")
    big_n, eps = d * n, np.finfo(np.float64).eps
    rel = 2 * ((big_n + d + 3) + big_n * 1455) * eps
    assert mag <= node * (1 + rel) + 1e-300
    assert sing <= node + 1e-12


def test_ordering_negative_controls() -> None:
    """The same comparisons fail at unmatched budgets, as the derivation predicts."""
    # Same kappa, kappa n not an integer: ceil(kappa d n) < d ceil(kappa n).
    ones = np.ones((2, 3))
    assert pruning_error(ones, 0.1, "magnitude") > pruning_error(ones, 0.1, "node")
    # Same kappa, d < n: singular keeps ceil(kappa d) < ceil(kappa n) ranks.
    w = np.zeros((2, 4))
    w[0, 0] = w[1, 1] = 1.0
    assert pruning_error(w, 0.5, "singular") > pruning_error(w, 0.5, "node") + 0.5
    # Matched parameter counts: node keeps 2 of 4 columns of I_4 (8 numbers); rank-1
    # storage is 1 * (4 + 4) = 8 numbers, and its error is larger.
    eye = np.eye(4)
    assert parameter_count((4, 4), 0.5, "node") == parameter_count((4, 4), 0.25, "singular")
    assert pruning_error(eye, 0.25, "singular") > pruning_error(eye, 0.5, "node") + 0.1


def test_ordering_on_heavy_tailed_ensembles() -> None:
    """Ordering at matched budgets on 40 seeded random matrices of both i.i.d. ensembles."""
    rng = np.random.default_rng(20261127)
    for _ in range(20):
        for sampler in (iid_entries_matrix, iid_columns_matrix):
            d, n = (int(v) for v in rng.integers(2, 30, size=2))
            w = sampler(float(rng.uniform(0.5, 2.0)), d, n, rng=rng)
            for j in range(1, n + 1):
                kap = matched_kappas((d, n), j)
                node = pruning_error(w, kap["node"], "node")
                assert pruning_error(w, kap["magnitude"], "magnitude") <= node * (1 + 4e-16)
                assert pruning_error(w, kap["singular"], "singular") <= node + 1e-12


def test_matched_kappas() -> None:
    assert matched_kappas((2, 4), 3) == {"magnitude": 0.75, "node": 0.75, "singular": 1.0}
    assert parameter_count((3, 7), matched_kappas((3, 7), 5)["magnitude"], "magnitude") == 15
    with pytest.raises(InvalidArgumentError, match="`columns` must be in"):
        matched_kappas((2, 4), 5)


@settings(max_examples=60)
@given(
    w=matrices(),
    method=st.sampled_from(METHODS),
    eps=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=2),
    seed=seeds,
)
def test_prunable_fraction_properties(
    w: FloatArray, method: str, eps: list[float], seed: int
) -> None:
    """Non-decreasing in eps, in [0, 1], and unchanged by permuting rows and columns."""
    lo, hi = sorted(eps)
    f_lo = prunable_fraction(w, lo, method)
    f_hi = prunable_fraction(w, hi, method)
    assert 0.0 <= f_lo <= f_hi <= 1.0
    if method != "singular":  # exact sorts: exactly unchanged
        rng = np.random.default_rng(seed)
        moved = w[rng.permutation(w.shape[0])][:, rng.permutation(w.shape[1])]
        assert prunable_fraction(moved, lo, method) == f_lo
