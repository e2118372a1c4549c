"""Bayesian models on data with entry times: (start, stop] episodes and delayed entry (issue 21).

Expected values: the unsplit right-censored model (whose likelihood the rest of the suite pins
against scipy and closed forms) for the episode-splitting identity; closed forms of the
exponential likelihood with a time-varying covariate; scipy's Weibull density conditional on
survival to entry for delayed entry. Tolerance 1e-10: sums of at most a few hundred terms.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayes_bcsm.data.design import DesignError, build_design
from bayes_bcsm.models import (
    OBSERVED,
    MissingDesign,
    exponential_model,
    model_family,
    piecewise_model,
    weibull_model,
)
from bayes_bcsm.models.simulate import simulate_frame

TOL = {"rtol": 1e-10, "atol": 1e-10}
BUILDERS = {
    "weibull": weibull_model,
    "exponential": exponential_model,
    "piecewise": lambda d: piecewise_model(d, cuts=(6.0, 18.0, 30.0)),
    **{name: model_family(name).build for name in ("gompertz", "lognormal", "loglogistic")},
    "mspline": lambda d: model_family("mspline").build(d, df=6),
}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    out = simulate_frame(np.random.default_rng(5), 40, [0.5, -0.3])
    return out.assign(id=[f"p{i:02d}" for i in range(len(out))])


def split(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Each patient's (0, T] cut at 0-3 random times (some on other patients' event times)."""
    rng = np.random.default_rng(seed)
    pool = np.concatenate([frame["time_months"].to_numpy(), rng.uniform(0, 60, 40)])
    rows = []
    for _, r in frame.iterrows():
        cuts = [c for c in rng.choice(pool, rng.integers(0, 4)) if 0 < c < r.time_months]
        edges = [0.0, *sorted(set(cuts)), r.time_months]
        for k, (a, b) in enumerate(itertools.pairwise(edges)):
            last = k == len(edges) - 2
            rows.append({**r, "start": a, "time_months": b, "event": r.event if last else 0})
    return pd.DataFrame(rows)


def _point(sm, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        k: np.asarray(v + rng.normal(0, 0.3, np.shape(v)), dtype=v.dtype)
        for k, v in sm.model.initial_point().items()
    }


def _pointwise(sm, point):
    fn = sm.model.compile_fn(sm.model.logp(vars=[sm.model[OBSERVED]], sum=False)[0])
    return fn(point)


@pytest.mark.parametrize("family", list(BUILDERS))
def test_split_episodes_give_the_unsplit_model_logp(frame, family):
    """Splitting follow-up into (start, stop] episodes, covariates unchanged, leaves the joint
    log density and the per-patient pointwise log-likelihood unchanged; LOO leaves out the
    40 patients, not the episodes."""
    episodes = split(frame, seed=1)
    assert len(episodes) > len(frame) + 15  # the split did cut
    whole = BUILDERS[family](build_design(frame, ["x1", "x2"]))
    pieces = BUILDERS[family](build_design(episodes, ["x1", "x2"], entry="start", id_column="id"))
    assert pieces.episodes and pieces.delayed_entry and not whole.episodes
    assert pieces.n_used == 40 and pieces.n_events == whole.n_events
    assert list(pieces.model.coords["patient"]) == list(frame["id"])
    assert "40 patients" in pieces.rows
    for seed in range(3):
        point = _point(whole, seed)
        np.testing.assert_allclose(
            pieces.model.compile_logp()(point), whole.model.compile_logp()(point), **TOL
        )
        split_pointwise = _pointwise(pieces, point)
        assert split_pointwise.shape == (40,)
        np.testing.assert_allclose(split_pointwise, _pointwise(whole, point), **TOL)


def test_exponential_with_a_time_varying_covariate_is_the_closed_form():
    """Exposure switched on inside follow-up: per patient
    sum_episodes [d (log(lambda / s) + eta) - (lambda / s) e^eta (stop - start)]."""
    episodes = pd.DataFrame(
        {
            "id": [1, 1, 2, 3, 3, 4],
            "start": [0.0, 2.0, 0.0, 0.0, 5.0, 1.5],
            "time_months": [2.0, 9.0, 4.0, 5.0, 7.0, 3.0],
            "event": [0, 1, 1, 0, 0, 1],
            "treated": [0, 1, 0, 0, 1, 1],
        }
    )
    sm = exponential_model(build_design(episodes, ["treated"], entry="start", id_column="id"))
    log_lambda, beta, s = -0.7, -0.4, 12.0
    point = {"log_lambda": np.array(log_lambda), "beta": np.array([beta])}
    eta = beta * episodes["treated"].to_numpy()
    d = episodes["event"].to_numpy()
    per_episode = (
        d * (log_lambda - np.log(s) + eta)
        - np.exp(log_lambda)
        / s
        * np.exp(eta)
        * (episodes["time_months"] - episodes["start"]).to_numpy()
    )
    want = pd.Series(per_episode).groupby(episodes["id"].to_numpy()).sum().to_numpy()
    np.testing.assert_allclose(_pointwise(sm, point), want, **TOL)
    np.testing.assert_allclose(sm.data["follow_up_months"], [9.0, 4.0, 7.0, 3.0])


def test_weibull_delayed_entry_in_wide_data_is_scipys_truncated_density(frame):
    """One row per patient entering at e > 0: log f(t) - log S(e) (death) or log S(t) - log S(e)
    (censored), f and S those of scipy's weibull_min with the PH parameters."""
    wide = frame.assign(start=np.minimum(frame["time_months"] * 0.4, 3.0))
    sm = weibull_model(build_design(wide, ["x1"], entry="start"))
    assert sm.delayed_entry and not sm.episodes and sm.n_used == 40
    log_alpha, log_lambda, beta, s = 0.2, -1.3, 0.6, 12.0
    point = {"log_alpha": np.array(log_alpha), "log_lambda": np.array(log_lambda)}
    point["beta"] = np.array([beta])
    alpha = np.exp(log_alpha)
    # H(t) = lambda e^eta (t/s)^alpha: weibull_min(c=alpha, scale=s (lambda e^eta)^(-1/alpha))
    scale = s * (np.exp(log_lambda + beta * wide["x1"].to_numpy())) ** (-1 / alpha)
    dist = stats.weibull_min(alpha, scale=scale)
    t, e, d = wide["time_months"].to_numpy(), wide["start"].to_numpy(), wide["event"].to_numpy()
    want = np.where(d == 1, dist.logpdf(t), dist.logsf(t)) - dist.logsf(e)
    np.testing.assert_allclose(_pointwise(sm, point), want, **TOL)


def test_marginalising_a_missing_covariate_on_episode_data_is_refused(frame):
    """The exact marginalisation sums over one level per patient row: with entry times it is
    refused, naming the keys to change."""
    episodes = split(frame, seed=2)
    design = build_design(episodes, ["x2"], entry="start", id_column="id")
    codes = episodes["x1"].to_numpy().astype(int)
    codes[::5] = -1  # missing
    md = MissingDesign(design, "x1", ("0", "1"), ("x1",), codes)
    with pytest.raises(
        DesignError, match=r"missing\.strategy=marginalize .*start_column / id_column"
    ):
        weibull_model(md)


def test_an_id_column_needs_an_entry_column(frame):
    with pytest.raises(DesignError, match="id column 'id' given without an entry"):
        build_design(frame, ["x1"], id_column="id")
