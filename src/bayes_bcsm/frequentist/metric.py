"""The value of a prognostic metric with its standard error (one small record for them all)."""

from __future__ import annotations

from dataclasses import dataclass

from scipy import stats

__all__ = ["MetricEstimate"]


@dataclass(frozen=True)
class MetricEstimate:
    """A metric's estimate and standard error.

    Attributes
    ----------
    estimate : float
    se : float
        Standard error (NaN when it cannot be computed); how it is computed is stated by
        the function that returns the record.
    """

    estimate: float
    se: float

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """Normal (Wald) interval ``estimate -/+ z * se`` at ``level`` (in (0, 1))."""
        if not 0 < level < 1:
            raise ValueError(f"level must lie in (0, 1), got {level}")
        z = float(stats.norm.ppf(0.5 + level / 2))
        return self.estimate - z * self.se, self.estimate + z * self.se
