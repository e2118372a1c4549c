"""Issue 25: `bayes-bcsm fit` above ``sampler.pointwise_max_patients`` holds nothing of size
draws x patients and says so.

A 300-patient card fitted with the limit lowered to 100 (what a registry cohort meets at the
default of 5,000): the piecewise likelihood is collapsed to cells, the Weibull one summed;
no ``log_likelihood`` group and no posterior predictive draws are written; ``loo.json`` and the
report say why PSIS-LOO is missing and which setting computes it, and with
``sampler.chunked_loo=true`` PSIS-LOO is computed from the draws in chunks of patients.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr

CARD = """\
name: registry
title: A synthetic registry
path: cohort.csv
time_column: months
time_unit: months
event_column: status
event_values: [1]
censor_values: [0]
covariates:
  a: {kind: binary}
  stage: {kind: categorical, levels: [I, II, III], reference: I}
"""


def _cohort(n: int = 300, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n)
    stage = rng.choice(["I", "II", "III"], n)
    death = rng.weibull(1.2, n) * 30 * np.exp(-(0.5 * a + 0.4 * (stage == "III")) / 1.2)
    censor = rng.uniform(5, 90, n)
    return pd.DataFrame(
        {
            "a": a,
            "stage": stage,
            "months": np.minimum(death, censor).round(2).clip(0.01),
            "status": (death <= censor).astype(int),
        }
    )


def _folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("registry")
    _cohort().to_csv(folder / "cohort.csv", index=False)
    (folder / "cards" / "data").mkdir(parents=True)
    (folder / "cards" / "data" / "registry.yaml").write_text(CARD)
    return folder


ENVIRON = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = _folder(tmp_path_factory)
    cases = {
        "piecewise": ["model=piecewise", "report.plots=true"],
        "weibull_chunked": ["model=weibull", "sampler.chunked_loo=true", "report.plots=false"],
    }
    out = {}
    for name, args in cases.items():
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bayes_bcsm",
                "fit",
                "--config-dir",
                "cards",
                "data=registry",
                "covariates.names=[a,stage]",
                "sampler=quick",
                "sampler.pointwise_max_patients=100",
                f"hydra.run.dir={name}",
                *args,
            ],
            capture_output=True,
            text=True,
            cwd=folder,
            env=ENVIRON,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        out[name] = folder / name
    return out


@pytest.mark.slow
def test_collapsed_fit_refuses_loo_with_the_setting_named(runs):
    run = runs["piecewise"]
    loo = json.loads((run / "loo.json").read_text())
    assert loo == {
        "not_computed": "PSIS-LOO not computed: 300 patients exceed "
        "sampler.pointwise_max_patients=100, above which no draws x patients quantity is held; "
        "set sampler.chunked_loo=true to compute it in chunks of patients."
    }
    report = (run / "report.md").read_text()
    assert loo["not_computed"] in report
    assert "No posterior predictive check: 300 patients exceed" in report  # plots section
    assert not (run / "loo_pareto_k.png").exists() and (run / "forest.png").exists()
    record = json.loads((run / "model.json").read_text())
    assert record["likelihood"] == "collapsed to cells"
    assert record["pointwise_log_likelihood"] == "not computed"
    assert "likelihood collapsed to" in record["rows"]
    with xr.open_datatree(run / "posterior.nc") as tree:
        assert "log_likelihood" not in tree.children
        assert "posterior_predictive" not in tree.children


@pytest.mark.slow
def test_chunked_loo_on_request(runs):
    run = runs["weibull_chunked"]
    loo = json.loads((run / "loo.json").read_text())
    assert loo["n_patients"] == 300
    assert np.isfinite(loo["elpd_loo"]) and loo["elpd_loo"] < 0
    record = json.loads((run / "model.json").read_text())
    assert record["likelihood"] == "summed"
    assert record["pointwise_log_likelihood"].startswith("computed from the draws in chunks")
    with xr.open_datatree(run / "posterior.nc") as tree:
        assert "log_likelihood" not in tree.children


def test_power_scaling_is_refused_before_fitting_above_the_limit(tmp_path_factory):
    folder = _folder(tmp_path_factory)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bayes_bcsm",
            "compare",
            "--config-dir",
            "cards",
            "data=registry",
            "covariates.names=[a,stage]",
            "compare.psense=true",
            "sampler.pointwise_max_patients=100",
            "hydra.run.dir=out",
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        env=ENVIRON,
        timeout=600,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == (
        "compare.psense=true: power-scaling sensitivity needs the pointwise log-likelihood, "
        "which is not stored for the 300 rows of the data (more than "
        "sampler.pointwise_max_patients=100); raise sampler.pointwise_max_patients or set "
        "compare.psense=false"
    )
    assert "Traceback" not in done.stderr
    assert not list((folder / "out").glob("variants/*/posterior.nc"))
