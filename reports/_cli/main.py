"""The ``heavytail`` command line: builds the parser from the commands and dispatches.

Each command is one module of this folder exporting ``COMMAND`` (:class:`.command.Command`);
:data:`COMMANDS` lists them in the order ``heavytail --help`` shows them. Bad arguments
and unreadable files end with one line on stderr and exit status 2, never a traceback.
``verify`` exits 1 when a claim disagrees and ``sweep`` when a run failed; 0 otherwise.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import analyze, claims, report, sweep, tail_index, verify
from .command import Command
from .common import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_USAGE, Parser, UsageError

if TYPE_CHECKING:
    from .._kit.claim import Claim

__all__ = ["COMMANDS", "UsageError", "main"]

#: The commands of ``heavytail``, in the order of its help. A command module imports
#: nothing heavy at import time, so that building the parser stays fast.
COMMANDS: tuple[Command, ...] = (
    verify.COMMAND,
    claims.COMMAND,
    tail_index.COMMAND,
    analyze.COMMAND,
    sweep.COMMAND,
    report.COMMAND,
)


def build_parser(commands: Sequence[Command] = COMMANDS) -> Parser:
    """The parser of ``heavytail``, with one subparser per command."""
    parser = Parser(
        prog="heavytail",
        description=(
            "Check the theory of heavy-tailed SGD and compressibility with numbers: "
            "each claim is simulated, measured and given a verdict."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in commands:
        command.add_to(sub)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    registry: Mapping[str, Claim[Any, Any]] | None = None,
) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the status.

    ``registry``: the claims, by id, that ``verify`` runs and reports and ``claims``
    lists, instead of the package's (None); the commands read it as ``args.registry``.
    """
    by_name = {command.name: command for command in COMMANDS}
    try:
        args = build_parser().parse_args(argv)
        args.registry = registry
        return int(by_name[args.command].run(args, sys.stdout, sys.stderr))
    except UsageError as exc:
        sys.stderr.write(f"heavytail: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("heavytail: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`heavytail analyze ... | head`): stop quietly, as cat
        # does. stdout is pointed at devnull so that the exit's flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
