"""Suite-wide settings: a non-interactive plotting backend, reproducible hypothesis runs, a
compiled-model cache folder of the session's own (never the user's), and the ``integration``
marker (``make test-fast`` leaves out ``slow`` and ``integration`` tests)."""

from pathlib import Path

import matplotlib
import pytest
from hypothesis import settings

matplotlib.use("Agg")

# Same examples on every run and machine (no flaky CI); `--hypothesis-seed` still explores.
settings.register_profile("reproducible", derandomize=True, database=None)
settings.load_profile("reproducible")


TESTS = Path(__file__).parent
#: Files and folders whose tests run whole commands, start processes or sample with MCMC: the
#: whole suite (``make test``) runs them, the inner loop (``make test-fast``) does not.
INTEGRATION = (
    "runs",
    "simulation",
    "inference",
    "models/test_recovery.py",
    "models/test_entry_models.py",
    "prognosis/test_bayes_predictor.py",
    "report/test_plot_worker.py",
    "prognosis/test_prognosis_command.py",
    "test_cli.py",
    "test_run_folders.py",
    "test_settings.py",
    "test_installed.py",
    "test_atomic.py",
)


@pytest.fixture(scope="session", autouse=True)
def _own_kernel_cache(tmp_path_factory: pytest.TempPathFactory):
    """Compiled models go to a temporary folder (inherited by CLI subprocesses), so tests
    neither fill nor depend on the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BAYES_BCSM_CACHE_DIR", str(tmp_path_factory.mktemp("kernel_cache")))
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests under :data:`INTEGRATION` ``integration``."""
    roots = [TESTS / part for part in INTEGRATION]
    for item in items:
        path = Path(item.path)
        if any(path == root or root in path.parents for root in roots):
            item.add_marker(pytest.mark.integration)
