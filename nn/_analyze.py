"""``analyze``: tail indices and compressibility of a trained network, layer by layer.

What Barsbey et al. (NeurIPS 2021) relate: the tail index of the weights (with its
interval), how much of each layer can be pruned at a given relative error, and what
pruning does to accuracy. These are not WeightWatcher's alpha, which is the exponent of
the density of the eigenvalues of W^T W (docs/analyze.md, "Not WeightWatcher's alpha";
:func:`heavytail.theory.tail_index_from_esd_exponent` converts under its model).

Each weight is read as a matrix whose rows are its units (:func:`weight_matrix`): a
Linear weight (out, in) as it is, a convolution weight (out, in, k1, k2) as the
(out * in, k1 * k2) matrix of its kernels, as the papers read it.

The evaluation of accuracy after pruning lives in :mod:`._analyze_accuracy`.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from heavytail._lib._errors import EstimationError, InvalidArgumentError
from heavytail._lib._rng import RngLike, as_generator
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_int, check_real
from heavytail.theory import TailEstimate, estimate_tail_index

from ._analyze_accuracy import accuracy_columns, check_ratios, network_for
from ._checkpoint import load_checkpoint
from ._device import as_device
from ._prune_torch import (
    PRUNE_METHODS,
    kept_for_eps,
    units_of,
    weight_layers,
    weight_matrix,
    weight_of,
)
from ._rows import MIN_ROWS, rows_tail_index
from ._spectral import gram_eigenvalues, spectral_columns

__all__ = ["ESTIMATE_KINDS", "analyze", "layer_weights"]


#: The three tail-index estimates of a layer: prefixes of their columns.
ESTIMATE_KINDS = ("entries", "rows", "norms")

#: "auto" was calibrated at n = 1e4 and n = 1e5 (docs/estimators.md); larger layers are
#: estimated from a uniform random subsample of this many entries.
DEFAULT_MAX_ENTRIES = 100_000
#: A layer with more entries than ``max_entries`` is estimated on this many disjoint
#: uniform subsamples of ``max_entries // ENTRIES_SPLITS`` entries each (see analyze).
ENTRIES_SPLITS = 3
#: The "auto" rule needs at least 100 observations (AutoPolicy.min_size).
MIN_AUTO = 100


@dataclass(frozen=True)
class _Estimate:
    """One estimate as it goes into the table (NaNs with a reason when there is none)."""

    alpha: float
    low: float
    high: float
    estimand: str
    method: str
    n: int
    warnings: str

    @classmethod
    def missing(cls, reason: str, n: int) -> _Estimate:
        return cls(math.nan, math.nan, math.nan, "", "", n, f"not estimated: {reason}")

    def columns(self, prefix: str) -> dict[str, Any]:
        return {
            f"{prefix}_alpha": self.alpha,
            f"{prefix}_ci_low": self.low,
            f"{prefix}_ci_high": self.high,
            f"{prefix}_estimand": self.estimand,
            f"{prefix}_method": self.method,
            f"{prefix}_n": self.n,
            f"{prefix}_warnings": self.warnings,
        }


def _from_tail_estimate(est: TailEstimate) -> _Estimate:
    route = est.settings.get("route")
    method = est.method if route is None else f"auto ({route}: {est.settings.get('estimator')})"
    return _Estimate(
        est.alpha, est.ci[0], est.ci[1], est.estimand, method, est.n, "; ".join(est.warnings)
    )


def _auto(x: FloatArray, gen: np.random.Generator) -> _Estimate:
    """The "auto" rule, median subtracted; NaN with the reason when it cannot estimate."""
    if x.size < MIN_AUTO:
        return _Estimate.missing(f"the auto rule needs at least {MIN_AUTO} values", x.size)
    try:
        return _from_tail_estimate(estimate_tail_index(x, "auto", center="median", rng=gen))
    except (EstimationError, InvalidArgumentError) as exc:
        return _Estimate.missing(str(exc), x.size)


def _entries(matrix: FloatArray, max_entries: int, gen: np.random.Generator) -> _Estimate:
    """ "auto" on every entry, or on ``ENTRIES_SPLITS`` disjoint subsamples (see analyze)."""
    x = matrix.ravel()
    if x.size <= max_entries:
        return _auto(x, gen)
    m = max_entries // ENTRIES_SPLITS
    picked = gen.choice(x.size, size=ENTRIES_SPLITS * m, replace=False)
    parts = [_auto(x[np.sort(idx)], gen) for idx in picked.reshape(ENTRIES_SPLITS, m)]
    good = [p for p in parts if math.isfinite(p.alpha)]
    if not good:
        return _Estimate.missing(parts[0].warnings.removeprefix("not estimated: "), x.size)
    alphas = [p.alpha for p in good]
    methods = sorted({p.method for p in good})
    warnings = [f"subsample {i + 1}: {p.warnings}" for i, p in enumerate(parts) if p.warnings]
    return _Estimate(
        float(np.median(alphas)),
        min(p.low for p in good),
        max(p.high for p in good),
        good[0].estimand,
        f"median of {len(good)} disjoint subsamples of {m} entries ({'; '.join(methods)}); "
        "interval: the union of theirs",
        len(good) * m,
        "; ".join(warnings),
    )


def _rows(
    matrix: FloatArray, output_layer: bool, n_permutations: int, gen: np.random.Generator
) -> dict[str, Any]:
    """The rows' columns: :func:`rows_tail_index` in the papers' convention."""
    n = matrix.shape[1] if output_layer else matrix.shape[0]
    out: dict[str, Any]
    try:
        if n < MIN_ROWS:
            raise InvalidArgumentError(
                f"{n} rows; the block-sum estimator needs at least {MIN_ROWS} rows "
                "(two blocks of 10)"
            )
        est = rows_tail_index(
            matrix, output_layer=output_layer, n_permutations=n_permutations, rng=gen
        )
    except (EstimationError, InvalidArgumentError) as exc:
        out = _Estimate.missing(str(exc), n).columns("rows")
        out.update(
            rows_alpha_capped=math.nan,
            rows_alpha_paper=math.nan,
            rows_orientation="",
            rows_below_calibrated=True,
        )
        return out
    method = (
        f"block_sum (rows as vectors, column medians subtracted, median over "
        f"{n_permutations} row orders, block size {est.block_size})"
    )
    out = _Estimate(
        est.alpha, est.ci[0], est.ci[1], "stable index", method, est.n_rows, "; ".join(est.warnings)
    ).columns("rows")
    out.update(
        rows_alpha_capped=est.alpha_capped,
        rows_alpha_paper=est.alpha_paper,
        rows_orientation=est.orientation,
        rows_below_calibrated=est.below_calibrated_range,
    )
    return out


def _prunable(matrix: torch.Tensor, singular: FloatArray, eps: float) -> dict[str, float]:
    """Prunable fraction per method; 1.0 for an all-zero layer (removing it changes nothing,
    though its relative error is 0/0). ``singular`` holds the singular values, computed
    once for these and the spectral columns."""
    if not bool(matrix.any()):
        return {f"prunable_{method}": 1.0 for method in PRUNE_METHODS}
    out = {}
    for method in PRUNE_METHODS:
        units = singular if method == "singular" else units_of(matrix, method)
        out[f"prunable_{method}"] = (units.size - kept_for_eps(units, eps)) / units.size
    return out


def layer_weights(model_or_state: Any) -> dict[str, torch.Tensor]:
    """The weight tensors (2 or more dimensions) of a model, a state dict or a file.

    Parameters
    ----------
    model_or_state : torch.nn.Module, mapping of str to Tensor, str or pathlib.Path
        A module (its layers with a weight of 2 or more dimensions), a state dict (its
        entries named ``weight`` or ``*.weight`` with 2 or more dimensions; a pruned
        layer's ``weight_orig`` times ``weight_mask``), or a checkpoint file
        (:func:`load_checkpoint`).

    Returns
    -------
    dict of str to torch.Tensor
        Layer name (the key without ``.weight``) to its weight, detached.
    """
    if isinstance(model_or_state, torch.nn.Module):
        layers = weight_layers(model_or_state)
        if not layers:
            raise InvalidArgumentError(
                "`model_or_checkpoint` has no layer with a weight of 2 or more dimensions "
                f"(got a {type(model_or_state).__name__}); pass the whole network"
            )
        return {name: weight_of(module, "weight").detach() for name, module in layers}
    if isinstance(model_or_state, str | Path):
        state: Mapping[str, Any] = load_checkpoint(model_or_state)
    elif isinstance(model_or_state, Mapping):
        state = model_or_state
    else:
        raise InvalidArgumentError(
            "`model_or_checkpoint` must be a torch.nn.Module, a state dict or a checkpoint "
            f"path, got {type(model_or_state).__name__}"
        )
    found: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor) or value.ndim < 2:
            continue
        if key == "weight" or key.endswith(".weight"):
            found[key.removesuffix("weight").removesuffix(".")] = value.detach()
        elif key.endswith("weight_orig") and key[:-4] + "mask" in state:
            mask = state[key[:-4] + "mask"]
            name = key.removesuffix("weight_orig").removesuffix(".")
            found[name] = (value * mask).detach()
    if not found:
        raise InvalidArgumentError(
            "`model_or_checkpoint` holds no weight of 2 or more dimensions (no entry named "
            "'weight' or '*.weight')"
        )
    return found


def _progress(total: int, progress: bool | None) -> Any:
    from tqdm import tqdm

    quiet = not sys.stderr.isatty() if progress is None else not progress
    return tqdm(total=total, desc="analyze", unit="layer", disable=quiet, file=sys.stderr)


def analyze(
    model_or_checkpoint: Any,
    *,
    data: Any = None,
    eps: float = 0.1,
    arch: str | None = None,
    rng: RngLike = 0,
    ratios: Sequence[float] = (0.5, 0.8, 0.9),
    max_entries: int = DEFAULT_MAX_ENTRIES,
    n_permutations: int = 5,
    device: Any = None,
    progress: bool | None = None,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Per-layer tail indices, prunable fractions and, with data, accuracy after pruning.

    Every weight of 2 or more dimensions is read as a matrix W whose rows are its units:
    a Linear weight (out, in) as it is, a convolution weight (out, in, k1, k2) as the
    (out * in, k1 * k2) matrix of its kernels, as Barsbey et al. (2021) read convolutions.

    Three tail-index estimates per layer, each with its 95% interval, what it estimates
    and the estimator's warnings (columns ``<kind>_alpha``, ``_ci_low``, ``_ci_high``,
    ``_estimand``, ``_method``, ``_n``, ``_warnings``):

    - ``entries``: :func:`heavytail.theory.estimate_tail_index` ("auto",
      ``center="median"``) on the entries of W: on every entry when there are at most
      ``max_entries``. A larger layer is split: ``ENTRIES_SPLITS`` = 3 disjoint uniform
      subsamples of ``max_entries // 3`` entries each (the "auto" rule is calibrated at
      n = 1e4 and 1e5, docs/estimators.md, and its cost grows linearly in n, about 9 s at
      n = 1e6). The estimate is their median, the interval the union of their intervals,
      so that subsamples that disagree widen it instead of each reading confidently;
      ``entries_n`` says how many entries were used.
    - ``rows``: :func:`heavytail.nn.rows_tail_index`, the papers' multivariate block-sum
      estimate of the stable index of the units (Barsbey et al. 2021): the rows of W as
      torch stores it (out, in), each row one unit's incoming weights; for the last layer
      (the network's output layer) the transpose, each row one hidden unit's outgoing
      weights; column medians subtracted; the median over ``n_permutations`` random row
      orders. ``rows_alpha`` is uncapped, ``rows_alpha_capped`` = min(alpha, 2);
      ``rows_alpha_paper`` is the papers' own number (their ``est_alpha``: the median
      over their block sizes, capped at 2 within each row order, then the median over
      the orders; no interval), ``rows_orientation`` says what the rows are and
      ``rows_below_calibrated`` marks fewer than 1000 rows. Needs at least 20 rows.
    - ``norms``: "auto" (``center="median"``) on the Euclidean norms of the rows of W as
      stored (out, in). Needs at least 100 rows.

    Spectral columns (:mod:`heavytail.nn._spectral`, from the eigenvalues of W^T W that
    singular-value pruning also uses): ``spectral_alpha`` with ``spectral_ci_low`` and
    ``spectral_ci_high``, the tail index of the eigenvalues by Hill's estimator at the
    minimum-KS k (``spectral_k``), the upper end infinite where a light tail is not
    ruled out; ``spectral_alpha_ww`` = 1 + spectral_alpha, WeightWatcher's convention (the
    exponent of the density); ``spectral_norm`` (lambda_max = ||W||_2^2), ``log_norm``
    (log10 ||W||_F^2), ``stable_rank``, ``alpha_weighted`` (WeightWatcher's
    definitions); ``mp_spikes``, the eigenvalues above the Marchenko-Pastur edge
    ``mp_edge`` of a layer of that shape (variance: the mean square entry).

    An estimate that cannot be made is NaN, and its ``_warnings`` column says why.

    Prunable fractions (``prunable_magnitude``, ``prunable_node``,
    ``prunable_singular``): the largest fraction of entries, rows or singular values of W
    that can be removed with relative Frobenius error ||W - W_k||_F / ||W||_F at most
    ``eps`` (:func:`heavytail.theory.prunable_fraction`, uncentred: pruned weights are
    set to 0). An all-zero layer gets 1.0 (removing it changes nothing).

    With ``data``: ``test_accuracy``, ``train_accuracy``, ``gap_accuracy`` (train minus
    test accuracy) and ``gap_loss`` (test minus train cross-entropy) of the unpruned
    network, the same in every row; and ``acc_<method>_<ratio>``, the test accuracy
    after pruning this layer alone by the fraction ``ratio`` of its units
    (:func:`prune_layer` with ``amount=ratio``), the other layers intact.

    Parameters
    ----------
    model_or_checkpoint : torch.nn.Module, state dict, str or pathlib.Path
        The trained network, its state dict, or a checkpoint file (``.pt``, ``.pth``,
        ``.safetensors``; see :func:`load_checkpoint`).
    data : Dataset, optional
        Test and training data for the accuracy columns.
    eps : float
        Relative error for the prunable fractions, in (0, 1).
    arch : str, optional
        The architecture (a :func:`build_model` spec such as "fcn4-2048") into which a
        state dict or checkpoint is loaded for the accuracy columns. Not needed for a
        module; needs ``data``.
    rng : int, numpy Generator, SeedSequence or None
        Seeds the subsamples, the row orders and the bootstraps; one child stream per
        layer, so a layer's numbers do not depend on the others.
    ratios : sequence of float
        Fractions of units removed for the accuracy columns, each in (0, 1).
    max_entries : int
        Largest number of entries given to the "auto" rule (>= 100).
    n_permutations : int
        Row orders averaged by the rows' block-sum estimate (>= 1).
    device : str, torch.device or None
        Where the accuracy columns are computed (the network is copied there, and the
        data moved there). None: a module's own device, the CPU for a state dict. The
        weight columns are always computed on the host in float64.
    progress : bool or None
        A progress bar on stderr; None shows one when stderr is a terminal.
    n_jobs : int or None
        Layers analysed at the same time, in threads (>= 1); None: the number of CPUs
        this process may use, at most the number of layers. The numbers do not depend
        on it (each layer has its own random stream).

    Returns
    -------
    pandas.DataFrame
        One row per weight layer, in model (or file) order; ``df.attrs`` holds the
        settings and, when a state dict was loaded into ``arch`` by order and shape,
        ``matched_by_order`` (checkpoint name -> architecture name) and a ``note``.

    Raises
    ------
    InvalidArgumentError
        Bad arguments, an unreadable checkpoint, no weight layer, ``data`` for a state
        dict without ``arch`` (or ``arch`` without ``data``), a checkpoint that does not
        fit ``arch``.

    Examples
    --------
    >>> from heavytail.nn import build_model
    >>> net = build_model("fcn2-40", in_shape=(30,), n_classes=3, rng=0)
    >>> table = analyze(net, rng=0)
    >>> table[["name", "shape", "n_params", "rows_n"]].values.tolist()
    [['layers.0', '40x30', 1200, 40], ['layers.1', '3x40', 120, 40]]
    >>> int(table.loc[1, "rows_n"]), bool(table.loc[1, "rows_below_calibrated"])
    (40, True)
    """
    eps = check_real(eps, "eps", low=0.0, high=1.0, low_open=True, high_open=True)
    max_entries = check_int(max_entries, "max_entries", low=MIN_AUTO)
    n_permutations = check_int(n_permutations, "n_permutations", low=1)
    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs", low=1)
    ratios_ = check_ratios(ratios)
    if device is not None:
        as_device(device)  # a bad device is an error even when there is no data
    if progress is not None and not isinstance(progress, bool):
        raise InvalidArgumentError(f"`progress` must be None or a bool, got {progress!r}")
    if arch is not None and not isinstance(arch, str):
        raise InvalidArgumentError(f"`arch` must be None or a str, got {type(arch).__name__}")
    if arch is not None and data is None:
        raise InvalidArgumentError(
            "`arch` is used only with `data` (for the accuracy after pruning); pass `data` too"
        )
    if data is not None and arch is None and not isinstance(model_or_checkpoint, torch.nn.Module):
        raise InvalidArgumentError(
            "accuracy after pruning needs a network: pass `arch` (e.g. 'fcn4-2048') to load "
            "the state dict into, or the torch.nn.Module itself"
        )
    gen = as_generator(rng)
    weights = layer_weights(model_or_checkpoint)
    network, mapping = (None, None)
    if data is not None:
        network, mapping = network_for(model_or_checkpoint, arch, data, device)
    children = gen.spawn(len(weights))
    last = len(weights) - 1
    jobs = min(len(weights), _available_cpus()) if n_jobs is None else min(n_jobs, len(weights))
    with _progress(len(weights), progress) as bar, ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [
            pool.submit(_layer, name, weight, i == last, eps, max_entries, n_permutations, child)
            for i, ((name, weight), child) in enumerate(zip(weights.items(), children, strict=True))
        ]
        rows = []
        for future in futures:
            rows.append(future.result())
            bar.update()
    table = pd.DataFrame(rows)
    if network is not None:
        layer_names = list(weights)
        if mapping is not None:
            layer_names = [mapping[f"{n}.weight"].removesuffix(".weight") for n in layer_names]
            table["arch_name"] = layer_names
        extra = accuracy_columns(network, data, ratios=ratios_, layers=layer_names)
        for column, values in extra.items():
            table[column] = values
    table.attrs.update(
        {
            "eps": eps,
            "max_entries": max_entries,
            "n_permutations": n_permutations,
            "ratios": list(ratios_),
            "arch": arch,
        }
    )
    if mapping is not None:
        table.attrs["matched_by_order"] = dict(mapping)
        table.attrs["note"] = (
            f"the checkpoint's names did not match the architecture {arch!r}; its "
            f"{len(mapping)} tensors were matched to the architecture's by order and shape ("
            + ", ".join(f"{k} -> {v}" for k, v in list(mapping.items())[:4])
            + (", ..." if len(mapping) > 4 else "")
            + ")"
        )
    return table


def _available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _layer(
    name: str,
    weight: torch.Tensor,
    output_layer: bool,
    eps: float,
    max_entries: int,
    n_permutations: int,
    gen: np.random.Generator,
) -> dict[str, Any]:
    if not bool(torch.isfinite(weight).all()):
        raise InvalidArgumentError(f"layer {name!r}: the weight has NaN or infinite entries")
    matrix_t = weight_matrix(weight).detach().to(device="cpu", dtype=torch.float64)
    matrix = matrix_t.numpy()
    row: dict[str, Any] = {
        "name": name,
        "shape": "x".join(str(s) for s in weight.shape),
        "matrix": f"{matrix.shape[0]}x{matrix.shape[1]}",
        "n_params": int(weight.numel()),
    }
    entries_gen, rows_gen, norms_gen = gen.spawn(3)
    row.update(_entries(matrix, max_entries, entries_gen).columns("entries"))
    row.update(_rows(matrix, output_layer, n_permutations, rows_gen))
    norms = np.linalg.norm(matrix, axis=1)
    row.update(_auto(norms, norms_gen).columns("norms"))
    eigs = gram_eigenvalues(matrix)
    row.update(spectral_columns(eigs, matrix.shape[0], matrix.shape[1]))
    row.update(_prunable(matrix_t, np.sqrt(eigs), eps))
    return row
