"""Reproduce the paper's Tables 2 and 3 and Figs 1-3 with the frequentist baselines; on another
dataset card, Kaplan-Meier by group, log-rank tests and a Cox model of its covariates."""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from bayes_bcsm.atomic import write_csv_atomic
from bayes_bcsm.paper import km_figures, table2, table3
from bayes_bcsm.report.cohort_report import write_cohort_report
from bayes_bcsm.report.paper_report import write_paper_report
from bayes_bcsm.results import Reproduction, RunInputs
from bayes_bcsm.runs.common import prepare_run
from bayes_bcsm.settings import RunSettings, parse_settings
from bayes_bcsm.study import load_targets
from bayes_bcsm.survival_tables import CohortTables, cohort_tables

log = logging.getLogger(__name__)


def run(cfg: DictConfig, output_dir: str | Path) -> Reproduction | CohortTables:
    """Recompute the paper's analyses on the configured cohort; write CSVs, figures, report.

    On the study's card, the candidate factors of the selection procedure are
    ``covariates.names`` (the ``univariate`` set: the paper's Table 2 factors plus Tomita and
    Tokuhashi groups). On another card, :func:`bayes_bcsm.survival_tables.cohort_tables` with
    ``reproduce.groups`` (default: the binary and categorical covariates among
    ``covariates.names``) and a Cox model of ``covariates.names``.
    """
    settings = parse_settings(cfg)
    inputs = prepare_run(settings, output_dir)
    log.info(inputs.cohort.accounting.describe())
    if not inputs.card.study:
        return _cohort_tables(settings, inputs)
    targets = load_targets()
    result = Reproduction(
        table2(inputs.frame, targets),
        table3(inputs.frame, targets, list(settings.covariates.names)),
        km_figures(inputs.frame, targets),
    )
    out = inputs.output_dir
    write_csv_atomic(result.table2, out / "table2.csv", index=False)
    write_csv_atomic(result.table3.hazard_ratios, out / "hazard_ratios.csv", index=False)
    write_csv_atomic(result.table3.selection.screen, out / "selection_screen.csv", index=False)
    write_csv_atomic(result.table3.selection.steps, out / "selection_steps.csv", index=False)
    write_paper_report(settings.report, inputs, result)
    return result


def _cohort_tables(settings: RunSettings, inputs: RunInputs) -> CohortTables:
    names = list(settings.covariates.names)
    groups = list(settings.reproduce_groups) or [
        c.column for c in inputs.card.covariates if c.kind != "continuous" and c.column in names
    ]
    tables = cohort_tables(
        inputs.frame, groups, names, dict(settings.covariates.reference), inputs.card
    )
    out = inputs.output_dir
    write_csv_atomic(tables.km, out / "km_by_group.csv", index=False)
    write_csv_atomic(tables.logrank, out / "logrank.csv", index=False)
    write_csv_atomic(tables.hazard_ratios, out / "hazard_ratios.csv", index=False)
    write_cohort_report(settings.report, inputs, tables)
    return tables
