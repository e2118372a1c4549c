"""``bayes-bcsm <command> [overrides]`` and ``python -m bayes_bcsm <command> [overrides]``.

Commands
--------
fit
    One model fit and its report (``bayes_bcsm.runs.fit``).
compare
    Several variants in one comparison report (``bayes_bcsm.runs.compare``); the
    ``bayes_vs_cox`` experiment (Weibull and piecewise beside Cox and Firth, on any card) unless
    ``experiment=...`` is given.
reproduce
    The paper's Tables 2-3 and Figs 1-3 (``bayes_bcsm.runs.reproduce``); on another card,
    Kaplan-Meier by each binary and categorical covariate, log-rank tests and a Cox model of
    its covariates; the ``paper_reproduction`` experiment unless ``experiment=...`` is given.
reinterpret
    Printed hazard ratios re-read the Bayesian way (``bayes_bcsm.runs.reinterpret``); the
    ``reinterpret_paper`` experiment unless ``experiment=...`` is given.
simulate
    The simulation study (``bayes_bcsm.runs.simulate``).
predict
    Posterior survival, median and RMST of covariate profiles, from a saved run folder
    (``predict.run_dir``, no refit) or after fitting (``bayes_bcsm.runs.predict``).
calibrate
    Regenerate the bundled reconstructed cohort (``bayes_bcsm.runs.calibrate``; flags, not
    Hydra overrides: ``--search``, ``--report DIR``).

Everything after the Hydra commands is Hydra's command line (``model=piecewise``, ``-m``,
``--cfg job``, ``--help``). The scripts in ``experiments/`` are thin wrappers over this module.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

import bayes_bcsm.cpu_load  # noqa: F401  (early: it measures other work from here on)

PROG = "bayes-bcsm"


@dataclass(frozen=True)
class Command:
    """A sub-command: the module whose ``run(cfg, output_dir)`` it calls, and its primary config."""

    module: str
    summary: str
    config_name: str = "config"


HYDRA_COMMANDS: dict[str, Command] = {
    "fit": Command("bayes_bcsm.runs.fit", "one model fit and its report"),
    "compare": Command(
        "bayes_bcsm.runs.compare",
        "Bayesian Weibull and piecewise beside Cox and Firth (experiment=bayes_vs_cox by default)",
        config_name="compare",
    ),
    "reproduce": Command(
        "bayes_bcsm.runs.reproduce",
        "the paper's Tables 2-3 and Figs 1-3; on another card KM by group, log-rank, Cox",
        config_name="reproduce",
    ),
    "reinterpret": Command(
        "bayes_bcsm.runs.reinterpret",
        "printed hazard ratios re-read: prior grid, credibility, design analysis",
        config_name="reinterpret_cmd",
    ),
    "simulate": Command("bayes_bcsm.runs.simulate", "the simulation study"),
    "predict": Command(
        "bayes_bcsm.runs.predict",
        "posterior survival of covariate profiles (predict.profiles / predict.profiles_csv) "
        "from a saved run (predict.run_dir) or after fitting",
    ),
}
COMMANDS = (*HYDRA_COMMANDS, "calibrate")


def usage() -> str:
    """The top-level help text."""
    lines = [
        f"usage: {PROG} <command> [Hydra overrides ...]",
        f"       {PROG} <command> --help     (the command's config groups and options)",
        "",
        "commands:",
    ]
    lines += [f"  {name:<10} {c.summary}" for name, c in HYDRA_COMMANDS.items()]
    lines.append(f"  {'calibrate':<10} regenerate the bundled cohort (--search, --report DIR)")
    lines += ["", f"example: {PROG} fit model=piecewise prior=sceptical sampler=quick"]
    return "\n".join(lines)


def call_run(module: str, cfg: DictConfig, output_dir: Path) -> object:
    """Import ``module`` and call its ``run(cfg, output_dir)``.

    Imported only once Hydra has composed the config, so a bad override is reported before the
    modelling stack (PyMC, PyTensor) is loaded.
    """
    return importlib.import_module(module).run(cfg, output_dir)


def run_calibrate(argv: Sequence[str], prog: str = f"{PROG} calibrate") -> int:
    """``calibrate`` with its flags; a user error prints its message alone (exit status 1).

    Parameters
    ----------
    argv : sequence of str
        The flags (``--search``, ``--report DIR``, ``--config``, ``--out`` ...).
    prog : str
        The program name shown in its usage line.

    Returns
    -------
    int
        The exit status.
    """
    from bayes_bcsm.errors import BayesBcsmUserError
    from bayes_bcsm.runs import calibrate
    from bayes_bcsm.runs.entry import exit_with_message, full_error_requested

    try:
        return calibrate.main(list(argv), prog=prog)
    except BayesBcsmUserError as error:
        if full_error_requested():
            raise
        exit_with_message(error)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``argv`` (``sys.argv[1:]`` when None) to a command.

    Parameters
    ----------
    argv : sequence of str, optional
        ``[command, *arguments]``.

    Returns
    -------
    int
        The exit status (Hydra exits by itself on its own errors; user errors exit 1).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name == "calibrate":
        return run_calibrate(rest)
    if name not in HYDRA_COMMANDS:
        print(
            f"{PROG}: unknown command {name!r}; expected one of: {', '.join(COMMANDS)}",
            file=sys.stderr,
        )
        return 2
    from bayes_bcsm.runs.entry import hydra_entry

    command = HYDRA_COMMANDS[name]
    run = functools.partial(call_run, command.module)
    hydra_entry(run, config_name=command.config_name)(rest)
    return 0


def console_main() -> None:
    """The ``bayes-bcsm`` program and ``python -m bayes_bcsm``: :func:`main`, then the end of
    the process.

    After a command has finished, every result is written (each file atomically, and closed)
    and the exit handlers are run (``atexit``: the log files are flushed and closed, worker
    processes are reaped); the process then ends with :func:`os._exit` instead of tearing the
    interpreter down module by module, which takes about 0.8 s once PyMC, nutpie, numba and
    matplotlib are loaded. Errors (``SystemExit`` from Hydra or a user error, an interrupt)
    and a command that leaves a thread of its own running end the usual way.
    """
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    if any(
        t.is_alive() and not t.daemon
        for t in threading.enumerate()
        if t is not threading.main_thread()
    ):
        sys.exit(status)
    atexit._run_exitfuncs()  # what the interpreter runs at exit, before its teardown
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
