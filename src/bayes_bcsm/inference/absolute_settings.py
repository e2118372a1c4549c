"""What a run's absolute effects (standardised survival, RMST) are asked for, with the range rules.

No PyMC, PyTensor or ArviZ here: the configuration is checked against these rules before the
modelling stack loads. The follow-up guard (:meth:`AbsoluteSettings.resolve`) needs the analysed
rows' last follow-up, so it runs once the cohort is loaded, still before any fit.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from bayes_bcsm.data.follow_up import default_horizons_months
from bayes_bcsm.data.profiles import Profiles
from bayes_bcsm.errors import BayesBcsmUserError, SettingError

__all__ = ["AbsoluteSettings", "ExtrapolationError", "PredictSettings", "ResolvedTimes"]


class ExtrapolationError(BayesBcsmUserError, ValueError):
    """An RMST truncation time or a horizon beyond the last follow-up without
    ``absolute.extrapolate=true``."""


@dataclass(frozen=True)
class ResolvedTimes:
    """The times of a run's absolute effects, once the follow-up is known.

    Attributes
    ----------
    tau_months : float
        RMST truncation time (months).
    horizons_months : tuple of float
        Milestones of the survival rows (months), increasing.
    last_follow_up_months : float
        Longest follow-up of the analysed rows (months).
    """

    tau_months: float
    horizons_months: tuple[float, ...]
    last_follow_up_months: float

    def model_dependent(self, time_months: float) -> bool:
        """Whether a figure at ``time_months`` lies beyond the follow-up (the model's tail
        alone gives it)."""
        return time_months > self.last_follow_up_months


@dataclass(frozen=True)
class AbsoluteSettings:
    """Standardised survival and RMST of an exposure (``absolute.*``).

    Attributes
    ----------
    exposure : str or None
        A binary or categorical covariate of ``covariates.names``; None: no absolute effects.
    tau_months : float or None
        RMST truncation time (months, > 0); None: the last of the default horizons within the
        follow-up (:func:`~bayes_bcsm.data.follow_up.default_horizons_months`).
    horizons_months : tuple of float or None
        Milestones of the survival differences (months, positive, increasing); None: the
        default horizons within the follow-up.
    mcid_months : float
        Clinically meaningful RMST difference (months, >= 0): reports give
        P(difference > mcid_months).
    extrapolate : bool
        Allow ``tau_months`` or a horizon beyond the last follow-up; such figures are then
        labelled model-dependent.
    """

    exposure: str | None = None
    tau_months: float | None = None
    horizons_months: tuple[float, ...] | None = None
    mcid_months: float = 1.0
    extrapolate: bool = False

    def __post_init__(self) -> None:
        tau = self.tau_months
        if tau is not None and not (math.isfinite(tau) and tau > 0):
            raise SettingError("expected a positive time (months)", ("tau_months",), (tau,))
        horizons = self.horizons_months
        if horizons is not None and not (
            len(horizons) > 0
            and all(math.isfinite(t) and t > 0 for t in horizons)
            and all(a < b for a, b in itertools.pairwise(horizons))
        ):
            raise SettingError(
                "expected a non-empty list of positive, increasing times (months)",
                ("horizons_months",),
                (list(horizons),),
            )
        if not (math.isfinite(self.mcid_months) and self.mcid_months >= 0):
            raise SettingError(
                "expected a difference >= 0 (months)", ("mcid_months",), (self.mcid_months,)
            )

    def resolve(self, last_follow_up_months: float, section: str = "absolute") -> ResolvedTimes:
        """The truncation time and horizons for a cohort followed up to
        ``last_follow_up_months``.

        Parameters
        ----------
        last_follow_up_months : float
        section : str
            The config section these settings came from (``absolute`` or ``predict``), for
            the refusal.

        Raises
        ------
        ExtrapolationError
            When ``tau_months`` or a horizon lies beyond the last follow-up and
            ``extrapolate`` is false, naming ``<section>.extrapolate``.
        """
        last = float(last_follow_up_months)
        defaults = default_horizons_months(last)
        tau = self.tau_months if self.tau_months is not None else defaults[-1]
        horizons = self.horizons_months if self.horizons_months is not None else defaults
        beyond = [(f"{section}.tau_months", tau)] if tau > last else []
        beyond += [(f"{section}.horizons_months", t) for t in horizons if t > last]
        if beyond and not self.extrapolate:
            named = ", ".join(f"{key} {t:g}" for key, t in beyond)
            raise ExtrapolationError(
                f"{named} lie(s) beyond the last follow-up ({last:.4g} months): only the model's "
                f"tail would give those figures; set {section}.extrapolate=true to report them "
                "labelled model-dependent, or choose times within the follow-up"
            )
        return ResolvedTimes(float(tau), tuple(float(t) for t in horizons), last)


@dataclass(frozen=True)
class PredictSettings:
    """What ``bayes-bcsm predict`` predicts and from which posterior (``predict.*``).

    Attributes
    ----------
    run_dir : Path or None
        A saved run folder with ``posterior.nc`` and ``resolved_config.yaml``; None: fit first.
    profiles : Profiles
        The profiles as given (checked against the model by
        :func:`bayes_bcsm.data.profiles.check_profile_covariates` and
        :func:`~bayes_bcsm.data.profiles.design_profiles`).
    times : AbsoluteSettings
        ``predict.tau_months``, ``predict.horizons_months``, ``predict.extrapolate`` (no
        exposure); a None time falls back to the model's own ``absolute`` setting
        (:meth:`times_for`).
    """

    run_dir: Path | None = None
    profiles: Profiles = field(default_factory=dict)
    times: AbsoluteSettings = field(default_factory=AbsoluteSettings)

    def times_for(self, model: AbsoluteSettings) -> AbsoluteSettings:
        """The times to predict at: this run's, each unset one taken from ``model`` (the
        predicted model's run: its card's defaults)."""
        own = self.times
        return replace(
            own,
            tau_months=model.tau_months if own.tau_months is None else own.tau_months,
            horizons_months=(
                model.horizons_months if own.horizons_months is None else own.horizons_months
            ),
        )
