"""The protocol of a command of ``heavytail``: one module per command, each with COMMAND.

A command module defines ``COMMAND = Command(...)``: its name on the command line, its
one-line help, the function that adds its arguments to its subparser, and the function
that runs it. The module imports nothing heavy at import time (no torch, pandas,
matplotlib, dask or tqdm): those go inside ``run``, so that ``heavytail --help`` and
``import heavytail.reports`` stay fast. ``run`` returns the exit status
(:mod:`.common`'s ``EXIT_*``) and raises :class:`.common.UsageError` for bad input.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = ["Command"]


@dataclass(frozen=True)
class Command:
    """One command of ``heavytail``.

    Attributes
    ----------
    name
        The word on the command line, e.g. ``"tail-index"``.
    help
        One line for ``heavytail --help``.
    add_arguments
        Adds the command's arguments to its subparser.
    run
        ``run(args, out, err)``: runs the command with the parsed ``args``, writing to
        ``out`` (results) and ``err`` (progress); returns the exit status. Besides the
        command's own arguments, ``args.registry`` holds the claims by id that
        :func:`heavytail.reports.main` was given, or None for the package's registry.
    description
        The paragraph of ``heavytail NAME --help`` (default: none).
    formatter_class
        argparse's help formatter for the subparser (default: argparse's own).
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, TextIO, TextIO], int]
    description: str | None = None
    formatter_class: type[argparse.HelpFormatter] = argparse.HelpFormatter

    def add_to(self, sub: argparse._SubParsersAction[Any]) -> None:
        """Add this command's subparser, with its arguments, to ``sub``."""
        parser = sub.add_parser(
            self.name,
            help=self.help,
            description=self.description,
            formatter_class=self.formatter_class,
        )
        self.add_arguments(parser)
