"""Claim ``sgd.tail``: online SGD on least squares has the tail index of h(alpha) = 1."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from scipy.special import gammaincinv

from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_int, check_real
from heavytail.simulate import sgd_linear_regression
from heavytail.theory import (
    DivergenceWarning,
    InvalidArgumentError,
    hill_estimator,
    k_of_fraction,
    sgd_tail_index,
    sgd_variance_threshold,
)

from .._kit.book import CheckBook, Control, FigureData, Intervals, staged_measure
from .._kit.claim import Caption, Claim, Evidence, Layout
from .._kit.style import PALETTE, PREDICTED, errorbars
from .._kit.verdict import Measurement, Relation, Rule

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CLAIM", "Setting", "SgdTailData", "SgdTailSize", "hill_at_fraction"]


@dataclass(frozen=True)
class Setting:
    """One SGD setting: step size, batch size, dimension and feature scale.

    ``threshold`` marks a setting placed at eta sigma^2 = 2b/(b + d + 1), where the
    prediction alpha = 2 is exact algebra (h(2) = 1) rather than a root found numerically.
    """

    eta: float
    batch_size: int
    dim: int = 1
    sigma: float = 1.0
    threshold: bool = False

    @classmethod
    def at_threshold(cls, batch_size: int, dim: int, sigma: float = 1.0) -> Setting:
        """The setting with eta sigma^2 = 2b/(b + d + 1): tail index exactly 2."""
        eta = sgd_variance_threshold(batch_size, dim=dim) / sigma**2
        return cls(eta, batch_size, dim, sigma, threshold=True)

    @property
    def label(self) -> str:
        sig = "" if self.sigma == 1.0 else f", σ={self.sigma:g}"
        return f"η={self.eta:.3g}, b={self.batch_size}, d={self.dim}{sig}"

    def prediction(self) -> float:
        """The predicted tail index: 2 at the threshold, else ``sgd_tail_index``."""
        if self.threshold:
            return 2.0
        return sgd_tail_index(self.eta, self.batch_size, dim=self.dim, sigma=self.sigma)


@dataclass(frozen=True)
class SgdTailSize:
    """Parameters of one size of ``sgd.tail``.

    Attributes
    ----------
    settings : tuple of Setting
        The grid of (eta, b, d, sigma).
    n_chains : int
        Independent chains per setting; the sample is their final iterates.
    n_steps : int
        SGD steps per chain (from x_0 = 0).
    k_fraction : float
        Hill uses the top ``k_fraction * n_chains`` norms.
    finite_sizes : tuple of int
        Dataset sizes m of the finite-sum panel (empty: no panel).
    finite_setting : Setting
        The (online) setting whose finite-sum versions the panel shows.
    finite_chains, finite_steps : int
        Chains and steps of each finite-sum run (steps: several epochs of the largest m).
    """

    settings: tuple[Setting, ...]
    n_chains: int
    n_steps: int
    k_fraction: float
    finite_sizes: tuple[int, ...]
    finite_setting: Setting
    finite_chains: int
    finite_steps: int

    def __post_init__(self) -> None:
        if not self.settings:
            raise InvalidArgumentError("`settings` must hold at least one setting")
        check_int(self.n_chains, "n_chains", low=100)
        check_int(self.n_steps, "n_steps", low=1)
        check_real(self.k_fraction, "k_fraction", low=0.0, high=0.5, low_open=True)
        for m in self.finite_sizes:
            check_int(m, "finite_sizes[i]", low=self.finite_setting.batch_size)
        check_int(self.finite_chains, "finite_chains", low=100)
        check_int(self.finite_steps, "finite_steps", low=1)


_FINITE = Setting.at_threshold(1, 2)

_QUICK_GRID = (
    Setting(0.55, 1, 1),
    Setting.at_threshold(1, 1),
    Setting(0.8, 1, 1),
    Setting(1.0, 1, 1),
    Setting.at_threshold(1, 1, sigma=2.0),
    Setting.at_threshold(2, 1),
    Setting(1.2, 2, 1),
    Setting.at_threshold(4, 1),
    Setting(1.6, 4, 1),
    _FINITE,
    Setting(0.6, 1, 2),
    Setting(0.7, 2, 2),
    Setting.at_threshold(2, 2),
    Setting(0.95, 2, 2),
    Setting.at_threshold(4, 2),
)
# Full adds a larger batch, a larger dimension, and d = 4, where rho = -0.065 makes the
# chains mix slowly (1/|rho| = 15 steps, well inside 300).
_FULL_GRID = (
    *_QUICK_GRID,
    Setting.at_threshold(8, 1),
    Setting.at_threshold(3, 3),
    Setting.at_threshold(1, 4),
)

#: Hill reads the top K_FRACTION of the chains' norms.
K_FRACTION = 0.01

SIZES = {
    # Machinery only: too few chains for an informative interval.
    "smoke": SgdTailSize(
        (Setting(0.55, 1, 1), Setting.at_threshold(2, 1)),
        4_000,
        60,
        K_FRACTION,
        (8, 32),
        _FINITE,
        2_000,
        100,
    ),
    "quick": SgdTailSize(
        _QUICK_GRID, 100_000, 150, K_FRACTION, (8, 16, 32, 64, 128), _FINITE, 20_000, 500
    ),
    "full": SgdTailSize(
        _FULL_GRID,
        1_000_000,
        300,
        K_FRACTION,
        (4, 8, 16, 32, 64, 128, 256, 512),
        _FINITE,
        200_000,
        2_000,
    ),
}

_ALPHAS = [s.prediction() for size in SIZES.values() for s in size.settings]
#: The range of the predicted tail indices of the grid, to 0.1 outwards (for the text).
ALPHA_RANGE = (math.floor(10 * min(_ALPHAS)) / 10, math.ceil(10 * max(_ALPHAS)) / 10)

#: Negative control 1: the prediction for a step size this many times the true one.
CONTROL_ETA_FACTOR = 0.8

#: Level of the intervals of the finite-sum panel (descriptive, not a check).
FINITE_LEVEL = 0.95

#: Relative tolerance on alpha for the bias of Hill at k = 1% of the chains.
RELATIVE_TOLERANCE = 0.05
_TOLERANCE_REASON = (
    "Hill at k = 1% of n reads the top 1% of a law that is not Pareto there; on laws with "
    "a Gaussian-like body and a power tail of index <= 3 its bias measured at n = 1e6 "
    "is at most 4.0% in magnitude (Student t with df 1 to 3: -3.8% at df 3; the SGD law "
    "itself at eta = 0.53, b = d = 1, alpha = 2.70: -4.0%), plus 1% for the standard "
    "error of that measurement (1e4 exceedances); hence 5% of alpha. The grid keeps "
    f"alpha <= {ALPHA_RANGE[1]:g}, below where the bias grows (-6.2% for Student t with df "
    "3.5). Measured by hill_bias_table (python -m heavytail.reports._claims.sgd_tail)."
)


def hill_at_fraction(magnitudes: npt.ArrayLike, k_fraction: float, level: float) -> Measurement:
    """Hill's alpha from the top ``k_fraction`` of ``magnitudes``, with its exact interval.

    The interval alpha_hat * [g_(1-level)/2(k), g_(1+level)/2(k)] / k, g_p(k) the
    p-quantile of Gamma(k, 1), has coverage ``level`` when the tail above the (k+1)-th
    largest value is exactly Pareto (see :func:`heavytail.theory.hill_estimator`); the
    departure from Pareto is the claim's tolerance.
    """
    x = np.asarray(magnitudes, dtype=np.float64)
    k = k_of_fraction(x.size, k_fraction)
    est = hill_estimator(x, k=k)
    low = est.alpha * gammaincinv(k, (1.0 - level) / 2.0) / k
    high = est.alpha * gammaincinv(k, (1.0 + level) / 2.0) / k
    return Measurement(est.alpha, float(low), float(high), level=level)


def _rule(prediction: float, control: float) -> Rule:
    gap = abs(control - prediction)
    return Rule(
        Relation.EQUAL,
        RELATIVE_TOLERANCE * prediction,
        _TOLERANCE_REASON,
        max_width=gap,
        width_reason=(
            f"an interval wider than the distance ({gap:.3g}) to the prediction for a step "
            f"size {CONTROL_ETA_FACTOR:g} times as large could not tell the two apart."
        ),
    )


def _eta_control(s: Setting) -> float:
    return sgd_tail_index(CONTROL_ETA_FACTOR * s.eta, s.batch_size, dim=s.dim, sigma=s.sigma)


def _heuristic(s: Setting) -> float:
    """The "alpha depends on eta sigma^2 / b only" heuristic: the b = d = 1 value."""
    return sgd_tail_index(s.eta * s.sigma**2 / s.batch_size, 1, dim=1)


def _simulate(
    s: Setting, n_chains: int, n_steps: int, rng: np.random.Generator, dataset_size: int | None
) -> tuple[FloatArray, int]:
    """Norms of the final iterates of the chains that did not diverge, and the count."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)  # counted in the result
        run = sgd_linear_regression(
            s.eta,
            s.batch_size,
            dim=s.dim,
            sigma=s.sigma,
            noise_std=1.0,
            n_chains=n_chains,
            n_steps=n_steps,
            dataset_size=dataset_size,
            rng=rng,
        )
    ok = ~run.diverged
    return np.linalg.norm(run.iterates[ok], axis=1), run.n_diverged


@dataclass(frozen=True, eq=False)
class SgdTailData(FigureData):
    """Measured against predicted tail indices online; the finite-sum estimates against m.

    Attributes
    ----------
    settings : tuple of Setting
        The online grid.
    predicted : ndarray, shape (setting,)
        The predicted tail index of each setting.
    measured : Intervals, shape (setting,)
        Hill's estimate with its simultaneous interval.
    eta_control, heuristic : ndarray, shape (setting,)
        The control predictions: for eta x CONTROL_ETA_FACTOR, and from eta sigma^2 / b.
    diverged : ndarray of int, shape (setting,)
        Chains that diverged (left out of the sample).
    finite_sizes : ndarray of int
        Dataset sizes m of the finite-sum panel.
    finite : Intervals, shape (m,)
        Hill's estimate for each m, with its 95% interval.
    finite_diverged : ndarray of int, shape (m,)
    finite_prediction : float
        The online prediction of the finite-sum setting.
    params : SgdTailSize
    """

    settings: tuple[Setting, ...]
    predicted: FloatArray
    measured: Intervals
    eta_control: FloatArray
    heuristic: FloatArray
    diverged: npt.NDArray[np.int64]
    finite_sizes: npt.NDArray[np.int64]
    finite: Intervals
    finite_diverged: npt.NDArray[np.int64]
    finite_prediction: float
    params: SgdTailSize


@dataclass(frozen=True)
class SgdTailGrid:
    """The norms of the final iterates of the chains that did not diverge.

    ``norms[i]`` and ``diverged[i]`` belong to ``params.settings[i]`` (online);
    ``finite_norms[i]`` and ``finite_diverged[i]`` to ``params.finite_sizes[i]``.
    """

    norms: tuple[FloatArray, ...]
    diverged: tuple[int, ...]
    finite_norms: tuple[FloatArray, ...]
    finite_diverged: tuple[int, ...]
    params: SgdTailSize


def run_grid(params: SgdTailSize, rng: np.random.Generator) -> SgdTailGrid:
    """Every online setting's chains, then the finite-sum setting's at each dataset size."""
    online_rng, finite_rng = rng.spawn(2)
    online = [
        _simulate(s, params.n_chains, params.n_steps, g, None)
        for s, g in zip(params.settings, online_rng.spawn(len(params.settings)), strict=True)
    ]
    finite = [
        _simulate(params.finite_setting, params.finite_chains, params.finite_steps, g, size)
        for size, g in zip(
            params.finite_sizes, finite_rng.spawn(len(params.finite_sizes)), strict=True
        )
    ]
    return SgdTailGrid(
        tuple(norms for norms, _ in online),
        tuple(n_div for _, n_div in online),
        tuple(norms for norms, _ in finite),
        tuple(n_div for _, n_div in finite),
        params,
    )


def _what(s: Setting) -> str:
    what = "threshold: α = 2 at ησ² = 2b/(b+d+1)" if s.threshold else "α = sgd_tail_index"
    return f"{s.label}; {what}"


def judge(grid: SgdTailGrid, book: CheckBook) -> list[Measurement]:
    """Hill's index of each online setting against its prediction; the measurements."""
    settings = grid.params.settings
    level = book.declare(_what(s) for s in settings)
    measured = [hill_at_fraction(x, grid.params.k_fraction, level) for x in grid.norms]
    for s, m in zip(settings, measured, strict=True):
        pred, ctrl = s.prediction(), _eta_control(s)
        eta_label = f"{s.label}; control: α predicted for η × {CONTROL_ETA_FACTOR:g}"
        controls = [Control(eta_label, ctrl)]
        if s.batch_size > 1 or s.dim > 1:
            controls.append(
                Control(f"{s.label}; control: α as a function of ησ²/b alone", _heuristic(s))
            )
        book.check(_what(s), pred, m, _rule(pred, ctrl), *controls)
    return measured


def figure_data(grid: SgdTailGrid, measured: Sequence[Measurement]) -> SgdTailData:
    """The judged indices with the controls' predictions; the finite-sum panel at
    FINITE_LEVEL."""
    s = grid.params
    finite = [hill_at_fraction(x, s.k_fraction, FINITE_LEVEL) for x in grid.finite_norms]
    return SgdTailData(
        settings=s.settings,
        predicted=np.array([st.prediction() for st in s.settings]),
        measured=Intervals.of(measured),
        eta_control=np.array([_eta_control(st) for st in s.settings]),
        heuristic=np.array([_heuristic(st) for st in s.settings]),
        diverged=np.array(grid.diverged, dtype=np.int64),
        finite_sizes=np.array(s.finite_sizes, dtype=np.int64),
        finite=Intervals.of(finite),
        finite_diverged=np.array(grid.finite_diverged, dtype=np.int64),
        finite_prediction=s.finite_setting.prediction(),
        params=s,
    )


#: Simulate every setting, estimate the tail index of ||x||, and judge.
measure = staged_measure(
    run_grid,
    judge,
    figure_data,
    {
        "quantity": "||x_n||, the Euclidean norm of the final iterate, over chains",
        "estimator": "Hill at k = k_fraction * n (exact Gamma interval, Pareto tail)",
        "model": "x_0 = 0, a ~ N(0, σ² I_d), y = a·0 + N(0, 1), fresh batch each step",
        "finite_interval_level": FINITE_LEVEL,
    },
)


def draw(evidence: Evidence[SgdTailData], axes: Sequence[Axes]) -> Caption:
    """Left: measured against predicted alpha; right: alpha against dataset size."""
    left, right = axes
    d, s = evidence.data, evidence.data.params
    pred, est = d.predicted, d.measured.estimate
    thr = np.array([st.threshold for st in d.settings], dtype=bool)
    top = max(
        float(d.measured.high.max()),
        float(pred.max()),
        float(d.eta_control.max()),
        float(d.heuristic.max()),
    )
    lim = np.array([0.8, 1.1 * top])
    left.plot(lim, lim, **PREDICTED, label="measured = predicted")
    left.fill_between(
        lim,
        lim * (1 - RELATIVE_TOLERANCE),
        lim * (1 + RELATIVE_TOLERANCE),
        color="0.5",
        alpha=0.15,
        linewidth=0,
        label=f"±{RELATIVE_TOLERANCE:.0%} tolerance",
    )
    for mask, color, name in (
        (~thr, PALETTE[0], "Hill on the top 1%"),
        (thr, PALETTE[2], "Hill, at ησ² = 2b/(b+d+1)"),
    ):
        if mask.any():
            errorbars(left, pred[mask], d.measured[mask], color=color, linestyle="none", label=name)
    left.plot(
        d.eta_control,
        est,
        "x",
        color=PALETTE[1],
        markersize=5,
        label=f"control: α at η × {CONTROL_ETA_FACTOR:g}",
    )
    het = np.array([st.batch_size > 1 or st.dim > 1 for st in d.settings], dtype=bool)
    left.plot(
        d.heuristic[het],
        est[het],
        "+",
        color=PALETTE[3],
        markersize=7,
        label="control: α from ησ²/b alone",
    )
    left.set(
        xscale="log",
        yscale="log",
        xlim=lim,
        ylim=(lim[0], 3.0 * float(d.measured.high.max())),  # room above the data for the legend
        xlabel="predicted tail index α (h(α) = 1)",
        ylabel="measured tail index of ‖x‖ (Hill)",
        title=f"Online SGD: {len(pred)} settings of (η, b, d, σ)",
    )
    left.legend(loc="upper left")
    _log_ticks(left)

    if len(d.finite):
        errorbars(
            right,
            d.finite_sizes,
            d.finite,
            color=PALETTE[0],
            label="dataset of m points: Hill (95%)",
        )
        right.axhline(
            d.finite_prediction,
            **PREDICTED,
            label=f"online: predicted α = {d.finite_prediction:.3g}",
        )
        fs = s.finite_setting
        key = (fs.eta, fs.batch_size, fs.dim, fs.sigma)
        online = [
            i for i, st in enumerate(d.settings) if (st.eta, st.batch_size, st.dim, st.sigma) == key
        ]
        if online:
            i = online[0]
            right.axhspan(
                d.measured.low[i],
                d.measured.high[i],
                color=PALETTE[2],
                alpha=0.2,
                linewidth=0,
                label="online: measured (interval)",
            )
        ndiv = int(np.sum(d.finite_diverged))
        right.set(
            xscale="log",
            yscale="log",
            xlabel="dataset size m (log scale)",
            ylabel="measured tail index of ‖x‖ (log scale)",
            title=(
                f"Finite sum, η={fs.eta:.3g}, b={fs.batch_size}, d={fs.dim}\n"
                "(descriptive: no verdict)"
            ),
        )
        right.legend(loc="lower right", title=f"{ndiv} diverged chains" if ndiv else None)
    level = evidence.checks[0].measurement.level
    return Caption(
        "sgd.tail: tail index of online SGD on least squares vs h(α) = 1",
        f"Online: {s.n_chains:,} chains × {s.n_steps} steps per setting, Hill at "
        f"k = {s.k_fraction:.0%} of chains, intervals at level "
        f"{level:.4g} (Bonferroni).\nFinite sum: one dataset of m points "
        f"per chain, {s.finite_chains:,} chains × {s.finite_steps} steps.",
    )


def _log_ticks(ax: Any) -> None:
    from matplotlib.ticker import FormatStrFormatter, LogLocator

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(subs=(1.0, 1.5, 2.0, 3.0, 5.0)))
        axis.set_major_formatter(FormatStrFormatter("%g"))
        axis.set_minor_formatter(FormatStrFormatter(""))


_STATEMENT = (
    "Online SGD on least squares with Gaussian data a ~ N(0, σ² I_d), batch b and step η "
    "has a stationary law with P(‖x‖ > t) ~ c t^-α, where α is the positive root of "
    "h(α) = 1 (sgd_tail_index); in particular α = 2 where ησ² = 2b/(b + d + 1), exactly. "
    f"Checked on a grid of (η, b, d, σ) with α between {ALPHA_RANGE[0]:g} and "
    f"{ALPHA_RANGE[1]:g}, from the final iterates "
    f"of independent chains started at 0: Hill's estimate from the top {K_FRACTION:.0%} of "
    "the norms "
    "‖x‖ must equal the prediction within its interval (exact for a Pareto tail, "
    f"Bonferroni over the grid) widened by {RELATIVE_TOLERANCE:.0%} of α for Hill's bias "
    "on a law that is not "
    f"exactly Pareto at its top {K_FRACTION:.0%}. The norm is used rather than one "
    "coordinate because "
    "a coordinate u^T x = ‖x‖ cos θ adds the spread of cos θ to the tail's second-order "
    "term; it has the same α. An interval wider than the distance to the prediction for "
    f"η × {CONTROL_ETA_FACTOR:g} is inconclusive. Negative controls on the same "
    f"measurements: the prediction for η × {CONTROL_ETA_FACTOR:g}, and (where b or d "
    "exceeds 1) the heuristic that α depends on ησ²/b alone. The finite-sum panel "
    "(one dataset of m points per chain, batches without replacement, epoch after "
    "epoch) is descriptive, not checked: with finite data the tail is only approximately "
    "a power law and its apparent index moves towards the online value as m grows. "
    "With one dataset per chain the sample mixes datasets, some of them close to their "
    "own stability boundary, so at small m the apparent index falls far below the "
    "online one."
)

CLAIM = Claim(
    id="sgd.tail",
    title="tail index of online SGD",
    statement=_STATEMENT,
    formula=(
        "P(‖x_∞‖ > t) ~ c t^(−α),  h(α) = E[((1 − cX)² + c²XY)^(α/2)] = 1,  c = ησ²/b, "
        "X ~ χ²_b, Y ~ χ²_(d−1);  α = 2 ⇔ ησ² = 2b/(b + d + 1)"
    ),
    source=(
        "Gürbüzbalaban, Şimşekli & Zhu, 'The heavy-tail phenomenon in SGD', ICML 2021, "
        "Thm 2 (docs/theory.md, section 5; chi-square form: docs/sgd_tail_index.md); "
        "finite sums: Pavasovic, Durmus & Şimşekli, 'Approximate heavy tails in offline "
        "(multi-pass) SGD', NeurIPS 2023"
    ),
    sizes=SIZES,
    measure=measure,
    draw=draw,
    layout=Layout(2, width=4.2, height=3.8),
)


def hill_bias_table(
    n: int = 1_000_000, k_fraction: float = 0.01, seed: int = 20_231_127
) -> list[tuple[str, float, float]]:
    """The measurements behind :data:`RELATIVE_TOLERANCE`: Hill's relative bias at k/n.

    Returns (law, true alpha, alpha_hat / alpha - 1) for Student t with df in
    {1, 1.5, 2, 2.5, 3, 3.5} and for the stationary SGD law at eta = 0.53, b = d = 1
    (1e6 chains by default, 400 steps), each from one sample of size ``n``. The standard
    error of each entry is about 1/sqrt(k_fraction * n) (1% at the defaults). Run
    ``python -m heavytail.reports._claims.sgd_tail`` to print it.
    """
    rng = np.random.default_rng(seed)
    k = round(k_fraction * n)
    out = []
    for df in (1.0, 1.5, 2.0, 2.5, 3.0, 3.5):
        est = hill_estimator(rng.standard_t(df, n), k=k).alpha
        out.append((f"Student t, df {df:g}", df, est / df - 1.0))
    sgd = Setting(0.53, 1, 1)
    norms, _ = _simulate(sgd, n, 400, rng, None)
    alpha = sgd.prediction()
    out.append((f"SGD, {sgd.label}", alpha, hill_estimator(norms, k=k).alpha / alpha - 1.0))
    return out


if __name__ == "__main__":  # pragma: no cover - a measurement script, run by hand
    for law, alpha, bias in hill_bias_table():
        print(f"{law:28s} alpha = {alpha:.3f}  Hill bias at k = 1% of n: {bias:+.3f}")
