"""Hazard-ratio tables that put published, Cox, Firth and posterior values side by side.

Every table has the columns :data:`HR_COLUMNS`, one row per covariate (design column) and
source; hazard ratios are per natural unit of the covariate (binary: yes vs no; categorical:
level vs reference; continuous: one unit of its column, e.g. one year of age). The ``label``
column says so in the dataset card's words (:func:`with_labels`), and reports show it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from bayes_bcsm.frequentist.cox import CoxResult
from bayes_bcsm.reinterpret import PrintedEstimate, Reinterpretation
from bayes_bcsm.study import TABLE3_FACTORS, Targets

HR_COLUMNS: tuple[str, ...] = (
    "covariate",  # design column, e.g. "hormone_receptor[positive]"
    "label",  # what it compares, e.g. "chemotherapy: yes vs no" (default: the design column)
    "contrast",  # the reference named: "yes vs no (reference)", "per 10 years" (empty: unknown)
    "model",  # source: "published (Hu 2025)", "cox", "firth", "weibull", ...
    "estimate",  # hazard ratio (posterior median for Bayesian models)
    "lower",  # interval on the HR scale
    "upper",
    "interval",  # what the interval is, e.g. "95% Wald CI", "95% equal-tailed"
    "measure",  # "hazard ratio", or "time ratio" for an accelerated-failure-time model
    "hdi_lower",  # Bayesian only: 95% HDI of the log-HR, exponentiated (see HR_TABLE_NOTE)
    "hdi_upper",
    "p_hr_below_1",  # Bayesian only: posterior P(HR < 1)
    "n_draws",  # Bayesian fits only: posterior draws behind p_hr_below_1 (a share of them)
    "p_value",  # frequentist only
    "n_used",  # patients in the analysis (empty for printed figures: not stated by the paper)
    "n_events",  # events among them (idem)
)

#: What the columns of ``hazard_ratios.csv`` mean where the names alone could mislead; the
#: reports that write the file print it.
HR_TABLE_NOTE = (
    "In `hazard_ratios.csv`, `measure` says whether a row is a hazard ratio or a time ratio "
    "(accelerated-failure-time models: `p_hr_below_1` then is P(time ratio < 1)); "
    "`n_draws` is the number of posterior draws `p_hr_below_1` is a share of (0 or 1 means "
    "none or all of them, not certainty); "
    "`lower`/`upper` are the interval named in `interval`; "
    "`hdi_lower`/`hdi_upper` are the highest-density interval of the posterior *log*-HR, "
    "exponentiated (an HDI is not invariant under transformation: the HDI of the HR itself "
    "is shifted towards 0); `n_used`/`n_events` are empty for the printed aHRs and their "
    "re-readings, as the paper does not say which patients its Table 3 used (78 patients and "
    "48 deaths in all)."
)

PUBLISHED = "published (Hu 2025)"


def _frame(rows: list[dict]) -> pd.DataFrame:
    """Rows in :data:`HR_COLUMNS`; counts as nullable integers (empty when not known)."""
    frame = pd.DataFrame(rows, columns=list(HR_COLUMNS))
    frame = frame.assign(
        label=frame["label"].fillna(frame["covariate"]),
        measure=frame["measure"].fillna("hazard ratio"),
    )
    return frame.astype({"n_used": "Int64", "n_events": "Int64", "n_draws": "Int64"})


def row_labels(table: pd.DataFrame) -> dict[str, str]:
    """Design column -> its row label in a hazard-ratio table (the column itself when the
    table has no ``label``)."""
    return dict(zip(table["covariate"], table.get("label", table["covariate"]), strict=True))


def with_labels(
    table: pd.DataFrame, labels: Mapping[str, str], contrasts: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """``table`` with each row's ``label`` taken from ``labels`` (design column -> label, e.g.
    :func:`bayes_bcsm.data.labels.covariate_labels`) and its ``contrast`` from ``contrasts``
    (:func:`bayes_bcsm.data.labels.covariate_contrasts`); other rows keep theirs."""
    mapped = table["covariate"].map(dict(labels))
    contrast = table["covariate"].map(dict(contrasts or {}))
    return table.assign(
        label=mapped.fillna(table["label"]), contrast=contrast.fillna(table["contrast"])
    )


def cox_rows(result: CoxResult, model: str = "cox", n_used: int | None = None) -> pd.DataFrame:
    """Rows for a fitted Cox model (Wald or profile CI as the fit reports).

    A :class:`CoxResult` is already per natural unit of each covariate.

    Parameters
    ----------
    result : CoxResult
        A fit from :func:`bayes_bcsm.frequentist.cox_ph_design`.
    model : str
        Label of the source (e.g. "cox", "firth").
    n_used : int, optional
        Patients in the analysis when the fit's rows are (start, stop] episodes (default: the
        fit's rows).
    """
    level = round(100 * result.conf_level)
    kind = f"{level}% {'profile-likelihood' if result.ci_method == 'profile' else 'Wald'} CI"
    rows = [
        {
            "covariate": column,
            "model": model,
            "estimate": float(result.hazard_ratio[i]),
            "lower": float(result.ci[i, 0]),
            "upper": float(result.ci[i, 1]),
            "interval": kind,
            "p_value": float(result.p_value[i]),
            "n_used": result.n if n_used is None else n_used,
            "n_events": result.n_events,
        }
        for i, column in enumerate(result.columns)
    ]
    return _frame(rows)


def posterior_rows(
    hr_summary: pd.DataFrame, model: str, measure: str = "hazard ratio"
) -> pd.DataFrame:
    """Rows for a Bayesian fit from :func:`bayes_bcsm.inference.predictive.hazard_ratio_summary`.

    Parameters
    ----------
    hr_summary : DataFrame
        Indexed by covariate with ``hr_median``, ``eti_lower``, ``eti_upper``,
        ``hdi_lower``, ``hdi_upper``, ``p_hr_below_1``, ``n_draws``, ``prob``, ``n_used``,
        ``n_events``.
    model : str
        Label of the model variant.
    measure : {"hazard ratio", "time ratio"}
        What the summary's ratios are (the family's ``effect``): an accelerated-failure-time
        model's are time ratios (its ``p_hr_below_1`` then is ``P(time ratio < 1)``).
    """
    rows = [
        {
            "covariate": covariate,
            "model": model,
            "estimate": row.hr_median,
            "lower": row.eti_lower,
            "upper": row.eti_upper,
            "interval": f"{round(100 * row.prob)}% equal-tailed",
            "hdi_lower": row.hdi_lower,
            "hdi_upper": row.hdi_upper,
            "p_hr_below_1": row.p_hr_below_1,
            "n_draws": int(row.n_draws),
            "n_used": int(row.n_used),
            "n_events": int(row.n_events),
            "measure": measure,
        }
        for covariate, row in hr_summary.iterrows()
    ]
    return _frame(rows)


def published_rows(targets: Targets, covariates: list[str] | None = None) -> pd.DataFrame:
    """The paper's Table 3 aHRs, labelled with the design columns they correspond to.

    ``n_used`` and ``n_events`` are left empty (NA): the paper prints 78 patients and 48
    deaths in all but does not say which of them its multivariable model used.

    Parameters
    ----------
    targets : Targets
        Published figures (:func:`bayes_bcsm.study.load_targets`); rows follow
        :data:`bayes_bcsm.study.TABLE3_FACTORS`.
    covariates : list of str, optional
        Keep only these design columns (default: all four Table 3 rows).
    """
    rows = []
    for factor in TABLE3_FACTORS:
        column = factor.design_column
        if covariates is not None and column not in covariates:
            continue
        target = targets.hazard_ratio(factor.table3)
        rows.append(
            {
                "covariate": column,
                "model": PUBLISHED,
                "estimate": target.hr,
                "lower": target.ci[0],
                "upper": target.ci[1],
                "interval": "95% CI as printed (SPSS Cox)",
                "p_value": target.p_value,
                "n_used": None,  # the paper does not say which patients Table 3 used
                "n_events": None,
            }
        )
    return _frame(rows)


def published_estimates(targets: Targets) -> tuple[PrintedEstimate, ...]:
    """The paper's Table 3 aHRs as printed estimates, named by their design columns."""
    estimates = []
    for factor in TABLE3_FACTORS:
        target = targets.hazard_ratio(factor.table3)
        estimates.append(
            PrintedEstimate(factor.design_column, target.hr, target.ci[0], target.ci[1])
        )
    return tuple(estimates)


def summary_level_label(prior: str) -> str:
    """Source label of the printed aHRs re-read under ``prior`` (a summary-level posterior)."""
    return f"published, re-read ({prior} prior)"


def summary_level_rows(
    result: Reinterpretation, prior: str, n_used: int | None = None, n_events: int | None = None
) -> pd.DataFrame:
    """Rows for the summary-level posteriors of printed estimates under one prior of the grid.

    Parameters
    ----------
    result : Reinterpretation
        From :func:`bayes_bcsm.reinterpret.reinterpret`, estimates named by design column.
    prior : str
        Name of the prior in ``result.priors``.
    n_used, n_events : int, optional
        Patients and events behind the estimates, when the publication states them (empty
        otherwise, as for the paper's Table 3).
    """
    level = round(100 * result.level)
    rows = []
    for estimate in result.estimates:
        post = result.posterior(estimate.name, prior)
        rows.append(
            {
                "covariate": estimate.name,
                "model": summary_level_label(prior),
                "estimate": post.median_hr,
                "lower": post.lower,
                "upper": post.upper,
                "interval": f"{level}% equal-tailed (normal likelihood from the printed CI)",
                "p_hr_below_1": post.prob_hr_below(1.0),
                "n_used": n_used,
                "n_events": n_events,
            }
        )
    return _frame(rows)


def agreement(table: pd.DataFrame, reference: str, others: list[str]) -> pd.DataFrame:
    """Whether each source's interval overlaps the ``reference`` source's, per covariate.

    Returns one row per covariate present in both and source in ``others``: ``covariate,
    model, estimate, lower, upper, p_hr_below_1, p_value``, the reference's ``ref_estimate,
    ref_lower, ref_upper``, ``overlap`` (the two intervals share a point) and ``ratio``
    (estimate / reference estimate).
    """
    ref = table[table["model"] == reference].set_index("covariate")
    rows = []
    for row in table[table["model"].isin(others)].itertuples():
        if row.covariate not in ref.index:
            continue
        r = ref.loc[row.covariate]
        rows.append(
            {
                "covariate": row.covariate,
                "model": row.model,
                "estimate": row.estimate,
                "lower": row.lower,
                "upper": row.upper,
                "p_hr_below_1": row.p_hr_below_1,
                "p_value": row.p_value,
                "ref_estimate": r.estimate,
                "ref_lower": r.lower,
                "ref_upper": r.upper,
                "overlap": bool(row.lower <= r.upper and r.lower <= row.upper),
                "ratio": row.estimate / r.estimate,
            }
        )
    return pd.DataFrame(rows)


#: A posterior log HR this many posterior SDs from the Cox estimate is reported as prior-adjusted.
PRIOR_SHIFT_SD = 0.5


def prior_adjusted(
    hr_summary: pd.DataFrame, cox: CoxResult, threshold_sd: float = PRIOR_SHIFT_SD
) -> pd.DataFrame:
    """Covariates whose posterior differs from the Cox (maximum-likelihood) estimate by more
    than ``threshold_sd`` posterior SDs on the log-HR scale.

    On the same rows a flat prior would leave the posterior near the MLE (within a fraction of
    a posterior SD, the rest from the parametric baseline); a larger gap is the prior's pull,
    largest on strong categorical contrasts informed by few events.

    Parameters
    ----------
    hr_summary : DataFrame
        :func:`bayes_bcsm.inference.predictive.hazard_ratio_summary` (``log_hr_mean``,
        ``log_hr_sd``, ``hr_median``, per natural unit, indexed by covariate).
    cox : CoxResult
        The Cox fit on the same rows and covariates (per natural unit).
    threshold_sd : float
        Gap, in posterior SDs, from which a covariate is listed.

    Returns
    -------
    DataFrame
        Columns ``covariate``, ``cox_hr``, ``posterior_hr`` (median), ``shift_sd`` (posterior
        mean minus Cox log HR, in posterior SDs); only the covariates beyond the threshold.
    """
    cox_log_hr = dict(zip(cox.columns, cox.coef, strict=True))
    rows = []
    for covariate, row in hr_summary.iterrows():
        if covariate not in cox_log_hr or not row["log_hr_sd"] > 0:
            continue
        shift = (row["log_hr_mean"] - cox_log_hr[covariate]) / row["log_hr_sd"]
        if abs(shift) > threshold_sd:
            rows.append(
                {
                    "covariate": covariate,
                    "cox_hr": float(np.exp(cox_log_hr[covariate])),
                    "posterior_hr": float(row["hr_median"]),
                    "shift_sd": float(shift),
                }
            )
    return pd.DataFrame(rows, columns=["covariate", "cox_hr", "posterior_hr", "shift_sd"])
