"""Suite-wide settings: a non-interactive plotting backend and reproducible hypothesis runs."""

import matplotlib
from hypothesis import settings

matplotlib.use("Agg")

# Same examples on every run and machine (no flaky CI); `--hypothesis-seed` still explores.
settings.register_profile("reproducible", derandomize=True, database=None)
settings.load_profile("reproducible")
