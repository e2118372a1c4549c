"""The package runs outside its checkout: ``pip install .`` into a fresh virtual environment, then
``bayes-bcsm fit sampler=quick`` from another folder writes its report.

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


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment with the package installed by ``pip install .``."""
    base = tmp_path_factory.mktemp("installed")
    # a copy of what the build needs, so the build neither writes into the checkout nor picks up
    # stale files from an old build/ folder there
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", source / "src", ignore=ignore)
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
    _run([*pip, str(source)], base)
    return env_dir


# about 40 s (install ~5 s, a sampler=quick fit, a Cox fit): under the ~60 s bar for `slow`
@pytest.mark.slow  # a fresh venv, an install and two runs: ~40 s (make test-slow)
def test_installed_package_runs_from_another_folder(installed, tmp_path):
    python = installed / "bin" / "python"
    where = _run(
        [
            python,
            "-c",
            "import bayes_bcsm, bayes_bcsm.resources as r; "
            "print(bayes_bcsm.__file__); print(r.conf_dir()); print(r.bundled_cohort())",
        ],
        tmp_path,
    ).stdout.split()
    for path in where:
        assert Path(path).is_relative_to(installed), where
        assert not Path(path).is_relative_to(ROOT), where
    result = _run(
        [installed / "bin" / "bayes-bcsm", "fit", "sampler=quick", "hydra.run.dir=out"], tmp_path
    )
    report = tmp_path / "out" / "report.html"
    assert report.is_file() and f"report: {report}" in result.stdout
    assert (tmp_path / "out" / "posterior.nc").is_file()
    assert "Traceback" not in result.stderr
    module = _run([python, "-m", "bayes_bcsm", "fit", "model=cox", "hydra.run.dir=cox"], tmp_path)
    assert (tmp_path / "cox" / "report.html").is_file(), module.stdout
