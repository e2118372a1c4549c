"""Bayesian re-reading of printed hazard ratios: closed forms on summary data, no MCMC.

- :func:`reanalyse`: a printed HR and CI as a normal likelihood on the log-HR scale, combined
  with a normal prior (Spiegelhalter, Abrams & Myles 2004; Zampieri et al. 2021).
- :func:`sceptical_limit`, :func:`advocacy_limit`, :func:`credibility`: Matthews' Analysis of
  Credibility (Matthews 2001; 2018).
- :func:`design_analysis`: power, type S error and exaggeration ratio (Gelman & Carlin 2014).
- :func:`prior_grid`: neutral / optimistic / pessimistic priors at stated strengths, as data.
- :func:`reinterpret`: all of the above for several estimates and priors, as tables.
"""

from bayes_bcsm.reinterpret.credibility import (
    Credibility,
    CredibilityError,
    advocacy_limit,
    credibility,
    sceptical_limit,
)
from bayes_bcsm.reinterpret.design import DesignAnalysis, design_analysis, design_table
from bayes_bcsm.reinterpret.estimate import PrintedEstimate, ReinterpretError, z_two_sided
from bayes_bcsm.reinterpret.priors import (
    CENTRES,
    DEFAULT_MEANINGFUL_HR,
    DEFAULT_PRIOR,
    DEFAULT_STRENGTHS,
    NamedPrior,
    prior_grid,
    strength_sd,
)
from bayes_bcsm.reinterpret.reanalysis import Reanalysis, reanalyse
from bayes_bcsm.reinterpret.tables import (
    DEFAULT_THRESHOLDS,
    DEFAULT_TRUE_HRS,
    Reinterpretation,
    check_unique_names,
    reanalyse_with,
    reinterpret,
    threshold_column,
)

__all__ = [
    "CENTRES",
    "DEFAULT_MEANINGFUL_HR",
    "DEFAULT_PRIOR",
    "DEFAULT_STRENGTHS",
    "DEFAULT_THRESHOLDS",
    "DEFAULT_TRUE_HRS",
    "Credibility",
    "CredibilityError",
    "DesignAnalysis",
    "NamedPrior",
    "PrintedEstimate",
    "Reanalysis",
    "ReinterpretError",
    "Reinterpretation",
    "advocacy_limit",
    "check_unique_names",
    "credibility",
    "design_analysis",
    "design_table",
    "prior_grid",
    "reanalyse",
    "reanalyse_with",
    "reinterpret",
    "sceptical_limit",
    "strength_sd",
    "threshold_column",
    "z_two_sided",
]
