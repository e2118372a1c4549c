"""The specified layout (issue 19, section 1): ``conf/`` and ``data/`` at the top level are the one
copy of every config and data file, the build ships all of them, the editable install reads them in
place, the README's paths exist, and a user's own config folder (``--config-dir``) adds cards and
launchers without touching the package. The wheel install is checked in ``test_installed.py``."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

import bayes_bcsm
from bayes_bcsm import resources

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "bayes_bcsm"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
#: Where the mapped packages come from (pyproject's package-dir), the issue's names.
MAPPED = {"bayes_bcsm.conf": "conf", "bayes_bcsm.bundled": "data"}
#: Data files that belong to a Python package in src/ rather than to data/ (the paper's figures).
PACKAGE_DATA_IN_SRC = {PACKAGE / "study" / "targets.yaml"}
DATA_SUFFIXES = {".yaml", ".yml", ".csv", ".parquet", ".json"}
#: Folders that hold no source: virtual environments, caches, run outputs, build products.
SKIPPED = {".git", ".venv", "build", "dist", "outputs", "multirun", "__pycache__"}


def _shipped(folder: Path) -> list[Path]:
    """The files of a top-level folder the wheel must carry (all but Python caches)."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.relative_to(ROOT).parts
    )


def _repository_files() -> list[Path]:
    """Every file of the checkout outside hidden folders and :data:`SKIPPED` ones."""
    files = []
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in SKIPPED and not d.startswith(".")]
        files += [Path(folder, name) for name in names]
    return files


def test_no_config_or_data_file_is_left_in_src():
    assert not (PACKAGE / "conf").exists()
    assert not (PACKAGE / "data" / "bundled").exists()
    stray = [
        str(p.relative_to(ROOT))
        for p in PACKAGE.rglob("*")
        if p.suffix in DATA_SUFFIXES and p not in PACKAGE_DATA_IN_SRC
    ]
    assert not stray, f"config or data files under src/ (they belong in conf/ or data/): {stray}"


def test_each_config_and_data_file_exists_once():
    ours = {
        hashlib.sha256(p.read_bytes()).hexdigest(): p
        for folder in ("conf", "data")
        for p in _shipped(ROOT / folder)
        if p.suffix in DATA_SUFFIXES
    }
    assert {p.name for p in ours.values()} >= {
        "config.yaml",
        "bcsm_reconstructed.csv",
        "reconstruction.yaml",
        "gbsg2.csv",
        "stanford_heart.csv",
    }
    copies = [
        f"{p.relative_to(ROOT)} = {ours[digest].relative_to(ROOT)}"
        for p in _repository_files()
        if p.suffix in DATA_SUFFIXES
        and (digest := hashlib.sha256(p.read_bytes()).hexdigest()) in ours
        and p != ours[digest]
    ]
    assert not copies, copies


def test_the_build_maps_conf_and_data_into_the_package_and_ships_every_file():
    mapping = PYPROJECT["package-dir"]
    assert mapping == {"": "src", **MAPPED}
    in_src = {
        ".".join(p.parent.relative_to(ROOT / "src").parts) for p in PACKAGE.rglob("__init__.py")
    }
    # an explicit list (a find directive cannot reach conf/ and data/): every package, no more
    assert sorted(PYPROJECT["packages"]) == sorted(in_src | set(MAPPED))
    for package, folder in MAPPED.items():
        globs = PYPROJECT["package-data"][package]
        matched = {p for pattern in globs for p in (ROOT / folder).glob(pattern)}
        unshipped = [
            str(p.relative_to(ROOT))
            for p in _shipped(ROOT / folder)
            if p not in matched and p.name != "__init__.py"
        ]
        assert not unshipped, f"package-data of {package} misses {unshipped}"


def test_the_editable_install_reads_the_top_level_folders():
    if not Path(bayes_bcsm.__file__).is_relative_to(PACKAGE):
        pytest.skip("bayes_bcsm is not the editable install of this checkout")
    assert resources.conf_dir() == ROOT / "conf"
    assert resources.bundled_cohort() == ROOT / "data" / "bcsm_reconstructed.csv"
    assert resources.reconstruction_config() == ROOT / "data" / "reconstruction.yaml"
    assert resources.bundled_file("gbsg2.csv") == ROOT / "data" / "gbsg2.csv"


def _layout_block(readme: str) -> str:
    section = readme.split("\n## Layout\n", 1)[1]
    return section.split("```", 2)[1]


def test_the_readme_paths_exist():
    readme = (ROOT / "README.md").read_text()
    listed = [
        line.split()[0]
        for line in _layout_block(readme).splitlines()[1:]
        if line and not line[0].isspace()
    ]
    assert {"conf/", "data/", "src/bayes_bcsm/", "experiments/", "tests/", "pyproject.toml"} <= set(
        listed
    )
    named = re.findall(
        r"`((?:conf|data|src|docs|tests|experiments|benchmarks)/[^`\s<>*]*)`", readme
    )
    missing = [path for path in listed + named if not (ROOT / path).exists()]
    for document in (ROOT / "README.md", ROOT / "data" / "README.md"):
        for link in re.findall(r"\]\(([^)#\s]+)\)", document.read_text()):
            if "://" not in link and not (document.parent / link).exists():
                missing.append(f"{document.relative_to(ROOT)}: {link}")
    assert not missing, missing


def _cfg(config_dir: Path, *overrides: str) -> subprocess.Popen:
    """``bayes-bcsm fit --config-dir DIR OVERRIDES --cfg all`` (compose and print, no run)."""
    command = ["fit", "--config-dir", str(config_dir), *overrides, "--cfg", "all"]
    return subprocess.Popen(
        [sys.executable, "-m", "bayes_bcsm", *command],
        cwd=config_dir.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_users_config_folder_adds_cards_and_launchers_outside_the_package(tmp_path):
    """README, "Your own config folder": a launcher, a card and a preset of one's own, by
    --config-dir; a file named like a shipped one does not replace it (the package is searched
    first)."""
    shipped_before = _shipped(resources.conf_dir())
    mine = tmp_path / "myconf"
    (mine / "hydra" / "launcher").mkdir(parents=True)
    (mine / "data").mkdir()
    (mine / "experiment").mkdir()
    (mine / "experiment" / "mine.yaml").write_text("# @package _global_\nexperiment_name: mine\n")
    (mine / "hydra" / "launcher" / "mycluster.yaml").write_text(
        "defaults:\n  - slurm\npartition: long\ntimeout_min: 240\n"  # the README's example
    )
    (mine / "hydra" / "launcher" / "slurm.yaml").write_text(
        "defaults:\n  - submitit_slurm\npartition: not_read\n"
    )
    (mine / "data" / "mycard.yaml").write_text(
        textwrap.dedent(
            """\
            name: mycard
            title: A private card
            path: cohort.csv
            time_column: t
            time_unit: days
            event_column: e
            covariates:
              age: {kind: continuous, hr_per: 10, unit: years}
            """
        )
    )
    own, shadowed = (
        _cfg(mine, "data=mycard", "hydra/launcher=mycluster", "experiment=mine"),
        _cfg(mine, "hydra/launcher=slurm"),
    )
    own_out, own_err = own.communicate(timeout=120)
    shadowed_out, shadowed_err = shadowed.communicate(timeout=120)
    assert own.returncode == 0, own_err[-3000:]
    assert shadowed.returncode == 0, shadowed_err[-3000:]
    assert "title: A private card" in own_out and "experiment_name: mine" in own_out
    assert "partition: long" in own_out and "timeout_min: 240" in own_out
    assert "cpus_per_task: 4" in own_out  # the rest from the shipped slurm.yaml
    assert "submitit_launcher.SlurmLauncher" in own_out
    assert "partition: not_read" not in shadowed_out and "partition: null" in shadowed_out
    assert _shipped(resources.conf_dir()) == shipped_before
