"""Patient profiles for prediction: covariate values in card words, checked, on the design scale.

A profile names a value for every covariate of a fitted model, as the data file would hold it
(``horTh: "yes"``, ``age: 52``). Each value is checked against what the model was fitted on:

- binary: one of the card's two levels (``0``/``1`` for an undescribed 0/1 column);
- categorical: a level observed in the data the model used (a level never seen has no
  coefficient);
- continuous: a finite number in the file's unit, within the card's (or the study contract's)
  bounds (coded as the loader codes it: divided by the card's ``hr_per``).

Every refusal names the key (``predict.profiles.<profile>.<covariate>`` or the CSV file, row and
column) and what was expected; it is raised before any model is fitted or loaded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_bcsm.data.card import DatasetCard
from bayes_bcsm.data.contract import column_spec
from bayes_bcsm.data.design import CovariateTerm
from bayes_bcsm.errors import BayesBcsmUserError

__all__ = [
    "PROFILE_COLUMN",
    "ProfileError",
    "Profiles",
    "check_profile_covariates",
    "design_profiles",
    "read_profiles_csv",
]

#: Column of a profiles CSV that names each row (optional; rows are numbered otherwise).
PROFILE_COLUMN = "profile"


class ProfileError(BayesBcsmUserError, ValueError):
    """A profile with an unknown covariate, a missing one, or a value outside the card."""


#: ``{profile name: (where it was given, {covariate: value})}``.
Profiles = Mapping[str, tuple[str, Mapping[str, Any]]]


def read_profiles_csv(path: str | Path, key: str = "predict.profiles_csv") -> dict:
    """Profiles from a CSV: one row per profile, one column per covariate, an optional
    ``profile`` column naming the rows.

    Returns
    -------
    dict
        :data:`Profiles`, each ``where`` naming the file and the row (1-based, header = row 1).

    Raises
    ------
    ProfileError
        An unreadable or empty file, or repeated profile names.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ProfileError(f"{key}={path}: cannot read it as CSV ({err})") from err
    if frame.empty:
        raise ProfileError(f"{key}={path}: no profile rows")
    names = (
        frame.pop(PROFILE_COLUMN).tolist()
        if PROFILE_COLUMN in frame
        else [f"row {i + 2}" for i in range(len(frame))]
    )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ProfileError(f"{key}={path}: profile names repeated: {repeated}")
    return {
        name: (f"{key}={path}, row {i + 2}", dict(row))
        for i, (name, row) in enumerate(zip(names, frame.to_dict("records"), strict=True))
    }


def check_profile_covariates(profiles: Profiles, covariates: Sequence[str]) -> None:
    """Refuse a profile that names a covariate the model does not have, or leaves one out.

    Raises
    ------
    ProfileError
        Naming the profile's key and the model's covariates.
    """
    if not profiles:
        raise ProfileError(
            "predict.profiles is empty: expected at least one profile, e.g. "
            "predict.profiles={a: {covariate: value, ...}} or predict.profiles_csv=file.csv"
        )
    wanted = set(covariates)
    for where, values in profiles.values():
        unknown = [c for c in values if c not in wanted]
        if unknown:
            raise ProfileError(
                f"{where}: {unknown} not covariate(s) of the model; its covariates: "
                f"{', '.join(covariates)}"
            )
        missing = [c for c in covariates if c not in values]
        if missing:
            raise ProfileError(
                f"{where}: no value for {missing}; a profile gives every covariate of the "
                f"model ({', '.join(covariates)})"
            )


def _bounds(
    term: CovariateTerm, card: DatasetCard
) -> tuple[float | None, float | None, float, str]:
    """The allowed range of a continuous covariate (the file's unit), the card's ``hr_per``
    (the loader divides the file's values by it) and the words for the range."""
    spec = {s.column: s for s in card.covariates}.get(term.name)
    per = 1.0
    if spec is not None:
        low, high, per = spec.minimum, spec.maximum, spec.hr_per
    else:
        try:
            contract = column_spec(term.name)
        except KeyError:
            return None, None, per, "a finite number"
        low, high = contract.minimum, contract.maximum
    words = "a finite number" + (f" >= {low:g}" if low is not None else "")
    words += f" and <= {high:g}" if high is not None else ""
    return low, high, per, words


def _design_values(
    term: CovariateTerm, value: Any, card: DatasetCard, where: str
) -> dict[str, float]:
    """The design columns of one covariate's value (checked)."""
    text = str(value).strip()
    here = f"{where}, {term.name}={text}"
    if term.kind == "continuous":
        low, high, per, words = _bounds(term, card)
        try:
            x = float(text)
        except ValueError:
            x = math.nan
        if not math.isfinite(x) or (low is not None and x < low) or (high is not None and x > high):
            raise ProfileError(f"{here}: expected {words} (data card {card.name!r})")
        return {term.columns[0]: (x / per - term.center) / term.scale}
    if term.kind == "binary":
        spec = {s.column: s for s in card.covariates}.get(term.name)
        levels = spec.coded_levels if spec is not None else ("0", "1")
        codes = {level: float(k) for k, level in enumerate(levels)}
        if spec is None:
            codes |= {"0.0": 0.0, "1.0": 1.0}
        if text not in codes:
            raise ProfileError(f"{here}: expected one of {list(levels)} (data card {card.name!r})")
        return {term.columns[0]: codes[text]}
    if text not in term.levels:
        raise ProfileError(
            f"{here}: expected one of {list(term.levels)}, the levels in the data the model was "
            f"fitted on (data card {card.name!r})"
        )
    return {c: float(c == f"{term.name}[{text}]") for c in term.columns}


def design_profiles(
    profiles: Profiles, terms: Sequence[CovariateTerm], card: DatasetCard
) -> pd.DataFrame:
    """Profiles on the design scale of a model.

    Parameters
    ----------
    profiles : Profiles
        Checked by :func:`check_profile_covariates`.
    terms : sequence of CovariateTerm
        How the model's covariates entered its design.
    card : DatasetCard
        Levels and bounds of the covariates.

    Returns
    -------
    pandas.DataFrame
        Index ``profile``, one column per design column.

    Raises
    ------
    ProfileError
        For a value outside the card (naming the profile, the covariate and what was expected).
    """
    rows = {}
    for name, (where, values) in profiles.items():
        row: dict[str, float] = {}
        for term in terms:
            row |= _design_values(term, values[term.name], card, where)
        rows[name] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "profile"
    return frame
