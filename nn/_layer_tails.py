"""Tail indices of each weight layer by three estimators side by side, never averaged.

For each weight layer of a network (a tensor of 2 or more dimensions; the last one is the
output layer), in the convention of Barsbey et al.'s ``exp_utils.alpha_estimation``: the
matrix is the weight as torch stores it, (out, in), so that each row is one unit's
incoming weights, except the output layer, which is transposed so that its rows are the
last hidden layer's units (each row one unit's outgoing weights); a convolution weight
(out, in, k1, k2) is read as (out * in, k1 * k2). Then:

- ``rows``: the papers' multivariate block-sum estimate on the rows
  (:func:`heavytail.nn.rows_tail_index`: column medians subtracted, median over
  ``n_permutations`` row orders, uncapped and capped at 2 at block size 10, and the
  papers' own number, the median over their block sizes). Sample size: the rows.
- ``entries``: "auto" (:func:`heavytail.theory.estimate_tail_index`) on the entries of
  that matrix after its column medians are subtracted, read from their median (the
  papers' ``a_ind``), with its 95% interval. Sample size: the entries, or a uniform
  subsample of ``max_entries`` of them without replacement.
- ``norms``: "auto" on the Euclidean norms of those rows, read from their median (the
  papers' ``alpha_hat_norms``), with its interval. Sample size: the rows.

Each estimate carries its sample size and is marked ``below_calibrated`` when that size is
under the smallest one at which the estimator was calibrated (docs/estimators.md): 1,000
rows for the block-sum estimator (``heavytail.nn._rows.MIN_CALIBRATED_ROWS``), 10,000 for
"auto" (its calibration table is at n = 1e4 and 1e5). Such an estimate is reported, not
dropped: the mark says that its interval's coverage has not been measured there.

Also per layer: the prunable fraction at relative error ``eps`` (Barsbey et al. read it at
10%): the largest fraction of the entries, of the rows of W as stored (the units), or of
its singular values that can be set to 0 with ||W - W_k||_F / ||W||_F <= eps; the same
numbers as :func:`heavytail.nn.analyze`'s ``prunable_*`` columns. Given the initial
weights, also the distance from initialisation ``||W - W0||_F / ||W0||_F``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from heavytail._lib._errors import EstimationError, InvalidArgumentError
from heavytail._lib._rng import RngLike, as_generator
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_int, check_real
from heavytail.theory import estimate_tail_index

from ._prune_torch import kept_for_eps, units_of, weight_matrix
from ._rows import MIN_CALIBRATED_ROWS, RowsTailIndex, rows_tail_index

__all__ = ["AUTO_MIN_CALIBRATED", "PRUNE_METHODS", "LayerTails", "layer_tails", "tails_frame"]


#: Smallest sample size of "auto"'s calibration table (docs/estimators.md: every method at
#: n = 1e4 and 1e5; at 1e3 the widened grid found coverage below 0.85 on five laws).
AUTO_MIN_CALIBRATED = 10_000
#: "auto" needs at least 100 observations.
AUTO_MIN_N = 100
#: Pruning schemes: entries, rows (units), singular values.
PRUNE_METHODS = ("magnitude", "node", "singular")


@dataclass(frozen=True)
class LayerTails:
    """One weight layer's tail indices by three estimators, and its compressibility.

    Attributes
    ----------
    name : str
        The layer (the state-dict key without ``.weight``).
    shape : tuple of int
        The weight's shape as stored.
    output_layer : bool
        Whether it is the network's last weight layer (transposed for the estimators).
    orientation : str
        What the rows are.
    n_rows, n_cols : int
        The matrix the estimators read (after any transposition).
    rows : RowsTailIndex or None
        The papers' block-sum estimate on the rows (None when there are fewer than 20
        rows; ``rows_note`` says why).
    rows_below_calibrated : bool
        Fewer than 1,000 rows.
    entries_alpha : float
        "auto" on the column-centred entries (NaN when it could not run; see
        ``warnings``).
    entries_ci : tuple of float
    entries_n : int
        Entries used (a subsample when the layer has more than ``max_entries``).
    entries_below_calibrated : bool
        ``entries_n`` < 10,000.
    norms_alpha : float
        "auto" on the row norms (NaN with fewer than 100 rows).
    norms_ci : tuple of float
    norms_n : int
    norms_below_calibrated : bool
    prunable : Mapping[str, float]
        Prunable fraction at relative error ``eps`` per scheme (magnitude, node, singular).
    eps : float
    distance : float
        ``||W - W0||_F / ||W0||_F`` (NaN when no initial weights were given).
    warnings : tuple of str
        The estimators' warnings, each prefixed by its estimator.
    """

    name: str
    shape: tuple[int, ...]
    output_layer: bool
    orientation: str
    n_rows: int
    n_cols: int
    rows: RowsTailIndex | None
    rows_below_calibrated: bool
    entries_alpha: float
    entries_ci: tuple[float, float]
    entries_n: int
    entries_below_calibrated: bool
    norms_alpha: float
    norms_ci: tuple[float, float]
    norms_n: int
    norms_below_calibrated: bool
    prunable: Mapping[str, float]
    eps: float
    distance: float
    warnings: tuple[str, ...]

    def as_row(self) -> dict[str, Any]:
        """A flat dict: one row of :func:`tails_frame`."""
        nan2 = (math.nan, math.nan)
        r = self.rows
        return {
            "layer": self.name,
            "shape": "x".join(str(s) for s in self.shape),
            "output_layer": self.output_layer,
            "orientation": self.orientation,
            "rows_alpha": r.alpha if r else math.nan,
            "rows_alpha_capped": r.alpha_capped if r else math.nan,
            "rows_alpha_paper": r.alpha_paper if r else math.nan,
            "rows_alpha_paper_uncapped": r.alpha_paper_uncapped if r else math.nan,
            "rows_ci_low": (r.ci if r else nan2)[0],
            "rows_ci_high": (r.ci if r else nan2)[1],
            "rows_n": self.n_rows,
            "rows_below_calibrated": self.rows_below_calibrated,
            "entries_alpha": self.entries_alpha,
            "entries_ci_low": self.entries_ci[0],
            "entries_ci_high": self.entries_ci[1],
            "entries_n": self.entries_n,
            "entries_below_calibrated": self.entries_below_calibrated,
            "norms_alpha": self.norms_alpha,
            "norms_ci_low": self.norms_ci[0],
            "norms_ci_high": self.norms_ci[1],
            "norms_n": self.norms_n,
            "norms_below_calibrated": self.norms_below_calibrated,
            **{f"prunable_{m}": v for m, v in self.prunable.items()},
            "eps": self.eps,
            "distance_from_init": self.distance,
            "n_warnings": len(self.warnings),
        }


def _weights(model_or_state: Any) -> list[tuple[str, torch.Tensor]]:
    if isinstance(model_or_state, torch.nn.Module):
        state: Mapping[str, Any] = model_or_state.state_dict()
    elif isinstance(model_or_state, Mapping):
        state = model_or_state
    else:
        raise InvalidArgumentError(
            "`model_or_state` must be a torch.nn.Module or a state dict, got "
            f"{type(model_or_state).__name__}"
        )
    out = []
    for key, w in state.items():
        if isinstance(w, torch.Tensor) and w.ndim >= 2:
            out.append((key.removesuffix(".weight"), w.detach().cpu()))
    if not out:
        raise InvalidArgumentError(
            "`model_or_state` holds no weight layer (no tensor of 2 or more dimensions)"
        )
    return out


def _matrix(w: torch.Tensor, output_layer: bool) -> FloatArray:
    a = w.double().numpy()
    if a.ndim > 2:
        a = a.reshape(a.shape[0] * a.shape[1], -1)
    if output_layer:
        a = a.T
    return np.ascontiguousarray(a, dtype=np.float64)


def _auto(
    x: FloatArray, rng: np.random.Generator, n_boot: int | None, label: str
) -> tuple[float, tuple[float, float], list[str]]:
    if x.size < AUTO_MIN_N:
        return (
            math.nan,
            (math.nan, math.nan),
            [f"{label}: {x.size} values, fewer than the {AUTO_MIN_N} that auto needs"],
        )
    opts: dict[str, Any] = {"center": "median", "rng": rng}
    if n_boot is not None:
        opts["n_boot"] = n_boot
    try:
        est = estimate_tail_index(x, "auto", **opts)
    except EstimationError as exc:
        return math.nan, (math.nan, math.nan), [f"{label}: {exc}"]
    return est.alpha, (float(est.ci[0]), float(est.ci[1])), [f"{label}: {w}" for w in est.warnings]


def _prunable(matrix: torch.Tensor, eps: float) -> dict[str, float]:
    """Prunable fraction per scheme; 1.0 for an all-zero layer (as ``analyze``)."""
    if not bool(matrix.any()):
        return dict.fromkeys(PRUNE_METHODS, 1.0)
    out = {}
    for method in PRUNE_METHODS:
        units = units_of(matrix, method)
        out[method] = (units.size - kept_for_eps(units, eps)) / units.size
    return out


def layer_tails(
    model_or_state: Any,
    *,
    eps: float = 0.1,
    n_permutations: int = 5,
    max_entries: int | None = 100_000,
    n_boot: int | None = None,
    init: Mapping[str, torch.Tensor] | None = None,
    rng: RngLike = None,
) -> tuple[LayerTails, ...]:
    """Each weight layer's tail index by the papers' block-sum on rows, "auto" on the
    entries and "auto" on the row norms, with sample sizes and calibration marks, and its
    prunable fractions (see the module notes for the conventions).

    Parameters
    ----------
    model_or_state : torch.nn.Module or mapping of str to Tensor
        A network or its state dict (e.g. ``TrainResult.averaged_state``); its tensors of
        2 or more dimensions, in order, are the layers, and the last is the output layer.
    eps : float
        Relative error at which the prunable fractions are read, in [0, 1] (the papers:
        0.1).
    n_permutations : int
        Row orders of the block-sum estimate (the papers: 5).
    max_entries : int or None
        Largest number of entries given to "auto" (a uniform subsample without
        replacement above it; None: all). "auto" costs about linear time in n.
    n_boot : int or None
        Bootstrap resamples of "auto" (None: its default).
    init : mapping of str to Tensor, optional
        The initial state dict, for each layer's distance from initialisation.
    rng : int, numpy Generator, SeedSequence or None
        Seeds the row orders, the subsample and the bootstraps (one child stream per layer
        and estimator, so a layer's numbers do not depend on the other layers).

    Returns
    -------
    tuple of LayerTails
        One per weight layer, in the network's order. :func:`tails_frame` tabulates them.
    """
    eps = check_real(eps, "eps", low=0.0, high=1.0)
    n_permutations = check_int(n_permutations, "n_permutations", low=1)
    if max_entries is not None:
        max_entries = check_int(max_entries, "max_entries", low=AUTO_MIN_N)
    if n_boot is not None:
        n_boot = check_int(n_boot, "n_boot", low=1)
    layers = _weights(model_or_state)
    init_w = dict(_weights(init)) if init is not None else None
    gens = as_generator(rng).spawn(len(layers))
    out = []
    for i, ((name, w), gen) in enumerate(zip(layers, gens, strict=True)):
        output = i == len(layers) - 1
        g_rows, g_sub, g_entries, g_norms = gen.spawn(4)
        a = _matrix(w, output)
        if not np.all(np.isfinite(a)):
            raise InvalidArgumentError(f"layer {name!r} has NaN or infinite weights")
        n_rows, n_cols = a.shape
        warnings: list[str] = []
        rows: RowsTailIndex | None = None
        try:
            rows = rows_tail_index(
                w, output_layer=output, n_permutations=n_permutations, rng=g_rows
            )
            orientation = rows.orientation
            warnings += [f"rows: {m}" for m in rows.warnings]
        except InvalidArgumentError as exc:
            orientation = (
                "rows are the last hidden layer's units (outgoing weights)"
                if output
                else "rows are the layer's units (incoming weights)"
            )
            warnings.append(f"rows: {exc}")
        centred = a - np.median(a, axis=0, keepdims=True)
        entries = centred.ravel()
        if max_entries is not None and entries.size > max_entries:
            entries = g_sub.choice(entries, size=max_entries, replace=False)
        e_alpha, e_ci, e_warn = _auto(entries, g_entries, n_boot, "entries")
        norms = np.linalg.norm(centred, axis=1)
        n_alpha, n_ci, n_warn = _auto(norms, g_norms, n_boot, "norms")
        warnings += e_warn + n_warn
        prunable = _prunable(weight_matrix(w), eps)
        distance = math.nan
        if init_w is not None:
            if name not in init_w or init_w[name].shape != w.shape:
                raise InvalidArgumentError(
                    f"`init` must hold layer {name!r} of shape {tuple(w.shape)}"
                )
            w0 = init_w[name].double()
            distance = float(
                torch.linalg.vector_norm(w.double() - w0) / torch.linalg.vector_norm(w0)
            )
        out.append(
            LayerTails(
                name=name,
                shape=tuple(int(s) for s in w.shape),
                output_layer=output,
                orientation=orientation,
                n_rows=n_rows,
                n_cols=n_cols,
                rows=rows,
                rows_below_calibrated=n_rows < MIN_CALIBRATED_ROWS,
                entries_alpha=e_alpha,
                entries_ci=e_ci,
                entries_n=int(entries.size),
                entries_below_calibrated=entries.size < AUTO_MIN_CALIBRATED,
                norms_alpha=n_alpha,
                norms_ci=n_ci,
                norms_n=n_rows,
                norms_below_calibrated=n_rows < AUTO_MIN_CALIBRATED,
                prunable=prunable,
                eps=eps,
                distance=distance,
                warnings=tuple(warnings),
            )
        )
    return tuple(out)


def tails_frame(layers: Sequence[LayerTails]) -> pd.DataFrame:
    """One row per layer (:meth:`LayerTails.as_row`): estimates, intervals, sample sizes,
    calibration marks, prunable fractions and distance from initialisation."""
    if not layers or not all(isinstance(x, LayerTails) for x in layers):
        raise InvalidArgumentError("`layers` must be a non-empty sequence of LayerTails")
    return pd.DataFrame([x.as_row() for x in layers])
