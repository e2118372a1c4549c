"""Shared assembly of a survival model from a family's baseline.

A proportional-hazards family supplies the baseline log hazard ``log h0(t_i)`` and baseline
cumulative hazard ``H0(t_i)`` per patient (and its log-HR vector); an accelerated-failure-time
family supplies its log hazard and cumulative hazard as functions of the linear predictor
(:data:`Hazards`). This module adds the linear predictor, the optional marginalisation of a
missing covariate and the one observed per-patient likelihood
(:mod:`bayes_bcsm.models.likelihood`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pymc as pm
import pytensor.scalar as ps
import pytensor.tensor as pt

from bayes_bcsm.data.design import Design, DesignError
from bayes_bcsm.models.collapse import CollapsedCells
from bayes_bcsm.models.likelihood import (
    observe_survival,
    observe_survival_mixture,
    survival_log_density,
)
from bayes_bcsm.models.missing import MissingDesign
from bayes_bcsm.models.priors import BaselineSpec, PriorSpec, log_hr_prior

OBSERVED = "time"
"""Name of the observed per-patient variable (and of its ``log_likelihood`` entry)."""

SUMMED = "survival_loglik"
"""Name of the ``pm.Potential`` holding a collapsed model's summed survival log-likelihood."""

__all__ = [
    "OBSERVED",
    "SUMMED",
    "Hazards",
    "SurvivalModel",
    "assemble",
    "proportional_hazards",
    "row_dim",
]


def row_dim(design: Design | MissingDesign) -> str:
    """Name of the models' row dimension: ``"episode"`` for (start, stop] episodes (several
    rows per patient), ``"patient"`` when each row is a patient."""
    base = design.design if isinstance(design, MissingDesign) else design
    return "patient" if base.patient is None else "episode"


@dataclass(frozen=True)
class SurvivalModel:
    """A built PyMC survival model and what downstream code needs to interpret it.

    Attributes
    ----------
    model : pymc.Model
        The model (data in ``pm.Data`` nodes named as in ``data``).
    family : str
        A name of the family registry (:data:`bayes_bcsm.models.families.FAMILIES`).
    columns : tuple of str
        Entries of the ``covariate`` dimension of the coefficients (``beta``, the log-HRs, or
        ``gamma``, the log time ratios of an AFT family).
    per_natural_unit : tuple of float
        Factor turning each ``beta`` into a log-HR per natural unit (``1 / scale``).
    baseline : BaselineSpec
    prior : PriorSpec
    cuts_months : tuple of float
        Interior cut points of the piecewise baseline (empty for other families).
    knots_months : tuple of float
        Knots of the M-spline baseline, boundary ones included (empty for other families).
    n_used, n_events : int
        Patients and events in the likelihood (a patient with several (start, stop]
        episodes counts once).
    rows : str
        How the rows were selected (complete-case accounting / marginalisation).
    data : dict of str to ndarray
        Values of the ``pm.Data`` nodes (used to refit a cached compiled model).
    missing : MissingDesign or None
        Set when a covariate is marginalised.
    collapsed : bool
        True when the likelihood is one summed term, a ``pm.Potential`` named :data:`SUMMED`,
        instead of a per-patient observed variable (registry scale: no per-patient term in the
        graph; :mod:`bayes_bcsm.inference.pointwise` computes it from the draws). The
        piecewise family writes it on cells (covariate pattern x interval) holding events and
        exposure (:mod:`bayes_bcsm.models.collapse`); ``data`` then holds the rows'
        ``time_months``, ``event`` and ``X`` (not data nodes of the model) beside the cells'
        nodes ``cell_X``, ``cell_event``, ``exposure``, ``interval_onehot``.
    """

    model: pm.Model
    family: str
    columns: tuple[str, ...]
    per_natural_unit: tuple[float, ...]
    baseline: BaselineSpec
    prior: PriorSpec
    cuts_months: tuple[float, ...]
    n_used: int
    n_events: int
    rows: str
    data: Mapping[str, np.ndarray] = field(default_factory=dict)
    missing: MissingDesign | None = None
    knots_months: tuple[float, ...] = ()
    collapsed: bool = False

    @property
    def episodes(self) -> bool:
        """True when the rows are (start, stop] episodes, several per patient (data node
        ``patient_index``); the ``patient`` dimension then counts patients."""
        return "patient_index" in self.data

    @property
    def delayed_entry(self) -> bool:
        """True when rows enter the risk set after time 0 (data node ``entry_months``)."""
        return "entry_months" in self.data

    @property
    def structure(self) -> tuple:
        """What makes two models share a compiled sampler: family, priors, coordinates
        (except patients) and data shapes; not the data values. The horseshoe's global scale
        is a constant of the graph set by the number of events, so for it the number of
        events is part of the structure (a model refitted on data with another number of
        events must not reuse the compiled sampler)."""
        coords = tuple(
            (k, tuple(map(str, v)))
            for k, v in self.model.coords.items()
            if k not in ("patient", "episode")
        )
        shapes = tuple((k, np.shape(v)) for k, v in sorted(self.data.items()))
        variables = tuple(sorted(v.name for v in self.model.free_RVs + self.model.deterministics))
        events = self.n_events if self.prior.family == "horseshoe" else None
        return (
            self.family,
            self.collapsed,
            self.prior,
            self.baseline,
            self.cuts_months,
            coords,
            shapes,
            variables,
            events,
        )


Hazards = Callable[[Any], tuple[Any, Any]]
"""``eta -> (log h(t_i | eta), H(t_i | eta))`` for a linear predictor of shape ``(n,)`` or, with
a marginalised covariate, ``(n, L)`` (one column per level)."""

BaselineBuilder = Callable[[Mapping[str, Any], int], tuple[Any, Any, Any] | tuple[Hazards, Any]]
"""``(data nodes, n_events) -> (log h0(t_i), H0(t_i), beta)`` for a proportional-hazards family,
or ``-> (hazards, coefficients)`` for a family whose covariates act otherwise (accelerated
failure time: :data:`Hazards` of the linear predictor); creates the family's parameters (the
number of events sets the horseshoe's global scale). With entry times (data node
``entry_months``) ``H0`` is the baseline hazard accumulated on (entry, t]."""


def proportional_hazards(log_h0: Any, cum_h0: Any, merge_exp: bool = False) -> Hazards:
    """:data:`Hazards` of a PH family: ``log h0 + eta`` and ``H0 exp(eta)``.

    With ``merge_exp`` and ``H0 = exp(u)`` in the graph (the Weibull's), ``H`` is written
    ``exp(u + eta)``: one exponential per row instead of two (summed models, where each row
    is evaluated at every leapfrog step; the per-patient graph is left as it was).
    """
    is_exp = (
        merge_exp
        and cum_h0.owner is not None
        and isinstance(getattr(cum_h0.owner.op, "scalar_op", None), ps.Exp)
    )

    def hazards(eta: Any) -> tuple[Any, Any]:
        if eta.ndim == 2:
            return log_h0[:, None] + eta, cum_h0[:, None] * pt.exp(eta)
        if is_exp:
            return log_h0 + eta, pt.exp(cum_h0.owner.inputs[0] + eta)
        return log_h0 + eta, cum_h0 * pt.exp(eta)

    return hazards


def assemble(
    design: Design | MissingDesign,
    family: str,
    prior: PriorSpec,
    baseline: BaselineSpec,
    build_baseline: BaselineBuilder,
    extra_data: Mapping[str, tuple[np.ndarray, tuple[str, ...]]] | None = None,
    extra_coords: Mapping[str, Any] | None = None,
    cuts_months: tuple[float, ...] = (),
    knots_months: tuple[float, ...] = (),
    cells: CollapsedCells | None = None,
    summed: bool = False,
) -> SurvivalModel:
    """Build the model: data nodes, family baseline, linear predictor, likelihood.

    Parameters
    ----------
    design : Design or MissingDesign
    family : str
        Family label recorded on the result.
    prior : PriorSpec
        Prior of the log-HRs.
    baseline : BaselineSpec
        Prior of the baseline and its time scale.
    build_baseline : callable
        See :data:`BaselineBuilder`; called inside the model context.
    extra_data : mapping, optional
        Further ``pm.Data`` nodes ``name -> (values, dims)`` (e.g. the exposure matrix).
    extra_coords : mapping, optional
        Further coordinates (e.g. ``interval``).
    cuts_months, knots_months : tuple of float
        Recorded on the result.
    cells : CollapsedCells, optional
        The rows collapsed to covariate pattern x interval cells (piecewise family): the
        likelihood is then their summed log density, a ``pm.Potential`` (:data:`SUMMED`), on
        the ``cell`` dimension (``extra_data`` gives the cells' exposure and interval).
    summed : bool
        Write the likelihood as the one summed term over the rows (a ``pm.Potential``,
        :data:`SUMMED`; implied by ``cells``), with the linear predictor as a sum of columns
        rather than a matrix-vector product (which the numba back end evaluates about ten
        times slower at 10^5 rows). The same log density as the per-patient variable; the
        graph differs, so the same seed gives other draws.

    Returns
    -------
    SurvivalModel

    Raises
    ------
    DesignError
        For a marginalised missing covariate on a design with entry times, or with ``cells``
        (neither supported: the marginalisation needs one mixture per patient).

    Notes
    -----
    With entry times (``design.entry``) each row contributes
    ``delta log h(stop) - [H(stop) - H(entry)]`` (data node ``entry_months``). With
    (start, stop] episodes (``design.patient``) the rows run along the ``episode``
    dimension and the observed variable holds one value per *patient*, the sum over her
    episodes, so PSIS-LOO leaves out patients (its observed value is her end of follow-up,
    node ``follow_up_months``). Without entry times the graph is the right-censored one.
    """
    missing = design if isinstance(design, MissingDesign) else None
    base = missing.design if missing else design
    if missing and base.entry is not None:
        raise DesignError(
            f"missing.strategy=marginalize (covariate {missing.name!r}) is not supported with "
            "entry times (the data card's start_column / id_column: delayed entry or (start, stop] "
            "episodes); use missing.strategy=complete_case"
        )
    summed = summed or cells is not None
    if missing and summed:
        raise DesignError(
            f"missing.strategy=marginalize (covariate {missing.name!r}) needs the per-patient "
            "likelihood (one mixture per patient), not the collapsed one"
        )
    rows = row_dim(base)
    columns = missing.all_columns if missing else base.columns
    per_unit = tuple(base.per_natural_unit()) + ((1.0,) * len(missing.columns) if missing else ())
    patient, patient_ids = base.patient_index()
    coords: dict[str, Any] = {"patient": patient_ids, "covariate": list(columns)}
    if rows == "episode":
        coords["episode"] = np.arange(base.n)
    else:
        coords["patient"] = np.arange(base.n)
    coords.update(extra_coords or {})
    data: dict[str, tuple[np.ndarray, tuple[str, ...]]] = {
        "time_months": (np.asarray(base.time, dtype=float), (rows,)),
        "event": (np.asarray(base.event, dtype=float), (rows,)),
    }
    if base.entry is not None:
        data["entry_months"] = (np.asarray(base.entry, dtype=float), (rows,))
    if rows == "episode":
        data["patient_index"] = (patient, ("episode",))
        follow_up = np.zeros(len(patient_ids))
        np.maximum.at(follow_up, patient, np.asarray(base.time, dtype=float))
        data["follow_up_months"] = (follow_up, ("patient",))
    if base.X.shape[1]:
        data["X"] = (np.asarray(base.X, dtype=float), (rows, "observed_covariate"))
        coords["observed_covariate"] = list(base.columns)
    if missing:
        coords["level"] = list(missing.levels)
        coords["level_contrast"] = list(missing.levels[1:])
        data["level_log_mask"] = (missing.log_mask(), ("patient", "level"))
        if missing.depends_on:
            coords["level_predictor"] = list(missing.depends_on)
            idx = [base.columns.index(c) for c in missing.depends_on]
            data["level_X"] = (
                np.asarray(base.X[:, idx], dtype=float),
                ("patient", "level_predictor"),
            )
    graph = data
    if cells is not None:
        # the rows stay in SurvivalModel.data for prediction; the graph holds the cells
        coords["cell"] = np.arange(cells.n_cells)
        graph = {"cell_event": (cells.event, ("cell",))}
        if base.X.shape[1]:
            graph["cell_X"] = (cells.X, ("cell", "observed_covariate"))
    graph.update(extra_data or {})

    with pm.Model(coords=coords) as model:
        nodes = {k: pm.Data(k, v, dims=d) for k, (v, d) in graph.items()}
        built = build_baseline(nodes, base.n_events)
        hazards, beta = (
            built
            if len(built) == 2
            else (proportional_hazards(built[0], built[1], merge_exp=summed), built[2])
        )
        p_obs = base.X.shape[1]
        X, event, n_rows = (
            ("X", "event", base.n) if cells is None else ("cell_X", "cell_event", cells.n_cells)
        )
        if not p_obs:
            eta = pt.zeros(n_rows)
        elif summed:
            eta = pt.sum(nodes[X] * beta[None, :p_obs], axis=1)
        else:
            eta = nodes[X] @ beta[:p_obs]
        if summed:
            pm.Potential(SUMMED, survival_log_density(nodes[event], *hazards(eta)).sum())
        elif rows == "episode":
            observe_survival(
                OBSERVED,
                nodes["follow_up_months"],
                nodes["event"],
                *hazards(eta),
                patient=nodes["patient_index"],
            )
        elif missing is None:
            observe_survival(OBSERVED, nodes["time_months"], nodes["event"], *hazards(eta))
        else:
            shift = pt.concatenate([pt.zeros(1), beta[p_obs:]])
            eta_l = eta[:, None] + shift[None, :]
            a = pm.Normal("level_intercept", 0.0, 1.5, dims="level_contrast")
            logits = pt.zeros((base.n, len(missing.levels) - 1)) + a[None, :]
            if missing.depends_on:
                b = pm.Normal("level_coef", 0.0, 1.0, dims=("level_predictor", "level_contrast"))
                logits = logits + nodes["level_X"] @ b
            logits = pt.concatenate([pt.zeros((base.n, 1)), logits], axis=1)
            log_pi = logits - pt.logsumexp(logits, axis=1, keepdims=True)
            # log P(z_i | x_i) of an observed level (0 when z_i is missing) is a term of the
            # covariate model, not of survival: it enters the joint density as a Potential so
            # that the pointwise log-likelihood used by LOO is the survival part alone,
            # p(t_i | x_i, z_i) where z_i is observed and sum_l P(l | x_i) p(t_i | x_i, l)
            # where it is missing (comparable with a model without the covariate).
            log_w = log_pi + nodes["level_log_mask"]
            log_p_observed_level = pt.logsumexp(log_w, axis=1, keepdims=True)
            pm.Potential("level_observed_logp", log_p_observed_level.sum())
            observe_survival_mixture(
                OBSERVED,
                nodes["time_months"],
                nodes["event"],
                *hazards(eta_l),
                log_w - log_p_observed_level,
            )
    return SurvivalModel(
        model=model,
        family=family,
        columns=tuple(columns),
        per_natural_unit=per_unit,
        baseline=baseline,
        prior=prior,
        cuts_months=tuple(cuts_months),
        n_used=len(patient_ids),
        n_events=base.n_events,
        rows=missing.describe() if missing else _describe_rows(base, cells),
        data={k: v for k, (v, _) in {**data, **graph}.items()},
        missing=missing,
        knots_months=tuple(knots_months),
        collapsed=summed,
    )


def _describe_rows(design: Design, cells: CollapsedCells | None = None) -> str:
    """The design's complete-case line, with its episodes, delayed entries and collapsed
    cells counted."""
    text = design.rows.describe()
    if design.patient is not None:
        text = f"{text.replace('patients', 'episodes')}; {design.n_patients} patients"
    elif design.entry is not None:
        text = f"{text}; {int((design.entry > 0).sum())} with delayed entry"
    if cells is not None:
        text += (
            f"; likelihood collapsed to {cells.n_cells} cells ({cells.n_patterns} covariate "
            "patterns x intervals)"
        )
    return text


def covariate_prior(prior: PriorSpec, n_events: int, name: str = "beta") -> Any:
    """The log-HR vector in the current model, or ``None`` when there are no covariates.

    ``n_events`` (events in the data) sets the horseshoe's global scale
    (:func:`bayes_bcsm.models.priors.horseshoe_tau0`).
    """
    model = pm.modelcontext(None)
    if len(model.coords["covariate"]) == 0:
        return None
    return log_hr_prior(name, prior, "covariate", n_events)
