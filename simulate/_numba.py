"""The one place that holds numba's options for heavytail's kernels, and how a simulator is built.

How a simulator is built (``simulate/_sgd_linear.py`` with ``_sgd_linear_kernel.py`` is
the example; QuantEcon's ``simulate_indices`` -> ``_generate_sample_paths`` is the model):

- The public wrapper, in plain Python, validates every argument first (messages name the
  argument and the rule), owns the randomness (``rng`` -> one child Generator per fixed
  chunk of work, spawned with ``heavytail._lib._rng.spawn_generators``, so the split never
  depends on the thread count), allocates the outputs and pre-fills them (NaN, -1), calls
  one kernel, then warns (divergence) and returns a frozen result with read-only arrays.
- The wrapper picks the kernel. Each mode that changes the loop's structure (online or
  finite-sum data, a scalar fast path) has its own small ``@kernel(parallel=True)`` entry
  point, and the wrapper chooses among them with an ``if`` in Python. No integer code or
  sentinel value (``m == 0``, ``every == 0``) tells a kernel which mode it is in.
- A kernel takes a handful of arguments: the Generators (a ``numba.typed.List``), one
  ``NamedTuple`` of scalar parameters, the mode's input (a ``NamedTuple`` whose class
  names the mode), and one ``NamedTuple`` of output arrays. numba accepts heterogeneous
  NamedTuples and compiles one specialisation per combination of types (not nested ones
  holding arrays: ``prange`` cannot pass those).
- Smaller choices are made by type, at compile time, and cost nothing per step:
  - an optional output is an array or None in the outputs NamedTuple. The kernel passes
    the field on to the chain function as an argument, where numba drops the code under
    ``if average is not None`` for a None (it does not for a field read in place);
  - a choice among laws or data sources is one NamedTuple class each, and a function
    given one implementation per class with :func:`dispatch_on_type` runs the one for
    its first argument's class (``_noise_kernel.add_stable_noise``), as
    ``functools.singledispatch`` does in Python.
- A step makes no call that passes arrays or a Generator: such a call costs
  reference-count updates, which dominate a cheap step. The code
  :func:`dispatch_on_type` picks is inlined; helpers that are real calls run per
  chain, per epoch or per chunk.
- Kernels are deterministic given their Generators: chunk c uses ``gens[c]`` alone, and
  ``prange`` hands whole chunks to threads.

numba's on-disk cache records the argument types of each compiled kernel. Renaming or
removing a NamedTuple class that a kernel takes makes an older cache index for that
kernel unreadable (numba unpickles it before checking that it is stale, and raises); the
cure is to delete the module's ``__pycache__/*.nbi`` and ``*.nbc`` files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import numba
from numba.core import types
from numba.extending import overload

__all__ = ["dispatch_on_type", "kernel"]

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


def dispatch_on_type(stub: Callable[..., Any], implementations: Mapping[type | None, Any]) -> None:
    """Give ``stub`` one implementation per class of its first argument, in compiled code.

    ``implementations`` maps a class (a NamedTuple class, or None for the value None) to
    a plain Python function with ``stub``'s signature. Where a kernel calls ``stub``,
    numba looks up the class of the first argument's value at compile time, compiles
    that function with :func:`kernel`'s options and inlines it: the choice costs nothing
    per call, and a class missing from the table is a typing error, never a silent
    fallback. It is ``functools.singledispatch`` for kernels, built on
    ``numba.extending.overload``. Kernels calling ``stub`` stay cacheable
    (``cache=True``), unlike kernels that take ``@njit`` functions as arguments: each
    such function is a type of its own, which the on-disk cache of a new process never
    matches, so the kernel is compiled again in every process.
    """

    def pick(first: Any, *rest: Any) -> Any:  # numba types in, a function or None out
        if isinstance(first, types.NoneType):
            return implementations.get(None)
        if isinstance(first, types.BaseNamedTuple):
            named: Any = first  # numba's type stubs lack instance_class
            return implementations.get(named.instance_class)
        return None

    # error_model and fastmath as in kernel(), for the same reasons. strict=False: numba
    # would otherwise require ``pick``'s signature to repeat the stub's
    overload(
        stub,
        jit_options={"error_model": "numpy", "fastmath": False},
        strict=False,
        inline="always",
    )(pick)
