"""Operating characteristics of estimators across simulation replicates.

Input: one row per (scenario, n, method, covariate, replicate) with the estimated log hazard
ratio, its 95 % interval and the true value (:data:`REPLICATE_COLUMNS`). Output: one row per
(scenario, n, method, covariate) with bias, RMSE, coverage, mean width, rejection rate (power
when the true effect is non-null, type-I error when it is null), the share of extreme hazard
ratios and, for selection procedures, how often the covariate was kept — each with its Monte
Carlo standard error where one applies (Morris, White & Crowther 2019, Stat Med 38:2074).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from bayes_bcsm.reinterpret import design_analysis

REPLICATE_COLUMNS: tuple[str, ...] = (
    "scenario",  # e.g. "calibrated", "null"
    "n",  # patients per cohort
    "method",  # e.g. "cox_table3", "weibull_default"
    "covariate",  # design column, e.g. "hormone_therapy"
    "replicate",  # replicate index (int)
    "true_log_hr",  # the generator's true log hazard ratio
    "estimate",  # estimated log HR (NaN when not estimated, e.g. dropped by selection)
    "lower",  # 95 % interval on the log-HR scale
    "upper",
    "selected",  # 1 when the covariate is in the final model (always 1 without selection)
    "failed",  # 1 when the fit failed or did not converge for this replicate
)

GROUP_KEYS = ["scenario", "n", "method", "covariate"]


def aggregate_metrics(replicates: pd.DataFrame, null_tol: float = 1e-12) -> pd.DataFrame:
    """Summarise replicate estimates into operating characteristics.

    Parameters
    ----------
    replicates : DataFrame
        Columns :data:`REPLICATE_COLUMNS`. Rows with ``failed == 1`` count towards
        ``n_failed`` only; rows with ``selected == 0`` count towards the selection share
        and are excluded from the estimation metrics (there is no estimate to judge).
    null_tol : float
        |true log HR| below this is a null effect: its rejection rate is a type-I error.

    Returns
    -------
    DataFrame
        One row per (scenario, n, method, covariate): ``n_replicates``, ``n_failed``,
        ``n_estimated``, ``true_log_hr``, ``bias``, ``bias_mcse``, ``rmse``, ``coverage``,
        ``coverage_mcse``, ``mean_width``, ``rejection_rate``, ``rejection_mcse``,
        ``rejection_kind`` ("power" or "type_I"), ``share_hr_below_0_1``,
        ``share_hr_above_10``, ``selected_share``, and the empirical design analysis among
        the *significant* estimates (interval excluding 0): ``type_s`` (share with the wrong
        sign), ``exaggeration`` (mean |estimate| / |truth|; NaN under a null truth), their
        MCSEs, and ``interval_se`` (median interval half-width / z_0.975, the SE a closed-form
        design analysis at the same n would use). Widths and biases are on the log-HR scale.

    Raises
    ------
    ValueError
        If a required column is missing.
    """
    missing = [c for c in REPLICATE_COLUMNS if c not in replicates.columns]
    if missing:
        raise ValueError(f"replicate results lack columns {missing}")
    rows = []
    for keys, group in replicates.groupby(GROUP_KEYS, sort=True, observed=True):
        rows.append({**dict(zip(GROUP_KEYS, keys, strict=True)), **_metrics(group, null_tol)})
    return pd.DataFrame(rows)


def _metrics(group: pd.DataFrame, null_tol: float) -> dict[str, float]:
    ok = group[group["failed"] == 0]
    truth = float(group["true_log_hr"].iloc[0])
    est_rows = ok[(ok["selected"] == 1) & np.isfinite(ok["estimate"])]
    est = est_rows["estimate"].to_numpy(float)
    lo = est_rows["lower"].to_numpy(float)
    hi = est_rows["upper"].to_numpy(float)
    k = len(est)
    error = est - truth
    covered = (lo <= truth) & (truth <= hi)
    rejected = (lo > 0) | (hi < 0)

    def share(flags: np.ndarray) -> float:
        return float(flags.mean()) if len(flags) else np.nan

    def share_mcse(p: float, m: int) -> float:
        return float(np.sqrt(p * (1 - p) / m)) if m else np.nan

    coverage = share(covered)
    rejection = share(rejected)
    significant = est[rejected]
    wrong_sign = np.sign(significant) != np.sign(truth)
    ratio = np.abs(significant) / abs(truth) if abs(truth) >= null_tol else np.full(0, np.nan)
    m = len(significant)
    return {
        "n_replicates": int(group["replicate"].nunique()),
        "n_failed": int((group["failed"] == 1).sum()),
        "n_estimated": k,
        "true_log_hr": truth,
        "bias": float(error.mean()) if k else np.nan,
        "bias_mcse": float(error.std(ddof=1) / np.sqrt(k)) if k > 1 else np.nan,
        "rmse": float(np.sqrt(np.mean(error**2))) if k else np.nan,
        "coverage": coverage,
        "coverage_mcse": share_mcse(coverage, k),
        "mean_width": float(np.mean(hi - lo)) if k else np.nan,
        "rejection_rate": rejection,
        "rejection_mcse": share_mcse(rejection, k),
        "rejection_kind": "type_I" if abs(truth) < null_tol else "power",
        "share_hr_below_0_1": share(est < np.log(0.1)),
        "share_hr_above_10": share(est > np.log(10.0)),
        "selected_share": share(ok["selected"].to_numpy(float) == 1),
        "type_s": share(wrong_sign) if abs(truth) >= null_tol else np.nan,
        "type_s_mcse": share_mcse(share(wrong_sign), m) if abs(truth) >= null_tol else np.nan,
        "exaggeration": float(ratio.mean()) if len(ratio) else np.nan,
        "exaggeration_mcse": float(ratio.std(ddof=1) / np.sqrt(m)) if len(ratio) > 1 else np.nan,
        "interval_se": float(np.median((hi - lo) / (2 * _Z975))) if k else np.nan,
    }


_Z975 = float(stats.norm.ppf(0.975))


def add_design_analysis(aggregate: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Add the closed-form design analysis (Gelman & Carlin 2014) at each row's truth and SE.

    Parameters
    ----------
    aggregate : DataFrame
        Output of :func:`aggregate_metrics` (``true_log_hr``, ``interval_se``).
    alpha : float
        Two-sided significance level (0.05 matches the 95 % intervals of the replicates).

    Returns
    -------
    DataFrame
        A copy with ``design_power``, ``design_type_s``, ``design_exaggeration``: what
        :func:`bayes_bcsm.reinterpret.design_analysis` predicts for an estimate with SE
        ``interval_se`` of a true log-HR ``true_log_hr``, beside the replicates' empirical
        ``rejection_rate``, ``type_s`` and ``exaggeration``.
    """
    out = aggregate.copy()
    results = [
        design_analysis(float(np.exp(t)), se, alpha) if np.isfinite(se) and se > 0 else None
        for t, se in zip(out["true_log_hr"], out["interval_se"], strict=True)
    ]
    for column, attribute in (
        ("design_power", "power"),
        ("design_type_s", "type_s"),
        ("design_exaggeration", "exaggeration"),
    ):
        out[column] = [getattr(r, attribute) if r else np.nan for r in results]
    return out


def add_overall_rejection(aggregate: pd.DataFrame) -> pd.DataFrame:
    """Add the rejection rate of the whole procedure, selection included.

    :func:`~bayes_bcsm.simulation.metrics.aggregate_metrics` computes ``rejection_rate``
    among the replicates that *estimated* the covariate: for ``cox_selection`` that is
    conditional on the covariate having been selected. A covariate dropped by backward
    elimination was found "not significant", so the procedure's power / type-I error is
    ``rejection_rate x selected_share``; for methods without selection the two agree.

    Parameters
    ----------
    aggregate : DataFrame
        Output of :func:`~bayes_bcsm.simulation.metrics.aggregate_metrics`.

    Returns
    -------
    DataFrame
        A copy with ``rejection_rate_overall`` and ``rejection_overall_mcse`` (binomial MCSE
        over the replicates that did not fail).
    """
    out = aggregate.copy()
    p = out["rejection_rate"] * out["selected_share"]
    m = (out["n_replicates"] - out["n_failed"]).clip(lower=1)
    out["rejection_rate_overall"] = p
    out["rejection_overall_mcse"] = np.sqrt(p * (1 - p) / m)
    return out
