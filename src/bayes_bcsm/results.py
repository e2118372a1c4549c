"""The results runs produce and reports read: plain frozen dataclasses, no behaviour.

The flow is runs -> report -> results -> library: runs compute these, reports only draw and
write them, and neither imports the other's internals.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from bayes_bcsm.data import Cohort, Design
from bayes_bcsm.data.card import DatasetCard
from bayes_bcsm.errors import SettingError
from bayes_bcsm.frequentist import CoxResult
from bayes_bcsm.paper import KaplanMeierFigure, Table3
from bayes_bcsm.reinterpret import Reinterpretation

if TYPE_CHECKING:  # PyMC and ArviZ stay unimported until a fit exists
    from bayes_bcsm.inference.diagnostics import Diagnostics
    from bayes_bcsm.inference.ppc import CensoredPPC
    from bayes_bcsm.inference.sample import Fit


@dataclass(frozen=True)
class ReportSettings:
    """What a run's report needs from the configuration.

    Attributes
    ----------
    experiment_name : str
        Name of the experiment (report headings).
    title : str
        Report title (its first heading and the HTML page title); empty: the dataset card's
        title.
    html : bool
        Also write the self-contained ``report.html``.
    plots : bool
        Draw figures.
    hdi_prob : float
        Probability of the posterior intervals, in (0, 1).
    horizons_months : tuple of float or None
        Times (months, positive, increasing) at which survival is reported; None: derived
        from the cohort's follow-up (:func:`bayes_bcsm.data.follow_up.default_horizons_months`).
        A horizon beyond the last follow-up is reported, marked as an extrapolation.
    """

    experiment_name: str = "fit"
    title: str = ""
    html: bool = True
    plots: bool = True
    hdi_prob: float = 0.95
    horizons_months: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not 0 < self.hdi_prob < 1:
            raise SettingError("expected a value in (0, 1)", ("hdi_prob",), (self.hdi_prob,))
        horizons = self.horizons_months
        if horizons is not None and not (
            len(horizons) > 0
            and all(np.isfinite(t) and t > 0 for t in horizons)
            and all(a < b for a, b in itertools.pairwise(horizons))
        ):
            raise SettingError(
                "expected a non-empty list of positive, increasing times (months)",
                ("horizons_months",),
                (horizons,),
            )

    def heading(self, card_title: str) -> str:
        """The report's title: :attr:`title`, or ``card_title`` when none is configured."""
        return self.title or card_title


@dataclass(frozen=True)
class RunInputs:
    """A validated cohort ready for analysis.

    Attributes
    ----------
    cohort : Cohort
        The loaded cohort with its accounting.
    frame : DataFrame
        The cohort frame with the derived groupings added.
    is_reconstruction : bool
        True for the bundled reconstructed cohort (reports say so).
    output_dir : Path
        The run's folder.
    card : DatasetCard
        What the data are (titles, labels; whether the paper's published rows apply).
    """

    cohort: Cohort
    frame: pd.DataFrame
    is_reconstruction: bool
    output_dir: Path
    card: DatasetCard


@dataclass(frozen=True)
class VariantFit:
    """Everything one configuration produced.

    Attributes
    ----------
    label : str
        Variant name (e.g. ``"weibull"`` or ``"prior=sceptical"``).
    family : str
        Model family.
    design : Design
        The complete-case design (what the Cox baselines used).
    cox, firth : CoxResult
        Frequentist baselines on the same rows and covariates.
    fit : Fit or None
        The Bayesian fit (None for ``model=cox``).
    diagnostics : Diagnostics or None
        Convergence checks of ``fit``.
    hazard_ratios : DataFrame
        :data:`bayes_bcsm.hazard_ratios.HR_COLUMNS` rows: published, Cox, Firth, posterior.
    survival : DataFrame or None
        Posterior median survival and S(t) at the report's horizons for the reference profile
        and each covariate switched on (``extrapolated`` marks what lies beyond follow-up).
    predictive : DataTree or None
        Posterior predictive event times (uncensored), saved in ``posterior.nc``.
    censored_ppc : CensoredPPC or None
        Kaplan-Meier curves of the data and of predictive replicates censored as the data
        are (:mod:`bayes_bcsm.inference.ppc`).
    prior_adjusted : DataFrame or None
        Covariates whose posterior lies more than half a posterior SD from the Cox estimate
        (:func:`bayes_bcsm.hazard_ratios.prior_adjusted`); None when not comparable.
    loo : ELPDData or None
        PSIS-LOO of the fit (one term per patient).
    survival_bands : DataArray or None
        Posterior median and 95 % band of S(t | x) up to the last follow-up (or last horizon)
        for the reference profile and each covariate switched on (dims ``profile,
        time_months, band``; :func:`bayes_bcsm.inference.predictive.survival_bands`).
    loo_summary : dict or None
        ELPD, its SE, ``p_loo`` and Pareto-k counts (``inference.loo.loo_summary``).
    loo_warnings : tuple of str
        What ArviZ warned while computing ``loo`` (e.g. large Pareto k), not shown then.
    time_label : str
        x-axis label of survival plots (from the dataset card; the unit is months).
    outcome_label : str
        y-axis label of Kaplan-Meier plots (the dataset card's ``outcome_label``).
    last_follow_up_months : float
        Longest follow-up of the rows the Bayesian model used (months); survival beyond it
        is an extrapolation.
    data_coding : str
        How the variant's data were coded when the variants of a comparison differ in it
        (e.g. ``"naive: ever exposed"``, ``"time-dependent"``, ``"landmark 1 month"``); empty
        when every variant shares the run's cohort.
    notices : dict of str to str
        Why a part of the fit is missing, one sentence each (``"loo"``, ``"ppc"``), e.g. above
        ``sampler.pointwise_max_patients`` patients; empty when nothing is left out.
    posterior_file : Path or None
        Where the fit's ``posterior.nc`` (draws and predictive draws) was saved as soon as it
        was sampled; None when it was not saved.
    """

    label: str
    family: str
    design: Design
    cox: CoxResult
    firth: CoxResult
    hazard_ratios: pd.DataFrame
    fit: Fit | None = None
    diagnostics: Diagnostics | None = None
    survival: pd.DataFrame | None = None
    predictive: xr.DataTree | None = None
    censored_ppc: CensoredPPC | None = None
    prior_adjusted: pd.DataFrame | None = None
    loo: Any = None
    survival_bands: xr.DataArray | None = None
    loo_summary: dict[str, float | int] | None = None
    loo_warnings: tuple[str, ...] = ()
    time_label: str = "Months"
    outcome_label: str = "Survival"
    last_follow_up_months: float = np.inf
    data_coding: str = ""
    notices: dict[str, str] = field(default_factory=dict)
    posterior_file: Path | None = None

    @property
    def rows_description(self) -> str:
        """How many patients the Bayesian model used (or the Cox model, for model=cox)."""
        return self.fit.model.rows if self.fit is not None else self.design.rows.describe()


@dataclass(frozen=True)
class ModelAverage:
    """The families of a comparison averaged by stacking (Yao et al. 2018).

    Attributes
    ----------
    weights : DataFrame
        One row per Bayesian variant: ``variant``, ``elpd``, ``stacking_weight``,
        ``pseudo_bma_plus_weight`` (``arviz.compare``, Bayesian-bootstrap pseudo-BMA).
    curves : DataFrame
        Standardised survival (averaged over the model's patients) of each variant and of the
        stacked average, to twice the last follow-up
        (:func:`bayes_bcsm.inference.averaging.curve_table`: ``model``, ``weight``,
        ``time_months``, ``mean``, ``lower``, ``upper``, ``extrapolated``).
    km : DataFrame
        Kaplan-Meier estimate of the same patients: ``time_months``, ``survival``.
    last_follow_up_months : float
        Beyond it the curves are extrapolation.
    prob : float
        Probability of the curves' intervals.
    """

    weights: pd.DataFrame
    curves: pd.DataFrame
    km: pd.DataFrame
    last_follow_up_months: float
    prob: float

    @property
    def stacking_weights(self) -> dict[str, float]:
        """Stacking weight per variant label."""
        pairs = zip(self.weights["variant"], self.weights["stacking_weight"], strict=True)
        return {str(k): float(w) for k, w in pairs}


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """The result of a comparison run.

    Attributes
    ----------
    variants : list of VariantFit
        One per variant, in the configured order.
    hazard_ratios : DataFrame
        Published, Cox, Firth and every variant's posterior HRs (``HR_COLUMNS``).
    loo : DataFrame or None
        ``arviz.compare`` of the Bayesian variants (None when fewer than two, or when they
        were fitted on different patients, which would make LOO meaningless).
    loo_note : str
        Why ``loo`` is None, or what its flags mean.
    psense : dict of str to DataFrame
        Power-scaling prior sensitivity per variant (``arviz.psense_summary``), if asked.
    reinterpretation : Reinterpretation or None
        The printed Table 3 aHRs of the covariates in the table re-read under the
        ``reinterpret`` prior grid (None when the table has no published rows).
    default_prior : str
        The prior whose summary-level posteriors are in ``hazard_ratios``.
    printed_vs_posteriors : DataFrame or None
        :func:`bayes_bcsm.hazard_ratios.agreement` of every Bayesian variant and Cox against the
        summary-level posterior of the printed aHR (None without published rows).
    printed_vs_cox : DataFrame or None
        Our Cox fit against the printed aHR itself.
    absolute : AbsoluteEffects or None
        Standardised survival and RMST of ``absolute.exposure`` (None when none is set).
    immortal_time : ImmortalTimeAnswer or None
        The committed immortal-time simulation's answer (on the study's cohort with endocrine
        therapy among the covariates, or when the variants differ in data coding).
    average : ModelAverage or None
        The variants averaged by stacking (None when ``loo`` is None).
    """

    variants: list[VariantFit]
    hazard_ratios: pd.DataFrame
    loo: pd.DataFrame | None
    loo_note: str
    psense: dict[str, pd.DataFrame]
    reinterpretation: Reinterpretation | None = None
    default_prior: str = ""
    printed_vs_posteriors: pd.DataFrame | None = None
    printed_vs_cox: pd.DataFrame | None = None
    absolute: AbsoluteEffects | None = None
    immortal_time: ImmortalTimeAnswer | None = None
    average: ModelAverage | None = None


#: ``method`` of the absolute effects of the stacking-weighted mixture of a comparison's models.
STACKED = "stacked"


@dataclass(frozen=True)
class AbsoluteEffects:
    """Standardised survival and RMST of an exposure, per Bayesian model and Kaplan-Meier.

    Attributes
    ----------
    exposure : str
        The covariate (``absolute.exposure``).
    label : str
        Its name in reports.
    levels : tuple of str
        Its levels, reference first.
    table : DataFrame
        The rows of ``absolute_effects.csv``: ``method``, ``quantity``, ``level``,
        ``estimate``, ``lower``, ``upper``, ``tau_months``, ``time_months``, ``p_positive``,
        ``p_above_mcid``, ``se`` and ``p_value`` (Kaplan-Meier), ``prob`` (interval
        probability), ``model_dependent`` (beyond the last follow-up), ``exposure``.
    curves : DataFrame
        Standardised survival of each Bayesian model and level on a time grid: ``method``,
        ``level``, ``time_months``, ``median``, ``lower``, ``upper`` (``prob`` interval),
        ``lower_50``, ``upper_50``.
    km_curves : DataFrame
        Kaplan-Meier steps of each level (unadjusted): ``level``, ``time_months``,
        ``survival``.
    tau_months : float
        RMST truncation time.
    horizons_months : tuple of float
        Milestones of the survival rows.
    last_follow_up_months : float
        Longest follow-up of the analysed rows; later figures are model-dependent.
    mcid_months : float
        Clinically meaningful RMST difference.
    prob : float
        Probability of the intervals.
    notes : tuple of str
        What was left out and why (a model without the exposure, a Kaplan-Meier curve that
        ends before tau).
    """

    exposure: str
    label: str
    levels: tuple[str, ...]
    table: pd.DataFrame
    curves: pd.DataFrame
    km_curves: pd.DataFrame
    tau_months: float
    horizons_months: tuple[float, ...]
    last_follow_up_months: float
    mcid_months: float
    prob: float
    notes: tuple[str, ...] = ()

    @property
    def model_dependent(self) -> bool:
        """Whether tau or a horizon lies beyond the last follow-up."""
        return max(self.tau_months, *self.horizons_months) > self.last_follow_up_months


@dataclass(frozen=True)
class Reproduction:
    """Table 2, Table 3 and the data of Figs 1-3 recomputed on the configured cohort."""

    table2: pd.DataFrame
    table3: Table3
    figures: tuple[KaplanMeierFigure, ...] = ()


@dataclass(frozen=True)
class SimulationPlan:
    """What a simulation study was asked to do (for its report).

    Attributes
    ----------
    replicates : int
        Replicates per scenario and cohort size.
    n : tuple of int
        Cohort sizes.
    scenarios : tuple of str
        Scenario names.
    """

    replicates: int
    n: tuple[int, ...]
    scenarios: tuple[str, ...]


@dataclass(frozen=True)
class SimulationRun:
    """What a simulation run produced.

    Attributes
    ----------
    run_dir : Path
        The study folder (shards, merged tables, report).
    replicates : DataFrame
        Merged replicate rows of every finished shard.
    aggregate : DataFrame
        Operating characteristics (one row per scenario, n, method, covariate).
    shard_status : DataFrame
        Every planned shard: ``shard``, ``state`` ("done", "failed", "missing"), ``message``.
    run_status : DataFrame
        What this call did per shard it was responsible for ("done", "skipped", "failed").
    sbc : dict
        ``{"ranks": DataFrame, "uniformity": DataFrame, "n_rank_draws": int}`` or empty.
    seconds : float
        Wall-clock time of this call.
    estimands : DataFrame
        Pseudo-true log-HRs: ``scenario``, ``target``, ``covariate``, ``value``, ``mcse``.
    scenario_effects : dict
        Generator effects overridden per scenario (``null_table3``'s found by root-finding).
    estimands_source : str
        Where the estimands came from, in words (the study folder, the entry shipped with the
        package, the user cache, or computed in this run).
    """

    run_dir: Path
    replicates: pd.DataFrame
    aggregate: pd.DataFrame
    shard_status: pd.DataFrame
    run_status: pd.DataFrame
    sbc: dict
    seconds: float
    estimands: pd.DataFrame = field(default_factory=pd.DataFrame)
    scenario_effects: dict = field(default_factory=dict)
    estimands_source: str = ""


@dataclass(frozen=True)
class ImmortalTimeAnswer:
    """What the committed immortal-time simulation says (read by reports, not rerun).

    Attributes
    ----------
    n : int
        Patients per simulated cohort.
    replicates : int
        Replicates per cell.
    naive_median_hr_null : dict of float to float
        Median start delay (months) -> the naive time-fixed median aHR when the true HR is 1.
    threshold_delay_months : float
        The median delay at which a true HR of 1 gives a naive median aHR below 0.5
        (interpolated between grid delays; NaN when no grid delay reaches it).
    max_p_at_most_printed : float
        The largest share, over the grid, of naive aHRs at or below the printed 0.070.
    max_p_at_most_printed_upper : float
        Upper end of its exact 95 % interval.
    max_p_cell : tuple of float
        (median delay in months, true HR) of that cell.
    td_coverage_null : tuple of float
        Smallest and largest coverage of the true HR 1 by the time-dependent 95 % interval.
    printed_hr : float
        The paper's aHR of endocrine therapy.
    """

    n: int
    replicates: int
    naive_median_hr_null: dict[float, float]
    threshold_delay_months: float
    max_p_at_most_printed: float
    max_p_at_most_printed_upper: float
    max_p_cell: tuple[float, float]
    td_coverage_null: tuple[float, float]
    printed_hr: float
