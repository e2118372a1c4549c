"""Test of proportional hazards from scaled Schoenfeld residuals, as R's ``cox.zph``.

The survival >= 3.0 formulation: for each term, the score test of adding ``x * g(t)`` to
the fitted model (all coefficients held at their estimates, the new ones at 0), where
``g`` is the transformed event time centred on its mean over the events. The global test
adds ``x * g(t)`` for every column at once. This is the exact score test that the older
Grambsch-Therneau formula approximated.

References
----------
Grambsch, P. M. & Therneau, T. M. (1994). Proportional hazards tests and diagnostics based
on weighted residuals. *Biometrika* 81, 515-526.
Therneau, T. M. (2023). ``survival`` package, ``cox.zph`` (version 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from bayes_bcsm.frequentist._partial_likelihood import CoxEngine, evaluate, event_means, inverse
from bayes_bcsm.frequentist._ties import entered_later
from bayes_bcsm.frequentist.cox import CoxError, CoxResult

Transform = Literal["km", "identity", "rank", "log"]

__all__ = ["ZphResult", "cox_zph"]


@dataclass(frozen=True)
class ZphResult:
    """Schoenfeld-residual tests of proportional hazards.

    Attributes
    ----------
    table : DataFrame
        One row per term and a final ``GLOBAL`` row: term, chisq, df, p.
    transform : str
        Time transform used ("km", "identity", "rank", "log").
    residuals : DataFrame
        One row per event: ``time`` (original unit), ``g`` (transformed time, uncentred)
        and the scaled Schoenfeld residual of each design column (``beta_j +`` the
        residual scaled by ``n_events * variance``), for plotting beta(t).
    """

    table: pd.DataFrame
    transform: str
    residuals: pd.DataFrame

    @property
    def global_test(self) -> pd.Series:
        """The GLOBAL row of ``table``."""
        return self.table.iloc[-1]


def _km_left(
    time: np.ndarray, event: np.ndarray, at: np.ndarray, entry: np.ndarray | None
) -> np.ndarray:
    """Kaplan-Meier survival just before each time in ``at`` (left-continuous; rows at risk
    on (entry, time] when ``entry`` is given)."""
    times, time_index = np.unique(time, return_inverse=True)
    deaths = np.bincount(time_index, weights=event)
    counts = np.bincount(time_index)
    at_risk = counts[::-1].cumsum()[::-1]
    if entry is not None:
        at_risk = at_risk - entered_later(times, entry)
    surv = np.cumprod(1.0 - deaths / at_risk)
    idx = np.searchsorted(times, at, side="left")  # number of distinct times < at
    return np.r_[1.0, surv][idx]


def cox_zph(fit: CoxResult, transform: Transform = "km", terms: bool = True) -> ZphResult:
    """Score tests of proportional hazards per term and globally (R ``cox.zph``).

    Parameters
    ----------
    fit : CoxResult
        An unpenalised fit from :func:`~bayes_bcsm.frequentist.cox.cox_ph` (it carries its
        design and strata).
    transform : {"km", "identity", "rank", "log"}
        Time transform g(t): "km" is 1 - the left-continuous Kaplan-Meier estimate of all
        rows (R's default; with delayed entry or (start, stop] rows, the delayed-entry
        estimate), "identity" the time itself (unit of the design's time column),
        "rank" its rank among the event times, "log" its logarithm.
    terms : bool
        If true (R's default) the columns of a categorical covariate are tested jointly (df
        = number of columns); if false, one test per design column.

    Returns
    -------
    ZphResult

    Raises
    ------
    CoxError
        For a Firth-penalised fit or an unknown transform.

    References
    ----------
    R: ``cox.zph(coxph(Surv(time, status) ~ age + sex, lung))`` (survival >= 3.0).
    """
    if fit.penalty is not None:
        raise CoxError("cox_zph needs an unpenalised fit (penalty=None)")
    if transform not in ("km", "identity", "rank", "log"):
        raise CoxError(
            f"transform must be one of 'km', 'identity', 'rank', 'log'; got {transform!r}"
        )
    design = fit.design
    time = np.asarray(design.time, float)
    event = np.asarray(design.event, float)
    X = np.asarray(design.X, float)
    p = X.shape[1]
    beta = fit.coef / design.per_natural_unit()  # back to the design scale
    entry = design.entry
    engine = CoxEngine(time, event, X, fit.strata, fit.ties, entry)  # type: ignore[arg-type]
    # transformed time per event group (groups sorted by stratum, then decreasing time)
    t_group = engine.time_group[engine.egroups]
    if transform == "km":
        g_group = 1.0 - _km_left(time, event, t_group, entry)
    elif transform == "identity":
        g_group = t_group
    elif transform == "log":
        g_group = np.log(t_group)
    else:
        death_times = np.repeat(t_group, engine.de.astype(np.int64))
        ranks = stats.rankdata(death_times)
        g_group = np.add.reduceat(ranks, np.r_[0, np.cumsum(engine.de.astype(np.int64))[:-1]])
        g_group = g_group / engine.de
    g_centred = g_group - np.sum(g_group * engine.de) / engine.de.sum()
    _, _, i11 = evaluate(engine, beta)
    _, u2, i12 = evaluate(engine, beta, time_weights=g_centred)
    _, _, i22 = evaluate(engine, beta, time_weights=g_centred**2)
    imat = np.block([[i11, i12], [i12.T, i22]])
    if terms:
        groups: list[tuple[str, list[int]]] = []
        j = 0
        for term in design.terms:
            k = len(term.columns)
            groups.append((term.name, list(range(j, j + k))))
            j += k
    else:
        groups = [(c, [j]) for j, c in enumerate(design.columns)]
    rows = []
    for name, cols in groups:
        keep = list(range(p)) + [p + c for c in cols]
        u = np.r_[np.zeros(p), u2[cols]]
        sub = imat[np.ix_(keep, keep)]
        chisq = float(u @ np.linalg.solve(sub, u))
        rows.append((name, chisq, len(cols), float(stats.chi2.sf(chisq, len(cols)))))
    u = np.r_[np.zeros(p), u2]
    chisq = float(u @ np.linalg.solve(imat, u))
    rows.append(("GLOBAL", chisq, p, float(stats.chi2.sf(chisq, p))))
    table = pd.DataFrame(rows, columns=["term", "chisq", "df", "p"])
    # scaled Schoenfeld residuals, one row per event
    means = event_means(engine, beta)
    d = engine.d
    # each event row's event group; rows are in engine order (indexing the event rows only:
    # rows of a censored-only group after the last event group have no event group)
    gi = np.searchsorted(engine.egroups, engine.gid[d == 1])
    resid = engine.X[d == 1] - means[gi]
    variance = inverse(i11)
    scaled = resid @ variance * d.sum() + beta
    factor = design.per_natural_unit()
    residuals = pd.DataFrame(scaled * factor, columns=list(design.columns))
    residuals.insert(0, "g", g_group[gi])
    residuals.insert(0, "time", engine.t[d == 1])
    residuals = residuals.iloc[::-1].reset_index(drop=True)  # increasing time
    return ZphResult(table, transform, residuals)
