"""The scenarios of the simulation study: the generator's effects and each design column's truth.

Scenarios: ``calibrated`` uses the calibrated effects unchanged; ``null_conditional`` sets the
endocrine (``hormone_therapy``) effect to 0 (HR = 1 conditional on all 16 indicators), all other
effects unchanged; ``null_table3`` sets it to the value that makes the *Table 3* pseudo-true
endocrine log-HR 0 (found by root-finding,
:func:`bayes_bcsm.simulation.estimands.null_table3_effect`, and carried by
``StudySettings.scenario_effects``).

``true_log_hr`` is the generator's log hazard ratio of the indicator behind each design column
(:data:`TRUTH_MAP`, read from the study's factor records
:data:`bayes_bcsm.study.GENERATOR_FACTORS`), e.g. ``hormone_therapy`` ->
``TRUE_EFFECTS["hormone_therapy"]`` and ``hormone_receptor[positive]`` ->
``TRUE_EFFECTS["hormone_receptor_positive"]`` (observed status equals the latent one among
tested patients; untested patients are excluded as complete cases). The generator's effects are
*conditional on all 16 indicators* of its linear predictor; the Table 3 model leaves 12 of them
out (e.g. visceral metastasis), so its target differs from the generator's effect by
omitted-covariate confounding and by the non-collapsibility of the hazard ratio. This module
gives that conditional truth (``true_conditional`` in the replicate table); each method's own
estimand (``true_method``) comes from :mod:`bayes_bcsm.simulation.estimands`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayes_bcsm.data import Design, derive_groupings
from bayes_bcsm.reconstruct import GeneratorParams, simulate_cohort, true_effects
from bayes_bcsm.simulation.methods import SCENARIOS
from bayes_bcsm.simulation.settings import FIXED_SCENARIO_EFFECTS, StudySettings
from bayes_bcsm.simulation.shards import replicate_seed
from bayes_bcsm.study import GENERATOR_FACTORS

__all__ = ["TRUTH_MAP", "replicate_cohort", "scenario_effects", "true_log_hrs"]

#: Design column -> generator effect. Keys are ``(covariate, level)`` for categorical terms
#: (the level whose indicator the generator uses) or ``(covariate, None)`` for 0/1 columns.
TRUTH_MAP: dict[tuple[str, str | None], str] = {
    (f.cohort_column, f.level): f.indicator for f in GENERATOR_FACTORS
}


def scenario_effects(scenario: str, settings: StudySettings | None = None) -> dict[str, float]:
    """Generator effects (log-HRs) overridden in a scenario.

    Parameters
    ----------
    scenario : str
        One of :data:`SCENARIOS`.
    settings : StudySettings, optional
        Carries the computed effects of ``null_table3`` (default: the fixed scenarios only).

    Raises
    ------
    ValueError
        For an unknown scenario (the message lists the valid ones), or ``null_table3``
        without its computed effect.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario {scenario!r} is unknown; valid: {', '.join(SCENARIOS)}")
    known = settings.scenario_effects if settings is not None else FIXED_SCENARIO_EFFECTS
    if scenario not in known:
        raise ValueError(
            f"scenario {scenario!r} needs its generator effects in StudySettings.scenario_effects "
            "(null_table3: bayes_bcsm.simulation.estimands.null_table3_effect; the study run "
            "computes and caches it)"
        )
    return dict(known[scenario])


def true_log_hrs(
    design: Design,
    scenario: str,
    params: GeneratorParams | None = None,
    settings: StudySettings | None = None,
) -> dict[str, float]:
    """The generator's true log-HR of each design column (see :data:`TRUTH_MAP`).

    A two-level categorical coded the other way round (the generator's indicator level as the
    reference) gets the negated effect.

    Parameters
    ----------
    design : Design
    scenario : str
        One of :data:`SCENARIOS`.
    params : GeneratorParams, optional
        Default: the calibrated parameters.
    settings : StudySettings, optional
        For the computed effects of ``null_table3`` (see :func:`scenario_effects`).

    Returns
    -------
    dict of str to float
        Log hazard ratio per design column, per natural unit (all mapped columns are 0/1).

    Raises
    ------
    ValueError
        For a design column without a generator counterpart.
    """
    effects = true_effects(params)
    effects.update(scenario_effects(scenario, settings))
    out: dict[str, float] = {}
    for term in design.terms:
        if term.kind != "categorical":
            key = TRUTH_MAP.get((term.name, None))
            if key is None:
                raise ValueError(_no_truth(term.name))
            out[term.columns[0]] = effects[key]
            continue
        for column, level in zip(term.columns, term.levels[1:], strict=True):
            if (term.name, level) in TRUTH_MAP:
                out[column] = effects[TRUTH_MAP[(term.name, level)]]
            elif len(term.levels) == 2 and (term.name, term.reference) in TRUTH_MAP:
                out[column] = -effects[TRUTH_MAP[(term.name, term.reference)]]
            else:
                raise ValueError(_no_truth(column))
    return out


def _no_truth(column: str) -> str:
    valid = sorted({name for name, _ in TRUTH_MAP})
    return (
        f"design column {column!r} has no true effect in the generator; covariates with one: "
        + ", ".join(valid)
    )


def replicate_cohort(
    settings: StudySettings, scenario: str, n: int, replicate: int
) -> pd.DataFrame:
    """The cohort of one replicate, with derived groupings (deterministic in its arguments).

    Parameters
    ----------
    settings : StudySettings
    scenario : str
    n : int
        Patients.
    replicate : int
        Replicate index.

    Returns
    -------
    DataFrame
    """
    seed = replicate_seed(settings.base_seed, scenario, n, replicate)
    cohort = simulate_cohort(
        n,
        np.random.default_rng(seed),
        effects=scenario_effects(scenario, settings),
        params=settings.generator_params,
    )
    return derive_groupings(cohort)
