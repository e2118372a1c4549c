"""Every config preset composes against the schema; bad overrides fail before any work, by name."""

from __future__ import annotations

import re

import pytest
from hydra import compose, initialize_config_module
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf
from omegaconf.errors import ValidationError

from bayes_bcsm.config import ConfigError, register_configs
from bayes_bcsm.resources import CONF_PACKAGE, bundled_file, conf_dir
from bayes_bcsm.settings import parse_settings

CONF = conf_dir()
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))


def _compose(overrides: list[str]):
    register_configs()
    with initialize_config_module(config_module=CONF_PACKAGE, version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def test_default_config_is_valid():
    cfg = _compose([])
    parse_settings(cfg)
    assert cfg.model.family.value == "weibull"
    assert cfg.seed == 20250520


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_and_validates(experiment):
    cfg = _compose([f"experiment={experiment}", "sampler=quick"])
    parse_settings(cfg)
    assert cfg.experiment_name == experiment
    OmegaConf.to_yaml(cfg, resolve=True)


def test_experiments_cover_the_required_presets():
    assert {"paper_reproduction", "bayes_vs_cox", "prior_sensitivity", "model_comparison"} <= set(
        EXPERIMENTS
    )


@pytest.mark.parametrize(
    "group", ["data", "model", "prior", "covariates", "missing", "sampler", "report"]
)
def test_every_group_option_composes(group):
    for option in sorted(p.stem for p in (CONF / group).glob("*.yaml")):
        overrides = [f"{group}={option}"]
        if (group, option) == ("data", "csv"):
            overrides += [
                f"data.path={bundled_file('gbsg2.csv')}",
                "data.time_column=time",
                "data.event_column=cens",
                "++data.covariates={age: {kind: continuous}}",
                "covariates.names=[age]",
            ]
        if group == "covariates":  # a card's own sets (reproduce_<card>, <card>)
            card = option.removeprefix("reproduce_")
            if card in ("gbsg2", "stanford_heart"):
                overrides.append(f"data={card}")
        if (group, option) == ("missing", "marginalize"):
            pass  # hormone_receptor is in the default covariate set
        parse_settings(_compose(overrides))


def test_unknown_model_lists_valid_choices():
    with pytest.raises(ConfigCompositionException) as info:
        _compose(["model=gengamma"])
    message = str(info.value)
    assert "model/gengamma" in message
    for option in (
        "weibull",
        "exponential",
        "piecewise",
        "gompertz",
        "mspline",
        "lognormal",
        "loglogistic",
        "cox",
    ):
        assert option in message


def test_bad_enum_value_names_key_and_valid_values():
    with pytest.raises(ConfigCompositionException) as info:
        _compose(["model.family=gengamma"])
    cause = info.value.__cause__
    assert isinstance(cause, ValidationError)
    assert "family" in str(cause) and "weibull" in str(cause) and "mspline" in str(cause)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("sampler.draws=0", "sampler.draws=0: expected a positive integer"),
        ("sampler.draws=-5", "sampler.draws=-5: expected a positive integer"),
        ("sampler.chains=0", "sampler.chains=0: expected a positive integer"),
        ("sampler.target_accept=1.2", "sampler.target_accept=1.2"),
        ("prior.scale=0", "prior.scale=0.0: expected a value > 0"),
        (
            "covariates.names=[hormone_therapy,shoe_size]",
            "['shoe_size'] not covariates of the dataset card 'bcsm'",
        ),
        ("model.cuts_months=[0,12,6]", "strictly increasing"),
        ("model.df=0", "model.df=0: expected an integer >= 4"),
        ("model.df=3", "model.df=3: expected an integer >= 4"),
        ("seed=-1", "seed=-1"),
        ("simulation.replicates=0", "simulation.replicates=0"),
        ("simulation.workers=0", "simulation.workers=0: expected a positive integer"),
        (
            "simulation.estimand_cohorts=0",
            "simulation.estimand_cohorts=0: expected a positive integer",
        ),
        (
            "simulation.estimand_redraws=-1",
            "simulation.estimand_redraws=-1: expected a positive integer",
        ),
        ("simulation.methods=[cox_table3,magic]", "expected a non-empty subset of"),
        ("simulation.scenarios=[pessimistic]", "simulation.scenarios=['pessimistic']"),
        ("simulation.n=[5]", "simulation.n=[5]: expected cohort sizes >= 10"),
        ("sampler.tune=5", "sampler.tune=5: expected >= 10 with nutpie"),
        ("prior.nu=0", "prior.nu=0.0: expected a value > 0"),
        ("data.path=my.csv", "data.path=my.csv: no such file"),
        ("report.hdi_prob=1.5", "report.hdi_prob=1.5: expected a value in (0, 1)"),
        ("+sampler.drawz=10", "unknown config key(s) ['sampler.drawz']"),
        ("+shoe_size=10", "unknown config key(s) ['shoe_size']"),
        ("covariates.names=[event]", "['event'] identify patients or define the outcome"),
        ("covariates.names=[patient_id]", "['patient_id'] identify patients"),
        ("covariates.names=[time_months,hormone_therapy]", "['time_months'] identify"),
    ],
)
def test_impossible_values_fail_with_the_key(override, message):
    cfg = _compose([override])
    with pytest.raises(ConfigError) as info:
        parse_settings(cfg)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["prior=sceptical", "prior.sceptical_tail=0.7"], "prior.sceptical_tail=0.7"),
        (["model=piecewise", "model.cuts_months=[]"], "at least one after 0"),
        (["sampler=pymc", "sampler.chains=0"], "sampler.chains=0"),
    ],
)
def test_combined_overrides_fail_with_the_key(overrides, message):
    with pytest.raises(ConfigError) as info:
        parse_settings(_compose(overrides))
    assert message in str(info.value)


def test_csv_path_must_exist(tmp_path):
    with pytest.raises(ConfigError, match=re.escape("data.path is empty")):
        parse_settings(_compose(["data=csv"]))
    missing = tmp_path / "nope.csv"
    with pytest.raises(ConfigError, match=re.escape(f"data.path={missing}: no such file")):
        parse_settings(_compose(["data=csv", f"data.path={missing}"]))


def test_marginalize_needs_the_covariate_in_the_set():
    cfg = _compose(["missing=marginalize", "covariates.names=[hormone_therapy]"])
    with pytest.raises(ConfigError, match=re.escape("missing.covariate='hormone_receptor'")):
        parse_settings(cfg)


def test_marginalize_default_models_receptor_given_endocrine_therapy():
    """The bundled study's default: the receptor's own model depends on endocrine therapy (no
    tested patient on therapy is receptor-negative), and the model built from the parsed
    settings carries that dependency (a coefficient per level contrast of receptor status)."""
    from bayes_bcsm.data.groupings import derive_groupings
    from bayes_bcsm.data.io import load_cohort
    from bayes_bcsm.models import build_design_with_missing
    from bayes_bcsm.runs.variant import model_for

    settings = parse_settings(_compose(["missing=marginalize"]))
    assert settings.missing.depends_on == ("hormone_therapy",)
    frame = derive_groupings(load_cohort(settings.data.path).frame)
    design = build_design_with_missing(
        frame,
        list(settings.covariates.names),
        settings.missing.covariate,
        depends_on=settings.missing.depends_on,
    )
    model = model_for(settings, design).model
    assert model.named_vars_to_dims["level_coef"] == ("level_predictor", "level_contrast")
    assert list(model.coords["level_predictor"]) == ["hormone_therapy"]
    assert list(model.coords["level_contrast"]) == ["positive"]


def test_seed_zero_is_a_seed():
    parse_settings(_compose(["seed=0"]))


def test_prior_config_mirrors_prior_spec_and_every_option_builds():
    from dataclasses import fields

    from bayes_bcsm.config import PriorConfig, prior_spec
    from bayes_bcsm.models import PriorSpec

    assert [f.name for f in fields(PriorConfig)] == [f.name for f in fields(PriorSpec)]
    for option in sorted(p.stem for p in (CONF / "prior").glob("*.yaml")):
        spec = prior_spec(_compose([f"prior={option}"]))
        assert isinstance(spec, PriorSpec)
    assert prior_spec(_compose(["prior=vague"])).scale == 10.0


def test_piecewise_cut_points_follow_the_card():
    """auto: the study's fixed cuts on its card, event-time quantiles on any other card."""
    study_cuts = (0.0, 6.0, 12.0, 24.0, 36.0, 60.0)  # conf/model/piecewise.yaml's comment

    def cuts(overrides):
        return parse_settings(_compose(["model=piecewise", *overrides])).model.cuts

    assert cuts([]).cuts_months == study_cuts
    assert not cuts(["data=gbsg2"]).fixed
    assert cuts(["data=gbsg2", "model.cut_method=fixed"]).cuts_months == study_cuts
    assert not cuts(["model.cut_method=quantile"]).fixed
    assert cuts(["model.cut_method=quantile", "model.n_intervals=4"]).n_quantile_intervals == 4


@pytest.mark.parametrize("data", ["bcsm", "gbsg2"])
@pytest.mark.parametrize("method", ["auto", "fixed"])
def test_explicit_cut_points_always_win(data, method):
    """Issue 19: ``model.cuts_months=[0,12,24,48]`` on a non-study card was silently replaced by
    quantile cuts."""
    overrides = ["model=piecewise", f"data={data}", f"model.cut_method={method}"]
    settings = parse_settings(_compose([*overrides, "model.cuts_months=[0,12,24,48]"]))
    assert settings.model.cuts.cuts_months == (0.0, 12.0, 24.0, 48.0)


def test_explicit_cut_points_with_quantile_cuts_are_refused():
    cfg = _compose(["model=piecewise", "model.cut_method=quantile", "model.cuts_months=[0,12]"])
    with pytest.raises(ConfigError) as info:
        parse_settings(cfg)
    message = str(info.value)
    assert "model.cuts_months=[0.0, 12.0] with model.cut_method=quantile" in message
    assert "drop one of the two" in message


def test_a_file_without_a_card_says_which_keys_to_give(tmp_path):
    """``data=csv data.path=...`` alone: the keys to give and the file's columns; a file in the
    study's format is sent to the study's card."""
    path = tmp_path / "cohort.csv"
    path.write_text("patient,days,status,age\np1,30,dead,50\n")
    with pytest.raises(ConfigError) as info:
        parse_settings(_compose(["data=csv", f"data.path={path}"]))
    text = str(info.value)
    assert text.startswith("the dataset card 'csv' says nothing about cohort.csv yet: give")
    assert "data.time_column=<column> data.time_unit=days data.event_column=<column>" in text
    assert "README, 'Your own cohort'" in text
    assert text.endswith("the file's columns: patient, days, status, age")
    study = tmp_path / "study.csv"
    study.write_text(bundled_file("bcsm_reconstructed.csv").read_text())
    with pytest.raises(ConfigError) as info:
        parse_settings(_compose(["data=csv", f"data.path={study}"]))
    assert str(info.value).endswith(f"use the study's card, data=bcsm data.path={study}")


def test_reproduce_on_another_card_takes_its_covariates():
    """Issue 26: ``reproduce data=gbsg2`` takes the card's own covariate set, not the study's
    candidate factors (``covariates/reproduce_<card>.yaml``); a card without one takes
    ``covariates.names`` from the command line."""
    register_configs()
    with initialize_config_module(config_module=CONF_PACKAGE, version_base="1.3"):
        gbsg2 = compose(config_name="reproduce", overrides=["data=gbsg2"])
        csv = compose(config_name="reproduce", overrides=["data=csv", "data.path=x.csv"])
        study = compose(config_name="reproduce")
    assert list(gbsg2.covariates.names) == [
        "horTh",
        "age",
        "menostat",
        "tsize",
        "tgrade",
        "pnodes",
        "progrec",
        "estrec",
    ]
    assert list(csv.covariates.names) == []
    assert len(study.covariates.names) == 17 and study.covariates.mode.value == "univariate"


def test_the_study_covariates_on_another_card_point_to_its_experiments():
    """An experiment written for the study (its Table 3 set) on data=gbsg2."""
    cfg = _compose(["data=gbsg2", "experiment=simulation_study"])
    with pytest.raises(ConfigError) as info:
        parse_settings(cfg)
    assert str(info.value).endswith(
        "These are the study's covariates (an experiment for data=bcsm, e.g. its Table 3 set); for "
        "data=gbsg2 use experiment=gbsg2_bayes_vs_cox, experiment=gbsg2_prognosis, "
        "experiment=gbsg2_reproduction, covariates=gbsg2 or covariates.names=[...] from the "
        "valid covariates above"
    )
    cfg = _compose(["experiment=gbsg2_reproduction", "reproduce.groups=[foo]"])
    with pytest.raises(ConfigError, match=re.escape("['foo'] not covariates of the dataset card")):
        parse_settings(cfg)


def test_a_card_range_with_minimum_above_maximum_names_the_keys():
    cfg = _compose(
        ["data=gbsg2", "data.covariates.age.minimum=100", "data.covariates.age.maximum=18"]
    )
    with pytest.raises(ConfigError) as info:
        parse_settings(cfg)
    assert str(info.value).startswith(
        "data.covariates.age.minimum=100.0 is above data.covariates.age.maximum=18.0: the card's "
        "range of allowed values is empty"
    )
