"""Cox proportional-hazards regression (partial likelihood), as R's ``survival::coxph``.

Ties by Efron (R's default) or Breslow; strata with separate risk sets; Newton-Raphson
started at 0 with step halving and R's convergence rule; likelihood-ratio, Wald and score
tests; Harrell's concordance as R computes it (:mod:`~bayes_bcsm.frequentist.concordance`);
detection of monotone likelihood (separation) with a :class:`SeparationWarning`; and Firth's
penalised partial likelihood (Heinze & Schemper 2001) with profile penalised-likelihood
confidence intervals (:mod:`~bayes_bcsm.frequentist.firth`).

The log partial likelihood, score and information come from the vectorised engine of
:mod:`~bayes_bcsm.frequentist._partial_likelihood`.

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
from scipy import stats

from bayes_bcsm.data.design import CompleteCases, Design, DesignError, build_design
from bayes_bcsm.data.sparse import sparse_levels_warning
from bayes_bcsm.frequentist._partial_likelihood import (
    CoxEngine,
    Ties,
    evaluate,
    inverse,
    one_blas_thread,
    solve,
    strata_codes,
)
from bayes_bcsm.frequentist.concordance import concordance_index
from bayes_bcsm.frequentist.firth import FirthProfileError, firth_fit

__all__ = [
    "ChiSquareTest",
    "CoxError",
    "CoxResult",
    "SeparationWarning",
    "SparseLevelWarning",
    "Ties",
    "concordance_index",
    "cox_ph",
    "cox_ph_design",
]


class CoxError(ValueError):
    """A Cox model that cannot be fitted as requested (bad option, no events, ...)."""


class SparseLevelWarning(UserWarning):
    """A level of a binary or categorical covariate is held by very few rows."""


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
            self.design.time,
            self.design.event,
            self.linear_predictor,
            self.strata,
            entry=self.design.entry,
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
# Fitting
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fit:
    beta: np.ndarray
    loglik: float
    score: np.ndarray
    info: np.ndarray
    converged: bool
    iterations: int
    path: np.ndarray  # accepted betas, one row per accepted step


def _newton(engine: CoxEngine, p: int, max_iter: int, tol: float) -> tuple[_Fit, tuple]:
    """R's coxfit6 Newton-Raphson: start at 0, halve the step when the loglik decreases,
    stop when |1 - loglik_old / loglik_new| <= tol on a full (non-halved) step."""
    beta = np.zeros(p)
    ll, U, info = evaluate(engine, beta)
    null = (ll, U, info)
    path = [beta]
    if max_iter <= 0 or p == 0:
        return _Fit(beta, ll, U, info, True, 0, np.array(path)), null
    newbeta = beta + solve(info, U)
    halving = False
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):
        nll, nU, ninfo = evaluate(engine, newbeta)
        if not np.isfinite(nll):
            nll = -np.inf
        change = abs(1.0 - ll / nll) if nll else abs(ll)  # nll = 0: no information at all
        if not halving and np.isfinite(nll) and change <= tol:
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
            newbeta = beta + solve(info, U)
    return _Fit(beta, ll, U, info, converged, iteration, np.array(path)), null


def _check_separation(
    design_X: np.ndarray,
    event: np.ndarray,
    columns: Sequence[str],
    fit: _Fit,
    variance: np.ndarray,
    tol: float,
    indicator: np.ndarray,
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
    entry: str | None = None,
) -> CoxResult:
    """Fit a Cox proportional-hazards model by maximum partial likelihood.

    Parameters
    ----------
    data : DataFrame
        One row per patient, or one row per (start, stop] episode with ``entry``.
    duration : str
        Follow-up time column (any time unit; hazard ratios do not depend on it); the stop
        of each episode with ``entry``.
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
    entry : str, optional
        Entry column: delayed entry (left truncation), or the start of (start, stop]
        episodes whose covariates are constant within the episode (time-varying
        covariates). Each row is in the risk set on (entry, duration]; a subject's event
        belongs on her last episode. None: every row is at risk from 0.

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
    R: ``coxph(Surv(time, status) ~ ..., ties = "efron")`` and, with ``entry``,
    ``coxph(Surv(start, stop, status) ~ ...)``; Therneau & Grambsch (2000), section 3.7.
    """
    strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
    design = build_design(
        data,
        covariates,
        duration,
        event,
        reference=reference,
        extra_required=strata_cols,
        entry=entry,
    )
    codes = None
    if strata_cols:
        codes = strata_codes(data.loc[design.index, strata_cols])
    return cox_ph_design(
        design,
        ties=ties,
        strata=codes,
        penalty=penalty,
        conf_level=conf_level,
        max_iter=max_iter,
        tol=tol,
    )


@one_blas_thread
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
        Times, events and covariate matrix, and the entry times of (start, stop] rows
        (``design.entry``; see :func:`cox_ph` for the other options).
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
        codes = strata_codes(strata)
    entry = None if design.entry is None else np.asarray(design.entry, dtype=float)
    engine = CoxEngine(time, event, X, codes, ties, entry)
    columns = tuple(design.columns)
    messages: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow while running away
        fit, (ll0, U0, I0) = _newton(engine, p, max_iter, tol)
    variance = inverse(fit.info)
    indicator = np.array(
        [t.kind != "continuous" for t in design.terms for _ in t.columns], dtype=bool
    )
    blocks, j = [], 0
    for term in design.terms:
        if term.kind == "categorical":
            blocks.append(list(range(j, j + len(term.columns))))
        j += len(term.columns)
    separated = _check_separation(X, event, columns, fit, variance, tol, indicator, blocks)
    sparse = sparse_levels_warning(design)
    if sparse is not None:
        messages.append(sparse)
        warnings.warn(sparse, SparseLevelWarning, stacklevel=2)
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
    score_stat = float(U0 @ solve(I0, U0)) if p else 0.0
    score_test = ChiSquareTest.from_statistic(score_stat, p)
    zq = stats.norm.ppf(0.5 + conf_level / 2)
    if penalty == "firth":
        try:
            firth = firth_fit(engine, p, conf_level, max_iter=max(max_iter, 100))
        except FirthProfileError as error:
            name = design.columns[error.index]
            raise DesignError(
                f"the Firth interval of covariate {name!r} cannot be computed: the penalised "
                f"likelihood is not finite at log hazard ratio {error.value:.3g} (overflow: "
                "the covariate is on an extreme scale, or it nearly orders the events by time, "
                "e.g. derived from the follow-up); rescale it (its card's hr_per) or remove it "
                "from covariates.names"
            ) from error
        beta = firth.beta
        variance = inverse(evaluate(engine, beta)[2])
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
    wald_stat = float(beta @ solve(variance, beta)) if p else 0.0
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
