"""The ``toy`` experiment: instant, deterministic runs for the tests and the docs.

It simulates nothing. Each run draws ``n_draws`` standard normals from its ``seed`` and
reports their mean shifted by ``x``; it can sleep (to make a run take time, so that a
test can kill a sweep or a worker mid-run), fail on purpose, or crash its process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..experiment import Experiment, ExperimentOutput, Setting

__all__ = ["EXPERIMENTS", "toy"]


def toy(config: Mapping[str, Any]) -> ExperimentOutput:
    """value = x + mean of ``n_draws`` N(0, 1) draws from ``seed``; arrays: the draws."""
    if config["crash"]:
        os._exit(70)  # the process dies at once, as in a segmentation fault
    if config["fail"]:
        raise RuntimeError(f"the toy run with x = {config['x']} was asked to fail (fail = true)")
    time.sleep(config["sleep"])
    draws = np.random.default_rng(config["seed"]).standard_normal(config["n_draws"])
    value = config["x"] + float(draws.mean())
    return {"value": value, "n": int(draws.size), "label": f"x={config['x']:g}"}, {"draws": draws}


EXPERIMENTS = (
    Experiment(
        "toy",
        toy,
        (
            Setting("x", "float", 0.0, "shift added to the mean of the draws"),
            Setting("seed", "int", 0, "seed of the draws, >= 0", low=0),
            Setting("n_draws", "int", 5, "number of N(0, 1) draws, >= 1", low=1),
            Setting("sleep", "float", 0.0, "seconds to sleep before drawing, >= 0", low=0),
            Setting("fail", "bool", False, "raise instead of returning (a failed run)"),
            Setting(
                "crash",
                "bool",
                False,
                "end the process running it at once (in a worker pool only: with --jobs 1 "
                "that process is the sweep itself)",
            ),
        ),
        "No simulation: value = x + the mean of n_draws N(0, 1) draws from seed (metrics "
        "value, n, label; array draws). For tests and examples of the sweep machinery.",
    ),
)
