"""Follow-up times of zero: the card's rule (``data.zero_time``), ``shift`` by default.

Real files hold them: flchain (R ``survival``) has 3 deaths at day 0, registry extracts record a
death on the day of diagnosis. R's own functions disagree about them: ``coxph``, ``survfit`` and
``survdiff`` accept a right-censored time of 0, while ``survreg`` refuses it for the Weibull
("Invalid survival times for this distribution"), so R users who fit both move those times a
little above 0 by hand (e.g. ``pmax(time, 0.5)`` on days). A run here fits both kinds of model
on the same patients, so the rule is one of:

- ``shift`` (the default): every time of 0 becomes half the shortest positive time of the file,
  in the card's unit. That value lies below every other time, so the order of the times, and
  with it everything R's ``coxph`` / ``survfit`` / ``survdiff`` compute from time 0 (Cox and
  Firth estimates, Kaplan-Meier at every positive time, log-rank), is unchanged, while the
  parametric models get the positive time their likelihood needs. The run's first lines and its
  report state the shift: its size, unit and the number of patients it touched.
- ``refuse``: as ``survreg``: each row with time 0 is reported, naming the rule and the other
  choice.

Negative times are refused under either rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The rules a card may give as ``data.zero_time``.
ZERO_TIME_RULES: tuple[str, ...] = ("shift", "refuse")
#: The rule of a card that names none (see the module docstring for why).
DEFAULT_ZERO_TIME = "shift"


@dataclass(frozen=True)
class ZeroTimeShift:
    """What the ``shift`` rule did.

    Attributes
    ----------
    n_patients : int
        Rows whose time was 0.
    n_events : int
        Of which events.
    shifted_to : float
        Their new time, in ``unit`` (half of ``shortest``).
    shortest : float
        The shortest positive time of the file, in ``unit``.
    unit : str
        The card's time unit.
    """

    n_patients: int
    n_events: int
    shifted_to: float
    shortest: float
    unit: str

    def describe(self) -> str:
        """One line for the run's first lines and its report."""
        return (
            f"data.zero_time=shift: {self.n_patients} patient(s) with a follow-up time of 0 "
            f"{self.unit} ({self.n_events} event(s)) moved to {self.shifted_to:g} {self.unit}, "
            f"half the shortest positive time ({self.shortest:g} {self.unit}): still before "
            "every other time, so Cox, Firth, Kaplan-Meier and log-rank are as with time 0; "
            "data.zero_time=refuse refuses such rows instead"
        )


def refusal(unit: str) -> str:
    """The problem reported for a row with time 0 under ``refuse``."""
    return (
        f"found a time of 0 {unit}: data.zero_time=refuse refuses times of 0 (as R's survreg); "
        "data.zero_time=shift moves them to half the shortest positive time"
    )


def shift_zero_times(
    times: np.ndarray, event: np.ndarray, unit: str
) -> tuple[np.ndarray, ZeroTimeShift | None]:
    """Apply the ``shift`` rule to ``times``.

    Parameters
    ----------
    times : ndarray of float
        Follow-up times in ``unit``; non-finite or negative ones are left as they are (they are
        refused elsewhere).
    event : ndarray of int
        1 = event, 0 = censored (for the count of events moved).
    unit : str
        The card's time unit, for the statement.

    Returns
    -------
    (ndarray, ZeroTimeShift or None)
        The times with each 0 replaced by half the shortest positive time, and what was done
        (None when no time is 0, or no time is positive to take the shift from).
    """
    zero = times == 0
    positive = times[np.isfinite(times) & (times > 0)]
    if not zero.any() or positive.size == 0:
        return times, None
    shortest = float(positive.min())
    shifted = np.where(zero, shortest / 2, times)
    done = ZeroTimeShift(int(zero.sum()), int(event[zero].sum()), shortest / 2, shortest, unit)
    return shifted, done
