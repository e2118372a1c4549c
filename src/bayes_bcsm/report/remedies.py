"""What to change when a fit fails a convergence check, named in config keys.

A failed check (:mod:`bayes_bcsm.inference.diagnostics`) is turned into one sentence that says
what the failure means and which overrides to try, with values worked out from the run's own
sampler settings (``sampler.draws=2400`` rather than "more draws"). The advice follows the
Stan team's guidance on runtime warnings (Stan Development Team, *Runtime warnings and
convergence problems*) and Betancourt (2017, *A conceptual introduction to Hamiltonian Monte
Carlo*, section 6) for divergences and E-BFMI.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import pandas as pd

if TYPE_CHECKING:
    from bayes_bcsm.results import VariantFit


class SamplerSettings(Protocol):
    """What a remedy reads of the fit's sampler settings
    (:class:`bayes_bcsm.inference.sample.SamplerSettings`; reports import no inference code)."""

    chains: int
    draws: int
    tune: int
    target_accept: float


class Diagnostics(Protocol):
    """What a remedy reads of a fit's checks (:class:`bayes_bcsm.inference.diagnostics.
    Diagnostics`): the summary table, one row per check with ``check``, ``value``,
    ``threshold``, ``passed`` and ``detail``."""

    summary: pd.DataFrame


__all__ = ["REMEDY_CHECKS", "remedies", "remedy", "remedy_lines"]

_PIECEWISE_BASELINE = ("rw_sigma", "rw_raw", "log_rate")
_MAX_SHORTFALL = 10.0


def _next_target_accept(settings: SamplerSettings) -> float:
    return 0.95 if settings.target_accept < 0.95 else 0.99


def _more_draws(settings: SamplerSettings, shortfall: float) -> int:
    """Draws per chain for the ESS to clear its threshold with a 25 % margin (ESS grows about
    linearly with draws), rounded up to hundreds and at least twice the current."""
    wanted = settings.draws * min(max(shortfall, 1.0), _MAX_SHORTFALL) * 1.25
    return max(2 * settings.draws, int(math.ceil(wanted / 100.0) * 100))


def _piecewise_intervals(family: str, worst: str) -> str:
    if family != "piecewise" or not worst.startswith(_PIECEWISE_BASELINE):
        return ""
    return (
        " The worst parameter is the piecewise baseline: intervals with few events leave it "
        "identified by its prior, so use fewer, wider intervals (`model.n_intervals=4`, or "
        "wider `model.cuts_months` with `model.cut_method=fixed`)."
    )


def _divergences(family: str, settings: SamplerSettings, worst: str, shortfall: float) -> str:
    text = (
        "Divergent transitions: the sampler could not follow the posterior's curvature, so the "
        "draws may miss part of it. Take smaller steps with "
        f"`sampler.target_accept={_next_target_accept(settings):g}` "
        f"(now {settings.target_accept:g}) and adapt longer with "
        f"`sampler.tune={2 * settings.tune}`."
    )
    if family == "piecewise":
        text += (
            " For the piecewise model, intervals with few events leave the random walk "
            "identified by its prior: use fewer, wider intervals (`model.n_intervals=4`, or "
            "wider `model.cuts_months` with `model.cut_method=fixed`). With many events in "
            "every interval (thousands of patients) and a nearly flat baseline, the walk's "
            "step sd sits near 0 where neither parametrisation of its steps is smooth: "
            "`model.baseline_prior=independent` removes that hierarchy, and the data "
            "identify every interval on their own."
        )
    else:
        text += (
            " If a covariate level holds few events, a more informative prior on the log-HRs "
            "(`prior=sceptical` or `prior=log_f`) removes the flat direction."
        )
    return text


def _rhat(family: str, settings: SamplerSettings, worst: str, shortfall: float) -> str:
    return (
        f"R-hat too high ({worst or 'see the table'}): the chains disagree. Run them longer "
        f"(`sampler.tune={2 * settings.tune} sampler.draws={2 * settings.draws}`); if it "
        "persists, the chains found different modes and the model needs a more informative "
        "prior (`prior=sceptical`) or fewer covariates (`covariates.names`)."
        + _piecewise_intervals(family, worst)
    )


def _ess(kind: str) -> Callable[[str, SamplerSettings, str, float], str]:
    def advice(family: str, settings: SamplerSettings, worst: str, shortfall: float) -> str:
        return (
            f"{kind} ESS too low ({worst or 'see the table'}): too few effective draws for "
            f"stable {'intervals' if kind == 'Tail' else 'estimates'}. Draw more, "
            f"`sampler.draws={_more_draws(settings, shortfall)}` (now {settings.draws} per "
            f"chain), or run more chains (`sampler.chains={2 * settings.chains}`)."
            + _piecewise_intervals(family, worst)
        )

    return advice


def _ebfmi(family: str, settings: SamplerSettings, worst: str, shortfall: float) -> str:
    text = (
        "E-BFMI too low: the sampler explores the energy levels of a heavy-tailed or "
        f"hierarchical posterior poorly. Adapt longer (`sampler.tune={2 * settings.tune}`); "
        "with `prior=horseshoe` or `prior=student_t`, compare `prior=default`."
    )
    if family == "piecewise":
        text += (
            " For the piecewise model, `model.baseline_prior=independent` removes the random "
            "walk's hierarchy (sensible when every interval holds events)."
        )
    return text


def _tree_depth(family: str, settings: SamplerSettings, worst: str, shortfall: float) -> str:
    return (
        "Trees reached the maximum depth: the posterior has strongly correlated or badly "
        "scaled directions, so sampling is slow though not necessarily wrong. Standardise "
        "continuous covariates (`covariates.standardize=true`), drop near-duplicate covariates "
        f"(`covariates.names`) and adapt longer (`sampler.tune={2 * settings.tune}`)."
    )


_REMEDIES: dict[str, Callable[[str, SamplerSettings, str, float], str]] = {
    "divergences": _divergences,
    "r_hat": _rhat,
    "ess_bulk": _ess("Bulk"),
    "ess_tail": _ess("Tail"),
    "e_bfmi": _ebfmi,
    "tree_depth": _tree_depth,
}

REMEDY_CHECKS: tuple[str, ...] = tuple(_REMEDIES)
"""The checks of :func:`~bayes_bcsm.inference.diagnostics.check_convergence` with a remedy."""


def remedy(
    check: str,
    family: str,
    settings: SamplerSettings,
    worst: str = "",
    shortfall: float = 1.0,
) -> str:
    """The remedy for one failed convergence check, in config keys.

    Parameters
    ----------
    check : str
        A check of :func:`~bayes_bcsm.inference.diagnostics.check_convergence`
        (:data:`REMEDY_CHECKS`).
    family : str
        Model family of the fit (``"piecewise"`` adds advice on its intervals).
    settings : SamplerSettings
        The settings the fit ran with (the suggested values are worked out from them).
    worst : str
        The worst parameter (``"rw_sigma"``, ``"beta[age]"``), if the check names one.
    shortfall : float
        Threshold over the observed value (ESS checks: how many times more effective draws
        are needed).

    Returns
    -------
    str
        One paragraph naming the overrides to try.

    Raises
    ------
    ValueError
        For a check that is not in :data:`REMEDY_CHECKS`.
    """
    if check not in _REMEDIES:
        raise ValueError(f"no remedy for check {check!r}; known: {', '.join(REMEDY_CHECKS)}")
    return _REMEDIES[check](family, settings, worst, shortfall)


def remedies(diagnostics: Diagnostics, family: str, settings: SamplerSettings) -> list[str]:
    """The remedy of every failed check of a fit, in the order of the diagnostics table.

    Parameters
    ----------
    diagnostics : Diagnostics
    family : str
    settings : SamplerSettings

    Returns
    -------
    list of str
        Empty when every check passed.
    """
    out = []
    for row in diagnostics.summary.itertuples():
        if row.passed:
            continue
        worst = row.detail.removeprefix("worst ") if row.detail.startswith("worst ") else ""
        # an ESS of 0 (a constant or undefined draw) gets the largest suggestion
        shortfall = row.threshold / row.value if row.value > 0 else _MAX_SHORTFALL
        out.append(remedy(row.check, family, settings, worst, shortfall))
    return out


def remedy_lines(variant: VariantFit) -> list[str]:
    """Markdown bullets: what to change (config keys) for each failed check of the fit;
    none when every check passed."""
    found = remedies(variant.diagnostics, variant.family, variant.fit.settings)
    if not found:
        return []
    return [f"What to change ({variant.label}):", "", *(f"- {text}" for text in found), ""]
