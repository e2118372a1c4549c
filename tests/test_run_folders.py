"""Run folders: never shared, never overwritten, a failure recorded, no temporary files left.

(Hostile-input audit, issue 12: runs started in the same second shared one folder; a failed
run left an empty log; every fit left compiler temporaries in $TMPDIR.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml


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


def test_a_used_run_folder_is_refused(tmp_path):
    first = _start(["fit", "model=cox", "hydra.run.dir=out"], tmp_path)
    assert first.wait(timeout=600) == 0
    before = (tmp_path / "out" / "hazard_ratios.csv").read_bytes()
    second = _start(["fit", "model=cox", "seed=5", "hydra.run.dir=out"], tmp_path)
    _, err = second.communicate(timeout=600)
    assert second.returncode == 1
    assert "already holds a run's results" in err and "Traceback" not in err
    assert (tmp_path / "out" / "hazard_ratios.csv").read_bytes() == before
    assert not (tmp_path / "out" / "error.txt").exists()


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
