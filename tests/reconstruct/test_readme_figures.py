"""Issue 20: data/README.md's "How close it is" quotes the committed cohort's figures; each
quoted figure is recomputed here (the calibration comparisons of the committed cohort, the
generator's effects and the search's frontier in reconstruction.yaml) at the printed precision.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from bayes_bcsm.reconstruct.calibrate import (
    analysis_frame,
    check_targets,
    comparison_table,
    reverse_km_median,
)
from bayes_bcsm.resources import reconstruction_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def readme() -> str:
    return " ".join((REPO / "data" / "README.md").read_text().split())


@pytest.fixture(scope="module")
def value(committed):
    table = comparison_table(check_targets(committed)).set_index("target")["reconstructed"]
    return lambda target: float(table[target])


def test_survival_and_follow_up_figures(readme, value, committed):
    km = " / ".join(f"{value(f'S({t} months) %'):.1f}" for t in (6, 12, 36, 60))
    assert f"KM survival at 6/12/36/60 months is {km} %" in readme
    assert f"the KM median is {value('median OS (months)'):.1f} months (published 50)" in readme
    assert (
        f"Follow-up is a median of {value('median follow-up (months)'):.1f} months with an IQR "
        f"of {value('follow-up IQR (months)'):.1f} (published 32.0 and 40.0; the reverse-KM "
        f"median is {reverse_km_median(analysis_frame(committed)):.1f})" in readme
    )
    assert f"blood-loss IQR ({value('blood loss (mL) IQR'):.0f} vs 588 mL" in readme


QUOTED_MEDIANS = {
    "pre-op ASIA A-C": ("preop_neuro_dysfunction=yes (ASIA A-C)", 23),
    "post-op A-C": ("postop_neuro_dysfunction=yes (ASIA A-C)", 15),
    "TES": ("surgical_method=tes", 46),
    "low-invasive": ("pathology_group=low-invasive", 32),
    "receptor-negative": ("hormone_receptor=negative", 21),
    "HER2-negative": ("her2=negative", 73),
    "Ki-67 < 10 %": ("ki67=<10%", 46),
}
QUOTED_POSTOP = ("yes (ASIA A-C)", "no (ASIA D-E)")


def test_quoted_group_medians(readme, value):
    for words, (target, printed) in QUOTED_MEDIANS.items():
        assert f"{words} {value(f'{target}: median (months)'):.1f} ({printed})" in readme, words
    postop = [value(f"postop_neuro_dysfunction={lv}: median (months)") for lv in QUOTED_POSTOP]
    assert f"meets both medians ({postop[0]:.1f} and {postop[1]:.1f})" in readme
    receptor = [value(f"hormone_receptor={lv}: median (months)") for lv in ("positive", "negative")]
    assert f"meets both medians ({receptor[0]:.1f} and {receptor[1]:.1f})" in readme


def test_true_effects_and_frontier(readme):
    config = yaml.safe_load(reconstruction_config().read_text())
    effects = config["params"]["effects"]
    names = ("preop_neuro_abc", "postop_neuro_abc", "hormone_receptor_positive", "hormone_therapy")
    hrs = [f"{math.exp(effects[n]):.2f}" for n in names]
    assert f"The generator's true HRs are {', '.join(hrs[:3])} and {hrs[3]}." in readme
    frontier = {
        r["max_failed_table12"]: r["table3_distance_se"] for r in config["search"]["frontier"]
    }
    assert (
        f"{frontier[3]:.2f} published SEs with the 3 failures above, {frontier[4]:.2f} with 4, "
        f"{frontier[5]:.2f} with 5 and {frontier[8]:.2f} with 8" in readme
    )


def test_true_effects_lie_in_the_quoted_bounds(readme):
    """'all are bounded to |log HR| <= 1.8' and 'endocrine therapy's true HR between 0.2 and
    0.8': the search's ranges, and the shipped generator's effects inside them."""
    from bayes_bcsm.reconstruct.search import SEARCH_SPACE

    effects = yaml.safe_load(reconstruction_config().read_text())["params"]["effects"]
    assert "bounded to |log HR| <= 1.8 (the search's ranges)" in readme
    bounds = [abs(b) for k, pair in SEARCH_SPACE.items() if k in effects for b in pair]
    assert max(bounds) == 1.8
    assert all(abs(v) <= 1.8 for v in effects.values())
    low, high = (round(math.exp(b), 1) for b in SEARCH_SPACE["hormone_therapy"])
    assert f"endocrine therapy's true HR between {low} and {high}" in readme
