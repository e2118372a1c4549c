"""What each method of the simulation study estimates: pseudo-true log hazard ratios.

The generator's log-HRs are *conditional on all 16 indicators* of its linear predictor. The
study's methods fit the paper's Table 3 model, which leaves 12 of them out; hazard ratios are
not collapsible, so even a perfect Table 3 fit converges to something else. Each method is
therefore scored against its own estimand, the limit of its estimator as n grows under the
generator (the *pseudo-true* parameter of a misspecified model; White 1982,
Struthers & Kalbfleisch 1986), computed on one very large seeded cohort:

``cox``
    The Table 3 Cox log-HRs (Efron ties) on the large cohort: the limit of ``cox_table3``
    and of Firth's estimator (the penalty vanishes as n grows); also used for
    ``cox_selection`` when its final model is the Table 3 set.
``weibull``
    The maximum-likelihood limit of the Weibull PH model with the Table 3 covariates
    (baseline also misspecified): the value the posteriors of ``weibull_*`` concentrate on.
``piecewise``
    The same for the piecewise-exponential PH model with the study's cut points.

The likelihoods are the package's own numpy helpers
(:mod:`bayes_bcsm.models.likelihood`), maximised with :func:`scipy.optimize.minimize`
(L-BFGS-B with the analytic gradient). The large cohort draws its covariates once; the
survival draws (unit exponentials and entry dates) are kept, so that cohorts under other
generator effects (scenarios, the root-finding of :func:`null_table3_effect`) are functions
of the same random numbers (common random numbers), exactly as
:func:`bayes_bcsm.reconstruct.survival.survival_from_draws` would produce them.

**Monte Carlo error.** One cohort of 10^5 patients leaves an error of about 0.01 on the log-HR
scale (the estimator's SE there), as large as a tenth of nothing the study reports. The estimands
are therefore averages over a *pool* (:func:`draw_cohort_pool`): ``cohorts`` independent
covariate draws (seeds ``seed, seed + 1, ...``), each with ``redraws`` independent sets of
survival draws (redraw 0 is the cohort's own; :func:`redraw_survival`). Redraws are cheap (the
covariates take almost all the drawing time) and remove most of the survival noise; the
covariate noise is left to the number of cohorts. The Monte Carlo SE of a pooled value is the
standard deviation of the ``cohorts`` cohort means divided by sqrt(``cohorts``), an empirical
error that holds whatever the estimator's model-based SE gets wrong; a pool of one cohort
falls back on the estimator's SE divided by sqrt(``redraws``), which leaves the covariate
noise out.

References
----------
White H (1982). Maximum likelihood estimation of misspecified models. Econometrica 50:1-25.
Struthers CA, Kalbfleisch JD (1986). Misspecified proportional hazard models. Biometrika
73:363-369.
Morris TP, White IR, Crowther MJ (2019). Using simulation studies to evaluate statistical
methods. Stat Med 38:2074-2102 (section 5.2, estimands).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from bayes_bcsm.data import Design, build_design, derive_groupings
from bayes_bcsm.data.contract import REQUIRED_COLUMNS
from bayes_bcsm.data.io import validate_cohort
from bayes_bcsm.frequentist import cox_ph_design
from bayes_bcsm.models.likelihood import (
    exposure_matrix,
    interval_onehot,
    piecewise_cumulative_hazard,
    piecewise_log_hazard,
    survival_log_density,
    weibull_cumulative_hazard,
    weibull_log_hazard,
)
from bayes_bcsm.reconstruct import CALIBRATED_PARAMS, GeneratorParams
from bayes_bcsm.reconstruct.covariates import simulate_covariates
from bayes_bcsm.reconstruct.survival import (
    ACCRUAL_MONTHS,
    linear_predictor,
    linear_predictor_columns,
    survival_from_draws,
)

__all__ = [
    "TARGETS",
    "CohortPool",
    "LargeCohort",
    "MLEResult",
    "PseudoTrue",
    "cox_limit",
    "draw_cohort_pool",
    "draw_large_cohort",
    "large_design",
    "null_table3_effect",
    "piecewise_mle",
    "pool_mean",
    "pseudo_true",
    "redraw_survival",
    "weibull_mle",
]

#: The estimands: one per model specification (independent of n and of the prior).
TARGETS: tuple[str, ...] = ("cox", "weibull", "piecewise")

#: Months per baseline-rate unit of the Bayesian models (the MLE of the log-HRs does not depend
#: on it; it only sets the baseline's parametrisation).
_TIME_SCALE_MONTHS = 12.0


@dataclass(frozen=True)
class LargeCohort:
    """One large cohort from the generator, kept as random draws so effects can change.

    Attributes
    ----------
    n : int
        Patients drawn.
    seed : int
        Seed of the draws.
    params : GeneratorParams
        Generator parameters (baseline, accrual, close rule; effects are given per call).
    indicators : DataFrame
        The generator's 16 indicators per patient (:func:`linear_predictor_columns`).
    unit_exp, entry_months : ndarray
        The survival draws of every patient (see :func:`survival_from_draws`).
    design : Design
        The Table 3 complete-case design of the cohort under ``params.effects``; its
        ``index`` holds the row positions used. Other effects change only its times and
        events (:func:`large_design`).
    """

    n: int
    seed: int
    params: GeneratorParams
    indicators: pd.DataFrame
    unit_exp: np.ndarray
    entry_months: np.ndarray
    design: Design


def draw_large_cohort(
    n: int,
    seed: int,
    covariates: Sequence[str],
    reference: Mapping[str, str] | None = None,
    params: GeneratorParams | None = None,
) -> LargeCohort:
    """Draw the covariates and survival random numbers of a large cohort once.

    The draws are those of :func:`bayes_bcsm.reconstruct.simulate_cohort` with the same seed
    (covariates, then unit exponentials, then Beta entry dates), so under ``params`` the cohort
    is the one ``simulate_cohort(n, seed, params=params)`` returns (tested).

    Parameters
    ----------
    n : int
        Patients (the study uses at least 10^5).
    seed : int
    covariates : sequence of str
        The Table 3 covariate set (cohort / derived-grouping columns).
    reference : mapping of str to str, optional
        Reference levels of categorical covariates.
    params : GeneratorParams, optional
        Default: :data:`bayes_bcsm.reconstruct.CALIBRATED_PARAMS`.

    Returns
    -------
    LargeCohort
    """
    params = params or CALIBRATED_PARAMS
    rng = np.random.default_rng(seed)
    cov = simulate_covariates(n, rng, params)
    unit_exp = rng.exponential(size=n)
    a, b = params.accrual_beta
    entry = rng.beta(a, b, size=n) * ACCRUAL_MONTHS
    indicators = linear_predictor_columns(cov)
    eta = linear_predictor(cov, params.effects)
    time, event, _ = survival_from_draws(eta, unit_exp, entry, params)
    cov["time_months"] = time
    cov["event"] = event
    cov["patient_id"] = [f"L{i + 1}" for i in range(n)]
    frame = validate_cohort(cov[list(REQUIRED_COLUMNS)], source=f"large cohort n={n}").frame
    frame = derive_groupings(frame).reset_index(drop=True)
    design = build_design(frame, list(covariates), reference=dict(reference or {}))
    return LargeCohort(n, seed, params, indicators, unit_exp, entry, design)


def large_design(cohort: LargeCohort, effects: Mapping[str, float] | None = None) -> Design:
    """The Table 3 design of the large cohort under other generator effects.

    Parameters
    ----------
    cohort : LargeCohort
    effects : mapping of str to float, optional
        Log-HRs overriding ``cohort.params.effects`` (e.g. ``{"hormone_therapy": 0.0}``).

    Returns
    -------
    Design
        Same rows and covariates as ``cohort.design``; times and events redrawn from the same
        random numbers under the new effects (the event-driven close included).
    """
    params = cohort.params.with_effects(effects)
    eta = cohort.indicators.to_numpy(float) @ np.array(
        [params.effects[c] for c in cohort.indicators.columns]
    )
    time, event, _ = survival_from_draws(eta, cohort.unit_exp, cohort.entry_months, params)
    rows = np.asarray(cohort.design.index, dtype=int)
    return dataclasses.replace(cohort.design, time=time[rows], event=event[rows].astype(int))


def redraw_survival(cohort: LargeCohort, redraw: int) -> LargeCohort:
    """The cohort's patients with independent survival draws (same covariates).

    Parameters
    ----------
    cohort : LargeCohort
    redraw : int
        0 returns ``cohort`` itself; ``r >= 1`` draws unit exponentials and Beta entry dates
        (as :func:`draw_large_cohort`) from ``numpy.random.default_rng([cohort.seed, r])``.

    Returns
    -------
    LargeCohort
        Same covariates and rows; ``design`` under ``cohort.params.effects`` with the new draws.
    """
    if redraw == 0:
        return cohort
    rng = np.random.default_rng([cohort.seed, redraw])
    unit_exp = rng.exponential(size=cohort.n)
    a, b = cohort.params.accrual_beta
    entry = rng.beta(a, b, size=cohort.n) * ACCRUAL_MONTHS
    new = dataclasses.replace(cohort, unit_exp=unit_exp, entry_months=entry)
    return dataclasses.replace(new, design=large_design(new))


#: ``pool[k][r]``: covariate draw ``k`` (seed ``seed + k``) with survival redraw ``r``.
CohortPool = tuple[tuple[LargeCohort, ...], ...]


def draw_cohort_pool(
    n: int,
    seed: int,
    cohorts: int,
    redraws: int,
    covariates: Sequence[str],
    reference: Mapping[str, str] | None = None,
    params: GeneratorParams | None = None,
    workers: int = 1,
) -> CohortPool:
    """Draw ``cohorts`` independent large cohorts, each with ``redraws`` survival draws.

    Parameters
    ----------
    n : int
        Patients per cohort.
    seed : int
        Cohort ``k`` is ``draw_large_cohort(n, seed + k, ...)``; so the first cohort of a pool
        is the single cohort of that seed.
    cohorts, redraws : int
        Independent covariate draws, and survival draws per covariate draw (>= 1 each).
    covariates, reference, params
        As :func:`draw_large_cohort`.
    workers : int
        Processes drawing cohorts at once, spawned (the draws do not depend on it).

    Returns
    -------
    CohortPool
    """
    if cohorts < 1 or redraws < 1:
        raise ValueError(f"cohorts={cohorts}, redraws={redraws}: expected >= 1 each")
    seeds = [seed + k for k in range(cohorts)]
    args = (n, covariates, reference, params)
    if workers > 1 and cohorts > 1:
        context = multiprocessing.get_context("spawn")  # as the shards: no fork of threads
        with ProcessPoolExecutor(min(workers, cohorts), mp_context=context) as pool:
            drawn = list(pool.map(_draw_one, seeds, [args] * cohorts))
    else:
        drawn = [_draw_one(s, args) for s in seeds]
    return tuple(tuple(redraw_survival(c, r) for r in range(redraws)) for c in drawn)


def _draw_one(seed: int, args: tuple) -> LargeCohort:
    n, covariates, reference, params = args
    return draw_large_cohort(n, seed, covariates, reference, params)


def _as_pool(cohort: LargeCohort | CohortPool) -> CohortPool:
    return ((cohort,),) if isinstance(cohort, LargeCohort) else cohort


@dataclass(frozen=True)
class MLEResult:
    """A maximum-likelihood fit of a parametric PH model.

    Attributes
    ----------
    coef : ndarray
        Log-HRs, one per design column.
    se : ndarray
        Their standard errors (inverse observed information).
    baseline : ndarray
        Baseline parameters (``log_alpha, log_lambda`` or the interval log rates per
        12 months).
    converged : bool
    """

    coef: np.ndarray
    se: np.ndarray
    baseline: np.ndarray
    converged: bool


def _maximise(negloglik: callable, x0: np.ndarray, n_baseline: int, hessian: callable) -> MLEResult:
    res = optimize.minimize(
        negloglik, x0, jac=True, method="L-BFGS-B", options={"maxiter": 2000, "gtol": 1e-9}
    )
    cov = np.linalg.inv(hessian(res.x))
    se = np.sqrt(np.diag(cov))
    return MLEResult(res.x[n_baseline:], se[n_baseline:], res.x[:n_baseline], bool(res.success))


def weibull_mle(design: Design, time_scale_months: float = _TIME_SCALE_MONTHS) -> MLEResult:
    """Maximum-likelihood fit of the Weibull PH model.

    The hazard is ``h(t | x) = (alpha / s) lambda (t / s)^(alpha - 1) e^eta``.

    The log-likelihood is :func:`~bayes_bcsm.models.likelihood.survival_log_density` of
    :func:`~bayes_bcsm.models.likelihood.weibull_log_hazard` and
    :func:`~bayes_bcsm.models.likelihood.weibull_cumulative_hazard` (numpy); its gradient and
    Hessian are analytic.

    Parameters
    ----------
    design : Design
    time_scale_months : float
        ``s`` (months).

    Returns
    -------
    MLEResult
        ``baseline = (log_alpha, log_lambda)``.
    """
    t = np.asarray(design.time, float)
    d = np.asarray(design.event, float)
    X = np.asarray(design.X, float)
    log_ts = np.log(t / time_scale_months)

    def parts(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        la, ll, beta = theta[0], theta[1], theta[2:]
        eta = X @ beta
        log_h = weibull_log_hazard(t, la, ll, eta, time_scale_months, xp=np)
        cum_h = weibull_cumulative_hazard(t, la, ll, eta, time_scale_months, xp=np)
        return float(np.sum(survival_log_density(d, log_h, cum_h))), cum_h, np.exp(la)

    def negloglik(theta: np.ndarray) -> tuple[float, np.ndarray]:
        loglik, cum_h, alpha = parts(theta)
        grad = np.concatenate(
            [
                [np.sum(d * (1 + alpha * log_ts) - cum_h * alpha * log_ts)],
                [np.sum(d - cum_h)],
                X.T @ (d - cum_h),
            ]
        )
        return -loglik, -grad

    def hessian(theta: np.ndarray) -> np.ndarray:
        _, cum_h, alpha = parts(theta)
        u = alpha * log_ts  # d log H / d log_alpha
        Z = np.column_stack([u, np.ones_like(t), X])  # d log H / d theta
        H = (Z * cum_h[:, None]).T @ Z
        H[0, 0] += np.sum((cum_h - d) * u)  # second derivative of log H in log_alpha
        return H

    x0 = np.zeros(2 + X.shape[1])
    x0[1] = np.log(max(d.sum(), 1.0) / np.sum(t / time_scale_months))
    return _maximise(negloglik, x0, 2, hessian)


def piecewise_mle(
    design: Design,
    cuts_months: Sequence[float],
    time_scale_months: float = _TIME_SCALE_MONTHS,
) -> MLEResult:
    """Maximum-likelihood fit of the piecewise-exponential PH model with interior ``cuts_months``.

    The log-likelihood is :func:`~bayes_bcsm.models.likelihood.survival_log_density` of
    :func:`~bayes_bcsm.models.likelihood.piecewise_log_hazard` and
    :func:`~bayes_bcsm.models.likelihood.piecewise_cumulative_hazard` (numpy); gradient and
    Hessian analytic.

    Parameters
    ----------
    design : Design
    cuts_months : sequence of float
        Interior cut points (months), as the Bayesian piecewise model.
    time_scale_months : float
        Months per rate unit.

    Returns
    -------
    MLEResult
        ``baseline`` = the log rate of each interval per ``time_scale_months``.
    """
    t = np.asarray(design.time, float)
    d = np.asarray(design.event, float)
    X = np.asarray(design.X, float)
    onehot = interval_onehot(t, cuts_months)
    expo = exposure_matrix(t, cuts_months)
    k = onehot.shape[1]

    def parts(theta: np.ndarray) -> tuple[float, np.ndarray]:
        log_rate, beta = theta[:k], theta[k:]
        eta = X @ beta
        log_h = piecewise_log_hazard(onehot, log_rate, eta, time_scale_months)
        cum_h = piecewise_cumulative_hazard(expo, log_rate, eta, time_scale_months, xp=np)
        # per patient and interval: exp(eta) E_ik exp(r_k) / s
        per = np.exp(eta)[:, None] * expo * np.exp(log_rate)[None, :] / time_scale_months
        return float(np.sum(survival_log_density(d, log_h, cum_h))), per

    def negloglik(theta: np.ndarray) -> tuple[float, np.ndarray]:
        loglik, per = parts(theta)
        cum_h = per.sum(axis=1)
        grad = np.concatenate([onehot.T @ d - per.sum(axis=0), X.T @ (d - cum_h)])
        return -loglik, -grad

    def hessian(theta: np.ndarray) -> np.ndarray:
        _, per = parts(theta)
        cum_h = per.sum(axis=1)
        H = np.zeros((len(theta), len(theta)))
        H[:k, :k] = np.diag(per.sum(axis=0))
        H[:k, k:] = per.T @ X
        H[k:, :k] = H[:k, k:].T
        H[k:, k:] = (X * cum_h[:, None]).T @ X
        return H

    x0 = np.zeros(k + X.shape[1])
    x0[:k] = np.log(
        np.maximum(onehot.T @ d, 0.5) / np.maximum(expo.sum(axis=0), 1e-9) * time_scale_months
    )
    return _maximise(negloglik, x0, k, hessian)


def cox_limit(design: Design) -> tuple[np.ndarray, np.ndarray]:
    """Cox log-HRs (Efron ties) and their standard errors on a (large) design."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = cox_ph_design(design)
    return np.asarray(fit.coef, float), np.asarray(fit.se, float)


@dataclass(frozen=True)
class PseudoTrue:
    """The pseudo-true log-HRs of every target under one set of generator effects.

    Attributes
    ----------
    effects : dict of str to float
        The generator's (conditional) log-HRs used.
    values : dict of str to dict of str to float
        ``values[target][design column]``: the target's log-HR (targets :data:`TARGETS`),
        the mean over the pool's ``cohorts x redraws`` fits.
    mcse : dict of str to dict of str to float
        Its Monte Carlo standard error (module docstring: the SD of the cohort means over
        sqrt(``cohorts``), or for one cohort the estimator's SE over sqrt(``redraws``)).
    n : int
        Patients per cohort.
    n_used, n_events : int
        Complete cases and their events per cohort, averaged over the pool's fits (rounded).
    cohorts, redraws : int
        Independent covariate draws, and survival draws per covariate draw.
    """

    effects: dict[str, float]
    values: dict[str, dict[str, float]]
    mcse: dict[str, dict[str, float]]
    n: int
    n_used: int
    n_events: int
    cohorts: int = 1
    redraws: int = 1

    @property
    def summary(self) -> pd.DataFrame:
        """One row per (target, covariate): ``value``, ``mcse``, ``n`` (patients per cohort),
        ``cohorts``, ``redraws``."""
        rows = [
            {
                "target": t,
                "covariate": c,
                "value": v,
                "mcse": self.mcse[t][c],
                "n": self.n,
                "cohorts": self.cohorts,
                "redraws": self.redraws,
            }
            for t, by_column in self.values.items()
            for c, v in by_column.items()
        ]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        """Plain types (for JSON)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping) -> PseudoTrue:
        """Inverse of :meth:`to_dict`."""
        return cls(**dict(values))


def _fit_target(design: Design, target: str, cuts_months: Sequence[float]) -> tuple:
    if target == "cox":
        return cox_limit(design)
    fit = weibull_mle(design) if target == "weibull" else piecewise_mle(design, tuple(cuts_months))
    if not fit.converged:
        raise ValueError(f"the {target} maximum-likelihood fit did not converge")
    return fit.coef, fit.se


def pool_mean(estimates: np.ndarray, ses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pooled value of a cohort pool's fits and its Monte Carlo SE.

    Parameters
    ----------
    estimates, ses : ndarray, shape (cohorts, redraws, p)
        Each fit's estimates and model-based SEs.

    Returns
    -------
    (ndarray, ndarray), shape (p,)
        The mean over all fits; its MCSE: the SD of the ``cohorts`` cohort means over
        sqrt(``cohorts``) when ``cohorts >= 2``, else the mean model SE over sqrt(``redraws``).
    """
    k, r = estimates.shape[:2]
    means = estimates.mean(axis=1)
    if k >= 2:
        mcse = means.std(axis=0, ddof=1) / np.sqrt(k)
    else:
        mcse = ses.mean(axis=(0, 1)) / np.sqrt(r)
    return estimates.mean(axis=(0, 1)), mcse


def pseudo_true(
    cohort: LargeCohort | CohortPool,
    effects: Mapping[str, float] | None = None,
    cuts_months: Sequence[float] = (6.0, 12.0, 24.0, 36.0, 60.0),
    targets: Sequence[str] = TARGETS,
) -> PseudoTrue:
    """The pseudo-true log-HR of each target under ``effects`` (see the module docstring).

    Parameters
    ----------
    cohort : LargeCohort or CohortPool
        One large cohort, or a pool of them (:func:`draw_cohort_pool`).
    effects : mapping of str to float, optional
        Generator log-HRs overriding ``cohort.params.effects``.
    cuts_months : sequence of float
        Interior cut points of the piecewise model.
    targets : sequence of str
        Subset of :data:`TARGETS`.

    Returns
    -------
    PseudoTrue

    Raises
    ------
    ValueError
        For an unknown target or a fit that did not converge.
    """
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        raise ValueError(f"targets {unknown}: valid are {', '.join(TARGETS)}")
    pool = _as_pool(cohort)
    designs = [[large_design(c, effects) for c in group] for group in pool]
    first = pool[0][0]
    columns = designs[0][0].columns
    values, mcse = {}, {}
    for target in targets:
        fits = [[_fit_target(d, target, cuts_months) for d in group] for group in designs]
        coef = np.array([[f[0] for f in group] for group in fits], float)
        se = np.array([[f[1] for f in group] for group in fits], float)
        mean, error = pool_mean(coef, se)
        values[target] = dict(zip(columns, map(float, mean), strict=True))
        mcse[target] = dict(zip(columns, map(float, error), strict=True))
    flat = [d for group in designs for d in group]
    return PseudoTrue(
        effects=dict(first.params.with_effects(effects).effects),
        values=values,
        mcse=mcse,
        n=first.n,
        n_used=round(float(np.mean([d.n for d in flat]))),
        n_events=round(float(np.mean([d.n_events for d in flat]))),
        cohorts=len(pool),
        redraws=len(pool[0]),
    )


def null_table3_effect(
    cohort: LargeCohort | CohortPool,
    indicator: str = "hormone_therapy",
    column: str = "hormone_therapy",
    effects: Mapping[str, float] | None = None,
    bracket: tuple[float, float] = (-1.5, 1.5),
    tol: float = 0.01,
) -> float:
    """The generator's conditional log-HR that makes the Table 3 Cox target of ``column`` zero.

    Solves ``mean over the pool of cox_limit(large_design(cohort, {indicator: b}))[column] =
    0`` for ``b`` by Brent's method on the cohorts' common random numbers (a continuous,
    increasing function of ``b`` up to the rounding of times). For a pool of more than one
    cohort the root is first found on its first cohort, and the pooled root then searched
    within ``0.1`` of it (widened to ``bracket`` when that holds no sign change), which saves
    most of the pooled evaluations.

    Parameters
    ----------
    cohort : LargeCohort or CohortPool
    indicator : str
        The generator's effect to move (a key of its effects).
    column : str
        The Table 3 design column whose pseudo-true log-HR is to be 0.
    effects : mapping of str to float, optional
        Other effects overridden first.
    bracket : (float, float)
        Interval of ``b`` searched (log-HR).
    tol : float
        Largest acceptable |pseudo-true log-HR| at the root.

    Returns
    -------
    float
        The conditional log-HR ``b``.

    Raises
    ------
    ValueError
        When the bracket does not contain a sign change or the root misses ``tol``.
    """
    pool = _as_pool(cohort)
    base = dict(effects or {})
    position = list(pool[0][0].design.columns).index(column)

    def target_of(cohorts: Sequence[LargeCohort]) -> callable:
        def target(b: float) -> float:
            return float(
                np.mean(
                    [
                        cox_limit(large_design(c, {**base, indicator: b}))[0][position]
                        for c in cohorts
                    ]
                )
            )

        return target

    def solve(target: callable, lo: float, hi: float) -> float | None:
        f_lo, f_hi = target(lo), target(hi)
        if np.sign(f_lo) == np.sign(f_hi):
            return None
        return float(optimize.brentq(target, lo, hi, xtol=1e-4))

    flat = [c for group in pool for c in group]
    target = target_of(flat)
    root = None
    if len(flat) > 1:
        guess = solve(target_of(flat[:1]), *bracket)
        if guess is not None:
            root = solve(target, guess - 0.1, guess + 0.1)
    if root is None:
        lo, hi = bracket
        root = solve(target, lo, hi)
        if root is None:
            raise ValueError(
                f"no sign change of the Table 3 log-HR of {column!r} over {indicator} in "
                f"[{lo}, {hi}] ({target(lo):.3f}, {target(hi):.3f}); widen the bracket"
            )
    value = target(root)
    if abs(value) > tol:
        raise ValueError(f"root {root:.4f} leaves a Table 3 log-HR of {value:.4f} (tol {tol})")
    return root
