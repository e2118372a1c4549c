"""The per-patient log-likelihood computed from the draws, a chunk of patients at a time.

At registry scale (10^5 patients, 4000 draws) the pointwise log-likelihood PSIS-LOO needs is
draws x patients values (3.2 GB at 10^5 x 4000), and a collapsed model
(:mod:`bayes_bcsm.models.collapse`) has no per-patient term in its graph at all. Here it is
evaluated in numpy from the posterior draws and the rows kept in ``SurvivalModel.data``, with
the formulas the models are built from (:mod:`bayes_bcsm.models.likelihood` with
``xp=numpy``): ``delta log h(t) - [H(t) - H(entry)]`` per row, summed over a patient's
(start, stop] episodes. PSIS-LOO of one patient uses her column alone (and the relative
efficiency of the posterior draws, which is the same for every patient), so
:func:`chunked_loo` runs ``arviz.loo`` on chunks of patients and joins them: memory is
draws x chunk, never draws x patients.

Available for the Weibull, exponential and piecewise-exponential families on complete cases
(a marginalised missing covariate needs its per-patient mixture: those models keep the
per-patient observed variable and ``pm.compute_log_likelihood``).

References
----------
Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian model evaluation using
leave-one-out cross-validation and WAIC. *Statistics and Computing* 27:1413-1432 (the ELPD is a
sum over observations, its SE from their spread).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import arviz as az
import numpy as np
import xarray as xr
from arviz_stats.loo.loo_helper import _get_r_eff
from arviz_stats.utils import ELPDDataLOO

from bayes_bcsm.inference.predictive import beta_draws
from bayes_bcsm.inference.settings import POINTWISE_FAMILIES
from bayes_bcsm.models.base import OBSERVED, SurvivalModel
from bayes_bcsm.models.families import model_family
from bayes_bcsm.models.likelihood import (
    exposure_matrix,
    interval_onehot,
    survival_log_density,
    weibull_cumulative_hazard,
    weibull_log_hazard,
)

__all__ = [
    "CHUNK_PATIENTS",
    "POINTWISE_FAMILIES",
    "chunked_loo",
    "log_likelihood_group",
    "patient_chunks",
    "pointwise_available",
    "pointwise_log_likelihood",
]

#: Patients per chunk: 1,000 x 4,000 draws x 8 bytes = 32 MB per array (PSIS and the hazards
#: hold several such arrays at once).
CHUNK_PATIENTS = 1_000


def pointwise_available(sm: SurvivalModel) -> bool:
    """Whether :func:`pointwise_log_likelihood` covers ``sm`` (family in
    :data:`POINTWISE_FAMILIES`, no marginalised covariate)."""
    return sm.family in POINTWISE_FAMILIES and sm.missing is None


def patient_chunks(n_patients: int, size: int = CHUNK_PATIENTS) -> Iterator[slice]:
    """Consecutive slices of at most ``size`` patients covering ``0..n_patients - 1``."""
    for start in range(0, n_patients, size):
        yield slice(start, min(start + size, n_patients))


def pointwise_log_likelihood(
    sm: SurvivalModel, posterior: xr.Dataset, patients: slice | None = None
) -> np.ndarray:
    """Log-likelihood of each patient at each draw.

    Parameters
    ----------
    sm : SurvivalModel
        A model of :data:`POINTWISE_FAMILIES` without a marginalised covariate, per patient or
        collapsed.
    posterior : Dataset
        Draws with dims ``(chain, draw, ...)``.
    patients : slice, optional
        Positions of the patients (``0..n_used - 1``, the order of the ``patient`` dimension);
        default all.

    Returns
    -------
    ndarray, shape (chain, draw, m)
        ``log p(t_i, delta_i | theta)`` (density of the time in months, or survival
        probability when censored), as ``pm.compute_log_likelihood`` gives for the per-patient
        model.

    Raises
    ------
    ValueError
        For a model outside :func:`pointwise_available`.
    """
    if not pointwise_available(sm):
        raise ValueError(
            f"the pointwise log-likelihood is computed from the draws for families "
            f"{', '.join(POINTWISE_FAMILIES)} on complete cases, not for {sm.family!r}"
            + (" with a marginalised covariate" if sm.missing is not None else "")
        )
    patients = patients or slice(0, sm.n_used)
    data = sm.data
    owner = data.get("patient_index")
    if owner is None:
        rows = np.arange(patients.start, patients.stop)
        local = rows - patients.start
    else:
        rows = np.flatnonzero((owner >= patients.start) & (owner < patients.stop))
        local = owner[rows] - patients.start
    time = np.asarray(data["time_months"])[rows]
    event = np.asarray(data["event"])[rows]
    entry = data.get("entry_months")
    entry = None if entry is None else np.asarray(entry)[rows]
    beta = beta_draws(sm, posterior)
    X = np.asarray(data["X"])[rows] if "X" in data else np.zeros((len(rows), 0))
    eta = beta[..., : X.shape[1]] @ X.T  # (chain, draw, rows)
    base = model_family(sm.family).baseline(posterior)
    s = sm.baseline.time_scale_months
    if sm.family == "piecewise":
        log_rate = base["log_rate"]  # (chain, draw, K)
        onehot = interval_onehot(time, sm.cuts_months)
        exposure = exposure_matrix(time, sm.cuts_months, entry) / s
        log_h = log_rate @ onehot.T - np.log(s) + eta
        cum_h = np.exp(eta) * (np.exp(log_rate) @ exposure.T)
    else:
        log_alpha, log_lambda = base["log_alpha"][..., None], base["log_lambda"][..., None]
        log_h = weibull_log_hazard(time, log_alpha, log_lambda, eta, s, xp=np)
        cum_h = weibull_cumulative_hazard(time, log_alpha, log_lambda, eta, s, xp=np, entry=entry)
    per_row = survival_log_density(event, log_h, cum_h)
    if owner is None:
        return per_row
    out = np.zeros((*per_row.shape[:2], patients.stop - patients.start))
    np.add.at(out, (slice(None), slice(None), local), per_row)  # a patient's episodes
    return out


def _as_array(values: np.ndarray, posterior: xr.Dataset, patients: np.ndarray) -> xr.DataArray:
    return xr.DataArray(
        values,
        dims=("chain", "draw", "patient"),
        coords={
            "chain": posterior["chain"].values,
            "draw": posterior["draw"].values,
            "patient": patients,
        },
    )


def log_likelihood_group(sm: SurvivalModel, posterior: xr.Dataset) -> xr.Dataset:
    """The ``log_likelihood`` group (variable ``time``, dims ``(chain, draw, patient)``) of a
    model whose graph has no per-patient term (a collapsed one), for all its patients at once:
    for fits of at most ``sampler.pointwise_max_patients`` patients."""
    values = pointwise_log_likelihood(sm, posterior)
    return xr.Dataset({OBSERVED: _as_array(values, posterior, np.arange(sm.n_used))})


def chunked_loo(
    sm: SurvivalModel, posterior: xr.Dataset, chunk: int = CHUNK_PATIENTS
) -> ELPDDataLOO:
    """PSIS-LOO over patients from :func:`pointwise_log_likelihood`, a chunk at a time.

    Each chunk is an ``arviz.loo`` with the relative efficiency of the whole posterior
    (ArviZ's default, computed once), so every patient's ELPD and Pareto k are the ones
    ``arviz.loo`` gives on the full matrix; the total ELPD and ``p_loo`` are sums over
    patients and the SE is ``sqrt(n var(elpd_i))`` (ddof 1), as ArviZ computes them.

    Parameters
    ----------
    sm : SurvivalModel
    posterior : Dataset
        Draws with dims ``(chain, draw, ...)``.
    chunk : int
        Patients per chunk (memory ~ a few times ``chunk x draws x 8`` bytes).

    Returns
    -------
    ELPDDataLOO
        With ``elpd_i`` and ``pareto_k`` per patient (no ``log_weights``: they are
        draws x patients).
    """
    n_samples = posterior.sizes["chain"] * posterior.sizes["draw"]
    tree = xr.DataTree.from_dict({"posterior": posterior})
    reff = _get_r_eff(tree, n_samples)
    patient = np.arange(sm.n_used)
    elpd_i, pareto_k, p_loo, warning, good_k = [], [], 0.0, False, None
    for part in patient_chunks(sm.n_used, chunk):
        values = pointwise_log_likelihood(sm, posterior, part)
        log_lik = _as_array(values, posterior, patient[part])
        tree_part = xr.DataTree.from_dict(
            {"posterior": posterior, "log_likelihood": xr.Dataset({OBSERVED: log_lik})}
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pareto k is reported by loo_summary
            result = az.loo(tree_part, pointwise=True, reff=reff)
        # keep the per-patient values only: the result's log weights are draws x chunk
        elpd_i.append(result.elpd_i)
        pareto_k.append(result.pareto_k)
        p_loo += float(result.p)
        warning = warning or bool(result.warning)
        good_k = result.good_k
    elpd_i = xr.concat(elpd_i, dim="patient")
    pareto_k = xr.concat(pareto_k, dim="patient")
    n = sm.n_used
    return ELPDDataLOO(
        elpd=float(elpd_i.sum()),
        se=float(np.sqrt(n * np.var(elpd_i.values, ddof=1))) if n > 1 else 0.0,
        p=p_loo,
        n_samples=n_samples,
        n_data_points=n,
        scale="log",
        warning=warning,
        good_k=good_k,
        elpd_i=elpd_i,
        pareto_k=pareto_k,
        approx_posterior=False,
    )
