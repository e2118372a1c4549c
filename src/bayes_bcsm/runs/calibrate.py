"""Regenerate the bundled reconstructed cohort from its config; optionally rerun the search.

Usage
-----
    bayes-bcsm calibrate               # reconstruction.yaml -> bcsm_reconstructed.csv
    bayes-bcsm calibrate --search      # rerun the search, rewrite both files
    bayes-bcsm calibrate --search --budget 160000 --search-seed 2025 \
        --start docs/calibration/search_start.yaml     # the committed search
    bayes-bcsm calibrate --report DIR  # calibration report (Markdown, HTML, PNG) in DIR

(``python -m bayes_bcsm calibrate`` and ``python experiments/calibrate.py`` are the same.) Both
files live in the package (:func:`bayes_bcsm.resources.reconstruction_config`,
:func:`bayes_bcsm.resources.bundled_cohort`); ``--config`` and ``--out`` point elsewhere. The CSV
is a pure function of the YAML (generator parameters + seed), so regeneration is bit-identical;
``tests/reconstruct/test_committed_cohort.py`` checks it. The search stops on a budget of
evaluations (``--budget``), not on the clock, so the same ``--budget`` and ``--search-seed``
give the same parameters on any machine; ``--start`` adds a warm start (an earlier
reconstruction YAML: its seed and parameters take one climber's place). Budget, seed and start
are written to the YAML's ``search`` entry, with
the trade-off frontier between Tables 1-2 and Table 3 that the report plots.

This is not a Hydra application: it rewrites the package's committed files rather than writing
a run folder, and takes a handful of flags, not a config.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

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
    path.write_text(HEADER + yaml.safe_dump(body, sort_keys=False, default_flow_style=None))


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
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    p.add_argument("--search", action="store_true", help="rerun the calibration search")
    p.add_argument("--report", type=Path, default=None, help="write the report to DIR")
    p.add_argument("--config", type=Path, default=None, help="reconstruction YAML (packaged)")
    p.add_argument("--out", type=Path, default=None, help="cohort CSV to write (packaged)")
    p.add_argument(
        "--budget", type=int, default=160_000, help="cohorts scored by the search (evaluations)"
    )
    p.add_argument("--search-seed", type=int, default=2025, help="seed of the search's draws")
    p.add_argument(
        "--start", type=Path, default=None, help="warm start: a reconstruction YAML (optional)"
    )
    p.add_argument("--seeds", type=int, default=120, help="seeds cached per setting")
    p.add_argument("--workers", type=int, default=2, help="processes (result independent)")
    return p


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Run ``bayes-bcsm calibrate`` with the arguments ``argv`` (``sys.argv[1:]`` if None).

    Returns
    -------
    int
        The exit status (0).
    """
    args = parser(prog).parse_args(argv)
    config = args.config or reconstruction_config()
    out = args.out or bundled_cohort()
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
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(regenerate(config))
    print(f"wrote {out}")
    if args.report is not None:
        from bayes_bcsm.reconstruct.calibrate import calibration_report_tables
        from bayes_bcsm.report.calibration import write_calibration_report

        n, seed, params, extra = read_config(config)
        cohort = simulate_cohort(n, seed, params=params)
        tables = calibration_report_tables(cohort, true_log_hr=params.effects)
        tables["search"] = extra.get("search", {})
        path = write_calibration_report(tables, cohort, args.report)
        print(f"wrote {path}")
    return 0
