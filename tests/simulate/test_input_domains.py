"""Every public function and settings class of heavytail.simulate, fed the classes of bad
input that got through elsewhere.

The classes: values spanning the whole double range (subnormals, signed zeros, NaN and inf
included), invalid parameters, and parameters at the edge of their domain. Each call must
either return what its docstring promises (here: arrays of the documented shapes whose
entries are finite, except the rows of chains reported as diverged, which are NaN and
counted), or raise heavytail's own error (a HeavytailError, also a ValueError) whose
message names one of the arguments. Any other exception, an unreported NaN or inf, or a
warning that is not heavytail's own fails the test.

Runs are deterministic (``derandomize=True``) with a bounded number of examples, and
counts (chains, steps, dimensions) are kept small so that each test takes seconds. A
fault that cannot be fixed at once is marked ``xfail(strict=True, raises=...)`` with the
fault in its reason and the exception it raises named, so that the mark must go when the
fault is fixed and no other failure hides behind it.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import heavytail.simulate as simulate
from heavytail._lib._noise_kinds import NOISE_KINDS
from heavytail.theory import InvalidArgumentError
from heavytail.theory.strategies import float_arrays

from .._domains import RAISED, any_count, configured, mostly, reals, run

# --------------------------------------------------------------------------------------
# Settings classes: each refuses a bad value naming it, and keeps a good one.

SETTINGS_CLASSES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "InjectedNoise": st.fixed_dictionaries(
        {
            "alpha": reals(2.0, 0.0519, inside=st.floats(0.0, 2.0, exclude_min=True)),
            "scale": reals(1.0, inside=st.floats(0.0, 1e300, exclude_min=True)),
            "kind": st.sampled_from((*NOISE_KINDS, "gaussian", None, 1)),
        }
    ),
    "Recording": st.fixed_dictionaries(
        {
            "trajectory_every": st.one_of(st.none(), any_count(5)),
            "polyak_average": st.sampled_from((True, False, 1, None)),
        }
    ),
    "SharedDataset": st.fixed_dictionaries({"size": any_count(5, 2**62)}),
    "MeanFieldNetwork": st.fixed_dictionaries(
        {
            "activation": mostly(
                st.sampled_from(("tanh", "relu", "sigmoid", "identity")), st.just("gelu")
            ),
            "loss": mostly(st.sampled_from(("squared", "logistic")), st.just("hinge")),
            "train_second_layer": st.sampled_from((True, False, 1, None)),
            "second_layer_init": st.sampled_from(("normal", "ones", "zeros")),
            "first_layer_std": reals(1.0, inside=st.floats(0.0, 1e300, exclude_min=True)),
        }
    ),
    "MeanFieldData": st.fixed_dictionaries(
        {
            "teacher": st.sampled_from((simulate.Teacher(), simulate.Teacher(2, "relu"), "tanh")),
            "label_noise": reals(0.1, inside=st.floats(0.0, 1e300)),
            "inputs": st.sampled_from(("gaussian", "sphere", "uniform")),
            "dataset_size": st.one_of(st.none(), any_count(6)),
            "test_size": any_count(5),
            "batches": st.sampled_from(("independent", "shared", "other")),
        }
    ),
    "MeanFieldRecording": st.fixed_dictionaries(
        {
            "weight_steps": st.one_of(
                st.lists(any_count(5), max_size=3).map(tuple), st.sampled_from(("1", 3))
            ),
            "loss_steps": st.lists(any_count(5), max_size=3).map(tuple),
            "n_probe": any_count(3),
        }
    ),
    "Teacher": st.fixed_dictionaries(
        {
            "n_units": any_count(4),
            "activation": st.sampled_from(("tanh", "relu", "sigmoid", "identity", "gelu")),
            "seed": any_count(3, 2**62),
        }
    ),
}


@pytest.mark.parametrize("name", sorted(set(SETTINGS_CLASSES) & set(simulate.__all__)))
def test_settings_classes_refuse_bad_values_naming_them(name: str) -> None:
    cls = getattr(simulate, name)
    names = list(inspect.signature(cls).parameters)

    @configured(150)
    @given(SETTINGS_CLASSES[name])
    def inner(kwargs: dict[str, Any]) -> None:
        result = run(lambda: cls(**kwargs), names)
        if result is not RAISED:
            for key, value in kwargs.items():
                kept = getattr(result, key)
                if isinstance(value, float):
                    assert math.isfinite(kept) and kept == value
                else:
                    assert kept == value

    inner()


# --------------------------------------------------------------------------------------
# sgd_linear_regression


def _check_run(run_: Any, kwargs: dict[str, Any]) -> None:
    """Shapes as documented; finite entries except the NaN rows of counted divergences."""
    n, d = kwargs["n_chains"], kwargs["dim"]
    assert run_.iterates.shape == (n, d)
    div = run_.diverged
    assert div.shape == (n,) and run_.n_diverged == int(div.sum())
    steps = run_.divergence_step
    assert np.all((steps == -1) == ~div) and np.all(steps[div] >= 1)
    assert np.all(steps[div] <= kwargs["n_steps"])
    ok = run_.iterates[~div]
    assert np.all(np.isfinite(ok)) and np.all(np.abs(ok) <= simulate.DIVERGENCE_BOUND)
    assert np.all(np.isnan(run_.iterates[div]))
    for name in ("trajectory", "polyak_average"):
        value = getattr(run_, name)
        if value is not None:
            assert np.all(np.isfinite(value[~div])), name
    for name in ("features", "labels"):
        value = getattr(run_, name)
        if value is not None:
            assert np.all(np.isfinite(value)), (name, value)


@st.composite
def sgd_arguments(draw: st.DrawFn) -> dict[str, Any]:
    dim = draw(mostly(st.integers(1, 3), any_count(3)))
    kind = draw(st.sampled_from(("none", *NOISE_KINDS)))
    noise = (
        None
        if kind == "none"
        else (
            "noise",
            draw(reals(2.0, 0.0519, 1.5, inside=st.floats(0.06, 2.0))),
            draw(reals(1.0, 1e-3, inside=st.floats(1e-3, 1.0))),
            kind,
        )
    )
    dataset = draw(
        mostly(
            st.one_of(st.none(), st.integers(3, 6), st.integers(3, 6).map(lambda m: ("shared", m))),
            st.one_of(any_count(6), any_count(6).map(lambda m: ("shared", m))),
        )
    )
    x_star = draw(
        st.one_of(
            st.none(),
            float_arrays(min_size=dim, max_size=dim)
            if type(dim) is int and dim >= 0
            else st.none(),
            st.sampled_from(([1.0, 2.0, 3.0, 4.0], "x")),
        )
    )
    return {
        "eta": draw(reals(0.1, 0.5, inside=st.floats(1e-3, 1.0))),
        "batch_size": draw(mostly(st.integers(1, 3), any_count(3))),
        "dim": dim,
        "sigma": draw(reals(1.0, inside=st.floats(0.1, 2.0))),
        "noise_std": draw(reals(1.0, inside=st.floats(0.0, 2.0))),
        "n_chains": draw(mostly(st.integers(1, 4), any_count(4, 1025))),
        "n_steps": draw(mostly(st.integers(1, 20), any_count(20))),
        "x_star": x_star,
        "dataset_size": dataset,
        "injected_noise": noise,
        "burn_in": draw(mostly(st.integers(0, 5), any_count(20))),
        "record": draw(
            st.sampled_from((None, "average", ("trajectory", 2), ("trajectory", 0), "all"))
        ),
        "rng": draw(st.sampled_from((0, 1, -1))),
    }


def _build(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Settings objects are built inside the call, so that their errors are checked too."""
    out = dict(kwargs)
    if isinstance(out["dataset_size"], tuple):
        out["dataset_size"] = simulate.SharedDataset(out["dataset_size"][1])
    if out["injected_noise"] is not None:
        _, alpha, scale, kind = out["injected_noise"]
        out["injected_noise"] = simulate.InjectedNoise(alpha, scale, kind)
    return out


def test_sgd_linear_regression_over_the_double_range() -> None:
    names = list(inspect.signature(simulate.sgd_linear_regression).parameters)
    names += ["alpha", "scale", "kind", "size", "record[1]", "trajectory_every"]

    @configured(200)
    @given(sgd_arguments())
    @example(
        {
            "eta": 0.1,
            "batch_size": 1,
            "dim": 1,
            "sigma": 1e200,
            "noise_std": 1.0,
            "n_chains": 2,
            "n_steps": 3,
            "x_star": np.array([1e200]),
            "dataset_size": ("shared", 3),
            "injected_noise": None,
            "burn_in": 0,
            "record": None,
            "rng": 0,
        }
    )
    def inner(kwargs: dict[str, Any]) -> None:
        result = run(lambda: simulate.sgd_linear_regression(**_build(kwargs)), names)
        if result is not RAISED:
            _check_run(result, kwargs)

    inner()


@st.composite
def sgd_arguments_without_shared_data(draw: st.DrawFn) -> dict[str, Any]:
    kwargs = draw(sgd_arguments())
    if isinstance(kwargs["dataset_size"], tuple):
        kwargs["dataset_size"] = kwargs["dataset_size"][1]
    return kwargs


def test_sgd_linear_regression_over_the_double_range_per_chain_data() -> None:
    # The same inputs with each chain's data drawn inside the kernel (no SharedDataset):
    # there every overflow is caught and reported as a divergence.
    names = list(inspect.signature(simulate.sgd_linear_regression).parameters)
    names += ["alpha", "scale", "kind", "size", "record[1]", "trajectory_every"]

    @configured(200)
    @given(sgd_arguments_without_shared_data())
    def inner(kwargs: dict[str, Any]) -> None:
        result = run(lambda: simulate.sgd_linear_regression(**_build(kwargs)), names)
        if result is not RAISED:
            _check_run(result, kwargs)

    inner()


def test_every_public_function_and_settings_class_has_a_test() -> None:
    public = {
        n
        for n in simulate.__all__
        if inspect.isfunction(getattr(simulate, n))
        or (isinstance(getattr(simulate, n), type) and not n.endswith("Run"))
    }
    covered = {"sgd_linear_regression", *SETTINGS_CLASSES, *MEAN_FIELD}
    assert public == covered, (
        f"without a test: {sorted(public - covered)}; not public: {sorted(covered - public)}"
    )


# --------------------------------------------------------------------------------------
# mean_field_sgd and its settings classes

# The mean-field simulator's public names (it may be absent from a partial checkout; the
# completeness test above then covers what is public).
MEAN_FIELD = {"mean_field_sgd", "MeanFieldRecording", "Teacher"} & set(simulate.__all__)


@st.composite
def mean_field_arguments(draw: st.DrawFn) -> dict[str, Any]:
    noise = draw(
        st.one_of(
            st.none(),
            st.tuples(
                reals(2.0, 0.0519, 1.5, inside=st.floats(0.06, 2.0)),
                reals(1.0, 1e-3, inside=st.floats(1e-3, 1.0)),
                st.sampled_from((*NOISE_KINDS, "gaussian")),
            ),
        )
    )
    return {
        "n_units": draw(mostly(st.integers(1, 4), any_count(4))),
        "dim": draw(mostly(st.integers(1, 3), any_count(3))),
        "eta": draw(reals(0.1, inside=st.floats(1e-3, 1.0))),
        "batch_size": draw(mostly(st.integers(1, 3), any_count(3))),
        "n_steps": draw(mostly(st.integers(1, 10), any_count(10))),
        "n_replicates": draw(mostly(st.integers(1, 3), any_count(3))),
        "network": (
            draw(mostly(st.sampled_from(("tanh", "relu", "sigmoid", "identity")), st.just("gelu"))),
            draw(mostly(st.sampled_from(("squared", "logistic")), st.just("hinge"))),
            draw(reals(1.0, inside=st.floats(0.1, 2.0))),
        ),
        "data": (
            draw(reals(0.0, inside=st.floats(0.0, 1.0))),
            draw(mostly(st.one_of(st.none(), st.integers(3, 6)), any_count(6))),
            draw(mostly(st.integers(0, 5), any_count(5))),
            draw(mostly(st.sampled_from(("independent", "shared")), st.just("other"))),
        ),
        "injected_noise": noise,
        "record": draw(st.sampled_from((None, ((0, 2), (1,), 1), ((5,), (), 0), ((3, 1), (), 0)))),
        "rng": draw(st.sampled_from((0, 1))),
    }


def _build_mean_field(kwargs: dict[str, Any]) -> dict[str, Any]:
    out = dict(kwargs)
    activation, loss, std = out["network"]
    out["network"] = simulate.MeanFieldNetwork(
        activation=activation, loss=loss, first_layer_std=std
    )
    label_noise, dataset_size, test_size, batches = out["data"]
    out["data"] = simulate.MeanFieldData(
        label_noise=label_noise, dataset_size=dataset_size, test_size=test_size, batches=batches
    )
    if out["injected_noise"] is not None:
        out["injected_noise"] = simulate.InjectedNoise(*out["injected_noise"])
    if out["record"] is not None:
        out["record"] = simulate.MeanFieldRecording(*out["record"])
    return out


def _check_mean_field(result: Any, kwargs: dict[str, Any]) -> None:
    r, n, d = kwargs["n_replicates"], kwargs["n_units"], kwargs["dim"]
    assert result.w.shape == (r, n, d) and result.a.shape == (r, n)
    div = result.diverged
    assert div.shape == (r,)
    bound = simulate.MEAN_FIELD_BOUND
    for values in (result.w[~div], result.a[~div]):
        assert np.all(np.isfinite(values)) and np.all(np.abs(values) <= bound)
    assert np.all(np.isnan(result.w[div]))
    for name in ("x_test", "y_test", "teacher_w", "teacher_c", "x_train", "y_train"):
        value = getattr(result, name)
        if value is not None:
            assert np.all(np.isfinite(value)), (name, value)
    for name in ("train_loss", "test_loss", "probe_outputs"):
        value = getattr(result, name)
        if value is not None:
            assert np.all(np.isfinite(value[~div])), (name, value)


@pytest.mark.skipif("mean_field_sgd" not in MEAN_FIELD, reason="no mean-field simulator")
def test_mean_field_sgd_over_the_double_range() -> None:
    names = list(inspect.signature(simulate.mean_field_sgd).parameters)
    names += [
        *inspect.signature(simulate.MeanFieldNetwork).parameters,
        *inspect.signature(simulate.MeanFieldData).parameters,
        *["alpha", "scale", "kind", "weight_steps", "loss_steps", "n_probe"],
    ]

    @configured(120)
    @given(mean_field_arguments())
    def inner(kwargs: dict[str, Any]) -> None:
        result = run(lambda: simulate.mean_field_sgd(**_build_mean_field(kwargs)), names)
        if result is not RAISED:
            _check_mean_field(result, kwargs)

    inner()


def test_the_checker_rejects_each_kind_of_fault() -> None:
    names = ["eta"]
    with pytest.raises(AssertionError):  # heavytail's error naming no argument
        run(lambda: (_ for _ in ()).throw(InvalidArgumentError("bad")), names)
    with pytest.raises(RuntimeWarning):  # unguarded numerics
        run(lambda: np.exp(np.array([1000.0])), names)
    with pytest.raises(ZeroDivisionError):  # an error that is not heavytail's
        run(lambda: 1 / 0, names)
    assert run(lambda: (_ for _ in ()).throw(InvalidArgumentError("`eta` bad")), names) is RAISED
