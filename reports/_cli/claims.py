"""``heavytail claims``: list the claims with their statements, formulas and sources."""

from __future__ import annotations

import argparse
import textwrap
from typing import TextIO

from .command import Command
from .common import EXIT_OK

__all__ = ["COMMAND"]


def _wrap(text: str, indent: str = "    ") -> str:
    return textwrap.fill(text, width=92, initial_indent=indent, subsequent_indent=indent)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``claims`` takes no arguments."""


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Print every claim (of ``args.registry``, or the package's): id, title, statement,
    formula and source."""
    from .._claims.registry import all_claims

    registry = getattr(args, "registry", None)
    for claim in all_claims() if registry is None else registry.values():
        out.write(f"{claim.id}: {claim.title}\n")
        out.write(_wrap(claim.statement) + "\n")
        out.write(_wrap("Formula: " + claim.formula) + "\n")
        out.write(_wrap("Source: " + claim.source) + "\n\n")
    return EXIT_OK


COMMAND = Command(
    name="claims",
    help="list the claims with their statements and sources",
    add_arguments=add_arguments,
    run=run,
)
