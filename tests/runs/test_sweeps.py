"""Multirun sweeps through the joblib launcher, and the SLURM launcher config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_module

from bayes_bcsm.config import register_configs
from bayes_bcsm.resources import CONF_PACKAGE

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a real joblib multirun: about a minute on 2 cores (make test-slow)
def test_multirun_sweep_with_joblib_writes_one_folder_per_combination(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "experiments" / "fit.py"),
            "-m",
            "hydra/launcher=local",
            "model=cox",
            "covariates=paper_table3,full",
            "seed=1,2",
            f"hydra.sweep.dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    folders = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    # the seed is excluded from the folder names, so seeds of one setting share a name
    # prefix while the job number keeps them apart
    assert len(folders) == 4, folders
    assert {f.split("_", 1)[1] for f in folders} == {
        "covariates=full,model=cox",
        "covariates=paper_table3,model=cox",
    }
    for folder in tmp_path.iterdir():
        if folder.is_dir():
            table = pd.read_csv(folder / "hazard_ratios.csv")
            assert {"cox", "firth"} <= set(table["model"])
            assert (folder / "resolved_config.yaml").exists()


def test_slurm_launcher_config_composes():
    register_configs()
    with initialize_config_module(config_module=CONF_PACKAGE, version_base="1.3"):
        cfg = compose(
            config_name="config", overrides=["hydra/launcher=slurm"], return_hydra_config=True
        )
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert launcher.timeout_min == 60 and launcher.array_parallelism == 32


@pytest.mark.slow  # real submitit jobs: about a minute on 2 cores (make test-slow)
def test_simulation_sweep_runs_real_submitit_jobs_and_merges(tmp_path):
    """The documented sweep on a tiny study: one submitit_local job per shard (each a real
    submitit job: its own process and log folder), then one call merges the shards."""
    study = tmp_path / "study"
    tiny = [
        "experiment=simulation_study",
        "sampler=quick",
        "simulation.replicates=2",
        "simulation.shard_size=1",
        "simulation.scenarios=[calibrated]",
        "simulation.methods=[cox_table3]",
        "simulation.sbc_replicates=0",
        "simulation.estimand_n=2000",
        "simulation.estimand_cohorts=1",
        f"simulation.run_dir={study}",
    ]
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "experiments" / "simulate.py"),
            "-m",
            "hydra/launcher=submitit_local",
            "hydra.launcher.timeout_min=10",
            *tiny,
            "simulation.shard=0,1",
            f"hydra.sweep.dir={tmp_path / 'sweep'}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    shards = sorted(p.name for p in (study / "shards").glob("*.csv"))
    assert shards == ["calibrated_n78_shard0000.csv", "calibrated_n78_shard0001.csv"]
    # submitit's own records: one job folder with its pickled result per shard
    logs = list((tmp_path / "sweep").rglob("*_result.pkl"))
    assert len(logs) == 2, sorted(p.name for p in (tmp_path / "sweep").rglob("*"))
    merge = subprocess.run(
        [
            sys.executable,
            str(ROOT / "experiments" / "simulate.py"),
            *tiny,
            "simulation.aggregate_only=true",
            f"hydra.run.dir={tmp_path / 'merge'}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert merge.returncode == 0, merge.stderr[-3000:]
    replicates = pd.read_csv(study / "replicates.csv")
    assert sorted(replicates["replicate"].unique()) == [0, 1]


def test_slurm_and_submitit_local_share_the_simulation_settings():
    """hydra/launcher=slurm differs from the local submitit executor only in cluster keys."""
    register_configs()
    with initialize_config_module(config_module=CONF_PACKAGE, version_base="1.3"):
        slurm = compose(
            config_name="config",
            overrides=["hydra/launcher=slurm", "experiment=simulation_study"],
            return_hydra_config=True,
        )
        local = compose(
            config_name="config",
            overrides=["hydra/launcher=submitit_local", "experiment=simulation_study"],
            return_hydra_config=True,
        )
    assert slurm.hydra.launcher._target_.endswith("SlurmLauncher")
    assert local.hydra.launcher._target_.endswith("LocalLauncher")
    assert slurm.simulation == local.simulation
    shared = set(slurm.hydra.launcher) & set(local.hydra.launcher)
    assert {"timeout_min", "cpus_per_task", "mem_gb", "nodes", "tasks_per_node"} <= shared


@pytest.mark.parametrize("launcher", ["basic", "joblib"])
def test_a_sweep_with_a_bad_middle_job_runs_the_others_and_summarises(tmp_path, launcher):
    """Issue 19: a user error ended the process from inside a Hydra job, so later jobs never
    ran (basic launcher) or a running job was killed (joblib). Now the failing job is recorded
    and reported, the others complete, and a summary ends the output with exit status 1."""
    args = ["hydra/launcher=local"] if launcher == "joblib" else []
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bayes_bcsm",
            "fit",
            "-m",
            *args,
            "model=cox",
            "sampler.draws=50,0,50",
            f"hydra.sweep.dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    bad = "1_model=cox,sampler.draws=0"
    assert f"job {bad} failed: sampler.draws=0: expected a positive integer" in result.stderr
    summary = result.stderr[result.stderr.index(f"sweep {tmp_path}:") :].splitlines()
    assert summary == [
        f"sweep {tmp_path}: 3 jobs, 2 done, 1 failed",
        f"  failed {bad}: sampler.draws=0: expected a positive integer",
        "  (details: error.txt and the log in each failed job's folder)",
    ]
    for good in ("0_model=cox,sampler.draws=50", "2_model=cox,sampler.draws=50"):
        table = pd.read_csv(tmp_path / good / "hazard_ratios.csv")
        assert {"cox", "firth"} <= set(table["model"])
    assert (tmp_path / bad / "error.txt").read_text().startswith("ConfigError: sampler.draws=0")
    assert not (tmp_path / bad / "hazard_ratios.csv").exists()


def test_a_sweep_into_a_used_sweep_folder_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "multirun.yaml").write_text("earlier sweep\n")
    (tmp_path / ".bayes_bcsm_run").write_text('{"state": "sweep"}\n')
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bayes_bcsm",
            "fit",
            "-m",
            "model=cox",
            "seed=1,2",
            f"hydra.sweep.dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith(f"hydra.sweep.dir={tmp_path} already holds")
    assert (tmp_path / "multirun.yaml").read_text() == "earlier sweep\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".bayes_bcsm_run", "multirun.yaml"]


def test_a_sweep_job_with_a_bug_is_reported_with_its_traceback_and_the_sweep_goes_on(tmp_path):
    """Not a user error (a bug, with an empty message): its traceback is shown, the job is
    recorded as failed, and the later job still runs."""
    code = """
import sys
from bayes_bcsm.atomic import write_text_atomic
from bayes_bcsm.runs.entry import hydra_entry

def run(cfg, output_dir):
    if cfg.seed == 2:
        raise RuntimeError()
    write_text_atomic(output_dir / "result.txt", str(cfg.seed))

hydra_entry(run)(sys.argv[1:])
"""
    result = subprocess.run(
        [sys.executable, "-c", code, "-m", "seed=1,2,3", f"hydra.sweep.dir={tmp_path}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "job 1_ failed: RuntimeError()" in result.stderr
    assert result.stderr.strip().splitlines()[-3:] == [
        f"sweep {tmp_path}: 3 jobs, 2 done, 1 failed",
        "  failed 1_: RuntimeError",
        "  (details: error.txt and the log in each failed job's folder)",
    ]
    assert [(tmp_path / f"{n}_" / "result.txt").read_text() for n in (0, 2)] == ["1", "3"]
