"""Loading trained weights from a file without running any code stored in it.

A ``.pt`` / ``.pth`` file written by ``torch.save`` is a pickle, and unpickling can call
any Python function the file names. It is therefore read only with
``torch.load(..., weights_only=True)``, whose unpickler accepts tensors, storages and
plain containers and refuses every other global *before* calling it. A ``.safetensors``
file holds no code at all. Nothing else is ever unpickled.

A whole model saved with ``torch.save(model)`` names its class (``__main__.Net``,
``torch.nn.modules.linear.Linear``, ...), so the weights-only loader refuses it. It is
not loaded by allowing those classes (``torch.serialization.add_safe_globals``): a
module class can run code while it is rebuilt (``__setstate__``), so allowing it would
give up the guarantee. The error says how to save the state dict instead.
"""

from __future__ import annotations

import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from heavytail._lib._errors import InvalidArgumentError

__all__ = ["CHECKPOINT_SUFFIXES", "load_checkpoint"]

#: Suffixes read with ``torch.load(weights_only=True)`` and with safetensors.
TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")
SAFETENSORS_SUFFIX = ".safetensors"
CHECKPOINT_SUFFIXES = (*TORCH_SUFFIXES, SAFETENSORS_SUFFIX)

#: Keys under which training scripts commonly nest the state dict in a checkpoint.
_NESTED_KEYS = ("state_dict", "model_state_dict", "model", "net", "module")

#: ``TrainResult.save`` stores the final and the averaged weights under these prefixes.
_AVERAGED = "averaged/"
_RESULT_PREFIXES = (_AVERAGED, "final/")

_SAVE_STATE_DICT = "save the weights with torch.save(model.state_dict(), path) instead"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _is_tensor_mapping(obj: Any) -> bool:
    return (
        isinstance(obj, Mapping)
        and len(obj) > 0
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())
    )


def _state_dict_of(obj: Any, where: str) -> dict[str, torch.Tensor]:
    """The mapping of names to tensors held by a loaded object, or a clear error."""
    if _is_tensor_mapping(obj):
        return dict(obj)
    if isinstance(obj, Mapping):
        nested = [key for key in _NESTED_KEYS if _is_tensor_mapping(obj.get(key))]
        if len(nested) == 1:
            return dict(obj[nested[0]])
        if not obj:
            raise InvalidArgumentError(f"{where}: the checkpoint is empty (no tensors)")
        keys = ", ".join(repr(k) for k in list(obj)[:8])
        raise InvalidArgumentError(
            f"{where}: not a state dict: a mapping whose values are not all tensors "
            f"(keys {keys}{', ...' if len(obj) > 8 else ''}), and no single entry "
            f"{', '.join(repr(k) for k in _NESTED_KEYS)} holding one"
        )
    if isinstance(obj, torch.nn.Module):  # unreachable with weights_only=True; kept as a guard
        raise InvalidArgumentError(
            f"{where}: holds a whole model, not a state dict; " + _SAVE_STATE_DICT
        )
    raise InvalidArgumentError(
        f"{where}: not a checkpoint: it holds a {type(obj).__name__}, not a mapping of "
        "parameter names to tensors"
    )


def _load_torch(path: Path) -> Any:
    try:
        with warnings.catch_warnings():
            # torch warns about pickle protocols it was not written with; the file is
            # either read as tensors or refused below, so the warning adds nothing.
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        refused = _GLOBAL.search(str(exc))
        if refused is not None:
            raise InvalidArgumentError(
                f"{path}: refused: the file names the Python object {refused.group(1)}, "
                "which the weights-only loader does not allow, so none of it was run. A "
                f"whole model saved with torch.save(model) is refused this way: "
                f"{_SAVE_STATE_DICT}"
            ) from None
        raise InvalidArgumentError(
            f"{path}: not a readable PyTorch checkpoint (corrupt, or not written by "
            f"torch.save): {_weights_only_reason(exc)}"
        ) from None
    except (RuntimeError, EOFError, KeyError, ValueError, zipfile.BadZipFile, OSError) as exc:
        # A KeyError comes from the legacy reader meeting bytes that are no pickle at all.
        reason = "its bytes are not a torch.save file" if isinstance(exc, KeyError) else None
        raise InvalidArgumentError(
            f"{path}: not a readable PyTorch checkpoint (corrupt, or not written by "
            f"torch.save): {reason or _first_line(exc)}"
        ) from None


# torch's message for a refused global: "Unsupported global: GLOBAL module.name was not ..."
_GLOBAL = re.compile(r"Unsupported global: GLOBAL (\S+)")


def _weights_only_reason(exc: BaseException) -> str:
    """The line of torch's weights-only message that says what it could not read."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if line.startswith("Unsupported"):
            return line
        if line.endswith("WeightsUnpickler error:") and i + 1 < len(lines):
            return lines[i + 1]
    return _first_line(exc)


def _load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return dict(load_file(str(path), device="cpu"))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise InvalidArgumentError(
            f"{path}: not a readable .safetensors file (corrupt or truncated): {_first_line(exc)}"
        ) from None


def _averaged_if_training_result(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The averaged weights of a file written by ``TrainResult.save``, else the tensors.

    Such a file holds every weight twice, as ``final/<name>`` and ``averaged/<name>``.
    """
    if tensors and all(k.startswith(_RESULT_PREFIXES) for k in tensors):
        averaged = {
            k.removeprefix(_AVERAGED): v for k, v in tensors.items() if k.startswith(_AVERAGED)
        }
        if averaged:
            return averaged
    return tensors


def load_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """Read the named tensors of a checkpoint file, without running code from it.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.safetensors`` file, or a ``.pt`` / ``.pth`` / ``.bin`` / ``.ckpt`` file
        written by ``torch.save`` of a state dict (``model.state_dict()``). A training
        checkpoint that nests the state dict under exactly one of the keys
        ``"state_dict"``, ``"model_state_dict"``, ``"model"``, ``"net"`` or ``"module"``
        is read too (the other entries, such as an optimizer state, are ignored). From a
        file written by :meth:`TrainResult.save`, the averaged weights are returned (the
        network the papers analyse; :func:`load_state` reads the final ones).

    Returns
    -------
    dict of str to torch.Tensor
        The tensors, on the CPU, in the file's order (a .safetensors file stores them
        sorted by name).

    Raises
    ------
    InvalidArgumentError
        Each message starts with the path. A missing file or a folder; an unknown
        suffix; a corrupt or truncated file; a pickle that names anything besides
        tensors and plain containers (a whole model saved with ``torch.save(model)``,
        or a file built to run code: it is refused by ``torch.load(weights_only=True)``
        before any of its code runs); a file that holds no mapping of names to tensors.

    Notes
    -----
    ``torch.load`` is always called with ``weights_only=True`` (see the module notes
    for why whole-model files are not supported).

    Examples
    --------
    >>> import tempfile, pathlib, torch
    >>> from heavytail.nn import build_model
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "w.pt"
    ...     torch.save(build_model("fcn1-1", in_shape=(3,), n_classes=2, rng=0).state_dict(), path)
    ...     sorted((k, tuple(v.shape)) for k, v in load_checkpoint(path).items())
    [('layers.0.bias', (2,)), ('layers.0.weight', (2, 3))]
    """
    if not isinstance(path, str | Path):
        raise InvalidArgumentError(
            f"`path` must be a str or pathlib.Path, got {type(path).__name__}"
        )
    p = Path(path)
    if not p.exists():
        raise InvalidArgumentError(f"{p}: no such file")
    if p.is_dir():
        raise InvalidArgumentError(f"{p}: is a folder, not a checkpoint file")
    suffix = p.suffix.lower()
    if suffix not in CHECKPOINT_SUFFIXES:
        raise InvalidArgumentError(
            f"{p}: unsupported checkpoint type {suffix or '(none)'!r}; use one of "
            + ", ".join(CHECKPOINT_SUFFIXES)
        )
    if suffix == SAFETENSORS_SUFFIX:
        tensors = _load_safetensors(p)
        if not tensors:
            raise InvalidArgumentError(f"{p}: the checkpoint is empty (no tensors)")
        return _averaged_if_training_result(tensors)
    return _state_dict_of(_load_torch(p), str(p))
