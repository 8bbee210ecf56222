"""Built-in data sets and the Dataset checks (heavytail.nn._data)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from heavytail._lib._errors import InvalidArgumentError
from heavytail.nn import Dataset, digits, teacher_student


def _tiny(**change: object) -> Dataset:
    fields: dict[str, object] = {
        "name": "tiny",
        "x_train": torch.zeros(4, 3),
        "y_train": torch.tensor([0, 1, 2, 1]),
        "x_test": torch.zeros(2, 3),
        "y_test": torch.tensor([0, 2]),
        "n_classes": 3,
    }
    fields.update(change)
    return Dataset(**fields)  # type: ignore[arg-type]


def test_digits_split_scaling_and_stratification() -> None:
    data = digits(test_fraction=0.25, rng=0)
    assert data.in_shape == (64,) and data.n_classes == 10
    assert data.n_train + data.n_test == 1797  # the size of sklearn's digits
    assert float(data.x_train.min()) == 0.0 and float(data.x_train.max()) == 1.0
    counts = torch.bincount(data.y_test, minlength=10)
    totals = counts + torch.bincount(data.y_train, minlength=10)
    # stratified: each class sends round(0.25 * count) to the test set
    assert torch.equal(counts, torch.round(0.25 * totals.double()).long())
    # inputs are multiples of 1/16 (grey levels 0..16)
    assert torch.equal(data.x_test * 16, torch.round(data.x_test * 16))


def test_digits_seeded_and_image_shape() -> None:
    a, b, c = digits(rng=1), digits(rng=1), digits(rng=2)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.y_train, c.y_train)
    img = digits(rng=1, image=True, dtype=torch.float64)
    assert img.in_shape == (1, 8, 8) and img.dtype == torch.float64
    assert torch.equal(img.x_train.flatten(1).float(), a.x_train)


def test_teacher_student_labels_are_the_teachers_argmax() -> None:
    data = teacher_student(300, 50, in_features=6, n_classes=4, width=9, rng=3, dtype=torch.float64)
    # replay the documented draw order: W, V, train inputs, test inputs
    gen = np.random.default_rng(3)
    w = gen.standard_normal((9, 6)) / np.sqrt(6)
    v = gen.standard_normal((4, 9)) / 3.0
    x = gen.standard_normal((300, 6))
    assert np.array_equal(data.x_train.numpy(), x)
    assert np.array_equal(data.y_train.numpy(), np.argmax(np.tanh(x @ w.T) @ v.T, axis=1))
    assert data.y_test.shape == (50,) and data.y_train.dtype == torch.int64
    assert len(torch.unique(data.y_train)) == 4


def test_to_moves_and_casts(device: torch.device) -> None:
    data = teacher_student(20, 10, rng=0)
    moved = data.to(device, torch.float64)
    assert moved.x_train.dtype == torch.float64 and moved.y_train.dtype == torch.int64
    assert moved.device.type == device.type
    assert torch.equal(moved.x_test.cpu().float(), data.x_test)
    assert data.to() is data
    with pytest.raises(InvalidArgumentError, match="`dtype`"):
        data.to(dtype=torch.int32)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"y_train": torch.tensor([0, 1, 3, 1])}, "`y_train` must hold labels in"),
        ({"y_test": torch.tensor([-1, 0])}, "`y_test` must hold labels in"),
        ({"y_train": torch.tensor([0, 1, 2])}, "`x_train` must be batch-first"),
        ({"x_test": torch.tensor([[0.0, float("nan"), 0.0]] * 2)}, "`x_test` must be finite"),
        ({"x_test": torch.zeros(2, 4)}, "same input shape"),
        ({"y_train": torch.tensor([0.0, 1, 2, 1])}, "`y_train` must be a 1-D int64"),
        ({"x_train": torch.zeros(4, 3, dtype=torch.int64)}, "`x_train` must be a float32"),
        ({"n_classes": 1}, "`n_classes`"),
    ],
)
def test_dataset_checks_name_the_field(change: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        _tiny(**change)


def test_dataset_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        _tiny().n_classes = 4  # type: ignore[misc]


def test_bad_arguments_named() -> None:
    with pytest.raises(InvalidArgumentError, match="`n_train`"):
        teacher_student(0, 5)
    with pytest.raises(InvalidArgumentError, match="`n_classes`"):
        teacher_student(5, 5, n_classes=1)
    with pytest.raises(InvalidArgumentError, match="`test_fraction`"):
        digits(test_fraction=1.0)
    with pytest.raises(InvalidArgumentError, match="`rng`"):
        digits(rng=-1)
