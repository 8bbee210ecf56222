"""heavytail.theory: exact and numerical mathematics (numpy and scipy only).

Stable laws, tail-index estimators, ell_p-compressibility, pruning errors, and the tail
index of SGD on least squares. Importing this package never imports numba, torch or
matplotlib.
"""

from ._errors import ConvergenceWarning as ConvergenceWarning
from ._errors import DivergenceWarning as DivergenceWarning
from ._errors import EstimationError as EstimationError
from ._errors import EstimationWarning as EstimationWarning
from ._errors import HeavytailError as HeavytailError
from ._errors import HeavytailWarning as HeavytailWarning
from ._errors import InvalidArgumentError as InvalidArgumentError
from ._errors import NoStationaryLawError as NoStationaryLawError
from ._result import TailEstimate as TailEstimate
from ._stable import sample_elliptic_stable as sample_elliptic_stable
from ._stable import sample_stable as sample_stable

# [imports: stable laws]
# [imports: tail estimators]
# [imports: compressibility]
# [imports: sgd]

__all__ = [
    "ConvergenceWarning",
    "DivergenceWarning",
    "EstimationError",
    "EstimationWarning",
    "HeavytailError",
    "HeavytailWarning",
    "InvalidArgumentError",
    "NoStationaryLawError",
    "TailEstimate",
    "sample_elliptic_stable",
    "sample_stable",
    # [all: stable laws]
    # [all: tail estimators]
    # [all: compressibility]
    # [all: sgd]
]
