"""heavytail.nn: real networks trained with PyTorch, and measurements of their weights."""

from ._data import Dataset as Dataset
from ._data import digits as digits
from ._data import teacher_student as teacher_student
from ._ensemble import train_ensemble as train_ensemble
from ._models import CNN as CNN
from ._models import FCN as FCN
from ._models import build_model as build_model
from ._noise import InjectedNoise as InjectedNoise
from ._noise import symmetric_stable as symmetric_stable
from ._result import EnsembleResult as EnsembleResult
from ._result import TrainResult as TrainResult
from ._result import load_result as load_result
from ._result import load_state as load_state
from ._train import StopRule as StopRule
from ._train import train as train

__all__: list[str] = [
    "CNN",
    "FCN",
    "Dataset",
    "EnsembleResult",
    "InjectedNoise",
    "StopRule",
    "TrainResult",
    "build_model",
    "digits",
    "load_result",
    "load_state",
    "symmetric_stable",
    "teacher_student",
    "train",
    "train_ensemble",
]
