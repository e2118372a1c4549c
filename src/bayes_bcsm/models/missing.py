"""Exact marginalisation of one partly missing binary / categorical covariate.

Hormone receptor status is known for 53 of the 78 patients. Instead of dropping the other
25 (complete cases), the model treats the missing status ``Z`` as a latent categorical
variable with ``P(Z = l | x) = softmax(a + x_sub @ B)_l`` and sums it out exactly::

    log p(t_i, delta_i [, z_i] | x_i) = logsumexp_l [ log f(t_i, delta_i | x_i, Z = l)
                                                     + log P(Z = l | x_i) + log m_il ]

where ``m_il = 1`` for the observed level (or for every level when ``Z`` is missing) and 0
otherwise. No discrete variable is sampled, so NUTS applies.

The joint density splits into the covariate model's ``log P(Z = z_i | x_i)`` for an observed
level (a ``pm.Potential``) and the survival part ``log p(t_i, delta_i | x_i, z_i)`` (observed
level) or ``log sum_l P(Z = l | x_i) f(t_i, delta_i | x_i, Z = l)`` (missing). Only the
survival part is the observed variable, so the ``log_likelihood`` group used by PSIS-LOO holds
the same quantity as a model without the covariate, and their ELPDs can be compared (with the
covariate-model term inside, a reproduction in which the covariate had no effect on survival
showed an ELPD difference of -28, of which -27 was that term). See Gelman et al. (2013),
*Bayesian Data Analysis*, 3rd ed., ch. 18, and the Stan User's Guide, "Missing
multivariate data / latent discrete parameters".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_bcsm.data.design import Design, DesignError, build_design

__all__ = ["MissingDesign", "build_design_with_missing"]


@dataclass(frozen=True)
class MissingDesign:
    """A design whose last covariate may be missing for some patients.

    Attributes
    ----------
    design : Design
        The fully observed covariates on the rows used (rows missing anything *other*
        than the missing covariate are excluded and counted in ``design.rows``).
    name : str
        The partly missing covariate.
    levels : tuple of str
        Its levels, reference first.
    columns : tuple of str
        Its design columns (one per non-reference level), appended after
        ``design.columns`` in the models' ``covariate`` dimension.
    codes : ndarray of int, shape (n,)
        Observed level index per patient, ``-1`` when missing.
    depends_on : tuple of str
        Design columns the distribution of the missing covariate depends on.
    """

    design: Design
    name: str
    levels: tuple[str, ...]
    columns: tuple[str, ...]
    codes: np.ndarray
    depends_on: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        """Patients used (with or without the missing covariate)."""
        return self.design.n

    @property
    def n_missing(self) -> int:
        """Patients whose covariate is missing and summed out."""
        return int((self.codes < 0).sum())

    @property
    def all_columns(self) -> tuple[str, ...]:
        """Observed columns followed by the missing covariate's columns."""
        return self.design.columns + self.columns

    def log_mask(self) -> np.ndarray:
        """``(n, L)`` matrix: 0 where level ``l`` is compatible with the data, ``-inf``
        elsewhere (one-hot for an observed level, all zeros when missing)."""
        mask = np.zeros((self.n, len(self.levels)))
        obs = self.codes >= 0
        mask[obs] = -np.inf
        mask[np.flatnonzero(obs), self.codes[obs]] = 0.0
        return mask

    def level_coding(self) -> np.ndarray:
        """``(L, L-1)`` treatment coding of the levels (reference row all zeros)."""
        return np.vstack([np.zeros(len(self.levels) - 1), np.eye(len(self.levels) - 1)])

    def describe(self) -> str:
        """One line, e.g. ``used 78 of 78 patients; hormone_receptor missing for 25
        (marginalised)``."""
        return (
            f"{self.design.rows.describe()}; {self.name} missing for {self.n_missing} "
            "(marginalised)"
        )


def build_design_with_missing(
    frame: pd.DataFrame,
    covariates: Sequence[str],
    missing_covariate: str,
    duration: str = "time_months",
    event: str = "event",
    reference: Mapping[str, str] | None = None,
    standardize: bool = False,
    depends_on: Sequence[str] = (),
) -> MissingDesign:
    """Build a design in which ``missing_covariate`` may be missing.

    Parameters
    ----------
    frame : DataFrame
        Cohort frame.
    covariates : sequence of str
        All covariates, including ``missing_covariate``.
    missing_covariate : str
        A binary (0/1) or categorical column that may be missing.
    duration, event, reference, standardize
        As in :func:`bayes_bcsm.data.design.build_design` (``reference`` may name the
        missing covariate's reference level).
    depends_on : sequence of str
        Covariates (among ``covariates``, other than ``missing_covariate``) on which the
        distribution of the missing covariate depends, through their design columns (a
        categorical enters with one column per non-reference level); empty = a single
        distribution for all patients.

    Returns
    -------
    MissingDesign

    Raises
    ------
    DesignError
        If ``missing_covariate`` is not among ``covariates``, is not binary/categorical,
        has fewer than two observed levels, or ``depends_on`` names the missing covariate
        itself or a covariate not among ``covariates``.
    """
    if missing_covariate not in covariates:
        raise DesignError(
            f"missing covariate {missing_covariate!r} is not among {list(covariates)}"
        )
    reference = dict(reference or {})
    ref_missing = reference.pop(missing_covariate, None)
    others = [c for c in covariates if c != missing_covariate]
    base = build_design(
        frame, others, duration=duration, event=event, reference=reference, standardize=standardize
    )
    values = frame.loc[base.index, missing_covariate]
    observed = values.notna().to_numpy()
    is_categorical = (
        isinstance(values.dtype, pd.CategoricalDtype)
        or values.dtype == object
        or (pd.api.types.is_string_dtype(values.dtype))
    )
    if is_categorical:
        if isinstance(values.dtype, pd.CategoricalDtype):
            levels = [str(c) for c in values.cat.categories if (values == c).any()]
        else:
            levels = sorted(str(v) for v in values.dropna().unique())
        text = values.astype(str)
    else:
        obs_vals = np.unique(values.dropna().to_numpy(dtype=float))
        if not np.all(np.isin(obs_vals, (0.0, 1.0))):
            raise DesignError(
                f"missing covariate {missing_covariate!r} must be binary (0/1) or "
                f"categorical; observed values {obs_vals[:5]}"
            )
        levels = ["0", "1"]
        text = values.map(lambda v: "" if pd.isna(v) else str(int(v)))
    if ref_missing is None:
        ref_missing = levels[0]
    if ref_missing not in levels:
        raise DesignError(
            f"reference level {ref_missing!r} of {missing_covariate!r} is not an "
            f"observed level; observed levels: {levels}"
        )
    if len(levels) < 2:
        raise DesignError(f"missing covariate {missing_covariate!r} has a single observed level")
    levels = [ref_missing, *[lvl for lvl in levels if lvl != ref_missing]]
    codes = np.full(base.n, -1, dtype=int)
    for k, lvl in enumerate(levels):
        codes[observed & (text == lvl).to_numpy()] = k
    if levels == ["0", "1"] and not is_categorical:
        columns: tuple[str, ...] = (missing_covariate,)
    else:
        columns = tuple(f"{missing_covariate}[{lvl}]" for lvl in levels[1:])
    if missing_covariate in depends_on:
        raise DesignError(
            f"missing covariate {missing_covariate!r} cannot depend on itself (depends_on)"
        )
    terms = {term.name: term.columns for term in base.terms}
    unknown = [c for c in depends_on if c not in terms]
    if unknown:
        raise DesignError(
            f"depends_on names covariate(s) {unknown} outside the design; available: {list(terms)}"
        )
    predictors = tuple(column for c in depends_on for column in terms[c])
    return MissingDesign(base, missing_covariate, tuple(levels), columns, codes, predictors)
