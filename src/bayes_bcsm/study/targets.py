"""The published figures of Hu et al. (2025) as typed objects.

``targets.yaml`` (beside this module) is the package's one transcription of the paper's
printed figures; :func:`parse_targets` turns its mapping into :class:`Targets`. Reading the
file is the only I/O here (:func:`load_targets`, :func:`bundled_targets`), kept apart from
parsing so computation code can take a :class:`Targets` object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

BUNDLED_TARGETS = "targets.yaml"


class TargetsError(ValueError):
    """``targets.yaml`` lacks a key or holds a value of the wrong shape."""


@dataclass(frozen=True)
class GroupTarget:
    """One level of a Table 2 factor: size, KM median (months) and printed 95% CI."""

    level: str
    n: int
    median_months: float
    ci: tuple[float, float] | None


@dataclass(frozen=True)
class LogrankTarget:
    """A Table 2 factor (or a text-only comparison): log-rank P and its levels (may be empty)."""

    factor: str
    p_value: float
    levels: tuple[GroupTarget, ...] = ()


@dataclass(frozen=True)
class HazardRatioTarget:
    """A Table 3 row: adjusted hazard ratio, printed 95% CI and P."""

    factor: str
    hr: float
    ci: tuple[float, float]
    p_value: float


@dataclass(frozen=True)
class Targets:
    """Every published figure used by the calibration.

    Attributes
    ----------
    n, deaths, alive : int
        Cohort size, deaths and patients alive at last follow-up.
    followup_median_months, followup_iqr_months : float
        Follow-up median and IQR (months).
    os_median_months : float
        Kaplan-Meier median overall survival (months).
    survival_at : dict of float to float
        KM survival (fraction) at months 6, 12, 36, 60.
    table1 : dict
        Table 1 as transcribed (counts and summaries; nested mappings).
    outcomes_6_months : dict
        Six-month outcomes (VAS, KPS, ASIA after surgery).
    table2 : tuple of LogrankTarget
        Univariate log-rank results (Table 2 and the text / figure comparisons).
    table3 : tuple of HazardRatioTarget
        Multivariable Cox results.
    inconsistencies : tuple of str
        The paper's own contradictions, as listed in the file.
    accrual : tuple of str or None
        First and last month of surgery (``"YYYY-MM"``), as the abstract prints them.
    """

    n: int
    deaths: int
    alive: int
    followup_median_months: float
    followup_iqr_months: float
    os_median_months: float
    survival_at: dict[float, float]
    table1: dict
    outcomes_6_months: dict
    table2: tuple[LogrankTarget, ...]
    table3: tuple[HazardRatioTarget, ...]
    inconsistencies: tuple[str, ...] = field(default=())
    accrual: tuple[str, str] | None = None

    @property
    def accrual_months(self) -> float:
        """Months from the first to the last month of accrual (e.g. 2010-07 -> 2021-12: 137).

        Raises
        ------
        TargetsError
            When the targets give no accrual period.
        """
        if self.accrual is None:
            raise TargetsError("targets: missing key cohort.accrual")
        (y0, m0), (y1, m1) = (map(int, month.split("-")) for month in self.accrual)
        return float(12 * (y1 - y0) + (m1 - m0))

    def logrank(self, factor: str) -> LogrankTarget:
        """The Table 2 entry of ``factor`` (``KeyError`` lists the valid names)."""
        for t in self.table2:
            if t.factor == factor:
                return t
        raise KeyError(f"{factor!r} not in table2; valid: {[t.factor for t in self.table2]}")

    def hazard_ratio(self, factor: str) -> HazardRatioTarget:
        """The Table 3 entry of ``factor`` (``KeyError`` lists the valid names)."""
        for t in self.table3:
            if t.factor == factor:
                return t
        raise KeyError(f"{factor!r} not in table3; valid: {[t.factor for t in self.table3]}")


def _get(mapping: Mapping, key: str, where: str):
    try:
        return mapping[key]
    except (KeyError, TypeError):
        raise TargetsError(f"targets: missing key {where}.{key}") from None


def parse_targets(raw: Mapping) -> Targets:
    """Turn the mapping read from ``targets.yaml`` into :class:`Targets`.

    Raises
    ------
    TargetsError
        If a required key is missing (the message names it).
    """
    cohort = _get(raw, "cohort", "")
    os_ = _get(cohort, "overall_survival", "cohort")
    follow = _get(cohort, "followup", "cohort")
    table2 = []
    for factor, entry in _get(raw, "table2", "").items():
        levels = []
        for level, values in (entry.get("levels") or {}).items():
            ci = values.get("ci")
            levels.append(
                GroupTarget(
                    str(level),
                    int(_get(values, "n", f"table2.{factor}.{level}")),
                    float(_get(values, "median", f"table2.{factor}.{level}")),
                    None if ci is None else (float(ci[0]), float(ci[1])),
                )
            )
        table2.append(
            LogrankTarget(str(factor), float(_get(entry, "p", f"table2.{factor}")), tuple(levels))
        )
    table3 = [
        HazardRatioTarget(
            str(factor),
            float(_get(v, "hr", f"table3.{factor}")),
            (float(v["ci"][0]), float(v["ci"][1])),
            float(_get(v, "p", f"table3.{factor}")),
        )
        for factor, v in _get(raw, "table3", "").items()
    ]
    return Targets(
        n=int(_get(cohort, "n", "cohort")),
        deaths=int(_get(cohort, "deaths", "cohort")),
        alive=int(_get(cohort, "alive_at_last_followup", "cohort")),
        followup_median_months=float(_get(follow, "median", "cohort.followup")),
        followup_iqr_months=float(_get(follow, "iqr", "cohort.followup")),
        os_median_months=float(_get(os_, "median", "cohort.overall_survival")),
        survival_at={
            float(k): float(v)
            for k, v in _get(os_, "survival_at", "cohort.overall_survival").items()
        },
        table1=dict(_get(raw, "table1", "")),
        outcomes_6_months=dict(raw.get("outcomes_6_months") or {}),
        table2=tuple(table2),
        table3=tuple(table3),
        inconsistencies=tuple(raw.get("inconsistencies") or ()),
        accrual=_accrual(cohort.get("accrual")),
    )


def _accrual(entry: Mapping | None) -> tuple[str, str] | None:
    if entry is None:
        return None
    return str(_get(entry, "first", "cohort.accrual")), str(_get(entry, "last", "cohort.accrual"))


def load_targets(path: str | Path | None = None) -> Targets:
    """Read ``targets.yaml`` (default: the copy bundled with the package) and parse it.

    Parameters
    ----------
    path : str or Path, optional
        Another targets file (e.g. a corrected copy, ``my_targets.yaml``).
    """
    if path is None:
        text = resources.files("bayes_bcsm.study").joinpath(BUNDLED_TARGETS).read_text()
        source = f"bayes_bcsm/study/{BUNDLED_TARGETS}"
    else:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"targets file not found: {path}")
        text, source = path.read_text(), str(path)
    raw = yaml.safe_load(text)
    if not isinstance(raw, Mapping):
        raise TargetsError(f"{source}: expected a mapping at the top level")
    return parse_targets(raw)


@cache
def bundled_targets() -> Targets:
    """The bundled targets, read once per process (shared: do not modify the object).

    For the package's own module-level use (the generator's count vectors, the calibration
    search, report labels); call :func:`load_targets` for a private copy.
    """
    return load_targets()
