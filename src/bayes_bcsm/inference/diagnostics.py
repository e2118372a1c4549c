"""Convergence diagnostics checked against thresholds, each reported pass/fail.

Checks (Vehtari et al. 2021, "Rank-normalization, folding, and localization: an improved
R-hat", *Bayesian Analysis* 16; Betancourt 2016, "Diagnosing suboptimal cotangent
disintegrations in Hamiltonian Monte Carlo" for E-BFMI):

- rank-normalised split R-hat <= 1.01 for every parameter;
- bulk ESS and tail ESS >= 400;
- no divergent transitions;
- E-BFMI >= 0.3 in every chain;
- at most ``max_treedepth_fraction`` of the draws hit the maximum tree depth.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayes_bcsm.inference.settings import DiagnosticThresholds

__all__ = [
    "ConvergenceError",
    "DiagnosticThresholds",
    "Diagnostics",
    "check_convergence",
    "rank_rhat",
]


class ConvergenceError(RuntimeError):
    """A fit failed one or more convergence checks in strict mode."""


@dataclass(frozen=True)
class Diagnostics:
    """Result of :func:`check_convergence`.

    Attributes
    ----------
    summary : DataFrame
        One row per check: ``check``, ``value`` (worst case), ``threshold``, ``passed``,
        ``detail`` (the worst parameter / chain).
    per_parameter : DataFrame
        R-hat, bulk and tail ESS for every scalar parameter.
    """

    summary: pd.DataFrame
    per_parameter: pd.DataFrame

    @property
    def passed(self) -> bool:
        """All checks passed."""
        return bool(self.summary["passed"].all())

    @property
    def failed(self) -> list[str]:
        """Names of the failed checks."""
        return list(self.summary.loc[~self.summary["passed"], "check"])

    def describe(self) -> str:
        """One line per check, ``PASS``/``FAIL``."""
        lines = []
        for row in self.summary.itertuples():
            flag = "PASS" if row.passed else "FAIL"
            lines.append(
                f"{flag} {row.check}: {row.value:.4g} (threshold {row.threshold:g}; {row.detail})"
            )
        return "\n".join(lines)


def _scalar_draws(posterior: xr.Dataset, names: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Every scalar parameter's draws as one array ``(parameter, chain, draw)``, with names
    such as ``beta[hormone_therapy]`` (a variable's elements in C order of its dimensions)."""
    arrays, labels = [], []
    for name in names:
        da = posterior[name].transpose("chain", "draw", ...)
        extra = da.dims[2:]
        values = da.values.reshape(da.shape[0], da.shape[1], -1)
        arrays.append(np.moveaxis(values, -1, 0))
        if not extra:
            labels.append(name)
            continue
        for key in itertools.product(*(da[d].values for d in extra)):
            labels.append(f"{name}[{', '.join(map(str, key))}]")
    return np.concatenate(arrays, axis=0).astype(float, copy=False), labels


def _per_parameter(posterior: xr.Dataset, names: Sequence[str]) -> pd.DataFrame:
    """Rank-normalised split R-hat, bulk and tail ESS of every scalar parameter.

    The values are ArviZ's (``arviz_stats``' array functions, the ones ``az.rhat`` /
    ``az.ess`` apply per parameter, with the tail ESS at ArviZ's default ``stats.ci_prob``),
    computed on all parameters stacked into one array instead of one xarray call per variable
    and diagnostic (which cost more than the computation on the simulation study's models).
    """
    from arviz_base import rcParams
    from arviz_stats.base import array_stats

    draws, labels = _scalar_draws(posterior, names)
    per = pd.DataFrame(
        {
            "r_hat": array_stats.rhat(draws, method="rank"),
            "ess_bulk": array_stats.ess(draws, method="bulk"),
            "ess_tail": array_stats.ess(draws, method="tail", prob=rcParams["stats.ci_prob"]),
        },
        index=pd.Index(labels, name="parameter"),
    )
    return per.astype(float)


def _stat(ss: xr.Dataset, names: Sequence[str]) -> xr.DataArray | None:
    for n in names:
        if n in ss:
            return ss[n]
    return None


def rank_rhat(idata: xr.DataTree, var_names: Sequence[str] | None = None) -> pd.Series:
    """Rank-normalised split R-hat of every scalar parameter (Vehtari et al. 2021).

    Parameters
    ----------
    idata : xarray.DataTree
        With a ``posterior`` group.
    var_names : sequence of str, optional
        Variables (default: every posterior variable).

    Returns
    -------
    Series
        Named ``r_hat``, indexed by parameter (``beta[hormone_therapy]``, ...).
    """
    from arviz_stats.base import array_stats

    names = list(var_names) if var_names else list(idata["posterior"].data_vars)
    draws, labels = _scalar_draws(_as_ds(idata["posterior"]), names)
    return pd.Series(array_stats.rhat(draws, method="rank"), index=labels, name="r_hat")


def check_convergence(
    idata: xr.DataTree,
    thresholds: DiagnosticThresholds | None = None,
    var_names: Sequence[str] | None = None,
    strict: bool = False,
) -> Diagnostics:
    """Check a fit against convergence thresholds.

    Parameters
    ----------
    idata : xarray.DataTree
        With ``posterior`` and ``sample_stats`` (nutpie or PyMC names).
    thresholds : DiagnosticThresholds, optional
    var_names : sequence of str, optional
        Parameters to check (default: every posterior variable).
    strict : bool
        Raise :class:`ConvergenceError` when a check fails.

    Returns
    -------
    Diagnostics

    Raises
    ------
    ConvergenceError
        In strict mode, listing every failed check with its value and threshold.
    """
    th = thresholds or DiagnosticThresholds()
    names = list(var_names) if var_names else list(idata["posterior"].data_vars)
    per = _per_parameter(_as_ds(idata["posterior"]), names)

    ss = idata["sample_stats"].dataset
    rows = []

    def add(check: str, value: float, threshold: float, passed: bool, detail: str) -> None:
        rows.append(
            {
                "check": check,
                "value": float(value),
                "threshold": float(threshold),
                "passed": bool(passed),
                "detail": detail,
            }
        )

    r = per["r_hat"].replace([np.inf], np.nan)
    worst = per["r_hat"].fillna(np.inf).idxmax()
    rmax = float(per["r_hat"].fillna(np.inf).max())
    add("r_hat", rmax, th.rhat_max, rmax <= th.rhat_max and not r.isna().any(), f"worst {worst}")
    for col, thr in (("ess_bulk", th.ess_bulk_min), ("ess_tail", th.ess_tail_min)):
        vmin = float(per[col].fillna(0).min())
        add(col, vmin, thr, vmin >= thr, f"worst {per[col].fillna(0).idxmin()}")
    div = _stat(ss, ["diverging"])
    n_div = int(div.sum()) if div is not None else 0
    add(
        "divergences",
        n_div,
        th.divergences_max,
        n_div <= th.divergences_max,
        f"{n_div} of {div.size if div is not None else 0} draws",
    )
    if "energy" in ss:
        bfmi = np.atleast_1d(_as_ds(az.bfmi(idata))["energy"].values)
        add(
            "e_bfmi",
            float(bfmi.min()),
            th.ebfmi_min,
            float(bfmi.min()) >= th.ebfmi_min,
            f"per chain {np.round(bfmi, 3).tolist()}",
        )
    hit = _stat(ss, ["maxdepth_reached", "reached_max_treedepth"])
    if hit is not None:
        frac = float(hit.mean())
        depth = _stat(ss, ["depth", "tree_depth"])
        dmax = int(depth.max()) if depth is not None else -1
        add(
            "tree_depth",
            frac,
            th.max_treedepth_fraction,
            frac <= th.max_treedepth_fraction,
            f"fraction of draws at max depth; deepest tree {dmax}",
        )
    diag = Diagnostics(pd.DataFrame(rows), per)
    if strict and not diag.passed:
        bad = diag.summary.loc[~diag.summary["passed"]]
        text = "; ".join(
            f"{r.check}={r.value:.4g} (threshold {r.threshold:g}, {r.detail})"
            for r in bad.itertuples()
        )
        raise ConvergenceError(f"fit failed convergence checks: {text}")
    return diag


def _as_ds(obj: xr.Dataset | xr.DataTree) -> xr.Dataset:
    return obj.dataset if isinstance(obj, xr.DataTree) else obj
