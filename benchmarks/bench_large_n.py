"""Benchmark: ``bayes-bcsm fit`` at registry scale (issue 25, item 3).

Plain script (not a test): ``.venv/bin/python benchmarks/bench_large_n.py`` (every case) or
``... --n 100000 --case weibull`` (one). Each case is a new Python process running
``bayes-bcsm fit`` on a user card (``--config-dir``) after a warm-up fit of the same model
structure (``sampler=quick`` on the first 2,000 patients, with the likelihood form of the
timed run), so the compiled-model cache is warm; the compile time the run records shows it.
``/usr/bin/time`` reports the wall time and peak resident memory of the process.

Data (:func:`cohort`, seed ``n``): 5 discrete covariates (4 binary, 1 three-level categorical:
48 covariate patterns), Weibull PH event times (shape 1.2, 10 % event rate per year at the
reference profile, log-HRs 0.4, -0.3, 0.2, 0.0 and 0.3 / 0.6 for stage II / III), uniform
censoring on (12, 120) months. Model: the package defaults of a run on a user card (nutpie,
4 chains x 1000 draws after 1000 tuning steps; piecewise: 6 intervals at event-time quantiles,
random-walk baseline). Cases: ``weibull``; ``piecewise collapsed`` (the default above
``sampler.pointwise_max_patients``: events and exposure per covariate pattern x interval);
``piecewise per patient`` (``sampler.pointwise_max_patients`` raised above n: the per-patient
likelihood, as before issue 25). Beside them, lifelines' ``WeibullAFTFitter`` and
``PiecewiseExponentialRegressionFitter`` (maximum likelihood, same data and cut points, timed
in this process; lifelines is a test oracle only).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CARD = """\
name: large
title: Synthetic registry cohort (issue 25 benchmark)
path: cohort.csv
time_column: months
time_unit: months
event_column: status
event_values: [1]
censor_values: [0]
covariates:
  a: {kind: binary, label: a}
  b: {kind: binary, label: b}
  c: {kind: binary, label: c}
  d: {kind: binary, label: d}
  stage: {kind: categorical, levels: [I, II, III], reference: I, label: stage}
"""
COVARIATES = "covariates.names=[a,b,c,d,stage]"
CASES = {
    "weibull": ["model=weibull"],
    "piecewise collapsed": ["model=piecewise"],
    "piecewise per patient": ["model=piecewise", "sampler.pointwise_max_patients=10000000"],
}
#: Likelihood form of the warm-up on 2,000 patients: the timed run's (above the default limit
#: of 5,000 patients every case but the per-patient one is summed / collapsed).
WARM_UP = {
    "weibull": ["sampler.pointwise_max_patients=0"],
    "piecewise collapsed": ["sampler.pointwise_max_patients=0"],
    "piecewise per patient": [],
}
WARM_UP_PATIENTS = 2_000


def cohort(n: int, seed: int) -> pd.DataFrame:
    """The synthetic cohort (see the module docstring)."""
    rng = np.random.default_rng(seed)
    binary = rng.integers(0, 2, size=(n, 4))
    stage = rng.choice(np.array(["I", "II", "III"]), size=n)
    eta = binary @ np.array([0.4, -0.3, 0.2, 0.0]) + 0.3 * (stage == "II") + 0.6 * (stage == "III")
    shape, rate = 1.2, 0.1 / 12.0**1.2  # H(t) = rate t^shape: 0.1 at 12 months
    death = (rng.exponential(size=n) / (rate * np.exp(eta))) ** (1.0 / shape)
    censor = rng.uniform(12.0, 120.0, size=n)
    frame = pd.DataFrame(binary, columns=["a", "b", "c", "d"])
    frame["stage"] = stage
    frame["months"] = np.round(np.minimum(death, censor), 4).clip(min=0.001)
    frame["status"] = (death <= censor).astype(int)
    return frame


def run_fit(folder: Path, args: list[str], out: str, card: str = "large") -> dict:
    """One ``bayes-bcsm fit`` in a new process: wall and CPU time (user + system, s), peak
    RSS (GB), the compile and sampling times the run records."""
    environ = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    command = [
        "/usr/bin/time",
        "-f",
        "%e %M %U %S",
        sys.executable,
        "-m",
        "bayes_bcsm",
        "fit",
        "--config-dir",
        "cards",
        f"data={card}",
        COVARIATES,
        "report.plots=false",
        f"hydra.run.dir={out}",
        *args,
    ]
    done = subprocess.run(command, cwd=folder, env=environ, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{args} failed:\n{done.stderr[-3000:]}")
    wall, rss_kb, user, system = done.stderr.strip().splitlines()[-1].split()
    record = json.loads((folder / out / "diagnostics.json").read_text())
    return {
        "wall_s": float(wall),
        "cpu_s": float(user) + float(system),
        "peak_gb": int(rss_kb) / 1024**2,
        "compile_s": record["compile_seconds"],
        "sample_s": record["sample_seconds"],
        "passed": record["passed"],
    }


def per_evaluation_ms(frame: pd.DataFrame, repeats: int = 20) -> dict[str, float]:
    """CPU time (ms; process time, so less sensitive to other jobs than wall time) of one log
    density + gradient evaluation of each likelihood form, compiled by PyTensor's numba back end
    (what nutpie runs), on the covariates as a run on the card codes them (standardised)."""
    import pytensor.tensor as pt

    from bayes_bcsm.data.design import build_design
    from bayes_bcsm.models import piecewise_model, weibull_model

    design = build_design(frame, ["a", "b", "c", "d", "stage"], duration="months", event="status")
    forms = {
        "weibull per patient": weibull_model(design),
        "weibull summed": weibull_model(design, collapse=True),
        "piecewise per patient": piecewise_model(design),
        "piecewise collapsed": piecewise_model(design, collapse=True),
    }
    out = {}
    for name, sm in forms.items():
        model = sm.model
        logp = model.logp()
        fn = model.compile_fn([logp, *pt.grad(logp, model.value_vars)], point_fn=True, mode="NUMBA")
        point = model.initial_point()
        fn(point)
        start = time.process_time()
        for _ in range(repeats):
            fn(point)
        out[name] = (time.process_time() - start) / repeats * 1e3
    return out


def chunked_loo_cost(frame: pd.DataFrame) -> tuple[float, float]:
    """CPU time (s) and peak RSS of this process (GB) of ``chunked_loo`` on the summed Weibull
    model of ``frame`` with 4 x 1000 synthetic draws near the true values (PSIS does the same
    work whatever the draws; sampling is not timed)."""
    import resource

    import xarray as xr

    from bayes_bcsm.data.design import build_design
    from bayes_bcsm.inference.pointwise import chunked_loo
    from bayes_bcsm.models import weibull_model

    design = build_design(frame, ["a", "b", "c", "d", "stage"], duration="months", event="status")
    sm = weibull_model(design, collapse=True)
    rng = np.random.default_rng(0)
    beta = np.array([0.4, -0.3, 0.2, 0.0, 0.3, 0.6]) / design.per_natural_unit()
    post = xr.Dataset(
        {
            "log_alpha": (("chain", "draw"), np.log(1.2) + 0.01 * rng.normal(size=(4, 1000))),
            "log_lambda": (("chain", "draw"), np.log(0.1) + 0.02 * rng.normal(size=(4, 1000))),
            "beta": (("chain", "draw", "covariate"), beta + 0.02 * rng.normal(size=(4, 1000, 6))),
        },
        coords={"chain": range(4), "draw": range(1000), "covariate": list(design.columns)},
    )
    start = time.process_time()
    chunked_loo(sm, post)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return time.process_time() - start, peak


def collapsed_model_only(frame: pd.DataFrame) -> dict[str, float]:
    """The collapsed piecewise model alone, in this process (no baselines, summaries or
    report): wall time (s) to build it (cut points, cells), compile and sample it (package
    defaults), whether every convergence check passed and the process's peak RSS (GB)."""
    import resource

    from bayes_bcsm.data.design import build_design
    from bayes_bcsm.inference.diagnostics import check_convergence
    from bayes_bcsm.inference.sample import SamplerSettings, sample
    from bayes_bcsm.models import piecewise_cuts, piecewise_model

    design = build_design(frame, ["a", "b", "c", "d", "stage"], duration="months", event="status")
    start = time.perf_counter()
    cuts = piecewise_cuts(time=design.time, event=design.event, n_quantile_intervals=6)
    sm = piecewise_model(design, cuts=cuts, collapse=True)
    build = time.perf_counter() - start
    fit = sample(sm, SamplerSettings(pointwise_max_patients=0))
    return {
        "build_s": build,
        "compile_s": fit.compile_seconds,
        "sample_s": fit.sample_seconds,
        "cells": len(sm.model.coords["cell"]),
        "passed": check_convergence(fit.idata).passed,
        "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
    }


def lifelines_data(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as lifelines' fitters take it: stage as two 0/1 columns (II, III)."""
    return pd.get_dummies(frame, columns=["stage"], drop_first=True, dtype=float)


def lifelines_cuts(frame: pd.DataFrame) -> list[float]:
    """The 5 interior cut points of 6 intervals at event-time quantiles (months)."""
    event_times = frame.loc[frame["status"] == 1, "months"]
    return list(np.quantile(event_times, np.linspace(0, 1, 7)[1:-1]))


def lifelines_weibull(data: pd.DataFrame) -> None:
    """lifelines' Weibull AFT MLE on :func:`lifelines_data`'s frame."""
    from lifelines import WeibullAFTFitter

    WeibullAFTFitter().fit(data, "months", "status")


def lifelines_piecewise(data: pd.DataFrame, cuts: list[float]) -> None:
    """lifelines' piecewise-exponential MLE on :func:`lifelines_data`'s frame (at 1e5 patients
    its median prediction allocates patients x unique times: MemoryError)."""
    from lifelines import PiecewiseExponentialRegressionFitter

    PiecewiseExponentialRegressionFitter(breakpoints=cuts).fit(data, "months", "status")


def lifelines_times(frame: pd.DataFrame) -> dict[str, float]:
    """Wall time (s) of lifelines' Weibull AFT and piecewise-exponential MLEs on ``frame`` (NaN
    where the fitter runs out of memory)."""
    data = lifelines_data(frame)
    out = {}
    start = time.perf_counter()
    lifelines_weibull(data)
    out["lifelines WeibullAFTFitter"] = time.perf_counter() - start
    start = time.perf_counter()
    try:
        lifelines_piecewise(data, lifelines_cuts(frame))
    except MemoryError:
        out["lifelines PiecewiseExponentialRegressionFitter (MemoryError)"] = float("nan")
    else:
        out["lifelines PiecewiseExponentialRegressionFitter"] = time.perf_counter() - start
    return out


def main() -> None:
    """Print one Markdown row per case and size."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--case", choices=list(CASES), nargs="*", default=list(CASES))
    parser.add_argument("--no-lifelines", action="store_true")
    parser.add_argument(
        "--model-only",
        action="store_true",
        help="only build, compile and sample the collapsed piecewise model in this process",
    )
    parser.add_argument(
        "--chunked-loo",
        action="store_true",
        help="only time sampler.chunked_loo's PSIS-LOO (4 x 1000 draws)",
    )
    parser.add_argument(
        "--per-evaluation",
        action="store_true",
        help="only time one log density + gradient evaluation of each likelihood form",
    )
    parser.add_argument(
        "--per-patient-max",
        type=int,
        default=10_000,
        help="largest n for the per-patient piecewise case (about 50 min of sampling at 1e5)",
    )
    options = parser.parse_args()
    print(f"load average at start: {os.getloadavg()} on {os.cpu_count()} CPUs", flush=True)
    if options.model_only:
        for n in options.n:
            r = collapsed_model_only(cohort(n, seed=n))
            print(
                f"| {n:,} | collapsed piecewise model only | {r['cells']} cells | build "
                f"{r['build_s']:.1f} s, compile {r['compile_s']:.1f} s, sample "
                f"{r['sample_s']:.1f} s | {'pass' if r['passed'] else 'FAIL'} | peak RSS "
                f"{r['peak_gb']:.2f} GB |",
                flush=True,
            )
        return
    if options.chunked_loo:
        for n in options.n:
            seconds, peak = chunked_loo_cost(cohort(n, seed=n))
            print(f"| {n:,} | chunked PSIS-LOO | {seconds:.1f} s CPU | peak RSS {peak:.2f} GB |")
        return
    if options.per_evaluation:
        print("| n | likelihood | CPU ms per log density + gradient |\n|---:|---|---:|")
        for n in options.n:
            for name, ms in per_evaluation_ms(cohort(n, seed=n)).items():
                print(f"| {n:,} | {name} | {ms:.3g} |", flush=True)
        return
    print("| n | case | wall (s) | CPU (s) | peak RSS (GB) | compile + sample (s) | checks |")
    print("|---:|---|---:|---:|---:|---|---|")
    for n in options.n:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "cards" / "data").mkdir(parents=True)
            (folder / "cards" / "data" / "large.yaml").write_text(CARD)
            (folder / "cards" / "data" / "warm.yaml").write_text(
                CARD.replace("cohort.csv", "warm.csv")
            )
            frame = cohort(n, seed=n)
            frame.to_csv(folder / "cohort.csv", index=False)
            frame.head(WARM_UP_PATIENTS).to_csv(folder / "warm.csv", index=False)
            for case in options.case:
                if case == "piecewise per patient" and n > options.per_patient_max:
                    continue
                warm_up = [*CASES[case], *WARM_UP[case], "sampler=quick"]
                run_fit(folder, warm_up, f"warmup_{case.replace(' ', '_')}", card="warm")
                r = run_fit(folder, CASES[case], f"out_{case.replace(' ', '_')}")
                print(
                    f"| {n:,} | {case} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
                    f"{r['peak_gb']:.2f} | "
                    f"{r['compile_s']:.1f} + {r['sample_s']:.1f} | "
                    f"{'pass' if r['passed'] else 'FAIL'} |",
                    flush=True,
                )
            if not options.no_lifelines:
                for name, seconds in lifelines_times(frame).items():
                    print(f"| {n:,} | {name} | {seconds:.1f} | | | | |", flush=True)


if __name__ == "__main__":
    main()
