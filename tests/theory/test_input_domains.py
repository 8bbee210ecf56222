"""Every public function of heavytail.theory, fed the classes of bad input that got through.

The classes (docs/design.md, "Conventions"): values spanning the whole double range,
subnormals, signed zeros, NaN and inf included; invalid distribution parameters; and
parameters at the edge of their domain. For each function, each call must either return
a finite result in the function's documented range, or raise heavytail's own error
(InvalidArgumentError, EstimationError, NoStationaryLawError, all HeavytailError) whose
message names one of the function's arguments. Any other exception, a NaN or inf where a
finite number is documented, a value out of range, or a warning that is not heavytail's
own (numpy's RuntimeWarnings mean unguarded numerics) fails the test.

Runs are deterministic (``derandomize=True``) and bounded (``max_examples`` per function,
chosen so that each function takes a few seconds). A function found at fault in a module
that this file's owner does not maintain is marked ``xfail(strict=True, raises=...)``
with the fault in its reason and the exception it raises named, so that the mark must go
when the fault is fixed and no other failure hides behind it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import heavytail.theory as theory
from heavytail.theory import InvalidArgumentError
from heavytail.theory.strategies import float_arrays

from .._domains import RAISED, counts, finite_in, mostly, positive, reals
from .._domains import run as run_checked

# --------------------------------------------------------------------------------------
# Strategies: scalars over the whole double range (tests/_domains.py), and this
# package's compound values.

BIG_INTS = mostly(
    st.integers(1, 2**62),
    st.one_of(
        st.integers(-(2**63), 2**63),
        st.sampled_from((0, 1, 2, 2**31, 2**53 + 1, 2**62, 2**64)),
    ),
)
KAPPAS = reals(1.0, 1e-300, 0.3, inside=positive(1.0))
NORMS = reals(2.0, 0.001, inside=positive())
METHODS = mostly(
    st.sampled_from(("magnitude", "node", "singular")), st.sampled_from(("bogus", None))
)


def matrices(max_side: int = 8) -> st.SearchStrategy[Any]:
    """2-D float arrays with entries over the whole double range (finite three times out of
    four), and malformed ones."""

    def shaped(finite: bool) -> st.SearchStrategy[Any]:
        return st.tuples(st.integers(0, max_side), st.integers(0, max_side)).flatmap(
            lambda s: float_arrays(
                min_size=s[0] * s[1],
                max_size=s[0] * s[1],
                allow_nan=not finite,
                allow_infinity=not finite,
            ).map(lambda x, s=s: x.reshape(s))
        )

    malformed = st.sampled_from(([], [[1.0], [1.0, 2.0]], "W", np.ones(3)))
    return mostly(shaped(True), st.one_of(shaped(False), malformed))


# --------------------------------------------------------------------------------------
# The check: a finite in-range result, or heavytail's own error naming an argument.

# Words by which an error message may name an argument, besides `name` itself.
ALIASES = {
    "batch_size": ("b", "batch"),
    "dim": ("d",),
    "eta": ("eta*sigma^2/b", "eta"),
    "sigma": ("eta*sigma^2/b",),
    # an EstimationError about the data names them by what it looked at
    "x": ("data", "sample", "values", "magnitudes", "observations", "entries"),
    "W": ("W",),
    "dist": ("dist",),
}


def run(call: Callable[[], Any], names: list[str]) -> Any:
    """:func:`tests._domains.run`, with the aliases above."""
    return run_checked(call, names, ALIASES)


def check_estimate(est: Any) -> None:
    assert isinstance(est, theory.TailEstimate)
    low, high = est.ci
    assert math.isfinite(est.alpha) and est.alpha > 0.0, est
    assert not (math.isnan(low) or math.isnan(high)) and low <= est.alpha <= high, est


# --------------------------------------------------------------------------------------
# One case per public function: its arguments' strategy and the range of its result.


@dataclass(frozen=True)
class Case:
    """A public function, a strategy for its keyword arguments, and a result check."""

    name: str
    arguments: st.SearchStrategy[dict[str, Any]]
    check: Callable[[Any, dict[str, Any]], None]
    call: Callable[..., Any] | None = None  # default: the public function itself
    examples: int = 60
    xfail: tuple[type[BaseException], str] | None = None  # (the exception, the fault)
    marks: tuple[Any, ...] = field(default_factory=tuple)

    def function(self) -> Callable[..., Any]:
        return self.call if self.call is not None else getattr(theory, self.name)


def in_unit(value: Any, kwargs: dict[str, Any]) -> None:
    assert finite_in(value, 0.0, 1.0), value


def nonincreasing_in_unit(value: Any, kwargs: dict[str, Any]) -> None:
    in_unit(value, kwargs)
    kappas = np.asarray(kwargs.get("kappas"), dtype=np.float64).ravel()
    order = np.argsort(kappas, kind="stable")
    assert np.all(np.diff(np.asarray(value).ravel()[order]) <= 0.0)


def finite(value: Any, kwargs: dict[str, Any]) -> None:
    assert finite_in(value), value


def estimate(value: Any, kwargs: dict[str, Any]) -> None:
    check_estimate(value)


def _k_in_range(k: Any, kwargs: dict[str, Any]) -> None:
    assert isinstance(k, int) and kwargs["minimum"] <= k <= kwargs["n"], (k, kwargs)


def samples_of(shape_of: Callable[[dict[str, Any]], tuple[int, ...]]) -> Callable[..., None]:
    def check(value: Any, kwargs: dict[str, Any]) -> None:
        assert isinstance(value, np.ndarray) and value.shape == shape_of(kwargs)
        assert np.all(np.isfinite(value)), value

    return check


def tail_index_range(value: Any, kwargs: dict[str, Any]) -> None:
    assert finite_in(value, 1e-3, 1000.0), value


def mc_estimate(value: Any, kwargs: dict[str, Any]) -> None:
    assert isinstance(value, theory.SGDMonteCarloEstimate)
    assert finite_in([value.estimate, value.se, *value.ci, *value.replicates]), value
    assert 0.0 <= value.ess_fraction <= 1.0 and value.se >= 0.0


def hill_plot_check(value: Any, kwargs: dict[str, Any]) -> None:
    assert isinstance(value, theory.HillPlot)
    assert finite_in(value.alpha, 0.0) and np.all(value.alpha > 0.0), value.alpha
    assert not np.any(np.isnan(value.ci_low)) and not np.any(np.isnan(value.ci_high))
    assert np.all(value.ci_low <= value.alpha) and np.all(value.alpha <= value.ci_high)


def k_selection(value: Any, kwargs: dict[str, Any]) -> None:
    assert isinstance(value, theory.KSelection)
    assert value.k >= 1 and finite_in(value.ks_distance, 0.0, 1.0)


def stable_fit(value: Any, kwargs: dict[str, Any]) -> None:
    assert isinstance(value, theory.StableQuantileFit)
    assert finite_in(value.alpha, 0.0, 2.0) and value.alpha > 0.0
    assert finite_in(value.beta, -1.0, 1.0)
    assert finite_in(value.scale, 0.0) and value.scale > 0.0 and finite_in(value.loc)


def gof(value: Any, kwargs: dict[str, Any]) -> None:
    assert isinstance(value, theory.StableGoodnessOfFit)
    # documented: statistic inf (and ecf_alpha nan, with a note) when it cannot be computed
    if math.isinf(value.statistic):
        assert value.statistic > 0.0 and value.note and not value.accepted
    else:
        assert finite_in(value.statistic, 0.0) and finite_in(value.ecf_alpha), value


def bound(value: Any, kwargs: dict[str, Any]) -> None:
    assert isinstance(value, theory.CompressionBound)
    numbers = [value.gap_bound, value.kappa, value.eps, value.radius]
    assert finite_in(numbers), value
    assert value.value is None or math.isfinite(value.value)


def nonpositive(value: Any, kwargs: dict[str, Any]) -> None:
    assert finite_in(value, -math.inf, 0.0), value


def sensitivity(value: Any, kwargs: dict[str, Any]) -> None:
    # documented: S(k) >= 0, inf when the estimate is undefined somewhere in the window
    assert isinstance(value, float) and value >= 0.0, value


def in_zero_two(value: Any, kwargs: dict[str, Any]) -> None:
    assert finite_in(value, 0.0, 2.0), value


def loss_range(value: Any, kwargs: dict[str, Any]) -> None:
    top = 1.0 if kwargs["loss"] == "ramp" else kwargs["clip"]
    assert finite_in(value, 0.0, top), value


def mapping_in_unit(value: Any, kwargs: dict[str, Any]) -> None:
    assert isinstance(value, dict) and all(0.0 < v <= 1.0 for v in value.values()), value


def positive_count(value: Any, kwargs: dict[str, Any]) -> None:
    assert isinstance(value, int) and value >= 1, value


# Laws for limit_relative_error: families with 0 or 1 shape parameter, with any values
# (negative, zero, NaN, inf, subnormal, huge) for the shape, loc and scale. levy_stable is
# left out: scipy finds its quantiles numerically, at tens of seconds a law.
FAMILIES = (
    ("t", 1),
    ("pareto", 1),
    ("lomax", 1),
    ("invgamma", 1),
    ("gamma", 1),
    ("lognorm", 1),
    ("cauchy", 0),
    ("halfcauchy", 0),
    ("norm", 0),
    ("laplace", 0),
    ("uniform", 0),
    ("expon", 0),
    ("levy", 0),
)


@st.composite
def laws(draw: st.DrawFn) -> Any:
    name, n_shapes = draw(st.sampled_from(FAMILIES))
    shapes = [draw(reals(1.0, 2.0, 3.0, inside=st.floats(0.1, 20.0))) for _ in range(n_shapes)]
    loc = draw(st.one_of(st.just(0.0), st.just(0.0), reals()))
    scale = draw(st.one_of(st.just(1.0), st.just(1.0), reals(inside=positive())))
    return getattr(stats, name)(*shapes, loc=loc, scale=scale)


def _kw(**strategies: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(strategies)


ALPHAS = reals(2.0, 0.0519, 0.104, 1.0, inside=positive(2.0))
SEEDS = st.sampled_from((0, 1, 2))
SCALES = reals(1.0, 7.1e297, inside=positive())
SGD = {
    "eta": reals(1.0, 5.56e-309, inside=st.floats(1e-3, 4.0)),
    "batch_size": counts(8, 2_000_000, 2_000_001),
    "dim": counts(8, 2_000_000),
    "sigma": reals(1.0, inside=st.floats(0.1, 2.0)),
}
MC = {
    "eta": reals(0.5, inside=st.floats(1e-3, 1.0)),
    "batch_size": counts(4),
    "cov": mostly(
        st.lists(st.floats(1e-3, 10.0), min_size=1, max_size=3),
        st.one_of(float_arrays(max_size=3), st.sampled_from(([[1.0, 2.0], [2.0, 1.0]],))),
    ),
    "n_particles": counts(16, low=2),
    "n_steps": counts(4),
    "burn_in": counts(3, low=0),
    "n_replicates": counts(3, low=2),
    "rng": SEEDS,
}
# For the tail index by Monte Carlo: settings near the stability boundary, where the
# index lies in the range [0.05, 20] that the method resolves.
MC_TAIL = {
    **MC,
    "eta": reals(0.5, inside=st.floats(0.6, 1.4)),
    "batch_size": counts(2),
    "n_particles": counts(200, low=50),
    "n_steps": counts(20, low=10),
    "cov": mostly(
        st.lists(st.floats(0.7, 1.0), min_size=1, max_size=3),
        st.one_of(float_arrays(max_size=3), st.sampled_from(([[1.0, 2.0], [2.0, 1.0]],))),
    ),
}
X = mostly(
    float_arrays(max_size=60, allow_nan=False, allow_infinity=False), float_arrays(max_size=60)
)
K = st.one_of(st.none(), counts(70, 1, 2))


def _fit(x: Any) -> Any:
    return theory.fit_stable_quantiles(theory.sample_stable(1.5, 400, rng=3))


CASES = [
    # best k-term errors, limits, rates (theory/_compress.py)
    Case("relative_error", _kw(x=X, kappa=KAPPAS, p=NORMS), in_unit, examples=150),
    Case(
        "relative_error_curve",
        _kw(x=X, kappas=st.lists(KAPPAS, max_size=5), p=NORMS),
        nonincreasing_in_unit,
        examples=150,
    ),
    Case(
        "limit_relative_error",
        _kw(
            dist=mostly(laws(), st.sampled_from((None, stats.poisson(3.0)))),
            kappa=KAPPAS,
            p=reals(2.0, 300.0, inside=st.floats(0.01, 50.0)),
        ),
        in_unit,
        examples=25,
    ),
    Case(
        "compressibility_exponent",
        _kw(alpha=ALPHAS, p=reals(2.0, 5.56e-309, inside=positive())),
        nonpositive,
    ),
    Case(
        "expected_relative_error",
        _kw(
            alpha=ALPHAS,
            n=st.one_of(st.integers(1, 2**62), st.integers(1, 100), BIG_INTS),
            kappa=KAPPAS,
            p=reals(2.0, inside=positive(4.0)),
            correction=mostly(st.sampled_from((True, False)), st.sampled_from((1, None))),
        ),
        in_unit,
        examples=200,
    ),
    # pruning (theory/_prune.py)
    Case(
        "pruning_curve",
        _kw(
            W=matrices(),
            kappas=st.lists(KAPPAS, max_size=4),
            method=METHODS,
            centre=st.sampled_from(("none", "median", "mean")),
        ),
        nonincreasing_in_unit,
        examples=100,
    ),
    Case(
        "pruning_error",
        _kw(W=matrices(), kappa=KAPPAS, method=METHODS, centre=st.sampled_from(("none", "median"))),
        in_unit,
        examples=100,
    ),
    Case(
        "prunable_fraction",
        _kw(
            W=matrices(),
            eps=reals(1.0, 0.5, inside=st.floats(0.0, 1.0)),
            method=METHODS,
            centre=st.sampled_from(("none", "median")),
        ),
        in_unit,
        examples=100,
    ),
    Case(
        "parameter_count",
        _kw(shape=st.tuples(BIG_INTS, BIG_INTS), kappa=KAPPAS, method=METHODS),
        positive_count,
    ),
    Case(
        "matched_kappas",
        _kw(shape=st.tuples(BIG_INTS, BIG_INTS), columns=BIG_INTS),
        mapping_in_unit,
    ),
    # stable laws and the matrix ensembles (theory/_stable.py, theory/_ensembles.py)
    Case(
        "sample_stable",
        _kw(
            alpha=ALPHAS,
            size=st.one_of(counts(50), st.tuples(counts(6), counts(6))),
            beta=reals(1.0, -1.0, inside=st.floats(-1.0, 1.0)),
            scale=SCALES,
            loc=reals(inside=st.floats(-1e300, 1e300)),
            rng=SEEDS,
        ),
        samples_of(lambda kw: (kw["size"],) if isinstance(kw["size"], int) else kw["size"]),
        examples=150,
    ),
    Case(
        "sample_elliptic_stable",
        _kw(alpha=ALPHAS, size=counts(30), dim=counts(5), scale=SCALES, rng=SEEDS),
        samples_of(lambda kw: (kw["size"], kw["dim"])),
        examples=150,
    ),
    *(
        Case(
            name,
            _kw(alpha=ALPHAS, d=counts(6), n=counts(6), scale=SCALES, rng=SEEDS),
            samples_of(lambda kw: (kw["d"], kw["n"])),
            examples=100,
        )
        for name in ("iid_entries_matrix", "iid_columns_matrix", "elliptic_layer_matrix")
    ),
    # the meanings of alpha (theory/_convert.py)
    *(
        Case(
            name,
            _kw(**{arg: st.one_of(reals(*edges), st.lists(reals(*edges), max_size=3))}),
            finite,
            examples=100,
        )
        for name, arg, edges in (
            ("pdf_exponent_from_tail_index", "alpha", (0.0,)),
            ("tail_index_from_pdf_exponent", "pdf_exponent", (1.0,)),
            ("ev_index_from_tail_index", "alpha", (5.56e-309,)),
            ("tail_index_from_ev_index", "xi", (5.56e-309,)),
            ("stable_index_from_tail_index", "alpha", (2.0,)),
            ("esd_exponent_from_tail_index", "alpha", (2.0,)),
            ("tail_index_from_esd_exponent", "mu", (1.0, 2.0)),
        )
    ),
    # the tail index of SGD by quadrature (theory/_sgd_h.py)
    Case(
        "sgd_h",
        _kw(
            s=st.one_of(
                reals(0.0, 1000.0, inside=st.floats(0.0, 1000.0)),
                st.lists(reals(1000.0, inside=st.floats(0.0, 1000.0)), max_size=2),
            ),
            log=st.just(True),
            **SGD,
        ),
        finite,
        examples=40,
    ),
    Case("sgd_lyapunov_exponent", _kw(**SGD), finite, examples=25),
    Case("sgd_tail_index", _kw(**SGD), tail_index_range, examples=20),
    Case("sgd_variance_threshold", _kw(batch_size=BIG_INTS, dim=BIG_INTS), in_zero_two),
    # ... and by Monte Carlo (theory/_sgd_mc.py)
    Case(
        "sgd_log_h_monte_carlo",
        _kw(s=reals(0.0, 20.0, inside=st.floats(0.0, 20.0)), **MC),
        mc_estimate,
        examples=40,
    ),
    Case("sgd_lyapunov_exponent_monte_carlo", _kw(**MC), mc_estimate, examples=40),
    Case("sgd_tail_index_monte_carlo", _kw(**MC_TAIL), mc_estimate, examples=25),
    # tail-index estimators (their parameters; test_estimator_fuzz.py fuzzes their data)
    Case("hill_estimator", _kw(x=X, k=K), estimate),
    Case("pickands_estimator", _kw(x=X, k=K), estimate),
    Case("moment_estimator", _kw(x=X, k=K), estimate),
    Case("block_sum_estimator", _kw(x=X, block_size=K), estimate),
    Case("quantile_estimator", _kw(x=X, n_boot=counts(20, 1), rng=SEEDS), estimate, examples=30),
    Case(
        "estimate_tail_index",
        _kw(x=X, method=st.sampled_from(("hill", "pickands", "moment", "block_sum", "bogus"))),
        estimate,
    ),
    Case("fit_stable_quantiles", _kw(x=X), stable_fit),
    Case(
        "stable_goodness_of_fit",
        _kw(x=X, fit=st.just(None), threshold=reals(25.0, inside=positive(100.0))),
        gof,
        call=lambda x, fit, threshold: theory.stable_goodness_of_fit(
            x, _fit(x), threshold=threshold
        ),
        examples=30,
    ),
    Case(
        "hill_plot",
        _kw(x=X, ks=st.one_of(st.none(), st.lists(counts(70), max_size=4))),
        hill_plot_check,
    ),
    Case(
        "k_sensitivity",
        _kw(x=X, k=counts(70, 1), method=st.sampled_from(("hill", "moment"))),
        sensitivity,
    ),
    Case(
        "select_k",
        _kw(x=X, method=st.sampled_from(("hill", "moment", "bogus"))),
        k_selection,
        examples=30,
    ),
    # the generalization bound (theory/_generalization.py)
    Case("default_kappas", _kw(n=BIG_INTS.filter(lambda n: n < 2**40)), in_unit),
    Case(
        "bounded_loss",
        _kw(
            outputs=X,
            targets=st.one_of(X, st.just(np.ones(3)), st.just(-np.ones(3))),
            loss=st.sampled_from(("ramp", "clipped_squared", "bogus")),
            margin=st.one_of(st.none(), reals(1.0, inside=positive(10.0))),
            clip=st.one_of(st.none(), reals(1.0, inside=positive(10.0))),
        ),
        loss_range,
    ),
    Case(
        "compression_bound",
        _kw(
            W=matrices(5),
            a=float_arrays(max_size=5),
            input_radius=reals(1.0, inside=positive(1e6)),
            m=BIG_INTS,
            delta=reals(0.05, 1.0, inside=positive(1.0)),
        ),
        bound,
        examples=40,
    ),
    Case(
        "k_of_fraction",
        _kw(n=BIG_INTS, fraction=KAPPAS, minimum=counts(5)),
        _k_in_range,
    ),
    Case(
        "network_output",
        _kw(
            W=matrices(5),
            a=st.one_of(st.none(), float_arrays(max_size=5)),
            X=matrices(5),
            phi=st.sampled_from(("tanh", "relu", "sigmoid", "identity", "bogus")),
        ),
        samples_of(lambda kw: (np.shape(kw["X"])[0],)),
        examples=40,
    ),
]


def _param(case: Case) -> Any:
    marks = []
    if case.xfail is not None:
        raises, reason = case.xfail
        marks.append(pytest.mark.xfail(strict=True, raises=raises, reason=reason))
    return pytest.param(case, id=case.name, marks=[*marks, *case.marks])


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_each_call_is_finite_in_range_or_raises_naming_an_argument(case: Case) -> None:
    function = case.function()
    names = list(inspect.signature(getattr(theory, case.name)).parameters)

    @settings(
        max_examples=case.examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case.arguments)
    def inner(kwargs: dict[str, Any]) -> None:
        result = run(lambda: function(**kwargs), names)
        if result is not RAISED:
            case.check(result, kwargs)

    inner()


def test_every_public_function_has_a_case() -> None:
    public = {
        n
        for n in theory.__all__
        if inspect.isfunction(getattr(theory, n)) and not n.startswith("_")
    }
    covered = {c.name for c in CASES}
    assert public == covered, (
        f"public functions without a case: {sorted(public - covered)}; "
        f"cases for names that are not public: {sorted(covered - public)}"
    )


# --------------------------------------------------------------------------------------
# Negative controls: the checker itself must reject each kind of fault.


def test_the_checker_rejects_each_kind_of_fault() -> None:
    names = ["x", "kappa"]
    # an error that is not heavytail's
    with pytest.raises(ValueError, match="math domain"):
        run(lambda: math.log(-1.0), names)
    # heavytail's error that names no argument
    with pytest.raises(AssertionError):
        run(lambda: (_ for _ in ()).throw(InvalidArgumentError("something is wrong")), names)
    # a numpy RuntimeWarning (unguarded numerics)
    with pytest.raises(RuntimeWarning):
        run(lambda: np.log(np.array([-1.0])), names)
    # a NaN, or a value out of range, where [0, 1] is documented
    for bad in (math.nan, 1.5, -0.0 - 1e-300):
        with pytest.raises(AssertionError):
            in_unit(run(lambda b=bad: b, names), {})
    # and accepts what is right
    assert run(lambda: (_ for _ in ()).throw(InvalidArgumentError("`kappa` bad")), names) is RAISED
    in_unit(run(lambda: 0.25, names), {})
