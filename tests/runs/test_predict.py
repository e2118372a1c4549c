"""``bayes-bcsm predict``: profiles refused before any fit, predictions from a saved run by their
definition, "not reached" medians.

Expected values are computed here from the posterior draws with the Weibull formulas
``S(t) = exp(-lambda (t / 12)^alpha e^eta)`` and ``median = 12 (log 2 / (lambda e^eta))^(1/alpha)``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_bcsm.config import ConfigError
from bayes_bcsm.data.profiles import ProfileError
from bayes_bcsm.inference.absolute_settings import ExtrapolationError
from bayes_bcsm.resources import bundled_file
from bayes_bcsm.runs import fit, predict
from tests.runs.conftest import compose_config

GBSG2 = ["data=gbsg2", "covariates.names=[horTh,age,tgrade]"]
PROFILE = "{profile: p, horTh: 'yes', age: 50, tgrade: II}"


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    """A quick Weibull fit on GBSG2 (three covariates) saved to a run folder."""
    out = tmp_path_factory.mktemp("saved")
    fit.run(compose_config([*GBSG2, "sampler=quick", "report.plots=false"]), out)
    return out


@pytest.mark.parametrize(
    ("profiles", "message"),
    [
        (
            "[{profile: p, horTh: 'yes', age: 50, tgrade: II, shoe: 9}]",
            r"predict.profiles\[0\]: \['shoe'\] not covariate\(s\) of the model",
        ),
        ("[{horTh: 'yes', age: 50}]", r"predict.profiles\[0\]: no value for \['tgrade'\]"),
        (
            "[{horTh: 'yes', age: 250, tgrade: II}]",
            r"predict.profiles\[0\], age=250: expected a finite number >= 18 and <= 100 "
            r"\(data card 'gbsg2'\)",
        ),
        (
            "[{horTh: maybe, age: 50, tgrade: II}]",
            r"predict.profiles\[0\], horTh=maybe: expected one of \['no', 'yes'\]",
        ),
        (
            "[{horTh: 'yes', age: 50, tgrade: IV}]",
            r"tgrade=IV: expected one of \['I', 'II', 'III'\], the levels in the data",
        ),
    ],
)
def test_bad_profiles_fail_before_any_fit(tmp_path, profiles, message):
    """Fitting first: the profile is refused after the data are read, before sampling."""
    cfg = compose_config([*GBSG2, "sampler=quick", f"predict.profiles={profiles}"])
    with pytest.raises(ProfileError, match=message):
        predict.run(cfg, tmp_path)
    assert not (tmp_path / "posterior.nc").exists()


def test_profiles_csv_and_run_dir_refusals(tmp_path, saved_run):
    bad = tmp_path / "profiles.csv"
    bad.write_text("profile,horTh,age,tgrade,shoe\na,yes,50,II,9\n")
    cfg = compose_config([f"predict.run_dir={saved_run}", f"predict.profiles_csv={bad}"])
    with pytest.raises(ProfileError, match=rf"predict.profiles_csv={bad}, row 2: \['shoe'\]"):
        predict.run(cfg, tmp_path / "a")
    cfg = compose_config([f"predict.run_dir={tmp_path}", f"predict.profiles=[{PROFILE}]"])
    with pytest.raises(ConfigError, match=r"predict.run_dir=.*: no posterior.nc or resolved"):
        predict.run(cfg, tmp_path / "b")
    cfg = compose_config(
        [f"predict.run_dir={saved_run}", f"predict.profiles=[{PROFILE}]", "predict.tau_months=500"]
    )
    beyond = r"predict\.tau_months 500 .*predict\.extrapolate=true"
    with pytest.raises(ExtrapolationError, match=beyond):
        predict.run(cfg, tmp_path / "c")


def test_command_line_refusal_is_one_line(tmp_path, saved_run):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bayes_bcsm",
            "predict",
            f"predict.run_dir={saved_run}",
            "predict.profiles=[{horTh: 'yes', age: 50, tgrade: II, shoe: 9}]",
            f"hydra.run.dir={tmp_path / 'out'}",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1
    assert len(lines) == 1 and "['shoe'] not covariate(s) of the model" in lines[0], done.stderr


def test_predictions_from_a_saved_run_by_definition(tmp_path, saved_run):
    """No refit: the rows equal the Weibull formulas on the saved draws; a CSV of profiles gives
    the same numbers as the overrides."""
    csv = tmp_path / "profiles.csv"
    csv.write_text("profile,horTh,age,tgrade\np,yes,50,II\n")
    cfg = compose_config(
        [
            f"predict.run_dir={saved_run}",
            f"predict.profiles_csv={csv}",
            "predict.tau_months=36",
            "predict.horizons_months=[12,60]",
        ]
    )
    out = tmp_path / "pred"
    table = predict.run(cfg, out).set_index(["profile", "quantity"])
    assert {"predictions.csv", "prediction_curves.csv", "prediction_curves.png"} <= {
        p.name for p in out.iterdir()
    }
    assert not (out / "posterior.nc").exists()  # nothing refitted
    post = az.from_netcdf(saved_run / "posterior.nc")["posterior"]
    beta = post["beta"].transpose("chain", "draw", "covariate")
    # the design: horTh[yes] = 1, age per 10 years (the card's hr_per) standardised with the
    # cohort's mean and SD, tgrade[II] = 1
    gbsg2 = pd.read_csv(bundled_file("gbsg2.csv"))
    age = gbsg2["age"] / 10
    x = xr.DataArray(
        [1.0, (5.0 - age.mean()) / age.std(ddof=1), 1.0, 0.0],
        dims="covariate",
        coords={"covariate": ["horTh[yes]", "age", "tgrade[II]", "tgrade[III]"]},
    )
    eta = (beta * x).sum("covariate").values
    alpha, lam = np.exp(post["log_alpha"].values), np.exp(post["log_lambda"].values)
    s12 = np.exp(-lam * (12 / 12) ** alpha * np.exp(eta))
    row = table.loc[("p", "survival_12")]
    assert row["estimate"] == pytest.approx(np.median(s12), rel=1e-9)
    assert row["lower"] == pytest.approx(np.quantile(s12, 0.025), rel=1e-9)
    assert row["upper_50"] == pytest.approx(np.quantile(s12, 0.75), rel=1e-9)
    assert not row["extrapolated"]
    last = gbsg2["time"].max() * 12 / 365.25
    assert table.loc[("p", "survival_60"), "extrapolated"] == (60 > last)
    median = 12 * (np.log(2) / (lam * np.exp(eta))) ** (1 / alpha)
    med = table.loc[("p", "median_months")]
    if np.median(median) <= last:
        assert med["estimate"] == pytest.approx(np.median(median), rel=1e-9)
    else:
        assert np.isnan(med["estimate"]) and "not reached" in med["note"]
    alive = np.exp(-lam * (last / 12) ** alpha * np.exp(eta))
    assert table.loc[("p", "p_alive_at_last_follow_up"), "note"] == (
        f"posterior mean {alive.mean():.3f}"
    )
    same = predict.run(
        compose_config(
            [
                f"predict.run_dir={saved_run}",
                f"predict.profiles=[{PROFILE}]",
                "predict.tau_months=36",
                "predict.horizons_months=[12,60]",
            ]
        ),
        tmp_path / "again",
    )
    pd.testing.assert_frame_equal(same.set_index(["profile", "quantity"]), table)


def test_a_model_predict_cannot_use_is_refused(tmp_path):
    """Cox only, or one model per covariate: no posterior of one model to predict from."""
    cases = (("model=cox", "model.family=cox"), ("covariates=univariate", "mode=univariate"))
    for override, what in cases:
        cfg = compose_config([override, "predict.profiles=[{hormone_therapy: 1}]"])
        with pytest.raises(ConfigError, match=rf"this run: .*{what}.*predict needs one Bayesian"):
            predict.run(cfg, tmp_path / override)


def test_fitting_first_saves_a_reusable_run(tmp_path):
    """Without predict.run_dir the model is fitted and saved; the folder then serves as a
    predict.run_dir that gives the same predictions without refitting."""
    out = tmp_path / "first"
    first = predict.run(
        compose_config([*GBSG2, "sampler=quick", f"predict.profiles=[{PROFILE}]"]), out
    )
    assert {"posterior.nc", "resolved_config.yaml", "predictions.csv"} <= {
        p.name for p in out.iterdir()
    }
    again = predict.run(
        compose_config([f"predict.run_dir={out}", f"predict.profiles=[{PROFILE}]"]),
        tmp_path / "again",
    )
    pd.testing.assert_frame_equal(first, again)
