"""Helpers shared by the test folders: scalar reference samplers and a thread harness.

The samplers are the Chambers-Mallows-Stuck formulas written out for one draw in plain
Python, the reference that the numba kernels and the replayed simulators are compared
with; they read ``gen.random()`` and ``gen.standard_exponential()`` in the kernels' order.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np


def symmetric_stable(gen: np.random.Generator, alpha: float) -> float:
    """One standard symmetric alpha-stable draw (Chambers-Mallows-Stuck)."""
    v = math.pi * ((gen.random() - 0.5) + 2.0**-54)
    w = gen.standard_exponential()
    w = w if w > 0.0 else 2.0**-64
    return float(
        math.sin(alpha * v)
        / math.cos(v) ** (1.0 / alpha)
        * (math.cos((1.0 - alpha) * v) / w) ** ((1.0 - alpha) / alpha)
    )


def positive_stable(gen: np.random.Generator, a: float) -> float:
    """One totally skewed a-stable draw (Kanter's form; 1.0 at a = 1)."""
    if a == 1.0:
        return 1.0
    u = math.pi * (gen.random() + 2.0**-54)
    w = gen.standard_exponential()
    w = w if w > 0.0 else 2.0**-64
    return float(
        math.sin(a * u)
        / math.sin(u) ** (1.0 / a)
        * (math.sin((1.0 - a) * u) / w) ** ((1.0 - a) / a)
    )


def run_script_with_threads(script: str, seeds: tuple[int, ...], **threads: int) -> list[str]:
    """Run ``script`` in a fresh interpreter with thread-count variables set.

    ``threads`` maps variable names (``NUMBA_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``) to
    counts. The script's first line of output must be ``threads <NUMBA_NUM_THREADS>``
    (proof that the setting took); the rest is returned, one string per line.
    """
    env = {**os.environ, **{name: str(n) for name, n in threads.items()}}
    out = subprocess.run(
        [sys.executable, "-c", script, *map(str, seeds)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = out.stdout.strip().splitlines()
    assert lines[0] == f"threads {threads['NUMBA_NUM_THREADS']}"
    return lines[1:]
