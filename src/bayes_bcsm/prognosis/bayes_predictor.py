"""A Bayesian survival model as a predictor: refitted on each training set, predicting each
test patient's posterior-mean survival.

Refits go through the in-process compile cache of :func:`bayes_bcsm.inference.sample.sample`:
the model's data are ``pm.Data`` nodes, so a model of the same structure (family, prior, cut
points, data shapes; for the horseshoe also the number of events, which sets its global scale)
reuses the compiled sampler with the new fold's data (``compiled.with_data``). Folds of a
repeated K-fold split have one or two training sizes, hence one or two compilations per model.
The piecewise model's cut points are fixed for every refit (given by the caller, e.g. computed
once on the whole cohort) so that they do not change the structure from fold to fold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from bayes_bcsm.inference.predictive import survival_curves
from bayes_bcsm.inference.sample import sample
from bayes_bcsm.inference.settings import SamplerSettings
from bayes_bcsm.models import model_family
from bayes_bcsm.models.specs import PriorSpec
from bayes_bcsm.prognosis.predictors import Cohort, Prediction, design_rows, exit_times

__all__ = ["BayesPredictor"]

#: Test patients whose posterior survival draws are held in memory at once.
_CHUNK = 32


@dataclass(frozen=True)
class BayesPredictor:
    """A Bayesian proportional-hazards model of fixed factors.

    Attributes
    ----------
    name : str
    factors : tuple of str
    family : str
        A registered family (``weibull``, ``piecewise``, ...).
    prior : PriorSpec
        Prior of the log hazard ratios.
    sampler : SamplerSettings
        Its seed is replaced by each refit's own.
    options : dict
        The family's builder options (``cuts``, ``baseline_prior``); the others are ignored.
    standardize : bool
        Continuous covariates centred and scaled on the whole cohort.
    """

    name: str
    factors: tuple[str, ...]
    family: str
    prior: PriorSpec
    sampler: SamplerSettings
    options: tuple[tuple[str, object], ...] = ()
    standardize: bool = True

    def fit_predict(
        self, cohort: Cohort, train: np.ndarray, test: np.ndarray, seed: int
    ) -> Prediction:
        """See :class:`~bayes_bcsm.prognosis.predictors.Predictor`; ``seed`` seeds the sampler."""
        design = cohort.design(self.factors, standardize=self.standardize)
        entry = model_family(self.family)
        model = entry.build(
            design_rows(design, train),
            prior=self.prior,
            **entry.select_options(dict(self.options)),
        )
        fit = sample(model, replace(self.sampler, seed=seed, progress_bar=False))
        x_test = pd.DataFrame(design.X[test], columns=list(model.columns))
        beta = fit.idata["posterior"].dataset["beta"].mean(("chain", "draw")).values
        stop = exit_times(cohort, test)
        survival, exit_survival = [], []
        for start in range(0, len(test), _CHUNK):
            rows = slice(start, start + _CHUNK)
            own = stop[rows]
            times = np.concatenate([cohort.grid, own.ravel()])
            mean = survival_curves(fit, x_test.iloc[rows], times).mean(("chain", "draw")).values
            survival.append(mean[:, : len(cohort.grid)])
            per_patient = mean[:, len(cohort.grid) :].reshape(len(own), len(own), -1)
            exit_survival.append(np.einsum("iih->ih", per_patient))
        return Prediction(
            risk=(design.X[test] - design.X.mean(axis=0)) @ beta
            if len(beta)
            else np.zeros(len(test)),
            survival=np.vstack(survival),
            exit_survival=np.vstack(exit_survival),
        )
