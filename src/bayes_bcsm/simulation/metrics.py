"""Operating characteristics of estimators across simulation replicates.

Input: one row per (scenario, n, method, covariate, replicate) with the estimated log hazard
ratio, its 95 % interval and two truths (:data:`REPLICATE_COLUMNS`): ``true_method``, the
method's own estimand (the pseudo-true log-HR of its model,
:mod:`bayes_bcsm.simulation.estimands`), and ``true_conditional``, the generator's effect
conditional on all its indicators. Output: one row per (scenario, n, method, covariate, fits)
with bias, RMSE, coverage, mean width, rejection rate (a type-I error for the null covariate of
a null scenario, power otherwise), type S and exaggeration among significant replicates, the
share of extreme hazard ratios and of estimates as extreme as the printed aHR and, for
selection procedures, how often the covariate was kept — each with its Monte Carlo standard
error where one applies (Morris, White & Crowther 2019, Stat Med 38:2074, Table 6). The bias
MCSE also carries the Monte Carlo error of the estimand itself (``estimand_mcse``), which the
replicates' spread cannot show. Rejection rates get an exact binomial test against the nominal
level and a Clopper-Pearson interval (:func:`add_overall_rejection`), as the normal MCSE of a
share of 150 replicates near 5 % is a poor guide.

Every metric is computed twice (column ``fits``): ``"excluding_failed"`` (failed fits dropped,
the primary reading) and ``"all"`` (failed fits with estimates kept, e.g. a posterior whose ESS
was below the threshold).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from bayes_bcsm.reinterpret import design_analysis
from bayes_bcsm.simulation.methods import METHOD_TARGETS, NULL_SCENARIOS
from bayes_bcsm.study import bundled_targets

REPLICATE_COLUMNS: tuple[str, ...] = (
    "scenario",  # e.g. "calibrated", "null_table3"
    "n",  # patients per cohort
    "method",  # e.g. "cox_table3", "weibull_default"
    "covariate",  # design column, e.g. "hormone_therapy"
    "replicate",  # replicate index (int)
    "true_conditional",  # the generator's log HR (conditional on all its indicators)
    "true_method",  # the method's pseudo-true log HR (its estimand)
    "estimate",  # estimated log HR (NaN when not estimated, e.g. dropped by selection)
    "lower",  # 95 % interval on the log-HR scale
    "upper",
    "selected",  # 1 when the covariate is in the final model (always 1 without selection)
    "failed",  # 1 when the fit failed (exception, non-convergence, failed diagnostics)
)

GROUP_KEYS = ["scenario", "n", "method", "covariate"]

#: The two readings of every metric (column ``fits``).
FITS: tuple[str, ...] = ("excluding_failed", "all")

#: The paper's adjusted HR of endocrine therapy (``targets.yaml``, Table 3).
PRINTED_AHR: float = bundled_targets().hazard_ratio("hormone_therapy").hr


def rejection_kind(scenario: str, covariate: str) -> str:
    """``"type_I_table3"`` / ``"type_I_conditional"`` for the null covariate of a null
    scenario (:data:`~bayes_bcsm.simulation.methods.NULL_SCENARIOS`), else ``"power"``."""
    null = NULL_SCENARIOS.get(scenario)
    return f"type_I_{null[1]}" if null and null[0] == covariate else "power"


#: Nominal level of the 95 % intervals' two-sided test (the size a type-I error is tested against).
NOMINAL_ALPHA = 0.05


def estimand_mcse_table(
    mcse: Mapping[str, Mapping[str, Mapping[str, float]]], methods: Sequence[str]
) -> pd.DataFrame:
    """The Monte Carlo SE of each method's estimand, one row per (scenario, method, covariate).

    Parameters
    ----------
    mcse : mapping
        ``mcse[scenario][target][design column]``, e.g. ``PseudoTrue.mcse`` per scenario
        (:mod:`bayes_bcsm.simulation.estimands`).
    methods : sequence of str
        Methods; each reads its target's MCSE (``METHOD_TARGETS``).

    Returns
    -------
    DataFrame
        Columns ``scenario``, ``method``, ``covariate``, ``true_method_mcse`` (log-HR scale).
    """
    rows = [
        {"scenario": scenario, "method": m, "covariate": c, "true_method_mcse": float(v)}
        for scenario, by_target in mcse.items()
        for m in methods
        for c, v in by_target.get(METHOD_TARGETS[m], {}).items()
    ]
    return pd.DataFrame(rows, columns=["scenario", "method", "covariate", "true_method_mcse"])


def aggregate_metrics(
    replicates: pd.DataFrame,
    null_tol: float = 0.02,
    estimand_mcse: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Summarise replicate estimates into operating characteristics.

    Parameters
    ----------
    replicates : DataFrame
        Columns :data:`REPLICATE_COLUMNS`. Rows with ``selected == 0`` count towards the
        selection share and are excluded from the estimation metrics (there is no estimate
        to judge); failed rows are dropped (``fits = "excluding_failed"``) or kept when they
        have estimates (``fits = "all"``).
    null_tol : float
        |estimand| below this makes type S and exaggeration undefined (NaN): a ratio to an
        estimand that is 0 up to its Monte Carlo error (``true_method_mcse``, about 0.001
        to 0.003 for the study's pooled estimands; ``null_table3`` leaves the Table 3 target
        within 0.01 of 0) measures nothing.
    estimand_mcse : DataFrame, optional
        :func:`estimand_mcse_table`: the Monte Carlo SE of each row's ``true_method``. It is
        added in quadrature to the replicates' bias MCSE; without it (or for a row it lacks)
        ``true_method_mcse`` is NaN and ``bias_mcse`` is the replicates' part alone.

    Returns
    -------
    DataFrame
        One row per (scenario, n, method, covariate, fits): ``n_replicates``, ``n_failed``,
        ``failure_rate``, ``n_estimated``, ``true_method``, ``true_method_mcse``,
        ``true_conditional``; against the method's estimand ``bias``, ``bias_mcse``
        (``sqrt(bias_mcse_replicates^2 + true_method_mcse^2)``), ``bias_mcse_replicates`` (SD
        of the errors over sqrt(replicates)), ``rmse``, ``coverage``, ``coverage_mcse``,
        ``type_s``, ``type_s_mcse``, ``exaggeration`` (mean |estimate| / |estimand| among
        significant replicates), ``exaggeration_mcse``; against the conditional effect
        ``bias_conditional``, ``bias_conditional_mcse``, ``rmse_conditional``,
        ``coverage_conditional``, ``coverage_conditional_mcse``; ``mean_width``,
        ``rejection_rate`` (interval excluding 0: P < 0.05 for Cox, posterior
        P(HR < 1) or P(HR > 1) > 0.975 for the Bayesian methods), ``n_rejected`` (its
        numerator, over ``n_estimated``), ``rejection_mcse``,
        ``rejection_kind`` (:func:`rejection_kind`), ``share_hr_below_0_1``,
        ``share_hr_above_10``, ``share_hr_at_most_printed`` (HR <= the printed aHR 0.070),
        ``selected_share`` and ``interval_se`` (median interval half-width / z_0.975, the SE
        a closed-form design analysis at the same n would use). Log-HR scale.

    Raises
    ------
    ValueError
        If a required column is missing.
    """
    missing = [c for c in REPLICATE_COLUMNS if c not in replicates.columns]
    if missing:
        raise ValueError(f"replicate results lack columns {missing}")
    known = {}
    if estimand_mcse is not None:
        keyed = estimand_mcse.set_index(["scenario", "method", "covariate"])
        known = keyed["true_method_mcse"].to_dict()
    rows = []
    for keys, group in replicates.groupby(GROUP_KEYS, sort=True, observed=True):
        scenario, _, method, covariate = keys
        truth_mcse = known.get((scenario, method, covariate), np.nan)
        for fits in FITS:
            rows.append(
                {
                    **dict(zip(GROUP_KEYS, keys, strict=True)),
                    "fits": fits,
                    **_metrics(group, fits, null_tol, truth_mcse),
                }
            )
    return pd.DataFrame(rows)


def _share(flags: np.ndarray) -> float:
    return float(flags.mean()) if len(flags) else np.nan


def _share_mcse(p: float, m: int) -> float:
    return float(np.sqrt(p * (1 - p) / m)) if m else np.nan


def _against(est: np.ndarray, lo: np.ndarray, hi: np.ndarray, truth: float) -> dict[str, float]:
    k = len(est)
    error = est - truth
    coverage = _share((lo <= truth) & (truth <= hi)) if np.isfinite(truth) else np.nan
    return {
        "bias": float(error.mean()) if k else np.nan,
        "bias_mcse": float(error.std(ddof=1) / np.sqrt(k)) if k > 1 else np.nan,
        "rmse": float(np.sqrt(np.mean(error**2))) if k else np.nan,
        "coverage": coverage,
        "coverage_mcse": _share_mcse(coverage, k),
    }


def _with_estimand_error(against: dict[str, float], truth_mcse: float) -> dict[str, float]:
    """Add the estimand's MCSE in quadrature to the bias MCSE (when it is known)."""
    replicates_part = against["bias_mcse"]
    total = np.hypot(replicates_part, truth_mcse) if np.isfinite(truth_mcse) else replicates_part
    return {**against, "bias_mcse": float(total), "bias_mcse_replicates": replicates_part}


def _metrics(
    group: pd.DataFrame, fits: str, null_tol: float, truth_mcse: float = np.nan
) -> dict[str, float | str]:
    ok = group if fits == "all" else group[group["failed"] == 0]
    truth = float(group["true_method"].iloc[0])
    conditional = float(group["true_conditional"].iloc[0])
    est_rows = ok[(ok["selected"] == 1) & np.isfinite(ok["estimate"])]
    est = est_rows["estimate"].to_numpy(float)
    lo = est_rows["lower"].to_numpy(float)
    hi = est_rows["upper"].to_numpy(float)
    k = len(est)
    rejected = (lo > 0) | (hi < 0)
    rejection = _share(rejected)
    significant = est[rejected]
    m = len(significant)
    defined = np.isfinite(truth) and abs(truth) >= null_tol
    wrong_sign = np.sign(significant) != np.sign(truth)
    ratio = np.abs(significant) / abs(truth) if defined else np.full(0, np.nan)
    scenario, covariate = group["scenario"].iloc[0], group["covariate"].iloc[0]
    n_failed = int((group["failed"] == 1).sum())
    return {
        "n_replicates": int(group["replicate"].nunique()),
        "n_failed": n_failed,
        "failure_rate": n_failed / len(group) if len(group) else np.nan,
        "n_estimated": k,
        "true_method": truth,
        "true_method_mcse": truth_mcse,
        "true_conditional": conditional,
        **_with_estimand_error(_against(est, lo, hi, truth), truth_mcse),
        **{f"{key}_conditional": v for key, v in _against(est, lo, hi, conditional).items()},
        "mean_width": float(np.mean(hi - lo)) if k else np.nan,
        "rejection_rate": rejection,
        "n_rejected": int(rejected.sum()),
        "rejection_mcse": _share_mcse(rejection, k),
        "rejection_kind": rejection_kind(scenario, covariate),
        "share_hr_below_0_1": _share(est < np.log(0.1)),
        "share_hr_above_10": _share(est > np.log(10.0)),
        "share_hr_at_most_printed": _share(est <= np.log(PRINTED_AHR)),
        "selected_share": _share(ok["selected"].to_numpy(float) == 1),
        "type_s": _share(wrong_sign) if defined else np.nan,
        "type_s_mcse": _share_mcse(_share(wrong_sign), m) if defined else np.nan,
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
        Output of :func:`aggregate_metrics` (``true_method``, ``interval_se``).
    alpha : float
        Two-sided significance level (0.05 matches the 95 % intervals of the replicates).

    Returns
    -------
    DataFrame
        A copy with ``design_power``, ``design_type_s``, ``design_exaggeration``: what
        :func:`bayes_bcsm.reinterpret.design_analysis` predicts for an estimate with SE
        ``interval_se`` of the method's estimand ``true_method``, beside the replicates' empirical
        ``rejection_rate``, ``type_s`` and ``exaggeration``.
    """
    out = aggregate.copy()
    results = [
        design_analysis(float(np.exp(t)), se, alpha)
        if np.isfinite(se) and se > 0 and np.isfinite(t)
        else None
        for t, se in zip(out["true_method"], out["interval_se"], strict=True)
    ]
    for column, attribute in (
        ("design_power", "power"),
        ("design_type_s", "type_s"),
        ("design_exaggeration", "exaggeration"),
    ):
        out[column] = [getattr(r, attribute) if r else np.nan for r in results]
    return out


def add_overall_rejection(aggregate: pd.DataFrame, alpha: float = NOMINAL_ALPHA) -> pd.DataFrame:
    """Add the rejection rate of the whole procedure, selection included, with exact inference.

    :func:`~bayes_bcsm.simulation.metrics.aggregate_metrics` computes ``rejection_rate``
    among the replicates that *estimated* the covariate: for ``cox_selection`` that is
    conditional on the covariate having been selected. A covariate dropped by backward
    elimination was found "not significant", so the procedure's power / type-I error is
    ``rejection_rate x selected_share``; for methods without selection the two agree.

    Parameters
    ----------
    aggregate : DataFrame
        Output of :func:`~bayes_bcsm.simulation.metrics.aggregate_metrics`.
    alpha : float
        Nominal level a type-I error is tested against (two-sided 95 % intervals: 0.05).

    Returns
    -------
    DataFrame
        A copy with ``rejection_rate_overall`` and ``rejection_overall_mcse`` (binomial MCSE
        over the replicates that did not fail), ``rejection_overall_count`` and
        ``rejection_overall_trials`` (rejections among those replicates; a dropped covariate
        is not a rejection), ``rejection_overall_ci_lower`` / ``_upper`` (exact
        Clopper-Pearson 95 % interval) and, for type-I rows (``rejection_kind`` not
        ``"power"``), ``rejection_overall_p_exact``: the two-sided exact binomial test of a
        true rate ``alpha`` (:func:`scipy.stats.binomtest`; NaN for power rows).
    """
    out = aggregate.copy()
    p = out["rejection_rate"] * out["selected_share"]
    kept = out["n_replicates"] - out["n_failed"].where(out["fits"] != "all", 0)
    m = kept.clip(lower=1)
    out["rejection_rate_overall"] = p
    out["rejection_overall_mcse"] = np.sqrt(p * (1 - p) / m)
    out["rejection_overall_count"] = out["n_rejected"].astype(int)
    out["rejection_overall_trials"] = kept.astype(int)
    tests = [
        stats.binomtest(int(k), int(trials), alpha) if trials > 0 else None
        for k, trials in zip(out["rejection_overall_count"], kept, strict=True)
    ]
    intervals = [t.proportion_ci(0.95, method="exact") if t else None for t in tests]
    out["rejection_overall_ci_lower"] = [ci.low if ci else np.nan for ci in intervals]
    out["rejection_overall_ci_upper"] = [ci.high if ci else np.nan for ci in intervals]
    out["rejection_overall_p_exact"] = [
        t.pvalue if t and kind != "power" else np.nan
        for t, kind in zip(tests, out["rejection_kind"], strict=True)
    ]
    return out
