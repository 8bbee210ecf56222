"""Time heavytail's stable sampler against scipy's, in the same process.

Prints, for 1e7 draws at alpha = 1.5 with beta = 0 and beta = 0.5, the best of a few
repeats of ``heavytail.theory.sample_stable`` and of ``scipy.stats.levy_stable.rvs``
(S1 parametrization, scipy's default, read from a private instance so that scipy's
class-level setting is never touched), and their ratio (scipy time / heavytail time:
above 1 means heavytail is faster). Target: ratio >= 1.

Run: ``.venv/bin/python benchmarks/bench_sample_stable.py [n] [repeats]``.
"""

from __future__ import annotations

import sys
from functools import partial

import numpy as np
from _harness import best_times, machine
from scipy import stats

from heavytail.theory import sample_stable

_LEVY = type(stats.levy_stable)(name="levy_stable")
_LEVY.parameterization = "S1"


def main(n: int = 10_000_000, repeats: int = 3) -> None:
    """Print the timings and their ratio for each (alpha, beta)."""
    print(f"bench_sample_stable: n = {n:.0e}, best of {repeats}, {machine()}")
    print(f"{'alpha':>6} {'beta':>5} {'heavytail s':>12} {'scipy s':>9} {'ratio':>6}")
    for alpha, beta in ((1.5, 0.0), (1.5, 0.5)):
        ours = partial(sample_stable, alpha, n, beta=beta, rng=1)
        ref = partial(_LEVY.rvs, alpha, beta, size=n, random_state=np.random.default_rng(1))
        t_ours, t_ref = best_times([ours, ref], repeats).best
        print(f"{alpha:>6} {beta:>5} {t_ours:>12.3f} {t_ref:>9.3f} {t_ref / t_ours:>6.2f}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
