"""Frequentist baselines on numpy/scipy: Kaplan-Meier, log-rank / G-rho tests, Cox PH, on
right-censored data, delayed entry and (start, stop] episodes alike; prognostic metrics
(Harrell's and Uno's C, time-dependent AUC, Brier scores, calibration at a horizon).

lifelines and statsmodels serve only as test oracles; nothing here imports them.
"""

from bayes_bcsm.frequentist._validate import SurvivalInputError, as_survival_arrays
from bayes_bcsm.frequentist.breslow import breslow_cumulative_hazard, breslow_survival
from bayes_bcsm.frequentist.brier import brier_score, integrated_brier_score
from bayes_bcsm.frequentist.concordance import (
    concordance_index,
    cumulative_dynamic_auc,
    harrell_concordance,
    uno_concordance,
)
from bayes_bcsm.frequentist.cox import (
    ChiSquareTest,
    CoxError,
    CoxResult,
    SeparationWarning,
    cox_ph,
    cox_ph_design,
)
from bayes_bcsm.frequentist.horizon_calibration import (
    HorizonCalibration,
    calibration_at_horizon,
    calibration_slope,
)
from bayes_bcsm.frequentist.ipcw import CensoringDistribution, censoring_distribution
from bayes_bcsm.frequentist.km import KaplanMeierResult, kaplan_meier
from bayes_bcsm.frequentist.logrank import LogrankResult, logrank_test
from bayes_bcsm.frequentist.metric import MetricEstimate
from bayes_bcsm.frequentist.rmst import RmstComparison, km_milestones, km_rmst, rmst_comparison
from bayes_bcsm.frequentist.selection import SelectionError, SelectionResult, paper_selection
from bayes_bcsm.frequentist.zph import ZphResult, cox_zph

__all__ = [
    "CensoringDistribution",
    "ChiSquareTest",
    "CoxError",
    "CoxResult",
    "HorizonCalibration",
    "KaplanMeierResult",
    "LogrankResult",
    "MetricEstimate",
    "RmstComparison",
    "SelectionError",
    "SelectionResult",
    "SeparationWarning",
    "SurvivalInputError",
    "ZphResult",
    "as_survival_arrays",
    "breslow_cumulative_hazard",
    "breslow_survival",
    "brier_score",
    "calibration_at_horizon",
    "calibration_slope",
    "censoring_distribution",
    "concordance_index",
    "cox_ph",
    "cox_ph_design",
    "cox_zph",
    "cumulative_dynamic_auc",
    "harrell_concordance",
    "integrated_brier_score",
    "kaplan_meier",
    "km_milestones",
    "km_rmst",
    "logrank_test",
    "paper_selection",
    "rmst_comparison",
    "uno_concordance",
]
