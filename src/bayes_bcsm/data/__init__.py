"""Cohort data: the contract, loading and validation, derived groupings and designs."""

from bayes_bcsm.data.contract import COHORT_COLUMNS, ColumnSpec, column_spec, contract_table
from bayes_bcsm.data.design import (
    CompleteCases,
    CovariateTerm,
    Design,
    DesignError,
    build_design,
    check_estimable,
    complete_cases,
)
from bayes_bcsm.data.groupings import DERIVED_GROUPINGS, derive_groupings
from bayes_bcsm.data.io import (
    Cohort,
    CohortAccounting,
    CohortProblem,
    CohortValidationError,
    load_cohort,
    validate_cohort,
)

__all__ = [
    "COHORT_COLUMNS",
    "DERIVED_GROUPINGS",
    "Cohort",
    "CohortAccounting",
    "CohortProblem",
    "CohortValidationError",
    "ColumnSpec",
    "CompleteCases",
    "CovariateTerm",
    "Design",
    "DesignError",
    "build_design",
    "check_estimable",
    "column_spec",
    "complete_cases",
    "contract_table",
    "derive_groupings",
    "load_cohort",
    "validate_cohort",
]
