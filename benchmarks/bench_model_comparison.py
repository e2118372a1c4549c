"""Benchmark: what the four new families add to ``experiment=model_comparison`` (issue 23).

Plain script (not a test): ``.venv/bin/python benchmarks/bench_model_comparison.py``. Runs
``experiments/compare.py experiment=model_comparison`` on the bundled cohort (its Table 3
covariates, 53 complete cases, 35 deaths; default sampler: nutpie 4 chains x 1000 draws after
1000 tuning steps; plots and report written) twice, each in a fresh process: with the three
families the experiment had before (Weibull, exponential, piecewise) and with all seven
(+ Gompertz, log-normal, log-logistic, M-spline, the stacking weights and the model-averaged
curves). The difference of the wall clocks is what the new families add (issue 23: <= 60 s on
2 cores).
"""

from __future__ import annotations

import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "compare.py"
OLD = "compare.variants=['model=weibull','model=exponential','model=piecewise']"


def run(overrides: list[str]) -> float:
    """Wall clock (s) of one comparison run in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(SCRIPT),
                "experiment=model_comparison",
                *overrides,
                f"hydra.run.dir={folder}/run",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def main() -> None:
    """Print the Markdown table for docs/benchmarks.md."""
    three = run([OLD])
    seven = run([])
    print(
        f"Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print()
    print("| families | wall clock (s) |")
    print("|---|---:|")
    print(f"| 3 (weibull, exponential, piecewise) | {three:.0f} |")
    print(f"| 7 (+ gompertz, lognormal, loglogistic, mspline; stacking, averaging) | {seven:.0f} |")
    print(f"| **added by the four families** | **{seven - three:.0f}** |")


if __name__ == "__main__":
    main()
