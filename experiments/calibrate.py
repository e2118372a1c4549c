"""Regenerate the reconstructed cohort from its config; optionally rerun the search or a report.

Usage
-----
    python experiments/calibrate.py               # reconstruction.yaml -> bcsm_reconstructed.csv
    python experiments/calibrate.py --search      # rerun the search, rewrite both files
    python experiments/calibrate.py --report DIR  # calibration report (Markdown, HTML, PNG) in DIR

The CSV is a pure function of the YAML (generator parameters + seed), so regeneration is
bit-identical; ``tests/reconstruct/test_committed_cohort.py`` checks it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from bayes_bcsm.reconstruct.generator import GeneratorParams, format_cohort_csv, simulate_cohort
from bayes_bcsm.resources import bundled_cohort, reconstruction_config

CONFIG = reconstruction_config()
COHORT = bundled_cohort()

HEADER = """\
# Generating config of data/bcsm_reconstructed.csv (a RECONSTRUCTION calibrated to the published
# aggregates of Hu et al. 2025, not patient data). Written by experiments/calibrate.py --search;
# `python experiments/calibrate.py` regenerates the CSV from it bit-identically.
"""


def read_config(path: Path = CONFIG) -> tuple[int, int, GeneratorParams, dict]:
    """Read ``reconstruction.yaml``: (n, seed, params, everything else)."""
    raw = yaml.safe_load(path.read_text())
    try:
        return int(raw["n"]), int(raw["seed"]), GeneratorParams.from_dict(raw["params"]), raw
    except KeyError as err:
        raise KeyError(f"{path}: missing key {err} (expected n, seed, params)") from None


def write_config(n: int, seed: int, params: GeneratorParams, extra: dict, path: Path = CONFIG):
    """Write ``reconstruction.yaml`` (header comment + n, seed, params, extra)."""
    body = {"n": n, "seed": seed, "params": params.to_dict(), **extra}
    path.write_text(HEADER + yaml.safe_dump(body, sort_keys=False, default_flow_style=None))


def regenerate(config: Path = CONFIG) -> str:
    """The CSV text generated from ``config``."""
    n, seed, params, _ = read_config(config)
    return format_cohort_csv(simulate_cohort(n, seed, params=params))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search", action="store_true", help="rerun the calibration search")
    parser.add_argument("--report", type=Path, default=None, help="write the report to DIR")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--out", type=Path, default=COHORT)
    parser.add_argument("--budget-seconds", type=float, default=600.0)
    parser.add_argument("--seeds", type=int, default=200, help="seeds cached per setting")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    if args.search:
        from bayes_bcsm.reconstruct.search import search

        result = search(
            budget_seconds=args.budget_seconds, workers=args.workers, n_seeds=args.seeds
        )
        write_config(78, result.seed, result.params, {"search": result.summary()}, args.config)
        print(f"chosen seed {result.seed}, loss {result.loss:.3f}; wrote {args.config}")
    args.out.write_text(regenerate(args.config))
    print(f"wrote {args.out}")
    if args.report is not None:
        from bayes_bcsm.reconstruct.calibrate import calibration_report_tables
        from bayes_bcsm.report.calibration import write_calibration_report

        n, seed, params, _ = read_config(args.config)
        cohort = simulate_cohort(n, seed, params=params)
        tables = calibration_report_tables(cohort)
        path = write_calibration_report(tables, cohort, args.report)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
