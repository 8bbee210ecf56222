"""Input checks shared by the public functions.

Each helper raises :class:`InvalidArgumentError` (a ``ValueError``) whose message names the
argument and the rule, e.g. "`kappa` must be in (0, 1], got 1.5". Public functions call
these first, before any work, so that bad input never becomes a silent NaN or a hang.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._errors import InvalidArgumentError

__all__ = [
    "as_sample",
    "check_allocation",
    "check_choice",
    "check_int",
    "check_real",
    "format_interval",
]


def format_interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    """Format an interval as "(0, 1]"."""

    def fmt(v: float) -> str:
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:g}"

    return f"{'(' if low_open else '['}{fmt(low)}, {fmt(high)}{')' if high_open else ']'}"


def check_real(
    value: Any,
    name: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float in the interval, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgumentError(f"`{name}` must be a real number, got {type(value).__name__}")
    v = float(value)
    if math.isnan(v):
        raise InvalidArgumentError(f"`{name}` must be a number, got nan")
    bad_low = v <= low if low_open else v < low
    bad_high = v >= high if high_open else v > high
    if bad_low or bad_high or (math.isinf(v) and not (math.isinf(low) or math.isinf(high))):
        interval = format_interval(low, high, low_open, high_open)
        raise InvalidArgumentError(f"`{name}` must be in {interval}, got {value!r}")
    if math.isinf(v):
        raise InvalidArgumentError(f"`{name}` must be finite, got {value!r}")
    return v


def check_int(
    value: Any,
    name: str,
    *,
    low: int | None = None,
    high: int | None = None,
) -> int:
    """Return ``value`` as an int in [low, high], or raise naming ``name``.

    Floats are refused even when integral: a float where a count belongs is usually a bug.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(f"`{name}` must be an integer, got {type(value).__name__}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise InvalidArgumentError(f"`{name}` must be in [{lo}, {hi}], got {v}")
    return v


def check_choice(value: Any, name: str, choices: Collection[str]) -> str:
    """Return ``value`` if it is one of ``choices``, or raise listing them."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise InvalidArgumentError(f"`{name}` must be one of {listed}, got {value!r}")
    return value


def as_sample(
    x: Any,
    name: str = "x",
    *,
    ndim: int | tuple[int, ...] = 1,
    min_size: int = 1,
    allow_constant: bool = True,
) -> npt.NDArray[np.float64]:
    """Return ``x`` as a finite float64 array, or raise naming ``name``.

    Refused: complex, object, string and boolean arrays; the wrong number of dimensions;
    fewer than ``min_size`` observations (rows for 2-D input); NaN or inf entries; and,
    when ``allow_constant`` is False, arrays whose entries are all equal. The input is
    never modified: the result is a new array whenever a conversion happens, and callers
    must not write into it otherwise.
    """
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as exc:  # ragged nested sequences
            raise InvalidArgumentError(f"`{name}` must be an array of real numbers: {exc}") from exc
    kind = arr.dtype.kind
    if kind == "c":
        raise InvalidArgumentError(f"`{name}` must be real, got a complex array")
    if kind not in "fiu":
        raise InvalidArgumentError(
            f"`{name}` must be an array of real numbers, got dtype {arr.dtype}"
        )
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in dims:
        allowed = " or ".join(f"{d}-D" for d in dims)
        raise InvalidArgumentError(f"`{name}` must be {allowed}, got {arr.ndim}-D")
    size = arr.shape[0] if arr.ndim else 0
    if arr.ndim == 0 or size < min_size or arr.size == 0:
        got = f"an array of shape {arr.shape}" if arr.ndim > 1 and arr.size == 0 else size
        raise InvalidArgumentError(
            f"`{name}` must hold at least {min_size} observations, got {got}"
        )
    out = np.asarray(arr, dtype=np.float64)
    finite = np.isfinite(out)
    if not finite.all():
        bad = int(out.size - np.count_nonzero(finite))
        raise InvalidArgumentError(f"`{name}` must be finite, got {bad} NaN or infinite entries")
    if not allow_constant and out.size > 0 and np.all(out == out.flat[0]):
        raise InvalidArgumentError(f"`{name}` must not have all entries equal")
    return out


def physical_memory() -> int | None:
    """This machine's physical memory in bytes, or None where the OS does not say."""
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        page = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return pages * page if pages > 0 and page > 0 else None


def format_bytes(n: int) -> str:
    """``n`` bytes in decimal units: "512 B", "16.0 TB"."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB", "TB", "PB", "EB"):
        value /= 1000.0
        if value < 1000.0 or unit == "EB":
            return f"{value:.3g} {unit}"
    raise AssertionError("unreachable")


def check_allocation(arrays: Collection[tuple[str, str, int]], limit: int | None = None) -> None:
    """Refuse, before allocating, arrays that together exceed the machine's memory.

    Each entry is (the arguments that size the array, what the array is, its bytes);
    the sizes are Python ints, so no product overflows. ``limit`` defaults to the
    physical memory (no check where the OS does not report it). The message names the
    arguments of the largest array, its size and the total, e.g. "`n_steps` =
    1000000000000 needs 16 TB for ...". Without the check numpy raises a bare
    MemoryError, or worse, the machine starts to swap.
    """
    if limit is None:
        limit = physical_memory()
    if limit is None:
        return
    total = sum(nbytes for _, _, nbytes in arrays)
    if total <= limit:
        return
    names, what, nbytes = max(arrays, key=lambda entry: entry[2])
    raise InvalidArgumentError(
        f"{names} needs {format_bytes(nbytes)} for {what} ({format_bytes(total)} in all), "
        f"more than this machine's memory ({format_bytes(limit)})"
    )


def folder_problem(folder: Path) -> str | None:
    """What stops ``folder`` from holding a new file: ``"folder '...' does not exist"`` or
    ``"folder '...' is a file"``; None if it is a folder. Each caller raises its own error
    with the words it adds in front (``--plot 'p.png': ...``, ``the store's ...``)."""
    if not folder.exists():
        return f"folder {str(folder)!r} does not exist"
    if not folder.is_dir():
        return f"folder {str(folder)!r} is a file"
    return None
