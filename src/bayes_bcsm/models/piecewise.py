"""Piecewise-exponential proportional-hazards model.

The baseline hazard is constant within intervals ``[0, c1), [c1, c2), ..., [cK-1, inf)``:
``h(t | x) = (exp(log_rate_k) / s) * exp(x @ beta)`` for ``t`` in interval ``k``. The
likelihood uses an exposure matrix (patients x intervals) for the cumulative hazard and
the interval of each patient's time for the hazard, so it is the same per-patient
survival density as the other families (one row per patient, or per (start, stop] episode with
the exposure counted from its start; no Poisson-trick rows).

Baseline priors: ``"independent"`` (``log_rate_k ~ Normal(mu, sd)`` i.i.d.) or
``"random_walk"`` (mean log rate over the intervals ``~ Normal(mu, sd)``, steps
``log_rate_k - log_rate_(k-1) ~ Normal(0, sigma)``, ``sigma ~ HalfNormal(rw_sd)``), which
smooths neighbouring intervals (the usual choice with few events).

Each step of the walk is parametrised by how much the data say about it
(:func:`centred_steps`): non-centred (``step = sigma * z``, ``z ~ Normal(0, 1)``) where the two
intervals it joins hold few events, so that the prior dominates and a centred step would sit in
a funnel with ``sigma``; centred (``step ~ Normal(0, sigma)``) where they hold many, so that the
likelihood pins the step and a non-centred ``z = step / sigma`` would be tied to ``sigma`` along
a curved ridge (the inverted funnel behind the divergences and low ESS of ``rw_sigma`` in
cohorts of thousands of patients). Both give the same posterior of the log rates; only the
geometry NUTS sees differs.

References
----------
Ibrahim, J. G., Chen, M.-H. and Sinha, D. (2001). *Bayesian Survival Analysis*, section 3.1.
Papaspiliopoulos, O., Roberts, G. O. and Sköld, M. (2007). A general framework for the
parametrization of hierarchical models. *Statistical Science* 22:59-73.
Betancourt, M. and Girolami, M. (2015). Hamiltonian Monte Carlo for hierarchical models. In
*Current Trends in Bayesian Methodology with Applications*, CRC Press.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy import stats

from bayes_bcsm.data.design import Design
from bayes_bcsm.models.base import SurvivalModel, assemble, covariate_prior, row_dim
from bayes_bcsm.models.collapse import collapse_piecewise
from bayes_bcsm.models.likelihood import (
    exposure_matrix,
    interval_onehot,
    piecewise_cumulative_hazard,
    piecewise_log_hazard,
)
from bayes_bcsm.models.missing import MissingDesign
from bayes_bcsm.models.priors import BaselineSpec, PriorError, PriorSpec
from bayes_bcsm.models.specs import DEFAULT_CUTS_MONTHS

StepParametrisation = Literal["auto", "centred", "non_centred"]
STEP_PARAMETRISATIONS: tuple[str, ...] = ("auto", "centred", "non_centred")

__all__ = [
    "DEFAULT_CUTS_MONTHS",
    "STEP_PARAMETRISATIONS",
    "centred_steps",
    "interval_labels",
    "piecewise_cuts",
    "piecewise_model",
]


def piecewise_cuts(
    time: np.ndarray | None = None,
    event: np.ndarray | None = None,
    cuts: Sequence[float] | None = DEFAULT_CUTS_MONTHS,
    n_quantile_intervals: int | None = None,
) -> tuple[float, ...]:
    """Interior cut points in months.

    Parameters
    ----------
    time, event : ndarray, optional
        Needed for quantile cuts.
    cuts : sequence of float, optional
        Fixed cut points (months); a leading 0 is dropped. Used when
        ``n_quantile_intervals`` is None.
    n_quantile_intervals : int, optional
        If set, ``K`` intervals with cut points at the ``k / K`` quantiles of the event
        times (about equal numbers of events per interval).

    Returns
    -------
    tuple of float
        Strictly increasing, > 0.

    Raises
    ------
    PriorError
        Non-increasing cuts, or quantile cuts without times.
    """
    if n_quantile_intervals is not None:
        if time is None or event is None:
            raise PriorError("quantile cut points need the design's times and events")
        if n_quantile_intervals < 1:
            raise PriorError("n_quantile_intervals must be >= 1")
        event_times = np.asarray(time, dtype=float)[np.asarray(event) == 1]
        q = np.linspace(0, 1, n_quantile_intervals + 1)[1:-1]
        out = np.unique(np.round(np.quantile(event_times, q), 6))
    else:
        out = np.asarray([c for c in (cuts or ()) if c > 0], dtype=float)
    if np.any(np.diff(out) <= 0):
        raise PriorError(f"cut points must be strictly increasing, got {list(out)}")
    return tuple(float(c) for c in out)


def centred_steps(events_per_interval: np.ndarray, rw_sd: float) -> np.ndarray:
    """Which random-walk steps to centre: those the data pin more tightly than the prior.

    The log rate of an interval holding ``e_k`` events has Fisher information about ``e_k``
    (Poisson counts with known exposure), so the data alone give the step
    ``log_rate_k - log_rate_(k-1)`` a standard error ``sqrt(1 / e_(k-1) + 1 / e_k)``. A step
    is centred when that standard error is below the prior's typical step sd, the median of
    ``HalfNormal(rw_sd)`` (``0.674 rw_sd``): the likelihood dominates and the centred form
    has the better geometry; otherwise non-centred (Papaspiliopoulos et al. 2007; Betancourt
    & Girolami 2015). With the default ``rw_sd = 0.5`` and equal counts that is more than
    about 18 events in each of the two intervals.

    Parameters
    ----------
    events_per_interval : ndarray, shape (K,)
        Events in each interval.
    rw_sd : float
        Scale of the half-normal prior on the step sd.

    Returns
    -------
    ndarray of bool, shape (K - 1,)
        True where step ``k`` (from interval ``k - 1`` to ``k``) is centred.
    """
    events = np.asarray(events_per_interval, dtype=float)
    with np.errstate(divide="ignore"):
        step_se = np.sqrt(1.0 / events[:-1] + 1.0 / events[1:])
    return step_se < stats.halfnorm.median(scale=rw_sd)


def interval_labels(cuts: Sequence[float]) -> list[str]:
    """Coordinate labels such as ``"[0, 6)"``, ..., ``"[60, inf)"``."""
    edges = [0.0, *cuts]
    uppers = [*cuts, np.inf]
    return [f"[{lo:g}, {hi:g})" for lo, hi in zip(edges, uppers, strict=True)]


def piecewise_model(
    design: Design | MissingDesign,
    cuts: Sequence[float] = DEFAULT_CUTS_MONTHS,
    prior: PriorSpec | None = None,
    baseline: BaselineSpec | None = None,
    baseline_prior: Literal["independent", "random_walk"] = "random_walk",
    steps: StepParametrisation = "auto",
    collapse: bool = False,
) -> SurvivalModel:
    """Piecewise-exponential PH model.

    Parameters
    ----------
    design : Design or MissingDesign
    cuts : sequence of float
        Interior cut points, months (see :func:`piecewise_cuts`).
    prior : PriorSpec, optional
        Prior on the log-HRs; default ``Normal(0, 1)``.
    baseline : BaselineSpec, optional
        Rates are per ``time_scale_months``; ``log_rate_mu``, ``log_rate_sd`` and
        ``rw_sd`` set the baseline prior.
    baseline_prior : {"independent", "random_walk"}
    steps : {"auto", "centred", "non_centred"}
        Parametrisation of the random walk's steps: ``"auto"`` chooses per step from the
        events in the two intervals it joins (:func:`centred_steps`); the others force one
        form for every step (for comparisons; the posterior is the same).
    collapse : bool
        Write the likelihood on the cells (covariate pattern x interval) holding events and
        exposure (:func:`bayes_bcsm.models.collapse.collapse_piecewise`): the same
        log-likelihood, hence the same posterior, at a cost per evaluation set by the cells,
        not the patients; no per-patient observed variable (the pointwise log-likelihood is
        computed from the draws, :mod:`bayes_bcsm.inference.pointwise`). A marginalised
        missing covariate is refused (``DesignError``: it needs one mixture per patient).

    Returns
    -------
    SurvivalModel
        Free parameters ``log_rate`` (independent) or ``log_rate_mean`` (mean log rate over
        the intervals), ``rw_sigma`` and ``rw_raw`` (random walk: ``rw_raw[k]`` is the step
        itself where centred, the step over ``rw_sigma`` where not; data node
        ``rw_centred`` says which); deterministic ``log_rate`` (dims ``interval``).

    Raises
    ------
    PriorError
        Unknown ``baseline_prior`` or ``steps``.
    """
    prior = prior or PriorSpec()
    baseline = baseline or BaselineSpec()
    cuts = piecewise_cuts(cuts=cuts)
    if baseline_prior not in ("independent", "random_walk"):
        raise PriorError(
            f"baseline_prior {baseline_prior!r} is unknown; valid: independent, random_walk"
        )
    if steps not in STEP_PARAMETRISATIONS:
        raise PriorError(f"steps {steps!r} is unknown; valid: {', '.join(STEP_PARAMETRISATIONS)}")
    base = design.design if isinstance(design, MissingDesign) else design
    s = baseline.time_scale_months
    n_int = len(cuts) + 1

    def build(nodes: Mapping[str, Any], n_events: int) -> tuple[Any, Any, Any]:
        if baseline_prior == "independent" or n_int == 1:
            log_rate = pm.Normal(
                "log_rate", baseline.log_rate_mu, baseline.log_rate_sd, dims="interval"
            )
        else:
            # Anchored at its mean over the intervals, not at the first interval: early
            # intervals often hold no death (none before 11.5 months among the bundled
            # cohort's complete cases), and a walk anchored there is identified by its prior
            # alone (divergent transitions).
            level = pm.Normal("log_rate_mean", baseline.log_rate_mu, baseline.log_rate_sd)
            sigma = pm.HalfNormal("rw_sigma", baseline.rw_sd)
            # centred step k: rw_raw_k ~ N(0, sigma), step = rw_raw_k; non-centred:
            # rw_raw_k ~ N(0, 1), step = sigma * rw_raw_k (a data node, so a cached compiled
            # model refitted on new data follows the new data's choice)
            centred = nodes["rw_centred"] > 0
            raw = pm.Normal("rw_raw", 0.0, pt.switch(centred, sigma, 1.0), dims="step")
            walk = pt.concatenate([pt.zeros(1), pt.cumsum(raw * pt.switch(centred, 1.0, sigma))])
            log_rate = pm.Deterministic("log_rate", level + walk - walk.mean(), dims="interval")
        beta = covariate_prior(prior, n_events)
        return (
            piecewise_log_hazard(nodes["interval_onehot"], log_rate, 0.0, s),
            piecewise_cumulative_hazard(nodes["exposure"], log_rate, 0.0, s),
            beta,
        )

    labels = interval_labels(cuts)
    cells = None
    if collapse:
        cells = collapse_piecewise(base.X, base.time, base.event, cuts, base.entry)
        extra_data = {
            "exposure": (cells.exposure, ("cell", "interval")),
            "interval_onehot": (cells.onehot, ("cell", "interval")),
        }
    else:
        dims = (row_dim(base), "interval")
        extra_data = {
            "exposure": (exposure_matrix(base.time, cuts, base.entry), dims),
            "interval_onehot": (interval_onehot(base.time, cuts), dims),
        }
    coords: dict[str, Any] = {"interval": labels}
    if n_int > 1:
        coords["step"] = labels[1:]
        if baseline_prior == "random_walk":
            events = interval_onehot(base.time, cuts)[base.event == 1].sum(axis=0)
            centred = {
                "auto": centred_steps(events, baseline.rw_sd),
                "centred": np.ones(n_int - 1, dtype=bool),
                "non_centred": np.zeros(n_int - 1, dtype=bool),
            }[steps]
            extra_data["rw_centred"] = (centred.astype(float), ("step",))
    return assemble(
        design, "piecewise", prior, baseline, build, extra_data, coords, cuts, cells=cells
    )
