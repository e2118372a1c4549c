"""The one way runs become command-line programs: a thin Hydra application over a ``run``.

``python -m bayes_bcsm <command>``, the ``bayes-bcsm`` console script and the scripts in
``experiments/`` all go through :func:`hydra_entry`: Hydra parses the command line (overrides,
``-m`` sweeps, ``--cfg job``), composes the packaged configs (``pkg://bayes_bcsm.conf``) and calls
``run(cfg, output_dir)`` with its output folder. An error the user caused
(:class:`~bayes_bcsm.errors.BayesBcsmUserError`: a bad override, a bad data file) is printed as its
message alone on stderr with exit status 1; ``HYDRA_FULL_ERROR=1`` shows the traceback instead.
So is a write the file system refused (full or read-only disk:
:class:`~bayes_bcsm.atomic.OutputWriteError`). Hydra's own override and composition errors are
reported the same way by Hydra.

Each run claims its folder before Hydra writes into it (:mod:`bayes_bcsm.runs.folders`): a
folder that holds another run's results, or that a concurrent run claimed first, is refused.
In a sweep (``-m``) a failing job is recorded in its folder (``error.txt``) and reported, the
other jobs run, and a summary of the sweep ends the output (exit status 1 if a job failed).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from hydra import version
from hydra._internal.utils import _run_hydra, get_args_parser
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from bayes_bcsm.atomic import write_refusal
from bayes_bcsm.config import ConfigError, register_configs
from bayes_bcsm.errors import BayesBcsmUserError
from bayes_bcsm.resources import CONF_SEARCH_PATH
from bayes_bcsm.runs.command_line import check_config_dir, covariate_overrides
from bayes_bcsm.runs.folders import (
    CLAIMED_SWEEPS,
    claim_folder,
    record_failure,
    record_state,
    sweep_summary,
)

CLAIM_CALLBACK = (
    "++hydra.callbacks.bayes_bcsm_claim._target_=bayes_bcsm.runs.folders.ClaimRunFolder"
)
"""The override that makes Hydra claim the run's folder before writing into it."""
REPORT_FILES = ("report.html", "report.md")
"""What a run's report is called, preferred first (``report.html=false`` writes only the .md)."""


def full_error_requested() -> bool:
    """True when ``HYDRA_FULL_ERROR=1``: show tracebacks of user errors too (as Hydra does)."""
    return os.environ.get("HYDRA_FULL_ERROR") == "1"


def exit_with_message(error: BaseException) -> NoReturn:
    """Print ``error``'s message alone on stderr and exit with status 1.

    Raises
    ------
    SystemExit
        Always, with code 1.
    """
    print(str(error), file=sys.stderr, flush=True)
    raise SystemExit(1)


def _stamps(folder: Path) -> dict[Path, int]:
    """Modification times of the report files already in ``folder``."""
    paths = (folder / name for name in REPORT_FILES)
    return {p: p.stat().st_mtime_ns for p in paths if p.is_file()}


def written_report(folder: Path, before: dict[Path, int]) -> Path | None:
    """The report a run wrote into ``folder``: new, or changed since ``before`` (else None).

    Parameters
    ----------
    folder : Path
        The run's output folder.
    before : dict of Path to int
        Report files present before the run and their modification times (ns).

    Returns
    -------
    Path or None
        ``report.html`` if written, else ``report.md`` if written, else None.
    """
    after = _stamps(folder)
    for path, stamp in after.items():
        if before.get(path) != stamp:
            return path
    return None


SCRATCH_PREFIX = "bayes_bcsm-"
"""Private temporary folders are named ``bayes_bcsm-<pid>-<random>``."""


SCRATCH_LOCK = ".owner"
"""A file in each private temporary folder, locked (``flock``) by its run while it lives."""


def _alive(pid: int) -> bool:
    """Whether a process with id ``pid`` exists (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _locked(folder: Path) -> bool:
    """Whether a live process holds ``folder``'s :data:`SCRATCH_LOCK` (the kernel releases it
    when its owner dies, even by SIGKILL; it also guards a process id from another pid
    namespace sharing ``$TMPDIR``)."""
    try:
        descriptor = os.open(folder / SCRATCH_LOCK, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(descriptor)
    return False


def remove_stale_scratch(parent: str | Path | None = None) -> list[Path]:
    """Delete the private temporary folders of runs that no longer exist; return them.

    A killed run cannot delete its :func:`scratch_tempdir`; the process id in the folder's name
    and the lock its owner holds tell whether the owner is gone. A live run's folder (or one
    without a process id) is never touched.

    Parameters
    ----------
    parent : str or Path, optional
        Where to look; :func:`tempfile.gettempdir` by default.
    """
    parent = Path(tempfile.gettempdir() if parent is None else parent)
    removed = []
    for folder in parent.glob(f"{SCRATCH_PREFIX}*"):
        match = re.fullmatch(rf"{SCRATCH_PREFIX}(\d+)-.+", folder.name)
        owner_gone = match and not _alive(int(match.group(1))) and not _locked(folder)
        if owner_gone and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextmanager
def scratch_tempdir() -> Iterator[Path]:
    """Point :mod:`tempfile` at a private folder for the duration, then delete it.

    PyTensor's numba back end writes each compiled function's source to a temporary file and
    never removes it (about a dozen per fit); with this, nothing is left in ``$TMPDIR``. The
    folders left by killed runs are removed first (:func:`remove_stale_scratch`).
    """
    remove_stale_scratch()
    previous = tempfile.tempdir
    folder = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
    lock = os.open(folder / SCRATCH_LOCK, os.O_CREAT | os.O_WRONLY, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    tempfile.tempdir = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = previous
        os.close(lock)
        shutil.rmtree(folder, ignore_errors=True)


def as_user_error(error: BaseException) -> BayesBcsmUserError | None:
    """``error`` as the user must see it: itself if a user error, a refused write, else None."""
    if isinstance(error, BayesBcsmUserError):
        return error
    return write_refusal(error)


def _perform(
    run: Callable[[DictConfig, Path], object], cfg: DictConfig, output_dir: Path
) -> Path | None:
    """Call ``run`` in a private temporary folder; return the report it wrote, if any."""
    before = _stamps(output_dir)
    with scratch_tempdir():
        run(cfg, output_dir)
    return written_report(output_dir, before)


def _record_failed(output_dir: Path, error: BaseException) -> BayesBcsmUserError | None:
    """Record a failed run in its folder (``error.txt``, its state); return its user error."""
    record_failure(output_dir, error)
    user_error = as_user_error(error)
    message = str(user_error or error) or type(error).__name__
    record_state(output_dir, "failed", message.splitlines()[0])
    return user_error


def _record_done(output_dir: Path, report: Path | None) -> None:
    """Record a finished run in its folder and print where its report is."""
    record_state(output_dir, "done")
    if report is not None:
        print(f"report: {report}")


def _single_run(
    run: Callable[[DictConfig, Path], object], cfg: DictConfig, output_dir: Path
) -> None:
    """One run: its folder was claimed by :class:`ClaimRunFolder`; a user error ends it (exit 1)."""
    try:
        report = _perform(run, cfg, output_dir)
    except BaseException as error:
        user_error = _record_failed(output_dir, error)
        if user_error is None or full_error_requested():
            raise
        exit_with_message(user_error)
    _record_done(output_dir, report)


def _sweep_job(
    run: Callable[[DictConfig, Path], object], cfg: DictConfig, output_dir: Path
) -> None:
    """One job of a sweep: any failure is recorded and reported, and the sweep goes on.

    A job never ends the process (Hydra's launchers catch ``Exception`` only), so the other
    jobs run; :func:`hydra_entry`'s ``main`` prints the sweep's summary at the end.
    """
    try:
        claim_folder(output_dir, "hydra.sweep.subdir")
    except BayesBcsmUserError as error:
        print(f"job {output_dir.name}: {error}", file=sys.stderr, flush=True)
        return
    try:
        report = _perform(run, cfg, output_dir)
    except Exception as error:
        user_error = _record_failed(output_dir, error)
        if user_error is None or full_error_requested():
            traceback.print_exception(error)
        message = str(user_error) if user_error is not None else repr(error)
        print(f"job {output_dir.name} failed: {message}", file=sys.stderr, flush=True)
        return
    _record_done(output_dir, report)


def hydra_entry(
    run: Callable[[DictConfig, Path], object], config_name: str = "config"
) -> Callable[[Sequence[str] | None], None]:
    """Wrap ``run(cfg, output_dir)`` as a Hydra application over the packaged configs.

    Parameters
    ----------
    run : callable
        ``run(cfg, output_dir)``; its return value is ignored.
    config_name : str
        The primary config in ``bayes_bcsm/conf`` (``config``; ``compare`` selects the
        ``bayes_vs_cox`` experiment by default, ``reproduce`` the ``paper_reproduction`` one).

    Returns
    -------
    callable
        ``main(argv=None)``: parses ``argv`` (``sys.argv[1:]`` when None) as Hydra's command line,
        runs, and prints ``report: <path>`` when the run wrote a report.
    """
    register_configs()

    def task(cfg: DictConfig) -> None:
        hydra = HydraConfig.get()
        output_dir = Path(hydra.runtime.output_dir)
        if hydra.mode == RunMode.MULTIRUN:
            _sweep_job(run, cfg, output_dir)
        else:
            _single_run(run, cfg, output_dir)

    def main(argv: Sequence[str] | None = None) -> None:
        # What @hydra.main does, except that the command line is ``argv`` rather than
        # sys.argv (so `bayes-bcsm fit ...` needs no sys.argv surgery). hydra-core is pinned
        # to 1.3, whose private _run_hydra this is.
        version.setbase("1.3")
        parser = get_args_parser()
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        try:
            check_config_dir(args.config_dir)
        except ConfigError as error:
            if full_error_requested():
                raise
            exit_with_message(error)
        args.overrides = covariate_overrides(args.overrides)
        args.overrides = [*args.overrides, CLAIM_CALLBACK]
        del CLAIMED_SWEEPS[:]
        _run_hydra(
            args=args,
            args_parser=parser,
            task_function=task,
            config_path=CONF_SEARCH_PATH,
            config_name=config_name,
        )
        for sweep_dir in CLAIMED_SWEEPS:
            summary, complete = sweep_summary(sweep_dir)
            record_state(sweep_dir, "done" if complete else "failed", summary.splitlines()[0])
            print(summary, file=sys.stdout if complete else sys.stderr, flush=True)
            if not complete:
                raise SystemExit(1)

    return main
