"""Benchmark: the compiled-model cache across processes (issue 25, item 1).

Plain script (not a test): ``.venv/bin/python benchmarks/bench_compile_cache.py``. Each case
is a new Python process running a command of the package on the bundled cohort, in three
cache states, one after another in one run (so that the ratios are measured side by side):

- **all cold**: an empty PyTensor compile folder and an empty compiled-model cache (a new
  machine, or a first run after an upgrade);
- **kernels cold**: PyTensor's own numba cache warm, the compiled-model cache empty (what
  every new process paid before the cache: nutpie's C callbacks were recompiled);
- **warm**: both caches filled by the run before.

Commands: ``bayes-bcsm fit model=weibull`` and ``... model=piecewise`` (one model, its Cox
and Firth baselines, its report), and ``make run``'s command ``bayes-bcsm compare
experiment=bayes_vs_cox`` (Weibull and piecewise beside Cox and Firth). Sampler: the package
default (nutpie, 4 chains x 1000 draws after 1000 tuning steps). "compile" is the sum of
the models' compile times the runs record (``diagnostics.json``) and "per model" the
largest of them (issue 25's target: at most 1 s for a model compiled before); "kernel cache"
the state each fit records there (``miss``: compiled and stored; ``hit``: loaded); "wall" the
whole process (imports, data, fits, reports: for ``make run``, its experiment part). "same
draws" compares the posterior ``beta`` of each run with the all-cold run's, bit for bit.
``--repeat N`` runs the warm state N times (the figures on a shared machine vary).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import xarray as xr

COMMANDS = {
    "fit model=weibull": ["fit", "model=weibull"],
    "fit model=piecewise": ["fit", "model=piecewise"],
    "make run (compare)": ["compare", "experiment=bayes_vs_cox"],
}
STATES = ("all cold", "kernels cold", "warm")


def run_once(args: list[str], pytensor_dir: Path, kernel_dir: Path, out: Path) -> dict:
    """One new process: wall time, recorded compile time and a digest of the draws."""
    env = {
        **os.environ,
        "PYTENSOR_FLAGS": f"base_compiledir={pytensor_dir}",
        "BAYES_BCSM_CACHE_DIR": str(kernel_dir),
    }
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bayes_bcsm", *args, f"hydra.run.dir={out}"],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"{args} failed:\n{done.stderr[-2000:]}")
    wall = time.perf_counter() - start
    records = [json.loads(p.read_text()) for p in sorted(out.rglob("diagnostics.json"))]
    compiles = [r.get("compile_seconds", 0.0) for r in records]
    digest = hashlib.sha256()
    for path in sorted(out.rglob("posterior.nc")):
        with xr.open_dataset(path, group="posterior") as post:
            digest.update(post["beta"].values.tobytes())
    return {
        "wall": wall,
        "compile": sum(compiles),
        "per_model": max(compiles, default=0.0),
        "states": "/".join(r.get("kernel_cache", "?") for r in records),
        "draws": digest.hexdigest(),
    }


def main() -> None:
    """Print the Markdown table."""
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; nutpie {version('nutpie')}, pytensor "
        f"{version('pytensor')}, numba {version('numba')}, pymc {version('pymc')}; "
        f"load average {os.getloadavg()[0]:.1f} at start.\n"
    )
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 1
    print(
        "| command | cache state | wall (s) | compile (s) | per model, max (s) | kernel cache "
        "| same draws as all cold |"
    )
    print("|---|---|---:|---:|---:|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for label, args in COMMANDS.items():
            pytensor_dir = root / f"pytensor-{args[-1].replace('=', '-')}"
            kernels = {
                "all cold": root / f"k1-{args[-1].replace('=', '-')}",
                "kernels cold": root / f"k2-{args[-1].replace('=', '-')}",
                "warm": root / f"k2-{args[-1].replace('=', '-')}",
            }
            first = None
            states = [*STATES[:-1], *[STATES[-1]] * repeat]
            for i, state in enumerate(states):
                out = root / f"out-{args[-1].replace('=', '-')}-{i}"
                result = run_once(args, pytensor_dir, kernels[state], out)
                first = first or result["draws"]
                print(
                    f"| {label} | {state} | {result['wall']:.1f} | {result['compile']:.1f} | "
                    f"{result['per_model']:.2f} | {result['states']} | "
                    f"{'yes' if result['draws'] == first else 'no'} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
