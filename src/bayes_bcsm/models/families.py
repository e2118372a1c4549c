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
  interval's part below ``tau``);
- Gompertz: ``H0(t) = lambda (t / s) (e^(shape t / s) - 1) / (shape t / s)``, median and times by
  its closed-form inverse (:mod:`bayes_bcsm.models.gompertz`);
- M-spline: ``H0(t) = exp(log_scale) I(t) @ w``, median and times by inverting ``H0``
  numerically (safeguarded Newton from a grid; :mod:`bayes_bcsm.models.mspline`);
- log-normal and log-logistic AFT: ``eta`` is ``x @ gamma``, the log time ratio, and
  ``S(t | x) = S_W((log t - mu - eta) / sigma)`` (:mod:`bayes_bcsm.models.aft`).

Every family has a restricted mean survival time ``rmst``: closed forms where they exist
(Weibull, exponential, piecewise, log-normal, log-logistic), otherwise (Gompertz, M-spline)
Gauss-Legendre quadrature of ``exp(-H)`` on panels split at the family's knots, exact to
rounding for the smooth pieces in between.

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

from bayes_bcsm.models.aft import (
    aft_cumulative_hazard,
    aft_median,
    aft_rmst,
    aft_times,
    loglogistic_model,
    lognormal_model,
)
from bayes_bcsm.models.base import SurvivalModel
from bayes_bcsm.models.gompertz import (
    gompertz_cumulative_hazard,
    gompertz_inverse_cumulative_hazard,
    gompertz_model,
)
from bayes_bcsm.models.likelihood import exposure_matrix, weibull_cumulative_hazard
from bayes_bcsm.models.mspline import mspline_model
from bayes_bcsm.models.piecewise import piecewise_model
from bayes_bcsm.models.simulate import (
    piecewise_inverse_cumulative_hazard,
    piecewise_times,
    weibull_times,
)
from bayes_bcsm.models.splines import SplineBasis
from bayes_bcsm.models.weibull import exponential_model, weibull_model

__all__ = [
    "FAMILIES",
    "SurvivalFamily",
    "UnknownFamilyError",
    "model_family",
    "quadrature_rmst",
]

#: Baseline parameters of one family as arrays with leading ``(chain, draw)`` dims.
Baseline = Mapping[str, np.ndarray]


class UnknownFamilyError(ValueError):
    """A model family name that is not in the registry (the message lists the valid ones)."""


#: Gauss-Legendre nodes per quadrature panel of :func:`quadrature_rmst`.
_GAUSS_NODES = 32
#: Equal panels of :func:`quadrature_rmst` on ``[0, tau]`` (cut points and knots add more).
_PANELS = 8


def quadrature_rmst(sm: SurvivalModel, base: Baseline, eta: np.ndarray, tau: float) -> np.ndarray:
    """``int_0^tau exp(-H(t | x)) dt`` (months) by Gauss-Legendre quadrature.

    ``[0, tau]`` is split into :data:`_PANELS` equal panels and further at the model's
    piecewise cut points and spline knots (where ``H`` is only piecewise smooth); each panel
    gets :data:`_GAUSS_NODES` nodes, exact for polynomials of degree 63.

    Parameters
    ----------
    sm : SurvivalModel
    base : mapping
        Baseline draws (leading dims ``(chain, draw)``).
    eta : ndarray, shape (chain, draw, m)
        Linear predictors.
    tau : float
        Horizon, months (> 0).

    Returns
    -------
    ndarray, shape (chain, draw, m)
    """
    inner = [c for c in (*sm.cuts_months, *sm.knots_months) if 0.0 < c < tau]
    edges = np.unique(np.concatenate([np.linspace(0.0, tau, _PANELS + 1), inner]))
    x, w = np.polynomial.legendre.leggauss(_GAUSS_NODES)
    half = np.diff(edges)[:, None] / 2.0
    nodes = (edges[:-1, None] + half * (x[None, :] + 1.0)).ravel()
    weights = (half * w[None, :]).ravel()
    surv = np.exp(-model_family(sm.family).cumulative_hazard(sm, base, eta, nodes))
    return surv @ weights


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
        months, the area under ``S(t | x)`` on ``[0, tau]`` (months), shape of ``eta``: in
        closed form where one exists, else :func:`quadrature_rmst`.
    coefficient : str
        Posterior variable of the covariate effects (dims ``covariate``): ``"beta"`` (log
        hazard ratios) or ``"gamma"`` (log time ratios); ``eta`` above is the design row times
        it.
    effect : {"hazard ratio", "time ratio"}
        What ``exp(coefficient)`` is, in the words reports use: a time ratio for an
        accelerated-failure-time family (its hazards are not proportional, so it has no
        hazard ratio).
    """

    name: str
    build: Callable[..., SurvivalModel]
    options: tuple[str, ...]
    baseline: Callable[[Any], dict[str, np.ndarray]]
    cumulative_hazard: Callable[[SurvivalModel, Baseline, np.ndarray, np.ndarray], np.ndarray]
    median: Callable[[SurvivalModel, Baseline, np.ndarray], np.ndarray]
    sample_times: Callable[[np.random.Generator, SurvivalModel, Baseline, np.ndarray], np.ndarray]
    rmst: Callable[[SurvivalModel, Baseline, np.ndarray, float], np.ndarray]
    coefficient: str = "beta"
    effect: str = "hazard ratio"

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
    # one interval at a time: arrays of eta's shape, not eta's shape x intervals
    width = exposure_matrix(np.array([float(tau)]), sm.cuts_months)[0]  # (K,) months below tau
    log_rate = base["log_rate"][..., None, :]
    cumulative = np.zeros(np.broadcast_shapes(log_rate.shape[:-1], eta.shape))
    rmst = np.zeros_like(cumulative)
    for k, months in enumerate(width):
        hazard = np.exp(log_rate[..., k] + eta) / sm.baseline.time_scale_months
        x = hazard * months  # hazard accumulated in the interval's part below tau
        at_start = np.exp(-cumulative)  # S at the interval's start
        safe = np.where(x > 0, x, 1.0)
        mean_fraction = np.where(x > 0, -np.expm1(-x) / safe, 1.0)  # (1 - e^-x) / x, 1 at 0
        rmst += at_start * mean_fraction * months
        cumulative += x
    return rmst


# ------------------------------------------------------------------------ Gompertz
def _gompertz_baseline(post: Any) -> dict[str, np.ndarray]:
    return {"log_lambda": post["log_lambda"].values, "shape": post["shape"].values}


def _gompertz_cumulative_hazard(
    sm: SurvivalModel, base: Baseline, eta: np.ndarray, times: np.ndarray
) -> np.ndarray:
    ll, shape = base["log_lambda"][..., None, None], base["shape"][..., None, None]
    times = np.asarray(times, dtype=float)
    return gompertz_cumulative_hazard(
        times, ll, shape, eta[..., None], sm.baseline.time_scale_months, xp=np
    )


def _gompertz_at(
    sm: SurvivalModel, base: Baseline, eta: np.ndarray, cumulative: np.ndarray
) -> np.ndarray:
    """The time at which ``H(t | x)`` reaches ``cumulative`` (inf if it never does)."""
    return gompertz_inverse_cumulative_hazard(
        cumulative * np.exp(-eta),
        base["log_lambda"][..., None],
        base["shape"][..., None],
        sm.baseline.time_scale_months,
    )


def _gompertz_median(sm: SurvivalModel, base: Baseline, eta: np.ndarray) -> np.ndarray:
    return _gompertz_at(sm, base, eta, np.full(np.shape(eta), np.log(2.0)))


def _gompertz_sample(
    rng: np.random.Generator, sm: SurvivalModel, base: Baseline, eta: np.ndarray
) -> np.ndarray:
    return _gompertz_at(sm, base, eta, rng.exponential(size=np.shape(eta)))


# ------------------------------------------------------------------------ M-spline
#: Grid points on ``[0, upper knot]`` that start the numerical inversion of ``H0``.
_INVERSION_GRID = 513
#: Most safeguarded Newton steps after the grid (a step leaving the bracket bisects it, so
#: convergence is at worst linear); they stop once ``I(t) @ w`` matches to rounding.
_NEWTON_STEPS = 64
#: Relative tolerance on ``H0(t) / scale`` at which the inversion stops.
_INVERSION_RTOL = 1e-14


def _mspline_baseline(post: Any) -> dict[str, np.ndarray]:
    return {
        "log_scale": post["log_scale"].values,
        "weights": post["spline_weights"].transpose("chain", "draw", "basis").values,
    }


def _mspline_cumulative_hazard(
    sm: SurvivalModel, base: Baseline, eta: np.ndarray, times: np.ndarray
) -> np.ndarray:
    ib = SplineBasis(sm.knots_months).i_basis(np.asarray(times, dtype=float))  # (T, J)
    h0 = np.exp(base["log_scale"])[..., None] * (base["weights"] @ ib.T)  # (c, d, T)
    return np.exp(eta)[..., None] * h0[:, :, None, :]


def _mspline_at(
    sm: SurvivalModel, base: Baseline, eta: np.ndarray, cumulative: np.ndarray
) -> np.ndarray:
    """Solve ``H(t | x) = cumulative``: bracket on a grid of ``H0`` per draw, then Newton
    steps kept inside the bracket; beyond the upper knot ``H0`` is linear (exact)."""
    basis = SplineBasis(sm.knots_months)
    w, scale = base["weights"], np.exp(base["log_scale"])  # (c, d, J), (c, d)
    target = cumulative * np.exp(-eta) / scale[..., None]  # H0 / scale, (c, d, m)
    grid = np.linspace(0.0, basis.upper, _INVERSION_GRID)
    on_grid = w @ basis.i_basis(grid).T  # (c, d, G), rising from 0 to 1
    flat_grid = on_grid.reshape(-1, len(grid))
    flat_target = target.reshape(len(flat_grid), -1)
    k = np.stack(
        [np.searchsorted(g, t) for g, t in zip(flat_grid, flat_target, strict=True)]
    ).reshape(target.shape)
    k = np.clip(k, 1, len(grid) - 1)
    lo, hi = grid[k - 1], grid[k]
    t = (lo + hi) / 2.0
    for _ in range(_NEWTON_STEPS):
        value = np.einsum("cdmj,cdj->cdm", basis.i_basis(t), w) - target
        if np.all(np.abs(value) <= _INVERSION_RTOL * np.maximum(target, 1.0)):
            break
        slope = np.einsum("cdmj,cdj->cdm", basis.m_basis(t), w)
        lo, hi = np.where(value < 0, t, lo), np.where(value < 0, hi, t)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = t - value / slope
        t = np.where((step > lo) & (step < hi), step, (lo + hi) / 2.0)
    end_slope = w @ basis.m_basis(np.array([basis.upper]))[0]  # (c, d)
    beyond = basis.upper + (target - 1.0) / end_slope[..., None]
    return np.where(target > 1.0, beyond, t)


def _mspline_median(sm: SurvivalModel, base: Baseline, eta: np.ndarray) -> np.ndarray:
    return _mspline_at(sm, base, eta, np.full(np.shape(eta), np.log(2.0)))


def _mspline_sample(
    rng: np.random.Generator, sm: SurvivalModel, base: Baseline, eta: np.ndarray
) -> np.ndarray:
    return _mspline_at(sm, base, eta, rng.exponential(size=np.shape(eta)))


# ------------------------------------------------------------------------ log-normal, log-logistic
def _aft_baseline(post: Any) -> dict[str, np.ndarray]:
    return {"mu": post["mu"].values, "log_sigma": post["log_sigma"].values}


def _aft_family(name: str, error: str, build: Callable[..., SurvivalModel]) -> SurvivalFamily:
    def cumulative_hazard(
        sm: SurvivalModel, base: Baseline, eta: np.ndarray, times: np.ndarray
    ) -> np.ndarray:
        mu, ls = base["mu"][..., None, None], base["log_sigma"][..., None, None]
        return aft_cumulative_hazard(
            error, np.asarray(times, dtype=float), mu, ls, eta[..., None], xp=np
        )

    def median(sm: SurvivalModel, base: Baseline, eta: np.ndarray) -> np.ndarray:
        return aft_median(base["mu"][..., None], eta)

    def sample_times(
        rng: np.random.Generator, sm: SurvivalModel, base: Baseline, eta: np.ndarray
    ) -> np.ndarray:
        return aft_times(rng, error, base["mu"][..., None], base["log_sigma"][..., None], eta)

    def rmst(sm: SurvivalModel, base: Baseline, eta: np.ndarray, tau: float) -> np.ndarray:
        return aft_rmst(error, base["mu"][..., None], base["log_sigma"][..., None], eta, tau)

    return SurvivalFamily(
        name=name,
        build=build,
        options=(),
        baseline=_aft_baseline,
        cumulative_hazard=cumulative_hazard,
        median=median,
        sample_times=sample_times,
        rmst=rmst,
        coefficient="gamma",
        effect="time ratio",
    )


# ------------------------------------------------------------------------ the registry
def _weibull_type(
    name: str,
    build: Callable[..., SurvivalModel],
    baseline: Callable[[Any], dict],
    options: tuple[str, ...] = (),
) -> SurvivalFamily:
    return SurvivalFamily(
        name=name,
        build=build,
        options=options,
        baseline=baseline,
        cumulative_hazard=_weibull_cumulative_hazard,
        median=_weibull_median,
        sample_times=_weibull_sample,
        rmst=_weibull_rmst,
    )


#: Every model family by name.
FAMILIES: Mapping[str, SurvivalFamily] = {
    "weibull": _weibull_type("weibull", weibull_model, _weibull_baseline, ("collapse",)),
    "weibull_aft": _weibull_type(
        "weibull_aft", partial(weibull_model, parametrisation="aft"), _weibull_aft_baseline
    ),
    "exponential": _weibull_type(
        "exponential", exponential_model, _exponential_baseline, ("collapse",)
    ),
    "piecewise": SurvivalFamily(
        name="piecewise",
        build=piecewise_model,
        options=("cuts", "baseline_prior", "collapse"),
        baseline=_piecewise_baseline,
        cumulative_hazard=_piecewise_cumulative_hazard,
        median=_piecewise_median,
        sample_times=_piecewise_sample,
        rmst=_piecewise_rmst,
    ),
    "gompertz": SurvivalFamily(
        name="gompertz",
        build=gompertz_model,
        options=(),
        baseline=_gompertz_baseline,
        cumulative_hazard=_gompertz_cumulative_hazard,
        median=_gompertz_median,
        sample_times=_gompertz_sample,
        rmst=quadrature_rmst,
    ),
    "mspline": SurvivalFamily(
        name="mspline",
        build=mspline_model,
        options=("df",),
        baseline=_mspline_baseline,
        cumulative_hazard=_mspline_cumulative_hazard,
        median=_mspline_median,
        sample_times=_mspline_sample,
        rmst=quadrature_rmst,
    ),
    "lognormal": _aft_family("lognormal", "normal", lognormal_model),
    "loglogistic": _aft_family("loglogistic", "logistic", loglogistic_model),
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
