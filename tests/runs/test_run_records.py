"""Issue 20: a run says what it used. On a foreign card (months, no study cuts) ``compare`` with
two piecewise variants (event-time quantile cuts by default, fixed cuts given) records the cut
points each fit used in ``variants/<variant>/model.json`` (the resolved config's ``model``
section points there), ``hazard_ratios.csv`` names each contrast's reference, and the report
names the reference levels. Expected cut points: numpy's quantiles of the event times at
k / 6 (``model.n_intervals``, default 6), computed here from the file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

CARD = """\
name: clinic
title: A small clinic cohort
path: cohort.csv
time_column: months
time_unit: months
event_column: died
covariates:
  chemo: {kind: binary, levels: ["no", "yes"], label: chemotherapy}
  stage: {kind: categorical, levels: [I, II, III], label: stage}
  age: {kind: continuous, hr_per: 10, unit: years}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("records")
    rng = np.random.default_rng(20)
    n = 60
    chemo = rng.integers(0, 2, n)
    stage = rng.choice(["I", "II", "III"], n)
    age = rng.uniform(40, 80, n).round(1)
    death = rng.exponential(20 * np.exp(0.4 * chemo - 0.3 * (stage == "III")))
    censor = rng.uniform(6, 48, n)
    frame = pd.DataFrame(
        {
            "months": np.minimum(death, censor).round(2),
            "died": (death <= censor).astype(int),
            "chemo": np.where(chemo == 1, "yes", "no"),
            "stage": stage,
            "age": age,
        }
    )
    frame.to_csv(folder / "cohort.csv", index=False)
    (folder / "cards" / "data").mkdir(parents=True)
    (folder / "cards" / "data" / "clinic.yaml").write_text(CARD)
    environ = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bayes_bcsm",
            "compare",
            "--config-dir",
            "cards",
            "data=clinic",
            "covariates.names=[chemo,stage,age]",
            "compare.variants=['model=piecewise','model=piecewise model.cuts_months=[0,4,9,30]']",
            "sampler=quick",
            "report.plots=false",
            "hydra.run.dir=out",
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        env=environ,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return frame, folder / "out"


@pytest.mark.slow
def test_each_variant_records_the_cut_points_it_used(run):
    frame, out = run
    records = {
        r["variant"]: r
        for r in (json.loads(p.read_text()) for p in (out / "variants").glob("*/model.json"))
    }
    event_times = frame.loc[frame["died"] == 1, "months"].to_numpy()
    quantiles = np.round(np.quantile(event_times, np.arange(1, 6) / 6), 6)
    assert records["model=piecewise"]["family"] == "piecewise"
    np.testing.assert_allclose(records["model=piecewise"]["cuts_months"], [0.0, *quantiles])
    fixed = records["model=piecewise model.cuts_months=[0,4,9,30]"]
    assert fixed["cuts_months"] == [0.0, 4.0, 9.0, 30.0]
    assert fixed["covariate_columns"] == ["chemo", "stage[II]", "stage[III]", "age"]
    assert fixed["missing"] is None
    resolved = (out / "resolved_config.yaml").read_text()
    assert (
        "model:  # as configured; the cut points each Bayesian fit used are in its model.json"
        in (resolved)
    )
    assert yaml.safe_load(resolved)["model"]["cuts_months"] is None  # what was configured


@pytest.mark.slow
def test_hazard_ratios_and_report_name_the_reference_levels(run):
    _, out = run
    table = pd.read_csv(out / "hazard_ratios.csv")
    contrasts = dict(zip(table["label"], table["contrast"], strict=False))
    assert contrasts == {
        "chemotherapy: yes vs no": "yes vs no (reference)",
        "stage: II vs I": "II vs I (reference)",
        "stage: III vs I": "III vs I (reference)",
        "age (per 10 years)": "per 10 years",
    }
    report = (out / "report.md").read_text()
    assert (
        "Reference levels (each HR compares a level with it): chemotherapy: no; stage: I. "
        "HRs of continuous covariates: age per 10 years." in report
    )
