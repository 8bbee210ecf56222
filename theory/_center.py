"""The ``center=`` option of the tail-index estimators: where |x| is measured from.

Order-statistic estimators (Hill, moment, Pickands) and the "auto" rule's tail route read
the magnitudes |x| measured from 0, and the block-sum estimator assumes centred data. A
location shift m changes neither the tail index of X - m nor that of X, but it changes
what the estimators see at finite n: |x| of Student t(1.5) + 5 has a body bunched near 5,
so Hill's minimum-KS k reads a tail that is not yet Pareto, and block sums grow like the
shift times the block size (docs/theory.md, section 4). ``center`` subtracts a location
first:

- ``None`` (default): nothing is subtracted; the estimators behave exactly as without the
  option (the same numbers, bit for bit).
- ``"median"``: the sample median (coordinate-wise for 2-D data), a location that needs
  no moment to exist.
- a real number: subtracted from every entry.

Given a centre, the data are taken as centred there: the "uncentred" check
(:func:`uncentred_message`) is not run, since the caller has chosen where |x| starts.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._validation import as_sample, check_real

__all__ = ["CENTER_RULES", "CenterLike", "apply_center", "check_center"]


#: The named centring rules.
CENTER_RULES = ("median",)

CenterLike = str | float | None


def check_center(center: Any) -> str | float | None:
    """Return ``center`` validated: None, ``"median"`` or a finite real number.

    Raises :class:`InvalidArgumentError` naming ``center`` otherwise (booleans, other
    strings, nan, inf, arrays).
    """
    if center is None:
        return None
    if isinstance(center, str):
        if center not in CENTER_RULES:
            listed = ", ".join(repr(c) for c in CENTER_RULES)
            raise InvalidArgumentError(
                f"`center` must be None, {listed} or a finite real number, got {center!r}"
            )
        return center
    if isinstance(center, bool) or not isinstance(center, numbers.Real):
        raise InvalidArgumentError(
            f"`center` must be None, 'median' or a finite real number, got {type(center).__name__}"
        )
    return check_real(center, "center")


def apply_center(
    x: Any, center: str | float | None, *, ndim: int | tuple[int, ...] = 1
) -> tuple[Any, dict[str, Any]]:
    """Subtract the centre from ``x``; return the data and what ``settings`` records.

    ``center`` must have been validated by :func:`check_center`. With ``center=None`` the
    input is returned untouched (no copy, no conversion: the estimator then validates it
    exactly as it would without the option) and nothing is recorded. Otherwise ``x`` is
    validated as a finite sample (``as_sample``, naming ``x``), the centre is computed
    (the median of each column for 2-D data), and the record is ``{"center": center,
    "center_value": the number subtracted}`` (a list for 2-D data).
    """
    if center is None:
        return x, {}
    data = as_sample(x, "x", ndim=ndim, min_size=1)
    if isinstance(center, str):  # "median", the only named rule
        value = np.median(data, axis=0)
    else:
        value = np.full(data.shape[1:], float(center))
    recorded: float | list[float] = float(value) if value.ndim == 0 else value.tolist()
    return data - value, {"center": center, "center_value": recorded}
