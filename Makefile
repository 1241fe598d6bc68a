# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make run   -> creates .venv, installs Digit Lab, launches the app
#   make test  -> same plus dev tools, runs ruff and the whole test suite offscreen
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint format package package-cpu selftest clean

# The CPU flavour of the packaged app builds in its own environment: the CPU-only torch wheel
# (this machine's pip finds torch 2.13.0+cpu in /opt/wheels) and no torchvision unless a CPU
# build of it is given. Elsewhere, e.g.:
#   make package-cpu CPU_TORCH="torch torchvision" \
#     CPU_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple"
CPU_VENV ?= .venv-cpu
CPU_PY := $(CPU_VENV)/bin/python
CPU_STAMP := $(CPU_VENV)/.installed-cpu
CPU_TORCH ?= torch==2.13.0+cpu
CPU_PIP_ARGS ?=

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

# The full flavour: the project's own environment (on Linux, PyPI's CUDA torch): dist/digit-lab/
package: $(DEV_STAMP)
	$(PY) -m pip install -q -e ".[package]"
	$(PY) -m PyInstaller --noconfirm --clean --distpath $${DIST:-dist} --workpath $${BUILD:-build} packaging/digit-lab.spec

$(CPU_STAMP): pyproject.toml packaging/requirements.py
	test -x $(CPU_PY) || $(PYTHON) -m venv $(CPU_VENV)
	$(CPU_PY) -m pip install -q $(CPU_PIP_ARGS) $(CPU_TORCH)
	$(CPU_PY) packaging/requirements.py --check-cpu-torch
	$(CPU_PY) packaging/requirements.py --without torch torchvision --extra package --out $(CPU_VENV)/requirements.txt
	$(CPU_PY) -m pip install -q -r $(CPU_VENV)/requirements.txt
	$(CPU_PY) -m pip install -q --no-deps -e .
	touch $@

# The CPU flavour (<= 700 MiB): dist/cpu/digit-lab/
package-cpu: $(CPU_STAMP)
	$(CPU_PY) packaging/requirements.py --check-cpu-torch
	$(CPU_PY) -m PyInstaller --noconfirm --clean --distpath $${DIST:-dist/cpu} --workpath $${BUILD:-build/cpu} packaging/digit-lab.spec

clean:
	rm -rf build dist .pytest_cache .ruff_cache
