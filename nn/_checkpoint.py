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

import io
import pickle
import pickletools
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
        refused = _unsafe_globals(path) or _refused_global(str(exc))
        if refused is not None:
            raise InvalidArgumentError(
                f"{path}: refused: loading it would run code: the file names the Python "
                f"object(s) {refused}, which unpickling would call, so the file was not read "
                "and none of it was run. A whole model saved with torch.save(model) is "
                f"refused this way too: {_SAVE_STATE_DICT}"
            ) from None
        raise InvalidArgumentError(
            f"{path}: not a readable PyTorch checkpoint (corrupt, or not written by "
            f"torch.save): {_without_advice(_weights_only_reason(exc))}"
        ) from None
    except (RuntimeError, EOFError, KeyError, ValueError, zipfile.BadZipFile, OSError) as exc:
        # A KeyError comes from the legacy reader meeting bytes that are no pickle at all.
        reason = "its bytes are not a torch.save file" if isinstance(exc, KeyError) else None
        raise InvalidArgumentError(
            f"{path}: not a readable PyTorch checkpoint (corrupt, or not written by "
            f"torch.save): {reason or _without_advice(_weights_only_reason(exc))}"
        ) from None


# torch's messages for a global its weights-only unpickler refuses:
#   "Unsupported global: GLOBAL module.name was not an allowed global by default ..."
#   "Trying to load unsupported GLOBAL module.name whose module module is blocked."
_GLOBAL = re.compile(r"(?:Unsupported global: GLOBAL|unsupported GLOBAL) (\S+?)\.?(?:\s|$)")

# Lines of torch's message that advise loading the file anyway (weights_only=False, an
# allow-list of globals): never passed on, since for a file that names code that is the
# unsafe direction.
_ADVICE = re.compile(r"weights_only|safe_globals|trust|can still be loaded", re.IGNORECASE)

#: How much of a file that is not a zip archive is scanned for the globals it names.
_SCAN_BYTES = 1 << 26

_STRING_OPCODES = frozenset(
    {
        "UNICODE",
        "SHORT_BINUNICODE",
        "BINUNICODE",
        "BINUNICODE8",
        "STRING",
        "BINSTRING",
        "SHORT_BINSTRING",
    }
)


def _refused_global(message: str) -> str | None:
    found = _GLOBAL.search(message)
    return None if found is None else found.group(1)


def _allowed_globals() -> frozenset[str]:
    """The globals torch's weights-only unpickler accepts (empty if it hides them)."""
    from torch import _weights_only_unpickler as unpickler

    allowed = getattr(unpickler, "_get_allowed_globals", None)
    return frozenset(allowed()) if callable(allowed) else frozenset()


def _globals_in_pickle(data: bytes) -> list[str]:
    """The globals a pickle names, read with pickletools (which parses and never calls).

    A legacy torch file is several pickles in a row; each is read. A global named with
    STACK_GLOBAL takes its module and name from the two strings pushed before it.
    """
    names: list[str] = []
    strings: list[str] = []
    stream = io.BytesIO(data)
    try:
        while stream.tell() < len(data):
            start = stream.tell()
            for op, arg, _ in pickletools.genops(stream):
                if op.name in ("GLOBAL", "INST") and isinstance(arg, str):
                    names.append(arg.replace(" ", "."))
                elif op.name == "STACK_GLOBAL":
                    names.append(".".join(strings[-2:]) if len(strings) >= 2 else "(unnamed)")
                elif op.name in _STRING_OPCODES and isinstance(arg, str):
                    strings.append(arg)
            if stream.tell() == start:
                break
    except (ValueError, EOFError, pickle.UnpicklingError, UnicodeDecodeError):
        pass  # the bytes after the last complete opcode are not a pickle: nothing more
    return names


def _unsafe_globals(path: Path) -> str | None:
    """The globals outside torch's allow-list that a file's pickle names, or None.

    torch's weights-only unpickler stops at the first opcode it does not know (FRAME, of
    protocol 4 and later) before it reaches any global, so a pickle written with a recent
    protocol is refused as unreadable; this reads the pickle itself (``data.pkl`` of a
    ``torch.save`` archive, else the whole file) to name what it would call.
    """
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = [n for n in archive.namelist() if n.endswith("data.pkl")]
                if len(members) != 1:
                    return None
                with archive.open(members[0]) as handle:
                    data = handle.read(_SCAN_BYTES)
        else:
            with open(path, "rb") as handle:
                data = handle.read(_SCAN_BYTES)
    except (OSError, zipfile.BadZipFile, ValueError):
        return None
    allowed = _allowed_globals()
    # protocol 2 writes the builtins under their Python 2 name
    named = (n.replace("__builtin__.", "builtins.", 1) for n in _globals_in_pickle(data))
    unsafe = list(dict.fromkeys(n for n in named if n not in allowed))
    if not unsafe:
        return None
    return ", ".join(unsafe[:4]) + (", ..." if len(unsafe) > 4 else "")


def _weights_only_reason(exc: BaseException) -> str:
    """The line of torch's message that says what it could not read, without advice."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if line.endswith("WeightsUnpickler error:") and i + 1 < len(lines):
            return lines[i + 1]
        if "WeightsUnpickler error:" in line:
            return line.split("WeightsUnpickler error:", 1)[1].strip()
    for line in lines:
        if line.startswith("Unsupported") and not _ADVICE.search(line):
            return line
    plain = [line for line in lines if not _ADVICE.search(line)]
    return plain[0] if plain else type(exc).__name__


def _without_advice(reason: str) -> str:
    """``reason`` less any sentence that advises loading the file anyway."""
    sentences = re.split(r"(?<=\.)\s+", reason)
    kept = [sentence for sentence in sentences if not _ADVICE.search(sentence)]
    return " ".join(kept) or "the weights-only unpickler cannot read it"


def _checked_tensors(tensors: dict[str, torch.Tensor], where: str) -> dict[str, torch.Tensor]:
    """The tensors, or a clear error naming the first that holds no real dense weights.

    A sparse tensor (any layout but strided) has no entries to read as a matrix, and a
    complex one would lose its imaginary part when read as real weights: both are
    refused rather than changed.
    """
    for key, tensor in tensors.items():
        if tensor.layout != torch.strided:
            raise InvalidArgumentError(
                f"{where}: tensor {key!r} is sparse ({tensor.layout}); only dense tensors "
                "are read: save it with tensor.to_dense()"
            )
        if tensor.is_complex():
            raise InvalidArgumentError(
                f"{where}: tensor {key!r} is complex ({tensor.dtype}); only real weights "
                "are read (the imaginary part would be lost)"
            )
    return tensors


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
        before any of its code runs, and the message says so); a file that holds no
        mapping of names to tensors; a sparse or a complex tensor (named).

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
        return _checked_tensors(_averaged_if_training_result(tensors), str(p))
    return _checked_tensors(_state_dict_of(_load_torch(p), str(p)), str(p))
