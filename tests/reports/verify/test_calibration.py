"""The machinery of the estimators' calibration table (docs/calibration.py)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from heavytail.reports._verify.calibration_anchors import papers_block_sum
from heavytail.reports._verify.calibration_run import (
    Record,
    draw,
    get_case,
    records_from_json,
    records_to_json,
    run_all,
)
from heavytail.reports._verify.calibration_summary import summarise

CASES = ("stable-1.5", "pareto-2.5")
METHODS = ("hill", "moment", "papers")


def _without_time(records: list[Record]) -> list[Record]:
    return [dataclasses.replace(r, seconds=0.0) for r in records]


def test_a_sample_is_the_same_array_every_time() -> None:
    case = get_case("stable-1.5")
    np.testing.assert_array_equal(draw(case, 300, 4), draw(case, 300, 4))
    assert not np.array_equal(draw(case, 300, 4), draw(case, 300, 5))


def test_the_records_do_not_depend_on_the_pool_nor_on_resuming() -> None:
    serial = run_all(CASES, [400], 2, METHODS, jobs=1, progress=False)
    pooled = run_all(CASES, [400], 2, METHODS, jobs=2, progress=False)
    assert len(serial) == len(CASES) * 2 * len(METHODS)
    assert _without_time(serial) == _without_time(pooled)
    seen: list[Record] = []
    resumed = run_all(
        CASES, [400], 2, METHODS, jobs=1, done=serial[:5], on_unit=seen.extend, progress=False
    )
    assert all(any(r is d for r in resumed) for d in serial[:5])  # kept as they were
    assert len(seen) == len(serial) - 5  # the five done records were not rerun
    assert _without_time(resumed) == _without_time(serial)


def test_records_survive_their_json() -> None:
    records = run_all(CASES, [400], 2, METHODS, jobs=1, progress=False)
    back = records_from_json(records_to_json(records))
    by_key = {(r.case, r.n, r.seed, r.method): r for r in back}
    for r in records:
        b = by_key[r.case, r.n, r.seed, r.method]
        assert b.alpha == (None if r.alpha is None else round(r.alpha, 6))
        assert b.n_warnings == r.n_warnings and b.kinds == r.kinds


def test_summaries_count_every_run() -> None:
    records = run_all(CASES, [400], 2, METHODS, jobs=1, progress=False)
    summaries = summarise(records)
    assert {(s.case, s.method) for s in summaries} == {(c, m) for c in CASES for m in METHODS}
    for s in summaries:
        assert s.runs == 2
        errors = [
            r.alpha - get_case(s.case).alpha
            for r in records
            if (r.case, r.method) == (s.case, s.method) and r.alpha is not None
        ]
        assert s.bias is not None and math.isclose(s.bias, float(np.mean(errors)))


def test_the_papers_recipe_caps_at_two() -> None:
    gaussian = np.random.default_rng(0).standard_normal(10_000)
    assert papers_block_sum(gaussian) == 2.0
