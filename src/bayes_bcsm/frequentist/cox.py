"""Cox proportional-hazards regression (partial likelihood), as R's ``survival::coxph``.

Ties by Efron (R's default) or Breslow; strata with separate risk sets; Newton-Raphson
started at 0 with step halving and R's convergence rule; likelihood-ratio, Wald and score
tests; Harrell's concordance as R computes it; detection of monotone likelihood
(separation) with a :class:`SeparationWarning`; and Firth's penalised partial likelihood
(Heinze & Schemper 2001) with profile penalised-likelihood confidence intervals.

The risk-set sums are vectorised: rows are sorted by stratum and decreasing time, grouped
by tied times with :func:`numpy.add.reduceat` and accumulated with cumulative sums. Efron's
tie correction loops over the largest tie multiplicity only, never over event times.

References
----------
Therneau, T. M. & Grambsch, P. M. (2000). *Modeling Survival Data: Extending the Cox
Model*. Springer (chapters 3 and 6; the ``coxph`` algorithms).
Efron, B. (1977). The efficiency of Cox's likelihood function for censored data.
*JASA* 72, 557-565.
Heinze, G. & Schemper, M. (2001). A solution to the problem of monotone likelihood in
Cox regression. *Biometrics* 57, 114-119.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from bayes_bcsm.data.design import CompleteCases, Design, build_design

Ties = Literal["efron", "breslow"]

__all__ = [
    "ChiSquareTest",
    "CoxError",
    "CoxResult",
    "SeparationWarning",
    "concordance_index",
    "cox_ph",
    "cox_ph_design",
]


class CoxError(ValueError):
    """A Cox model that cannot be fitted as requested (bad option, no events, ...)."""


class SeparationWarning(UserWarning):
    """Monotone likelihood: a coefficient runs to +/- infinity (a level with no events, ...)."""


class CoxConvergenceWarning(UserWarning):
    """Newton-Raphson stopped at ``max_iter`` without meeting the convergence rule."""


@dataclass(frozen=True)
class ChiSquareTest:
    """A chi-square test.

    Attributes
    ----------
    statistic : float
        Chi-square statistic.
    df : int
        Degrees of freedom.
    p_value : float
        Upper-tail probability of the chi-square distribution.
    """

    statistic: float
    df: int
    p_value: float

    @classmethod
    def from_statistic(cls, statistic: float, df: int) -> ChiSquareTest:
        """Build the test from its statistic (p-value from the chi-square upper tail)."""
        statistic = float(statistic)
        return cls(statistic, int(df), float(stats.chi2.sf(max(statistic, 0.0), df)))


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model (immutable).

    Coefficients are log hazard ratios per natural unit of each design column (a design
    built with ``standardize=True`` is converted back with ``Design.per_natural_unit``).

    Attributes
    ----------
    columns : tuple of str
        Design-matrix columns (``name`` or ``name[level]``).
    coef, se : ndarray, shape (p,)
        Log hazard ratios and their standard errors (model-based, inverse information).
    variance : ndarray, shape (p, p)
        Covariance matrix of ``coef``.
    hazard_ratio : ndarray, shape (p,)
        ``exp(coef)``.
    ci : ndarray, shape (p, 2)
        Confidence limits on the hazard-ratio scale at ``conf_level`` (Wald, or profile
        penalised likelihood for Firth; see ``ci_method``).
    ci_method : {"wald", "profile"}
    p_value : ndarray, shape (p,)
        Wald p-values (Firth: penalised likelihood-ratio p-values).
    z : ndarray, shape (p,)
        Wald statistics ``coef / se``.
    loglik, loglik_null : float
        Log partial likelihood at the estimate and at 0 (penalised for Firth).
    lr_test, wald_test, score_test : ChiSquareTest
        Global tests of all coefficients = 0.
    concordance : float
        Harrell's C (R's ``concordance``: pairs tied on time are not comparable, pairs tied
        on the linear predictor count 1/2).
    n, n_events : int
        Rows used and events among them.
    rows : CompleteCases
        Rows used and why the others were excluded.
    converged : bool
    iterations : int
    warnings : tuple of str
        Warnings raised while fitting (separation, non-convergence).
    ties : {"efron", "breslow"}
    penalty : None or "firth"
    conf_level : float
    separated : tuple of str
        Columns flagged as running away (monotone likelihood).
    design : Design
        The design that was fitted (needed by :func:`cox_zph`).
    strata : ndarray or None
        Stratum code per design row.
    linear_predictor : ndarray, shape (n,)
        ``X @ beta`` on the design rows (uncentred).
    """

    columns: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    variance: np.ndarray
    hazard_ratio: np.ndarray
    ci: np.ndarray
    ci_method: str
    p_value: np.ndarray
    z: np.ndarray
    loglik: float
    loglik_null: float
    lr_test: ChiSquareTest
    wald_test: ChiSquareTest
    score_test: ChiSquareTest
    n: int
    n_events: int
    rows: CompleteCases
    converged: bool
    iterations: int
    warnings: tuple[str, ...]
    ties: str
    penalty: str | None
    conf_level: float
    separated: tuple[str, ...]
    design: Design = field(repr=False)
    strata: np.ndarray | None = field(repr=False, default=None)
    linear_predictor: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))

    @cached_property
    def concordance(self) -> float:
        """Harrell's C of the linear predictor (R's ``concordance``), computed on first use."""
        return concordance_index(
            self.design.time, self.design.event, self.linear_predictor, self.strata
        )

    @property
    def summary(self) -> pd.DataFrame:
        """Tidy table: covariate, coef, se, hr, lower, upper, z, p (one row per column)."""
        return pd.DataFrame(
            {
                "covariate": list(self.columns),
                "coef": self.coef,
                "se": self.se,
                "hr": self.hazard_ratio,
                "lower": self.ci[:, 0],
                "upper": self.ci[:, 1],
                "z": self.z,
                "p": self.p_value,
            }
        )


# ---------------------------------------------------------------------------------------
# The vectorised partial-likelihood engine
# ---------------------------------------------------------------------------------------


class _CoxEngine:
    """Sorted data, tie groups and risk-set machinery for one design (internal)."""

    def __init__(
        self, time: np.ndarray, event: np.ndarray, X: np.ndarray, strata: np.ndarray | None,
        ties: Ties,
    ) -> None:
        n = len(time)
        s = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata, np.int64)
        # stratum ascending, time descending, events first within a tied time
        order = np.lexsort((-event, -time, s))
        self.order = order
        self.t = time[order]
        self.d = event[order].astype(float)
        self.mean = X.mean(axis=0) if n else np.zeros(X.shape[1])
        self.X = X[order] - self.mean
        self.s = s[order]
        self.ties = ties
        new_group = np.ones(n, dtype=bool)
        new_group[1:] = (self.s[1:] != self.s[:-1]) | (self.t[1:] != self.t[:-1])
        self.starts = np.flatnonzero(new_group)
        self.gid = np.cumsum(new_group) - 1
        ng = len(self.starts)
        gs = self.s[self.starts]
        new_stratum = np.ones(ng, dtype=bool)
        new_stratum[1:] = gs[1:] != gs[:-1]
        # (first, end) group indices of each stratum
        firsts = np.flatnonzero(new_stratum)
        ends = np.r_[firsts[1:], ng]
        self.stratum_slices = list(zip(firsts.tolist(), ends.tolist(), strict=True))
        self.dcount = np.add.reduceat(self.d, self.starts)
        self.egroups = np.flatnonzero(self.dcount > 0)  # groups holding events
        self.de = self.dcount[self.egroups]
        self.max_ties = int(self.de.max()) if len(self.de) else 0
        # Efron: one entry per event, k = 0..d-1 within its tie group, fraction k/d
        de_int = self.de.astype(np.int64)
        self.efron_group = np.repeat(np.arange(len(de_int)), de_int)
        first = np.repeat(np.cumsum(de_int) - de_int, de_int)
        k = np.arange(len(self.efron_group)) - first
        self.efron_f = k / np.repeat(self.de, de_int)
        # events come first in their tie group: rows starts[e] .. starts[e] + d_e - 1
        ev_rows = (
            np.repeat(self.starts[self.egroups], self.de.astype(np.int64))
            + np.arange(int(self.d.sum()))
            - np.repeat(np.cumsum(self.de.astype(np.int64)) - self.de.astype(np.int64),
                        self.de.astype(np.int64))
        )
        self.event_rows = ev_rows
        self.event_starts = np.r_[0, np.cumsum(self.de.astype(np.int64))[:-1]]
        self.X_events = self.X[ev_rows]
        self.xd_group = np.add.reduceat(self.X_events, self.event_starts, axis=0)
        self.time_group = self.t[self.starts]
        self._buffer: np.ndarray | None = None

    def _scaled(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``X * weights[:, None]`` written into a buffer reused across evaluations (fresh
        n x p allocations cost page faults that dominate at large n)."""
        if X is not self.X:
            return X * weights[:, None]
        if self._buffer is None:
            self._buffer = np.empty_like(self.X)
        return np.multiply(X, weights[:, None], out=self._buffer)

    # -- cumulative sums within strata (in decreasing-time order) --
    # Computed per stratum, never as "total minus prefix": the terms span many orders of
    # magnitude (1 / den is huge late in follow-up), and differences of running totals
    # would lose precision (it showed as noise in the Firth penalty's log det I).
    def _cum(self, G: np.ndarray) -> np.ndarray:
        """Running sum over groups from the latest time to each group, within its stratum."""
        if len(self.stratum_slices) == 1:
            return np.cumsum(G, axis=0)
        out = np.empty_like(G)
        for a, b in self.stratum_slices:
            out[a:b] = np.cumsum(G[a:b], axis=0)
        return out

    def _revcum(self, c: np.ndarray) -> np.ndarray:
        """Sum of ``c`` over groups at or after each group (later index) within its stratum."""
        out = np.empty_like(c)
        for a, b in self.stratum_slices:
            out[a:b] = np.cumsum(c[a:b][::-1])[::-1]
        return out

    def evaluate(
        self, beta: np.ndarray, derivatives: bool = True, time_weights: np.ndarray | None = None,
        X: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Log partial likelihood, score and information at ``beta``.

        ``time_weights`` (one per event group) weights each event time's contribution to
        the score and information (used by the Schoenfeld test); the log-likelihood is
        then meaningless.
        """
        X = self.X if X is None else X
        eta = X @ beta
        shift = eta.max() if len(eta) else 0.0
        w = np.exp(eta - shift)
        starts, eg = self.starts, self.egroups
        S0 = self._cum(np.add.reduceat(w, starts))[eg]
        wd = w * self.d
        D0 = np.add.reduceat(wd, starts)[eg]
        loglik = float(self.d @ (eta - shift))
        p = X.shape[1]
        if not derivatives:
            gi, f = self.efron_group, self.efron_f
            loglik -= float(np.sum(np.log(S0[gi] - f * D0[gi])))
            return loglik, np.empty(p), np.empty((p, p))
        S1 = self._cum(np.add.reduceat(self._scaled(X, w), starts, axis=0))[eg]
        if X is self.X:
            Xe = self.X_events
            xd_group = self.xd_group
        else:
            Xe = X[self.event_rows]
            xd_group = np.add.reduceat(Xe, self.event_starts, axis=0)
        we = w[self.event_rows]
        D1 = np.add.reduceat(we[:, None] * Xe, self.event_starts, axis=0)
        tw = np.ones(len(eg)) if time_weights is None else time_weights
        ne = len(eg)
        score = np.zeros(p)
        info = np.zeros((p, p))
        score += tw @ xd_group
        # one entry per event: its tie group and Efron fraction f = k/d (no loop over times).
        # Per event only scalars are formed; with a_k = (S1 - f D1) / den the sums over k
        # of a_k and a_k a_k^T expand into per-group weights times S1 and D1.
        gi, f = self.efron_group, self.efron_f
        den = S0[gi] - f * D0[gi]
        loglik -= float(np.sum(np.log(den)))
        twm = tw[gi]
        inv = twm / den
        inv2 = inv / den

        def per_group(weights: np.ndarray) -> np.ndarray:
            return np.bincount(gi, weights=weights, minlength=ne)

        c = per_group(inv)  # sum_k tw / den
        e = per_group(inv * f)  # sum_k tw f / den
        q0, q1, q2 = per_group(inv2), per_group(inv2 * f), per_group(inv2 * f * f)
        score -= c @ S1 - e @ D1
        cross = (S1 * q1[:, None]).T @ D1
        info -= (S1 * q0[:, None]).T @ S1 - cross - cross.T + (D1 * q2[:, None]).T @ D1
        Cg = np.zeros(len(starts))
        Cg[eg] = c
        Cg = self._revcum(Cg)
        Eg = np.zeros(len(starts))
        Eg[eg] = e
        rw = w * (Cg[self.gid] - self.d * Eg[self.gid])
        info += self._scaled(X, rw).T @ X
        return loglik, score, info


def _breslow_evaluate(engine: _CoxEngine, beta: np.ndarray, derivatives: bool, tw, X):
    """Breslow ties: every tied event sees the full risk set (weights d per event time)."""
    X = engine.X if X is None else X
    eta = X @ beta
    shift = eta.max() if len(eta) else 0.0
    w = np.exp(eta - shift)
    starts, eg = engine.starts, engine.egroups
    S0 = engine._cum(np.add.reduceat(w, starts))[eg]
    de = engine.de
    loglik = float(engine.d @ (eta - shift)) - float(de @ np.log(S0))
    p = X.shape[1]
    if not derivatives:
        return loglik, np.empty(p), np.empty((p, p))
    tw = np.ones(len(eg)) if tw is None else tw
    S1 = engine._cum(np.add.reduceat(engine._scaled(X, w), starts, axis=0))[eg]
    a = S1 / S0[:, None]
    if X is engine.X:
        xd_group = engine.xd_group
    else:
        xd_group = np.add.reduceat(X[engine.event_rows], engine.event_starts, axis=0)
    score = tw @ xd_group - (tw * de) @ a
    info = -(a * (tw * de)[:, None]).T @ a
    Cg = np.zeros(len(starts))
    Cg[eg] = tw * de / S0
    Cg = engine._revcum(Cg)
    rw = w * Cg[engine.gid]
    info += engine._scaled(X, rw).T @ X
    return loglik, score, info


def _event_means(engine: _CoxEngine, beta: np.ndarray) -> np.ndarray:
    """Risk-set weighted covariate mean per event group (Efron: averaged over the d
    fractional risk sets), shape (n_event_groups, p); Schoenfeld residuals are x - mean."""
    X = engine.X
    w = np.exp(X @ beta - (X @ beta).max())
    starts, eg = engine.starts, engine.egroups
    S0 = engine._cum(np.add.reduceat(w, starts))[eg]
    S1 = engine._cum(np.add.reduceat(w[:, None] * X, starts, axis=0))[eg]
    if engine.ties == "breslow":
        return S1 / S0[:, None]
    wd = w * engine.d
    D0 = np.add.reduceat(wd, starts)[eg]
    D1 = np.add.reduceat(wd[:, None] * X, starts, axis=0)[eg]
    gi, f = engine.efron_group, engine.efron_f
    a = (S1[gi] - f[:, None] * D1[gi]) / (S0[gi] - f * D0[gi])[:, None]
    sums = np.zeros((len(eg), X.shape[1]))
    np.add.at(sums, gi, a)
    return sums / engine.de[:, None]


def _evaluate(engine: _CoxEngine, beta, derivatives=True, time_weights=None, X=None):
    if engine.ties == "breslow":
        return _breslow_evaluate(engine, beta, derivatives, time_weights, X)
    return engine.evaluate(beta, derivatives, time_weights, X)


# ---------------------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------------------


def _solve(info: np.ndarray, score: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(info, score)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(info) @ score


def _inverse(info: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(info)


@dataclass(frozen=True)
class _Fit:
    beta: np.ndarray
    loglik: float
    score: np.ndarray
    info: np.ndarray
    converged: bool
    iterations: int
    path: np.ndarray  # accepted betas, one row per accepted step


def _newton(engine: _CoxEngine, p: int, max_iter: int, tol: float) -> tuple[_Fit, tuple]:
    """R's coxfit6 Newton-Raphson: start at 0, halve the step when the loglik decreases,
    stop when |1 - loglik_old / loglik_new| <= tol on a full (non-halved) step."""
    beta = np.zeros(p)
    ll, U, info = _evaluate(engine, beta)
    null = (ll, U, info)
    path = [beta]
    if max_iter <= 0 or p == 0:
        return _Fit(beta, ll, U, info, True, 0, np.array(path)), null
    newbeta = beta + _solve(info, U)
    halving = False
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):
        nll, nU, ninfo = _evaluate(engine, newbeta)
        if not np.isfinite(nll):
            nll = -np.inf
        if not halving and np.isfinite(nll) and abs(1.0 - ll / nll) <= tol:
            beta, ll, U, info = newbeta, nll, nU, ninfo
            path.append(beta)
            converged = True
            break
        if iteration == max_iter:
            break
        if nll < ll:
            halving = True
            newbeta = (newbeta + beta) / 2.0
        else:
            halving = False
            beta, ll, U, info = newbeta, nll, nU, ninfo
            path.append(beta)
            newbeta = beta + _solve(info, U)
    return _Fit(beta, ll, U, info, converged, iteration, np.array(path)), null


def _check_separation(
    design_X: np.ndarray, event: np.ndarray, columns: Sequence[str], fit: _Fit,
    variance: np.ndarray, tol: float, indicator: np.ndarray,
    categorical_blocks: Sequence[list[int]] = (),
) -> list[str]:
    """Columns whose coefficient may be infinite (R's rule, plus direct checks)."""
    flagged: list[str] = []
    p = len(columns)
    if p == 0:
        return flagged
    # R's coxph.fit rule: the next Newton step is still large relative to the coefficient
    step = np.abs(fit.score @ variance)
    toler_inf = np.sqrt(tol)
    r_rule = (step > tol) & (step > toler_inf * np.abs(fit.beta))
    # coefficient growing steadily over the last accepted iterations
    growing = np.zeros(p, dtype=bool)
    if len(fit.path) >= 4:
        last = np.abs(fit.path[-4:])
        growing = np.all(np.diff(last, axis=0) > 0.05, axis=0) & (last[-1] > 5)
    # indicator columns with no events in one level
    no_events = np.zeros(p, dtype=bool)
    for j in np.flatnonzero(indicator):
        x = design_X[:, j]
        if np.all((x == 0) | (x == 1)):
            hi = x == 1
            if event[hi].sum() == 0 or event[~hi].sum() == 0:
                no_events[j] = True
    se = np.sqrt(np.clip(np.diag(variance), 0, None))
    sd = np.sqrt(np.einsum("ij,ij->j", design_X, design_X) / len(design_X) - design_X.mean(0) ** 2)
    # categorical terms: a level (the reference included) with no events
    for cols in categorical_blocks:
        block = design_X[:, cols]
        reference_rows = ~block.any(axis=1)
        if reference_rows.any() and event[reference_rows].sum() == 0:
            no_events[cols] = True  # every contrast against an event-free reference
    huge = (np.abs(fit.beta) * sd > 8) & (se * sd > 20)
    for j in range(p):
        if r_rule[j] or growing[j] or no_events[j] or huge[j]:
            flagged.append(columns[j])
    return flagged


def _strata_codes(values: np.ndarray | pd.Series | pd.DataFrame) -> np.ndarray:
    if isinstance(values, pd.DataFrame):
        return values.groupby(list(values.columns), sort=True, observed=True).ngroup().to_numpy()
    _, codes = np.unique(np.asarray(values).astype(str), return_inverse=True)
    return codes.astype(np.int64)


def cox_ph(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    ties: Ties = "efron",
    strata: str | Sequence[str] | None = None,
    penalty: Literal["firth"] | None = None,
    reference: Mapping[str, str] | None = None,
    conf_level: float = 0.95,
    max_iter: int = 50,
    tol: float = 1e-9,
) -> CoxResult:
    """Fit a Cox proportional-hazards model by maximum partial likelihood.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    duration : str
        Follow-up time column (any time unit; hazard ratios do not depend on it).
    event : str
        Event indicator column (1 = event, 0 = censored).
    covariates : sequence of str
        Covariate columns, coded by :func:`bayes_bcsm.data.design.build_design`
        (categorical against a reference level, 0/1 binary, numeric continuous per
        natural unit).
    ties : {"efron", "breslow"}
        Handling of tied event times; "efron" is R's default.
    strata : str or sequence of str, optional
        Stratification column(s): separate baseline hazards and risk sets per stratum.
    penalty : {None, "firth"}
        "firth" maximises the Firth-penalised partial likelihood (Heinze & Schemper 2001)
        and reports profile penalised-likelihood CIs and p-values.
    reference : mapping, optional
        Reference level per categorical covariate.
    conf_level : float
        Confidence level of the hazard-ratio intervals (0.95 default).
    max_iter : int
        Maximum Newton-Raphson iterations.
    tol : float
        Convergence tolerance on the relative change of the log partial likelihood (R's
        ``coxph.control(eps=1e-9)``).

    Returns
    -------
    CoxResult
        Includes ``rows``, the complete-case accounting (rows missing a covariate, the
        time, the event or a stratum are excluded and counted).

    Raises
    ------
    CoxError
        Bad option or no events among the rows used.
    bayes_bcsm.data.design.DesignError
        Unknown column, bad reference level, single-level covariate.

    References
    ----------
    R: ``coxph(Surv(time, status) ~ ..., ties = "efron")``; Therneau & Grambsch (2000).
    """
    strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
    design = build_design(
        data, covariates, duration, event, reference=reference, extra_required=strata_cols
    )
    codes = None
    if strata_cols:
        codes = _strata_codes(data.loc[design.index, strata_cols])
    return cox_ph_design(
        design, ties=ties, strata=codes, penalty=penalty, conf_level=conf_level,
        max_iter=max_iter, tol=tol,
    )


def cox_ph_design(
    design: Design,
    ties: Ties = "efron",
    strata: np.ndarray | Sequence | None = None,
    penalty: Literal["firth"] | None = None,
    conf_level: float = 0.95,
    max_iter: int = 50,
    tol: float = 1e-9,
) -> CoxResult:
    """Fit a Cox model on a prepared :class:`~bayes_bcsm.data.design.Design`.

    Parameters
    ----------
    design : Design
        Times, events and covariate matrix (see :func:`cox_ph` for the other options).
    ties, penalty, conf_level, max_iter, tol
        As in :func:`cox_ph`.
    strata : array-like, optional
        Stratum label per design row.

    Returns
    -------
    CoxResult
    """
    if ties not in ("efron", "breslow"):
        raise CoxError(f"ties must be 'efron' or 'breslow', got {ties!r}")
    if penalty not in (None, "firth"):
        raise CoxError(f"penalty must be None or 'firth', got {penalty!r}")
    if not 0 < conf_level < 1:
        raise CoxError(f"conf_level must lie in (0, 1), got {conf_level}")
    time = np.asarray(design.time, dtype=float)
    event = np.asarray(design.event, dtype=float)
    X = np.asarray(design.X, dtype=float)
    n, p = X.shape
    if event.sum() == 0:
        raise CoxError(f"no events among the {n} rows used ({design.rows.describe()})")
    codes = None
    if strata is not None:
        strata = np.asarray(strata)
        if len(strata) != n:
            raise CoxError(f"strata has {len(strata)} values for {n} design rows")
        codes = _strata_codes(strata)
    engine = _CoxEngine(time, event, X, codes, ties)
    columns = tuple(design.columns)
    messages: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow while running away
        fit, (ll0, U0, I0) = _newton(engine, p, max_iter, tol)
    variance = _inverse(fit.info)
    indicator = np.array(
        [t.kind != "continuous" for t in design.terms for _ in t.columns], dtype=bool
    )
    blocks, j = [], 0
    for term in design.terms:
        if term.kind == "categorical":
            blocks.append(list(range(j, j + len(term.columns))))
        j += len(term.columns)
    separated = _check_separation(X, event, columns, fit, variance, tol, indicator, blocks)
    if not fit.converged:
        msg = (
            f"Newton-Raphson did not converge in {max_iter} iterations "
            f"(log partial likelihood {fit.loglik:.6f})"
        )
        messages.append(msg)
        warnings.warn(msg, CoxConvergenceWarning, stacklevel=2)
    if separated and penalty is None:
        msg = (
            "monotone likelihood (separation): the coefficient of "
            + ", ".join(repr(c) for c in separated)
            + " may be infinite; its hazard ratio and confidence interval are not "
            "meaningful. Use penalty='firth'."
        )
        messages.append(msg)
        warnings.warn(msg, SeparationWarning, stacklevel=2)
    score_stat = float(U0 @ _solve(I0, U0)) if p else 0.0
    score_test = ChiSquareTest.from_statistic(score_stat, p)
    zq = stats.norm.ppf(0.5 + conf_level / 2)
    if penalty == "firth":
        firth = _firth(engine, p, conf_level, max_iter=max(max_iter, 100))
        beta = firth.beta
        variance = _inverse(_evaluate(engine, beta)[2])
        se = np.sqrt(np.diag(variance))
        lower, upper = firth.lower, firth.upper
        p_values = firth.p_values
        loglik, loglik_null = firth.loglik, firth.loglik_null
        converged, iterations = firth.converged, firth.iterations
        ci_method = "profile"
        separated_out: tuple[str, ...] = ()
        if separated:
            messages.append(
                "monotone likelihood in the unpenalised fit for "
                + ", ".join(repr(c) for c in separated)
                + "; Firth-penalised estimates are finite"
            )
    else:
        beta = fit.beta
        se = np.sqrt(np.clip(np.diag(variance), 0, None))
        lower, upper = beta - zq * se, beta + zq * se
        with np.errstate(divide="ignore", invalid="ignore"):
            p_values = 2 * stats.norm.sf(np.abs(beta / se))
        loglik, loglik_null = fit.loglik, ll0
        converged, iterations = fit.converged, fit.iterations
        ci_method = "wald"
        separated_out = tuple(separated)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = beta / se
    wald_stat = float(beta @ _solve(variance, beta)) if p else 0.0
    lr = ChiSquareTest.from_statistic(2 * (loglik - loglik_null), p)
    eta = X @ beta
    # per natural unit
    factor = design.per_natural_unit()
    coef = beta * factor
    se_n = se * factor
    var_n = variance * np.outer(factor, factor)
    with np.errstate(over="ignore"):
        ci = np.exp(np.column_stack([lower * factor, upper * factor]))
    ci = np.sort(ci, axis=1)
    return CoxResult(
        columns=columns,
        coef=coef,
        se=se_n,
        variance=var_n,
        hazard_ratio=np.exp(coef),
        ci=ci,
        ci_method=ci_method,
        p_value=np.asarray(p_values, dtype=float),
        z=z,
        loglik=float(loglik),
        loglik_null=float(loglik_null),
        lr_test=lr,
        wald_test=ChiSquareTest.from_statistic(wald_stat, p),
        score_test=score_test,
        n=n,
        n_events=int(event.sum()),
        rows=design.rows,
        converged=bool(converged),
        iterations=int(iterations),
        warnings=tuple(messages),
        ties=ties,
        penalty=penalty,
        conf_level=conf_level,
        separated=separated_out,
        design=design,
        strata=codes,
        linear_predictor=eta,
    )


# ---------------------------------------------------------------------------------------
# Firth penalty
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FirthFit:
    beta: np.ndarray
    loglik: float
    loglik_null: float
    lower: np.ndarray
    upper: np.ndarray
    p_values: np.ndarray
    converged: bool
    iterations: int


def _penalised(engine: _CoxEngine, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Penalised loglik l + 0.5 log det I, its gradient (penalty part by central
    differences of log det I) and the information I (used as the Newton matrix)."""
    ll, U, info = _evaluate(engine, beta)
    sign, logdet = np.linalg.slogdet(info)
    pen = 0.5 * logdet if sign > 0 else -np.inf
    p = len(beta)
    grad = np.array(U, dtype=float)
    h = 1e-5
    for r in range(p):
        e = np.zeros(p)
        e[r] = h
        lp = np.linalg.slogdet(_evaluate(engine, beta + e)[2])[1]
        lm = np.linalg.slogdet(_evaluate(engine, beta - e)[2])[1]
        grad[r] += 0.5 * (lp - lm) / (2 * h)
    return ll + pen, grad, info


def _penalised_value(engine: _CoxEngine, beta: np.ndarray) -> float:
    ll, _, info = _evaluate(engine, beta)
    sign, logdet = np.linalg.slogdet(info)
    return ll + 0.5 * logdet if sign > 0 else -np.inf


def _firth_maximise(
    engine: _CoxEngine, beta0: np.ndarray, free: np.ndarray, max_iter: int,
    tol: float = 1e-8,
) -> tuple[np.ndarray, float, bool, int]:
    """Maximise the penalised loglik over the ``free`` coefficients (others fixed):
    modified-score Newton steps with the information as the curvature, step halving."""
    beta = beta0.copy()
    value, grad, info = _penalised(engine, beta)
    for it in range(1, max_iter + 1):
        if not free.any():
            return beta, value, True, it
        step = np.zeros_like(beta)
        step[free] = _solve(info[np.ix_(free, free)], grad[free])
        big = float(np.max(np.abs(step)))
        if big < tol:  # the full modified-score step is negligible: converged
            return beta, value, True, it
        if big > 5:
            step *= 5 / big
        for _ in range(40):
            nb = beta + step
            nv = _penalised_value(engine, nb)
            if np.isfinite(nv) and nv >= value - 1e-12:
                break
            step /= 2
        else:  # no ascent along the step at rounding level: at the maximum numerically
            return beta, value, big < 1e-5, it
        beta = nb
        value, grad, info = _penalised(engine, beta)
    return beta, value, False, max_iter


def _firth(engine: _CoxEngine, p: int, conf_level: float, max_iter: int) -> _FirthFit:
    all_free = np.ones(p, dtype=bool)
    beta, value, converged, iters = _firth_maximise(engine, np.zeros(p), all_free, max_iter)
    null_value = _penalised_value(engine, np.zeros(p))
    crit = stats.chi2.ppf(conf_level, 1) / 2
    lower = np.empty(p)
    upper = np.empty(p)
    p_values = np.empty(p)
    profiles: dict[int, np.ndarray] = {}

    def profile(r: int, c: float) -> float:
        free = all_free.copy()
        free[r] = False
        start = profiles.get(r, beta).copy()
        start[r] = c
        b, v, _, _ = _firth_maximise(engine, start, free, max_iter)
        profiles[r] = b
        return v

    for r in range(p):
        se_r = np.sqrt(max(_inverse(_penalised(engine, beta)[2])[r, r], 1e-12))
        profiles[r] = beta.copy()
        v0 = profile(r, 0.0)
        p_values[r] = stats.chi2.sf(max(2 * (value - v0), 0.0), 1)
        for side, out in ((-1, lower), (1, upper)):
            profiles[r] = beta.copy()

            def g(c: float, r: int = r) -> float:
                return value - profile(r, c) - crit

            step = 2 * se_r
            a_ = beta[r]
            b_ = beta[r] + side * step
            k = 0
            while g(b_) < 0 and k < 30:
                a_ = b_
                step *= 2
                b_ = beta[r] + side * step
                k += 1
            if g(b_) < 0:
                out[r] = side * np.inf
                continue
            profiles[r] = beta.copy()
            out[r] = optimize.brentq(g, min(a_, b_), max(a_, b_), xtol=1e-8)
    return _FirthFit(beta, value, null_value, lower, upper, p_values, converged, iters)


# ---------------------------------------------------------------------------------------
# Concordance
# ---------------------------------------------------------------------------------------


def _count_later(pos_value: np.ndarray, is_query: np.ndarray) -> tuple[int, int, int]:
    """For query elements i, count elements j at a later position with value <, =, >.

    Bottom-up merge counting, vectorised per level (O(n log^2 n) in numpy, no loop over
    elements)."""
    n = len(pos_value)
    if n < 2:
        return 0, 0, 0
    v = pos_value.astype(np.int64)
    M = int(v.max()) + 2
    pos = np.arange(n, dtype=np.int64)
    less = tied = greater = 0
    s = 1
    while s < n:
        blk = pos // (2 * s)
        right = (pos // s) % 2 == 1
        keys_r = np.sort(blk[right] * M + v[right])
        q = (~right) & is_query
        bq = blk[q]
        base = bq * M
        lo = np.searchsorted(keys_r, base, "left")
        hi = np.searchsorted(keys_r, base + M, "left")
        lt = np.searchsorted(keys_r, base + v[q], "left")
        le = np.searchsorted(keys_r, base + v[q], "right")
        less += int(np.sum(lt - lo))
        tied += int(np.sum(le - lt))
        greater += int(np.sum(hi - le))
        s *= 2
    return less, tied, greater


def concordance_index(
    time: np.ndarray, event: np.ndarray, risk: np.ndarray, strata: np.ndarray | None = None
) -> float:
    """Harrell's concordance of a risk score with survival, as R's ``concordance``.

    A pair is comparable when the shorter time is an event (a censored time equal to an
    event time counts as longer); pairs of events at the same time are not comparable.
    Concordant: the shorter time has the higher risk; ties in ``risk`` count 1/2.
    With strata only pairs within a stratum are compared.

    Parameters
    ----------
    time : array, shape (n,)
        Follow-up times (any unit).
    event : array, shape (n,)
        1 = event, 0 = censored.
    risk : array, shape (n,)
        Risk score (higher = shorter expected survival), e.g. the linear predictor.
    strata : array, optional
        Stratum code per row.

    Returns
    -------
    float
        (concordant + tied / 2) / (concordant + discordant + tied).
    """
    time = np.asarray(time, float)
    event = np.asarray(event, float)
    risk = np.asarray(risk, float)
    codes = np.zeros(len(time), np.int64) if strata is None else np.asarray(strata)
    conc = disc = tie = 0
    for s in np.unique(codes):
        m = codes == s
        t, d, r = time[m], event[m], risk[m]
        # rounding guards against spurious ties/ordering from floating noise
        _, v = np.unique(np.round(r, 10), return_inverse=True)
        order = np.lexsort((-v, 1 - d, t))  # time asc, events first, risk desc
        lt, eq, gt = _count_later(v[order], d[order] == 1)
        # remove pairs of events tied on time (not comparable)
        dm = d == 1
        tv = pd.DataFrame({"t": t[dm], "v": v[dm]})
        nt = tv.groupby("t").size().to_numpy()
        nv = tv.groupby(["t", "v"]).size().to_numpy()
        pairs_t = int(np.sum(nt * (nt - 1) // 2))
        pairs_tv = int(np.sum(nv * (nv - 1) // 2))
        conc += lt - (pairs_t - pairs_tv)
        tie += eq - pairs_tv
        disc += gt
    total = conc + disc + tie
    return float((conc + 0.5 * tie) / total) if total else float("nan")
