"""Regenerate the bundled reconstructed cohort from its config; optionally rerun the search.

Usage
-----
    bayes-bcsm calibrate               # reconstruction.yaml -> bcsm_reconstructed.csv
    bayes-bcsm calibrate --config my.yaml --out my.csv      # another config's cohort
    bayes-bcsm calibrate --search --out new.csv             # rerun the search: new.csv, new.yaml
    bayes-bcsm calibrate --search --budget 160000 --search-seed 2025 \
        --start docs/calibration/search_start.yaml --out new.csv   # the committed search
    bayes-bcsm calibrate --report DIR  # calibration report (Markdown, HTML, PNG) in DIR

(``python -m bayes_bcsm calibrate`` and ``python experiments/calibrate.py`` are the same.) The
shipped files live in the package (:func:`bayes_bcsm.resources.reconstruction_config`,
:func:`bayes_bcsm.resources.bundled_cohort`). Only the plain ``calibrate`` writes there, and
only what it reads (the CSV is a pure function of the YAML, generator parameters + seed, so
regeneration is bit-identical; ``tests/reconstruct/test_committed_cohort.py`` checks it).
Anything that makes a different cohort writes where it is told: ``--search`` needs ``--out``
(the new YAML goes to ``--config``, else beside the CSV with the suffix ``.yaml``), and
``--config`` needs ``--out``. To replace the shipped cohort, name its two files explicitly.

The search stops on a budget of evaluations (``--budget``, at least two evaluations per
covariate setting and cached seed: 2,880 with the default ``--seeds 120``), not on the clock,
so the same ``--budget`` and ``--search-seed`` give the same parameters on any machine;
``--start`` adds a warm start (an earlier reconstruction YAML: its seed and parameters take one
climber's place). Budget, seed and start are written to the YAML's ``search`` entry, with the
trade-off frontier between Tables 1-2 and Table 3 that the report plots. Every flag, file and
output folder is checked before the search starts; a mistake is one line, exit status 1.

This is not a Hydra application: it writes cohort files rather than a run folder, and takes a
handful of flags, not a config.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from bayes_bcsm.atomic import check_writable, write_text_atomic
from bayes_bcsm.errors import BayesBcsmUserError
from bayes_bcsm.reconstruct.calibrate import SURPRISE_THRESHOLD
from bayes_bcsm.reconstruct.generator import (
    GeneratorParams,
    format_cohort_csv,
    read_reconstruction_config,
    simulate_cohort,
)
from bayes_bcsm.resources import bundled_cohort, reconstruction_config

HEADER = """\
# Generating config of data/bcsm_reconstructed.csv (a RECONSTRUCTION
# calibrated to the published aggregates of Hu et al. 2025, not patient data). Written by
# `bayes-bcsm calibrate --search`; `bayes-bcsm calibrate` regenerates the CSV from it
# bit-identically.
"""


def read_config(path: Path | None = None) -> tuple[int, int, GeneratorParams, dict]:
    """``(n, seed, params, extra)`` of a reconstruction config (the bundled one by default;
    :func:`bayes_bcsm.reconstruct.generator.read_reconstruction_config`)."""
    config = read_reconstruction_config(path)
    return config.n, config.seed, config.params, config.extra


def write_config(
    n: int, seed: int, params: GeneratorParams, extra: dict, path: Path | None = None
) -> None:
    """Write a reconstruction config (header comment + ``n``, ``seed``, ``params``, ``extra``).

    Parameters
    ----------
    n : int
        Cohort size.
    seed : int
        The generator's seed.
    params : GeneratorParams
        The generator parameters.
    extra : dict
        Further top-level entries (the search summary).
    path : Path, optional
        Where to write; the packaged ``reconstruction.yaml`` by default.
    """
    path = reconstruction_config() if path is None else Path(path)
    body = {"n": n, "seed": seed, "params": params.to_dict(), **extra}
    write_text_atomic(path, HEADER + yaml.safe_dump(body, sort_keys=False, default_flow_style=None))


def regenerate(config: Path | None = None) -> str:
    """The cohort CSV text generated from a reconstruction config.

    Parameters
    ----------
    config : Path, optional
        The YAML file; the packaged ``reconstruction.yaml`` by default.

    Returns
    -------
    str
        The CSV, byte for byte as committed.
    """
    n, seed, params, _ = read_config(config)
    return format_cohort_csv(simulate_cohort(n, seed, params=params))


def parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The command line of ``bayes-bcsm calibrate``."""
    p = argparse.ArgumentParser(
        prog=prog,
        description=__doc__.splitlines()[0],
        epilog=(
            "Only the plain `calibrate` writes the shipped cohort (regenerating it from the "
            "shipped YAML, bit-identically). --search and --config need --out: a new cohort "
            "never replaces the shipped one unless you name its files."
        ),
    )
    p.add_argument("--search", action="store_true", help="rerun the calibration search")
    p.add_argument("--report", type=Path, default=None, help="write the report to DIR")
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="reconstruction YAML to read (default: the shipped one); with --search, where the "
        "new one is written (default: --out with the suffix .yaml)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="cohort CSV to write (default: the shipped one; required with --search or --config)",
    )
    p.add_argument(
        "--budget",
        type=int,
        default=160_000,
        help="cohorts scored by the search (evaluations; at least 2 x 12 settings x --seeds)",
    )
    p.add_argument("--search-seed", type=int, default=2025, help="seed of the search's draws")
    p.add_argument(
        "--start", type=Path, default=None, help="warm start: a reconstruction YAML (optional)"
    )
    p.add_argument("--seeds", type=int, default=120, help="seeds cached per setting")
    p.add_argument("--workers", type=int, default=2, help="processes (result independent)")
    p.add_argument(
        "--surprise-threshold",
        type=float,
        default=SURPRISE_THRESHOLD,
        help="report: a printed log-rank side reached by fewer than this share of cohorts with "
        "the printed medians is a documented exception, not a failed criterion (default "
        f"{SURPRISE_THRESHOLD})",
    )
    return p


class CalibrateError(BayesBcsmUserError):
    """A ``calibrate`` flag that cannot be honoured (named with what was expected)."""


def _check_search_flags(args: argparse.Namespace) -> None:
    """Refuse search flags that would run a different search than asked (before it starts)."""
    from bayes_bcsm.reconstruct.search import minimum_budget

    for flag, value in (("--seeds", args.seeds), ("--workers", args.workers)):
        if value < 1:
            raise CalibrateError(f"calibrate {flag} {value}: expected a positive integer")
    smallest = minimum_budget(args.seeds)
    if args.budget < smallest:
        raise CalibrateError(
            f"calibrate --budget {args.budget}: the search needs at least {smallest} "
            f"evaluations with --seeds {args.seeds} (the committed search used 160000)"
        )


def planned_files(args: argparse.Namespace) -> tuple[Path, Path]:
    """``(reconstruction YAML, cohort CSV)`` of a ``calibrate`` call, every flag checked.

    Raises
    ------
    CalibrateError
        ``--search`` or ``--config`` without ``--out``; a search flag out of range.
    ReconstructionConfigError
        ``--config`` or ``--start`` missing, unreadable or malformed.
    OutputWriteError
        An output folder (``--out``, ``--config`` of a search, ``--report``) not writable.
    """
    if not 0 < args.surprise_threshold < 1:
        raise CalibrateError(
            f"calibrate --surprise-threshold {args.surprise_threshold}: expected a probability "
            "in (0, 1)"
        )
    if args.search:
        if args.out is None:
            raise CalibrateError(
                "calibrate --search needs --out FILE.csv: the search writes a new cohort there "
                "(and its YAML beside it, or to --config) rather than over the shipped one"
            )
        _check_search_flags(args)
        config = args.config or args.out.with_suffix(".yaml")
        if args.start is not None:
            read_config(args.start)
    else:
        config = args.config or reconstruction_config()
        read_config(config)
        if args.config is not None and args.out is None:
            raise CalibrateError(
                f"calibrate --config {args.config} needs --out FILE.csv: its cohort would "
                "otherwise replace the shipped one"
            )
    out = args.out or bundled_cohort()
    if out.is_dir():
        raise CalibrateError(f"calibrate --out {out}: is a folder; expected a CSV file name")
    folders = [out.parent, *([config.parent] if args.search else [])]
    for folder in [*folders, *([args.report] if args.report is not None else [])]:
        check_writable(folder)
    return config, out


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Run ``bayes-bcsm calibrate`` with the arguments ``argv`` (``sys.argv[1:]`` if None).

    Returns
    -------
    int
        The exit status (0).

    Raises
    ------
    BayesBcsmUserError
        A bad flag, config or output folder (:func:`planned_files`), before any work.
    """
    args = parser(prog).parse_args(argv)
    config, out = planned_files(args)
    if args.search:
        from bayes_bcsm.reconstruct.search import search

        start = None
        if args.start is not None:
            _, start_seed, start_params, _ = read_config(args.start)
            start = (start_seed, start_params)
        result = search(
            budget=args.budget,
            workers=args.workers,
            n_seeds=args.seeds,
            seed=args.search_seed,
            start=start,
        )
        summary = {
            "n_seeds": args.seeds,
            "start_config": None if args.start is None else args.start.as_posix(),
            **result.summary(),
        }
        write_config(78, result.seed, result.params, {"search": summary}, config)
        print(
            f"chosen seed {result.seed}, loss {result.loss:.3f}, Table 3 distance "
            f"{result.table3_distance:.2f} SE, {result.seconds:.0f} s; wrote {config}"
        )
    write_text_atomic(out, regenerate(config))
    print(f"wrote {out}")
    if args.report is not None:
        from bayes_bcsm.reconstruct.calibrate import calibration_report_tables
        from bayes_bcsm.report.calibration import write_calibration_report

        n, seed, params, extra = read_config(config)
        cohort = simulate_cohort(n, seed, params=params)
        tables = calibration_report_tables(
            cohort, true_log_hr=params.effects, surprise_threshold=args.surprise_threshold
        )
        tables["search"] = extra.get("search", {})
        path = write_calibration_report(tables, cohort, args.report)
        print(f"wrote {path}")
    return 0
