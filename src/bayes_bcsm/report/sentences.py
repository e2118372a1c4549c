"""Sentences that state a direction, a comparison or a probability, one function per kind.

Each function turns numbers into one clause and decides its wording from those numbers alone, so
``tests/report/test_sentences.py`` can check each kind against its definition on cases whose
answer is known (on both sides of every boundary):

- :func:`percent`: a probability as a percentage;
- :func:`draw_percent`: a share of posterior draws as a percentage (none or all: a bound);
- :func:`probability_clause`: ``P(event)=x`` or ``P(event) < x``;
- :func:`hr_direction`: which way a hazard ratio points;
- :func:`time_ratio_sentence`: which models' ratios are time ratios, and which way those point;
- :func:`credibility_sentence`: Matthews' sceptical or advocacy limit, read the right way round;
- :func:`interval_position`: whether a value lies inside or outside an interval;
- :func:`fold_comparison`: how many times one hazard ratio is another, and whether two
  intervals overlap;
- :func:`shrinkage_sentence`: how far a prior pulls a printed hazard ratio towards no effect;
- :func:`surprise`: how surprising a printed figure is, from the probability of seeing it;
- :func:`extrapolation_sentence`: which survival figures lie beyond the last follow-up;
- :func:`stacking_sentence`: how stacking shares the weight among model families;
- :func:`p_statement`: a P value, never "P = 0";
- :func:`profile_sentence`: what the ``reference`` and other survival profiles are;
- :func:`prior_adjusted_sentence`: a posterior the prior moved away from the Cox estimate;
- :func:`ppc_sentence`: whether the data's Kaplan-Meier curve lies within the predictive band;
- :func:`bias_direction`: whether a simulation's bias is detectable and which way it points;
- :func:`rejection_test`: a rejection count against its nominal rate, by the exact binomial test;
- :func:`rmst_gain_sentence`: how many months an exposure adds (or costs) within the first tau;
- :func:`naive_immortal_sentence`, :func:`printed_reach_sentence`: what immortal time does to a
  naive aHR, and whether it reaches a printed one;
- :func:`c_index_sentence`: a C-index against chance (1/2), from its interval;
- :func:`discrimination_comparison`: whether one predictor ranks patients better than another,
  from the interval of their paired difference in C.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from scipy import stats

__all__ = [
    "bias_direction",
    "c_index_sentence",
    "credibility_sentence",
    "discrimination_comparison",
    "draw_percent",
    "extrapolation_sentence",
    "fold_comparison",
    "hr_direction",
    "interval_percent",
    "interval_position",
    "naive_immortal_sentence",
    "p_statement",
    "percent",
    "ppc_sentence",
    "printed_reach_sentence",
    "prior_adjusted_sentence",
    "probability_clause",
    "profile_sentence",
    "rejection_test",
    "rmst_gain_sentence",
    "shrinkage_sentence",
    "stacking_sentence",
    "surprise",
    "time_ratio_sentence",
]

#: Upper ends of the probability bands :func:`surprise` names, with their words.
SURPRISE_BANDS: tuple[tuple[float, str], ...] = (
    (0.01, "very unlikely"),
    (0.05, "unlikely"),
    (0.20, "uncommon"),
)


def interval_percent(probability: float) -> str:
    """The probability of an interval or band as configured: 0.95 -> ``"95%"``, 0.975 ->
    ``"97.5%"`` (never rounded, unlike :func:`percent`, so it names the setting exactly).

    Parameters
    ----------
    probability : float
        Between 0 and 1 (e.g. ``report.hdi_prob``).
    """
    return f"{100 * probability:.10g}%"


def percent(probability: float) -> str:
    """A probability (0-1) as a percentage that never rounds to certainty.

    Whole percent between 1 % and 99 %; below 1 % one significant digit (``0.004`` ->
    ``"0.4%"``), and above 99 % one significant digit of the complement (``0.996`` ->
    ``"99.6%"``), down to "< 0.01%" and up to "> 99.99%" (Monte Carlo estimates resolve no
    finer), so "0%" and "100%" are said only of probabilities that are exactly 0 or 1.

    Parameters
    ----------
    probability : float
        Between 0 and 1 (a share above 1, such as the part of a log-HR a prior keeps, is given
        in whole percent).
    """
    if probability in (0.0, 1.0):
        return f"{100 * probability:.0f}%"
    if probability < 1e-4:
        return "< 0.01%"
    if 1 - 1e-4 < probability < 1:
        return "> 99.99%"
    if probability < 0.01:
        return f"{100 * probability:.1g}%"
    if 0.995 <= probability < 1:
        complement = float(f"{100 * (1 - probability):.1g}")
        return f"{100 - complement:.{_decimals(complement)}f}%"
    return f"{100 * probability:.0f}%"


def draw_percent(probability: float, n_draws: int) -> str:
    """A probability estimated as the share of ``n_draws`` posterior draws, as a percentage.

    As :func:`percent`, except that a share of exactly 0 or 1 (none or all of the draws) is
    not a certainty but a bound: ``"< 0.03%"`` and ``"> 99.97%"`` for 4,000 draws (one draw's
    share, ``1 / n_draws``, rounded up to one significant digit).

    Parameters
    ----------
    probability : float
        The share of draws (0-1).
    n_draws : int
        The number of draws it is a share of (> 0).
    """
    if 0.0 < probability < 1.0:
        return percent(probability)
    one_draw = 100.0 / n_draws
    digits = _decimals(one_draw)
    bound = math.ceil(round(one_draw * 10**digits, 9)) / 10**digits  # up, past rounding noise
    if probability == 0.0:
        return f"< {bound:.{digits}f}%"
    return f"> {100.0 - bound:.{digits}f}%"


def probability_clause(event: str, text: str, equals: str = "=") -> str:
    """``"P(<event>)=<text>"`` (``equals`` between them, e.g. ``" = "`` in a sentence), or
    ``"P(<event>) < 0.03%"`` when ``text`` is a bound."""
    if text.startswith(("<", ">")):
        return f"P({event}) {text}"
    return f"P({event}){equals}{text}"


def _decimals(value: float) -> int:
    """Decimal places that show a positive number given to one significant digit in full."""
    return max(0, -math.floor(math.log10(value)))


def hr_direction(hr: float) -> str:
    """``"benefit"`` for a hazard ratio below 1, ``"harm"`` above 1, ``"no effect"`` at 1.

    Parameters
    ----------
    hr : float
        Hazard ratio (> 0).
    """
    if hr < 1:
        return "benefit"
    return "harm" if hr > 1 else "no effect"


def _interval(bound: float) -> str:
    """A 95 % prior interval from no effect to ``bound``, written low to high."""
    return f"({bound:.3g}, 1)" if bound < 1 else f"(1, {bound:.3g})"


def credibility_sentence(sceptical_limit: float, advocacy_limit: float) -> str:
    """Which of Matthews' credibility limits applies to a 95 % interval, and how to read it.

    Definitions (Matthews 2001; 2018), on the log-HR scale with the likelihood centred at the
    geometric mean of the printed bounds:

    - *sceptical limit* SL (interval excludes 1): a sceptic's normal prior centred on no effect
      with 95 % interval ``(SL, 1/SL)`` leaves the posterior 95 % interval just touching 1; a
      wider sceptical prior leaves it excluding 1, a narrower one makes it include 1.
    - *advocacy limit* AL (interval includes 1): an advocate's normal prior with 95 % interval
      from 1 to AL leaves the posterior 95 % interval just touching 1; every narrower advocacy
      prior (95 % interval from 1 to a bound between 1 and AL) makes it exclude 1, and every
      wider one (bound beyond AL) leaves it including 1. AL is the *widest* advocacy prior that
      still convinces, so the further AL lies from 1, the weaker the prior evidence of an effect
      needed.

    Parameters
    ----------
    sceptical_limit, advocacy_limit : float
        The applicable limit (hazard-ratio scale); the other is NaN
        (:func:`bayes_bcsm.reinterpret.credibility`).

    Returns
    -------
    str
        One clause, without a final full stop.
    """
    if not math.isnan(sceptical_limit):
        sl = sceptical_limit
        bound = f"({sl:.3g}, {1 / sl:.3g})" if sl < 1 else f"({1 / sl:.3g}, {sl:.3g})"
        return (
            "the interval excludes 1, so the sceptical limit applies: combined with a sceptic's "
            "prior centred on no effect, the posterior 95% interval excludes 1 if the prior 95% "
            f"interval is wider than {bound}, and includes 1 if it is narrower; the finding is "
            f"credible only if HRs as extreme as {sl:.3g} are plausible a priori"
        )
    al = advocacy_limit
    return (
        "the interval includes 1, so the advocacy limit applies: combined with an advocate's "
        f"prior of {hr_direction(al)}, the posterior 95% interval excludes 1 if the prior 95% "
        f"interval is narrower than {_interval(al)}, and includes 1 if it is wider; prior "
        f"evidence of {hr_direction(al)} that confines the HR to between 1 and {al:.3g} is enough "
        "to make the result credible evidence of an effect"
    )


def interval_position(value: float, lower: float, upper: float) -> str:
    """``"inside"`` when ``lower <= value <= upper``, ``"**outside**"`` otherwise."""
    return "inside" if lower <= value <= upper else "**outside**"


def fold_comparison(
    estimate: float,
    lower: float,
    upper: float,
    reference: float,
    reference_lower: float,
    reference_upper: float,
    reference_name: str,
) -> str:
    """How many times ``estimate`` is ``reference``, and whether their intervals overlap.

    Parameters
    ----------
    estimate, lower, upper : float
        A hazard ratio and its interval.
    reference, reference_lower, reference_upper : float
        The hazard ratio compared with, and its interval.
    reference_name : str
        What the reference is, e.g. "the printed aHR".

    Returns
    -------
    str
        E.g. ``"4.9-fold higher than the printed aHR, intervals overlapping"``; "within 10% of"
        when the two differ by less than 10 % (ratio between 1/1.1 and 1.1).
    """
    ratio = estimate / reference
    if 1 / 1.1 < ratio < 1.1:
        fold = f"within 10% of {reference_name}"
    else:
        fold = (
            f"{max(ratio, 1 / ratio):.1f}-fold {'higher' if ratio > 1 else 'lower'} than "
            f"{reference_name}"
        )
    overlap = lower <= reference_upper and reference_lower <= upper
    return fold + (", intervals overlapping" if overlap else ", intervals **not overlapping**")


def shrinkage_sentence(printed_hr: float, posterior_hr: float, prior: str) -> str:
    """Where a prior centred on no effect moves a printed hazard ratio.

    Parameters
    ----------
    printed_hr : float
        The printed (maximum-likelihood) hazard ratio.
    posterior_hr : float
        Its summary-level posterior median under ``prior``.
    prior : str
        The prior's name.

    Returns
    -------
    str
        E.g. ``"the moderate neutral prior pulls it towards no effect, keeping 18% of its
        log-HR"``: the share is ``log(posterior_hr) / log(printed_hr)``.
    """
    if printed_hr == 1:
        return f"the printed aHR sits at no effect, where the {prior} prior leaves it"
    kept = math.log(posterior_hr) / math.log(printed_hr)
    if 0 <= kept < 1:
        where = "towards no effect"
    elif kept < 0:
        where = "across no effect"
    else:
        where = "away from no effect"
    return (
        f"the {prior} prior pulls it {where}, keeping {percent(kept) if kept >= 0 else 'none'} "
        "of its log-HR"
    )


def surprise(probability: float) -> str:
    """How surprising a printed figure is, given the probability of seeing it.

    Below 1 %: "very unlikely"; below 5 %: "unlikely"; below 20 %: "uncommon"; otherwise
    "unremarkable" (:data:`SURPRISE_BANDS`). Never "impossible": a probability estimated by
    simulation bounds the surprise, it does not prove a contradiction.

    Parameters
    ----------
    probability : float
        Probability (0-1) of a result on the printed side, e.g.
        :func:`bayes_bcsm.study.consistency.printed_side_probability`.
    """
    for upper, word in SURPRISE_BANDS:
        if probability < upper:
            return word
    return "unremarkable"


def time_ratio_sentence(models: list[str]) -> str:
    """What the ratios of accelerated-failure-time models are, and which way they point.

    Parameters
    ----------
    models : list of str
        The models (variant labels) whose rows are time ratios; empty: none.

    Returns
    -------
    str
        Empty without such models; otherwise e.g. ``"The lognormal rows are time ratios
        (accelerated failure time), not hazard ratios: a time ratio above 1 means survival times
        longer by that factor (better survival), below 1 shorter (worse); these models' hazards
        are not proportional, so they have no hazard ratio."``
    """
    if not models:
        return ""
    names = ", ".join(models)
    return (
        f"The {names} rows are time ratios (accelerated failure time), not hazard ratios: a time "
        "ratio above 1 means survival times longer by that factor (better survival), below 1 "
        "shorter (worse); these models' hazards are not proportional, so they have no hazard "
        "ratio."
    )


def stacking_sentence(weights: dict[str, float], last_follow_up_months: float) -> str:
    """How stacking weights the families, and where the averaged curves become extrapolation.

    Parameters
    ----------
    weights : dict of str to float
        Stacking weight per family (summing to 1).
    last_follow_up_months : float
        The longest follow-up of the data (months).

    Returns
    -------
    str
        E.g. ``"Stacking gives loglogistic 61%, weibull 39%, exponential 0.4% of the weight.
        ... Beyond 132 months (the last follow-up) every curve is extrapolation ..."``: every
        family, by decreasing weight, its weight as :func:`percent` states it (0% and 100%
        only for weights of exactly 0 and 1).
    """
    ordered = sorted(weights.items(), key=lambda kv: -kv[1])
    text = "Stacking gives " + ", ".join(f"{k} {percent(w)}" for k, w in ordered)
    text += " of the weight"
    return (
        f"{text}. The averaged curve is the mixture of the families' posteriors with these "
        "weights (Yao et al. 2018), a prediction, not a choice of one family. Beyond "
        f"{last_follow_up_months:.3g} months (the last follow-up) every curve is "
        "extrapolation: the families' tails, which the data do not inform, and their "
        "disagreement there is the honest uncertainty of any extrapolation."
    )


def extrapolation_sentence(last_follow_up_months: float, beyond: list[str]) -> str:
    """Whether any reported survival figure lies beyond the last follow-up.

    Parameters
    ----------
    last_follow_up_months : float
        The longest follow-up of the data (months).
    beyond : list of str
        The quantities (e.g. ``"S(60)"``, ``"median_survival_months"``) whose time lies beyond
        it (for a median: whose posterior median does).

    Returns
    -------
    str
        E.g. ``"Follow-up ends at 12 months: S(60) (marked extrapolated) come from the model's
        parametric tail, not from observed follow-up."``
    """
    end = f"Follow-up ends at {last_follow_up_months:.3g} months"
    if not beyond:
        return f"{end}; every survival figure below lies within it."
    return (
        f"{end}: {', '.join(beyond)} (marked extrapolated) come from the model's parametric "
        "tail, not from observed follow-up."
    )


#: Share of times within the band below which :func:`ppc_sentence` calls the fit poor.
PPC_COVERAGE_FLOOR = 0.9


def ppc_sentence(coverage: float, prob: float) -> str:
    """How well the data's Kaplan-Meier curve sits in the censored predictive band.

    Parameters
    ----------
    coverage : float
        Share (0-1) of the times on the grid at which the data's curve lies within the
        pointwise band (:meth:`bayes_bcsm.inference.ppc.CensoredPPC.coverage`).
    prob : float
        Probability of the band.

    Returns
    -------
    str
        "lies within" from :data:`PPC_COVERAGE_FLOOR` of the times, else "leaves ... at N% of
        the times: the model misses the shape of the survival curve".
    """
    band = (
        f"the {interval_percent(prob)} band of posterior predictive replicates censored as the "
        "data are"
    )
    if coverage >= PPC_COVERAGE_FLOOR:
        return (
            f"The data's Kaplan-Meier curve lies within {band} at {percent(coverage)} of the "
            "times from 0 to the last follow-up."
        )
    return (
        f"The data's Kaplan-Meier curve **leaves** {band} at {percent(1 - coverage)} of the "
        "times from 0 to the last follow-up: the model misses the shape of the survival curve."
    )


#: The smallest P value stated as a number: below the smallest double a P value underflows to 0.
P_FLOOR = 1e-300


def p_statement(p: float) -> str:
    """``"P = 0.293"``, or ``"P < 1e-300"`` for a P value that underflowed to 0 (never
    ``"P = 0"``: a test statistic cannot prove the null impossible).

    Parameters
    ----------
    p : float
        P value (0-1).
    """
    if p < P_FLOOR:
        return "P < 1e-300"
    return f"P = {p:.3g}"


def prior_adjusted_sentence(label: str, cox_hr: float, posterior_hr: float, shift_sd: float) -> str:
    """A posterior hazard ratio the prior moved from the Cox (maximum-likelihood) estimate.

    Parameters
    ----------
    label : str
        What the row compares (e.g. ``"karnofsky: 70 vs 100"``).
    cox_hr, posterior_hr : float
        Cox estimate and posterior median.
    shift_sd : float
        Posterior mean minus Cox log HR, in posterior SDs
        (:func:`bayes_bcsm.hazard_ratios.prior_adjusted`).

    Returns
    -------
    str
        "towards no effect" when the posterior's log HR is smaller in size than Cox's on the
        same side of 0, "across no effect" on the other side, else "away from no effect".
    """
    post, mle = math.log(posterior_hr), math.log(cox_hr)
    if post * mle < 0:
        where = "across no effect"
    elif abs(post) < abs(mle):
        where = "towards no effect"
    else:
        where = "away from no effect"
    return (
        f"{label}: posterior HR {posterior_hr:.3g} vs Cox {cox_hr:.3g}, "
        f"{abs(shift_sd):.2g} posterior SDs {where}: prior-adjusted, not the maximum-likelihood "
        "estimate (a prior centred on no effect shrinks strong contrasts informed by few events "
        "most; which level is the reference decides which contrasts those are)."
    )


def profile_sentence(reference: list[str], switched: list[str]) -> str:
    """What the survival table's profiles are.

    Parameters
    ----------
    reference : list of str
        Continuous covariates' values in the ``reference`` profile
        (:func:`bayes_bcsm.data.labels.profile_parts`).
    switched : list of str
        What each other profile changes from it, in table order.
    """
    values = f", {', '.join(reference)}" if reference else ""
    return (
        "Profiles: `reference` has every binary and categorical covariate at its reference "
        f"level{values}; each other profile changes one thing from it: {'; '.join(switched)}."
    )


#: Bias within this many Monte Carlo SEs of 0 is "not detectable" (:func:`bias_direction`).
BIAS_MCSE_MULTIPLE = 2.0


def bias_direction(bias: float, mcse: float, estimand: float, null_tol: float = 0.02) -> str:
    """A simulation's bias on the log-HR scale: its size in MCSEs and the way it points.

    Definitions: with ``z = bias / mcse``, the bias is *detectable* when ``|z| > 2``
    (:data:`BIAS_MCSE_MULTIPLE`). A detectable negative bias points *towards benefit* (the
    estimated HRs are too small), a positive one *towards harm*. Relative to no effect (log HR
    0): *away from no effect* when the bias has the estimand's sign, or the estimand is null
    (``|estimand| < null_tol``); *towards no effect* when it has the opposite sign and is
    smaller than ``|estimand|``; *past no effect* when it is at least as large (the mean
    estimate lies on the other side of HR 1).

    Parameters
    ----------
    bias, mcse : float
        Mean estimate minus the estimand, and its Monte Carlo SE (log-HR scale).
    estimand : float
        The log-HR the estimates are scored against.
    null_tol : float
        ``|estimand|`` below this counts as no effect (the estimand's Monte Carlo error).

    Returns
    -------
    str
        E.g. ``"-0.099 (MCSE 0.023, 4.3 MCSE): towards benefit (estimated HRs too small),
        away from no effect"`` or ``"+0.003 (MCSE 0.027): no bias detectable (within 2 MCSE
        of 0)"``.
    """
    z = bias / mcse
    head = f"{bias:+.3f} (MCSE {mcse:.3f}"
    if abs(z) <= BIAS_MCSE_MULTIPLE:
        return f"{head}): no bias detectable (within {BIAS_MCSE_MULTIPLE:g} MCSE of 0)"
    way = (
        "towards benefit (estimated HRs too small)"
        if bias < 0
        else ("towards harm (estimated HRs too large)")
    )
    if abs(estimand) < null_tol or math.copysign(1, bias) == math.copysign(1, estimand):
        relative = "away from no effect"
    elif abs(bias) < abs(estimand):
        relative = "towards no effect"
    else:
        relative = "past no effect"
    return f"{head}, {abs(z):.1f} MCSE): {way}, {relative}"


def rejection_test(count: int, trials: int, nominal: float = 0.05, alpha: float = 0.05) -> str:
    """A rejection count against its nominal rate: exact binomial test and Clopper-Pearson CI.

    Definitions: the two-sided exact binomial test of ``count`` successes in ``trials`` under a
    true rate ``nominal`` (P = the total probability of outcomes no more likely than the one
    seen; :func:`scipy.stats.binomtest`) and the exact (Clopper-Pearson) 95 % interval of the
    rate. The rate is *above* / *below* the nominal one when P < ``alpha`` (on the side of the
    observed share), otherwise *compatible with* it.

    Parameters
    ----------
    count, trials : int
        Rejections and replicates (``trials >= 1``).
    nominal : float
        The rate a valid test has (type-I error: the test's level, 0.05).
    alpha : float
        Level of the exact test.

    Returns
    -------
    str
        E.g. ``"14 of 150 (9.3%, exact 95% CI 5.2-15.2%), exact binomial test against 5%:
        P = 0.023, above 5%"``.
    """
    test = stats.binomtest(int(count), int(trials), nominal)
    ci = test.proportion_ci(0.95, method="exact")
    share = count / trials
    nominal_text = f"{100 * nominal:g}%"
    if test.pvalue < alpha:
        verdict = f"{'above' if share > nominal else 'below'} {nominal_text}"
    else:
        verdict = f"compatible with {nominal_text}"
    p_text = "P < 0.001" if test.pvalue < 0.001 else f"P = {test.pvalue:.2g}"
    return (
        f"{count} of {trials} ({100 * share:.1f}%, exact 95% CI {100 * ci.low:.1f}-"
        f"{100 * ci.high:.1f}%), exact binomial test against {nominal_text}: {p_text}, {verdict}"
    )


def rmst_gain_sentence(
    model: str,
    exposure: str,
    estimate: float,
    lower: float,
    upper: float,
    prob: float,
    tau_months: float,
    mcid_months: float,
    p_above_mcid: float,
    outcome: str = "survival",
    model_dependent: bool = False,
    *,
    n_draws: int,
) -> str:
    """The standardised RMST difference of an exposure in months, in one sentence.

    Definitions: the RMST difference is the posterior median of ``RMST(exposed) -
    RMST(reference)`` up to ``tau_months`` (standardised over the cohort); a positive median
    *adds* months, a negative one *costs* them (its size stated), and a median that rounds to
    0.0 months *changes* them by 0.0. The interval is the equal-tailed credible interval of
    probability ``prob``, written low to high in the direction of the verb (for "costs", the
    months lost); ``p_above_mcid`` is P(difference > ``mcid_months``), the share of ``n_draws``
    posterior draws, stated as it is (:func:`draw_percent`: a bound when none or all of the
    draws are above).

    Parameters
    ----------
    model : str
        The model's name (``"weibull"``).
    exposure : str
        What is compared, e.g. ``"hormone therapy (yes vs no)"``.
    estimate, lower, upper : float
        Posterior median and interval of the RMST difference (months).
    prob : float
        Probability of the interval.
    tau_months : float
        Truncation time (months).
    mcid_months : float
        Clinically meaningful difference (months).
    p_above_mcid : float
        P(difference > ``mcid_months``).
    n_draws : int
        The posterior draws ``p_above_mcid`` is a share of.
    outcome : str
        What the time is of (the card's outcome label, e.g. ``"overall survival"``).
    model_dependent : bool
        Tau lies beyond the last follow-up: the sentence says the figure is model-dependent.

    Returns
    -------
    str
        E.g. ``"Under the weibull model, hormone therapy (yes vs no) adds 5.8 months of overall
        survival (95% CrI -1.4 to 11.6) within the first 60 months; P(gain > 3 months) = 77%."``
    """
    chance = probability_clause(
        f"gain > {mcid_months:g} months", draw_percent(p_above_mcid, n_draws), equals=" = "
    )
    shown = round(estimate, 1)
    if shown > 0:
        verb, size, lo, hi = "adds", estimate, lower, upper
    elif shown < 0:
        verb, size, lo, hi = "costs", -estimate, -upper, -lower
    else:
        verb, size, lo, hi = "changes by", 0.0, lower, upper
    text = (
        f"Under the {model} model, {exposure} {verb} {size:.1f} months of {outcome} "
        f"({interval_percent(prob)} CrI {lo:.1f} to {hi:.1f}) within the first "
        f"{tau_months:g} months; {chance}."
    )
    if model_dependent:
        text += (
            f" Model-dependent: the first {tau_months:g} months reach beyond the last "
            "follow-up, so part of this figure comes from the model's tail alone."
        )
    return text


def _months(value: float) -> str:
    """``"1 month"``, ``"0.5 months"``, ``"12 months"``."""
    return f"{value:g} month{'' if value == 1 else 's'}"


#: The naive median aHR :func:`naive_immortal_sentence` reports the crossing of.
NAIVE_MEDIAN_MARK = 0.5


def naive_immortal_sentence(
    naive_median_hr_null: Mapping[float, float], threshold_delay_months: float
) -> str:
    """What immortal time does to a naive aHR when the therapy has no effect.

    Definitions: ``naive_median_hr_null`` maps each median start delay (months) to the median
    naive (ever-treated at baseline) aHR over the replicates with a true HR of 1; the sentence
    gives it at the shortest and the longest delay, and the delay from which it falls below
    :data:`NAIVE_MEDIAN_MARK` (``threshold_delay_months``; NaN: no delay of the grid).

    Parameters
    ----------
    naive_median_hr_null : mapping of float to float
        Median delay (months) -> median naive aHR, true HR 1.
    threshold_delay_months : float
        Interpolated delay at which the median falls below 0.5, or NaN.

    Returns
    -------
    str
        E.g. ``"with a true HR of 1 the naive aHR's median is 0.96 at a median start delay of
        0.5 months and 0.72 at 12 months; no delay up to 12 months brings it below 0.5"``.
    """
    delays = sorted(naive_median_hr_null)
    first, last = delays[0], delays[-1]
    text = (
        f"with a true HR of 1 the naive aHR's median is {naive_median_hr_null[first]:.2f} at a "
        f"median start delay of {_months(first)} and {naive_median_hr_null[last]:.2f} at "
        f"{_months(last)}"
    )
    if math.isfinite(threshold_delay_months):
        return (
            text + f"; it falls below {NAIVE_MEDIAN_MARK:g} from a median delay of about "
            f"{_months(float(f'{threshold_delay_months:.2g}'))}"
        )
    return text + f"; no delay up to {_months(last)} brings it below {NAIVE_MEDIAN_MARK:g}"


def printed_reach_sentence(
    share: float,
    share_upper: float,
    delay_months: float,
    true_hr: float,
    printed_hr: float,
    level: float = 0.05,
) -> str:
    """Whether immortal time alone reaches a printed aHR, from the largest share of naive aHRs
    at or below it over a simulation grid.

    Definitions: ``share`` is the largest, over the grid's settings, share of replicates whose
    naive aHR is at or below ``printed_hr``, ``share_upper`` the upper end of its exact 95 %
    interval, found at (``delay_months``, ``true_hr``). Immortal time alone *does not explain*
    the printed aHR when ``share_upper < level`` (even the most favourable setting gives it
    less than ``level`` of the time), else it *can produce* it.

    Returns
    -------
    str
        E.g. ``"at most 0.4% of the naive aHRs were at or below the printed 0.07 in any
        setting (median delay 12 months, true HR 0.5; exact 95% CI up to 1.4%): immortal time
        alone does not explain an aHR this low"``.
    """
    where = f"median delay {_months(delay_months)}, true HR {true_hr:g}"
    if share == 0:
        head = (
            f"none of the naive aHRs was at or below the printed {printed_hr:g} in any setting "
            f"(exact 95% upper limit {percent(share_upper)} per setting)"
        )
    else:
        head = (
            f"at most {percent(share)} of the naive aHRs were at or below the printed "
            f"{printed_hr:g} in any setting ({where}; exact 95% CI up to {percent(share_upper)})"
        )
    if share_upper < level:
        return head + ": immortal time alone does not explain an aHR this low"
    return head + f": immortal time alone can produce an aHR this low (in {where})"


def c_index_sentence(c: float, lower: float, upper: float) -> str:
    """A concordance index and its interval, read against chance (C = 1/2).

    Returns
    -------
    str
        E.g. ``"C 0.62 (95% CI 0.51 to 0.73), better than chance"`` when the interval lies
        above 1/2, ``"..., worse than chance"`` below it, and ``"..., not distinguishable from
        chance"`` when it contains 1/2.
    """
    if lower > 0.5:
        verdict = "better than chance"
    elif upper < 0.5:
        verdict = "worse than chance"
    else:
        verdict = "not distinguishable from chance"
    return f"C {c:.2f} (95% CI {lower:.2f} to {upper:.2f}), {verdict}"


def discrimination_comparison(
    first: str, second: str, difference: float, lower: float, upper: float
) -> str:
    """Whether ``first`` ranks patients better than ``second``, from their paired C difference.

    Parameters
    ----------
    first, second : str
        Names of the two predictors.
    difference, lower, upper : float
        C(first) - C(second) and its 95% interval.

    Returns
    -------
    str
        "ranks patients better than" when the interval lies above 0, "worse than" below it,
        and "cannot be told apart from" when it contains 0.
    """
    span = f"{difference:+.2f} in C (95% CI {lower:+.2f} to {upper:+.2f})"
    if lower > 0:
        return f"{first} ranks patients better than {second}: {span}"
    if upper < 0:
        return f"{first} ranks patients worse than {second}: {span}"
    return f"{first} cannot be told apart from {second}: {span}, an interval that includes 0"
