"""Time ``heavytail.nn.analyze`` on a 10-million-parameter FCN against the papers' recipe.

The network is FCN4 of width 2048 on MNIST shapes (weights 784 x 2048, 2048 x 2048,
2048 x 2048 and 2048 x 10: 10,014,720 weights), built by ``build_model("fcn4-2048")``
with its seeded initialisation, then every weight replaced by a symmetric stable(1.6)
draw of the same scale, so that the estimators see heavy tails as in a trained network.

heavytail: one call of ``analyze(model, eps=0.1, rng=0)``: per layer, the "auto" rule on
a 1e5-entry subsample and on the row norms, the rows' block-sum estimate over 5 row
orders, and the prunable fractions of the three methods (one sort of the entries, one
pass for the row norms, one symmetric eigendecomposition of the Gram matrix for the
singular values, then bisection on prefix sums).

Reference, written the way the papers' code (Barsbey et al. 2021) works, per layer:

- the multivariate block-sum estimate of the rows, median-centred, for each of 5
  random row orders (the median taken anew each time), in plain numpy;
- for each pruning ratio of a grid (default 20: 0.05, 0.10, ..., 1.0 removed), sort the
  |entries| anew, zero the smallest and take the relative Frobenius error; the same with
  the row norms; one full SVD (``scipy.linalg.svd``), then for each ratio a
  reconstruction from the kept singular triplets and its error. The prunable fraction
  is the largest ratio of the grid whose error is at most eps.

The reference computes less (no interval for the prunable fraction, which is only known
to the grid's step; no tail index of the entries or of the norms), so the ratio
understates the difference. Ratio = reference / heavytail; above 1 means heavytail is
faster. As a check, heavytail's exact fraction must be consistent with the reference's
grid: every grid point that removes at most that fraction passes (error <= eps), every one
that removes more fails.

Threads: ``[threads]`` (default 1) is the number of threads given to torch
(``torch.set_num_threads``) and to the BLAS and OpenMP libraries under numpy and scipy
(threadpoolctl), for both sides alike. One thread is the default because on a shared,
loaded machine multithreaded LAPACK calls spin-wait: a symmetric eigendecomposition of a
256 x 256 matrix measured 0.71 s with 2 threads against 0.035 s with 1 while other jobs
ran.

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_analyze.py [width] [n_ratios] [threads]``.

Against WeightWatcher: ``.venv/bin/python benchmarks/bench_analyze.py ww [width] [threads]
[repeats]`` times ``analyze(model, rng=0, n_jobs=threads)`` (weights only: every column,
the spectral ones included) against ``weightwatcher.WeightWatcher(model=model).analyze()``
(its defaults) on FCN4-<width> at its default initialisation (``build_model("fcn4-2048")``,
PyTorch's default uniform init, seed 0), in one process, alternating the two (the order
rotates from round to round), ``repeats`` times (default 3), and prints the medians and the
ratio heavytail / WeightWatcher (below 1: heavytail is faster), with both tables' spectral
columns side by side. Both sides get the
same ``threads``: torch's and the BLAS libraries' thread count, and heavytail's number of
layers analysed at once. WeightWatcher is a benchmark-only dependency
(``.venv/bin/pip install -c constraints.txt weightwatcher``); without it this mode says so
and exits 0.
"""

from __future__ import annotations

import math
import os
import sys
from functools import partial

import numpy as np
import numpy.typing as npt
import scipy.linalg
import torch
from _harness import best_times, timed, utc_stamp
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from heavytail.nn import analyze, build_model, layer_weights, torch_threads
from heavytail.theory import sample_stable

FloatArray = npt.NDArray[np.float64]
EPS = 0.1


def reference_block_sum(rows: FloatArray, gen: np.random.Generator, orders: int = 5) -> float:
    """Mean over row orders of the median-centred multivariate block-sum 1/alpha."""
    xis = []
    for _ in range(orders):
        x = rows[gen.permutation(rows.shape[0])]
        x = x - np.median(x, axis=0)
        k1 = 10
        k2 = x.shape[0] // k1
        blocks = x[: k1 * k2].reshape(k2, k1, -1).sum(axis=1)
        log_y = np.log(np.linalg.norm(blocks, axis=1))
        log_x = np.log(np.linalg.norm(x, axis=1))
        xis.append((log_y.mean() - log_x.mean()) / math.log(k1))
    return 1.0 / float(np.mean(xis))


def rows_alpha(rows: FloatArray, gen: np.random.Generator) -> float:
    """The reference block-sum estimate, or nan for fewer than 20 rows."""
    return reference_block_sum(rows, gen) if rows.shape[0] >= 20 else math.nan


Outcome = dict[str, list[tuple[float, bool]]]


def reference_prunable(w: FloatArray, ratios: FloatArray) -> Outcome:
    """Per method and grid ratio: (fraction actually removed, error <= EPS), sorting anew."""
    norm = np.linalg.norm(w)
    out: Outcome = {"magnitude": [], "node": [], "singular": []}
    for r in ratios:
        flat = w.ravel().copy()
        drop = round(r * flat.size)
        flat[np.argsort(np.abs(flat))[:drop]] = 0.0
        ok = np.linalg.norm(w.ravel() - flat) / norm <= EPS
        out["magnitude"].append((drop / flat.size, bool(ok)))
        pruned = w.copy()
        drop = round(r * w.shape[0])
        pruned[np.argsort(np.linalg.norm(w, axis=1))[:drop]] = 0.0
        out["node"].append((drop / w.shape[0], bool(np.linalg.norm(w - pruned) / norm <= EPS)))
    u, s, vh = scipy.linalg.svd(w, full_matrices=False)
    for r in ratios:
        drop = round(r * s.size)
        k = s.size - drop
        approx = (u[:, :k] * s[:k]) @ vh[:k]
        out["singular"].append((drop / s.size, bool(np.linalg.norm(w - approx) / norm <= EPS)))
    return out


def best(outcomes: list[tuple[float, bool]]) -> float:
    """The largest fraction removed within EPS on the grid (0 if none)."""
    return max((f for f, ok in outcomes if ok), default=0.0)


def run_weightwatcher(width: int, threads: int, repeats: int) -> None:
    """heavytail analyze against WeightWatcher's analyze() on FCN4-<width> at init."""
    try:
        import weightwatcher  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        print(
            "WeightWatcher is not installed: this comparison is skipped. Install it into the "
            "virtual environment only for the benchmark: "
            ".venv/bin/pip install -c constraints.txt weightwatcher"
        )
        return
    import logging

    logging.getLogger("weightwatcher").setLevel(logging.ERROR)
    model = build_model(f"fcn4-{width}", in_shape=(784,), n_classes=10, rng=0)
    n_params = sum(w.numel() for w in layer_weights(model).values())
    load = os.getloadavg()[0]
    print(f"bench_analyze ww  {utc_stamp()}")
    print(
        f"FCN4-{width} at default init: {n_params:,} weights; {os.cpu_count()} CPUs, "
        f"{threads} thread(s) each side; load average {load:.2f} at start; "
        f"weightwatcher {weightwatcher.__version__}, torch {torch.__version__}"
    )
    times = best_times(
        [
            lambda: analyze(model, rng=0, progress=False, n_jobs=threads),
            lambda: weightwatcher.WeightWatcher(model=model).analyze(),
        ],
        repeats,
    )
    ours, theirs = times.rounds
    h, w = times.median
    table, ww_table = times.values
    print(f"heavytail analyze: median {h:.2f} s of {', '.join(f'{t:.2f}' for t in ours)}")
    print(f"WeightWatcher analyze: median {w:.2f} s of {', '.join(f'{t:.2f}' for t in theirs)}")
    print(f"ratio heavytail / WeightWatcher: {h / w:.2f}  (target <= 1.0)")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    assert table is not None and ww_table is not None
    print(
        "layer | WW alpha | heavytail spectral_alpha_ww [95%] | k | WW log_norm | log_norm | "
        "WW spectral_norm | spectral_norm | WW stable_rank | stable_rank | mp_spikes"
    )
    for (_, row), (_, ref) in zip(table.iterrows(), ww_table.iterrows(), strict=False):
        print(
            f"{row['name']} | {ref['alpha']:.3g} | {row['spectral_alpha_ww']:.3g} "
            f"[{1 + row['spectral_ci_low']:.3g}, {1 + row['spectral_ci_high']:.3g}] | "
            f"{row['spectral_k']} | {ref['log_norm']:.4g} | {row['log_norm']:.4g} | "
            f"{ref['spectral_norm']:.4g} | {row['spectral_norm']:.4g} | "
            f"{ref['stable_rank']:.4g} | {row['stable_rank']:.4g} | {row['mp_spikes']}"
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "ww":
        width = int(sys.argv[2]) if len(sys.argv) > 2 else 2048
        threads = int(sys.argv[3]) if len(sys.argv) > 3 else 1
        repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 3
        with torch_threads(threads), threadpool_limits(threads):
            run_weightwatcher(width, threads, repeats)
        return
    width = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
    n_ratios = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    with torch_threads(threads), threadpool_limits(threads):
        run(width, n_ratios)


def run(width: int, n_ratios: int) -> None:
    """Build the network, time both sides, print the figures."""
    ratios = np.arange(1, n_ratios + 1) / n_ratios
    model = build_model(f"fcn4-{width}", in_shape=(784,), n_classes=10, rng=0)
    with torch.no_grad():
        for i, (_, tensor) in enumerate(layer_weights(model).items()):
            draw = sample_stable(1.6, tensor.numel(), rng=100 + i) / math.sqrt(tensor.shape[1])
            tensor.copy_(torch.from_numpy(draw.reshape(tensor.shape)))
    weights = {k: v.double().numpy() for k, v in layer_weights(model).items()}
    n_params = sum(w.size for w in weights.values())
    print(f"bench_analyze  {utc_stamp()}")
    print(
        f"FCN4-{width}: {n_params:,} weights; eps = {EPS}; reference grid {n_ratios} ratios; "
        f"{os.cpu_count()} CPUs, {torch.get_num_threads()} thread(s)"
    )

    heavytail_s, table = timed(lambda: analyze(model, eps=EPS, rng=0, progress=False))
    print(f"heavytail analyze: {heavytail_s:.2f} s (all columns, 4 layers)")

    gen = np.random.default_rng(0)
    block_s = prune_s = 0.0
    agree = True
    for (name, w), (_, row) in zip(weights.items(), table.iterrows(), strict=True):
        t, alpha = timed(partial(rows_alpha, w, gen))
        block_s += t
        t, ref = timed(partial(reference_prunable, w, ratios))
        prune_s += t
        # heavytail's fraction is the largest removable: every grid point removing at most
        # that much passes, every one removing more fails.
        agree &= all(ok == (f <= row[f"prunable_{m}"] + 1e-12) for m in ref for f, ok in ref[m])
        print(
            f"  {name:9s} rows alpha: heavytail {row['rows_alpha']:.3f}, reference {alpha:.3f};"
            f" prunable heavytail "
            + ", ".join(f"{m} {row[f'prunable_{m}']:.4f}" for m in ref)
            + "; reference "
            + ", ".join(f"{m} {best(ref[m]):.3f}" for m in ref)
        )
    reference_s = block_s + prune_s
    print(
        f"reference: {reference_s:.2f} s (block-sum x5 {block_s:.2f} s, pruning loops "
        f"{prune_s:.2f} s)"
    )
    print(f"ratio reference / heavytail: {reference_s / heavytail_s:.1f}")
    print(f"prunable fractions consistent with the reference grid: {agree}")


if __name__ == "__main__":
    main()
