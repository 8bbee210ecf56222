"""The result of :func:`heavytail.simulate.mean_field_sgd`: weights, records and data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import as_sample

from ._mean_field_call import call
from ._mean_field_modes import ACTIVATIONS

__all__ = ["MeanFieldRun"]


@dataclass(frozen=True, eq=False)  # arrays: == would be elementwise
class MeanFieldRun:
    """Result of :func:`mean_field_sgd`. Arrays are read-only; R = n_replicates.

    Attributes
    ----------
    w : ndarray, shape (R, n, dim)
        Final first layer; row i of replicate r is unit i. NaN for diverged replicates.
    a : ndarray, shape (R, n)
        Final second layer (all ones when fixed). NaN for diverged replicates.
    diverged : ndarray of bool, shape (R,)
        True for a replicate that left the finite range (see :data:`MEAN_FIELD_BOUND`).
    divergence_step : ndarray of int, shape (R,)
        The step at which a replicate diverged, -1 for the others.
    weight_steps : ndarray of int, shape (K,)
        Steps of ``w_records`` / ``a_records``.
    w_records, a_records : ndarray, shapes (R, K, n, dim) and (R, K, n), or None
        Weights at ``weight_steps``; NaN from a replicate's divergence on.
    loss_steps : ndarray of int, shape (L,)
        Steps of the losses and probes.
    train_loss : ndarray, shape (R, L), or None
        Mean loss on the training set (finite-sum mode only).
    test_loss : ndarray, shape (R, L), or None
        Mean loss on the test set (an estimate of the population loss).
    probe_outputs : ndarray, shape (R, L, n_probe), or None
        Network outputs at the first ``n_probe`` test points.
    x_train, y_train : ndarray, shapes (m, dim) and (m,), or None
        The training set shared by all replicates (None online).
    x_test, y_test : ndarray, shapes (test_size, dim) and (test_size,)
        The test set shared by all replicates.
    teacher_w, teacher_c : ndarray, shapes (k, dim) and (k,)
        The teacher's weights.
    settings : Mapping
        Every argument as used (``network``, ``data``, ``injected_noise`` and ``record``
        as their objects), plus ``bound``, ``unit_block`` (units per block of the
        products and sums) and ``driver`` (how replicates and blocks were spread over
        threads; the numbers do not depend on it).
    """

    w: FloatArray
    a: FloatArray
    diverged: npt.NDArray[np.bool_]
    divergence_step: npt.NDArray[np.int64]
    weight_steps: npt.NDArray[np.int64]
    w_records: FloatArray | None
    a_records: FloatArray | None
    loss_steps: npt.NDArray[np.int64]
    train_loss: FloatArray | None
    test_loss: FloatArray | None
    probe_outputs: FloatArray | None
    x_train: FloatArray | None
    y_train: FloatArray | None
    x_test: FloatArray
    y_test: FloatArray
    teacher_w: FloatArray
    teacher_c: FloatArray
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)

    @property
    def n_diverged(self) -> int:
        """How many replicates diverged."""
        return int(np.count_nonzero(self.diverged))

    @property
    def generalization_gap(self) -> FloatArray | None:
        """test_loss - train_loss, shape (R, L); None unless both were recorded."""
        if self.train_loss is None or self.test_loss is None:
            return None
        return self.test_loss - self.train_loss

    def unit_norms(self, w: npt.ArrayLike | None = None) -> FloatArray:
        """Euclidean norms ||w_i|| of the units, shape w.shape[:-1] (default: final w).

        These are the column norms of the first layer written as a dim x n matrix, the
        quantity node pruning ranks (docs/theory.md, section 2).
        """
        arr = self.w if w is None else np.asarray(w, dtype=np.float64)
        return np.sqrt(np.einsum("...j,...j->...", arr, arr))

    def outputs(
        self, x: npt.ArrayLike, w: npt.ArrayLike | None = None, a: npt.ArrayLike | None = None
    ) -> FloatArray:
        """Network outputs f(x_p) of every replicate, shape (R, len(x)).

        ``w`` (R, n, dim) and ``a`` (R, n) default to the final weights; pass a record,
        e.g. ``w_records[:, j]``, ``a_records[:, j]``, for another step. Replicates whose
        weights hold NaN (diverged) give NaN.
        """
        dim = self.w.shape[2]
        xs = as_sample(x, "x", ndim=2)
        if xs.shape[1] != dim:
            raise InvalidArgumentError(f"`x` must have {dim} columns, got {xs.shape[1]}")
        ws = self.w if w is None else np.asarray(w, dtype=np.float64)
        av = self.a if a is None else np.asarray(a, dtype=np.float64)
        if ws.shape != self.w.shape or av.shape != self.a.shape:
            raise InvalidArgumentError(
                f"`w` and `a` must have shapes {self.w.shape} and {self.a.shape}, got "
                f"{ws.shape} and {av.shape}"
            )
        bad = np.asarray(~(np.isfinite(ws).all(axis=(1, 2)) & np.isfinite(av).all(axis=1)))
        ws = np.ascontiguousarray(np.where(bad[:, None, None], 0.0, ws))
        av = np.ascontiguousarray(np.where(bad[:, None], 0.0, av))
        out = np.empty((ws.shape[0], xs.shape[0]))
        act = ACTIVATIONS[self.settings["network"].activation]
        block = self.settings["unit_block"]
        call("network_outputs", act, block, ws, av, np.ascontiguousarray(xs), out)
        out[bad] = np.nan
        return out
