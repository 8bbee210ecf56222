"""Claim nn.trend: correlations recomputed independently, rules with power, inputs checked."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from heavytail.reports._claims.nn_trend import (
    CLAIM,
    FALL_RULE,
    MNIST_ENV,
    RISE_RULE,
    SCHEMES,
    TrendSize,
    network_summary,
)
from heavytail.reports._kit.claim import Evidence
from heavytail.reports._kit.verdict import Measurement, Verdict
from heavytail.theory import InvalidArgumentError

#: Three step sizes x three seeds of a 3-layer width-16 network, 300 steps to a training
#: loss of 2 (chance is log 10 = 2.3): every network reaches it; a few seconds.
TINY = TrendSize(("fcn3-16-nobias",), "digits", (0.1, 0.3, 0.5), 8, 3, 300, 200, 2.0)


@pytest.fixture(scope="module")
def tiny() -> Evidence:
    return CLAIM.run(TINY, rng=0)


def test_correlations_are_scipys_spearman_of_the_used_networks(tiny: Evidence) -> None:
    """Independent reference: scipy's rho over the networks that reached the target."""
    d = tiny.data
    used = d.used[0]
    assert used.sum() >= 3
    alpha = d.alpha[0].estimate[used]
    refs = [stats.spearmanr(d.eta_over_b[used], alpha[:, j]).statistic for j in range(3)]
    mean_alpha = alpha.mean(axis=1)
    refs += [stats.spearmanr(mean_alpha, d.prunable[0, used, k]).statistic for k in range(3)]
    refs.append(stats.spearmanr(mean_alpha, d.gap[0, used]).statistic)
    got = [c.measurement.estimate for c in tiny.checks]
    np.testing.assert_allclose(got, refs, atol=1e-12)
    np.testing.assert_allclose(d.eta_over_b, np.repeat(TINY.etas, TINY.seeds) / 8)


def test_every_check_has_the_opposite_direction_as_its_control(tiny: Evidence) -> None:
    """At seed 0 the tail indices of layers 2 and 3 fall with eta/b in TINY (rho = -0.70
    and -0.58, intervals below 0): those checks agree and their controls ('no fall') are
    refuted on real training data; the others are inconclusive."""
    assert len(tiny.controls) == len(tiny.checks) == 7
    decided = [c for c in tiny.checks if c.verdict is Verdict.AGREE]
    assert decided, "TINY should decide at least one check, to show the controls can fail"
    for check, control in zip(tiny.checks, tiny.controls, strict=True):
        assert control.measurement == check.measurement
        assert control.rule != check.rule
        if check.verdict is not Verdict.INCONCLUSIVE:  # a decided check: the control opposes
            assert control.verdict is not check.verdict


def test_trend_rules_have_power() -> None:
    falling, rising = Measurement(-0.5, -0.7, -0.3), Measurement(0.5, 0.3, 0.7)
    assert FALL_RULE.judge(0.0, falling) is Verdict.AGREE
    assert FALL_RULE.judge(0.0, rising) is Verdict.DISAGREE
    assert RISE_RULE.judge(0.0, rising) is Verdict.AGREE
    assert RISE_RULE.judge(0.0, falling) is Verdict.DISAGREE
    assert FALL_RULE.judge(0.0, Measurement(0.1, -0.4, 0.6)) is Verdict.INCONCLUSIVE


def test_network_summary_weights_layers_by_their_parameters() -> None:
    table = pd.DataFrame(
        {
            "name": ["a", "b"],
            "n_params": [300, 100],
            "entries_alpha": [1.5, 2.5],
            "entries_ci_low": [1.2, 2.0],
            "entries_ci_high": [1.8, 3.0],
            **{f"prunable_{s}": [0.4, 0.0] for s in SCHEMES},
        }
    )
    summary = network_summary(table)
    np.testing.assert_allclose(summary.prunable, [0.3, 0.3, 0.3])  # (0.4*300 + 0) / 400
    np.testing.assert_array_equal(summary.alpha, [1.5, 2.5])
    assert summary.layers == ("a", "b")


def test_a_grid_where_no_network_converges_is_refused() -> None:
    """No statistic is made from networks that never reached the target loss."""
    never = TrendSize(("fcn3-8-nobias",), "digits", (0.1, 0.2, 0.3), 8, 3, 20, 200, 1e-6)
    with pytest.raises(RuntimeError, match="no network reached training loss"):
        CLAIM.run(never, rng=0)


def test_sizes_are_checked() -> None:
    with pytest.raises(InvalidArgumentError, match="etas"):
        TrendSize(("fcn3-8",), "digits", (0.3, 0.1, 0.2), 8, 3, 10, 200)
    with pytest.raises(InvalidArgumentError, match="data"):
        TrendSize(("fcn3-8",), "cifar", (0.1, 0.2, 0.3), 8, 3, 10, 200)
    with pytest.raises(InvalidArgumentError, match="seeds"):
        TrendSize(("fcn3-8",), "digits", (0.1, 0.2, 0.3), 8, 2, 10, 200)
    with pytest.raises(InvalidArgumentError, match="target_loss"):
        TrendSize(("fcn3-8",), "digits", (0.1, 0.2, 0.3), 8, 3, 10, 200, 0.0)


def test_same_seed_same_numbers(tiny: Evidence) -> None:
    again = CLAIM.run(TINY, rng=0)
    assert again.checks == tiny.checks
    np.testing.assert_array_equal(again.data.prunable, tiny.data.prunable)


def _write_idx(path: Path, array: np.ndarray) -> None:
    """IDX bytes: 0x0000, type 0x08 (unsigned byte), ndim, big-endian dims, data."""
    dims = b"".join(struct.pack(">I", d) for d in array.shape)
    path.write_bytes(bytes([0, 0, 0x08, array.ndim]) + dims + array.astype(np.uint8).tobytes())


def test_the_full_size_reads_the_users_mnist_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With $HEAVYTAIL_MNIST_DIR set, 'mnist-shaped' data are the user's IDX files (here
    random 16 x 16 images): the run says so and trains on their shape. A target loss of
    10 (above any cross-entropy of these networks at the first evaluation) lets every
    network count, so that the machinery is exercised, not the trend."""
    gen = np.random.default_rng(0)
    for name, shape in (
        ("train-images-idx3-ubyte", (60, 16, 16)),
        ("t10k-images-idx3-ubyte", (20, 16, 16)),
    ):
        _write_idx(tmp_path / name, gen.integers(0, 256, shape))
    _write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(60) % 10)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(20) % 10)
    monkeypatch.setenv(MNIST_ENV, str(tmp_path))
    size = TrendSize(("fcn2-16-nobias",), "mnist-shaped", (0.01, 0.02, 0.04), 10, 3, 20, 200, 10.0)
    ev = CLAIM.run(size, rng=0)
    assert ev.settings["data_source"] == f"MNIST from {tmp_path}"
    assert ev.settings["networks_used"] == [9]
    assert ev.data.layers == (("layers.0", "layers.1"),)
    assert len(ev.checks) == 2 + 3 + 1
