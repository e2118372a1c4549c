"""Report of the simulation study: tables, figures and a result section generated from numbers.

Nothing here is hand-written conclusion: every sentence of the "Results in plain language"
section is a template filled with the aggregate's numbers (and says which numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayes_bcsm.report.plots import save_figure
from bayes_bcsm.report.render import RECONSTRUCTION_NOTICE, markdown_table, write_report
from bayes_bcsm.report.sentences import bias_direction, rejection_test
from bayes_bcsm.report.simulation_plots import (
    plot_design_analysis,
    plot_metric_by_method,
    plot_replicate_estimates,
    plot_sbc_ranks,
)
from bayes_bcsm.study import bundled_targets, table3_factor

if TYPE_CHECKING:
    from bayes_bcsm.results import ReportSettings, SimulationPlan, SimulationRun
    from bayes_bcsm.simulation.settings import StudySettings

FOCUS = table3_factor("hormone_therapy").design_column
"""The design column of the endocrine-therapy effect (the paper's headline aHR)."""
PAPER_HR = bundled_targets().hazard_ratio("hormone_therapy").hr
"""The published aHR of endocrine therapy (Table 3 of ``targets.yaml``)."""

_TABLE_COLUMNS = [
    "scenario",
    "method",
    "true_method",
    "true_method_mcse",
    "true_conditional",
    "n_estimated",
    "n_failed",
    "bias",
    "bias_mcse",
    "rmse",
    "coverage",
    "coverage_mcse",
    "bias_conditional",
    "coverage_conditional",
    "mean_width",
    "rejection_rate",
    "rejection_rate_overall",
    "rejection_kind",
    "share_hr_below_0_1",
    "share_hr_above_10",
    "selected_share",
]


def _pct(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.0f} %"


def _num(x: float, fmt: str = "+.2f") -> str:
    return "n/a" if x is None or not np.isfinite(x) else format(x, fmt)


#: The primary reading of the metrics (failed fits left out); ``"all"`` keeps them.
PRIMARY = "excluding_failed"


def _primary(aggregate: pd.DataFrame) -> pd.DataFrame:
    if not len(aggregate) or "fits" not in aggregate:
        return aggregate
    return aggregate[aggregate["fits"] == PRIMARY]


def _methods_order(frame: pd.DataFrame, methods: Sequence[str]) -> list[str]:
    present = set(frame["method"]) if len(frame) else set()
    return [m for m in methods if m in present]


def plain_language(
    aggregate: pd.DataFrame,
    replicates: pd.DataFrame,
    shard_status: pd.DataFrame,
    methods: Sequence[str],
    covariate: str = FOCUS,
) -> list[str]:
    """Sentences (Markdown bullets) summarising the study, filled in from the numbers.

    Parameters
    ----------
    aggregate : DataFrame
        :func:`bayes_bcsm.simulation.metrics.aggregate_metrics` output.
    replicates : DataFrame
        Replicate rows (for the share of estimates as extreme as the published one).
    shard_status : DataFrame
        State of every planned shard.
    methods : sequence of str
        Method order.
    covariate : str
        The design column the sentences are about (default: endocrine therapy).

    Returns
    -------
    list of str
    """
    out: list[str] = []
    n_done = int((shard_status["state"] == "done").sum())
    if n_done < len(shard_status):
        out.append(
            f"**Provisional:** {n_done} of {len(shard_status)} planned shards are finished "
            f"({int((shard_status['state'] == 'failed').sum())} failed); the figures below use "
            "the finished shards only."
        )
    if not len(aggregate) or covariate not in set(aggregate["covariate"]):
        out.append(f"No results for `{covariate}` yet.")
        return out
    aggregate = _primary(aggregate)
    for n in sorted(aggregate["n"].unique()):
        agg = aggregate[(aggregate["n"] == n) & (aggregate["covariate"] == covariate)]
        order = _methods_order(agg, methods)
        for scenario in dict.fromkeys(agg["scenario"]):
            part = agg[agg["scenario"] == scenario].set_index("method").reindex(order)
            part = part.dropna(subset=["n_replicates"])
            if not len(part):
                continue
            conditional = float(part["true_conditional"].iloc[0])
            reps = int(part["n_replicates"].max())
            null = str(part["rejection_kind"].iloc[0])
            kind = "power" if null == "power" else "type-I error"
            per_method = "; ".join(
                f"`{m}` estimand HR {np.exp(r.true_method):.2f}, bias {_num(r.bias)} "
                f"(against the conditional effect {_num(r.bias_conditional)}), coverage "
                f"{_pct(r.coverage)} ({_pct(r.coverage_conditional)}), {kind} "
                f"{_pct(r.rejection_rate_overall)}"
                for m, r in part.iterrows()
            )
            out.append(
                f"n = {n}, **{scenario}** scenario (generator's conditional endocrine HR "
                f"{np.exp(conditional):.2f}, {reps} replicates): {per_method}."
            )
            scored = part.dropna(subset=["bias", "bias_mcse"])
            if len(scored):
                out.append(
                    f"n = {n}, {scenario}: bias of the log-HR against each method's own estimand "
                    "(MCSE including the estimand's; detectable beyond 2 MCSE): "
                    + "; ".join(
                        f"`{m}` {bias_direction(r.bias, r.bias_mcse, r.true_method)}"
                        for m, r in scored.iterrows()
                    )
                    + "."
                )
            est = part.dropna(subset=["rmse"])
            if len(est):
                best, worst = est["rmse"].idxmin(), est["rmse"].idxmax()
                out.append(
                    f"n = {n}, {scenario}: smallest RMSE of the log-HR `{best}` "
                    f"({est.loc[best, 'rmse']:.2f}), largest `{worst}` "
                    f"({est.loc[worst, 'rmse']:.2f})."
                )
            low = part[part["coverage"] + 2 * part["coverage_mcse"] < 0.95]
            out.append(
                f"n = {n}, {scenario}: 95 % intervals covering the method's estimand less "
                "often than 95 % "
                "(by more than 2 Monte Carlo SE): "
                + (
                    ", ".join(f"`{m}` ({_pct(c)})" for m, c in low["coverage"].items())
                    if len(low)
                    else "none"
                )
                + "."
            )
            if kind == "type-I error":
                sense = (
                    "null for the Table 3 question (its estimand is HR = 1)"
                    if null == "type_I_table3"
                    else "null conditional on all the generator's covariates (the Table 3 "
                    "estimand is not HR = 1, so this is a rejection rate, not a size)"
                )
                tested = part[part["rejection_overall_trials"] > 0]
                out.append(
                    f"n = {n}, {scenario}, {sense}: replicates rejecting HR = 1 (a dropped "
                    "covariate counts as not rejected): "
                    + "; ".join(
                        f"`{m}` "
                        + rejection_test(
                            int(r.rejection_overall_count), int(r.rejection_overall_trials)
                        )
                        for m, r in tested.iterrows()
                    )
                    + "."
                )
            extreme = part["share_hr_below_0_1"] + part["share_hr_above_10"]
            out.append(
                f"n = {n}, {scenario}: share of estimated endocrine HRs below 0.1 or above 10: "
                + ", ".join(f"`{m}` {_pct(v)}" for m, v in extreme.items())
                + "."
            )
            if "cox_selection" in part.index:
                sel = part.loc["cox_selection"]
                both = sel["selected_share"] * sel["rejection_rate"]
                out.append(
                    f"n = {n}, {scenario}: the paper's selection procedure kept endocrine therapy "
                    f"in {_pct(sel['selected_share'])} of replicates; it was kept *and* its CI "
                    f"excluded HR = 1 in {_pct(both)} (the {kind} above). Among the replicates "
                    f"that kept it, the CI excluded HR = 1 in {_pct(sel['rejection_rate'])} and "
                    f"covered the truth in {_pct(sel['coverage'])}, the mean estimate being "
                    f"biased by {_num(sel['bias'])} (estimates after selection)."
                )
            shares = part["share_hr_at_most_printed"].dropna().to_dict()
            out.append(
                f"n = {n}, {scenario}: share of replicates with an estimated endocrine HR as "
                f"small as the published {PAPER_HR} or smaller: "
                + ", ".join(f"`{m}` {_pct(shares[m])}" for m in order if m in shares)
                + "."
            )
        failed = aggregate[(aggregate["n"] == n) & (aggregate["n_failed"] > 0)]
        if len(failed):
            counts = failed.groupby(["scenario", "method"])["failure_rate"].max()
            out.append(
                f"n = {n}: failed fits (exception, non-convergence or a failed convergence "
                "check) "
                + ", ".join(f"`{m}` ({s}) {_pct(k)}" for (s, m), k in counts.items())
                + "; they are left out of the metrics above (see the section with and without "
                "failed fits)."
            )
    return out


def power_table(aggregate: pd.DataFrame, methods: Sequence[str], covariate: str = FOCUS):
    """Power (calibrated) and type-I error under both nulls of ``covariate`` per n and method."""
    part = _primary(aggregate)
    part = part[part["covariate"] == covariate]
    labels = (
        ("calibrated", "power"),
        ("null_table3", "type_I_table3"),
        ("null_conditional", "type_I_conditional"),
    )
    rows = []
    for n in sorted(part["n"].unique()):
        for method in _methods_order(part, methods):
            row = {"n": n, "method": method}
            for scenario, label in labels:
                hit = part[
                    (part["n"] == n) & (part["method"] == method) & (part["scenario"] == scenario)
                ]
                if len(hit):
                    r = hit.iloc[0]
                    row[f"{label}_estimand_hr"] = float(np.exp(r["true_method"]))
                    row[label] = r["rejection_rate_overall"]
                    row[f"{label}_mcse"] = r["rejection_overall_mcse"]
                    row[f"{label}_if_selected"] = r["rejection_rate"]
                    row[f"selected_{scenario}"] = r["selected_share"]
            rows.append(row)
    return pd.DataFrame(rows)


def estimand_table(estimands: pd.DataFrame, replicates: pd.DataFrame) -> pd.DataFrame:
    """Pseudo-true log-HR of each target beside the generator's conditional effect.

    Parameters
    ----------
    estimands : DataFrame
        ``scenario``, ``target``, ``covariate``, ``value``, ``mcse``.
    replicates : DataFrame
        For the conditional effect of each (scenario, covariate).

    Returns
    -------
    DataFrame
        One row per (scenario, covariate): the conditional log-HR and each target's value
        (its MCSE in brackets as a separate column).
    """
    if not len(estimands):
        return pd.DataFrame()
    wide = estimands.pivot_table(
        index=["scenario", "covariate"], columns="target", values=["value", "mcse"]
    )
    out = pd.DataFrame(index=wide.index)
    if len(replicates):
        cond = replicates.groupby(["scenario", "covariate"])["true_conditional"].first()
        out["conditional"] = cond.reindex(out.index)
    for target in dict.fromkeys(estimands["target"]):
        out[target] = wide[("value", target)]
        out[f"{target} MCSE"] = wide[("mcse", target)]
    return out.reset_index()


def failure_table(aggregate: pd.DataFrame, replicates: pd.DataFrame, methods: Sequence[str]):
    """Failure rate per (n, scenario, method) and the most frequent failed check."""
    if not len(replicates):
        return pd.DataFrame()
    per_fit = replicates.groupby(["n", "scenario", "method", "replicate"]).first().reset_index()
    rows = []
    for (n, scenario, method), g in per_fit.groupby(["n", "scenario", "method"]):
        failed = g[g["failed"] == 1]
        checks = (
            failed["note"]
            .fillna("")
            .astype(str)
            .str.split("; ")
            .explode()
            .str.split(" ")
            .str[0]
            .value_counts()
        )
        rows.append(
            {
                "n": n,
                "scenario": scenario,
                "method": method,
                "fits": len(g),
                "failed": len(failed),
                "failure_rate": len(failed) / len(g),
                "main reason": ", ".join(f"{k} ({v})" for k, v in checks.head(3).items()),
            }
        )
    table = pd.DataFrame(rows)
    order = {m: i for i, m in enumerate(methods)}
    return table.sort_values(
        ["n", "scenario", "method"], key=lambda c: c.map(order) if c.name == "method" else c
    ).reset_index(drop=True)


def with_and_without_failures(
    aggregate: pd.DataFrame, methods: Sequence[str], covariate: str = FOCUS
) -> pd.DataFrame:
    """Coverage, bias and rejection of ``covariate`` without and with the failed fits."""
    if not len(aggregate) or "fits" not in aggregate:
        return pd.DataFrame()
    part = aggregate[(aggregate["covariate"] == covariate) & (aggregate["n_failed"] > 0)]
    if not len(part):
        return pd.DataFrame()
    wide = part.pivot_table(
        index=["n", "scenario", "method"],
        columns="fits",
        values=["n_estimated", "bias", "coverage", "rejection_rate"],
    )
    wide.columns = [f"{metric} ({fits})" for metric, fits in wide.columns]
    return wide.reset_index()


def design_table(aggregate: pd.DataFrame, methods: Sequence[str], covariate: str = FOCUS):
    """Empirical power / type S / exaggeration of ``covariate`` beside the closed form at the
    replicates' own SE, non-null scenarios only."""
    part = _primary(aggregate)
    part = part[(part["covariate"] == covariate) & part["type_s"].notna()]
    order = {m: i for i, m in enumerate(_methods_order(part, methods))}
    part = part.assign(_order=part["method"].map(order)).sort_values(["scenario", "n", "_order"])
    return pd.DataFrame(
        {
            "scenario": part["scenario"],
            "n": part["n"],
            "method": part["method"],
            "estimand HR": np.exp(part["true_method"]),
            "SE (log HR)": part["interval_se"],
            "power": part["rejection_rate"],
            "power MCSE": part["rejection_mcse"],
            "power (closed form)": part["design_power"],
            "type S": part["type_s"],
            "type S MCSE": part["type_s_mcse"],
            "type S (closed form)": part["design_type_s"],
            "exaggeration": part["exaggeration"],
            "exaggeration MCSE": part["exaggeration_mcse"],
            "exaggeration (closed form)": part["design_exaggeration"],
            "HR <= printed": part["share_hr_at_most_printed"],
        }
    ).reset_index(drop=True)


def _cost_table(replicates: pd.DataFrame, methods: Sequence[str]) -> pd.DataFrame:
    if not len(replicates) or "seconds" not in replicates:
        return pd.DataFrame()
    per_fit = replicates.groupby(["scenario", "n", "method", "replicate"])["seconds"].first()
    table = per_fit.groupby("method").agg(["mean", "median", "max", "count"])
    table = table.reindex(_methods_order(replicates, methods)).reset_index()
    table.columns = ["method", "mean_s", "median_s", "max_s", "fits"]
    return table


def write_simulation_report(
    report: ReportSettings,
    plan: SimulationPlan,
    study: StudySettings,
    result: SimulationRun,
    folder: Path,
    timing: dict,
) -> list[Path]:
    """Draw the figures and write ``report.md`` / ``report.html`` into ``folder``.

    Parameters
    ----------
    report : ReportSettings
        Title, plots, HTML.
    plan : SimulationPlan
        Replicates, cohort sizes and scenarios asked for.
    study : StudySettings
        Methods, covariates, sampler and seed of the study.
    result : SimulationRun
        The merged results.
    folder : Path
        Where the report and its PNGs go.
    timing : dict
        ``seconds`` of this call and compile cache statistics.

    Returns
    -------
    list of Path
        The report files written.
    """
    methods = list(study.methods)
    sampler = study.sampler
    agg, reps = result.aggregate, result.replicates
    lines = [f"# Simulation study: {report.experiment_name}", "", RECONSTRUCTION_NOTICE, ""]
    lines += [
        "Synthetic cohorts are drawn from the reconstruction's calibrated generator with known "
        "true effects; each replicate is analysed by every method and the estimates of the Table "
        "3 covariates are compared with the truth (Morris, White & Crowther 2019).",
        "",
        "## Setup",
        "",
        f"- replicates per scenario and n: {plan.replicates}; n: {list(plan.n)}; scenarios: "
        f"{list(plan.scenarios)}; generator effects overridden: "
        + ", ".join(f"{k} {_effects_text(v)}" for k, v in result.scenario_effects.items()),
        "- failure rules (Bayesian fits, all posterior variables, as single fits): "
        f"R-hat <= {study.thresholds.rhat_max}, bulk and tail ESS >= "
        f"{study.thresholds.ess_bulk_min:g} / {study.thresholds.ess_tail_min:g}, divergences <= "
        f"{study.thresholds.divergences_max}, E-BFMI >= {study.thresholds.ebfmi_min}, share at "
        f"maximum tree depth <= {study.thresholds.max_treedepth_fraction}; Cox / Firth: "
        "non-convergence; any method: an exception",
        f"- methods: {', '.join(f'`{m}`' for m in methods)}",
        f"- Table 3 covariates: {', '.join(study.covariates)}",
        f"- sampler: {sampler.sampler}, {sampler.chains} chains x "
        f"{sampler.draws} draws ({sampler.tune} tuning); seed {study.base_seed}",
        f"- study folder: `{result.run_dir}`",
        "",
        "Estimates are log hazard ratios: Cox/Firth point estimates with Wald (Cox) or profile "
        "penalised-likelihood (Firth) 95 % CIs; Bayesian posterior medians with 95 % "
        "equal-tailed intervals. Rejection = the 95 % interval excludes HR = 1 (power when the "
        "truth is not null, type-I error when it is); in the per-covariate tables "
        "`rejection_rate` and the other estimate metrics of `cox_selection` are among the "
        "replicates that selected the covariate, `rejection_rate_overall` counts a dropped "
        "covariate as not rejected. Bias, RMSE, coverage, type S and exaggeration are "
        "measured against each method's own estimand first (`true_method`) and against the "
        "generator's conditional effect second (`*_conditional`); see the next section.",
        "",
        "## What each method estimates",
        "",
        "The generator's log-HRs are conditional on all 16 of its indicators; the Table 3 model "
        "leaves 12 of them out, and hazard ratios are not collapsible, so even an ideal Table 3 "
        "fit converges to another value, its *pseudo-true* log-HR. Each method is scored against "
        "that limit: Cox on the Table 3 covariates (also Firth's and the selection "
        "procedure's target) and the maximum-likelihood limits of the (misspecified) Weibull "
        "and piecewise models, all computed from the generator on "
        f"{_large_n(result.estimands)} "
        "(`bayes_bcsm.simulation.estimands`); the estimand's MCSE is added in quadrature to "
        "the replicates' bias MCSE (`bias_mcse_replicates` in `aggregate.csv`). "
        "Against the conditional effect, an ideal interval would under-cover by the gap in "
        "SE units, and the gap does not shrink with n: coverage against the conditional effect "
        "measures the model's misspecification, not the estimator. The `null_table3` scenario "
        "sets the conditional endocrine effect so that the Table 3 Cox target is 0 (its "
        "rejection rate is a type-I error of the Table 3 test); under `null_conditional` the "
        "generator's endocrine effect is 0 but the Table 3 target is not, so its rejection "
        "rate is not a size.",
        "",
    ]
    if result.estimands_source:
        lines += [f"This run took the estimands from {result.estimands_source}.", ""]
    table = estimand_table(result.estimands, reps)
    if len(table):
        lines += [markdown_table(table), ""]
    n_done = int((result.shard_status["state"] == "done").sum())
    lines += [
        "## Shards",
        "",
        f"{n_done} of {len(result.shard_status)} planned shards done.",
        "",
    ]
    not_done = result.shard_status[result.shard_status["state"] != "done"]
    if len(not_done):
        lines += [markdown_table(not_done), ""]
    failures = failure_table(agg, reps, methods)
    if len(failures):
        lines += [
            "## Failed fits",
            "",
            "Fits recorded as failed per method, with the most frequent failed checks.",
            "",
            markdown_table(failures),
            "",
        ]
    lines += ["## Results in plain language", ""]
    lines += [f"- {s}" for s in plain_language(agg, reps, result.shard_status, methods)]
    lines += [""]
    if len(agg):
        lines += [
            "## Endocrine therapy: power and type-I error",
            "",
            "Power (calibrated scenario) and rejection rates under the two nulls of the whole "
            "procedure (`type_I_table3`: the Table 3 estimand is HR = 1, a true size; "
            "`type_I_conditional`: the generator's conditional HR is 1, the Table 3 "
            "estimand is not; `*_estimand_hr` is the method's target), with Monte Carlo SEs; "
            "a covariate dropped by the selection counts as not significant. The "
            "`_if_selected` columns are conditional on the covariate being in the final model "
            "(equal to the others for methods without selection); `selected_*` is the share "
            "of replicates that kept it.",
            "",
            markdown_table(power_table(agg, methods)),
            "",
        ]
        design = design_table(agg, methods)
        if len(design):
            lines += [
                "## Design analysis: closed form against the replicates",
                "",
                'Among the replicates whose 95 % interval excludes HR = 1 ("significant"): '
                "the share with the wrong sign (type S) and the mean |log HR estimate| / |true "
                "log HR| (exaggeration ratio), beside what the closed-form design analysis of "
                "Gelman & Carlin (2014) predicts for an estimate with the replicates' median "
                "SE (`bayes_bcsm.reinterpret.design_analysis`, the same function that reads the "
                "printed aHRs). `power` is among the replicates that estimated the covariate. "
                "The truth is the method's own estimand. Significance is the 95 % interval "
                "excluding HR = 1 (P < 0.05; posterior P(HR < 1) or P(HR > 1) above 0.975). "
                "`HR <= printed`: the share of replicates with an estimated HR at most the "
                f"printed aHR {PAPER_HR}.",
                "",
                markdown_table(design),
                "",
            ]
            if report.plots:
                fig = plot_design_analysis(
                    design, title="Design analysis: replicates vs closed form"
                )
                save_figure(fig, folder / "design_analysis.png")
                lines += [
                    "![Design analysis](design_analysis.png)",
                    "",
                    "*Empirical power and exaggeration of endocrine therapy against the closed "
                    "form at the replicates' SE (bars: +-1.96 MCSE).*",
                    "",
                ]
        both = with_and_without_failures(agg, methods)
        if len(both):
            lines += [
                "## With and without failed fits",
                "",
                "Endocrine therapy, for the methods with failed fits: the metrics without them "
                "(`excluding_failed`, used everywhere else) and with the failed fits that "
                "still produced estimates (`all`).",
                "",
                markdown_table(both),
                "",
            ]
        images = _figures(result, folder, methods) if report.plots else []
        for name, caption in images:
            lines += [f"![{caption}]({name})", "", f"*{caption}*", ""]
        lines += ["## Operating characteristics per covariate", ""]
        for n in sorted(agg["n"].unique()):
            for covariate in dict.fromkeys(agg["covariate"]):
                primary = _primary(agg)
                part = primary[(primary["n"] == n) & (primary["covariate"] == covariate)]
                lines += [
                    f"### {covariate} (n = {n})",
                    "",
                    markdown_table(part[_TABLE_COLUMNS]),
                    "",
                ]
    if result.sbc:
        lines += _sbc_section(result.sbc, folder, report.plots)
    cost = _cost_table(reps, methods)
    lines += ["## Cost", ""]
    if len(cost):
        per_rep = float(cost["mean_s"].sum())
        lines += [
            f"Mean wall-clock seconds per fit and method (all replicates so far); one replicate "
            f"(all methods) costs about {per_rep:.2f} s after compilation.",
            "",
            markdown_table(cost),
            "",
        ]
    cache = timing.get("compile_cache", {})
    lines += [
        f"This call: {timing.get('seconds', float('nan')):.1f} s, "
        f"{timing.get('shards_run', 0)} shards run; in the main process (the worker processes "
        f"keep their own), compile cache hits {cache.get('hits', 0)}, "
        f"compilations {cache.get('misses', 0)}.",
        "",
    ]
    return list(write_report(folder, "\n".join(lines), report.experiment_name, report.html))


def _effects_text(effects: dict) -> str:
    return "(none)" if not effects else ", ".join(f"{k} = {v:+.3f}" for k, v in effects.items())


def _large_n(estimands: pd.DataFrame) -> str:
    """The estimand pool in words, e.g. "32 seeded cohorts of 100,000 patients, each with 4
    survival draws"."""
    if not len(estimands) or "n" not in estimands:
        return "n/a"
    first = estimands.iloc[0]
    n = f"{int(first['n']):,} patients"
    cohorts, redraws = int(first.get("cohorts", 1)), int(first.get("redraws", 1))
    if cohorts == 1:
        return (
            f"one seeded cohort of {n} with {redraws} survival draw(s) (MCSE = the estimator's "
            "SE there over the square root of the draws; the covariates' noise is left out)"
        )
    return (
        f"{cohorts} seeded cohorts of {n}, each with {redraws} survival draw(s) (MCSE = the SD "
        "of the cohort means over the square root of the number of cohorts)"
    )


def _figures(result: SimulationRun, folder: Path, methods: list[str]) -> list[tuple[str, str]]:
    agg, reps = _primary(result.aggregate), result.replicates
    drawn = []
    for n in sorted(agg["n"].unique()):
        part = agg[agg["n"] == n]
        fig = plot_metric_by_method(
            part,
            "coverage",
            "coverage_mcse",
            reference=0.95,
            methods=methods,
            title=f"Coverage of 95 % intervals (n = {n}); bars: +-1.96 MCSE",
        )
        save_figure(fig, folder / f"coverage_n{n}.png")
        drawn.append((f"coverage_n{n}.png", f"Coverage per method and covariate, n = {n}"))
        fig = plot_metric_by_method(
            part,
            "bias",
            "bias_mcse",
            reference=0.0,
            methods=methods,
            title=f"Bias of the log-HR (n = {n}); bars: +-1.96 MCSE",
            xlabel="bias (log HR)",
        )
        save_figure(fig, folder / f"bias_n{n}.png")
        drawn.append((f"bias_n{n}.png", f"Bias of the log-HR per method and covariate, n = {n}"))
        if FOCUS in set(part["covariate"]):
            fig = plot_replicate_estimates(
                reps[reps["n"] == n],
                FOCUS,
                methods=methods,
                paper_log_hr=float(np.log(PAPER_HR)),
                title=f"Endocrine therapy: replicate estimates (n = {n})",
            )
            save_figure(fig, folder / f"estimates_{FOCUS}_n{n}.png")
            drawn.append(
                (
                    f"estimates_{FOCUS}_n{n}.png",
                    f"Replicate log-HR estimates of endocrine therapy, n = {n} (black ticks: "
                    f"each method's estimand, dashed: the conditional effect, red: published "
                    f"{PAPER_HR})",
                )
            )
    return drawn


def _sbc_section(sbc: dict, folder: Path, plots: bool) -> list[str]:
    ranks = sbc["ranks"]
    wide = {
        method: g.pivot(index="replicate", columns="parameter", values="rank")
        for method, g in ranks.groupby("method", sort=False)
    }
    lines = [
        "## Simulation-based calibration",
        "",
        f"Talts et al. (2018): {ranks['replicate'].nunique()} prior draws per model on the "
        f"study's Table 3 design; rank of the true log-HR among {sbc['n_rank_draws']} posterior "
        "draws. Uniform ranks (chi-square P not small) mean the posterior is calibrated.",
        "",
        markdown_table(sbc["uniformity"]),
        "",
    ]
    if plots:
        fig = plot_sbc_ranks(wide, sbc["n_rank_draws"], title="SBC rank histograms")
        save_figure(fig, folder / "sbc_ranks.png")
        lines += ["![SBC rank histograms](sbc_ranks.png)", ""]
    return lines
