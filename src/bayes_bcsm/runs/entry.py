"""The one way runs become command-line programs: a thin Hydra application over a ``run``.

``python -m bayes_bcsm <command>``, the ``bayes-bcsm`` console script and the scripts in
``experiments/`` all go through :func:`hydra_entry`: Hydra parses the command line (overrides,
``-m`` sweeps, ``--cfg job``), composes the packaged configs (``pkg://bayes_bcsm.conf``) and calls
``run(cfg, output_dir)`` with its output folder. An error the user caused
(:class:`~bayes_bcsm.errors.BayesBcsmUserError`: a bad override, a bad data file) is printed as its
message alone on stderr with exit status 1; ``HYDRA_FULL_ERROR=1`` shows the traceback instead.
Hydra's own override and composition errors are reported the same way by Hydra.
"""

from __future__ import annotations

import os
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
from omegaconf import DictConfig

from bayes_bcsm.config import ConfigError, register_configs
from bayes_bcsm.errors import BayesBcsmUserError
from bayes_bcsm.resources import CONF_SEARCH_PATH
from bayes_bcsm.runs.command_line import check_config_dir, covariate_overrides

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


ERROR_FILE = "error.txt"
"""Written into a run's folder when the run fails: the message and the traceback."""
RUN_MARKER = "resolved_config.yaml"
"""Present in a folder that already holds a run's results."""


@contextmanager
def scratch_tempdir() -> Iterator[Path]:
    """Point :mod:`tempfile` at a private folder for the duration, then delete it.

    PyTensor's numba back end writes each compiled function's source to a temporary file and
    never removes it (about a dozen per fit); with this, nothing is left in ``$TMPDIR``.
    """
    previous = tempfile.tempdir
    folder = Path(tempfile.mkdtemp(prefix="bayes_bcsm-"))
    tempfile.tempdir = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(folder, ignore_errors=True)


def refuse_used_folder(output_dir: Path) -> None:
    """Refuse to write a run into a folder that already holds another run's results.

    Raises
    ------
    ConfigError
        Naming the folder, when it has a ``resolved_config.yaml``.
    """
    if (output_dir / RUN_MARKER).exists():
        raise ConfigError(
            f"hydra.run.dir={output_dir} already holds a run's results ({RUN_MARKER}); "
            "choose a new folder rather than overwrite them"
        )


def record_failure(output_dir: Path, error: BaseException) -> Path:
    """Write the error's message and traceback into ``output_dir/error.txt``; return its path."""
    path = output_dir / ERROR_FILE
    text = "".join(traceback.format_exception(error))
    path.write_text(f"{type(error).__name__}: {error}\n\n{text}")
    return path


def hydra_entry(
    run: Callable[[DictConfig, Path], object], config_name: str = "config"
) -> Callable[[Sequence[str] | None], None]:
    """Wrap ``run(cfg, output_dir)`` as a Hydra application over the packaged configs.

    Parameters
    ----------
    run : callable
        ``run(cfg, output_dir)``; its return value is ignored.
    config_name : str
        The primary config in ``bayes_bcsm/conf`` (``config``; ``reproduce`` selects the
        ``paper_reproduction`` experiment by default).

    Returns
    -------
    callable
        ``main(argv=None)``: parses ``argv`` (``sys.argv[1:]`` when None) as Hydra's command line,
        runs, and prints ``report: <path>`` when the run wrote a report.
    """
    register_configs()

    def task(cfg: DictConfig) -> None:
        output_dir = Path(HydraConfig.get().runtime.output_dir)
        before = _stamps(output_dir)
        try:
            refuse_used_folder(output_dir)
        except ConfigError as error:  # not our folder: record nothing in it
            exit_with_message(error)
        try:
            with scratch_tempdir():
                run(cfg, output_dir)
        except BayesBcsmUserError as error:
            record_failure(output_dir, error)
            if full_error_requested():
                raise
            exit_with_message(error)
        except BaseException as error:
            record_failure(output_dir, error)
            raise
        report = written_report(output_dir, before)
        if report is not None:
            print(f"report: {report}")

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
        _run_hydra(
            args=args,
            args_parser=parser,
            task_function=task,
            config_path=CONF_SEARCH_PATH,
            config_name=config_name,
        )

    return main
