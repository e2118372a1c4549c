"""Simulation metrics against hand computations; sharding is resumable and order-free."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayes_bcsm.simulation.metrics import (
    REPLICATE_COLUMNS,
    add_design_analysis,
    add_overall_rejection,
    aggregate_metrics,
    estimand_mcse_table,
)
from bayes_bcsm.simulation.shards import (
    collect_shards,
    plan_shards,
    replicate_seed,
    run_shards,
)


def _rows(
    scenario,
    truth,
    estimates,
    half_width=0.5,
    selected=None,
    failed=None,
    conditional=None,
    covariate="x",
):
    k = len(estimates)
    return pd.DataFrame(
        {
            "scenario": scenario,
            "n": 78,
            "method": "m",
            "covariate": covariate,
            "replicate": np.arange(k),
            "true_conditional": truth if conditional is None else conditional,
            "true_method": truth,
            "estimate": estimates,
            "lower": np.asarray(estimates) - half_width,
            "upper": np.asarray(estimates) + half_width,
            "selected": selected if selected is not None else np.ones(k, int),
            "failed": failed if failed is not None else np.zeros(k, int),
        }
    )[list(REPLICATE_COLUMNS)]


def test_metrics_match_hand_computation():
    est = np.array([-1.0, -0.5, 0.0, -3.0])
    out = aggregate_metrics(_rows("calibrated", -0.5, est)).iloc[0]
    err = est + 0.5
    assert out["bias"] == pytest.approx(err.mean())
    assert out["bias_mcse"] == pytest.approx(err.std(ddof=1) / 2)
    assert out["rmse"] == pytest.approx(np.sqrt(np.mean(err**2)))
    # intervals [e-0.5, e+0.5] cover -0.5 for e in {-1, -0.5, 0}, not for -3
    assert out["coverage"] == pytest.approx(0.75)
    assert out["coverage_mcse"] == pytest.approx(np.sqrt(0.75 * 0.25 / 4))
    assert out["mean_width"] == pytest.approx(1.0)
    # rejects HR = 1 when the interval excludes 0: e = -1 and e = -3
    assert out["rejection_rate"] == pytest.approx(0.5)
    assert out["rejection_kind"] == "power"
    assert out["share_hr_below_0_1"] == pytest.approx(0.25)  # exp(-3) < 0.1
    assert out["share_hr_above_10"] == 0


def test_null_scenario_reports_type_I_error_and_selection_share():
    est = np.array([0.0, 0.9, 0.1, np.nan])
    rows = _rows(
        "null_table3",
        0.0,
        est,
        selected=np.array([1, 1, 1, 0]),
        failed=np.array([0, 0, 1, 0]),
        covariate="hormone_therapy",
    )
    out, with_failed = aggregate_metrics(rows).iloc[0], aggregate_metrics(rows).iloc[1]
    assert out["fits"] == "excluding_failed" and with_failed["fits"] == "all"
    assert out["rejection_kind"] == "type_I_table3"
    assert out["n_failed"] == 1 and out["n_estimated"] == 2
    assert out["rejection_rate"] == pytest.approx(0.5)  # 0.9 +/- 0.5 excludes 0
    assert out["selected_share"] == pytest.approx(2 / 3)
    # with the failed fit (it has an estimate, 0.1): 3 estimated, 1 rejection
    assert with_failed["n_estimated"] == 3
    assert with_failed["rejection_rate"] == pytest.approx(1 / 3)
    assert with_failed["selected_share"] == pytest.approx(3 / 4)
    other = aggregate_metrics(_rows("null_conditional", 0.08, est, covariate="hormone_therapy"))
    assert other.iloc[0]["rejection_kind"] == "type_I_conditional"
    assert (
        aggregate_metrics(_rows("calibrated", 0.0, est, covariate="hormone_therapy")).iloc[0][
            "rejection_kind"
        ]
        == "power"
    )


def test_metrics_against_the_method_estimand_and_the_conditional_effect():
    """Estimand -0.96 (Table 3) vs conditional -1.35: bias and coverage differ by hand."""
    est = np.array([-1.0, -0.9, -1.2, -0.5])
    out = aggregate_metrics(_rows("calibrated", -0.96, est, half_width=0.3, conditional=-1.35))
    row = out.iloc[0]
    assert row["bias"] == pytest.approx(np.mean(est + 0.96))
    assert row["bias_conditional"] == pytest.approx(np.mean(est + 1.35))
    assert row["coverage"] == pytest.approx(3 / 4)  # -0.5 +- 0.3 misses -0.96
    assert row["coverage_conditional"] == pytest.approx(1 / 4)  # only -1.2 +- 0.3 covers -1.35
    assert row["rmse_conditional"] == pytest.approx(np.sqrt(np.mean((est + 1.35) ** 2)))
    # exaggeration against the method's estimand: significant are all four
    assert row["exaggeration"] == pytest.approx(np.mean(np.abs(est)) / 0.96)
    assert row["share_hr_at_most_printed"] == 0  # none as small as HR 0.070


def test_estimand_mcse_is_added_to_the_bias_mcse():
    """Issue 20: the estimand's own Monte Carlo error enters the bias MCSE in quadrature
    (independent errors: Var(mean error) = Var(estimates)/k + Var(estimand)); the replicates'
    part stays beside it. Methods read their target's MCSE (Cox, Firth and the selection share
    the Cox target)."""
    est = np.array([-1.0, -0.9, -1.2, -0.5])
    rows = pd.concat(
        [
            _rows("calibrated", -0.96, est).assign(method="cox_table3"),
            _rows("calibrated", -0.90, est).assign(method="weibull_default"),
        ]
    )
    mcse = {"calibrated": {"cox": {"x": 0.03}, "weibull": {"x": 0.004}}}
    table = estimand_mcse_table(mcse, ["cox_table3", "weibull_default", "firth_table3"])
    assert dict(zip(table["method"], table["true_method_mcse"], strict=True)) == {
        "cox_table3": 0.03,
        "weibull_default": 0.004,
        "firth_table3": 0.03,
    }
    out = aggregate_metrics(rows, estimand_mcse=table)
    out = out[out["fits"] == "excluding_failed"].set_index("method")
    replicates_part = est.std(ddof=1) / 2
    for method, truth_mcse in (("cox_table3", 0.03), ("weibull_default", 0.004)):
        row = out.loc[method]
        assert row["bias_mcse_replicates"] == pytest.approx(replicates_part)
        assert row["true_method_mcse"] == truth_mcse
        assert row["bias_mcse"] == pytest.approx(np.sqrt(replicates_part**2 + truth_mcse**2))
    # without the table: the replicates' part alone, the estimand's MCSE unknown (NaN)
    bare = aggregate_metrics(rows).iloc[0]
    assert bare["bias_mcse"] == pytest.approx(replicates_part)
    assert np.isnan(bare["true_method_mcse"])


def test_overall_rejection_has_the_exact_binomial_test_and_interval():
    """Counts, Clopper-Pearson interval (beta quantiles) and, for a type-I row only, the exact
    two-sided binomial P against 5 % (pmf written out): 14 of 150 rejections under the Table 3
    null is issue 20's Firth figure (P = 0.023, CI 5.2-15.2 %)."""
    est = np.r_[np.full(14, 1.0), np.zeros(136)]  # half-width 0.5: 14 intervals exclude 0
    null = aggregate_metrics(_rows("null_table3", 0.0, est, covariate="hormone_therapy"))
    power = aggregate_metrics(_rows("calibrated", 0.0, est, covariate="hormone_therapy"))
    row = add_overall_rejection(null).iloc[0]
    assert (row["rejection_overall_count"], row["rejection_overall_trials"]) == (14, 150)
    assert row["rejection_overall_ci_lower"] == pytest.approx(stats.beta.ppf(0.025, 14, 137))
    assert row["rejection_overall_ci_upper"] == pytest.approx(stats.beta.ppf(0.975, 15, 136))
    pmf = stats.binom.pmf(range(151), 150, 0.05)
    exact = pmf[pmf <= pmf[14] * (1 + 1e-7)].sum()
    assert row["rejection_overall_p_exact"] == pytest.approx(exact)
    assert round(row["rejection_overall_p_exact"], 3) == 0.023
    assert np.isnan(add_overall_rejection(power).iloc[0]["rejection_overall_p_exact"])


def test_overall_rejection_counts_a_dropped_covariate_as_not_rejected():
    """Selection: 3 of 5 replicates keep the covariate, 2 of them reject; one replicate failed
    (left out of ``excluding_failed``): 2 rejections in 4 fits, the rate x share identity."""
    est = np.array([1.0, 1.0, 0.0, np.nan, np.nan])
    rows = _rows(
        "null_table3",
        0.0,
        est,
        selected=np.array([1, 1, 1, 0, 0]),
        failed=np.array([0, 0, 0, 0, 1]),
        covariate="hormone_therapy",
    )
    row = add_overall_rejection(aggregate_metrics(rows)).iloc[0]
    assert row["fits"] == "excluding_failed"
    assert (row["rejection_overall_count"], row["rejection_overall_trials"]) == (2, 4)
    assert row["rejection_rate_overall"] == pytest.approx(2 / 4)


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="lack columns"):
        aggregate_metrics(pd.DataFrame({"scenario": ["a"]}))


def test_plan_shards_covers_every_replicate_once():
    specs = plan_shards(["calibrated", "null"], [78, 150], replicates=10, shard_size=4)
    assert len(specs) == 2 * 2 * 3
    for scenario in ("calibrated", "null"):
        got = sorted(r for s in specs if s.scenario == scenario and s.n == 78 for r in s.replicates)
        assert got == list(range(10))
    with pytest.raises(ValueError, match="must both be positive"):
        plan_shards(["a"], [78], replicates=0, shard_size=4)


def test_replicate_seed_depends_only_on_its_keys():
    a = np.random.default_rng(replicate_seed(1, "null", 78, 5)).random()
    b = np.random.default_rng(replicate_seed(1, "null", 78, 5)).random()
    c = np.random.default_rng(replicate_seed(1, "calibrated", 78, 5)).random()
    assert a == b and a != c


def _work(spec):
    rng_rows = []
    for r in spec.replicates:
        rng = np.random.default_rng(replicate_seed(7, spec.scenario, spec.n, r))
        e = rng.normal(-0.5, 0.3)
        rng_rows.append(_rows(spec.scenario, -0.5, np.array([e])).assign(replicate=r))
    return pd.concat(rng_rows)


def test_killed_study_resumes_to_the_same_aggregate(tmp_path):
    specs = plan_shards(["calibrated"], [78], replicates=12, shard_size=3)
    full = tmp_path / "full"
    run_shards(full, specs, _work)
    expected = aggregate_metrics(collect_shards(full, specs)[0])

    part = tmp_path / "part"
    calls = []

    def crashing(spec):
        calls.append(spec.index)
        if spec.index == 2:
            raise RuntimeError("killed")
        return _work(spec)

    status = run_shards(part, specs[:3], crashing)
    assert list(status["state"]) == ["done", "done", "failed"]
    _, partial_status = collect_shards(part, specs)
    assert list(partial_status["state"]) == ["done", "done", "failed", "missing"]
    assert "killed" in partial_status.loc[2, "message"]

    calls.clear()
    status = run_shards(part, specs, _work)
    assert list(status["state"]) == ["skipped", "skipped", "done", "done"]
    rows, final_status = collect_shards(part, specs)
    assert set(final_status["state"]) == {"done"}
    pd.testing.assert_frame_equal(aggregate_metrics(rows), expected)


def _work_crashing_on_shard_1(spec):
    if spec.index == 1:
        raise RuntimeError("shard 1 crashed")
    return _work(spec)


def test_worker_processes_give_the_same_shard_files(tmp_path):
    """Shards computed in two spawned processes: byte-identical files to a one-process run,
    statuses in plan order, and a crash in a worker reported like any other."""
    specs = plan_shards(["calibrated"], [78], replicates=8, shard_size=2)
    run_shards(tmp_path / "one", specs, _work)
    status = run_shards(tmp_path / "two", specs, _work_crashing_on_shard_1, workers=2)
    assert list(status["shard"]) == [s.name for s in specs]
    assert list(status["state"]) == ["done", "failed", "done", "done"]
    assert "shard 1 crashed" in status.loc[1, "message"]
    for spec in specs:
        if spec.index != 1:
            name = f"{spec.name}.csv"
            assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()


def test_empirical_type_s_and_exaggeration_by_hand():
    """Significant (interval excludes 0): e = -1, -3 and +0.8; truth -0.5."""
    est = np.array([-1.0, -0.5, 0.0, -3.0, 0.8])
    out = aggregate_metrics(_rows("calibrated", -0.5, est, half_width=0.5)).iloc[0]
    assert out["type_s"] == pytest.approx(1 / 3)
    ratios = np.array([1.0, 3.0, 0.8]) / 0.5
    assert out["exaggeration"] == pytest.approx(ratios.mean())
    assert out["exaggeration_mcse"] == pytest.approx(ratios.std(ddof=1) / np.sqrt(3))
    assert out["interval_se"] == pytest.approx(0.5 / 1.959963984540054)


def test_closed_form_design_matches_a_large_normal_replicate_set():
    """Replicates drawn as N(truth, se^2) with Wald intervals: the empirical power, type S and
    exaggeration agree with add_design_analysis' closed form within 4 MCSE."""
    rng = np.random.default_rng(7)
    truth, se = np.log(0.6), 0.5
    est = rng.normal(truth, se, 200_000)
    rows = _rows("calibrated", truth, est, half_width=1.959963984540054 * se)
    out = add_design_analysis(aggregate_metrics(rows)).iloc[0]
    power_mcse = np.sqrt(out["design_power"] * (1 - out["design_power"]) / len(est))
    assert out["rejection_rate"] == pytest.approx(out["design_power"], abs=4 * power_mcse)
    assert out["type_s"] == pytest.approx(out["design_type_s"], abs=4 * out["type_s_mcse"])
    assert out["exaggeration"] == pytest.approx(
        out["design_exaggeration"], abs=4 * out["exaggeration_mcse"]
    )
