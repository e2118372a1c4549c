"""Issue 26: `bayes-bcsm compare` on a user's own card (a YAML file in --config-dir).

Without an experiment, ``compare`` fits the Bayesian Weibull and piecewise models beside Cox and
Firth (``experiment=bayes_vs_cox``, the default of ``conf/compare.yaml``); each row is labelled
in the card's words with its reference level named, and a time of 0 is shifted and stated in
the run's first lines. Oracle for the Cox rows: lifelines' ``CoxPHFitter`` (Efron ties, as ours)
on the file with the same coding, its zero times kept (the shift keeps the order of the times).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

CARD = """\
name: mine
title: A small clinic cohort
path: cohort.csv
id_column: pid
time_column: days
time_unit: days
event_column: status
event_values: [dead]
censor_values: [alive]
covariates:
  chemo: {kind: binary, levels: ["no", "yes"], label: chemotherapy}
  stage: {kind: categorical, levels: [I, II, III], label: stage}
  age: {kind: continuous, hr_per: 10, unit: years}
"""


def _cohort(n: int = 60, seed: int = 7) -> pd.DataFrame:
    """A seeded Weibull cohort in days, two of its deaths on day 0 (as flchain's)."""
    rng = np.random.default_rng(seed)
    chemo = rng.integers(0, 2, n)
    stage = rng.choice(["I", "II", "III"], n)
    age = rng.uniform(40, 80, n).round(1)
    rate = 0.02 * np.exp(-0.5 * chemo + 0.4 * (stage == "III") + 0.02 * (age - 60))
    death = rng.weibull(1.2, n) / rate ** (1 / 1.2) * 30
    censor = rng.uniform(100, 1500, n)
    days = np.minimum(death, censor).round()
    status = np.where(death <= censor, "dead", "alive")
    days[:2], status[:2] = 0, "dead"
    return pd.DataFrame(
        {
            "pid": [f"P{i:03d}" for i in range(n)],
            "days": days,
            "status": status,
            "chemo": np.where(chemo == 1, "yes", "no"),
            "stage": stage,
            "age": age,
        }
    )


@pytest.fixture(scope="module")
def own_compare(tmp_path_factory):
    folder = tmp_path_factory.mktemp("own_cohort")
    raw = _cohort()
    raw.to_csv(folder / "cohort.csv", index=False)
    (folder / "mycards" / "data").mkdir(parents=True)
    (folder / "mycards" / "data" / "mine.yaml").write_text(CARD)
    environ = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bayes_bcsm",
            "compare",
            "--config-dir",
            "mycards",
            "data=mine",
            "covariates.names=[chemo,stage,age]",
            "sampler=quick",
            "report.plots=false",
            "hydra.run.dir=out",
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        env=environ,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return raw, folder / "out", result


LABELS = {
    "chemo": "chemotherapy: yes vs no",
    "stage[II]": "stage: II vs I",
    "stage[III]": "stage: III vs I",
    "age": "age (per 10 years)",
}


@pytest.mark.slow
def test_compare_on_a_card_fits_weibull_and_piecewise_beside_cox_and_firth(own_compare):
    _, out, _ = own_compare
    table = pd.read_csv(out / "hazard_ratios.csv")
    assert list(dict.fromkeys(table["model"])) == [
        "cox",
        "firth",
        "model=weibull",
        "model=piecewise",
    ]
    for _, rows in table.groupby("model"):
        assert dict(zip(rows["covariate"], rows["label"], strict=True)) == LABELS
    report = (out / "report.md").read_text()
    assert report.startswith("# bayes_vs_cox: model=weibull, model=piecewise\n")
    assert "| chemotherapy: yes vs no | " in report and "| stage: III vs I | " in report
    assert {"model-weibull", "model-piecewise"} <= {p.name for p in (out / "variants").iterdir()}


@pytest.mark.slow
def test_zero_times_are_stated_in_the_first_lines_and_cox_equals_lifelines(own_compare):
    from lifelines import CoxPHFitter

    raw, out, result = own_compare
    statement = (
        "data.zero_time=shift: 2 patient(s) with a follow-up time of 0 days (2 event(s)) moved to"
    )
    first_lines = (result.stdout + result.stderr).splitlines()[:8]
    assert any(statement in line for line in first_lines), first_lines
    assert statement in (out / "report.md").read_text()
    coded = pd.DataFrame(
        {
            "days": raw["days"],
            "dead": (raw["status"] == "dead").astype(int),
            "chemo": (raw["chemo"] == "yes").astype(float),
            "stage[II]": (raw["stage"] == "II").astype(float),
            "stage[III]": (raw["stage"] == "III").astype(float),
            "age": raw["age"] / 10,
        }
    )
    oracle = CoxPHFitter().fit(coded, "days", "dead", fit_options={"precision": 1e-12})
    table = pd.read_csv(out / "hazard_ratios.csv")
    cox = table[table["model"] == "cox"].set_index("covariate").loc[list(LABELS)]
    np.testing.assert_allclose(cox["estimate"], oracle.hazard_ratios_[list(LABELS)], rtol=1e-5)


def test_compare_without_an_experiment_composes_bayes_vs_cox():
    from hydra import compose, initialize_config_module

    from bayes_bcsm.config import register_configs
    from bayes_bcsm.resources import CONF_PACKAGE

    register_configs()
    with initialize_config_module(config_module=CONF_PACKAGE, version_base="1.3"):
        cfg = compose(config_name="compare")
        assert cfg.experiment_name == "bayes_vs_cox"
        assert list(cfg.compare.variants) == ["model=weibull", "model=piecewise"]
        other = compose(config_name="compare", overrides=["experiment=model_comparison"])
        assert other.experiment_name == "model_comparison"
        gbsg2 = compose(config_name="compare", overrides=["data=gbsg2"])
        assert list(gbsg2.covariates.names)[:2] == ["horTh", "age"]  # the card's own set
