"""Node pruning of a two-layer network and its sup-norm error (docs/generalization.md, step 1).

The network is f(x) = (1/n) sum_i a_i phi(w_i . x), with W of shape (n, d) (row i is
unit i, as the simulators record it) and a of shape (n,), or a_i = 1 for every i when the
second layer is fixed (``a is None``). Write phi~(t) = phi(t) - phi(0), so that

    f(x) = (1/n) sum_i a_i phi~(w_i . x) + c_f,   c_f = phi(0) (1/n) sum_i a_i.

Node pruning keeps the k units of largest path mass v_i = |a_i| ||w_i|| (||w_i|| when a is
fixed) and the constant c_f:

    g(x) = (1/n) sum_{i in K} a_i phi~(w_i . x) + c_f.

For an L-Lipschitz phi and every ||x|| <= B, |phi~(w_i . x)| <= L ||w_i|| B, hence

    sup_{||x|| <= B} |f(x) - g(x)| <= eps_k = L B (1/n) sum_{i not in K} v_i,

the ell_1 best k-term error of v times L B / n. When phi(0) = 0 (tanh, relu, identity) g
is f with the dropped units deleted. When phi(0) != 0 (sigmoid) the constant c_f must be
kept: deleting the units outright leaves the extra error (1/n) |phi(0) sum_dropped a_i|,
which no multiple of the path mass bounds (a dropped unit with w_i = 0 has v_i = 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import as_sample, check_choice

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "activation_values",
    "check_network",
    "dropped_path_mass",
    "network_output",
    "path_mass",
    "pruned_output",
    "unit_order",
]

IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Activation:
    """An activation's constants used by the bound.

    Attributes
    ----------
    name : str
        "tanh", "relu", "sigmoid" or "identity".
    lipschitz : float
        L = sup |phi'|: 1 for tanh, relu and identity; 1/4 for the sigmoid.
    at_zero : float
        phi(0): 0, except 1/2 for the sigmoid.
    """

    name: str
    lipschitz: float
    at_zero: float


ACTIVATIONS: Mapping[str, Activation] = MappingProxyType(
    {
        "tanh": Activation("tanh", 1.0, 0.0),
        "relu": Activation("relu", 1.0, 0.0),
        "sigmoid": Activation("sigmoid", 0.25, 0.5),
        "identity": Activation("identity", 1.0, 0.0),
    }
)


def activation_values(t: FloatArray, phi: str) -> FloatArray:
    """phi(t) elementwise (the sigmoid in the form that does not overflow)."""
    if phi == "tanh":
        return np.tanh(t)
    if phi == "relu":
        return np.maximum(t, 0.0)
    if phi == "sigmoid":
        e = np.exp(-np.abs(t))
        return np.where(t >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
    if phi == "identity":
        return np.array(t, dtype=np.float64)
    raise InvalidArgumentError(f"`phi` must be one of {', '.join(map(repr, ACTIVATIONS))}")


def check_network(W: Any, a: Any) -> tuple[FloatArray, FloatArray | None]:
    """Return (W, a) as finite float64 arrays of shapes (n, d) and (n,) (a may be None)."""
    w = as_sample(W, "W", ndim=2)
    if w.shape[1] < 1:
        raise InvalidArgumentError("`W` must have at least one column (d >= 1), got 0")
    if a is None:
        return w, None
    av = as_sample(a, "a", ndim=1)
    if av.shape[0] != w.shape[0]:
        raise InvalidArgumentError(
            f"`a` must have one entry per row of `W` (n = {w.shape[0]}), got {av.shape[0]}"
        )
    return w, av


def path_mass(W: FloatArray, a: FloatArray | None) -> FloatArray:
    """v_i = |a_i| ||w_i|| (or ||w_i|| when ``a`` is None); raises if one overflows."""
    with np.errstate(over="ignore"):
        norms = np.linalg.norm(W, axis=1)
        v = norms if a is None else np.abs(a) * norms
    if not np.all(np.isfinite(v)):
        raise InvalidArgumentError(
            "the path masses |a_i| ||w_i|| of `W` and `a` overflow the double range"
        )
    return np.asarray(v, dtype=np.float64)


def unit_order(v: FloatArray) -> IntArray:
    """Indices of the units by decreasing path mass (ties by index, so deterministic)."""
    return np.argsort(-v, kind="stable").astype(np.intp)


def dropped_path_mass(v: FloatArray, ks: IntArray) -> FloatArray:
    """sum of v over the units that keeping the k largest drops, for each k in ``ks``.

    The sum runs from the smallest term up (sorted ascending, then a cumulative sum), so
    each value is the sum of exactly the dropped terms and the result is non-increasing
    in k up to rounding of the cumulative sum.
    """
    n = v.shape[0]
    ascending = np.sort(v)
    tails = np.concatenate(([0.0], np.cumsum(ascending)))  # tails[j] = sum of j smallest
    return np.asarray(tails[n - np.asarray(ks, dtype=np.intp)], dtype=np.float64)


#: Rows of X per product X W^T in :func:`network_output`: at most this many multiply-adds,
#: below the size at which OpenBLAS starts threads (the simulator's own rule).
_CHUNK_MULTIPLY_ADDS = 2**18


def network_output(W: Any, a: Any, X: Any, phi: str = "tanh") -> FloatArray:
    """Outputs f(x) = (1/n) sum_i a_i phi(w_i . x) of a mean-field two-layer network.

    The network of docs/theory.md, section 6, in numpy (the simulator's compiled version
    is :meth:`heavytail.simulate.MeanFieldRun.outputs`).

    Parameters
    ----------
    W : array_like, shape (n, d)
        First layer; row i is unit i's weights w_i.
    a : array_like, shape (n,), or None
        Second layer; None for a fixed second layer, a_i = 1.
    X : array_like, shape (m, d)
        Inputs, one per row.
    phi : {"tanh", "relu", "sigmoid", "identity"}
        The activation; the sigmoid is computed in a form that does not overflow.

    Returns
    -------
    ndarray, shape (m,)
        f(x_p) for each row x_p of X. Rows are taken in chunks whose product with W^T
        has at most 2^18 multiply-adds, each computed as phi(X_chunk W^T) a / n.

    Raises
    ------
    InvalidArgumentError
        For malformed or non-finite input, an unknown ``phi``, or outputs that overflow
        the double range.
    """
    check_choice(phi, "phi", ACTIVATIONS)
    w, av = check_network(W, a)
    n, d = w.shape
    x = as_sample(X, "X", ndim=2)
    if x.shape[1] != d:
        raise InvalidArgumentError(f"`X` must have {d} columns (as `W`), got {x.shape[1]}")
    weights = np.ones(n) if av is None else av
    rows = max(1, _CHUNK_MULTIPLY_ADDS // (n * d))
    out = np.empty(x.shape[0])
    for start in range(0, x.shape[0], rows):
        chunk = x[start : start + rows]
        with np.errstate(over="ignore", invalid="ignore"):  # the sums: checked below
            z = chunk @ w.T
        h = activation_values(z, phi)  # raises no warning, even at z = +-inf or NaN
        with np.errstate(over="ignore", invalid="ignore"):
            out[start : start + chunk.shape[0]] = h @ weights / n
    if not np.all(np.isfinite(out)):
        raise InvalidArgumentError(
            "the network outputs of `W`, `a` and `X` overflow the double range"
        )
    return out


def pruned_output(
    W: FloatArray, a: FloatArray | None, X: FloatArray, k: int, phi: str
) -> FloatArray:
    """g(x): the k units of largest path mass plus the constant c_f (module docstring)."""
    check_choice(phi, "phi", ACTIVATIONS)
    n = W.shape[0]
    act = ACTIVATIONS[phi]
    weights = np.ones(n) if a is None else a
    kept = unit_order(path_mass(W, a))[:k]
    h = activation_values(X @ W[kept].T, phi) - act.at_zero
    constant = act.at_zero * float(np.sum(weights)) / n
    return np.asarray(h @ weights[kept] / n + constant, dtype=np.float64)
