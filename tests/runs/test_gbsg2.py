"""Real data through dataset cards: GBSG2 (686 patients; Schumacher et al. 1994).

Oracles: lifelines' ``CoxPHFitter`` (Efron ties) on the same data for the Cox rows; for the
Bayesian Weibull model with weak priors, the maximum-likelihood estimate of the same Weibull PH
model written independently here and maximised with scipy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from bayes_bcsm.resources import bundled_file
from bayes_bcsm.runs.fit import run as fit_run
from tests.runs.conftest import compose_config

pytest.importorskip("lifelines")

RAW = pd.read_csv(bundled_file("gbsg2.csv"))
COLUMNS = [
    "horTh[yes]",
    "age",
    "menostat[Post]",
    "tsize",
    "tgrade[II]",
    "tgrade[III]",
    "pnodes",
    "progrec",
    "estrec",
]


def design_matrix(raw: pd.DataFrame) -> pd.DataFrame:
    """The standard GBSG2 design per the card's units (age, tsize, pnodes per 10; receptors per
    100 fmol/l), written out by hand."""
    return pd.DataFrame(
        {
            "horTh[yes]": (raw["horTh"] == "yes").astype(float),
            "age": raw["age"] / 10,
            "menostat[Post]": (raw["menostat"] == "Post").astype(float),
            "tsize": raw["tsize"] / 10,
            "tgrade[II]": (raw["tgrade"] == "II").astype(float),
            "tgrade[III]": (raw["tgrade"] == "III").astype(float),
            "pnodes": raw["pnodes"] / 10,
            "progrec": raw["progrec"] / 100,
            "estrec": raw["estrec"] / 100,
        }
    )


@pytest.fixture(scope="module")
def cox_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gbsg2_cox")
    fit_run(compose_config(["data=gbsg2", "model=cox", "report.plots=false"]), out)
    return pd.read_csv(out / "hazard_ratios.csv")


def test_cox_rows_equal_lifelines(cox_run):
    from lifelines import CoxPHFitter

    frame = design_matrix(RAW).assign(time=RAW["time"], cens=RAW["cens"])
    oracle = CoxPHFitter().fit(frame, "time", "cens", fit_options={"precision": 1e-12})
    ours = cox_run[cox_run["model"] == "cox"].set_index("covariate").loc[COLUMNS]
    summary = oracle.summary.loc[COLUMNS]
    np.testing.assert_allclose(ours["estimate"], summary["exp(coef)"], rtol=1e-5)
    np.testing.assert_allclose(ours["lower"], summary["exp(coef) lower 95%"], rtol=1e-5)
    np.testing.assert_allclose(ours["upper"], summary["exp(coef) upper 95%"], rtol=1e-5)
    np.testing.assert_allclose(ours["p_value"], summary["p"], rtol=1e-4)
    assert set(cox_run["model"]) == {"cox", "firth"}  # no published rows on a foreign card


def weibull_mle(x: np.ndarray, time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Maximum-likelihood log-HRs of the Weibull PH model h(t | x) = a l t^(a-1) exp(x b)."""

    def negative_loglik(theta: np.ndarray) -> float:
        log_a, log_l, b = theta[0], theta[1], theta[2:]
        eta = x @ b
        log_h = log_a + log_l + (np.exp(log_a) - 1) * np.log(time) + eta
        cum_h = np.exp(log_l + eta) * time ** np.exp(log_a)
        return -float(np.sum(event * log_h - cum_h))

    start = np.zeros(2 + x.shape[1])
    start[1] = np.log(event.sum() / time.sum())
    result = optimize.minimize(negative_loglik, start, method="BFGS", options={"gtol": 1e-8})
    return result.x[2:]


@pytest.mark.slow
def test_weibull_posterior_medians_sit_at_the_mle_with_weak_priors(tmp_path):
    """Normal(0, 10) priors: posterior medians within 0.2 posterior SD of the MLE (their gap is
    O(1/n) skewness plus Monte Carlo error, about 0.05 SD at 2 x 1000 draws)."""
    cfg = compose_config(
        [
            "data=gbsg2",
            "model=weibull",
            "prior.scale=10",
            "sampler.chains=2",
            "sampler.draws=1000",
            "sampler.tune=1000",
            "report.plots=false",
        ]
    )
    fit_run(cfg, tmp_path)
    table = pd.read_csv(tmp_path / "hazard_ratios.csv")
    bayes = table[table["model"] == "weibull"].set_index("covariate").loc[COLUMNS]
    mle = weibull_mle(design_matrix(RAW).to_numpy(), RAW["time"].to_numpy(float), RAW["cens"])
    median = np.log(bayes["estimate"].to_numpy())
    sd = (np.log(bayes["upper"]) - np.log(bayes["lower"])).to_numpy() / (2 * 1.959964)
    assert np.all(np.abs(median - mle) < 0.2 * sd), (median - mle) / sd


def test_a_users_renamed_recoded_copy_gives_the_same_hazard_ratios(cox_run, tmp_path):
    """GBSG2 with other column names, the event coded yes/no, hormone therapy given/none and
    grade 1-3, read through a card given on the command line: the same Cox estimates."""
    copy = pd.DataFrame(
        {
            "followup_days": RAW["time"],
            "relapse": RAW["cens"].map({1: "yes", 0: "no"}),
            "therapy": RAW["horTh"].map({"yes": "given", "no": "none"}),
            "age_y": RAW["age"],
            "meno": RAW["menostat"],
            "size_mm": RAW["tsize"],
            "grade": RAW["tgrade"].map({"I": "1", "II": "2", "III": "3"}),
            "nodes": RAW["pnodes"],
            "pgr": RAW["progrec"],
            "er": RAW["estrec"],
        }
    )
    path = tmp_path / "mine.csv"
    copy.to_csv(path, index=False)
    card = (
        "{therapy: {kind: categorical, levels: [none, given], reference: none},"
        " age_y: {kind: continuous, hr_per: 10, unit: years},"
        " meno: {kind: categorical, levels: [Pre, Post]},"
        " size_mm: {kind: continuous, hr_per: 10, unit: mm},"
        " grade: {kind: categorical, levels: ['1', '2', '3']},"
        " nodes: {kind: continuous, hr_per: 10}, pgr: {kind: continuous, hr_per: 100},"
        " er: {kind: continuous, hr_per: 100}}"
    )
    cfg = compose_config(
        [
            "data=csv",
            f"data.path={path}",
            "data.time_column=followup_days",
            "data.time_unit=days",
            "data.event_column=relapse",
            "data.event_values=[yes]",
            "data.censor_values=[no]",
            f"++data.covariates={card}",
            "covariates.names=[therapy,age_y,meno,size_mm,grade,nodes,pgr,er]",
            "model=cox",
            "report.plots=false",
        ]
    )
    fit_run(cfg, tmp_path / "run")
    mine = pd.read_csv(tmp_path / "run" / "hazard_ratios.csv")
    ours = mine[mine["model"] == "cox"]
    canonical = cox_run[cox_run["model"] == "cox"]
    np.testing.assert_allclose(ours["estimate"], canonical["estimate"], rtol=1e-9)
    np.testing.assert_allclose(ours["lower"], canonical["lower"], rtol=1e-9)
    assert list(ours["covariate"])[:2] == ["therapy[given]", "age_y"]


def test_a_run_states_the_follow_up_and_warns_on_an_implausible_unit(tmp_path, caplog):
    """GBSG2's times are days; declared as weeks the follow-up reaches 612 months (51 years).
    The run's log (at its start) and its report's data section state the range in both units
    with the warning naming data.time_unit."""
    cfg = compose_config(
        [
            "data=gbsg2",
            "data.time_unit=weeks",
            "model=cox",
            "covariates.names=[horTh]",
            "report.plots=false",
            "report.html=false",
        ]
    )
    stated = "follow-up 8 to 2659 weeks (median 1084) = 1.84 to 612 months (median 249)"
    warning = (
        "WARNING: the follow-up read as weeks is implausibly long for a survival study "
        f"({stated}): if the file's times are in days, set data.time_unit=days"
    )
    with caplog.at_level("INFO", logger="bayes_bcsm"):
        fit_run(cfg, tmp_path)
    assert stated in caplog.records[0].getMessage()
    assert warning in caplog.records[0].getMessage()
    report = (tmp_path / "report.md").read_text()
    data_section = report[report.index("## Data") :].split("\n## ")[0]
    assert stated in data_section and warning in data_section
