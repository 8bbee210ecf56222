"""Samples whose tail index is known exactly: the families that check_estimator runs on.

:func:`known_tail_sample` draws from the stable law, the symmetric Pareto, Student's t or
the Gaussian and returns the sample with its true tail index and stable index
(:class:`KnownTailSample`). :mod:`heavytail.theory.strategies` wraps it in Hypothesis
strategies, and :func:`~heavytail.theory.strategies.check_estimator` draws its
consistency and invariance samples with it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._rng import RngLike, as_generator
from heavytail._lib._validation import check_choice, check_int, check_real

from ._stable import sample_stable

__all__ = ["FAMILIES", "KnownTailSample", "known_tail_sample"]

FAMILIES: tuple[str, ...] = ("stable", "pareto", "student_t", "gaussian")
"""The families of :func:`known_tail_sample`, in a fixed order."""


@dataclass(frozen=True, eq=False)
class KnownTailSample:
    """A sample drawn from a family whose tail is known exactly.

    Attributes
    ----------
    x : numpy.ndarray
        The sample, 1-D float64, read-only (copy it if an estimator writes into its
        input; the check that it does not is part of :func:`check_estimator`).
    alpha : float
        The true tail index in heavytail's sense, P(|X| > t) ~ C t^(-alpha):
        ``alpha`` for a stable law with alpha < 2 and for the symmetric Pareto, ``df``
        for Student's t, and ``math.inf`` for the Gaussian and the stable law at
        alpha = 2 (their tails are lighter than any power).
    stable_index : float
        The index of the stable law that normalised sums of the sample's law converge
        to (generalised central limit theorem), ``min(alpha, 2)``: the stable index for
        stable laws, and 2 for every law with a finite variance, and also for the
        Pareto with alpha = 2 exactly (which is in the Gaussian's domain of attraction
        with a log correction). This is what stable-law estimators (block sums,
        McCulloch's quantile fit) estimate.
    family : str
        One of ``"stable"``, ``"pareto"``, ``"student_t"``, ``"gaussian"``.
    params : Mapping[str, float]
        The family's parameters (read-only): ``alpha``, ``beta``, ``scale`` for
        ``"stable"``; ``alpha``, ``scale`` for ``"pareto"``; ``df``, ``scale`` for
        ``"student_t"``; ``scale`` for ``"gaussian"``.
    seed : int or None
        The integer seed the sample was drawn with, or None when it came from a
        Generator. With a seed, ``known_tail_sample(s.family, s.n, rng=s.seed,
        **s.params)`` reproduces ``s.x`` exactly.
    """

    x: npt.NDArray[np.float64] = field(repr=False)
    alpha: float
    stable_index: float
    family: str
    params: Mapping[str, float]
    seed: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    @property
    def n(self) -> int:
        """The sample size."""
        return int(self.x.size)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return (
            f"KnownTailSample(family={self.family!r}, n={self.n}, {params}, seed={self.seed}; "
            f"alpha={self.alpha!r}, stable_index={self.stable_index!r})"
        )


def known_tail_sample(
    family: str,
    n: int,
    *,
    alpha: float | None = None,
    df: float | None = None,
    beta: float | None = None,
    scale: float = 1.0,
    rng: RngLike = None,
) -> KnownTailSample:
    r"""Draw ``n`` values from a family whose tail index is known exactly.

    ``"stable"``
        ``sample_stable(alpha, n, beta=beta, scale=scale)``: the stable law
        S_alpha(scale, beta, 0) in the S1 parametrization (Samorodnitsky & Taqqu 1994,
        Def. 1.1.6). P(|X| > t) ~ C_alpha scale^alpha t^(-alpha) for alpha < 2
        (Samorodnitsky & Taqqu, Property 1.2.15), so the tail index is alpha; alpha = 2 is
        the Gaussian N(0, 2 scale^2), tail index inf. alpha in (0, 2], beta in [-1, 1]
        (default 0).
    ``"pareto"``
        Symmetric Pareto: a random sign times ``scale * exp(E / alpha)`` with E standard
        exponential, so that P(|X| > t) = (t / scale)^(-alpha) exactly for t >= scale
        (x_min = scale). alpha > 0.
    ``"student_t"``
        ``scale`` times Student's t with ``df`` degrees of freedom; its density decays
        like |t|^(-df - 1), so P(|X| > t) ~ C t^(-df): tail index df. df > 0.
    ``"gaussian"``
        N(0, scale^2) (``scale`` is the standard deviation); tail index inf.

    Parameters
    ----------
    family : {"stable", "pareto", "student_t", "gaussian"}
        The family.
    n : int
        Sample size, >= 1.
    alpha : float, optional
        Tail index of ``"stable"`` (in (0, 2]) and ``"pareto"`` (> 0); required there,
        refused for the other families.
    df : float, optional
        Degrees of freedom of ``"student_t"``, > 0; required there, refused elsewhere.
    beta : float, optional
        Skewness of ``"stable"``, in [-1, 1]; default 0. Refused for the other families.
    scale : float, optional
        Scale, > 0 (see above for its meaning in each family).
    rng : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Source of randomness; the same seed gives the same sample.

    Returns
    -------
    KnownTailSample
        The read-only sample with its true ``alpha`` and ``stable_index``.

    Raises
    ------
    InvalidArgumentError
        For an unknown family, a missing or out-of-domain parameter, a parameter the
        family does not have, or parameters so extreme that draws overflow float64
        (e.g. a Pareto with alpha = 1e-3): data are never silently capped.

    Examples
    --------
    >>> s = known_tail_sample("pareto", 1000, alpha=1.5, scale=2.0, rng=0)
    >>> s.alpha, s.stable_index, bool(abs(s.x).min() >= 2.0)
    (1.5, 1.5, True)
    """
    family = check_choice(family, "family", FAMILIES)
    n = check_int(n, "n", low=1)
    scale = check_real(scale, "scale", low=0.0, low_open=True, high_open=True)
    given = {"alpha": alpha, "df": df, "beta": beta}
    wanted = {
        "stable": ("alpha", "beta"),
        "pareto": ("alpha",),
        "student_t": ("df",),
        "gaussian": (),
    }[family]
    for name, value in given.items():
        if value is not None and name not in wanted:
            raise InvalidArgumentError(f"`{name}` is not a parameter of the {family!r} family")
    seed = int(rng) if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) else None
    gen = as_generator(rng)
    params: dict[str, float]
    if family == "stable":
        a = check_real(_required(alpha, "alpha", family), "alpha", low=0.0, high=2.0, low_open=True)
        b = check_real(0.0 if beta is None else beta, "beta", low=-1.0, high=1.0)
        params = {"alpha": a, "beta": b, "scale": scale}
        x = sample_stable(a, n, beta=b, scale=scale, rng=gen)
        tail = a if a < 2.0 else math.inf
    elif family == "pareto":
        a = check_real(
            _required(alpha, "alpha", family), "alpha", low=0.0, low_open=True, high_open=True
        )
        params = {"alpha": a, "scale": scale}
        with np.errstate(over="ignore"):  # overflow is refused just below, never capped
            x = scale * np.exp(gen.standard_exponential(n) / a)
        x *= 2.0 * gen.integers(0, 2, size=n) - 1.0
        tail = a
    elif family == "student_t":
        d = check_real(_required(df, "df", family), "df", low=0.0, low_open=True, high_open=True)
        params = {"df": d, "scale": scale}
        with np.errstate(over="ignore", divide="ignore"):  # refused just below
            x = scale * gen.standard_t(d, size=n)
        tail = d
    else:
        params = {"scale": scale}
        x = scale * gen.standard_normal(n)
        tail = math.inf
    if not np.isfinite(x).all():
        shown = ", ".join(f"{k}={v:g}" for k, v in params.items())
        raise InvalidArgumentError(
            f"the {family!r} family with {shown} gives draws that overflow float64; "
            "use a larger tail index or a smaller scale"
        )
    x.setflags(write=False)
    return KnownTailSample(
        x=x,
        alpha=tail,
        stable_index=min(tail, 2.0),
        family=family,
        params=params,
        seed=seed,
    )


def _required(value: float | None, name: str, family: str) -> float:
    if value is None:
        raise InvalidArgumentError(f"the {family!r} family needs `{name}`")
    return value
