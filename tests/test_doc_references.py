"""No file in the repository cites a document that is not in the repository.

Every text file that a checkout holds (``git ls-files``: tracked, plus untracked files
that git does not ignore; suffixes .py, .md and .toml, and the Makefile) is scanned for
references to documents:

- a bare upper-case Markdown name at the top of the repository (the README, or a design
  or theory note kept outside it), which must exist at the root;
- a path inside the repository: ``docs/...``, ``benchmarks/...``, ``tests/...`` and the
  package folders (``theory/...``, ``simulate/...``, ``nn/...``, ``reports/...``,
  ``_lib/...``), ending in .md, .py, .json, .csv or .toml, which must exist (a path with
  ``*`` must match at least one file);
- "issue N" of the project's tracker, which is not part of the repository, so a reader
  of the code or the report cannot follow it. An issue of another project (numpy issue
  123, say) names its project and is allowed.

A reference to a missing file fails the test, listed as ``path:line: reference``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SUFFIXES = (".py", ".md", ".toml")
NAMES = ("Makefile",)

_FOLDERS = ("docs", "benchmarks", "tests", "theory", "simulate", "nn", "reports", "_lib")
# A path inside the repository: one of its folders, then names, ending in a document
# suffix. Not preceded by a word character, "/" or "." (so that scipy/_lib/_util.py or
# heavytail/theory/x.py in another project's layout is not read as ours).
# A path followed by ":<line>" is a location in a message (a file of a temporary tree in
# a test's expected output, say), not a reference to a document, and is not checked.
_PATH = re.compile(
    r"(?<![\w/.\-])((?:" + "|".join(_FOLDERS) + r")/[\w/.*\-]*?\.(?:md|py|json|csv|toml))"
    r"\b(?!:\d)"
)
# A bare upper-case Markdown name: README.md, or a note kept outside the repository.
_ROOT_DOC = re.compile(r"(?<![\w/.\-])([A-Z][A-Z0-9_]*\.md)\b")
# "issue N", unless another project is named just before it.
_ISSUE = re.compile(r"(?i)(?:\b(\w+)\s+)?\bissue\s+#?(\d+)\b")
_OTHER_PROJECTS = {
    "numpy",
    "scipy",
    "numba",
    "matplotlib",
    "hypothesis",
    "pytest",
    "statsmodels",
    "torch",
    "pytorch",
    "dask",
    "setuptools",
    "pip",
    "mypy",
    "ruff",
    "cpython",
    "python",
    "github",
    "powerlaw",
    "weightwatcher",
}


def missing_references(text: str, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, reference) for each reference in ``text`` to a document not under ``root``."""
    found: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _PATH.finditer(line):
            ref = match.group(1).rstrip(".")
            exists = any(root.glob(ref)) if "*" in ref else (root / ref).is_file()
            if not exists:
                found.append((number, ref))
        for match in _ROOT_DOC.finditer(line):
            if not (root / match.group(1)).is_file():
                found.append((number, match.group(1)))
        for match in _ISSUE.finditer(line):
            before = (match.group(1) or "").lower()
            if before not in _OTHER_PROJECTS:
                found.append((number, f"issue {match.group(2)}"))
    return found


def repository_text_files(root: Path = ROOT) -> list[Path]:
    """The text files a checkout holds: tracked, or untracked and not ignored by git."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the set of repository files is unknown")
    paths = [root / p for p in out.decode("utf-8").split("\0") if p]
    return sorted(p for p in paths if p.is_file() and (p.suffix in SUFFIXES or p.name in NAMES))


def test_no_file_cites_a_missing_document() -> None:
    files = repository_text_files()
    assert len(files) > 50  # the scan saw the repository, not an empty list
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {ref}"
        for path in files
        for line, ref in missing_references(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert not offenders, "references to documents not in the repository:\n" + "\n".join(offenders)


def test_the_scan_reports_each_kind_of_missing_reference(tmp_path: Path) -> None:
    # Negative control: a synthetic text citing missing files must be reported, line by
    # line. The references are assembled here (from "/" and ".") so that this file does
    # not cite them itself.
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "present.md").write_text("x")
    (tmp_path / "README.md").write_text("x")
    sl, dot, issue = "/", ".", "issue"
    theory, design = f"THEORY{dot}md", f"DESIGN{dot}md"
    text = "\n".join(
        [
            f"See {theory} section 2 and {design}.",
            f"The derivation is in docs{sl}absent{dot}md, its check in "
            f"tests{sl}theory{sl}test_absent{dot}py.",
            f"Timings: benchmarks{sl}bench_absent{dot}py; targets of heavytail {issue} 2.",
            f"Fine: docs{sl}present{dot}md, README{dot}md, numpy {issue} 123, "
            f"scipy{sl}_lib{sl}_util{dot}py, tests{sl}gone{dot}py:12 (a location).",
            f"Globs: docs{sl}pres*{dot}md is fine, docs{sl}abs*{dot}md is not.",
        ]
    )
    found = missing_references(text, root=tmp_path)
    assert found == [
        (1, theory),
        (1, design),
        (2, f"docs{sl}absent{dot}md"),
        (2, f"tests{sl}theory{sl}test_absent{dot}py"),
        (3, f"benchmarks{sl}bench_absent{dot}py"),
        (3, f"{issue} 2"),
        (5, f"docs{sl}abs*{dot}md"),
    ], found
