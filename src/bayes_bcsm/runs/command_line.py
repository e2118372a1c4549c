"""What the command line is checked and eased for before Hydra composes a config from it.

Two mistakes Hydra reports as a traceback or as an internal type message:

- a YAML file in the user's ``--config-dir`` (a dataset card, an experiment) with a key given twice
  or broken YAML: Hydra's loader fails with a 100-line traceback; :func:`check_config_dir` names
  the file, the line and the key instead;
- a covariate added to a card by a dotted override (``+data.covariates.bmi={kind: continuous}`` or
  ``+data.covariates.bmi.kind=continuous``): OmegaConf cannot create a new typed entry from a plain
  value; :func:`covariate_overrides` rewrites such an override into the merge that works,
  ``++data.covariates={bmi: {kind: continuous}}``, which means the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import OverrideType
from hydra.errors import OverrideParseException

from bayes_bcsm.config import ConfigError

COVARIATES_KEY = "data.covariates"
"""The card section whose new entries a dotted override cannot create."""


def _duplicates(node: yaml.Node) -> Iterator[tuple[str, int, int]]:
    """(key, first line, repeated line) for every key given twice in one mapping."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    yield key.value, seen[key.value], line
                seen.setdefault(key.value, line)
            yield from _duplicates(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicates(item)


def check_config_dir(folder: str | Path | None) -> None:
    """Refuse a YAML file of the user's config folder that Hydra would fail to load.

    Every ``*.yaml`` under the folder is checked, also one this run would not read: the folder
    is the user's, and a broken card there is better named now than when it is first used.

    Parameters
    ----------
    folder : str, Path or None
        The ``--config-dir`` given on the command line (nothing is checked when None).

    Raises
    ------
    ConfigError
        One line naming the file, the line and the key given twice, or the YAML syntax error.
    """
    if folder is None:
        return
    for path in sorted(Path(folder).expanduser().rglob("*.yaml")):
        try:
            node = yaml.compose(path.read_text(encoding="utf-8"))
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise ConfigError(f"{path}: not valid YAML: {error.problem}{where}") from error
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise ConfigError(f"{path}: cannot be read as a YAML config ({error})") from error
        for key, first, again in _duplicates(node) if node is not None else ():
            raise ConfigError(
                f"{path}: line {again}: the key {key!r} is given twice in the same mapping (first "
                f"at line {first}); give each key once (e.g. one entry per covariate)"
            )


def covariate_overrides(overrides: Sequence[str]) -> list[str]:
    """Rewrite overrides that add to ``data.covariates`` by a dotted key into merges.

    ``+data.covariates.bmi={kind: continuous}``, ``++data.covariates.bmi=...`` and
    ``+data.covariates.bmi.hr_per=5`` become ``++data.covariates={bmi: {...}}``: the same values,
    merged into the card's covariates (a new covariate is created, an existing one updated).
    Overrides without ``+`` (which change an existing covariate and work as they are), sweeps and
    deletions are left alone.

    Parameters
    ----------
    overrides : sequence of str
        Hydra overrides as typed.

    Returns
    -------
    list of str
        The overrides, rewritten where needed.
    """
    try:
        parsed = OverridesParser.create().parse_overrides(overrides=list(overrides))
    except OverrideParseException:  # Hydra reports it, with its own message
        return list(overrides)
    rewritten = []
    for text, override in zip(overrides, parsed, strict=True):
        key = override.key_or_group
        if (
            override.type in (OverrideType.ADD, OverrideType.FORCE_ADD)
            and key.startswith(f"{COVARIATES_KEY}.")
            and override.package is None
            and not override.is_sweep_override()
        ):
            value = override.get_value_element_as_str()
            for part in reversed(key.removeprefix(f"{COVARIATES_KEY}.").split(".")):
                value = f"{{{part}: {value}}}"
            text = f"++{COVARIATES_KEY}={value}"
        rewritten.append(text)
    return rewritten
