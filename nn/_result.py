"""Results of training: :class:`TrainResult`, :class:`EnsembleResult`, and their files.

A trained network is saved as one .safetensors file holding two state dicts, the final
iterate under ``final/<name>`` and the averaged network under ``averaged/<name>``; the
settings, status, history and metrics are JSON strings in the file's metadata. Loading
never executes code (safetensors holds tensors and strings only).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pandas as pd
import torch

from heavytail._lib._errors import InvalidArgumentError

__all__ = [
    "HISTORY_COLUMNS",
    "STATUSES",
    "EnsembleResult",
    "TrainResult",
    "load_result",
    "load_state",
]

STATUSES = ("converged", "step_limit", "diverged")
"""A run ends when its stopping rule is met ("converged"), at ``max_steps``
("step_limit"), or when its loss is not finite or its accuracy stays at chance
("diverged")."""

HISTORY_COLUMNS = (
    "step",
    "batch_loss",
    "train_loss",
    "train_accuracy",
    "test_loss",
    "test_accuracy",
)
"""Columns of ``TrainResult.history``, one row per evaluation: the step, the mean minibatch
loss since the previous evaluation, and the current iterate's cross-entropy and accuracy
on the whole training and test sets."""

_FORMAT = "heavytail.nn.TrainResult/1"


@dataclass(frozen=True)
class TrainResult:
    """One trained network: its weights, what happened, and how well it does.

    The papers analyse the averaged network (Barsbey et al. 2021, section 5: the mean of
    the last iterates), so the metrics below are those of ``averaged_state``.

    Attributes
    ----------
    final_state : Mapping[str, torch.Tensor]
        Weights at the last step run, on the CPU, in the training dtype.
    averaged_state : Mapping[str, torch.Tensor]
        Mean of the last ``average_last`` iterates up to the last step (fewer when the run
        stopped before that many steps), on the CPU.
    history : pandas.DataFrame
        One row per evaluation, columns :data:`HISTORY_COLUMNS`.
    status : {"converged", "step_limit", "diverged"}
    steps : int
        Number of SGD steps run.
    message : str
        Why the run stopped, in words.
    train_loss, train_accuracy, test_loss, test_accuracy : float
        Cross-entropy (mean, natural log) and accuracy in [0, 1] of the averaged network on
        the whole training and test sets (NaN losses for a network whose weights are not
        finite).
    settings : Mapping[str, Any]
        The arguments of the run (step size, batch size, noise, stopping rule, seed, ...),
        JSON-serialisable.
    """

    final_state: Mapping[str, torch.Tensor]
    averaged_state: Mapping[str, torch.Tensor]
    history: pd.DataFrame
    status: str
    steps: int
    message: str
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise InvalidArgumentError(f"`status` must be one of {STATUSES}, got {self.status!r}")
        object.__setattr__(self, "final_state", MappingProxyType(dict(self.final_state)))
        object.__setattr__(self, "averaged_state", MappingProxyType(dict(self.averaged_state)))
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))

    @property
    def generalization_gap(self) -> float:
        """Accuracy gap of the averaged network: train accuracy - test accuracy."""
        return self.train_accuracy - self.test_accuracy

    @property
    def loss_gap(self) -> float:
        """Loss gap of the averaged network: test cross-entropy - train cross-entropy."""
        return self.test_loss - self.train_loss

    def state_dict(self, averaged: bool = True) -> dict[str, torch.Tensor]:
        """A fresh copy of the averaged (default) or final weights, for ``load_state_dict``."""
        src = self.averaged_state if averaged else self.final_state
        return {k: v.clone() for k, v in src.items()}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the result to ``path`` as .safetensors (tensors + JSON metadata).

        Read it back with :func:`load_result`, or only the weights with :func:`load_state`.
        """
        from safetensors.torch import save_file

        tensors = {f"final/{k}": v.contiguous() for k, v in self.final_state.items()}
        tensors |= {f"averaged/{k}": v.contiguous() for k, v in self.averaged_state.items()}
        hist = {c: self.history[c].tolist() for c in HISTORY_COLUMNS}
        metrics = {
            "train_loss": self.train_loss,
            "train_accuracy": self.train_accuracy,
            "test_loss": self.test_loss,
            "test_accuracy": self.test_accuracy,
        }
        meta = {
            "format": _FORMAT,
            "status": self.status,
            "steps": str(self.steps),
            "message": self.message,
            "metrics": json.dumps(metrics),
            "history": json.dumps(hist),
            "settings": json.dumps(dict(self.settings)),
        }
        save_file(tensors, os.fspath(path), metadata=meta)


def _read(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    from safetensors import safe_open

    p = os.fspath(path)
    if not os.path.isfile(p):
        raise InvalidArgumentError(f"`path` must be an existing .safetensors file, got {p!r}")
    with safe_open(p, framework="pt") as f:
        meta = f.metadata() or {}
        if meta.get("format") != _FORMAT:
            raise InvalidArgumentError(
                f"`path` must be a file written by TrainResult.save ({_FORMAT}), got {p!r} "
                f"with format {meta.get('format')!r}"
            )
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    return tensors, meta


def load_state(path: str | os.PathLike[str], averaged: bool = True) -> dict[str, torch.Tensor]:
    """The averaged (default) or final weights saved by :meth:`TrainResult.save`."""
    tensors, _ = _read(path)
    prefix = "averaged/" if averaged else "final/"
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def load_result(path: str | os.PathLike[str]) -> TrainResult:
    """The :class:`TrainResult` saved by :meth:`TrainResult.save` at ``path``."""
    tensors, meta = _read(path)
    hist = json.loads(meta["history"])
    history = pd.DataFrame(
        {
            c: pd.Series(hist[c], dtype="int64" if c == "step" else "float64")
            for c in HISTORY_COLUMNS
        }
    )
    metrics = json.loads(meta["metrics"])
    return TrainResult(
        final_state={k[6:]: v for k, v in tensors.items() if k.startswith("final/")},
        averaged_state={k[9:]: v for k, v in tensors.items() if k.startswith("averaged/")},
        history=history,
        status=meta["status"],
        steps=int(meta["steps"]),
        message=meta["message"],
        settings=json.loads(meta["settings"]),
        **{k: float(v) for k, v in metrics.items()},
    )


@dataclass(frozen=True)
class EnsembleResult:
    """Networks of one architecture trained together by :func:`train_ensemble`.

    Attributes
    ----------
    members : tuple of TrainResult
        One result per member, in the order of the (broadcast) ``etas`` and ``seeds``; each
        equals what :func:`train` gives for that member's seed and step size, up to
        floating-point rounding.
    settings : Mapping[str, Any]
        The arguments common to all members.
    """

    members: tuple[TrainResult, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", tuple(self.members))
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))

    def __len__(self) -> int:
        return len(self.members)

    def to_frame(self) -> pd.DataFrame:
        """One row per member: seed, eta, status, steps, and the averaged network's metrics."""
        rows = []
        for i, m in enumerate(self.members):
            rows.append(
                {
                    "member": i,
                    "seed": m.settings.get("rng"),
                    "eta": m.settings.get("eta"),
                    "status": m.status,
                    "steps": m.steps,
                    "train_loss": m.train_loss,
                    "train_accuracy": m.train_accuracy,
                    "test_loss": m.test_loss,
                    "test_accuracy": m.test_accuracy,
                    "generalization_gap": m.generalization_gap,
                    "loss_gap": m.loss_gap,
                }
            )
        return pd.DataFrame(rows)
