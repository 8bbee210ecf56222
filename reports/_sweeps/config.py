"""Sweep configurations: a TOML file naming an experiment, its fixed settings and a grid.

::

    experiment = "sgd.linear"          # a registered experiment
    description = "tail index vs eta"  # optional, free text

    [fixed]                            # settings shared by every run
    n_chains = 2000

    [grid]                             # lists; the runs are their cartesian product
    eta = [0.25, 0.5, 1.0]
    batch_size = [1, 2]
    seed = [0, 1]

The whole file is checked before the first run: an unknown key, a value of the wrong
type or outside its domain (the domain of the library function the setting feeds), a
key set both in ``fixed`` and ``grid``, an empty grid list, or a grid point whose
settings together break a rule of the experiment (``Experiment.check``) is a
:class:`SweepConfigError` naming the key.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from heavytail._lib._errors import InvalidArgumentError

from .experiment import Experiment, get_experiment

__all__ = ["SweepConfig", "SweepConfigError", "load_sweep_config", "sweep_config"]

_TOP_KEYS = ("experiment", "description", "fixed", "grid")


class SweepConfigError(InvalidArgumentError):
    """A sweep configuration that cannot run: the message names the key and the rule."""


@dataclass(frozen=True)
class SweepConfig:
    """A checked sweep: the experiment, its fixed settings and its grid.

    Attributes
    ----------
    experiment : Experiment
    fixed : Mapping
        Settings shared by all runs (normalised to their types).
    grid : Mapping
        Setting -> tuple of values (normalised); the runs are their cartesian product,
        the first key varying slowest.
    description : str
    """

    experiment: Experiment
    fixed: Mapping[str, Any]
    grid: Mapping[str, tuple[Any, ...]]
    description: str = ""

    @property
    def n_runs(self) -> int:
        """Number of grid points (duplicates included)."""
        n = 1
        for values in self.grid.values():
            n *= len(values)
        return n

    def runs(self) -> Iterator[dict[str, Any]]:
        """The full config of each run: defaults, then ``fixed``, then one grid point."""
        base = self.experiment.defaults()
        base.update(self.fixed)
        keys = list(self.grid)
        for values in itertools.product(*(self.grid[k] for k in keys)):
            config = dict(base)
            config.update(zip(keys, values, strict=True))
            yield config


def _table(value: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise SweepConfigError(f"`{key}` must be a table ([{key}]), got {type(value).__name__}")
    return value


def sweep_config(data: Mapping[str, Any]) -> SweepConfig:
    """Check a parsed configuration (a dict as read from TOML) and return it.

    Examples
    --------
    >>> from heavytail.reports import sweep_config
    >>> cfg = sweep_config({"experiment": "toy", "grid": {"x": [1, 2], "seed": [0, 1, 2]}})
    >>> cfg.n_runs, next(cfg.runs())["x"]
    (6, 1.0)
    >>> sweep_config({"experiment": "toy", "grid": {"y": [1]}})
    Traceback (most recent call last):
    ...
    heavytail.reports._sweeps.config.SweepConfigError: grid.y: unknown setting of ... x, seed, ...
    """
    if not isinstance(data, Mapping):
        raise SweepConfigError(f"a sweep configuration must be a table, got {type(data).__name__}")
    unknown = [k for k in data if k not in _TOP_KEYS]
    if unknown:
        raise SweepConfigError(
            f"{unknown[0]}: unknown key; a sweep has the keys {', '.join(_TOP_KEYS)}"
        )
    if "experiment" not in data:
        raise SweepConfigError("experiment: missing (the name of a registered experiment)")
    name = data["experiment"]
    try:
        experiment = get_experiment(name)
    except InvalidArgumentError as exc:
        raise SweepConfigError(f"experiment: {exc}") from None
    description = data.get("description", "")
    if not isinstance(description, str):
        raise SweepConfigError(f"description: must be a string, got {type(description).__name__}")
    schema = experiment.schema
    known = ", ".join(schema)

    def setting(section: str, key: str) -> Any:
        if key not in schema:
            raise SweepConfigError(
                f"{section}.{key}: unknown setting of experiment {name!r}; its settings are: "
                f"{known}"
            )
        return schema[key]

    fixed: dict[str, Any] = {}
    for key, value in _table(data.get("fixed", {}), "fixed").items():
        try:
            fixed[key] = setting("fixed", key).check(value, f"fixed.{key}")
        except SweepConfigError:
            raise
        except InvalidArgumentError as exc:
            raise SweepConfigError(str(exc)) from None
    grid: dict[str, tuple[Any, ...]] = {}
    for key, values in _table(data.get("grid", {}), "grid").items():
        spec = setting("grid", key)
        if key in fixed:
            raise SweepConfigError(f"grid.{key}: also set in [fixed]; set it in one place")
        if not isinstance(values, list):
            raise SweepConfigError(
                f"grid.{key}: must be a list of values, got {type(values).__name__} {values!r}"
            )
        if not values:
            raise SweepConfigError(f"grid.{key}: empty list (the sweep would have no runs)")
        try:
            grid[key] = tuple(spec.check(v, f"grid.{key}[{i}]") for i, v in enumerate(values))
        except InvalidArgumentError as exc:
            raise SweepConfigError(str(exc)) from None
    config = SweepConfig(experiment, MappingProxyType(fixed), MappingProxyType(grid), description)
    if experiment.check is not None:
        for run in config.runs():
            try:
                experiment.check(run)
            except InvalidArgumentError as exc:
                point = ", ".join(f"{k} = {run[k]!r}" for k in grid)
                raise SweepConfigError(
                    f"{exc} (grid point {point})" if point else str(exc)
                ) from None
    return config


def load_sweep_config(path: str | Path) -> SweepConfig:
    """Read and check a sweep's TOML file (see the module notes)."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise SweepConfigError(f"cannot read the sweep file {str(p)!r}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SweepConfigError(f"{str(p)!r} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8; the file is not
        raw = bytes(exc.object)
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SweepConfigError(
            f"{str(p)!r} is not UTF-8 (TOML files are): byte 0x{raw[exc.start]:02x} on line "
            f"{line}; save it as UTF-8"
        ) from None
    return sweep_config(data)
