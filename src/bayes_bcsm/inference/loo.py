"""PSIS-LOO of a fit, summarised for artefacts and reports."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import xarray as xr


def psis_loo(idata: xr.DataTree):
    """PSIS-LOO (``arviz.loo``) on the per-patient log-likelihood.

    ArviZ's warning about large Pareto k is silenced because :func:`loo_summary` reports the
    same check with the number of patients concerned.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return az.loo(idata)


def loo_summary(loo) -> dict[str, float | int]:
    """ELPD, its SE, p_loo and the Pareto-k check of an ``arviz.loo`` result.

    Returns
    -------
    dict
        ``elpd_loo``, ``se``, ``p_loo``, ``n_patients``, ``pareto_k_threshold`` (ArviZ's
        sample-size dependent threshold, about 0.7), ``n_pareto_k_above_threshold`` and
        ``max_pareto_k``.
    """
    k = np.asarray(loo.pareto_k).ravel()
    return {
        "elpd_loo": float(loo.elpd),
        "se": float(loo.se),
        "p_loo": float(loo.p),
        "n_patients": int(loo.n_data_points),
        "pareto_k_threshold": float(loo.good_k),
        "n_pareto_k_above_threshold": int((k > loo.good_k).sum()),
        "max_pareto_k": float(k.max()),
    }
