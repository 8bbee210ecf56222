"""The torch stable sampler and Wan et al.'s injected noise (heavytail.nn._noise)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._noise_kinds import NoiseKind
from heavytail.nn import InjectedNoise, symmetric_stable
from heavytail.nn._noise import NoisePlan
from heavytail.theory import sample_stable

N_KS = 20_000
# Two-sample KS test of |X| (the laws are symmetric, so folding loses nothing and puts both
# tails on one side, where alpha acts). Fixed seeds make it deterministic; 1e-3 is the
# rejection level: a correct sampler fails with probability 1e-3 over seeds, and the
# negative controls below (alpha off by 0.2) give p below 1e-5 at this n.
KS_LEVEL = 1e-3


def _ks_pvalue(x: torch.Tensor, alpha: float, seed: int) -> float:
    ref = sample_stable(alpha, N_KS, rng=seed)
    return float(stats.ks_2samp(np.abs(x.cpu().double().numpy()), np.abs(ref)).pvalue)


@pytest.mark.parametrize("alpha", [0.8, 1.0, 1.5, 1.75, 2.0])
def test_sampler_matches_theory_sample_stable(alpha: float, device: torch.device) -> None:
    x = symmetric_stable(alpha, N_KS, rng=11, device=device, dtype=torch.float64)
    assert x.device.type == device.type and bool(x.isfinite().all())
    assert _ks_pvalue(x, alpha, seed=12) > KS_LEVEL
    # negative control: the same test must reject a wrong alpha
    wrong = alpha - 0.2 if alpha > 1.0 else alpha + 0.2
    assert _ks_pvalue(x, wrong, seed=12) < KS_LEVEL


def test_special_cases_against_exact_laws() -> None:
    # alpha = 2 is N(0, 2) and alpha = 1 the standard Cauchy (docs/theory.md, section 3)
    g = symmetric_stable(2.0, N_KS, rng=3, dtype=torch.float64).numpy()
    c = symmetric_stable(1.0, N_KS, rng=4, dtype=torch.float64).numpy()
    assert stats.kstest(g, stats.norm(scale=math.sqrt(2)).cdf).pvalue > KS_LEVEL
    assert stats.kstest(c, stats.cauchy().cdf).pvalue > KS_LEVEL
    # negative controls: the unit normal and a Cauchy of scale 1.1 are rejected
    assert stats.kstest(g, stats.norm().cdf).pvalue < KS_LEVEL
    assert stats.kstest(c, stats.cauchy(scale=1.1).cdf).pvalue < KS_LEVEL


def test_transform_replays_the_documented_stream() -> None:
    """Exact regression: uniforms then exponentials, then the CMS formula, in numpy."""
    alpha = 1.3
    x = symmetric_stable(alpha, 7, rng=torch.Generator().manual_seed(5), dtype=torch.float64)
    gen = torch.Generator().manual_seed(5)
    u = torch.rand(7, generator=gen, dtype=torch.float64).numpy()
    w = torch.empty(7, dtype=torch.float64).exponential_(generator=gen).numpy()
    v = np.pi * (u - 0.5 + 2.0**-54)
    want = (
        np.sin(alpha * v)
        / np.cos(v) ** (1 / alpha)
        * (np.cos((1 - alpha) * v) / w) ** ((1 - alpha) / alpha)
    )
    np.testing.assert_allclose(x.numpy(), want, rtol=1e-13)  # same formula, libm rounding


def test_float32_is_the_rounded_float64_draw() -> None:
    a = symmetric_stable(1.5, 100, rng=2, dtype=torch.float64)
    b = symmetric_stable(1.5, (10, 10), rng=2, dtype=torch.float32)
    assert torch.equal(a.float().reshape(10, 10), b)


def _plan_noise(kind: NoiseKind, alpha: float, shape: tuple[int, ...], seed: int) -> torch.Tensor:
    plan = NoisePlan(InjectedNoise(alpha, 1.0, kind), [("w", torch.Size(shape))])
    gen = torch.Generator().manual_seed(seed)
    (out,) = plan.transform(plan.draw(gen, torch.device("cpu")), 1.0)
    return out


def test_type1_one_scalar_per_unit() -> None:
    noise = _plan_noise("unit", 1.5, (N_KS, 3), seed=1)
    assert torch.equal(noise, noise[:, :1].expand(-1, 3))  # the same L_i along unit i
    assert _ks_pvalue(noise[:, 0], 1.5, seed=2) > KS_LEVEL


def test_type2_iid_entries() -> None:
    noise = _plan_noise("iid", 1.5, (N_KS, 2), seed=1)
    assert _ks_pvalue(noise[:, 1], 1.5, seed=2) > KS_LEVEL
    # independent entries: rank correlation of |L_i0| and |L_i1| near 0; its s.e. is
    # 1/sqrt(n) = 0.007, so 0.03 is over four standard errors
    rho = stats.spearmanr(noise[:, 0].abs(), noise[:, 1].abs()).statistic
    assert abs(rho) < 0.03


def test_type3_elliptic_marginals_and_shared_scale() -> None:
    noise = _plan_noise("elliptic", 1.5, (N_KS, 2), seed=1)
    assert _ks_pvalue(noise[:, 1], 1.5, seed=2) > KS_LEVEL  # each entry standard stable
    # entries of a unit share A_i: their magnitudes are positively dependent (rank
    # correlation about 0.2 at alpha = 1.5); the type-2 test above is the control at 0
    rho = stats.spearmanr(noise[:, 0].abs(), noise[:, 1].abs()).statistic
    assert rho > 0.1
    # at alpha = 2 the elliptic vector is sqrt(2) N(0, I): independent normal entries
    gauss = _plan_noise("elliptic", 2.0, (N_KS, 2), seed=3)
    assert stats.kstest(gauss[:, 0].numpy(), stats.norm(scale=math.sqrt(2)).cdf).pvalue > KS_LEVEL


def test_scale_and_layers() -> None:
    noise = InjectedNoise(alpha=1.75, scale=0.003, kind="iid")
    # One power, one quotient, one product, each rounded by at most eps / 2 relative,
    # computed the same way or in another order: at most 3 eps = 6.7e-16 apart; 1e-15 is
    # above that, and a wrong exponent (1 / alpha) moves the value by > 1e-3.
    assert noise.factor(0.01) == pytest.approx(0.003 * 0.01 ** (1 / 1.75), rel=1e-15)
    shapes = [
        ("layers.0.weight", torch.Size([4, 3])),
        ("layers.0.bias", torch.Size([4])),
        ("layers.1.weight", torch.Size([2, 4])),
    ]
    first = NoisePlan(InjectedNoise(1.5, 1.0, "unit", layers="first"), shapes)
    assert first.chosen == (True, True, False) and first.n_units == 8
    every = NoisePlan(InjectedNoise(1.5, 1.0, "elliptic"), shapes)
    assert every.n_units == 10 and every.n_entries == 12 + 4 + 8
    gen = torch.Generator().manual_seed(0)
    raw = every.draw(gen, torch.device("cpu"))
    unit = every.transform(raw, 1.0)
    scaled = every.transform(raw, 0.25)
    for a, b, (_, s) in zip(unit, scaled, shapes, strict=True):
        assert a.shape == s
        # the transform multiplies by the scale (once rounded): a product of two doubles,
        # eps / 2 relative each side: 2 eps = 4.4e-16 < 1e-15; a wrong scale is off by > 1%
        torch.testing.assert_close(b, 0.25 * a, rtol=1e-15, atol=0)
    assert not NoisePlan(InjectedNoise(1.5, 0.0, "unit"), shapes).active


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 1.5, "scale": 1.0, "kind": 1}, "`kind`"),
        ({"alpha": 1.5, "scale": 1.0, "kind": "gaussian"}, "`kind`"),
        ({"alpha": 0.0, "scale": 1.0}, "`alpha`"),
        ({"alpha": 2.5, "scale": 1.0}, "`alpha`"),
        ({"alpha": 1.5, "scale": -1.0}, "`scale`"),
        ({"alpha": 1.5, "scale": 1.0, "layers": "last"}, "`layers`"),
    ],
)
def test_bad_noise_named(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        InjectedNoise(**kwargs)  # type: ignore[arg-type]


def test_bad_sampler_arguments_named() -> None:
    with pytest.raises(InvalidArgumentError, match="`alpha`"):
        symmetric_stable(2.1, 3)
    with pytest.raises(InvalidArgumentError, match="`size`"):
        symmetric_stable(1.5, -1)
    with pytest.raises(InvalidArgumentError, match="`dtype`"):
        symmetric_stable(1.5, 3, dtype=torch.float16)
