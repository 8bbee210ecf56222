"""The accuracy columns of :func:`analyze`: the generalization gap, and test accuracy
after pruning one layer at a time."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.nn.utils import prune

from heavytail._lib._errors import InvalidArgumentError

from ._checkpoint import load_checkpoint
from ._data import Dataset
from ._device import as_device
from ._models import build_model
from ._prune_torch import PRUNE_METHODS, prune_layer, weight_layers, weight_of

__all__ = [
    "accuracy_columns",
    "check_ratios",
    "evaluate",
    "match_by_order",
    "network_for",
]

#: Test inputs per forward pass.
BATCH = 4096


def check_ratios(ratios: Any) -> tuple[float, ...]:
    """``ratios`` as a tuple of distinct floats in (0, 1), or an error naming it."""
    if isinstance(ratios, str) or not isinstance(ratios, Sequence) or not ratios:
        raise InvalidArgumentError(
            f"`ratios` must be a non-empty sequence of fractions in (0, 1), got {ratios!r}"
        )
    out = []
    for r in ratios:
        if isinstance(r, bool) or not isinstance(r, int | float) or not 0.0 < float(r) < 1.0:
            raise InvalidArgumentError(f"`ratios` must hold fractions in (0, 1), got {r!r}")
        out.append(float(r))
    if len(set(out)) != len(out):
        raise InvalidArgumentError(f"`ratios` must not repeat a value, got {ratios!r}")
    return tuple(out)


def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of ``model`` on (x, y), in eval mode, no gradients."""
    model.eval()
    correct = 0
    loss = 0.0
    with torch.no_grad():
        for start in range(0, x.shape[0], BATCH):
            logits = model(x[start : start + BATCH])
            target = y[start : start + BATCH]
            correct += int((logits.argmax(dim=1) == target).sum())
            loss += float(torch.nn.functional.cross_entropy(logits, target, reduction="sum"))
    n = int(x.shape[0])
    return correct / n, loss / n


def _state_of(source: Any) -> Mapping[str, torch.Tensor]:
    if isinstance(source, str | Path):
        return load_checkpoint(source)
    return dict(source)


def match_by_order(
    state: Mapping[str, torch.Tensor], model: torch.nn.Module
) -> dict[str, str] | None:
    """The checkpoint's names mapped onto ``model``'s, by order and shape, or None.

    A plain ``nn.Sequential`` state dict names its tensors ``0.weight``, ``2.weight``, ...
    where :func:`build_model` names them ``layers.0.weight``, ``layers.1.weight``, .... The
    two match when they hold the same number of tensors and the i-th tensor of one has the
    shape of the i-th of the other, for every i (state dicts keep the order in which the
    modules were registered, which is the order of the forward pass for a Sequential).
    Returns None when they do not; the mapping (checkpoint name -> model name) otherwise.
    """
    target = model.state_dict()
    source_items = [(k, v) for k, v in state.items() if isinstance(v, torch.Tensor)]
    target_items = list(target.items())
    if len(source_items) != len(target_items) or len(source_items) != len(state):
        return None
    mapping = {}
    for (src, tensor), (dst, expected) in zip(source_items, target_items, strict=True):
        if tuple(tensor.shape) != tuple(expected.shape):
            return None
        mapping[src] = dst
    return mapping


def network_for(
    source: Any, arch: str | None, data: Any, device: Any = None
) -> tuple[torch.nn.Module, dict[str, str] | None]:
    """A private copy of the network, masks made permanent, or one built from ``arch``.

    Checks ``data`` and the fit of a state dict to ``arch`` (before any other work). The
    copy lives on ``device``: None keeps a module's device, and puts a network built from
    a state dict on the CPU. A state dict whose names are not the architecture's (a plain
    ``nn.Sequential``'s ``0.weight``, ``2.weight``, ...) is loaded by order and shape
    (:func:`match_by_order`) when that matches every tensor; the second value is then
    that mapping (checkpoint name -> architecture name), else None.
    """
    dev = None if device is None else as_device(device)
    if not isinstance(data, Dataset):
        raise InvalidArgumentError(
            f"`data` must be a heavytail.nn.Dataset, got {type(data).__name__}"
        )
    mapping: dict[str, str] | None = None
    if isinstance(source, torch.nn.Module):
        model = copy.deepcopy(source)
        if dev is not None:
            model = model.to(device=dev)
    else:
        assert arch is not None  # checked by analyze
        state = _state_of(source)
        floats = [t.dtype for t in state.values() if t.is_floating_point()]
        dtype = torch.float64 if floats and floats[0] == torch.float64 else torch.float32
        model = build_model(
            arch, in_shape=data.in_shape, n_classes=data.n_classes, dtype=dtype, device=dev, rng=0
        )
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            mapping = match_by_order(state, model)
            if mapping is None:
                detail = " ".join(str(exc).split())
                raise InvalidArgumentError(
                    f"the checkpoint does not fit the architecture {arch!r}, neither by name "
                    f"nor by order and shape ({len(state)} tensors in the checkpoint, "
                    f"{len(model.state_dict())} in the architecture): {detail[:400]}"
                ) from None
            model.load_state_dict({mapping[k]: v for k, v in state.items()}, strict=True)
    for _, module in weight_layers(model):
        if hasattr(module, "weight_orig"):
            prune.remove(module, "weight")
    return model, mapping


def accuracy_columns(
    model: torch.nn.Module,
    data: Dataset,
    *,
    ratios: Sequence[float],
    layers: Sequence[str],
) -> dict[str, list[float]]:
    """The accuracy columns of :func:`analyze`, one value per layer of ``layers``.

    ``model`` is the private copy from :func:`network_for`; its layers are pruned one at
    a time and restored.
    """
    param = next(model.parameters())
    data = data.to(device=param.device, dtype=param.dtype)
    try:
        test_acc, test_loss = evaluate(model, data.x_test, data.y_test)
        train_acc, train_loss = evaluate(model, data.x_train, data.y_train)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())
        raise InvalidArgumentError(
            f"the network cannot take the data {data.name!r} (inputs {data.in_shape}, "
            f"{data.n_classes} classes): {detail[:300]}"
        ) from None
    modules = dict(weight_layers(model))
    n = len(layers)
    columns: dict[str, list[float]] = {
        "test_accuracy": [test_acc] * n,
        "train_accuracy": [train_acc] * n,
        "gap_accuracy": [train_acc - test_acc] * n,
        "gap_loss": [test_loss - train_loss] * n,
    }
    for method in PRUNE_METHODS:
        for ratio in ratios:
            columns[f"acc_{method}_{ratio:g}"] = []
    for name in layers:
        module = modules.get(name)
        for method in PRUNE_METHODS:
            for ratio in ratios:
                column = columns[f"acc_{method}_{ratio:g}"]
                if module is None:  # a weight of the file that is not a layer of the network
                    column.append(math.nan)
                    continue
                original = weight_of(module, "weight").detach().clone()
                prune_layer(module, method=method, amount=ratio, layer_name=name)
                column.append(evaluate(model, data.x_test, data.y_test)[0])
                if hasattr(module, "weight_orig"):
                    prune.remove(module, "weight")
                with torch.no_grad():
                    weight_of(module, "weight").copy_(original)
    return columns
