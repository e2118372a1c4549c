"""The cohort data contract: one row per patient, one column per reported covariate.

The contract is the single source of truth for column names, types, units, allowed
values and which columns may be missing. ``data/README.md`` documents the same
contract for people; :func:`contract_table` renders it so the two cannot drift apart
(a test checks that every column here is documented there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

ColumnKind = Literal["id", "binary", "integer", "float", "category"]

ASIA_GRADES = ("A", "B", "C", "D", "E")
ESCC_GRADES = ("0", "1a", "1b", "1c", "2", "3")


@dataclass(frozen=True)
class ColumnSpec:
    """Specification of one cohort column.

    Parameters
    ----------
    name : str
        Column name in the CSV / Parquet file.
    kind : {"id", "binary", "integer", "float", "category"}
        Storage type. ``binary`` is 0/1 (1 = yes / present / given).
    description : str
        What the column records.
    unit : str or None
        Unit of measurement (``None`` for unitless codes).
    allowed : tuple of str, optional
        Allowed levels of a ``category`` column, in their natural order.
    minimum, maximum : float, optional
        Inclusive bounds of a numeric column.
    exclusive_minimum : bool
        If true the lower bound is strict (``value > minimum``).
    step : int, optional
        Integer columns that must be a multiple of ``step`` (KPS is scored in 10s).
    may_be_missing : bool
        Whether an empty cell is valid (e.g. a biomarker that was never tested).
    """

    name: str
    kind: ColumnKind
    description: str
    unit: str | None = None
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    step: int | None = None
    may_be_missing: bool = False

    def expected(self) -> str:
        """Describe in words what a valid value of this column looks like."""
        if self.kind == "id":
            text = "a non-empty, unique patient identifier"
        elif self.kind == "binary":
            text = "0 or 1"
        elif self.kind == "category":
            text = "one of " + ", ".join(repr(a) for a in self.allowed or ())
        else:
            text = "an integer" if self.kind == "integer" else "a finite number"
            if self.step:
                text += f" that is a multiple of {self.step}"
            if self.minimum is not None:
                op = ">" if self.exclusive_minimum else ">="
                text += f" {op} {self.minimum:g}"
            if self.maximum is not None:
                text += f" and <= {self.maximum:g}"
        if self.may_be_missing:
            text += " (or empty when unknown)"
        return text


#: Longest plausible follow-up (months): 100 years. A larger time is a data-entry or unit error
#: (e.g. days or a sentinel such as 1e308) that would silently distort every estimate.
MAX_PLAUSIBLE_TIME_MONTHS = 1200.0


def _binary(name: str, description: str) -> ColumnSpec:
    return ColumnSpec(name, "binary", description)


COHORT_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("patient_id", "id", "Patient identifier, unique within the file."),
    ColumnSpec("age_years", "float", "Age at spinal surgery.", "years", minimum=0, maximum=120),
    _binary("breast_surgery_history", "Previous surgery on the primary breast lesion."),
    ColumnSpec(
        "interval_to_spinal_surgery_months",
        "float",
        "Time from the initial breast-cancer treatment to surgery for the spinal metastasis.",
        "months",
        minimum=0,
    ),
    _binary("local_pain", "Locoregional pain at the spinal metastatic site before surgery."),
    ColumnSpec(
        "vas_pre", "integer", "Pain VAS before surgery.", "points (0-10)", minimum=0, maximum=10
    ),
    ColumnSpec(
        "vas_post",
        "integer",
        "Pain VAS six months after surgery.",
        "points (0-10)",
        minimum=0,
        maximum=10,
    ),
    _binary(
        "neurological_symptoms",
        "Any neurological symptom before surgery (Table 1's 'neurological dysfunction', 30 of 78); "
        "broader than ASIA A-C.",
    ),
    ColumnSpec(
        "kps_pre",
        "integer",
        "Karnofsky performance score before surgery.",
        "points (0-100)",
        minimum=0,
        maximum=100,
        step=10,
    ),
    ColumnSpec(
        "kps_post",
        "integer",
        "Karnofsky performance score six months after surgery.",
        "points (0-100)",
        minimum=0,
        maximum=100,
        step=10,
    ),
    ColumnSpec(
        "asia_pre", "category", "ASIA impairment grade before surgery.", allowed=ASIA_GRADES
    ),
    ColumnSpec(
        "asia_post",
        "category",
        "ASIA impairment grade six months after surgery.",
        allowed=ASIA_GRADES,
    ),
    _binary("segment_cervical", "Metastasis in the cervical spine (segments are not exclusive)."),
    _binary("segment_thoracic", "Metastasis in the thoracic spine."),
    _binary("segment_lumbar", "Metastasis in the lumbar spine."),
    _binary("segment_sacrum", "Metastasis in the sacrum."),
    _binary(
        "solitary_spinal_lesion",
        "A single vertebral metastasis and no extraspinal bone metastasis.",
    ),
    _binary("other_bone_metastasis", "Metastasis in non-spinal bones (pelvis, ribs, long bones)."),
    _binary("visceral_metastasis", "Visceral metastasis (lung, liver, brain, ...)."),
    ColumnSpec(
        "pathology",
        "category",
        "Histological subtype: invasive ductal, invasive lobular, papillary, mucinous, other.",
        allowed=("idc", "ilc", "papillary", "mucinous", "other"),
    ),
    ColumnSpec(
        "sins_score",
        "integer",
        "Spinal instability neoplastic score.",
        "points (0-18)",
        minimum=0,
        maximum=18,
    ),
    ColumnSpec(
        "escc_grade",
        "category",
        "Epidural spinal cord compression grade (Bilsky).",
        allowed=ESCC_GRADES,
    ),
    ColumnSpec(
        "tomita_score",
        "integer",
        "Tomita prognostic score.",
        "points (2-10)",
        minimum=2,
        maximum=10,
    ),
    ColumnSpec(
        "tokuhashi_score",
        "integer",
        "Revised Tokuhashi prognostic score.",
        "points (0-15)",
        minimum=0,
        maximum=15,
    ),
    ColumnSpec(
        "surgery_type",
        "category",
        "Spinal surgery: total en-bloc spondylectomy, tumour debulking, palliative "
        "decompression, percutaneous vertebroplasty.",
        allowed=("tes", "debulking", "palliative_decompression", "vertebroplasty"),
    ),
    ColumnSpec(
        "operation_minutes",
        "float",
        "Duration of the operation.",
        "minutes",
        minimum=0,
        exclusive_minimum=True,
    ),
    ColumnSpec("blood_loss_ml", "float", "Estimated intra-operative blood loss.", "mL", minimum=0),
    _binary("radiotherapy", "Radiotherapy after the operation."),
    _binary("hormone_therapy", "Endocrine (hormone) therapy after the operation."),
    _binary("chemo_or_targeted", "Chemotherapy and/or targeted therapy after the operation."),
    _binary("bone_agent", "Zoledronic acid or denosumab after the operation."),
    ColumnSpec(
        "hormone_receptor",
        "category",
        "Hormone-receptor (ER/PR) status by IHC.",
        allowed=("negative", "positive"),
        may_be_missing=True,
    ),
    ColumnSpec(
        "her2",
        "category",
        "HER2 status by IHC.",
        allowed=("negative", "positive"),
        may_be_missing=True,
    ),
    ColumnSpec(
        "ki67",
        "category",
        "Ki-67 proliferation index band (percent of tumour cells).",
        allowed=("<10", "10-40", ">40"),
        may_be_missing=True,
    ),
    ColumnSpec(
        "time_months",
        "float",
        "Overall survival: time from spinal surgery to death or last follow-up.",
        "months",
        minimum=0,
        exclusive_minimum=True,
        maximum=MAX_PLAUSIBLE_TIME_MONTHS,
    ),
    _binary("event", "1 = died (event), 0 = alive at last follow-up (censored)."),
)

COLUMNS_BY_NAME: dict[str, ColumnSpec] = {c.name: c for c in COHORT_COLUMNS}
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in COHORT_COLUMNS)


def column_spec(name: str) -> ColumnSpec:
    """Return the contract entry of ``name``.

    Raises
    ------
    KeyError
        If ``name`` is not a contract column; the message lists the valid names.
    """
    try:
        return COLUMNS_BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"{name!r} is not a column of the cohort contract; valid columns: "
            + ", ".join(REQUIRED_COLUMNS)
        ) from None


def contract_table() -> pd.DataFrame:
    """The contract as a table (one row per column): name, type, unit, allowed values, missing."""
    return pd.DataFrame(
        {
            "column": [c.name for c in COHORT_COLUMNS],
            "type": [c.kind for c in COHORT_COLUMNS],
            "unit": [c.unit or "" for c in COHORT_COLUMNS],
            "allowed": [c.expected() for c in COHORT_COLUMNS],
            "may_be_missing": [c.may_be_missing for c in COHORT_COLUMNS],
            "description": [c.description for c in COHORT_COLUMNS],
        }
    )
