"""torch pruning helpers: masks that agree with heavytail.theory's pruning errors."""

from __future__ import annotations

import itertools
from typing import Literal

import numpy as np
import pytest
import torch
from torch.nn.utils import prune

from heavytail.nn import build_model, prune_layer, prune_model, weight_matrix
from heavytail.nn._prune_torch import weight_layers
from heavytail.theory import (
    InvalidArgumentError,
    prunable_fraction,
    pruning_error,
    relative_error,
    sample_stable,
)

METHODS = ["magnitude", "node", "singular"]
Method = Literal["magnitude", "node", "singular"]
EPS64 = float(np.finfo(np.float64).eps)
# The measured error sums the squares of the pruned weights in another order than theory's
# blocked prefix sums; both are float64 sums of at most a few thousand terms, so they agree
# to a few hundred units of 2^-53 (1e-13 relative); 1e-11 leaves room and still fails on
# any change of the kept set (one unit more or less changes the error by > 1e-4 here).
RTOL = 1e-11


def _svd_abs_tol(rows: int, cols: int) -> float:
    """Bound on |computed - exact| of a rank-k error ||W - W_k||_F / ||W||_F, float64.

    The error is exact only in exact arithmetic; two rounding sources move it, each
    bounded relative to ||W||_F (so, divided by it, independent of the scale of W):
    - each SVD (torch's here, numpy's in theory) is backward stable: it is the exact SVD
      of W + E with ||E||_F <= p(m, n) eps ||W||_F; p is taken as m + n (LAPACK's
      "modestly growing function"), once for each of the two SVDs;
    - forming (U_k S_k) V_k^T: each of the m n entries is a sum of k <= min(m, n)
      products, off by at most k eps s_1 <= k eps ||W||_F, so sqrt(m n) k eps in all.
    The result is a worst case (every rounding in the same direction), and is far below
    the step of the error between two kept counts (checked by the caller).
    """
    return (2 * (rows + cols) + (rows * cols) ** 0.5 * min(rows, cols)) * EPS64


def _layer(
    out: int = 12, inp: int = 9, seed: int = 0, dtype: torch.dtype = torch.float64
) -> torch.nn.Linear:
    # skip_init: no draw from torch's global generator (the values are set below).
    layer = torch.nn.utils.skip_init(torch.nn.Linear, inp, out, bias=False, dtype=dtype)
    w = sample_stable(1.3, out * inp, rng=seed).reshape(out, inp)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
    return layer


def _weight(module: torch.nn.Module) -> torch.Tensor:
    weight = module.weight
    assert isinstance(weight, torch.Tensor)
    return weight.detach()


def _buffer(module: torch.nn.Module, name: str) -> torch.Tensor:
    return module.get_buffer(name)


def _theory_w(layer: torch.nn.Module) -> np.ndarray:
    """theory's W (d x n, columns = units) for a torch weight (rows = units)."""
    return weight_matrix(_weight(layer)).double().numpy().T


def _units(method: Method, w: np.ndarray) -> int:
    return {"magnitude": w.size, "node": w.shape[1], "singular": min(w.shape)}[method]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_amount_matches_theory_error_for_every_kept_count(
    method: Method, dtype: torch.dtype
) -> None:
    w = _theory_w(_layer(dtype=dtype))
    n = _units(method, w)
    # Magnitude and node pruning zero whole entries: the kept ones are W's own values, so
    # the error is a ratio of sums of squares (RTOL), exactly 0 when every unit is kept.
    # Singular pruning rebuilds W from its SVD: rounding moves the error by an amount
    # bounded relative to ||W|| (_svd_abs_tol), not to the error itself, which is 0 in
    # exact arithmetic for k = n (on some CPUs the computed one is 5 eps, on others 0).
    abs_tol = 0.0
    if method == "singular":
        abs_tol = _svd_abs_tol(*w.shape)
        if dtype == torch.float32:
            # The rank-k approximation is stored in float32: each entry is rounded to
            # nearest, by at most 2^-24 of itself, so ||W_k|| <= ||W|| moves by at most
            # 2^-24 ||W||: the error by 2^-24 (W itself is exact in float32 here).
            abs_tol += 2.0**-24
    errors = [pruning_error(w, kept / n, method) for kept in range(1, n + 1)]
    # Control: the tolerance is far below the step between two kept counts, so a pruning
    # that kept one unit more or less than asked could not pass.
    assert min(a - b for a, b in itertools.pairwise(errors)) > 10 * (abs_tol + RTOL * errors[0])
    for kept in range(1, n + 1):
        layer = _layer(dtype=dtype)
        result = prune_layer(layer, method=method, amount=(n - kept) / n)
        assert result.kept == kept and result.units == n
        expected = errors[kept - 1]
        measured = torch.linalg.vector_norm(
            _weight(layer).double() - torch.from_numpy(w.T)
        ) / np.linalg.norm(w)
        assert abs(float(measured) - expected) <= RTOL * expected + abs_tol
        assert abs(result.error - expected) <= RTOL * expected + abs_tol


def test_magnitude_mask_keeps_exactly_the_largest() -> None:
    layer = _layer()
    before = _weight(layer).abs().clone()
    result = prune_layer(layer, method="magnitude", amount=0.7)
    mask = _buffer(layer, "weight_mask").bool()
    assert int(mask.sum()) == result.kept
    assert float(before[mask].min()) >= float(before[~mask].max())
    assert torch.equal(  # the masked weight is zero where the mask is
        _weight(layer)[~mask], torch.zeros(int((~mask).sum()), dtype=torch.float64)
    )
    prune.remove(layer, "weight")  # torch's own machinery makes it permanent
    assert int((_weight(layer) != 0).sum()) == result.kept


def test_node_mask_on_a_convolution_removes_whole_kernels() -> None:
    conv = torch.nn.utils.skip_init(torch.nn.Conv2d, 3, 4, 3, bias=False, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(
            torch.from_numpy(sample_stable(1.5, 4 * 3 * 9, rng=2).reshape(4, 3, 3, 3))
        )
    w = _theory_w(conv)  # (9, 12): the 12 kernels are the units
    result = prune_layer(conv, method="node", amount=0.5)
    assert result.units == 12 and result.kept == 6
    per_kernel = _buffer(conv, "weight_mask").reshape(12, 9)
    assert torch.all((per_kernel == 0).all(dim=1) | (per_kernel == 1).all(dim=1))
    assert result.error == pytest.approx(pruning_error(w, 0.5, "node"), rel=RTOL)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("eps", [0.05, 0.2, 0.5])
def test_eps_keeps_the_fewest_units_within_eps(method: Method, eps: float) -> None:
    w = _theory_w(_layer())
    n = _units(method, w)
    result = prune_layer(_layer(), method=method, eps=eps)
    assert result.amount == prunable_fraction(w, eps, method)
    assert result.error <= eps * (1 + RTOL)
    if result.kept > 1:  # one unit fewer would exceed eps
        assert pruning_error(w, (result.kept - 1) / n, method) > eps


def test_singular_pruning_gives_the_rank() -> None:
    layer = _layer(10, 7)
    prune_layer(layer, method="singular", amount=4 / 7)
    assert int(torch.linalg.matrix_rank(_weight(layer))) == 3


def test_global_pools_the_units_of_all_layers() -> None:
    net = build_model("fcn3-16", in_shape=(8,), n_classes=3, dtype=torch.float64, rng=0)
    weights = [_weight(m).clone() for _, m in weight_layers(net)]
    pooled = torch.cat([w.ravel() for w in weights]).numpy()
    results = prune_model(net, method="magnitude", eps=0.3, scope="global")
    kept = sum(r.kept for r in results)
    assert kept / pooled.size == 1 - prunable_fraction(pooled[None, :], 0.3, "magnitude")
    after = torch.cat([_weight(m).ravel() for _, m in weight_layers(net)]).numpy()
    measured = np.linalg.norm(pooled - after) / np.linalg.norm(pooled)
    assert measured == pytest.approx(relative_error(pooled, kept / pooled.size), rel=RTOL)
    # One threshold for all layers: every kept entry is at least every removed one.
    kept_mags = np.abs(pooled[after != 0])
    assert kept_mags.min() >= np.abs(pooled[after == 0]).max()
    # Layers differ in the fraction they keep (the point of a global threshold).
    assert len({round(r.amount, 6) for r in results}) > 1


def test_global_node_and_singular_amount() -> None:
    for method in ("node", "singular"):
        net = build_model("fcn3-16", in_shape=(8,), n_classes=3, dtype=torch.float64, rng=1)
        results = prune_model(net, method=method, amount=0.25, scope="global")
        total = sum(r.units for r in results)
        assert sum(r.kept for r in results) == total - round(0.25 * total)


def test_layerwise_model_and_layer_selection() -> None:
    net = build_model("fcn3-16", in_shape=(8,), n_classes=3, rng=0)
    results = prune_model(net, method="node", amount=0.5, layers=["layers.1"])
    assert [r.name for r in results] == ["layers.1"]
    assert not hasattr(net.get_submodule("layers.0"), "weight_mask")
    with pytest.raises(InvalidArgumentError, match="`layers`"):
        prune_model(net, method="node", amount=0.5, layers=["nope"])


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"method": "magnitude"}, "exactly one of `eps` and `amount`"),
        ({"method": "magnitude", "eps": 0.1, "amount": 0.1}, "exactly one"),
        ({"method": "random", "eps": 0.1}, "`method`"),
        ({"method": "node", "eps": 1.5}, "`eps`"),
        ({"method": "node", "amount": -0.1}, "`amount`"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidArgumentError, match=needle):
        prune_layer(_layer(), **kwargs)  # type: ignore[arg-type]


def test_refusals() -> None:
    with pytest.raises(InvalidArgumentError, match="at least 2 dimensions"):
        prune_layer(torch.nn.LayerNorm(4), method="magnitude", amount=0.5)
    layer = _layer()
    prune_layer(layer, method="magnitude", amount=0.5)
    with pytest.raises(InvalidArgumentError, match=r"prune\.remove"):
        prune_layer(layer, method="singular", amount=0.5)
    with pytest.raises(InvalidArgumentError, match="no layer"):
        prune_model(torch.nn.ReLU(), method="node", amount=0.5)
    with pytest.raises(InvalidArgumentError, match="`scope`"):
        prune_model(_layer(), method="node", amount=0.5, scope="net")  # type: ignore[arg-type]


def test_masks_on_the_device(device: torch.device) -> None:
    layer = _layer().to(device)
    w = _theory_w(_layer())
    result = prune_layer(layer, method="node", eps=0.2)
    assert _buffer(layer, "weight_mask").device.type == device.type
    assert result.amount == prunable_fraction(w, 0.2, "node")
    assert result.error == pytest.approx(pruning_error(w, result.kept / 12, "node"), rel=RTOL)


def test_complex_and_sparse_weights_are_refused_not_cast() -> None:
    """Read as real, a complex weight would lose its imaginary part (torch only warns)."""
    w = torch.from_numpy(sample_stable(1.5, 12 * 9, rng=3).reshape(12, 9))
    for bad, needle in [(w * (1 + 1j), "complex"), (w.to_sparse(), "sparse")]:
        with pytest.raises(InvalidArgumentError, match=f"`weight`.*{needle}"):
            weight_matrix(bad)
        layer = torch.nn.utils.skip_init(torch.nn.Linear, 9, 12, bias=False, dtype=bad.dtype)
        layer.weight = torch.nn.Parameter(bad, requires_grad=False)
        with pytest.raises(InvalidArgumentError, match=f"weight.*{needle}"):
            prune_layer(layer, method="magnitude", amount=0.5)
        with pytest.raises(InvalidArgumentError, match=f"weight.*{needle}"):
            prune_model(torch.nn.Sequential(layer), method="singular", amount=0.5)
    # Control: the real dense weight passes.
    assert weight_matrix(w) is w
