"""Built-in data sets: a frozen :class:`Dataset` of tensors, teacher-student data and digits.

Nothing is downloaded: teacher-student data are synthetic and the digits come bundled with
scikit-learn (``sklearn.datasets.load_digits``, 1797 8x8 images of 16 grey levels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._rng import RngLike, as_generator
from heavytail._lib._validation import check_int, check_real

from ._device import as_device, as_dtype

__all__ = ["Dataset", "digits", "stratified_split", "teacher_student"]


@dataclass(frozen=True)
class Dataset:
    """A classification data set held as tensors (train and test splits).

    Attributes
    ----------
    name : str
        Short description, e.g. "digits" or "teacher_student(d=20, k=10, width=100)".
    x_train, x_test : torch.Tensor
        Inputs, float32 or float64, batch first; both splits have the same input shape.
    y_train, y_test : torch.Tensor
        int64 class labels in [0, n_classes), one per input.
    n_classes : int
        Number of classes, >= 2.

    Checked on construction: tensor types, equal lengths of inputs and labels, at least
    one example per split, the same input shape in both splits, labels in range and every
    input finite. Nothing is copied: the tensors are held as given.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise InvalidArgumentError(f"`name` must be a string, got {type(self.name).__name__}")
        check_int(self.n_classes, "n_classes", low=2)
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if not isinstance(x, torch.Tensor) or x.dtype not in (torch.float32, torch.float64):
                raise InvalidArgumentError(
                    f"`x_{split}` must be a float32 or float64 tensor, got "
                    f"{getattr(x, 'dtype', type(x).__name__)}"
                )
            if not isinstance(y, torch.Tensor) or y.dtype != torch.int64 or y.ndim != 1:
                raise InvalidArgumentError(
                    f"`y_{split}` must be a 1-D int64 tensor of class labels, got "
                    f"{getattr(y, 'dtype', type(y).__name__)} of shape "
                    f"{tuple(getattr(y, 'shape', ()))}"
                )
            if x.ndim < 2 or x.shape[0] != y.shape[0] or x.shape[0] < 1:
                raise InvalidArgumentError(
                    f"`x_{split}` must be batch-first with one row per label of `y_{split}` "
                    f"(at least one), got shapes {tuple(x.shape)} and {tuple(y.shape)}"
                )
            if x.device != y.device:
                raise InvalidArgumentError(
                    f"`x_{split}` and `y_{split}` must be on one device, got {x.device} and "
                    f"{y.device}"
                )
            flags = torch.stack([(y < 0).any() | (y >= self.n_classes).any(), ~x.isfinite().all()])
            label_out, not_finite = flags.tolist()
            if label_out:
                raise InvalidArgumentError(
                    f"`y_{split}` must hold labels in [0, {self.n_classes}), got values in "
                    f"[{int(y.min())}, {int(y.max())}]"
                )
            if not_finite:
                raise InvalidArgumentError(f"`x_{split}` must be finite, got NaN or inf entries")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise InvalidArgumentError(
                f"`x_train` and `x_test` must have the same input shape, got "
                f"{tuple(self.x_train.shape[1:])} and {tuple(self.x_test.shape[1:])}"
            )
        if self.x_train.device != self.x_test.device:
            raise InvalidArgumentError(
                f"`x_train` and `x_test` must be on one device, got {self.x_train.device} and "
                f"{self.x_test.device}"
            )

    @property
    def in_shape(self) -> tuple[int, ...]:
        """Shape of one input, e.g. ``(784,)`` or ``(3, 32, 32)``."""
        return tuple(self.x_train.shape[1:])

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test examples."""
        return int(self.x_test.shape[0])

    @property
    def device(self) -> torch.device:
        """Device the tensors live on."""
        return self.x_train.device

    @property
    def dtype(self) -> torch.dtype:
        """Float type of the inputs."""
        return self.x_train.dtype

    def to(self, device: Any = None, dtype: Any = None) -> Dataset:
        """A copy on ``device`` (None keeps it) with inputs in ``dtype`` (None keeps it).

        Labels stay int64. ``dtype`` must be torch.float32 or torch.float64.
        """
        dev = self.device if device is None else as_device(device)
        dt = self.dtype if dtype is None else as_dtype(dtype)
        if dev == self.device and dt == self.dtype:
            return self
        return replace(
            self,
            x_train=self.x_train.to(device=dev, dtype=dt),
            y_train=self.y_train.to(device=dev),
            x_test=self.x_test.to(device=dev, dtype=dt),
            y_test=self.y_test.to(device=dev),
        )


def _tensors(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.int64], dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    return (
        torch.as_tensor(x).to(device=device, dtype=dtype),
        torch.as_tensor(y, dtype=torch.int64).to(device=device),
    )


def stratified_split(
    y: npt.NDArray[np.int64], n_classes: int, test_fraction: float, gen: np.random.Generator
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Train and test indices of a stratified, seeded split of the labels ``y``.

    Within each class, in label order, a permutation drawn from ``gen`` sends
    ``round(test_fraction * count)`` examples (at least one, and at most count - 1) to the
    test set; each split is then shuffled by a second permutation.
    """
    train_idx: list[npt.NDArray[np.intp]] = []
    test_idx: list[npt.NDArray[np.intp]] = []
    for c in range(n_classes):
        members = gen.permutation(np.flatnonzero(y == c))
        n_te = min(max(round(test_fraction * members.size), 1), members.size - 1)
        test_idx.append(members[:n_te])
        train_idx.append(members[n_te:])
    return gen.permutation(np.concatenate(train_idx)), gen.permutation(np.concatenate(test_idx))


def teacher_student(
    n_train: int,
    n_test: int,
    *,
    in_features: int = 20,
    n_classes: int = 10,
    width: int = 100,
    rng: RngLike = None,
    dtype: Any = None,
    device: Any = None,
) -> Dataset:
    """Synthetic classification data labelled by a random two-layer tanh teacher.

    Inputs x ~ N(0, I_d), d = ``in_features``. The teacher is
    ``t(x) = V tanh(W x)`` with W (width x d) and V (n_classes x width) of i.i.d.
    N(0, 1/d) and N(0, 1/width) entries, no biases; the label is ``argmax_k t(x)_k``.
    The classes are therefore not exactly balanced. Train and test inputs are drawn from
    the same law, so the Bayes error is 0 and a wide enough student can reach 100%.
    Everything is drawn in float64 with numpy from ``rng``, in this order: W, V, train
    inputs, test inputs.

    Parameters
    ----------
    n_train, n_test : int
        Sizes of the two splits, >= 1.
    in_features : int
        Input dimension d, >= 1.
    n_classes : int
        Number of classes, >= 2.
    width : int
        Teacher's hidden width, >= 1.
    rng : int, numpy Generator, SeedSequence or None
        Source of all draws.
    dtype, device
        Float type (float32 default, or float64) and device of the returned tensors.

    Examples
    --------
    >>> data = teacher_student(100, 50, in_features=8, n_classes=3, rng=0)
    >>> data.in_shape, data.n_train, data.n_test, int(data.y_train.max()) < 3
    ((8,), 100, 50, True)
    """
    n_train = check_int(n_train, "n_train", low=1)
    n_test = check_int(n_test, "n_test", low=1)
    d = check_int(in_features, "in_features", low=1)
    k = check_int(n_classes, "n_classes", low=2)
    width = check_int(width, "width", low=1)
    dev, dt = as_device(device), as_dtype(dtype)
    gen = as_generator(rng)
    w = gen.standard_normal((width, d)) / math.sqrt(d)
    v = gen.standard_normal((k, width)) / math.sqrt(width)
    x_tr = gen.standard_normal((n_train, d))
    x_te = gen.standard_normal((n_test, d))

    def label(x: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        return np.argmax(np.tanh(x @ w.T) @ v.T, axis=1).astype(np.int64)

    xt, yt = _tensors(x_tr, label(x_tr), dt, dev)
    xs, ys = _tensors(x_te, label(x_te), dt, dev)
    name = f"teacher_student(d={d}, k={k}, width={width})"
    return Dataset(name, xt, yt, xs, ys, k)


def digits(
    *,
    test_fraction: float = 0.25,
    image: bool = False,
    rng: RngLike = None,
    dtype: Any = None,
    device: Any = None,
) -> Dataset:
    """scikit-learn's bundled handwritten digits (1797 images, 10 classes), split in two.

    Inputs are the 8x8 grey levels divided by 16, so in [0, 1]: shape (64,), or
    (1, 8, 8) with ``image=True`` (for a CNN). The split is stratified and seeded: within
    each class, in label order, a permutation drawn from ``rng`` sends
    ``round(test_fraction * count)`` images to the test set; each split is then shuffled by
    a second permutation.

    Parameters
    ----------
    test_fraction : float
        Share of each class in the test split, in (0, 1); each split keeps at least one image
        per class.
    image : bool
        Inputs as (1, 8, 8) images instead of 64 features.
    rng : int, numpy Generator, SeedSequence or None
        Source of the split.
    dtype, device
        Float type (float32 default, or float64) and device.

    Examples
    --------
    >>> data = digits(rng=0)
    >>> data.in_shape, data.n_train + data.n_test, float(data.x_train.max())
    ((64,), 1797, 1.0)
    """
    frac = check_real(
        test_fraction, "test_fraction", low=0.0, high=1.0, low_open=True, high_open=True
    )
    if not isinstance(image, bool):
        raise InvalidArgumentError(f"`image` must be a bool, got {type(image).__name__}")
    dev, dt = as_device(device), as_dtype(dtype)
    gen = as_generator(rng)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    tr, te = stratified_split(y, 10, frac, gen)
    if image:
        x = x.reshape(-1, 1, 8, 8)
    xt, yt = _tensors(x[tr], y[tr], dt, dev)
    xs, ys = _tensors(x[te], y[te], dt, dev)
    return Dataset("digits", xt, yt, xs, ys, 10)
