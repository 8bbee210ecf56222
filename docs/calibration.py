"""Calibration of heavytail's tail-index estimators, side by side with two anchors.

For every case (a law with a known tail index), sample size n and seed, one sample is
drawn, and every method is run on that same sample:

- heavytail's ``estimate_tail_index`` with each method ("auto", "hill", "pickands",
  "moment", "block_sum", "quantile"), at its default settings;
- anchor "powerlaw": the ``powerlaw`` package's ``Fit`` (Alstott, Bullmore & Plenz 2014),
  whose pdf exponent minus 1 is the tail index, with the minimum-KS choice of ``xmin`` of
  Clauset, Shalizi & Newman (2009) made over a bounded grid of thresholds (see
  :func:`powerlaw_fit`: the package's exhaustive search is O(n^2), about 18 s per fit at
  n = 1e4 on this machine and hours at n = 1e5);
- anchor "papers": the block-sum recipe of the papers' code (Barsbey et al. 2021,
  ``est_alpha_one`` in ``exp_utils.py`` of github.com/mbarsbey/sgd_comp_gen), written out
  in :func:`papers_block_sum`.

It prints, per case, n and method: bias, RMSE, coverage of the 95% interval, the
fraction of runs with a warning, and the fraction of runs that are confidently wrong
without a warning. docs/estimators.md explains the cases, the truths and the targets,
and quotes the numbers.

Determinism: the sample of (case, n, seed) is drawn from its own ``SeedSequence`` child
(entropy ``ROOT_SEED``, spawn key (case, n, seed, 0)); a method that takes ``rng`` gets
the child (case, n, seed, 1, method). So the numbers do not depend on the number of
worker processes, on the order in which units finish, or on which other cases and
methods are run.

Run::

    .venv/bin/python docs/calibration.py [--n 10000 100000] [--seeds 100] [--jobs 2]
        [--first-seed 0] [--out docs/calibration.json] [--checkpoint FILE.jsonl] [--markdown]
    .venv/bin/python docs/calibration.py --from-json docs/calibration.json --markdown

The module is importable (``importlib`` on this file): :data:`CASES`, :func:`get_case`,
:func:`draw`, :func:`run_case`, :func:`run_unit`, :func:`summarise`,
:func:`check_targets`, :func:`powerlaw_fit`, :func:`papers_block_sum`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import io
import json
import math
import os
import platform
import subprocess
import sys
import time
import warnings
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from heavytail.reports._claims.calibration_cases import (
    ABS_TOL,
    CASES,
    CENTRING_CASES,
    COVERAGE_TARGET,
    REL_TOL,
    WIDE_CASES,
    CalibrationCase,
)
from heavytail.theory import (
    EstimationError,
    TailEstimate,
    hill_estimator,
    moment_estimator,
    pickands_estimator,
)

FloatArray = npt.NDArray[np.float64]

ROOT_SEED = 20_210_603  # the entropy of every stream (arXiv 2106.03795)
Z95 = 1.959963984540054

OUR_METHODS = ("auto", "hill", "pickands", "moment", "block_sum", "quantile")
ANCHORS = ("powerlaw", "papers")
ALL_METHODS = OUR_METHODS + ANCHORS
RNG_METHODS = ("auto", "quantile")  # the methods that take ``rng`` (bootstrap intervals)

# The laws, their truths and the targets of "auto" at n = 1e5 (docs/estimators.md, section
# "The targets") are the package's, so that this table and the claim
# `estimators.calibration` measure the same thing on the same laws.
Case = CalibrationCase


#: Every law any grid uses: the calibration table's, the widened grid's further laws, and
#: the shifted laws of the centring study.
ALL_CASES: tuple[Case, ...] = (*CASES, *WIDE_CASES, *CENTRING_CASES)

#: The case lists of ``--grid``: "base" is the calibration table; "wide" adds the laws of
#: the widened grid (docs/estimators.md, "The widened grid"); "centring" is the shifted
#: laws of the ``center=`` study (docs/estimators.md, "Centring").
GRIDS: dict[str, tuple[str, ...]] = {
    "base": tuple(c.name for c in CASES),
    "wide": tuple(c.name for c in (*CASES, *WIDE_CASES)),
    "centring": ("student-1.5+5", "pareto-2.5+3", "stable-1.5+5", "stable-1.2-skew+5"),
}

#: A method name may end in ":median": the method run with ``center="median"``.
CENTER_SUFFIX = ":median"

_CASES_BY_NAME = {c.name: c for c in ALL_CASES}


def get_case(name: str) -> Case:
    """The case called ``name`` (KeyError listing the valid names otherwise)."""
    try:
        return _CASES_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown case {name!r}; cases: {', '.join(_CASES_BY_NAME)}") from None


def _key(name: str) -> int:
    return zlib.crc32(name.encode())


def sample_seed(case: Case, n: int, seed: int) -> np.random.SeedSequence:
    """The stream of the sample of (case, n, seed)."""
    return np.random.SeedSequence(ROOT_SEED, spawn_key=(_key(case.name), n, seed, 0))


def method_seed(case: Case, n: int, seed: int, method: str) -> np.random.SeedSequence:
    """The stream of ``method`` (its bootstrap) on the sample of (case, n, seed)."""
    return np.random.SeedSequence(ROOT_SEED, spawn_key=(_key(case.name), n, seed, 1, _key(method)))


def draw(case: Case, n: int, seed: int) -> FloatArray:
    """The sample of (case, n, seed): the same array every time."""
    return case.sampler(n, np.random.default_rng(sample_seed(case, n, seed)))


# --------------------------------------------------------------------------- anchors

# powerlaw anchor: candidate thresholds xmin = X_(k), the k-th largest |x|, for every k in
# [2, POWERLAW_DENSE_UP_TO] and then a geometric grid of ratio POWERLAW_RATIO up to n.
POWERLAW_DENSE_UP_TO = 50
POWERLAW_RATIO = 1.1


def _powerlaw_ks(n: int) -> list[int]:
    ks = list(range(2, min(POWERLAW_DENSE_UP_TO, n) + 1))
    k = float(POWERLAW_DENSE_UP_TO)
    while True:
        k *= POWERLAW_RATIO
        if round(k) >= n:
            break
        ks.append(round(k))
    ks.append(n)
    return sorted(set(ks))


def powerlaw_fit(x: Any) -> tuple[float, tuple[float, float]]:
    """The ``powerlaw`` package's power-law fit of |x|, as a tail index, and its 95% interval.

    For each candidate threshold xmin = X_(k) (the k-th largest |x|; every k in [2, 50],
    then a 10% geometric grid up to n), ``powerlaw.Fit(tail, xmin=xmin)`` fits the continuous
    power law to the values >= xmin (maximum likelihood: pdf exponent
    a = 1 + k / sum log(x_i / xmin)) and gives its Kolmogorov-Smirnov distance D and the
    standard error sigma = (a - 1)/sqrt(k). As in ``Fit.find_xmin``, the threshold with the
    smallest D among the fits that are in range and not flagged as noise is kept (the
    smallest D overall if none is). The tail index is a - 1, with the interval
    a - 1 -+ 1.96 sigma.

    Only the values >= xmin are passed: a fit at a fixed xmin reads only those, so the
    numbers are the ones ``Fit(|x|, xmin=xmin)`` gives, in O(k) instead of O(n log n).
    What differs from ``Fit(|x|)`` is the candidate set: the package tries every distinct
    value of |x| as xmin (O(n^2): about 18 s per fit at n = 1e4 here), this grid 105
    (n = 1e4) to 129 (n = 1e5) of them. The package's prints and warnings are silenced.

    The package's defaults are kept, including the power law's parameter range
    a in [0, 3] (``Power_Law.DEFAULT_PARAMETER_RANGES`` in powerlaw 2.0.0): fits with a
    tail index above 2 are out of range, so this anchor, like ``Fit(|x|)``, reports at
    most 2.
    """
    import powerlaw  # an optional (dev) dependency: imported only when the anchor runs

    mags = np.sort(np.abs(np.asarray(x, dtype=np.float64)))[::-1]
    n = mags.size
    best: tuple[bool, float, float, float] | None = None  # (valid, D, alpha, sigma)
    sink = io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(sink),
        np.errstate(all="ignore"),
    ):
        warnings.simplefilter("ignore")
        for k in _powerlaw_ks(n):
            xmin = float(mags[k - 1])
            if xmin <= 0.0:
                continue
            tail = mags[mags >= xmin]
            pl = powerlaw.Fit(tail, xmin=xmin, verbose=0).power_law
            dist = float(pl.D)
            a = float(pl.alpha)
            s = float(pl.sigma)
            if not (math.isfinite(dist) and math.isfinite(a)):
                continue
            valid = bool(pl.in_range()) and not bool(pl.noise_flag)
            cand = (valid, dist, a, s)
            if best is None or (valid, -dist) > (best[0], -best[1]):
                best = cand
    if best is None:
        raise EstimationError("powerlaw: no candidate threshold gave a finite fit")
    _, _, a, s = best
    alpha = a - 1.0
    return alpha, (alpha - Z95 * s, alpha + Z95 * s)


# The papers' block sizes, and their rule for a size that does not divide N.
PAPERS_BLOCK_SIZES = (2, 5, 10, 20, 50, 100, 500, 1000)


def _papers_find_m(n: int, m: int = 0) -> int:
    """``find_m``: the largest divisor of n that is <= m (m = floor(sqrt(n)) by default)."""
    if m == 0:
        m = int(np.sqrt(n))
    while n % m != 0:
        m -= 1
    return m


def _papers_mmo(m: int, x: FloatArray) -> float:
    """``alpha_estimator_one(m, X, "mmo2014")``: the block-sum estimate at block size m."""
    n_blocks = x.size // m  # the callers make m divide N
    y = x.reshape(n_blocks, m).sum(axis=1)
    eps = np.spacing(1)
    y_log = np.log(np.abs(y) + eps).mean()
    x_log = np.log(np.abs(x) + eps).mean()
    diff = (y_log - x_log) / math.log(m)
    return float(1.0 / diff)


def papers_block_sum(x: Any) -> float:
    """The papers' tail-index recipe: median block-sum estimate over block sizes, capped at 2.

    Mohammadi, Mohammadpour & Ogata (2015): split the N samples into blocks of K1, sum
    each block to Y_i, and estimate 1/alpha = [mean log|Y_i| - mean log|X_j|] / log K1.
    Written as ``est_alpha_one(X)`` in ``exp_utils.py`` of Barsbey et al.'s code
    (github.com/mbarsbey/sgd_comp_gen), step by step:

    - candidate block sizes: each of 2, 5, 10, 20, 50, 100, 500, 1000 that is <= N/2;
      a size that does not divide N is *shrunk* to the largest divisor of N below it
      (``find_m``), so for a prime N every size becomes 1 and their code stops at an
      assertion (here: an error);
    - the largest divisor of N below sqrt(N) is added as one more size (at N = 1e5: 250;
      at N = 1e4 it is 100, already there);
    - the estimate at each size, log(|.| + machine epsilon) as in their code;
    - the median over the sizes, then ``min(median, 2.0)``: the result is *capped at 2*,
      silently.

    No centring: ``est_alpha_one`` has ``center=False`` by default. (Their
    ``alpha_estimation`` driver subtracts the median of each layer first, and takes the
    median over 5 random permutations; neither is part of the estimator run here.)
    """
    xs = np.asarray(x, dtype=np.float64)
    n = xs.size
    cands = (
        [c if n % c == 0 else _papers_find_m(n, c) for c in PAPERS_BLOCK_SIZES if c <= n / 2]
        if n != 10
        else [2, 5]
    )
    if 1 in cands:
        raise EstimationError(f"papers' block sum: N = {n} leaves a block size of 1")
    sizes = sorted(set(cands))
    m = _papers_find_m(n)
    if m not in sizes and m > 1:
        sizes.append(m)
    with np.errstate(divide="ignore"):
        alphas = [_papers_mmo(size, xs) for size in sizes]
    return min(float(np.median(alphas)), 2.0)


# --------------------------------------------------------------------------- runs


def _estimate_tail_index() -> Callable[..., TailEstimate] | None:
    import heavytail.theory as theory

    fn: Callable[..., TailEstimate] | None = getattr(theory, "estimate_tail_index", None)
    return fn


_DIRECT: dict[str, Callable[..., TailEstimate]] = {
    "hill": hill_estimator,
    "pickands": pickands_estimator,
    "moment": moment_estimator,
}


def available_methods() -> tuple[str, ...]:
    """The methods this checkout can run (all six once ``estimate_tail_index`` exists)."""
    if _estimate_tail_index() is not None:
        return ALL_METHODS
    return (*_DIRECT, *ANCHORS)


@dataclass(frozen=True)
class Record:
    """One method on one sample.

    ``alpha`` is None when the method refused the sample (an ``EstimationError``: e.g.
    the moment estimator finding no heavy tail), with the message in ``error``; ``lo``
    and ``hi`` are None when the method gives no interval (the papers' recipe).
    """

    case: str
    n: int
    seed: int
    method: str
    alpha: float | None
    lo: float | None
    hi: float | None
    n_warnings: int
    error: str | None
    route: str | None
    seconds: float
    kinds: str = ""  # the warnings' kinds (``warning_kind``), joined by ";"


#: The kinds of warning, by how their messages begin (``warning_kind``).
WARNING_KINDS: tuple[tuple[str, str], ...] = (
    ("estimators disagree", "disagree"),
    ("the data look uncentred", "uncentred"),
    ("the estimate depends strongly on k", "k-sensitive"),
    ("the moment estimator at the same k", "light-tail?"),
    ("the stable fit is at the Gaussian end", "gaussian-end"),
    ("the interval [", "gaussian-end"),
    ("the tail of the data is", "tail-check"),
    ("a stable law fits the body", "rerouted"),
    ("the block-sum estimate", "above-2"),
    ("the data show no finite tail index", "light-tail"),
    ("the stable route's interval", "stable-misfit"),
)


def warning_kind(message: str) -> str:
    """A short name for a warning message (``WARNING_KINDS``); "other" if none matches."""
    for prefix, kind in WARNING_KINDS:
        if message.startswith(prefix):
            return kind
    return "other"


def split_method(method: str) -> tuple[str, str | None]:
    """("auto", "median") for "auto:median"; (method, None) without the suffix."""
    if method.endswith(CENTER_SUFFIX):
        return method[: -len(CENTER_SUFFIX)], "median"
    return method, None


def _run_method(
    method: str, x: FloatArray, rng: np.random.SeedSequence
) -> tuple[float, tuple[float, float] | None, int, str | None, str]:
    if method == "powerlaw":
        alpha, ci = powerlaw_fit(x)
        return alpha, ci, 0, None, ""
    if method == "papers":
        return papers_block_sum(x), None, 0, None, ""
    base, center = split_method(method)
    options: dict[str, Any] = {} if center is None else {"center": center}
    est_fn = _estimate_tail_index()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if est_fn is None:
            if base not in _DIRECT or center is not None:
                raise RuntimeError(f"method {method!r} needs heavytail.theory.estimate_tail_index")
            est = _DIRECT[base](x)
        elif base in RNG_METHODS:
            est = est_fn(x, base, rng=np.random.default_rng(rng), **options)
        else:
            est = est_fn(x, base, **options)
    route = est.settings.get("route") if base == "auto" else None
    kinds = [warning_kind(w) for w in est.warnings] + ["python-warning"] * len(caught)
    return est.alpha, est.ci, len(est.warnings) + len(caught), route, ";".join(kinds)


def _record(case: Case, n: int, seed: int, method: str, x: FloatArray) -> Record:
    start = time.perf_counter()
    # A centred variant draws its bootstrap from the same stream as the plain method, so
    # that the two are paired.
    stream = method_seed(case, n, seed, split_method(method)[0])
    try:
        alpha, ci, n_warn, route, kinds = _run_method(method, x, stream)
        error = None
    except EstimationError as exc:
        alpha, ci, n_warn, route, kinds, error = None, None, 0, None, "", str(exc)
    seconds = time.perf_counter() - start
    lo, hi = (None, None) if ci is None else (float(ci[0]), float(ci[1]))
    return Record(case.name, n, seed, method, alpha, lo, hi, n_warn, error, route, seconds, kinds)


def run_case(
    case: Case | str, method: str, n: int, seed: int
) -> tuple[float | None, tuple[float, float] | None, int]:
    """Run ``method`` on the sample of (case, n, seed): (alpha, ci, number of warnings).

    alpha and ci are None when the method refuses the sample (EstimationError); ci is None
    for the papers' recipe, which gives no interval. The number of warnings counts the
    ``TailEstimate.warnings`` plus any Python warnings raised during the call (the anchors
    give none).
    """
    c = get_case(case) if isinstance(case, str) else case
    r = _record(c, n, seed, method, draw(c, n, seed))
    ci = None if r.lo is None or r.hi is None else (r.lo, r.hi)
    return r.alpha, ci, r.n_warnings


def run_unit(case_name: str, n: int, seed: int, methods: Sequence[str]) -> list[Record]:
    """Every method in ``methods`` on the one sample of (case, n, seed)."""
    case = get_case(case_name)
    x = draw(case, n, seed)
    return [_record(case, n, seed, m, x) for m in methods]


def run_all(
    cases: Sequence[str],
    sizes: Sequence[int],
    seeds: int,
    methods: Sequence[str],
    *,
    first_seed: int = 0,
    jobs: int = 1,
    powerlaw_seeds: dict[int, int] | None = None,
    done: Iterable[Record] = (),
    on_unit: Callable[[list[Record]], None] | None = None,
    progress: bool = True,
) -> list[Record]:
    """Run every (case, n, seed) unit, over ``jobs`` processes; return all records, sorted.

    The seeds are ``first_seed, ..., first_seed + seeds - 1`` (a later block of seeds is a
    fresh check of rules chosen on the first). ``powerlaw_seeds[n]`` limits the
    "powerlaw" anchor to the first that many of them at size n (it is the costliest
    method by far). Records already in ``done`` are not rerun (resuming
    from a checkpoint).
    """
    from tqdm import tqdm

    limits = powerlaw_seeds or {}
    have = {(r.case, r.n, r.seed, r.method): r for r in done}
    units = []
    for n in sizes:
        for s in range(first_seed, first_seed + seeds):
            for c in cases:
                todo = [
                    m
                    for m in methods
                    if (c, n, s, m) not in have
                    and (m != "powerlaw" or s - first_seed < limits.get(n, seeds))
                ]
                if todo:
                    units.append((c, n, s, tuple(todo)))
    records = [
        r
        for k, r in have.items()
        if k[0] in cases
        and k[1] in sizes
        and k[3] in methods
        and first_seed <= k[2] < first_seed + seeds
    ]
    bar = tqdm(total=len(units), desc="calibration", disable=not progress, smoothing=0.05)
    if jobs <= 1:
        for u in units:
            out = run_unit(*u)
            records.extend(out)
            if on_unit is not None:
                on_unit(out)
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_unit, *u) for u in units]
            for fut in as_completed(futures):
                out = fut.result()
                records.extend(out)
                if on_unit is not None:
                    on_unit(out)
                bar.update()
    bar.close()
    uniq = {(r.case, r.n, r.seed, r.method): r for r in records}
    return [uniq[k] for k in sorted(uniq, key=_sort_key)]


def _sort_key(k: tuple[str, int, int, str]) -> tuple[int, int, int, int]:
    case_i = [c.name for c in ALL_CASES].index(k[0]) if k[0] in _CASES_BY_NAME else 99
    base, center = split_method(k[3])
    meth_i = ALL_METHODS.index(base) * 2 + (center is not None) if base in ALL_METHODS else 99
    return (k[1], case_i, meth_i, k[2])


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class Summary:
    """One (case, n, method) over its seeds.

    For a finite truth alpha: ``bias`` = mean(alpha_hat - alpha), ``rmse`` =
    sqrt(mean((alpha_hat - alpha)^2)) and ``rel_rmse`` = rmse / alpha, over the runs that
    gave an estimate (``failed`` counts the refusals); ``coverage`` = the fraction of all
    runs whose interval contains alpha (refusals count as misses); ``within`` = the
    fraction of all runs with |error| <= 0.1 (or <= 10% of alpha for "rel" cases).

    For the "at least 2" cases the error is the shortfall min(alpha_hat - 2, 0), and a
    refusal to give a finite index is right (error 0); ``coverage`` is the fraction of
    runs whose interval reaches 2 (or that refused).

    For the "infinite" cases (light tails) the error is the same shortfall, but only an
    interval with an infinite upper end (or a refusal) is right.

    ``warned`` = the fraction of runs with at least one warning. ``silent_wrong`` = the
    fraction of runs that are confidently wrong (the interval excludes the truth; without
    an interval, the error exceeds the tolerance) and carry no warning. ``false_alarm`` =
    the fraction of the right runs (not confidently wrong) that carry a warning; None
    when no run is right. ``unbounded`` = the fraction of runs whose interval has an
    infinite upper end ("no finite tail index can be ruled out"); None without intervals.
    """

    case: str
    n: int
    method: str
    runs: int
    failed: int
    bias: float | None
    rmse: float | None
    rel_rmse: float | None
    coverage: float | None
    within: float | None
    warned: float
    silent_wrong: float
    median_alpha: float | None
    seconds: float
    false_alarm: float | None = None
    unbounded: float | None = None


def _tolerance(case: Case) -> float:
    return REL_TOL * case.alpha if case.target == "rel" else ABS_TOL


def summarise(records: Iterable[Record]) -> list[Summary]:
    """Summarise the records by (case, n, method); see :class:`Summary`."""
    groups: dict[tuple[str, int, str], list[Record]] = {}
    for r in records:
        groups.setdefault((r.case, r.n, r.method), []).append(r)
    out = []
    for key in sorted(groups, key=lambda k: _sort_key((k[0], k[1], 0, k[2]))):
        out.append(_summarise_group(get_case(key[0]), key[1], key[2], groups[key]))
    return out


def _summarise_group(case: Case, n: int, method: str, rs: list[Record]) -> Summary:
    truth = case.alpha
    at_least = case.truth != "tail index"  # "at least 2" or "infinite": shortfall below 2
    tol = _tolerance(case)
    errs: list[float] = []
    covered: list[bool] = []
    within: list[bool] = []
    wrong: list[bool] = []
    has_ci = any(r.lo is not None for r in rs)
    for r in rs:
        if r.alpha is None:
            ok = at_least  # "no heavy tail" is right when the tail index is infinite
            if at_least:
                errs.append(0.0)
            covered.append(ok)
            within.append(ok)
            wrong.append(not ok)
            continue
        err = min(r.alpha - truth, 0.0) if at_least else r.alpha - truth
        errs.append(err)
        within.append(abs(err) <= tol)
        if r.lo is not None and r.hi is not None:
            cov = case.covers(r.lo, r.hi)
            covered.append(cov)
            wrong.append(not cov)
        else:
            wrong.append(abs(err) > tol)
    runs = len(rs)
    e = np.asarray(errs)
    alphas = [r.alpha for r in rs if r.alpha is not None]
    silent = [w and r.n_warnings == 0 for w, r in zip(wrong, rs, strict=True)]
    alarms = [r.n_warnings > 0 for w, r in zip(wrong, rs, strict=True) if not w]
    rmse = float(np.sqrt(np.mean(e * e))) if e.size else None
    return Summary(
        case=case.name,
        n=n,
        method=method,
        runs=runs,
        failed=sum(r.alpha is None for r in rs),
        bias=float(np.mean(e)) if e.size else None,
        rmse=rmse,
        rel_rmse=None if rmse is None else rmse / truth,
        coverage=float(np.mean(covered)) if has_ci and covered else None,
        within=float(np.mean(within)),
        warned=float(np.mean([r.n_warnings > 0 for r in rs])),
        silent_wrong=float(np.mean(silent)),
        median_alpha=float(np.median(alphas)) if alphas else None,
        seconds=float(np.mean([r.seconds for r in rs])),
        false_alarm=float(np.mean(alarms)) if alarms else None,
        unbounded=float(np.mean([r.hi == math.inf for r in rs])) if has_ci else None,
    )


@dataclass(frozen=True)
class TargetCheck:
    """One target for "auto" on one case: the value measured, the rule, and the verdict."""

    case: str
    n: int
    target: str
    value: float | None
    rule: str
    passed: bool
    note: str = ""


# Paired bootstrap of the RMSE difference between "auto" and an anchor: resamples of the
# seeds, the same seeds for both methods, from this fixed seed.
PAIRED_BOOT = 4000
PAIRED_SEED = 20261127


def _errors(case: Case, rs: Sequence[Record]) -> npt.NDArray[np.float64]:
    """Per-run errors as :func:`_summarise_group` defines them (nan for a refusal that counts
    as a miss, which the RMSE leaves out)."""
    at_least = case.truth != "tail index"
    out = []
    for r in rs:
        if r.alpha is None:
            out.append(0.0 if at_least else math.nan)
        else:
            out.append(min(r.alpha - case.alpha, 0.0) if at_least else r.alpha - case.alpha)
    return np.asarray(out, dtype=np.float64)


def paired_rmse_difference(
    case: Case, mine: Sequence[Record], ref: Sequence[Record]
) -> tuple[float, float, float]:
    """RMSE(mine) - RMSE(ref) on the same seeds, and its 95% paired-bootstrap interval.

    ``mine`` and ``ref`` hold one record per seed, in the same seed order. The seeds are
    resampled with replacement (``PAIRED_BOOT`` times, seed ``PAIRED_SEED``), the same
    resample for both methods, so that the interval accounts for the two estimates being
    computed on the same samples (their errors are strongly correlated when both are Hill
    fits above a min-KS threshold).
    """
    a, b = _errors(case, mine), _errors(case, ref)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    diff = float(np.sqrt(np.mean(a * a)) - np.sqrt(np.mean(b * b)))
    idx = np.random.default_rng(PAIRED_SEED).integers(0, a.size, size=(PAIRED_BOOT, a.size))
    boot = np.sqrt(np.mean(a[idx] ** 2, axis=1)) - np.sqrt(np.mean(b[idx] ** 2, axis=1))
    low, high = np.percentile(boot, [2.5, 97.5])
    return diff, float(low), float(high)


def check_targets(records: Iterable[Record], n: int = 100_000) -> list[TargetCheck]:
    """The targets for "auto" at size ``n`` (docs/estimators.md), and the anchor comparison.

    - "abs" cases (stable, alpha <= 1.9): RMSE <= 0.1 and coverage >= 90%;
    - "rel" cases (Pareto, Student t): RMSE / alpha <= 10% and coverage >= 90%;
    - "warn" cases (shifted, mixture): no run confidently wrong without a warning;
    - every case: RMSE of "auto" <= the RMSE of each anchor, both computed on the seeds
      where the anchor ran and gave an estimate (the powerlaw anchor may have run on
      fewer seeds than the others). The verdict is the plain comparison; its ``note``
      gives the paired-bootstrap 95% interval of the difference
      (:func:`paired_rmse_difference`), which tells a tie from a real gap.
    """
    rs = [r for r in records if r.n == n]
    by = {(s.case, s.method): s for s in summarise(rs)}
    out: list[TargetCheck] = []
    for case in CASES:
        auto = by.get((case.name, "auto"))
        if auto is None:
            continue
        if case.target in ("abs", "rel"):
            if case.target == "abs":
                out.append(_le(case, n, "|error| (RMSE)", auto.rmse, ABS_TOL))
            else:
                out.append(_le(case, n, "relative error (RMSE/alpha)", auto.rel_rmse, REL_TOL))
            cov = auto.coverage
            ok = cov is not None and cov >= COVERAGE_TARGET
            out.append(TargetCheck(case.name, n, "coverage", cov, ">= 0.90", ok))
        elif case.target == "warn":
            out.append(
                TargetCheck(
                    case.name,
                    n,
                    "silent confident wrong answers",
                    auto.silent_wrong,
                    "== 0",
                    auto.silent_wrong == 0.0,
                )
            )
        for anchor in ANCHORS:
            seeds = {
                r.seed
                for r in rs
                if r.case == case.name and r.method == anchor and r.alpha is not None
            }
            if not seeds:
                continue
            matched = [r for r in rs if r.case == case.name and r.seed in seeds]
            pair = {(s.method): s for s in summarise(matched)}
            mine, ref = pair["auto"].rmse, pair[anchor].rmse
            ok = mine is not None and ref is not None and mine <= ref
            label = f"RMSE <= {anchor} ({len(seeds)} seeds)"
            by_seed = {(r.method, r.seed): r for r in matched}
            order = sorted(s for s in seeds if ("auto", s) in by_seed)
            diff, low, high = paired_rmse_difference(
                case, [by_seed["auto", s] for s in order], [by_seed[anchor, s] for s in order]
            )
            note = f"difference {diff:+.4f} [{low:+.4f}, {high:+.4f}]"
            out.append(TargetCheck(case.name, n, label, mine, f"<= {_fmt(ref, '.4f')}", ok, note))
    return out


#: The widened grid's targets (docs/estimators.md, "The widened grid"): coverage of the 95%
#: interval on every heavy-tailed law, at n = 1e4 and (looser) at 1e3; silent wrong
#: answers on every law; warnings on right answers over the whole grid.
WIDE_COVERAGE = {1_000: 0.85, 10_000: 0.90}
WIDE_SILENT_WRONG = 0.05
WIDE_FALSE_ALARMS = 0.20


def check_wide_targets(records: Iterable[Record], method: str = "auto") -> list[TargetCheck]:
    """The widened grid's targets for ``method``, at every n in ``records``.

    - every heavy-tailed law ("tail index"), n in ``WIDE_COVERAGE``: coverage >= the
      value there;
    - every law, at n = 1e4: silent confident wrong answers <= ``WIDE_SILENT_WRONG``;
    - all laws and sizes together: warnings on right answers <= ``WIDE_FALSE_ALARMS``.
    """
    rs = [r for r in records if r.method == method]
    out: list[TargetCheck] = []
    right = alarmed = 0
    for s in summarise(rs):
        case = get_case(s.case)
        if case.truth == "tail index" and s.n in WIDE_COVERAGE:
            limit = WIDE_COVERAGE[s.n]
            ok = s.coverage is not None and s.coverage >= limit
            out.append(TargetCheck(s.case, s.n, "coverage", s.coverage, f">= {limit:g}", ok))
        if s.n == 10_000:
            ok = s.silent_wrong <= WIDE_SILENT_WRONG
            out.append(
                TargetCheck(
                    s.case, s.n, "silent wrong", s.silent_wrong, f"<= {WIDE_SILENT_WRONG:g}", ok
                )
            )
    for r in rs:
        case = get_case(r.case)
        ok = r.alpha is None and case.truth != "tail index"
        if r.alpha is not None and r.lo is not None and r.hi is not None:
            ok = case.covers(r.lo, r.hi)
        if ok:
            right += 1
            alarmed += r.n_warnings > 0
    if right:
        rate = alarmed / right
        out.append(
            TargetCheck(
                "all",
                0,
                f"warnings on right answers ({alarmed} of {right})",
                rate,
                f"<= {WIDE_FALSE_ALARMS:g}",
                rate <= WIDE_FALSE_ALARMS,
            )
        )
    return out


@dataclass(frozen=True)
class WarningRate:
    """One kind of warning of one method over a set of records.

    ``false_alarm``: the fraction of the right answers (interval containing the truth)
    on which it fires; ``power``: the fraction of the wrong answers on which it fires;
    ``right`` and ``wrong`` count those answers.
    """

    kind: str
    method: str
    false_alarm: float
    power: float | None
    right: int
    wrong: int


def warning_rates(records: Iterable[Record], method: str = "auto") -> list[WarningRate]:
    """How often each kind of warning fires on right and on wrong answers of ``method``.

    A run is right when its interval contains the truth (``CalibrationCase.covers``; for
    light-tailed laws, a refusal is right too), wrong otherwise.
    """
    right: list[set[str]] = []
    wrong: list[set[str]] = []
    for r in records:
        if r.method != method:
            continue
        case = get_case(r.case)
        kinds = {k for k in r.kinds.split(";") if k}
        ok = r.alpha is None and case.truth != "tail index"
        if r.alpha is not None and r.lo is not None and r.hi is not None:
            ok = case.covers(r.lo, r.hi)
        (right if ok else wrong).append(kinds)
    names = sorted(set().union(*right, *wrong))
    out = []
    for kind in names:
        fa = sum(kind in k for k in right) / len(right) if right else math.nan
        pw = sum(kind in k for k in wrong) / len(wrong) if wrong else None
        out.append(WarningRate(kind, method, fa, pw, len(right), len(wrong)))
    return out


def format_warning_rates(rates: Sequence[WarningRate], markdown: bool = False) -> str:
    cols = ("method", "warning", "fires on right answers", "fires on wrong answers (power)")
    rows = [
        (
            w.method,
            w.kind,
            f"{w.false_alarm:.3f} of {w.right}",
            "-" if w.power is None else f"{w.power:.3f} of {w.wrong}",
        )
        for w in rates
    ]
    return "\n".join(_table(cols, rows, markdown))


def _le(case: Case, n: int, name: str, value: float | None, limit: float) -> TargetCheck:
    ok = value is not None and value <= limit
    return TargetCheck(case.name, n, name, value, f"<= {limit:g}", ok)


# --------------------------------------------------------------------------- output


def _fmt(v: float | None, spec: str = ".3f") -> str:
    return "-" if v is None else format(v, spec)


def format_tables(summaries: Sequence[Summary], markdown: bool = False) -> str:
    """The calibration table: one block per n, one row per (case, method)."""
    cols = (
        "case",
        "method",
        "runs",
        "fail",
        "median",
        "bias",
        "RMSE",
        "cover",
        "warned",
        "silent-wrong",
        "false-alarm",
        "hi=inf",
        "seconds",
    )
    lines: list[str] = []
    for n in sorted({s.n for s in summaries}):
        lines.append(f"\nn = {n:g}\n" if not markdown else f"\n#### n = {n:.0e}\n")
        rows = [
            (
                s.case,
                s.method,
                str(s.runs),
                str(s.failed),
                _fmt(s.median_alpha),
                _fmt(s.bias, "+.3f"),
                _fmt(s.rmse),
                _fmt(s.coverage, ".2f"),
                _fmt(s.warned, ".2f"),
                _fmt(s.silent_wrong, ".2f"),
                _fmt(s.false_alarm, ".2f"),
                _fmt(s.unbounded, ".2f"),
                _fmt(s.seconds, ".3f"),
            )
            for s in summaries
            if s.n == n
        ]
        lines.extend(_table(cols, rows, markdown))
    return "\n".join(lines)


def format_centring(summaries: Sequence[Summary], markdown: bool = False) -> str:
    """Each method without and with ``center="median"`` side by side (pairs only)."""
    by = {(s.case, s.n, s.method): s for s in summaries}
    cols = ("case", "n", "method", "bias", "RMSE", "cover", "warned", "silent-wrong")
    rows = []
    for s in summaries:
        base, center = split_method(s.method)
        other = by.get((s.case, s.n, base + CENTER_SUFFIX))
        if center is not None or other is None:
            continue

        def pair(a: float | None, b: float | None, spec: str) -> str:
            return f"{_fmt(a, spec)} -> {_fmt(b, spec)}"

        rows.append(
            (
                s.case,
                f"{s.n:g}",
                base,
                pair(s.bias, other.bias, "+.3f"),
                pair(s.rmse, other.rmse, ".3f"),
                pair(s.coverage, other.coverage, ".2f"),
                pair(s.warned, other.warned, ".2f"),
                pair(s.silent_wrong, other.silent_wrong, ".2f"),
            )
        )
    return "\n".join(_table(cols, rows, markdown))


def format_comparison(
    before: Sequence[Record], after: Sequence[Record], method: str, markdown: bool = False
) -> str:
    """``method`` on the same (case, n) before and after: coverage, silent wrong answers,
    warnings on right answers, RMSE and unbounded intervals (pairs present in both)."""
    b = {(s.case, s.n): s for s in summarise(r for r in before if r.method == method)}
    a = {(s.case, s.n): s for s in summarise(r for r in after if r.method == method)}
    cols = ("case", "n", "cover", "silent-wrong", "false-alarm", "RMSE", "hi=inf")
    rows = []
    for key in sorted(set(a) & set(b), key=lambda k: _sort_key((k[0], k[1], 0, method))):
        x, y = b[key], a[key]
        rows.append(
            (
                key[0],
                f"{key[1]:g}",
                f"{_fmt(x.coverage, '.2f')} -> {_fmt(y.coverage, '.2f')}",
                f"{_fmt(x.silent_wrong, '.2f')} -> {_fmt(y.silent_wrong, '.2f')}",
                f"{_fmt(x.false_alarm, '.2f')} -> {_fmt(y.false_alarm, '.2f')}",
                f"{_fmt(x.rmse)} -> {_fmt(y.rmse)}",
                f"{_fmt(x.unbounded, '.2f')} -> {_fmt(y.unbounded, '.2f')}",
            )
        )
    return "\n".join(_table(cols, rows, markdown))


def format_targets(checks: Sequence[TargetCheck], markdown: bool = False) -> str:
    cols = ("case", "n", "target", "value", "rule", "verdict", "paired RMSE difference [95%]")
    rows = [
        (
            c.case,
            f"{c.n:g}",
            c.target,
            _fmt(c.value, ".4f"),
            c.rule,
            "pass" if c.passed else "FAIL",
            c.note,
        )
        for c in checks
    ]
    return "\n".join(_table(cols, rows, markdown))


def _table(cols: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> list[str]:
    if markdown:
        out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return out
    widths = [
        max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(cols)
    ]
    out = ["  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True))]
    out += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return out


def _enc(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return "inf" if v > 0 else ("-inf" if v < 0 else "nan")
    return v


def _round(v: float | None) -> Any:
    return None if v is None else _enc(round(v, 6) if math.isfinite(v) else v)


def _dec(v: Any) -> Any:
    return float(v) if v in ("inf", "-inf", "nan") else v


def _git(*args: str) -> str:
    try:
        out = subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,  # the repository root
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.rstrip()  # leading blanks are part of `git status --porcelain`


def theory_source_hash(folder: Path) -> str:
    """sha256 over the (name, content) of every .py file of the theory package, sorted.

    It identifies the estimator code that produced the numbers even when it was imported
    from a snapshot of a commit (``git archive COMMIT theory``) rather than from the
    working tree: the same hash computed on that commit's files must match.
    """
    h = hashlib.sha256()
    for f in sorted(folder.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _snapshot_commit(folder: Path) -> str | None:
    """The commit named in a COMMIT file beside the snapshot's heavytail folder, if any."""
    marker = folder.parent.parent / "COMMIT"
    return marker.read_text().strip() if marker.is_file() else None


def provenance() -> dict[str, Any]:
    """Where the numbers come from: commit, uncommitted estimator code, versions, machine."""
    import scipy

    try:
        import powerlaw

        pl_version = getattr(powerlaw, "__version__", "unknown")
    except ImportError:
        pl_version = "not installed"
    import heavytail.theory as theory

    dirty = _git("status", "--porcelain", "--", "theory")
    return {
        "git_commit": _git("rev-parse", "HEAD"),
        "theory_uncommitted": [line[3:] for line in dirty.splitlines() if line],
        "theory_imported_from": str(Path(theory.__file__).parent),
        "theory_source_sha256": theory_source_hash(Path(theory.__file__).parent),
        "theory_snapshot_commit": _snapshot_commit(Path(theory.__file__).parent),
        "date_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "powerlaw": pl_version,
        "cpu_count": os.cpu_count(),
        "root_seed": ROOT_SEED,
    }


def records_to_json(records: Sequence[Record]) -> list[dict[str, Any]]:
    """Records grouped by (case, n, method), one list per field (compact JSON).

    Estimates and interval ends are rounded to 6 decimals, error messages cut at 100
    characters, times at 0.1 ms.
    """
    groups: dict[tuple[str, int, str], list[Record]] = {}
    for r in records:
        groups.setdefault((r.case, r.n, r.method), []).append(r)
    out = []
    for (case, n, method), rs in groups.items():
        rs = sorted(rs, key=lambda r: r.seed)
        out.append(
            {
                "case": case,
                "n": n,
                "method": method,
                "seed": [r.seed for r in rs],
                "alpha": [_round(r.alpha) for r in rs],
                "lo": [_round(r.lo) for r in rs],
                "hi": [_round(r.hi) for r in rs],
                "n_warnings": [r.n_warnings for r in rs],
                "error": [None if r.error is None else r.error[:100] for r in rs],
                "route": [r.route for r in rs],
                "seconds": [round(r.seconds, 4) for r in rs],
                "kinds": [r.kinds for r in rs],
            }
        )
    return out


def records_from_json(groups: Iterable[dict[str, Any]]) -> list[Record]:
    """The inverse of :func:`records_to_json`."""
    out = []
    for g in groups:
        for i, seed in enumerate(g["seed"]):
            out.append(
                Record(
                    g["case"],
                    g["n"],
                    seed,
                    g["method"],
                    _dec(g["alpha"][i]),
                    _dec(g["lo"][i]),
                    _dec(g["hi"][i]),
                    g["n_warnings"][i],
                    g["error"][i],
                    g["route"][i],
                    g["seconds"][i],
                    g.get("kinds", [""] * len(g["seed"]))[i],
                )
            )
    return out


def _write_json(path: Path, meta: dict[str, Any], records: Sequence[Record]) -> None:
    summaries = summarise(records)
    payload = {
        "meta": meta,
        "cases": [
            {k: v for k, v in asdict(c).items() if k != "sampler"}
            for c in ALL_CASES
            if c.name in {r.case for r in records}
        ],
        "summary": [{k: _enc(v) for k, v in asdict(s).items()} for s in summaries],
        "targets": [
            asdict(t) for n in sorted({r.n for r in records}) for t in check_targets(records, n)
        ],
        "records": records_to_json(records),
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, allow_nan=False, separators=(",", ":")) + "\n")
    tmp.replace(path)


def _read_checkpoint(path: Path) -> tuple[list[Record], list[dict[str, Any]]]:
    """The records and the session headers (provenance of each run) of a checkpoint."""
    if not path.exists():
        return [], []
    records, sessions = [], []
    for line in path.read_text().splitlines():
        if line.strip():
            d = json.loads(line)
            if "session" in d:
                sessions.append(d["session"])
            else:
                records.append(Record(**{k: _dec(v) for k, v in d.items()}))
    return records, sessions


def time_auto(cases: Sequence[str], n: int, seeds: int, repeats: int = 3) -> dict[str, float]:
    """Seconds per "auto" call on each case: the median over seeds of the best of ``repeats``.

    The samples are the calibration's (:func:`draw`), so two checkouts timed with the same
    arguments time the same inputs. Run it for two versions of the code in alternation
    (``PYTHONPATH`` pointing at a ``git archive`` of the other commit, see
    docs/estimators.md) on a machine that is otherwise as idle as can be.
    """
    est_fn = _estimate_tail_index()
    if est_fn is None:
        raise RuntimeError("time_auto needs heavytail.theory.estimate_tail_index")
    out: dict[str, float] = {}
    for name in cases:
        case = get_case(name)
        per_seed = []
        for seed in range(seeds):
            x = draw(case, n, seed)
            best = math.inf
            for _ in range(repeats):
                rng = np.random.default_rng(method_seed(case, n, seed, "auto"))
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    with contextlib.suppress(EstimationError):
                        est_fn(x, "auto", rng=rng)
                best = min(best, time.perf_counter() - start)
            per_seed.append(best)
        out[name] = float(np.median(per_seed))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="run seeds FIRST .. FIRST + SEEDS - 1"
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--grid",
        choices=sorted(GRIDS),
        default="base",
        help="the cases: the calibration table's (base), with the widened grid's laws "
        "(wide), or the shifted laws of the centring study (centring)",
    )
    parser.add_argument("--cases", nargs="+", default=None, help="overrides --grid")
    parser.add_argument("--warnings", action="store_true", help="also print each warning's rates")
    parser.add_argument(
        "--compare",
        type=Path,
        default=None,
        help="with --from-json: compare 'auto' with this earlier results file",
    )
    parser.add_argument(
        "--time-auto",
        action="store_true",
        help="time 'auto' on the cases at the first --n over --seeds samples; run nothing else",
    )
    parser.add_argument(
        "--powerlaw-seeds",
        type=int,
        nargs="+",
        default=None,
        help="run the powerlaw anchor on the first N seeds only, one N per --n",
    )
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--out", type=Path, default=None, help="write the raw results here")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="append each finished unit here (JSON lines) and resume from it",
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        default=None,
        help="summarise a results file written by --out; run nothing",
    )
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.cases is None:
        args.cases = list(GRIDS[args.grid])

    if args.time_auto:
        import heavytail.theory

        times = time_auto(args.cases, args.n[0], args.seeds)
        where = Path(str(heavytail.theory.__file__)).parent
        print(f"auto, n = {args.n[0]:g}, heavytail.theory from {where}")
        for name, sec in times.items():
            print(f"{name:>22}  {sec * 1e3:9.1f} ms")
        print(f"{'total':>22}  {sum(times.values()) * 1e3:9.1f} ms")
        return 0
    if args.from_json is not None:
        payload = json.loads(args.from_json.read_text())
        records = records_from_json(payload["records"])
        meta = payload["meta"]
    else:
        for name in args.cases:
            get_case(name)
        methods = tuple(args.methods or available_methods())
        unknown = {
            m
            for m in methods
            if split_method(m)[0] not in ALL_METHODS
            or (split_method(m)[1] is not None and split_method(m)[0] not in OUR_METHODS)
        }
        if unknown:
            parser.error(
                f"unknown methods {sorted(unknown)}; valid: {ALL_METHODS}, and ours with "
                f"{CENTER_SUFFIX!r}"
            )
        done, sessions = _read_checkpoint(args.checkpoint) if args.checkpoint else ([], [])
        session = provenance() | {
            "methods": list(methods),
            "sizes": args.n,
            "seeds": args.seeds,
            "first_seed": args.first_seed,
            "powerlaw_seeds": args.powerlaw_seeds,
        }
        sink = None if args.checkpoint is None else args.checkpoint.open("a")
        if sink is not None:
            sink.write(json.dumps({"session": session}) + "\n")
            sink.flush()

        def on_unit(rs: list[Record]) -> None:
            if sink is not None:
                for r in rs:
                    sink.write(json.dumps({k: _enc(v) for k, v in asdict(r).items()}) + "\n")
                sink.flush()

        pl_seeds = None
        if args.powerlaw_seeds is not None:
            if len(args.powerlaw_seeds) != len(args.n):
                parser.error("--powerlaw-seeds needs one count per --n")
            pl_seeds = dict(zip(args.n, args.powerlaw_seeds, strict=True))
        start = time.perf_counter()
        records = run_all(
            args.cases,
            args.n,
            args.seeds,
            methods,
            first_seed=args.first_seed,
            jobs=args.jobs,
            powerlaw_seeds=pl_seeds,
            done=done,
            on_unit=on_unit,
            progress=not args.quiet and sys.stderr.isatty(),
        )
        if sink is not None:
            sink.close()
        meta = provenance() | {
            "sizes": args.n,
            "seeds": args.seeds,
            "first_seed": args.first_seed,
            "methods": list(methods),
            "cases": args.cases,
            "jobs": args.jobs,
            "wall_seconds": round(time.perf_counter() - start, 1),
            "powerlaw_grid": {"dense_up_to": POWERLAW_DENSE_UP_TO, "ratio": POWERLAW_RATIO},
            "sessions": [*sessions, session],
        }
        if args.out is not None:
            _write_json(args.out, meta, records)
    summaries = summarise(records)
    print(
        f"calibration: commit {meta.get('git_commit', '?')[:12]}, "
        f"uncommitted theory files: {meta.get('theory_uncommitted') or 'none'}"
    )
    print(format_tables(summaries, args.markdown))
    if any(split_method(s.method)[1] is not None for s in summaries):
        print('\nwithout -> with center="median"')
        print(format_centring(summaries, args.markdown))
    for n in sorted({s.n for s in summaries}):
        checks = check_targets(records, n)
        if checks:
            print(f"\ntargets for auto at n = {n:g}")
            print(format_targets(checks, args.markdown))
    if any(get_case(r.case) in WIDE_CASES for r in records):
        for method in sorted({r.method for r in records}, key=lambda m: _sort_key(("", 0, 0, m))):
            wide = check_wide_targets(records, method)
            failed = [c for c in wide if not c.passed]
            print(f"\nwidened grid, {method}: {len(wide) - len(failed)} of {len(wide)} targets met")
            shown = failed + [c for c in wide if c.case == "all" and c.passed]
            print(format_targets(shown, args.markdown))
    if args.compare is not None:
        before = records_from_json(json.loads(args.compare.read_text())["records"])
        print(f"\nauto: {args.compare} -> this run")
        print(format_comparison(before, records, "auto", args.markdown))
        wide_before = check_wide_targets(before, "auto")
        print(f"\nwidened grid, auto, {args.compare}:")
        print(
            format_targets(
                [c for c in wide_before if not c.passed or c.case == "all"], args.markdown
            )
        )
        print(format_warning_rates(warning_rates(before, "auto"), args.markdown))
    if args.warnings:
        methods_seen = sorted({r.method for r in records}, key=lambda m: _sort_key(("", 0, 0, m)))
        rates = [w for m in methods_seen for w in warning_rates(records, m)]
        print("\nwarnings: how often each fires on right and on wrong answers")
        print(format_warning_rates(rates, args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
