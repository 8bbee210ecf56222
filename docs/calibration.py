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

This file is the command: its options, the tables it prints, the provenance and the
JSON it writes. The runs, the anchors and the summaries are in the package, in
``heavytail.reports._verify``: ``calibration_run`` (laws, samples, records, and
``run_all``, which hands the units to ``heavytail.reports.open_executor``, the pool that
``verify`` and the sweeps use: ``--executor``, ``--address`` and ``--jobs`` mean what
they mean for ``heavytail sweep``), ``calibration_anchors`` and ``calibration_summary``.

Determinism: the sample of (case, n, seed) is drawn from its own ``SeedSequence`` child
(entropy ``ROOT_SEED``, spawn key (case, n, seed, 0)); a method that takes ``rng`` gets
the child (case, n, seed, 1, method). So the numbers do not depend on the executor, the
number of worker processes, the order in which units finish, or on which other cases
and methods are run.

Checkpoint: ``--checkpoint FILE`` is a sweep results store (``heavytail.reports.
ResultStore``, one SQLite file), written as each unit finishes and read to resume. Each
record is one run of experiment "calibration" whose config is (case, n, seed, method);
its metrics are the estimate, the interval's ends (a non-finite end as "inf", "-inf" or
"nan"; a missing value left out), the number and kinds of warnings, the error message
and the route, and the run's ``seconds`` column holds its time. Each session's provenance
is one run of experiment "calibration.session" (config: its start time and process id;
metric "provenance": its JSON). Several sessions may write to one store at once. The
store holds everything the JSON lines of earlier versions held; such a file is refused
(it is not a store), not read.

Run::

    .venv/bin/python docs/calibration.py [--n 10000 100000] [--seeds 100] [--jobs 2]
        [--first-seed 0] [--out docs/calibration.json] [--checkpoint FILE.sqlite]
        [--markdown]
    .venv/bin/python docs/calibration.py --from-json docs/calibration.json --markdown

The module is importable (``importlib`` on this file): :data:`CASES`, :func:`get_case`,
:func:`draw`, :func:`run_case`, :func:`run_unit`, :func:`summarise`,
:func:`check_targets`, :func:`powerlaw_fit`, :func:`papers_block_sum`, and the seeds'
:data:`ROOT_SEED`, :func:`method_seed` and :func:`records_from_json`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import math
import os
import platform
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from heavytail.reports import ResultStore, RunOutcome, StoreError, config_hash
from heavytail.reports._claims.calibration_cases import CASES, WIDE_CASES
from heavytail.reports._parallel.executors import EXECUTOR_KINDS, default_jobs
from heavytail.reports._verify.calibration_anchors import (
    POWERLAW_DENSE_UP_TO,
    POWERLAW_RATIO,
    papers_block_sum,
    powerlaw_fit,
)
from heavytail.reports._verify.calibration_run import (
    ALL_CASES,
    ALL_METHODS,
    CENTER_SUFFIX,
    GRIDS,
    OUR_METHODS,
    ROOT_SEED,
    Record,
    available_methods,
    case_key,
    decode_value,
    draw,
    encode_value,
    estimate_tail_index_or_none,
    get_case,
    method_seed,
    records_from_json,
    records_to_json,
    run_all,
    run_case,
    run_unit,
    sort_key,
    split_method,
)
from heavytail.reports._verify.calibration_summary import (
    check_targets,
    check_wide_targets,
    summarise,
    warning_rates,
)
from heavytail.reports._verify.calibration_tables import (
    format_centring,
    format_comparison,
    format_tables,
    format_targets,
    format_warning_rates,
)
from heavytail.theory import EstimationError

__all__ = [
    "CASES",
    "ROOT_SEED",
    "check_targets",
    "draw",
    "get_case",
    "main",
    "method_seed",
    "papers_block_sum",
    "powerlaw_fit",
    "records_from_json",
    "run_case",
    "run_unit",
    "summarise",
]

_key = case_key  # the name docs/route_rules.py reads


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


def _write_json(path: Path, meta: dict[str, Any], records: Sequence[Record]) -> None:
    summaries = summarise(records)
    payload = {
        "meta": meta,
        "cases": [
            {k: v for k, v in asdict(c).items() if k != "sampler"}
            for c in ALL_CASES
            if c.name in {r.case for r in records}
        ],
        "summary": [{k: encode_value(v) for k, v in asdict(s).items()} for s in summaries],
        "targets": [
            asdict(t) for n in sorted({r.n for r in records}) for t in check_targets(records, n)
        ],
        "records": records_to_json(records),
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, allow_nan=False, separators=(",", ":")) + "\n")
    tmp.replace(path)


# --------------------------------------------------------------------------- checkpoint

#: The experiment names of the checkpoint's runs: one record, one session's provenance.
CHECKPOINT_RECORD = "calibration"
CHECKPOINT_SESSION = "calibration.session"
#: A record's fields and their metrics' names ("refusal": the store's "error" is a
#: failed run's traceback).
_METRICS = {
    "alpha": "alpha",
    "lo": "lo",
    "hi": "hi",
    "n_warnings": "n_warnings",
    "error": "refusal",
    "route": "route",
    "kinds": "kinds",
}


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def save_records(store: ResultStore, records: Sequence[Record]) -> None:
    """Write ``records`` to the checkpoint ``store``, one run each (see the module notes)."""
    for r in records:
        config = {"case": r.case, "n": r.n, "seed": r.seed, "method": r.method}
        values = {metric: getattr(r, field) for field, metric in _METRICS.items()}
        metrics = {k: encode_value(v) for k, v in values.items() if v is not None}
        outcome = RunOutcome(
            config_hash(CHECKPOINT_RECORD, config),
            "done",
            metrics=metrics,
            started=time.time() - r.seconds,
            seconds=r.seconds,
            worker=_worker(),
        )
        store.record(CHECKPOINT_RECORD, config, outcome)


def save_session(store: ResultStore, session: dict[str, Any]) -> None:
    """Write one session's provenance to the checkpoint ``store``."""
    config = {"started": time.time(), "pid": os.getpid()}
    metrics = {"provenance": json.dumps(session, sort_keys=True)}
    outcome = RunOutcome(
        config_hash(CHECKPOINT_SESSION, config), "done", metrics=metrics, worker=_worker()
    )
    store.record(CHECKPOINT_SESSION, config, outcome)


def read_checkpoint(store: ResultStore) -> tuple[list[Record], list[dict[str, Any]]]:
    """The records and the session headers (provenance of each run) of a checkpoint."""
    records: list[Record] = []
    sessions: list[tuple[float, dict[str, Any]]] = []
    for run in store.rows():
        if run.status != "done":
            continue
        if run.experiment == CHECKPOINT_SESSION:
            sessions.append((run.config["started"], json.loads(run.metrics["provenance"])))
        elif run.experiment == CHECKPOINT_RECORD:
            c, m = run.config, run.metrics
            values = {field: decode_value(m.get(metric)) for field, metric in _METRICS.items()}
            values["n_warnings"] = values["n_warnings"] or 0
            values["kinds"] = values["kinds"] or ""
            key = (c["case"], c["n"], c["seed"], c["method"])
            records.append(Record(*key, seconds=run.seconds, **values))
    return records, [s for _, s in sorted(sessions, key=lambda t: t[0])]


def time_auto(cases: Sequence[str], n: int, seeds: int, repeats: int = 3) -> dict[str, float]:
    """Seconds per "auto" call on each case: the median over seeds of the best of ``repeats``.

    The samples are the calibration's (:func:`draw`), so two checkouts timed with the same
    arguments time the same inputs. Run it for two versions of the code in alternation
    (``PYTHONPATH`` pointing at a ``git archive`` of the other commit, see
    docs/estimators.md) on a machine that is otherwise as idle as can be.
    """
    est_fn = estimate_tail_index_or_none()
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
    parser.add_argument(
        "--jobs", type=int, default=default_jobs(), help="worker processes (default: the CPUs)"
    )
    parser.add_argument(
        "--executor", choices=EXECUTOR_KINDS, default="local", help="where the units run"
    )
    parser.add_argument(
        "--address", default=None, help="Dask scheduler, e.g. tcp://host:8786 (--executor dask)"
    )
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
        help="record each finished unit in this results store (SQLite) and resume from it",
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
        pl_seeds = None
        if args.powerlaw_seeds is not None:
            if len(args.powerlaw_seeds) != len(args.n):
                parser.error("--powerlaw-seeds needs one count per --n")
            pl_seeds = dict(zip(args.n, args.powerlaw_seeds, strict=True))
        with contextlib.ExitStack() as stack:
            store = None
            done: list[Record] = []
            sessions: list[dict[str, Any]] = []
            if args.checkpoint is not None:
                try:
                    store = stack.enter_context(ResultStore(args.checkpoint))
                except StoreError as exc:  # e.g. a JSON-lines checkpoint of earlier versions
                    parser.error(f"--checkpoint: {exc}")
                done, sessions = read_checkpoint(store)
            session = provenance() | {
                "methods": list(methods),
                "sizes": args.n,
                "seeds": args.seeds,
                "first_seed": args.first_seed,
                "powerlaw_seeds": args.powerlaw_seeds,
            }
            if store is not None:
                save_session(store, session)
            start = time.perf_counter()
            records = run_all(
                args.cases,
                args.n,
                args.seeds,
                methods,
                first_seed=args.first_seed,
                jobs=args.jobs,
                executor=args.executor,
                address=args.address,
                powerlaw_seeds=pl_seeds,
                done=done,
                on_unit=None if store is None else (lambda rs: save_records(store, rs)),
                progress=not args.quiet and sys.stderr.isatty(),
            )
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
        for method in sorted({r.method for r in records}, key=lambda m: sort_key(("", 0, 0, m))):
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
        methods_seen = sorted({r.method for r in records}, key=lambda m: sort_key(("", 0, 0, m)))
        rates = [w for m in methods_seen for w in warning_rates(records, m)]
        print("\nwarnings: how often each fires on right and on wrong answers")
        print(format_warning_rates(rates, args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
