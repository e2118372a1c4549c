"""``bayes-bcsm calibrate``: every flag, file and output folder checked before any work.

(Issue 19: ``--search --budget 0`` or ``-5`` ran 1,504 evaluations and wrote a worse cohort,
over the packaged one without ``--out``; ``--start`` / ``--config`` missing or malformed and
``--out`` / ``--report`` in a read-only folder gave tracebacks.) Run in-process through
:func:`bayes_bcsm.cli.run_calibrate`, the command's own error handling.
"""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path

import pytest

from bayes_bcsm.cli import run_calibrate
from bayes_bcsm.reconstruct.search import COVARIATE_GRID, minimum_budget, search
from bayes_bcsm.resources import bundled_cohort, reconstruction_config
from tests.filesystems import tmpfs


@pytest.fixture
def shipped_untouched():
    """The shipped cohort and its YAML are byte-identical after the test."""
    files = [bundled_cohort(), reconstruction_config()]
    before = [(p.read_bytes(), p.stat().st_mtime_ns) for p in files]
    yield
    assert [(p.read_bytes(), p.stat().st_mtime_ns) for p in files] == before


def _refused(argv: list[str], capsys) -> str:
    """Run ``calibrate argv``; assert exit status 1 and return the one line on stderr."""
    with pytest.raises(SystemExit) as caught:
        run_calibrate(argv)
    assert caught.value.code == 1
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.strip().splitlines()
    return line


@pytest.mark.parametrize("budget", ["0", "-5", "2879"])
def test_a_budget_below_the_minimum_is_refused_naming_the_minimum(
    tmp_path, capsys, shipped_untouched, budget
):
    argv = ["--search", "--budget", budget, "--out", str(tmp_path / "new.csv")]
    line = _refused(argv, capsys)
    assert line == (
        f"calibrate --budget {budget}: the search needs at least 2880 evaluations with "
        "--seeds 120 (the committed search used 160000)"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_minimum_budget_counts_one_draw_per_setting_and_seed_twice():
    """2 x (12 covariate settings x 120 seeds), or the hill-climb's two steps per climber."""
    assert len(COVARIATE_GRID) == 12
    assert minimum_budget() == 2 * 12 * 120
    assert minimum_budget(n_seeds=2, settings=COVARIATE_GRID[:1], climbers=32) == 2 + 64
    with pytest.raises(ValueError, match="budget=0: the search needs at least 2880"):
        search(budget=0)


def test_a_search_without_out_is_refused_and_never_overwrites_the_shipped_cohort(
    capsys, shipped_untouched
):
    line = _refused(["--search", "--budget", "0"], capsys)
    assert line.startswith("calibrate --search needs --out FILE.csv")


def test_another_config_without_out_is_refused(tmp_path, capsys, shipped_untouched):
    config = tmp_path / "mine.yaml"
    config.write_text(reconstruction_config().read_text())
    line = _refused(["--config", str(config)], capsys)
    assert line.startswith(f"calibrate --config {config} needs --out FILE.csv")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the reconstruction config (No such file or directory)"),
        ("n: [1\n", "not valid YAML (line 2)"),
        ("- 1\n- 2\n", "expected a mapping with keys n, seed, params; found list"),
        ("n: 78\nparams: {}\n", "missing key 'seed' (expected n, seed, params)"),
        ("n: 78\nseed: one\nparams: {}\n", "n, seed and params must be two integers"),
        ("n: 78\nseed: 1\nparams: {shoe_size: 1}\n", "unknown generator parameter(s)"),
    ],
)
@pytest.mark.parametrize("flag", ["--config", "--start"])
def test_a_missing_or_malformed_config_or_start_is_one_line(
    tmp_path, capsys, shipped_untouched, flag, content, message
):
    path = tmp_path / "given.yaml"
    if content is not None:
        path.write_text(content)
    out = tmp_path / "new.csv"
    search = ["--search"] if flag == "--start" else []
    line = _refused([*search, flag, str(path), "--out", str(out)], capsys)
    assert line.startswith(f"{path}: ")
    assert message in line
    assert not out.exists()


def _read_only(tmp_path: Path, monkeypatch, real: bool) -> Path:
    """A read-only folder: a read-only tmpfs, or (``real=False``) EROFS injected at the probe."""
    folder = tmp_path / "ro"
    if not real:
        mkstemp = tempfile.mkstemp

        def refuse(*args, dir=None, **kwargs):
            if Path(dir).is_relative_to(folder):
                raise OSError(errno.EROFS, "Read-only file system")
            return mkstemp(*args, dir=dir, **kwargs)

        monkeypatch.setattr("bayes_bcsm.atomic.tempfile.mkstemp", refuse)
    return folder


@pytest.mark.parametrize("real", [True, False], ids=["tmpfs", "injected"])
@pytest.mark.parametrize("flag", ["--out", "--report"])
def test_an_output_in_a_read_only_folder_is_refused_before_any_work(
    tmp_path, capsys, monkeypatch, shipped_untouched, flag, real
):
    folder = _read_only(tmp_path, monkeypatch, real)
    target = folder / "cohort.csv" if flag == "--out" else folder / "report"
    argv = [flag, str(target)] + (["--out", str(tmp_path / "new.csv")] if flag != "--out" else [])
    if real:
        with tmpfs(folder, read_only=True):
            line = _refused(argv, capsys)
    else:
        folder.mkdir()
        line = _refused(argv, capsys)
    where = folder if flag == "--out" else target
    assert line == (
        f"cannot write {where}: the file system is read-only (EROFS); "
        "choose a folder you can write to, then rerun"
    )
    assert not (tmp_path / "new.csv").exists()
