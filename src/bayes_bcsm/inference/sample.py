"""Sampling: nutpie by default, PyMC's NUTS as fallback; compile once, sample many.

nutpie compiles the model's log density (numba) once; the compiled model is cached by the
model's *structure* (:attr:`bayes_bcsm.models.SurvivalModel.structure`: family, priors,
coordinates, data shapes, variables), so a model rebuilt on new data of the same shape
(simulation study, SBC) reuses it through ``compiled.with_data(...)`` instead of
recompiling. Across processes, the compiled C callbacks are cached on disk
(:mod:`bayes_bcsm.inference.kernels`, keyed by the model's PyTensor graph), so a new process
fitting a model compiled before (a second run, a sweep job, a simulation worker) loads them
instead of compiling them. The per-patient log-likelihood is added to the DataTree on request
(from the draws in numpy, :mod:`bayes_bcsm.inference.pointwise`, for the families it covers;
``pm.compute_log_likelihood`` for the others), since neither sampler stores it by default, and only
for fits of at most ``settings.pointwise_max_patients`` patients (above it, draws x patients
values are not held: see :func:`bayes_bcsm.inference.pointwise.chunked_loo`).
"""

from __future__ import annotations

import time as _time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import xarray as xr

from bayes_bcsm.inference.kernels import compile_model
from bayes_bcsm.inference.settings import SAMPLERS, SamplerError, SamplerSettings
from bayes_bcsm.models.base import OBSERVED, SurvivalModel

__all__ = [
    "SAMPLERS",
    "CacheInfo",
    "Fit",
    "SamplerError",
    "SamplerSettings",
    "clear_compile_cache",
    "compile_cache_info",
    "sample",
]


@dataclass(frozen=True)
class Fit:
    """A sampled model.

    Attributes
    ----------
    idata : xarray.DataTree
        ``posterior``, ``sample_stats``, ``observed_data``, ``constant_data`` and (if
        requested, at most ``settings.pointwise_max_patients`` patients) ``log_likelihood``
        (one value per patient, variable ``time``).
    model : SurvivalModel
    settings : SamplerSettings
    compile_seconds, sample_seconds : float
        Wall-clock time spent compiling (0 on a cache hit) and sampling.
    cache_hit : bool
        Whether a compiled model was reused from this process's cache.
    kernel_cache : {"memory", "hit", "miss", "rebuilt", "uncached", "none"}
        Where the compiled callbacks came from: this process's cache (``memory``), the disk
        cache (``hit``), a compilation stored in the disk cache (``miss``: no entry;
        ``rebuilt``: a corrupt or foreign entry replaced), a compilation the disk cache
        cannot key or store (``uncached``; see
        :func:`bayes_bcsm.inference.kernels.compile_model`); ``"none"`` with the PyMC sampler.
    kernel_key : str or None
        The disk cache entry's key (None when uncached or with the PyMC sampler).
    """

    idata: xr.DataTree
    model: SurvivalModel
    settings: SamplerSettings
    compile_seconds: float
    sample_seconds: float
    cache_hit: bool
    kernel_cache: str = "none"
    kernel_key: str | None = None

    @property
    def n_used(self) -> int:
        """Patients in the likelihood."""
        return self.model.n_used

    def describe(self) -> str:
        """One line: family, rows used, sampler."""
        return (
            f"{self.model.family}: {self.model.rows}; {self.settings.sampler} "
            f"{self.settings.chains}x{self.settings.draws} draws"
        )


@dataclass(frozen=True)
class CacheInfo:
    """Compile cache statistics (hits, misses, compiled models held)."""

    hits: int
    misses: int
    size: int


_CACHE: OrderedDict[tuple, Any] = OrderedDict()
_CACHE_MAX = 32
_STATS = {"hits": 0, "misses": 0}


def clear_compile_cache() -> None:
    """Drop every cached compiled model and reset the statistics."""
    _CACHE.clear()
    _STATS.update(hits=0, misses=0)


def compile_cache_info() -> CacheInfo:
    """Current compile cache statistics."""
    return CacheInfo(_STATS["hits"], _STATS["misses"], len(_CACHE))


def _compiled(sm: SurvivalModel) -> tuple[Any, float, str, str | None]:
    """The compiled model, its compile time (s), where it came from and its disk cache key
    (see :attr:`Fit.kernel_cache`, :attr:`Fit.kernel_key`)."""
    key = sm.structure
    if key in _CACHE:
        _STATS["hits"] += 1
        _CACHE.move_to_end(key)
        kernel = _CACHE[key]
        known = {var.name for var in kernel.compiled.shared_var_keys}
        return (
            kernel.compiled.with_data(**{k: v for k, v in sm.data.items() if k in known}),
            0.0,
            "memory",
            kernel.key,
        )
    _STATS["misses"] += 1
    start = _time.perf_counter()
    kernel = compile_model(sm.model)
    elapsed = _time.perf_counter() - start
    _CACHE[key] = kernel
    if len(_CACHE) > _CACHE_MAX:
        _CACHE.popitem(last=False)
    return kernel.compiled, elapsed, kernel.status, kernel.key


def _data_groups(sm: SurvivalModel) -> dict[str, xr.Dataset]:
    model = sm.model
    coords = {k: list(v) for k, v in model.coords.items()}
    dims = model.named_vars_to_dims
    const = {}
    for name, value in sm.data.items():
        d = dims.get(name, tuple(f"{name}_dim_{i}" for i in range(np.ndim(value))))
        const[name] = xr.DataArray(value, dims=d, coords={k: coords[k] for k in d if k in coords})
    # one observed value per patient: her end of follow-up when she has several episodes
    value = sm.data["follow_up_months" if sm.episodes else "time_months"]
    observed = xr.Dataset(
        {OBSERVED: xr.DataArray(value, dims=("patient",), coords={"patient": coords["patient"]})}
    )
    return {"observed_data": observed, "constant_data": xr.Dataset(const)}


def sample(sm: SurvivalModel, settings: SamplerSettings | None = None) -> Fit:
    """Sample a survival model's posterior.

    Parameters
    ----------
    sm : SurvivalModel
        From :func:`~bayes_bcsm.models.weibull_model` etc.
    settings : SamplerSettings, optional

    Returns
    -------
    Fit
        The DataTree and timings; ``fit.idata["log_likelihood"]["time"]`` has dims
        ``(chain, draw, patient)`` when ``settings.log_likelihood`` and the model has at most
        ``settings.pointwise_max_patients`` patients.

    Notes
    -----
    With ``sampler="nutpie"`` a compiled model with the same structure is reused (see
    the module docstring); with ``sampler="pymc"`` PyMC compiles at every call.
    """
    settings = settings or SamplerSettings()
    if settings.sampler == "nutpie":
        import nutpie

        compiled, compile_seconds, origin, kernel_key = _compiled(sm)
        start = _time.perf_counter()
        idata = nutpie.sample(
            compiled,
            draws=settings.draws,
            tune=settings.tune,
            chains=settings.chains,
            cores=settings.cores,
            seed=settings.seed,
            progress_bar=settings.progress_bar,
            save_warmup=False,
            target_accept=settings.target_accept,
            maxdepth=settings.max_treedepth,
        )
        for name, ds in _data_groups(sm).items():
            idata[name] = xr.DataTree(ds)
    else:
        compile_seconds, origin, kernel_key = 0.0, "none", None
        start = _time.perf_counter()
        with sm.model:
            idata = pm.sample(
                draws=settings.draws,
                tune=settings.tune,
                chains=settings.chains,
                cores=settings.cores or 1,
                random_seed=settings.seed,
                target_accept=settings.target_accept,
                progressbar=settings.progress_bar,
                nuts_sampler="pymc",
                compute_convergence_checks=False,
                nuts={"max_treedepth": settings.max_treedepth},
            )
    wanted = settings.log_likelihood and settings.per_patient(sm.n_used)
    if wanted and "log_likelihood" not in idata.children:
        # imports this module
        from bayes_bcsm.inference.pointwise import log_likelihood_group, pointwise_available

        if pointwise_available(sm):
            # numpy on the draws (a collapsed model has no per-patient term to evaluate; for
            # the others it is the same values without compiling another PyTensor function)
            idata["log_likelihood"] = xr.DataTree(
                log_likelihood_group(sm, idata["posterior"].dataset)
            )
        else:
            pm.compute_log_likelihood(
                idata, model=sm.model, var_names=[OBSERVED], progressbar=False
            )
    sample_seconds = _time.perf_counter() - start
    return Fit(
        idata, sm, settings, compile_seconds, sample_seconds, origin == "memory", origin, kernel_key
    )
