"""The ``heavytail`` command line: ``verify``, ``claims`` and ``tail-index``.

Bad arguments and unreadable files end with one line on stderr and exit status 2, never
a traceback. ``verify`` exits 1 when a claim disagrees and 0 otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

__all__ = ["UsageError", "main"]

EXIT_OK = 0
EXIT_DISAGREE = 1
EXIT_USAGE = 2


#: Modules that each add one more command. Each defines ``COMMAND`` (its name),
#: ``register(sub)``, which adds its subparser to ``sub`` (an ``argparse`` subparsers
#: action), and ``run(args, out, err) -> int``; bad input raises :class:`UsageError`.
#: A command module imports nothing heavy at import time (no torch, no dask).
_COMMAND_MODULES: tuple[str, ...] = (
    "heavytail.reports._cli.analyze",
    "heavytail.reports._cli.sweep",
    "heavytail.reports._cli.report",
)


class UsageError(Exception):
    """A bad argument or an unusable file: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _int_at_least(low: int, rule: str) -> Callable[[str], int]:
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


_positive_int = _int_at_least(1, "positive integer")
_seed = _int_at_least(0, "non-negative integer")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="heavytail",
        description=(
            "Check the theory of heavy-tailed SGD and compressibility with numbers: "
            "each claim is simulated, measured and given a verdict."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    verify = sub.add_parser(
        "verify",
        help="run the claims and write a report (exit 1 if a claim disagrees)",
        description=(
            "Run the claims, print a summary table, and write DIR/report.md, "
            "DIR/results.json and DIR/figures/*.png and *.pdf. Exit status: 1 if any claim "
            "disagrees, 0 otherwise, 2 for bad arguments."
        ),
    )
    verify.add_argument(
        "--size",
        choices=("smoke", "quick", "full"),
        default="quick",
        help="quick: minutes on a laptop (default); full: a workstation; smoke: seconds, "
        "checks the machinery only (verdicts mostly inconclusive)",
    )
    verify.add_argument(
        "--claim",
        action="append",
        metavar="ID",
        help="run only this claim (may be given several times; default: all)",
    )
    verify.add_argument("--out", default="heavytail-report", metavar="DIR", help="output folder")
    verify.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    verify.add_argument(
        "--jobs",
        type=_positive_int,
        default=None,
        help="worker processes (default: one per claim, at most the number of CPUs); "
        "the numbers do not depend on it",
    )
    verify.add_argument("--quiet", action="store_true", help="no progress bars")
    verify.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local process pool (default) or Dask distributed; the numbers do not depend on it",
    )
    verify.add_argument(
        "--address",
        metavar="ADDR",
        help="Dask scheduler, e.g. tcp://host:8786 (default: a local Dask cluster of --jobs "
        "workers); it must accept a connection and answer within 5 s each, or verify stops "
        "with exit 2",
    )

    sub.add_parser("claims", help="list the claims with their statements and sources")

    tail = sub.add_parser(
        "tail-index",
        help="estimate the tail index of the numbers in a file",
        description=(
            "Estimate the tail index alpha of |X| from a .npy, .npz, .csv or .txt file "
            "(the file is only read). An array of several columns is refused unless "
            "--column or --pool says which numbers are the sample."
        ),
    )
    tail.add_argument("file", metavar="FILE", help="a .npy, .npz, .csv or .txt file")
    tail.add_argument(
        "--method",
        default="auto",
        metavar="M",
        help="auto (default), hill, pickands, moment, block_sum or quantile",
    )
    tail.add_argument("--key", metavar="NAME", help="the array to use in a .npz with several")
    tail.add_argument(
        "--plot", metavar="OUT.png", help="write a Hill plot and a survival-function plot"
    )
    tail.add_argument("--seed", type=_seed, default=0, help="seed of the bootstrap (default 0)")
    tail.add_argument(
        "--column",
        type=_seed,
        default=None,
        metavar="J",
        help="use column J (from 0) of a 2-D array, e.g. one column of a table",
    )
    tail.add_argument(
        "--pool",
        action="store_true",
        help="use every entry of an array of several columns as one sample (e.g. a weight "
        "matrix); the output says so",
    )
    for module in _COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def _wrap(text: str, indent: str = "    ") -> str:
    return textwrap.fill(text, width=92, initial_indent=indent, subsequent_indent=indent)


def _claims(out: TextIO) -> int:
    from .._claims.registry import all_claims

    for claim in all_claims():
        out.write(f"{claim.id}: {claim.title}\n")
        out.write(_wrap(claim.statement) + "\n")
        out.write(_wrap("Formula: " + claim.formula) + "\n")
        out.write(_wrap("Source: " + claim.source) + "\n\n")
    return EXIT_OK


def _prepare_out(out: str) -> Path:
    if not out.strip():
        # Path("") is the current folder: an empty --out would scatter the report there.
        raise UsageError(f"--out must name a folder, got {out!r}")
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {out!r} exists and is not a folder")
    try:
        (folder / "figures").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output folder {out!r}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"the output folder {out!r} is not writable")
    return folder


def _verify(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .._claims.registry import claim_ids

    known = claim_ids()
    selected: list[str] = []
    for claim_id in args.claim or known:
        if claim_id not in known:
            raise UsageError(f"no claim has id {claim_id!r}; the claims are: {', '.join(known)}")
        if claim_id not in selected:
            selected.append(claim_id)
    if args.address is not None and args.executor != "dask":
        raise UsageError("--address needs --executor dask")
    if args.address is not None:
        from .._parallel.executors import ExecutorError, check_dask_scheduler

        try:  # before the output folder is made: a bad address leaves nothing behind
            args.address = check_dask_scheduler(args.address, name="--address")
        except ExecutorError as exc:
            raise UsageError(str(exc)) from None
    folder = _prepare_out(args.out)
    jobs = args.jobs if args.jobs is not None else max(1, min(len(selected), os.cpu_count() or 1))

    from tqdm import tqdm

    from .._verify.report import summary_table, write_report
    from .._verify.runner import ClaimResult, verify

    quiet = args.quiet or not err.isatty()
    with tqdm(
        total=len(selected), desc=f"verify ({args.size})", unit="claim", file=err, disable=quiet
    ) as bar:

        def done(result: ClaimResult) -> None:
            bar.set_postfix_str(f"{result.claim_id}: {result.verdict.value}")
            bar.update()

        if args.executor == "local":
            run = verify(selected, size=args.size, seed=args.seed, jobs=jobs, on_done=done)
        else:
            from .._parallel.executors import ExecutorError, open_executor

            try:
                with open_executor("dask", jobs=jobs, address=args.address) as pool:
                    run = verify(
                        selected, size=args.size, seed=args.seed, executor=pool, on_done=done
                    )
            except ExecutorError as exc:
                raise UsageError(str(exc)) from None
    files = write_report(run, folder)
    out.write(summary_table(run) + "\n\n")
    out.write(f"Report: {files.report}\nResults: {files.results}\nFigures: {folder / 'figures'}\n")
    return run.exit_status


def _command_names() -> list[str]:
    """The command each module of ``_COMMAND_MODULES`` adds (its ``COMMAND`` constant)."""
    return [importlib.import_module(module).COMMAND for module in _COMMAND_MODULES]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the status."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "verify":
            return _verify(args, sys.stdout, sys.stderr)
        if args.command == "claims":
            return _claims(sys.stdout)
        if args.command != "tail-index":
            module = _COMMAND_MODULES[_command_names().index(args.command)]
            command = importlib.import_module(module)
            return int(command.run(args, sys.stdout, sys.stderr))
        from .tail_index import tail_index

        return tail_index(
            args.file,
            method=args.method,
            key=args.key,
            plot=args.plot,
            seed=args.seed,
            column=args.column,
            pool=args.pool,
            out=sys.stdout,
        )
    except UsageError as exc:
        sys.stderr.write(f"heavytail: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("heavytail: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`heavytail analyze ... | head`): stop quietly, as cat
        # does. stdout is pointed at devnull so that the exit's flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
