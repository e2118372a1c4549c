"""The package runs outside its checkout: ``pip install .`` into a fresh virtual environment, then
``bayes-bcsm fit sampler=quick`` from another folder writes its report; the wheel carries every file
of the top-level ``conf/`` and ``data/``. ``pip install -e .`` of a copy of the checkout reads that
copy's ``conf/`` and ``data/`` in place (issue 19, section 1).

Installing the dependencies would download the world, so the fresh environment borrows them: a
``.pth`` line appends the test interpreter's site-packages to its ``sys.path``. A plain path in a
``.pth`` file is not a site directory, so the ``.pth`` files inside it (among them the editable
install that points at this checkout) are not processed: the only ``bayes_bcsm`` the fresh
environment can import is the one pip installed into it, and the test checks that.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HYDRA_FULL_ERROR")}
    result = subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)
    assert result.returncode == 0, f"{args}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


#: What the build reads: the package's code and its top-level configs and data.
SOURCES = ("src", "conf", "data")
#: Prints where the package, its configs and each shipped data file are found.
WHERE = (
    "import bayes_bcsm, bayes_bcsm.resources as r; print(bayes_bcsm.__file__); "
    "print(r.conf_dir()); print(r.bundled_cohort()); print(r.reconstruction_config()); "
    "print(r.bundled_file('gbsg2.csv'))"
)


def _files(folder: Path) -> set[Path]:
    """The files under ``folder``, relative to it (Python caches and module files left out)."""
    return {
        p.relative_to(folder)
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".py"
    }


def _install(base: Path, *how: str) -> Path:
    """A fresh virtual environment in ``base/venv`` with ``pip install *how base/source``.

    The source is a copy of what the build needs, so the build neither writes into the checkout
    nor picks up stale files from an old build/ folder there.
    """
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in SOURCES:
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (site / "zz_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    _run([*pip, *how, str(source)], base)
    return env_dir


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment with the package installed by ``pip install .``."""
    return _install(tmp_path_factory.mktemp("installed"))


# about 40 s (install ~5 s, a sampler=quick fit, a Cox fit): under the ~60 s bar for `slow`
@pytest.mark.slow  # a fresh venv, an install and two runs: ~40 s
def test_installed_package_runs_from_another_folder(installed, tmp_path):
    python = installed / "bin" / "python"
    where = [Path(p) for p in _run([python, "-c", WHERE], tmp_path).stdout.split()]
    for path in where:
        assert path.is_file() or path.is_dir(), path
        assert path.is_relative_to(installed), where
        assert not path.is_relative_to(ROOT), where
    package, conf, cohort = where[0].parent, where[1], where[2]
    assert conf == package / "conf" and cohort.parent == package / "bundled"
    assert _files(conf) == _files(ROOT / "conf")  # every config group and experiment
    assert _files(cohort.parent) == _files(ROOT / "data")  # every data set and data/README.md
    result = _run(
        [installed / "bin" / "bayes-bcsm", "fit", "sampler=quick", "hydra.run.dir=out"], tmp_path
    )
    report = tmp_path / "out" / "report.html"
    assert report.is_file() and f"report: {report}" in result.stdout
    assert (tmp_path / "out" / "posterior.nc").is_file()
    assert "Traceback" not in result.stderr
    module = _run([python, "-m", "bayes_bcsm", "fit", "model=cox", "hydra.run.dir=cox"], tmp_path)
    assert (tmp_path / "cox" / "report.html").is_file(), module.stdout


@pytest.mark.slow  # a fresh venv, an editable install, a config printed, calibrate: ~8 s
def test_editable_install_reads_the_top_level_folders(tmp_path):
    """``pip install -e .`` (what ``make`` does) maps ``bayes_bcsm.conf`` and ``bayes_bcsm.bundled``
    to the checkout's ``conf/`` and ``data/``: Hydra composes from there, and ``calibrate`` without
    ``--out`` rewrites the checkout's cohort, byte for byte."""
    env_dir = _install(tmp_path, "--editable")
    source = tmp_path / "source"
    python = env_dir / "bin" / "python"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = [Path(p) for p in _run([python, "-c", WHERE], elsewhere).stdout.split()]
    assert where == [
        source / "src" / "bayes_bcsm" / "__init__.py",
        source / "conf",
        source / "data" / "bcsm_reconstructed.csv",
        source / "data" / "reconstruction.yaml",
        source / "data" / "gbsg2.csv",
    ]
    job = _run(
        [python, "-m", "bayes_bcsm", "fit", "experiment=gbsg2_bayes_vs_cox", "--cfg", "job"],
        elsewhere,
    )
    assert (
        "bundled: gbsg2.csv" in job.stdout and "experiment_name: gbsg2_bayes_vs_cox" in job.stdout
    )
    cohort = source / "data" / "bcsm_reconstructed.csv"
    cohort.write_text("stale\n")
    _run([python, "-m", "bayes_bcsm", "calibrate"], elsewhere)
    assert cohort.read_bytes() == (ROOT / "data" / "bcsm_reconstructed.csv").read_bytes()
