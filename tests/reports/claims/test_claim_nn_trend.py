"""Claim nn.trend: the correlation statistic, its positive and null controls on synthetic
layers, what results.json records, and a statement without measured numbers."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import stats

from heavytail.reports import Evidence, Verdict
from heavytail.reports._claims import nn_trend_measure as M
from heavytail.reports._claims import nn_trend_train as T
from heavytail.reports._claims.nn_trend import CLAIM, SIZES, TrendSize

from ._helpers import evidence_fixture

LEVEL = 0.998  # about the Bonferroni level of quick's 24 checks


def _grid(n_eta: int = 6, seeds: int = 3) -> tuple[np.ndarray, np.ndarray]:
    x = np.tile(np.geomspace(1e-3, 3e-2, n_eta), seeds)
    g = np.repeat(np.arange(seeds), n_eta)
    return x, g


def test_combined_spearman_is_the_weighted_mean_of_scipys_rho() -> None:
    """Independent reference: scipy's spearmanr per group, averaged by hand, and the
    interval from the null variance 1 / (n - 1)."""
    rng = np.random.default_rng(1)
    x, g = _grid(8, 3)
    y = -x + rng.normal(0, 0.01, x.size)
    rs = [stats.spearmanr(x[g == k], y[g == k]).statistic for k in range(3)]
    m = M.combined_spearman(x, y, g, level=0.95)
    assert m.estimate == pytest.approx(np.mean(rs), abs=1e-12)
    se = np.sqrt(3 * 64 / 7) / 24
    assert m.low == pytest.approx(max(np.mean(rs) - 1.959963984540054 * se, -1), abs=1e-9)


def test_null_interval_covers_at_its_level_under_no_association() -> None:
    """Under independence (5 networks per seed, 3 seeds, as quick's converged seeds),
    the interval excludes 0 from above in at most about (1 - level) / 2 of the runs:
    the per-seed rho is exact-variance, and perfect rank agreement in one seed does not
    make a detection (which a Fisher-z average did)."""
    rng = np.random.default_rng(5)
    x, g = _grid(5, 3)
    hits = sum(
        M.combined_spearman(x, rng.normal(size=x.size), g, level=0.95).high < 0 for _ in range(4000)
    )
    assert hits / 4000 < 0.035


def test_positive_control_on_synthetic_stable_layers_is_detected() -> None:
    """i.i.d. stable 64 x 64 layers whose alpha falls 1.9 -> 1.4 in log(eta/b), read by
    'auto' on the entries through heavytail.nn.layer_tails: the FALL rule agrees."""
    x, g = _grid(6, 3)
    t = (np.log(x) - np.log(x).min()) / np.ptp(np.log(x))
    alphas = M.POS_ALPHA[0] + (M.POS_ALPHA[1] - M.POS_ALPHA[0]) * t
    y = T.synthetic_alpha(alphas, (64, 64), ("entries",), np.random.default_rng(0))["entries"]
    m = M.combined_spearman(x, y, g, level=LEVEL)
    assert M.FALL.judge(0.0, m) is Verdict.AGREE
    # Null control: the same layers with eta/b permuted within each seed.
    null = M.combined_spearman(M.permuted_within(x, g, np.random.default_rng(2)), y, g, level=LEVEL)
    assert M.FALL.judge(0.0, null) is not Verdict.AGREE


def test_null_control_rejects_no_trend() -> None:
    """Layers of one alpha at every eta/b: no trend, and the FALL rule does not agree."""
    x, g = _grid(6, 3)
    y = T.synthetic_alpha(np.full(x.size, 1.6), (64, 64), ("entries",), np.random.default_rng(3))[
        "entries"
    ]
    assert M.FALL.judge(0.0, M.combined_spearman(x, y, g, level=LEVEL)) is not Verdict.AGREE


def test_too_few_networks_per_seed_give_the_uninformative_interval() -> None:
    x, g = _grid(3, 3)
    m = M.combined_spearman(x, -x, g, level=0.95)
    assert (m.low, m.high) == M.UNINFORMATIVE


def test_minus_gaussian_is_the_difference_of_two_order_statistic_intervals() -> None:
    """Each median's interval at sqrt(level), the difference [low - high_ref,
    high - low_ref] at level."""
    x, ref = np.arange(12.0), np.arange(12.0) / 100.0
    m = M.minus_gaussian(x, ref, level=LEVEL)
    a = M.median_interval(x, level=np.sqrt(LEVEL))
    b = M.median_interval(ref, level=np.sqrt(LEVEL))
    assert (m.estimate, m.low, m.high, m.level) == (
        a.estimate - b.estimate,
        a.low - b.high,
        a.high - b.low,
        LEVEL,
    )


@pytest.mark.slow
def test_tail_check_tells_stable_from_gaussian_layers_at_the_full_sizes_shape() -> None:
    """At a shape of the full size (256 x 256, within auto's calibrated range), the tail
    check through "auto": Gaussian layers against other Gaussian layers must not agree
    (auto reads them a little below 2, so a check against 2 itself can); stable layers
    at 1.9, the positive control, must. Fixed seed; the level is about quick's."""
    rng = np.random.default_rng(7)
    shape = (256, 256)
    gauss, ref, stable = (
        T.synthetic_alpha(np.full(M.NULL_TAIL_DRAWS, a), shape, (M.CALIBRATED_EST,), rng)[
            M.CALIBRATED_EST
        ]
        for a in (2.0, 2.0, M.POS_ALPHA[0])
    )
    rule = M.HEAVY_RULE
    null = M.minus_gaussian(gauss, ref, level=LEVEL)
    positive = M.minus_gaussian(stable, ref, level=LEVEL)
    assert rule.judge(M.BELOW_GAUSSIAN, null) is not Verdict.AGREE, null
    assert rule.judge(M.BELOW_GAUSSIAN, positive) is Verdict.AGREE, positive


def test_median_interval_is_the_order_statistic_interval() -> None:
    v = np.arange(1.0, 21.0)
    m = M.median_interval(v, level=0.95)
    # Bin(20, 1/2): P(X <= 5) = 0.0207 <= 0.025 < P(X <= 6): [v_(6), v_(15)].
    assert (m.low, m.high) == (6.0, 15.0)
    assert m.estimate == 10.5


smoke = evidence_fixture(CLAIM, "smoke", 0, "smoke")


def test_results_name_the_data_estimators_and_sample_sizes(smoke: Evidence) -> None:
    s = smoke.settings
    assert "digits" in s["data_source"] and "real" in s["data_source"]
    assert set(s["estimators"]) == set(M.ESTIMATORS)
    assert set(s["sample_sizes"]) == set(smoke.data.layers)
    for sizes in s["sample_sizes"].values():
        assert set(sizes) == {"rows", "entries", "norms"} and min(sizes.values()) > 0
    assert s["below_calibrated_range"]
    kinds = {c.kind.value for c in smoke.controls}
    assert {"positive", "null"} <= kinds


def test_trend_checks_are_marked_and_each_is_within_b_and_layer(smoke: Evidence) -> None:
    trend = [c for c in smoke.checks if c.trend]
    d = smoke.data
    n_b = len(set(d.batch_size.tolist()))
    assert len(trend) == 3 * n_b * len(d.layers)
    assert all(c.label.startswith("b = ") for c in smoke.checks)


def test_failed_precondition_makes_the_verdict_inconclusive(smoke: Evidence) -> None:
    """Smoke's networks cannot meet its stop rule (100% training accuracy) in 150 steps: the
    precondition fails, and every trend check is inconclusive with [-1, 1]."""
    if not smoke.data.preconditions:
        pytest.skip("smoke met its preconditions at this seed")
    assert smoke.verdict is Verdict.INCONCLUSIVE
    for c in smoke.checks:
        if c.trend:
            assert (c.measurement.low, c.measurement.high) == M.UNINFORMATIVE


def test_statement_quotes_no_measured_number() -> None:
    """Every number in the statement comes from the module's constants and sizes."""
    allowed = set()
    for p in SIZES.values():
        for v in vars(p).values():
            for w in v if isinstance(v, tuple) else (v,):
                if isinstance(w, str):
                    allowed |= set(re.findall(r"\d+", w))
                if isinstance(w, int | float) and not isinstance(w, bool):
                    allowed |= {f"{w:g}", f"{w}", f"{1 - w:g}", f"{w:.0%}".rstrip("%")}
    allowed |= {f"{a:g}" for a in (*M.POS_ALPHA, M.HEAVY, M.MIN_DISTANCE)}
    allowed |= set(re.findall(r"\d+", T.GPU_ARCH))
    allowed |= {"80", "10", "000", "2021", "2023", "5", "1", "4", "0", "2", "3"}
    numbers = set(re.findall(r"\d+(?:\.\d+)?(?:e-?\d+)?", CLAIM.statement))
    assert numbers <= allowed, numbers - allowed
    assert "Found" not in CLAIM.statement and "verdict is" not in CLAIM.statement


def test_sizes_meet_the_replication_regime() -> None:
    full = SIZES["full"]
    assert full.data == "mnist5k" and len(full.batch_sizes) >= 2
    assert full.n_eta >= 6 and full.seeds >= 2
    # Two batch sizes a factor 2 apart add log10(2) to each b's span.
    span = full.decades + np.log10(max(full.batch_sizes) / min(full.batch_sizes))
    assert span >= 1.5
    with pytest.raises(Exception, match="data"):
        TrendSize("fcn3-8-nobias", "synthetic", (8,), 4, 1.0, 0.5, 2, 10, 0.1, 1, 1, 1, 10)


def test_on_a_gpu_full_runs_the_papers_width_on_full_mnist_where_the_user_has_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    full = SIZES["full"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert T.resolve(full) is full
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.delenv(T.MNIST_ENV, raising=False)
    assert (T.resolve(full).arch, T.resolve(full).data) == (T.GPU_ARCH, "mnist5k")
    monkeypatch.setenv(T.MNIST_ENV, "/some/folder")
    assert T.resolve(full).data == "mnist"
    # Quick and smoke stay on the CPU whatever the machine.
    assert T.resolve(SIZES["quick"]) is SIZES["quick"]


@pytest.mark.parametrize("size", ["quick", "full"])
def test_a_perfect_fall_in_every_seed_is_detectable_at_the_sizes_level(size: str) -> None:
    """Power by design: with every network of the grid converged and the ranks agreeing
    perfectly in every seed, the FALL rule agrees at the Bonferroni level of the size's
    checks (4 per layer and batch size). With 2 seeds x 6 step sizes it did not (the
    interval's top was 0.0002): the full size then had no power at all."""
    from heavytail.nn import build_model
    from heavytail.reports import family_level

    p = SIZES[size]
    in_shape = (64,) if p.data == "digits" else (784,)
    n_layers = sum(
        1
        for v in build_model(p.arch, in_shape=in_shape, n_classes=10, rng=0).state_dict().values()
        if v.ndim >= 2
    )
    level = family_level(4 * n_layers * len(p.batch_sizes))
    x, g = _grid(p.n_eta, p.seeds)
    assert M.FALL.judge(0.0, M.combined_spearman(x, -x, g, level=level)) is Verdict.AGREE
    # Control: the same perfect data over 2 seeds (the earlier full size) is not detected.
    x2, g2 = _grid(p.n_eta, 2)
    m2 = M.combined_spearman(x2, -x2, g2, level=family_level(32))
    assert M.FALL.judge(0.0, m2) is not Verdict.AGREE


def test_papers_estimator_columns_are_rows_tail_index_alpha_paper() -> None:
    """The "rows_capped" and "rows" columns are the papers' est_alpha exactly:
    rows_tail_index's alpha_paper and alpha_paper_uncapped on the same row orders, with
    no interval (low = high = the estimate). Control: on Student t (df 3) rows, which are
    not stable, est_alpha (median over the papers' block sizes) differs from the block-sum
    at the single block size K1 = 10 (alpha_capped), so the test tells the two apart."""
    import torch

    from heavytail.nn import layer_tails, rows_tail_index

    g = np.random.default_rng(0)
    state = {
        "hidden.weight": torch.from_numpy(g.standard_t(3, (200, 64))),
        "out.weight": torch.from_numpy(g.normal(size=(10, 200))),
    }
    tails = layer_tails(state, rng=7)
    # layer_tails gives each layer one child stream and the row orders its first child.
    streams = np.random.default_rng(7).spawn(len(state))
    for j, (t, w, gen) in enumerate(zip(tails, state.values(), streams, strict=True)):
        direct = rows_tail_index(w, output_layer=j == len(state) - 1, rng=gen.spawn(4)[0])
        assert t.rows.alphas == direct.alphas  # the same row orders
        a, a_u = direct.alpha_paper, direct.alpha_paper_uncapped
        # Capping each order at 2 then taking the median is the median capped at 2.
        assert np.isfinite(a_u) and a == min(a_u, 2.0)
        assert T.alpha_of(t, "rows_capped") == (a, a, a)
        assert T.alpha_of(t, "rows") == (a_u, a_u, a_u)
    hidden = tails[0].rows
    assert hidden.alpha_paper < 2.0 and hidden.alpha_capped < 2.0
    assert T.alpha_of(tails[0], "rows_capped")[0] != hidden.alpha_capped
