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
