"""What the commands of ``heavytail`` share: exit codes, errors and common arguments.

Each shared option is declared here once (``--executor``/``--address``/``--jobs``,
``--seed``, ``--out``); a command adds it by calling the helper, giving only the words
that differ (its default, what its workers are).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_DISAGREE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Parser",
    "UsageError",
    "add_executor_arguments",
    "add_jobs",
    "add_out",
    "add_seed",
    "check_out",
    "checked_address",
    "int_at_least",
    "non_negative_int",
    "positive_int",
    "prepare_out",
]

#: Success.
EXIT_OK = 0
#: A claim disagrees, or a run failed (the others still ran).
EXIT_DISAGREE = 1
#: Bad arguments or an unusable file: one line on stderr, never a traceback.
EXIT_USAGE = 2
#: Interrupted (Ctrl-C): 128 + SIGINT, as a shell reports it.
EXIT_INTERRUPTED = 130
#: The reader of stdout went away: 128 + SIGPIPE, as a shell reports it.
EXIT_BROKEN_PIPE = 141


class UsageError(Exception):
    """A bad argument or an unusable file: reported in one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def int_at_least(low: int, rule: str) -> Callable[[str], int]:
    """An argparse type: an integer >= ``low``; ``rule`` names it in the error message."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"must be a {rule}, got {text!r}")
        return value

    return parse


positive_int = int_at_least(1, "positive integer")
non_negative_int = int_at_least(0, "non-negative integer")


def add_seed(parser: argparse.ArgumentParser, what: str = "random seed") -> None:
    """Add ``--seed`` (a non-negative integer, default 0); ``what`` says what it seeds."""
    parser.add_argument("--seed", type=non_negative_int, default=0, help=f"{what} (default 0)")


def add_out(parser: argparse.ArgumentParser, default: str, *, say_default: bool = False) -> None:
    """Add ``--out DIR``, the output folder (checked by :func:`check_out`)."""
    shown = f" (default {default})" if say_default else ""
    parser.add_argument("--out", default=default, metavar="DIR", help=f"output folder{shown}")


def add_jobs(
    parser: argparse.ArgumentParser, default: str, *, workers: str = "worker processes"
) -> None:
    """Add ``--jobs N``: how many ``workers`` run at once; ``default`` says what None means."""
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"{workers} (default: {default}); the numbers do not depend on it",
    )


def add_executor_arguments(parser: argparse.ArgumentParser, *, jobs_default: str) -> None:
    """Add ``--executor``, ``--address`` and ``--jobs``: where the runs go and how many.

    A command that takes them calls :func:`checked_address` before it starts anything.
    """
    parser.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local process pool (default) or Dask distributed; the numbers do not depend on it",
    )
    parser.add_argument(
        "--address",
        metavar="ADDR",
        help="Dask scheduler, e.g. tcp://host:8786 (default: a local Dask cluster of --jobs "
        "workers); it must accept a connection and answer within 5 s each, or the command "
        "stops with exit 2",
    )
    add_jobs(parser, jobs_default)


def checked_address(executor: str, address: str | None, *, reach: bool) -> str | None:
    """``--address`` in its normal form, or None when it was not given.

    It needs ``--executor dask``. With ``reach``, a scheduler must also answer there
    (one connection and one request, 5 s each), so that a bad address stops the command
    before it makes anything; otherwise only its form is checked here.

    Raises
    ------
    UsageError
        Naming ``--address``.
    """
    if address is None:
        return None
    if executor != "dask":
        raise UsageError("--address needs --executor dask")
    from .._parallel.executors import ExecutorError, check_dask_address, check_dask_scheduler

    try:
        if reach:
            return check_dask_scheduler(address, name="--address")
        return check_dask_address(address, "--address")
    except ExecutorError as exc:
        raise UsageError(str(exc)) from None


def check_out(out: str) -> Path:
    """``--out`` as a Path, refused when it names no folder (an empty string)."""
    if not out.strip():
        # Path("") is the current folder: an empty --out would scatter the output there.
        raise UsageError(f"--out must name a folder, got {out!r}")
    return Path(out)


def prepare_out(out: str) -> Path:
    """The ``--out`` folder with its ``figures/`` subfolder, made and checked writable."""
    folder = check_out(out)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {out!r} exists and is not a folder")
    try:
        (folder / "figures").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output folder {out!r}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"the output folder {out!r} is not writable")
    return folder
