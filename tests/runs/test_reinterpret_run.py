"""End to end: ``experiment=reinterpret_paper`` and any printed estimate on the command line."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bayes_bcsm.config import ConfigError, reinterpret_settings
from bayes_bcsm.reinterpret import reanalyse
from bayes_bcsm.runs.reinterpret import run
from tests.runs.conftest import compose_config, parse_report


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reinterpret")
    return run(compose_config(["experiment=reinterpret_paper"]), out), out


def test_paper_reinterpretation_artefacts(paper_run):
    _, out = paper_run
    table = pd.read_csv(out / "reinterpretation.csv")
    required = {"covariate", "prior", "prior_mean_hr", "prior_sd_log", "posterior_median_hr"}
    assert required | {"lower", "upper", "p_hr_below_1"} <= set(table.columns)
    assert len(table) == 4 * 9  # four printed aHRs x the 3 x 3 default grid
    design = pd.read_csv(out / "design_analysis.csv")
    assert list(design.columns) == ["covariate", "true_hr", "se", "power", "type_s", "exaggeration"]
    assert sorted(design["true_hr"].unique()) == pytest.approx([0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    assert {"resolved_config.yaml", "provenance.json", "report.md", "report.html"} <= {
        p.name for p in out.iterdir()
    }


def test_paper_rows_equal_the_closed_form_on_the_printed_figures(paper_run):
    """The hormone-therapy row under the moderate neutral prior is reanalyse() of the printed
    0.070 (0.007-0.727) with SD |log 0.5| / z_0.9 (the grid's rule; targets.yaml figures)."""
    _, out = paper_run
    table = pd.read_csv(out / "reinterpretation.csv").set_index(["covariate", "prior"])
    row = table.loc[("hormone_therapy", "moderate neutral")]
    expected = reanalyse(0.070, 0.007, 0.727, 1.0, math.log(2) / 1.2815515655446004)
    assert row.posterior_median_hr == pytest.approx(expected.median_hr, rel=1e-9)
    assert row.p_hr_below_1 == pytest.approx(expected.prob_hr_below(1.0), rel=1e-9)


def test_paper_report_sections_and_sentences(paper_run):
    _, out = paper_run
    report = parse_report(out / "report.html")
    assert "Credibility (Matthews' Analysis of Credibility)" in report.headings
    assert len(report.images) == 4 + 2  # four density grids, sensitivity, design
    text = (out / "report.md").read_text()
    assert "under the moderate neutral prior the probability that it lowers the hazard" in text
    assert "sceptical limit applies" in text and "advocacy limit applies" in text


def test_any_printed_estimate_from_the_command_line(tmp_path):
    cfg = compose_config(
        [
            "reinterpret.estimates=[{name: x, hr: 0.75, lower: 0.55, upper: 1.02}]",
            "report.plots=false",
        ]
    )
    result = run(cfg, tmp_path)
    assert [e.name for e in result.estimates] == ["x"]
    table = pd.read_csv(tmp_path / "reinterpretation.csv")
    assert set(table["covariate"]) == {"x"}


@pytest.mark.parametrize(
    ("override", "match"),
    [
        (
            "reinterpret.estimates=[{name: a, hr: 0.75, lower: 0.8, upper: 1.02}]",
            r"reinterpret.estimates\[0\].*'a'.*lower < hr < upper",
        ),
        (
            "reinterpret.estimates=[{name: a, hr: 0.7, lower: 0.5, upper: 0.9},"
            "{name: b, hr: -1, lower: 0.5, upper: 0.9}]",
            r"reinterpret.estimates\[1\].*'b'.*> 0",
        ),
        ("reinterpret.default_prior=flat", r"reinterpret.default_prior='flat'"),
        ("reinterpret.meaningful_hr=1.0", r"reinterpret .*meaningful_hr"),
        # issue 19: each of these passed validation and failed later (or silently)
        (
            "reinterpret.estimates=[{name: a, hr: 0.7, lower: 0.5}]",
            r"^reinterpret.estimates\[0\]: missing upper; each entry needs name, hr, lower, upper$",
        ),
        (
            "reinterpret.estimates=[{hr: 0.7, lower: 0.5, upper: 0.9}]",
            r"^reinterpret.estimates\[0\]: missing name;",
        ),
        ("reinterpret.meaningful_hr=0", r"meaningful_hr=0.0: expected a hazard ratio in \(0, 1\)"),
        ("reinterpret.meaningful_hr=2", r"meaningful_hr=2.0: expected a hazard ratio in \(0, 1\)"),
        (
            "reinterpret.estimates=[{name: a, hr: 0.7, lower: 0.5, upper: 0.9},"
            "{name: a, hr: 0.8, lower: 0.6, upper: 1.1}]",
            r"estimate names must be unique; repeated: \['a'\]",
        ),
        (
            "reinterpret.priors=[{name: moderate neutral, mean_hr: 0.8, sd_log: 0.4}]",
            r"prior names must be unique; repeated: \['moderate neutral'\]",
        ),
        ("reinterpret.priors=[{name: p, mean_hr: 1, sd_log: 0}]", r"reinterpret.priors\[0\]"),
        ("reinterpret.true_hrs=[0.5,0]", r"reinterpret.true_hrs"),
        ("reinterpret.level=1", r"reinterpret.level"),
    ],
)
def test_bad_reinterpret_config_is_named(override, match):
    with pytest.raises(ConfigError, match=match):
        reinterpret_settings(compose_config([override]))


def test_user_prior_joins_the_grid():
    cfg = compose_config(["reinterpret.priors=[{name: mine, mean_hr: 0.8, sd_log: 0.4}]"])
    names = [p.name for p in reinterpret_settings(cfg).priors]
    assert names[-1] == "mine" and len(names) == 10
