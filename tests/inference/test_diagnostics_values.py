"""The per-parameter convergence diagnostics equal ArviZ's own ``az.rhat`` / ``az.ess`` on every
scalar parameter (they are computed on all parameters stacked at once, issue 25)."""

from __future__ import annotations

import arviz as az
import numpy as np
import xarray as xr

from bayes_bcsm.inference.diagnostics import check_convergence, rank_rhat


def _tree() -> xr.DataTree:
    rng = np.random.default_rng(7)
    chains, draws = 4, 200
    walk = np.cumsum(rng.normal(size=(chains, draws)), axis=1) * 0.05  # poorly mixing
    posterior = xr.Dataset(
        {
            "alpha": (("chain", "draw"), rng.normal(size=(chains, draws)) + walk),
            "beta": (
                ("chain", "draw", "covariate"),
                rng.normal(size=(chains, draws, 3)) * [1.0, 2.0, 0.5],
            ),
            "grid": (("chain", "draw", "row", "col"), rng.gamma(2.0, size=(chains, draws, 2, 2))),
        },
        coords={"covariate": ["a", "b[x]", "c"], "row": [10, 20]},  # "col": no coordinate
    )
    stats = xr.Dataset(
        {
            "diverging": (("chain", "draw"), np.zeros((chains, draws), bool)),
            "energy": (("chain", "draw"), rng.normal(size=(chains, draws))),
        }
    )
    return xr.DataTree.from_dict({"posterior": posterior, "sample_stats": stats})


def _flat(result: xr.DataTree) -> dict[str, float]:
    """ArviZ's per-variable result, one entry per scalar parameter (``beta[b[x]]``, ...)."""
    out = {}
    for name, da in result.dataset.data_vars.items():
        if da.ndim == 0:
            out[name] = float(da)
            continue
        flat = da.stack(_k=da.dims)
        for idx, value in zip(flat["_k"].values, flat.values, strict=True):
            key = idx if isinstance(idx, tuple) else (idx,)
            out[f"{name}[{', '.join(map(str, key))}]"] = float(value)
    return out


def test_per_parameter_diagnostics_are_arviz_values():
    tree = _tree()
    per = check_convergence(tree).per_parameter
    expected = {
        "r_hat": _flat(az.rhat(tree, method="rank")),
        "ess_bulk": _flat(az.ess(tree, method="bulk")),
        "ess_tail": _flat(az.ess(tree, method="tail")),
    }
    assert list(per.index) == list(expected["r_hat"])  # same names, same order
    assert len(per) == 1 + 3 + 4
    for column, values in expected.items():
        np.testing.assert_allclose(per[column].to_numpy(), list(values.values()), rtol=1e-12)
    assert per["r_hat"].max() > 1.01  # the random walk makes "alpha" fail: the check can fail
    rhat = rank_rhat(tree, ["beta"])
    assert list(rhat.index) == ["beta[a]", "beta[b[x]]", "beta[c]"]
    np.testing.assert_allclose(rhat.to_numpy(), per["r_hat"].iloc[1:4].to_numpy(), rtol=1e-12)
