"""The one place that holds numba's options for heavytail's kernels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

__all__ = ["kernel"]

F = TypeVar("F", bound=Callable[..., Any])


def kernel(*, parallel: bool = False) -> Callable[[F], F]:
    """Compile a private kernel with heavytail's numba policy.

    - ``cache=True``: compiled code is kept on disk next to the module, so each process
      (and each pytest worker) compiles once.
    - ``error_model="numpy"``: division by zero gives inf/nan as in numpy instead of
      raising; kernels check for overflow themselves and report it.
    - ``fastmath=False``: no reassociation, so results are bit-identical across runs
      and thread counts.
    - ``nogil=True``: kernels can run in threads.
    - ``parallel`` is the one exception a kernel may ask for: ``prange`` over fixed
      chunks of work, each chunk with its own Generator, so the split never depends
      on the thread count.
    """
    decorator = numba.njit(
        cache=True, error_model="numpy", fastmath=False, nogil=True, parallel=parallel
    )
    return cast(Callable[[F], F], decorator)
