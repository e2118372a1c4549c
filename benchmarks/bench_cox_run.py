"""Benchmark: ``bayes-bcsm fit model=cox`` end to end on a synthetic user card (issue 25, item 3).

Plain script (not a test): ``.venv/bin/python benchmarks/bench_cox_run.py`` (n = 10,000, 100,000
and 1,000,000) or ``... --n 100000``. For each n it writes a CSV and its dataset card into a
scratch folder, then times, each in a fresh process, (a) the whole command
``bayes-bcsm fit --config-dir <folder> data=bench model=cox 'covariates.names=[...]'`` (imports,
loading and checking the file against its card, Cox, Firth with profile-likelihood intervals, the
report) and (b) lifelines' ``CoxPHFitter`` (Efron) on the same design, with its import and reading
the CSV. Wall time from the parent, CPU time (user + system: less sensitive to other load on
a shared machine than wall time) and peak resident memory of each child from ``os.wait4``;
the largest difference between the two Cox log hazard ratios (lifelines stops at its default
``precision=1e-7``) and whether the report states how many patients it used.

Data (seed n): 5 covariates, 6 design columns: ``therapy`` (binary no/yes), ``age`` (continuous,
years, HR per 10), ``grade`` (categorical 1/2/3), ``nodes`` (binary 0/1), ``size_mm`` (continuous);
exponential event times with log-HRs -0.3, 0.02 per year, 0.2 / 0.4, 0.3, 0.01 per mm, uniform
censoring up to 10 years, times in days with two decimals (about 0.6 n distinct event times).
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SIZES = (10_000, 100_000, 1_000_000)
COVARIATES = ["therapy", "age", "grade", "nodes", "size_mm"]
CARD = """\
name: bench
title: Synthetic registry cohort
path: {path}
id_column: patient
time_column: followup_days
time_unit: days
event_column: status
event_values: [dead]
censor_values: [alive]
covariates:
  therapy: {{kind: binary, levels: ["no", "yes"], label: endocrine therapy}}
  age: {{kind: continuous, minimum: 18, maximum: 100, hr_per: 10, unit: years}}
  grade: {{kind: categorical, levels: ["1", "2", "3"]}}
  nodes: {{kind: binary}}
  size_mm: {{kind: continuous, hr_per: 10, unit: mm}}
"""
LIFELINES = """\
import sys, pandas as pd
from lifelines import CoxPHFitter
frame = pd.read_csv(sys.argv[1], dtype={"grade": str})
X = pd.DataFrame({
    "therapy": (frame["therapy"] == "yes").astype(float),
    "age": frame["age"] / 10.0,
    "grade2": (frame["grade"] == "2").astype(float),
    "grade3": (frame["grade"] == "3").astype(float),
    "nodes": frame["nodes"].astype(float),
    "size_mm": frame["size_mm"] / 10.0,
    "T": frame["followup_days"],
    "E": (frame["status"] == "dead").astype(int),
})
fit = CoxPHFitter().fit(X, "T", "E")
print(list(fit.params_))
"""


def make_data(n: int) -> pd.DataFrame:
    """The synthetic cohort described in the module docstring."""
    rng = np.random.default_rng(n)
    therapy = rng.integers(0, 2, n)
    age = np.clip(rng.normal(60, 10, n).round(), 18, 100)
    grade = rng.choice([1, 2, 3], n, p=[0.3, 0.4, 0.3])
    nodes = rng.integers(0, 2, n)
    size_mm = np.clip(rng.gamma(4.0, 6.0, n).round(1), 0.5, None)
    lin = (
        -0.3 * therapy
        + 0.02 * (age - 60)
        + 0.2 * (grade == 2)
        + 0.4 * (grade == 3)
        + 0.3 * nodes
        + 0.01 * (size_mm - 24)
    )
    event_days = rng.exponential(3000.0 * np.exp(-lin))
    censor_days = rng.uniform(30.0, 3650.0, n)
    followup = np.round(np.minimum(event_days, censor_days), 2)
    return pd.DataFrame(
        {
            "patient": np.arange(1, n + 1),
            "followup_days": np.maximum(followup, 0.01),
            "status": np.where(event_days <= censor_days, "dead", "alive"),
            "therapy": np.where(therapy == 1, "yes", "no"),
            "age": age,
            "grade": grade.astype(str),
            "nodes": nodes,
            "size_mm": size_mm,
        }
    )


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, float, str]:
    """Wall time (s), CPU time (user + system, s), peak RSS (MB) and stdout + stderr of one
    child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}):\n{out[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, out


def run_case(n: int, folder: Path) -> dict:
    """Write the card and CSV for n patients, time both commands."""
    csv = folder / f"bench_{n}.csv"
    frame = make_data(n)
    frame.to_csv(csv, index=False)
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "bench.yaml").write_text(CARD.format(path=csv))
    events = frame["status"] == "dead"
    distinct = frame.loc[events, "followup_days"].nunique()
    bin_dir = Path(sys.executable).parent
    ours, ours_cpu, ours_mb, _ = timed(
        [
            str(bin_dir / "bayes-bcsm"),
            "fit",
            "--config-dir",
            str(folder),
            "data=bench",
            "model=cox",
            f"covariates.names=[{','.join(COVARIATES)}]",
            f"hydra.run.dir={folder / f'run_{n}'}",
        ],
        folder,
    )
    script = folder / "lifelines_fit.py"
    script.write_text(LIFELINES)
    theirs, theirs_cpu, theirs_mb, out = timed([sys.executable, str(script), str(csv)], folder)
    hazard_ratios = pd.read_csv(folder / f"run_{n}" / "hazard_ratios.csv")
    cox = np.log(hazard_ratios.loc[hazard_ratios["model"] == "cox", "estimate"].to_numpy())
    lifelines = np.array(ast.literal_eval(out.strip().splitlines()[-1]))
    report = (folder / f"run_{n}" / "report.md").read_text()
    return {
        "n": f"{n:,}",
        "events": f"{int(events.sum()):,}",
        "distinct event times": f"{distinct:,}",
        "fit model=cox wall (s)": f"{ours:.1f}",
        "its CPU (s)": f"{ours_cpu:.1f}",
        "its peak RSS (MB)": f"{ours_mb:.0f}",
        "lifelines CoxPHFitter wall (s)": f"{theirs:.1f}",
        "lifelines CPU (s)": f"{theirs_cpu:.1f}",
        "lifelines peak RSS (MB)": f"{theirs_mb:.0f}",
        "wall ratio": f"{ours / theirs:.2f}",
        "max abs log-HR diff": f"{np.max(np.abs(cox - lifelines)):.1e}",
        "report states n": str(f"used {n} of {n} patients" in report),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--keep", type=Path, default=None, help="scratch folder to keep")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_cox_run_"))
    folder.mkdir(parents=True, exist_ok=True)
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"load {os.getloadavg()[0]:.1f}; Python {platform.python_version()}\n"
    )
    rows = []
    for n in args.n:
        rows.append(run_case(n, folder))
    print("| " + " | ".join(rows[0]) + " |\n|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(row.values()) + " |")
    print(f"\nload after: {os.getloadavg()[0]:.1f}")
    if args.keep is None:
        shutil.rmtree(folder)  # the CSVs: about 50 MB at 10^6 patients


if __name__ == "__main__":
    main()
