"""Each sentence kind of :mod:`bayes_bcsm.report.sentences` checked against its definition.

The claims a sentence makes are read back from its text and tested on cases whose answer is
known, on both sides of each boundary: credibility by building the sceptic's or advocate's
prior the sentence describes and computing the conjugate posterior
(:func:`bayes_bcsm.reinterpret.reanalyse`, whose closed form ``tests/reinterpret`` checks);
shrinkage against the prior weight written out by hand; folds and intervals against the
arithmetic they state.
"""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from bayes_bcsm.hazard_ratios import PUBLISHED, published_estimates, summary_level_label
from bayes_bcsm.reinterpret import credibility, prior_grid, reanalyse, reinterpret
from bayes_bcsm.report.compare_report import printed_vs_patient_level
from bayes_bcsm.report.reinterpret_report import (
    design_sentence,
    posterior_sentence,
    reinterpretation_lines,
)
from bayes_bcsm.report.sentences import (
    PPC_COVERAGE_FLOOR,
    bias_direction,
    credibility_sentence,
    draw_percent,
    extrapolation_sentence,
    fold_comparison,
    hr_direction,
    interval_position,
    percent,
    ppc_sentence,
    probability_clause,
    rejection_test,
    shrinkage_sentence,
    surprise,
)
from bayes_bcsm.study import load_targets

Z95 = 1.959963984540054
CLAIM = re.compile(
    r"posterior 95% interval (excludes|includes) 1 if the prior 95% interval is "
    r"(narrower|wider) than \(([^,]+), ([^)]+)\), and (excludes|includes) 1 if it is "
    r"(narrower|wider)"
)


def _excludes_one(lower, upper, prior_mean_log, prior_sd_log):
    """Whether the conjugate posterior's 95 % interval excludes 1, the likelihood centred (as
    Matthews does) at the geometric mean of the printed bounds."""
    centre = math.sqrt(lower * upper)
    post = reanalyse(centre, lower, upper, math.exp(prior_mean_log), prior_sd_log)
    return post.upper < 1 or post.lower > 1


def _check_claims(sentence, lower, upper, prior):
    """Read both claims off the sentence and test each on its own side of the stated interval.

    ``prior(a, b, factor)`` is the (mean, SD) on the log scale of the prior whose 95 % interval
    is the stated ``(a, b)`` made ``factor`` times as wide on the log scale.
    """
    match = CLAIM.search(sentence)
    assert match, sentence
    outcome, side, a, b, other_outcome, other_side = match.groups()
    assert {side, other_side} == {"narrower", "wider"} and outcome != other_outcome
    for claimed, where in ((outcome, side), (other_outcome, other_side)):
        for factor in (0.9, 0.99) if where == "narrower" else (1.01, 1.1):
            excludes = _excludes_one(lower, upper, *prior(float(a), float(b), factor))
            assert excludes == (claimed == "excludes"), (sentence, where, factor)


def _advocate(a, b, factor):
    """Advocate's prior: 95 % interval from 1 to the stated bound, the log width scaled."""
    bound = a if b == 1 else b
    log_bound = factor * math.log(bound)
    return log_bound / 2, abs(log_bound) / (2 * Z95)


def _sceptic(a, b, factor):
    """Sceptic's prior: centred on no effect, 95 % interval the stated one, scaled."""
    return 0.0, factor * (math.log(b) - math.log(a)) / (2 * Z95)


@pytest.mark.parametrize(
    ("lower", "upper"),
    [(0.019, 2.387), (0.357, 4.138), (0.169, 9.667), (0.6, 1.2), (0.8, 3.0), (0.9, 1.05)],
)
def test_advocacy_sentence_holds_on_both_sides_of_the_limit(lower, upper):
    """Printed Table 3 intervals (receptor, pre-op and post-op ASIA) and made-up ones on both
    sides of 1: every advocacy prior narrower than the stated one convinces, a wider does not."""
    limits = credibility(lower, upper)
    sentence = credibility_sentence(limits.sceptical_limit, limits.advocacy_limit)
    assert "advocacy limit applies" in sentence
    _check_claims(sentence, lower, upper, _advocate)
    centre_side = "benefit" if lower * upper < 1 else "harm"
    assert f"advocate's prior of {centre_side}" in sentence


def test_receptor_advocacy_prior_examples_of_the_issue():
    """Issue 20: for 0.214 (0.019-2.387), advocacy priors (0.5, 1) and (0.01, 1) convince and
    (2e-5, 1), wider than AL = 2.81e-05, does not; the sentence says exactly that."""
    limits = credibility(0.019, 2.387)
    sentence = credibility_sentence(limits.sceptical_limit, limits.advocacy_limit)
    assert "narrower than (2.81e-05, 1)" in sentence
    for bound, convinces in ((0.5, True), (0.01, True), (2e-5, False)):
        prior = (math.log(bound) / 2, -math.log(bound) / (2 * Z95))
        assert _excludes_one(0.019, 2.387, *prior) == convinces


@pytest.mark.parametrize(("lower", "upper"), [(0.007, 0.727), (1.2, 3.5), (0.5, 0.98)])
def test_sceptical_sentence_holds_on_both_sides_of_the_limit(lower, upper):
    """The printed endocrine-therapy interval and made-up ones: a sceptic's prior wider than the
    stated interval leaves the posterior excluding 1, a narrower one brings 1 back in."""
    limits = credibility(lower, upper)
    sentence = credibility_sentence(limits.sceptical_limit, limits.advocacy_limit)
    assert "sceptical limit applies" in sentence
    _check_claims(sentence, lower, upper, _sceptic)


@pytest.mark.parametrize(
    ("hr", "word"), [(0.5, "benefit"), (0.999, "benefit"), (1.0, "no effect"), (1.001, "harm")]
)
def test_direction(hr, word):
    assert hr_direction(hr) == word


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.2, "inside"),
        (0.5, "inside"),
        (0.1, "inside"),
        (0.0999, "**outside**"),
        (0.51, "**outside**"),
    ],
)
def test_interval_position_at_and_beyond_the_bounds(value, expected):
    assert interval_position(value, 0.1, 0.5) == expected


FOLD = re.compile(r"^(?:([\d.]+)-fold (higher|lower) than|within 10% of) the printed aHR")


@pytest.mark.parametrize(
    ("estimate", "reference"),
    [(0.35, 0.07), (0.07, 0.35), (1.05, 1.0), (0.95, 1.0), (1.12, 1.0), (0.89, 1.0), (2.55, 1.277)],
)
def test_fold_sentence_states_the_ratio_and_its_direction(estimate, reference):
    text = fold_comparison(
        estimate, estimate / 2, estimate * 2, reference, 0.01, 100, "the printed aHR"
    )
    fold, direction = FOLD.match(text).groups()
    ratio = estimate / reference
    if fold is None:
        assert 1 / 1.1 < ratio < 1.1
    else:
        assert not 1 / 1.1 < ratio < 1.1
        assert float(fold) == pytest.approx(max(ratio, 1 / ratio), abs=0.05)
        assert direction == ("higher" if ratio > 1 else "lower")


@pytest.mark.parametrize(
    ("interval", "overlapping"),
    [((0.5, 1.0), True), ((1.5, 2.0), True), ((0.2, 0.999), False), ((1.501, 3.0), False)],
)
def test_overlap_sentence_on_both_sides_of_touching(interval, overlapping):
    """The reference interval is (1.0, 1.5): touching intervals share a point."""
    text = fold_comparison(0.8, *interval, 1.2, 1.0, 1.5, "the printed aHR")
    assert text.endswith("intervals overlapping" if overlapping else "**not overlapping**")


@pytest.mark.parametrize(
    ("hr", "lower", "upper"), [(1.277, 0.169, 9.667), (0.070, 0.007, 0.727), (0.214, 0.019, 2.387)]
)
def test_shrinkage_sentence_states_the_share_the_prior_leaves(hr, lower, upper):
    """Under a prior centred on no effect, the posterior log-HR is the printed one times
    t^2 / (t^2 + s^2) (s: the printed SE, t: the prior SD; Spiegelhalter et al. 2004, 3.6),
    which is the share the sentence states."""
    sd = math.log(2) / 1.2815515655446004  # the moderate neutral prior: P(HR < 0.5) = 10 %
    post = reanalyse(hr, lower, upper, 1.0, sd)
    text = shrinkage_sentence(hr, post.median_hr, "moderate neutral")
    se = (math.log(upper) - math.log(lower)) / (2 * Z95)
    kept = float(re.search(r"keeping ([\d.]+)% of its log-HR", text).group(1)) / 100
    assert "towards no effect" in text
    assert kept == pytest.approx(sd**2 / (sd**2 + se**2), abs=0.005)


def test_shrinkage_sentence_away_from_and_across_no_effect():
    """A prior centred on benefit moves a printed 0.9 further from 1 (and keeps more than all
    of its log-HR), and a strong one moves a printed 1.2 across 1."""
    away = reanalyse(0.9, 0.6, 1.35, 0.5, 0.3)
    assert away.median_hr < 0.9
    assert "away from no effect" in shrinkage_sentence(0.9, away.median_hr, "optimistic")
    across = reanalyse(1.2, 0.6, 2.4, 0.5, 0.1)
    assert across.median_hr < 1
    assert "across no effect" in shrinkage_sentence(1.2, across.median_hr, "optimistic")


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.5, "50%"),
        (0.01, "1%"),
        (0.004, "0.4%"),
        (0.99, "99%"),
        (0.9949, "99%"),
        (0.995, "99.5%"),
        (0.996, "99.6%"),
        (0.9999, "99.99%"),
        (0.99999, "> 99.99%"),
        (3e-16, "< 0.01%"),
        (0.0, "0%"),
        (1.0, "100%"),
    ],
)
def test_percent(p, text):
    assert percent(p) == text


@given(st.floats(min_value=0.0, max_value=1.0))
def test_percent_never_rounds_to_certainty(p):
    """'0%' and '100%' only for exactly 0 and 1, and the stated figure is within its rounding."""
    text = percent(p)
    if text.startswith(("<", ">")):
        assert (text == "< 0.01%" and 0 < p < 1e-4) or (text == "> 99.99%" and 1 - 1e-4 < p < 1)
        return
    stated = float(text.rstrip("%")) / 100
    assert (stated == 0.0) == (p == 0.0)
    assert (stated == 1.0) == (p == 1.0)
    if 0.01 <= p < 0.995:
        assert abs(stated - p) <= 0.005 + 1e-12
    else:
        assert abs(stated - p) <= 0.5 * max(min(p, 1 - p), 1e-300) + 1e-15


@pytest.mark.parametrize(
    ("p", "n", "text"),
    [
        (0.0, 4000, "< 0.03%"),
        (1.0, 4000, "> 99.97%"),
        (0.0, 1000, "< 0.1%"),
        (1.0, 1000, "> 99.9%"),
        (0.0, 3, "< 34%"),
        (0.5, 4000, "50%"),
        (0.00025, 4000, "0.03%"),
    ],
)
def test_draw_percent(p, n, text):
    assert draw_percent(p, n) == text


@given(st.integers(min_value=1, max_value=10**7), st.integers(min_value=0, max_value=10**7))
def test_draw_percent_bounds_none_or_all_of_the_draws_truthfully(n, k):
    """k of n draws: strictly between, as :func:`percent`; none (all) of them, a bound that is
    true of every probability below (above) one draw's share and at most twice as loose."""
    k = min(k, n)
    text = draw_percent(k / n, n)
    if 0 < k < n:
        assert text == percent(k / n)
        return
    one_draw = 100.0 / n
    bound = float(text[2:].rstrip("%"))
    if k == 0:
        assert text.startswith("< ") and one_draw <= bound + 1e-9 <= 2 * one_draw + 1e-9
    else:
        assert text.startswith("> ") and one_draw <= 100 - bound + 1e-9 <= 2 * one_draw + 1e-9


def test_probability_clause():
    assert probability_clause("HR<1", "42%") == "P(HR<1)=42%"
    assert probability_clause("HR<1", "< 0.03%") == "P(HR<1) < 0.03%"
    assert probability_clause("TR<1", "> 99.97%") == "P(TR<1) > 99.97%"


def test_compare_report_measures_folds_against_the_printed_aHR_not_the_re_reading():
    """Post-op ASIA: printed 1.277 (0.169-9.667), re-read 1.05 under the moderate neutral prior;
    our Cox 2.55 is 2.0-fold the printed aHR (the MLE), not 2.4-fold the re-read 1.05."""
    reread = summary_level_label("moderate neutral")
    rows = [
        (PUBLISHED, 1.277, 0.169, 9.667),
        (reread, 1.05, 0.45, 2.45),
        ("cox", 2.55, 1.4, 5.9),
        ("weibull", 2.2, 1.0, 4.6),
    ]
    table = pd.DataFrame(
        [
            dict(covariate="asia_post", model=m, estimate=e, lower=lo, upper=up)
            for m, e, lo, up in rows
        ]
    )
    ours = table[table["model"].isin(["cox", "weibull"])]
    comparison = SimpleNamespace(
        hazard_ratios=table,
        default_prior="moderate neutral",
        printed_vs_posteriors=ours,
        printed_vs_cox=ours[ours["model"] == "cox"].assign(ref_estimate=1.277),
    )
    (line,) = printed_vs_patient_level(comparison)
    assert (
        "our Cox fit on this cohort 2.55 (1.40-5.90), 2.0-fold higher than the printed aHR" in line
    )
    assert "the weibull posterior on this cohort 2.20 (1.00-4.60), 1.7-fold higher" in line
    assert "re-read under the moderate neutral prior 1.05 (0.45-2.45)" in line
    assert "pulls it towards no effect, keeping 20% of its log-HR" in line  # log 1.05 / log 1.277
    assert "The printed aHR 1.277 lies **outside** our Cox 95% CI" in line


def test_reinterpret_report_reads_each_printed_limit_the_right_way_round(tmp_path):
    """The re-analysis section on the paper's four Table 3 aHRs: one credibility sentence per
    estimate, each passing the both-sides check above; no trace of the inverted wording."""
    estimates = published_estimates(load_targets())
    result = reinterpret(estimates, prior_grid())
    text = "\n".join(reinterpretation_lines(result, "moderate neutral", plots=False))
    assert "already supports" not in text and "as small as" not in text
    for estimate in estimates:
        (line,) = [s for s in text.splitlines() if s.startswith(f"- **{estimate.name}**: the ")]
        prior = _sceptic if estimate.excludes_one else _advocate
        _check_claims(line, estimate.lower, estimate.upper, prior)


@pytest.mark.parametrize(
    ("p", "word"),
    [
        (0.0, "very unlikely"),
        (0.0099, "very unlikely"),
        (0.01, "unlikely"),
        (0.0499, "unlikely"),
        (0.05, "uncommon"),
        (0.1999, "uncommon"),
        (0.2, "unremarkable"),
        (0.6, "unremarkable"),
    ],
)
def test_surprise_words_on_both_sides_of_each_band(p, word):
    assert surprise(p) == word


@pytest.fixture(scope="module")
def paper_reinterpretation():
    return reinterpret(published_estimates(load_targets()), prior_grid())


def test_posterior_sentence_probabilities_are_the_closed_form(paper_reinterpretation):
    """Each estimate's P(HR < 1) and P(HR < 0.5) under the moderate neutral prior, and the range
    over the grid, against the conjugate posterior written out here (normal prior N(m, t^2) on
    the log-HR, likelihood N(log hr, s^2); Spiegelhalter et al. 2004, 3.6)."""
    result = paper_reinterpretation
    for estimate in result.estimates:
        text = posterior_sentence(result, estimate.name, "moderate neutral")
        s = (math.log(estimate.upper) - math.log(estimate.lower)) / (2 * Z95)

        def prob_below(threshold, prior, s=s, estimate=estimate):
            m, t = math.log(prior.mean_hr), prior.sd_log
            mean = (m / t**2 + math.log(estimate.hr) / s**2) / (1 / t**2 + 1 / s**2)
            sd = (1 / t**2 + 1 / s**2) ** -0.5
            return stats.norm.cdf((math.log(threshold) - mean) / sd)

        chosen = next(p for p in result.priors if p.name == "moderate neutral")
        stated = re.search(r"lowers the hazard \(HR < 1\) is ([\d.]+%)", text).group(1)
        assert stated == percent(prob_below(1.0, chosen))
        halving = re.search(r"halving it \(HR < 0.5\) is ([\d.]+%)", text).group(1)
        assert halving == percent(prob_below(0.5, chosen))
        low, low_prior, high, high_prior = re.search(
            r"ranges from ([\d.]+%) \(([^)]+)\) to ([\d.]+%) \(([^)]+)\)", text
        ).groups()
        grid = {p.name: prob_below(1.0, p) for p in result.priors}
        assert low_prior == min(grid, key=grid.get) and low == percent(min(grid.values()))
        assert high_prior == max(grid, key=grid.get) and high == percent(max(grid.values()))


def test_design_sentence_power_and_distance_from_one(paper_reinterpretation):
    """Power at the true HR nearest 0.5 (Gelman & Carlin 2014: Phi(-z - D/s) + 1 - Phi(z - D/s))
    and, for a significant printed HR, how many times as far from 1 it lies (log scale)."""
    result = paper_reinterpretation
    for estimate in result.estimates:
        text = design_sentence(result, estimate.name)
        true_hr, stated = re.search(
            r"true HR of ([\d.]+) with probability ([\d.]+%)", text
        ).groups()
        lam = math.log(float(true_hr)) / estimate.se_log
        power = stats.norm.cdf(-Z95 - lam) + 1 - stats.norm.cdf(Z95 - lam)
        assert stated == percent(power)
        far = re.search(r"lies ([\d.]+) times as far from 1", text)
        assert (far is not None) == estimate.excludes_one
        if far:
            ratio = math.log(estimate.hr) / math.log(float(true_hr))
            assert float(far.group(1)) == pytest.approx(ratio, abs=0.05)


def test_extrapolation_sentence_names_exactly_what_lies_beyond_follow_up():
    """Rossi: followed 11.96 months; S(60) and the median beyond it are named, S(6) is not."""
    text = extrapolation_sentence(11.96, ["median_survival_months", "S(60)"])
    assert text.startswith("Follow-up ends at 12 months:")
    assert "median_survival_months, S(60) (marked extrapolated)" in text and "S(6)" not in text
    assert extrapolation_sentence(120.0, []) == (
        "Follow-up ends at 120 months; every survival figure below lies within it."
    )


@pytest.mark.parametrize(
    ("coverage", "fits"),
    [(1.0, True), (PPC_COVERAGE_FLOOR, True), (PPC_COVERAGE_FLOOR - 0.005, False), (0.2, False)],
)
def test_ppc_sentence_on_both_sides_of_its_floor(coverage, fits):
    text = ppc_sentence(coverage, 0.95)
    assert ("lies within the 95% band" in text) is fits
    assert ("**leaves**" in text) is not fits
    share = coverage if fits else 1 - coverage
    assert f"at {percent(share)} of the times" in text


BIAS = re.compile(
    r"^([+-]\d\.\d{3}) \(MCSE (\d\.\d{3})(?:, (\d+\.\d) MCSE)?\): (?:(no bias detectable)|"
    r"towards (benefit|harm) \(estimated HRs too (small|large)\), (away from|towards|past) "
    r"no effect)"
)


@pytest.mark.parametrize(
    ("bias", "mcse", "estimand"),
    [
        (-0.099, 0.023, 0.0014),  # issue 20: Weibull default under the Table 3 null
        (-0.078, 0.026, 0.0003),  # piecewise default, same scenario
        (0.003, 0.027, -0.94),  # Weibull default, calibrated: nothing detectable
        (0.0399, 0.02, -0.94),  # 1.995 MCSE: just inside the boundary
        (0.0401, 0.02, -0.94),  # 2.005 MCSE: just outside, towards no effect
        (-0.0401, 0.02, -0.94),  # away from no effect
        (0.32, 0.016, -0.94),  # the sceptical prior: towards no effect
        (1.2, 0.1, -0.98),  # beyond the estimand's size: past no effect
        (-0.5, 0.1, 0.3),  # negative bias of a positive estimand: towards, then past
        (-0.25, 0.1, 0.3),
        (0.25, 0.1, 0.01),  # a null estimand: any detectable bias is away from no effect
    ],
)
def test_bias_direction_against_its_definition(bias, mcse, estimand):
    """The sentence's claims, recomputed from the definition: detectable iff |bias| > 2 MCSE;
    benefit iff the bias is negative (mean estimate below the estimand, HRs too small); relative
    to no effect by where the mean estimate (estimand + bias) lies: further from 0 on the
    estimand's side (away), between the estimand and 0 (towards), beyond 0 (past); a null
    estimand (|value| < 0.02) makes any bias point away."""
    text = bias_direction(bias, mcse, estimand)
    match = BIAS.match(text)
    assert match, text
    stated_bias, stated_mcse, stated_z, none, way, size, relative = match.groups()
    assert float(stated_bias) == pytest.approx(bias, abs=5e-4)
    assert float(stated_mcse) == pytest.approx(mcse, abs=5e-4)
    detectable = abs(bias) > 2 * mcse
    assert (none is None) == detectable
    if not detectable:
        return
    assert float(stated_z) == pytest.approx(abs(bias) / mcse, abs=0.05)
    assert way == ("benefit" if bias < 0 else "harm")
    assert size == ("small" if bias < 0 else "large")
    mean = estimand + bias
    if abs(estimand) < 0.02 or (abs(mean) > abs(estimand) and mean * estimand > 0):
        assert relative == "away from"
    elif mean * estimand > 0:
        assert relative == "towards"
    else:
        assert relative == "past"


REJECTION = re.compile(
    r"^(\d+) of (\d+) \((\d+\.\d)%, exact 95% CI (\d+\.\d)-(\d+\.\d)%\), exact binomial test "
    r"against 5%: P (?:= ([\d.e-]+)|< 0\.001), (above 5%|below 5%|compatible with 5%)$"
)


def _two_sided_exact_p(k, m, p):
    """Exact two-sided binomial P written out: the total probability of the outcomes no more
    likely than k (with scipy's relative tolerance for ties, 1 + 1e-7)."""
    pmf = stats.binom.pmf(range(m + 1), m, p)
    return min(1.0, pmf[pmf <= pmf[k] * (1 + 1e-7)].sum())


def _clopper_pearson(k, m):
    """Exact 95 % interval from the beta quantiles (Clopper & Pearson 1934)."""
    low = stats.beta.ppf(0.025, k, m - k + 1) if k > 0 else 0.0
    high = stats.beta.ppf(0.975, k + 1, m - k) if k < m else 1.0
    return low, high


@pytest.mark.parametrize(
    ("count", "trials"),
    [(14, 150), (12, 150), (8, 150), (3, 135), (0, 146), (2, 150), (25, 150)],
)
def test_rejection_test_against_the_exact_binomial(count, trials):
    """Issue 20: Firth's 14 of 150 under the Table 3 null is P = 0.023 (exact 95 % CI 5.2-15.2 %),
    above 5 %; Cox's 12 of 150 (P = 0.092) is compatible with it. Each stated figure is
    recomputed from the binomial pmf and beta quantiles, and the verdict from P < 0.05 and the
    side of the observed share."""
    text = rejection_test(count, trials)
    match = REJECTION.match(text)
    assert match, text
    k, m, share, low, high, p_text, verdict = match.groups()
    assert (int(k), int(m)) == (count, trials)
    assert float(share) == pytest.approx(100 * count / trials, abs=0.05)
    cp_low, cp_high = _clopper_pearson(count, trials)
    assert float(low) == pytest.approx(100 * cp_low, abs=0.05)
    assert float(high) == pytest.approx(100 * cp_high, abs=0.05)
    p = _two_sided_exact_p(count, trials, 0.05)
    if p_text is None:
        assert p < 0.001
    else:
        assert float(p_text) == pytest.approx(p, rel=0.05)
    if p >= 0.05:
        assert verdict == "compatible with 5%"
    else:
        assert verdict == ("above 5%" if count / trials > 0.05 else "below 5%")
    if (count, trials) == (14, 150):
        assert (p_text, low, high, verdict) == ("0.023", "5.2", "15.2", "above 5%")


def test_time_ratio_sentence_names_the_models_and_reads_above_one_as_longer_survival():
    """An AFT model's ratio multiplies survival time (log T = mu + x gamma + sigma W): a ratio
    above 1 stretches it. The sentence says so, names the models, and calls them anything but
    hazard ratios; without such models it says nothing."""
    from bayes_bcsm.report.sentences import time_ratio_sentence

    assert time_ratio_sentence([]) == ""
    text = time_ratio_sentence(["lognormal", "loglogistic"])
    assert text.startswith("The lognormal, loglogistic rows are time ratios")
    assert "not hazard ratios" in text
    assert "above 1 means survival times longer" in text and "below 1" in text
    assert "shorter (worse)" in text


def test_stacking_sentence_orders_families_by_weight_and_labels_extrapolation():
    from bayes_bcsm.report.sentences import stacking_sentence

    text = stacking_sentence({"weibull": 0.3, "loglogistic": 0.696, "exponential": 0.004}, 102.0)
    assert text.startswith(
        "Stacking gives loglogistic 70%, weibull 30%, exponential 0.4% of the weight."
    )
    assert "Beyond 102 months (the last follow-up) every curve is extrapolation" in text
    # 100% and 0% only for weights that are exactly 1 and 0; a weight of 0.997 is not all
    assert stacking_sentence({"a": 0.0, "b": 1.0}, 10.0).startswith(
        "Stacking gives b 100%, a 0% of the weight."
    )
    assert stacking_sentence({"a": 0.003, "b": 0.997}, 10.0).startswith(
        "Stacking gives b 99.7%, a 0.3% of the weight."
    )
