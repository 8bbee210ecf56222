"""rows_tail_index: the papers' block-sum estimate of a layer's rows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from heavytail.nn import RowsTailIndex, rows_tail_index
from heavytail.theory import InvalidArgumentError, block_sum_estimator, sample_stable

# 2000 rows of 20 i.i.d. stable coordinates: 200 blocks of 10, so the delta-method interval
# is about +-0.07 around 1.5; the negative controls sit 0.3 away, over 4 half-widths.
N_ROWS, N_COLS = 2000, 20


@pytest.mark.parametrize("alpha", [1.2, 1.5, 1.8])
def test_iid_stable_rows_recovered_within_interval(alpha: float) -> None:
    w = sample_stable(alpha, (N_ROWS, N_COLS), rng=11)
    est = rows_tail_index(w, rng=5)
    assert isinstance(est, RowsTailIndex)
    assert est.ci[0] < alpha < est.ci[1]
    # Negative control: a law 0.3 away must fall outside the same interval.
    assert not est.ci[0] < alpha - 0.3 < est.ci[1]
    assert not est.ci[0] < alpha + 0.3 < est.ci[1]
    assert (est.n_rows, est.n_cols) == (N_ROWS, N_COLS)
    assert est.alpha_capped == min(est.alpha, 2.0)
    assert not est.below_calibrated_range
    assert est.block_size == 10


def test_torch_and_numpy_agree_bit_for_bit() -> None:
    w = sample_stable(1.5, (300, 40), rng=1)
    a = rows_tail_index(w, rng=3)
    b = rows_tail_index(torch.from_numpy(w).to(torch.float64), rng=3)
    assert a == b


def test_output_layer_is_transposed() -> None:
    # A (10, 3000) output layer: 10 output units, 3000 hidden units. The papers' rows are
    # the 3000 hidden units; without the transposition there are 10 rows (too few).
    w = sample_stable(1.3, (10, 3000), rng=2)
    est = rows_tail_index(w, output_layer=True, rng=4)
    assert (est.n_rows, est.n_cols) == (3000, 10)
    plain = rows_tail_index(w.T.copy(), rng=4)
    assert (est.alphas, est.ci) == (plain.alphas, plain.ci)
    assert "transposed" in est.orientation
    assert est.ci[0] < 1.3 < est.ci[1]
    with pytest.raises(InvalidArgumentError, match="output_layer=True"):
        rows_tail_index(w, rng=4)


def test_median_over_permutations() -> None:
    w = sample_stable(1.5, (500, 30), rng=9)
    est = rows_tail_index(w, n_permutations=5, rng=6)
    assert len(est.alphas) == 5
    assert len(set(est.alphas)) == 5  # the orders differ, so do their estimates
    assert est.alpha == float(np.median(est.alphas))
    assert est.alpha in est.alphas  # an odd count: the median is one of them
    # One order reproduces the estimator on the column-median-centred, permuted rows.
    gen = np.random.default_rng(6)
    centred = w - np.median(w, axis=0)
    expected = block_sum_estimator(centred[gen.permutation(500)])
    one = rows_tail_index(w, n_permutations=1, rng=6)
    assert one.alpha == expected.alpha
    assert one.ci == expected.ci
    # Negative control: without the median subtraction the estimate is another number.
    uncentred = block_sum_estimator(w[np.random.default_rng(6).permutation(500)])
    assert uncentred.alpha != one.alpha


def test_cap_and_warning_above_two() -> None:
    # Uniform rows (1-D): the block sums grow more slowly relative to E log|X| than any
    # stable law allows; the estimate is above 2 (seed fixed; its interval's lower end is
    # above 2 too).
    x = np.random.default_rng(3).uniform(-1.0, 1.0, (3000, 1))
    est = rows_tail_index(x, rng=0)
    assert est.alpha > 2.0
    assert est.alpha_capped == 2.0
    assert any("above 2" in w for w in est.warnings)


def test_below_calibrated_range_marked() -> None:
    small = rows_tail_index(sample_stable(1.5, (500, 10), rng=0), rng=0)
    large = rows_tail_index(sample_stable(1.5, (1000, 10), rng=0), rng=0)
    assert small.below_calibrated_range and any("calibrated" in w for w in small.warnings)
    assert not large.below_calibrated_range


def test_convolution_weight_read_as_kernels() -> None:
    w = sample_stable(1.5, (8, 4, 3, 3), rng=0)
    est = rows_tail_index(w, rng=0)
    assert (est.n_rows, est.n_cols) == (32, 9)


@pytest.mark.parametrize(
    ("weight", "match"),
    [
        (np.ones(50), "2-D"),
        (np.ones((30, 3, 2)), "2-D"),
        (np.full((30, 3), np.nan), "NaN"),
        (np.array([["a"] * 3] * 30), "real numbers"),
        (torch.ones(30, 3, dtype=torch.complex64), "real"),
        (np.zeros((0, 3)), "empty"),
        (np.ones((30, 3)), "all rows equal"),
        (np.ones((5, 3)), "at least 20"),
    ],
)
def test_bad_weight_names_the_argument(weight: object, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match) as info:
        rows_tail_index(weight, rng=0)
    assert "`weight`" in str(info.value)


def test_bad_options_name_the_argument() -> None:
    w = sample_stable(1.5, (100, 5), rng=0)
    with pytest.raises(InvalidArgumentError, match="output_layer"):
        rows_tail_index(w, output_layer="yes", rng=0)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="n_permutations"):
        rows_tail_index(w, n_permutations=0, rng=0)
    with pytest.raises(InvalidArgumentError, match="rng"):
        rows_tail_index(w, rng=-1)


# The papers' own number, transcribed from mbarsbey/sgd_comp_gen exp_utils.py (find_m,
# est_alpha, alpha_estimator_multi) in torch, as they run it, for comparison.
def _find_m(n: int, m: int = 0) -> int:
    if m == 0:
        m = int(np.sqrt(n))
    while n % m != 0:
        m -= 1
    return m


def _their_est_alpha(x: np.ndarray) -> float:
    import math

    n = len(x)
    m = _find_m(n)
    cands = (
        [
            c if n % c == 0 else _find_m(n, c)
            for c in [2, 5, 10, 20, 50, 100, 500, 1000]
            if c <= n / 2
        ]
        if n != 10
        else [2, 5]
    )
    cands = sorted(set(cands))
    if m not in cands and m > 1:
        cands.append(m)
    t = torch.from_numpy(x)
    eps = np.spacing(1)
    out = []
    for mm in cands:
        y = torch.sum(t.view(n // mm, mm, -1), 1)
        diff = (
            torch.log(y.norm(dim=1) + eps).mean() - torch.log(t.norm(dim=1) + eps).mean()
        ) / math.log(mm)
        out.append(1 / diff.item())
    return min(float(np.median(out)), 2.0)


@pytest.mark.parametrize("n_rows", [10, 300, 1000, 2048])
def test_paper_number_matches_their_code(n_rows: int) -> None:
    from heavytail.nn._rows import paper_block_sum_alpha

    x = sample_stable(1.3, (n_rows, 16), rng=n_rows)
    x = x - np.median(x, axis=0)
    # Both sides are float64 sums of n_rows norms in different orders: agreement to
    # 1e-9 relative leaves ample room for rounding (n * eps ~ 5e-13) and none for a
    # different block size or estimator (those move the number by 1e-3 or more).
    assert paper_block_sum_alpha(x) == pytest.approx(_their_est_alpha(x), rel=1e-9)


def test_rows_tail_index_gives_the_papers_number_on_the_same_orders() -> None:
    w = sample_stable(1.5, (1200, 24), rng=5)
    est = rows_tail_index(w, rng=11)
    centred = w - np.median(w, axis=0)
    gen = np.random.default_rng(11)
    theirs = [_their_est_alpha(centred[gen.permutation(1200)]) for _ in range(5)]
    assert est.alpha_paper == pytest.approx(float(np.median(theirs)), rel=1e-9)
    assert est.alpha_paper <= 2.0 and est.alpha_paper_uncapped >= est.alpha_paper - 1e-12
    # 500 does not divide 1200: rounded down to 400; sqrt(1200) = 34.6 gives 30.
    assert est.paper_block_sizes == (2, 5, 10, 20, 30, 50, 100, 400)
    # Stable(1.5) rows: the papers' number lies near 1.5 (threshold 0.25: their median
    # over block sizes at n = 1200 has a spread of about 0.1 on such data, seed fixed);
    # control: Gaussian rows read 2 (the cap), far from 1.5.
    assert abs(est.alpha_paper - 1.5) < 0.25
    gauss = rows_tail_index(np.random.default_rng(3).standard_normal((1200, 24)), rng=11)
    assert gauss.alpha_paper == 2.0 and abs(gauss.alpha_paper - 1.5) >= 0.25
