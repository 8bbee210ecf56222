"""The one randomness convention: a keyword-only ``rng`` normalised here.

``rng`` may be None (fresh entropy), a non-negative int seed, a ``numpy.random.SeedSequence``
or a ``numpy.random.Generator``. Legacy ``RandomState`` and numpy's global state are refused:
they are hidden shared state.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np

from ._errors import InvalidArgumentError

__all__ = ["RngLike", "as_generator", "spawn_generators"]

RngLike: TypeAlias = int | np.integer | np.random.Generator | np.random.SeedSequence | None


def as_generator(rng: RngLike, name: str = "rng") -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``rng``.

    A Generator is returned as is (it is the caller's stream, and is advanced); a seed or
    SeedSequence gives a new PCG64 Generator; None gives one seeded from fresh entropy.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer):
        raise InvalidArgumentError(
            f"`{name}` must be None, a non-negative int, a numpy SeedSequence or a numpy "
            f"Generator, got {type(rng).__name__}"
        )
    if rng < 0:
        raise InvalidArgumentError(f"`{name}` must be a non-negative int seed, got {rng}")
    return np.random.default_rng(int(rng))


def spawn_generators(rng: RngLike, n: int, name: str = "rng") -> list[np.random.Generator]:
    """Return ``n`` independent child Generators spawned from ``rng``.

    Children come from ``SeedSequence.spawn``, so they are independent of each other and
    of the parent, and the same ``rng`` always yields the same children: work split over
    them gives the same numbers whatever the number of threads or workers.
    """
    if n < 0:
        raise InvalidArgumentError(f"`n` must be >= 0, got {n}")
    return as_generator(rng, name).spawn(n)
