# Two commands on a fresh clone: `make run` and `make test`. Each creates .venv when missing.
# `make run ARGS="data=csv data.path=cohort.csv"` passes Hydra overrides on (after the experiment, so
# they win); `make calibrate ARGS="--report docs/calibration"` passes calibrate's flags.
VENV := .venv
ARGS ?=
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast test-slow lint bench lock calibrate clean

$(PY):
	@set -e; py=$$(tools/find_python.sh); echo "creating $(VENV) with $$py"; "$$py" -m venv $(VENV)

$(STAMP): $(PY) requirements.lock pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m bayes_bcsm compare experiment=bayes_vs_cox $(ARGS)

lint: $(STAMP)
	$(PY) -m ruff check src tests experiments benchmarks
	$(PY) -m ruff format --check src tests experiments benchmarks

# The whole suite, the slow statistical checks included (about 10-15 minutes on 2 idle cores).
test: lint
	$(PY) -m pytest -q

# The inner loop: everything but the slow checks and the integration tests (runs, processes, MCMC).
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not integration"

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/run_all.py

calibrate: $(STAMP)
	$(PY) -m bayes_bcsm calibrate $(ARGS)

# Refresh the lock: a clean venv, the project's runtime + test extras, then freeze.
lock:
	@set -e; py=$$(tools/find_python.sh); rm -rf .lock-venv; "$$py" -m venv .lock-venv; \
	.lock-venv/bin/pip install --quiet --upgrade pip; \
	.lock-venv/bin/pip install --quiet '.[test]'; \
	{ echo "# Fully pinned environment (runtime + test extras) for Python 3.13 / 3.12. Refresh with make lock."; .lock-venv/bin/pip freeze --exclude bayes_bcsm; } > requirements.lock; rm -rf .lock-venv
	@echo "requirements.lock refreshed"

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache .ruff_cache
