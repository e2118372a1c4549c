"""PSIS-LOO of a fit, summarised for artefacts and reports."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import xarray as xr


def psis_loo(idata: xr.DataTree, warned: list[str] | None = None):
    """PSIS-LOO (``arviz.loo``) on the per-patient log-likelihood.

    ArviZ's warnings (about large Pareto k) are not shown, because :func:`loo_summary` reports
    the same check with the number of patients concerned; their messages are appended to
    ``warned`` when given (a comparison of fits repeats them in its note).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = az.loo(idata)
    if warned is not None:
        warned.extend(str(w.message) for w in caught)
    return result


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
