"""heavytail.simulate: numba simulators (SGD on least squares, mean-field networks)."""

# [imports: injected noise]
from ._injected_noise import InjectedNoise as InjectedNoise

# [imports: mean-field simulator]
from ._mean_field import MEAN_FIELD_BOUND as MEAN_FIELD_BOUND
from ._mean_field import mean_field_sgd as mean_field_sgd
from ._mean_field_options import MeanFieldData as MeanFieldData
from ._mean_field_options import MeanFieldNetwork as MeanFieldNetwork
from ._mean_field_options import MeanFieldRecording as MeanFieldRecording
from ._mean_field_options import Teacher as Teacher
from ._mean_field_run import MeanFieldRun as MeanFieldRun

# [imports: sgd simulator]
from ._sgd_linear import CHUNK_SIZE as CHUNK_SIZE
from ._sgd_linear import DIVERGENCE_BOUND as DIVERGENCE_BOUND
from ._sgd_linear import Recording as Recording
from ._sgd_linear import SgdRun as SgdRun
from ._sgd_linear import SharedDataset as SharedDataset
from ._sgd_linear import sgd_linear_regression as sgd_linear_regression

__all__: list[str] = [
    # [all: injected noise]
    "InjectedNoise",
]
__all__ += [
    # [all: sgd simulator]
    "CHUNK_SIZE",
    "DIVERGENCE_BOUND",
    "Recording",
    "SgdRun",
    "SharedDataset",
    "sgd_linear_regression",
]
# [all: mean-field simulator]
__all__ += [
    "MEAN_FIELD_BOUND",
    "MeanFieldData",
    "MeanFieldNetwork",
    "MeanFieldRecording",
    "MeanFieldRun",
    "Teacher",
    "mean_field_sgd",
]
