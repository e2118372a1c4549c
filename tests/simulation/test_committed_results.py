"""docs/simulation/README.md quotes the committed study; each quoted figure is read back here
and recomputed from the committed tables (issue 20: every figure true).

The rejection counts and exact P values are recomputed from the replicate rows themselves
(``replicates.csv.gz``) with the binomial pmf written out, not from the metrics code; the
estimands, biases and coverages are compared with ``estimands.csv`` / ``aggregate.csv`` at the
precision printed; the sceptical prior's description with the prior the study uses.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayes_bcsm.runs.simulate import study_settings
from bayes_bcsm.settings import parse_settings
from tests.runs.conftest import compose_config

DOCS = Path(__file__).resolve().parents[2] / "docs" / "simulation"
FOCUS = "hormone_therapy"
SCENARIOS = ("calibrated", "null_conditional", "null_table3")


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DOCS / name, keep_default_na=False, na_values=[""])


def _table(title_start: str) -> dict[str, list[str]]:
    """The README table whose header starts with ``title_start``: first cell -> other cells."""
    lines = (DOCS / "README.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {title_start}"))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


@pytest.fixture(scope="module")
def primary():
    agg = _csv("aggregate.csv")
    agg = agg[(agg["covariate"] == FOCUS) & (agg["fits"] == "excluding_failed")]
    return agg.set_index(["scenario", "method"])


def test_estimand_table_is_estimands_csv():
    est = _csv("estimands.csv")
    est = est[est["covariate"] == FOCUS].set_index(["scenario", "target"])
    table = _table("endocrine therapy, log-HR")
    assert list(table) == list(SCENARIOS)
    for scenario, cells in table.items():
        for cell, target in zip(cells[1:], ("cox", "weibull", "piecewise"), strict=True):
            row = est.loc[(scenario, target)]
            assert cell == f"{row['value']:+.4f} ({row['mcse']:.4f})", (scenario, target)


def _rejections(replicates: pd.DataFrame, scenario: str, method: str) -> tuple[int, int]:
    """Replicates whose 95 % interval excludes 0, among those that did not fail (a covariate
    dropped by selection counts as not rejected)."""
    rows = replicates[
        (replicates["scenario"] == scenario)
        & (replicates["method"] == method)
        & (replicates["covariate"] == FOCUS)
        & (replicates["failed"] == 0)
    ]
    rejected = (rows["selected"] == 1) & ((rows["lower"] > 0) | (rows["upper"] < 0))
    return int(rejected.sum()), len(rows)


def _exact_p(k: int, m: int, p: float = 0.05) -> float:
    pmf = stats.binom.pmf(range(m + 1), m, p)
    return min(1.0, float(pmf[pmf <= pmf[k] * (1 + 1e-7)].sum()))


def test_key_table_is_the_committed_study(primary):
    replicates = _csv("replicates.csv.gz")
    table = _table("method | power")
    assert len(table) == 7
    for method, cells in table.items():
        power, type_i_table3, type_i_conditional, *biases, coverage, _failed = cells
        k, m = _rejections(replicates, "calibrated", method)
        assert power == f"{100 * k / m:.0f} %", method
        for cell, scenario in (
            (type_i_table3, "null_table3"),
            (type_i_conditional, "null_conditional"),
        ):
            k, m = _rejections(replicates, scenario, method)
            assert cell == f"{k}/{m}, P = {_exact_p(k, m):.2g}", (method, scenario)
        for cell, scenario in zip(biases, SCENARIOS, strict=True):
            row = primary.loc[(scenario, method)]
            assert cell == f"{row['bias']:+.3f} ({row['bias_mcse']:.3f})", (method, scenario)
        assert coverage == f"{100 * primary.loc[('calibrated', method), 'coverage']:.0f} %"


def test_quoted_firth_type_i_error_is_the_exact_test():
    """The prose quotes Firth's type-I error under the Table 3 null with its exact test."""
    replicates = _csv("replicates.csv.gz")
    k, m = _rejections(replicates, "null_table3", "firth_table3")
    low = stats.beta.ppf(0.025, k, m - k + 1)
    high = stats.beta.ppf(0.975, k + 1, m - k)
    text = " ".join((DOCS / "README.md").read_text().split())
    quoted = (
        f"Firth's profile-likelihood test {k} of {m} ({100 * k / m:.1f}%, exact 95% CI "
        f"{100 * low:.1f}-{100 * high:.1f}%), exact binomial test against 5%: "
        f"P = {_exact_p(k, m):.2g}"
    )
    assert quoted in text


def test_sceptical_prior_is_described_as_used():
    """The README's sceptical prior is the one the study's *_sceptical methods use
    (runs/simulate.study_settings: the configured prior with family=sceptical, defaults
    sceptical_hr 2 and sceptical_tail 0.05)."""
    settings = study_settings(parse_settings(compose_config(["experiment=simulation_study"])))
    sd = settings.priors["sceptical"].sceptical_sd
    assert settings.priors["default"].family == "normal" and settings.priors["default"].scale == 1
    text = " ".join((DOCS / "README.md").read_text().split())
    match = re.search(
        r"N\(0, (0\.\d{3})²\) on every log-HR: P\(HR < 0\.5\) = P\(HR > 2\) = (\d+) %", text
    )
    assert match, "sceptical prior description not found"
    assert float(match.group(1)) == round(sd, 3)
    assert int(match.group(2)) == round(100 * stats.norm.cdf(math.log(0.5) / sd))
    low, high = re.search(r"95 % prior interval HR (0\.\d\d)-(\d\.\d\d)", text).groups()
    assert float(low) == round(math.exp(-1.959963984540054 * sd), 2)
    assert float(high) == round(math.exp(1.959963984540054 * sd), 2)
    assert not re.search(r"10 % tail", text)


def test_estimand_mcse_is_below_a_tenth_of_the_smallest_endocrine_bias_mcse(primary):
    """Issue 20, item 4: the endocrine estimands' MCSE below a tenth of the smallest bias MCSE
    of endocrine therapy (the replicates' part, before the estimand's is added)."""
    est = _csv("estimands.csv")
    endocrine = est[est["covariate"] == FOCUS]
    assert endocrine["mcse"].max() < 0.1 * primary["bias_mcse_replicates"].min()
    assert np.isfinite(primary["true_method_mcse"]).all()


def test_top_level_readme_quotes_the_committed_study(primary):
    """README.md's simulation summary: the rejections under the Table 3 null (Cox's Wald test,
    Firth's test) with their exact P, and the default-prior biases under that null."""
    text = " ".join((DOCS.parents[1] / "README.md").read_text().split())
    replicates = _csv("replicates.csv.gz")
    k, m = _rejections(replicates, "null_table3", "cox_table3")
    assert (
        f"Wald test rejects in {k} of {m} replicates (exact binomial P = {_exact_p(k, m):.2g}"
        in text
    )
    k, m = _rejections(replicates, "null_table3", "firth_table3")
    assert f"Firth's test in {k} of {m} (P = {_exact_p(k, m):.2g}" in text
    weibull = primary.loc[("null_table3", "weibull_default"), "bias"]
    piecewise = primary.loc[("null_table3", "piecewise_default"), "bias"]
    assert f"(Weibull {weibull:+.2f}, piecewise {piecewise:+.2f};".replace("+-", "-") in text


def test_top_level_readme_summary_figures_are_the_committed_study(primary):
    """Issue 20: the rest of README.md's simulation summary, recomputed from the committed
    tables: the Table 3 model's pseudo-true endocrine HR beside the generator's conditional one,
    the estimands' largest MCSE, Cox's calibrated bias / coverage / power, Firth's exact CI under
    the Table 3 null, the default-prior models' type-I error there, the sceptical models' one
    rejection among their null replicates, and no estimate at or below the printed 0.070."""
    text = " ".join((DOCS.parents[1] / "README.md").read_text().split())
    cox = primary.loc[("calibrated", "cox_table3")]
    assert (
        f"pseudo-true endocrine HR is {math.exp(cox['true_method']):.2f}, not the generator's "
        f"conditional {math.exp(cox['true_conditional']):.2f}" in text
    )
    est = _csv("estimands.csv")
    mcse = est.loc[est["covariate"] == FOCUS, "mcse"].max()
    assert f"MCSE at most {mcse:.2g})" in text
    assert (
        f"bias away from the null ({cox['bias']:.2f} on the log scale, MCSE "
        f"{cox['bias_mcse']:.2f}), coverage {100 * cox['coverage']:.0f} % and power "
        f"{100 * cox['rejection_rate']:.0f} %" in text
    )
    replicates = _csv("replicates.csv.gz")
    k, m = _rejections(replicates, "null_table3", "firth_table3")
    low, high = stats.beta.ppf(0.025, k, m - k + 1), stats.beta.ppf(0.975, k + 1, m - k)
    assert f"exact 95 % CI {100 * low:.1f}-{100 * high:.1f} %)" in text
    rates = [
        100 * np.divide(*_rejections(replicates, "null_table3", method))
        for method in ("weibull_default", "piecewise_default")
    ]
    assert "with 1-2 % type-I error" in text and all(1 <= round(r) <= 2 for r in rates), rates
    sceptical = [
        _rejections(replicates, scenario, method)
        for scenario in ("null_conditional", "null_table3")
        for method in ("weibull_sceptical", "piecewise_sceptical")
    ]
    rejected, trials = (sum(column) for column in zip(*sceptical, strict=True))
    assert rejected == 1 and _rejections(replicates, "null_conditional", "weibull_sceptical")[0]
    assert f"rejected a null once in about {round(trials, -1)} replicates (Weibull" in text
    assert "no replicate of any method estimated an HR at or below the printed 0.070" in text
    assert np.exp(replicates.loc[replicates["covariate"] == FOCUS, "estimate"].min()) > 0.070


def test_selection_and_printed_hr_conclusions_are_the_committed_study(primary):
    """Conclusions 4 and 5 of docs/simulation/README.md: the selection procedure's keep rate,
    bias and exaggeration (with the closed-form design analysis beside them) in the calibrated
    scenario, its keep and significance rates and bias under the Table 3 null, and no estimate
    at or below the printed 0.070 (counted from the replicate rows)."""
    text = " ".join((DOCS / "README.md").read_text().split())
    selection = primary.loc[("calibrated", "cox_selection")]
    cox = primary.loc[("calibrated", "cox_table3")]
    assert (
        f"keeps endocrine therapy in {100 * selection['selected_share']:.0f} % of calibrated "
        f"replicates; the kept estimates are biased by {selection['bias']:.3f}" in text
    )
    assert (
        f"exaggerate |log HR| {selection['exaggeration']:.2f}-fold (closed-form design analysis "
        f"at the same SE: {selection['design_exaggeration']:.2f}), against "
        f"{cox['exaggeration']:.2f} for Cox without selection (closed form "
        f"{cox['design_exaggeration']:.2f})" in text
    )
    null = primary.loc[("null_table3", "cox_selection")]
    assert (
        f"Under the Table 3 null it keeps endocrine therapy in {100 * null['selected_share']:.0f} "
        f"% of replicates and reports it as significant in {100 * null['rejection_rate']:.0f} % "
        f"of those, with a mean log-HR bias of {null['bias']:.2f}." in text
    )
    replicates = _csv("replicates.csv.gz")
    rows = replicates[(replicates["covariate"] == FOCUS) & (replicates["failed"] == 0)]
    estimates = rows["estimate"].dropna()
    assert (np.exp(estimates) > 0.070).all()
    kept = rows[
        (rows["method"] == "cox_selection")
        & (rows["scenario"] == "calibrated")
        & (rows["selected"] == 1)
    ]
    assert (
        f"(0 of the {len(estimates)} estimates; after selection none of the {len(kept)} "
        "calibrated replicates that kept it;" in text
    )
    rule_of_three = f"by the rule of three, 3 / {len(kept)}, the share after selection is below "
    assert f"{rule_of_three}{100 * 3 / len(kept):.1f} % to 95 % confidence" in text


def test_quoted_power_cost_of_the_sceptical_prior():
    """Conclusion 3: the sceptical prior's cost in power (calibrated scenario, percentage
    points, from the replicate rows)."""
    text = " ".join((DOCS / "README.md").read_text().split())
    replicates = _csv("replicates.csv.gz")
    cost = {
        family: 100 * np.divide(*_rejections(replicates, "calibrated", f"{family}_default"))
        - 100 * np.divide(*_rejections(replicates, "calibrated", f"{family}_sceptical"))
        for family in ("weibull", "piecewise")
    }
    assert (
        f"it costs {cost['weibull']:.1f} (Weibull) and {cost['piecewise']:.1f} (piecewise) "
        "points of power" in text
    )


@pytest.mark.slow
def test_quoted_confounding_correlations_are_the_generators():
    """'What each method estimates': the correlation of endocrine therapy with chemotherapy or
    targeted therapy and with age over 50 among the complete cases of a generator cohort of
    200,000 patients (seed 1; sampling SE about 0.003, so the two printed decimals hold)."""
    from bayes_bcsm.reconstruct.generator import simulate_cohort
    from bayes_bcsm.runs.calibrate import read_config

    _, _, params, _ = read_config()
    cohort = simulate_cohort(200_000, 1, params=params)
    complete = cohort[cohort["hormone_receptor"].notna()]
    therapy = complete["hormone_therapy"].to_numpy(float)
    chemo = np.corrcoef(complete["chemo_or_targeted"].to_numpy(float), therapy)[0, 1]
    age = np.corrcoef((complete["age_years"] > 50).to_numpy(float), therapy)[0, 1]
    text = " ".join((DOCS / "README.md").read_text().split())
    assert (
        f"has correlation {chemo:.2f} with endocrine therapy and age over 50 "
        f"({params.effects['age_over_50']:.2f}) {age:.2f}," in text
    )
