"""``bayes-bcsm fit model=cox`` is a frequentist run: it must not pay for the modelling stack
(importing PyMC, PyTensor and ArviZ took seconds of every such run, more than the Cox fit at
100,000 patients; issue 25), nor pyplot (its report has no plots)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pandas as pd

#: The command line in a fresh interpreter; at exit, which heavy modules it had imported.
CLI = """
    import atexit, sys
    atexit.register(
        lambda: print(
            "loaded:",
            sorted(
                m
                for m in ("pymc", "pytensor", "arviz", "nutpie", "matplotlib.pyplot")
                if m in sys.modules
            ),
            file=sys.stderr,
        )
    )
    from bayes_bcsm.cli import main
    sys.exit(main(sys.argv[1:]))
"""


def test_fit_model_cox_does_not_import_the_modelling_stack(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(CLI),
            "fit",
            "data=gbsg2",
            "model=cox",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1] == "loaded: []"
    table = pd.read_csv(tmp_path / "run" / "hazard_ratios.csv")
    assert set(table["model"]) == {"cox", "firth"}
    assert "used 686 of 686 patients" in (tmp_path / "run" / "report.md").read_text()
