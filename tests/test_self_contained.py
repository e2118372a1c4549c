"""The repository is self-contained: a user's clone has no ``../shared/`` folder, so no document,
docstring or test may point there; and ``make run ARGS=...`` passes the overrides on."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(r"\.\./shared|/work/shared")
SUFFIXES = {".md", ".py", ".yaml", ".toml", ".R"}


def _files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "Makefile", ROOT / "pyproject.toml"]
    for folder in ("src", "conf", "tests", "data", "docs", "experiments", "benchmarks"):
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in SUFFIXES]
    return [p for p in files if p.is_file() and p != Path(__file__).resolve()]


def test_nothing_points_outside_the_repository():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not offenders, offenders


def test_reference_outputs_are_committed():
    assert (ROOT / "tests" / "reference" / "r_survival_lung.md").is_file()
    assert (ROOT / "tests" / "reference" / "r_survival_lung.R").is_file()


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
@pytest.mark.parametrize(
    ("target", "args"), [("run", "data.path=c.csv"), ("calibrate", "--report out")]
)
def test_make_passes_args_on(target, args):
    # run from `make test` (make -C <clone> test), MAKEFLAGS would make the inner make print
    # "Leaving directory" lines: give it a clean environment
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", target, f"ARGS={args}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        env=env,
    )
    assert dry.stdout.strip().splitlines()[-1].endswith(args)
