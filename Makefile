# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make run   -> creates .venv, installs Digit Lab, launches the app
#   make test  -> same plus dev tools, runs ruff and the whole test suite offscreen
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint format package selftest clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

run: $(STAMP)
	$(PY) main.py

test: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not packaging" $(PYTEST_ARGS)

format: $(DEV_STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

selftest: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) main.py --self-test

package: $(DEV_STAMP)
	$(PY) -m pip install -q -e ".[package]"
	$(PY) -m PyInstaller --noconfirm --clean --distpath $${DIST:-dist} --workpath $${BUILD:-build} packaging/digit-lab.spec

clean:
	rm -rf build dist .pytest_cache .ruff_cache
