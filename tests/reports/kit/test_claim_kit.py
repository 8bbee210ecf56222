"""The helper layer of claims: the toy claim written with it, the book, figure data, prose."""

from __future__ import annotations

import dataclasses
import doctest
import pickle

import numpy as np
import pytest

import heavytail.reports._kit.book as kit
from heavytail.reports import (
    Caption,
    Check,
    CheckBook,
    Claim,
    Control,
    Evidence,
    FigureData,
    Intervals,
    Layout,
    Measurement,
    Relation,
    Rule,
    Verdict,
    mean_interval,
)
from heavytail.reports._kit.book import and_list, number_set, number_word, power_of_ten
from heavytail.theory import InvalidArgumentError

from .._toy import CONTROL_SHIFT, RULE, SIZES, ToyData, ToySize, toy_claim

TOY = toy_claim("toy.mean")


def test_the_module_example_runs() -> None:
    """The whole claim in the module's notes runs and prints what it says."""
    result = doctest.testmod(kit, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 10
    assert result.failed == 0


def test_toy_claim_agrees_and_rejects_its_control() -> None:
    ev = TOY.run("smoke", rng=0)
    (check,) = ev.checks
    (control,) = ev.controls
    assert check.verdict is Verdict.AGREE and ev.verdict is Verdict.AGREE
    # The control is judged by the check's rule, on the check's measurement.
    assert control.measurement == check.measurement and control.rule == check.rule is RULE
    assert control.prediction == check.prediction + CONTROL_SHIFT
    assert control.verdict is Verdict.DISAGREE
    n = SIZES["smoke"].n
    assert dict(ev.settings) == {"n": n, "law": "N(truth, 1)", "interval_level": 0.95}
    assert isinstance(ev.data, ToyData) and ev.data.x.shape == (SIZES["smoke"].n,)


def test_toy_claim_disagrees_with_a_wrong_prediction() -> None:
    """Negative control of the pattern itself: data with mean 5 against the prediction 0."""
    ev = toy_claim("toy.mean", truth=5.0).run("smoke", rng=0)
    assert ev.verdict is Verdict.DISAGREE


def test_figure_frame() -> None:
    """A new figure gets the caption (footnote then note); given Axes get neither."""
    ev = TOY.run("smoke", rng=1)
    fig = TOY.figure(ev, note="seed 1")
    assert fig.get_suptitle() == "toy.mean: toy mean"
    assert fig.get_supxlabel() == f"n = {SIZES['smoke'].n}. seed 1"
    (panel,) = fig.get_axes()
    assert panel.get_title() == "toy.mean"
    from matplotlib.figure import Figure

    other = Figure()
    ax = other.subplots()
    assert TOY.figure(ev, ax) is other
    assert other.get_suptitle() == "" and ax.get_title() == "toy.mean"
    with pytest.raises(InvalidArgumentError, match="1 Axes"):
        TOY.figure(ev, other.subplots(1, 2))


def test_layout_is_checked() -> None:
    with pytest.raises(InvalidArgumentError, match="n_panels"):
        Layout(0)
    fig = Claim(
        "toy.two",
        "two panels",
        "s",
        "f",
        "src",
        SIZES,
        TOY.measure,
        lambda ev, axes: Caption("t", "f"),
        Layout(3, ncols=2),
    ).figure(TOY.run("smoke", rng=2))
    assert len(fig.get_axes()) == 3  # the fourth cell of the 2 x 2 grid is removed


def _m(level: float) -> Measurement:
    return Measurement(0.0, -0.1, 0.1, level=level)


def test_book_counts_its_checks() -> None:
    """The Bonferroni level is set for the declared checks: making fewer is an error, and
    so is a check at another level. Exact checks (level 1) do not count."""
    params = ToySize(10)
    book = CheckBook(params)
    assert book.declare(["a", "b"]) == pytest.approx(0.975)
    book.check("a", 0.0, _m(book.level), RULE)
    book.check("exact", 0.0, Measurement.exact(0.0), RULE)
    with pytest.raises(RuntimeError, match=r"missing \['b'\]"):
        book.evidence(None)
    book.check("b", 0.0, _m(0.95), RULE)
    with pytest.raises(RuntimeError, match="not at level"):
        book.evidence(None)
    with pytest.raises(InvalidArgumentError, match="params"):
        CheckBook(10)
    with pytest.raises(RuntimeError, match="declared before one is recorded"):
        CheckBook(params).check("a", 0.0, _m(0.95), RULE)


def test_book_sets_its_level_from_the_declared_checks() -> None:
    """A judge declares its checks by label: the level follows from their number, a check
    on sampled data outside them is refused, and the evidence needs each one once."""
    book = CheckBook(ToySize(10))
    with pytest.raises(RuntimeError, match="declared before"):
        _ = book.level
    assert book.declare(["a", "b", "c"]) == pytest.approx(1 - 0.05 / 3)
    assert book.level == pytest.approx(1 - 0.05 / 3)
    with pytest.raises(RuntimeError, match="already declared"):
        book.declare(["a"])
    with pytest.raises(RuntimeError, match="'d' on sampled data was not declared"):
        book.check("d", 0.0, _m(book.level), RULE)
    book.check("exact, not declared", 0.0, Measurement.exact(0.0), RULE)  # exact: free
    book.check("a", 0.0, _m(book.level), RULE)
    book.check("b", 0.0, _m(book.level), RULE)
    book.check("b", 0.0, _m(book.level), RULE)
    with pytest.raises(RuntimeError, match=r"missing \['c'\], made more than once \['b'\]"):
        book.evidence(None)
    done = CheckBook(ToySize(10))
    done.declare(["b", "a"])
    done.check("a", 0.0, _m(done.level), RULE)
    done.check("b", 0.0, _m(done.level), RULE)
    assert done.evidence(None).settings["interval_level"] == pytest.approx(0.975)
    with pytest.raises(InvalidArgumentError, match="repeated \\['x'\\]"):
        CheckBook(ToySize(10)).declare(["x", "y", "x"])
    with pytest.raises(InvalidArgumentError, match="`labels` must name at least one"):
        CheckBook(ToySize(10)).declare([])
    with pytest.raises(RuntimeError, match="declared before"):
        CheckBook(ToySize(10)).evidence(None)


def test_staged_measure_judges_the_grid_on_the_parameters_it_ran_with() -> None:
    """The composed measure runs the grid with the rng given, records the grid's own
    params (which may differ from those asked for), and the settings, given as a mapping
    or as a function of the grid and what the judge returned."""

    @dataclasses.dataclass(frozen=True)
    class Grid:
        x: np.ndarray
        params: ToySize

    def run_grid(params: ToySize, rng: np.random.Generator) -> Grid:
        return Grid(rng.normal(size=params.n), ToySize(params.n + 1))  # "resolved"

    def judge(grid: Grid, book: CheckBook) -> Measurement:
        m = mean_interval(grid.x, level=book.declare(["mean"]))
        book.check("mean", 0.0, m, RULE)
        return m

    def figure_data(grid: Grid, judged: Measurement) -> tuple[int, float]:
        return grid.x.size, judged.estimate

    measure = kit.staged_measure(run_grid, judge, figure_data, {"law": "N(0, 1)"})
    ev = measure(ToySize(50), np.random.default_rng(3))
    expected = np.random.default_rng(3).normal(size=50).mean()
    assert ev.data == (50, pytest.approx(expected, abs=1e-15))
    assert dict(ev.settings) == {"n": 51, "law": "N(0, 1)", "interval_level": 0.95}
    by_grid = kit.staged_measure(
        run_grid, judge, figure_data, lambda g, m: {"size": g.x.size, "mean": m.estimate}
    )
    settings = by_grid(ToySize(50), np.random.default_rng(3)).settings
    assert settings["size"] == 50 and settings["mean"] == pytest.approx(expected, abs=1e-15)


def test_book_records_controls_and_settings() -> None:
    book = CheckBook(ToySize(7))
    book.declare(["c"])
    other = Measurement.exact(2.0)
    book.check(
        "c", 0.0, _m(book.level), RULE, Control("x", 1.0), Control("y", 0.0, measurement=other)
    )
    at_most = Rule(Relation.AT_MOST, 0.0, "")
    book.control("z", 5.0, _m(0.5), at_most)
    ev = book.evidence("data", data="a setting named data", n=99)
    assert [c.label for c in ev.controls] == ["x", "y", "z"]
    assert ev.controls[0].measurement == ev.checks[0].measurement
    assert ev.controls[1].measurement == other and ev.controls[1].rule == RULE
    assert ev.controls[2].rule == at_most
    # The params first, then the extra settings (overriding), then the level.
    assert list(ev.settings) == ["n", "data", "interval_level"]
    assert ev.settings["n"] == 99 and ev.data == "data"


@dataclasses.dataclass(frozen=True, eq=False)
class _Data(FigureData):
    x: np.ndarray
    label: str


def test_figure_data_is_read_only_and_pickles() -> None:
    source = np.arange(3.0)
    d = _Data(source, "a")
    with pytest.raises(ValueError, match="read-only"):
        d.x[0] = 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.label = "b"  # type: ignore[misc]
    ev = Evidence((Check("m", 0.0, _m(0.95), RULE),), (), d, {"n": 1})
    back = pickle.loads(pickle.dumps(ev))
    np.testing.assert_array_equal(back.data.x, source)
    assert back.data.label == "a" and dict(back.settings) == {"n": 1}


def test_intervals() -> None:
    ms = [Measurement(1.0, 0.5, 2.0), Measurement(3.0, 3.0, 4.0)]
    iv = Intervals.of(ms)
    np.testing.assert_array_equal(iv.yerr, [[0.5, 0.0], [1.0, 1.0]])
    assert iv.shape == (2,) and len(iv) == 2
    np.testing.assert_array_equal(iv[1:].estimate, [3.0])
    np.testing.assert_array_equal(iv.shifted(1.0).low, [-0.5, 2.0])
    np.testing.assert_array_equal(iv.divided(2.0).high, [1.0, 2.0])
    assert iv.reshape(2, 1).shape == (2, 1)
    with pytest.raises(InvalidArgumentError, match="share a shape"):
        Intervals(np.zeros(2), np.zeros(3), np.zeros(2))
    with pytest.raises(InvalidArgumentError, match="positive"):
        iv.divided(0.0)
    with pytest.raises(ValueError, match="read-only"):
        iv.estimate[0] = 0.0


def test_errorbars_draw_intervals_in_the_measured_style() -> None:
    """Each bar spans its interval around its estimate; the style is MEASURED's unless
    overridden."""
    from matplotlib.figure import Figure

    from heavytail.reports._kit.style import MEASURED, errorbars

    ax = Figure().subplots()
    iv = Intervals(np.array([1.0, 2.0]), np.array([0.5, 1.0]), np.array([1.5, 4.0]))
    bars = errorbars(ax, [10, 20], iv, color="red", markersize=7, label="x")
    line = bars.lines[0]
    assert list(line.get_xdata()) == [10, 20] and list(line.get_ydata()) == [1.0, 2.0]
    assert line.get_marker() == MEASURED["marker"] and line.get_markersize() == 7
    (segments,) = bars.lines[2]
    spans = [tuple(seg[:, 1]) for seg in segments.get_segments()]
    assert spans == [(0.5, 1.5), (1.0, 4.0)]
    assert bars.get_label() == "x"


def test_prose() -> None:
    assert number_set((0.8, 1.0, 1.25)) == "{0.8, 1, 1.25}"
    assert and_list(["a", "b", "c"]) == "a, b and c"
    assert and_list(["a"]) == "a" and and_list(["a", "b"], "or") == "a or b"
    assert number_word(3) == "three" and number_word(12) == "12"
    assert power_of_ten(1_000_000) == "1e6" and power_of_ten(100_000) == "1e5"
    assert power_of_ten(1_500_000) == "1,500,000"
