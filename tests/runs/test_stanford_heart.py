"""Real (start, stop] data through a dataset card: Stanford heart transplants (issue 21).

103 patients, 172 (start, stop] rows (Crowley & Hu 1977; lifelines' copy of R survival's
``heart``). Oracles: lifelines' ``CoxTimeVaryingFitter`` (time-dependent transplant: coefficient
-0.0103, SE 0.3138) and ``CoxPHFitter`` on the naive 'ever transplanted' coding (-1.7045, HR
0.18), both quoted in the issue and recomputed here from lifelines' own loader. Also the
landmark analysis, and a wide file whose exposure start builds the episodes (data=csv).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.config import ConfigError
from bayes_bcsm.runs.fit import run as fit_run
from bayes_bcsm.settings import parse_settings
from tests.runs.conftest import compose_config

pytest.importorskip("lifelines")

COVARIATES = ["age", "year", "surgery", "transplant"]
Z975 = 1.959963984540054


def _cox_table(tmp_path, *overrides: str) -> pd.DataFrame:
    cfg = compose_config(["data=stanford_heart", "model=cox", "report.plots=false", *overrides])
    fit_run(cfg, tmp_path)
    table = pd.read_csv(tmp_path / "hazard_ratios.csv")
    return table[table["model"] == "cox"].set_index("covariate").loc[COVARIATES]


def _coef_se(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and Wald SEs back from the HR table (HR and 95 % Wald CI)."""
    coef = np.log(table["estimate"].to_numpy())
    se = (np.log(table["upper"]) - np.log(table["lower"])).to_numpy() / (2 * Z975)
    return coef, se


def test_fit_cox_holds_the_time_dependent_transplant_effect(tmp_path):
    """`bayes-bcsm fit data=stanford_heart model=cox`: coefficients and SEs equal lifelines'
    CoxTimeVaryingFitter to 1e-6 relative; transplant -0.0103 (SE 0.3138); 103 patients."""
    from lifelines import CoxTimeVaryingFitter
    from lifelines.datasets import load_stanford_heart_transplants

    oracle = CoxTimeVaryingFitter().fit(
        load_stanford_heart_transplants(),
        id_col="id",
        event_col="event",
        start_col="start",
        stop_col="stop",
    )
    table = _cox_table(tmp_path)
    coef, se = _coef_se(table)
    np.testing.assert_allclose(coef, oracle.params_.loc[COVARIATES], rtol=1e-6)
    np.testing.assert_allclose(se, oracle.standard_errors_.loc[COVARIATES], rtol=1e-6)
    assert coef[3] == pytest.approx(-0.0103, abs=5e-5)
    assert se[3] == pytest.approx(0.3138, abs=5e-5)
    assert set(table["n_used"]) == {103} and set(table["n_events"]) == {75}
    report = (tmp_path / "report.md").read_text()
    assert "172 (start, stop] rows of 103 patients" in report


def test_the_naive_ever_transplanted_coding_gives_hr_018(tmp_path):
    """data.exposure_coding=ever: one row per patient from acceptance, transplant = ever;
    lifelines' CoxPHFitter on that frame gives -1.7045 (HR 0.18)."""
    from lifelines import CoxPHFitter
    from lifelines.datasets import load_stanford_heart_transplants

    long = load_stanford_heart_transplants()
    naive = long.groupby("id").agg(
        stop=("stop", "max"),
        event=("event", "max"),
        age=("age", "first"),
        year=("year", "first"),
        surgery=("surgery", "first"),
        transplant=("transplant", "max"),
    )
    oracle = CoxPHFitter().fit(naive, "stop", "event")
    table = _cox_table(tmp_path, "data.exposure_coding=ever")
    coef, se = _coef_se(table)
    np.testing.assert_allclose(coef, oracle.params_.loc[COVARIATES], rtol=1e-6)
    np.testing.assert_allclose(se, oracle.standard_errors_.loc[COVARIATES], rtol=1e-6)
    assert coef[3] == pytest.approx(-1.7045, abs=5e-5)
    assert table.loc["transplant", "estimate"] == pytest.approx(0.18, abs=0.005)


def test_marginalising_a_covariate_on_episode_data_is_refused_at_parse():
    cfg = compose_config(["data=stanford_heart", "missing=marginalize", "missing.covariate=age"])
    with pytest.raises(ConfigError, match=r"missing.strategy=marginalize is not supported on "):
        parse_settings(cfg)


@pytest.mark.slow
def test_fit_piecewise_runs_and_reports_per_patient_loo(tmp_path):
    """`bayes-bcsm fit data=stanford_heart model=piecewise`: the HR table holds the posterior
    transplant row beside Cox; LOO has one pointwise value per patient (103); no posterior
    predictive check from time 0."""
    import arviz as az

    cfg = compose_config(
        ["data=stanford_heart", "model=piecewise", "sampler=quick", "report.plots=true"]
    )
    fit_run(cfg, tmp_path)
    table = pd.read_csv(tmp_path / "hazard_ratios.csv")
    assert {"cox", "firth", "piecewise"} <= set(table["model"])
    assert "transplant" in set(table.loc[table["model"] == "piecewise", "covariate"])
    tree = az.from_netcdf(tmp_path / "posterior.nc")
    assert tree["log_likelihood"]["time"].sizes["patient"] == 103
    assert "posterior_predictive" not in tree.children
    assert not (tmp_path / "ppc_censored.png").exists()
    assert "No posterior predictive check" in (tmp_path / "report.md").read_text()


@pytest.mark.slow
def test_piecewise_with_vague_priors_sits_at_the_cox_estimates():
    """Issue 21's oracle: the Bayesian piecewise model with vague priors (log-HRs and log
    baseline rates Normal(0, 10)-wide, independent intervals, one interval per distinct death
    time: cuts half-way between them, the piecewise model closest to Cox) has posterior medians
    within 0.2 posterior SD of the Cox (start, stop] estimates. Their gap is the piecewise
    baseline's exposure weighting within intervals and O(1/n) skewness (MLE of this model at
    -0.056 for transplant against Cox's -0.0103); Monte Carlo error of the median ~0.02 SD at
    4 x 1000 draws."""
    from lifelines import CoxTimeVaryingFitter
    from lifelines.datasets import load_stanford_heart_transplants

    from bayes_bcsm.data.card import design_roles, load_with_card
    from bayes_bcsm.data.design import build_design
    from bayes_bcsm.inference.predictive import hazard_ratio_summary
    from bayes_bcsm.inference.sample import sample
    from bayes_bcsm.inference.settings import SamplerSettings
    from bayes_bcsm.models import BaselineSpec, PriorSpec, piecewise_model

    settings = parse_settings(compose_config(["data=stanford_heart"]))
    frame = load_with_card(settings.data.card, settings.data.path).frame
    design = build_design(frame, COVARIATES, standardize=True, **design_roles(frame))
    deaths = np.unique(design.time[design.event == 1])
    sm = piecewise_model(
        design,
        cuts=tuple((deaths[1:] + deaths[:-1]) / 2),
        prior=PriorSpec(scale=10.0),
        baseline=BaselineSpec(log_rate_sd=10.0),
        baseline_prior="independent",
    )
    fit = sample(sm, SamplerSettings(chains=4, draws=1000, tune=1000, seed=1))
    summary = hazard_ratio_summary(fit).loc[COVARIATES]
    cox = CoxTimeVaryingFitter().fit(
        load_stanford_heart_transplants(),
        id_col="id",
        event_col="event",
        start_col="start",
        stop_col="stop",
    )
    z = (np.log(summary["hr_median"]) - cox.params_.loc[COVARIATES]) / summary["log_hr_sd"]
    assert np.all(np.abs(z) < 0.2), z


def test_reproduce_counts_patients_and_starts_each_curve_at_entry(tmp_path):
    """`bayes-bcsm reproduce data=stanford_heart`: Kaplan-Meier by the time-dependent transplant
    is the Simon-Makuch curve (risk set from each row's start): its median equals lifelines'
    KaplanMeierFitter(entry=start) on the transplanted rows; groups count patients."""
    from lifelines import KaplanMeierFitter
    from lifelines.datasets import load_stanford_heart_transplants

    from bayes_bcsm.runs.reproduce import run as reproduce_run

    cfg = compose_config(["data=stanford_heart", "covariates=stanford_heart", "report.plots=false"])
    reproduce_run(cfg, tmp_path)
    km = pd.read_csv(tmp_path / "km_by_group.csv").set_index(["group", "level"])
    rows = load_stanford_heart_transplants().query("transplant == 1")
    oracle = KaplanMeierFitter().fit(rows["stop"], rows["event"], entry=rows["start"])
    transplanted = km.loc[("transplant", 1.0)]
    assert transplanted["median_months"] * 30.4375 == pytest.approx(oracle.median_survival_time_)
    assert transplanted["n"] == 69 and km.loc[("transplant", 0.0), "n"] == 103
    logrank = pd.read_csv(tmp_path / "logrank.csv").set_index("group")
    assert set(logrank["n_used"]) == {103}


def _lifelines_landmark(days: float) -> pd.DataFrame:
    """The landmark data set written independently from lifelines' long Stanford frame (days):
    patients with a row at risk at the landmark, that row's covariates, time from it."""
    from lifelines.datasets import load_stanford_heart_transplants

    long = load_stanford_heart_transplants()
    at = long[(long["start"] <= days) & (long["stop"] > days)].set_index("id")
    last = long.groupby("id").agg(stop=("stop", "max"), event=("event", "max"))
    out = at[COVARIATES].join(last, how="left")
    out["stop"] = out["stop"] - days
    return out


def test_fit_cox_with_a_landmark_equals_lifelines_on_the_landmark_data(tmp_path):
    """landmark_months=2: the 2-month survivors (time from 2 months, transplant as known at 2
    months); Cox equals lifelines' CoxPHFitter on the same data built by hand (1e-6)."""
    from lifelines import CoxPHFitter

    oracle_frame = _lifelines_landmark(2 * 30.4375)
    oracle = CoxPHFitter().fit(oracle_frame, "stop", "event")
    table = _cox_table(tmp_path, "landmark_months=2")
    coef, se = _coef_se(table)
    np.testing.assert_allclose(coef, oracle.params_.loc[COVARIATES], rtol=1e-6)
    np.testing.assert_allclose(se, oracle.standard_errors_.loc[COVARIATES], rtol=1e-6)
    assert set(table["n_used"]) == {len(oracle_frame)}
    assert "landmark at 2 months" in (tmp_path / "report.md").read_text()


def test_reproduce_with_a_landmark(tmp_path):
    from bayes_bcsm.runs.reproduce import run as reproduce_run

    overrides = ["data=stanford_heart", "covariates=stanford_heart", "landmark_months=2"]
    reproduce_run(compose_config([*overrides, "report.plots=false"]), tmp_path)
    logrank = pd.read_csv(tmp_path / "logrank.csv").set_index("group")
    assert set(logrank["n_used"]) == {len(_lifelines_landmark(2 * 30.4375))}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["landmark_months=0"], "landmark_months=0.0: expected a time in months > 0"),
        (
            ["landmark_months=2", "data.exposure_coding=ever"],
            "landmark_months=2.0 with data.exposure_coding=ever",
        ),
    ],
)
def test_landmark_settings_are_checked_at_parse(overrides, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse_settings(compose_config(["data=stanford_heart", *overrides]))


def test_a_compare_variant_cannot_read_other_data():
    from bayes_bcsm.runs.compare import planned_variants

    variant = "model=cox data=gbsg2 covariates.names=[age]"  # valid on its own
    cfg = compose_config(["data=stanford_heart", f"compare.variants=['model=cox','{variant}']"])
    with pytest.raises(ConfigError, match=rf"'{re.escape(variant)}' reads other data"):
        planned_variants(cfg, parse_settings(cfg))


def test_compare_fits_naive_time_dependent_and_landmark_codings_side_by_side(tmp_path):
    """Variants that code the data differently (issue 21): each coding's Cox row is that of the
    single fit (naive -1.7045 = lifelines' CoxPHFitter on 'ever transplanted'; time-dependent
    -0.0103 = CoxTimeVaryingFitter; landmark = CoxPHFitter on the hand-built 2-month landmark
    data), labelled with its coding; the report states each cohort and refuses LOO."""
    from lifelines import CoxPHFitter

    from bayes_bcsm.runs.compare import run as compare_run

    variants = "['model=cox data.exposure_coding=ever','model=cox','model=cox landmark_months=2']"
    cfg = compose_config(
        ["data=stanford_heart", f"compare.variants={variants}", "report.plots=false"]
    )
    comparison = compare_run(cfg, tmp_path)
    table = pd.read_csv(tmp_path / "hazard_ratios.csv").set_index(["model", "covariate"])
    naive = np.log(table.loc[("cox (naive: ever exposed)", "transplant"), "estimate"])
    td = np.log(table.loc[("cox (time-dependent)", "transplant"), "estimate"])
    landmark = table.loc["cox (time-dependent, landmark 2 months)"].loc[COVARIATES]
    assert naive == pytest.approx(-1.7045, abs=5e-4)
    assert td == pytest.approx(-0.0103, abs=5e-5)
    oracle = CoxPHFitter().fit(_lifelines_landmark(2 * 30.4375), "stop", "event")
    np.testing.assert_allclose(
        np.log(landmark["estimate"]), oracle.params_.loc[COVARIATES], rtol=1e-6
    )
    assert [v.data_coding for v in comparison.variants] == [
        "naive: ever exposed",
        "time-dependent",
        "time-dependent, landmark 2 months",
    ]
    report = (tmp_path / "report.md").read_text()
    assert "**naive: ever exposed**: 103 patients, 103 rows (one per patient), 75 events" in report
    assert (
        "**time-dependent**: 103 patients, 172 rows ((start, stop] episodes), 75 events" in report
    )
    assert "LOO comparison refused: the variants code the data differently" in report
    assert "## The paper's question, by simulation" in report
    # the transplant under each coding, one row per coding (Cox and Firth of that coding)
    from bayes_bcsm.report.compare_report import coding_table

    assert "### heart transplant (time-dependent): 1 vs 0: by data coding" in report
    by_coding = coding_table(comparison, "transplant").set_index("data coding")
    assert by_coding.loc["naive: ever exposed", "cox"].startswith("0.18 (")
    assert by_coding.loc["time-dependent", "cox"].startswith("0.99 (")
    assert by_coding.loc["time-dependent", "patients"] == 103
    landmark = by_coding.loc["time-dependent, landmark 2 months"]
    assert landmark["patients"] == len(_lifelines_landmark(2 * 30.4375))
    assert list(by_coding.columns) == ["patients", "events", "cox", "firth"]


def test_a_wide_file_with_an_exposure_start_is_fitted_time_dependently(tmp_path):
    """A card built on the command line (data=csv) with
    time_varying: {hormone_therapy: {start_column: endocrine_start}}: the Cox fit equals
    lifelines' CoxTimeVaryingFitter on episodes cut by hand at each start (empty = never)."""
    from lifelines import CoxTimeVaryingFitter

    rng = np.random.default_rng(3)
    n = 80
    wide = pd.DataFrame(
        {
            "pid": [f"p{i}" for i in range(n)],
            "days": rng.integers(30, 2000, n),
            "died": rng.integers(0, 2, n),
            "age": rng.integers(30, 80, n),
        }
    )
    start = np.round(rng.uniform(0, 900, n))
    wide["endocrine_start"] = np.where(rng.uniform(size=n) < 0.3, np.nan, start)
    path = tmp_path / "wide.csv"
    wide.to_csv(path, index=False)
    rows = []
    for r in wide.itertuples():
        s = r.endocrine_start
        if np.isnan(s) or s >= r.days:
            rows.append((r.pid, 0.0, r.days, r.died, 0, r.age))
        elif s <= 0:
            rows.append((r.pid, 0.0, r.days, r.died, 1, r.age))
        else:
            rows += [(r.pid, 0.0, s, 0, 0, r.age), (r.pid, s, r.days, r.died, 1, r.age)]
    episodes = pd.DataFrame(rows, columns=["id", "start", "stop", "event", "ht", "age"])
    oracle = CoxTimeVaryingFitter().fit(
        episodes, id_col="id", event_col="event", start_col="start", stop_col="stop"
    )
    out = tmp_path / "run"
    cfg = compose_config(
        [
            "data=csv",
            f"data.path={path}",
            "data.id_column=pid",
            "data.time_column=days",
            "data.time_unit=days",
            "data.event_column=died",
            "++data.covariates={age: {kind: continuous}}",
            "++data.time_varying={hormone_therapy: {start_column: endocrine_start}}",
            "covariates.names=[age,hormone_therapy]",
            "covariates.standardize=false",
            "model=cox",
            "report.plots=false",
        ]
    )
    fit_run(cfg, out)
    table = pd.read_csv(out / "hazard_ratios.csv")
    ours = table[table["model"] == "cox"].set_index("covariate").loc[["age", "hormone_therapy"]]
    coef, se = _coef_se(ours)
    np.testing.assert_allclose(coef, oracle.params_.loc[["age", "ht"]], rtol=1e-6)
    np.testing.assert_allclose(se, oracle.standard_errors_.loc[["age", "ht"]], rtol=1e-6)
    assert set(ours["n_used"]) == {n}
