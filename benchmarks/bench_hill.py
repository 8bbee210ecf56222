"""Time Hill's estimator with automatic k against the ``powerlaw`` package, in the same process.

Both fit the tail of |x| for a symmetric 1.5-stable sample by the same rule: the Pareto
maximum-likelihood (Hill) fit above a threshold, with the threshold chosen by the minimum
Kolmogorov-Smirnov distance (Clauset, Shalizi & Newman 2009). heavytail's
``estimate_tail_index(x, "hill")`` sorts once and scans a geometric grid of k,
O(n log n); ``powerlaw.Fit(x)`` refits at every distinct value of x, O(n^2).

Prints:

1. at equal n (1e4, 3e4, 1e5 by default): the best of a few heavytail runs, one
   ``powerlaw.Fit`` run (each takes from seconds to minutes), and their ratio
   (powerlaw time / heavytail time; target >= 100);
2. the issue's headline: heavytail at n = 1e6 against powerlaw at the largest n it was
   run at (1e5 by default; when that is below 1e5, also powerlaw's time carried to 1e5
   along its measured log-log slope, printed as an extrapolation);
3. heavytail's time at n = 1e5, 1e6 and 1e7, divided by n log n, to show the scaling.

Run: ``.venv/bin/python benchmarks/bench_hill.py [--sizes 10000 30000 100000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from _harness import best_times, machine

import heavytail.theory as theory
from heavytail.theory import sample_stable

ALPHA = 1.5


def _hill() -> Callable[[Any], float]:
    """``estimate_tail_index(x, "hill")`` where exported, else ``hill_estimator``: same code."""
    est = getattr(theory, "estimate_tail_index", None)
    if est is not None:
        return lambda x: float(est(x, "hill").alpha)
    return lambda x: float(theory.hill_estimator(x).alpha)


def _powerlaw(x: Any) -> float:
    """``powerlaw.Fit(|x|)``, its prints and warnings silenced; the tail index (alpha - 1)."""
    import powerlaw

    sink = io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(sink),
        np.errstate(all="ignore"),
    ):
        warnings.simplefilter("ignore")
        fit = powerlaw.Fit(np.abs(x), verbose=0)
        return float(fit.alpha) - 1.0


def best_time(fn: Callable[[], float], repeats: int) -> tuple[float, float]:
    """Best wall-clock seconds of ``fn`` over ``repeats`` calls, and its last value."""
    t = best_times([fn], repeats)
    return t.best[0], t.values[0]


def main() -> None:
    """Print the timings and ratios (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big", type=int, default=1_000_000, help="heavytail's headline n")
    parser.add_argument("--scaling", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    args = parser.parse_args()
    hill = _hill()
    print(
        f"bench_hill: symmetric {ALPHA}-stable data, heavytail best of {args.repeats}, "
        f"powerlaw 1 run, {machine()}"
    )
    hill(sample_stable(ALPHA, 1000, rng=0))  # warm-up: first-call costs are not timed
    _powerlaw(sample_stable(ALPHA, 300, rng=0))  # likewise: imports powerlaw and mpmath
    head = ("n", "heavytail s", "powerlaw s", "ratio", "alpha ht", "alpha pl")
    print("{:>8} {:>12} {:>11} {:>8} {:>9} {:>9}".format(*head))
    pl_times: dict[int, float] = {}
    for n in args.sizes:
        x = sample_stable(ALPHA, n, rng=1)
        t_ht, a_ht = best_time(partial(hill, x), args.repeats)
        t_pl, a_pl = best_time(partial(_powerlaw, x), 1)
        pl_times[n] = t_pl
        print(
            f"{n:>8.0e} {t_ht:>12.4f} {t_pl:>11.2f} {t_pl / t_ht:>8.0f} {a_ht:>9.3f} {a_pl:>9.3f}"
        )
    ref_n = max(pl_times)
    x = sample_stable(ALPHA, args.big, rng=1)
    t_big, a_big = best_time(partial(hill, x), args.repeats)
    print(
        f"\nheadline: heavytail at n = {args.big:.0e}: {t_big:.3f} s (alpha {a_big:.3f}); "
        f"powerlaw at n = {ref_n:.0e} (measured): {pl_times[ref_n]:.1f} s; "
        f"ratio {pl_times[ref_n] / t_big:.0f}"
    )
    if ref_n < 100_000 and len(pl_times) >= 2:
        # Not a measurement: powerlaw's time carried to n = 1e5 along the slope of log time
        # against log n between its two largest measured sizes.
        (n1, t1), (n2, t2) = sorted(pl_times.items())[-2:]
        slope = math.log(t2 / t1) / math.log(n2 / n1)
        t_ext = t2 * (100_000 / n2) ** slope
        print(
            f"extrapolated (not measured): powerlaw at n = 1e+05 ~ {t_ext:.0f} s "
            f"(log-log slope {slope:.2f} between n = {n1:.0e} and {n2:.0e}); "
            f"ratio to heavytail at n = {args.big:.0e} ~ {t_ext / t_big:.0f}"
        )
    print(f"\n{'n':>8} {'heavytail s':>12} {'us per n log n':>15}")
    for n in args.scaling:
        x = sample_stable(ALPHA, n, rng=2)
        t, _ = best_time(partial(hill, x), args.repeats)
        print(f"{n:>8.0e} {t:>12.4f} {1e6 * t / (n * math.log(n)):>15.4f}")


if __name__ == "__main__":
    main()
