"""Do the paper's printed figures agree with each other? (Issue 13: which figures pull against
which.)

For a two-group log-rank test, the printed group medians and sizes imply a P value: under
exponential survival in each group the hazard ratio is the ratio of medians, and Schoenfeld's
(1981) approximation gives the log-rank statistic

    Z = |log(m_a / m_b)| * sqrt(d * p * (1 - p)),

with ``d`` deaths among the two groups and ``p = n_a / (n_a + n_b)``. A printed P on the other
side of 0.05 from this implied P means no cohort with those medians and sizes (and roughly
exponential curves) reproduces both: the calibration has to give up one of them.

The same medians give a crude hazard ratio for each Table 3 factor; the ratio of the printed
adjusted HR to it is the change that adjustment for the other Table 3 covariates would have to
bring about (:func:`crude_versus_adjusted`).
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from bayes_bcsm.study.factors import TABLE2_FACTORS, TABLE3_FACTORS
from bayes_bcsm.study.targets import LogrankTarget, Targets

__all__ = ["crude_versus_adjusted", "implied_logrank_p", "median_logrank_consistency"]


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


def _two_levels(target: LogrankTarget) -> bool:
    return len(target.levels) == 2 and all(
        lv.n > 0 and lv.median_months > 0 for lv in target.levels
    )


def median_logrank_consistency(targets: Targets, alpha: float = 0.05) -> pd.DataFrame:
    """For every two-group Table 2 factor: the P implied by its printed medians and sizes.

    Deaths in a factor's two groups are the cohort's deaths scaled by the share of patients
    the two groups hold (factors with missing values cover fewer patients).

    Parameters
    ----------
    targets : Targets
        The printed figures.
    alpha : float
        The significance level whose side is compared.

    Returns
    -------
    DataFrame
        One row per factor: ``factor``, ``groups`` (``level n, median``), ``hr_from_medians``,
        ``implied_p``, ``printed_p`` and ``same_side`` (both below ``alpha`` or both not).
    """
    rows = []
    for target in targets.table2:
        if not _two_levels(target):
            continue
        a, b = target.levels
        deaths = targets.deaths * (a.n + b.n) / targets.n
        implied = implied_logrank_p(a.n, b.n, a.median_months, b.median_months, deaths)
        rows.append(
            {
                "factor": target.factor,
                "groups": f"{a.level} n={a.n}, {a.median_months:g} mo; "
                f"{b.level} n={b.n}, {b.median_months:g} mo",
                "hr_from_medians": max(a.median_months, b.median_months)
                / min(a.median_months, b.median_months),
                "implied_p": implied,
                "printed_p": target.p_value,
                "same_side": (implied < alpha) == (target.p_value < alpha),
            }
        )
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
