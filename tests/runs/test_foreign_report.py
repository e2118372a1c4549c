"""Reports on a foreign cohort (issue 20, item 7): a Rossi-like cohort followed 52 weeks.

About 75 % of the 300 patients are censored at one year (Weibull re-arrest times, shape 1.4,
scale 120 weeks): a median far beyond follow-up and S(60 months) exist only in the model's tail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_module

from bayes_bcsm.config import register_configs
from bayes_bcsm.resources import CONF_PACKAGE
from bayes_bcsm.runs.fit import run
from tests.runs.conftest import compose_config

LAST_MONTHS = 52 * 7 * 12 / 365.25


@pytest.fixture(scope="module")
def rossi_like(tmp_path_factory):
    rng = np.random.default_rng(432)
    n = 300
    fin = rng.integers(0, 2, n)
    age = rng.normal(25, 6, n).round()
    weeks = 120 * rng.weibull(1.4, n) * np.exp(-(np.log(0.7) * fin) / 1.4)
    frame = pd.DataFrame(
        {
            "week": np.minimum(np.ceil(weeks), 52).astype(int),
            "arrest": np.where(weeks <= 52, "yes", "no"),
            "fin": np.where(fin == 1, "yes", "no"),
            "age": age,
        }
    )
    path = tmp_path_factory.mktemp("rossi") / "rossi_like.csv"
    frame.to_csv(path, index=False)
    return path


def fit_rossi(path, out, extra):
    cfg = compose_config(
        [
            "data=csv",
            f"data.path={path}",
            "data.title=Rossi-like re-arrest",
            "data.outcome_label=Arrest-free",
            "data.time_column=week",
            "data.time_unit=weeks",
            "data.event_column=arrest",
            "data.event_values=[yes]",
            "data.censor_values=[no]",
            "++data.covariates={fin: {kind: categorical, levels: [no, yes], reference: no},"
            " age: {kind: continuous, unit: years}}",
            "covariates.names=[fin,age]",
            "model=weibull",
            "sampler=quick",
            "seed=3",
            *extra,
        ]
    )
    run(cfg, out)
    return pd.read_csv(out / "survival.csv"), (out / "report.md").read_text()


@pytest.mark.slow
def test_horizons_follow_the_follow_up_and_extrapolation_is_labelled(rossi_like, tmp_path):
    survival, report = fit_rossi(rossi_like, tmp_path / "default", ["report.plots=false"])
    horizons = survival[survival["quantity"].str.startswith("S(")]
    assert set(horizons["quantity"]) == {"S(2.9)", "S(5.9)", "S(8.9)", "S(11)"}
    assert not horizons["extrapolated"].any()
    medians = survival[survival["quantity"] == "median_survival_months"]
    # the posterior median of the median lies beyond one year of follow-up: labelled
    assert (medians["posterior_median"] > LAST_MONTHS).all() and medians["extrapolated"].all()
    assert f"Follow-up ends at {LAST_MONTHS:.3g} months: median_survival_months (marked " in report

    survival, report = fit_rossi(
        rossi_like, tmp_path / "asked", ["report.plots=false", "report.horizons_months=[6,60]"]
    )
    flags = survival.groupby("quantity")["extrapolated"].all()
    assert not flags["S(6)"] and flags["S(60)"]
    assert "S(60)" in report.split("Follow-up ends at")[1].split("\n")[0]


@pytest.mark.slow
def test_the_censored_ppc_of_a_heavily_censored_cohort_looks_like_a_fit(rossi_like, tmp_path):
    """The correct family (Weibull): the data's KM lies within the band of replicates censored
    as the data are, and the report says so beside the plot."""
    _, report = fit_rossi(rossi_like, tmp_path, [])
    assert report.startswith("# Rossi-like re-arrest: weibull\n")
    assert "<title>Rossi-like re-arrest: weibull</title>" in (tmp_path / "report.html").read_text()
    assert "age (per year)" in report
    assert (tmp_path / "ppc_censored.png").exists()
    assert "The data's Kaplan-Meier curve lies within the 95% band" in report


@pytest.mark.parametrize(
    ("overrides", "name"),
    [([], "paper_reproduction"), (["data=gbsg2"], "gbsg2_reproduction")],
)
def test_reproduce_is_named_after_its_data(overrides, name):
    """The folder, log and Hydra job of `reproduce` on a foreign card are not the paper's."""
    register_configs()
    with initialize_config_module(config_module=CONF_PACKAGE, version_base="1.3"):
        cfg = compose(config_name="reproduce", overrides=overrides, return_hydra_config=True)
        assert cfg.experiment_name == cfg.hydra.job.name == name
        assert f"_{name}_" in cfg.hydra.run.dir
