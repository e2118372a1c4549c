"""A fit that fails a convergence check gets a remedy naming config keys (issue 26, part 4)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest
from hydra import compose, initialize_config_module

from bayes_bcsm.config import register_configs
from bayes_bcsm.inference.diagnostics import Diagnostics, DiagnosticThresholds
from bayes_bcsm.inference.sample import SamplerSettings
from bayes_bcsm.report.remedies import REMEDY_CHECKS, remedies, remedy, remedy_lines
from bayes_bcsm.resources import CONF_PACKAGE
from bayes_bcsm.settings import parse_settings

DEFAULTS = SamplerSettings()
FAMILIES = ("weibull", "exponential", "piecewise")


def _overrides(text: str) -> list[str]:
    """Every ``key=value`` written in backticks in ``text``."""
    return [word for span in re.findall(r"`([^`]*)`", text) for word in span.split() if "=" in word]


def _diagnostics(rows: list[tuple[str, float, float, bool, str]]) -> Diagnostics:
    summary = pd.DataFrame(rows, columns=["check", "value", "threshold", "passed", "detail"])
    return Diagnostics(summary, pd.DataFrame())


def test_every_check_of_check_convergence_has_a_remedy():
    """The checks ``check_convergence`` runs (its thresholds) all map to a remedy."""
    assert set(REMEDY_CHECKS) == {
        "r_hat",
        "ess_bulk",
        "ess_tail",
        "divergences",
        "e_bfmi",
        "tree_depth",
    }
    assert len(DiagnosticThresholds.__dataclass_fields__) == 6


def test_every_named_override_exists_in_the_config():
    """Each override a remedy names composes against the schema and validates (a renamed key
    would fail here), and every remedy names at least one. Dotted keys are composed together
    (one value per key), each group choice (``prior=...``) on its own."""
    named: set[str] = set()
    for family in FAMILIES:
        for check in REMEDY_CHECKS:
            text = remedy(check, family, DEFAULTS, worst="rw_sigma", shortfall=2.0)
            overrides = _overrides(text)
            assert overrides, (check, family, text)
            named.update(overrides)
    keys = {override.split("=")[0] for override in named}
    dotted = [f"{k}={v}" for k, v in dict(o.split("=", 1) for o in named if "." in o).items()]
    groups = sorted(o for o in named if "." not in o.split("=")[0])
    assert {"prior", "model.n_intervals", "sampler.draws", "sampler.target_accept"} <= keys
    assert {"prior=sceptical", "prior=log_f", "prior=default"} <= set(groups)
    register_configs()
    for overrides in (dotted, *([g] for g in groups)):
        with initialize_config_module(config_module=CONF_PACKAGE, version_base="1.3"):
            parse_settings(compose(config_name="config", overrides=overrides))


def test_divergences_piecewise():
    text = remedy("divergences", "piecewise", DEFAULTS)
    assert "`sampler.target_accept=0.95` (now 0.9)" in text
    assert "`sampler.tune=2000`" in text
    assert "`model.n_intervals=4`" in text
    assert "`model.baseline_prior=independent`" in text
    # already at 0.95: the next step is 0.99
    settings = SamplerSettings(target_accept=0.95, tune=500)
    text = remedy("divergences", "piecewise", settings)
    assert "`sampler.target_accept=0.99`" in text and "`sampler.tune=1000`" in text


def test_divergences_weibull_points_at_the_prior_not_the_intervals():
    text = remedy("divergences", "weibull", DEFAULTS)
    assert "`prior=sceptical`" in text
    assert "n_intervals" not in text


@pytest.mark.parametrize(
    ("ess", "draws"),
    [
        # 400 / 300 x 1.25 x 1000 = 1667 -> at least twice the current: 2000
        (300.0, 2000),
        # 400 / 100 x 1.25 x 1000 = 5000
        (100.0, 5000),
        # ESS 0 (undefined): the largest suggestion, 10 x 1.25 x 1000
        (0.0, 12500),
    ],
)
def test_low_ess_asks_for_enough_draws(ess, draws):
    diag = _diagnostics([("ess_bulk", ess, 400.0, False, "worst beta[age]")])
    (text,) = remedies(diag, "weibull", DEFAULTS)
    assert f"`sampler.draws={draws}` (now 1000 per chain)" in text
    assert "beta[age]" in text
    assert "`sampler.chains=8`" in text


def test_piecewise_baseline_named_when_it_is_the_worst_parameter():
    diag = _diagnostics(
        [
            ("r_hat", 1.02, 1.01, False, "worst rw_sigma"),
            ("ess_tail", 350.0, 400.0, False, "worst beta[x1]"),
        ]
    )
    rhat, ess = remedies(diag, "piecewise", DEFAULTS)
    assert "rw_sigma" in rhat and "`model.n_intervals=4`" in rhat
    assert "`sampler.tune=2000 sampler.draws=2000`" in rhat
    assert "n_intervals" not in ess


def test_passing_fit_has_no_remedy_and_no_lines():
    diag = _diagnostics(
        [("r_hat", 1.0, 1.01, True, "worst beta[x]"), ("divergences", 0, 0, True, "0 of 4000")]
    )
    assert remedies(diag, "piecewise", DEFAULTS) == []
    variant = SimpleNamespace(
        label="piecewise",
        family="piecewise",
        diagnostics=diag,
        fit=SimpleNamespace(settings=DEFAULTS),
    )
    assert remedy_lines(variant) == []


def test_failed_fit_lines_name_the_variant_and_each_remedy_in_order():
    diag = _diagnostics(
        [
            ("r_hat", 1.0, 1.01, True, "worst beta[x]"),
            ("divergences", 3, 0, False, "3 of 4000 draws"),
            ("e_bfmi", 0.2, 0.3, False, "per chain [0.2, 0.5]"),
        ]
    )
    variant = SimpleNamespace(
        label="prior=vague",
        family="weibull",
        diagnostics=diag,
        fit=SimpleNamespace(settings=DEFAULTS),
    )
    lines = remedy_lines(variant)
    assert lines[0] == "What to change (prior=vague):"
    assert lines[2].startswith("- Divergent transitions")
    assert lines[3].startswith("- E-BFMI too low")
    assert len(lines) == 5 and lines[-1] == ""


def test_unknown_check_is_refused():
    with pytest.raises(ValueError, match="no remedy for check 'energy'"):
        remedy("energy", "weibull", DEFAULTS)
