"""Run folders: claimed by one run before anything is written, their outcome recorded.

A run (or a sweep) claims its folder by creating :data:`CLAIM` with ``O_EXCL``, so of two
processes given the same ``hydra.run.dir`` exactly one gets it; the other is refused before
Hydra writes its ``.hydra/`` files (the claim is made by :class:`ClaimRunFolder`, a Hydra
callback whose ``on_run_start`` / ``on_multirun_start`` run before the first write). The claim
file then records the run's state — ``running``, ``done`` or ``failed`` with the message —
from which :func:`sweep_summary` reports every job of a sweep.
"""

from __future__ import annotations

import json
import os
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from bayes_bcsm.atomic import write_refusal, write_text_atomic
from bayes_bcsm.config import ConfigError
from bayes_bcsm.errors import BayesBcsmUserError

CLAIM = ".bayes_bcsm_run"
"""Created (exclusively) in a folder by the run that owns it; holds the run's state (JSON)."""
RUN_MARKER = "resolved_config.yaml"
"""Present in a folder that holds a run's results (also from before claims existed)."""
ERROR_FILE = "error.txt"
"""Written into a run's folder when the run fails: the message and the traceback."""

CLAIMED_SWEEPS: list[Path] = []
"""Sweep folders claimed by this process (for the summary printed after the sweep)."""


def claim_folder(folder: Path, key: str = "hydra.run.dir") -> None:
    """Make ``folder`` this run's own: create it and its :data:`CLAIM` exclusively.

    Parameters
    ----------
    folder : Path
        The run's (or sweep's) output folder.
    key : str
        The setting that chose the folder (named in the refusal).

    Raises
    ------
    ConfigError
        If another run claimed the folder or left results in it.
    OutputWriteError
        If the folder cannot be written (read-only, full, no permission).
    """
    refusal = ConfigError(
        f"{key}={folder} already holds a run's results or belongs to a run in progress; "
        "choose a new folder rather than overwrite them"
    )
    if (folder / RUN_MARKER).exists():
        raise refusal
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(folder / CLAIM, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        with os.fdopen(descriptor, "w") as claim:
            claim.write(json.dumps({"state": "running", "pid": os.getpid()}) + "\n")
    except FileExistsError:
        raise refusal from None
    except OSError as error:
        user_error = write_refusal(error, folder)
        if user_error is None:
            raise
        raise user_error from error


def record_state(folder: Path, state: str, message: str = "") -> None:
    """Record a claimed run's outcome (``done`` or ``failed``) in its :data:`CLAIM` file.

    A refused write (full disk) is ignored: the state then stays ``running``, which the sweep
    summary reports as a job that did not finish.
    """
    try:
        write_text_atomic(folder / CLAIM, json.dumps({"state": state, "message": message}) + "\n")
    except Exception:  # the run's own error is what must reach the user
        pass


def record_failure(output_dir: Path, error: BaseException) -> Path | None:
    """Write the error's message and traceback into ``output_dir/error.txt``, atomically.

    Returns
    -------
    Path or None
        The file, or None when it could not be written (a full or read-only disk): a note
        is printed on stderr instead, and no empty or partial ``error.txt`` is left.
    """
    text = "".join(traceback.format_exception(error))
    try:
        return write_text_atomic(
            output_dir / ERROR_FILE, f"{type(error).__name__}: {error}\n\n{text}"
        )
    except Exception as failure:
        print(f"(the error could not be recorded in {ERROR_FILE}: {failure})", file=sys.stderr)
        return None


class ClaimRunFolder(Callback):
    """Hydra callback: claim the run's or the sweep's folder before Hydra writes into it.

    A refusal ends the process with the message alone (exit status 1): Hydra turns a
    callback's exceptions into warnings, so it exits rather than raises.
    """

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Claim ``hydra.run.dir`` (resolved once: Hydra reuses the resolved ``${now:}``)."""
        self._claim(config, "run")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Claim ``hydra.sweep.dir``; each job then claims its own sub-folder."""
        CLAIMED_SWEEPS.append(self._claim(config, "sweep"))

    @staticmethod
    def _claim(config: DictConfig, mode: str) -> Path:
        from bayes_bcsm.runs.entry import exit_with_message

        HydraConfig.instance().set_config(config)
        folder = Path(str(config.hydra[mode].dir)).absolute()
        try:
            claim_folder(folder, f"hydra.{mode}.dir")
        except BayesBcsmUserError as error:
            exit_with_message(error)
        return folder


@dataclass(frozen=True)
class JobState:
    """One job of a sweep: its folder (relative to the sweep's), state and message."""

    folder: str
    state: str
    message: str


def _job_number(name: str) -> tuple[int, str]:
    match = re.match(r"(\d+)", name)
    return (int(match.group(1)) if match else sys.maxsize, name)


def sweep_jobs(sweep_dir: Path) -> list[JobState]:
    """The jobs of a sweep, in job order: every folder Hydra started (``.hydra/``) or a job
    claimed, with the state its claim file records (none, or ``running``: did not finish)."""
    folders = {p.parent for p in sweep_dir.rglob(".hydra") if p.is_dir()}
    folders |= {p.parent for p in sweep_dir.rglob(CLAIM)}
    folders.discard(sweep_dir)
    jobs = []
    for folder in folders:
        try:
            record = json.loads((folder / CLAIM).read_text())
        except (OSError, ValueError):
            record = {}
        state = record.get("state", "running")
        message = record.get("message", "")
        if state == "running":
            state, message = "failed", "ended without recording a result (killed, or see its log)"
        jobs.append(JobState(folder.relative_to(sweep_dir).as_posix(), state, message))
    return sorted(jobs, key=lambda job: _job_number(job.folder))


def sweep_summary(sweep_dir: Path) -> tuple[str, bool]:
    """The closing summary of a sweep and whether every job completed.

    Returns
    -------
    (str, bool)
        Lines naming the sweep folder, the counts, and each failed job with its message.
    """
    jobs = sweep_jobs(sweep_dir)
    failed = [job for job in jobs if job.state != "done"]
    lines = [
        f"sweep {sweep_dir}: {len(jobs)} jobs, {len(jobs) - len(failed)} done, {len(failed)} failed"
    ]
    lines += [f"  failed {job.folder}: {job.message}" for job in failed]
    if failed:
        lines.append(f"  (details: {ERROR_FILE} and the log in each failed job's folder)")
    return "\n".join(lines), not failed
