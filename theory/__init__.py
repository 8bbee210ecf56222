"""heavytail.theory: exact and numerical mathematics (numpy and scipy only).

Stable laws, tail-index estimators, ell_p-compressibility, pruning errors, and the tail
index of SGD on least squares. Importing this package never imports numba, torch or
matplotlib.
"""

from heavytail._lib._errors import ConvergenceWarning as ConvergenceWarning
from heavytail._lib._errors import DivergenceWarning as DivergenceWarning
from heavytail._lib._errors import EstimationError as EstimationError
from heavytail._lib._errors import EstimationWarning as EstimationWarning
from heavytail._lib._errors import HeavytailError as HeavytailError
from heavytail._lib._errors import HeavytailWarning as HeavytailWarning
from heavytail._lib._errors import InvalidArgumentError as InvalidArgumentError
from heavytail._lib._errors import NoStationaryLawError as NoStationaryLawError

from ._block_sum import block_sum_estimator as block_sum_estimator
from ._compress import relative_error as relative_error
from ._compress import relative_error_curve as relative_error_curve
from ._compress_limit import limit_relative_error as limit_relative_error
from ._compress_rate import compressibility_exponent as compressibility_exponent
from ._compress_rate import expected_relative_error as expected_relative_error
from ._convert import esd_exponent_from_tail_index as esd_exponent_from_tail_index
from ._convert import ev_index_from_tail_index as ev_index_from_tail_index
from ._convert import pdf_exponent_from_tail_index as pdf_exponent_from_tail_index
from ._convert import stable_index_from_tail_index as stable_index_from_tail_index
from ._convert import tail_index_from_esd_exponent as tail_index_from_esd_exponent
from ._convert import tail_index_from_ev_index as tail_index_from_ev_index
from ._convert import tail_index_from_pdf_exponent as tail_index_from_pdf_exponent
from ._ensembles import elliptic_layer_matrix as elliptic_layer_matrix
from ._ensembles import iid_columns_matrix as iid_columns_matrix
from ._ensembles import iid_entries_matrix as iid_entries_matrix
from ._estimate import estimate_tail_index as estimate_tail_index
from ._generalization import CompressionBound as CompressionBound
from ._generalization import bounded_loss as bounded_loss
from ._generalization import compression_bound as compression_bound
from ._generalization import default_kappas as default_kappas
from ._generalization_prune import network_output as network_output
from ._hill import HillPlot as HillPlot
from ._hill import hill_estimator as hill_estimator
from ._hill import hill_plot as hill_plot
from ._kselect import K_SENSITIVITY_THRESHOLDS as K_SENSITIVITY_THRESHOLDS
from ._kselect import KGrid as KGrid
from ._kselect import KSelection as KSelection
from ._kselect import k_of_fraction as k_of_fraction
from ._kselect import k_sensitivity as k_sensitivity
from ._kselect import select_k as select_k
from ._moment import moment_estimator as moment_estimator
from ._pickands import pickands_estimator as pickands_estimator
from ._prune import matched_kappas as matched_kappas
from ._prune import parameter_count as parameter_count
from ._prune import prunable_fraction as prunable_fraction
from ._prune import pruning_curve as pruning_curve
from ._prune import pruning_error as pruning_error
from ._quantile import StableQuantileFit as StableQuantileFit
from ._quantile import fit_stable_quantiles as fit_stable_quantiles
from ._quantile import quantile_estimator as quantile_estimator
from ._result import TailEstimate as TailEstimate
from ._sgd_h import sgd_h as sgd_h
from ._sgd_h import sgd_lyapunov_exponent as sgd_lyapunov_exponent
from ._sgd_h import sgd_tail_index as sgd_tail_index
from ._sgd_h import sgd_variance_threshold as sgd_variance_threshold
from ._sgd_mc import S_MAX_MONTE_CARLO as S_MAX_MONTE_CARLO
from ._sgd_mc import SGDMonteCarloEstimate as SGDMonteCarloEstimate
from ._sgd_mc import sgd_log_h_monte_carlo as sgd_log_h_monte_carlo
from ._sgd_mc import sgd_lyapunov_exponent_monte_carlo as sgd_lyapunov_exponent_monte_carlo
from ._sgd_mc import sgd_tail_index_monte_carlo as sgd_tail_index_monte_carlo
from ._stable import sample_elliptic_stable as sample_elliptic_stable
from ._stable import sample_stable as sample_stable
from ._stable_gof import StableGoodnessOfFit as StableGoodnessOfFit
from ._stable_gof import stable_goodness_of_fit as stable_goodness_of_fit

__all__ = [
    "K_SENSITIVITY_THRESHOLDS",
    "S_MAX_MONTE_CARLO",
    "CompressionBound",
    "ConvergenceWarning",
    "DivergenceWarning",
    "EstimationError",
    "EstimationWarning",
    "HeavytailError",
    "HeavytailWarning",
    "HillPlot",
    "InvalidArgumentError",
    "KGrid",
    "KSelection",
    "NoStationaryLawError",
    "SGDMonteCarloEstimate",
    "StableGoodnessOfFit",
    "StableQuantileFit",
    "TailEstimate",
    "block_sum_estimator",
    "bounded_loss",
    "compressibility_exponent",
    "compression_bound",
    "default_kappas",
    "elliptic_layer_matrix",
    "esd_exponent_from_tail_index",
    "estimate_tail_index",
    "ev_index_from_tail_index",
    "expected_relative_error",
    "fit_stable_quantiles",
    "hill_estimator",
    "hill_plot",
    "iid_columns_matrix",
    "iid_entries_matrix",
    "k_of_fraction",
    "k_sensitivity",
    "limit_relative_error",
    "matched_kappas",
    "moment_estimator",
    "network_output",
    "parameter_count",
    "pdf_exponent_from_tail_index",
    "pickands_estimator",
    "prunable_fraction",
    "pruning_curve",
    "pruning_error",
    "quantile_estimator",
    "relative_error",
    "relative_error_curve",
    "sample_elliptic_stable",
    "sample_stable",
    "select_k",
    "sgd_h",
    "sgd_log_h_monte_carlo",
    "sgd_lyapunov_exponent",
    "sgd_lyapunov_exponent_monte_carlo",
    "sgd_tail_index",
    "sgd_tail_index_monte_carlo",
    "sgd_variance_threshold",
    "stable_goodness_of_fit",
    "stable_index_from_tail_index",
    "tail_index_from_esd_exponent",
    "tail_index_from_ev_index",
    "tail_index_from_pdf_exponent",
]
