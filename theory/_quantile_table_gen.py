"""Generate ``_quantile_table.json``: the tables of McCulloch's quantile method, recomputed.

McCulloch (1986) tabulated the quantile ratios of stable laws and their inverse on a
coarse grid (alpha in steps of 0.1 to 0.5, nu_alpha in 15 steps, nu_beta in 7). Fitting
exact stable quantiles through those tables is off by up to +0.0145 in alpha (alpha =
0.6, ..., 1.95; beta = 0, 0.5, 1), a bias that does not shrink with n and at n = 1e5 is
larger than the sampling error. This script recomputes the same tables on a fine grid
from scipy's stable quantiles.

Forward table. For alpha = 0.5, 0.52, ..., 2 and beta = 0, 0.05, ..., 1, the quantiles
x_p, p = 0.05, 0.25, 0.5, 0.75, 0.95, of the standard stable law in Nolan's S0
parametrization (scale 1, location 0; continuous in alpha), by
``scipy.stats.levy_stable.ppf`` on a private instance (scipy's class-level
``parameterization`` is not touched); at alpha = 2 the N(0, 2) quantiles. From them:

- nu_alpha = (x_.95 - x_.05) / (x_.75 - x_.25) and nu_beta = (x_.95 + x_.05 - 2 x_.5) /
  (x_.95 - x_.05), McCulloch's ratios;
- phi_3 = x_.75 - x_.25 (so that scale c = sample IQR / phi_3), McCulloch's Table V;
- phi_5 = -x_.5 (so that the S0 location zeta = sample median + c phi_5), his Table VII.

Negative beta follows by reflection, x_p(alpha, -beta) = -x_{1-p}(alpha, beta).

Inverse table. On nodes u = log(nu_alpha - G + 0.05) (G = 2.4387, the Gaussian value of
nu_alpha; 241 nodes up to nu_alpha = 60) and nu_beta = 0, 0.02, ..., 1, the (alpha,
beta >= 0) whose ratios are (nu_alpha, nu_beta): bicubic splines of the forward ratios
are evaluated on a fine (alpha, beta) grid (steps 0.0005 and 0.005); for each beta the
curve nu_alpha(., beta), decreasing in alpha, is inverted by linear interpolation, and
along the resulting curve nu_alpha = const, nu_beta increases with beta and is inverted
the same way. Targets with a larger |nu_beta| than beta = 1 attains are marked
unattainable (and get beta = 1); nu_alpha beyond alpha's range gets its end value.

Run from the repository root (about 5 minutes, single process)::

    .venv/bin/python -m heavytail.theory._quantile_table_gen

The package reads only the JSON; this script is not imported by it.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy
from scipy import interpolate, stats

from heavytail._lib._types import FloatArray

PROBS = (0.05, 0.25, 0.5, 0.75, 0.95)
ALPHA_NODES = np.round(np.linspace(0.5, 2.0, 76), 10)
BETA_NODES = np.round(np.linspace(0.0, 1.0, 21), 10)
GAUSSIAN_NU_ALPHA = float(stats.norm.ppf(0.95) / stats.norm.ppf(0.75))
U_OFFSET = 0.05
U_NODES = np.linspace(math.log(U_OFFSET), math.log(60.0 - GAUSSIAN_NU_ALPHA + U_OFFSET), 241)
NU_BETA_NODES = np.round(np.linspace(0.0, 1.0, 51), 10)
OUT = Path(__file__).resolve().with_name("_quantile_table.json")


def forward_quantiles() -> FloatArray:
    """S0 standard stable quantiles, shape (5, len(ALPHA_NODES), len(BETA_NODES))."""
    levy = type(stats.levy_stable)(name="levy_stable")
    levy.parameterization = "S0"
    out = np.empty((len(PROBS), ALPHA_NODES.size, BETA_NODES.size))
    for i, alpha in enumerate(ALPHA_NODES):
        for j, beta in enumerate(BETA_NODES):
            if alpha == 2.0:  # N(0, 2) whatever beta is
                out[:, i, j] = math.sqrt(2.0) * stats.norm.ppf(PROBS)
            else:
                out[:, i, j] = levy.ppf(PROBS, alpha, beta)
    return out


def ratios(q: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """nu_alpha, nu_beta, phi_3 and phi_5 from quantiles q of shape (5, ...)."""
    q05, q25, q50, q75, q95 = q
    return (q95 - q05) / (q75 - q25), (q95 + q05 - 2 * q50) / (q95 - q05), q75 - q25, -q50


def solve_inverse(
    nu_alpha: FloatArray, nu_beta: FloatArray
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """alpha, beta and attainability on the (U_NODES, NU_BETA_NODES) grid."""
    spl_a = interpolate.RectBivariateSpline(ALPHA_NODES, BETA_NODES, nu_alpha, kx=3, ky=3)
    spl_b = interpolate.RectBivariateSpline(ALPHA_NODES, BETA_NODES, nu_beta, kx=3, ky=3)
    fine_a = np.linspace(0.5, 2.0, 3001)
    fine_b = np.linspace(0.0, 1.0, 201)
    na = spl_a(fine_a, fine_b)  # (3001, 201), decreasing in alpha
    if not np.all(np.diff(na, axis=0) < 0):
        raise RuntimeError("nu_alpha is not decreasing in alpha on the fine grid")
    targets = np.exp(U_NODES) + GAUSSIAN_NU_ALPHA - U_OFFSET
    # alpha on the curve nu_alpha = target, for each beta: shape (len(targets), 201).
    curve_a = np.empty((targets.size, fine_b.size))
    for j in range(fine_b.size):
        curve_a[:, j] = np.interp(targets, na[::-1, j], fine_a[::-1])
    curve_nb = spl_b.ev(curve_a, np.broadcast_to(fine_b, curve_a.shape))
    alpha_out = np.empty((targets.size, NU_BETA_NODES.size))
    beta_out = np.empty_like(alpha_out)
    attainable = np.zeros(alpha_out.shape, dtype=bool)
    for i in range(targets.size):
        nb = curve_nb[i]
        # nu_beta increases with beta; scipy's quantiles carry errors of order 1e-4 (seen
        # as dips of up to 9e-5 at alpha <= 0.54, beta near 1, and near alpha = 2, where
        # beta barely matters), so dips below 1e-3 are flattened, larger ones are an error.
        if not np.all(np.diff(nb) >= -1e-3):
            raise RuntimeError(f"nu_beta is not increasing in beta at nu_alpha = {targets[i]}")
        nb = np.maximum.accumulate(nb)
        beta_i = np.interp(NU_BETA_NODES, nb, fine_b)  # clamps to beta = 1 beyond the curve
        alpha_out[i] = np.interp(beta_i, fine_b, curve_a[i])
        beta_out[i] = beta_i
        attainable[i] = nb[-1] >= NU_BETA_NODES
    return alpha_out, beta_out, attainable


def build(q: FloatArray) -> dict[str, object]:
    """Both tables, from the forward quantiles ``q`` of :func:`forward_quantiles`."""
    nu_alpha, nu_beta, phi3, phi5 = ratios(q)
    inv_alpha, inv_beta, attainable = solve_inverse(nu_alpha, nu_beta)
    table = {
        "source": (
            "heavytail.theory._quantile_table_gen: S0 quantiles from "
            f"scipy.stats.levy_stable.ppf (scipy {scipy.__version__}); McCulloch (1986) "
            "quantile-ratio tables recomputed on a fine grid"
        ),
        "probs": list(PROBS),
        "gaussian_nu_alpha": GAUSSIAN_NU_ALPHA,
        "alpha_nodes": ALPHA_NODES.tolist(),
        "beta_nodes": BETA_NODES.tolist(),
        "nu_alpha": np.round(nu_alpha, 9).tolist(),
        "nu_beta": np.round(nu_beta, 9).tolist(),
        "phi_3": np.round(phi3, 9).tolist(),
        "phi_5": np.round(phi5, 9).tolist(),
        "u_offset": U_OFFSET,
        "u_nodes": U_NODES.tolist(),
        "nu_beta_nodes": NU_BETA_NODES.tolist(),
        "inverse_alpha": np.round(inv_alpha, 7).tolist(),
        "inverse_beta": np.round(inv_beta, 7).tolist(),
        "inverse_attainable": attainable.astype(int).tolist(),
    }
    return table


def main() -> None:
    """Compute both tables and write them to ``_quantile_table.json``."""
    start = time.perf_counter()
    table = build(forward_quantiles())
    OUT.write_text(json.dumps(table, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
