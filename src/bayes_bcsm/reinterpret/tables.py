"""Every printed estimate re-read under every prior of a grid: the tables a report shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_bcsm.reinterpret.credibility import credibility
from bayes_bcsm.reinterpret.design import design_table
from bayes_bcsm.reinterpret.estimate import PrintedEstimate, ReinterpretError
from bayes_bcsm.reinterpret.priors import NamedPrior
from bayes_bcsm.reinterpret.reanalysis import Reanalysis, reanalyse

#: Posterior probabilities every table reports: P(HR < t) for these t.
DEFAULT_THRESHOLDS: tuple[float, ...] = (1.0, 0.8, 0.5)
#: True HRs of the default design analysis.
DEFAULT_TRUE_HRS: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def threshold_column(threshold: float) -> str:
    """Column name of P(HR < threshold), e.g. ``p_hr_below_1``, ``p_hr_below_0.8``."""
    return f"p_hr_below_{threshold:g}"


def reanalyse_with(estimate: PrintedEstimate, prior: NamedPrior, level: float) -> Reanalysis:
    """:func:`reanalyse` of a :class:`PrintedEstimate` under a :class:`NamedPrior`."""
    return reanalyse(
        estimate.hr,
        estimate.lower,
        estimate.upper,
        prior_mean_hr=prior.mean_hr,
        prior_sd_log=prior.sd_log,
        level=level,
        ci_level=estimate.ci_level,
        name=estimate.name,
    )


@dataclass(frozen=True)
class Reinterpretation:
    """Printed estimates re-read the Bayesian way.

    Attributes
    ----------
    estimates : tuple of PrintedEstimate
        What was re-read.
    priors : tuple of NamedPrior
        The prior grid (and user priors).
    posteriors : DataFrame
        One row per estimate x prior: ``covariate, prior, prior_centre, prior_strength,
        prior_mean_hr, prior_sd_log, posterior_median_hr, lower, upper`` and one
        ``p_hr_below_<t>`` column per threshold (``p_hr_below_1`` first).
    credibility : DataFrame
        One row per estimate: printed figures, SE of the log-HR, Matthews' centre, sceptical or
        advocacy limit.
    design : DataFrame
        ``covariate, true_hr, se, power, type_s, exaggeration`` at each estimate's own SE.
    sensitivity : DataFrame
        ``covariate, prior_sd_log, p_hr_below_1``: P(HR < 1) under a neutral prior as its SD
        grows.
    level : float
        Probability of the posterior intervals.
    alpha : float
        Significance level of the design analysis.
    """

    estimates: tuple[PrintedEstimate, ...]
    priors: tuple[NamedPrior, ...]
    posteriors: pd.DataFrame
    credibility: pd.DataFrame
    design: pd.DataFrame
    sensitivity: pd.DataFrame
    level: float
    alpha: float

    def posterior(self, covariate: str, prior: str) -> Reanalysis:
        """The closed-form posterior of one estimate under one prior of the grid."""
        estimate = next((e for e in self.estimates if e.name == covariate), None)
        chosen = next((p for p in self.priors if p.name == prior), None)
        if estimate is None or chosen is None:
            raise KeyError(f"no estimate {covariate!r} or prior {prior!r} in this re-analysis")
        return reanalyse_with(estimate, chosen, self.level)


def check_unique_names(estimates: Sequence[PrintedEstimate], priors: Sequence[NamedPrior]) -> None:
    """Refuse repeated estimate names or repeated prior names (tables are keyed by them).

    Raises
    ------
    ReinterpretError
        Naming the kind and the repeated names.
    """
    for kind, names in (
        ("estimate", [e.name for e in estimates]),
        ("prior", [p.name for p in priors]),
    ):
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ReinterpretError(f"{kind} names must be unique; repeated: {duplicated}")


def reinterpret(
    estimates: Sequence[PrintedEstimate],
    priors: Sequence[NamedPrior],
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    true_hrs: Sequence[float] = DEFAULT_TRUE_HRS,
    alpha: float = 0.05,
    level: float = 0.95,
    sensitivity_sds: Sequence[float] | None = None,
) -> Reinterpretation:
    """Re-read printed hazard ratios under a grid of priors, with credibility and design analysis.

    Parameters
    ----------
    estimates : sequence of PrintedEstimate
        Printed HRs with their CIs (names must be unique).
    priors : sequence of NamedPrior
        Priors on the log-HR (names must be unique), e.g. :func:`prior_grid`.
    thresholds : sequence of float
        Report P(HR < t) for each t (hazard-ratio scale).
    true_hrs : sequence of float
        True HRs of the design analysis, at each estimate's own SE.
    alpha : float
        Two-sided significance level of the design analysis.
    level : float
        Probability of the posterior equal-tailed intervals.
    sensitivity_sds : sequence of float, optional
        Prior SDs (log scale) of the sensitivity curve; default 0.05 to 3 in 60 steps.

    Returns
    -------
    Reinterpretation
    """
    check_unique_names(estimates, priors)
    if not estimates or not priors:
        raise ReinterpretError("expected at least one estimate and one prior")
    sds = np.linspace(0.05, 3.0, 60) if sensitivity_sds is None else np.asarray(sensitivity_sds)
    rows, credible, design, curve = [], [], [], []
    for estimate in estimates:
        for prior in priors:
            post = reanalyse_with(estimate, prior, level)
            row = {
                "covariate": estimate.name,
                "prior": prior.name,
                "prior_centre": prior.centre,
                "prior_strength": prior.strength,
                "prior_mean_hr": prior.mean_hr,
                "prior_sd_log": prior.sd_log,
                "posterior_median_hr": post.median_hr,
                "lower": post.lower,
                "upper": post.upper,
            }
            row |= {threshold_column(t): post.prob_hr_below(t) for t in thresholds}
            rows.append(row)
        limits = credibility(estimate.lower, estimate.upper)
        credible.append(
            {
                "covariate": estimate.name,
                "hr": estimate.hr,
                "lower": estimate.lower,
                "upper": estimate.upper,
                "se_log": estimate.se_log,
                "centre_hr": limits.centre_hr,
                "significant": limits.significant,
                "sceptical_limit": limits.sceptical_limit,
                "advocacy_limit": limits.advocacy_limit,
            }
        )
        design.append(design_table(true_hrs, estimate.se_log, alpha, name=estimate.name))
        for sd in sds:
            post = reanalyse(
                estimate.hr,
                estimate.lower,
                estimate.upper,
                1.0,
                float(sd),
                level,
                estimate.ci_level,
                estimate.name,
            )
            curve.append(
                {
                    "covariate": estimate.name,
                    "prior_sd_log": float(sd),
                    "p_hr_below_1": post.prob_hr_below(1.0),
                }
            )
    return Reinterpretation(
        tuple(estimates),
        tuple(priors),
        pd.DataFrame(rows),
        pd.DataFrame(credible),
        pd.concat(design, ignore_index=True),
        pd.DataFrame(curve),
        level,
        alpha,
    )
