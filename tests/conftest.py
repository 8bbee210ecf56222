"""Test policy shared by the whole suite.

- matplotlib uses the Agg backend, and a test that leaves a figure open fails.
- A test that touches numpy's global random state fails: all randomness goes through
  an explicit ``rng``.
- Tests marked ``slow`` are skipped unless ``--runslow`` is given.
"""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Deterministic Hypothesis runs: the same examples on every machine, CI included.
settings.register_profile(
    "heavytail",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "heavytail"))

# Hypothesis (6.131 on) also draws some values from the literals of the "local" modules
# imported so far in the process (heavytail's own, not the tests'), so a derandomized test
# tried other inputs depending on which tests had run before it in the same process: the
# input-domain test of pickands_estimator found an overflow only after other test files.
# The pool is fixed here, empty, so that a test's examples depend on the test alone. This
# is private API of the pinned Hypothesis (constraints.txt): the assert makes an upgrade
# that moves it fail here, not silently bring back the dependence on test order.
from hypothesis.internal.conjecture import providers as _hypothesis_providers  # noqa: E402

assert hasattr(_hypothesis_providers, "_get_local_constants"), "Hypothesis moved it"
_NO_LOCAL_CONSTANTS = _hypothesis_providers.Constants()
HYPOTHESIS_LOCAL_CONSTANTS = _hypothesis_providers._get_local_constants  # for its test
_hypothesis_providers._get_local_constants = lambda: _NO_LOCAL_CONSTANTS


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="slow: run with --runslow (make test-slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


def _global_state_fingerprint() -> tuple[object, ...]:
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)  # noqa: NPY002
    return (name, keys.tobytes(), pos, has_gauss, cached)


@pytest.fixture(autouse=True)
def _no_global_numpy_rng() -> Iterator[None]:
    before = _global_state_fingerprint()
    yield
    if _global_state_fingerprint() != before:
        pytest.fail("the test touched numpy's global random state; pass an explicit `rng`")


@pytest.fixture(autouse=True)
def _no_leaked_figures() -> Iterator[None]:
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        plt = sys.modules["matplotlib.pyplot"]
        if plt.get_fignums():
            plt.close("all")
            pytest.fail("the test left a matplotlib figure open; close it")
