"""Bayesian survival models: functions that take a design and return a PyMC model.

Families (:mod:`~bayes_bcsm.models.weibull`, :mod:`~bayes_bcsm.models.piecewise`) supply
their hazard functions; :mod:`~bayes_bcsm.models.likelihood` holds the one per-patient
survival log-likelihood they share; :mod:`~bayes_bcsm.models.families` is the registry that
maps a family name to its builder and numpy hazards (:func:`model_family`).
"""

from bayes_bcsm.models.base import OBSERVED, SurvivalModel
from bayes_bcsm.models.families import FAMILIES, SurvivalFamily, UnknownFamilyError, model_family
from bayes_bcsm.models.missing import MissingDesign, build_design_with_missing
from bayes_bcsm.models.piecewise import DEFAULT_CUTS_MONTHS, piecewise_cuts, piecewise_model
from bayes_bcsm.models.priors import BaselineSpec, PriorError, PriorSpec
from bayes_bcsm.models.weibull import aft_to_ph, exponential_model, weibull_model

__all__ = [
    "DEFAULT_CUTS_MONTHS",
    "FAMILIES",
    "OBSERVED",
    "BaselineSpec",
    "MissingDesign",
    "PriorError",
    "PriorSpec",
    "SurvivalFamily",
    "SurvivalModel",
    "UnknownFamilyError",
    "aft_to_ph",
    "build_design_with_missing",
    "exponential_model",
    "model_family",
    "piecewise_cuts",
    "piecewise_model",
    "weibull_model",
]
