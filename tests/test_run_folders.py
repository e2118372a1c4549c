"""Run folders: never shared, never overwritten, a failure recorded, no temporary files left.

(Hostile-input audit, issue 12: runs started in the same second shared one folder; a failed
run left an empty log; every fit left compiler temporaries in $TMPDIR.)
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from bayes_bcsm.runs.entry import remove_stale_scratch
from bayes_bcsm.runs.folders import sweep_summary
from tests.filesystems import tmpfs


def _start(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    environ = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"} | (env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "bayes_bcsm", *args],
        cwd=cwd,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_three_runs_started_together_get_three_folders(tmp_path):
    seeds = (121, 131, 141)
    processes = [_start(["fit", "model=cox", f"seed={s}"], tmp_path) for s in seeds]
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-2000:]
    folders = sorted(p.parent for p in tmp_path.glob("outputs/*/*/resolved_config.yaml"))
    assert len(folders) == 3
    found = {yaml.safe_load((f / "resolved_config.yaml").read_text())["seed"] for f in folders}
    assert found == set(seeds)


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` and its content."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_used_run_folder_is_refused_before_hydra_writes_into_it(tmp_path):
    """Issue 19: the refusal came after Hydra had overwritten the folder's .hydra/ files."""
    first = _start(["fit", "model=cox", "hydra.run.dir=out"], tmp_path)
    assert first.wait(timeout=600) == 0
    before = _snapshot(tmp_path / "out")
    assert {".hydra/config.yaml", ".hydra/hydra.yaml", ".hydra/overrides.yaml"} <= set(before)
    second = _start(["fit", "model=cox", "seed=5", "hydra.run.dir=out"], tmp_path)
    _, err = second.communicate(timeout=600)
    assert second.returncode == 1
    assert "already holds a run's results" in err and "Traceback" not in err
    assert _snapshot(tmp_path / "out") == before  # .hydra/ included: nothing rewritten
    assert not (tmp_path / "out" / "error.txt").exists()


def test_two_runs_given_one_folder_at_once_one_runs_the_other_is_refused(tmp_path):
    """Issue 19: both used to start, and the refused run's overrides ended up in the
    survivor's folder. The folder is claimed atomically (O_EXCL) before Hydra writes."""
    processes = {
        seed: _start(["fit", "model=cox", f"seed={seed}", "hydra.run.dir=shared"], tmp_path)
        for seed in (7, 8)
    }
    outcomes = {seed: (p.wait(timeout=600), p.stderr.read()) for seed, p in processes.items()}
    codes = sorted(code for code, _ in outcomes.values())
    assert codes == [0, 1], outcomes
    (survivor,) = [seed for seed, (code, _) in outcomes.items() if code == 0]
    (refused,) = [err for code, err in outcomes.values() if code == 1]
    assert "shared already holds a run's results or belongs to a run in progress" in refused
    folder = tmp_path / "shared"
    assert yaml.safe_load((folder / ".hydra" / "overrides.yaml").read_text()) == [
        "model=cox",
        f"seed={survivor}",
    ]
    assert yaml.safe_load((folder / "resolved_config.yaml").read_text())["seed"] == survivor
    assert not (folder / "error.txt").exists()


STAND_IN_RUN = """
import errno, sys
from bayes_bcsm.atomic import atomic_path, write_text_atomic
from bayes_bcsm.runs.entry import hydra_entry

def run(cfg, output_dir):
    write_text_atomic(output_dir / "hazard_ratios.csv", "model,hr\\ncox,0.7\\n")
    with atomic_path(output_dir / "posterior.nc") as temporary:
        temporary.write_bytes(b"x" * {size})
        if {inject}:
            raise OSError(errno.{code}, "injected")

hydra_entry(run)(sys.argv[1:])
"""


def _stand_in(tmp_path: Path, run_dir: Path, size: int, inject: bool, code: str = "ENOSPC"):
    """A run that saves a small table, then a posterior of ``size`` bytes (or fails with an
    injected ``code`` while writing it), through the real entry point."""
    source = STAND_IN_RUN.format(size=size, inject=inject, code=code)
    return subprocess.run(
        [sys.executable, "-c", source, f"hydra.run.dir={run_dir}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _assert_refused_posterior(result, folder: Path, cause: str) -> None:
    assert result.returncode == 1, result.stderr[-2000:]
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"cannot write {folder / 'posterior.nc'}: {cause}")
    assert not (folder / "posterior.nc").exists()
    assert not [p.name for p in folder.iterdir() if ".tmp" in p.name]
    assert (folder / "hazard_ratios.csv").read_text() == "model,hr\ncox,0.7\n"  # kept
    record = (folder / "error.txt").read_text()
    assert record.startswith("OutputWriteError: cannot write")
    assert '"state": "failed"' in (folder / ".bayes_bcsm_run").read_text()


def test_a_full_disk_ends_the_run_with_one_line_and_no_half_file(tmp_path):
    """A real full file system (a 64 kB tmpfs) under the run folder."""
    with tmpfs(tmp_path / "disk", size="64k") as disk:
        result = _stand_in(tmp_path, disk / "run", size=200_000, inject=False)
        _assert_refused_posterior(result, disk / "run", "the disk is full (ENOSPC)")


def test_an_injected_full_disk_ends_the_run_with_one_line_and_no_half_file(tmp_path):
    result = _stand_in(tmp_path, tmp_path / "run", size=1000, inject=True)
    _assert_refused_posterior(result, tmp_path / "run", "the disk is full (ENOSPC)")


def test_an_injected_read_only_folder_ends_the_run_with_one_line(tmp_path):
    result = _stand_in(tmp_path, tmp_path / "run", size=1000, inject=True, code="EROFS")
    _assert_refused_posterior(result, tmp_path / "run", "the file system is read-only (EROFS)")


def test_a_read_only_run_folder_is_refused_in_one_line(tmp_path):
    with tmpfs(tmp_path / "ro", read_only=True) as read_only:
        process = _start(["fit", "model=cox", f"hydra.run.dir={read_only / 'run'}"], tmp_path)
        _, err = process.communicate(timeout=300)
        assert process.returncode == 1
        assert err.strip() == (
            f"cannot write {read_only / 'run'}: the file system is read-only (EROFS); "
            "choose a folder you can write to, then rerun"
        )


def test_scratch_folders_of_dead_runs_are_removed_and_live_ones_kept(tmp_path):
    """Issue 19: a killed run's compiler temporaries stayed in $TMPDIR."""
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = tmp_path / f"bayes_bcsm-{int(ended.stdout)}-abc"
    live = tmp_path / f"bayes_bcsm-{os.getpid()}-def"
    # a process id unknown here, but its lock held: a run in another pid namespace
    foreign = tmp_path / f"bayes_bcsm-{int(ended.stdout)}-ghi"
    unnamed = tmp_path / "bayes_bcsm-old_style"
    other = tmp_path / "someone_else-1"
    for folder in (dead, live, foreign, unnamed, other):
        folder.mkdir()
        (folder / "tmpabc.py").write_text("compiled source")
        (folder / ".owner").touch()
    with open(foreign / ".owner") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert remove_stale_scratch(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (live, foreign, unnamed, other)
    )


def test_a_run_removes_the_scratch_folder_a_killed_run_left(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    code = textwrap.dedent(
        """
        import os, signal, sys
        from bayes_bcsm.runs.entry import hydra_entry

        def run(cfg, output_dir):
            os.kill(os.getpid(), signal.SIGKILL)  # killed while compiling

        hydra_entry(run)(sys.argv[1:])
        """
    )
    env = os.environ | {"TMPDIR": str(scratch)}
    killed = subprocess.run(
        [sys.executable, "-c", code, "hydra.run.dir=killed"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert killed.returncode == -9
    assert [p.name.split("-")[0] for p in scratch.iterdir()] == ["bayes_bcsm"]
    again = subprocess.run(
        [
            sys.executable,
            "-c",
            code.replace("os.kill(os.getpid(), signal.SIGKILL)", "pass"),
            "hydra.run.dir=next",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert list(scratch.iterdir()) == []


def test_a_failed_run_records_its_error_and_leaves_no_temporary_files(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    code = textwrap.dedent(
        """
        import sys, tempfile
        from bayes_bcsm.runs.entry import hydra_entry

        def run(cfg, output_dir):
            tempfile.NamedTemporaryFile(delete=False).write(b"compiled source")
            raise RuntimeError("the sampler crashed")

        hydra_entry(run)(["hydra.run.dir=out"])
        """
    )
    process = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=os.environ | {"TMPDIR": str(scratch)},
        timeout=300,
    )
    assert process.returncode != 0
    record = (tmp_path / "out" / "error.txt").read_text()
    assert record.startswith("RuntimeError: the sampler crashed")
    assert "Traceback" in record
    assert list(scratch.iterdir()) == []


def test_a_user_error_is_recorded_in_the_run_folder(tmp_path):
    process = _start(["fit", "sampler.draws=0", "hydra.run.dir=out"], tmp_path)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 1 and "sampler.draws=0" in err
    assert "sampler.draws=0" in (tmp_path / "out" / "error.txt").read_text()


def test_the_sweep_summary_counts_killed_and_unclaimed_jobs_as_failed(tmp_path):
    """A job killed mid-run leaves its claim at "running"; one that could not even claim its
    folder has only Hydra's .hydra/: both are failures in the summary, never silently done."""
    states = {
        "0_seed=1": '{"state": "done", "message": ""}',
        "1_seed=2": '{"state": "running", "pid": 1}',
        "2_seed=3": None,
        "10_seed=4": '{"state": "failed", "message": "sampler.draws=0: expected a positive"}',
    }
    for name, claim in states.items():
        (tmp_path / name / ".hydra").mkdir(parents=True)
        if claim is not None:
            (tmp_path / name / ".bayes_bcsm_run").write_text(claim)
    (tmp_path / ".bayes_bcsm_run").write_text('{"state": "running"}')  # the sweep's own
    summary, complete = sweep_summary(tmp_path)
    assert not complete
    assert summary.splitlines() == [
        f"sweep {tmp_path}: 4 jobs, 1 done, 3 failed",
        "  failed 1_seed=2: ended without recording a result (killed, or see its log)",
        "  failed 2_seed=3: ended without recording a result (killed, or see its log)",
        "  failed 10_seed=4: sampler.draws=0: expected a positive",
        "  (details: error.txt and the log in each failed job's folder)",
    ]
