"""Architectures, the spec grammar and seeded initialisation (heavytail.nn._models)."""

from __future__ import annotations

import math

import pytest
import torch

from heavytail._lib._errors import InvalidArgumentError
from heavytail.nn import CNN, FCN, build_model


def _weights(net: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach() for n, p in net.named_parameters() if n.endswith("weight")]


def _n_params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_fcn4_has_four_weight_layers_of_the_stated_shapes() -> None:
    net = build_model("fcn4-32", in_shape=(784,), n_classes=10, rng=0)
    assert isinstance(net, FCN)
    shapes = [tuple(p.shape) for n, p in net.named_parameters() if n.endswith("weight")]
    assert shapes == [(32, 784), (32, 32), (32, 32), (10, 32)]
    # counted by hand: weights plus one bias per unit
    assert _n_params(net) == 784 * 32 + 32 + 2 * (32 * 32 + 32) + 32 * 10 + 10


def test_nobias_and_mean_field_suffixes() -> None:
    net = build_model("fcn2-16-nobias-mf", in_shape=(4, 4), n_classes=3, rng=0)
    assert all(not n.endswith("bias") for n, _ in net.named_parameters())
    assert isinstance(net, FCN) and net.output_scale == 1 / 16
    x = torch.randn(5, 4, 4, generator=torch.Generator().manual_seed(0))
    w1, w2 = _weights(net)
    h = torch.relu(x.flatten(1) @ w1.T)
    # mean-field output: (1/width) W_2 h, by the definition in the docstring
    torch.testing.assert_close(net(x).detach(), h @ w2.T / 16)


def test_mean_field_output_weights_are_order_one() -> None:
    std = build_model("fcn2-256", in_shape=(8,), n_classes=10, rng=0)
    mf = build_model("fcn2-256-mf", in_shape=(8,), n_classes=10, rng=0)
    # U(-1/16, 1/16) against U(-1, 1): max |w| below 1/16 and above 1/2 (2560 draws)
    assert float(_weights(std)[1].abs().max()) <= 1 / 16
    assert float(_weights(mf)[1].abs().max()) > 0.5


def test_init_is_pytorch_default_law() -> None:
    net = build_model("fcn1-1", in_shape=(100,), n_classes=2000, rng=3)
    w = _weights(net)[0].double()
    bound = 1 / math.sqrt(100)
    assert float(w.abs().max()) <= bound
    # variance of U(-b, b) is b^2/3; 2e5 draws give a relative s.e. about 0.3%,
    # so 2% is over six standard errors
    assert abs(float(w.var()) / (bound**2 / 3) - 1) < 0.02


def test_cnn_shapes_and_forward(dtype: torch.dtype, device: torch.device) -> None:
    net = build_model("cnn-4", in_shape=(3, 16, 16), n_classes=7, rng=0, dtype=dtype, device=device)
    assert isinstance(net, CNN)
    out = net(torch.zeros(2, 3, 16, 16, dtype=dtype, device=device))
    assert out.shape == (2, 7) and out.dtype == dtype and out.device.type == device.type
    assert net.head.in_features == 16 * 2 * 2
    nb = build_model("cnn-4-nobias", in_shape=(1, 8, 8), n_classes=2, rng=0)
    assert all(not n.endswith("bias") for n, _ in nb.named_parameters())


@pytest.mark.parametrize("spec", ["fcn3-8", "fcn2-8-nobias-mf", "cnn-2"])
def test_same_rng_same_weights_and_other_rng_other(spec: str) -> None:
    shape = (1, 8, 8)
    a = build_model(spec, in_shape=shape, n_classes=3, rng=5)
    b = build_model(spec, in_shape=shape, n_classes=3, rng=5)
    c = build_model(spec, in_shape=shape, n_classes=3, rng=6)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters(), strict=True):
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc)


def test_weights_agree_across_dtypes_and_devices(device: torch.device) -> None:
    a = build_model("fcn2-8", in_shape=(5,), n_classes=3, rng=1, dtype=torch.float64)
    b = build_model("fcn2-8", in_shape=(5,), n_classes=3, rng=1, dtype=torch.float32, device=device)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        # drawn in float64 on the CPU then cast: float32 is exactly the rounded float64
        assert torch.equal(pa.float(), pb.cpu())


def test_global_torch_rng_untouched() -> None:
    before = torch.random.get_rng_state()
    build_model("cnn-2", in_shape=(1, 8, 8), n_classes=3, rng=0)
    FCN(4, 2, depth=2, width=3, rng=0)
    assert torch.equal(before, torch.random.get_rng_state())


@pytest.mark.parametrize(
    "spec", ["fcn4", "fcn0-8", "fcn2-08", "fcn2-8-mf-nobias", "cnn4-8", "CNN-4", "mlp-3", "", 3]
)
def test_bad_spec_names_spec_quotes_it_and_gives_grammar(spec: object) -> None:
    with pytest.raises(InvalidArgumentError, match=r"`spec` must match .*fcn<depth>-<width>") as e:
        build_model(spec, in_shape=(8,), n_classes=2)  # type: ignore[arg-type]
    assert repr(spec) in str(e.value)


def test_bad_arguments_named() -> None:
    with pytest.raises(InvalidArgumentError, match="`in_shape`"):
        build_model("cnn-4", in_shape=(64,), n_classes=2)
    with pytest.raises(InvalidArgumentError, match="`in_shape`"):
        build_model("fcn2-4", in_shape=(), n_classes=2)
    with pytest.raises(InvalidArgumentError, match="`n_classes`"):
        build_model("fcn2-4", in_shape=(3,), n_classes=0)
    with pytest.raises(InvalidArgumentError, match="`dtype`"):
        build_model("fcn2-4", in_shape=(3,), n_classes=2, dtype=torch.float16)
    with pytest.raises(InvalidArgumentError, match="`device`"):
        build_model("fcn2-4", in_shape=(3,), n_classes=2, device="tpu")
    with pytest.raises(InvalidArgumentError, match="`parametrization`"):
        FCN(3, 2, depth=2, width=4, parametrization="ntk")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal without CUDA")
def test_cuda_refused_without_cuda() -> None:
    with pytest.raises(InvalidArgumentError, match=r"`device` is 'cuda'.*not available"):
        build_model("fcn2-4", in_shape=(3,), n_classes=2, device="cuda")
