"""Do the paper's printed figures agree with each other? (Issue 13: which figures pull against
which; issue 20: how surprising each disagreement is.)

For a two-group log-rank test, the printed group medians and sizes imply a P value: under
exponential survival in each group the hazard ratio is the ratio of medians, and Schoenfeld's
(1981) approximation gives the log-rank statistic

    Z = |log(m_a / m_b)| * sqrt(d * p * (1 - p)),

with ``d`` deaths among the two groups and ``p = n_a / (n_a + n_b)`` (:func:`implied_logrank_p`).
That is the P at the *expected* Z; Z varies from cohort to cohort, and the approximation is poor
with a handful of patients in a group, so a printed P on the other side of 0.05 is a surprise
to be measured, not a contradiction. :func:`printed_side_probability` measures it by simulation:
two groups with the printed sizes and medians (exponential, or Weibull with proportional
hazards), censored by the cohort's potential follow-up (:func:`follow_up_from_cohort`), kept
when both Kaplan-Meier medians land within 5 % of the printed ones; the share of kept cohorts
whose log-rank P falls on the printed side, with its Monte Carlo standard error.

The same medians give a crude hazard ratio for each Table 3 factor; the ratio of the printed
adjusted HR to it is the change that adjustment for the other Table 3 covariates would have to
bring about (:func:`crude_versus_adjusted`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from bayes_bcsm.study.factors import TABLE2_FACTORS, TABLE3_FACTORS
from bayes_bcsm.study.targets import LogrankTarget, Targets

__all__ = [
    "FollowUp",
    "PrintedSide",
    "crude_versus_adjusted",
    "follow_up_from_cohort",
    "implied_logrank_p",
    "median_logrank_consistency",
    "printed_side_probability",
    "weibull_shape_from_km",
]


def implied_logrank_p(
    n_a: int, n_b: int, median_a_months: float, median_b_months: float, deaths: float
) -> float:
    """Two-sided log-rank P implied by two groups' sizes and medians (Schoenfeld approximation).

    Parameters
    ----------
    n_a, n_b : int
        Group sizes (patients); both positive.
    median_a_months, median_b_months : float
        Median survival of each group (months); both positive.
    deaths : float
        Deaths in the two groups together; positive.

    Returns
    -------
    float
        ``2 * (1 - Phi(Z))`` with ``Z = |log(m_a / m_b)| * sqrt(d p (1 - p))``.

    Raises
    ------
    ValueError
        For a non-positive size, median or number of deaths.
    """
    values = {
        "n_a": n_a,
        "n_b": n_b,
        "median_a_months": median_a_months,
        "median_b_months": median_b_months,
        "deaths": deaths,
    }
    bad = {k: v for k, v in values.items() if not v > 0}
    if bad:
        raise ValueError(f"implied_logrank_p needs positive values; got {bad}")
    p = n_a / (n_a + n_b)
    z = abs(math.log(median_a_months / median_b_months)) * math.sqrt(deaths * p * (1 - p))
    return float(2 * stats.norm.sf(z))


#: Relative distance from the printed median within which a simulated Kaplan-Meier median
#: counts as reproducing it.
MEDIAN_TOLERANCE: float = 0.05


@dataclass(frozen=True)
class FollowUp:
    """A distribution of potential follow-up (censoring) times, as a step function.

    Attributes
    ----------
    times_months : ndarray
        Support points (months), increasing.
    survival : ndarray
        ``P(C > times_months[i])``, non-increasing; what remains after the last point is the
        chance of never being censored.
    """

    times_months: np.ndarray
    survival: np.ndarray

    def draw(self, rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
        """Censoring times (months; ``inf`` for never censored) by inversion."""
        u = rng.uniform(size=size)
        if not len(self.times_months):
            return np.full(size, np.inf)
        index = np.searchsorted(-self.survival, -u, side="left")
        last = len(self.times_months) - 1
        return np.where(index <= last, self.times_months[np.minimum(index, last)], np.inf)


def follow_up_from_cohort(time_months: np.ndarray, event: np.ndarray) -> FollowUp:
    """The cohort's potential follow-up by the reverse Kaplan-Meier method.

    Censorings are the events of the reverse curve and deaths its censorings, so the curve
    estimates how long each patient would have been followed had they not died (Schemper &
    Smith 1996, Control Clin Trials 17:343).

    Parameters
    ----------
    time_months : array of float
        Observed times (months).
    event : array of {0, 1}
        1 = death, 0 = censored.
    """
    time = np.asarray(time_months, dtype=float)
    censored = 1 - np.asarray(event, dtype=int)
    times = np.unique(time[censored == 1])
    at_risk = (time[None, :] >= times[:, None]).sum(axis=1)
    ends = ((time[None, :] == times[:, None]) & (censored[None, :] == 1)).sum(axis=1)
    return FollowUp(times, np.cumprod(1 - ends / at_risk))


def weibull_shape_from_km(survival_at: Mapping[float, float], median_months: float) -> float:
    """Shape of the Weibull curve ``S(t) = exp(-(t / scale)^shape)`` nearest printed KM points.

    Least squares on the survival scale through the printed survival fractions and the median
    (``S = 0.5`` there).

    Parameters
    ----------
    survival_at : mapping of float to float
        Months -> printed survival fraction.
    median_months : float
        Printed median survival (months).
    """
    t = np.array([*survival_at, median_months], dtype=float)
    s = np.array([*survival_at.values(), 0.5], dtype=float)

    def residual(log_params: np.ndarray) -> np.ndarray:
        shape, scale = np.exp(log_params)
        return np.exp(-((t / scale) ** shape)) - s

    start = np.log([1.0, median_months / math.log(2)])
    return float(np.exp(optimize.least_squares(residual, start).x[0]))


def _km_medians(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Kaplan-Meier median of each row (R's rule: the midpoint where the curve is flat at 0.5).

    Rows are replicates without tied event times; NaN where the curve stays above 0.5.
    """
    order = np.argsort(time, axis=1)
    t = np.take_along_axis(time, order, axis=1)
    d = np.take_along_axis(event, order, axis=1)
    n = time.shape[1]
    surv = np.cumprod(1 - d / (n - np.arange(n)), axis=1)
    tol = math.sqrt(np.finfo(float).eps)
    reached = (surv <= 0.5 + tol) & (d == 1)
    rows = np.arange(len(t))
    first = reached.argmax(axis=1)
    median = t[rows, first]
    later = (d == 1) & (np.arange(n)[None, :] > first[:, None])
    following = np.where(later.any(axis=1), t[rows, later.argmax(axis=1)], t[:, -1])
    flat = np.abs(surv[rows, first] - 0.5) < tol
    median = np.where(flat, 0.5 * (median + following), median)
    return np.where(reached.any(axis=1), median, np.nan)


def _logrank_p(time: np.ndarray, event: np.ndarray, in_a: np.ndarray) -> np.ndarray:
    """Two-group log-rank P of each row (no tied event times: one death per event time)."""
    order = np.argsort(time, axis=1)
    d = np.take_along_axis(event, order, axis=1)
    a = np.take_along_axis(in_a, order, axis=1)
    n = time.shape[1]
    at_risk = n - np.arange(n)[None, :]
    at_risk_a = a.sum(axis=1, keepdims=True) - np.cumsum(a, axis=1) + a
    share = at_risk_a / at_risk
    observed_minus_expected = (d * (a - share)).sum(axis=1)
    variance = (d * share * (1 - share)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = observed_minus_expected**2 / variance
    return stats.chi2.sf(chi2, 1)


def _clopper_pearson_upper(successes: int, trials: int) -> float:
    """Exact upper 97.5 % bound of a binomial proportion (1 when nothing bounds it)."""
    if successes >= trials:
        return 1.0
    return float(stats.beta.ppf(0.975, successes + 1, trials - successes))


@dataclass(frozen=True)
class PrintedSide:
    """How often cohorts with the printed medians give a log-rank P on the printed side.

    Attributes
    ----------
    probability : float
        Share of kept cohorts whose P is on the printed side of ``alpha``.
    mcse : float
        Its Monte Carlo standard error, ``sqrt(p (1 - p) / n_kept)``.
    upper_95 : float
        Exact (Clopper-Pearson) one-sided 97.5 % upper bound of the probability, informative
        where none of the kept cohorts falls on the printed side.
    n_kept, n_simulated : int
        Cohorts whose two KM medians landed within the tolerance, and cohorts simulated.
    shape : float
        Weibull shape of both groups (1: exponential).
    schoenfeld_p : float
        The P implied at the expected Z (:func:`implied_logrank_p`), for comparison.
    """

    probability: float
    mcse: float
    upper_95: float
    n_kept: int
    n_simulated: int
    shape: float
    schoenfeld_p: float


def printed_side_probability(
    n: tuple[int, int],
    median_months: tuple[float, float],
    printed_p: float,
    deaths: float,
    follow_up: FollowUp,
    *,
    shape: float = 1.0,
    n_sim: int = 20_000,
    seed: int | np.random.Generator = 0,
    alpha: float = 0.05,
    tolerance: float = MEDIAN_TOLERANCE,
    batch: int = 5_000,
) -> PrintedSide:
    """Probability, conditional on the printed medians, of a log-rank P on the printed side.

    Each simulated cohort has two groups of the printed sizes whose event times are Weibull
    with a common ``shape`` (proportional hazards; 1 is exponential) and scales that put each
    group's true median at the printed one, censored at potential follow-up times drawn from
    ``follow_up``. Cohorts whose two Kaplan-Meier medians both land within ``tolerance``
    (relative) of the printed ones are kept; the result is the share of kept cohorts whose
    two-sided log-rank P is on the same side of ``alpha`` as ``printed_p``.

    Parameters
    ----------
    n : (int, int)
        Group sizes (patients).
    median_months : (float, float)
        Printed Kaplan-Meier medians of the two groups (months).
    printed_p : float
        Printed log-rank P.
    deaths : float
        Deaths in the two groups (for the Schoenfeld value only).
    follow_up : FollowUp
        Potential follow-up of the cohort (:func:`follow_up_from_cohort`).
    shape : float
        Weibull shape of both groups.
    n_sim : int
        Cohorts to simulate (the MCSE shrinks with the number kept, a few per cent of these).
    seed : int or numpy.random.Generator
        Random seed.
    alpha : float
        Significance level whose side is compared.
    tolerance : float
        Relative distance of a simulated median from the printed one that still counts.
    batch : int
        Cohorts simulated at once (memory: about ``batch * sum(n) * 40`` bytes).

    Returns
    -------
    PrintedSide
        NaN probability and MCSE when no cohort was kept.

    References
    ----------
    Schoenfeld D (1981). The asymptotic properties of nonparametric tests for comparing
    survival distributions. Biometrika 68:316-319.
    """
    if not (shape > 0 and n_sim > 0 and 0 < tolerance and 0 < alpha < 1):
        raise ValueError(
            f"printed_side_probability: expected shape > 0, n_sim > 0, tolerance > 0 and "
            f"0 < alpha < 1; got shape={shape}, n_sim={n_sim}, tolerance={tolerance}, "
            f"alpha={alpha}"
        )
    medians = np.asarray(median_months, dtype=float)
    schoenfeld = implied_logrank_p(n[0], n[1], medians[0], medians[1], deaths)  # checks inputs
    rng = np.random.default_rng(seed)
    scales = medians / math.log(2) ** (1 / shape)
    in_a = np.repeat([1.0, 0.0], n)
    kept = same_side = 0
    for start in range(0, n_sim, batch):
        size = min(batch, n_sim - start)
        event_time = np.repeat(scales, n) * rng.weibull(shape, (size, sum(n)))
        censor = follow_up.draw(rng, (size, sum(n)))
        event = (event_time <= censor).astype(float)
        time = np.minimum(event_time, censor)
        keep = np.ones(size, dtype=bool)
        for group, (lo, hi) in enumerate(((0, n[0]), (n[0], sum(n)))):
            km = _km_medians(time[:, lo:hi], event[:, lo:hi])
            keep &= np.abs(km / medians[group] - 1) <= tolerance
        p = _logrank_p(time[keep], event[keep], np.broadcast_to(in_a, (int(keep.sum()), sum(n))))
        kept += int(keep.sum())
        same_side += int(((p < alpha) == (printed_p < alpha)).sum())
    share = same_side / kept if kept else math.nan
    return PrintedSide(
        probability=share,
        mcse=math.sqrt(share * (1 - share) / kept) if kept else math.nan,
        upper_95=_clopper_pearson_upper(same_side, kept),
        n_kept=kept,
        n_simulated=n_sim,
        shape=shape,
        schoenfeld_p=schoenfeld,
    )


def _two_levels(target: LogrankTarget) -> bool:
    return len(target.levels) == 2 and all(
        lv.n > 0 and lv.median_months > 0 for lv in target.levels
    )


def median_logrank_consistency(
    targets: Targets,
    alpha: float = 0.05,
    follow_up: FollowUp | None = None,
    *,
    weibull_shape: float | None = None,
    n_sim: int = 20_000,
    seed: int = 0,
) -> pd.DataFrame:
    """For every two-group Table 2 factor: the P its printed medians and sizes imply, and (with
    ``follow_up``) how often cohorts with those medians give a P on the printed side.

    Deaths in a factor's two groups are the cohort's deaths scaled by the share of patients
    the two groups hold (factors with missing values cover fewer patients).

    Parameters
    ----------
    targets : Targets
        The printed figures.
    alpha : float
        The significance level whose side is compared.
    follow_up : FollowUp, optional
        The cohort's potential follow-up; without it only the Schoenfeld columns are given.
    weibull_shape : float, optional
        Shape of the Weibull-PH simulation; default :func:`weibull_shape_from_km` of the
        printed overall KM points and median.
    n_sim : int
        Cohorts simulated per factor and shape (:func:`printed_side_probability`).
    seed : int
        Random seed (one stream per factor and shape, derived from it).

    Returns
    -------
    DataFrame
        One row per factor: ``factor``, ``groups`` (``level n, median``), ``hr_from_medians``,
        ``implied_p`` (Schoenfeld), ``printed_p``, ``same_side`` (implied and printed P both
        below ``alpha`` or both not) and, with ``follow_up``, for each of ``exponential`` and
        ``weibull``: ``p_printed_side_<shape>``, ``mcse_<shape>`` and ``upper_95_<shape>``
        (:class:`PrintedSide`), then ``weibull_shape``.
    """
    if follow_up is not None and weibull_shape is None:
        weibull_shape = weibull_shape_from_km(targets.survival_at, targets.os_median_months)
    rows = []
    for index, target in enumerate(targets.table2):
        if not _two_levels(target):
            continue
        a, b = target.levels
        deaths = targets.deaths * (a.n + b.n) / targets.n
        implied = implied_logrank_p(a.n, b.n, a.median_months, b.median_months, deaths)
        row = {
            "factor": target.factor,
            "groups": f"{a.level} n={a.n}, {a.median_months:g} mo; "
            f"{b.level} n={b.n}, {b.median_months:g} mo",
            "hr_from_medians": max(a.median_months, b.median_months)
            / min(a.median_months, b.median_months),
            "implied_p": implied,
            "printed_p": target.p_value,
            "same_side": (implied < alpha) == (target.p_value < alpha),
        }
        if follow_up is not None:
            for label, shape in (("exponential", 1.0), ("weibull", weibull_shape)):
                side = printed_side_probability(
                    (a.n, b.n),
                    (a.median_months, b.median_months),
                    target.p_value,
                    deaths,
                    follow_up,
                    shape=shape,
                    n_sim=n_sim,
                    seed=np.random.default_rng([seed, index, int(label == "weibull")]),
                    alpha=alpha,
                )
                row[f"p_printed_side_{label}"] = side.probability
                row[f"mcse_{label}"] = side.mcse
                row[f"upper_95_{label}"] = side.upper_95
            row["weibull_shape"] = weibull_shape
        rows.append(row)
    return pd.DataFrame(rows)


def crude_versus_adjusted(targets: Targets) -> pd.DataFrame:
    """For each Table 3 factor: the crude HR its Table 2 medians imply beside the printed aHR.

    Under exponential survival the crude hazard ratio of the exposed level (the one the
    Table 3 indicator marks) against the other is ``median_other / median_exposed``.

    Parameters
    ----------
    targets : Targets
        The printed figures.

    Returns
    -------
    DataFrame
        One row per Table 3 factor with a two-group Table 2 row: ``factor``, ``exposed``
        (printed level), ``crude_hr_from_medians``, ``printed_ahr``, ``printed_ahr_ci`` and
        ``adjustment_factor`` (printed aHR / crude HR: 1 means adjustment changed nothing).
    """
    rows = []
    for factor in TABLE3_FACTORS:
        logrank = next(f for f in TABLE2_FACTORS if f.cohort_column == factor.cohort_column)
        target = targets.logrank(logrank.target)
        if not _two_levels(target):
            continue
        marked = 1 if factor.level is None else factor.level
        exposed = next(lv for lv in target.levels if logrank.labels[lv.level] == marked)
        other = next(lv for lv in target.levels if lv is not exposed)
        crude = other.median_months / exposed.median_months
        printed = targets.hazard_ratio(factor.table3)
        rows.append(
            {
                "factor": factor.table3,
                "exposed": exposed.level,
                "crude_hr_from_medians": crude,
                "printed_ahr": printed.hr,
                "printed_ahr_ci": f"{printed.ci[0]:g}-{printed.ci[1]:g}",
                "adjustment_factor": printed.hr / crude,
            }
        )
    return pd.DataFrame(rows)
