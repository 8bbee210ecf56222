"""mean_field_sgd: its gradient, records, data, divergence reporting and input checks."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from scipy.special import expit

from heavytail.simulate import (
    MEAN_FIELD_BOUND,
    InjectedNoise,
    MeanFieldData,
    MeanFieldNetwork,
    MeanFieldRecording,
    Teacher,
    mean_field_sgd,
)
from heavytail.theory import DivergenceWarning, InvalidArgumentError

FloatArray = npt.NDArray[np.float64]

PHI = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": expit,
    "identity": lambda z: z,
}
ACTS = list(PHI)
LOSSES = ["squared", "logistic"]


def _one_gd_step(act: str, loss: str, n: int = 24, dim: int = 4, m: int = 6) -> Any:
    """One full-batch step at eta = 1 from the recorded initialisation: (W0 - W1, a0 - a1)
    is then n times the gradient of the training loss at (W0, a0)."""
    return mean_field_sgd(
        n,
        dim,
        eta=1.0,
        batch_size=m,
        n_steps=1,
        network=MeanFieldNetwork(activation=act, loss=loss),
        data=MeanFieldData(dataset_size=m, test_size=0),
        record=MeanFieldRecording(weight_steps=(0, 1)),
        rng=3,
    )


def _n_loss(run: Any, w: FloatArray, a: FloatArray) -> float:
    """n times the mean training loss, in plain numpy."""
    n = w.shape[0]
    f = PHI[run.settings["network"].activation](run.x_train @ w.T) @ a / n
    y = run.y_train
    if run.settings["network"].loss == "logistic":
        return float(n * np.mean(np.logaddexp(0.0, -y * f)))
    return float(n * np.mean(0.5 * (f - y) ** 2))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("act", ACTS)
def test_gradient_against_finite_differences(act: str, loss: str) -> None:
    run = _one_gd_step(act, loss)
    w0, a0 = run.w_records[0, 0], run.a_records[0, 0]
    step_w, step_a = w0 - run.w_records[0, 1], a0 - run.a_records[0, 1]
    h = 1e-6
    # relu has kinks: the check needs every pre-activation farther than h from 0
    assert np.min(np.abs(run.x_train @ w0.T)) > 100 * h * np.abs(run.x_train).max()
    gen = np.random.default_rng(0)
    for i, j in zip(gen.integers(0, 24, 8), gen.integers(0, 4, 8), strict=True):
        wp, wm = w0.copy(), w0.copy()
        wp[i, j] += h
        wm[i, j] -= h
        fd = (_n_loss(run, wp, a0) - _n_loss(run, wm, a0)) / (2 * h)
        # central differences: error O(h^2) from the third derivative plus rounding
        # eps * |n L| / h ~ 1e-10 here; 1e-7 is far below the O(1) error of a wrong term
        assert step_w[i, j] == pytest.approx(fd, rel=1e-6, abs=1e-7)
    for i in gen.integers(0, 24, 5):
        ap, am = a0.copy(), a0.copy()
        ap[i] += h
        am[i] -= h
        fd = (_n_loss(run, w0, ap) - _n_loss(run, w0, am)) / (2 * h)
        assert step_a[i] == pytest.approx(fd, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("act", ACTS)
def test_gradient_against_torch_autograd(act: str, loss: str) -> None:
    torch = pytest.importorskip("torch")
    run = _one_gd_step(act, loss)
    w0 = torch.tensor(run.w_records[0, 0], dtype=torch.float64, requires_grad=True)
    a0 = torch.tensor(run.a_records[0, 0], dtype=torch.float64, requires_grad=True)
    x = torch.tensor(run.x_train, dtype=torch.float64)
    y = torch.tensor(run.y_train, dtype=torch.float64)
    phi = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}.get(act)
    z = x @ w0.T
    f = (phi(z) if phi else z) @ a0 / w0.shape[0]
    if loss == "logistic":
        value = torch.nn.functional.softplus(-y * f).mean()
    else:
        value = (0.5 * (f - y) ** 2).mean()
    (w0.shape[0] * value).backward()
    # both are exact gradients computed in different orders: agreement to rounding
    # (measured <= 7e-16 relative to the largest entry); 1e-12 leaves margin
    gw, ga = w0.grad.numpy(), a0.grad.numpy()
    step_w = run.w_records[0, 0] - run.w_records[0, 1]
    step_a = run.a_records[0, 0] - run.a_records[0, 1]
    np.testing.assert_allclose(step_w, gw, rtol=0, atol=1e-12 * np.abs(gw).max())
    np.testing.assert_allclose(step_a, ga, rtol=0, atol=1e-12 * np.abs(ga).max())


def test_a_unit_moves_order_eta_whatever_the_width() -> None:
    """Mean-field scaling: the first step of a unit does not shrink with n (it would
    like 1/n with the plain gradient of the loss)."""
    moves = []
    for n in (16, 1024):
        run = mean_field_sgd(
            n,
            4,
            eta=0.1,
            batch_size=32,
            n_steps=1,
            data=MeanFieldData(test_size=0),
            record=MeanFieldRecording(weight_steps=(0, 1)),
            rng=1,
        )
        moves.append(np.mean(np.abs(np.diff(run.w_records[0], axis=0))))
    # the ratio is an average over units of the same law: near 1 (here 0.9-1.1); a
    # 1/n scaling would give 64
    assert 0.5 < moves[0] / moves[1] < 2.0


def test_initialisation_replays_the_documented_streams() -> None:
    run = mean_field_sgd(
        5,
        3,
        eta=0.1,
        batch_size=2,
        n_steps=1,
        n_replicates=3,
        network=MeanFieldNetwork(first_layer_std=2.0),
        record=MeanFieldRecording(weight_steps=(0,)),
        rng=7,
    )
    _, _, rep_root = np.random.default_rng(7).spawn(3)
    for r, child in enumerate(rep_root.spawn(3)):
        unit, _ = child.spawn(2)
        c = 2.0 / math.sqrt(3)  # first_layer_std / sqrt(dim), applied to each normal
        assert np.array_equal(run.w_records[r, 0], c * unit.standard_normal((5, 3)))
        assert np.array_equal(run.a_records[r, 0], unit.standard_normal(5))
    ones = mean_field_sgd(
        5,
        3,
        eta=0.1,
        batch_size=2,
        n_steps=2,
        network=MeanFieldNetwork(second_layer_init="ones", train_second_layer=False),
        rng=7,
    )
    assert np.all(ones.a == 1.0)


def test_replicates_do_not_depend_on_how_many_follow() -> None:
    kw = dict(
        eta=0.2,
        batch_size=4,
        n_steps=20,
        data=MeanFieldData(dataset_size=12),
        injected_noise=InjectedNoise(1.5, 0.05, "elliptic"),
        rng=5,
    )
    three = mean_field_sgd(16, 3, n_replicates=3, **kw)
    five = mean_field_sgd(16, 3, n_replicates=5, **kw)
    assert np.array_equal(three.w, five.w[:3])
    assert np.array_equal(three.a, five.a[:3])
    assert not np.array_equal(five.w[3], five.w[4])  # negative control


def test_every_driver_gives_the_same_numbers() -> None:
    """A wide replicate alone (blocks over threads) and among others (replicates over
    threads) is the same network."""
    kw = dict(
        eta=0.1,
        batch_size=32,
        n_steps=5,
        data=MeanFieldData(test_size=20),
        injected_noise=InjectedNoise(1.75, 0.01, "unit"),
        record=MeanFieldRecording(loss_steps=(5,), n_probe=3),
        rng=2,
    )
    one = mean_field_sgd(1000, 16, n_replicates=1, **kw)
    two = mean_field_sgd(1000, 16, n_replicates=2, **kw)
    assert one.settings["driver"] != two.settings["driver"]
    assert one.settings["unit_block"] < 1000  # several blocks
    assert np.array_equal(one.w[0], two.w[0])
    assert np.array_equal(one.test_loss[0], two.test_loss[0])
    assert np.array_equal(one.probe_outputs[0], two.probe_outputs[0])


def test_shared_batches_make_replicates_differ_only_by_their_start() -> None:
    """Identity units with a = 1: u = mean(w) runs SGD on least squares, u_k = M_k u_{k-1}
    + c_k, so with shared batches u_r(k) - u_s(k) = (M_k ... M_1)(u_r(0) - u_s(0)), the
    same factor for every pair; with independent batches the factors differ."""
    kw = dict(
        eta=0.3,
        batch_size=1,
        n_steps=15,
        n_replicates=3,
        network=MeanFieldNetwork(
            activation="identity", train_second_layer=False, second_layer_init="ones"
        ),
        record=MeanFieldRecording(weight_steps=(0, 15)),
        rng=9,
    )
    ratios = {}
    for batches in ("shared", "independent"):
        run = mean_field_sgd(8, 1, data=MeanFieldData(batches=batches), **kw)
        u = run.w_records[:, :, :, 0].mean(axis=2)  # (R, 2)
        ratios[batches] = (u[1:, 1] - u[0, 1]) / (u[1:, 0] - u[0, 0])
    # the same factor up to rounding (the differences are O(0.1))
    assert ratios["shared"][0] == pytest.approx(ratios["shared"][1], rel=1e-9)
    assert abs(ratios["independent"][0] / ratios["independent"][1] - 1) > 1e-3


def test_records_losses_probes_and_outputs() -> None:
    rec = MeanFieldRecording(weight_steps=(0, 5, 10), loss_steps=(0, 10), n_probe=4)
    run = mean_field_sgd(
        32,
        3,
        eta=0.2,
        batch_size=5,
        n_steps=10,
        n_replicates=2,
        network=MeanFieldNetwork(loss="logistic"),
        data=MeanFieldData(dataset_size=20, test_size=30),
        record=rec,
        rng=8,
    )
    assert run.w_records.shape == (2, 3, 32, 3) and run.a_records.shape == (2, 3, 32)
    assert np.array_equal(run.w_records[:, -1], run.w)
    assert run.train_loss.shape == run.test_loss.shape == (2, 2)
    assert np.array_equal(run.weight_steps, [0, 5, 10]) and np.array_equal(run.loss_steps, [0, 10])
    assert np.array_equal(run.generalization_gap, run.test_loss - run.train_loss)
    # outputs() computes the same network outputs as the probes, and the losses from them
    for j, k in enumerate((0, 2)):
        out = run.outputs(run.x_test, run.w_records[:, k], run.a_records[:, k])
        assert np.array_equal(out[:, :4], run.probe_outputs[:, j])
        expected = np.logaddexp(0.0, -run.y_test * out).mean(axis=1)
        np.testing.assert_allclose(run.test_loss[:, j], expected, rtol=1e-13)
        out = run.outputs(run.x_train, run.w_records[:, k], run.a_records[:, k])
        expected = np.logaddexp(0.0, -run.y_train * out).mean(axis=1)
        np.testing.assert_allclose(run.train_loss[:, j], expected, rtol=1e-13)
    norms = run.unit_norms()
    assert norms.shape == (2, 32)
    np.testing.assert_allclose(norms, np.linalg.norm(run.w, axis=2), rtol=1e-14)
    with pytest.raises(ValueError, match="read-only"):
        run.w[0, 0, 0] = 1.0
    online = mean_field_sgd(
        8, 2, eta=0.1, batch_size=2, n_steps=3, rng=1, record=MeanFieldRecording(loss_steps=(3,))
    )
    assert online.train_loss is None and online.generalization_gap is None
    assert online.x_train is None and online.test_loss.shape == (1, 1)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("inputs", ["gaussian", "sphere"])
def test_data_follow_the_teacher(loss: str, inputs: str) -> None:
    teacher = Teacher(3, "relu", seed=4)
    run = mean_field_sgd(
        4,
        5,
        eta=0.1,
        batch_size=2,
        n_steps=1,
        network=MeanFieldNetwork(loss=loss),
        data=MeanFieldData(
            dataset_size=50, test_size=40, inputs=inputs, teacher=teacher, label_noise=0.0
        ),
        rng=3,
    )
    v, c = teacher.weights(5)
    assert np.array_equal(run.teacher_w, v) and np.array_equal(run.teacher_c, c)
    for x, y in ((run.x_train, run.y_train), (run.x_test, run.y_test)):
        f_star = np.maximum(x @ v.T, 0.0) @ c / math.sqrt(3)
        if loss == "logistic":
            assert np.array_equal(y, np.where(f_star >= 0, 1.0, -1.0))
        else:
            np.testing.assert_allclose(y, f_star, rtol=1e-13, atol=1e-15)
        if inputs == "sphere":
            np.testing.assert_allclose(np.linalg.norm(x, axis=1), math.sqrt(5), rtol=1e-14)
    other = mean_field_sgd(
        4,
        5,
        eta=0.1,
        batch_size=2,
        n_steps=1,
        data=MeanFieldData(dataset_size=50, teacher=teacher),
        rng=4,
    )
    assert np.array_equal(other.teacher_w, run.teacher_w)  # the teacher ignores rng


def test_divergence_is_reported_never_passed_on() -> None:
    rec = MeanFieldRecording(weight_steps=(0, 1, 60), loss_steps=(0, 1, 60), n_probe=2)
    with pytest.warns(DivergenceWarning, match="3 of 3 replicates diverged"):
        run = mean_field_sgd(
            8,
            4,
            eta=50.0,
            batch_size=4,
            n_steps=60,
            n_replicates=3,
            network=MeanFieldNetwork(activation="identity"),
            data=MeanFieldData(dataset_size=8),
            record=rec,
            rng=0,
        )
    assert run.n_diverged == 3 and run.diverged.all()
    assert np.all(run.divergence_step > 1)
    assert np.isnan(run.w).all() and np.isnan(run.a).all()
    # records before the divergence are kept and finite; later ones are NaN
    assert np.isfinite(run.w_records[:, :2]).all() and np.isnan(run.w_records[:, 2]).all()
    assert np.isfinite(run.test_loss[:, :2]).all() and np.isnan(run.test_loss[:, 2]).all()
    assert np.isnan(run.probe_outputs[:, 2]).all()
    assert np.isnan(run.outputs(run.x_test)).all()
    # just before it diverged, a replicate was still below the bound
    assert np.all(np.abs(run.w_records[:, 1]) <= MEAN_FIELD_BOUND)


def test_partial_divergence_marks_only_the_diverged() -> None:
    # alpha = 0.1 at sigma eta^(1/alpha) = 1: a draw exceeds the bound 1e50 with
    # probability about 1e-5, so over 16 x 4 entries x 1000 steps about a third of the
    # replicates diverge (13 of 40 with this seed)
    with pytest.warns(DivergenceWarning, match="13 of 40"):
        run = mean_field_sgd(
            16,
            4,
            eta=0.5,
            batch_size=2,
            n_steps=1000,
            n_replicates=40,
            injected_noise=InjectedNoise(0.1, 1024.0, "iid"),
            data=MeanFieldData(test_size=0),
            rng=1,
        )
    assert 0 < run.n_diverged < 40
    assert np.isnan(run.w[run.diverged]).all()
    assert np.isfinite(run.w[~run.diverged]).all()
    assert np.all((run.divergence_step >= 1) == run.diverged)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = mean_field_sgd(
            16,
            4,
            eta=0.5,
            batch_size=2,
            n_steps=1000,
            n_replicates=4,
            data=MeanFieldData(test_size=0),
            rng=1,
        )
    assert clean.n_diverged == 0 and np.all(clean.divergence_step == -1)


BAD: list[tuple[dict[str, Any], str]] = [
    (dict(n_units=0), "n_units"),
    (dict(dim=1.5), "dim"),
    (dict(eta=0.0), "eta"),
    (dict(eta=float("nan")), "eta"),
    (dict(batch_size=0), "batch_size"),
    (dict(n_steps=0), "n_steps"),
    (dict(n_replicates=0), "n_replicates"),
    (dict(data=MeanFieldData(dataset_size=3), batch_size=4), "batch_size"),
    (dict(network="tanh"), "network"),
    (dict(data=MeanFieldNetwork()), "data"),
    (dict(injected_noise=(1.5, 0.1)), "injected_noise"),
    (dict(injected_noise=InjectedNoise(0.05, 1e-3, "unit"), eta=1e-30), "injected_noise"),
    (dict(record="final"), "record"),
    (dict(record=MeanFieldRecording(weight_steps=(0, 11))), "weight_steps"),
    (
        dict(record=MeanFieldRecording(loss_steps=(1,)), data=MeanFieldData(test_size=0)),
        "loss_steps",
    ),
    (
        dict(
            record=MeanFieldRecording(loss_steps=(1,), n_probe=9), data=MeanFieldData(test_size=5)
        ),
        "n_probe",
    ),
    (dict(rng=-1), "rng"),
]


@pytest.mark.parametrize(("change", "name"), BAD, ids=[f"{n}-{i}" for i, (_, n) in enumerate(BAD)])
def test_bad_arguments_are_named(change: dict[str, Any], name: str) -> None:
    args = dict(n_units=4, dim=2, eta=0.1, batch_size=2, n_steps=10) | change
    with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
        mean_field_sgd(**args)


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: InjectedNoise(2.5, 0.1, "unit"), "alpha"),
        (lambda: InjectedNoise(1.5, 0.0, "unit"), "scale"),
        (lambda: InjectedNoise(1.5, 0.1, 1), "kind"),
        (lambda: InjectedNoise(1.5, 0.1, "gaussian"), "kind"),
        (lambda: MeanFieldNetwork(activation="gelu"), "activation"),
        (lambda: MeanFieldNetwork(loss="hinge"), "loss"),
        (lambda: MeanFieldNetwork(train_second_layer=1), "train_second_layer"),
        (lambda: MeanFieldNetwork(second_layer_init="zeros"), "second_layer_init"),
        (lambda: MeanFieldNetwork(first_layer_std=-1.0), "first_layer_std"),
        (lambda: MeanFieldData(teacher="tanh"), "teacher"),
        (lambda: MeanFieldData(label_noise=-0.1), "label_noise"),
        (lambda: MeanFieldData(inputs="uniform"), "inputs"),
        (lambda: MeanFieldData(dataset_size=0), "dataset_size"),
        (lambda: MeanFieldData(test_size=-1), "test_size"),
        (lambda: MeanFieldData(batches="some"), "batches"),
        (lambda: MeanFieldRecording(weight_steps=(3, 3)), "weight_steps"),
        (lambda: MeanFieldRecording(loss_steps=(-1,)), "loss_steps"),
        (lambda: MeanFieldRecording(loss_steps="5"), "loss_steps"),
        (lambda: MeanFieldRecording(n_probe=2), "n_probe"),
        (lambda: Teacher(0), "n_units"),
        (lambda: Teacher(2, "swish"), "activation"),
        (lambda: Teacher(2, seed=-3), "seed"),
    ],
)
def test_bad_options_are_named(make: Any, name: str) -> None:
    with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
        make()


def test_outputs_checks_its_arguments() -> None:
    run = mean_field_sgd(4, 2, eta=0.1, batch_size=2, n_steps=2, rng=0)
    with pytest.raises(InvalidArgumentError, match="`x`"):
        run.outputs(np.ones((3, 5)))
    with pytest.raises(InvalidArgumentError, match="`w`"):
        run.outputs(np.ones((3, 2)), w=np.ones((1, 4, 3)))
