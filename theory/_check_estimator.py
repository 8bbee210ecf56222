"""Standard properties of a tail-index estimator, checked on samples with a known tail.

This is the pure-numpy engine behind :mod:`heavytail.theory.strategies`: the families of
samples whose tail index is known exactly (:func:`known_tail_sample`), and
:func:`check_estimator`, which runs the invariance, consistency and bad-input properties
on any estimator and reports each one.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._rng import RngLike, as_generator
from heavytail._lib._validation import check_choice, check_int, check_real

from ._stable import sample_stable

__all__ = [
    "FAMILIES",
    "PROPERTIES",
    "EstimatorCheckReport",
    "KnownTailSample",
    "PropertyResult",
    "check_estimator",
    "known_tail_sample",
]

FAMILIES: tuple[str, ...] = ("stable", "pareto", "student_t", "gaussian")
"""The families of :func:`known_tail_sample`, in a fixed order."""

PROPERTIES: tuple[str, ...] = (
    "scale invariance",
    "sign invariance",
    "permutation invariance",
    "repeatable",
    "input unchanged",
    "consistency",
    "degenerate input",
)
"""The property names of :func:`check_estimator`, the values its ``skip`` accepts."""

_TARGETS = ("tail index", "stable index")

# The parameter that indexes each family in `check_estimator(families=...)`.
_INDEX_PARAM = {"stable": "alpha", "pareto": "alpha", "student_t": "df", "gaussian": None}


class _HasAlpha(Protocol):
    @property
    def alpha(self) -> float: ...


Estimator: TypeAlias = Callable[[npt.NDArray[np.float64]], float | _HasAlpha]
"""An estimator: a float array in, a float or an object with a float ``.alpha`` out."""


# --------------------------------------------------------------------------------------
# Samples with a known tail
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyResult:
    """The outcome of one property on one case.

    Attributes
    ----------
    name : str
        The property, one of :data:`PROPERTIES` (e.g. ``"consistency"``).
    case : str
        The case it was checked on (e.g. ``"pareto alpha=2.5"``, ``"x 1e-3"``, ``"NaN"``).
    passed : bool
        Whether the property held.
    detail : str
        What was measured against what, enough to reproduce the case.
    """

    name: str
    case: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class EstimatorCheckReport:
    """The result of :func:`check_estimator`.

    Attributes
    ----------
    estimator : str
        A label for the estimator checked.
    passed : bool
        True when every property held on every case.
    results : tuple of PropertyResult
        One entry per property and case, in the order they were run.
    settings : Mapping
        The settings used (target, n, rtol, invariance_rtol, seed, families, ...),
        read-only.
    """

    estimator: str
    passed: bool
    results: tuple[PropertyResult, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        object.__setattr__(self, "results", tuple(self.results))

    @property
    def failures(self) -> tuple[PropertyResult, ...]:
        """The results that did not pass."""
        return tuple(r for r in self.results if not r.passed)

    @property
    def failed_properties(self) -> frozenset[str]:
        """The names of the properties that failed on at least one case."""
        return frozenset(r.name for r in self.failures)

    def __str__(self) -> str:
        verdict = "passed" if self.passed else f"FAILED {len(self.failures)} of"
        head = f"check_estimator({self.estimator}): {verdict} {len(self.results)} checks"
        rows = [("property", "case", "result", "detail")]
        rows += [(r.name, r.case, "pass" if r.passed else "FAIL", r.detail) for r in self.results]
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        lines = [f"  {a:<{w0}}  {b:<{w1}}  {c:<6}  {d}".rstrip() for a, b, c, d in rows]
        return "\n".join([head, *lines])

    def raise_if_failed(self) -> None:
        """Raise AssertionError listing every failed property and case; do nothing if all passed."""
        if self.passed:
            return
        lines = [f"  {r.name} [{r.case}]: {r.detail}" for r in self.failures]
        raise AssertionError(
            f"{self.estimator} failed {len(lines)} of {len(self.results)} checks:\n"
            + "\n".join(lines)
        )


# --------------------------------------------------------------------------------------
# Calling an arbitrary estimator
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    """One call of the estimator: its alpha as a float, or why there is none."""

    alpha: float | None
    error: Exception | None = None
    note: str = ""
    warned: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.error is not None:
            text = f"raised {type(self.error).__name__}: {_short(str(self.error))}"
        elif self.alpha is None:
            text = self.note
        else:
            text = f"returned alpha={self.alpha!r}"
        return text + self.warned_suffix()

    def warned_suffix(self) -> str:
        return f" (warned: {'; '.join(self.warned)})" if self.warned else ""


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _call(fn: Estimator, x: npt.NDArray[np.float64]) -> _Outcome:
    """Call ``fn`` on a writable copy of ``x``, recording warnings instead of raising them.

    Warnings are recorded (and listed in the detail) whatever the caller's warning
    filters, so that the report does not depend on them (pytest may turn warnings into
    errors).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn(np.array(x, dtype=np.float64, copy=True))
        except Exception as exc:
            warned = tuple(f"{w.category.__name__}: {_short(str(w.message), 80)}" for w in caught)
            return _Outcome(None, error=exc, warned=warned)
    warned = tuple(f"{w.category.__name__}: {_short(str(w.message), 80)}" for w in caught)
    value = getattr(out, "alpha", out)
    if isinstance(value, bool) or not isinstance(value, numbers.Real | np.ndarray):
        return _Outcome(
            None,
            note=f"returned {type(out).__name__}, not a float or an object with .alpha",
            warned=warned,
        )
    try:
        alpha = float(value)
    except (TypeError, ValueError):
        return _Outcome(
            None, note=f"returned a {type(value).__name__} that is not one number", warned=warned
        )
    return _Outcome(alpha, warned=warned)


# --------------------------------------------------------------------------------------
# check_estimator
# --------------------------------------------------------------------------------------


def _default_families(target: str) -> dict[str, tuple[float, ...]]:
    if target == "tail index":
        return {"pareto": (1.0, 2.5), "student_t": (3.0,), "stable": (1.2,)}
    return {"stable": (0.8, 1.2, 1.5, 1.8), "gaussian": ()}


def _check_families(
    families: Mapping[str, Sequence[float]] | None, target: str
) -> list[tuple[str, float | None]]:
    """Return the consistency cases as (family, index parameter or None)."""
    if families is None:
        families = _default_families(target)
    if not isinstance(families, Mapping):
        raise InvalidArgumentError(
            "`families` must be a mapping from family name to a sequence of tail indices, "
            f"got {type(families).__name__}"
        )
    cases: list[tuple[str, float | None]] = []
    for family, values in families.items():
        check_choice(family, "families key", FAMILIES)
        if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
            raise InvalidArgumentError(
                f"`families[{family!r}]` must be a sequence of numbers, got {type(values).__name__}"
            )
        param = _INDEX_PARAM[family]
        if param is None:
            if len(values):
                raise InvalidArgumentError(
                    f"`families[{family!r}]` must be empty: the Gaussian has no parameter "
                    'to choose (pass `"gaussian": ()`)'
                )
            cases.append((family, None))
            continue
        if not len(values):
            raise InvalidArgumentError(f"`families[{family!r}]` must not be empty")
        for i, v in enumerate(values):
            label = f"families[{family!r}][{i}]"
            if family == "stable":
                value = check_real(v, label, low=0.0, high=2.0, low_open=True)
            else:
                value = check_real(v, label, low=0.0, low_open=True, high_open=True)
            if target == "tail index" and family == "stable" and value == 2.0:
                raise InvalidArgumentError(
                    f"`{label}` is 2: the stable law at alpha = 2 is Gaussian and has no "
                    "finite tail index; check it with target='stable index'"
                )
            cases.append((family, value))
    if target == "tail index" and any(f == "gaussian" for f, _ in cases):
        raise InvalidArgumentError(
            "the 'gaussian' family has no finite tail index; check it with target='stable index'"
        )
    if not cases:
        raise InvalidArgumentError("`families` must name at least one family")
    return cases


def _case_sample(family: str, value: float | None, n: int, seed: int) -> KnownTailSample:
    if family == "student_t":
        return known_tail_sample(family, n, df=value, rng=seed)
    if family == "gaussian":
        return known_tail_sample(family, n, rng=seed)
    return known_tail_sample(family, n, alpha=value, rng=seed)


def _case_label(family: str, value: float | None) -> str:
    param = _INDEX_PARAM[family]
    return family if param is None else f"{family} {param}={value:g}"


def _relative_change(new: float, ref: float) -> float:
    diff = abs(new - ref)
    return diff if ref == 0.0 else diff / abs(ref)


def check_estimator(
    fn: Estimator,
    *,
    families: Mapping[str, Sequence[float]] | None = None,
    target: str = "tail index",
    n: int = 20_000,
    rtol: float = 0.1,
    invariance_rtol: float = 1e-9,
    scale_factors: Sequence[float] = (1e-3, 7.3, 1e4),
    seed: int = 0,
    skip: Collection[str] = (),
    name: str | None = None,
) -> EstimatorCheckReport:
    r"""Check the standard properties of a tail-index estimator, and report each.

    ``fn`` is any callable taking a 1-D float64 array and returning either a float or an
    object with a float attribute ``alpha`` (such as :class:`~heavytail.theory.TailEstimate`).
    Each call gets a fresh writable copy of its input, and the warnings it issues are
    recorded in the report (never raised, whatever the warning filters).

    Properties (their names are those of :data:`PROPERTIES`):

    ``scale invariance``, ``sign invariance``, ``permutation invariance``
        alpha_hat(c x) = alpha_hat(x) for every c in ``scale_factors``, alpha_hat(-x) =
        alpha_hat(x), and alpha_hat(x[perm]) = alpha_hat(x) for one random permutation,
        each up to a relative change of ``invariance_rtol``. The tail index of c X is
        that of X, and the estimators of heavytail are functions of the order statistics
        of |x| through ratios or log-differences (Hill 1975; Pickands 1975; Dekkers,
        Einmahl & de Haan 1989; McCulloch 1986's quantile ratios, which are symmetric
        under x -> -x), so these hold exactly in exact arithmetic. In float64, c x
        moves each value by at most one rounding (relative 1.1e-16), which moves a log
        by about 1e-16; a well-conditioned estimator changes by far less than the
        default 1e-9, and an estimator that changes by more is either not invariant or
        numerically fragile (e.g. an automatic choice of k that flips between
        near-equal candidates). Block-sum estimators (Mohammadi, Mohammadpour & Ogata
        2015) sum consecutive blocks, so they are *not* permutation invariant: skip
        that property for them. An estimator with an iterative solver should pass
        ``invariance_rtol`` near its solver's tolerance. The sample is the first case of
        ``families``.
    ``repeatable``
        Two calls on the same input return the same alpha exactly (an estimator that
        draws fresh randomness for its point estimate makes the invariance checks
        meaningless).
    ``input unchanged``
        The estimator does not write into its input.
    ``consistency``
        For each case of ``families`` a sample of size ``n`` with its own fixed seed,
        and |alpha_hat - alpha| <= rtol * alpha, where alpha is the case's tail index
        (``target="tail index"``) or stable index min(alpha, 2) (``target="stable
        index"``; see :class:`KnownTailSample`). This is a fixed-seed check at one n,
        not a proof of consistency: ``rtol`` must exceed a few standard errors of the
        estimator at ``n`` plus its bias on the family. For scale: Hill's standard
        error is alpha / sqrt(k), 2.2% at k = 2000 (n = 20000, k = n/10), where the
        default ``rtol = 0.1`` is 4.5 standard errors; at k = 400 it would be only 2,
        and about one case in twenty would fail by chance.
    ``degenerate input``
        On an empty array, a single value, a constant array, all zeros, and a valid
        sample holding one NaN, one +inf or one -inf, the estimator raises
        ``ValueError`` (``InvalidArgumentError`` and ``EstimationError`` are
        subclasses). Returning anything (NaN included) or raising another exception
        fails, and the detail says which.

    Parameters
    ----------
    fn : callable
        The estimator, ``fn(x) -> float | object with .alpha``.
    families : mapping, optional
        The consistency cases: family name to a sequence of tail indices (``alpha`` for
        ``"stable"`` in (0, 2] and ``"pareto"`` > 0, ``df`` for ``"student_t"`` > 0),
        and ``"gaussian": ()`` (only with ``target="stable index"``). Default:
        ``{"pareto": (1.0, 2.5), "student_t": (3.0,), "stable": (1.2,)}`` for the tail
        index, ``{"stable": (0.8, 1.2, 1.5, 1.8), "gaussian": ()}`` for the stable
        index. Families are sampled at scale 1 and, for the stable law, beta = 0.
    target : {"tail index", "stable index"}
        What the estimator estimates (see the ``alpha`` and ``stable_index`` of
        :class:`KnownTailSample`).
    n : int
        Sample size of the consistency and invariance samples, >= 2.
    rtol : float
        Relative tolerance of the consistency check, > 0.
    invariance_rtol : float
        Relative tolerance of the invariance checks, >= 0.
    scale_factors : sequence of float
        The factors c of the scale-invariance check, each finite and > 0.
    seed : int
        Non-negative seed. Case i is drawn with the integer seed
        ``numpy.random.SeedSequence(seed).generate_state(m)[i]`` (m = number of cases
        + 2), which its detail shows: the same seed gives the same report.
    skip : collection of str
        Property names (from :data:`PROPERTIES`) not to run.
    name : str, optional
        A label for the report; default the callable's qualified name.

    Returns
    -------
    EstimatorCheckReport
        ``passed``, one :class:`PropertyResult` per property and case, a table as
        ``str(report)``, and ``raise_if_failed()`` for use in tests.

    Raises
    ------
    InvalidArgumentError
        For bad settings (never for a failing estimator: failures are in the report).

    Examples
    --------
    >>> import numpy as np
    >>> def hill(x):
    ...     a = np.sort(np.abs(np.asarray(x, dtype=float)))
    ...     if a.size < 10 or not np.isfinite(a).all() or a[0] == a[-1]:
    ...         raise ValueError("need at least 10 finite, non-constant values")
    ...     k = a.size // 10
    ...     return 1.0 / np.mean(np.log(a[-k:] / a[-k - 1]))
    >>> report = check_estimator(hill, families={"pareto": [1.0, 2.5]}, seed=1)
    >>> report.passed
    True
    >>> report.raise_if_failed()  # for use in a test: raises AssertionError on failure
    """
    target = check_choice(target, "target", _TARGETS)
    n = check_int(n, "n", low=2)
    rtol = check_real(rtol, "rtol", low=0.0, low_open=True, high_open=True)
    invariance_rtol = check_real(invariance_rtol, "invariance_rtol", low=0.0, high_open=True)
    seed = check_int(seed, "seed", low=0)
    if isinstance(scale_factors, str | bytes) or not isinstance(
        scale_factors, Sequence | np.ndarray
    ):
        raise InvalidArgumentError(
            f"`scale_factors` must be a sequence of numbers, got {type(scale_factors).__name__}"
        )
    factors = [
        check_real(c, f"scale_factors[{i}]", low=0.0, low_open=True, high_open=True)
        for i, c in enumerate(scale_factors)
    ]
    if isinstance(skip, str):
        raise InvalidArgumentError("`skip` must be a collection of property names, got a str")
    skipped = {check_choice(s, "skip entry", PROPERTIES) for s in skip}
    cases = _check_families(families, target)
    if not callable(fn):
        raise InvalidArgumentError(f"`fn` must be callable, got {type(fn).__name__}")
    label = name if name is not None else getattr(fn, "__qualname__", None) or repr(fn)

    seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(len(cases) + 2)]
    results: list[PropertyResult] = []

    base_sample = _case_sample(*cases[0], n, seeds[-2])
    base_x = np.array(base_sample.x)
    base_where = f"{_case_label(*cases[0])}, n={n}, seed={seeds[-2]}"
    base = _call(fn, base_x)
    runs_invariance = {
        "scale invariance",
        "sign invariance",
        "permutation invariance",
        "repeatable",
    } - skipped

    def invariance(prop: str, case: str, x: npt.NDArray[np.float64]) -> None:
        if base.alpha is None or not math.isfinite(base.alpha):
            results.append(
                PropertyResult(
                    prop, case, False, f"on the base sample ({base_where}) {base.describe()}"
                )
            )
            return
        out = _call(fn, x)
        if out.alpha is None or not math.isfinite(out.alpha):
            results.append(PropertyResult(prop, case, False, out.describe()))
            return
        change = _relative_change(out.alpha, base.alpha)
        ok = change <= invariance_rtol
        results.append(
            PropertyResult(
                prop,
                case,
                ok,
                f"alpha {base.alpha:.6g} -> {out.alpha:.6g}, relative change {change:.2g} "
                f"{'<=' if ok else '>'} {invariance_rtol:g} ({base_where}){out.warned_suffix()}",
            )
        )

    if "scale invariance" in runs_invariance:
        for c in factors:
            invariance("scale invariance", f"x {c:g}", base_x * c)
    if "sign invariance" in runs_invariance:
        invariance("sign invariance", "-x", -base_x)
    if "permutation invariance" in runs_invariance:
        perm = np.random.default_rng(seeds[-1]).permutation(n)
        invariance("permutation invariance", f"seed={seeds[-1]}", base_x[perm])
    if "repeatable" in runs_invariance:
        if base.alpha is None:
            results.append(
                PropertyResult("repeatable", "same x", False, f"first call {base.describe()}")
            )
        else:
            again = _call(fn, base_x)
            same = again.alpha is not None and (
                again.alpha == base.alpha or (math.isnan(again.alpha) and math.isnan(base.alpha))
            )
            results.append(
                PropertyResult(
                    "repeatable",
                    "same x",
                    same,
                    f"first call {base.describe()}, second call {again.describe()}",
                )
            )

    if "input unchanged" not in skipped:
        x = np.array(base_x)
        raised = ""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn(x)
        except Exception as exc:  # the estimator's own failure is reported elsewhere
            raised = f" (the call raised {type(exc).__name__})"
        unchanged = bool(np.array_equal(x, base_x, equal_nan=True))
        results.append(
            PropertyResult(
                "input unchanged",
                "same x",
                unchanged,
                ("input left as it was" if unchanged else "the estimator wrote into its input")
                + raised,
            )
        )

    if "consistency" not in skipped:
        for (family, value), case_seed in zip(cases, seeds, strict=False):
            sample = _case_sample(family, value, n, case_seed)
            true = sample.alpha if target == "tail index" else sample.stable_index
            case = _case_label(family, value)
            out = _call(fn, np.array(sample.x))
            where = f"n={n}, seed={case_seed}"
            if out.alpha is None or not math.isfinite(out.alpha):
                results.append(
                    PropertyResult("consistency", case, False, f"{out.describe()} ({where})")
                )
                continue
            err = abs(out.alpha - true) / true
            ok = err <= rtol
            results.append(
                PropertyResult(
                    "consistency",
                    case,
                    ok,
                    f"alpha_hat {out.alpha:.4g}, true {target} {true:g}, relative error "
                    f"{err:.3g} {'<=' if ok else '>'} rtol {rtol:g} ({where}){out.warned_suffix()}",
                )
            )

    if "degenerate input" not in skipped:
        short = np.array(base_x[: min(n, 1000)])
        bad: list[tuple[str, npt.NDArray[np.float64]]] = [
            ("empty", np.empty(0)),
            ("single value", np.array([1.7])),
            ("constant", np.full(short.size, 2.5)),
            ("all zeros", np.zeros(short.size)),
        ]
        for tag, value_ in (("NaN", math.nan), ("+inf", math.inf), ("-inf", -math.inf)):
            y = short.copy()
            y[y.size // 2] = value_
            bad.append((tag, y))
        for tag, y in bad:
            out = _call(fn, y)
            ok = isinstance(out.error, ValueError)
            detail = out.describe()
            if not ok and out.error is not None:
                detail += " (expected a ValueError)"
            results.append(PropertyResult("degenerate input", tag, ok, detail))

    settings = {
        "target": target,
        "n": n,
        "rtol": rtol,
        "invariance_rtol": invariance_rtol,
        "scale_factors": tuple(factors),
        "seed": seed,
        "families": tuple(_case_label(f, v) for f, v in cases),
        "skip": tuple(sorted(skipped)),
    }
    return EstimatorCheckReport(
        estimator=label,
        passed=all(r.passed for r in results),
        results=tuple(results),
        settings=settings,
    )
