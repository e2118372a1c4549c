"""One parse of the config (issue 19, section 2): every key group is checked before PyMC loads.

A bad value in each key group fails in :func:`bayes_bcsm.settings.parse_settings` (or, for
``compare.variants``, in the parse of each variant) with a message naming the key, and neither
PyMC, PyTensor nor ArviZ has been imported by then: checked in a fresh interpreter through
``sys.modules``, once in-process for every group and once through the command line for a few.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from bayes_bcsm.inference.settings import MIN_LOO_DRAWS, SamplerError, SamplerSettings

#: (key group, overrides, what the one-line message must say).
BAD_VALUES = [
    ("data", ["data.path=nope.csv"], "data.path=nope.csv: no such file"),
    ("data", ["data.contract=other"], "data.contract='other': expected 'hu2025' or null"),
    (
        "data",
        ["data=gbsg2", "data.time_unit=fortnights"],
        "data.time_unit='fortnights': expected one of ['days', 'weeks', 'months', 'years']",
    ),
    (
        "data",
        ["data=gbsg2", "data.zero_time=drop"],
        "data.zero_time='drop': expected one of ['shift', 'refuse']",
    ),
    (
        "covariates",
        ["covariates.names=[shoe_size]"],
        "covariates.names: ['shoe_size'] not covariates of the dataset card 'bcsm'",
    ),
    (
        "model",
        ["model=piecewise", "model.cuts_months=[0,12,6]"],
        "model.cuts_months=[0.0, 12.0, 6.0]: expected strictly increasing cut points",
    ),
    ("model", ["model.n_intervals=0"], "model.n_intervals=0: expected a positive integer"),
    ("model", ["model=mspline", "model.df=0"], "model.df=0: expected an integer >= 4"),
    ("prior", ["prior.scale=-1"], "prior.scale=-1.0: expected a value > 0"),
    ("prior", ["prior=sceptical", "prior.sceptical_hr=0.5"], "prior.sceptical_hr=0.5"),
    ("sampler", ["sampler.draws=0"], "sampler.draws=0: expected a positive integer"),
    (
        "sampler",
        ["sampler=pymc", "sampler.tune=0"],
        "sampler.tune=0: expected a positive integer",
    ),
    (
        "sampler",
        ["sampler=pymc", "sampler.target_accept=0.3"],
        "sampler.target_accept=0.3: expected a value in [0.5, 1)",
    ),
    (
        "sampler",
        ["sampler.draws=1", "sampler.chains=1"],
        "sampler.chains=1, sampler.draws=1: too few draws for PSIS-LOO",
    ),
    (
        "sampler",
        ["sampler.pointwise_max_patients=-1"],
        "sampler.pointwise_max_patients=-1: expected a non-negative integer (patients)",
    ),
    (
        "sampler",
        ["model=gompertz", "sampler.chunked_loo=true"],
        "sampler.chunked_loo=true: chunked PSIS-LOO covers model.family weibull, exponential, "
        "piecewise, not gompertz",
    ),
    (
        "sampler",
        ["missing=marginalize", "sampler.chunked_loo=true"],
        "sampler.chunked_loo=true: not with missing.strategy=marginalize",
    ),
    ("seed", ["seed=-1"], "seed=-1: expected a non-negative integer (0 is a seed)"),
    ("report", ["report.hdi_prob=1.5"], "report.hdi_prob=1.5: expected a value in (0, 1)"),
    (
        "report",
        ["report.horizons_months=[12,6]"],
        "report.horizons_months=[12.0, 6.0]: expected a non-empty list of positive, increasing "
        "times (months)",
    ),
    (
        "missing",
        ["missing=marginalize", "covariates.names=[hormone_therapy]"],
        "missing.covariate='hormone_receptor' must be one of covariates.names",
    ),
    (
        "missing",
        ["missing=marginalize", "missing.depends_on=[hormone_therapy,tumour_size]"],
        "missing.depends_on=['hormone_therapy', 'tumour_size']: ['tumour_size'] not covariates "
        "of the dataset card 'bcsm'",
    ),
    (
        "missing",
        ["missing=marginalize", "missing.depends_on=[hormone_receptor]"],
        "missing.depends_on=['hormone_receptor']: the marginalised covariate 'hormone_receptor' "
        "cannot depend on itself",
    ),
    (
        "missing",
        ["missing=marginalize", "missing.depends_on=[age_years]"],
        "missing.depends_on=['age_years']: ['age_years'] not among covariates.names",
    ),
    (
        "missing",
        ["missing.depends_on=[hormone_therapy]"],
        "missing.depends_on=['hormone_therapy']: used only with missing.strategy=marginalize",
    ),
    (
        "compare",
        ["compare.variants=['model=weibull','sampler.draws=0']"],
        "compare variant 'sampler.draws=0': sampler.draws=0: expected a positive integer",
    ),
    ("simulation", ["simulation.workers=0"], "simulation.workers=0: expected a positive integer"),
    (
        "simulation",
        ["simulation.diagnostics.rhat_max=0.9"],
        "simulation.diagnostics.rhat_max=0.9: expected >= 1",
    ),
    (
        "reinterpret",
        ["reinterpret.meaningful_hr=2"],
        "meaningful_hr=2.0: expected a hazard ratio in (0, 1)",
    ),
    (
        "reproduce",
        ["reproduce.groups=[foo]"],
        "reproduce.groups: ['foo'] not covariates of the dataset card 'bcsm'",
    ),
    ("schema", ["+sampler.drawz=10"], "unknown config key(s) ['sampler.drawz']"),
    (
        "absolute",
        ["absolute.exposure=shoe_size"],
        "absolute.exposure=shoe_size: not a covariate of the dataset card 'bcsm'",
    ),
    (
        "absolute",
        ["data=gbsg2", "absolute.exposure=age"],
        "absolute.exposure=age: a continuous covariate has no levels",
    ),
    (
        "absolute",
        ["missing=marginalize", "absolute.exposure=hormone_receptor"],
        "absolute.exposure=hormone_receptor is the marginalised covariate",
    ),
    (
        "absolute",
        ["data=stanford_heart", "absolute.exposure=transplant"],
        "absolute.exposure=transplant: data=stanford_heart has (start, stop] episodes",
    ),
    (
        "absolute",
        ["absolute.tau_months=-5"],
        "absolute.tau_months=-5.0: expected a positive time (months)",
    ),
    (
        "absolute",
        ["absolute.horizons_months=[12,6]"],
        "absolute.horizons_months=[12.0, 6.0]: expected a non-empty list of positive, increasing",
    ),
    ("predict", ["predict.tau_months=-1"], "predict.tau_months=-1.0: expected a positive time"),
    (
        "predict",
        ["predict.run_dir=nowhere"],
        "predict.run_dir=nowhere: no posterior.nc or resolved_config.yaml there",
    ),
    ("predict", ["predict.profiles=[3]"], "predict.profiles[0]=3: expected a mapping"),
    (
        "predict",
        ["predict.profiles=[{a: 1}]", "predict.profiles_csv=p.csv"],
        "predict.profiles and predict.profiles_csv are both set",
    ),
    (
        "absolute",
        ["absolute.mcid_months=-1"],
        "absolute.mcid_months=-1.0: expected a difference >= 0 (months)",
    ),
    (
        "prognosis",
        ["experiment=prognosis", "prognosis.folds=1"],
        "prognosis.folds=1: expected an integer >= 2 (K = 1 leaves no patient to test on)",
    ),
    (
        "prognosis",
        ["experiment=prognosis", "prognosis.scores.tomita=tomita_points"],
        "prognosis.scores.tomita: ['tomita_points'] not columns of the dataset card 'bcsm'",
    ),
    (
        "prognosis",
        ["experiment=prognosis", "prognosis.predictors=[tomita,cox_everything]"],
        "prognosis.predictors=['tomita', 'cox_everything']: unknown predictor 'cox_everything'",
    ),
    (
        "prognosis",
        ["experiment=prognosis", "prognosis.horizons_months=[36,12]"],
        "prognosis.horizons_months=[36.0, 12.0]: expected increasing positive times (months)",
    ),
    (
        "prognosis",
        ["experiment=prognosis", "prognosis.calibration_months=24"],
        "prognosis.calibration_months=24.0: expected one of the horizons [12.0, 36.0, 60.0]",
    ),
]

#: Composes and parses every case of BAD_VALUES in one fresh interpreter; prints a JSON record
#: of each case's ConfigError message and of the heavy modules imported at the end.
PARSE_ALL = """
    import json, sys
    from hydra import compose, initialize_config_module
    from bayes_bcsm.config import ConfigError, register_configs
    from bayes_bcsm.resources import CONF_PACKAGE
    from bayes_bcsm.runs.compare import planned_variants
    from bayes_bcsm.settings import parse_settings

    register_configs()
    messages = []
    with initialize_config_module(config_module=CONF_PACKAGE, version_base="1.3"):
        for overrides in json.loads(sys.argv[1]):
            cfg = compose(config_name="config", overrides=overrides)
            try:
                planned_variants(cfg, parse_settings(cfg))
            except ConfigError as error:
                messages.append(str(error))
            else:
                messages.append(None)
    loaded = [m for m in ("pymc", "pytensor", "arviz") if m in sys.modules]
    print(json.dumps({"messages": messages, "loaded": loaded}))
"""


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    cases = json.dumps([overrides for _, overrides, _ in BAD_VALUES])
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PARSE_ALL), cases],
        capture_output=True,
        text=True,
        cwd=tmp_path_factory.mktemp("parse"),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_key_group_is_covered():
    groups = {group for group, _, _ in BAD_VALUES}
    assert groups >= {
        "data",
        "covariates",
        "model",
        "prior",
        "sampler",
        "seed",
        "report",
        "missing",
        "compare",
        "simulation",
        "reinterpret",
        "reproduce",
        "absolute",
        "predict",
        "prognosis",
    }


@pytest.mark.parametrize(("group", "overrides", "message"), BAD_VALUES)
def test_bad_value_fails_in_the_parse_naming_the_key(parsed, group, overrides, message):
    got = parsed["messages"][[o for _, o, _ in BAD_VALUES].index(overrides)]
    assert got is not None, f"{group}: {overrides} was accepted"
    assert message in got
    assert "\n" not in got


def test_no_bad_value_needed_the_modelling_stack(parsed):
    assert parsed["loaded"] == []


#: Runs the command line in a fresh interpreter and reports, at exit, which heavy modules it
#: had imported (the marker line is the last line of stderr).
CLI = """
    import atexit, sys
    atexit.register(
        lambda: print(
            "loaded:", [m for m in ("pymc", "pytensor", "arviz") if m in sys.modules],
            file=sys.stderr,
        )
    )
    from bayes_bcsm.cli import main
    sys.exit(main(sys.argv[1:]))
"""

CLI_CASES = [
    (
        ["fit", "sampler.draws=1", "sampler.chains=1"],
        "sampler.chains=1, sampler.draws=1: too few draws for PSIS-LOO: expected chains x draws "
        f">= {MIN_LOO_DRAWS}",
    ),
    (["fit", "sampler=pymc", "sampler.tune=0"], "sampler.tune=0: expected a positive integer"),
    (
        ["compare", "compare.variants=['model=weibull','sampler.target_accept=0.3']"],
        "sampler.target_accept=0.3: expected a value in [0.5, 1)",
    ),
    (
        [
            "fit",
            "model=piecewise",
            "data=gbsg2",
            "model.cut_method=quantile",
            "model.cuts_months=[0,12]",
        ],
        "model.cuts_months=[0.0, 12.0] with model.cut_method=quantile",
    ),
    (["simulate", "simulation.diagnostics.ebfmi_min=-1"], "simulation.diagnostics.ebfmi_min=-1"),
    (["reproduce", "model.n_intervals=0"], "model.n_intervals=0: expected a positive integer"),
    (["compare", "absolute.exposure=shoe_size"], "absolute.exposure=shoe_size: not a covariate"),
    (["fit", "model=mspline", "model.df=0"], "model.df=0: expected an integer >= 4"),
    (["reinterpret", "reinterpret.meaningful_hr=0"], "meaningful_hr=0.0: expected a hazard ratio"),
    (
        ["reinterpret", "reinterpret.estimates=[{name: a, hr: 0.7, lower: 0.5}]"],
        "reinterpret.estimates[0]: missing upper",
    ),
    (
        [
            "reinterpret",
            "reinterpret.estimates=[{name: a, hr: 0.7, lower: 0.5, upper: 0.9},"
            "{name: a, hr: 0.8, lower: 0.6, upper: 1.1}]",
        ],
        "estimate names must be unique; repeated: ['a']",
    ),
    (
        ["compare", "experiment=prognosis", "prognosis.folds=1"],
        "prognosis.folds=1: expected an integer >= 2 (K = 1 leaves no patient to test on)",
    ),
    (
        ["compare", "experiment=prognosis", "prognosis.scores.tokuhashi=tokuhashi"],
        "prognosis.scores.tokuhashi: ['tokuhashi'] not columns of the dataset card 'bcsm'",
    ),
]


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """Every CLI case at once (they spend their time importing; they overlap on two cores)."""
    environ = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    running = []
    for args, _ in CLI_CASES:
        running.append(
            subprocess.Popen(
                [sys.executable, "-c", textwrap.dedent(CLI), *args, "hydra.run.dir=out"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=tmp_path_factory.mktemp("cli"),
                env=environ,
            )
        )
    results = []
    for process in running:
        stdout, stderr = process.communicate(timeout=300)
        results.append((process.returncode, stdout, stderr))
    return results


@pytest.mark.parametrize(("index", "case"), list(enumerate(CLI_CASES)))
def test_command_line_refuses_before_pymc_with_one_line(cli_runs, index, case):
    _, message = case
    returncode, stdout, stderr = cli_runs[index]
    *lines, marker = stderr.strip().splitlines()
    assert returncode == 1
    assert lines == [lines[0]] and message in lines[0], stderr
    assert marker == "loaded: []"
    assert "report:" not in stdout


def test_library_refuses_what_the_config_refuses():
    """One rule per value: the library dataclass itself refuses what the config refuses."""
    for values, field in [
        ({"sampler": "pymc", "tune": 0}, "tune"),
        ({"sampler": "pymc", "target_accept": 0.3}, "target_accept"),
        ({"chains": 1, "draws": 1}, "chains"),
        ({"seed": -1}, "seed"),
    ]:
        with pytest.raises(SamplerError) as info:
            SamplerSettings(**values)
        assert field in info.value.fields
    assert SamplerSettings(chains=1, draws=MIN_LOO_DRAWS).draws == MIN_LOO_DRAWS
    assert SamplerSettings(chains=1, draws=1, log_likelihood=False).draws == 1  # no LOO


def test_the_loo_floor_is_arviz_own_limit():
    """``MIN_LOO_DRAWS`` draws are enough for ``arviz.loo`` and one fewer is not (so the rule is
    neither looser nor stricter than PSIS needs; synthetic log-likelihoods of 30 patients)."""
    import numpy as np
    import xarray as xr

    from bayes_bcsm.inference.loo import psis_loo

    def tree(draws: int) -> xr.DataTree:
        rng = np.random.default_rng(0)
        coords = {"chain": [0], "draw": np.arange(draws)}
        posterior = xr.Dataset({"b": (("chain", "draw"), rng.normal(size=(1, draws)))}, coords)
        loglik = rng.normal(-1.0, 0.3, size=(1, draws, 30))
        log_likelihood = xr.Dataset({"time": (("chain", "draw", "patient"), loglik)}, coords)
        return xr.DataTree.from_dict({"posterior": posterior, "log_likelihood": log_likelihood})

    assert np.isfinite(psis_loo(tree(MIN_LOO_DRAWS)).elpd)
    with pytest.raises((ValueError, IndexError)):
        psis_loo(tree(MIN_LOO_DRAWS - 1))
