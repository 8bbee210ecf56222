"""Pruning torch layers to a relative error or to an amount, as heavytail.theory measures it.

Every weight is read as a matrix whose rows are its units (:func:`weight_matrix`): a
Linear weight (out, in) as it is, a convolution weight (out, in, k1, k2, ...) as the
(out * in, k1 * k2 * ...) matrix of its kernels, as Barsbey et al. (2021) read it. Three
methods prune it (docs/theory.md, section 2):

- ``"magnitude"``: keep the k entries of largest magnitude; the others are masked;
- ``"node"``: keep the k rows of largest Euclidean norm (output units of a Linear layer,
  single kernels of a convolution); the other rows are masked;
- ``"singular"``: keep the k largest singular values of the matrix. torch has no mask for
  this, so the weight's values are *replaced* by the best rank-k approximation
  U_k S_k V_k^T (Eckart & Young 1936), computed in float64 and cast back to the weight's
  dtype. This cannot be undone with ``torch.nn.utils.prune.remove``.

Masks are applied with ``torch.nn.utils.prune.custom_from_mask``, so the module gets
``weight_orig`` and ``weight_mask`` as with torch's own pruning functions, and
``prune.remove`` makes them permanent.

The relative Frobenius error of a pruned weight, ||W - W_k||_F / ||W||_F, is the relative
best k-term error (p = 2) of one vector of "units": the entries' magnitudes, the row
norms or the singular values. :func:`heavytail.theory.prunable_fraction` and
:func:`heavytail.theory.pruning_error` compute exactly these errors (without centring,
``centre="none"``: pruning sets weights to 0, not to their median), so the kept count
chosen here for an ``eps`` is theory's, and the error of the masked weights equals
``theory.pruning_error`` at the same kept count (tests/nn/test_prune_torch.py).

The kept count: for ``eps``, the smallest k whose error is at most eps (theory's
:func:`~heavytail.theory.prunable_fraction`); for ``amount``, k = N - round(amount N), the
rounding torch's own pruning functions use for a fractional amount.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch.nn.utils import prune

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_choice, check_real
from heavytail.theory import prunable_fraction

__all__ = [
    "PRUNE_METHODS",
    "PruneResult",
    "prune_layer",
    "prune_model",
    "weight_layers",
    "weight_matrix",
]

PruneMethod = Literal["magnitude", "node", "singular"]

PRUNE_METHODS: tuple[str, ...] = ("magnitude", "node", "singular")
SCOPES: tuple[str, ...] = ("layer", "global")


@dataclass(frozen=True)
class PruneResult:
    """What pruning did to one layer.

    Attributes
    ----------
    name : str
        The layer's name in the model ("" for a lone module).
    method : str
        "magnitude", "node" or "singular".
    units : int
        N: entries, rows or singular values of the layer's matrix.
    kept : int
        k, the units kept.
    amount : float
        (N - k) / N, the fraction of units removed.
    error : float
        ||W - W_k||_F / ||W||_F, measured in float64 on the weight before and after.
    """

    name: str
    method: str
    units: int
    kept: int
    amount: float
    error: float


def weight_matrix(weight: torch.Tensor) -> torch.Tensor:
    """The weight read as a matrix whose rows are its units (a view, no copy).

    A 2-D weight (out, in) is returned as it is; a weight (out, in, k1, ...) of a
    convolution as (out * in, k1 * ...), the matrix of its kernels (Barsbey et al. 2021
    read convolutions this way).

    Examples
    --------
    >>> import torch
    >>> tuple(weight_matrix(torch.zeros(8, 3, 5, 5)).shape)
    (24, 25)
    """
    if not isinstance(weight, torch.Tensor):
        raise InvalidArgumentError(f"`weight` must be a torch.Tensor, got {type(weight).__name__}")
    if weight.layout != torch.strided:
        raise InvalidArgumentError(
            f"`weight` must be a dense tensor, got a sparse one ({weight.layout}); "
            "convert it with .to_dense()"
        )
    if weight.is_complex():
        # read as real weights it would lose its imaginary part (torch only warns)
        raise InvalidArgumentError(f"`weight` must be real, got a complex tensor ({weight.dtype})")
    if weight.ndim < 2:
        raise InvalidArgumentError(
            f"`weight` must have at least 2 dimensions (a matrix or a convolution), "
            f"got shape {tuple(weight.shape)}"
        )
    if weight.ndim == 2:
        return weight
    return weight.reshape(weight.shape[0] * weight.shape[1], -1)


def units_of(matrix: torch.Tensor, method: str) -> FloatArray:
    """The vector whose relative best k-term error (p = 2) is the method's pruning error.

    Magnitudes of the entries (row-major), Euclidean norms of the rows, or the singular
    values, as a float64 numpy array on the host.

    The singular values are the square roots of the eigenvalues of the Gram matrix of
    the shorter side (W W^T or W^T W, ``torch.linalg.eigvalsh`` in float64; rounding can
    leave an eigenvalue a little below 0, which is then 0). The errors use only their
    squares, whose sums are what the pruning error divides, and each eigenvalue is
    within a few units of 1e-16 ||W||_2^2 of the exact s_i^2; on a loaded 2-core machine
    this is 3-4 times faster than an SVD of a 2048 x 2048 matrix.
    """
    m = matrix.detach().to(device="cpu", dtype=torch.float64)
    if method == "magnitude":
        return np.abs(m.numpy()).ravel()
    if method == "node":
        return np.asarray(torch.linalg.vector_norm(m, dim=1).numpy(), dtype=np.float64)
    top = float(m.abs().max())
    if top == 0.0:
        return np.zeros(min(m.shape), dtype=np.float64)
    scaled = m / top  # so that the Gram matrix neither overflows nor underflows
    gram = scaled @ scaled.T if m.shape[0] <= m.shape[1] else scaled.T @ scaled
    eig = torch.linalg.eigvalsh(gram).numpy()[::-1]
    return np.sqrt(np.clip(eig, 0.0, None)) * top


def kept_for_eps(units: FloatArray, eps: float) -> int:
    """Smallest k whose relative error is at most eps: N (1 - theory's prunable fraction)."""
    n = units.size
    if not units.any():
        raise InvalidArgumentError("the weight is all zeros: its relative error is 0/0")
    fraction = prunable_fraction(units[None, :], eps, "magnitude")
    return n - round(fraction * n)


def _kept_for_amount(n: int, amount: float) -> int:
    return n - round(amount * n)


def _check_target(eps: Any, amount: Any) -> tuple[float | None, float | None]:
    if (eps is None) == (amount is None):
        raise InvalidArgumentError("give exactly one of `eps` and `amount`")
    if eps is not None:
        return check_real(eps, "eps", low=0.0, high=1.0), None
    return None, check_real(amount, "amount", low=0.0, high=1.0)


def weight_of(module: torch.nn.Module, name: str) -> torch.Tensor:
    weight = getattr(module, name, None)
    if not isinstance(weight, torch.Tensor):
        raise InvalidArgumentError(
            f"`module` has no tensor attribute {name!r} to prune ({type(module).__name__})"
        )
    if weight.ndim < 2:
        raise InvalidArgumentError(
            f"`module`.{name} must have at least 2 dimensions, got shape {tuple(weight.shape)}"
        )
    if weight.is_complex() or weight.layout != torch.strided:
        kind = "complex" if weight.is_complex() else f"sparse ({weight.layout})"
        raise InvalidArgumentError(
            f"`module`.{name} must be a real dense tensor, got a {kind} one ({weight.dtype})"
        )
    return weight


def _relative_change(before: torch.Tensor, after: torch.Tensor) -> float:
    b = before.detach().to(device="cpu", dtype=torch.float64)
    a = after.detach().to(device="cpu", dtype=torch.float64)
    return float(torch.linalg.vector_norm(b - a) / torch.linalg.vector_norm(b))


def _top(units: FloatArray, k: int) -> torch.Tensor:
    """Indices of the k largest units (any k of them where there are ties)."""
    if k == 0:
        return torch.empty(0, dtype=torch.long)
    return torch.topk(torch.from_numpy(units), k, sorted=False).indices


def _apply(module: torch.nn.Module, name: str, method: str, kept: int) -> None:
    """Prune ``module.name`` to ``kept`` units of ``method`` (see the module notes)."""
    weight = weight_of(module, name)
    matrix = weight_matrix(weight.detach())
    if method == "singular":
        if hasattr(module, name + "_orig"):
            raise InvalidArgumentError(
                f"`module`.{name} carries a pruning mask; singular-value pruning replaces "
                "the values, so make the mask permanent first (torch.nn.utils.prune.remove)"
            )
        m = matrix.to(dtype=torch.float64)
        u, s, vh = torch.linalg.svd(m, full_matrices=False)
        approx = (u[:, :kept] * s[:kept]) @ vh[:kept]
        with torch.no_grad():
            weight.copy_(approx.reshape(weight.shape).to(dtype=weight.dtype))
        return
    units = units_of(matrix, method)
    keep = _top(units, kept).to(weight.device)
    if method == "magnitude":
        mask = torch.zeros(matrix.numel(), dtype=weight.dtype, device=weight.device)
        mask[keep] = 1
    else:
        rows = torch.zeros(matrix.shape[0], dtype=weight.dtype, device=weight.device)
        rows[keep] = 1
        mask = rows[:, None].expand(matrix.shape).contiguous()
    prune.custom_from_mask(module, name, mask.reshape(weight.shape))


def prune_layer(
    module: torch.nn.Module,
    *,
    method: PruneMethod | str,
    eps: float | None = None,
    amount: float | None = None,
    name: str = "weight",
    layer_name: str = "",
) -> PruneResult:
    """Prune one layer to a relative error ``eps`` or by an ``amount``, in place.

    Parameters
    ----------
    module : torch.nn.Module
        A module with a weight of at least 2 dimensions (Linear, ConvNd, ...).
    method : {"magnitude", "node", "singular"}
        What is removed: entries, rows (units) or singular values (module notes).
    eps : float, optional
        Relative Frobenius error allowed, in [0, 1]: the fewest units are kept whose
        error ||W - W_k||_F / ||W||_F is at most eps.
    amount : float, optional
        Fraction of the units removed, in [0, 1], rounded as torch rounds it
        (k = N - round(amount N) kept). Exactly one of ``eps`` and ``amount``.
    name : str, optional
        The parameter pruned (default "weight").
    layer_name : str, optional
        Recorded in the result.

    Returns
    -------
    PruneResult
        Kept count, removed fraction and the error measured on the pruned weight.

    Examples
    --------
    >>> import torch
    >>> layer = torch.nn.utils.skip_init(torch.nn.Linear, 4, 3, bias=False)
    >>> with torch.no_grad():
    ...     _ = layer.weight.copy_(torch.tensor([[3.0, 0, 0, 0], [0, 4.0, 0, 0], [0, 0, 0, 0]]))
    >>> prune_layer(layer, method="node", amount=1 / 3).kept  # the zero row goes
    2
    >>> r = prune_layer(layer, method="magnitude", eps=0.6)  # drops the 3: error 3 / 5
    >>> r.kept, r.error
    (1, 0.6)
    """
    how = check_choice(method, "method", PRUNE_METHODS)
    eps_, amount_ = _check_target(eps, amount)
    weight = weight_of(module, name)
    before = weight.detach().clone()
    units = units_of(weight_matrix(before), how)
    if eps_ is not None:
        kept = kept_for_eps(units, eps_)
    else:
        assert amount_ is not None
        kept = _kept_for_amount(units.size, amount_)
    _apply(module, name, how, kept)
    return PruneResult(
        name=layer_name,
        method=how,
        units=units.size,
        kept=kept,
        amount=(units.size - kept) / units.size,
        error=_relative_change(before, getattr(module, name)),
    )


def weight_layers(model: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """The (name, module) pairs of a model whose ``weight`` has at least 2 dimensions.

    In the order of ``model.named_modules()``; normalisation layers (1-D weights) are left
    out. A module whose weight carries a pruning mask counts too.
    """
    found = []
    for name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if isinstance(weight, torch.Tensor) and weight.ndim >= 2:
            found.append((name, module))
    return found


def _select(model: torch.nn.Module, layers: Iterable[str] | None) -> list[tuple[str, Any]]:
    available = weight_layers(model)
    if not available:
        raise InvalidArgumentError("`model` has no layer with a weight of 2 or more dimensions")
    if layers is None:
        return available
    wanted = list(layers)
    by_name = dict(available)
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise InvalidArgumentError(
            f"`layers` names {unknown!r}, which are not weight layers of `model`; "
            f"these are: {[n for n, _ in available]!r}"
        )
    return [(n, by_name[n]) for n in dict.fromkeys(wanted)]


def prune_model(
    model: torch.nn.Module,
    *,
    method: PruneMethod | str,
    eps: float | None = None,
    amount: float | None = None,
    scope: Literal["layer", "global"] = "layer",
    layers: Sequence[str] | None = None,
) -> tuple[PruneResult, ...]:
    """Prune every weight layer of a model, layer by layer or globally, in place.

    ``scope="layer"`` applies :func:`prune_layer` to each layer with the same ``eps`` or
    ``amount``. ``scope="global"`` pools the units of all the layers (entries, row norms
    or singular values) and keeps the largest ones over the whole pool: with ``eps``, the
    fewest whose error on all the layers' weights together,
    (sum of removed units^2 / sum of all units^2)^(1/2), is at most eps; with ``amount``,
    N - round(amount N) of the N pooled units. Each layer then keeps its own units that
    are among them.

    Parameters
    ----------
    model : torch.nn.Module
    method : {"magnitude", "node", "singular"}
    eps, amount : float, optional
        Exactly one, as in :func:`prune_layer`.
    scope : {"layer", "global"}, optional
    layers : sequence of str, optional
        Names (as in ``model.named_modules()``) of the layers to prune; default all of
        :func:`weight_layers`.

    Returns
    -------
    tuple of PruneResult
        One per layer pruned, in model order.

    Examples
    --------
    >>> from heavytail.nn import build_model
    >>> net = build_model("fcn2-8", in_shape=(8,), n_classes=2, rng=0)
    >>> [r.kept for r in prune_model(net, method="magnitude", amount=0.5)]
    [32, 8]
    """
    how = check_choice(method, "method", PRUNE_METHODS)
    where = check_choice(scope, "scope", SCOPES)
    eps_, amount_ = _check_target(eps, amount)
    chosen = _select(model, layers)
    if where == "layer":
        return tuple(
            prune_layer(module, method=how, eps=eps_, amount=amount_, layer_name=name)
            for name, module in chosen
        )
    befores = [weight_of(module, "weight").detach().clone() for _, module in chosen]
    per_layer = [units_of(weight_matrix(w), how) for w in befores]
    pooled = np.concatenate(per_layer)
    if eps_ is not None:
        kept_total = kept_for_eps(pooled, eps_)
    else:
        assert amount_ is not None
        kept_total = _kept_for_amount(pooled.size, amount_)
    chosen_mask = np.zeros(pooled.size, dtype=bool)
    chosen_mask[_top(pooled, kept_total).numpy()] = True
    bounds = np.cumsum([0, *(u.size for u in per_layer)])
    results = []
    for (name, module), before, start, stop in zip(
        chosen, befores, bounds[:-1], bounds[1:], strict=True
    ):
        kept = int(np.count_nonzero(chosen_mask[start:stop]))
        _apply_selected(module, how, kept, chosen_mask[start:stop])
        size = int(stop - start)
        results.append(
            PruneResult(
                name=name,
                method=how,
                units=size,
                kept=kept,
                amount=(size - kept) / size,
                error=_relative_change(before, weight_of(module, "weight")),
            )
        )
    return tuple(results)


def _apply_selected(module: torch.nn.Module, method: str, kept: int, keep: Any) -> None:
    """Prune a layer to exactly the units flagged in ``keep`` (a boolean numpy vector)."""
    if method == "singular":
        # The pooled top-k holds this layer's `kept` largest singular values.
        _apply(module, "weight", method, kept)
        return
    weight = weight_of(module, "weight")
    matrix = weight_matrix(weight.detach())
    flags = torch.from_numpy(np.ascontiguousarray(keep)).to(device=weight.device)
    if method == "magnitude":
        mask = flags.to(weight.dtype)
    else:
        mask = flags.to(weight.dtype)[:, None].expand(matrix.shape).contiguous()
    prune.custom_from_mask(module, "weight", mask.reshape(weight.shape))
