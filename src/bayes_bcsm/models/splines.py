"""Cubic M-spline and I-spline bases for a flexible baseline hazard (numpy and scipy only).

An M-spline basis function is a B-spline normalised to integrate to 1,
``M_j(t) = k B_j(t) / (u_{j+k} - u_j)`` with order ``k = 4`` (cubic) on the knot sequence ``u``;
its I-spline is its integral ``I_j(t) = int_0^t M_j``, rising from 0 to 1 across its support
(Ramsay 1988). A baseline hazard ``h0(t) = exp(log_scale) * sum_j w_j M_j(t)`` with simplex
weights ``w`` then has cumulative hazard ``H0(t) = exp(log_scale) * sum_j w_j I_j(t)``, and
``H0(t_max) = exp(log_scale)`` at the upper boundary knot: the construction of rstanarm's
``stan_surv`` (Brilleman et al. 2020).

Knots: boundary knots at 0 and at the last follow-up time, ``df - 4`` interior knots at
equally spaced quantiles of the event times (``df`` basis functions, as splines2's
``mSpline(df=df, degree=3, intercept=TRUE)``). Beyond the upper boundary the hazard is held at
its value there (``H0`` continues linearly), so survival curves extrapolate with the last
hazard rather than with a polynomial piece.

References
----------
Ramsay, J. O. (1988). Monotone regression splines in action. *Statistical Science* 3:425-441.
Brilleman, S. L., Elci, E. M., Novik, J. B. and Wolfe, R. (2020). Bayesian survival analysis
using the rstanarm R package. arXiv:2002.09633.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import BSpline

ORDER = 4
"""Order of the splines (cubic: degree 3)."""

MIN_DF = ORDER
"""Fewest basis functions of a cubic spline (no interior knot)."""

__all__ = ["MIN_DF", "ORDER", "SplineBasis", "spline_knots"]


def spline_knots(
    time: np.ndarray, event: np.ndarray, df: int, upper: float | None = None
) -> tuple[float, ...]:
    """Boundary and interior knots (months): ``0``, ``df - 4`` event-time quantiles, the upper
    boundary (default the last time).

    Parameters
    ----------
    time, event : ndarray
        Follow-up times (months) and event indicators.
    df : int
        Number of basis functions (>= 4).
    upper : float, optional
        Upper boundary knot, months (default ``max(time)``).

    Returns
    -------
    tuple of float
        Strictly increasing, from 0 to the upper boundary.
    """
    if df < MIN_DF:
        raise ValueError(f"a cubic M-spline needs df >= {MIN_DF}, got {df}")
    time = np.asarray(time, dtype=float)
    upper = float(np.max(time)) if upper is None else float(upper)
    events = time[np.asarray(event) == 1]
    n_interior = df - ORDER
    q = np.linspace(0.0, 1.0, n_interior + 2)[1:-1]
    interior = np.quantile(events, q) if n_interior and len(events) else np.array([])
    interior = np.unique(interior[(interior > 0) & (interior < upper)])
    if len(interior) < n_interior:  # tied quantiles: spread over the remaining range
        interior = np.linspace(0.0, upper, n_interior + 2)[1:-1]
    return (0.0, *(float(k) for k in interior), upper)


@dataclass(frozen=True)
class SplineBasis:
    """The cubic M-spline / I-spline basis on knots ``knots`` (boundary ones included).

    Attributes
    ----------
    knots : tuple of float
        ``(0, interior..., upper)``, months, strictly increasing.
    """

    knots: tuple[float, ...]

    @property
    def df(self) -> int:
        """Number of basis functions."""
        return len(self.knots) - 2 + ORDER

    @property
    def upper(self) -> float:
        """Upper boundary knot, months."""
        return self.knots[-1]

    def _full_knots(self) -> np.ndarray:
        k = np.asarray(self.knots, dtype=float)
        return np.concatenate([[k[0]] * (ORDER - 1), k, [k[-1]] * (ORDER - 1)])

    def _splines(self) -> tuple[BSpline, BSpline]:
        """The M-splines and their antiderivatives as one vector-valued spline each."""
        u = self._full_knots()
        width = u[ORDER:] - u[: len(u) - ORDER]  # u_{j+4} - u_j, one per basis function
        coef = np.diag(ORDER / width)  # column j: coefficients of M_j on the B-spline basis
        m = BSpline(u, coef, ORDER - 1, extrapolate=False)
        return m, m.antiderivative()

    def m_basis(self, time: np.ndarray) -> np.ndarray:
        """``M_j(t)``, shape ``(*time.shape, df)``, per month; beyond the upper boundary the
        value at the boundary (the hazard is held there)."""
        m, _ = self._splines()
        t = np.clip(np.asarray(time, dtype=float), 0.0, self.upper)
        return np.nan_to_num(m(t))

    def i_basis(self, time: np.ndarray) -> np.ndarray:
        """``I_j(t) = int_0^t M_j``, shape ``(*time.shape, df)``; beyond the upper boundary
        ``I_j(upper) + M_j(upper) (t - upper)``."""
        _, i = self._splines()
        t = np.asarray(time, dtype=float)
        inside = np.nan_to_num(i(np.clip(t, 0.0, self.upper)))
        beyond = np.clip(t - self.upper, 0.0, None)[..., None]
        return inside + beyond * self.m_basis(np.full_like(t, self.upper))

    @classmethod
    def from_data(
        cls, time: np.ndarray, event: np.ndarray, df: int, upper: float | None = None
    ) -> SplineBasis:
        """The basis with :func:`spline_knots`."""
        return cls(spline_knots(time, event, df, upper))
