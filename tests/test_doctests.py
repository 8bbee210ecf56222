"""The ``>>>`` examples in the docstrings of every heavytail module run and print what they show.

One test per module that has examples, found by walking the packages (the namespace
``heavytail`` has no ``__init__.py``, and the subpackages are mapped from top-level
folders, so pytest's ``--doctest-modules`` would import them under the wrong names).
Each module runs with ``doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE`` and numpy's
default print options, under the suite's warning filters (a warning is an error).
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import io
import pkgutil
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

PACKAGES = (
    "heavytail._lib",
    "heavytail.theory",
    "heavytail.simulate",
    "heavytail.nn",
    "heavytail.reports",
)
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# numpy's documented defaults, so that a print option set elsewhere cannot change the output.
_NUMPY_DEFAULTS = {
    "precision": 8,
    "threshold": 1000,
    "edgeitems": 3,
    "linewidth": 75,
    "suppress": False,
    "nanstr": "nan",
    "infstr": "inf",
    "sign": "-",
    "floatmode": "maxprec",
    "legacy": False,
}


def _modules() -> list[str]:
    """Every module of the packages, found without importing them (collection stays fast)."""
    names = []
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations is not None
        names.append(package)
        names += [
            f"{package}.{info.name}"
            for info in pkgutil.iter_modules(spec.submodule_search_locations)
        ]
    return sorted(names)


def _examples(module: ModuleType) -> list[doctest.DocTest]:
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, module.__name__)
    return [t for t in tests if t.examples]


def _has_examples(name: str) -> bool:
    """Whether the module's source holds a ``>>>`` line (read, not imported, at collection)."""
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None
    text = Path(spec.origin).read_text(encoding="utf-8")
    return any(line.lstrip().startswith(">>>") for line in text.splitlines())


MODULES = _modules()
WITH_EXAMPLES = [name for name in MODULES if _has_examples(name)]


def run_examples(module: ModuleType) -> tuple[doctest.TestResults, str]:
    """Run every docstring example of ``module``; return the counts and the failure report."""
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    out = io.StringIO()
    with np.printoptions(**_NUMPY_DEFAULTS):
        for test in _examples(module):
            runner.run(test, out=out.write)
    return runner.summarize(verbose=False), out.getvalue()


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_run(name: str) -> None:
    result, report = run_examples(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0, f"{name}: {result.failed} example(s) failed\n{report}"


def test_every_package_is_walked() -> None:
    # The walk reaches the modules known to hold examples in each package with some.
    for expected in (
        "heavytail.theory._hill",
        "heavytail.theory.strategies",
        "heavytail.simulate._sgd_linear",
    ):
        assert expected in WITH_EXAMPLES
    assert {m.rsplit(".", 1)[0] for m in MODULES} >= {"heavytail._lib", "heavytail.reports"}


def test_a_wrong_printed_value_fails() -> None:
    # Negative control: an example whose shown output is not what the code prints.
    module = ModuleType("wrong_example")
    module.__doc__ = ">>> import numpy as np\n>>> print(np.float64(1.0) + 1)\n3.0\n"
    result, report = run_examples(module)
    assert (result.attempted, result.failed) == (2, 1)
    assert "Expected:\n    3.0\nGot:\n    2.0" in report
