"""Time heavytail's one-pass pruning curves against a ratio-by-ratio numpy loop.

For a d x d matrix of i.i.d. Cauchy entries (default d = 4096) and a grid of kept
fractions (default 20), prints for each method the time of
``heavytail.theory.pruning_curve`` (one sort, one pass over the column norms, or one
SVD without singular vectors, then prefix sums) and of a reference loop written the
way the papers' code (Barsbey et al. 2021, ``exp_utils.py``) prunes:

- magnitude: for each ratio, ``argsort`` the |entries|, zero the smallest, and take the
  Frobenius norm of the difference (their code sorts once per ratio);
- node: for each ratio, compute the column norms, ``argsort`` them, zero the smallest
  columns, and take the norm of the difference;
- singular: one full ``scipy.linalg.svd`` (U, s, Vh, as their ``get_svd`` stores), then
  for each ratio zero the trailing singular values, reconstruct
  ``U @ diagsvd(s, d, n) @ Vh`` and take the norm of the difference (as their
  ``spectral_pruning`` does).

No centring on either side (both compute the same quantity). Ratio = reference time /
heavytail time; above 1 means heavytail is faster. Target: >= 20. The largest absolute
difference between the two curves is printed as a correctness check. The reference is
run once per method (it takes minutes at d = 4096, and its per-ratio loop is warm after
its first ratio); heavytail is run 3 times, and both its first (cold: the first touch of
its ~130 MB work arrays costs up to a few seconds) and its best time are printed. The
ratio uses the best time; the cold ratio is printed beside it. Calls are interleaved
method by method. Last, the floor of singular-value pruning: the best of 3 SVDs without
singular vectors (``np.linalg.svd(w, compute_uv=False)``), against heavytail's singular
curve timed again.

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_pruning.py [d] [n_kappas]``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.linalg
from _harness import best_times, machine, timed

from heavytail.theory import pruning_curve

FloatArray = npt.NDArray[np.float64]


def kept(kappa: float, units: int) -> int:
    """ceil(kappa units), snapped as heavytail snaps it (the grid below is exact anyway)."""
    t = kappa * units
    r = round(t)
    return max(1, min(units, r if abs(t - r) <= 1e-12 * max(r, 1) else math.ceil(t)))


def reference_magnitude(w: FloatArray, kappas: FloatArray) -> FloatArray:
    norm = np.linalg.norm(w)
    out = []
    for kappa in kappas:
        flat = w.ravel().copy()
        drop = flat.size - kept(float(kappa), flat.size)
        flat[np.argsort(np.abs(flat))[:drop]] = 0.0
        out.append(np.linalg.norm(w.ravel() - flat) / norm)
    return np.array(out)


def reference_node(w: FloatArray, kappas: FloatArray) -> FloatArray:
    norm = np.linalg.norm(w)
    out = []
    for kappa in kappas:
        norms = np.linalg.norm(w, axis=0)
        drop = w.shape[1] - kept(float(kappa), w.shape[1])
        pruned = w.copy()
        pruned[:, np.argsort(norms)[:drop]] = 0.0
        out.append(np.linalg.norm(w - pruned) / norm)
    return np.array(out)


def reference_singular(w: FloatArray, kappas: FloatArray) -> FloatArray:
    norm = np.linalg.norm(w)
    d, n = w.shape
    u, s, vh = scipy.linalg.svd(w)
    out = []
    for kappa in kappas:
        s_k = s.copy()
        s_k[kept(float(kappa), s.size) :] = 0.0
        out.append(np.linalg.norm(w - u @ scipy.linalg.diagsvd(s_k, d, n) @ vh) / norm)
    return np.array(out)


REFERENCES: dict[str, Callable[[FloatArray, FloatArray], FloatArray]] = {
    "magnitude": reference_magnitude,
    "node": reference_node,
    "singular": reference_singular,
}


def timed_best(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """First and best wall-clock time of ``repeats`` calls, and the last output."""
    t = best_times([fn], repeats)
    return t.rounds[0][0], t.best[0], t.values[0]


REPEATS = 3


def main(d: int = 4096, n_kappas: int = 20) -> None:
    """Print, per method, both times, their ratio, and the largest difference."""
    w = np.random.default_rng(0).standard_cauchy((d, d))
    kappas = np.arange(1, n_kappas + 1) / n_kappas
    print(f"bench_pruning: {d} x {d} Cauchy matrix, {n_kappas} kappas, {machine()}")
    print(
        f"{'method':>10} {'ht first s':>11} {'ht best s':>10} {'reference s':>12} "
        f"{'ratio':>7} {'cold ratio':>11} {'max |diff|':>11}"
    )
    total_first = total_ours = total_ref = t_ref_singular = 0.0
    for method, reference in REFERENCES.items():
        t_first, t_ours, ours = timed_best(
            lambda m=method: pruning_curve(w, kappas, m),  # type: ignore[misc]
            REPEATS,
        )
        t_ref, ref = timed(lambda r=reference: r(w, kappas))  # type: ignore[misc]
        total_first += t_first
        total_ours += t_ours
        total_ref += t_ref
        if method == "singular":
            t_ref_singular = t_ref
        diff = float(np.max(np.abs(ours - ref)))
        print(
            f"{method:>10} {t_first:>11.2f} {t_ours:>10.2f} {t_ref:>12.2f} "
            f"{t_ref / t_ours:>7.1f} {t_ref / t_first:>11.1f} {diff:>11.1e}"
        )
    print(
        f"{'all three':>10} {total_first:>11.2f} {total_ours:>10.2f} {total_ref:>12.2f} "
        f"{total_ref / total_ours:>7.1f} {total_ref / total_first:>11.1f}"
    )
    # The floor of singular-value pruning: one LAPACK SVD without singular vectors, which
    # any exact method must pay (numpy's, as heavytail calls it, on the same matrix).
    _, t_floor, _ = timed_best(lambda: np.linalg.svd(w, compute_uv=False), REPEATS)
    _, t_sing, _ = timed_best(lambda: pruning_curve(w, kappas, "singular"), REPEATS)
    print(
        f"floor: np.linalg.svd(compute_uv=False) best {t_floor:.2f} s; heavytail's singular "
        f"curve best {t_sing:.2f} s ({t_sing / t_floor:.2f} x the floor); reference / floor = "
        f"{t_ref_singular / t_floor:.1f}, the largest ratio any exact method can reach"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
