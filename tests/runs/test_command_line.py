"""The command line before Hydra: a broken YAML in the user's config folder is named in one line;
a covariate added by a dotted override becomes the merge that works."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_module

from bayes_bcsm.config import ConfigError, register_configs
from bayes_bcsm.resources import CONF_PACKAGE
from bayes_bcsm.runs.command_line import check_config_dir, covariate_overrides

CARD_WITH_A_DUPLICATE = """\
name: mine
path: cohort.csv
covariates:
  age: {kind: continuous}
  therapy: {kind: binary, levels: [given, none], reference: none}
  age: {kind: continuous, hr_per: 10}
"""


def test_a_card_with_a_key_given_twice_is_named_with_file_line_and_key(tmp_path):
    card = tmp_path / "data" / "mine.yaml"
    card.parent.mkdir()
    card.write_text(CARD_WITH_A_DUPLICATE)
    with pytest.raises(ConfigError) as info:
        check_config_dir(tmp_path)
    assert str(info.value) == (
        f"{card}: line 6: the key 'age' is given twice in the same mapping (first at line 4); "
        "give each key once (e.g. one entry per covariate)"
    )


def test_broken_yaml_is_named_and_good_folders_pass(tmp_path):
    check_config_dir(None)
    (tmp_path / "good.yaml").write_text("name: mine\ncovariates: {age: {kind: continuous}}\n")
    check_config_dir(tmp_path)
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML: .*\(line 2, column 1\)"):
        check_config_dir(tmp_path)


@pytest.mark.parametrize(
    ("typed", "merge"),
    [
        ("+data.covariates.bmi={kind: continuous}", "++data.covariates={bmi: {kind:continuous}}"),
        ("++data.covariates.bmi={kind: continuous}", "++data.covariates={bmi: {kind:continuous}}"),
        ("+data.covariates.bmi.hr_per=5", "++data.covariates={bmi: {hr_per: 5}}"),
        ("+data.covariates.bmi.unit='kg/m2'", "++data.covariates={bmi: {unit: 'kg/m2'}}"),
    ],
)
def test_a_covariate_added_by_a_dotted_key_becomes_a_merge(typed, merge):
    assert covariate_overrides(["model=cox", typed]) == ["model=cox", merge]


def test_other_overrides_are_left_as_typed():
    typed = [
        "data.covariates.age.hr_per=5",  # changes an existing covariate: works as it is
        "data.covariates.age.hr_per=1,10",  # a sweep
        "~data.covariates.age",
        "+data.covariates.bmi.hr_per=1,10",  # a sweep, even with +
        "covariates.names=[age]",
        "data.path='unclosed",  # a syntax error: Hydra reports it
    ]
    assert covariate_overrides(typed) == typed


def test_the_merged_covariate_reaches_the_card():
    """Composed as Hydra will: the new covariate is in ``data.covariates`` with its values and
    the schema's defaults; the card's own covariates are kept."""
    overrides = covariate_overrides(
        ["data=gbsg2", "+data.covariates.bmi={kind: continuous}", "+data.covariates.bmi.hr_per=5"]
    )
    register_configs()
    with initialize_config_module(config_module=CONF_PACKAGE, version_base="1.3"):
        covariates = compose(config_name="config", overrides=overrides).data.covariates
    assert (covariates.bmi.kind, covariates.bmi.hr_per, covariates.bmi.unit) == (
        "continuous",
        5.0,
        None,
    )
    assert covariates.age.hr_per == 10
