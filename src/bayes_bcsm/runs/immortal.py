"""The immortal-time simulation run: shards, summary, checks, plots; and its committed answer.

:func:`run_immortal_study` runs the grid of :class:`bayes_bcsm.simulation.immortal.ImmortalGrid`
in resumable shards (:mod:`bayes_bcsm.simulation.shards`) and writes into one folder:

- ``shards/``: one CSV per block of replicates (a killed run resumes from them);
- ``replicates.csv.gz``: every replicate's three estimates per cell;
- ``summary.csv``: per cell and analysis (:func:`~bayes_bcsm.simulation.immortal.cell_summary`);
- ``checks.csv``: the issue's checks (:func:`~bayes_bcsm.simulation.immortal.immortal_checks`);
- ``shard_status.csv``, ``grid.json`` (settings, threshold delay, package versions);
- ``hr_by_delay.png``, ``coverage_by_delay.png``.

The repository commits such folders (``docs/immortal_time/`` on the Table 3 model, and its
``long_delays/`` and ``generator_model/``, the latter with ``--covariates generator``) and ships
the answer read from the main folder's summary in the package
(``data/immortal_time_answer.json``, :func:`committed_immortal_answer`),
so reports state it without rerunning the study.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_bcsm.atomic import write_csv_atomic, write_text_atomic
from bayes_bcsm.errors import SettingError
from bayes_bcsm.report.immortal_plots import plot_coverage_by_delay, plot_hr_by_delay
from bayes_bcsm.report.plots import save_figure
from bayes_bcsm.report.render import strict_json
from bayes_bcsm.resources import bundled_file
from bayes_bcsm.results import ImmortalTimeAnswer
from bayes_bcsm.runs.common import package_versions
from bayes_bcsm.runs.entry import exit_with_message, full_error_requested
from bayes_bcsm.simulation.immortal import (
    COVARIATE_SETS,
    ImmortalGrid,
    cell_summary,
    covariate_set,
    immortal_checks,
    plan_immortal_shards,
    run_immortal_shard,
    threshold_delay,
)
from bayes_bcsm.simulation.metrics import PRINTED_AHR
from bayes_bcsm.simulation.shards import collect_shards, run_shards

__all__ = [
    "BUNDLED_ANSWER",
    "MODEL_TITLES",
    "answer_json",
    "committed_immortal_answer",
    "immortal_answer",
    "main",
    "run_immortal_study",
]

#: How the plots' titles name each analysis model of :data:`COVARIATE_SETS`.
MODEL_TITLES = {"table3": "the Table 3 model", "generator": "the generator's covariates"}
#: The shipped answer of the committed study (the checkout's ``data/``):
#: :func:`immortal_answer` of its ``summary.csv`` as JSON.
BUNDLED_ANSWER = "immortal_time_answer.json"


def run_immortal_study(
    grid: ImmortalGrid, folder: str | Path, workers: int = 1, plots: bool = True
) -> pd.DataFrame:
    """Run (or resume) the grid and write its results into ``folder``.

    Parameters
    ----------
    grid : ImmortalGrid
    folder : str or Path
        The study's folder (shard files in ``shards/``; a rerun skips the shards done).
    workers : int
        Shards computed at once (separate processes; the numbers do not depend on it).
    plots : bool
        Draw the two figures.

    Returns
    -------
    DataFrame
        The summary (:func:`~bayes_bcsm.simulation.immortal.cell_summary`).

    Raises
    ------
    RuntimeError
        When a shard failed (its error is in ``shards/<name>.failed.json``); the shards done
        are kept.
    """
    folder = Path(folder)
    specs = plan_immortal_shards(grid)
    work = functools.partial(run_immortal_shard, grid)
    status = run_shards(folder / "shards", specs, work, workers=workers)
    write_csv_atomic(status, folder / "shard_status.csv", index=False)
    failed = status[status["state"] == "failed"]
    if len(failed):
        raise RuntimeError(
            f"{len(failed)} shard(s) failed, first {failed['shard'].iloc[0]}: "
            f"{failed['message'].iloc[0]} (see {folder / 'shards'})"
        )
    rows, _ = collect_shards(folder / "shards", specs)
    gzip = {"method": "gzip", "mtime": 0}  # byte-identical reruns
    write_csv_atomic(rows, folder / "replicates.csv.gz", index=False, compression=gzip)
    summary = cell_summary(rows)
    write_csv_atomic(summary, folder / "summary.csv", index=False, float_format="%.6g")
    write_csv_atomic(immortal_checks(summary), folder / "checks.csv", index=False)
    record = {
        "grid": dataclasses.asdict(grid),
        "threshold_delay_months_naive_median_below_0.5": threshold_delay(summary),
        "printed_ahr": PRINTED_AHR,
        "versions": package_versions(),
    }
    write_text_atomic(folder / "grid.json", strict_json(record))
    if plots:
        model = MODEL_TITLES[grid.covariate_set]
        title = f"n = {grid.n}, {grid.replicates} replicates per cell, Cox on {model}"
        save_figure(plot_hr_by_delay(summary, PRINTED_AHR, title), folder / "hr_by_delay.png")
        save_figure(plot_coverage_by_delay(summary, title), folder / "coverage_by_delay.png")
    return summary


def immortal_answer(summary: pd.DataFrame) -> ImmortalTimeAnswer:
    """The simulation's answer from its summary.

    Parameters
    ----------
    summary : DataFrame
        :func:`~bayes_bcsm.simulation.immortal.cell_summary` (e.g. the committed one).
    """
    naive = summary[summary["method"] == "naive"]
    null_naive = naive[np.isclose(naive["true_hr"], 1.0)].sort_values("delay_median_months")
    worst = naive.loc[naive["p_at_most_printed"].idxmax()]
    td_null = summary[(summary["method"] == "time_dependent") & np.isclose(summary["true_hr"], 1)]
    return ImmortalTimeAnswer(
        n=int(summary["n"].iloc[0]),
        replicates=int(summary["n_replicates"].min()),
        naive_median_hr_null=dict(
            zip(null_naive["delay_median_months"], null_naive["median_hr"], strict=True)
        ),
        threshold_delay_months=threshold_delay(summary),
        max_p_at_most_printed=float(worst["p_at_most_printed"]),
        max_p_at_most_printed_upper=float(worst["p_at_most_printed_upper"]),
        max_p_cell=(float(worst["delay_median_months"]), float(worst["true_hr"])),
        td_coverage_null=(float(td_null["coverage"].min()), float(td_null["coverage"].max())),
        printed_hr=PRINTED_AHR,
    )


def answer_json(answer: ImmortalTimeAnswer) -> str:
    """The answer as strict JSON (what ``--bundle`` writes)."""
    record = dataclasses.asdict(answer)
    record["naive_median_hr_null"] = [
        {"delay_median_months": d, "median_hr": hr} for d, hr in answer.naive_median_hr_null.items()
    ]
    return strict_json(record)


def committed_immortal_answer() -> ImmortalTimeAnswer:
    """The answer of the committed study (the shipped :data:`BUNDLED_ANSWER`)."""
    record = json.loads(bundled_file(BUNDLED_ANSWER).read_text())
    medians = record.pop("naive_median_hr_null")
    return ImmortalTimeAnswer(
        **{
            **record,
            "naive_median_hr_null": {m["delay_median_months"]: m["median_hr"] for m in medians},
            "threshold_delay_months": _number(record["threshold_delay_months"]),
            "max_p_cell": tuple(record["max_p_cell"]),
            "td_coverage_null": tuple(record["td_coverage_null"]),
        }
    )


def _number(value: float | None) -> float:
    """A JSON number, ``null`` (strict JSON's NaN) as NaN."""
    return np.nan if value is None else float(value)


def _parser(prog: str) -> argparse.ArgumentParser:
    defaults = ImmortalGrid()
    parser = argparse.ArgumentParser(
        prog=prog,
        description="The immortal-time simulation: naive, time-dependent and landmark Cox "
        "estimates of a post-operative therapy's HR over a grid of start delays x true HRs.",
    )
    parser.add_argument("--out", default="docs/immortal_time", help="the study's folder")
    parser.add_argument("--seed", type=int, default=defaults.base_seed)
    parser.add_argument("--n", type=int, default=defaults.n, help="patients per cohort")
    parser.add_argument("--replicates", type=int, default=defaults.replicates)
    parser.add_argument(
        "--delays-months", type=float, nargs="+", default=list(defaults.delays_months)
    )
    parser.add_argument("--true-hrs", type=float, nargs="+", default=list(defaults.true_hrs))
    parser.add_argument("--shape", type=float, default=defaults.shape)
    parser.add_argument("--share", type=float, default=defaults.share)
    parser.add_argument("--landmark-months", type=float, default=defaults.landmark_months)
    parser.add_argument(
        "--covariates",
        default=defaults.covariate_set,
        help=f"the Cox model's covariates: {' or '.join(COVARIATE_SETS)} (default %(default)s)",
    )
    parser.add_argument("--shard-size", type=int, default=defaults.shard_size)
    parser.add_argument("--workers", type=int, default=1, help="shards computed at once")
    parser.add_argument(
        "--bundle", default=None, help=f"also write the answer here (data/{BUNDLED_ANSWER})"
    )
    parser.add_argument("--no-plots", action="store_true")
    return parser


def main(argv: Sequence[str], prog: str = "experiments/immortal_time_simulation.py") -> int:
    """The command line of the study; a bad flag value prints one line naming the flag and
    exits with status 1 before any work.

    Returns
    -------
    int
        0 when every shard finished.
    """
    args = _parser(prog).parse_args(list(argv))
    try:
        grid = ImmortalGrid(
            base_seed=args.seed,
            n=args.n,
            replicates=args.replicates,
            delays_months=tuple(args.delays_months),
            true_hrs=tuple(args.true_hrs),
            shape=args.shape,
            share=args.share,
            landmark_months=args.landmark_months,
            covariates=covariate_set(args.covariates),
            shard_size=args.shard_size,
        )
        if args.workers < 1:
            raise SettingError("expected an integer >= 1", ("workers",), (args.workers,))
    except SettingError as error:
        flags = ", ".join(f"--{name.replace('_', '-')}" for name in error.fields)
        if full_error_requested():
            raise
        exit_with_message(SettingError(f"{flags}: {error.reason}"))
    summary = run_immortal_study(grid, args.out, workers=args.workers, plots=not args.no_plots)
    if args.bundle:  # from the summary as written, so the two files agree exactly
        written = pd.read_csv(Path(args.out) / "summary.csv")
        write_text_atomic(args.bundle, answer_json(immortal_answer(written)))
    print(immortal_checks(summary).to_string(index=False))
    return 0
