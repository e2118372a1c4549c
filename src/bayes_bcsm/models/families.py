"""The model-family registry: one entry per family instead of string if-chains.

Each :class:`SurvivalFamily` names the family's model builder and its numpy side: how to read
the baseline parameters from a posterior (or prior) draw set, the cumulative hazard, the
median survival time, the restricted mean survival time (RMST) and an event-time sampler. Prediction
(:mod:`bayes_bcsm.inference.predictive`), the runs and the simulation study look a family up
with :func:`model_family` and call these, so adding a family is one entry here.

The numpy formulas are the ones the models are built from: the Weibull cumulative hazard is
:func:`~bayes_bcsm.models.likelihood.weibull_cumulative_hazard` with ``xp=numpy``, the
piecewise one integrates the baseline over :func:`~bayes_bcsm.models.likelihood.exposure_matrix`,
and event times are drawn by inverting the cumulative hazard
(:mod:`bayes_bcsm.models.simulate`).

- Weibull / exponential: ``S(t | x) = exp(-lambda (t / s)^alpha e^eta)``, median
  ``s (log 2 / (lambda e^eta))^(1 / alpha)``, RMST
  ``(s / alpha) L^(-1/alpha) Gamma(1/alpha) P(1/alpha, L (tau / s)^alpha)`` with
  ``L = lambda e^eta`` and ``P`` the regularised lower incomplete gamma function;
- piecewise exponential: ``S(t | x) = exp(-e^eta H0(t))`` with ``H0`` piecewise linear,
  median by inverting ``H0`` exactly, RMST the exact sum over intervals of
  ``S(start_k) (1 - exp(-h_k w_k)) / h_k`` (``h_k`` the hazard, ``w_k`` the width of the
  interval's part below ``tau``).

References
----------
Royston P, Parmar MKB (2013). Restricted mean survival time: an alternative to the hazard ratio
for the design and analysis of randomized trials with a time-to-event outcome. BMC Med Res
Methodol 13:152 (closed forms of parametric RMST).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from scipy import special

from bayes_bcsm.models.base import SurvivalModel
from bayes_bcsm.models.likelihood import exposure_matrix, weibull_cumulative_hazard
from bayes_bcsm.models.piecewise import piecewise_model
from bayes_bcsm.models.simulate import (
    piecewise_inverse_cumulative_hazard,
    piecewise_times,
    weibull_times,
)
from bayes_bcsm.models.weibull import exponential_model, weibull_model

__all__ = ["FAMILIES", "SurvivalFamily", "UnknownFamilyError", "model_family"]

#: Baseline parameters of one family as arrays with leading ``(chain, draw)`` dims.
Baseline = Mapping[str, np.ndarray]


class UnknownFamilyError(ValueError):
    """A model family name that is not in the registry (the message lists the valid ones)."""


@dataclass(frozen=True)
class SurvivalFamily:
    """One survival model family: its builder and its numpy hazards.

    Attributes
    ----------
    name : str
        The family's name (``SurvivalModel.family``).
    build : callable
        ``build(design, prior=..., **options) -> SurvivalModel``.
    options : tuple of str
        Keyword options ``build`` takes besides ``design`` and ``prior`` (e.g. the piecewise
        cut points); see :meth:`select_options`.
    baseline : callable
        ``baseline(posterior) -> {name: array}``: the baseline parameters of a posterior (or
        prior) dataset, leading dims ``(chain, draw)``.
    cumulative_hazard : callable
        ``cumulative_hazard(model, baseline, eta, times) -> H``: ``eta`` of shape
        ``(chain, draw, m)``, ``times`` (months) of shape ``(T,)``, ``H`` of shape
        ``(chain, draw, m, T)``.
    median : callable
        ``median(model, baseline, eta) -> t``: median survival (months), shape of ``eta``.
    sample_times : callable
        ``sample_times(rng, model, baseline, eta) -> t``: event times (months) drawn by
        inversion, one per entry of ``eta`` (shape ``(chain, draw, m)``).
    rmst : callable
        ``rmst(model, baseline, eta, tau) -> r``: restricted mean survival time up to ``tau``
        months, the area under ``S(t | x)`` on ``[0, tau]`` in closed form (months), shape of
        ``eta``.
    """

    name: str
    build: Callable[..., SurvivalModel]
    options: tuple[str, ...]
    baseline: Callable[[Any], dict[str, np.ndarray]]
    cumulative_hazard: Callable[[SurvivalModel, Baseline, np.ndarray, np.ndarray], np.ndarray]
    median: Callable[[SurvivalModel, Baseline, np.ndarray], np.ndarray]
    sample_times: Callable[[np.random.Generator, SurvivalModel, Baseline, np.ndarray], np.ndarray]
    rmst: Callable[[SurvivalModel, Baseline, np.ndarray, float], np.ndarray]

    def select_options(self, available: Mapping[str, Any]) -> dict[str, Any]:
        """The entries of ``available`` this family's builder takes (the others are dropped).

        Lets a caller that holds the settings of every family (piecewise cut points, baseline
        prior, ...) build any of them without asking which family it is.
        """
        return {k: v for k, v in available.items() if k in self.options}


# ------------------------------------------------------------------------ Weibull type
def _weibull_baseline(post: Any) -> dict[str, np.ndarray]:
    return {"log_alpha": post["log_alpha"].values, "log_lambda": post["log_lambda"].values}


def _weibull_aft_baseline(post: Any) -> dict[str, np.ndarray]:
    return {"log_alpha": post["log_alpha"].values, "log_lambda": post["log_lambda_ph"].values}


def _exponential_baseline(post: Any) -> dict[str, np.ndarray]:
    return {
        "log_alpha": np.zeros_like(post["log_lambda"].values),
        "log_lambda": post["log_lambda"].values,
    }


def _weibull_cumulative_hazard(
    sm: SurvivalModel, base: Baseline, eta: np.ndarray, times: np.ndarray
) -> np.ndarray:
    la, ll = base["log_alpha"][..., None, None], base["log_lambda"][..., None, None]
    times = np.asarray(times, dtype=float)
    return weibull_cumulative_hazard(
        times, la, ll, eta[..., None], sm.baseline.time_scale_months, xp=np
    )


def _weibull_median(sm: SurvivalModel, base: Baseline, eta: np.ndarray) -> np.ndarray:
    s = sm.baseline.time_scale_months
    la, ll = base["log_alpha"][..., None], base["log_lambda"][..., None]
    return s * np.exp((np.log(np.log(2.0)) - ll - eta) / np.exp(la))


def _weibull_sample(
    rng: np.random.Generator, sm: SurvivalModel, base: Baseline, eta: np.ndarray
) -> np.ndarray:
    return weibull_times(
        rng,
        base["log_alpha"][..., None],
        base["log_lambda"][..., None],
        eta,
        sm.baseline.time_scale_months,
    )


def _weibull_rmst(sm: SurvivalModel, base: Baseline, eta: np.ndarray, tau: float) -> np.ndarray:
    s = sm.baseline.time_scale_months
    alpha = np.exp(base["log_alpha"][..., None])
    log_rate = base["log_lambda"][..., None] + eta  # log L = log(lambda e^eta)
    a = 1.0 / alpha
    x = np.exp(log_rate + alpha * np.log(tau / s))  # L (tau / s)^alpha
    # (s / alpha) L^(-1/alpha) Gamma(1/alpha), in logs so a small alpha does not overflow
    log_front = np.log(s) - np.log(alpha) - a * log_rate + special.gammaln(a)
    return np.exp(log_front) * special.gammainc(a, x)


# ------------------------------------------------------------------------ piecewise
def _piecewise_baseline(post: Any) -> dict[str, np.ndarray]:
    return {"log_rate": post["log_rate"].transpose("chain", "draw", "interval").values}


def _piecewise_cumulative_hazard(
    sm: SurvivalModel, base: Baseline, eta: np.ndarray, times: np.ndarray
) -> np.ndarray:
    times = np.asarray(times, dtype=float)
    expo = exposure_matrix(times, sm.cuts_months) / sm.baseline.time_scale_months  # (T, K)
    h0 = np.exp(base["log_rate"]) @ expo.T  # (c, d, T)
    return np.exp(eta)[..., None] * h0[:, :, None, :]


def _piecewise_median(sm: SurvivalModel, base: Baseline, eta: np.ndarray) -> np.ndarray:
    target = np.log(2.0) * np.exp(-eta)  # (c, d, m)
    return piecewise_inverse_cumulative_hazard(
        target, base["log_rate"], sm.cuts_months, sm.baseline.time_scale_months
    )


def _piecewise_sample(
    rng: np.random.Generator, sm: SurvivalModel, base: Baseline, eta: np.ndarray
) -> np.ndarray:
    return piecewise_times(
        rng, base["log_rate"], sm.cuts_months, eta, sm.baseline.time_scale_months
    )


def _piecewise_rmst(sm: SurvivalModel, base: Baseline, eta: np.ndarray, tau: float) -> np.ndarray:
    width = exposure_matrix(np.array([float(tau)]), sm.cuts_months)[0]  # (K,) months below tau
    hazard = np.exp(base["log_rate"][..., None, :] + eta[..., None]) / sm.baseline.time_scale_months
    x = hazard * width  # hazard accumulated in each interval's part below tau
    at_start = np.exp(-(np.cumsum(x, axis=-1) - x))  # S at each interval's start
    safe = np.where(x > 0, x, 1.0)
    mean_fraction = np.where(x > 0, -np.expm1(-x) / safe, 1.0)  # (1 - e^-x) / x, 1 at x = 0
    return np.sum(at_start * mean_fraction * width, axis=-1)


# ------------------------------------------------------------------------ the registry
def _weibull_type(
    name: str, build: Callable[..., SurvivalModel], baseline: Callable[[Any], dict]
) -> SurvivalFamily:
    return SurvivalFamily(
        name=name,
        build=build,
        options=(),
        baseline=baseline,
        cumulative_hazard=_weibull_cumulative_hazard,
        median=_weibull_median,
        sample_times=_weibull_sample,
        rmst=_weibull_rmst,
    )


#: Every model family by name.
FAMILIES: Mapping[str, SurvivalFamily] = {
    "weibull": _weibull_type("weibull", weibull_model, _weibull_baseline),
    "weibull_aft": _weibull_type(
        "weibull_aft", partial(weibull_model, parametrisation="aft"), _weibull_aft_baseline
    ),
    "exponential": _weibull_type("exponential", exponential_model, _exponential_baseline),
    "piecewise": SurvivalFamily(
        name="piecewise",
        build=piecewise_model,
        options=("cuts", "baseline_prior"),
        baseline=_piecewise_baseline,
        cumulative_hazard=_piecewise_cumulative_hazard,
        median=_piecewise_median,
        sample_times=_piecewise_sample,
        rmst=_piecewise_rmst,
    ),
}


def model_family(name: str) -> SurvivalFamily:
    """The registry entry of family ``name``.

    Raises
    ------
    UnknownFamilyError
        For a name not in :data:`FAMILIES` (the message lists the valid ones).
    """
    try:
        return FAMILIES[name]
    except KeyError:
        raise UnknownFamilyError(
            f"model family {name!r} is unknown; valid: {', '.join(sorted(FAMILIES))}"
        ) from None
