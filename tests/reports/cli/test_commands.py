"""The command protocol: one module per command, each exporting COMMAND, and the shared
options declared once, in reports/_cli/common.py."""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import subprocess
import sys
import types
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest

from heavytail.reports import main
from heavytail.reports._cli.command import Command
from heavytail.reports._cli.main import COMMANDS, build_parser

CLI = Path(__file__).resolve().parents[3] / "reports" / "_cli"

#: The module of each command, named after it (tail-index lives in tail_index.py).
COMMAND_MODULES = ("verify", "claims", "tail_index", "analyze", "sweep", "report")

#: The options that several commands take, each declared once by a helper of common.py.
SHARED_OPTIONS = ("--executor", "--address", "--jobs", "--seed", "--out")


def protocol_problems(module: types.ModuleType, expected_name: str) -> list[str]:
    """What in ``module`` breaks the command protocol (empty when nothing does)."""
    command = getattr(module, "COMMAND", None)
    if not isinstance(command, Command):
        return [f"{module.__name__}: COMMAND is {command!r}, not a Command"]
    problems = []
    if command.name != expected_name:
        problems.append(f"{module.__name__}: name {command.name!r}, expected {expected_name!r}")
    if not command.help.strip() or "\n" in command.help:
        problems.append(f"{module.__name__}: help must be one non-empty line")
    for field, arity in (("add_arguments", 1), ("run", 3)):
        function = getattr(command, field)
        try:
            inspect.signature(function).bind(*range(arity))
        except (TypeError, ValueError):
            problems.append(f"{module.__name__}: {field} does not take {arity} argument(s)")
    return problems


def _sources() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(CLI.glob("*.py"))}


def declarations(sources: dict[str, str], options: Iterable[str]) -> Counter[str]:
    """How many ``add_argument`` calls in ``sources`` declare each of ``options``."""
    wanted = set(options)
    counts: Counter[str] = Counter({option: 0 for option in wanted})
    for name, text in sources.items():
        for node in ast.walk(ast.parse(text, filename=name)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_argument"
            ):
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and arg.value in wanted:
                        counts[arg.value] += 1
    return counts


def imports_of_main(sources: dict[str, str]) -> list[str]:
    """The modules (other than main.py) that import anything from main.py."""
    found = []
    for name, text in sources.items():
        if name == "main.py":
            continue
        for node in ast.walk(ast.parse(text, filename=name)):
            if isinstance(node, ast.ImportFrom) and (
                (node.level == 1 and node.module == "main")
                or node.module == "heavytail.reports._cli.main"
            ):
                found.append(f"{name}:{node.lineno}")
    return found


@pytest.mark.parametrize("module_name", COMMAND_MODULES)
def test_each_command_module_follows_the_protocol(module_name: str) -> None:
    module = importlib.import_module(f"heavytail.reports._cli.{module_name}")
    assert protocol_problems(module, module_name.replace("_", "-")) == []
    assert module.COMMAND in COMMANDS


def test_the_protocol_check_sees_a_broken_command() -> None:
    def run(args: argparse.Namespace) -> int:  # two arguments short
        return 0

    no_command = types.ModuleType("no_command")
    assert protocol_problems(no_command, "x") == ["no_command: COMMAND is None, not a Command"]
    broken = types.ModuleType("broken")
    command = Command(
        name="other",
        help="two\nlines",
        add_arguments=lambda parser: None,
        run=run,  # type: ignore[arg-type]
    )
    broken.COMMAND = command  # type: ignore[attr-defined]
    problems = protocol_problems(broken, "broken")
    assert len(problems) == 3, problems
    assert "name 'other'" in problems[0] and "one non-empty line" in problems[1]
    assert "run does not take 3" in problems[2]


def test_commands_are_exactly_the_command_modules() -> None:
    # Every module of reports/_cli that assigns COMMAND is listed, and nothing else.
    defining = sorted(
        path.stem
        for path, text in ((CLI / name, text) for name, text in _sources().items())
        if any(
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "COMMAND" for t in node.targets)
            for node in ast.parse(text).body
        )
    )
    assert defining == sorted(COMMAND_MODULES)
    assert [c.name for c in COMMANDS] == [m.replace("_", "-") for m in COMMAND_MODULES]
    subparsers = next(
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    assert list(subparsers.choices) == [c.name for c in COMMANDS]


def test_shared_options_are_declared_once() -> None:
    counts = declarations(_sources(), SHARED_OPTIONS)
    assert counts == Counter({option: 1 for option in SHARED_OPTIONS}), counts
    common = declarations({"common.py": (CLI / "common.py").read_text()}, SHARED_OPTIONS)
    assert common == counts  # the one place is common.py


def test_the_declaration_count_sees_a_second_declaration() -> None:
    twice = {
        "a.py": 'p.add_argument("--address", metavar="ADDR")\n',
        "b.py": "q.add_argument('--address')\np.add_argument('--jobs', type=int)\n",
        "c.py": 'raise UsageError("--address needs --executor dask")\n',  # not a declaration
    }
    assert declarations(twice, ["--address", "--jobs", "--executor"]) == Counter(
        {"--address": 2, "--jobs": 1, "--executor": 0}
    )


def test_no_command_imports_from_main() -> None:
    assert imports_of_main(_sources()) == []
    control = {
        "x.py": "from .main import _positive_int\n",
        "y.py": "from heavytail.reports._cli.main import UsageError\n",
        "main.py": "from .main import main\n",  # main.py itself is not counted
        "z.py": "from .common import UsageError\n",
    }
    assert imports_of_main(control) == ["x.py:1", "y.py:1"]


@pytest.mark.parametrize("name", ["verify", "sweep"])
def test_the_executor_group_reaches_each_command_that_runs_work(name: str) -> None:
    parser = build_parser()
    positional = ["config.toml"] if name == "sweep" else []
    args = parser.parse_args([name, *positional, "--executor", "dask", "--address", "h:1"])
    assert (args.executor, args.address, args.jobs) == ("dask", "h:1", None)
    args = parser.parse_args([name, *positional, "--jobs", "3"])
    assert (args.executor, args.address, args.jobs) == ("local", None, 3)


@pytest.mark.parametrize("name", [c.name for c in COMMANDS])
def test_each_command_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([name, "--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: heavytail {name}")


HEAVY = ("matplotlib", "statsmodels", "torch", "pandas", "tqdm", "dask", "distributed")


def _loaded_after(module: str) -> list[str]:
    code = f"import sys, {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return proc.stdout.split()


def test_building_the_parser_imports_nothing_heavy() -> None:
    assert _loaded_after("heavytail.reports._cli.main") == []
    assert _loaded_after("heavytail.reports") == []
    # Control: a heavy module imported beside it is seen.
    assert _loaded_after("heavytail.reports._cli.main, pandas") == ["pandas"]
