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

__all__ = ["BayesBcsmUserError"]


class BayesBcsmUserError(Exception):
    """An error caused by the user's input (config, override, data file), not by the code.

    Its message alone must tell the user what to fix: the key, file, row or column, the value
    found and what was expected.
    """
