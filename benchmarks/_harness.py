"""The timing helpers every ``bench_*.py`` script uses.

- :func:`best_times` runs several candidates in one process, interleaved round by round in
  an order that rotates from round to round (so that a change in the machine's load
  affects all of them alike), and returns each one's best and median wall-clock and CPU
  seconds, every round's wall-clock seconds, and the value of its last call.
- :func:`timed` is one call's wall-clock seconds and its value.
- :func:`machine` and :func:`utc_stamp` are the pieces of the header line the scripts
  print: cores and date, or the UTC minute.

CPU time is the process's, summed over its threads (``time.process_time``). A ``sync``
callable (e.g. ``torch.cuda.synchronize``) is called before each call starts and before
its clock stops, so that asynchronous device work is counted.
"""

from __future__ import annotations

import datetime
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Times", "best_times", "machine", "timed", "utc_stamp"]


@dataclass(frozen=True)
class Times:
    """Per candidate, in the order given: the seconds of :func:`best_times`.

    ``best``/``median``: wall-clock seconds over the rounds; ``best_cpu``/``median_cpu``:
    CPU seconds likewise; ``rounds``: every round's wall-clock seconds, in round order;
    ``values``: what the last call returned.
    """

    best: list[float]
    median: list[float]
    best_cpu: list[float]
    median_cpu: list[float]
    rounds: list[list[float]]
    values: list[Any]


def best_times(
    fns: list[Callable[[], object]], repeats: int, sync: Callable[[], object] | None = None
) -> Times:
    """Time each of ``fns`` ``repeats`` times, the calls interleaved in a rotating order."""
    wall: list[list[float]] = [[] for _ in fns]
    cpu: list[list[float]] = [[] for _ in fns]
    values: list[Any] = [None] * len(fns)
    for r in range(repeats):
        order = list(range(len(fns)))
        order = order[r % len(fns) :] + order[: r % len(fns)]
        for i in order:
            if sync is not None:
                sync()
            start, start_cpu = time.perf_counter(), time.process_time()
            values[i] = fns[i]()
            if sync is not None:
                sync()
            wall[i].append(time.perf_counter() - start)
            cpu[i].append(time.process_time() - start_cpu)

    def best(ts: list[float]) -> float:
        return min(ts, default=math.inf)

    def median(ts: list[float]) -> float:
        return float(statistics.median(ts)) if ts else math.inf

    return Times(
        best=[best(t) for t in wall],
        median=[median(t) for t in wall],
        best_cpu=[best(t) for t in cpu],
        median_cpu=[median(t) for t in cpu],
        rounds=wall,
        values=values,
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall-clock seconds of one call of ``fn``, and its value."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def machine(*extra: str) -> str:
    """``cores = <os.cpu_count()>, <extra, ...>, date = <today, ISO>``: the header lines'
    description of the machine and the day."""
    middle = "".join(f"{e}, " for e in extra)
    return f"cores = {os.cpu_count()}, {middle}date = {datetime.date.today().isoformat()}"


def utc_stamp() -> str:
    """The current UTC minute, ``YYYY-mm-dd HH:MM UTC``."""
    return f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC"
