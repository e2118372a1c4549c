"""Benchmark: the Bayesian Weibull PH model on the reconstructed cohort, three NUTS samplers.

Plain script (not a test): ``.venv/bin/python benchmarks/bench_models.py``. Data: the bundled
78-patient cohort, the paper's Table 3 covariates, complete cases (53 patients, 35 events).
Model: the package's Weibull PH model with its default priors
(``log_alpha ~ N(0, 0.5)``, ``log_lambda ~ N(-1, 2)`` at the 12-month time scale,
``beta ~ N(0, 1)``), 4 chains x 1000 draws after 1000 tuning steps, target_accept 0.9,
maximum tree depth 10. Measured, in one process, one after another:

(a) nutpie through :func:`bayes_bcsm.inference.sample` (numba backend), chains on threads
    (the package default ``cores = min(chains, CPUs)``) and, for a like-for-like single-core
    figure, with ``cores=1``;
(b) PyMC's own NUTS through the package (``sampler="pymc"``; the package runs its chains
    sequentially, ``cores=1``);
(c) the same model hand-written in numpyro (float64, diagonal mass matrix like the others),
    chains ``"sequential"`` and ``"vectorized"`` (one process, one CPU device); skipped with
    a note when numpyro is not importable (it lives in the ``bench`` extra only);
(d) refits with the cached compiled nutpie model: 20 bootstrap resamples of the 53 complete
    cases (same shape), model rebuilt and sampled each time;
(e) the first fit of the model in a new process (issue 25): nutpie through the package with
    an empty compiled-model cache (``BAYES_BCSM_CACHE_DIR`` a new folder: state ``miss``) and
    then with the entry that fit left (``hit``), each a new Python process timing
    ``sample`` after its imports (compile + sampling, as numpyro's first ``run`` after its
    imports), against (c)'s compile + sampling; the issue's target is nutpie's warm first
    fit at most 0.5 x numpyro's.

Compile times are measured with warm on-disk caches (pytensor's compiledir, numba), as in
everyday use; nutpie's is the first compile in the process. Sampling times are the median of
3 runs with the same seed. PyMC compiles inside ``pm.sample``: its compile time is measured
separately as the compilation of the log-density-and-gradient function its NUTS uses, and its
sampling time is the wall time of the package call minus that. numpyro compiles on the first
``run``: its compile time is the first run minus the median of 3 further runs of the same
(cached, ``jit_model_args=True``) compiled sampler. "min bulk ESS" is the smallest
rank-normalised bulk ESS over ``log_alpha``, ``log_lambda`` and ``beta``; ESS/s divides it
by the sampling time. The per-patient
log-likelihood is not computed (``log_likelihood=False``) so that only sampling is timed.
Posterior means of the three samplers are printed as a sanity check, with the largest
difference in units of its Monte Carlo standard error.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import arviz as az
import numpy as np

from bayes_bcsm.data import build_design, derive_groupings, load_cohort
from bayes_bcsm.data.design import Design, DesignError
from bayes_bcsm.inference.sample import SamplerSettings, clear_compile_cache, sample
from bayes_bcsm.models import BaselineSpec, PriorSpec, weibull_model
from bayes_bcsm.resources import bundled_cohort

COHORT = bundled_cohort()
TABLE3 = [
    "preop_neuro_dysfunction",
    "postop_neuro_dysfunction",
    "hormone_receptor",
    "hormone_therapy",
]
PARAMS = ["log_alpha", "log_lambda", "beta"]
CHAINS, DRAWS, TUNE, TARGET_ACCEPT, MAX_TREEDEPTH, SEED = 4, 1000, 1000, 0.9, 10, 0
N_REFITS = 20
REPEATS = 3


def machine() -> str:
    """CPU model, logical CPUs available to this process, OS."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {usable} logical CPUs, {platform.system()} {platform.release()}"


def versions() -> str:
    """Versions of Python and the libraries involved."""
    out = [f"Python {sys.version.split()[0]}"]
    for pkg in (
        "bayes_bcsm",
        "numpy",
        "pymc",
        "pytensor",
        "nutpie",
        "numba",
        "arviz",
        "numpyro",
        "jax",
        "jaxlib",
    ):
        try:
            out.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            pass
    return ", ".join(out)


def load_design() -> Design:
    """The Table 3 complete-case design (53 of 78 patients)."""
    frame = derive_groupings(load_cohort(COHORT).frame)
    return build_design(frame, TABLE3)


def posterior_draws(idata) -> dict[str, np.ndarray]:
    """``(chain, draw)`` arrays of every scalar parameter (``beta`` split per covariate)."""
    post = idata["posterior"]
    out = {name: post[name].values for name in ("log_alpha", "log_lambda")}
    for j, col in enumerate(post["beta"]["covariate"].values):
        out[f"beta[{col}]"] = post["beta"].values[..., j]
    return out


def min_bulk_ess(draws: dict[str, np.ndarray]) -> float:
    """Smallest rank-normalised bulk ESS over the parameters."""
    return float(min(az.ess(v, method="bulk") for v in draws.values()))


def settings(sampler: str, cores: int | None = None) -> SamplerSettings:
    """The benchmark's sampler settings (no per-patient log-likelihood)."""
    return SamplerSettings(
        sampler=sampler,
        chains=CHAINS,
        draws=DRAWS,
        tune=TUNE,
        target_accept=TARGET_ACCEPT,
        max_treedepth=MAX_TREEDEPTH,
        seed=SEED,
        cores=cores,
        log_likelihood=False,
    )


# ------------------------------------------------------------------------------ samplers
def run_nutpie(design: Design, cores: int | None, fresh: bool) -> dict:
    """(a) nutpie via the package; compiled afresh when ``fresh`` (else the cached compiled
    model is reused and no compile time is reported). Sampling: median of ``REPEATS`` calls
    with the same seed (identical draws)."""
    if fresh:
        clear_compile_cache()
    fits = [sample(weibull_model(design), settings("nutpie", cores)) for _ in range(REPEATS)]
    assert fits[0].cache_hit != fresh
    return {
        "compile": fits[0].compile_seconds if fresh else np.nan,
        "sample": float(np.median([f.sample_seconds for f in fits])),
        "draws": posterior_draws(fits[0].idata),
        "divergences": int(fits[0].idata["sample_stats"]["diverging"].sum()),
    }


def run_pymc(design: Design) -> dict:
    """(b) PyMC's NUTS via the package (it compiles at every call). Compile time: the
    log-density-and-gradient function its NUTS uses, compiled on a fresh model; sampling: the
    median wall time of ``REPEATS`` package calls minus that."""
    fresh = weibull_model(design).model
    start = time.perf_counter()
    fresh.logp_dlogp_function(ravel_inputs=True)
    compile_s = time.perf_counter() - start
    walls, fits = [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fits.append(sample(weibull_model(design), settings("pymc")))
        walls.append(time.perf_counter() - start)
    return {
        "compile": compile_s,
        "sample": float(np.median(walls)) - compile_s,
        "draws": posterior_draws(fits[0].idata),
        "divergences": int(fits[0].idata["sample_stats"]["diverging"].sum()),
    }


def run_numpyro(design: Design, chain_method: str, repeats: int = REPEATS) -> dict:
    """(c) the Weibull PH model hand-written in numpyro, same priors, data and settings: the
    first run's time less the median of ``repeats`` further runs is its compile time."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.infer import MCMC, NUTS

    prior, base = PriorSpec(), BaselineSpec()
    assert prior.family == "normal"
    s = base.time_scale_months

    def model(time_months, event, X):
        log_alpha = numpyro.sample("log_alpha", dist.Normal(0.0, base.log_alpha_sd))
        log_lambda = numpyro.sample("log_lambda", dist.Normal(base.log_rate_mu, base.log_rate_sd))
        beta = numpyro.sample(
            "beta", dist.Normal(prior.center, prior.scale).expand([X.shape[1]]).to_event(1)
        )
        eta = X @ beta
        alpha = jnp.exp(log_alpha)
        log_t = jnp.log(time_months / s)
        log_h = log_alpha - jnp.log(s) + log_lambda + (alpha - 1.0) * log_t + eta
        cum_h = jnp.exp(log_lambda + eta + alpha * log_t)
        numpyro.factor("survival", jnp.sum(event * log_h - cum_h))

    data = (
        jnp.asarray(design.time, dtype=float),
        jnp.asarray(design.event, dtype=float),
        jnp.asarray(design.X, dtype=float),
    )
    mcmc = MCMC(
        NUTS(model, target_accept_prob=TARGET_ACCEPT, max_tree_depth=MAX_TREEDEPTH),
        num_warmup=TUNE,
        num_samples=DRAWS,
        num_chains=CHAINS,
        chain_method=chain_method,
        progress_bar=False,
        jit_model_args=True,
    )
    timings = []
    for _ in range(1 + repeats):
        start = time.perf_counter()
        mcmc.run(jax.random.PRNGKey(SEED), *data, extra_fields=("diverging",))
        jax.block_until_ready(mcmc.get_samples())
        timings.append(time.perf_counter() - start)
    sample_s = float(np.median(timings[1:]))
    grouped = mcmc.get_samples(group_by_chain=True)
    draws = {
        "log_alpha": np.asarray(grouped["log_alpha"]),
        "log_lambda": np.asarray(grouped["log_lambda"]),
    }
    for j, col in enumerate(design.columns):
        draws[f"beta[{col}]"] = np.asarray(grouped["beta"][..., j])
    div = int(np.asarray(mcmc.get_extra_fields()["diverging"]).sum())
    return {
        "compile": timings[0] - sample_s,
        "sample": sample_s,
        "draws": draws,
        "divergences": div,
    }


#: (e): one new process fitting the model after its imports; prints the fit's timings as JSON
FIRST_FIT = """
import json, sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {here!r})
import bench_models as bench
from bayes_bcsm.inference.sample import sample
from bayes_bcsm.models import weibull_model
design = bench.load_design()
fit = sample(weibull_model(design), bench.settings("nutpie"))
print(json.dumps({{"compile": fit.compile_seconds, "sample": fit.sample_seconds,
                  "state": fit.kernel_cache}}))
"""


def run_first_fits(cache: Path) -> list[dict]:
    """(e) The model's first fit in a new process: with the compiled-model cache ``cache``
    empty, then holding the entry the first process left."""
    env = {**os.environ, "BAYES_BCSM_CACHE_DIR": str(cache)}
    script = FIRST_FIT.format(here=str(Path(__file__).parent))
    out = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def bootstrap_designs(design: Design, k: int, seed: int) -> list[Design]:
    """``k`` bootstrap resamples of the design's rows (same shape; resamples in which a
    covariate column is constant are redrawn)."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < k:
        idx = rng.integers(0, design.n, design.n)
        X = design.X[idx]
        if np.any(X.min(0) == X.max(0)) or design.event[idx].sum() == 0:
            continue
        out.append(
            replace(
                design, time=design.time[idx], event=design.event[idx], X=X, index=design.index[idx]
            )
        )
    return out


def run_refits(design: Design, k: int) -> dict:
    """(d) ``k`` refits reusing the compiled nutpie model (cache warmed by one fit)."""
    sample(weibull_model(design), settings("nutpie"))  # make sure the structure is cached
    build_s, sample_s, ess = [], [], []
    for b, boot in enumerate(bootstrap_designs(design, k, seed=1)):
        start = time.perf_counter()
        sm = weibull_model(boot)
        build_s.append(time.perf_counter() - start)
        fit = sample(sm, replace(settings("nutpie"), seed=SEED + 1 + b))
        if not fit.cache_hit:
            raise DesignError("refit did not reuse the compiled model")
        sample_s.append(fit.sample_seconds)
        ess.append(min_bulk_ess(posterior_draws(fit.idata)))
    return {
        "build": float(np.mean(build_s)),
        "sample": float(np.mean(sample_s)),
        "total": float(np.mean(np.add(build_s, sample_s))),
        "min_ess": float(np.min(ess)),
        "k": k,
    }


# ------------------------------------------------------------------------------- report
def main() -> None:
    warnings.simplefilter("ignore")
    design = load_design()
    print(f"Machine: {machine()}")
    print(f"Versions: {versions()}")
    print(
        f"Data: {COHORT.name}, Table 3 set, {design.rows.describe()}; "
        f"{design.n_events} events; {design.X.shape[1]} log-HRs"
    )
    print(
        f"NUTS: {CHAINS} chains x {DRAWS} draws, {TUNE} tune, target_accept {TARGET_ACCEPT}, "
        f"max tree depth {MAX_TREEDEPTH}, seed {SEED}\n",
        flush=True,
    )

    runs: dict[str, dict] = {}
    runs["(a) nutpie via package, chains on threads (default)"] = run_nutpie(design, None, True)
    runs["(a) nutpie via package, cores=1 (same compiled model)"] = run_nutpie(design, 1, False)
    runs["(b) PyMC NUTS via package (chains sequential)"] = run_pymc(design)
    try:
        import numpyro  # noqa: F401
    except ImportError:
        print(
            "Note: numpyro is not importable here (it is in the `bench` extra only): "
            "skipping (c). Run this script in an environment with `.[bench]` installed.\n"
        )
    else:
        for method in ("sequential", "vectorized"):
            runs[f"(c) numpyro, chains {method}"] = run_numpyro(design, method)

    print(
        "| sampler | compile (s) | sampling (s) | compile + sampling (s) | min bulk ESS "
        "| min bulk ESS / s sampling | divergences |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, r in runs.items():
        r["min_ess"] = min_bulk_ess(r["draws"])
        both = r["sample"] + (0.0 if np.isnan(r["compile"]) else r["compile"])
        compile_s = "reused" if np.isnan(r["compile"]) else f"{r['compile']:.2f}"
        print(
            f"| {label} | {compile_s} | {r['sample']:.2f} | {both:.2f} | {r['min_ess']:.0f} | "
            f"{r['min_ess'] / r['sample']:.0f} | {r['divergences']} |",
            flush=True,
        )

    with tempfile.TemporaryDirectory() as tmp:
        first_fits = run_first_fits(Path(tmp))
    print(
        "\n(e) First fit of the model in a new process (after the imports): compile + sampling "
        "against numpyro's (c) in this run:\n"
    )
    print(
        "| first fit | kernel cache | compile (s) | sampling (s) | compile + sampling (s) | "
        "/ numpyro sequential | / numpyro vectorized |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    numpyro_firsts = {
        method: runs[f"(c) numpyro, chains {method}"]
        for method in ("sequential", "vectorized")
        if f"(c) numpyro, chains {method}" in runs
    }
    rows = [("nutpie via package, new process", f) for f in first_fits] + [
        (f"numpyro, chains {m}", {**r, "state": "(jit)"}) for m, r in numpyro_firsts.items()
    ]
    for label, r in rows:
        both = r["compile"] + r["sample"]
        ratios = [
            f"{both / (n['compile'] + n['sample']):.2f}" for n in numpyro_firsts.values()
        ] or ["n/a"]
        print(
            f"| {label} | {r['state']} | {r['compile']:.2f} | {r['sample']:.2f} | {both:.2f} | "
            + " | ".join(ratios)
            + " |",
            flush=True,
        )

    refit = run_refits(design, N_REFITS)
    first = runs["(a) nutpie via package, chains on threads (default)"]
    print(
        f"\n(d) nutpie refits reusing the compiled model, {refit['k']} bootstrap resamples of "
        f"the {design.n} complete cases (same shape):\n"
    )
    print(
        "| per refit | model build (s) | sampling (s) | total (s) | first fit, compile + "
        "sampling (s) | min bulk ESS (worst refit) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| mean of {refit['k']} | {refit['build']:.2f} | {refit['sample']:.2f} | "
        f"{refit['total']:.2f} | {first['compile'] + first['sample']:.2f} | "
        f"{refit['min_ess']:.0f} |"
    )

    print(
        "\nPosterior means (sanity check; |diff| / MCSE is the largest difference from the "
        "nutpie default run in units of the combined Monte Carlo standard error):\n"
    )
    names = list(first["draws"])
    mcse = {
        label: {n: float(az.mcse(r["draws"][n], method="mean")) for n in names}
        for label, r in runs.items()
    }
    ref = next(iter(runs))
    worst = {}
    for label, r in runs.items():
        z = [
            abs(r["draws"][n].mean() - first["draws"][n].mean())
            / np.hypot(mcse[label][n], mcse[ref][n])
            for n in names
        ]
        worst[label] = float(np.max(z))
    cols = list(runs)
    print("| parameter | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for n in names:
        print(
            f"| {n} | "
            + " | ".join(f"{float(runs[c]['draws'][n].mean()):.3f}" for c in cols)
            + " |"
        )
    print("| max abs diff / MCSE vs (a) | " + " | ".join(f"{worst[c]:.1f}" for c in cols) + " |")


if __name__ == "__main__":
    main()
