"""Experiments that a sweep runs: a registry of named functions with typed settings.

An experiment is a function ``config -> (metrics, arrays)``: ``config`` holds every
setting of its schema (defaults filled in), ``metrics`` maps names to finite floats, ints
or strings (one row of the results table), and ``arrays`` maps names to numpy arrays
(saved in a .npz file beside the store). Its randomness comes from the config only (the
``seed`` setting), never from the worker, so every executor gives the same numbers.

The built-in experiments live in ``_experiments_sim`` (``sgd.linear``,
``meanfield.sgd``), ``_experiments_toy`` (``toy``, for the tests and the docs) and
``_experiments_nn`` (``nn.train``); they are registered on the first look-up, so
importing this module stays light.
"""

from __future__ import annotations

import math
import os
import socket
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._validation import format_interval

__all__ = [
    "Experiment",
    "ExperimentOutput",
    "RunOutcome",
    "Setting",
    "execute_run",
    "experiment_names",
    "get_experiment",
    "register_experiment",
]

#: A metric's value: one cell of the results table.
MetricValue: TypeAlias = float | int | str
#: What an experiment's function returns: (metrics, arrays).
ExperimentOutput: TypeAlias = tuple[Mapping[str, MetricValue], Mapping[str, npt.NDArray[Any]]]

_TYPES: Mapping[str, type] = MappingProxyType(
    {"int": int, "float": float, "str": str, "bool": bool}
)


@dataclass(frozen=True)
class Setting:
    """One setting of an experiment: its name, type, default and allowed values.

    Parameters
    ----------
    name : str
        The key in the sweep's ``fixed`` or ``grid`` table.
    kind : {"int", "float", "str", "bool"}
        The TOML type accepted. A "float" setting also accepts an integer (stored as a
        float, so ``eta = 1`` and ``eta = 1.0`` are the same run); an "int" refuses
        floats and booleans.
    default : int, float, str or bool
        The value used when the sweep does not set it.
    doc : str
        What the setting means, with its domain.
    choices : tuple of str, optional
        The allowed values of a "str" setting (any string when empty).
    low, high : float, optional
        The bounds of a number's domain; None for no bound. They are the bounds of the
        library function the setting feeds (the tests check each against it), so that
        a value that function would refuse is refused before any run starts.
    low_open, high_open : bool
        Whether ``low`` (``high``) itself is excluded.
    off : int or float, optional
        One value outside the interval that means "none" (``noise_alpha = 0``: no
        injected noise); it is allowed and named in the message.
    """

    name: str
    kind: str
    default: MetricValue | bool
    doc: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    off: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in _TYPES:
            raise InvalidArgumentError(
                f"Setting `kind` must be one of {', '.join(_TYPES)}, got {self.kind!r}"
            )
        self.check(self.default, f"the default of {self.name!r}")

    def check(self, value: Any, where: str) -> MetricValue | bool:
        """Return ``value`` normalised to this setting's type, or raise naming ``where``."""
        kind = self.kind
        ok = (
            (kind == "bool" and isinstance(value, bool))
            or (kind == "str" and isinstance(value, str))
            or (kind == "int" and isinstance(value, int) and not isinstance(value, bool))
            or (kind == "float" and isinstance(value, int | float) and not isinstance(value, bool))
        )
        if not ok:
            raise InvalidArgumentError(
                f"{where} must be of type {kind}, got {type(value).__name__} {value!r}"
            )
        if kind == "float":
            value = float(value)
            if not math.isfinite(value):
                raise InvalidArgumentError(f"{where} must be finite, got {value!r}")
        if self.choices and value not in self.choices:
            raise InvalidArgumentError(
                f"{where} must be one of {', '.join(map(repr, self.choices))}, got {value!r}"
            )
        if kind in ("int", "float") and not self.contains(value):
            raise InvalidArgumentError(f"{where} must be {self.domain()}, got {value!r}")
        return value

    def contains(self, value: float) -> bool:
        """Whether the number ``value`` is in this setting's domain."""
        if self.off is not None and value == self.off:
            return True
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        bad_low = value <= low if self.low_open else value < low
        bad_high = value >= high if self.high_open else value > high
        return not (bad_low or bad_high)

    def domain(self) -> str:
        """The domain in words: "in (0, inf)", "0 (none) or in (0, 2]" or "any number"."""
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        if math.isinf(low) and math.isinf(high):
            return "any number"
        open_low = self.low_open or self.low is None
        open_high = self.high_open or self.high is None
        text = "in " + format_interval(low, high, open_low, open_high)
        if self.off is not None:
            text = f"{self.off:g} (none) or {text}"
        return text


@dataclass(frozen=True)
class Experiment:
    """A named experiment: its function, its settings and what it measures.

    Parameters
    ----------
    name : str
        The name a sweep's ``experiment`` key refers to, e.g. ``"sgd.linear"``.
    function : callable
        ``function(config) -> (metrics, arrays)`` (see the module notes). It must be a
        module-level function (it is sent to worker processes by reference) and draw its
        randomness from ``config["seed"]`` only.
    settings : tuple of Setting
        The schema: every key a sweep may set, with its type and default.
    description : str
        One paragraph: what is simulated and what each metric is.
    check : callable, optional
        ``check(config)`` for rules that join settings (the number of magnitudes that
        ``hill_fraction`` takes its share of, ...): it raises ``InvalidArgumentError``
        naming the settings when the run's function would refuse or change the config.
        It is called on every grid point before any run starts, so it must be cheap.
    """

    name: str
    function: Callable[[Mapping[str, Any]], ExperimentOutput]
    settings: tuple[Setting, ...]
    description: str
    check: Callable[[Mapping[str, Any]], None] | None = None

    def __post_init__(self) -> None:
        names = [s.name for s in self.settings]
        if len(set(names)) != len(names):
            raise InvalidArgumentError(f"experiment {self.name!r} repeats a setting name")

    @property
    def schema(self) -> Mapping[str, Setting]:
        """The settings by name, in declaration order."""
        return MappingProxyType({s.name: s for s in self.settings})

    def defaults(self) -> dict[str, Any]:
        """Every setting at its default."""
        return {s.name: s.default for s in self.settings}


_REGISTRY: dict[str, Experiment] = {}
_BUILTIN_MODULES = (
    "heavytail.reports._sweeps.experiments.sim",
    "heavytail.reports._sweeps.experiments.toy",
    "heavytail.reports._sweeps.experiments.nn",
)
_loaded = False


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    import importlib

    for module in _BUILTIN_MODULES:
        try:
            experiments: Sequence[Experiment] = importlib.import_module(module).EXPERIMENTS
        except ModuleNotFoundError as exc:  # an optional module that is not there
            if exc.name != module:
                raise
            continue
        for experiment in experiments:
            _REGISTRY.setdefault(experiment.name, experiment)
    _loaded = True


def register_experiment(experiment: Experiment) -> None:
    """Add ``experiment`` to the registry (its name must be new).

    The function must be importable by the workers (defined at module level in an
    installed module); registering in the driver is enough for the local pool, whose
    workers receive the experiment itself, and for Dask, which pickles it.
    """
    if not isinstance(experiment, Experiment):
        raise TypeError(f"`experiment` must be an Experiment, got {type(experiment).__name__}")
    _load_builtins()
    if experiment.name in _REGISTRY:
        raise InvalidArgumentError(f"an experiment named {experiment.name!r} is registered")
    _REGISTRY[experiment.name] = experiment


def experiment_names() -> tuple[str, ...]:
    """The names of the registered experiments, sorted."""
    _load_builtins()
    return tuple(sorted(_REGISTRY))


def get_experiment(name: str) -> Experiment:
    """The experiment registered as ``name``; the error lists the known names.

    Examples
    --------
    >>> from heavytail.reports import get_experiment
    >>> get_experiment("toy").defaults()["seed"]
    0
    """
    _load_builtins()
    if not isinstance(name, str) or name not in _REGISTRY:
        raise InvalidArgumentError(
            f"`experiment` must be one of {', '.join(map(repr, sorted(_REGISTRY)))}, got {name!r}"
        )
    return _REGISTRY[name]


@dataclass(frozen=True, eq=False)  # arrays: == would be elementwise
class RunOutcome:
    """What a worker sends back for one run.

    Attributes
    ----------
    config_hash : str
        The run's key (see :func:`heavytail.reports.config_hash`).
    status : {"done", "failed"}
    metrics : Mapping
        Metric name -> finite float, int or str (empty when failed).
    arrays : Mapping
        Array name -> numpy array (empty when failed).
    error : str or None
        The traceback of a failed run.
    started, seconds : float
        Start (Unix time) and wall-clock duration of the run in its worker.
    worker : str
        ``host:pid`` of the process that ran it (for the record; never used in numbers).
    """

    config_hash: str
    status: str
    metrics: Mapping[str, MetricValue] = field(default_factory=dict)
    arrays: Mapping[str, npt.NDArray[Any]] = field(default_factory=dict)
    error: str | None = None
    started: float = 0.0
    seconds: float = 0.0
    worker: str = ""


def _checked_output(output: Any, config: Mapping[str, Any]) -> ExperimentOutput:
    """The experiment's output, or an error naming what is wrong with it."""
    if not (isinstance(output, tuple) and len(output) == 2):
        raise TypeError("an experiment must return a tuple (metrics, arrays)")
    metrics_in, arrays_in = output
    metrics: dict[str, MetricValue] = {}
    for key, value in dict(metrics_in).items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"metric names must be non-empty strings, got {key!r}")
        if key in config:
            raise ValueError(f"metric {key!r} has the name of a setting")
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError(f"metric {key!r} must be a float, int or str, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"metric {key!r} is not finite ({value}); omit it or count it")
        metrics[key] = value
    arrays: dict[str, npt.NDArray[Any]] = {}
    for key, value in dict(arrays_in).items():
        arr = np.asarray(value)
        if not isinstance(key, str) or not key.isidentifier():
            raise TypeError(f"array names must be identifiers, got {key!r}")
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"array {key!r} must be numeric or boolean, got dtype {arr.dtype}")
        arrays[key] = arr
    return metrics, arrays


def execute_run(experiment: Experiment, config: Mapping[str, Any], key: str) -> RunOutcome:
    """Run ``experiment`` on ``config`` in this process and never raise.

    This is what a worker executes. An exception inside the experiment (or a malformed
    output) becomes a ``"failed"`` outcome with its traceback, so one bad run never
    stops a sweep.
    """
    started = time.time()
    clock = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        metrics, arrays = _checked_output(experiment.function(dict(config)), config)
    except Exception:
        return RunOutcome(
            key,
            "failed",
            error=traceback.format_exc(),
            started=started,
            seconds=time.perf_counter() - clock,
            worker=worker,
        )
    return RunOutcome(
        key,
        "done",
        metrics=metrics,
        arrays=arrays,
        started=started,
        seconds=time.perf_counter() - clock,
        worker=worker,
    )
