"""heavytail.nn: real networks trained with PyTorch, and measurements of their weights."""

from ._analyze import analyze as analyze
from ._analyze import layer_weights as layer_weights
from ._checkpoint import load_checkpoint as load_checkpoint
from ._data import Dataset as Dataset
from ._data import digits as digits
from ._data import teacher_student as teacher_student
from ._datafiles import load_cifar as load_cifar
from ._datafiles import load_mnist as load_mnist
from ._datafiles import mnist5k as mnist5k
from ._device import torch_threads as torch_threads
from ._divergence_edge import EdgeScan as EdgeScan
from ._divergence_edge import bracket_edge as bracket_edge
from ._divergence_edge import divergence_edge as divergence_edge
from ._ensemble import train_ensemble as train_ensemble
from ._layer_tails import LayerTails as LayerTails
from ._layer_tails import layer_tails as layer_tails
from ._layer_tails import tails_frame as tails_frame
from ._models import CNN as CNN
from ._models import FCN as FCN
from ._models import build_model as build_model
from ._noise import InjectedNoise as InjectedNoise
from ._noise import symmetric_stable as symmetric_stable
from ._protocol import EtaGrid as EtaGrid
from ._protocol import GridRun as GridRun
from ._protocol import Protocol as Protocol
from ._protocol import distance_from_init as distance_from_init
from ._protocol import eta_grid as eta_grid
from ._protocol import train_grid as train_grid
from ._prune_torch import PruneResult as PruneResult
from ._prune_torch import prune_layer as prune_layer
from ._prune_torch import prune_model as prune_model
from ._prune_torch import weight_matrix as weight_matrix
from ._result import EnsembleResult as EnsembleResult
from ._result import TrainResult as TrainResult
from ._result import load_result as load_result
from ._result import load_state as load_state
from ._rows import RowsTailIndex as RowsTailIndex
from ._rows import rows_tail_index as rows_tail_index
from ._stopping import StopRule as StopRule
from ._train import train as train

__all__: list[str] = [
    "CNN",
    "FCN",
    "Dataset",
    "EdgeScan",
    "EnsembleResult",
    "EtaGrid",
    "GridRun",
    "InjectedNoise",
    "LayerTails",
    "Protocol",
    "PruneResult",
    "RowsTailIndex",
    "StopRule",
    "TrainResult",
    "analyze",
    "bracket_edge",
    "build_model",
    "digits",
    "distance_from_init",
    "divergence_edge",
    "eta_grid",
    "layer_tails",
    "layer_weights",
    "load_checkpoint",
    "load_cifar",
    "load_mnist",
    "load_result",
    "load_state",
    "mnist5k",
    "prune_layer",
    "prune_model",
    "rows_tail_index",
    "symmetric_stable",
    "tails_frame",
    "teacher_student",
    "torch_threads",
    "train",
    "train_ensemble",
    "train_grid",
    "weight_matrix",
]
