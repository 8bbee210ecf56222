"""The measurement behind meanfield.noise_compress's tolerances: error slopes of i.i.d.
columns of the injected noise's law, without training (:func:`iid_slope_table`).

Run ``python -m heavytail.reports._claims.meanfield_noise_tolerances`` to print it.
"""

from __future__ import annotations

import math

import numpy as np

from heavytail.theory import relative_error

from .meanfield_noise_compress import KAPPAS, SIZES, predicted_slope
from .meanfield_wan import CELLS, GAUSSIAN, NOISE_TYPES, iid_columns, noise_scale

__all__ = ["iid_slope_table"]


def iid_slope_table(
    replicates: int = 1000, seed: int = 20_260_101
) -> list[tuple[float, int, float, float, float, float]]:
    """The measurement behind the tolerances: error slopes of i.i.d. columns.

    Columns w_i = N(0, I_d / d) + c L_i (type 1: L_i 1_d with L_i standard symmetric
    alpha-stable; type 3: an elliptic stable vector with standard marginals; alpha = 2:
    N(0, 2) and N(0, 2 I_d), the simulator's convention), with
    c = sigma (eta n_steps)^(1/alpha), the law of all the noise the quick run injects,
    and the initialisation as the finite-variance part (no drift); node-pruning error at
    each kappa over the quick widths. Returns rows (alpha, type, kappa, slope of the mean
    log error, slope - prediction, standard error of the slope over replicates), the
    prediction being 1/2 - 1/alpha (0 for alpha = 2). Run
    ``python -m heavytail.reports._claims.meanfield_noise_tolerances`` to print it.
    """
    rng = np.random.default_rng(seed)
    quick = SIZES["quick"]
    widths = np.array(quick.widths)
    lx = np.log(widths)
    out: list[tuple[float, int, float, float, float, float]] = []
    for alpha, typ in CELLS + tuple((GAUSSIAN, t) for t in NOISE_TYPES):
        c = noise_scale(quick, alpha)
        logs = np.empty((replicates, widths.size, len(KAPPAS)))
        for j, n in enumerate(widths):
            for r in range(replicates):
                w = iid_columns(alpha, typ, n, quick.dim, c, rng)
                norms = np.linalg.norm(w, axis=1)
                for k, kappa in enumerate(KAPPAS):
                    logs[r, j, k] = math.log(relative_error(norms, kappa, 2.0))
        pred = 0.0 if alpha == GAUSSIAN else predicted_slope(alpha)
        for k, kappa in enumerate(KAPPAS):
            per_rep = np.polynomial.polynomial.polyfit(lx, logs[:, :, k].T, 1)[1]
            slope = float(per_rep.mean())
            se = float(per_rep.std(ddof=1) / math.sqrt(replicates))
            out.append((alpha, typ, kappa, slope, slope - pred, se))
    return out


if __name__ == "__main__":  # pragma: no cover - a measurement script, run by hand
    for a, t, kap, sl, bias, se in iid_slope_table():
        print(
            f"alpha = {a:g}, type {t}, kappa = {kap:g}: slope {sl:+.4f} (se {se:.4f}), "
            f"minus the prediction: {bias:+.4f}"
        )
