"""End to end: comparison runs write one report over several variants."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from bayes_bcsm.config import ConfigError
from bayes_bcsm.runs.compare import apply_overrides, run, variant_slug
from tests.runs.conftest import compose_config, parse_report


@pytest.fixture(scope="module")
def model_comparison(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    cfg = compose_config(
        [
            "experiment=model_comparison",
            "sampler=quick",
            "compare.variants=['model=weibull','model=exponential']",
        ]
    )
    return run(cfg, out), out


def test_comparison_artefacts(model_comparison):
    _, out = model_comparison
    table = pd.read_csv(out / "hazard_ratios.csv")
    assert set(table["model"]) == {
        "published (Hu 2025)",
        "published, re-read (moderate neutral prior)",
        "cox",
        "firth",
        "model=weibull",
        "model=exponential",
    }
    assert table.groupby("model")["covariate"].count().eq(4).all()
    for slug in ("model-weibull", "model-exponential"):
        folder = out / "variants" / slug
        assert {"posterior.nc", "diagnostics.json", "summary.csv"} <= {
            p.name for p in folder.iterdir()
        }
    loo = pd.read_csv(out / "loo_compare.csv", index_col=0)
    assert set(loo.index) == {"model=weibull", "model=exponential"}
    for column in ("weight", "pseudo_bma_plus_weight"):  # stacking and pseudo-BMA+ weights
        assert loo[column].sum() == pytest.approx(1.0, abs=1e-6)
    curves = pd.read_csv(out / "model_average_survival.csv")
    assert set(curves["model"]) == {"model=weibull", "model=exponential", "stacked average"}
    # to twice the last follow-up, marked extrapolated beyond it
    follow_up = curves["time_months"].max() / 2
    assert curves.loc[~curves["extrapolated"], "time_months"].max() <= follow_up
    assert curves.loc[curves["extrapolated"], "time_months"].min() > follow_up
    assert "N < 100" in set(loo["diag_diff"].dropna())


def test_comparison_report_shows_flags_and_every_table(model_comparison):
    _, out = model_comparison
    report = parse_report(out / "report.html")
    # HRs side by side; absolute effects: RMST, milestones; re-analysis: prior grid, 4 posterior
    # tables, credibility, design; diagnostics; LOO; stacking weights and the stacked curve
    assert report.tables == 14
    # forest; standardised curves; re-analysis: 4 density grids, sensitivity, design; LOO;
    # model average
    assert len(report.images) == 10
    assert "Absolute effects" in report.headings
    assert "Model averaging (stacking)" in report.headings
    assert "Printed results beside the patient-level posteriors" in report.headings
    assert all(src.startswith("data:image/png;base64,") for src in report.images)
    text = (out / "report.md").read_text()
    assert "N < 100" in text and "Sivula" in text
    assert "used 53 of 78 patients" in text
    # issue 19: each variant's prior, and the configured interval probability
    assert text.count("Prior on each log HR (per design unit): log HR ~ Normal(0, 1).") == 2
    assert (
        "posterior median HR (TR, time ratio, for an accelerated-failure-time model) with its "
        "95% equal-tailed interval (report.hdi_prob)"
    ) in text
    # quick sampling cannot pass the ESS threshold: the report must say so
    assert "**FAIL**" in text and "do not interpret" in text
    # ... and what to change, in config keys (quick sampling: 2 x 200 draws)
    assert "What to change (model=weibull):" in text and "`sampler.draws=" in text


def test_prior_sensitivity_reports_psense(tmp_path):
    cfg = compose_config(
        [
            "experiment=prior_sensitivity",
            "sampler=quick",
            "compare.variants=['prior=default','prior=sceptical']",
        ]
    )
    comparison = run(cfg, tmp_path)
    assert set(comparison.psense) == {"prior=default", "prior=sceptical"}
    table = comparison.psense["prior=default"]
    assert {"prior", "likelihood"} <= set(table.columns)
    assert len(table) == 4
    assert "Prior sensitivity (power scaling)" in (tmp_path / "report.md").read_text()
    hr = comparison.hazard_ratios.set_index(["model", "covariate"])["estimate"]
    # the sceptical prior shrinks the endocrine-therapy HR towards 1
    assert abs(hr["prior=sceptical", "hormone_therapy"] - 1) < abs(
        hr["prior=default", "hormone_therapy"] - 1
    )


def test_apply_overrides_resets_the_group_and_sets_keys():
    cfg = compose_config(["model=piecewise", "model.cuts_months=[0,3,9]"])
    new = apply_overrides(cfg, "model=weibull prior.scale=0.5")
    assert new.model.family.value == "weibull"
    assert new.model.cuts_months is None  # schema default again (cuts chosen by the card)
    assert new.prior.scale == 0.5 and cfg.prior.scale == 1.0
    assert variant_slug("model=piecewise prior=sceptical") == "model-piecewise_prior-sceptical"


def test_variants_speak_hydras_override_grammar():
    cfg = compose_config([])
    new = apply_overrides(
        cfg, "prior=sceptical prior.sceptical_tail=0.1 covariates.names=[hormone_therapy,age_years]"
    )
    assert new.prior.family.value == "sceptical" and new.prior.sceptical_tail == 0.1
    assert list(new.covariates.names) == ["hormone_therapy", "age_years"]
    quoted = apply_overrides(cfg, "'report.title=two words'")
    assert quoted.report.title == "two words"


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ("+sampler.drawz=10", "are not allowed in variants"),
        ("experiment=bayes_vs_cox", "cannot select another experiment"),
        ("sampler.drawz=10", "no key 'sampler.drawz'"),
        ("prior.scale=abc", "could not be converted"),
    ],
)
def test_variant_items_outside_the_schema_are_refused(variant, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        apply_overrides(compose_config([]), variant)


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ("model=gengamma", "Could not find 'model/gengamma'"),
        ("modelweibull", "Error parsing override 'modelweibull'"),
        ("sampler.draws=0", "sampler.draws=0: expected a positive integer"),
    ],
)
def test_bad_variant_fails_before_any_fit(tmp_path, variant, message):
    cfg = compose_config([f"compare.variants=['model=weibull','{variant}']"])
    with pytest.raises(ConfigError, match=message):
        run(cfg, tmp_path)
    assert not (tmp_path / "variants").exists()


def test_killed_comparison_keeps_its_finished_variant(tmp_path):
    """Fault injection: SIGKILL a comparison once its first variant is on disk; that variant's
    posterior and summary survive and load (nothing waits for the last variant)."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    import arviz as az

    script = Path(__file__).resolve().parents[2] / "experiments" / "compare.py"
    out = tmp_path / "run"
    process = subprocess.Popen(
        [
            sys.executable,
            str(script),
            "experiment=model_comparison",
            "sampler=quick",
            "report.plots=false",
            "compare.variants=['model=weibull','model=piecewise']",
            f"hydra.run.dir={out}",
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    first = out / "variants" / "model-weibull"
    deadline = time.monotonic() + 300
    while not (first / "diagnostics.json").exists() and process.poll() is None:
        assert time.monotonic() < deadline, "the first variant never reached the disk"
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (out / "report.md").exists(), "the run finished before it could be killed"
    tree = az.from_netcdf(first / "posterior.nc")
    assert "beta" in tree.posterior
    summary = pd.read_csv(first / "summary.csv", index_col=0)
    assert any(name.startswith("beta") for name in summary.index)
