"""Priors for log hazard ratios and for the baseline hazard.

Log-HR priors (``PriorSpec.family``):

``normal``
    ``beta ~ Normal(center, scale)``. The default ``scale = 1`` puts 95 % prior mass on
    HR in ``exp(±1.96) ≈ 1/7 .. 7`` per unit of the design column (per category contrast
    or per standard deviation of a standardised continuous covariate).
``student_t``
    ``beta ~ StudentT(nu, center, scale)`` (heavier tails than the normal).
``sceptical``
    ``beta ~ Normal(0, s)`` with ``s = log(sceptical_hr) / z_(1 - sceptical_tail)``, so
    that ``P(HR > sceptical_hr) = sceptical_tail`` (Spiegelhalter, Freedman & Parmar
    1994). Default: 5 % prior probability of an HR above 2 (``s ≈ 0.42``).
``log_f``
    ``beta / scale ~ log-F(m, m)``, density ``e^{m b / 2} (1 + e^b)^{-m} / B(m/2, m/2)``;
    with ``m = 1`` this is Greenland & Mansournia's (2015) penalty against sparse-data
    bias, the Bayesian counterpart of Firth's correction.
``horseshoe``
    Regularised horseshoe (Piironen & Vehtari 2017), non-centred:
    ``beta_j = z_j * tau * lambda~_j`` with ``lambda_j ~ C+(0, 1)``,
    ``tau ~ t+_nu_global(0, tau0)``, ``tau0 = p0 / (p - p0) / sqrt(d)`` with ``d`` the number
    of events (the effective sample size of a survival likelihood: the information about a
    log-HR grows with events, not patients; pseudo-noise sigma = 1 on the log-HR scale) and
    ``p0 < p`` required (``expected_nonzero``, the prior guess of non-zero log-HRs), and a slab
    ``c^2 ~ InvGamma(slab_df / 2, slab_df * slab_scale^2 / 2)``; for large covariate sets,
    the Bayesian answer to backward elimination.

References
----------
Greenland, S. and Mansournia, M. A. (2015). Penalization, bias reduction, and default
priors in logistic and related categorical and survival regressions. *Stat Med* 34.
Piironen, J. and Vehtari, A. (2017). Sparsity information and regularization in the
horseshoe and other shrinkage priors. *Electron J Stat* 11.
Spiegelhalter, D. J., Freedman, L. S. and Parmar, M. K. B. (1994). Bayesian approaches to
randomized trials. *JRSS A* 157.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy import special

from bayes_bcsm.models.specs import PRIOR_FAMILIES, BaselineSpec, PriorError, PriorSpec

__all__ = [
    "PRIOR_FAMILIES",
    "BaselineSpec",
    "PriorError",
    "PriorSpec",
    "horseshoe_tau0",
    "log_f_logpdf",
    "log_hr_prior",
]


def log_f_logpdf(x: np.ndarray, m: float = 1.0, scale: float = 1.0) -> np.ndarray:
    """Log density of ``scale * log-F(m, m)`` (numpy; reference for tests).

    Parameters
    ----------
    x : ndarray
        Log-HR values.
    m : float
        Degrees of freedom of both F components.
    scale : float
        Scale factor.

    Returns
    -------
    ndarray
    """
    z = np.asarray(x, dtype=float) / scale
    return m / 2 * z - m * np.logaddexp(0.0, z) - special.betaln(m / 2, m / 2) - np.log(scale)


def _log_f_logp(value: Any, m: Any, scale: Any) -> Any:
    z = value / scale
    log_beta = pt.gammaln(m / 2) * 2 - pt.gammaln(m)
    return m / 2 * z - m * pt.log1pexp(z) - log_beta - pt.log(scale)


def _log_f_random(
    m: Any, scale: Any, rng: np.random.Generator | None = None, size: Any = None
) -> np.ndarray:
    u = rng.beta(m / 2, m / 2, size=size)
    return scale * special.logit(u)


def horseshoe_tau0(expected_nonzero: float, p: int, n_events: int) -> float:
    """Global scale of the regularised horseshoe, ``tau0 = p0 / (p - p0) / sqrt(d)``.

    Piironen & Vehtari (2017, eq. 3.12) set ``tau0 = p0 / (p - p0) * sigma / sqrt(n)``; for a
    survival likelihood the effective sample size is the number of events ``d`` and the
    pseudo-noise of a log-HR is taken as ``sigma = 1`` (the information about a log-HR is
    about ``d * var(x)``).

    Parameters
    ----------
    expected_nonzero : float
        ``p0``, prior guess of the number of non-zero log-HRs; ``0 < p0 < p``.
    p : int
        Number of log-HRs.
    n_events : int
        Events in the data the model is fitted to (at least 1).

    Returns
    -------
    float

    Raises
    ------
    PriorError
        When ``p0 >= p`` (the formula is undefined or negative: with ``p`` covariates at most
        ``p - 1`` can be guessed non-zero; set ``prior.expected_nonzero`` below ``p`` or use
        another prior) or when there are no events.

    References
    ----------
    Piironen, J. and Vehtari, A. (2017). Sparsity information and regularization in the
    horseshoe and other shrinkage priors. *Electron J Stat* 11:5018-5051.
    """
    if not 0 < expected_nonzero < p:
        raise PriorError(
            f"horseshoe prior: expected_nonzero={expected_nonzero:g} must be > 0 and below the "
            f"number of log-HRs ({p}); tau0 = p0 / (p - p0) / sqrt(events) is undefined "
            "otherwise. Set prior.expected_nonzero < p or choose another prior.",
            ("expected_nonzero",),
        )
    if n_events < 1:
        raise PriorError("horseshoe prior: tau0 needs at least one event", ("expected_nonzero",))
    return float(expected_nonzero / (p - expected_nonzero) / np.sqrt(n_events))


def log_hr_prior(name: str, spec: PriorSpec, dims: str, n_events: int) -> Any:
    """Create the log-HR vector ``name`` in the model in context.

    Parameters
    ----------
    name : str
        Variable name (``"beta"``).
    spec : PriorSpec
    dims : str
        Covariate dimension (its coordinate must be registered in the model).
    n_events : int
        Number of events (the horseshoe's global scale, :func:`horseshoe_tau0`).

    Returns
    -------
    TensorVariable
        The log-HRs, one per covariate.

    Raises
    ------
    PriorError
        Horseshoe with ``expected_nonzero >= p`` (see :func:`horseshoe_tau0`).
    """
    model = pm.modelcontext(None)
    p = len(model.coords[dims])
    if spec.family == "normal":
        return pm.Normal(name, spec.center, spec.scale, dims=dims)
    if spec.family == "student_t":
        return pm.StudentT(name, nu=spec.nu, mu=spec.center, sigma=spec.scale, dims=dims)
    if spec.family == "sceptical":
        return pm.Normal(name, 0.0, spec.sceptical_sd, dims=dims)
    if spec.family == "log_f":
        return pm.CustomDist(
            name, spec.log_f_m, spec.scale, logp=_log_f_logp, random=_log_f_random, dims=dims
        )
    # regularised horseshoe
    tau0 = horseshoe_tau0(spec.expected_nonzero, p, n_events)
    tau = pm.HalfStudentT(f"{name}_tau", nu=spec.global_df, sigma=tau0)
    lam = pm.HalfCauchy(f"{name}_lambda", 1.0, dims=dims)
    c2 = pm.InverseGamma(
        f"{name}_c2", alpha=spec.slab_df / 2, beta=spec.slab_df * spec.slab_scale**2 / 2
    )
    lam_tilde = pt.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))
    z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=dims)
    return pm.Deterministic(name, z * tau * lam_tilde, dims=dims)
