"""heavytail.nn: real networks trained with PyTorch, and measurements of their weights."""

from ._data import Dataset as Dataset
from ._data import digits as digits
from ._data import teacher_student as teacher_student
from ._models import CNN as CNN
from ._models import FCN as FCN
from ._models import build_model as build_model

__all__: list[str] = [
    "CNN",
    "FCN",
    "Dataset",
    "build_model",
    "digits",
    "teacher_student",
]
