"""Multirun sweeps through the joblib launcher, and the SLURM launcher config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
from hydra import compose, initialize_config_module

from bayes_bcsm.config import register_configs
from bayes_bcsm.resources import CONF_PACKAGE

ROOT = Path(__file__).resolve().parents[2]


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
