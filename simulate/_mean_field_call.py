"""Calling the mean-field kernels from Python: one signature each, compiled once.

The kernels of :mod:`._mean_field_kernel` take their mode functions (activation, loss,
label, noise, batches: :mod:`._mean_field_modes`) as first-class functions. Called the
ordinary way, numba would compile a new version of a kernel for each combination of
mode dispatchers; :func:`call` instead compiles each kernel at the one signature written
in :func:`_signatures` (or loads it from the disk cache) and runs that entry point.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numba import typeof
from numba import types as nbtypes

from ._mean_field_kernel import (
    EvalSets,
    Modes,
    Outputs,
    Params,
    Plan,
    dataset_labels,
    network_outputs,
    run_parallel,
    run_serial,
)
from ._mean_field_modes import (
    WORK_EXAMPLE,
    BatchFn,
    DataArrays,
    FillFn,
    GeneratorType,
    LabelFn,
    LossFn,
    RowFn,
    UpdateFn,
)

__all__ = ["call"]

_M1 = nbtypes.float64[::1]
_M2 = nbtypes.float64[:, ::1]
_M3 = nbtypes.float64[:, :, ::1]


@functools.cache
def _signatures() -> dict[str, tuple[Any, ...]]:
    """The one signature of each kernel called from Python (types only, no compiling)."""
    f1, f2 = np.empty(1), np.empty((1, 1))
    i1 = np.empty(1, dtype=np.int64)
    modes = nbtypes.NamedTuple([RowFn, LossFn, FillFn, UpdateFn, BatchFn, RowFn, LabelFn], Modes)
    data = typeof(DataArrays(f2, f1, f2, f1, 0.0))
    ev = typeof(EvalSets(f2, f1, f2, f1))
    params = typeof(Params(1, 0.1, 1, True, 1.0, True, 2.0, 0.0, 1.0, 1, 1))
    plan = typeof(Plan(i1, i1))
    out = typeof(
        Outputs(np.empty((1, 1, 1)), f2, np.empty((1, 1, 1, 1)), np.empty((1, 1, 1)),
                f2, f2, np.empty((1, 1, 1)), i1)
    )  # fmt: skip
    gens = nbtypes.ListType(GeneratorType)
    work = typeof(WORK_EXAMPLE)
    step = nbtypes.FunctionType(nbtypes.boolean(modes, GeneratorType, _M2, _M1, params, work))
    driver = (gens, gens, modes, step, data, ev, params, plan, out)
    return {
        "driver": driver,
        "labels": (RowFn, LabelFn, _M2, _M1, nbtypes.float64, _M2, _M1, _M1),
        "outputs": (RowFn, nbtypes.int64, _M3, _M2, _M2, _M2),
    }


_KERNELS = {
    "run_serial": (run_serial, "driver"),
    "run_parallel": (run_parallel, "driver"),
    "dataset_labels": (dataset_labels, "labels"),
    "network_outputs": (network_outputs, "outputs"),
}


def call(name: str, *args: Any) -> None:
    """Run kernel ``name`` at its one signature, compiling it (or loading it from the
    disk cache) on first use.

    The mode functions among ``args`` are plain dispatchers; numba converts them to
    first-class functions when it unboxes them for this signature. Calling the kernel
    the ordinary way would instead compile a new version typed on each dispatcher.
    """
    dispatcher: Any
    dispatcher, key = _KERNELS[name]
    sig = _signatures()[key]
    cres = dispatcher.overloads.get(sig)
    if cres is None:
        dispatcher.compile(sig)
        cres = dispatcher.overloads[sig]
    cres.entry_point(*args)
