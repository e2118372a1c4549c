"""The base class of every error a user can cause.

A bad configuration value (:class:`bayes_bcsm.config.ConfigError`), a cohort file that breaks the
data contract (:class:`bayes_bcsm.data.io.CohortValidationError`) or a covariate request that
cannot become a design (:class:`bayes_bcsm.data.design.DesignError`) derive from
:class:`BayesBcsmUserError`. The command-line entry (``python -m bayes_bcsm``, ``bayes-bcsm``,
``experiments/*.py``) prints such an error's message alone on stderr and exits non-zero; the
traceback is shown only with ``HYDRA_FULL_ERROR=1``. Any other exception is a bug and keeps its
traceback.
"""

from __future__ import annotations

__all__ = ["BayesBcsmUserError", "SettingError"]


class BayesBcsmUserError(Exception):
    """An error caused by the user's input (config, override, data file), not by the code.

    Its message alone must tell the user what to fix: the key, file, row or column, the value
    found and what was expected.
    """


class SettingError(BayesBcsmUserError, ValueError):
    """A setting outside the range its one rule allows (the library's settings dataclasses).

    The rule lives with the setting, so a config layer that builds the dataclass reports the same
    refusal under its own key names: it reads :attr:`fields` and :attr:`reason`.

    Attributes
    ----------
    reason : str
        What was expected, e.g. ``"expected a positive integer"``.
    fields : tuple of str
        The dataclass fields at fault.
    """

    def __init__(self, reason: str, fields: tuple[str, ...] = (), values: tuple = ()):
        self.reason = reason
        self.fields = fields
        shown = [f"{f}={v!r}" for f, v in zip(fields, values, strict=True)] if values else fields
        super().__init__(f"{', '.join(shown)}: {reason}" if fields else reason)
