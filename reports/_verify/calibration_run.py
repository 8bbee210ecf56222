"""The runs of the estimators' calibration table (docs/calibration.py): laws, samples, records.

For every case (a law with a known tail index, ``heavytail.reports._claims.calibration_cases``),
sample size n and seed, one sample is drawn (:func:`draw`), and every method is run on
that same sample (:func:`run_unit`): ``estimate_tail_index`` with each of its methods, at
its default settings, and the two anchors of :mod:`.calibration_anchors`. One method on
one sample is a :class:`Record`.

Determinism: the sample of (case, n, seed) is drawn from its own ``SeedSequence`` child
(entropy :data:`ROOT_SEED`, spawn key (case, n, seed, 0)); a method that takes ``rng``
gets the child (case, n, seed, 1, method). So the records do not depend on the executor,
the number of its workers, the order in which units finish, or on which other cases and
methods are run. :func:`run_all` hands the units to :func:`heavytail.reports.open_executor`,
the pool that ``verify`` and the sweeps use.
"""

from __future__ import annotations

import math
import time
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np

from heavytail._lib._types import FloatArray
from heavytail.theory import (
    EstimationError,
    TailEstimate,
    hill_estimator,
    moment_estimator,
    pickands_estimator,
)

from .._claims.calibration_cases import CASES, CENTRING_CASES, WIDE_CASES, CalibrationCase
from .._parallel.executors import open_executor
from .calibration_anchors import papers_block_sum, powerlaw_fit

__all__ = [
    "ALL_CASES",
    "ALL_METHODS",
    "ANCHORS",
    "CENTER_SUFFIX",
    "GRIDS",
    "OUR_METHODS",
    "RNG_METHODS",
    "ROOT_SEED",
    "WARNING_KINDS",
    "Case",
    "Record",
    "available_methods",
    "case_key",
    "decode_value",
    "draw",
    "encode_value",
    "estimate_tail_index_or_none",
    "get_case",
    "method_seed",
    "record_key",
    "records_from_json",
    "records_to_json",
    "run_all",
    "run_case",
    "run_unit",
    "sample_seed",
    "sort_key",
    "split_method",
    "warning_kind",
]


ROOT_SEED = 20_210_603  # the entropy of every stream (arXiv 2106.03795)

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


def case_key(name: str) -> int:
    """The integer that stands for ``name`` (a case or a method) in a spawn key: its CRC-32."""
    return zlib.crc32(name.encode())


def sample_seed(case: Case, n: int, seed: int) -> np.random.SeedSequence:
    """The stream of the sample of (case, n, seed)."""
    return np.random.SeedSequence(ROOT_SEED, spawn_key=(case_key(case.name), n, seed, 0))


def method_seed(case: Case, n: int, seed: int, method: str) -> np.random.SeedSequence:
    """The stream of ``method`` (its bootstrap) on the sample of (case, n, seed)."""
    return np.random.SeedSequence(
        ROOT_SEED, spawn_key=(case_key(case.name), n, seed, 1, case_key(method))
    )


def draw(case: Case, n: int, seed: int) -> FloatArray:
    """The sample of (case, n, seed): the same array every time."""
    return case.sampler(n, np.random.default_rng(sample_seed(case, n, seed)))


# --------------------------------------------------------------------------- runs


def estimate_tail_index_or_none() -> Callable[..., TailEstimate] | None:
    """``heavytail.theory.estimate_tail_index``, or None in a checkout that predates it.

    Looked up at each call, so that a snapshot of an earlier ``theory`` package put first
    on ``PYTHONPATH`` (docs/estimators.md) is the one that runs.
    """
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
    if estimate_tail_index_or_none() is not None:
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
    est_fn = estimate_tail_index_or_none()
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
    jobs: int | None = 1,
    executor: str = "local",
    address: str | None = None,
    powerlaw_seeds: dict[int, int] | None = None,
    done: Iterable[Record] = (),
    on_unit: Callable[[list[Record]], None] | None = None,
    progress: bool = True,
) -> list[Record]:
    """Run every (case, n, seed) unit on an executor; return all records, sorted.

    The units go to ``open_executor(executor, jobs=jobs, address=address)`` (a local
    process pool of ``jobs`` workers, this process alone with ``jobs=1``, or Dask), one
    :func:`run_unit` per (case, n, seed). The seeds are ``first_seed, ..., first_seed +
    seeds - 1`` (a later block of seeds is a fresh check of rules chosen on the first).
    ``powerlaw_seeds[n]`` limits the "powerlaw" anchor to the first that many of them at
    size n (it is the costliest method by far). Records already in ``done`` are not rerun
    (resuming from a checkpoint); ``on_unit`` is called with the records of each unit as
    it finishes, in this process.
    """
    from tqdm import tqdm

    limits = powerlaw_seeds or {}
    have = {record_key(r): r for r in done}
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
    with open_executor(executor, jobs=jobs, address=address) as pool:
        finished: Iterator[list[Record]]
        if pool is None:
            finished = (run_unit(*u) for u in units)
        else:
            futures = [pool.submit(run_unit, *u) for u in units]
            finished = (f.result() for f in as_completed(futures))
        for out in finished:
            records.extend(out)
            if on_unit is not None:
                on_unit(out)
            bar.update()
    bar.close()
    uniq = {record_key(r): r for r in records}
    return [uniq[k] for k in sorted(uniq, key=sort_key)]


def record_key(r: Record) -> tuple[str, int, int, str]:
    """(case, n, seed, method): what identifies a record."""
    return (r.case, r.n, r.seed, r.method)


def sort_key(k: tuple[str, int, int, str]) -> tuple[int, int, int, int]:
    """The order of records and tables: by n, then case, method (plain before centred), seed."""
    case_i = [c.name for c in ALL_CASES].index(k[0]) if k[0] in _CASES_BY_NAME else 99
    base, center = split_method(k[3])
    meth_i = ALL_METHODS.index(base) * 2 + (center is not None) if base in ALL_METHODS else 99
    return (k[1], case_i, meth_i, k[2])


def encode_value(v: Any) -> Any:
    """``v`` for strict JSON: a non-finite float as "inf", "-inf" or "nan"."""
    if isinstance(v, float) and not math.isfinite(v):
        return "inf" if v > 0 else ("-inf" if v < 0 else "nan")
    return v


def _round(v: float | None) -> Any:
    return None if v is None else encode_value(round(v, 6) if math.isfinite(v) else v)


def decode_value(v: Any) -> Any:
    """The inverse of :func:`encode_value`."""
    return float(v) if v in ("inf", "-inf", "nan") else v


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
                    decode_value(g["alpha"][i]),
                    decode_value(g["lo"][i]),
                    decode_value(g["hi"][i]),
                    g["n_warnings"][i],
                    g["error"][i],
                    g["route"][i],
                    g["seconds"][i],
                    g.get("kinds", [""] * len(g["seed"]))[i],
                )
            )
    return out
