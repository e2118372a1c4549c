"""Independent oracle for issue 23: frequentist plug-in stacking with exact K-fold CV.

Question: can stacking put >= 0.5 weight on the log-logistic family in >= 80 % of data sets of
n = 300 drawn from the log-logistic design of ``tests/inference/test_stacking_simulation.py``,
whatever the implementation? This script shares no code with the package (numpy, scipy and
pandas only). For each simulated data set it

1. draws the test's design (``default_rng(seed)``; x1 ~ Bernoulli(0.5), x2 ~ N(0, 1),
   ``log T = log 24 + 0.5 x1 - 0.3 x2 + 0.35 logit(U)``, censoring at 120 months and at an
   exponential time with rate 0.005 per month; the draws in the test's order, so that data
   set ``seed`` is the test's data set ``seed``);
2. fits seven families with covariates x1, x2 by maximum likelihood on the time scale (right
   censoring: ``log f(t)`` for events, ``log S(t)`` for censored patients): log-logistic AFT,
   log-normal AFT, Weibull PH, exponential PH, Gompertz PH (``h = b exp(g t) exp(eta)``),
   piecewise-exponential PH (cuts 12, 24, 36, 60 months) and cubic M-spline PH (df 5, knots
   as the package's: 0, the median event time, the last follow-up time; hazard held constant
   beyond the last knot);
3. computes each patient's out-of-sample log predictive density by 10-fold cross-validation
   (fold ``i mod 10`` for patient ``i``; the MLE on the other nine folds, plugged in);
4. finds the stacking weights: the maximum of ``sum_i log sum_k w_k exp(lpd_ik)`` over the
   simplex (SLSQP, then checked against the optimality conditions).

Usage (from the repository root)::

    python docs/stacking/oracle.py --seeds 7000 7050 --n 300 --folds 10 --out weights.csv

appends one row per data set (seed, n, weight and CV elpd per family, the optimality residual)
to ``--out`` and prints the summary. ``--summary FILE`` only prints the summary of a CSV.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special, stats
from scipy.interpolate import BSpline

FAMILIES = (
    "loglogistic",
    "lognormal",
    "weibull",
    "exponential",
    "gompertz",
    "piecewise",
    "mspline",
)
CUTS = (12.0, 24.0, 36.0, 60.0)
"""Piecewise-exponential cut points, months."""
FOLDS = 10
SPLINE_DF = 5


# --------------------------------------------------------------------------- simulation


def simulate(seed: int, n: int = 300) -> pd.DataFrame:
    """One data set of the test's design (module docstring), draws in the test's order."""
    rng = np.random.default_rng(seed)
    x1 = rng.binomial(1, 0.5, n).astype(float)
    x2 = rng.normal(size=n)
    u = rng.uniform(size=n)
    # the test's arithmetic, in its order, so that the times agree to the last bit
    t = np.exp(np.log(24.0) + (0.5 * x1 - 0.3 * x2) + np.exp(np.log(0.35)) * special.logit(u))
    c = np.minimum(np.full(n, 120.0), rng.exponential(1.0 / 0.005, size=n))
    return pd.DataFrame(
        {
            "time_months": np.minimum(t, c),
            "event": (t <= c).astype(int),
            "x1": x1,
            "x2": x2,
        }
    )


# --------------------------------------------------------------------------- families


@dataclass(frozen=True)
class Data:
    """Times (months), event indicators and the covariate matrix (n x 2), plus the bases the
    piecewise and M-spline families need at these times."""

    t: np.ndarray
    d: np.ndarray
    x: np.ndarray
    exposure: np.ndarray  # (n, 5): months spent in each piecewise interval
    interval: np.ndarray  # (n,): index of the interval holding t
    m_basis: np.ndarray  # (n, df): M-splines at t
    i_basis: np.ndarray  # (n, df): I-splines at t

    def subset(self, rows: np.ndarray) -> Data:
        return Data(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))


def piecewise_bases(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exposure in each interval ``[0, 12), [12, 24), ..., [60, inf)`` and the interval of t."""
    edges = np.array((0.0, *CUTS, np.inf))
    exposure = np.clip(t[:, None] - edges[:-1], 0.0, edges[1:] - edges[:-1])
    return exposure, np.searchsorted(edges, t, side="right") - 1


def spline_knots(t: np.ndarray, d: np.ndarray, df: int = SPLINE_DF) -> np.ndarray:
    """Full knot vector of a cubic spline with ``df`` basis functions: 0 and the last time
    (months), each four times, and ``df - 4`` interior knots at event-time quantiles."""
    q = np.linspace(0.0, 1.0, df - 4 + 2)[1:-1]
    return np.concatenate([[0.0] * 4, np.quantile(t[d == 1], q), [float(t.max())] * 4])


def spline_bases(knots: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cubic M-splines ``M_j(t) = 4 B_j(t) / (u_{j+4} - u_j)`` and I-splines ``int_0^t M_j``
    at ``t``, shape ``(len(t), df)``; beyond the last knot the hazard is held at its value
    there (I-splines continue linearly)."""
    upper = knots[-1]
    width = knots[4:] - knots[:-4]
    m = BSpline(knots, np.diag(4.0 / width), 3, extrapolate=False)
    i = m.antiderivative()
    inside = np.clip(t, 0.0, upper)
    m_upper = np.nan_to_num(m(np.array([upper])))[0]
    m_t = np.nan_to_num(m(inside))
    i_t = np.nan_to_num(i(inside)) + np.clip(t - upper, 0.0, None)[:, None] * m_upper
    return np.where((t > upper)[:, None], m_upper, m_t), i_t


def make_data(frame: pd.DataFrame) -> Data:
    t = frame["time_months"].to_numpy(float)
    d = frame["event"].to_numpy(int)
    exposure, interval = piecewise_bases(t)
    m_t, i_t = spline_bases(spline_knots(t, d), t)
    return Data(t, d, frame[["x1", "x2"]].to_numpy(float), exposure, interval, m_t, i_t)


def gompertz_h0(log_b: float, g: float, t: np.ndarray) -> np.ndarray:
    """Gompertz cumulative baseline hazard ``b (e^{g t} - 1) / g``, stable at ``g t -> 0``."""
    u = g * t
    small = np.abs(u) < 1e-6
    ratio = np.where(small, 1.0 + u / 2.0, np.expm1(u) / np.where(small, 1.0, u))
    return np.exp(log_b) * t * ratio


def aft_lpd(error: str, p: np.ndarray, data: Data) -> np.ndarray:
    """Per-patient log density (events) / log survival (censored), AFT families.
    ``p = (mu, log_sigma, beta1, beta2)``; ``log T = mu + x beta + sigma W``."""
    sigma = np.exp(p[1])
    log_t = np.log(data.t)
    z = (log_t - p[0] - data.x @ p[2:]) / sigma
    if error == "logistic":
        log_f = z - 2.0 * np.logaddexp(0.0, z) - np.log(sigma) - log_t
        log_s = -np.logaddexp(0.0, z)
    else:
        log_f = stats.norm.logpdf(z) - np.log(sigma) - log_t
        log_s = special.log_ndtr(-z)
    return np.where(data.d == 1, log_f, log_s)


def ph_lpd(family: str, p: np.ndarray, data: Data) -> np.ndarray:
    """Per-patient ``d log h(t) - H(t)`` for the PH families; the last two entries of ``p``
    are the log hazard ratios of x1, x2, the others the baseline's (see ``N_BASELINE``)."""
    base, eta = p[:-2], data.x @ p[-2:]
    t = data.t
    if family == "exponential":
        log_h0, cum_h0 = np.full_like(t, base[0]), np.exp(base[0]) * t
    elif family == "weibull":  # H0 = exp(log_lambda) t^alpha
        alpha = np.exp(base[1])
        log_h0 = base[0] + base[1] + (alpha - 1.0) * np.log(t)
        cum_h0 = np.exp(base[0]) * t**alpha
    elif family == "gompertz":  # h0 = exp(log_b + g t)
        log_h0, cum_h0 = base[0] + base[1] * t, gompertz_h0(base[0], base[1], t)
    elif family == "piecewise":  # log rates per interval
        log_h0, cum_h0 = base[data.interval], data.exposure @ np.exp(base)
    elif family == "mspline":  # h0 = sum_j exp(c_j) M_j(t)
        coef = np.exp(base)
        with np.errstate(divide="ignore"):
            log_h0 = np.log(data.m_basis @ coef)
        cum_h0 = data.i_basis @ coef
    else:
        raise ValueError(f"unknown family {family!r}")
    return np.where(data.d == 1, log_h0 + eta, 0.0) - cum_h0 * np.exp(eta)


N_BASELINE = {
    "exponential": 1,
    "weibull": 2,
    "gompertz": 2,
    "piecewise": len(CUTS) + 1,
    "mspline": SPLINE_DF,
}


def lpd_function(family: str) -> Callable[[np.ndarray, Data], np.ndarray]:
    if family == "loglogistic":
        return lambda p, data: aft_lpd("logistic", p, data)
    if family == "lognormal":
        return lambda p, data: aft_lpd("normal", p, data)
    return lambda p, data: ph_lpd(family, p, data)


def start(family: str, data: Data) -> np.ndarray:
    """Starting values: least squares on log t (AFT), the exponential MLE rate (PH)."""
    if family in ("loglogistic", "lognormal"):
        design = np.column_stack([np.ones(len(data.t)), data.x])
        coef, *_ = np.linalg.lstsq(design, np.log(data.t), rcond=None)
        resid = np.log(data.t) - design @ coef
        return np.array([coef[0], np.log(resid.std()), *coef[1:]])
    log_rate = np.log(data.d.sum() / data.t.sum())
    base = {
        "exponential": [log_rate],
        "weibull": [log_rate, 0.0],
        "gompertz": [log_rate, 0.0],
        "piecewise": [log_rate] * N_BASELINE["piecewise"],
        # exp(c_j) = rate * upper spreads H0(upper) = rate * upper over basis functions whose
        # I-splines each reach 1 at the upper knot
        "mspline": [log_rate + np.log(data.t.max() / SPLINE_DF)] * SPLINE_DF,
    }[family]
    return np.array([*base, 0.0, 0.0])


def fit(family: str, data: Data, p0: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Maximum-likelihood estimate and maximised log-likelihood (BFGS with central-difference
    gradients, restarted once if it stopped short)."""
    lpd = lpd_function(family)

    def nll(p: np.ndarray) -> float:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value = -float(np.sum(lpd(p, data)))
        return value if np.isfinite(value) else 1e300

    p0 = start(family, data) if p0 is None else p0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = optimize.minimize(nll, p0, method="BFGS", jac="3-point", options={"gtol": 1e-6})
        if not res.success:  # restart from where it stopped (fresh Hessian approximation)
            res2 = optimize.minimize(nll, res.x, method="BFGS", jac="3-point")
            res = res2 if res2.fun <= res.fun else res
    return res.x, -float(res.fun)


def cv_lpd(family: str, data: Data, folds: int = FOLDS) -> tuple[np.ndarray, float]:
    """Per-patient K-fold plug-in log predictive density and the full-data log-likelihood."""
    lpd = lpd_function(family)
    full, loglik = fit(family, data)
    fold = np.arange(len(data.t)) % folds
    out = np.empty(len(data.t))
    for k in range(folds):
        held = fold == k
        p, _ = fit(family, data.subset(~held), full)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out[held] = lpd(p, data.subset(held))
    return out, loglik


# --------------------------------------------------------------------------- stacking


def stacking_weights(lpd: np.ndarray) -> tuple[np.ndarray, float]:
    """Maximise ``sum_i log sum_k w_k exp(lpd[i, k])`` over the simplex.

    Returns the weights and the optimality residual: the largest violation of the KKT
    conditions ``g_k = mean_i p_ik / sum_j w_j p_ij`` equal to 1 where ``w_k > 0`` and at
    most 1 where ``w_k = 0`` (the gradient of the mean log score).
    """
    dens = np.exp(lpd - lpd.max(axis=1, keepdims=True))
    k = dens.shape[1]

    def neg(w: np.ndarray) -> float:
        return -float(np.mean(np.log(dens @ w)))

    def grad(w: np.ndarray) -> np.ndarray:
        return -np.mean(dens / (dens @ w)[:, None], axis=0)

    best = None
    for w0 in (np.full(k, 1.0 / k), np.eye(k)[np.argmax(lpd.sum(axis=0))] * 0.9 + 0.1 / k):
        res = optimize.minimize(
            neg,
            w0,
            jac=grad,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * k,
            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
            options={"ftol": 1e-14, "maxiter": 1000},
        )
        if best is None or res.fun < best.fun:
            best = res
    w = np.clip(best.x, 0.0, None)
    w /= w.sum()
    # EM steps (monotone for this concave problem) polish what SLSQP left
    for _ in range(200):
        w = w * np.mean(dens / (dens @ w)[:, None], axis=0)
    g = -grad(w)
    active = w > 1e-4
    residual = max(
        float(np.max(np.abs(g[active] - 1.0))),
        float(np.max(g[~active] - 1.0, initial=0.0)),
    )
    return w, residual


# --------------------------------------------------------------------------- driver


def one_data_set(seed: int, n: int, folds: int = FOLDS) -> dict[str, float]:
    """Weights, CV elpd and full-data log-likelihood per family on data set ``seed``."""
    data = make_data(simulate(seed, n))
    columns = []
    row: dict[str, float] = {"seed": seed, "n": n, "folds": folds, "events": int(data.d.sum())}
    for family in FAMILIES:
        lpd, loglik = cv_lpd(family, data, folds)
        columns.append(lpd)
        row[f"elpd_{family}"] = float(lpd.sum())
        row[f"loglik_{family}"] = loglik
    w, residual = stacking_weights(np.column_stack(columns))
    row.update({f"w_{family}": float(v) for family, v in zip(FAMILIES, w, strict=True)})
    row["kkt_residual"] = residual
    return row


def summary(table: pd.DataFrame) -> str:
    """Share with >= 0.5 stacking weight on log-logistic (exact 95 % CI), and selection share."""
    lines = []
    for (n, folds), group in table.groupby(["n", "folds"]):
        m = len(group)
        hits = int((group["w_loglogistic"] >= 0.5).sum())
        ci = stats.binomtest(hits, m).proportion_ci(0.95, method="exact")
        elpd = group[[f"elpd_{f}" for f in FAMILIES]].to_numpy()
        best = int((elpd.argmax(axis=1) == 0).sum())
        ci_best = stats.binomtest(best, m).proportion_ci(0.95, method="exact")
        pair = int(((group["w_loglogistic"] + group["w_lognormal"]) >= 0.5).sum())
        lines.append(
            f"n = {n}, {folds}-fold CV: {m} data sets "
            f"(seeds {group.seed.min()}..{group.seed.max()}); "
            f"stacking weight >= 0.5 on log-logistic in {hits} ({hits / m:.1%}, exact 95 % CI "
            f"{ci.low:.1%} to {ci.high:.1%}); mean (median) weight "
            f"{group.w_loglogistic.mean():.2f} ({group.w_loglogistic.median():.2f}); "
            f"log-logistic best CV elpd in {best} ({best / m:.1%}, CI {ci_best.low:.1%} to "
            f"{ci_best.high:.1%}); log-logistic + log-normal >= 0.5 in {pair}; "
            f"largest KKT residual {group.kkt_residual.max():.1e}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs=2, metavar=("FIRST", "STOP"))
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--folds", type=int, default=FOLDS, help="K of K-fold CV (n: LOO)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--summary", type=Path)
    args = parser.parse_args(argv)
    if args.summary is not None:
        print(summary(pd.read_csv(args.summary)))
        return 0
    if args.seeds is None or args.out is None:
        parser.error("--seeds FIRST STOP and --out FILE are required (or --summary FILE)")
    done = set()
    if args.out.exists():
        old = pd.read_csv(args.out)
        done = set(old.loc[(old.n == args.n) & (old.folds == args.folds), "seed"])
    for seed in range(*args.seeds):
        if seed in done:
            continue
        tic = time.perf_counter()
        row = one_data_set(seed, args.n, args.folds)
        frame = pd.DataFrame([row])
        frame.to_csv(args.out, mode="a", header=not args.out.exists(), index=False)
        print(
            seed,
            args.n,
            f"w_ll={row['w_loglogistic']:.3f}",
            f"{time.perf_counter() - tic:.1f}s",
            flush=True,
        )
    print(summary(pd.read_csv(args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
