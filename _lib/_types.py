"""Array type aliases that every heavytail package uses."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray"]

FloatArray = npt.NDArray[np.float64]
"""An ndarray of float64: the dtype of every real array heavytail computes with."""
