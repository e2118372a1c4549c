"""Predictors of survival that can be refitted on any subset of a cohort (PyMC-free ones).

A predictor is fitted on the training patients and predicts, for the test patients, a risk
score (higher = worse, for the C-indices and the AUC) and survival probabilities (for the
Brier scores and calibration). Every covariate is coded once on the whole cohort
(:func:`bayes_bcsm.data.build_design`: reference levels, indicator columns; no outcome is
used), so a training subset and its test patients share the coding.

* :class:`CoxPredictor`: a Cox model on given factors; predicted survival from Breslow's
  baseline. A prognostic score enters this way as a single ordinal predictor (its points as a
  number) or as its published risk groups (a categorical factor): the score's ranking is the
  fitted model's (the fitted coefficient sets only its direction), its survival the model's.
* :class:`SelectionPredictor`: the paper's procedure (log-rank screen, then backward
  elimination, :func:`bayes_bcsm.frequentist.paper_selection`) run on the training patients,
  then a Cox model on the factors it keeps: the selection is part of what is validated.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import pandas as pd

from bayes_bcsm.data.design import Design, build_design
from bayes_bcsm.frequentist.breslow import breslow_cumulative_hazard
from bayes_bcsm.frequentist.cox import cox_ph
from bayes_bcsm.frequentist.selection import paper_selection

__all__ = [
    "Cohort",
    "CoxPredictor",
    "Prediction",
    "Predictor",
    "SelectionPredictor",
    "design_rows",
]


@dataclass(frozen=True)
class Cohort:
    """The patients every predictor is evaluated on, and where survival is predicted.

    Attributes
    ----------
    frame : DataFrame
        One row per patient (complete cases of every factor any predictor uses), index 0..n-1.
    duration, event : str
        Time (months) and event (1/0) columns.
    grid : ndarray
        Times (months) at which survival is predicted (horizons and the integrated Brier
        score's grid), increasing.
    horizons : ndarray
        Horizons (months) of the Brier score, AUC and calibration; a subset of ``grid``.
    reference : dict
        Reference level per categorical factor.
    """

    frame: pd.DataFrame
    duration: str
    event: str
    grid: np.ndarray
    horizons: np.ndarray
    reference: dict[str, str] = field(default_factory=dict)

    @property
    def time(self) -> np.ndarray:
        return self.frame[self.duration].to_numpy(float)

    @property
    def events(self) -> np.ndarray:
        return self.frame[self.event].to_numpy(int)

    def design(self, factors: Sequence[str], standardize: bool = False) -> Design:
        """The factors coded on the whole cohort."""
        reference = {k: v for k, v in self.reference.items() if k in factors}
        return build_design(
            self.frame, list(factors), self.duration, self.event, reference, standardize
        )


@dataclass(frozen=True)
class Prediction:
    """What a fitted predictor says about its test patients.

    Attributes
    ----------
    risk : ndarray, shape (m,)
        Higher = shorter expected survival: the linear predictor with the covariates centred
        on the whole cohort, so that risks predicted by different folds' fits share a scale.
    survival : ndarray, shape (m, len(grid))
        Predicted ``S(t | x)`` at the cohort's grid.
    exit_survival : ndarray, shape (m, len(horizons))
        Predicted ``S(min(T_i, h) | x_i)`` at each patient's own follow-up stopped at each
        horizon h (the expected event counts of the calibration intercept).
    """

    risk: np.ndarray
    survival: np.ndarray
    exit_survival: np.ndarray


class Predictor(Protocol):
    """Anything that can be fitted on some patients of a cohort and predict the others."""

    name: str

    def fit_predict(
        self, cohort: Cohort, train: np.ndarray, test: np.ndarray, seed: int
    ) -> Prediction:
        """Fit on the rows ``train`` of ``cohort.frame``, predict the rows ``test``."""
        ...


def design_rows(design: Design, rows: np.ndarray) -> Design:
    """The design restricted to some of its rows (coding unchanged)."""
    return replace(
        design,
        time=design.time[rows],
        event=design.event[rows],
        X=design.X[rows],
        index=design.index[rows],
    )


def exit_times(cohort: Cohort, test: np.ndarray) -> np.ndarray:
    """``min(T_i, h)`` for each test patient (rows) and horizon (columns), months."""
    return np.minimum(cohort.time[test, None], cohort.horizons[None, :])


def _cox_prediction(
    cohort: Cohort, factors: Sequence[str], train: np.ndarray, test: np.ndarray
) -> Prediction:
    """Cox model of ``factors`` on ``train`` (columns constant there left out), Breslow
    survival for ``test``; no factor: everyone gets the Kaplan-Meier-like null model."""
    time, event = cohort.time, cohort.events
    if factors:
        design = cohort.design(factors)
        X = pd.DataFrame(design.X, columns=list(design.columns))
        varying = [c for c in X.columns if X[c].iloc[train].nunique() > 1]
    else:
        X, varying = pd.DataFrame(index=cohort.frame.index), []
    coef = np.zeros(len(varying))
    if varying:
        frame = X.iloc[train][varying].assign(_time=time[train], _event=event[train])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # separation in a small training set: kept as is
            coef = cox_ph(frame, "_time", "_event", varying).coef
    # centred on the whole cohort (no outcome used): out-of-fold risks from different folds'
    # fits are then on one scale when they are pooled (an uncentred X @ beta carries a
    # fold-specific offset mean(X) @ beta that would blur the pooled ranking)
    centred = X[varying] - X[varying].mean() if varying else X
    lp = centred.to_numpy(float) @ coef if varying else np.zeros(len(time))
    lp_train, lp_test = lp[train], lp[test]
    h0_grid = breslow_cumulative_hazard(time[train], event[train], lp_train, cohort.grid)
    stop = exit_times(cohort, test)
    h0_exit = breslow_cumulative_hazard(time[train], event[train], lp_train, stop.ravel())
    scale = np.exp(lp_test)[:, None]
    return Prediction(
        risk=lp_test,
        survival=np.exp(-scale * h0_grid[None, :]),
        exit_survival=np.exp(-scale * h0_exit.reshape(stop.shape)),
    )


@dataclass(frozen=True)
class CoxPredictor:
    """A Cox model (Efron ties) of fixed factors, refitted on each training set."""

    name: str
    factors: tuple[str, ...]

    def fit_predict(
        self, cohort: Cohort, train: np.ndarray, test: np.ndarray, seed: int
    ) -> Prediction:
        """See :class:`Predictor` (``seed`` is unused: the fit is deterministic)."""
        return _cox_prediction(cohort, self.factors, train, test)


@dataclass(frozen=True)
class SelectionPredictor:
    """The paper's selection procedure on the training set, then Cox on what it keeps."""

    name: str
    factors: tuple[str, ...]
    screen_p: float = 0.05
    remove_p: float = 0.10

    def fit_predict(
        self, cohort: Cohort, train: np.ndarray, test: np.ndarray, seed: int
    ) -> Prediction:
        """See :class:`Predictor` (``seed`` is unused)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            chosen = paper_selection(
                cohort.frame.iloc[train],
                cohort.duration,
                cohort.event,
                list(self.factors),
                screen_p=self.screen_p,
                remove_p=self.remove_p,
                reference={k: v for k, v in cohort.reference.items() if k in self.factors},
            ).selected
        return _cox_prediction(cohort, chosen, train, test)
