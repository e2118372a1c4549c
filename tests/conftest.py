"""Suite-wide settings: a non-interactive plotting backend."""

import matplotlib

matplotlib.use("Agg")
