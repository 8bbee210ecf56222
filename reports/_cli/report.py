"""``heavytail report STORE``: CSV tables and standard figures from a results store."""

from __future__ import annotations

import argparse
from typing import TextIO

from .command import Command
from .common import EXIT_OK, UsageError, add_out, check_out

__all__ = ["COMMAND"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``report``."""
    parser.add_argument("store", metavar="STORE", help="a results store written by `sweep`")
    add_out(parser, "sweep-report", say_default=True)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the ``report`` command; return the exit status."""
    from .._sweeps.report import write_sweep_report
    from .._sweeps.store import StoreError

    check_out(args.out)  # write_sweep_report makes the folder once the store is read
    try:
        files = write_sweep_report(args.store, args.out)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write to {args.out!r}: {exc.strerror}") from None
    for path in files.tables:
        out.write(f"Table: {path}\n")
    for path in files.figures:
        out.write(f"Figure: {path}\n")
    for line in files.skipped:
        out.write(f"Skipped: {line}\n")
    if not files.tables:
        out.write("The store holds no runs.\n")
    if files.stray:
        folder = files.stray[0].parent
        out.write(
            f"Stray: {len(files.stray)} file(s) in {folder} that no run names, left by a "
            "sweep killed while writing (or being written by one running now); they were "
            "not read, and can be deleted when no sweep is running on this store.\n"
        )
    return EXIT_OK


COMMAND = Command(
    name="report",
    help="tables and figures from a sweep's results store",
    description=(
        "Write tidy CSV tables (runs, summary over seeds, failed runs) and the standard "
        "figures (tail index vs eta/b, prunable fraction and gap vs tail index, error vs "
        "width) of whatever STORE holds; figures whose columns are missing are listed as "
        "skipped. The store is only read."
    ),
    add_arguments=add_arguments,
    run=run,
)
