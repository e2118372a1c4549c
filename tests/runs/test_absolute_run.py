"""End to end: a comparison run's absolute effects (standardised survival, RMST) and their guard.

The numbers themselves are tested in ``tests/inference/test_absolute.py`` (by definition) and
``tests/frequentist/test_rmst.py`` (survRM2); here: the file, the report section, the
extrapolation guard and its labels.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.inference.absolute_settings import ExtrapolationError
from bayes_bcsm.runs.compare import run
from tests.runs.conftest import compose_config, parse_report

REQUIRED = {"method", "quantity", "estimate", "lower", "upper", "tau_months"}


@pytest.fixture(scope="module")
def extrapolated(tmp_path_factory):
    """The bundled cohort (last follow-up about 102 months), tau and a horizon beyond it."""
    out = tmp_path_factory.mktemp("absolute")
    cfg = compose_config(
        [
            "experiment=bayes_vs_cox",
            "sampler=quick",
            "compare.variants=['model=weibull']",
            "absolute.extrapolate=true",
            "absolute.tau_months=150",
            "absolute.horizons_months=[12,150]",
        ]
    )
    return run(cfg, out), out


def test_csv_rows_and_model_dependent_labels(extrapolated):
    comparison, out = extrapolated
    table = pd.read_csv(out / "absolute_effects.csv")
    assert REQUIRED <= set(table.columns)
    last = comparison.absolute.last_follow_up_months
    assert 12 < last < 150
    weibull = table[table["method"] == "weibull"].set_index(["quantity", "level"])
    assert weibull.loc[("rmst_difference", "1 vs 0"), "model_dependent"]
    assert weibull.loc[("survival_difference_150", "1 vs 0"), "model_dependent"]
    assert not weibull.loc[("survival_difference_12", "1 vs 0"), "model_dependent"]
    assert (table["tau_months"] == 150).all()
    # the Kaplan-Meier curve ends before tau: its RMST is left out, and the report says why
    assert "kaplan_meier (unadjusted)" not in set(table["method"])
    assert any("Kaplan-Meier RMST of 1 vs 0 left out" in n for n in comparison.absolute.notes)


def test_report_section_labels_model_dependent_figures(extrapolated):
    _, out = extrapolated
    text = (out / "report.md").read_text()
    section = text.split("## Absolute effects", 1)[1].split("\n## ", 1)[0]
    assert "**Model-dependent figures.**" in section
    assert "Under the weibull model, hormone therapy (1 vs 0)" in section
    assert "Model-dependent: the first 150 months reach beyond the last follow-up" in section
    assert "(model-dependent)" in section  # the 150-month milestone
    assert "Kaplan-Meier RMST of 1 vs 0 left out" in section
    html = parse_report(out / "report.html")
    assert "Absolute effects" in html.headings
    assert "(absolute_curves.png)" in section  # embedded in the HTML
    assert (out / "absolute_curves.png").stat().st_size > 0


def test_tau_beyond_follow_up_is_refused_before_any_fit(tmp_path):
    """Without absolute.extrapolate: the library error names the key, nothing is fitted; on the
    command line, one line on stderr and exit status 1."""
    cfg = compose_config(["absolute.tau_months=500"])
    with pytest.raises(ExtrapolationError, match=r"absolute.tau_months 500 .*absolute.extrapolate"):
        run(cfg, tmp_path / "lib")
    assert not (tmp_path / "lib" / "variants").exists()
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    out = tmp_path / "cli"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bayes_bcsm",
            "compare",
            "absolute.horizons_months=[12,400]",
            f"hydra.run.dir={out}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1
    assert len(lines) == 1 and "absolute.horizons_months 400" in lines[0], done.stderr
    assert "set absolute.extrapolate=true" in lines[0]
    assert not (out / "variants").exists()


@pytest.mark.slow
def test_gbsg2_standardised_weibull_matches_lifelines_mle(tmp_path):
    """Issue 22's frequentist oracle. GBSG2 by horTh with the other seven covariates, Weibull
    with weak priors (Normal(0, 5) per SD of each covariate): the posterior median of the
    standardised RMST difference at tau = 60 months lies within 0.1 posterior SD of the same
    quantity from lifelines' ``WeibullAFTFitter`` MLE (horTh set to each level for all 686 rows,
    predicted survival functions averaged, integrated on a 0.01-month grid), and the
    standardised curves agree within 0.01 at 12, 36 and 60 months."""
    from lifelines import WeibullAFTFitter

    from bayes_bcsm.data.exposure import exposure_levels
    from bayes_bcsm.inference.absolute import standardise
    from bayes_bcsm.resources import bundled_file
    from bayes_bcsm.settings import parse_settings

    cfg = compose_config(
        [
            "experiment=gbsg2_bayes_vs_cox",
            "compare.variants=['model=weibull']",
            "prior.scale=5",
            "report.plots=false",
        ]
    )
    comparison = run(cfg, tmp_path)
    table = pd.read_csv(tmp_path / "absolute_effects.csv")
    ours = table[table["method"] == "weibull"].set_index(["quantity", "level"])

    raw = pd.read_csv(bundled_file("gbsg2.csv"))
    frame = pd.DataFrame(
        {
            "T": raw["time"] * 12 / 365.25,
            "E": raw["cens"],
            "horTh": (raw["horTh"] == "yes").astype(float),
            "age": raw["age"],
            "menostat": (raw["menostat"] == "Post").astype(float),
            "tsize": raw["tsize"],
            "tgrade_II": (raw["tgrade"] == "II").astype(float),
            "tgrade_III": (raw["tgrade"] == "III").astype(float),
            "pnodes": raw["pnodes"],
            "progrec": raw["progrec"],
            "estrec": raw["estrec"],
        }
    )
    mle = WeibullAFTFitter().fit(frame, "T", "E")
    grid = np.linspace(0.0, 60.0, 6001)
    mean_curve = {}
    for value, level in ((0.0, "no"), (1.0, "yes")):
        curves = mle.predict_survival_function(frame.assign(horTh=value), times=grid)
        mean_curve[level] = curves.to_numpy().mean(axis=1)
    rmst = {k: np.trapezoid(v, grid) for k, v in mean_curve.items()}
    mle_diff = rmst["yes"] - rmst["no"]

    variant = comparison.variants[0]
    absolute = comparison.absolute
    term = next(t for t in variant.design.terms if t.name == "horTh")
    exposure = exposure_levels(term, parse_settings(cfg).data.card, "absolute.exposure")
    std = standardise(variant.fit, exposure, [60.0], 60.0, seed=1)
    sd = float((std.rmst.sel(level="yes") - std.rmst.sel(level="no")).std())
    posterior_median = ours.loc[("rmst_difference", "yes vs no"), "estimate"]
    assert abs(posterior_median - mle_diff) < 0.1 * sd, (posterior_median, mle_diff, sd)
    assert absolute.tau_months == 60.0
    for t in (12, 36, 60):
        for level in ("no", "yes"):
            want = mean_curve[level][t * 100]
            assert ours.loc[(f"survival_{t}", level), "estimate"] == pytest.approx(want, abs=0.01)
