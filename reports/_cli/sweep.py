"""``heavytail sweep CONFIG.toml``: run a sweep into a results store (resumable).

Exit status: 0 when every grid point is done, 1 when some are recorded as failed (the
others still ran), 2 for a bad configuration, store or executor (nothing ran).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from .command import Command
from .common import EXIT_DISAGREE, EXIT_OK, UsageError, add_executor_arguments, checked_address

__all__ = ["COMMAND"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``sweep``."""
    parser.add_argument("config", metavar="CONFIG.toml", help="the sweep's configuration")
    parser.add_argument(
        "--store",
        metavar="FILE.sqlite",
        help="results store (default: CONFIG's name with .sqlite, in the current folder)",
    )
    add_executor_arguments(parser, jobs_default="the CPUs; 1 runs in this process")
    parser.add_argument(
        "--retry-failed", action="store_true", help="run again the runs recorded as failed"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the ``sweep`` command; return the exit status."""
    from .._parallel.executors import ExecutorError
    from .._sweeps.config import SweepConfigError, load_sweep_config
    from .._sweeps.store import StoreError

    # The form only: run_sweep asks the scheduler, before it makes the store.
    address = checked_address(args.executor, args.address, reach=False)
    try:
        config = load_sweep_config(args.config)
    except SweepConfigError as exc:
        raise UsageError(f"{args.config}: {exc}") from None
    store = Path(args.store) if args.store else Path(Path(args.config).stem + ".sqlite")

    from tqdm import tqdm

    from .._sweeps.driver import SweepPlan, run_sweep
    from .._sweeps.experiment import RunOutcome

    quiet = args.quiet or not err.isatty()
    bars: list[Any] = []
    failures = [0]

    def on_plan(plan: SweepPlan) -> None:
        bars.append(
            tqdm(
                total=len(plan.to_run),
                desc=f"sweep {config.experiment.name}",
                unit="run",
                file=err,
                disable=quiet,
            )
        )

    def on_record(outcome: RunOutcome) -> None:
        failures[0] += outcome.status == "failed"
        bars[0].set_postfix_str(f"failed {failures[0]}")
        bars[0].update()

    try:
        summary = run_sweep(
            config,
            store,
            executor=args.executor,
            jobs=args.jobs,
            address=address,
            retry_failed=args.retry_failed,
            on_plan=on_plan,
            on_record=on_record,
        )
    except (StoreError, ExecutorError) as exc:
        raise UsageError(str(exc)) from None
    finally:
        for bar in bars:
            bar.close()
    ran = summary.done + summary.failed + summary.already
    out.write(
        f"sweep {summary.experiment}: {summary.planned} runs in the grid, {summary.skipped} "
        f"already done, {ran} run now ({summary.done} done, {summary.failed} failed"
        + (f", {summary.already} recorded by another sweep first" if summary.already else "")
        + f") in {summary.seconds:.1f} s\n"
    )
    if summary.failed_skipped:
        out.write(
            f"{summary.failed_skipped} runs failed before and were not retried "
            "(--retry-failed runs them again)\n"
        )
    out.write(f"Store: {summary.store}\n")
    return EXIT_DISAGREE if summary.failed + summary.failed_skipped > 0 else EXIT_OK


COMMAND = Command(
    name="sweep",
    help="run a grid of experiments into a SQLite store (resumable)",
    description=(
        "Run every grid point of CONFIG.toml (see docs/sweeps.md) that the store does not "
        "hold yet, and record each run as it finishes. Run it again after an interruption: "
        "finished runs are skipped. Exit status 1 if some runs failed (the others ran)."
    ),
    add_arguments=add_arguments,
    run=run,
)
