"""The README's python code blocks run, and each ``print(...)  # text`` prints exactly ``text``.

Each block runs as a script in its own process, with a temporary folder as working
directory (one block starts worker processes, which import the script again behind its
``if __name__ == "__main__":`` guard). A one-line header records what each ``print``
call of the block writes, by line; a print statement on one line followed by a comment
must have written exactly the comment's text (after ``# ``) as its only line.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

# Blocks that take minutes (they run claims at quick size): run only with --runslow.
SLOW_BLOCKS = frozenset({"verify("})

# Written next to the block: it records the text of each print call made from the block
# itself (not from workers or libraries) as [line, text] in the JSON-lines file named by
# HEAVYTAIL_README_PRINTS. The block imports it on one extra first line.
_RECORDER = """
import builtins, io, json, os, sys

_print = builtins.print
_out = os.environ.get("HEAVYTAIL_README_PRINTS")
_block = os.path.abspath(sys.argv[0])


def _recording_print(*args, sep=" ", end="\\n", file=None, flush=False):
    frame = sys._getframe(1)
    if _out and file is None and os.path.abspath(frame.f_code.co_filename) == _block:
        text = io.StringIO()
        _print(*args, sep=sep, end=end, file=text)
        with open(_out, "a") as f:
            f.write(json.dumps([frame.f_lineno - 1, text.getvalue()]) + "\\n")
    _print(*args, sep=sep, end=end, file=file, flush=flush)


builtins.print = _recording_print
"""
_HEADER = "import _readme_prints  # noqa: F401  (one line: block line L is script line L + 1)\n"


def python_blocks(text: str) -> list[tuple[int, str]]:
    """The ```python blocks of a markdown text, with the line each starts on."""
    blocks = []
    for m in re.finditer(r"^```python\n(.*?)^```", text, flags=re.S | re.M):
        blocks.append((text[: m.start()].count("\n") + 2, m.group(1)))
    return blocks


def expected_prints(source: str) -> dict[int, str]:
    """Line -> the comment's text, for each one-line ``print(...)`` statement with a comment."""
    comments = {
        tok.start[0]: tok.string[1:].removeprefix(" ")
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    expected = {}
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "print"
            and node.lineno == node.end_lineno
            and node.lineno in comments
        ):
            expected[node.lineno] = comments[node.lineno]
    return expected


def run_block(source: str, folder: Path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run a block as a script in ``folder``; return the process and the print mismatches."""
    (folder / "_readme_prints.py").write_text(_RECORDER)
    script = folder / "readme_block.py"
    script.write_text(_HEADER + source)
    prints = folder / "prints.jsonl"
    env = {**os.environ, "HEAVYTAIL_README_PRINTS": str(prints), "MPLBACKEND": "Agg"}
    env["PYTHONWARNINGS"] = "error"  # as in the suite: a warning is an error
    # One torch (OpenMP) thread per block: the suite runs two workers on two cores, and
    # torch's small-network steps slow down many times over when threads outnumber cores.
    env["OMP_NUM_THREADS"] = "1"
    proc = subprocess.run(
        [sys.executable, script.name],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    printed: dict[int, list[str]] = {}
    if prints.exists():
        for line in prints.read_text().splitlines():
            lineno, text = json.loads(line)
            printed.setdefault(lineno, []).append(text)
    mismatches = []
    for lineno, want in sorted(expected_prints(source).items()):
        got = printed.get(lineno)
        if got != [want + "\n"]:
            mismatches.append(f"line {lineno}: the comment says {want!r}, it printed {got!r}")
    return proc, mismatches


BLOCKS = python_blocks(README.read_text())


def _params() -> list[object]:
    params: list[object] = []
    for start, source in BLOCKS:
        marks = [pytest.mark.slow] if any(s in source for s in SLOW_BLOCKS) else []
        params.append(pytest.param(source, id=f"README.md:{start}", marks=marks))
    return params


def test_the_readme_has_python_blocks_with_expected_prints() -> None:
    assert len(BLOCKS) >= 2
    assert sum(len(expected_prints(source)) for _, source in BLOCKS) >= 5


@pytest.mark.parametrize("source", _params())
def test_readme_block_runs_and_prints_what_it_shows(source: str, tmp_path: Path) -> None:
    proc, mismatches = run_block(source, tmp_path)
    assert proc.returncode == 0, f"the block failed:\n{proc.stderr[-4000:]}"
    assert not mismatches, "\n".join(mismatches)


def test_a_wrong_expected_comment_is_caught(tmp_path: Path) -> None:
    # Negative control: a synthetic block whose comments say something it does not print.
    source = (
        "x = 1.25\n"
        "print(x * 2)  # 2.5\n"
        "print(round(x, 1))  # 1.3\n"  # prints 1.2 (round half to even)
        "print(x, x)  # 1.25\n"
        "if __name__ == '__main__':\n"
        "    print('guarded')  # guarded\n"
    )
    proc, mismatches = run_block(source, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert mismatches == [
        "line 3: the comment says '1.3', it printed ['1.2\\n']",
        "line 4: the comment says '1.25', it printed ['1.25 1.25\\n']",
    ]


def test_a_block_that_raises_is_caught(tmp_path: Path) -> None:
    proc, mismatches = run_block("print(1)  # 1\nraise SystemExit(3)\n", tmp_path)
    assert proc.returncode == 3
    assert mismatches == []
