"""Device, dtype and random-stream helpers shared by the torch code of heavytail.nn.

- ``device``: None (the CPU), a string such as "cpu", "cuda" or "cuda:1", or a
  ``torch.device``. An unknown string, or a CUDA device on a machine without one, is refused.
- ``dtype``: None (float32), ``torch.float32`` or ``torch.float64``; nothing else.
- Randomness: heavytail's ``rng`` (an int seed, a numpy Generator or SeedSequence, or None)
  is turned into a ``torch.Generator`` by drawing one 63-bit seed from it. Different uses of
  one ``rng`` (initial weights, training) draw from different child streams
  (``purpose``), so that the same int seed may be passed to both without the two streams
  being the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._rng import RngLike, as_generator
from heavytail._lib._validation import check_int

__all__ = ["as_device", "as_dtype", "torch_generator", "torch_threads"]

_PURPOSES = {"init": 0, "train": 1, "data": 2}


def as_device(device: Any, name: str = "device") -> torch.device:
    """Return ``device`` as a ``torch.device`` that exists on this machine, or raise."""
    if device is None:
        return torch.device("cpu")
    if isinstance(device, str):
        try:
            dev = torch.device(device)
        except RuntimeError as exc:
            raise InvalidArgumentError(
                f"`{name}` must name a torch device such as 'cpu' or 'cuda', got {device!r}"
            ) from exc
    elif isinstance(device, torch.device):
        dev = device
    else:
        raise InvalidArgumentError(
            f"`{name}` must be None, a string or a torch.device, got {type(device).__name__}"
        )
    if dev.type == "cpu":
        return torch.device("cpu")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InvalidArgumentError(
                f"`{name}` is {device!r}, but CUDA is not available on this machine"
            )
        index = torch.cuda.current_device() if dev.index is None else dev.index
        if index >= torch.cuda.device_count():
            raise InvalidArgumentError(
                f"`{name}` is {device!r}, but this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)"
            )
        return torch.device("cuda", index)
    raise InvalidArgumentError(f"`{name}` must be a CPU or CUDA device, got {device!r}")


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n)``, then restore the previous count.

    The count is restored also when the block raises. One thread gives the same numbers
    on any machine and does not oversubscribe the cores beside other worker processes.

    Examples
    --------
    >>> import torch
    >>> from heavytail.nn import torch_threads
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    """
    n = check_int(n, "n", low=1)
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def as_dtype(dtype: Any, name: str = "dtype") -> torch.dtype:
    """Return ``dtype`` (None means float32) if it is torch.float32 or torch.float64."""
    if dtype is None:
        return torch.float32
    if dtype in (torch.float32, torch.float64):
        return dtype
    raise InvalidArgumentError(
        f"`{name}` must be torch.float32 or torch.float64 (or None for float32), got {dtype!r}"
    )


def torch_generator(
    rng: RngLike, device: torch.device, *, purpose: str, name: str = "rng"
) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded from ``rng``'s child stream ``purpose``.

    An int seed or SeedSequence ``s`` gives the seed drawn from
    ``SeedSequence(s).spawn`` child number ``purpose`` (fixed per purpose), so the same ``s``
    always gives the same generator. A numpy Generator is advanced by one draw per call.
    """
    if purpose not in _PURPOSES:
        raise InvalidArgumentError(f"`purpose` must be one of {sorted(_PURPOSES)}, got {purpose!r}")
    if isinstance(rng, np.random.Generator) or rng is None:
        parent = as_generator(rng, name)
        seed = int(parent.integers(0, 2**63 - 1))
    else:
        as_generator(rng, name)  # validates the seed
        seq = rng if isinstance(rng, np.random.SeedSequence) else np.random.SeedSequence(int(rng))
        child = np.random.SeedSequence(
            seq.entropy, spawn_key=(*seq.spawn_key, 7919, _PURPOSES[purpose])
        )
        seed = int(child.generate_state(1, np.uint64)[0] >> np.uint64(1))
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen
