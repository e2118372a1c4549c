"""The command line: ``python -m bayes_bcsm <command>``, user errors, logging, the report line.

Every test runs the program in a subprocess from ``tmp_path`` (not the checkout), as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_module

from bayes_bcsm.config import register_configs
from bayes_bcsm.resources import CONF_PACKAGE, bundled_cohort, bundled_file
from bayes_bcsm.runs.entry import written_report


def run_cli(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 300):
    """``python -m bayes_bcsm *args`` in ``cwd``; HYDRA_FULL_ERROR unset unless ``env`` sets it."""
    environ = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bayes_bcsm", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ,
        timeout=timeout,
    )


def run_python(code: str, cwd: Path, timeout: int = 120):
    """Run a Python snippet in ``cwd`` (for entry-point behaviour with a stand-in ``run``)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def test_usage_and_unknown_command(tmp_path):
    result = run_cli([], tmp_path)
    assert result.returncode == 2
    assert "usage: bayes-bcsm <command>" in result.stderr
    result = run_cli(["--help"], tmp_path)
    assert result.returncode == 0
    for command in ("fit", "compare", "reproduce", "simulate", "calibrate"):
        assert command in result.stdout
    result = run_cli(["fitt"], tmp_path)
    assert result.returncode == 2
    assert "unknown command 'fitt'" in result.stderr


def test_fit_from_another_folder_with_a_relative_data_path(tmp_path):
    """A relative ``data.path`` is relative to where the command runs; the log is named after
    the experiment; the report line names the report written."""
    (tmp_path / "cohort.csv").write_text(bundled_cohort().read_text())
    result = run_cli(["fit", "model=cox", "data.path=cohort.csv", "hydra.run.dir=out"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "out"
    assert (out / "report.html").is_file() and (out / "hazard_ratios.csv").is_file()
    assert f"report: {out / 'report.html'}" in result.stdout
    assert (out / "fit.log").is_file() and not (out / "entry.log").exists()
    assert str(tmp_path / "cohort.csv") in (out / "fit.log").read_text()
    assert "Traceback" not in result.stderr


BAD_COHORT = "patient_id,age_years\np1,abc\n"

CARD = """\
name: {name}
path: {name}.csv
id_column: patient
time_column: days
time_unit: days
event_column: status
event_values: [dead]
censor_values: [alive]
covariates:
  therapy: {{kind: binary, levels: [given, none], reference: none}}
  age: {{kind: continuous}}
  tcopy: {{kind: continuous}}
"""


def write_cards(folder: Path) -> None:
    """Cards of issue 19's hostile cases in ``folder``: ``--config-dir mycards data=two`` (two
    patients), ``data=copy`` (a covariate that copies the time), and ``--config-dir dupcards
    data=dup`` (a covariate key given twice)."""
    header = "patient,days,status,therapy,age,tcopy\n"
    rows = [(f"p{i}", 20 + (i * 37) % 900, ("dead", "alive")[i % 3 == 0]) for i in range(30)]
    table = {
        "two": "p1,100,alive,given,50,100\np2,200,dead,none,60,200\n",
        "copy": "".join(
            f"{p},{t},{s},{('given', 'none')[i % 2]},{40 + i},{t}\n"
            for i, (p, t, s) in enumerate(rows)
        ),
    }
    (folder / "mycards" / "data").mkdir(parents=True)
    for name, body in table.items():
        (folder / f"{name}.csv").write_text(header + body)
        (folder / "mycards" / "data" / f"{name}.yaml").write_text(CARD.format(name=name))
    (folder / "dupcards" / "data").mkdir(parents=True)
    duplicate = CARD.format(name="copy") + "  age: {kind: continuous, hr_per: 10}\n"
    (folder / "dupcards" / "data" / "dup.yaml").write_text(duplicate)
    fortnights = CARD.format(name="copy").replace("time_unit: days", "time_unit: fortnights")
    (folder / "mycards" / "data" / "fortnight.yaml").write_text(fortnights)


TIME_UNIT_ERROR = (
    "data.time_unit='fortnights': expected one of ['days', 'weeks', 'months', 'years']"
)
BAD_TIME_UNITS = [
    ["fit", "--config-dir", "mycards", "data=copy", "data.time_unit=fortnights"],
    ["fit", "--config-dir", "mycards", "data=fortnight"],
]
USER_ERRORS = [
    *((args, TIME_UNIT_ERROR) for args in BAD_TIME_UNITS),
    (["fit", "sampler.draws=0"], "sampler.draws=0: expected a positive integer"),
    (["fit", "data.path=bad.csv"], "problem(s) with the cohort data"),
    (["fit", "data.path=nope.csv"], "data.path=nope.csv: no such file"),
    (["fit", "model=gengamma"], "Could not find 'model/gengamma'"),
    (["fit", "model=mspline", "model.df=0"], "model.df=0: expected an integer >= 4"),
    (["fit", "sampler.draws=abc"], "Value 'abc' of type 'str' could not be converted"),
    (["compare", "nokey=1"], "Could not override 'nokey'"),
    (
        ["reproduce", "covariates.names=[shoe_size]"],
        "['shoe_size'] not covariates of the dataset card 'bcsm'",
    ),
    (["simulate", "simulation.n=[5]"], "simulation.n=[5]: expected cohort sizes >= 10"),
    (["calibrate", "--config", "bad.yaml"], "bad.yaml: missing key 'n'"),
    (
        ["reproduce", "--config-dir", "dupcards", "data=dup"],
        "dupcards/data/dup.yaml: line 13: the key 'age' is given twice in the same mapping "
        "(first at line 11)",
    ),
    (
        ["reproduce", "--config-dir", "mycards", "data=two", "covariates.names=[therapy,age]"],
        "1 event(s) for 2 coefficient(s) (therapy, age): estimating hazard ratios needs more "
        "events than coefficients (at least 3 here)",
    ),
    (
        ["fit", "--config-dir", "mycards", "data=copy", "model=cox", "covariates.names=[tcopy]"],
        "covariate 'tcopy' rises with the follow-up time on every row used",
    ),
]


@pytest.fixture(scope="module")
def user_error_runs(tmp_path_factory):
    """Every case of USER_ERRORS, each in its own folder, the processes started at once (they
    spend their time importing, so they overlap well on two cores)."""
    environ = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    running = []
    for args, _ in USER_ERRORS:
        cwd = tmp_path_factory.mktemp("user_error")
        (cwd / "bad.csv").write_text(BAD_COHORT)
        (cwd / "bad.yaml").write_text("seed: 1\n")
        write_cards(cwd)
        argv = [*args, "hydra.run.dir=out"] if args[0] != "calibrate" else args
        running.append(
            subprocess.Popen(
                [sys.executable, "-m", "bayes_bcsm", *argv],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=cwd,
                env=environ,
            )
        )
    results = {}
    for (args, _), process in zip(USER_ERRORS, running, strict=True):
        stdout, stderr = process.communicate(timeout=300)
        results[tuple(args)] = (process.returncode, stdout, stderr)
    return results


@pytest.mark.parametrize(("args", "message"), USER_ERRORS)
def test_user_errors_print_the_message_alone(user_error_runs, args, message):
    returncode, stdout, stderr = user_error_runs[tuple(args)]
    assert returncode != 0
    assert message in stderr, stderr[-2000:]
    assert "Traceback" not in stderr
    assert "report:" not in stdout


@pytest.mark.parametrize("args", BAD_TIME_UNITS)
def test_a_bad_time_unit_is_one_line(user_error_runs, args):
    """Issue 26: on the command line or in a card's YAML, one line (not Hydra's 6-line
    validation error with its reference_type and object_type)."""
    returncode, _, stderr = user_error_runs[tuple(args)]
    assert returncode == 1
    assert stderr.strip().splitlines() == [TIME_UNIT_ERROR]


def test_full_error_shows_the_traceback(tmp_path):
    result = run_cli(
        ["fit", "sampler.draws=0", "hydra.run.dir=out"], tmp_path, env={"HYDRA_FULL_ERROR": "1"}
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "ConfigError" in result.stderr


def test_report_line_only_when_a_report_was_written(tmp_path):
    code = """
        import sys
        from bayes_bcsm.runs.entry import hydra_entry

        def run(cfg, output_dir):
            if cfg.report.html:  # stands in for "this run writes a report"
                (output_dir / "report.md").write_text("# report")

        hydra_entry(run)(sys.argv[1:])
    """
    silent = run_python(
        code.replace("sys.argv[1:]", "['report.html=false', 'hydra.run.dir=a']"), tmp_path
    )
    assert silent.returncode == 0, silent.stderr
    assert "report:" not in silent.stdout
    loud = run_python(code.replace("sys.argv[1:]", "['hydra.run.dir=b']"), tmp_path)
    assert loud.returncode == 0, loud.stderr
    assert f"report: {tmp_path / 'b' / 'report.md'}" in loud.stdout


def test_written_report_ignores_an_old_report(tmp_path):
    (tmp_path / "report.html").write_text("old")
    before = {tmp_path / "report.html": (tmp_path / "report.html").stat().st_mtime_ns}
    assert written_report(tmp_path, before) is None
    (tmp_path / "report.md").write_text("new")
    assert written_report(tmp_path, before) == tmp_path / "report.md"


def test_console_logging_is_quiet_and_single(tmp_path):
    """Package INFO reaches the console once; pymc's own handler does not print it twice;
    pytensor's compiler INFO lines and library INFO stay out; the log file has the package's
    lines and is named after the experiment."""
    code = """
        import logging
        import pymc  # attaches its own console handler at import, as in a real run
        from bayes_bcsm.runs.entry import hydra_entry

        def run(cfg, output_dir):
            logging.getLogger("bayes_bcsm.runs.fit").info("package-info")
            logging.getLogger("pymc.sampling.mcmc").info("pymc-info")
            logging.getLogger("pymc.sampling.mcmc").warning("pymc-warning")
            logging.getLogger("pytensor.link.c.cmodule").info("g++ -march=native flags")
            logging.getLogger("arviz").info("arviz-info")

        hydra_entry(run)(["hydra.run.dir=out", "experiment_name=quiet_check"])
    """
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    console = result.stdout + result.stderr
    assert console.count("package-info") == 1
    assert console.count("pymc-warning") == 1
    for hidden in ("pymc-info", "g++", "arviz-info"):
        assert hidden not in console
    log = (tmp_path / "out" / "quiet_check.log").read_text()
    assert "package-info" in log and "g++" not in log


def test_reproduce_defaults_to_the_paper_experiment():
    register_configs()
    with initialize_config_module(config_module=CONF_PACKAGE, version_base="1.3"):
        assert compose(config_name="reproduce").experiment_name == "paper_reproduction"
        other = compose(config_name="reproduce", overrides=["experiment=bayes_vs_cox"])
        assert other.experiment_name == "bayes_vs_cox"
        cfg = compose(config_name="config", return_hydra_config=True)
        assert cfg.hydra.job.name == cfg.experiment_name == "fit"


def test_calibrate_regenerates_the_bundled_cohort(tmp_path):
    result = run_cli(["calibrate", "--out", "cohort.csv"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cohort.csv").read_text() == bundled_cohort().read_text()


def test_relative_user_paths_resolve_against_the_working_directory(tmp_path, monkeypatch):
    """``data.path`` and ``simulation.run_dir`` are the user's paths: relative to where the
    command runs (outside a Hydra run: the working directory), never to the package."""
    from bayes_bcsm.config import cohort_path
    from bayes_bcsm.settings import parse_settings
    from tests.runs.conftest import compose_config

    monkeypatch.chdir(tmp_path)
    cfg = compose_config(["data.path=sub/cohort.csv"])
    assert cohort_path(cfg) == tmp_path / "sub" / "cohort.csv"
    relative = parse_settings(compose_config(["simulation.run_dir=study"]))
    assert relative.simulation.run_dir == tmp_path / "study"
    absolute = parse_settings(compose_config([f"simulation.run_dir={tmp_path / 'elsewhere'}"]))
    assert absolute.simulation.run_dir == tmp_path / "elsewhere"


def test_the_readme_card_example_runs_with_config_dir(tmp_path):
    """README, "Your own cohort": a 13-line card in a user config folder, used with --config-dir
    (``fit model=cox`` here; the README's ``compare`` is ``tests/runs/test_own_cohort.py``)."""
    raw = pd.read_csv(bundled_file("gbsg2.csv"))
    pd.DataFrame(
        {
            "patient": [f"id{i}" for i in range(len(raw))],
            "followup_days": raw["time"],
            "status": raw["cens"].map({1: "dead", 0: "alive"}),
            "therapy": raw["horTh"],
            "age": raw["age"],
            "grade": raw["tgrade"].map({"I": "1", "II": "2", "III": "3"}),
        }
    ).to_csv(tmp_path / "cohort.csv", index=False)
    cards = tmp_path / "mycards" / "data"
    cards.mkdir(parents=True)
    (cards / "mine.yaml").write_text(
        textwrap.dedent(
            """\
            name: mine
            title: My clinic's cohort, overall survival
            path: cohort.csv
            id_column: patient
            time_column: followup_days
            time_unit: days
            zero_time: shift
            event_column: status
            event_values: [dead]
            censor_values: [alive]
            covariates:
              therapy: {kind: binary, levels: ["no", "yes"], label: endocrine therapy}
              age: {kind: continuous, minimum: 18, maximum: 100, hr_per: 10, unit: years}
              grade: {kind: categorical, levels: ["1", "2", "3"], missing_codes: ["NA", "-9"]}
            """
        )
    )
    result = run_cli(
        [
            "fit",
            "--config-dir",
            "mycards",
            "data=mine",
            "covariates.names=[therapy,age,grade]",
            "model=cox",
            "hydra.run.dir=out",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = pd.read_csv(tmp_path / "out" / "hazard_ratios.csv")
    assert list(table["covariate"].unique()) == ["therapy", "age", "grade[2]", "grade[3]"]
    assert list(table["label"].unique()) == [
        "endocrine therapy: yes vs no",
        "age (per 10 years)",
        "grade: 2 vs 1",
        "grade: 3 vs 1",
    ]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "My clinic's cohort" in report and "age per 10 years" in report
    assert "| endocrine therapy: yes vs no | cox |" in report
    assert "Hu 2025" not in report


def test_a_finished_command_ends_without_teardown_after_running_the_exit_handlers(tmp_path):
    """``console_main``: the command's status, the exit handlers run (a handler's output and
    a log line written just before the end reach their files), then ``os._exit``."""
    code = f"""
        import atexit, logging, sys
        import bayes_bcsm.cli as cli
        log = logging.getLogger("late")
        log.addHandler(logging.FileHandler({str(tmp_path / "late.log")!r}))
        def fake_main():
            log.warning("the last line")
            atexit.register(lambda: print("handler ran", flush=False))
            return 3
        cli.main = fake_main
        cli.console_main()
        print("not reached")
    """
    result = run_python(code, tmp_path)
    assert result.returncode == 3, result.stderr
    assert result.stdout.strip() == "handler ran"
    assert (tmp_path / "late.log").read_text() == "the last line\n"


def test_a_thread_left_running_gets_the_usual_exit(tmp_path):
    code = """
        import threading, time
        import bayes_bcsm.cli as cli
        def fake_main():
            threading.Thread(target=lambda: (time.sleep(0.5), print("thread done"))).start()
            return 0
        cli.main = fake_main
        cli.console_main()
    """
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "thread done"  # joined: the interpreter's own exit
