"""Rules for the second look of "auto", scored on the calibration's samples at n = 1e4.

At n = 1e4 about half of the Student t(1.5) samples pass the stable goodness-of-fit test,
and the stable route then reports the stable index of their body (about 1.23). The
second look of "auto" (``decide_route`` in theory/_auto.py) sends most of
them to the tail route. This script scores that rule and the families around it, on the
calibration's own samples (seeds 0-99, the same arrays as docs/calibration.py), against
the two anchors' RMSE read from docs/calibration.json:

- Student t(1.5) against powerlaw (the anchor it trails);
- every stable case (stable 0.8-2, Gaussian, shifted stable 1.5) against the better of
  the two anchors (the papers' recipe on all of them).

For each sample that passes the goodness-of-fit test it computes, from B = 40 samples of
the fitted stable law (smoothed as in :func:`stable_tail_check`, its own random stream):
the goodness-of-fit statistic Q; Hill's z at the data's minimum-KS k and at 1%, 3%, 10%
and 20% of n; and Hill's RMSE on the fitted law at the data's k (the gate). A rule that
reroutes a sample replaces its stable-route estimate by Hill's (the tail route's); a
blend moves it part of the way. The rule families:

- ``stouffer``: reroute when the gate is open (Hill's RMSE <= R) and the Stouffer
  combination of Q and the two-sided tail z exceeds c (the rule of "auto": R = 0.1,
  c = 2.576);
- ``linear``: reroute when the gate is open and z_k - lam Q < -c;
- ``tail-only``: reroute when the gate is open and z at a fixed fraction of n is < -c;
- ``blend``: alpha = stable + w (Hill - stable), w = clip((S - a) / (b - a), 0, 1), S the
  Stouffer z, gate open.

It prints the rules with the largest margin (the smallest ratio anchor RMSE / rule RMSE
over the scored cases; >= 1 means the rule is within every anchor) and the rule of
"auto". Run (about 2 minutes on 2 cores)::

    .venv/bin/python docs/route_rules.py [--jobs 2]

These rules are chosen and scored on the same samples, so the margins are optimistic;
docs/estimators.md gives a check of the chosen rule on fresh seeds.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import calibration as cal  # noqa: E402  (docs/calibration.py, next to this file)

import heavytail.theory._estimate as est  # noqa: E402
from heavytail.theory import fit_stable_quantiles, hill_estimator, stable_goodness_of_fit  # noqa: E402
from heavytail.theory._auto import combined_z  # noqa: E402
from heavytail.theory._auto_policy import AUTO_POLICY  # noqa: E402
from heavytail.theory._stable_tail_check import _replicate_xi, _tail_xis  # noqa: E402

N = 10_000
SEEDS = 100
REPLICATES = 40
FRACTIONS = (0.01, 0.03, 0.1, 0.2)
STABLE_CASES = (
    "stable-0.8",
    "stable-1.2",
    "stable-1.5",
    "stable-1.8",
    "stable-1.9",
    "stable-2",
    "gaussian",
    "stable-1.5+5",
)
T_CASE = "student-1.5"


def _stable_alpha(x: np.ndarray, seed: np.random.SeedSequence) -> float:
    """What the stable route of "auto" reports without the second look (same rng)."""
    no_second_look = dataclasses.replace(AUTO_POLICY, reroute_z=math.inf)
    return est.auto_estimator(x, rng=np.random.default_rng(seed), policy=no_second_look).alpha


def unit(args: tuple[str, int]) -> dict[str, Any]:
    """Everything the rules need about the sample of (case, seed)."""
    name, seed = args
    case = cal.get_case(name)
    x = cal.draw(case, N, seed)
    tail_alpha = hill_estimator(x).alpha
    fit = fit_stable_quantiles(x)
    gof = stable_goodness_of_fit(x, fit)
    row: dict[str, Any] = {"case": name, "seed": seed, "tail": tail_alpha, "Q": gof.statistic}
    if not gof.accepted:
        return row | {"passed": False}
    quantile = est.quantile_estimator(x, n_boot=50, rng=0)
    se = est._xi_se_deterministic(quantile)
    hill_k = int(hill_estimator(np.abs(x - fit.loc)).settings["k"])
    ks = (hill_k, *(int(f * N) for f in FRACTIONS))
    data = _tail_xis(x, fit.loc, ks)
    rng = np.random.default_rng(
        np.random.SeedSequence(cal.ROOT_SEED, spawn_key=(cal._key(name), N, seed, 2))
    )
    null = np.empty((REPLICATES, len(ks)))
    drawn = np.empty(REPLICATES)
    smooth = se if math.isfinite(se) else 0.0
    for b in range(REPLICATES):
        xi_star = min(max(1.0 / fit.alpha + smooth * float(rng.standard_normal()), 0.5), 10.0)
        drawn[b] = 1.0 / xi_star
        null[b] = _replicate_xi(fit, drawn[b], N, ks, rng)
    keep = np.all(np.isfinite(null), axis=1)
    null, drawn = null[keep], drawn[keep]
    z = (np.asarray(data) - null.mean(axis=0)) / null.std(axis=0, ddof=1)
    rmse = float(np.sqrt(np.mean((1.0 / null[:, 0] - drawn) ** 2)))
    stable_alpha = _stable_alpha(x, cal.method_seed(case, N, seed, "auto"))
    return row | {
        "passed": True,
        "stable": stable_alpha,
        "z_k": float(z[0]),
        "z_f": [float(v) for v in z[1:]],
        "gate_rmse": rmse,
    }


Rule = Callable[[dict[str, Any]], float]  # a passing sample -> weight of Hill in [0, 1]


def stouffer(q: float, z: float) -> float:
    return combined_z(q, z)


def rules() -> dict[str, Rule]:
    out: dict[str, Rule] = {}
    for r, c in itertools.product((0.05, 0.1, 0.2, math.inf), (1.5, 2.0, 2.326, 2.576, 3.0)):
        out[f"stouffer R={r} c={c}"] = lambda s, r=r, c=c: float(
            s["gate_rmse"] <= r and stouffer(s["Q"], s["z_k"]) > c
        )
    for lam, c in itertools.product((0.0, 0.05, 0.1, 0.2, 0.3), np.arange(1.0, 8.01, 0.5)):
        out[f"linear R=0.1 lam={lam} c={c:g}"] = lambda s, lam=lam, c=c: float(
            s["gate_rmse"] <= 0.1 and s["z_k"] - lam * s["Q"] < -c
        )
    for (j, f), c in itertools.product(enumerate(FRACTIONS), (1.0, 1.5, 2.0, 2.5, 3.0)):
        out[f"tail-only R=0.1 f={f} c={c}"] = lambda s, j=j, c=c: float(
            s["gate_rmse"] <= 0.1 and s["z_f"][j] < -c
        )
    for a, b in itertools.product((0.5, 1.0, 1.5, 2.0), (2.0, 2.5, 3.0, 3.5, 4.0)):
        if b > a:
            out[f"blend R=0.1 a={a} b={b}"] = lambda s, a=a, b=b: (
                min(max((stouffer(s["Q"], s["z_k"]) - a) / (b - a), 0.0), 1.0)
                if s["gate_rmse"] <= 0.1
                else 0.0
            )
    return out


def rmse(case_name: str, alphas: Sequence[float]) -> float:
    case = cal.get_case(case_name)
    a = np.asarray(alphas)
    err = np.minimum(a - 2.0, 0.0) if case.truth == "at least 2" else a - case.alpha
    return float(np.sqrt(np.mean(err**2)))


def anchors() -> dict[str, float]:
    """The reference RMSE of each scored case: powerlaw for t(1.5), the better anchor else."""
    payload = json.loads((HERE / "calibration.json").read_text())
    records = [r for r in cal.records_from_json(payload["records"]) if r.n == N]
    out = {}
    for name in (T_CASE, *STABLE_CASES):
        per = {}
        for m in ("powerlaw", "papers"):
            rs = sorted(
                (r for r in records if r.case == name and r.method == m), key=lambda r: r.seed
            )
            per[m] = rmse(name, [r.alpha for r in rs if r.alpha is not None])
        out[name] = per["powerlaw"] if name == T_CASE else min(per.values())
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    units = [(c, s) for c in (T_CASE, *STABLE_CASES) for s in range(SEEDS)]
    with ProcessPoolExecutor(args.jobs) as pool:
        samples = list(pool.map(unit, units, chunksize=10))
    ref = anchors()
    passed = {c: sum(s["passed"] for s in samples if s["case"] == c) for c in ref}
    print("samples that pass the goodness-of-fit test:", passed)
    scored = []
    for label, rule in rules().items():
        row = {}
        for c in ref:
            alphas = []
            for s in (s for s in samples if s["case"] == c):
                if not s["passed"]:
                    alphas.append(s["tail"])
                else:
                    w = rule(s)
                    alphas.append(s["stable"] + w * (s["tail"] - s["stable"]))
            row[c] = rmse(c, alphas)
        margin = min(ref[c] / row[c] if row[c] > 0 else math.inf for c in ref)
        scored.append((margin, label, row))
    scored.sort(key=lambda t: -t[0])
    cols = (T_CASE, "stable-0.8", "stable-1.2", "stable-1.5")
    print("anchor RMSE:", "  ".join(f"{c} {ref[c]:.4f}" for c in cols))
    print(f"rules within every anchor: {sum(m >= 1 for m, _, _ in scored)} of {len(scored)}")
    for margin, label, row in scored[:10]:
        print(f"margin {margin:.3f}  {label:34s}", "  ".join(f"{c} {row[c]:.4f}" for c in cols))
    for margin, label, row in scored:
        if label == f"stouffer R={AUTO_POLICY.reroute_hill_rmse} c={AUTO_POLICY.reroute_z}":
            print(
                f"auto's rule: margin {margin:.3f}  {label}",
                "  ".join(f"{c} {row[c]:.4f}" for c in cols),
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
