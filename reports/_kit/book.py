"""The helper layer for writing a claim: checks with their controls, typed figure data, prose.

A claim is one module ``heavytail.reports._claims.<name>`` that defines a module-level
``CLAIM`` (a :class:`~heavytail.reports._kit.claim.Claim`) and is listed in
``reports/_claims/registry.py``. It has four parts, each short:

1. A frozen dataclass of parameters, one instance per size (``"smoke"``, ``"quick"``,
   ``"full"``), and the module constants that define the grid. The claim's statement is
   built from these constants (with :func:`number_set`, :func:`and_list`, ...), so that
   the text and the grid cannot drift apart.
2. ``measure(params, rng) -> Evidence[Data]``, composed of three functions with one job
   each:

   - running the grid, ``params, rng -> Grid``: a frozen dataclass of the raw
     measurements, with named fields. It alone draws from ``rng`` (where the judge
     resamples, the grid hands it the generator to resample with); no interval, no book.
   - judging, ``grid, book -> ...``: it first declares its checks,
     :meth:`CheckBook.declare` with their labels, which sets the simultaneous
     (Bonferroni) level :attr:`CheckBook.level` from their number; then it computes the
     intervals at that level and records each check with its controls
     (:meth:`CheckBook.check`). It returns what the figure shows of the judging, if
     anything (the intervals).
   - the figure's data, ``grid, judged -> Data`` (``judged``: what the judge returned).

   :func:`staged_measure` composes them: it runs the grid, judges it in a new
   :class:`CheckBook` on the parameters the grid ran with (``grid.params``), and returns
   the evidence, whose :meth:`CheckBook.evidence` records the settings (the parameters,
   the claim's extra settings, the interval level) and checks that the checks made on
   sampled data are those declared, so that the level is right for them.
3. A frozen dataclass of figure data, subclass of :class:`FigureData` (its arrays are
   made read-only), with named fields instead of columns read back by index;
   :class:`Intervals` holds estimates with their intervals.
4. ``draw(evidence, axes) -> Caption``: draws into the panels of ``CLAIM.layout`` and
   returns the title and footnote. :meth:`Claim.figure` makes the figure, applies the
   report style and writes the caption; ``draw`` never creates a figure.

Examples
--------
A whole claim: the mean of N(0, 1) draws is 0, with the control "the mean is 1".

>>> from collections.abc import Sequence
>>> from dataclasses import dataclass
>>> import numpy as np
>>> from heavytail.reports import Caption, CheckBook, Claim, Control, Evidence, FigureData
>>> from heavytail.reports import staged_measure
>>> from heavytail.reports import Relation, Rule, mean_interval
>>> @dataclass(frozen=True)
... class MeanSize:
...     n: int
>>> @dataclass(frozen=True)
... class MeanGrid:
...     x: np.ndarray
...     params: MeanSize
>>> @dataclass(frozen=True, eq=False)
... class MeanData(FigureData):
...     x: np.ndarray
>>> RULE = Rule(Relation.EQUAL, 0.0, "", max_width=0.5,
...             width_reason="half the distance to the control's prediction")
>>> def run_grid(params: MeanSize, rng: np.random.Generator) -> MeanGrid:
...     return MeanGrid(rng.normal(0.0, 1.0, params.n), params)
>>> def judge(grid: MeanGrid, book: CheckBook) -> None:
...     level = book.declare(["mean"])
...     m = mean_interval(grid.x, level=level)
...     book.check("mean", 0.0, m, RULE, Control("control: mean 1", 1.0))
>>> def figure_data(grid: MeanGrid, judged: None) -> MeanData:
...     return MeanData(grid.x)
>>> measure = staged_measure(run_grid, judge, figure_data, {"law": "N(0, 1)"})
>>> def draw(ev: Evidence[MeanData], axes: Sequence) -> Caption:
...     (panel,) = axes
...     panel.hist(ev.data.x, bins=20)
...     return Caption("toy.mean: the mean is 0", f"{ev.data.x.size} draws.")
>>> SIZES = {"smoke": MeanSize(100), "quick": MeanSize(1_000), "full": MeanSize(10_000)}
>>> CLAIM = Claim(
...     id="toy.mean", title="toy mean", formula="E X = 0", source="a doctest",
...     statement=f"The mean of {SIZES['quick'].n:,} N(0, 1) draws contains 0.",
...     sizes=SIZES, measure=measure, draw=draw)
>>> ev = CLAIM.run("quick", rng=0)
>>> ev.verdict.value, ev.controls[0].verdict.value
('agree', 'disagree')
>>> dict(ev.settings)
{'n': 1000, 'law': 'N(0, 1)', 'interval_level': 0.95}
>>> CLAIM.figure(ev, note="seed 0").get_suptitle()
'toy.mean: the mean is 0'

A check on sampled data that was not declared is refused when it is recorded:

>>> book = CheckBook(MeanSize(10))
>>> round(book.declare(["a", "b"]), 4)
0.975
>>> book.check("c", 0.0, mean_interval([0.1, -0.2, 0.3], level=book.level), RULE)
Traceback (most recent call last):
    ...
RuntimeError: check 'c' on sampled data was not declared; declared: ['a', 'b']
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from heavytail._lib._types import FloatArray
from heavytail.theory import InvalidArgumentError

from .claim import Evidence
from .stats import family_level
from .verdict import Check, ControlCheck, ControlKind, Measurement, Rule

__all__ = [
    "CheckBook",
    "Control",
    "FigureData",
    "Intervals",
    "and_list",
    "number_set",
    "number_word",
    "power_of_ten",
    "staged_measure",
]

D = TypeVar("D")
J = TypeVar("J")
P = TypeVar("P")


@dataclass(frozen=True, eq=False)
class FigureData:
    """Base of a claim's figure data: a frozen dataclass whose arrays are read-only.

    Subclass it with ``@dataclass(frozen=True, eq=False)`` and named fields. Every
    ndarray field is replaced by a read-only view. Equality is identity (arrays have no
    single truth value).
    """

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                view = value.view()
                view.flags.writeable = False
                object.__setattr__(self, f.name, view)


@dataclass(frozen=True, eq=False)
class Intervals(FigureData):
    """Estimates with their intervals, as three arrays of one shape.

    Attributes
    ----------
    estimate, low, high : ndarray
        ``low <= estimate <= high`` entrywise.
    """

    estimate: FloatArray
    low: FloatArray
    high: FloatArray

    def __post_init__(self) -> None:
        arrays = [np.asarray(getattr(self, n), dtype=np.float64) for n in _INTERVAL_FIELDS]
        if not arrays[0].shape == arrays[1].shape == arrays[2].shape:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise InvalidArgumentError(
                f"`estimate`, `low` and `high` must share a shape, got {shapes}"
            )
        for name, array in zip(_INTERVAL_FIELDS, arrays, strict=True):
            object.__setattr__(self, name, array)
        super().__post_init__()

    @classmethod
    def of(cls, measurements: Iterable[Measurement]) -> Intervals:
        """The 1-D intervals of ``measurements``, in order."""
        ms = list(measurements)
        return cls(
            np.array([m.estimate for m in ms], dtype=np.float64),
            np.array([m.low for m in ms], dtype=np.float64),
            np.array([m.high for m in ms], dtype=np.float64),
        )

    def __getitem__(self, index: Any) -> Intervals:
        return Intervals(self.estimate[index], self.low[index], self.high[index])

    def __len__(self) -> int:
        return len(self.estimate)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.estimate.shape)

    def reshape(self, *shape: int) -> Intervals:
        """The same intervals in another shape."""
        return Intervals(*(a.reshape(shape) for a in (self.estimate, self.low, self.high)))

    @property
    def yerr(self) -> FloatArray:
        """``[estimate - low, high - estimate]``: the ``yerr`` of ``Axes.errorbar``."""
        return np.stack([self.estimate - self.low, self.high - self.estimate])

    def shifted(self, by: npt.ArrayLike) -> Intervals:
        """The intervals minus ``by`` (e.g. each minus its prediction)."""
        b = np.asarray(by, dtype=np.float64)
        return Intervals(self.estimate - b, self.low - b, self.high - b)

    def divided(self, by: npt.ArrayLike) -> Intervals:
        """The intervals divided by ``by`` (positive; e.g. each by its target)."""
        b = np.asarray(by, dtype=np.float64)
        if np.any(b <= 0):
            raise InvalidArgumentError("`by` must be positive to divide intervals")
        return Intervals(self.estimate / b, self.low / b, self.high / b)


_INTERVAL_FIELDS = ("estimate", "low", "high")


@dataclass(frozen=True)
class Control:
    """A control of a check, judged by the check's rule.

    On the check's measurement unless ``measurement`` is given (a control on other data:
    a null or positive control, or the reversed ordering). ``kind`` says what it shows
    and what it must come out as (:class:`ControlKind`): an ``ALTERNATIVE`` (default) is
    a nearby wrong prediction that must be rejected; a ``NULL`` control runs data without
    the effect and must not agree; a ``POSITIVE`` one runs a known effect and must be
    detected; a ``MIRROR`` (the opposite rule on the same interval) is shown only.
    """

    label: str
    prediction: float
    measurement: Measurement | None = None
    kind: ControlKind = ControlKind.ALTERNATIVE

    def __post_init__(self) -> None:
        if not isinstance(self.kind, ControlKind):
            raise InvalidArgumentError(
                f"`kind` must be a ControlKind, got {type(self.kind).__name__}"
            )
        if self.kind in (ControlKind.NULL, ControlKind.POSITIVE) and self.measurement is None:
            raise InvalidArgumentError(
                f"a {self.kind.value} control runs other data: give its `measurement`"
            )


class CheckBook:
    """A claim's checks, each recorded with its negative controls, and its settings.

    The level of the intervals is set for the checks the claim makes on sampled data:
    the judge declares them by label (:meth:`declare`) before it computes any interval,
    so that the count, and the level, follow from what it checks.

    Parameters
    ----------
    params : dataclass instance
        The parameters of the run; :meth:`evidence` records their fields as settings.
    family : float
        Coverage of the claim's intervals together, in (0, 1): the declared checks'
        intervals are simultaneous at ``family``, each at :attr:`level` (Bonferroni).
        Exact checks (measurement level 1) are not declared and do not count.
    """

    def __init__(self, params: object, *, family: float = 0.95) -> None:
        if not dataclasses.is_dataclass(params) or isinstance(params, type):
            raise InvalidArgumentError(
                f"`params` must be a dataclass instance, got {type(params).__name__}"
            )
        family_level(1, family)  # checks ``family``
        self._params: Any = params
        self._family = family
        self._level: float | None = None
        self._declared: tuple[str, ...] | None = None
        self._checks: list[Check] = []
        self._controls: list[ControlCheck] = []

    @property
    def level(self) -> float:
        """The level of each interval, ``1 - (1 - family) / n``, n the number of checks.

        Raises
        ------
        RuntimeError
            If the checks were not declared yet.
        """
        if self._level is None:
            raise RuntimeError("the checks must be declared before the level is read")
        return self._level

    def declare(self, labels: Iterable[str]) -> float:
        """Declare the labels of the checks to be made on sampled data; their level.

        Each check recorded later on sampled data must carry one of these labels, and
        :meth:`evidence` requires every one of them to be recorded once, so that the
        number of checks, and the level, follow from what the judge checks.

        Raises
        ------
        InvalidArgumentError
            If ``labels`` is empty or repeats a label.
        RuntimeError
            If the checks were already declared.
        """
        names = tuple(labels)
        if self._level is not None:
            raise RuntimeError("the checks were already declared")
        if not names:
            raise InvalidArgumentError("`labels` must name at least one check")
        if len(set(names)) != len(names):
            repeated = sorted({n for n in names if names.count(n) > 1})
            raise InvalidArgumentError(f"check labels must be unique, got repeated {repeated}")
        self._level = family_level(len(names), self._family)
        self._declared = names
        return self._level

    def check(
        self,
        label: str,
        prediction: float,
        measurement: Measurement,
        rule: Rule,
        *controls: Control,
        trend: bool = False,
        sanity: bool = False,
    ) -> Check:
        """Record a check and, after it, its controls judged by the same rule.

        ``trend`` marks a trend or correlation check (its *disagree* needs a detected
        positive control); ``sanity`` a check that cannot realistically fail (shown, but
        no evidence for *agree*). See :class:`~heavytail.reports._kit.verdict.Check`.
        """
        check = Check(label, prediction, measurement, rule, trend=trend, sanity=sanity)
        declared = self._declared
        if declared is None:
            raise RuntimeError("the checks must be declared before one is recorded")
        if measurement.level < 1.0 and label not in declared:
            raise RuntimeError(
                f"check {label!r} on sampled data was not declared; declared: {list(declared)}"
            )
        self._checks.append(check)
        for c in controls:
            m = measurement if c.measurement is None else c.measurement
            self._controls.append(ControlCheck(c.label, c.prediction, m, rule, kind=c.kind))
        return check

    def control(
        self,
        label: str,
        prediction: float,
        measurement: Measurement,
        rule: Rule,
        kind: ControlKind = ControlKind.ALTERNATIVE,
    ) -> ControlCheck:
        """Record a control that belongs to no single check (e.g. another estimator's run).

        Its rule must be one of the claim's rules, so that it proves their power.
        """
        control = ControlCheck(label, prediction, measurement, rule, kind=kind)
        self._controls.append(control)
        return control

    @property
    def checks(self) -> tuple[Check, ...]:
        """The checks recorded so far."""
        return tuple(self._checks)

    def evidence(self, data: D, /, **settings: Any) -> Evidence[D]:
        """The evidence: the checks, controls, ``data`` and the settings.

        The settings are the fields of ``params``, then ``settings``, then
        ``interval_level``.

        Raises
        ------
        RuntimeError
            If the checks on sampled data are not those declared (each once), or one of
            them has an interval at another level than :attr:`level`: the Bonferroni
            level would be wrong.
        """
        level = self.level
        declared = self._declared or ()
        sampled = [c for c in self._checks if c.measurement.level < 1.0]
        made = [c.label for c in sampled]
        if sorted(made) != sorted(declared):
            missing = [n for n in declared if n not in made]
            repeated = sorted({n for n in made if made.count(n) > 1})
            raise RuntimeError(
                f"the checks made on sampled data are not those declared: missing "
                f"{missing}, made more than once {repeated}"
            )
        odd = [c.label for c in sampled if c.measurement.level != level]
        if odd:
            raise RuntimeError(f"checks with an interval not at level {level:.6g}: {odd}")
        recorded = {**dataclasses.asdict(self._params), **settings, "interval_level": level}
        return Evidence(tuple(self._checks), tuple(self._controls), data, recorded)


P_co = TypeVar("P_co", covariant=True)


class Grid(Protocol[P_co]):
    """A claim's grid of raw measurements: it records the parameters it ran with."""

    @property
    def params(self) -> P_co: ...


G = TypeVar("G", bound=Grid[Any])


def staged_measure(
    run_grid: Callable[[P, np.random.Generator], G],
    judge: Callable[[G, CheckBook], J],
    figure_data: Callable[[G, J], D],
    settings: Mapping[str, Any] | Callable[[G, J], Mapping[str, Any]] = MappingProxyType({}),
) -> Callable[[P, np.random.Generator], Evidence[D]]:
    """A claim's ``measure(params, rng)``, composed of its three stages.

    It runs ``run_grid(params, rng)``, judges the grid in a new :class:`CheckBook` on
    ``grid.params`` (the parameters as run, which the grid may have resolved), and returns
    the book's evidence with ``figure_data(grid, judged)``, ``judged`` being what the judge
    returned. ``settings``: the extra settings recorded, or a function of the grid and
    ``judged`` that gives them.
    """

    def measure(params: P, rng: np.random.Generator) -> Evidence[D]:
        grid = run_grid(params, rng)
        book = CheckBook(grid.params)
        judged = judge(grid, book)
        extra = settings(grid, judged) if callable(settings) else settings
        return book.evidence(figure_data(grid, judged), **extra)

    return measure


def number_set(values: Iterable[float]) -> str:
    """``{0.8, 1, 1.3}``: numbers as a set, each in its shortest form (``:g``)."""
    return "{" + ", ".join(f"{v:g}" for v in values) + "}"


def and_list(words: Sequence[str], conjunction: str = "and") -> str:
    """``a, b and c``."""
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def number_word(n: int) -> str:
    """``three``: a count up to ten in words, larger counts in digits."""
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


def power_of_ten(n: float) -> str:
    """``1e6`` for a power of ten, otherwise ``1,500,000``."""
    if n > 0:
        e = round(math.log10(n))
        if 10**e == n:
            return f"1e{e}"
    return f"{n:,}"
