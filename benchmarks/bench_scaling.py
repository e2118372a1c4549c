"""Benchmark: n = 10^3 ... 10^6 scaling curves, the package against lifelines and numpyro
(issue 25, item 4).

Plain script (not a test): ``.venv/bin/python benchmarks/bench_scaling.py`` (every method at
n = 1e3, 1e4, 1e5, 1e6, up to each method's ``--max-n``), writing ``docs/scaling.csv`` (one row
per method and n, rewritten atomically after every row) and the log-log plot
``docs/scaling.png``; ``--plot-only docs/scaling.csv`` redraws the plot from a CSV.

Data: :func:`bench_large_n.cohort` (seed n: 5 discrete covariates, 48 covariate patterns,
Weibull PH event times, uniform censoring). Every method runs in this one process, side by side
at each n, timed around its fit alone (the data are built beforehand):

- Cox: the package's ``cox_ph`` (Efron) against lifelines' ``CoxPHFitter`` (Efron).
- Weibull: the package's Bayesian fit at its defaults (nutpie, 4 chains x 1000 draws after 1000
  tuning steps; the per-patient likelihood up to ``sampler.pointwise_max_patients`` = 5,000
  patients, the summed one above; the ``note`` column says which), timed as model build +
  compile + sampling after a warm-up fit of the same structure on the first 2,000 patients and
  with the in-process cache dropped, so the compile loads the on-disk kernel cache as a new
  process would; lifelines' ``WeibullAFTFitter`` (MLE); the hand-written numpyro model of
  ``bench_models.py`` (compile + sampling of its first run; its CPU and memory figures also
  cover one further run, which separates the two), skipped with a note when numpyro is not
  importable (``bench`` extra).
- Piecewise exponential (6 intervals at event-time quantiles, the package's random-walk
  baseline, no per-patient log-likelihood stored): the package's collapsed likelihood
  (covariate pattern x interval cells) and its per-patient one, warm-up as for the Weibull,
  against lifelines' ``PiecewiseExponentialRegressionFitter`` (MLE, same cut points).

Recorded per fit: wall and CPU seconds (``time.process_time``: every thread of this process,
so nutpie's parallel chains count in full) and the peak resident memory above the resident
memory at its start (``/proc/self/statm`` polled every 10 ms; NaN where it cannot be read).
A method above its ``--max-n`` is left out (the defaults keep the run to about an hour on two
cores: the Bayesian Weibull and numpyro fits take minutes at 1e5; the per-patient piecewise fit
about 50 min at 1e5; lifelines' piecewise fitter allocates 70 GiB at 1e5). lifelines is a
test oracle only: the package never imports it.
"""

from __future__ import annotations

import argparse
import csv
import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_bcsm.data.design import Design, build_design
from bayes_bcsm.frequentist.cox import cox_ph
from bayes_bcsm.inference.sample import SamplerSettings, clear_compile_cache, sample
from bayes_bcsm.models import piecewise_cuts, piecewise_model, weibull_model
from bench_large_n import (
    WARM_UP_PATIENTS,
    cohort,
    lifelines_data,
    lifelines_piecewise,
    lifelines_weibull,
)

SIZES = (1_000, 10_000, 100_000, 1_000_000)
DOCS = Path(__file__).resolve().parents[1] / "docs"
COVARIATES = ["a", "b", "c", "d", "stage"]
#: Settings of the quick warm-up fit that puts a model structure's kernel in the disk cache.
WARM_UP = SamplerSettings(chains=1, draws=50, tune=50, pointwise_max_patients=0)
FIELDS = [
    "n",
    "events",
    "family",
    "method",
    "wall_s",
    "cpu_s",
    "peak_rss_increase_gb",
    "note",
    "cpus",
    "load_1min",
    "utc",
]


@dataclass(frozen=True)
class Case:
    """The data of one n, as each method takes it."""

    frame: pd.DataFrame
    data: pd.DataFrame  # lifelines' and cox_ph's: stage as two 0/1 columns
    design: Design
    cuts: tuple[float, ...]


@dataclass(frozen=True)
class Method:
    """One curve: ``run(case)`` fits (timed) and returns a note, or a note and the wall time
    (s) to report instead of the measured one; ``prepare(case)`` runs before the timing (the
    warm-up of a Bayesian fit)."""

    family: str
    label: str
    max_n: float
    run: Callable[[Case], str | tuple[str, float]]
    prepare: Callable[[Case], None] | None = None


def make_case(n: int) -> Case:
    """The cohort of ``n`` patients (seed ``n``) in every form the methods take."""
    frame = cohort(n, seed=n)
    design = build_design(frame, COVARIATES, duration="months", event="status")
    cuts = piecewise_cuts(time=design.time, event=design.event, n_quantile_intervals=6)
    return Case(frame, lifelines_data(frame), design, cuts)


def head(case: Case) -> Design:
    """The warm-up design: the first 2,000 patients."""
    frame = case.frame.head(WARM_UP_PATIENTS)
    return build_design(frame, COVARIATES, duration="months", event="status")


def fit_note(fit) -> str:
    """Compile and sampling seconds of a package fit and where its kernel came from."""
    return (
        f"compile {fit.compile_seconds:.2f} s (kernel cache: {fit.kernel_cache}), "
        f"sampling {fit.sample_seconds:.2f} s"
    )


# ---------------------------------------------------------------------------- the methods
def package_cox(case: Case) -> str:
    columns = [c for c in case.data.columns if c not in ("months", "status")]
    cox_ph(case.data, "months", "status", columns)
    return "Efron"


def lifelines_cox(case: Case) -> str:
    from lifelines import CoxPHFitter

    CoxPHFitter().fit(case.data, "months", "status")
    return "Efron"


def weibull_summed(n: int) -> bool:
    """Whether the package's Weibull fit of ``n`` patients at its defaults sums the
    likelihood (above ``pointwise_max_patients``)."""
    return not SamplerSettings().per_patient(n)


def warm_weibull(case: Case) -> None:
    summed = weibull_summed(case.design.n_patients)
    sample(weibull_model(head(case), collapse=summed), WARM_UP)
    clear_compile_cache()


def package_weibull(case: Case) -> str:
    summed = weibull_summed(case.design.n_patients)
    fit = sample(weibull_model(case.design, collapse=summed), SamplerSettings())
    form = "summed likelihood" if summed else "per-patient likelihood, log-likelihood stored"
    return f"{form}; {fit_note(fit)}"


def run_lifelines_weibull(case: Case) -> str:
    lifelines_weibull(case.data)
    return "MLE"


def numpyro_weibull(chain_method: str) -> Callable[[Case], tuple[str, float]]:
    """The numpyro model's fit; its wall time is the first run's (compile + sampling)."""

    def run(case: Case) -> tuple[str, float]:
        from bench_models import run_numpyro

        r = run_numpyro(case.design, chain_method, repeats=1)
        note = (
            f"chains {chain_method}; compile {r['compile']:.2f} s, sampling {r['sample']:.2f} s; "
            "CPU and memory over 2 runs"
        )
        return note, r["compile"] + r["sample"]

    return run


def piecewise(collapse: bool) -> tuple[Callable[[Case], None], Callable[[Case], str]]:
    """Warm-up and timed fit of the package's piecewise model, collapsed or per patient."""

    def prepare(case: Case) -> None:
        sample(piecewise_model(head(case), cuts=case.cuts, collapse=collapse), WARM_UP)
        clear_compile_cache()

    def run(case: Case) -> str:
        sm = piecewise_model(case.design, cuts=case.cuts, collapse=collapse)
        fit = sample(sm, SamplerSettings(pointwise_max_patients=0))
        cells = f"{len(sm.model.coords['cell'])} cells; " if collapse else ""
        return f"{cells}{fit_note(fit)}"

    return prepare, run


def run_lifelines_piecewise(case: Case) -> str:
    lifelines_piecewise(case.data, list(case.cuts))
    return "MLE"


def methods(options: argparse.Namespace) -> dict[str, Method]:
    """Every curve, by its ``--max-n`` key, with its largest n."""
    limit = {**DEFAULT_MAX_N, **options.max_n}
    limit["piecewise-per-patient"] = min(limit["piecewise-per-patient"], options.per_patient_max)
    collapsed_prepare, collapsed_run = piecewise(collapse=True)
    per_patient_prepare, per_patient_run = piecewise(collapse=False)
    out = {
        "cox": Method("Cox", "bayes_bcsm cox_ph", limit["cox"], package_cox),
        "lifelines-cox": Method(
            "Cox", "lifelines CoxPHFitter", limit["lifelines-cox"], lifelines_cox
        ),
        "weibull": Method(
            "Weibull",
            "bayes_bcsm Bayesian (nutpie)",
            limit["weibull"],
            package_weibull,
            warm_weibull,
        ),
        "lifelines-weibull": Method(
            "Weibull",
            "lifelines WeibullAFTFitter",
            limit["lifelines-weibull"],
            run_lifelines_weibull,
        ),
        "numpyro-weibull": Method(
            "Weibull",
            "numpyro hand-written",
            limit["numpyro-weibull"],
            numpyro_weibull(options.numpyro_chains),
        ),
        "piecewise-collapsed": Method(
            "piecewise",
            "bayes_bcsm Bayesian, collapsed",
            limit["piecewise-collapsed"],
            collapsed_run,
            collapsed_prepare,
        ),
        "piecewise-per-patient": Method(
            "piecewise",
            "bayes_bcsm Bayesian, per patient",
            limit["piecewise-per-patient"],
            per_patient_run,
            per_patient_prepare,
        ),
        "lifelines-piecewise": Method(
            "piecewise",
            "lifelines PiecewiseExponentialRegressionFitter",
            limit["lifelines-piecewise"],
            run_lifelines_piecewise,
        ),
    }
    return {key: out[key] for key in options.method}


DEFAULT_MAX_N = {
    "cox": np.inf,
    "lifelines-cox": np.inf,
    "weibull": 100_000,
    "lifelines-weibull": np.inf,
    "numpyro-weibull": 100_000,
    "piecewise-collapsed": np.inf,
    "piecewise-per-patient": np.inf,  # bounded by --per-patient-max
    "lifelines-piecewise": 10_000,
}


# ---------------------------------------------------------------------------- measuring
def resident_bytes() -> float:
    """This process's resident memory (bytes; NaN where ``/proc`` is not available)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE")


def measured(
    fn: Callable[[Case], str | tuple[str, float]], case: Case
) -> tuple[float, float, float, str]:
    """Wall (s), CPU (s) and peak resident memory increase (GB) of ``fn(case)``, and its note
    (the wall time ``fn`` returns beside its note, if it does, replaces the measured one)."""
    start_rss = resident_bytes()
    peak = [start_rss]
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.01):
            peak[0] = max(peak[0], resident_bytes())

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        outcome = fn(case)
    finally:
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        done.set()
        watcher.join()
    peak[0] = max(peak[0], resident_bytes())
    note = outcome
    if isinstance(outcome, tuple):
        note, wall = outcome
    return wall, cpu, (peak[0] - start_rss) / 1024**3, note


def write_csv(rows: list[dict], out: Path) -> None:
    """All rows so far, written atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, out)


# ---------------------------------------------------------------------------- plotting
STYLE = {"bayes_bcsm": "-", "lifelines": "--", "numpyro": ":"}
COLOUR = {"Cox": "tab:blue", "Weibull": "tab:red", "piecewise": "tab:green"}
MARKERS = "osD^v<>"


def plot(csv_path: Path, png: Path) -> None:
    """Log-log wall seconds against n, one line per method, from the CSV."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = pd.read_csv(csv_path)
    table = table[np.isfinite(table["wall_s"]) & (table["wall_s"] > 0)]
    fig, ax = plt.subplots(figsize=(11.0, 6.0))
    for i, ((family, method), rows) in enumerate(table.groupby(["family", "method"], sort=False)):
        rows = rows.sort_values("n")
        ax.plot(
            rows["n"],
            rows["wall_s"],
            "-." if method.endswith("per patient") else STYLE[method.split()[0]],
            marker=MARKERS[i % len(MARKERS)],
            color=COLOUR.get(family, "black"),
            label=f"{family}: {method}",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("patients (n)")
    ax.set_ylabel("wall seconds per fit")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    cpus = int(table["cpus"].iloc[0]) if len(table) else os.cpu_count()
    when = str(table["utc"].iloc[0])[:10] if len(table) else ""
    fig.text(
        0.01,
        0.01,
        f"One run on a shared {cpus}-CPU machine ({when}): times vary between runs.\n"
        "Bayesian fits: build + compile (warm kernel cache) + sampling, 4 chains x 1000 draws; "
        "lifelines: maximum likelihood.",
        fontsize=7,
    )
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    png.parent.mkdir(parents=True, exist_ok=True)
    tmp = png.with_name(png.stem + ".tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, png)


# ---------------------------------------------------------------------------- main
def max_n_pair(text: str) -> tuple[str, float]:
    """``METHOD=N`` of ``--max-n``."""
    key, sep, value = text.partition("=")
    if not sep or key not in DEFAULT_MAX_N:
        raise argparse.ArgumentTypeError(
            f"--max-n takes METHOD=N with METHOD one of {', '.join(DEFAULT_MAX_N)}, got {text!r}"
        )
    try:
        return key, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--max-n {key}: N must be a number, got {value!r}"
        ) from None


def numpyro_available() -> bool:
    try:
        import numpyro  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=lambda s: int(float(s)), nargs="+", default=list(SIZES))
    parser.add_argument("--method", choices=list(DEFAULT_MAX_N), nargs="+")
    parser.add_argument(
        "--max-n",
        type=max_n_pair,
        nargs="*",
        default=[],
        help="METHOD=N: largest n of a method (defaults: "
        + ", ".join(f"{k}={v:g}" for k, v in DEFAULT_MAX_N.items() if np.isfinite(v))
        + ")",
    )
    parser.add_argument(
        "--per-patient-max",
        type=lambda s: int(float(s)),
        default=10_000,
        help="largest n of the per-patient piecewise fit (about 50 min of sampling at 1e5)",
    )
    parser.add_argument(
        "--numpyro-chains", choices=["sequential", "vectorized"], default="vectorized"
    )
    parser.add_argument("--out", type=Path, default=DOCS / "scaling.csv")
    parser.add_argument("--png", type=Path, default=None, help="default: --out with .png")
    parser.add_argument("--plot-only", type=Path, metavar="CSV", help="only redraw the plot")
    options = parser.parse_args()
    options.max_n = dict(options.max_n)
    if options.plot_only is not None:
        if not options.plot_only.is_file():
            parser.exit(1, f"--plot-only: no CSV at {options.plot_only}\n")
        plot(options.plot_only, options.png or options.plot_only.with_suffix(".png"))
        return
    png = options.png or options.out.with_suffix(".png")
    if options.method is None:
        options.method = list(DEFAULT_MAX_N)
    if "numpyro-weibull" in options.method and not numpyro_available():
        print(
            "Note: numpyro is not importable here (it is in the `bench` extra only): "
            "skipping the numpyro rows. Install `.[bench]` to include them.",
            flush=True,
        )
        options.method.remove("numpyro-weibull")
    curves = methods(options)
    warnings.simplefilter("ignore")
    print(f"load average at start: {os.getloadavg()} on {os.cpu_count()} CPUs", flush=True)
    rows: list[dict] = []
    for n in options.n:
        case = make_case(n)
        events = int(case.frame["status"].sum())
        for method in curves.values():
            if n > method.max_n:
                continue
            if method.prepare is not None:
                method.prepare(case)
            load = os.getloadavg()[0]
            try:
                wall, cpu, rss, note = measured(method.run, case)
            except MemoryError:
                wall, cpu, rss, note = np.nan, np.nan, np.nan, "MemoryError"
            rows.append(
                {
                    "n": n,
                    "events": events,
                    "family": method.family,
                    "method": method.label,
                    "wall_s": round(wall, 6),
                    "cpu_s": round(cpu, 6),
                    "peak_rss_increase_gb": round(rss, 4),
                    "note": note,
                    "cpus": os.cpu_count(),
                    "load_1min": round(load, 2),
                    "utc": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
            write_csv(rows, options.out)
            print(
                f"| {n:,} | {method.family} | {method.label} | {wall:.2f} | {cpu:.2f} | "
                f"{rss:.2f} | {note} |",
                flush=True,
            )
    plot(options.out, png)
    print(f"wrote {options.out} and {png}")


if __name__ == "__main__":
    main()
