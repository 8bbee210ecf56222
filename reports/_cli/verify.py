"""``heavytail verify``: run the claims, print a summary and write the report.

Exit status: 1 if any claim disagrees, 0 otherwise, 2 for bad arguments (nothing ran).
"""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Mapping
from typing import Any, TextIO

from .command import Command
from .common import (
    UsageError,
    add_executor_arguments,
    add_out,
    add_seed,
    checked_address,
    prepare_out,
)

__all__ = ["COMMAND"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``verify``."""
    parser.add_argument(
        "--size",
        choices=("smoke", "quick", "full"),
        default="quick",
        help="quick: minutes on a laptop (default); full: a workstation; smoke: seconds, "
        "checks the machinery only (verdicts mostly inconclusive)",
    )
    parser.add_argument(
        "--claim",
        action="append",
        metavar="ID",
        help="run only this claim (may be given several times; default: all)",
    )
    add_out(parser, "heavytail-report")
    add_seed(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_executor_arguments(parser, jobs_default="one per claim, at most the number of CPUs")


def _selected(claims: list[str] | None, registry: Mapping[str, Any] | None) -> list[str]:
    """The claims to run, in order, each once; an id not in the registry is refused."""
    from .._claims.registry import claim_ids

    known = claim_ids() if registry is None else list(registry)
    selected: list[str] = []
    for claim_id in claims or known:
        if claim_id not in known:
            raise UsageError(f"no claim has id {claim_id!r}; the claims are: {', '.join(known)}")
        if claim_id not in selected:
            selected.append(claim_id)
    return selected


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``heavytail verify`` with parsed ``args``; return the exit status."""
    registry = getattr(args, "registry", None)
    selected = _selected(args.claim, registry)
    # Before the output folder is made: a bad address leaves nothing behind.
    address = checked_address(args.executor, args.address, reach=True)
    folder = prepare_out(args.out)
    jobs = args.jobs if args.jobs is not None else max(1, min(len(selected), os.cpu_count() or 1))

    from tqdm import tqdm

    from .._parallel.executors import ExecutorError, open_executor
    from .._verify.report import summary_table, write_report
    from .._verify.runner import ClaimResult, verify

    quiet = args.quiet or not err.isatty()
    with tqdm(
        total=len(selected), desc=f"verify ({args.size})", unit="claim", file=err, disable=quiet
    ) as bar:

        def done(result: ClaimResult) -> None:
            bar.set_postfix_str(f"{result.claim_id}: {result.verdict.value}")
            bar.update()

        run_selected = functools.partial(
            verify, selected, size=args.size, seed=args.seed, on_done=done, registry=registry
        )
        if args.executor == "local":
            outcome = run_selected(jobs=jobs)
        else:
            try:
                with open_executor("dask", jobs=jobs, address=address) as pool:
                    outcome = run_selected(executor=pool)
            except ExecutorError as exc:
                raise UsageError(str(exc)) from None
    files = write_report(outcome, folder, registry=registry)
    out.write(summary_table(outcome) + "\n\n")
    out.write(f"Report: {files.report}\nResults: {files.results}\nFigures: {folder / 'figures'}\n")
    return outcome.exit_status


COMMAND = Command(
    name="verify",
    help="run the claims and write a report (exit 1 if a claim disagrees)",
    description=(
        "Run the claims, print a summary table, and write DIR/report.md, "
        "DIR/results.json and DIR/figures/*.png and *.pdf. Exit status: 1 if any claim "
        "disagrees, 0 otherwise, 2 for bad arguments."
    ),
    add_arguments=add_arguments,
    run=run,
)
