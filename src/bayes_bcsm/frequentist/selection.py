"""The source paper's variable selection: log-rank screening, then Cox backward elimination.

1. Screening: each factor is compared with the log-rank test on the rows where that factor
   (and the time and event) is present; factors with P < ``screen_p`` become candidates.
2. Backward elimination (SPSS ``COXREG /METHOD=BSTEP(LR)`` defaults, removal P > 0.10): all
   candidates enter a Cox model fitted on the complete cases of every candidate; at each
   step each factor is dropped in turn, the likelihood-ratio test of the drop is computed
   from two maximum-partial-likelihood fits, and the factor with the largest P is removed if
   that P exceeds ``remove_p``. A categorical factor is removed as a whole (df = levels - 1).
   All steps use the same rows.

References
----------
IBM SPSS Statistics, *COXREG* algorithms: backward stepwise (likelihood ratio) removal.
Collett, D. (2015). *Modelling Survival Data in Medical Research*, 3rd ed., section 3.6.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from scipy import stats

from bayes_bcsm.data.design import (
    CompleteCases,
    CovariateTerm,
    Design,
    build_design,
    complete_cases,
)
from bayes_bcsm.frequentist.cox import CoxResult, Ties, cox_ph, cox_ph_design
from bayes_bcsm.frequentist.logrank import logrank_test

__all__ = ["SelectionError", "SelectionResult", "paper_selection"]

#: Columns :func:`~bayes_bcsm.data.design.complete_cases` names excluded rows by, when present.
_ID_COLUMNS = ("patient_id",)


class SelectionError(ValueError):
    """Invalid selection request (unknown factor, bad threshold, forced factor not listed)."""


@dataclass(frozen=True)
class SelectionResult:
    """Outcome of :func:`paper_selection`.

    Attributes
    ----------
    screen : DataFrame
        One row per factor: factor, n (rows with the factor present), method ("log-rank",
        or "cox score" for a continuous factor), statistic, df, p_value, candidate (bool).
    steps : DataFrame
        One row per removal: step (1, 2, ...), removed, chisq, df, lr_p. Empty when nothing
        was removed.
    final : CoxResult or None
        The final model on the backward-elimination rows (None if every factor was removed
        or there was no candidate).
    rows : CompleteCases
        Rows used by the backward elimination (complete cases of all candidates) and why
        the others were excluded.
    candidates : tuple of str
        Factors that entered the backward elimination.
    selected : tuple of str
        Factors left in the final model.
    """

    screen: pd.DataFrame
    steps: pd.DataFrame
    final: CoxResult | None
    rows: CompleteCases | None
    candidates: tuple[str, ...]
    selected: tuple[str, ...]


def _is_continuous(values: pd.Series, max_levels: int) -> bool:
    return (
        pd.api.types.is_numeric_dtype(values.dtype)
        and not pd.api.types.is_bool_dtype(values.dtype)
        and values.nunique(dropna=True) > max_levels
    )


def _screen_one(
    data: pd.DataFrame,
    duration: str,
    event: str,
    factor: str,
    max_levels: int,
    ties: Ties,
) -> tuple[int, str, float, int, float]:
    used, _ = complete_cases(data, [duration, event, factor])
    if _is_continuous(used[factor], max_levels):
        fit = cox_ph(used, duration, event, [factor], ties=ties)
        test = fit.score_test
        return fit.n, "cox score", test.statistic, test.df, test.p_value
    result = logrank_test(used[duration].to_numpy(float), used[event].to_numpy(int), used[factor])
    return len(used), "log-rank", float(result.statistic), int(result.df), float(result.p_value)


def paper_selection(
    data: pd.DataFrame,
    duration: str,
    event: str,
    factors: Sequence[str],
    screen_p: float = 0.05,
    remove_p: float = 0.10,
    reference: Mapping[str, str] | None = None,
    force: Sequence[str] = (),
    ties: Ties = "efron",
    max_levels: int = 10,
) -> SelectionResult:
    """Screen factors by log-rank P, then backward-eliminate by Cox likelihood-ratio P.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    duration : str
        Follow-up time column (e.g. ``time_months``).
    event : str
        Event column (1 = event, 0 = censored).
    factors : sequence of str
        Candidate prognostic factors, one column each. A numeric column with more than
        ``max_levels`` distinct values is continuous: it is screened with the score test
        of a univariate Cox model (the log-rank test's continuous analogue) and enters the
        Cox model per natural unit.
    screen_p : float
        Screening threshold: candidates have log-rank P < ``screen_p`` (paper: 0.05).
    remove_p : float
        Removal threshold of the backward elimination (SPSS default 0.10).
    reference : mapping, optional
        Reference level per categorical factor.
    force : sequence of str
        Factors kept in the model whatever their P (entered even if not screened in).
    ties : {"efron", "breslow"}
        Tie handling of the Cox fits (SPSS uses Breslow; R's default is Efron).
    max_levels : int
        Numeric factors with more distinct values than this are continuous.

    Returns
    -------
    SelectionResult

    Raises
    ------
    SelectionError
        Unknown factor, forced factor not among ``factors``, thresholds outside (0, 1).
    """
    factors = list(dict.fromkeys(factors))
    unknown = [f for f in [duration, event, *factors] if f not in data.columns]
    if unknown:
        raise SelectionError(f"unknown column(s) {unknown}; available: {list(data.columns)}")
    bad_force = [f for f in force if f not in factors]
    if bad_force:
        raise SelectionError(f"forced factor(s) {bad_force} are not among factors {factors}")
    for name, value in (("screen_p", screen_p), ("remove_p", remove_p)):
        if not 0 < value < 1:
            raise SelectionError(f"{name} must lie in (0, 1), got {value}")
    reference = dict(reference or {})
    # only the columns the procedure reads (complete-case selection copies every column kept)
    wanted = dict.fromkeys([duration, event, *factors, *_ID_COLUMNS])
    data = data[[c for c in wanted if c in data.columns]]

    rows = []
    for factor in factors:
        n, method, statistic, df, p = _screen_one(data, duration, event, factor, max_levels, ties)
        rows.append((factor, n, method, statistic, df, p, bool(p < screen_p or factor in force)))
    screen = pd.DataFrame(
        rows, columns=["factor", "n", "method", "statistic", "df", "p_value", "candidate"]
    )
    candidates = [f for f, c in zip(factors, screen["candidate"], strict=True) if c]
    empty_steps = pd.DataFrame(
        {
            "step": pd.Series(dtype=int),
            "removed": pd.Series(dtype=str),
            "chisq": pd.Series(dtype=float),
            "df": pd.Series(dtype=int),
            "lr_p": pd.Series(dtype=float),
        }
    )
    if not candidates:
        return SelectionResult(screen, empty_steps, None, None, (), ())

    used, accounting = complete_cases(data, [duration, event, *candidates])
    # Every model of the elimination uses the same rows and codes each factor on its own, so
    # its design is a choice of the columns of one design of all candidates.
    whole = build_design(
        used,
        candidates,
        duration,
        event,
        reference={k: v for k, v in reference.items() if k in candidates},
    )

    def fit(model: list[str]) -> CoxResult:
        return cox_ph_design(_columns_of(whole, model), ties=ties)

    current = list(candidates)
    full = fit(current)
    steps = []
    while current:
        removable = [f for f in current if f not in force]
        if not removable:
            break
        best: tuple[float, str, float, int] | None = None
        for factor in removable:
            reduced = [f for f in current if f != factor]
            df = len(_term(whole, factor).columns)
            ll_reduced = fit(reduced).loglik if reduced else full.loglik_null
            chisq = max(2.0 * (full.loglik - ll_reduced), 0.0)
            p = float(stats.chi2.sf(chisq, df))
            if best is None or p > best[0]:
                best = (p, factor, chisq, df)
        assert best is not None
        p, factor, chisq, df = best
        if p <= remove_p:
            break
        steps.append((len(steps) + 1, factor, chisq, df, p))
        current.remove(factor)
        if current:
            full = fit(current)
    steps_frame = (
        pd.DataFrame(steps, columns=["step", "removed", "chisq", "df", "lr_p"])
        if steps
        else empty_steps
    )
    final = full if current else None
    return SelectionResult(
        screen, steps_frame, final, accounting, tuple(candidates), tuple(current)
    )


def _term(design: Design, factor: str) -> CovariateTerm:
    """The term of ``factor`` in ``design``."""
    return next(t for t in design.terms if t.name == factor)


def _columns_of(design: Design, factors: Sequence[str]) -> Design:
    """The design of a subset of its factors (same rows): the factors' terms and columns.

    Equal to ``build_design`` of those factors on the same rows, since each factor is coded
    on its own and the rows are complete for all of them.
    """
    terms = tuple(_term(design, f) for f in factors)
    columns = tuple(c for t in terms for c in t.columns)
    where = [design.columns.index(c) for c in columns]
    return dataclasses.replace(design, X=design.X[:, where], columns=columns, terms=terms)
